"""Life laws: verification groups, vectorised solves, scatter, hand checks and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

import models.life as life
from models.errors import LawInputError, UnknownMaterialError
from models.verification.life import CASES


@pytest.mark.parametrize("group", sorted(CASES))
def test_life_verification_group_passes(group: str) -> None:
    results = CASES[group]()
    assert results
    failed = [r for r in results if not r.passed]
    assert not failed, [(r.name, r.computed, r.reference, r.rel_error) for r in failed]


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


def test_kachanov_rabotnov_obeys_the_time_fraction_rule_under_a_stress_step() -> None:
    # For this law (1 - omega)^(phi+1) falls linearly at a stress-dependent rate, so
    # life fractions add to one exactly (hand derivation from the damage-rate equation).
    law = life.KachanovRabotnov(B=2e-26, chi=2.8, phi=3.0)
    s1, s2 = 120e6, 90e6
    t1 = 0.3 * float(law.rupture_time(s1))
    _w, t_end = law.integrate([0.0, t1, 100 * t1], [s1, s2], omega_stop=0.99)
    expected = t1 + float(law.rupture_time(s2)) * (0.7 - 0.01**4)
    assert t_end == pytest.approx(expected, rel=1e-8)


def test_interaction_margin_along_given_direction_matches_hand_values() -> None:
    env = life.creep_fatigue_envelope("Grade 91")
    # From the origin along pure fatigue / pure creep the envelope is reached at 1.
    assert env.margin(0.0, 0.0, direction=(1.0, 0.0)) == pytest.approx(1.0)
    assert env.margin(0.0, 0.0, direction=(0.0, 1.0)) == pytest.approx(1.0)
    # At (0.05, 0.005) pure creep can add 1 - 9.9*0.05 - 0.005 = 0.5.
    assert env.margin(0.05, 0.005, direction=(0.0, 1.0)) == pytest.approx(0.5)
    # Outside: lambda - 1 < 0 along the origin ray; (0.2, 0.02) scales by 0.5 onto segment 2.
    lam = 0.01 / (0.01 * 0.2 + 0.9 * 0.02)
    assert env.margin(0.2, 0.02) == pytest.approx(lam - 1.0)
    assert not env.is_inside(0.2, 0.02)
    with pytest.raises(LawInputError, match="direction"):
        env.margin(0.0, 0.0)


def test_envelope_intersections_are_those_of_the_design_code_per_material() -> None:
    # ASME III-5 Fig. HBB-T-1420-2 as tabulated by the open hbbdata tests.
    for mat, knee in (("grade91", (0.1, 0.01)), ("316H", (0.3, 0.3)), ("A617", (0.1, 0.1))):
        env = life.creep_fatigue_envelope(mat)
        assert (env.fatigue_intersection, env.creep_intersection) == knee


def test_arrhenius_rate_ratio_and_norton_rate_match_hand_values() -> None:
    ox = life.ParabolicOxidation(k0=2e-8, Q=200e3, pilling_bedworth=2.1)
    r = ox.rate_constant(900.0) / ox.rate_constant(800.0)
    assert r == pytest.approx(math.exp(-200e3 / 8.314462618 * (1 / 900.0 - 1 / 800.0)), rel=1e-12)
    assert ox.metal_loss(2.1e-4) == pytest.approx(1e-4)
    # 1e-40 * (100e6)^5 * exp(0) = 1e-40 * 1e40 = 1 /s.
    assert life.norton_rate(100e6, 900.0, A=1e-40, n=5.0, Q=0.0) == pytest.approx(1.0)


def test_grade91_steam_oxidation_matches_hand_values_of_the_spallmap_t91_input() -> None:
    # SpallMap T91 input (oxide_growth_input3_t91.txt): x^2 = 2 kp t, kp = 1e12 micron^2/h
    # * exp(-198987 / (R T)). Hand values in SI with the law's R and T in K: after
    # 8760 h at 873.15 K, x = sqrt(2e12 * 1e-12 / 3600 * exp(-198987 / (8.314462618 *
    # 873.15)) * 8760 * 3600) m.
    ox = life.oxidation_law("T91")
    x_hand = math.sqrt(2.0 / 3600.0 * math.exp(-198987 / (8.314462618 * 873.15)) * 8760 * 3600)
    assert float(ox.oxide_thickness([8760 * 3600.0], 873.15)) == pytest.approx(x_hand, rel=1e-12)
    assert 1e-4 < x_hand < 1e-3  # about 0.15 mm of scale per year at 600 C
    assert ox.pilling_bedworth == life.pilling_bedworth_ratio("P91") == 2.10
    with pytest.raises(LawInputError, match="temperature: .*1000 K"):
        ox.rate_constant(1000.0)


def test_paris_threshold_stops_growth_and_closed_form_reports_infinite_life() -> None:
    law = life.ParisLaw(C=1e-29, m=3.0, Y=1.12, threshold=5e6)
    dk0 = float(law.delta_k(1e-3, 50e6))
    assert dk0 < 5e6
    assert math.isinf(float(law.cycles_closed_form(1e-3, 2e-3, 50e6)))
    assert float(law.grow([1e-3], np.full(100, 50e6))[0]) == 1e-3


LM = life.larson_miller("316H")
K600 = life.strain_life("316H", 873.0)
OX = life.ParabolicOxidation(k0=1e-9, Q=1e5, pilling_bedworth=2.0)
BAD_INPUTS = {
    "nan stress": (lambda: LM.rupture_time(float("nan"), 873.0), r"stress: must be finite"),
    "hot": (lambda: LM.rupture_time(100e6, 1500.0), r"temperature: .*1500 K.*extrapolate=True"),
    "overstress": (lambda: LM.rupture_time(1e9, 873.0), r"stress: .*calibrated"),
    "negative hold": (
        lambda: life.robinson_fraction([-1.0], 100e6, 873.0, curve=LM),
        r"durations: must be >= 0; element 0 is -1",
    ),
    "table temperature": (lambda: life.strain_life("316H", 2000.0), r"temperature: .*2000 K"),
    "negative amplitude": (
        lambda: life.cycles_to_failure(-0.001, constants=K600),
        r"strain_amplitude: must be >= 0",
    ),
    "large amplitude": (
        lambda: life.cycles_to_failure(0.05, constants=K600),
        r"strain_amplitude: .*calibrated",
    ),
    "shrinking crack": (
        lambda: life.ParisLaw(C=1e-29, m=3.0).cycles_closed_form(2e-3, 1e-3, 1e8),
        r"final_length",
    ),
    "negative damage": (
        lambda: life.creep_fatigue_envelope("316H").is_inside(-0.1, 0.1),
        r"fatigue: must be >= 0",
    ),
    "wall below minimum": (lambda: OX.time_to_wall(0.02, 0.03, 873.0), r"minimum_wall"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_raises_law_input_error_naming_argument_and_value(case: str) -> None:
    call, pattern = BAD_INPUTS[case]
    with pytest.raises(LawInputError, match=pattern):
        call()


def test_extrapolate_true_accepts_out_of_range_values_explicitly() -> None:
    curve = life.larson_miller("316H")
    assert np.isfinite(curve.rupture_time(100e6, 1150.0, extrapolate=True))
    k = life.strain_life("316H", 1000.0, extrapolate=True)
    assert float(k.E) < 139.4e9  # linear continuation, not a clamp to the last row


def test_unknown_and_missing_material_data_raise_unknown_material_error() -> None:
    with pytest.raises(UnknownMaterialError, match="unobtainium"):
        life.larson_miller("unobtainium")
    with pytest.raises(UnknownMaterialError, match="316h.*oxidation"):
        life.oxidation_law("316H")
    with pytest.raises(KeyError):  # UnknownMaterialError is also a KeyError
        life.oxidation_law("A617")


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
