"""Time bounds: readings before the start of service are dead-lettered, never archived."""

from __future__ import annotations

import pathlib
import signal
import time
from collections.abc import Callable

import numpy as np
import pytest

from sensors.archive import Archive, DeadLetterBatch, archive_info, open_archive
from sensors.broker import MosquittoBroker
from sensors.catalogue import load_catalogue
from sensors.mqtt import make_client, parse_broker_url
from sensors.schema import encode_batch, encode_reading
from sensors.validation import REASONS, Validator

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"
TOPIC = "plant/plant-1/header-a/TC-fluid-01"


def test_a_clock_that_was_never_set_is_dead_lettered_by_default() -> None:
    cat = load_catalogue(DEMO)
    v = Validator(cat, {s: i for i, s in enumerate(cat.ids)}.get, prefix="plant")
    epoch = encode_reading(time=0.0, value=20.0, unit="degC", sequence=1)  # 1970-01-01
    assert [d.reason for d in v.check(TOPIC, epoch).letters] == ["time_before_start"]
    batch = encode_batch(
        time=[5.0, 946_684_799.0, 946_684_800.0], value=[1, 2, 3], unit="degC", sequence=[2, 3, 4]
    )
    out = v.check(TOPIC, batch, received=1.8e9)
    assert out.accepted is not None and out.accepted.sequence.tolist() == [4]  # 2000-01-01 on
    assert [(d.reason, d.readings) for d in out.letters] == [("time_before_start", 2)]


def test_an_archive_keeps_its_reason_indices_when_reasons_are_added(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    old = tuple(r for r in REASONS if r != "time_before_start")  # an earlier release's list
    path = tmp_path / "a.zarr"

    def letter(archive: Archive, reason: str) -> DeadLetterBatch:
        return DeadLetterBatch(
            np.array([1.8e9]),
            np.array([archive.reason_index(reason)], dtype=np.int16),
            np.array([-1], dtype=np.int32),
            np.array([1]),
        )

    with Archive(path, cat, reasons=old) as a:
        a.append(None, letter(a, "unknown_sensor"))
        a.append(None, letter(a, "unsupported_version"))
    with Archive(path, cat, reasons=REASONS) as a:
        assert a.reasons[: len(old)] == old  # stored order kept, the new code appended
        a.append(None, letter(a, "time_before_start"))
    codes = open_archive(path, group="deadletter")["reason_code"].values.tolist()
    assert codes == ["unknown_sensor", "unsupported_version", "time_before_start"]
    assert set(archive_info(path)["dead_letters"]) == set(codes)


@pytest.mark.requires_broker
def test_ingest_dead_letters_readings_before_the_commissioning_date(
    mosquitto: MosquittoBroker,
    tmp_path: pathlib.Path,
    ingest_process: type,
    readings_committed: Callable[..., int],
) -> None:
    archive = tmp_path / "a.zarr"
    ingest = ingest_process(
        archive, mosquitto.url, tmp_path / "ingest.log", "--earliest-time", "2020-01-01"
    )
    ingest.start()
    settings = parse_broker_url(mosquitto.url)
    client, props = make_client(settings)
    client.connect(settings.host, settings.port, properties=props)
    client.loop_start()
    now = time.time()
    # 1970 (a clock never set), 2017 (before commissioning), then two in service
    times = [0.0, 1.5e9, 1.5779e9 + 100.0, now - 10.0]
    for seq, t in enumerate(times):
        payload = encode_reading(time=t, value=500.0, unit="degC", sequence=seq)
        client.publish(TOPIC, payload, qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    assert readings_committed(archive, 2, timeout=20) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        letters = open_archive(archive, group="deadletter")
        if letters.sizes["letter"] >= 2:
            break
        time.sleep(0.05)
    ingest.kill(signal.SIGTERM)
    assert open_archive(archive)["time"].values.tolist() == times[2:]
    assert letters["reason_code"].values.tolist() == ["time_before_start"] * 2
