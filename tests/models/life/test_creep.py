"""Creep laws: Larson-Miller rupture, Kachanov-Rabotnov, Norton rate, Robinson sums."""

from __future__ import annotations

import math

import numpy as np
import pytest

import models.life as life
from models.errors import LawInputError


def test_kachanov_rabotnov_obeys_the_time_fraction_rule_under_a_stress_step() -> None:
    # For this law (1 - omega)^(phi+1) falls linearly at a stress-dependent rate, so
    # life fractions add to one exactly (hand derivation from the damage-rate equation).
    law = life.KachanovRabotnov(B=2e-26, chi=2.8, phi=3.0)
    s1, s2 = 120e6, 90e6
    t1 = 0.3 * float(law.rupture_time(s1))
    _w, t_end = law.integrate([0.0, t1, 100 * t1], [s1, s2], omega_stop=0.99)
    expected = t1 + float(law.rupture_time(s2)) * (0.7 - 0.01**4)
    assert t_end == pytest.approx(expected, rel=1e-8)


# ASME III-5 expected-minimum stress to rupture S_r of 9Cr-1Mo-V: the spot values
# (hours, C, MPa) of the open hbbdata package's test TestSrData ('gr91') that lie in the
# Grade 91 curve's calibrated range (500-650 C).
_GR91_SR = [(1e1, 500.0, 374.0), (3e4, 575.0, 122.0), (1e2, 625.0, 130.0), (1e5, 650.0, 33.0)]


@pytest.mark.parametrize(("hours", "temp_c", "s_r"), _GR91_SR)
def test_grade91_average_rupture_curve_outlives_the_asme_expected_minimum(
    hours: float, temp_c: float, s_r: float
) -> None:
    # An average curve must give at least the tabulated life at the Code's minimum
    # stress; it must not exceed it by more than the usual scatter band (factor 1e3 in
    # life, 3 decades), or the curve would belong to another, stronger material.
    t_avg = float(life.larson_miller("P91").rupture_time(s_r * 1e6, temp_c + 273.15)) / 3600.0
    assert hours <= t_avg < 1e3 * hours


def test_grade91_rupture_curve_refuses_stresses_its_parameter_bracket_cannot_reach() -> None:
    curve = life.larson_miller("grade91")
    # The NEML quadratic peaks at 452 MPa: no Larson-Miller parameter gives 500 MPa.
    with pytest.raises(LawInputError, match="stress: .*rupture curve covers"):
        curve.rupture_time(500e6, 800.0, extrapolate=True)
    with pytest.raises(LawInputError, match="stress: .*calibrated"):
        curve.rupture_time(20e6, 850.0)
    assert np.isfinite(curve.rupture_time(20e6, 850.0, extrapolate=True))


def test_log_stress_form_needs_a_monotone_parameter_bracket() -> None:
    common = dict(
        C=20.0, coefficients=(-1e-8, 4e-4, -1.0), powers=(2, 1, 0),
        temperature_range=(800.0, 900.0), stress_range=(1e6, 1e9), form="log_stress",
    )  # fmt: skip
    with pytest.raises(LawInputError, match="parameter_bracket: .*monotonically"):
        life.LarsonMillerCurve(**common, parameter_bracket=(10000.0, 30000.0))  # vertex 2e4
    with pytest.raises(LawInputError, match="parameter_bracket: .*P_low < P_high"):
        life.LarsonMillerCurve(**common)
    # By hand, on the falling branch (P > 2e4): log10 sigma[MPa] = 0.5 where
    # -1e-8 P^2 + 4e-4 P - 1 = 0.5, i.e. P = (4e-4 + sqrt(1.6e-7 - 6e-8)) / 2e-8.
    curve = life.LarsonMillerCurve(**common, parameter_bracket=(20001.0, 40000.0))
    p_hand = (4e-4 + math.sqrt(1.6e-7 - 6e-8)) / 2e-8
    assert float(curve.parameter(10**0.5 * 1e6)) == pytest.approx(p_hand, rel=1e-12)


def test_grade91_creep_rate_log_slope_equals_its_norton_exponent() -> None:
    # Independent check of the Kocks-Mecking form: d ln(rate) / d ln(sigma) = C1 * A.
    law = life.creep_rate_law("Grade 91")
    T, s, h = 873.15, 100e6, 1e-6
    slope = (
        math.log(float(law.rate(s * (1 + h), T))) - math.log(float(law.rate(s * (1 - h), T)))
    ) / (math.log(1 + h) - math.log(1 - h))
    assert slope == pytest.approx(float(law.exponent(T)), rel=1e-6)
    with pytest.raises(LawInputError, match="temperature: .*500 K"):
        law.rate(100e6, 500.0)


def test_zero_stress_holds_add_no_creep_damage_at_any_temperature() -> None:
    # Robinson's sum over a shutdown (0 Pa at 300 K) and a loaded hold equals the loaded
    # hold alone: t_R is infinite without stress (srlife's time_to_rupture does the same).
    curve = life.larson_miller("316H")
    both = life.robinson_fraction([7200.0, 3600.0], [0.0, 100e6], [300.0, 873.15], curve=curve)
    loaded = 3600.0 / float(curve.rupture_time(100e6, 873.15))
    assert float(both) == pytest.approx(loaded, rel=1e-15)
