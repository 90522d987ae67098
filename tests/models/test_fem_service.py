"""The FEM service model: dataset contract, temperature-dependent physics, bad input."""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import numpy as np
import pytest

from models.config import parse_config
from models.errors import ConfigError, SolverDivergedError

A, B = 0.15, 0.19


def _raw(**loads):
    return {
        "component": {"name": "test-header", "material": "grade91"},
        "geometry": {"inner_radius_m": A, "outer_radius_m": B, "length_m": 0.01},
        "mesh": {"radial_cells": 20, "axial_cells": 1, "degree": 2},
        "thermal": {
            "bore_htc_W_m2K": 3000.0,
            "outer": "insulated",
            "initial_temperature_degC": 150.0,
        },
        "mechanical": {"end_condition": "closed", "reference_temperature_degC": 20.0},
        "loads": loads
        or {
            "time_h": [0.0, 1.0, 2.5],
            "fluid_temperature_degC": [150.0, 550.0, 550.0],
            "pressure_MPa": [1.0, 16.0, 16.0],
        },
        "solver": {"time_step_s": 60.0},
        "output": {
            "field_times_h": [0.5, 2.5],
            "extra_locations": [{"name": "r170", "radius_m": 0.17}],
        },
        "sensors": [{"id": "TC-1", "quantity": "temperature", "location": "outer"}],
    }


@pytest.fixture(scope="session")
def header_run():
    from models.service import solve

    cfg = parse_config(_raw())
    return cfg, solve(cfg)


def test_dataset_follows_the_service_contract(header_run) -> None:
    cfg, ds = header_run
    assert list(ds["location"].values) == ["bore", "mid_wall", "outer", "r170", "TC-1"]
    np.testing.assert_allclose(ds["radius"].values, [A, 0.17, B, 0.17, B])
    assert ds["time"].values[0] == 0.0 and ds["time"].values[-1] == pytest.approx(2.5 * 3600)
    for name, unit in [
        ("temperature", "K"),
        ("sigma_theta", "Pa"),
        ("sigma_vm", "Pa"),
        ("eps_theta", "1"),
        ("eps_th", "1"),
        ("fluid_temperature", "K"),
        ("pressure", "Pa"),
    ]:
        assert ds[name].attrs["units"] == unit
        assert np.all(np.isfinite(ds[name].values))
    assert ds["time"].attrs["units"] == "s" and ds["r"].attrs["units"] == "m"
    assert ds.attrs["config_hash"] == cfg.config_hash and ds.attrs["complete"] == 1
    np.testing.assert_allclose(ds["time_field"].values, [1800.0, 9000.0])
    # the radial profile at a field time is the history at that time (same field)
    for k, tf in enumerate(ds["time_field"].values):
        hist = ds["sigma_theta"].sel(time=tf, location="bore")
        prof = ds["sigma_theta_profile"].isel(time_field=k, r=0)
        assert float(prof) == pytest.approx(float(hist), rel=1e-10)
    # sensor TC-1 sits at the outer surface
    np.testing.assert_allclose(
        ds["temperature"].sel(location="TC-1"), ds["temperature"].sel(location="outer")
    )


def test_long_hold_reaches_lame_stresses_with_temperature_dependent_properties(header_run) -> None:
    # After 1.5 h of hold the wall is isothermal at T_f (insulated outer surface): the
    # stresses are those of the closed-end Lame cylinder, whatever E(T), nu(T), alpha(T).
    # Reference: Timoshenko & Goodier, Theory of Elasticity, ch. 4 (thick cylinder).
    _, ds = header_run
    end = ds.isel(time=-1)
    p = float(end["pressure"])
    assert float(end["temperature"].sel(location="outer")) == pytest.approx(823.15, abs=0.01)
    k = A * A / (B * B - A * A)
    hoop = {"bore": p * k * (1 + B * B / A**2), "outer": 2 * p * k}
    for loc, ref in hoop.items():
        assert float(end["sigma_theta"].sel(location=loc)) == pytest.approx(ref, rel=5e-3)
        assert float(end["sigma_z"].sel(location=loc)) == pytest.approx(p * k, rel=5e-3)
    assert float(end["sigma_r"].sel(location="bore")) == pytest.approx(-p, rel=5e-3)


def test_heat_up_puts_the_bore_in_hoop_compression_and_the_outer_in_tension(header_run) -> None:
    # Quasi-steady heating ramp: the hotter bore is compressed, the cooler outer surface
    # stretched (Timoshenko & Goodier ch. 13 sign pattern), with the pressure added.
    _, ds = header_run
    t = ds.sel(time=1800.0)
    assert float(t["temperature"].sel(location="bore")) > float(
        t["temperature"].sel(location="outer")
    )
    p = float(t["pressure"])
    k = A * A / (B * B - A * A)
    lame_bore = p * k * (1 + B * B / A**2)
    assert float(t["sigma_theta"].sel(location="bore")) < lame_bore - 5e6
    assert float(t["sigma_theta"].sel(location="outer")) > 2 * p * k + 5e6


def test_steady_conduction_with_temperature_dependent_conductivity_matches_kirchhoff() -> None:
    # Kirchhoff transform: for steady radial conduction with k(T),
    # int_{T(r)}^{T_i} k dT / int_{T_o}^{T_i} k dT = ln(r/a) / ln(b/a)
    # (Carslaw & Jaeger, Conduction of Heat in Solids, ch. I and VII). Near-Dirichlet
    # surfaces by a very large h.
    from models.geometry import create_wall_mesh
    from models.materials import get_material
    from models.thermal import ThermalSolver

    mat = get_material("grade91")
    Ti, To = 850.0, 320.0
    wall = create_wall_mesh(
        inner_radius=A, outer_radius=B, length=0.01, radial_cells=24, axial_cells=1
    )
    th = ThermalSolver(
        wall,
        material=mat,
        degree=2,
        bore_htc=1e9,
        outer_htc=1e9,
        ambient_temperature=To,
        initial_temperature=To,
    )
    iterations = th.step(1e15, Ti)
    assert 2 <= iterations < 30  # genuinely nonlinear
    pts = wall.locate(np.linspace(A, B, 9))
    T = th.T.eval(pts.x, pts.cells).ravel()
    # k is piecewise linear: the trapezoid rule on a dense grid is exact to ~1e-9
    s = np.linspace(To, Ti, 200_001)
    ks = mat.k(s)
    K = np.concatenate([[0.0], np.cumsum(0.5 * (ks[1:] + ks[:-1]) * np.diff(s))])
    total = K[-1]
    for r, Tr in zip(pts.radius, T, strict=True):
        frac = (total - np.interp(Tr, s, K)) / total
        assert frac == pytest.approx(math.log(r / A) / math.log(B / A), abs=2e-4)


def test_time_grid_hits_field_times_without_extra_steps() -> None:
    from models.service import time_grid

    grid = time_grid(10800.0, 54.0, [3600.0, 7200.0, 10800.0])
    assert grid.size == 201
    assert 3600.0 in grid and 7200.0 in grid
    assert np.all(np.diff(grid) > 0) and np.max(np.diff(grid)) <= 54.0 * 1.5


def test_solver_failure_reports_step_time_residual_and_keeps_partial_results() -> None:
    from models.service import solve

    # hold for 30 min (uniform temperature: one Picard iteration per step), then a ramp
    # that needs more Picard iterations than allowed
    raw = _raw(
        time_h=[0.0, 0.5, 1.0],
        fluid_temperature_degC=[150.0, 150.0, 500.0],
        pressure_MPa=[1.0, 1.0, 1.0],
    )
    raw["output"] = {}
    cfg = parse_config(raw)
    with pytest.raises(SolverDivergedError) as info:
        solve(cfg, fields=False, max_picard_iterations=1)
    err = info.value
    assert err.step == 31 and err.time == pytest.approx(1860.0)
    assert err.residual > 0 and "step 31" in str(err) and "t = 1860" in str(err)
    partial = err.partial
    assert partial.sizes["time"] == 31 and partial.attrs["complete"] == 0
    np.testing.assert_allclose(partial["temperature"].values, 423.15, atol=1e-6)


def test_bad_geometry_and_points_are_rejected_with_the_value() -> None:
    from models.geometry import create_wall_mesh

    with pytest.raises(ConfigError, match="0.2 m and 0.1 m"):
        create_wall_mesh(
            inner_radius=0.2, outer_radius=0.1, length=0.01, radial_cells=4, axial_cells=1
        )
    wall = create_wall_mesh(
        inner_radius=A, outer_radius=B, length=0.01, radial_cells=4, axial_cells=1
    )
    with pytest.raises(ConfigError, match="0.25 m lies outside the wall"):
        wall.locate([0.25])


def test_a_constitutive_law_with_inelastic_strain_plugs_in_without_changing_callers() -> None:
    # A uniform isotropic eigenstrain e0 in an unconstrained (open-end) cylinder is
    # compatible: it produces no stress and total strains equal to e0 (Mura,
    # Micromechanics of Defects in Solids, ch. 1). This is the hook a creep law uses.
    import ufl

    from models.geometry import create_wall_mesh
    from models.materials import Material
    from models.mechanical import MechanicalSolver, ThermoElastic
    from models.thermal import ThermalSolver

    e0 = 1.5e-3
    seen = {}

    class Eigenstrain(ThermoElastic):
        def __init__(self, E, nu):
            super().__init__(E, nu)
            self.inelastic_strain = ufl.as_vector([e0, e0, e0, 0.0])

        def update(self, dt, *, stress, temperature):
            seen["dt"] = dt
            seen["stress_rank"] = len(stress)

    mat = Material.constant(E=200e9, nu=0.3, alpha=1.2e-5, k=25.0, rho=7800.0, cp=500.0)
    wall = create_wall_mesh(
        inner_radius=A, outer_radius=B, length=0.01, radial_cells=8, axial_cells=1
    )
    th = ThermalSolver(wall, material=mat, degree=2, bore_htc=0.0, initial_temperature=300.0)
    me = MechanicalSolver(
        wall,
        temperature=th.T,
        material=mat,
        degree=2,
        reference_temperature=300.0,
        end_condition="open",
        constitutive=Eigenstrain,
    )
    eps_z = me.solve(0.0)
    me.update(10.0)
    pts = wall.locate([A, 0.17, B])
    out = me.compute_outputs().eval(pts.x, pts.cells)
    assert eps_z == pytest.approx(e0, rel=1e-8)
    np.testing.assert_allclose(out[:, :4], 0.0, atol=1e-6 * 200e9 * e0)
    np.testing.assert_allclose(out[:, 4:7], e0, rtol=1e-8)
    assert seen == {"dt": 10.0, "stress_rank": 4}
