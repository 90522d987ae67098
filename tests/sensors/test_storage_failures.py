"""A full disk ends ``twin ingest`` with one clear line and exit 74, losing nothing; archive
errors reach the user as one line, not a traceback (issue 13, section 5)."""

from __future__ import annotations

import os
import pathlib
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pytest

from sensors.archive import Archive
from sensors.broker import MosquittoBroker
from sensors.catalogue import load_catalogue
from sensors.deadletters import read_dead_letters
from sensors.mqtt import make_client, parse_broker_url
from sensors.reader import read_readings
from sensors.schema import encode_reading
from sensors.validation import REASONS

pytestmark = pytest.mark.requires_broker
ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"
LIMIT = 300_000  # bytes any one file of the ingester may reach ("the disk is full")


def _limit_file_size() -> None:
    # In the child only: writes beyond LIMIT fail with EFBIG, as on a full disk
    # (ENOSPC) they fail wherever the file system runs out.
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_full_disk_ends_ingest_with_one_line_and_a_restart_loses_nothing(
    mosquitto: MosquittoBroker,
    tmp_path: pathlib.Path,
    ingest_process: type,
    readings_committed: Callable[..., int],
) -> None:
    archive = tmp_path / "a.zarr"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [
        sys.executable,
        "-m",
        "twin",
        "ingest",
        str(DEMO),
        "--archive",
        str(archive),
        "--broker",
        mosquitto.url,
        "--client-id",
        "full-disk",
        "--flush-interval",
        "0.05",
    ]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limit_file_size
    )
    settings = parse_broker_url(mosquitto.url)
    pub, props = make_client(settings)
    pub.connect(settings.host, settings.port, properties=props)
    pub.loop_start()
    topic = "plant/plant-1/header-a/"
    now = time.time() - 10
    try:
        deadline = time.monotonic() + 30
        while not (archive / "_commit.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # subscribed
        for seq in range(5):
            p = encode_reading(time=now + seq, value=500.0, unit="degC", sequence=seq)
            pub.publish(topic + "TC-fluid-01", p, qos=1).wait_for_publish(10)
        assert readings_committed(archive, 5, timeout=20) == 5
        # A dead letter whose whole payload (incompressible, 400 kB) no longer fits.
        junk = np.random.default_rng(0).bytes(400_000)
        pub.publish(topic + "XX-99", junk, qos=1).wait_for_publish(10)
        pub.publish(
            topic + "TC-fluid-01",
            encode_reading(time=now + 5, value=501.0, unit="degC", sequence=5),
            qos=1,
        ).wait_for_publish(10)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 74  # EX_IOERR: a supervisor knows it is the disk
    # One line of ours. (Under heavy load zarr's own atexit clean-up can race its I/O
    # thread after the failed write and print a traceback of its own at exit; that is
    # zarr's, not an error report, so only our lines are counted.)
    errors = [line for line in err.decode().splitlines() if line.startswith("twin ingest: error")]
    assert len(errors) == 1, err.decode()
    line = errors[0]
    assert line.startswith(f"twin ingest: error: archive: cannot write {str(archive)!r}")
    assert "File too large" in line and "durable" in line and "Traceback" not in err.decode()
    # Space again: the restarted ingester archives what was not committed, exactly once.
    ingest = ingest_process(
        archive, mosquitto.url, tmp_path / "ingest.log", "--client-id", "full-disk"
    )
    ingest.start()
    got_n = readings_committed(archive, 6, timeout=30)
    deadline = time.monotonic() + 20
    while len(read_dead_letters(archive)) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    ingest.kill(signal.SIGTERM)
    pub.disconnect()
    pub.loop_stop()
    got = read_readings(archive)
    assert got_n == 6 and got.sequence.tolist() == [0, 1, 2, 3, 4, 5]
    letters = read_dead_letters(archive)
    assert len(letters) == 1 and letters[0].payload == junk  # whole, once


def test_archive_errors_reach_the_user_as_one_line(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    archive = tmp_path / "a.zarr"
    Archive(archive, cat, reasons=REASONS).close()
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(DEMO.read_text().replace('name = "header-a"', 'name = "header-b"'))
    changed = tmp_path / "changed.toml"
    text = DEMO.read_text()
    changed.write_text(  # PT-01 measures a temperature now
        text.replace(
            'id = "PT-01"\nquantity = "pressure"\nunit = "MPa"',
            'id = "PT-01"\nquantity = "temperature"\nunit = "degC"',
        )
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for config, expect in (
        (renamed, "belongs to component 'header-a'"),
        (changed, "sensor 'PT-01' was archived in 'Pa'"),
    ):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "twin",
                "ingest",
                str(config),
                "--archive",
                str(archive),
                "--broker",
                "mqtt://127.0.0.1:1",
            ],
            env=env,
            capture_output=True,
            timeout=60,
        )
        err = out.stderr.decode().strip().splitlines()
        assert out.returncode == 1 and len(err) == 1, out.stderr.decode()
        assert err[0].startswith("twin ingest: error: archive:") and expect in err[0]
