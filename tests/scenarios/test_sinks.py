"""Sinks: the sensor archive as scenarios.record writes it, and a real Mosquitto broker."""

from __future__ import annotations

import pathlib
import shutil
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from models.config import load_config
from scenarios.sinks import ArchiveSink, MqttSink
from sensors.reader import read_readings

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "examples" / "grade91_header.toml")
IDS = ["TC-outer-01", "TC-steam-01", "PT-01", "SG-outer-01"]


def _chunk(t0: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    t = t0 + np.repeat(np.arange(n) * 60.0, 4)
    s = np.array(IDS * n, dtype=object)
    v = np.select([s == "PT-01", s == "SG-outer-01"], [17e6, 7e-3], 830.0) + rng.random(t.size)
    return t, s, v


def test_archive_sink_appends_in_batches_with_continuing_sequences(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(0)
    sink = ArchiveSink(tmp_path / "archive", CONFIG, batch=300)
    chunks = [_chunk(1.8e9 + k * 6000.0, 100, rng) for k in range(3)]
    for c in chunks:
        sink.write(*c)
    sink.close()
    assert sink.appends == 3 and sink.readings == 1200
    got = read_readings(tmp_path / "archive")
    ids = np.asarray(got.sensor_ids)[got.sensor]
    t = np.concatenate([c[0] for c in chunks])
    v = np.concatenate([c[2] for c in chunks])
    s = np.concatenate([c[1] for c in chunks])
    for sid in IDS:
        m = ids == sid
        np.testing.assert_array_equal(got.sequence[m], np.arange(300))
        np.testing.assert_array_equal(got.time[m], t[s == sid])
        np.testing.assert_array_equal(got.value[m], v[s == sid])


@pytest.fixture
def mosquitto(tmp_path: pathlib.Path) -> Iterator[object]:
    """A real Mosquitto on a free loopback port, stopped (by PID) after the test."""
    from sensors.broker import MosquittoBroker

    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    broker = MosquittoBroker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


def test_mqtt_sink_delivers_to_a_subscriber(mosquitto: object) -> None:
    from sensors.mqtt import connect_client, make_client, parse_broker_url
    from sensors.schema import decode_payload
    from sensors.units import to_si

    settings = parse_broker_url(mosquitto.url)  # type: ignore[attr-defined]
    got: list[tuple[str, object]] = []
    lock = threading.Lock()
    sub, props = make_client(settings)

    def on_message(c: object, u: object, msg: object) -> None:
        with lock:
            got.append((msg.topic, decode_payload(msg.payload)))  # type: ignore[attr-defined]

    sub.on_message = on_message
    connect_client(sub, settings, props)
    sub.subscribe("plant/#", qos=1)
    time.sleep(0.3)
    rng = np.random.default_rng(1)
    t, s, v = _chunk(1.8e9, 250, rng)
    sink = MqttSink(settings, CONFIG, batch_size=100)
    sink.write(t[:400], s[:400], v[:400])
    sink.write(t[400:], s[400:], v[400:])
    sink.close()
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and sum(len(r[1].time) for r in got) < t.size:
        time.sleep(0.05)
    sub.disconnect()
    sub.loop_stop()
    units = {x.id: (x.unit, x.quantity) for x in sink.catalogue.sensors}
    for sid in IDS:
        parts = [r for topic, r in got if topic == f"plant/plant-1/header-a/{sid}"]
        rt = np.concatenate([p.time for p in parts])  # type: ignore[attr-defined]
        rv = np.concatenate([p.value for p in parts])  # type: ignore[attr-defined]
        rq = np.concatenate([p.sequence for p in parts])  # type: ignore[attr-defined]
        order = np.argsort(rq)
        np.testing.assert_array_equal(rq[order], np.arange(250))
        np.testing.assert_allclose(rt[order], t[s == sid])
        np.testing.assert_allclose(to_si(rv[order], *units[sid]), v[s == sid], rtol=1e-12)
