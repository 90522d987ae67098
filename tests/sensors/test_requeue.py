"""Whole dead-letter payloads in the archive, and ``twin archive requeue`` exactly once."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

from sensors.archive import Archive, DeadLetterBatch, open_archive
from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.deadletters import read_dead_letters, requeue
from sensors.ingest import Ingester
from sensors.mqtt import parse_broker_url
from sensors.publish import publish_readings, synthetic_readings
from sensors.reader import read_commit, read_readings
from sensors.validation import REASONS
from twin.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"


def test_whole_payloads_are_kept_once_per_message(
    catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    big = b'{"schema_version": 1, "x": "' + b"y" * 999_000 + b'"}'  # near the 1 MB limit
    small = b"{not json"
    topic = b"plant/plant-1/header-a/PT-01"
    with Archive(path, catalogue, reasons=REASONS) as arch:
        idx = [arch.reason_index(r) for r in ("non_finite", "out_of_range", "malformed_json")]
        arch.append(
            None,
            DeadLetterBatch(
                np.full(3, 1.8e9),
                np.array(idx, dtype=np.int16),
                np.array([2, 2, 2], dtype=np.int32),
                np.array([1, 2, 0]),
                topic=(topic, topic, topic),
                payload=(big, big, small),  # one message split in two letters, one other
            ),
        )
    assert read_commit(path)["deadletter_bytes"] == 2 * len(topic) + len(big) + len(small)
    got = read_dead_letters(path)
    assert [r.payload for r in got] == [big, big, small]  # whole, byte for byte
    assert [r.topic for r in got] == [topic.decode()] * 3
    assert got[0].data_offset == got[1].data_offset != got[2].data_offset
    assert [r.reason for r in got] == ["non_finite", "out_of_range", "malformed_json"]
    assert [r.index for r in read_dead_letters(path, reasons=("malformed_json",))] == [2]


def test_an_archive_of_the_earlier_layout_opens_and_reports_letters_not_kept(
    catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "old.zarr"
    with Archive(path, catalogue, reasons=REASONS) as arch:
        arch.append(
            None,
            DeadLetterBatch(
                np.array([1.8e9]),
                np.array([arch.reason_index("unknown_sensor")], dtype=np.int16),
                np.array([-1], dtype=np.int32),
                np.array([1]),
            ),
        )
    for name in ("data", "data_offset", "topic_bytes", "payload_bytes"):  # the old layout
        shutil.rmtree(path / "deadletter" / name)
    shutil.rmtree(path / "requeue")
    counts = json.loads((path / "_commit.json").read_text())
    del counts["deadletter_bytes"], counts["requeued"]
    (path / "_commit.json").write_text(json.dumps(counts))
    report = requeue(path, catalogue)
    assert (report.letters, report.not_kept, report.archived) == (1, 1, 0)
    assert read_dead_letters(path)[0].payload is None


@pytest.mark.requires_broker
def test_readings_of_a_removed_sensor_are_requeued_exactly_once(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    settings = parse_broker_url(mosquitto.url)
    without = Catalogue(
        catalogue.component, catalogue.site, tuple(s for s in catalogue.sensors if s.id != "PT-01")
    )
    ingester = Ingester(without, path, broker=settings, flush_interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    rec = synthetic_readings(
        catalogue,
        duration=30.0,
        start_time=time.time() - 60,
        rng=np.random.default_rng(5),
        rate_scale=2.0,
    )
    n = rec.sizes["reading"]
    n_pt = int((rec["sensor_id"].values == "PT-01").sum())
    try:
        assert ingester.subscribed.wait(10)
        half = n // 2  # single-reading payloads, then batches of 7
        publish_readings(rec.isel(reading=slice(0, half)), catalogue, broker=settings)
        publish_readings(rec.isel(reading=slice(half, n)), catalogue, broker=settings, batch_size=7)
        deadline = time.monotonic() + 30
        while ingester.stats.archived < n - n_pt and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(30)
    assert ingester.stats.archived == n - n_pt
    assert ingester.stats.dead_readings["unknown_sensor"] == n_pt
    # While an ingester holds the archive, requeue is refused (one writer at a time).
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    holder = Ingester(catalogue, path, broker=settings)
    try:
        refused = subprocess.run(
            [sys.executable, "-m", "twin", "archive", "requeue", str(path), "--config", str(DEMO)],
            env=env,
            capture_output=True,
            timeout=60,
        )
    finally:
        holder.close()
    assert refused.returncode == 75, refused.stderr
    assert b"already written by another archive writer" in refused.stderr
    # PT-01 is back in the config: requeue archives its readings, exactly once.
    runner = CliRunner()
    first = runner.invoke(main, ["archive", "requeue", str(path), "--config", str(DEMO)])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["archived"] == n_pt and report["still_failing"] == {}
    assert report["requeued_letters"] == report["letters"] > 0
    second = runner.invoke(main, ["archive", "requeue", str(path), "--config", str(DEMO)])
    again = json.loads(second.output)
    assert again["archived"] == 0 and again["already_requeued"] == report["letters"]
    # exactly once: the archive now holds every published reading, each one time
    got = read_readings(path)
    pairs = {(str(s), int(q)) for s, q in zip(got.sensor_id, got.sequence, strict=True)}
    published = {
        (str(s), int(q))
        for s, q in zip(rec["sensor_id"].values, rec["sequence"].values, strict=True)
    }
    assert len(got) == n == len(pairs) and pairs == published
    ds = open_archive(path).load()
    pt = ds.where(ds["sensor_id"] == "PT-01", drop=True)
    expected = rec.where(rec["sensor_id"] == "PT-01", drop=True)
    order = np.argsort(pt["sequence"].values)
    np.testing.assert_allclose(pt["value"].values[order], expected["value"].values * 1e6)  # MPa
