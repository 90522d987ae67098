"""Material scatter of the life laws: samplers, bounds and per-sample damage."""

from __future__ import annotations

import math

import numpy as np
import pytest

import models.life as life
from models.errors import LawInputError


def test_fatigue_creep_damage_scaling_equals_brute_force_per_sample_evaluation() -> None:
    rng = np.random.default_rng(1)
    k = life.strain_life("316H", 873.15)
    curve = life.larson_miller("316H")
    ea = rng.uniform(0.001, 0.004, 300)
    counts = rng.choice([0.5, 1.0], 300)
    dur = rng.uniform(0, 3600.0 * 10, 300)
    s = rng.uniform(60e6, 150e6, 300)
    T = rng.uniform(823.0, 900.0, 300)
    lf = life.sample_life_factors(rng, 50, log10_std=0.2)
    cs = life.sample_larson_miller_constant(rng, 50, curve=curve, std=0.3)
    df, dc = life.fatigue_creep_damage(
        strain_amplitude=ea, cycle_counts=counts, strain_life_constants=k, hold_durations=dur,
        hold_stress=s, hold_temperature=T, rupture_curve=curve, life_factor=lf, C=cs,
    )  # fmt: skip
    # Brute force: every sample's own life per cycle and per hold.
    nf = life.cycles_to_failure(ea, constants=k)[None, :] * lf[:, None]
    df_ref = np.sum(counts[None, :] / nf, axis=1)
    tr = curve.rupture_time(s[None, :], T[None, :], C=cs[:, None])
    dc_ref = np.sum(dur[None, :] / tr, axis=1)
    np.testing.assert_allclose(df, df_ref, rtol=1e-12)
    np.testing.assert_allclose(dc, dc_ref, rtol=1e-12)


def test_scatter_samplers_use_the_given_generator_and_requested_spread() -> None:
    curve = life.larson_miller("316H")
    a = life.sample_larson_miller_constant(np.random.default_rng(7), 200_000, curve=curve, std=0.25)
    b = life.sample_larson_miller_constant(np.random.default_rng(7), 200_000, curve=curve, std=0.25)
    np.testing.assert_array_equal(a, b)
    assert a.std() == pytest.approx(0.25, rel=0.01)
    f = life.sample_life_factors(np.random.default_rng(8), 200_000, log10_std=0.3)
    assert np.log10(f).std() == pytest.approx(0.3, rel=0.01)
    with pytest.raises(LawInputError, match="rng"):
        life.sample_life_factors(np.random, 10, log10_std=0.1)  # type: ignore[arg-type]


def test_lower_bound_curve_gives_a_positive_larson_miller_spread_for_316h() -> None:
    # srlife's lower-bound 316H curve lies below the average: the implied std is > 0.
    std = life.larson_miller_scatter_from_bounds(
        life.larson_miller("316H"),
        (-1422.54550439, 6958.39346997, -15967.03592831, 34564.80235251),
        stress=100e6,
        temperature=873.15,
    )
    p_avg = -1475.23899811 * 8 + 7289.41927821 * 4 - 16642.64925881 * 2 + 35684.60143173
    p_low = -1422.54550439 * 8 + 6958.39346997 * 4 - 15967.03592831 * 2 + 34564.80235251
    assert std == pytest.approx((p_avg - p_low) / 873.15 / 2.0, rel=1e-12)


def test_scatter_from_bounds_keeps_the_log_stress_form_of_the_grade91_curve() -> None:
    # A bound 0.1 lower in log10 stress than NEML's Grade 91 quadratic; both parameters
    # at 100 MPa follow from the quadratic formula (falling root), by hand.
    a2, a1, a0 = -6.65302426e-09, 2.95224164e-04, -6.19561767e-01

    def root(c0: float) -> float:
        return (-a1 - math.sqrt(a1 * a1 - 4 * a2 * (c0 - 2.0))) / (2 * a2)

    std = life.larson_miller_scatter_from_bounds(
        life.larson_miller("grade91"), (a2, a1, a0 - 0.1), stress=100e6, temperature=873.15
    )
    assert std == pytest.approx((root(a0) - root(a0 - 0.1)) / 873.15 / 2.0, rel=1e-9)
    assert std > 0
