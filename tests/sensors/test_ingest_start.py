"""``twin ingest`` fails at start, with the cause, when the first connection cannot be
made (issue 13, section 5; issue 12, section 2), against a real Mosquitto."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from sensors.broker import MosquittoBroker, free_port
from tests.sensors.test_ingest_broker import _make_certificates

pytestmark = pytest.mark.requires_broker
ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"


def _ingest(archive: pathlib.Path, url: str, *extra: str) -> tuple[int, list[str], float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "twin",
            "ingest",
            str(DEMO),
            "--archive",
            str(archive),
            "--broker",
            url,
            "--duration",
            "60",
            *extra,
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    errors = [line for line in out.stderr.decode().splitlines() if "error" in line.lower()]
    return out.returncode, errors, time.monotonic() - started


def test_ingest_without_credentials_on_a_password_broker_fails_at_start(
    tmp_path: pathlib.Path,
) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "ingest", "pw"], check=True)
    with MosquittoBroker(tmp_path / "mq", password_file=passwd) as broker:
        code, errors, elapsed = _ingest(tmp_path / "a.zarr", broker.url)
    assert code == 77 and elapsed < 30  # was: logged the refusal and retried forever
    assert errors == [
        f"twin ingest: error: broker {broker.url} refused the connection: Not authorized; "
        "check the user name and password (--username, --password or --password-file)"
    ]


def test_ingest_with_a_ca_that_does_not_sign_the_broker_fails_at_start(
    tmp_path: pathlib.Path,
) -> None:
    ca, cert, key = _make_certificates(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _, _ = _make_certificates(other)  # a second CA: it signed nothing here
    with MosquittoBroker(tmp_path / "mq", tls=(ca, cert, key)) as broker:
        code, errors, elapsed = _ingest(tmp_path / "a.zarr", broker.url, "--ca-certs", other_ca)
    assert code == 77 and elapsed < 30  # was: silent, connects 0, forever
    assert len(errors) == 1 and "TLS certificate not trusted" in errors[0]
    assert f"broker {broker.url}" in errors[0]


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        (f"mqtt://127.0.0.1:{free_port()}", "connection refused (nothing listens on port"),
        ("mqtt://no-such-broker.invalid:1883", "unknown host 'no-such-broker.invalid'"),
    ],
)
def test_ingest_with_a_wrong_port_or_unknown_host_fails_within_30_s(
    tmp_path: pathlib.Path, url: str, cause: str
) -> None:
    code, errors, elapsed = _ingest(tmp_path / "a.zarr", url)
    assert code == 69 and elapsed < 30  # was: "connects: 0" every 10 s, then exit 0
    assert len(errors) == 1 and url.replace("mqtt://", "mqtt://") in errors[0]
    assert cause in errors[0]


def test_retry_forever_keeps_trying_until_the_broker_comes(tmp_path: pathlib.Path) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    log = tmp_path / "ingest.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twin",
                "ingest",
                str(DEMO),
                "--archive",
                str(tmp_path / "a.zarr"),
                "--broker",
                f"mqtt://127.0.0.1:{port}",
                "--retry-forever",
            ],
            env=env,
            stdout=fh,
            stderr=fh,
        )
    try:
        deadline = time.monotonic() + 30
        while "retrying with back-off" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None  # still running, retrying
        with MosquittoBroker(tmp_path / "mq", port=port):
            deadline = time.monotonic() + 40
            while "acknowledged" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "subscription to plant/plant-1/header-a/+ acknowledged" in log.read_text()
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
