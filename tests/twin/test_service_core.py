"""The service's deterministic core: any batching, checkpoint and replay give the same
twin state and the same alert transitions (ids, revisions, payloads)."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from tests.twin.service_support import SENSORS, plant_readings, write_config
from tests.twin.test_twin import state_arrays
from twin.core import ComponentCore, GapError
from twin.statedir import StateDir

T0 = 1.9e9


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from models.config import load_config
    from twin.service import parse_service_settings
    from twin.state import Twin

    path = write_config(tmp_path_factory.mktemp("cfg"))
    cfg = load_config(path)
    first = Twin.from_config(cfg, seed=0, config_path=path)
    alerts = parse_service_settings(cfg.sections.get("service")).alerts

    def new_core():
        twin = Twin.from_config(cfg, seed=0, surrogate=first.model.surrogate)
        return ComponentCore(twin, alerts=alerts)

    readings = plant_readings(1500, t0=T0, stuck=(400, 520))
    index = {s: i for i, s in enumerate(SENSORS)}
    sensor = np.array([index[s] for s in readings["sensor"]], dtype=np.int32)
    return cfg, first.model.surrogate, new_core, readings, sensor


def rows(readings, sensor, a, b):
    return types.SimpleNamespace(
        start=a,
        stop=b,
        sensor_ids=SENSORS,
        sensor=sensor[a:b],
        time=readings["time"][a:b],
        value=readings["value"][a:b],
        quality=readings["quality"][a:b],
    )


def feed(core, readings, sensor, cuts, start=0, journal=()):
    n = readings["time"].size
    edges = [start, *sorted(c for c in set(cuts) if start < c < n), n]
    events = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        events += core.feed(rows(readings, sensor, a, b))
        for entry in journal:
            if entry["offset"] == b:
                events += core.apply(entry)
    return events


def test_any_batching_gives_the_same_state_and_alert_transitions(setup):
    cfg, sur, new_core, readings, sensor = setup
    ref = new_core()
    ref_events = feed(ref, readings, sensor, [])
    assert len(ref_events) >= 3
    rng = np.random.default_rng(5)
    n = readings["time"].size
    for _ in range(3):
        core = new_core()
        cuts = rng.integers(1, n, rng.integers(1, 40)).tolist()
        assert feed(core, readings, sensor, cuts) == ref_events
        assert state_arrays(core.twin) == state_arrays(ref.twin)
        assert core.book.state_dict() == ref.book.state_dict()


def test_a_restart_from_a_checkpoint_and_the_journal_replays_the_same_transitions(setup, tmp_path):
    cfg, sur, new_core, readings, sensor = setup
    n = readings["time"].size
    probe = new_core()
    events = feed(probe, readings, sensor, [2000])
    first = next(e for e in events if e["archive_offset"] <= 2000)
    ack = {"n": 1, "offset": 3000, "kind": "ack", "id": first["id"], "by": "op"}
    stream = {
        "n": 2,
        "offset": 4400,
        "kind": "condition",
        "condition": {
            "kind": "stale_stream",
            "subject": "stream",
            "active": True,
            "value": 700.0,
            "threshold": 600.0,
            "message": "quiet",
        },
    }
    journal = [ack, stream]
    # live run: checkpoint at 2000, acknowledgement at 3000, a wall-clock condition at 4400
    live = new_core()
    sd = StateDir(tmp_path, "plant-1", "header-a")
    live_events = feed(live, readings, sensor, [2000, 3000, 4400], journal=journal)
    # the checkpoint the crashed process left: state at 2000
    ck_core = new_core()
    feed(ck_core, {k: v[:2000] for k, v in readings.items()}, sensor[:2000], [])
    sd.write_checkpoint(ck_core)
    for e in journal:
        sd.append_journal(e)
    # restart: restore, pending journal, replay the archive from 2000
    from twin.state import Twin

    path = sd.list_checkpoints()[0]
    twin = Twin.restore(path, config=cfg, surrogate=sur)
    core = ComponentCore(twin, alerts=live.alerts)
    core.load_state_dict(json.loads((path / "core.json").read_text()))
    core.set_pending(sd.read_journal())
    assert core.offset == 2000
    replayed = core.feed(rows(readings, sensor, 0, n))  # rows below 2000 are skipped
    after = [e for e in live_events if e["archive_offset"] > 2000]
    assert replayed == after
    assert any(e["state"] == "acknowledged" or e["state"] == "closed" for e in replayed)
    assert any(e["kind"] == "stale_stream" for e in replayed)
    assert state_arrays(core.twin) == state_arrays(live.twin)
    assert core.book.state_dict() == live.book.state_dict()


def test_a_hole_in_the_rows_is_refused_and_old_rows_are_skipped(setup):
    cfg, sur, new_core, readings, sensor = setup
    core = new_core()
    core.feed(rows(readings, sensor, 0, 100))
    with pytest.raises(GapError, match=r"read rows \[100, 150\) from the archive"):
        core.feed(rows(readings, sensor, 150, 200))
    assert core.feed(rows(readings, sensor, 0, 100)) == [] and core.offset == 100
    core.feed(rows(readings, sensor, 50, 160))
    assert core.offset == 160 and core.twin.readings_seen == 160


def test_a_torn_journal_line_is_ignored_and_the_next_entry_starts_a_new_line(tmp_path):
    sd = StateDir(tmp_path, "s", "c")
    sd.append_journal({"n": 1, "offset": 5, "kind": "ack", "id": "a", "by": ""})
    with open(sd.journal_path, "ab") as fh:
        fh.write(b'{"n": 2, "off')  # a crash inside the write
    assert [e["n"] for e in sd.read_journal()] == [1]
    sd.append_journal({"n": 2, "offset": 6, "kind": "ack", "id": "b", "by": ""})
    assert [e["n"] for e in sd.read_journal()] == [1, 2]
