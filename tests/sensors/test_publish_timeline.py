"""``twin publish --speed k`` is lossless, and dead letters caused by the publisher's own
clock are reported, not hidden (issue 12, section 2), against a real Mosquitto."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.ingest import Ingester
from sensors.mqtt import parse_broker_url
from sensors.publish import publish_readings, synthetic_readings

pytestmark = pytest.mark.requires_broker
ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"


def test_publish_at_100x_real_time_loses_nothing(
    mosquitto: MosquittoBroker,
    tmp_path: pathlib.Path,
    ingest_process: type,
    readings_committed: Callable[..., int],
) -> None:
    archive = tmp_path / "a.zarr"
    ingest = ingest_process(archive, mosquitto.url, tmp_path / "ingest.log")
    ingest.start()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # 400 s at 100x: a timeline starting "now" would end 396 s in the future when its
    # last reading is sent, beyond the ingester's 300 s tolerance.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin",
            "publish",
            str(DEMO),
            "--broker",
            mosquitto.url,
            "--duration",
            "400",
            "--speed",
            "100",
            "--rate-scale",
            "0.5",
            "--batch-size",
            "5",
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr.decode()
    report = json.loads(out.stdout.decode().splitlines()[-1])
    # 400 s x 0.5 x (1 + 1 + 1 + 10 + 0.001) Hz
    assert report["readings"] == 200 + 200 + 200 + 2000 + 1
    assert report["dead_letters"] == {}
    assert readings_committed(archive, report["readings"], timeout=30) == report["readings"]
    time.sleep(0.3)
    ingest.kill(signal.SIGTERM)
    letters = subprocess.run(
        [sys.executable, "-m", "twin", "archive", "info", str(archive), "--json"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    summary = json.loads(letters.stdout)
    assert summary["dead_letters"] == {} and summary["readings"] == report["readings"]
    assert summary["last_time"] <= time.time()


def test_dead_letters_of_a_publisher_whose_clock_is_ahead_are_reported(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    settings = parse_broker_url(mosquitto.url)
    ingester = Ingester(catalogue, tmp_path / "a.zarr", broker=settings, flush_interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    try:
        assert ingester.subscribed.wait(10)
        rec = synthetic_readings(
            catalogue, duration=5.0, start_time=0.0, rng=np.random.default_rng(0)
        )
        stats = publish_readings(
            rec,
            catalogue,
            broker=settings,
            batch_size=4,
            stamp_now=True,
            clock=lambda: time.time() + 3600.0,  # an hour fast
            linger=1.0,
        )
    finally:
        stop.set()
        thread.join(30)
    n = rec.sizes["reading"]
    assert stats.readings == n  # the broker acknowledged them all ...
    assert dict(stats.dead_letters) == {"time_in_future": n}  # ... and the ingester refused them
    assert dict(ingester.stats.dead_readings) == {"time_in_future": n}
