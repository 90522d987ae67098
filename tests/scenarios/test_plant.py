"""The virtual plant: duty draws, trips, readings against the FEM truth, true creep, real time.

The FEM truth is real (models.service.solve through SegmentLibrary); the scenarios put the
heat-transfer coefficient and the wall on library nodes (h = 1000 * 1.25**4, w = 25 * 2 mm)
with no fouling or oxidation, so three node runs (start-up, shut-down, trip of one kind)
serve every test of this module.
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from typing import Any

import numpy as np
import pytest

from models.config import load_config
from scenarios.plant import VirtualPlant
from scenarios.segments import SegmentLibrary
from scenarios.spec import DAY, YEAR, HistorianSpec, Scenario, TruthSpec
from twin.plan import parse_plan

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "examples" / "grade91_header.toml"
H_NODE = 1000.0 * 1.25**4
T0 = 1.8e9
NOISE = {"TC-outer-01": 0.5, "TC-steam-01": 0.5, "PT-01": 0.02e6, "SG-outer-01": 5e-6}
BIAS = {"TC-outer-01": 1.5, "PT-01": 0.05e6, "SG-outer-01": 30e-6}


def _plan(*, starts: Any, hold_h: Any, trips: float | None) -> Any:
    doc: dict[str, Any] = {
        "schema_version": 1,
        "name": "test",
        "startups": {
            "warm": {
                "starts_per_year": starts,
                "start_temperature_degC": 350.0,
                "start_pressure_MPa": 6.0,
                "ramp_rate_degC_per_min": 3.0,
                "hold_temperature_degC": 565.0,
                "hold_pressure_MPa": 17.0,
                "hold_h": hold_h,
                "shutdown_rate_degC_per_min": 2.0,
            }
        },
    }
    if trips is not None:
        doc["trips"] = {
            "per_year": {"distribution": "poisson", "mean": trips},
            "kind": "warm",
            "temperature_drop_degC": 120.0,
            "cooling_rate_degC_per_min": 15.0,
            "pressure_MPa": 4.0,
            "off_h": 1.0,
        }
    return parse_plan(doc)


def _scenario(duty: Any, *, duration: float, speed: float | None = None, seed: int = 5) -> Scenario:
    config = load_config(COMPONENT)
    return Scenario(
        name="test", description="", seed=seed, path=None, component_path=COMPONENT,
        config=config, start_time=T0, duration=duration, truth_horizon=duration, speed=speed,
        truth=TruthSpec(bore_htc=H_NODE, bore_htc_drift=0.0, wall_thickness=0.05,
                        oxidation_factor=0.0, creep_strength_factor=0.8,
                        bias=dict(BIAS), noise=dict(NOISE)),
        duty=duty,
        historian=HistorianSpec(60.0, 3600.0, {"temperature": 2.0, "pressure": 0.2e6,
                                               "strain": 20e-6}),
    )  # fmt: skip


class ListSink:
    """A sink that keeps the readings in memory (the plant's Sink protocol)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.readings = 0
        self.closed = False

    def write(self, time: np.ndarray, sensor: np.ndarray, value: np.ndarray) -> None:
        self.parts.append((np.asarray(time), np.asarray(sensor), np.asarray(value)))
        self.readings += len(time)

    def close(self) -> None:
        self.closed = True

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return tuple(np.concatenate([p[k] for p in self.parts]) for k in range(3))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> SegmentLibrary:
    return SegmentLibrary(load_config(COMPONENT), tmp_path_factory.mktemp("segments"))


@pytest.fixture(scope="module")
def tripping(library: SegmentLibrary) -> tuple[VirtualPlant, Any]:
    """Two years, about 12 long-hold starts a year and Poisson trips out of the holds."""
    duty = _plan(
        starts={"distribution": "normal", "mean": 12.0, "std": 3.0},
        hold_h={"distribution": "uniform", "low": 100.0, "high": 200.0},
        trips=6.0,
    )
    plant = VirtualPlant(_scenario(duty, duration=2 * YEAR), library, sink=ListSink())
    return plant, plant.run()


def test_starts_per_year_equal_the_draws(tripping: tuple[VirtualPlant, Any]) -> None:
    plant, res = tripping
    # hand re-draw in the documented order (scenarios._plant_duty): per year the count
    # (normal, rounded), then the holds, then the cycle order, then the trips
    rng = np.random.default_rng(plant.scenario.seed)
    kind = plant.scenario.duty.kind("warm")
    expect = []
    for _ in range(2):
        n = int(round(max(12.0 + 3.0 * rng.standard_normal(), 0.0)))
        kind.hold.sample(rng, (n,))
        rng.permutation(n)
        rng.random(int(rng.poisson(6.0)))
        expect.append(n)
    starts = [e for e in res.events if e["kind"] == "startup"]
    per_year = np.bincount([int((e["time"] - T0) // YEAR) for e in starts], minlength=2)
    assert list(per_year) == expect == [plant.schedule.starts[y]["warm"] for y in (0, 1)]
    assert res.starts == {"0": {"warm": int(per_year[0])}, "1": {"warm": int(per_year[1])}}


def test_trips_interrupt_holds_and_cost_hold_time(tripping: tuple[VirtualPlant, Any]) -> None:
    plant, res = tripping
    trips = [e for e in res.events if e["kind"] == "trip"]
    assert 3 <= len(trips) <= len(plant.schedule.trips)
    seg = plant.segment("trip", "warm")
    # each trip costs its hold the trip's duration (less when the hold ends first), and
    # the cycle keeps its schedule: shut-down at startup end + the drawn hold
    lost = [e["detail"]["hold_lost"] for e in trips]
    assert all(0.0 < x <= seg.duration + 1e-6 for x in lost)
    assert math.isclose(res.hold_lost, sum(lost))
    ev = res.events
    up = plant.segment("startup", "warm").duration
    holds = [c.hold for c in plant.schedule.cycles]
    starts = [e["time"] for e in ev if e["kind"] == "startup"]
    downs = [e["time"] for e in ev if e["kind"] == "shutdown"]
    for k, (a, b) in enumerate(zip(starts, downs, strict=False)):
        inside = [e for e in trips if a < e["time"] < b]
        tail = max((e["time"] + seg.duration for e in inside), default=0.0)
        assert math.isclose(b, max(a + up + holds[k], tail), abs_tol=1e-6)
    # a trip happens at its drawn time when that falls in a hold, else at the start of
    # the next hold (deferred)
    drawn = np.array(plant.schedule.trips)
    hold_starts = np.array(starts) + up
    at = np.array([e["time"] for e in trips])
    on_time = np.isclose(at[:, None], drawn[None, :], rtol=0, atol=1e-3).any(axis=1)
    delayed = np.isclose(at[:, None], hold_starts[None, :], rtol=0, atol=1e-3).any(axis=1)
    assert np.all(on_time | delayed) and on_time.sum() >= 1
    assert np.all(np.diff(at) > 0)
    # every trip drawn before the last hold's end happened (one drawn later finds no hold)
    assert at.size == int((drawn < downs[-1]).sum())


def test_true_creep_is_the_sum_over_holds(library: SegmentLibrary) -> None:
    # No trips: the creep fraction is (almost all) the holds at the settled hold state.
    # Hand sum (HBB-T-1411, Robinson): sum_i (hold_i + settle) / t_R(sigma_vm / f_c, T)
    # with models.life's Larson-Miller curve; the start-up's settle is at the hold too.
    from models.life import larson_miller

    duty = _plan(starts=8.0, hold_h={"distribution": "uniform", "low": 100.0, "high": 300.0},
                 trips=None)  # fmt: skip
    sc = _scenario(duty, duration=0.5 * YEAR)
    plant = VirtualPlant(sc, library, sink=None)
    res = plant.run()
    seg = plant.segment("startup", "warm")
    hot = library.history(seg, h=H_NODE, w=0.05).values
    lm = larson_miller("grade91")
    done = [
        c
        for c, e in zip(
            plant.schedule.cycles, [e for e in res.events if e["kind"] == "shutdown"], strict=False
        )
    ]
    for loc in ("bore", "outer"):
        sr, st, sz = (hot[f"{v}@{loc}"][-1] for v in ("sigma_r", "sigma_theta", "sigma_z"))
        vm = math.sqrt(0.5 * ((sr - st) ** 2 + (st - sz) ** 2 + (sz - sr) ** 2))
        t_r = float(lm.rupture_time(vm / 0.8, hot[f"temperature@{loc}"][-1]))
        hand = sum(c.hold + seg.settle for c in done) / t_r
        got = res.rows[-1][f"creep_{loc}"]
        assert got == pytest.approx(hand, rel=0.03), (loc, got, hand)


def test_readings_are_the_fem_truth_plus_bias_within_noise(library: SegmentLibrary) -> None:
    duty = _plan(starts=300.0, hold_h=10.0, trips=None)
    sink = ListSink()
    plant = VirtualPlant(_scenario(duty, duration=3 * DAY), library, sink=sink)
    res = plant.run(progress=None)
    assert sink.closed and sink.readings == res.readings > 0
    t, s, v = sink.arrays()
    for what in ("startup", "shutdown"):
        seg = plant.segment(what, "warm", "warm" if what == "shutdown" else "")
        truth = library.history(seg, h=H_NODE, w=0.05)  # independent: the library directly
        done = [
            e for e in res.events if e["kind"] == what and e["time"] + seg.duration < res.record_end
        ]
        assert len(done) >= 2
        for e in done:
            a = e["time"]
            for sid, key in plant.keys.items():
                m = (s == sid) & (t >= a) & (t < a + seg.duration)
                x = np.interp(t[m], a + truth.time, truth.values[key])
                r = (v[m] - x - BIAS.get(sid, 0.0)) / NOISE[sid]
                assert r.size >= 100  # every scan of the transient is kept
                assert abs(r.mean()) < 4.0 / math.sqrt(r.size), (what, sid)
                assert 0.8 < r.std() < 1.2, (what, sid)


def test_result_files(library: SegmentLibrary, tmp_path: pathlib.Path) -> None:
    import xarray as xr

    duty = _plan(starts=300.0, hold_h=10.0, trips=None)
    plant = VirtualPlant(_scenario(duty, duration=2 * DAY), library, sink=None)
    res = plant.run()
    res.write(tmp_path)
    doc = json.loads((tmp_path / "truth.json").read_text())
    assert doc["parameters"]["bias.TC-outer-01"] == 1.5
    assert doc["end_of_life"] is None and doc["readings"] == res.readings
    assert doc["readings_per_year"] == pytest.approx(res.readings / (2 * DAY / YEAR))
    ds = xr.open_dataset(tmp_path / "truth.nc")
    assert {"bore_htc", "wall_thickness", "creep_bore", "fatigue_outer", "margin"} <= set(ds)
    assert np.all(np.diff(ds["time"].values) > 0)


def test_realtime_run_at_3600x(library: SegmentLibrary) -> None:
    # 2 h of plant at 3600 x real time: about 2 s of wall time (SimPy real time).
    duty = _plan(starts=300.0, hold_h=10.0, trips=None)
    sink = ListSink()
    plant = VirtualPlant(_scenario(duty, duration=7200.0, speed=3600.0), library, sink=sink)
    plant.prepare()
    t0 = time.perf_counter()
    res = plant.run()
    took = time.perf_counter() - t0
    assert 1.8 < res.record_wall_seconds < 3.0, res.record_wall_seconds
    assert took < 4.0
    # the readings reached the sink as plant time passed, in order
    t, _, _ = sink.arrays()
    assert t.max() < T0 + 7200.0 and len(sink.parts) > 4


def test_a_trip_command_from_another_thread_interrupts_the_hold(library: SegmentLibrary) -> None:
    # A command put on the queue (as an MQTT callback would) while the plant holds: the
    # polling process trips the plant; the environment is never touched from the thread.
    import threading

    duty = _plan(starts=300.0, hold_h=10.0, trips=None)
    sc = _scenario(duty, duration=8 * 3600.0, speed=36_000.0)
    plant = VirtualPlant(sc, library, sink=ListSink())
    plant.prepare()
    up = plant.segment("startup", "warm").duration
    timer = threading.Timer(
        (up + 1800.0) / 36_000.0 + 0.1, plant.commands.put, [{"action": "trip"}]
    )
    timer.start()
    res = plant.run()
    timer.join()
    trips = [e for e in res.events if e["kind"] == "trip"]
    assert len(trips) == 1 and trips[0]["detail"]["source"] == "command"
    assert T0 + up < trips[0]["time"] < T0 + up + 10 * 3600.0
