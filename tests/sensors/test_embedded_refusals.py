"""The embedded broker with MQTT 5 or without a user name: refused at once, with the fix
(issue 12, section 2). It speaks MQTT 3.1.1 only and needs a user name (any)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from sensors.broker import EmbeddedBroker

pytestmark = pytest.mark.requires_broker
ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"


@pytest.fixture
def embedded() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as broker:
        yield broker


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("mqtt://twin@127.0.0.1:{port}", "add ?protocol=3.1.1 to the URL"),  # MQTT 5
        ("mqtt://127.0.0.1:{port}?protocol=3.1.1", "the broker requires a user name"),
        ("mqtt://127.0.0.1:{port}", "add ?protocol=3.1.1 to the URL"),  # both: version first
    ],
)
def test_publish_to_the_embedded_broker_is_refused_with_the_fix(
    embedded: EmbeddedBroker, url: str, fix: str
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin",
            "publish",
            str(DEMO),
            "--broker",
            url.format(port=embedded.port),
            "--duration",
            "2",
            "--speed",
            "max",
        ],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert time.monotonic() - started < 20  # was: a hang with no output
    assert out.returncode == 77
    err = out.stderr.decode().strip().splitlines()
    assert len(err) == 1 and fix in err[0], err
    assert f"broker mqtt://127.0.0.1:{embedded.port} refused the connection" in err[0]


def _ingest_embedded_log(tmp_path: pathlib.Path, *extra: str) -> tuple[str, list[str]]:
    from sensors.broker import free_port

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [
        sys.executable,
        "-m",
        "twin",
        "ingest",
        str(DEMO),
        "--archive",
        str(tmp_path / "a.zarr"),
        "--embedded-port",
        str(free_port()),
        "--duration",
        "3",
    ]
    out = subprocess.run([*args, *extra], env=env, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    log = out.stderr.decode()
    assert "subscription to plant/plant-1/header-a/+ acknowledged" in log  # ours: always
    assert "reconnecting with back-off" not in log  # our own stop is no connection loss
    return log, [line for line in log.splitlines() if " amqtt." in line or "transitions" in line]


def test_the_embedded_broker_is_quiet_by_default(tmp_path: pathlib.Path) -> None:
    _, broker_lines = _ingest_embedded_log(tmp_path)
    assert broker_lines == []  # was: every state change of the broker at INFO


def test_the_embedded_broker_log_shows_with_verbose(tmp_path: pathlib.Path) -> None:
    _, broker_lines = _ingest_embedded_log(tmp_path, "-v")
    assert any("Listener 'default' bind to" in line for line in broker_lines)
