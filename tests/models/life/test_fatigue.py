"""Strain-life law: vectorised solves, mean-stress corrections, calibrated range."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

import models.life as life
from models.errors import LawInputError


def test_cycles_to_failure_is_vectorised_over_1e5_samples_and_matches_brentq() -> None:
    rng = np.random.default_rng(0)
    temperature = rng.uniform(700.0, 975.0, 100_000)
    k = life.strain_life("316H", temperature)
    ea = rng.uniform(0.001, 0.009, 100_000)
    nf = life.cycles_to_failure(ea, constants=k)
    assert nf.shape == (100_000,)
    for i in rng.integers(0, 100_000, 8):  # independent root finder on a sample of them
        sf, b, ef, c, E = (float(np.asarray(v)[i]) for v in (k.sigma_f, k.b, k.eps_f, k.c, k.E))

        def residual(n2: float, sf=sf, b=b, ef=ef, c=c, E=E, e=ea[i]) -> float:  # type: ignore[no-untyped-def]
            return sf / E * n2**b + ef * n2**c - e

        ref = 0.5 * brentq(residual, 1.0, 1e14, rtol=1e-14)
        assert nf[i] == pytest.approx(ref, rel=1e-9)


def test_swt_gives_no_damage_for_compressive_peak_stress_and_morrow_checks_mean_stress() -> None:
    k = life.strain_life("316H", 873.15)
    nf = life.cycles_to_failure(
        [0.002, 0.002], constants=k, correction="swt", max_stress=[-1e6, 1e8]
    )
    assert math.isinf(nf[0]) and np.isfinite(nf[1])
    with pytest.raises(LawInputError, match="mean_stress"):
        life.cycles_to_failure(0.002, constants=k, correction="morrow", mean_stress=5e9)


def test_grade91_strain_life_has_one_design_curve_used_elsewhere_only_on_request() -> None:
    k540 = life.strain_life("Grade 91", 813.15)
    with pytest.raises(LawInputError, match="temperature: .*873.15 K"):
        life.strain_life("grade91", 873.15)
    k600 = life.strain_life("grade91", [700.0, 873.15], extrapolate=True)
    for name in ("sigma_f", "b", "eps_f", "c", "E"):
        assert np.all(getattr(k600, name) == getattr(k540, name))
    # ASME III-5 design curve, 540 C (hbbdata TestFatigueData 'gr91'): strain range 0.0021
    # at 4e4 cycles; the four-constant fit stays within a factor 1.6 in life there.
    n = float(life.cycles_to_failure(0.0021 / 2, constants=k540))
    assert 4e4 / 1.6 < n < 4e4 * 1.6


def test_small_amplitudes_below_the_calibrated_range_follow_the_callers_choice() -> None:
    k = life.strain_life("316H", 873.15)
    lo = k.strain_amplitude_range[0]
    amps = np.array([0.0, lo / 2, 0.002])
    with pytest.raises(LawInputError, match="strain_amplitude: .*calibrated"):
        life.cycles_to_failure(amps, constants=k)
    endurance = life.cycles_to_failure(amps, constants=k, below_range="endurance")
    limit = life.cycles_to_failure(amps, constants=k, below_range="limit")
    at_lo = float(life.cycles_to_failure(lo, constants=k))
    assert math.isinf(endurance[0]) and math.isinf(endurance[1])
    assert limit[1] == pytest.approx(at_lo, rel=1e-12)
    assert endurance[2] == limit[2] == float(life.cycles_to_failure(0.002, constants=k))

