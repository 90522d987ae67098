"""No silent success: ``twin publish`` fails with the broker's reason and reports only
acknowledged readings (issue 13, section 5), against a real Mosquitto."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.errors import BrokerError, PublishError
from sensors.mqtt import make_client, parse_broker_url
from sensors.publish import publish_readings, synthetic_readings

pytestmark = pytest.mark.requires_broker
ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"


@pytest.fixture
def password_broker(tmp_path: pathlib.Path) -> object:
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "pub", "Secr3t-pw"], check=True)
    with MosquittoBroker(tmp_path / "mq", password_file=passwd) as broker:
        yield broker


def _publish_cli(url: str, *extra: str) -> tuple[subprocess.CompletedProcess[bytes], float]:
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
            url,
            "--duration",
            "5",
            "--speed",
            "max",
            "--linger",
            "0",
            *extra,
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    return out, time.monotonic() - started


@pytest.mark.parametrize("credentials", ["pub:wrong@", "", "nobody:Secr3t-pw@"])
def test_publish_with_bad_credentials_fails_at_once_with_the_brokers_reason(
    password_broker: MosquittoBroker, credentials: str
) -> None:
    url = f"mqtt://{credentials}127.0.0.1:{password_broker.port}"
    out, elapsed = _publish_cli(url)
    assert elapsed < 20  # was 120 s of waiting, then exit 0
    assert out.returncode == 77  # EX_NOPERM: retrying cannot fix it
    err = out.stderr.decode().strip().splitlines()
    assert len(err) == 1, err
    assert f"broker mqtt://127.0.0.1:{password_broker.port} refused the connection" in err[0]
    assert "Not authorized" in err[0] or "Bad user name or password" in err[0]
    assert "check the user name and password" in err[0]
    assert out.stdout == b""  # no readings reported as sent
    assert b"Secr3t-pw" not in out.stdout + out.stderr and b"wrong" not in out.stderr


def test_publish_with_the_right_password_from_a_file_reports_what_was_acknowledged(
    password_broker: MosquittoBroker, tmp_path: pathlib.Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("Secr3t-pw\n")
    url = f"mqtt://127.0.0.1:{password_broker.port}"
    out, _ = _publish_cli(url, "--username", "pub", "--password-file", str(secret))
    assert out.returncode == 0, out.stderr
    # 5 s x (1 + 1 + 1 + 10 + 0.001) Hz, every one acknowledged
    assert json.loads(out.stdout.decode().splitlines()[-1])["readings"] == 5 + 5 + 5 + 50 + 1


def test_missing_acknowledgements_raise_and_only_acknowledged_readings_count(
    mosquitto: MosquittoBroker, catalogue: Catalogue
) -> None:
    settings = parse_broker_url(mosquitto.url)
    sub, props = make_client(settings, client_id="ack-watch", persistent=True, session_expiry=60)
    got: list[int] = []
    sub.on_message = lambda c, u, m: got.append(len(json.loads(m.payload)["time"]))
    sub.connect(settings.host, settings.port, properties=props, clean_start=False)
    sub.loop_start()
    sub.subscribe("plant/#", qos=1)
    time.sleep(0.3)
    rec = synthetic_readings(
        catalogue,
        duration=60.0,
        start_time=time.time() - 100,
        rng=np.random.default_rng(0),
        rate_scale=2.0,
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            publish_readings(
                rec, catalogue, broker=settings, batch_size=10, speed=60.0, ack_timeout=2.0
            )
        except BaseException as err:  # examined below
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.4)
    assert mosquitto.pid is not None
    os.kill(mosquitto.pid, signal.SIGSTOP)  # the broker hangs: no more acknowledgements
    try:
        thread.join(30)
    finally:
        os.kill(mosquitto.pid, signal.SIGCONT)
    assert not thread.is_alive() and len(errors) == 1
    err = errors[0]
    assert isinstance(err, PublishError) and "not acknowledged" in str(err)
    stats = err.stats
    assert 0 < stats.readings < stats.sent_readings <= rec.sizes["reading"]
    deadline = time.monotonic() + 10
    while sum(got) < stats.readings and time.monotonic() < deadline:
        time.sleep(0.05)
    sub.disconnect()
    sub.loop_stop()
    assert sum(got) >= stats.readings  # everything reported as acknowledged reached the broker


def test_an_unreachable_broker_is_a_broker_error(catalogue: Catalogue) -> None:
    rec = synthetic_readings(
        catalogue, duration=1.0, start_time=time.time(), rng=np.random.default_rng(0)
    )
    from sensors.broker import free_port

    with pytest.raises(BrokerError, match=r"connection refused \(nothing listens on port"):
        publish_readings(rec, catalogue, broker=parse_broker_url(f"mqtt://127.0.0.1:{free_port()}"))
