"""Prognostic and calibration metrics against published values and hand computations.

ProgPy's values come from its own test profile and assertions: nasa/progpy,
tests/test_metrics.py (test_toe_profile_metrics, test_toe_profile_prognostic_horizon,
test_toe_profile_cumulative_relative_accuracy, test_toe_profile_monotonicity), against
src/progpy/metrics/toe_profile_metrics.py. The CRPS golden values are the closed form
for a Gaussian forecast (Gneiting & Raftery 2007, eq. 5):
CRPS(N(0, 1), y) = y (2 Phi(y) - 1) + 2 phi(y) - 1/sqrt(pi): 0.233695 at 0, 0.602441 at 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from twin.errors import TwinInputError
from twin.metrics import (
    alpha_lambda,
    convergence,
    coverage,
    crps,
    cumulative_relative_accuracy,
    interval_score,
    monotonicity,
    pit,
    prognostic_horizon,
    relative_accuracy,
)

# ---------------------------------------------------------------------------------------
# ProgPy's test profile, reproduced with the "progpy" convention
# ---------------------------------------------------------------------------------------


def progpy_profile() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """ProgPy's profile: at t = 10 - i (i = 0..9), 20 samples a = i..i+19, b = a - 1, c = 2a - 4.5.

    Added in decreasing time order, as ProgPy's test does (t_p may come in any order).
    """
    t_p = np.array([10.0 - i for i in range(10)])
    a = np.array([np.arange(i, i + 20, dtype=float) for i in range(10)])
    return t_p, {"a": a, "b": a - 1.0, "c": (a - 4.5) * 2.0 + 4.5}


def test_alpha_lambda_reproduces_progpy_published_values() -> None:
    t_p, toe = progpy_profile()
    truth = {"a": 9.0, "b": 8.0, "c": 18.0}

    def met(lam: float) -> dict[str, bool]:
        return {
            k: alpha_lambda(
                t_p, toe[k], truth[k], alpha=0.5, beta=0.05, lam=lam, convention="progpy"
            )
            for k in toe
        }

    # ProgPy: lambda 8 -> {'a': True, 'b': False, 'c': True}; lambda 5 -> all True.
    # At t = 8, a: bounds (8.5, 9.5) hold the sample 9 (1/20 = 0.05); b: (8, 8) is empty.
    assert met(8.0) == {"a": True, "b": False, "c": True}
    assert met(5.0) == {"a": True, "b": True, "c": True}


def test_prognostic_horizon_reproduces_progpy_published_values() -> None:
    t_p, toe = progpy_profile()

    def criterion(t: float, samples: np.ndarray, truth: float) -> bool:
        # ProgPy's criteria_eqn: |mean(tte) - tte*| < 0.6, i.e. |mean(ToE) - ToE*| < 0.6
        return bool(abs(samples.mean() - truth) < 0.6)

    def ph(truth: dict[str, float]) -> dict[str, float | None]:
        return {
            k: prognostic_horizon(t_p, toe[k], truth[k], criterion=criterion, convention="progpy")
            for k in toe
        }

    cases = [  # (ground truth, ProgPy's asserted horizons)
        ({"a": 9.0, "b": 8.0, "c": 18.0}, {"a": None, "b": None, "c": 10.0}),
        ({"a": 10.0, "b": 10.0, "c": 18.0}, {"a": 1.0, "b": 2.0, "c": 10.0}),
        ({"a": 9.0, "b": 14.0, "c": 18.0}, {"a": None, "b": 10.0, "c": 10.0}),
        ({"a": 10.0, "b": 8.0, "c": 10.0}, {"a": 1.0, "b": None, "c": None}),
        ({"a": 9.0, "b": 8.0, "c": 8.0}, {"a": None, "b": None, "c": None}),
    ]
    for truth, expected in cases:
        assert ph(truth) == expected


def test_cumulative_relative_accuracy_reproduces_progpy_published_values() -> None:
    t_p, toe = progpy_profile()
    # mean ToE of a at time t is 19.5 - t, so RA = 1 - (10.5 - t)/9 and the mean over
    # t = 1..10 is 1 - 50/90 = 0.4444; ProgPy asserts 0.4444444444444445, 0.375, 0.6388...
    published = {"a": 0.4444444444444445, "b": 0.375, "c": 0.6388888888888888}
    negative = {"a": 3.555555555555556, "b": 3.625, "c": 3.305555555555556}
    truth = {"a": 9.0, "b": 8.0, "c": 18.0}
    for k in toe:
        got = cumulative_relative_accuracy(t_p, toe[k], truth[k], convention="progpy")
        assert got == pytest.approx(published[k], rel=1e-14, abs=1e-15)
        got = cumulative_relative_accuracy(t_p, toe[k], -truth[k], convention="progpy")
        assert got == pytest.approx(negative[k], rel=1e-14)
    with pytest.raises(TwinInputError, match="truth"):
        cumulative_relative_accuracy(t_p, toe["a"], 0.0, convention="progpy")


def test_monotonicity_reproduces_progpy_published_values() -> None:
    t = np.arange(10.0)
    # ProgPy: the same 10 samples at every time -> mean RUL falls steadily -> 1.0
    a = np.tile(1 + np.arange(10) / 10, (10, 1))
    b = np.tile(2 - np.arange(10) / 5, (10, 1))
    assert monotonicity(t, a, 100.0, convention="progpy") == 1.0
    assert monotonicity(t, b, 100.0, convention="progpy") == 1.0
    t11 = np.arange(11.0)
    alternating = t11 + t11 * (t11 % 2 - 0.5)  # point forecasts, ProgPy: 0.0
    thirds = t11 + t11 * (t11 % 3 - 0.5)  # ProgPy: 0.4
    assert monotonicity(t11, alternating, 100.0, convention="progpy") == 0.0
    assert monotonicity(t11, thirds, 100.0, convention="progpy") == pytest.approx(0.4)
    # MultivariateNormalDist case: means a = i, b = i (i % 3 + 5) -> {'a': 0.0, 'b': 0.5}
    assert monotonicity(t11, t11, 100.0, convention="progpy") == 0.0
    assert monotonicity(t11, t11 * (t11 % 3 + 5), 100.0, convention="progpy") == 0.5


# ---------------------------------------------------------------------------------------
# The RUL convention by hand
# ---------------------------------------------------------------------------------------

# Point forecasts at t = 100..140 every 10 s and one after the event (t = 160), truth 150:
T_P = np.array([100.0, 110.0, 120.0, 130.0, 140.0, 160.0])
TOE = np.array([158.0, 151.0, 160.0, 152.0, 150.5, 175.0])
TRUTH = 150.0
# true RUL r* = 50, 40, 30, 20, 10 (the sixth is after the event and left out);
# predicted RUL = 58, 41, 40, 22, 10.5; |error| = 8, 1, 10, 2, 0.5
# RA = 1 - |error| / r* = 0.84, 0.975, 0.6666667, 0.9, 0.95
RA_RUL = np.array([0.84, 0.975, 1 - 10 / 30, 0.9, 0.95])


def test_relative_accuracy_rul_by_hand() -> None:
    # plain mean over the five predictions made before the event: 4.3316667 / 5
    assert relative_accuracy(T_P, TOE, TRUTH) == pytest.approx(0.8663333333333333, rel=1e-14)
    # lam = 0.5: t_lam = 100 + 0.5 (150 - 100) = 125 -> the prediction at 130: RA = 0.9
    assert relative_accuracy(T_P, TOE, TRUTH, lam=0.5) == pytest.approx(0.9, rel=1e-14)
    # progpy: RA = 1 - |error on ToE| / 150 over all six (the last: 1 - 25/150):
    # (0.946667 + 0.993333 + 0.933333 + 0.986667 + 0.996667 + 0.833333) / 6 = 0.9483333
    assert relative_accuracy(T_P, TOE, TRUTH, convention="progpy") == pytest.approx(
        5.69 / 6, rel=1e-14
    )
    # progpy lam is a time: 125 -> the prediction at 130: 1 - 2/150
    assert relative_accuracy(T_P, TOE, TRUTH, lam=125.0, convention="progpy") == pytest.approx(
        1 - 2 / 150, rel=1e-14
    )
    # RUL accuracy does not depend on the time origin; ToE accuracy does
    assert relative_accuracy(T_P - 100, TOE - 100, TRUTH - 100) == pytest.approx(0.8663333333333333)
    assert relative_accuracy(T_P - 100, TOE - 100, 50.0, convention="progpy") != pytest.approx(
        5.69 / 6
    )


def test_cumulative_relative_accuracy_rul_by_hand() -> None:
    assert cumulative_relative_accuracy(T_P, TOE, TRUTH) == pytest.approx(RA_RUL.mean())
    # lam = 0.5: predictions at or before t = 125: (0.84 + 0.975 + 0.666667) / 3 = 0.8272222
    assert cumulative_relative_accuracy(T_P, TOE, TRUTH, lam=0.5) == pytest.approx(
        (0.84 + 0.975 + 2 / 3) / 3, rel=1e-14
    )
    # weights 1..6 (the sixth is after the event): (0.84 + 1.95 + 2 + 3.6 + 4.75) / 15 = 0.876
    got = cumulative_relative_accuracy(T_P, TOE, TRUTH, weights=[1, 2, 3, 4, 5, 6])
    assert got == pytest.approx(0.876, rel=1e-14)
    # t_p in another order, weights following it
    shuffle = np.array([3, 0, 5, 1, 4, 2])
    got = cumulative_relative_accuracy(
        T_P[shuffle], TOE[shuffle], TRUTH, weights=np.arange(1.0, 7.0)[shuffle]
    )
    assert got == pytest.approx(0.876, rel=1e-14)


def test_relative_accuracy_rul_on_progpy_profile_by_hand() -> None:
    t_p, toe = progpy_profile()
    # c: mean ToE = 34.5 - 2t, true RUL 18 - t, predicted 34.5 - 3t; RA = 1 - |16.5 - 2t|/(18 - t)
    # t = 1..10: 0.147059, 0.21875, 0.3, 0.392857, 0.5, 0.625, 0.772727, 0.95, 0.833333,
    # 0.5625; mean 0.5302227
    t = np.arange(1.0, 11.0)
    by_hand = np.mean(1 - np.abs(16.5 - 2 * t) / (18 - t))
    assert by_hand == pytest.approx(0.5302227, abs=1e-7)
    assert cumulative_relative_accuracy(t_p, toe["c"], 18.0) == pytest.approx(by_hand, rel=1e-14)
    # a: only t = 1..8 precede the event at 9; RA = 1 - (10.5 - t)/(9 - t) = -1.5/(9 - t);
    # mean = -1.5 (1/8 + 1/7 + ... + 1) / 8 = -1.5 * 2.717857 / 8 = -0.5095982
    assert cumulative_relative_accuracy(t_p, toe["a"], 9.0) == pytest.approx(
        -1.5 * sum(1 / k for k in range(1, 9)) / 8, rel=1e-14
    )
    # alpha-lambda, c, lam = 0.5: t_lam = 1 + 0.5 (18 - 1) = 9.5 -> prediction at t = 10,
    # r* = 8, ToE bounds 18 +- 0.5 * 8 = [14, 22] hold 15.5, 17.5, 19.5, 21.5: 4/20 = 0.2
    assert alpha_lambda(t_p, toe["c"], 18.0, alpha=0.5, beta=0.2, lam=0.5)
    assert not alpha_lambda(t_p, toe["c"], 18.0, alpha=0.5, beta=0.25, lam=0.5)


def test_alpha_lambda_bounds_are_closed_for_rul_and_strict_for_progpy() -> None:
    # at t = 130 (rul: t_lam = 125; progpy: lam = 125), r* = 20, bounds 150 +- 0.1 * 20 =
    # [148, 152]; the forecast is 152, on the bound
    assert alpha_lambda(T_P, TOE, TRUTH, alpha=0.1, beta=1.0, lam=0.5)
    assert not alpha_lambda(T_P, TOE, TRUTH, alpha=0.1, beta=1.0, lam=125.0, convention="progpy")
    with pytest.raises(TwinInputError, match="lam"):
        alpha_lambda(T_P, TOE, TRUTH, lam=1.5)


def test_prognostic_horizon_in_both_readings_by_hand() -> None:
    # rul zone: 150 +- 0.1 (150 - 100) = [145, 155]; in zone: 151 (t=110), 152 (130),
    # 150.5 (140); not 158 (100), 160 (120)
    # first entry at t = 110: PH = 40; staying inside from t = 130: PH = 20
    assert prognostic_horizon(T_P, TOE, TRUTH, alpha=0.1, beta=1.0) == 40.0
    assert prognostic_horizon(T_P, TOE, TRUTH, alpha=0.1, beta=1.0, reading="stay") == 20.0
    # progpy zone: 150 +- 0.1 * 150 = (135, 165): every prediction before the event is in
    for reading in ("first", "stay"):
        assert (
            prognostic_horizon(
                T_P, TOE, TRUTH, alpha=0.1, beta=1.0, reading=reading, convention="progpy"
            )
            == 50.0
        )
    # never reached; and "stay" fails when the last prediction is outside
    assert prognostic_horizon(T_P, TOE, TRUTH, alpha=0.001, beta=1.0) is None
    assert prognostic_horizon(T_P[:3], TOE[:3], TRUTH, alpha=0.1, beta=1.0, reading="stay") is None


def test_convergence_by_hand() -> None:
    # M = 1 - RA = 0.16, 0.025, 1/3, 0.1, 0.05 held over [100,110), ..., [140,150)
    # area = 10 * 0.6683333 = 6.683333
    # x_c - t_P = sum((t1^2 - t0^2) M) / (2 area) with t from 0: (100*0.16 + 300*0.025
    #   + 500/3 + 700*0.1 + 900*0.05) / 13.366667 = 305.16667 / 13.366667 = 22.830424
    # y_c = 10 * (0.0256 + 0.000625 + 0.111111 + 0.01 + 0.0025) / 13.366667 = 0.112097
    # C = hypot(22.830424, 0.112097) = 22.830699
    m = 1 - RA_RUL
    area = 10 * m.sum()
    x_c = np.sum((np.arange(10, 60, 10.0) ** 2 - np.arange(0, 50, 10.0) ** 2) * m) / (2 * area)
    y_c = 10 * np.sum(m**2) / (2 * area)
    assert (x_c, y_c) == (pytest.approx(22.830424, abs=1e-6), pytest.approx(0.112097, abs=1e-6))
    assert convergence(T_P, TOE, TRUTH) == pytest.approx(math.hypot(x_c, y_c), rel=1e-12)
    assert convergence(T_P, np.full(6, TRUTH), TRUTH) == 0.0  # perfect predictions
    # the centroid moves later when the error persists: slower convergence, larger distance
    late = TOE.copy()
    late[3:5] = [158.0, 156.0]
    assert convergence(T_P, late, TRUTH) > convergence(T_P, TOE, TRUTH)
    early = TOE.copy()
    early[:2] = [180.0, 175.0]  # large errors that vanish: converges faster
    assert convergence(T_P, early, TRUTH) < convergence(T_P, TOE, TRUTH)


def test_monotonicity_rul_keeps_only_predictions_before_the_event() -> None:
    # mean RUL 58, 41, 40, 22, 10.5 before the event (monotonic: 1.0); the prediction after
    # it (RUL 15) turns up: progpy sees signs -, -, -, -, + -> |-3| / 5 = 0.6
    assert monotonicity(T_P, TOE, TRUTH) == 1.0
    assert monotonicity(T_P, TOE, TRUTH, convention="progpy") == pytest.approx(0.6)


# ---------------------------------------------------------------------------------------
# Calibration metrics
# ---------------------------------------------------------------------------------------


def crps_gaussian(y: float) -> float:
    return y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / math.sqrt(math.pi)


def crps_estimator_se(y: float, m: int) -> float:
    """Standard error of the CRPS estimate from m samples of N(0, 1).

    The estimator's influence function is h(x) = |x - y| - E|x - X'|, with
    E|x - X'| = 2 phi(x) + x (2 Phi(x) - 1) for X' ~ N(0, 1); SE = sqrt(Var h(X) / m).
    """

    def h(x: float) -> float:
        return abs(x - y) - (2 * stats.norm.pdf(x) + x * (2 * stats.norm.cdf(x) - 1))

    def moment(k: int) -> float:
        return float(
            integrate.quad(lambda x: h(x) ** k * stats.norm.pdf(x), -12, 12, points=[y], limit=200)[
                0
            ]
        )

    return math.sqrt((moment(2) - moment(1) ** 2) / m)


def test_crps_of_a_standard_normal_forecast_matches_the_golden_values() -> None:
    golden = {0.0: 0.233695, 1.0: 0.602441}
    # second method: the closed form, to the 6 printed digits
    for y, value in golden.items():
        assert crps_gaussian(y) == pytest.approx(value, abs=5e-7)
    # scoringrules on a large seeded sample, within 4 standard errors (2.3e-4 at 0 and
    # 7.3e-4 at 1 for m = 10^6)
    m = 1_000_000
    x = np.random.default_rng(2026).standard_normal(m)
    got = crps(np.array([0.0, 1.0]), np.stack([x, x]))
    for (y, value), g in zip(golden.items(), got, strict=True):
        se = crps_estimator_se(y, m)
        assert abs(g - value) < 4 * se, (y, g, se)
    assert isinstance(crps(0.0, x), float)
    # equal weights give the unweighted fair estimate
    w = np.full(m, 1.0 / m)
    assert crps(0.0, x, weights=w) == pytest.approx(float(got[0]), rel=1e-9)


def test_crps_of_a_small_ensemble_by_hand() -> None:
    # samples 0, 1, 2, 3 and y = 1.5: E|X - y| = (1.5 + 0.5 + 0.5 + 1.5) / 4 = 1;
    # sum_ij |x_i - x_j| = 20; fair: 1 - 20 / (2 * 4 * 3) = 0.1666667;
    # empirical ("qd"): 1 - 20 / (2 * 16) = 0.375
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert crps(1.5, x) == pytest.approx(1 / 6, rel=1e-12)
    assert crps(1.5, x, estimator="qd") == pytest.approx(0.375, rel=1e-12)
    with pytest.raises(TwinInputError, match="estimator"):
        crps(1.5, x, estimator="nonsense")


def test_interval_score_by_hand() -> None:
    # samples 0..4, probability 0.5: quantiles at 0.25 and 0.75 are 1 and 3, a = 0.5
    x = np.arange(5.0)
    obs = np.array([2.0, 0.0, 5.0])
    # inside: 3 - 1 = 2; below: 2 + (2/0.5)(1 - 0) = 6; above: 2 + 4 (5 - 3) = 10
    assert interval_score(obs, np.tile(x, (3, 1)), probability=0.5).tolist() == [2.0, 6.0, 10.0]
    assert interval_score(2.0, x, probability=0.5) == 2.0


def test_pit_and_coverage_by_hand_and_for_a_calibrated_forecast() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert pit(2.5, x) == 0.5
    assert pit(2.0, x) == pytest.approx(1.5 / 4)  # one below, one tied (half)
    assert pit(np.array([0.0, 9.0]), np.tile(x, (2, 1))).tolist() == [0.0, 1.0]
    # samples 0..4: the central 50 % interval is [1, 3]; 2 of 3 observations inside
    assert coverage(
        np.array([1.0, 3.0, 3.5]), np.tile(np.arange(5.0), (3, 1)), probability=0.5
    ) == (pytest.approx(2 / 3))
    # calibrated: truths and forecasts from the same N(mu, 1): coverage within 4 binomial
    # standard errors of 0.9, PIT uniform (Kolmogorov-Smirnov)
    rng = np.random.default_rng(3)
    k, m = 4000, 400
    mu = rng.normal(0, 5, k)
    samples = mu[:, None] + rng.standard_normal((k, m))
    truth = mu + rng.standard_normal(k)
    c = coverage(truth, samples, probability=0.9)
    assert abs(c - 0.9) < 4 * math.sqrt(0.9 * 0.1 / k)
    assert stats.kstest(pit(truth, samples), "uniform").pvalue > 1e-3
    # an overconfident forecast (spread 0.5 instead of 1) covers far less
    narrow = mu[:, None] + 0.5 * rng.standard_normal((k, m))
    assert coverage(truth, narrow, probability=0.9) < 0.7


def test_bad_profiles_and_options_raise_input_errors() -> None:
    with pytest.raises(TwinInputError, match="toe_samples"):
        relative_accuracy([1.0, 2.0], np.ones((3, 4)), 5.0)
    with pytest.raises(TwinInputError, match="distinct"):
        relative_accuracy([1.0, 1.0], np.ones((2, 4)), 5.0)
    with pytest.raises(TwinInputError, match="finite"):
        relative_accuracy([1.0, np.nan], np.ones((2, 4)), 5.0)
    with pytest.raises(TwinInputError, match="convention"):
        relative_accuracy([1.0, 2.0], np.ones((2, 4)), 5.0, convention="saxena")  # type: ignore[arg-type]
    with pytest.raises(TwinInputError, match="before the true event"):
        relative_accuracy([6.0, 7.0], np.ones((2, 4)), 5.0)
    with pytest.raises(TwinInputError, match="reading"):
        prognostic_horizon([1.0, 2.0], np.ones((2, 4)), 5.0, reading="last")  # type: ignore[arg-type]
    with pytest.raises(TwinInputError, match="beta"):
        alpha_lambda([1.0, 2.0], np.ones((2, 4)), 5.0, beta=1.5)
    with pytest.raises(TwinInputError, match="weights"):
        cumulative_relative_accuracy([1.0, 2.0], np.ones((2, 4)), 5.0, weights=[1.0, -1.0])
    with pytest.raises(TwinInputError, match="samples"):
        coverage(np.zeros(3), np.zeros((2, 5)))
    with pytest.raises(TwinInputError, match="probability"):
        interval_score(0.0, np.zeros(5), probability=1.0)
