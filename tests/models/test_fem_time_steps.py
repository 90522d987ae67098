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
