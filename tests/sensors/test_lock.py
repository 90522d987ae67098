"""One writer per archive: an OS lock that refuses a second writer and dies with its process."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sensors.archive import Archive, ArchiveBatch
from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.errors import LockedError
from sensors.ingest import Ingester
from sensors.lock import DirectoryLock, exclusive_lock
from sensors.mqtt import parse_broker_url
from sensors.publish import publish_readings, synthetic_readings
from sensors.reader import read_readings
from sensors.validation import REASONS

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"

_HOLD = """
import sys, time
from sensors.lock import DirectoryLock
lock = DirectoryLock(sys.argv[1], role="test holder").acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_a_second_lock_is_refused_until_the_first_is_released(tmp_path: pathlib.Path) -> None:
    with exclusive_lock(tmp_path / "state", role="twin service") as held:
        assert held.held
        with pytest.raises(LockedError, match=rf"pid {os.getpid()} .*twin service"):
            DirectoryLock(tmp_path / "state").acquire()  # refused within one process too
    with exclusive_lock(tmp_path / "state"):  # released at the end of the block
        pass


def test_the_lock_dies_with_a_killed_process(tmp_path: pathlib.Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path / "a.zarr")], env=env, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
        with pytest.raises(LockedError, match=rf"pid {proc.pid} .*test holder"):
            DirectoryLock(tmp_path / "a.zarr").acquire()
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no clean-up runs in the holder
        proc.wait(10)
    lock = DirectoryLock(tmp_path / "a.zarr").acquire()  # no stale lock is left behind
    assert lock.held
    lock.release()


def test_a_second_archive_writer_is_refused_and_readers_need_no_lock(
    catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    n = 10
    batch = ArchiveBatch(
        1.7e9 + np.arange(n, dtype=float),
        np.zeros(n, dtype=np.int32),
        np.full(n, 300.0),
        np.zeros(n, dtype=np.int8),
        np.arange(n, dtype=np.int64),
    )
    with Archive(path, catalogue, reasons=REASONS) as first:
        first.append(batch)
        with pytest.raises(LockedError, match="already written by another archive writer"):
            Archive(path, catalogue, reasons=REASONS)
        assert read_readings(path).sequence.tolist() == list(range(n))  # lock-free reader
    with Archive(path, catalogue, reasons=REASONS) as second:  # the first closed: allowed
        assert second.n_readings == n


@pytest.mark.requires_broker
def test_a_second_twin_ingest_on_one_archive_exits_with_a_clear_message(
    mosquitto: MosquittoBroker,
    catalogue: Catalogue,
    tmp_path: pathlib.Path,
    ingest_process: type,
    readings_committed: object,
) -> None:
    archive = tmp_path / "a.zarr"
    first = ingest_process(archive, mosquitto.url, tmp_path / "first.log")
    first.start()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    second = subprocess.run(
        [
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
            "second-writer",
        ],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert second.returncode == 75  # EX_TEMPFAIL: another writer holds the archive
    err = second.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "twin ingest: error: lock:" in err[0]
    assert "already written by another archive writer" in err[0]
    assert f"pid {first.proc.pid}" in err[0]
    # The first writer is unharmed: it archives everything, and in-process a second
    # Ingester is refused the same way.
    with pytest.raises(LockedError):
        Ingester(catalogue, archive, broker=parse_broker_url(mosquitto.url))
    rec = synthetic_readings(
        catalogue, duration=10.0, start_time=time.time() - 20, rng=np.random.default_rng(1)
    )
    publish_readings(rec, catalogue, broker=parse_broker_url(mosquitto.url), batch_size=10)
    n = rec.sizes["reading"]
    assert readings_committed(archive, n, timeout=30) == n  # type: ignore[operator]
    first.kill(signal.SIGKILL)
    # the killed writer's lock is gone: a new writer starts at once
    Ingester(catalogue, archive, broker=parse_broker_url(mosquitto.url)).close()
