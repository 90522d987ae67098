"""Exactly once across crashes: SIGKILLs of ``twin serve`` and a broker restart, on Mosquitto.

The reference is an uninterrupted run: one ``Twin.update`` over the published readings
(the twin is a deterministic function of the readings' order, docs/twin.md) and one
``ComponentCore.feed`` for the alerts. The service, killed at seeded random moments and
restarted from its checkpoints and archive, must end bitwise equal to it, with every
alert transition published under the same (id, revision) and payload.
"""

from __future__ import annotations

import threading
import time
import types

import numpy as np
import pytest

from tests.twin.service_support import (
    SENSORS,
    Client,
    ServeProcess,
    as_received,
    payloads,
    plant_readings,
    publish_all,
    wait_online,
    write_config,
)
from tests.twin.test_twin import state_arrays

pytestmark = [pytest.mark.requires_broker, pytest.mark.slow]

SERVICE = "[service.alerts]\nstale_after_s = 100000.0\n"
TOPIC = "twin/plant-1/header-a"


def reference(cfg_path, readings):
    from models.config import load_config
    from twin.core import ComponentCore
    from twin.service import parse_service_settings
    from twin.state import Twin

    cfg = load_config(cfg_path)
    readings = as_received(readings)
    twin = Twin.from_config(cfg, seed=0, config_path=cfg_path)
    twin.update(
        {k: readings[k] for k in ("time", "sensor", "value", "quality")},
        archive_offset=readings["time"].size,
    )
    core = ComponentCore(
        Twin.from_config(cfg, seed=0, config_path=cfg_path),
        alerts=parse_service_settings(cfg.sections.get("service")).alerts,
    )
    index = {s: i for i, s in enumerate(SENSORS)}
    rows = types.SimpleNamespace(
        start=0,
        stop=readings["time"].size,
        sensor_ids=SENSORS,
        sensor=np.array([index[s] for s in readings["sensor"]]),
        time=readings["time"],
        value=readings["value"],
        quality=readings["quality"],
    )
    events = core.feed(rows)
    return twin, core, events


def serve_args(cfg, broker, tmp_path):
    return [
        str(cfg),
        "--broker",
        broker.url,
        "--archive",
        str(tmp_path / "archive"),
        "--state",
        str(tmp_path / "state"),
        "--checkpoint-interval",
        "0.5",
        "--flush-interval",
        "0.05",
        "--publish-interval",
        "0.2",
    ]


def wait_state(mon, offset, timeout=120.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = mon.json_on(f"{TOPIC}/state")
        if states and states[-1]["archive_offset"] >= offset:
            return states[-1]
        if proc is not None and not proc.alive():
            raise RuntimeError(proc.text()[-3000:])
        time.sleep(0.1)
    raise TimeoutError(f"state never reached offset {offset}: {states[-1] if states else None}")


def newest_twin(tmp_path):
    from models.config import load_config
    from twin.state import Twin

    folder = tmp_path / "state" / "plant-1" / "header-a" / "checkpoints"
    newest = sorted(p for p in folder.iterdir() if not p.name.startswith("."))[-1]
    return Twin.restore(newest, config=load_config(tmp_path / "header-a.toml")), newest


def check_alerts(mon, events):
    got: dict[tuple[str, int], dict] = {}
    for msg in mon.json_on(f"{TOPIC}/alert"):
        key = (msg["id"], msg["revision"])
        # a re-sent transition is the same message: never a new alert
        assert got.setdefault(key, msg) == msg, key
    want = {(e["id"], e["revision"]): e for e in events}
    assert set(got) == set(want)
    for key, msg in want.items():
        assert got[key] == msg, key


@pytest.fixture
def serve_processes():
    started = []

    def start(args, log):
        proc = ServeProcess(args, log).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.alive():
            proc.kill(9)


def test_sigkill_at_seeded_moments_ends_bitwise_equal_to_an_uninterrupted_run(
    mosquitto, tmp_path, serve_processes
):
    from sensors.reader import ArchiveReader

    cfg = write_config(tmp_path, service=SERVICE)
    readings = plant_readings(1500, t0=time.time() - 3 * 3600, stuck=(400, 520))
    n = readings["time"].size
    msgs = payloads(readings)
    mon = Client(mosquitto.url, f"{TOPIC}/#")
    chunks = [msgs[i : i + 300] for i in range(0, n, 300)]

    def publish():
        for part in chunks:
            publish_all(mosquitto.url, part)
            time.sleep(0.8)

    publisher = threading.Thread(target=publish)
    rng = np.random.default_rng(20261201)
    kills = []
    args = serve_args(cfg, mosquitto, tmp_path)
    for k in range(6):
        started = time.time()
        proc = serve_processes(args, tmp_path / f"serve-{k}.log")
        wait_online(mon, f"{TOPIC}/status", after=started, proc=proc)
        if k == 0:  # the ingester's persistent session exists from now on
            publisher.start()
        delay = float(rng.uniform(0.2, 2.5))
        time.sleep(delay)
        proc.kill(9)
        kills.append(round(delay, 2))
        print(f"kill {k + 1}: SIGKILL {delay:.2f} s after online")
    publisher.join()
    started = time.time()
    proc = serve_processes(args, tmp_path / "serve-final.log")
    wait_online(mon, f"{TOPIC}/status", after=started, proc=proc)
    state = wait_state(mon, n, proc=proc)
    proc.kill(15)  # clean stop: final checkpoint, offline status
    assert proc.proc.exitcode == 0, proc.text()[-2000:]
    assert mon.json_on(f"{TOPIC}/status")[-1]["status"] == "offline"

    rows = ArchiveReader(tmp_path / "archive" / "plant-1" / "header-a.zarr").read(0)
    assert len(rows) == n  # nothing lost, nothing twice
    got = set(zip(rows.sensor_id.tolist(), rows.sequence.tolist(), strict=True))
    assert got == set(zip(readings["sensor"].tolist(), readings["sequence"].tolist(), strict=True))
    assert state["readings"] == n and state["late_readings"] == 0

    ref_twin, ref_core, events = reference(cfg, readings)
    twin, where = newest_twin(tmp_path)
    assert twin.archive_offset == n, where
    assert state_arrays(twin) == state_arrays(ref_twin), f"kills at {kills}"
    assert len(events) >= 3  # the stuck thermocouple and others: something to check
    check_alerts(mon, events)
    mon.close()


def test_a_broker_restart_mid_stream_loses_nothing(mosquitto, tmp_path, serve_processes):
    from sensors.reader import ArchiveReader

    cfg = write_config(tmp_path, service=SERVICE)
    readings = plant_readings(900, t0=time.time() - 3 * 3600, seed=3)
    n = readings["time"].size
    msgs = payloads(readings)
    mon = Client(mosquitto.url, f"{TOPIC}/#")
    started = time.time()
    proc = serve_processes(serve_args(cfg, mosquitto, tmp_path), tmp_path / "serve.log")
    wait_online(mon, f"{TOPIC}/status", after=started, proc=proc)
    publish_all(mosquitto.url, msgs[: n // 2])
    mosquitto.restart()  # persistence on: the ingester's session and queue survive
    publish_all(mosquitto.url, msgs[n // 2 :])
    state = wait_state(mon, n, proc=proc)
    statuses = mon.json_on(f"{TOPIC}/status")
    assert any(s["reason"] == "reconnected" for s in statuses)  # reported in the status
    proc.kill(15)
    assert proc.proc.exitcode == 0, proc.text()[-2000:]
    rows = ArchiveReader(tmp_path / "archive" / "plant-1" / "header-a.zarr").read(0)
    assert len(rows) == n
    assert state["readings"] == n
    ref_twin, _, _ = reference(cfg, readings)
    twin, _ = newest_twin(tmp_path)
    assert state_arrays(twin) == state_arrays(ref_twin)
    mon.close()
