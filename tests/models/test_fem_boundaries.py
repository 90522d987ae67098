"""Boundary conditions and outputs: prescribed surface temperatures, steady solve, displacement."""

from __future__ import annotations

import math
import pathlib

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import numpy as np
import pytest

from models.config import parse_config
from models.errors import ConfigError

A, B = 0.15, 0.19


def _raw(thermal: dict, loads: dict | None = None, **solver: object) -> dict:
    return {
        "component": {"name": "bc-test", "material": "grade91"},
        "geometry": {"inner_radius_m": A, "outer_radius_m": B, "length_m": 0.01},
        "mesh": {"radial_cells": 16, "axial_cells": 1, "degree": 2},
        "thermal": {"initial_temperature_degC": 150.0, **thermal},
        "mechanical": {"end_condition": "closed", "reference_temperature_degC": 20.0},
        "loads": loads
        or {
            "time_h": [0.0, 1.0, 2.0],
            "fluid_temperature_degC": [150.0, 550.0, 550.0],
            "pressure_MPa": [1.0, 16.0, 16.0],
        },
        "solver": {"time_step_s": 60.0, **solver},
    }


def test_a_prescribed_bore_follows_the_fluid_temperature_history() -> None:
    from models.service import solve

    ds = solve(parse_config(_raw({"bore": "prescribed"})), fields=False)
    np.testing.assert_allclose(
        ds["temperature"].sel(location="bore").values[1:], ds["fluid_temperature"].values[1:],
        rtol=0, atol=1e-8,
    )
    assert ds.attrs["bore_condition"] == "prescribed"
    # the wall lags behind the surface during the ramp, then settles (insulated outer)
    mid = ds.sel(time=3600.0)
    assert float(mid["temperature"].sel(location="outer")) < 823.15 - 5.0
    assert float(ds["temperature"].sel(location="outer")[-1]) == pytest.approx(823.15, abs=0.05)


def test_steady_solve_with_prescribed_surfaces_matches_the_kirchhoff_transform() -> None:
    # Steady radial conduction with k(T) between prescribed surface temperatures:
    # int_{T(r)}^{T_i} k dT / int_{T_o}^{T_i} k dT = ln(r/a) / ln(b/a)
    # (Carslaw & Jaeger, Conduction of Heat in Solids, ch. I and VII). Through the service
    # model's steady solve, with Grade 91's tabulated conductivity.
    from models.service import solve

    loads = {
        "time_h": [0.0, 1.0],
        "fluid_temperature_degC": [400.0, 560.0],
        "pressure_MPa": [0.0, 10.0],
        "outer_temperature_degC": [400.0, 300.0],
    }
    raw = _raw({"bore": "prescribed", "outer": "prescribed", "initial_temperature_degC": 400.0},
               loads, analysis="steady")
    raw["output"] = {"extra_locations": [{"name": f"r{i}", "radius_m": r}
                                         for i, r in enumerate(np.linspace(A, B, 7)[1:-1])]}
    cfg = parse_config(raw)
    ds = solve(cfg, fields=False)
    assert ds.attrs["analysis"] == "steady"
    np.testing.assert_allclose(ds["time"].values, [0.0, 3600.0])  # the history's points
    end = ds.isel(time=-1)
    Ti, To = 560.0 + 273.15, 300.0 + 273.15
    assert float(end["temperature"].sel(location="bore")) == pytest.approx(Ti, abs=1e-8)
    assert float(end["temperature"].sel(location="outer")) == pytest.approx(To, abs=1e-8)
    s = np.linspace(To, Ti, 200_001)
    ks = cfg.material.k(s)
    K = np.concatenate([[0.0], np.cumsum(0.5 * (ks[1:] + ks[:-1]) * np.diff(s))])
    for loc in [f"r{i}" for i in range(5)]:
        r = float(end["radius"].sel(location=loc))
        frac = (K[-1] - np.interp(float(end["temperature"].sel(location=loc)), s, K)) / K[-1]
        assert frac == pytest.approx(math.log(r / A) / math.log(B / A), abs=2e-4)


def test_the_dataset_holds_radial_and_axial_displacement() -> None:
    # After the hold the insulated wall is isothermal at T_f: the displacement is the free
    # thermal expansion plus the closed-end Lame part, u_r = r eps_th + r/E [A (1 - 2 nu)
    # + B (1 + nu)/r^2], eps_z = eps_th + A (1 - 2 nu)/E, with E, nu at T_f (Timoshenko &
    # Goodier, Theory of Elasticity, ch. 4). u_z at mid-height is eps_z L / 2.
    from models.service import solve

    cfg = parse_config(_raw({"bore_htc_W_m2K": 3000.0}))
    ds = solve(cfg, fields=True)
    for name in ("u_r", "u_z"):
        assert ds[name].attrs["units"] == "m"
        assert ds[name].dims == ("time", "location")
        assert ds[f"{name}_profile"].dims == ("time_field", "r")
    end = ds.isel(time=-1)
    mat, Tf, p = cfg.material, float(end["fluid_temperature"]), float(end["pressure"])
    E, nu = mat.E(Tf), mat.nu(Tf)
    eps_th = mat.thermal_strain(Tf, cfg.mechanical.reference_temperature)
    lame_A = p * A**2 / (B**2 - A**2)
    lame_B = lame_A * B**2
    for loc, r in (("bore", A), ("outer", B)):
        exact = r * eps_th + r / E * (lame_A * (1 - 2 * nu) + lame_B * (1 + nu) / r**2)
        assert float(end["u_r"].sel(location=loc)) == pytest.approx(exact, rel=1e-3)
    eps_z = eps_th + lame_A * (1 - 2 * nu) / E
    assert float(end["u_z"].sel(location="mid_wall")) == pytest.approx(
        eps_z * cfg.geometry.length / 2, rel=1e-3
    )
    np.testing.assert_allclose(
        ds["u_z"].values, ds["eps_z"].values * cfg.geometry.length / 2, rtol=1e-8, atol=1e-15
    )


@pytest.mark.parametrize(
    ("thermal", "loads_extra", "match"),
    [
        ({"bore": "convective"}, {}, "thermal.bore_htc_W_m2K: required"),
        ({"bore": "prescribed", "bore_htc_W_m2K": 2000.0}, {}, "not used with thermal.bore"),
        ({"bore_htc_W_m2K": 2000.0, "outer": "prescribed"}, {}, "outer_temperature_degC: required"),
        (
            {"bore_htc_W_m2K": 2000.0},
            {"outer_temperature_degC": [20.0, 20.0, 20.0]},
            "only used with thermal.outer = 'prescribed'",
        ),
        (
            {"bore_htc_W_m2K": 2000.0, "outer": "prescribed"},
            {"outer_temperature_degC": [20.0, 20.0]},
            "equal lengths",
        ),
    ],
)
def test_surface_conditions_need_their_data_and_refuse_the_others(thermal, loads_extra, match):
    raw = _raw(thermal)
    raw["loads"].update(loads_extra)
    with pytest.raises(ConfigError, match=match):
        parse_config(raw)


def test_a_load_file_may_carry_the_outer_temperature(tmp_path: pathlib.Path) -> None:
    (tmp_path / "h.csv").write_text(
        "time_h,fluid_temperature_degC,pressure_MPa,outer_temperature_degC\n"
        "0,150,1,150\n1,550,16,400\n2,550,16,450\n"
    )
    raw = _raw({"bore_htc_W_m2K": 2000.0, "outer": "prescribed"}, {"file": "h.csv"})
    cfg = parse_config(raw, base_dir=tmp_path)
    np.testing.assert_allclose(cfg.loads.outer_temperature, [423.15, 673.15, 723.15])
    assert float(cfg.loads.outer_temperature_at(1800.0)) == pytest.approx(548.15)
    assert cfg.to_dict()["loads"]["outer_temperature_degC"] == [150.0, 400.0, 450.0]


def test_a_creep_law_is_refused_in_a_steady_solve() -> None:
    from models.creep_fem import NortonCreep
    from models.service import solve

    cfg = parse_config(_raw({"bore_htc_W_m2K": 2000.0}, analysis="steady"))
    with pytest.raises(ConfigError, match="steady-state solve has no time for a creep law"):
        solve(cfg, constitutive=NortonCreep(A=1e-30, n=5.0), fields=False)
