"""The segment truth library: paths, bilinear (log h, w) interpolation, cache, bad input."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest

from scenarios.errors import ScenarioInputError
from scenarios.segments import (
    Segment,
    SegmentLibrary,
    dip_segment,
    shutdown_segment,
    startup_segment,
    trip_segment,
)
from scenarios.spec import LoadFollowing

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def config():
    from models.config import load_config

    return load_config(EXAMPLES / "grade91_header.toml")


@pytest.fixture(scope="module")
def plan():
    from twin.plan import load_plan

    return load_plan(EXAMPLES / "grade91_header.plan.toml")


@pytest.fixture(scope="module")
def library(config, tmp_path_factory):
    return SegmentLibrary(config, tmp_path_factory.mktemp("segments"))


def _kind(plan, name):
    return next(k for k in plan.startups if k.name == name)


def test_paths_follow_the_plan_rates(plan) -> None:
    warm = _kind(plan, "warm")
    up = startup_segment(warm)
    assert up.time[-1] == pytest.approx(
        (warm.hold_temperature - warm.start_temperature) / warm.ramp_rate
    )
    assert up.duration == pytest.approx(up.time[-1] + 5400.0)
    down = shutdown_segment(warm, to_temperature=400.0, to_pressure=2.0e6)
    assert down.time[-1] == pytest.approx((warm.hold_temperature - 400.0) / warm.shutdown_rate)
    assert down.fluid_temperature == (warm.hold_temperature, 400.0)
    tr = plan.trips
    trip = trip_segment(warm, tr)
    drop = tr.temperature_drop
    steps = np.diff(trip.time)
    assert steps == pytest.approx([drop / tr.cooling_rate, tr.off, drop / warm.ramp_rate])
    assert trip.pressure == (warm.hold_pressure, tr.pressure, tr.pressure, warm.hold_pressure)
    lf = LoadFollowing(per_hold_day=1.0, drop=25.0, rate=1.0 / 60.0, low=3 * 3600.0, pressure=14e6)
    dip = dip_segment(warm, lf)
    assert np.diff(dip.time) == pytest.approx([1500.0, 3 * 3600.0, 1500.0])
    assert min(dip.fluid_temperature) == pytest.approx(warm.hold_temperature - 25.0)


def test_interpolation_matches_a_direct_fem_run_off_node(config, plan, library) -> None:
    """Bilinear in (log h, w) between 4 nodes against the FEM run at that (h, w) itself.

    Reference: a direct models.service.solve of the same path at the off-node point
    (config overrides built here, independently of the library). Measured on the trip
    segment halfway between nodes in log h and in w: metal temperature within 0.09 K,
    every stress component within 0.1 % of its range over the segment (bound asserted:
    0.25 K and 0.5 %).
    """
    import dolfinx_solver  # noqa: F401  (must precede dolfinx)

    from models.service import solve

    seg = trip_segment(_kind(plan, "warm"), plan.trips)
    h = 1000.0 * 1.25**4.5  # halfway between nodes 4 and 5 in the log
    w = 0.047  # halfway between the wall nodes 0.046 and 0.048
    truth = library.history(seg, h=h, w=w)
    assert library.runs == 4
    loads = seg.loads()
    direct = solve(
        config.with_overrides(
            {
                "loads.time_h": loads["time_h"],
                "loads.fluid_temperature_degC": loads["fluid_temperature_degC"],
                "loads.pressure_MPa": loads["pressure_MPa"],
                "thermal.bore_htc_W_m2K": h,
                "thermal.initial_temperature_degC": loads["fluid_temperature_degC"][0],
                "geometry.wall_thickness_m": w,
                "solver.time_step_s": 60.0,
                "output.field_times_h": [loads["time_h"][-1]],
            }
        ),
        fields=False,
    )
    np.testing.assert_allclose(truth.time, direct["time"].values, rtol=0, atol=1e-6)
    assert truth.time[-1] == pytest.approx(seg.duration)
    for loc in ("bore", "mid_wall", "outer"):
        d = direct["temperature"].sel(location=loc).values
        assert np.max(np.abs(truth.values[f"temperature@{loc}"] - d)) < 0.25
        for var in ("sigma_r", "sigma_theta", "sigma_z", "eps_theta"):
            d = direct[var].sel(location=loc).values
            err = np.max(np.abs(truth.values[f"{var}@{loc}"] - d))
            assert err < 0.005 * np.ptp(d), (var, loc, err, np.ptp(d))
    np.testing.assert_allclose(
        truth.values["fluid_temperature"], direct["fluid_temperature"].values
    )
    np.testing.assert_allclose(truth.values["pressure"], direct["pressure"].values)
    # the trip's hoop stress swing at the bore is large (a cold shock): the test has teeth
    assert np.ptp(truth.values["sigma_theta@bore"]) > 50e6


def test_cache_and_on_node_requests(config, plan, library) -> None:
    seg = trip_segment(_kind(plan, "warm"), plan.trips)
    again = SegmentLibrary(config, library.cache)
    stats = again.prepare([(seg, 1000.0 * 1.25**4.5, 0.047)])
    assert stats["runs"] == 0 and stats["cached"] == 4
    a = again.history(seg, h=1000.0 * 1.25**4, w=0.046)  # a node: only that run
    b = library.history(seg, h=1000.0 * 1.25**4, w=0.046)
    assert again.runs == 0
    for key in a.values:
        np.testing.assert_array_equal(a.values[key], b.values[key])


def test_a_shutdown_ends_settled(plan, library) -> None:
    """After the settling time the metal is within 0.5 K of the fluid (insulated outer)."""
    warm = _kind(plan, "warm")
    seg = shutdown_segment(
        warm, to_temperature=warm.start_temperature, to_pressure=warm.start_pressure
    )
    truth = library.history(seg, h=1000.0 * 1.25**4, w=0.046)
    fluid = truth.values["fluid_temperature"][-1]
    assert fluid == pytest.approx(warm.start_temperature)
    for loc in ("bore", "mid_wall", "outer"):
        assert abs(truth.values[f"temperature@{loc}"][-1] - fluid) < 0.5
    # and it did move: the bore saw the whole fall
    assert truth.values["temperature@outer"][0] == pytest.approx(warm.hold_temperature, abs=0.5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time": (0.0, 100.0, 100.0)}, "time[2]"),
        ({"time": (0.0, 50.0, 20.0)}, "time[2]"),
        ({"time": (5.0, 50.0, 100.0)}, "time[0]"),
        ({"settle": -1.0}, "settle"),
        ({"fluid_temperature": (800.0, math.nan, 800.0)}, "fluid_temperature[1]"),
    ],
)
def test_bad_segments_are_refused(kwargs, field) -> None:
    base = {"name": "x", "time": (0.0, 50.0, 100.0), "fluid_temperature": (800.0, 700.0, 800.0),
            "pressure": (1e7, 1e7, 1e7)}  # fmt: skip
    base.update(kwargs)
    with pytest.raises(ScenarioInputError, match=field.replace("[", r"\[")):
        Segment(**base)


@pytest.mark.parametrize(
    ("h", "w", "field", "value"),
    [
        (-1.0, 0.046, "h", "-1.0"),
        (0.0, 0.046, "h", "0.0"),
        (math.inf, 0.046, "h", "inf"),
        (2500.0, math.nan, "w", "nan"),
        (2500.0, math.inf, "w", "inf"),
        (2500.0, -0.01, "w", "-0.01"),
    ],
)
def test_bad_h_or_wall_is_refused(plan, library, h, w, field, value) -> None:
    seg = startup_segment(_kind(plan, "warm"))
    with pytest.raises(ScenarioInputError, match=rf"^{field}: .*{value}"):
        library.history(seg, h=h, w=w)
