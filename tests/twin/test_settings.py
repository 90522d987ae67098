"""The [twin] section: defaults, priors, and errors that name the field and the value."""

from __future__ import annotations

import math
import pathlib
from types import SimpleNamespace

import numpy as np
import pytest

from models.config import load_config
from sensors.catalogue import parse_catalogue
from twin._setup import check_priors as _check_priors
from twin.errors import TwinConfigError
from twin.settings import Prior, parse_twin_settings

ROOT = pathlib.Path(__file__).resolve().parents[2]
CFG = load_config(ROOT / "examples" / "grade91_header.toml")
CAT = parse_catalogue(CFG.to_dict()).sensors
LOCS = [loc.name for loc in CFG.locations]


def parse(section):
    return parse_twin_settings(section, catalogue=CAT, locations=LOCS)


def test_example_section_parses_with_inputs_and_observations():
    s = parse(CFG.sections["twin"])
    assert s.inputs == {"fluid_temperature": "TC-steam-01", "pressure": "PT-01"}
    assert [x.id for x in s.observed()] == ["TC-outer-01", "SG-outer-01"]
    assert "bias.TC-outer-01" in s.parameter_names and "offset.SG-outer-01" in s.parameter_names
    assert s.is_identifiable("bore_htc") and not s.is_identifiable("creep_strength_factor")
    # edge units: microstrain -> 1, K per year -> K/s
    sg = next(p for p in s.parameters if p.name == "offset.SG-outer-01")
    assert sg.prior.b == pytest.approx(200e-6)
    drift = next(p for p in s.parameters if p.name == "drift.TC-outer-01")
    assert drift.prior.b == pytest.approx(0.5 / (365.25 * 86400))


def test_empty_section_takes_documented_defaults():
    s = parse(None)
    assert s.particles == 500 and s.block == 60.0
    assert s.property_temperature is None and s.property_tolerance == 10.0


@pytest.mark.parametrize(
    ("section", "text"),
    [
        ({"particle": 10}, "twin: unknown keys ['particle']"),
        ({"particles": 1}, "twin.particles: must be an integer >= 2 (got 1)"),
        ({"block_s": -1.0}, "twin.block_s: must be > 0 (got -1.0)"),
        ({"priors": {"bore_htc": {}}}, "twin.priors: unknown keys ['bore_htc']"),
        (
            {"priors": {"bore_htc_W_m2K": {"distribution": "gamma"}}},
            "twin.priors.bore_htc_W_m2K.distribution: must be one of",
        ),
        (
            {"priors": {"wall_thickness_m": {"distribution": "normal", "mean": 0.05, "std": -1.0}}},
            "twin.priors.wall_thickness_m.std: must be > 0 (got -1.0)",
        ),
        (
            {"sensors": {"TC-nowhere": {"noise_K": 1.0}}},
            "twin.sensors.TC-nowhere: the component has no sensor",
        ),
        (
            {"sensors": {"TC-outer-01": {"noise_microstrain": 1.0}}},
            "twin.sensors.TC-outer-01: unknown keys ['noise_microstrain']",
        ),
        ({"damage_locations": ["weld"]}, "twin.damage_locations: unknown location 'weld'"),
        (
            {"stress_concentration": {"bore": 0.5}},
            "twin.stress_concentration.bore: must be >= 1 (got 0.5)",
        ),
        (
            {"inputs": {"pressure": "TC-outer-01"}},
            "twin.inputs.pressure: 'TC-outer-01' is not a pressure sensor",
        ),
    ],
)
def test_bad_sections_name_the_field_and_value(section, text):
    with pytest.raises(TwinConfigError, match=None) as err:
        parse(section)
    assert text in str(err.value)


def test_prior_outside_the_surrogate_range_is_refused():
    space = SimpleNamespace(
        parameters=[SimpleNamespace(name="thermal.bore_htc_W_m2K", low=1000.0, high=5000.0)]
    )
    sur = SimpleNamespace(space=space)
    ok = parse(
        {"priors": {"bore_htc_W_m2K": {"distribution": "lognormal", "median": 2500.0, "cov": 0.25}}}
    )
    _check_priors(ok, sur)
    wide = parse(
        {"priors": {"bore_htc_W_m2K": {"distribution": "uniform", "low": 500.0, "high": 6000.0}}}
    )
    with pytest.raises(
        TwinConfigError, match=r"twin.priors.bore_htc_W_m2K: the prior's central 95 % interval"
    ):
        _check_priors(wide, sur)


def test_prior_moments_and_intervals_match_closed_forms():
    rng = np.random.default_rng(0)
    p = Prior("lognormal", 2500.0, math.sqrt(math.log1p(0.25**2)))
    x = p.sample(rng, 400_000)
    # lognormal: mean = median exp(s^2/2), cov = sqrt(exp(s^2) - 1) = 0.25 by construction
    assert p.std == pytest.approx(2500.0 * math.exp(0.5 * p.b**2) * 0.25)
    assert x.std() == pytest.approx(p.std, rel=0.01)
    lo, hi = p.interval(0.9)
    assert np.mean((x > lo) & (x < hi)) == pytest.approx(0.9, abs=0.003)
    u = Prior("uniform", 1.0, 3.0)
    assert u.std == pytest.approx(2.0 / math.sqrt(12.0))
    y = np.linspace(1.01, 2.99, 7)
    assert np.allclose(u.from_unconstrained(u.to_unconstrained(y)), y)
