"""Unit responses, exponential-mode fits and recursive convolution."""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import numpy as np
import pytest

from models.config import parse_config
from models.responses import ModalResponse, ModalSet, fit_modes, unit_responses

A, B = 0.15, 0.19


@pytest.fixture(scope="session")
def responses():
    raw = {
        "component": {"name": "resp", "material": "grade91"},
        "geometry": {"inner_radius_m": A, "outer_radius_m": B, "length_m": 0.01},
        "mesh": {"radial_cells": 20, "axial_cells": 1, "degree": 2},
        "thermal": {"bore_htc_W_m2K": 2000.0, "outer": "insulated"},
        "mechanical": {"end_condition": "closed"},
        "loads": {
            "time_h": [0.0, 1.0],
            "fluid_temperature_degC": [200.0, 500.0],
            "pressure_MPa": [1.0, 10.0],
        },
        "solver": {"time_step_s": 30.0},
    }
    cfg = parse_config(raw)
    ur = unit_responses(cfg, property_temperature=623.15)
    return cfg, ur, fit_modes(ur)


def _ramp_response(t, tau, rate):
    # first-order lag tau x' = u - x, u = rate * t, x(0) = 0: x = rate (t - tau (1 - e^{-t/tau}))
    return rate * (t - tau * (1.0 - np.exp(-t / tau)))


@pytest.mark.parametrize("uniform", [True, False])
def test_recursive_convolution_is_exact_for_piecewise_linear_input(uniform: bool) -> None:
    rng = np.random.default_rng(7)
    t = (
        np.linspace(0.0, 500.0, 201)
        if uniform
        else np.sort(np.r_[0.0, rng.uniform(0, 500, 150), 500.0])
    )
    resp = ModalResponse(
        direct=0.3, amplitudes=np.array([2.0, -0.5]), time_constants=np.array([5.0, 80.0])
    )
    y = resp.simulate(t, 2.0 * t)
    ref = 0.3 * 2.0 * t + 2.0 * _ramp_response(t, 5.0, 2.0) - 0.5 * _ramp_response(t, 80.0, 2.0)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-9)


def test_simulated_step_equals_the_step_response() -> None:
    # a step reached by a steep ramp over [0, 1e-6] s: y = g(t) (Duhamel)
    resp = ModalResponse(
        direct=0.0, amplitudes=np.array([1.0, 2.0]), time_constants=np.array([3.0, 30.0])
    )
    t = np.r_[0.0, 1e-6, np.linspace(1.0, 100.0, 100)]
    u = np.r_[0.0, np.ones(t.size - 1)]
    np.testing.assert_allclose(resp.simulate(t, u)[2:], resp.step(t[2:]), rtol=1e-5)


def test_fit_recovers_known_modes() -> None:
    t = np.r_[0.0, np.geomspace(0.05, 5000.0, 400)]
    truth = ModalResponse(
        direct=0.0,
        amplitudes=np.array([-3.0, 5.0, 1.0]),
        time_constants=np.array([2.0, 40.0, 600.0]),
    )
    import xarray as xr

    ds = xr.Dataset(
        {
            "sigma_theta": (
                ("input", "time", "location"),
                np.stack([truth.step(t)[:, None], np.full((t.size, 1), 7.0)]),
            )
        },
        coords={"input": ["fluid_temperature", "pressure"], "time": t, "location": ["bore"]},
    )
    fitted = fit_modes(ds, n_modes=3)
    r = fitted[("sigma_theta", "bore", "fluid_temperature")]
    np.testing.assert_allclose(r.time_constants, truth.time_constants, rtol=1e-4)
    np.testing.assert_allclose(r.amplitudes, truth.amplitudes, rtol=1e-4)
    assert fitted[("sigma_theta", "bore", "pressure")].gain == pytest.approx(7.0)


def test_unit_step_gains_match_steady_state_and_lame(responses) -> None:
    # Insulated outer surface: after a unit T_f step the wall ends isothermal at +1 K
    # (no thermal stress). Unit pressure: closed-end Lame stresses per Pa
    # (Timoshenko & Goodier, Theory of Elasticity, ch. 4).
    _, ur, modes = responses
    k = A * A / (B * B - A * A)
    for loc in ("bore", "mid_wall", "outer"):
        assert modes[("temperature", loc, "fluid_temperature")].gain == pytest.approx(1.0, abs=2e-3)
        assert float(
            ur["temperature"].sel(input="fluid_temperature", location=loc)[-1]
        ) == pytest.approx(1.0, abs=1e-4)
        assert float(
            ur["sigma_theta"].sel(input="fluid_temperature", location=loc)[-1]
        ) == pytest.approx(0.0, abs=1.0)
    assert modes[("sigma_theta", "bore", "pressure")].gain == pytest.approx(
        k * (1 + B * B / A**2), rel=2e-3
    )
    assert modes[("sigma_z", "outer", "pressure")].gain == pytest.approx(k, rel=2e-3)
    assert modes[("temperature", "bore", "pressure")].gain == 0.0


def test_fits_are_tight_and_round_trip_through_a_dataset(responses) -> None:
    _, _, modes = responses
    for key in [
        ("sigma_theta", "bore", "fluid_temperature"),
        ("temperature", "outer", "fluid_temperature"),
    ]:
        assert modes[key].fit_error < 3e-3
    again = ModalSet.from_dataset(modes.to_dataset())
    t = np.linspace(0, 3000, 61)
    for key in modes:
        np.testing.assert_allclose(again[key].step(t), modes[key].step(t), rtol=1e-12, atol=1e-300)


def test_modal_model_matches_direct_fem_for_a_ramp_with_frozen_properties(responses) -> None:
    # Second method: the direct FEM transient of the same linear model.
    from models.service import solve

    cfg, _, modes = responses
    # a small step: backward Euler of the direct run must resolve the start of the ramp
    cfg = cfg.with_overrides({"solver.time_step_s": 2.0})
    ds = solve(cfg, property_temperature=623.15, fields=False)
    t = ds["time"].values
    for loc in ("bore", "outer"):
        direct = ds["sigma_theta"].sel(location=loc).values
        conv = modes.simulate(
            "sigma_theta",
            loc,
            t,
            fluid_temperature=ds["fluid_temperature"].values,
            pressure=ds["pressure"].values,
        )
        assert np.max(np.abs(conv - direct)) <= 0.01 * np.max(np.abs(direct))
    assert math.isfinite(float(np.max(np.abs(direct))))
