"""Parameter space, design of experiments and persistence against the component config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import qmc

from models.config import parse_config
from surrogates.analytic import ANALYTIC_BOUNDS, bore_hoop_stress
from surrogates.component import ComponentSurrogate
from surrogates.design import design_points
from surrogates.errors import ExtrapolationError, MetadataMismatchError, ParameterSpaceError
from surrogates.gp import GPSurrogate
from surrogates.persistence import load_surrogate, save_surrogate
from surrogates.space import ParameterSpace

ROOT = Path(__file__).resolve().parents[2]
SECTION = {
    "hold_h": 0.5,
    "parameters": {
        "thermal.bore_htc_W_m2K": [1000.0, 4000.0],
        "geometry.wall_thickness_m": [0.035, 0.06],
        "loads.hold_pressure_MPa": [10.0, 20.0],
        "loads.ramp_rate_degC_per_h": [100.0, 300.0],
    },
}


def _raw(section: dict = SECTION) -> dict:
    raw = tomllib.loads((ROOT / "examples" / "grade91_header.toml").read_text())
    raw["surrogate"] = section
    return raw


def test_config_for_applies_overrides_and_builds_the_standard_startup() -> None:
    cfg = parse_config(_raw())
    space = ParameterSpace.from_config(cfg)
    point = {
        "thermal.bore_htc_W_m2K": 3000.0,
        "geometry.wall_thickness_m": 0.04,
        "loads.hold_pressure_MPa": 15.0,
        "loads.ramp_rate_degC_per_h": 200.0,
    }
    run = space.config_for(cfg, point)
    assert run.thermal.bore_htc == pytest.approx(3000.0)
    assert run.geometry.outer_radius - run.geometry.inner_radius == pytest.approx(0.04)
    # 150 -> 565 degC at 200 degC/h takes 415/200 h, then a 0.5 h hold (SECTION).
    ramp_s = (565.0 - 150.0) / 200.0 * 3600.0
    assert run.loads.duration == pytest.approx(ramp_s + 1800.0)
    assert run.loads.pressure_at(ramp_s / 2) == pytest.approx(1e6 + 0.5 * (15e6 - 1e6))
    assert run.loads.fluid_temperature_at(run.loads.duration) == pytest.approx(565.0 + 273.15)


def test_bad_surrogate_sections_are_refused_naming_the_field() -> None:
    with pytest.raises(ParameterSpaceError, match="thermal.bore_htc_W_m2K.*low < high"):
        ParameterSpace.from_section({"parameters": {"thermal.bore_htc_W_m2K": [5000.0, 1000.0]}})
    with pytest.raises(ParameterSpaceError, match="loads.hold_speed.*use one of"):
        ParameterSpace.from_section({"parameters": {"loads.hold_speed": [1.0, 2.0]}})
    with pytest.raises(ParameterSpaceError, match="no key 'bore_htc_W_m2' in section"):
        ParameterSpace.from_config(
            parse_config(_raw({"parameters": {"thermal.bore_htc_W_m2": [1.0, 2.0]}}))
        )
    space = ParameterSpace.from_section(SECTION)
    with pytest.raises(ExtrapolationError, match=r"geometry.wall_thickness_m.*0\.07"):
        space.check([[2000.0, 0.07, 12.0, 150.0]])


def test_sobol_and_lhs_designs_fill_the_box_better_than_uniform_random() -> None:
    # Reference: centered L2 discrepancy (scipy.stats.qmc.discrepancy) of uniform random points.
    rng = np.random.default_rng(3)
    unit = np.array([[0.0, 1.0]] * 4)
    rand = design_points(unit, 64, method="random", rng=rng)
    for method in ("sobol", "lhs"):
        pts = design_points(ANALYTIC_BOUNDS, 64, method=method, rng=rng)
        assert np.all((pts >= ANALYTIC_BOUNDS[:, 0]) & (pts <= ANALYTIC_BOUNDS[:, 1]))
        u = (pts - ANALYTIC_BOUNDS[:, 0]) / np.ptp(ANALYTIC_BOUNDS, axis=1)
        assert qmc.discrepancy(u) < 0.5 * qmc.discrepancy(rand)


def test_saved_surrogate_predicts_identically_and_refuses_another_component(tmp_path: Path) -> None:
    cfg = parse_config(_raw())
    space = ParameterSpace.from_config(cfg)
    rng = np.random.default_rng(5)
    X = design_points(space, 24, rng=rng)
    # A closed-form stand-in of the hoop stress over these four inputs (h, wall, p, ramp as dT).
    y = bore_hoop_stress(np.column_stack([X[:, 0], X[:, 1], X[:, 2], X[:, 3]]))
    gp = GPSurrogate(bounds=space.bounds).fit(X, y)
    sur = ComponentSurrogate(
        space=space,
        outputs=("hoop",),
        units={"hoop": "Pa"},
        gp=gp,
        relevant_hash=space.relevant_hash(cfg),
        provenance={"config_hash": cfg.config_hash},
    )
    folder = save_surrogate(sur, tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["surrogate.json", "surrogate.safetensors"]
    loaded = load_surrogate(folder, config=cfg)
    Xt = design_points(space, 50, method="random", rng=rng)
    m0, s0 = sur.predict(Xt)
    m1, s1 = loaded.predict(Xt)
    np.testing.assert_allclose(m1, m0, rtol=1e-12)
    np.testing.assert_allclose(s1, s0, rtol=1e-9)
    # Renaming the component or changing a varied key's nominal value is harmless ...
    other = _raw()
    other["component"]["name"] = "header-b"
    other["thermal"]["bore_htc_W_m2K"] = 2500.0
    load_surrogate(folder, config=parse_config(other))
    # ... a finer mesh, another material or another parameter range is not.
    finer = _raw()
    finer["mesh"]["radial_cells"] = 80
    with pytest.raises(MetadataMismatchError, match="config hash.*retrain"):
        load_surrogate(folder, config=parse_config(finer))
    wider = _raw(
        {
            **SECTION,
            "parameters": {**SECTION["parameters"], "thermal.bore_htc_W_m2K": [500.0, 4000.0]},
        }
    )
    with pytest.raises(MetadataMismatchError, match="surrogate.parameters"):
        load_surrogate(folder, config=parse_config(wider))


def test_material_factors_scale_one_property_and_are_validated() -> None:
    from models.materials import get_material

    cfg = parse_config(_raw())
    space = ParameterSpace.from_section({"parameters": {"material.E_factor": [0.9, 1.1]}})
    mat = space.material_for(cfg, {"material.E_factor": 1.05})
    base = get_material("grade91")
    T = np.array([300.0, 600.0, 850.0])
    np.testing.assert_allclose(mat.E(T), 1.05 * base.E(T), rtol=1e-14)
    np.testing.assert_allclose(mat.k(T), base.k(T), rtol=0)
    with pytest.raises(ParameterSpaceError, match="must be > 0"):
        ParameterSpace.from_section({"parameters": {"material.k_factor": [0.0, 1.1]}})
    with pytest.raises(ParameterSpaceError, match="unknown material factor"):
        ParameterSpace.from_section({"parameters": {"material.creep_factor": [0.5, 2.0]}})
