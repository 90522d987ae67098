"""The mode outputs a twin needs, the shared-time-constant fit, the array form of the mode
surrogate, and the example's shipped mode surrogate against a fresh FEM fit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from models.config import load_config, parse_config
from models.modefit import fit_shared_modes
from surrogates.errors import ExtrapolationError, MetadataMismatchError, ParameterSpaceError
from surrogates.modes import ModeSurrogate
from surrogates.targets import MODE_KEYS, ModeResponses, modal_responses, mode_keys_for

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "grade91_header.toml"
SHIPPED = ROOT / "examples" / "grade91_header.surrogate"


@pytest.fixture(scope="module")
def example():
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def shipped(example) -> ModeSurrogate:
    return ModeSurrogate.load(SHIPPED, config=example)


def test_mode_keys_of_the_example_config_are_the_default_keys(example) -> None:
    assert mode_keys_for(example) == MODE_KEYS


def test_mode_keys_cover_through_wall_thermocouples_and_every_strain_gauge(example) -> None:
    raw = example.to_dict()
    raw["sensors"] = [
        *raw["sensors"],
        {"id": "TC-wall-05", "quantity": "temperature", "unit": "degC", "radius_m": 0.17},
        {"id": "SG-bore-01", "quantity": "strain", "unit": "1", "location": "bore"},
    ]
    keys = mode_keys_for(parse_config(raw))
    assert ("temperature", "TC-wall-05") in keys
    assert ("eps_theta", "bore") in keys and ("eps_z", "bore") in keys
    assert ("temperature", "fluid") not in keys  # the steam thermocouple is an input
    assert len(keys) == len(set(keys)) == len(MODE_KEYS) + 3
    with pytest.raises(ParameterSpaceError, match="damage_locations"):
        mode_keys_for(example, damage_locations=("nozzle",))


def test_shared_mode_fit_recovers_known_time_constants_and_amplitudes() -> None:
    # Synthetic step responses built from three known shared modes (the reference):
    # variable projection must recover them to the fit's tolerance.
    import xarray as xr

    t = np.concatenate([[0.0], np.geomspace(0.5, 2e4, 300)])
    taus = np.array([3.0, 40.0, 400.0])
    amps = {"temperature": [0.3, 0.3, 0.4], "sigma_theta": [-1e6, -8e5, 1.8e6]}
    data = {}
    for name, b in amps.items():
        g = (np.asarray(b) * (1.0 - np.exp(-t[:, None] / taus))).sum(axis=1)
        data[name] = (("input", "time", "location"), np.stack([g, np.full_like(t, 2.5)])[..., None])
    ds = xr.Dataset(
        data, coords={"input": ["fluid_temperature", "pressure"], "time": t, "location": ["bore"]}
    )
    keys = [("temperature", "bore"), ("sigma_theta", "bore")]
    fit = fit_shared_modes(ds, keys, n_modes=3)
    np.testing.assert_allclose(fit.time_constants, taus, rtol=1e-6)
    for (name, loc), b in zip(keys, amps.values(), strict=True):
        np.testing.assert_allclose(fit.amplitudes[(name, loc)], b, rtol=1e-6)
        assert fit.fit_error[(name, loc)] < 1e-8
        # the static gain is pinned to the settled end of the step response
        g_end = ds[name].sel(input="fluid_temperature", location=loc).values[-1]
        assert fit.amplitudes[(name, loc)].sum() == pytest.approx(g_end, rel=1e-12)
        assert fit.pressure_gain[(name, loc)] == 2.5


def test_shipped_mode_surrogate_belongs_to_the_example_config(example, shipped) -> None:
    # A config change that invalidates the shipped surrogate must fail here, naming the
    # command that retrains it.
    assert shipped.keys == mode_keys_for(example)
    assert shipped.space.names == (
        "thermal.bore_htc_W_m2K",
        "geometry.wall_thickness_m",
        "loads.hold_temperature_degC",
    )
    changed = example.with_overrides({"mesh.radial_cells": 20})
    with pytest.raises(MetadataMismatchError, match="twin surrogate train"):
        ModeSurrogate.load(SHIPPED, config=changed)


def test_predict_bank_equals_the_dict_path_row_by_row(shipped) -> None:
    rng = np.random.default_rng(12)
    b = shipped.space.bounds
    X = b[:, 0] + rng.random((25, 3)) * (b[:, 1] - b[:, 0])
    mean, std, outside = shipped.predict_bank(X)
    assert mean.amplitudes.shape == (25, len(shipped.keys), shipped.n_modes)
    assert not outside.any()
    sur = shipped.surrogate
    for i in (0, 7, 24):
        m_row, s_row = sur.predict(X[i : i + 1])
        values = dict(zip(sur.outputs, m_row[0], strict=True))
        filters = modal_responses(values, shipped.keys, n_modes=shipped.n_modes)
        col = {name: j for j, name in enumerate(sur.outputs)}
        for j, (o, loc) in enumerate(shipped.keys):
            ref = filters[(o, loc, "fluid_temperature")]
            np.testing.assert_allclose(mean.amplitudes[i, j], ref.amplitudes, rtol=1e-10)
            np.testing.assert_allclose(mean.time_constants[i, j], ref.time_constants, rtol=1e-10)
            if o != "temperature":
                assert mean.pressure_gain[i, j] == pytest.approx(
                    filters[(o, loc, "pressure")].gain, rel=1e-10
                )
            # delta method: sd(tau) = tau ln(10) sd(log10 tau), the modes in sorted order
            order = np.argsort(
                [values[f"mode.{o}.{loc}.log10_tau{k}"] for k in range(1, shipped.n_modes + 1)]
            )
            sd_log = s_row[0, [col[f"mode.{o}.{loc}.log10_tau{k + 1}"] for k in order]]
            # the variance s - |L^-1 k*|^2 cancels: the same formula on a batch of 25 rows
            # and on one row rounds differently at ~1e-9 of the standard deviation
            np.testing.assert_allclose(
                std.time_constants[i, j], ref.time_constants * math.log(10.0) * sd_log, rtol=1e-6
            )
    out = X[:2].copy()
    out[1, 0] = 6000.0  # h above the trained 5000 W/m2K
    _, _, flags = shipped.predict_bank(out)
    np.testing.assert_array_equal(flags, [False, True])
    with pytest.raises(ExtrapolationError, match="thermal.bore_htc_W_m2K"):
        shipped.predict_bank(out, extrapolation="raise")


def test_shipped_surrogate_matches_a_fresh_fem_fit_at_an_unseen_point(example, shipped) -> None:
    # Second method: the FEM unit responses of a point in neither design, fitted afresh
    # by the campaign function. Tolerance 2 % of each output's peak step response:
    # `twin surrogate validate --kind modes` on its 12 held-out FEM runs measured at most
    # 0.62 % (sigma_theta bore) and 0.17 % on the pressure gains; 2 % is ~3x that.
    point = {
        "thermal.bore_htc_W_m2K": 3170.0,
        "geometry.wall_thickness_m": 0.0437,
        "loads.hold_temperature_degC": 538.0,
    }
    fresh = ModeResponses(
        config=example.to_dict(),
        space=shipped.space.to_dict(),
        keys=shipped.keys,
        n_modes=shipped.n_modes,
        stages=8,
        stage_steps=15,
    )(point)
    ref = modal_responses(fresh, shipped.keys, n_modes=shipped.n_modes)
    mean, _, _ = shipped.predict_bank([[point[n] for n in shipped.space.names]])
    t = np.geomspace(0.1, 2e4, 300)
    peaks, errors = {}, {}
    for j, (o, loc) in enumerate(shipped.keys):
        g_ref = ref[(o, loc, "fluid_temperature")].step(t)
        g = (mean.amplitudes[0, j] * (1.0 - np.exp(-t[:, None] / mean.time_constants[0, j]))).sum(1)
        peaks[(o, loc)] = np.abs(g_ref).max()
        errors[(o, loc)] = np.abs(g - g_ref).max()
        if o != "temperature":
            p_ref = ref[(o, loc, "pressure")].gain
            assert mean.pressure_gain[0, j] == pytest.approx(p_ref, rel=0.01), (o, loc)
    for (o, loc), err in errors.items():
        # outputs that are numerically zero (sigma_r at a free surface) against 5 % of
        # the largest peak of the same quantity, as in the fit's weights
        same = [peaks[k] for k in peaks if k[0].split("_")[0] == o.split("_")[0]]
        scale = max(peaks[(o, loc)], 0.05 * max(same))
        assert err < 0.02 * scale, (o, loc, err / scale)
