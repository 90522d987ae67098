"""Security basics against a real Mosquitto: password file and ACL, TLS with a self-made
CA, a client certificate, and a password that is never logged (issue 13, section 6).

The broker configs are the ones docs/sensors.md shows."""

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
from sensors.errors import BrokerRefusedError, PublishError
from sensors.ingest import Ingester
from sensors.mqtt import make_client, parse_broker_url
from sensors.publish import publish_readings, synthetic_readings
from sensors.reader import committed_count
from tests.sensors.test_ingest_broker import _make_certificates

pytestmark = pytest.mark.requires_broker
ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"
PASSWORDS = {"ingest": "In9est-S3cret", "plant": "Pl4nt-S3cret", "monitor": "M0nitor-S3cret"}

# The ingester reads the component's readings and writes only its dead-letter topic;
# the plant writes readings only; a monitor reads the dead letters.
ACL = """
user ingest
topic read plant/plant-1/header-a/+
topic write plant/_deadletter/plant-1/header-a

user plant
topic write plant/plant-1/header-a/+

user monitor
topic read plant/_deadletter/#
"""


def _recording(catalogue: Catalogue) -> object:
    return synthetic_readings(
        catalogue, duration=10.0, start_time=time.time() - 30, rng=np.random.default_rng(2)
    )


@pytest.fixture
def acl_broker(tmp_path: pathlib.Path) -> object:
    passwd = tmp_path / "passwd"
    for i, (user, pw) in enumerate(PASSWORDS.items()):
        flags = ["-b", "-c"] if i == 0 else ["-b"]
        subprocess.run(["mosquitto_passwd", *flags, str(passwd), user, pw], check=True)
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    with MosquittoBroker(tmp_path / "mq", password_file=passwd, acl_file=acl) as broker:
        yield broker


def _settings(broker: MosquittoBroker, user: str) -> object:
    return parse_broker_url(
        f"mqtt://127.0.0.1:{broker.port}", username=user, password=PASSWORDS[user]
    )


def test_the_acl_lets_each_role_do_its_part_only(
    acl_broker: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TWIN_MQTT_PASSWORD=PASSWORDS["ingest"])
    log = tmp_path / "ingest.log"
    archive = tmp_path / "a.zarr"
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
                "--broker",
                f"mqtt://127.0.0.1:{acl_broker.port}",
                "--username",
                "ingest",
                "--flush-interval",
                "0.05",
            ],
            env=env,
            stdout=fh,
            stderr=fh,
        )
    monitor, props = make_client(_settings(acl_broker, "monitor"))  # type: ignore[arg-type]
    letters: list[dict[str, object]] = []
    monitor.on_message = lambda c, u, m: letters.append(json.loads(m.payload))
    monitor.connect("127.0.0.1", acl_broker.port, properties=props)
    monitor.loop_start()
    monitor.subscribe("plant/_deadletter/#", qos=1)
    try:
        deadline = time.monotonic() + 30
        while "acknowledged" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        rec = _recording(catalogue)
        n = rec.sizes["reading"]
        plant = _settings(acl_broker, "plant")
        stats = publish_readings(rec, catalogue, broker=plant, batch_size=5)  # type: ignore[arg-type]
        assert stats.readings == n
        pub, pprops = make_client(plant)  # type: ignore[arg-type]
        pub.connect("127.0.0.1", acl_broker.port, properties=pprops)
        pub.loop_start()
        pub.publish(catalogue.topic("plant", "TC-fluid-01"), b"{broken", qos=1).wait_for_publish(5)
        pub.disconnect()
        pub.loop_stop()
        deadline = time.monotonic() + 20
        while (committed_count(archive) < n or not letters) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert committed_count(archive) == n  # read allowed for the ingester
        assert [d["reason"] for d in letters] == ["malformed_json"]  # its one write topic
        # The ingester's credentials cannot write readings (MQTT 5: PUBACK "Not authorized").
        with pytest.raises(PublishError, match="refused 1 of 1 messages"):
            publish_readings(
                rec.isel(reading=slice(0, 1)),
                catalogue,
                broker=_settings(acl_broker, "ingest"),  # type: ignore[arg-type]
            )
        # The plant's credentials cannot read anything.
        spy, sprops = make_client(plant)  # type: ignore[arg-type]
        seen: list[bytes] = []
        spy.on_message = lambda c, u, m: seen.append(m.payload)
        spy.connect("127.0.0.1", acl_broker.port, properties=sprops)
        spy.loop_start()
        spy.subscribe("plant/#", qos=1)
        time.sleep(0.3)
        publish_readings(rec.isel(reading=slice(0, 3)), catalogue, broker=plant)  # type: ignore[arg-type]
        time.sleep(0.5)
        spy.disconnect()
        spy.loop_stop()
        assert seen == []
    finally:
        monitor.disconnect()
        monitor.loop_stop()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
    text = log.read_text()
    assert proc.returncode == 0, text
    for pw in PASSWORDS.values():
        assert pw not in text  # the password is never logged


def _client_certificate(directory: pathlib.Path, ca: str, cn: str) -> tuple[str, str]:
    ca_key = str(pathlib.Path(ca).with_name("ca.key"))
    key, csr, cert = (str(directory / f"{cn}.{ext}") for ext in ("key", "csr", "pem"))
    for args in (
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}"],
        [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "1",
        ],
    ):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    return cert, key


def test_tls_with_a_client_certificate_admits_only_certified_clients(
    catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    ca, cert, key = _make_certificates(tmp_path)  # a self-made CA and the broker's cert
    client_cert, client_key = _client_certificate(tmp_path, ca, "ingest")
    acl = tmp_path / "acl"
    acl.write_text("user ingest\ntopic readwrite plant/#\n")
    with MosquittoBroker(
        tmp_path / "mq",
        tls=(ca, cert, key),
        require_certificate=True,
        use_identity_as_username=True,
        acl_file=acl,
    ) as broker:
        anonymous = Ingester(
            catalogue, tmp_path / "n.zarr", broker=parse_broker_url(broker.url, ca_certs=ca)
        )
        try:
            with pytest.raises(BrokerRefusedError, match="require a client certificate"):
                anonymous.start()  # no client certificate: refused at start
        finally:
            anonymous.stop()
        settings = parse_broker_url(
            broker.url, ca_certs=ca, certfile=client_cert, keyfile=client_key
        )
        ingester = Ingester(catalogue, tmp_path / "c.zarr", broker=settings)
        stop = threading.Event()
        thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
        thread.start()
        try:
            assert ingester.subscribed.wait(10)
            rec = _recording(catalogue)
            stats = publish_readings(rec, catalogue, broker=settings, batch_size=10)
            deadline = time.monotonic() + 20
            while ingester.stats.archived < stats.readings and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(30)
    assert ingester.stats.archived == rec.sizes["reading"] == stats.readings
