"""``twin serve`` on a real Mosquitto: commands and refusals, the publication limit,
forecasts through the forecaster interface, acknowledgements across a restart, the Last
Will, replay topics, and bad input at start."""

from __future__ import annotations

import json
import threading
import time

import jsonschema
import pytest

from tests.twin.service_support import (
    Client,
    ServeProcess,
    payloads,
    plant_readings,
    publish_all,
    wait_online,
    write_config,
)
from twin.contract import FORECAST_SCHEMA, RESPONSE_SCHEMA, STATE_SCHEMA, STATUS_SCHEMA

pytestmark = pytest.mark.requires_broker
TOPIC = "twin/plant-1/header-a"


@pytest.fixture(scope="module")
def surrogates(tmp_path_factory):
    """The example's mode surrogate, loaded once for the module's services."""
    from models.config import load_config
    from twin.service import _surrogate_path
    from twin.state import Twin

    path = write_config(tmp_path_factory.mktemp("cfg"))
    twin = Twin.from_config(load_config(path), seed=0, config_path=path)
    return {str(_surrogate_path(twin.config, path)): twin.model.surrogate}


class Running:
    """A TwinService serving in a thread of the test process."""

    def __init__(self, cfg, broker, tmp_path, surrogates, url=None, **options):
        from sensors.mqtt import parse_broker_url
        from twin.partition import load_specs
        from twin.server import TwinService
        from twin.service import ServiceOptions

        opts = ServiceOptions(
            broker=parse_broker_url(url or broker.url),
            archive_dir=tmp_path / "a",
            state_dir=tmp_path / "s",
            flush_interval=0.05,
            surrogates=surrogates,
            **options,
        )
        self.service = TwinService(load_specs([cfg]), opts)
        self.stop = threading.Event()
        self.summary = None
        self.service.start()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        self.summary = self.service.serve(stop=self.stop)

    def close(self):
        self.stop.set()
        self.thread.join(60)
        return self.summary


def request(client, name, body, corr, topic=TOPIC):
    client.publish(
        f"{topic}/cmd/{name}",
        body if isinstance(body, bytes) else json.dumps(body).encode(),
        response_topic="twin/_reply/test",
        correlation=corr,
    )
    _, payload, props = client.wait_for(lambda m: m[2].CorrelationData == corr, timeout=30)
    doc = json.loads(payload)
    jsonschema.validate(doc, RESPONSE_SCHEMA)
    assert doc["correlation_id"] == corr.decode()
    return doc


def test_every_command_is_answered_and_refusals_are_counted(mosquitto, tmp_path, surrogates):
    cfg = write_config(tmp_path)
    mon = Client(mosquitto.url, f"{TOPIC}/#")
    run = Running(
        cfg, mosquitto, tmp_path, surrogates, max_command_bytes=1000, publish_interval=0.0
    )
    ops = Client(mosquitto.url, "twin/_reply/#")
    try:
        assert request(ops, "checkpoint_now", {}, b"1")["ok"]
        assert request(
            ops, "set_duty_plan", {"version": 1, "plan": {"starts_per_year": 250}}, b"2"
        ) == {
            "schema_version": 1,
            "ok": True,
            "command": "set_duty_plan",
            "version": 1,
            "correlation_id": "2",
        }
        stale = request(ops, "set_duty_plan", {"version": 1, "plan": {}}, b"3")
        assert (stale["ok"], stale["reason"]) == (False, "stale_version")
        assert stale["current_version"] == 1
        assert request(ops, "republish_state", {}, b"4")["ok"]
        refused = {
            b"5": ("ack_alert", {"id": "nope#1"}, "unknown_alert"),
            b"6": ("self_destruct", {}, "unknown_command"),
            b"7": ("checkpoint_now", b"{" + b" " * 2000 + b"}", "oversized"),
            b"8": ("checkpoint_now", b"not json", "malformed_json"),
            b"9": ("set_duty_plan", {"version": "two", "plan": {}}, "invalid_field"),
            b"10": ("forecast_now", {}, "no_forecaster"),
        }
        for corr, (name, body, reason) in refused.items():
            doc = request(ops, name, body, corr)
            assert (doc["ok"], doc["reason"]) == (False, reason), doc
        # another component's command topic is not ours: no answer, no effect
        ops.publish(
            "twin/plant-1/header-z/cmd/checkpoint_now",
            b"{}",
            response_topic="twin/_reply/test",
            correlation=b"z",
        )
        time.sleep(0.5)
        assert request(ops, "republish_state", {}, b"11")["ok"]
        state = mon.wait_for(
            lambda m: (
                m[0] == f"{TOPIC}/state"
                and json.loads(m[1])["service"]["refusals"].get("malformed_json")
            ),
            timeout=10,
        )
        doc = json.loads(state[1])
        jsonschema.validate(doc, STATE_SCHEMA)
        assert doc["service"]["refusals"] == {
            "stale_version": 1,
            "unknown_alert": 1,
            "unknown_command": 1,
            "oversized": 1,
            "malformed_json": 1,
            "invalid_field": 1,
            "no_forecaster": 1,
        }
        assert doc["duty_plan_version"] == 1
        assert not [m for m in ops.log if m[2].CorrelationData == b"z"]
    finally:
        summary = run.close()
        ops.close()
    assert summary["twin/plant-1/header-a"]["commands"] == {
        "checkpoint_now": 1,
        "set_duty_plan": 1,
        "republish_state": 2,
    }
    mon.wait_for(lambda m: m[0] == f"{TOPIC}/status" and b'"offline"' in m[1], timeout=10)
    status = mon.json_on(f"{TOPIC}/status")
    assert [s["status"] for s in status] == ["online", "online", "online", "offline"]
    for s in status:
        jsonschema.validate(s, STATUS_SCHEMA)
    mon.close()


def standin_forecaster(twin, plan):
    """A plumbing stand-in for the forecast package (not a forecast): Miner's rule
    extrapolated linearly from the damage so far, the plan's version as the mechanism."""
    st = twin.state
    used = max(d[m]["mean"] for d in st["damage"].values() for m in ("fatigue", "creep"))
    years = 1.0 if used <= 0 else 1.0 / used
    return {
        "remaining_life_years": {"p05": 0.5 * years, "p50": years, "p95": 2 * years},
        "probability_of_failure": {"time_years": [0.0, years], "probability": [0.0, 0.5]},
        "mechanism": f"plan-{plan.version if plan else 0}",
    }


def test_state_is_limited_to_one_per_interval_and_forecasts_use_the_forecaster(
    mosquitto, tmp_path, surrogates
):
    cfg = write_config(tmp_path, forecast_every_h=0.1)
    mon = Client(mosquitto.url, f"{TOPIC}/#")
    run = Running(
        cfg, mosquitto, tmp_path, surrogates, publish_interval=0.5, forecaster=standin_forecaster
    )
    ops = Client(mosquitto.url, "twin/_reply/#")
    try:
        assert request(ops, "set_duty_plan", {"version": 4, "plan": {}}, b"p")["ok"]
        t0 = (time.time() // 3600 - 2) * 3600  # on the hour: forecasts due at +360, +720, ...
        readings = plant_readings(1500, t0=t0)
        msgs = payloads(readings)
        for i in range(0, len(msgs), 400):  # a stream of batches over a few seconds
            publish_all(mosquitto.url, msgs[i : i + 400], window=100)
        n = len(msgs)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = mon.json_on(f"{TOPIC}/state")
            if states and states[-1]["archive_offset"] == n:
                break
            time.sleep(0.1)
        stamps = [s["service"]["published_at"] for s in states]
        assert states[-1]["archive_offset"] == n  # the deferred last state is published
        gaps = [b - a for a, b in zip(stamps[:-1], stamps[1:], strict=True)]
        assert len(stamps) >= 4 and min(gaps) >= 0.5, gaps
        doc = request(ops, "forecast_now", {}, b"f")
        assert doc["ok"] and doc["archive_offset"] == n
    finally:
        run.close()
        ops.close()
    forecasts = mon.json_on(f"{TOPIC}/forecast")
    triggers = [f["trigger"] for f in forecasts]
    # assimilated up to +1440 s (the last closed block): due at +360, +720, +1080
    assert triggers.count("schedule") == 3 and triggers[-1] == "command", triggers
    for f in forecasts:
        jsonschema.validate(f, FORECAST_SCHEMA)
        assert f["duty_plan_version"] == 4 and f["result"]["mechanism"] == "plan-4"
    alerts = [a for a in mon.json_on(f"{TOPIC}/alert") if a["kind"] == "remaining_life"]
    assert alerts and alerts[0]["state"] == "active"  # P05 below 5 years
    mon.close()


def test_an_acknowledgement_survives_a_restart_and_alerts_keep_their_ids(
    mosquitto, tmp_path, surrogates
):
    cfg = write_config(tmp_path)
    mon = Client(mosquitto.url, f"{TOPIC}/#")
    run = Running(cfg, mosquitto, tmp_path, surrogates, publish_interval=0.0)
    ops = Client(mosquitto.url, "twin/_reply/#")
    readings = plant_readings(900, t0=time.time() - 7200, stuck=(300, 420))
    publish_all(mosquitto.url, payloads(readings))
    alert = mon.wait_for(lambda m: m[0] == f"{TOPIC}/alert", timeout=30)
    first = json.loads(alert[1])
    doc = request(ops, "ack_alert", {"id": first["id"], "by": "op-7"}, b"a")
    assert doc["ok"] and doc["state"] in ("acknowledged", "closed")
    run.close()
    before = {(a["id"], a["revision"]): a for a in mon.json_on(f"{TOPIC}/alert")}
    acked = [a for a in before.values() if a["acknowledged_by"] == "op-7"]
    assert acked and acked[0]["id"] == first["id"]
    run = Running(cfg, mosquitto, tmp_path, surrogates, publish_interval=0.0)
    time.sleep(1.0)
    run.close()
    after = mon.json_on(f"{TOPIC}/alert")[len(before) :]
    for a in after:  # re-sent after the restart: the same messages, no new ids
        assert before[(a["id"], a["revision"])] == a
    mon.close()


def test_the_last_will_marks_a_killed_service_offline(mosquitto, tmp_path):
    cfg = write_config(tmp_path)
    mon = Client(mosquitto.url, f"{TOPIC}/status")
    started = time.time()
    proc = ServeProcess(
        [
            str(cfg),
            "--broker",
            mosquitto.url,
            "--archive",
            str(tmp_path / "a"),
            "--state",
            str(tmp_path / "s"),
        ],
        tmp_path / "serve.log",
    ).start()
    try:
        wait_online(mon, f"{TOPIC}/status", after=started, proc=proc)
    finally:
        proc.kill(9)
    _, payload, _ = mon.wait_for(lambda m: json.loads(m[1])["status"] == "offline", timeout=30)
    assert json.loads(payload)["reason"] == "connection_lost"
    late = Client(mosquitto.url, f"{TOPIC}/status")  # retained for a late subscriber
    _, payload, _ = late.wait_for(lambda m: True, timeout=10)
    assert json.loads(payload)["status"] == "offline"
    late.close()
    mon.close()


def test_a_replay_publishes_under_replay_only_and_ends_with_the_flushed_state(
    mosquitto, tmp_path, surrogates
):
    import numpy as np

    from sensors.archive import Archive, ArchiveBatch
    from sensors.catalogue import load_catalogue
    from sensors.validation import REASONS
    from tests.twin.test_twin import state_arrays

    cfg = write_config(tmp_path)
    readings = plant_readings(900, t0=1.7e9, seed=4)
    archive = Archive(tmp_path / "rec.zarr", load_catalogue(cfg), reasons=REASONS)
    index = {s: archive.sensor_index(s) for s in set(readings["sensor"])}
    archive.append(
        ArchiveBatch(
            time=readings["time"],
            sensor=np.array([index[s] for s in readings["sensor"]], np.int32),
            value=readings["value"],
            quality=readings["quality"],
            sequence=readings["sequence"].astype(np.int64),
        )
    )
    archive.close()
    live = Client(mosquitto.url, "twin/#")
    rep = Client(mosquitto.url, "replay/#")
    argv = [
        str(cfg),
        "--broker",
        mosquitto.url,
        "--replay",
        str(tmp_path / "rec.zarr"),
        "--speed",
        "max",
    ]
    proc = ServeProcess(argv, tmp_path / "replay.log").start()
    assert proc.wait(120) == 0, proc.text()[-2000:]
    time.sleep(0.3)
    assert live.log == []  # never on the live topics
    state = rep.json_on("replay/twin/plant-1/header-a/state")[-1]
    assert state["readings"] == readings["time"].size
    assert rep.json_on("replay/twin/plant-1/header-a/status")[-1]["reason"] == "replay_finished"
    from models.config import load_config
    from twin.state import Twin

    ref = Twin.from_config(load_config(cfg), seed=0, surrogate=next(iter(surrogates.values())))
    ref.update(readings)
    ref.flush()
    assert state["time"] == ref.state["time"]
    assert state["parameters"] == json.loads(json.dumps(ref.state["parameters"]))
    assert state_arrays(ref)  # the reference ran
    live.close()
    rep.close()


def start_error(argv, tmp_path, name):
    proc = ServeProcess(argv, tmp_path / f"{name}.log").start()
    code = proc.wait(60)
    lines = [ln for ln in proc.text().splitlines() if "twin serve: error" in ln]
    return code, lines


def test_bad_brokers_stop_the_service_at_start_with_one_line(mosquitto, tmp_path):
    from sensors.broker import MosquittoBroker, free_port
    from tests.sensors.test_ingest_broker import _make_certificates

    cfg = write_config(tmp_path)
    common = [
        str(cfg),
        "--archive",
        str(tmp_path / "a"),
        "--state",
        str(tmp_path / "s"),
        "--connect-timeout",
        "3",
    ]
    port = free_port()
    code, lines = start_error([*common, "--broker", f"mqtt://127.0.0.1:{port}"], tmp_path, "u")
    assert code == 69 and len(lines) == 1
    assert f"mqtt://127.0.0.1:{port}" in lines[0] and "connection refused" in lines[0]
    code, lines = start_error([*common, "--broker", "mqtt//nowhere"], tmp_path, "m")
    assert code == 69 and len(lines) == 1 and "'mqtt//nowhere'" in lines[0]
    pw = tmp_path / "passwd"
    import subprocess

    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "twin", "right"], check=True)
    ca, cert, key = _make_certificates(tmp_path)
    with MosquittoBroker(tmp_path / "mqp", password_file=pw) as secured:
        url = f"mqtt://twin:wrong@127.0.0.1:{secured.port}"
        code, lines = start_error([*common, "--broker", url], tmp_path, "p")
        assert code == 77 and len(lines) == 1 and "refused" in lines[0]
        assert "wrong" not in lines[0] and f"127.0.0.1:{secured.port}" in lines[0]
    with MosquittoBroker(tmp_path / "mqt", tls=(ca, cert, key)) as tls:
        (tmp_path / "other").mkdir()
        other_ca, _, _ = _make_certificates(tmp_path / "other")
        code, lines = start_error(
            [*common, "--broker", tls.url, "--ca-certs", other_ca], tmp_path, "t"
        )
        assert code == 77 and len(lines) == 1
        assert tls.url in lines[0] and "certificate not trusted" in lines[0]


def test_the_acl_of_the_docs_lets_each_role_do_its_part(tmp_path, surrogates):
    import re
    import subprocess

    from sensors.broker import MosquittoBroker
    from tests.twin.service_support import ROOT

    text = (ROOT / "docs" / "mqtt.md").read_text()
    acl = re.search(r"```\n(# user the service connects as.*?)```", text, re.S).group(1)
    (tmp_path / "acl").write_text(acl)
    pw = tmp_path / "passwd"
    for i, user in enumerate(("twin-service", "plant-gateway", "operator")):
        subprocess.run(
            ["mosquitto_passwd", *(["-c"] if i == 0 else []), "-b", str(pw), user, f"pw-{user}"],
            check=True,
        )
    with MosquittoBroker(tmp_path / "mq", password_file=pw, acl_file=tmp_path / "acl") as mq:

        def url(user):
            return f"mqtt://{user}:pw-{user}@127.0.0.1:{mq.port}"

        cfg = write_config(tmp_path)
        ops = Client(url("operator"), f"{TOPIC}/state", "twin/_reply/operator/#")
        run = Running(cfg, mq, tmp_path, surrogates, url=url("twin-service"), publish_interval=0.0)
        try:
            readings = plant_readings(300, t0=time.time() - 7200)
            publish_all(url("plant-gateway"), payloads(readings))
            _, payload, _ = ops.wait_for(
                lambda m: m[0] == f"{TOPIC}/state" and json.loads(m[1])["readings"] == 1200,
                timeout=30,
            )
            ops.publish(
                f"{TOPIC}/cmd/checkpoint_now",
                b"{}",
                response_topic="twin/_reply/operator/1",
                correlation=b"acl",
            )
            _, payload, _ = ops.wait_for(lambda m: m[0] == "twin/_reply/operator/1", timeout=20)
            assert json.loads(payload)["ok"]
            # the operator may not pose as a sensor: the broker refuses the reading
            info = ops.client.publish("plant/plant-1/header-a/PT-01", b"{}", qos=1)
            info.wait_for_publish(timeout=10)
            time.sleep(0.5)
            assert run.service.components[0].core.offset == 1200
        finally:
            run.close()
            ops.close()
