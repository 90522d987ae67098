"""Broker fixtures: a real Mosquitto subprocess and the embedded amqtt broker."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from sensors.archive import read_commit
from sensors.broker import EmbeddedBroker, MosquittoBroker
from sensors.catalogue import Catalogue, load_catalogue
from sensors.errors import ArchiveError

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "examples" / "sensors_demo.toml"


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue(DEMO_CONFIG)


@pytest.fixture
def mosquitto(tmp_path: pathlib.Path) -> Iterator[MosquittoBroker]:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    broker = MosquittoBroker(
        tmp_path / "mosquitto",
        persistence=True,
        max_queued_messages=1_000_000,
        max_inflight_messages=10_000,
    )
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(params=["mosquitto", "amqtt"])
def any_broker(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[object]:
    if request.param == "mosquitto":
        broker: MosquittoBroker | EmbeddedBroker = MosquittoBroker(tmp_path / "mosquitto")
    else:
        broker = EmbeddedBroker()
    broker.start()
    yield broker
    broker.stop()


class IngestProcess:
    """``twin ingest`` in a subprocess, its log in a file."""

    def __init__(self, archive: pathlib.Path, url: str, log: pathlib.Path, *extra: str) -> None:
        self.args = [
            sys.executable,
            "-m",
            "twin",
            "ingest",
            str(DEMO_CONFIG),
            "--archive",
            str(archive),
            "--broker",
            url,
            "--client-id",
            "test-ingest",
            "--flush-interval",
            "0.05",
            *extra,
        ]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.log.write_text("")
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=fh, stderr=fh)
        deadline = time.monotonic() + timeout
        while "acknowledged" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ingest did not subscribe:\n{self.log.read_text()}")
            time.sleep(0.05)

    def kill(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=30)
        self.proc = None


def wait_for_readings(archive: pathlib.Path, n: int, *, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    got = 0
    while time.monotonic() < deadline:
        try:
            got = read_commit(archive)["readings"]
        except ArchiveError:
            got = 0
        if got >= n:
            return got
        time.sleep(0.05)
    return got


@pytest.fixture
def ingest_process() -> Iterator[type[IngestProcess]]:
    started: list[IngestProcess] = []

    class Tracked(IngestProcess):
        def start(self, timeout: float = 30.0) -> None:
            started.append(self)
            super().start(timeout)

    yield Tracked
    for proc in started:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.kill(9)


@pytest.fixture
def readings_committed() -> object:
    return wait_for_readings
