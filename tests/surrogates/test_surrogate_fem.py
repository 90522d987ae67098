"""End to end on the real FEM: a reduced Dask campaign of DOLFINx runs, GP training,
held-out validation through the CLI.

References: the held-out FEM runs themselves (never used in training), and Lame's
thick-cylinder solution (Timoshenko & Goodier 1970, sec. 33) for the bore hoop stress
after the hold, when the wall is isothermal (insulated outer surface) and only the
pressure loads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from twin.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "grade91_header.toml"
# CI reduction: coarse mesh and long steps (0.15 s per FEM run instead of 4 s).
REDUCED = [
    "--set",
    "mesh.radial_cells=10",
    "--set",
    "mesh.axial_cells=1",
    "--set",
    "solver.time_step_s=300.0",
    # unit-response modes: 12 training and 8 held-out runs on a short time grid
    "--set",
    "surrogate.modes.n_train=12",
    "--set",
    "surrogate.modes.n_holdout=8",
    "--set",
    "surrogate.modes.stages=6",
    "--set",
    "surrogate.modes.stage_steps=10",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sur") / "grade91"
    result = CliRunner().invoke(
        main,
        [
            "surrogate",
            "train",
            str(CONFIG),
            "--out",
            str(out),
            "--n-train",
            "32",
            "--workers",
            "2",
            "--no-progress",
            *REDUCED,
        ],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    return out


def test_surrogate_trained_on_dask_fem_campaign_meets_targets_on_held_out_fem(
    trained: Path,
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "surrogate",
            "validate",
            str(CONFIG),
            "--out",
            str(trained),
            "--n-holdout",
            "16",
            "--json",
            "--no-progress",
            *REDUCED,
        ],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    table = json.loads(result.stdout)
    hoop = table["bore_hoop_stress_end"]
    assert hoop["rmse_pct_range"] <= 1.0  # issue 5 target
    assert hoop["r2"] > 0.999
    assert (
        hoop["coverage_95"] >= 0.8
    )  # 16 points: >= 13 of 16 inside (the benchmark measures 90-99 % on 48)
    for name in (
        "bore_hoop_stress_min",
        "bore_von_mises_max",
        "wall_delta_temperature_max",
        "outer_hoop_strain_end",
    ):
        assert table[name]["rmse_pct_range"] <= 3.0, name
    assert (trained / "parity.png").stat().st_size > 10_000
    # Unit-response modes (12 runs over h, wall thickness, hold temperature): the pressure
    # gains are smooth closed-form-like functions, the mode parameters nearly so.
    from models.config import load_config
    from surrogates.targets import mode_keys_for, mode_output_names

    cfg = load_config(CONFIG)
    n_modes = int(cfg.sections["surrogate"]["modes"]["n_modes"])
    modes = {k: v for k, v in table.items() if k.startswith("mode.")}
    assert set(modes) == set(mode_output_names(mode_keys_for(cfg), n_modes=n_modes))
    assert table["mode.sigma_theta.bore.pressure_gain"]["rmse_pct_range"] <= 1.0
    r2 = sorted(v["r2"] for v in modes.values())
    # 12 coarse runs over the property-temperature range 155-600 degC (the twin follows
    # the metal through start-ups): the weakest two (a small middle amplitude) measured
    # R2 0.78, the median 0.998; the shipped 40-run surrogate is checked in
    # tests/surrogates/test_mode_surrogate.py.
    assert r2[0] > 0.7 and r2[len(r2) // 2] > 0.99, r2
    assert (trained / "modes.png").stat().st_size > 10_000


def test_surrogate_bore_hoop_stress_after_hold_matches_lame(trained: Path) -> None:
    from models.config import load_config
    from surrogates.persistence import load_surrogate

    cfg = load_config(CONFIG).with_overrides(
        {"mesh.radial_cells": 10, "mesh.axial_cells": 1, "solver.time_step_s": 300.0}
    )
    sur = load_surrogate(trained / "model", config=cfg)
    a = cfg.geometry.inner_radius
    point = {
        "thermal.bore_htc_W_m2K": 3000.0,
        "geometry.wall_thickness_m": 0.05,
        "loads.hold_temperature_degC": 550.0,
        "loads.hold_pressure_MPa": 15.0,
        "loads.ramp_rate_degC_per_h": 200.0,
    }
    mean, std = sur.predict(point)
    b = a + 0.05
    lame = 15e6 * (b**2 + a**2) / (b**2 - a**2)
    j = sur.outputs.index("bore_hoop_stress_end")
    # After a 1 h hold the wall is nearly isothermal: within 2 % of Lame (the rest is the
    # remaining through-wall gradient and the coarse CI mesh).
    assert mean[0, j] == pytest.approx(lame, rel=0.02)
    assert std[0, j] < 0.01 * lame
    # The pressure unit response of the bore hoop stress is Lame's factor (b^2 + a^2) / (b^2 - a^2).
    modes = load_surrogate(trained / "modes", config=cfg)
    modal_point = {k: v for k, v in point.items() if k in modes.space.names}
    gain, _ = modes.predict(modal_point)
    k = modes.outputs.index("mode.sigma_theta.bore.pressure_gain")
    assert gain[0, k] == pytest.approx((b**2 + a**2) / (b**2 - a**2), rel=0.01)
    # With an insulated outer surface the bore temperature follows a fluid step fully:
    # the static gain sum(b_i) of its unit response is 1 K/K.
    n_modes = int(cfg.sections["surrogate"]["modes"]["n_modes"])
    amps = [modes.outputs.index(f"mode.temperature.bore.b{i}") for i in range(1, n_modes + 1)]
    assert gain[0, amps].sum() == pytest.approx(1.0, abs=0.01)


def test_validate_refuses_a_surrogate_trained_for_another_mesh(trained: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "surrogate",
            "validate",
            str(CONFIG),
            "--out",
            str(trained),
            "--no-progress",
            "--set",
            "mesh.radial_cells=20",
            "--set",
            "mesh.axial_cells=1",
            "--set",
            "solver.time_step_s=300.0",
        ],
    )
    assert result.exit_code != 0
    assert "config hash" in result.output and "retrain" in result.output


def test_train_again_resumes_the_finished_campaign_without_new_runs(trained: Path) -> None:
    import xarray as xr

    before = xr.open_zarr(trained / "campaign.zarr", consolidated=False)["elapsed_s"].values.copy()
    result = CliRunner().invoke(
        main,
        [
            "surrogate",
            "train",
            str(CONFIG),
            "--out",
            str(trained),
            "--n-train",
            "32",
            "--no-progress",
            *REDUCED,
        ],
    )
    assert result.exit_code == 0, result.output
    after = xr.open_zarr(trained / "campaign.zarr", consolidated=False)["elapsed_s"].values
    np.testing.assert_array_equal(after, before)


def test_expansion_scatter_factor_scales_the_fem_thermal_strain_exactly() -> None:
    # The heat conduction does not involve alpha, so the free thermal strain eps_th of
    # the FEM must scale exactly with the factor (linear: eps_th = alpha_mean (T - T_ref)).
    import dolfinx_solver  # noqa: F401

    from models.config import load_config
    from models.service import solve
    from surrogates.space import ParameterSpace

    cfg = load_config(CONFIG).with_overrides(
        {"mesh.radial_cells": 6, "mesh.axial_cells": 1, "solver.time_step_s": 600.0}
    )
    space = ParameterSpace.from_section({"parameters": {"material.alpha_mean_factor": [0.8, 1.2]}})
    eps = {}
    for f in (1.0, 1.2):
        point = {"material.alpha_mean_factor": f}
        ds = solve(
            space.config_for(cfg, point), fields=False, material=space.material_for(cfg, point)
        )
        eps[f] = ds["eps_th"].sel(location="bore").values
    np.testing.assert_allclose(eps[1.2], 1.2 * eps[1.0], rtol=1e-10)


def test_predicted_modes_reproduce_the_fem_unit_step_response(trained: Path) -> None:
    # Second method: the FEM unit responses at a point the mode surrogate never saw.
    import dolfinx_solver  # noqa: F401

    from models.config import load_config
    from models.responses import unit_responses
    from surrogates.persistence import load_surrogate
    from surrogates.targets import modal_responses

    cfg = load_config(CONFIG).with_overrides(
        {"mesh.radial_cells": 10, "mesh.axial_cells": 1, "solver.time_step_s": 300.0}
    )
    modes = load_surrogate(trained / "modes", config=cfg)
    point = {
        "thermal.bore_htc_W_m2K": 2600.0,
        "geometry.wall_thickness_m": 0.047,
        "loads.hold_temperature_degC": 530.0,
    }
    mean, _ = modes.predict(point)
    n_modes = int(load_config(CONFIG).sections["surrogate"]["modes"]["n_modes"])
    filters = modal_responses(dict(zip(modes.outputs, mean[0], strict=True)), n_modes=n_modes)
    run = modes.space.config_for(cfg, point)
    ur = unit_responses(run, property_temperature=530.0 + 273.15, stages=6, stage_steps=10)
    t = ur["time"].values
    for name, loc in (("sigma_theta", "bore"), ("temperature", "bore")):
        fem = ur[name].sel(input="fluid_temperature", location=loc).values
        got = filters[(name, loc, "fluid_temperature")].step(t)
        # Measured 0.5 % (hoop stress) and 0.2 % (temperature) of the peak response.
        assert np.max(np.abs(got - fem)) < 0.02 * np.max(np.abs(fem)), name
    fem_p = ur["sigma_theta"].sel(input="pressure", location="bore").values[-1]
    assert filters[("sigma_theta", "bore", "pressure")].gain == pytest.approx(fem_p, rel=0.01)
