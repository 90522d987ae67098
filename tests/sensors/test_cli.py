"""``twin publish`` -> ``twin ingest`` -> ``twin archive info`` against a real Mosquitto."""

from __future__ import annotations

import json
import pathlib
import signal
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from sensors.archive import open_archive
from sensors.broker import MosquittoBroker
from twin.cli import main

pytestmark = pytest.mark.requires_broker
DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"


def test_cli_publish_ingest_and_archive_info_agree(
    mosquitto: MosquittoBroker,
    tmp_path: pathlib.Path,
    ingest_process: type,
    readings_committed: Callable[..., int],
) -> None:
    archive = tmp_path / "cli.zarr"
    ingest = ingest_process(archive, mosquitto.url, tmp_path / "ingest.log")
    ingest.start()
    runner = CliRunner()
    out = runner.invoke(
        main,
        [
            "publish",
            str(DEMO),
            "--broker",
            mosquitto.url,
            "--duration",
            "20",
            "--rate-scale",
            "5",
            "--speed",
            "max",
            "--batch-size",
            "25",
            "--dropout",
            "0.1",
            "--spike",
            "0.01",
            "--seed",
            "3",
        ],
    )
    assert out.exit_code == 0, out.output
    published = json.loads(out.output.strip().splitlines()[-1])
    # 20 s x 5 x (1 + 1 + 1 + 10 + 0.001) Hz = 1301 readings before 10 % dropout
    assert 1000 < published["readings"] < 1301
    assert readings_committed(archive, published["readings"], timeout=30) == published["readings"]
    ingest.kill(signal.SIGTERM)
    info = runner.invoke(main, ["archive", "info", str(archive), "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.output)
    assert summary["readings"] == published["readings"]
    assert sum(s["readings"] for s in summary["sensors"].values()) == published["readings"]
    # dropouts leave holes in the sequence numbers (spikes of 0.2 span stay in range)
    assert sum(s.get("missing_sequences", 0) for s in summary["sensors"].values()) > 0
    text = runner.invoke(main, ["archive", "info", str(archive)])
    assert "component header-a at plant-1" in text.output

    # Replay the archive (SI units) into a second archive: the same readings come back.
    replay = tmp_path / "replay.zarr"
    second = ingest_process(replay, mosquitto.url, tmp_path / "replay.log", "--client-id", "replay")
    second.start()
    out = runner.invoke(
        main,
        [
            "publish",
            str(DEMO),
            "--broker",
            mosquitto.url,
            "--from-archive",
            str(archive),
            "--speed",
            "max",
            "--batch-size",
            "50",
            "--linger",
            "0",
        ],
    )
    assert out.exit_code == 0, out.output
    assert readings_committed(replay, published["readings"], timeout=30) == published["readings"]
    second.kill(signal.SIGTERM)
    a, b = (open_archive(p).load() for p in (archive, replay))
    key = [(s, int(q)) for s, q in zip(a["sensor_id"].values, a["sequence"].values, strict=True)]
    key_b = [(s, int(q)) for s, q in zip(b["sensor_id"].values, b["sequence"].values, strict=True)]
    original = dict(zip(key, zip(a["time"].values, a["value"].values, strict=True), strict=True))
    replayed = dict(zip(key_b, zip(b["time"].values, b["value"].values, strict=True), strict=True))
    assert replayed == original  # bit for bit: SI in, SI out


def test_archive_info_on_a_missing_archive_names_the_path(tmp_path: pathlib.Path) -> None:
    (tmp_path / "empty").mkdir()
    out = CliRunner().invoke(main, ["archive", "info", str(tmp_path / "empty")])
    assert out.exit_code != 0
    assert "no sensor archive" in out.output


def test_cli_ingest_without_a_broker_serves_an_embedded_one(
    tmp_path: pathlib.Path, readings_committed: Callable[..., int]
) -> None:
    import os
    import subprocess
    import sys
    import time

    import numpy as np

    from sensors.broker import free_port
    from sensors.catalogue import load_catalogue
    from sensors.mqtt import parse_broker_url
    from sensors.publish import publish_readings, synthetic_readings

    port = free_port()
    archive = tmp_path / "embedded.zarr"
    log = tmp_path / "ingest.log"
    root = DEMO.parents[1]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twin",
                "ingest",
                str(DEMO),
                "--archive",
                str(archive),
                "--embedded-port",
                str(port),
                "--flush-interval",
                "0.05",
            ],
            cwd=root,
            env=dict(os.environ, PYTHONPATH=str(root)),
            stdout=fh,
            stderr=fh,
        )
    try:
        deadline = time.monotonic() + 30
        while "acknowledged" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert f"mqtt://twin@127.0.0.1:{port}?protocol=3.1.1" in log.read_text()
        cat = load_catalogue(DEMO)
        rec = synthetic_readings(
            cat, duration=20.0, start_time=time.time() - 20.0, rng=np.random.default_rng(5)
        )
        settings = parse_broker_url(f"mqtt://twin@127.0.0.1:{port}?protocol=3.1.1")
        publish_readings(rec, cat, broker=settings, batch_size=5, speed=10.0, linger=1.0)
        n = rec.sizes["reading"]
        assert readings_committed(archive, n, timeout=30) == n
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
