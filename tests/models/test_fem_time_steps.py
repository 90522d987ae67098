"""Time steps of the service model: long steps, and a grid that follows the load history."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import numpy as np
import pytest

from models.config import load_config

EXAMPLE = "examples/grade91_header.toml"


def test_a_one_hour_step_solves_and_stays_between_the_fluid_and_metal_temperatures() -> None:
    # With solver.time_step_s = 3600 the Picard predictor (a linear extrapolation in
    # time) overshot to 761 degC, outside the Grade 91 tables, although the fluid never
    # exceeds 565 degC. Without heat sources the temperature stays between the initial
    # 150 degC and the 565 degC of the fluid (maximum principle); after a six-hour hold
    # the insulated wall is isothermal and carries the closed-end Lame stresses
    # (Timoshenko & Goodier, Theory of Elasticity, ch. 4).
    from models.service import solve

    base = load_config(EXAMPLE)
    cfg = base.with_loads(
        time=[0.0, 7200.0, 8 * 3600.0],
        fluid_temperature=[423.15, 838.15, 838.15],
        pressure=[1e6, 17e6, 17e6],
    ).with_overrides({"solver.time_step_s": 3600.0})
    ds = solve(cfg, fields=False)
    assert ds.sizes["time"] == 9
    T = ds["temperature"].values
    assert T.min() >= 423.15 - 1e-6 and T.max() <= 838.15 + 1e-6
    end = ds.isel(time=-1)
    a, b = cfg.geometry.inner_radius, cfg.geometry.outer_radius
    p = 17e6
    k = a * a / (b * b - a * a)
    assert float(end["temperature"].sel(location="outer")) == pytest.approx(838.15, abs=0.05)
    assert float(end["sigma_theta"].sel(location="bore")) == pytest.approx(
        p * k * (1 + b * b / a**2), rel=5e-3
    )
    assert float(end["sigma_theta"].sel(location="outer")) == pytest.approx(2 * p * k, rel=5e-3)


def test_the_picard_predictor_is_clipped_to_the_reachable_range() -> None:
    from models.geometry import create_wall_mesh
    from models.materials import get_material
    from models.thermal import ThermalSolver

    wall = create_wall_mesh(
        inner_radius=0.15, outer_radius=0.2, length=0.01, radial_cells=4, axial_cells=1
    )
    th = ThermalSolver(
        wall,
        material=get_material("grade91"),
        degree=1,
        bore_htc=2000.0,
        outer_htc=10.0,
        ambient_temperature=293.15,
        initial_temperature=500.0,
    )
    th.T_f.value = 800.0
    lo, hi = th.reachable_range(np.array([450.0, 700.0]))
    # ambient 20 degC (convective outer surface) to fluid 800 K, metal in between
    assert (lo, hi) == (293.15, 800.0)


def test_the_adaptive_step_follows_the_load_history_and_matches_the_fine_uniform_grid() -> None:
    # A two-hour start-up and a 20-hour hold: the fine uniform grid (54 s, 1,467 steps)
    # is the reference; the adaptive grid (54 s in the ramp, growing to 1 h in the hold,
    # tolerance 1 K of nodal temperature change per step) must follow it within 0.5 %
    # of each history's range with a fraction of the steps.
    from models.service import solve

    base = load_config(EXAMPLE).with_overrides({"mesh.radial_cells": 20})
    hour = 3600.0
    cfg = base.with_loads(
        time=[0.0, 2 * hour, 22 * hour],
        fluid_temperature=[423.15, 838.15, 838.15],
        pressure=[1e6, 17e6, 17e6],
    )
    fine = solve(cfg, fields=False)
    adaptive_cfg = cfg.with_overrides(
        {"solver.max_time_step_s": hour, "solver.max_temperature_change_K": 1.0}
    )
    ds = solve(adaptive_cfg, fields=False)
    t = ds["time"].values
    assert fine.sizes["time"] == 1468
    assert ds.sizes["time"] < 0.15 * fine.sizes["time"]
    assert 2 * hour in t and t[-1] == pytest.approx(22 * hour)
    steps = np.diff(t)
    # (a step before a special time may be split in two halves, no sliver)
    assert steps.min() >= 27.0 * (1 - 1e-9) and steps.max() <= hour * (1 + 1e-9)
    assert np.all(steps[t[1:] <= 2 * hour] <= 54.0 * (1 + 1e-9))  # the ramp keeps the step
    for var in ("temperature", "sigma_theta", "sigma_vm"):
        for loc in ("bore", "outer"):
            ref = fine[var].sel(location=loc).values
            on_grid = np.interp(t, fine["time"].values, ref)
            error = np.max(np.abs(ds[var].sel(location=loc).values - on_grid)) / np.ptp(ref)
            assert error < 5e-3, (var, loc, error)


def test_the_adaptive_stepper_hits_corners_and_targets_and_restarts_at_corners() -> None:
    from models.stepping import AdaptiveStepper

    stepper = AdaptiveStepper(
        duration=100.0, min_step=1.0, max_step=16.0, tolerance=1.0, corners=[40.0], targets=[57.0]
    )
    t, change, grid = 0.0, None, [0.0]
    while t < 100.0:
        t = stepper.next_time(t, change)
        grid.append(t)
        change = 0.0  # a settled wall: the step doubles
    steps = np.diff(grid)
    assert 40.0 in grid and 57.0 in grid and grid[-1] == 100.0
    assert steps[0] == 1.0 and steps.max() <= 16.0
    assert steps[grid.index(40.0)] == 1.0  # restart at the corner
    # a change above the tolerance shrinks the step, never below the smallest step
    stepper = AdaptiveStepper(duration=100.0, min_step=1.0, max_step=16.0, tolerance=1.0)
    t = stepper.next_time(0.0, None)
    t = stepper.next_time(t, 0.0)
    assert stepper.dt == 2.0
    stepper.next_time(t, 3.6)  # 2 s * 0.9 * 1 K / 3.6 K = 0.5 s -> clipped to 1 s
    assert stepper.dt == 1.0
