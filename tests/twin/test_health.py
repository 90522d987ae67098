"""Sensor health: plausibility checks and the innovation CUSUM against theory.

References used below:
- Hampel filter false alarms: the per-reading probability for Gaussian noise follows
  from the exact density of a sample median (an order statistic; David & Nagaraja,
  Order Statistics, 3rd ed., eq. 2.1.6) convolved with the noise.
- CUSUM: Page (1954); Siegmund's ARL approximation (Siegmund 1985, Sequential
  Analysis); the published ARLs of the two-sided tabular CUSUM with k = 1/2, h = 5
  (Montgomery, Introduction to Statistical Quality Control, 6th ed., Table 9.3, after
  Hawkins 1993): ARL0 = 465, 10.4 at a 1-sigma shift, 5.75 at 1.5 sigma, 4.01 at 2;
  the Brook & Evans (1972, Biometrika 59, 539-548) Markov chain as a second method.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from scipy import integrate, special, stats

from twin.errors import TwinConfigError, TwinInputError
from twin.health import (
    QUALITY_BAD,
    QUALITY_GOOD,
    QUALITY_UNCERTAIN,
    HealthSettings,
    InnovationMonitor,
    PlausibilityChecker,
    SensorSpec,
    cusum_arl,
)

NOISE = 0.5  # K, thermocouple noise


def tc(sid: str = "tc", *, noise: float = NOISE, rate: float = 1.0) -> SensorSpec:
    return SensorSpec(sid, "temperature", 250.0, 1100.0, rate, noise)


def startup(t: np.ndarray) -> np.ndarray:
    """Outer-wall temperature of a start-up cycle, K: 30 min cold, 3 K/min up, hold, down."""
    period = 1800 + 4800 + 7200 + 4800 + 3600
    knots = np.array([0, 1800, 6600, 13800, 18600, period], dtype=float)
    temps = np.array([560, 560, 800, 800, 560, 560], dtype=float)
    return np.interp(np.mod(t, period), knots, temps)


def run(checker: PlausibilityChecker, t: np.ndarray, x: np.ndarray, k: int = 0) -> np.ndarray:
    return checker.check(np.full(t.size, k), t, x)


def median_false_alarm_bound(c: float, w: int) -> float:
    """P(|e - median_w(e')| > c) for e, e' independent N(0, 1): exact by quadrature.

    The sample median of w (odd) values is the ((w+1)/2)-th order statistic, density
    w!/(r!)^2 F^r (1-F)^r f with r = (w-1)/2.
    """
    r = (w - 1) // 2
    log_c = special.gammaln(w + 1) - 2 * special.gammaln(r + 1)

    def integrand(m: float) -> float:
        dens = math.exp(log_c + r * (stats.norm.logcdf(m) + stats.norm.logsf(m))) * stats.norm.pdf(
            m
        )
        return float(dens * (stats.norm.sf(c - m) + stats.norm.cdf(-c - m)))

    return float(integrate.quad(integrand, -12, 12, epsabs=0, epsrel=1e-10, limit=200)[0])


# ---------------------------------------------------------------------------------------
# Detection of each fault kind
# ---------------------------------------------------------------------------------------


def test_a_20_sigma_spike_is_bad_and_counted_and_its_neighbours_are_not() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(3000.0)
    x = startup(t) + rng.normal(0, NOISE, t.size)
    x[2000] += 20 * NOISE  # on the ramp
    checker = PlausibilityChecker([tc()], HealthSettings())
    q = run(checker, t, x)
    assert np.flatnonzero(q == QUALITY_BAD).tolist() == [2000]
    f = checker.flags()["tc"]
    assert (f["spike"], f["rate"], f["level_shifts"]) == (1, 0, 0)
    assert f["last_fault_time"] == 2000.0
    assert f["status"] == "suspect" and not f["bias_step"]


def test_a_stuck_thermocouple_is_flagged_within_the_window_while_the_signal_ramps() -> None:
    rng = np.random.default_rng(2)
    s = HealthSettings(stuck_window_s=120.0, flatline_window_s=600.0)
    t = np.arange(4000.0)
    x = startup(t) + rng.normal(0, NOISE, t.size)
    onset = 2500  # on the ramp (3 K/min): the value freezes at its last reading
    x[onset:3500] = x[onset - 1]
    checker = PlausibilityChecker([tc()], s)
    q = checker.check(np.zeros(3200, int), t[:3200], x[:3200])
    first_bad = int(np.flatnonzero(q == QUALITY_BAD)[0])
    assert (q[:first_bad] == QUALITY_GOOD).all()
    delay = t[first_bad] - t[onset]
    # The run of repeats starts at the last moving reading (onset - 1): flagged once it
    # has lasted stuck_window_s, i.e. window - 1 sample after the onset.
    assert s.stuck_window_s - 1.0 <= delay <= s.stuck_window_s + 1.0
    assert (q[first_bad:3200] == QUALITY_BAD).all()
    f = checker.flags()["tc"]
    assert f["stuck"] and f["status"] == "faulty" and f["spike"] == 0 and f["rate"] == 0
    # It moves again: the stuck flag clears once the readings vary.
    checker.check(np.zeros(800, int), t[3200:], x[3200:])
    assert not checker.flags()["tc"]["stuck"]


def test_a_flat_line_is_flagged_within_the_window_and_told_apart_from_stuck() -> None:
    rng = np.random.default_rng(3)
    s = HealthSettings(flatline_window_s=90.0, stuck_window_s=30.0)
    n_flat = math.ceil(s.flatline_window_s * 1.0)  # differences in the window at 1 Hz
    t = np.arange(3000.0)
    base = startup(t) + rng.normal(0, NOISE, t.size)
    onset = 2000
    cases = {
        # exactly constant where noise is expected (a substituted value): stuck as well
        "constant": np.full(1000, 650.0),
        # a substituted value with a dither far below the noise: the stuck test is blind
        "dither": 650.0 + rng.uniform(-0.02, 0.02, 1000),
        # a noiseless interpolated ramp: no repeats either
        "ramp": 650.0 + 0.05 * np.arange(1000),
    }
    for name, flat in cases.items():
        x = base.copy()
        x[onset:] = flat
        checker = PlausibilityChecker([tc()], s)
        # The window of N differences lies inside the flat part from reading onset + N on.
        head = onset + n_flat - 1
        run(checker, t[:head], x[:head])
        assert not checker.flags()["tc"]["flatline"], name
        q = run(checker, t[head : head + 2], x[head : head + 2])
        assert checker.flags()["tc"]["flatline"] and q[1] == QUALITY_BAD, name
        assert t[head + 1] - t[onset] <= s.flatline_window_s + 1.0  # the detection delay
        q = run(checker, t[head + 2 :], x[head + 2 :])
        f = checker.flags()["tc"]
        assert (q == QUALITY_BAD).all() and f["flatline"] and f["status"] == "faulty", name
        assert f["stuck"] is (name == "constant"), name


def test_a_rate_of_change_violation_is_bad_and_counted() -> None:
    rng = np.random.default_rng(4)
    t = np.arange(2000.0)
    x = 400.0 + rng.normal(0, NOISE, t.size)
    # an open-circuit drift: 20 K/s for 30 s (default limit 5 K/s), then a new level
    x[1000:1030] += 20.0 * np.arange(1, 31)
    x[1030:] = 1000.0 + rng.normal(0, NOISE, 970)
    checker = PlausibilityChecker([tc()], HealthSettings())
    q = run(checker, t, x)
    assert (q[:1000] == QUALITY_GOOD).all()
    assert (q[1000:1030] == QUALITY_BAD).all()
    f = checker.flags()["tc"]
    # the first readings of the ramp are spikes (the median lags); the rest break the rate
    assert f["rate"] >= 20 and f["spike"] + f["rate"] >= 30
    assert (q[1100:] == QUALITY_GOOD).all()  # the new level is accepted


def test_readings_outside_the_valid_range_or_not_finite_are_bad() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(400.0)
    x = 700.0 + rng.normal(0, NOISE, t.size)
    wrong = [50, 120, 121, 200, 300]
    x[wrong] = [1200.0, 100.0, np.nan, np.inf, -np.inf]
    checker = PlausibilityChecker([tc()], HealthSettings())
    q = run(checker, t, x)
    assert np.flatnonzero(q == QUALITY_BAD).tolist() == wrong
    f = checker.flags()["tc"]
    assert (f["out_of_range"], f["spike"], f["rate"]) == (5, 0, 0)


def test_incoming_quality_is_never_raised_and_bad_readings_are_not_used() -> None:
    rng = np.random.default_rng(6)
    t = np.arange(300.0)
    x = 700.0 + rng.normal(0, NOISE, t.size)
    x[100] = 900.0  # arrives bad: must not count as a spike nor poison the windows
    q_in = np.zeros(t.size, dtype=np.int8)
    q_in[100], q_in[150:160] = QUALITY_BAD, QUALITY_UNCERTAIN
    checker = PlausibilityChecker([tc()], HealthSettings())
    q = checker.check(np.zeros(t.size, int), t, x, q_in)
    assert q[100] == QUALITY_BAD and (q[150:160] == QUALITY_UNCERTAIN).all()
    assert np.count_nonzero(q != q_in) == 0
    f = checker.flags()["tc"]
    assert (f["spike"], f["rate"], f["out_of_range"], f["bad"]) == (0, 0, 0, 1)


def test_a_5_K_step_on_the_raw_signal_is_one_level_shift_found_within_4_readings() -> None:
    # 10 sigma of the noise, on the 3 K/min ramp, over 50 noise seeds. The spike test
    # catches the first readings only sometimes (the MAD of 11 readings is noisy); the
    # level-shift test compares medians of 5 and 11 readings and always fires once the
    # recent median has moved, i.e. from the third reading on (+ noise: up to the fifth).
    t = np.arange(3000.0)
    for seed in range(50):
        rng = np.random.default_rng(100 + seed)
        x = startup(t) + rng.normal(0, NOISE, t.size)
        x[2000:] += 5.0
        checker = PlausibilityChecker([tc()], HealthSettings())
        q = run(checker, t, x)
        flagged = np.flatnonzero(q != QUALITY_GOOD)
        assert flagged.min() >= 2000 and flagged.max() < 2000 + 15, seed
        assert 2000 + 2 <= np.flatnonzero(q == QUALITY_UNCERTAIN).min() <= 2000 + 6, seed
        assert flagged.min() <= 2000 + 4, seed
        f = checker.flags()["tc"]
        assert f["level_shifts"] == 1 and f["bias_step"] and f["status"] == "faulty", seed


def test_spike_flags_equal_a_plain_reference_hampel_filter() -> None:
    # Second implementation: np.median over every window (no partition, no state).
    rng = np.random.default_rng(8)
    s = HealthSettings(spike_sigma=3.0)
    n, w = 20_000, s.spike_window
    t = np.arange(float(n))
    x = 600.0 + 0.05 * t + rng.standard_t(3, n) * NOISE  # heavy tails: many spikes
    win = sliding_window_view(x, w)[:-1]
    med = np.median(win, axis=1)
    mad = np.median(np.abs(win - med[:, None]), axis=1)
    z = (x[w:] - med) / np.maximum(1.482602218505602 * mad, NOISE)
    expected = np.abs(z) > s.spike_sigma
    wide = SensorSpec("tc", "temperature", 0.0, 1.0e4, 1.0, NOISE)
    checker = PlausibilityChecker([wide], s)
    checker.check(np.zeros(n, int), t, x)
    assert checker.flags()["tc"]["spike"] == int(expected.sum()) > 100


# ---------------------------------------------------------------------------------------
# False alarms on healthy readings
# ---------------------------------------------------------------------------------------


def test_false_alarm_rate_on_gaussian_noise_is_below_the_median_test_bound() -> None:
    # A threshold low enough to count false alarms in 10^5 readings (c = 3.5). With the
    # noise floor on the scale, |z| > c needs |e - median| > c sigma, whose probability
    # (the bound) exceeds the plain Gaussian tail 2 Phi(-c) = 4.65e-4 because the median
    # of W = 11 readings is itself noisy (variance ~ pi / (2 W)); the MAD only widens
    # the scale, so it can lower the rate but never raise it.
    c = 3.5
    s = HealthSettings(spike_sigma=c)
    bound = median_false_alarm_bound(c, s.spike_window)
    assert 1.0e-3 < bound < 1.1e-3  # 1.031e-3, against 2 Phi(-c/sqrt(1+pi/22)) = 1.06e-3
    rate_bound = 2 * stats.norm.sf(c)  # rate test: |e_i - e_ref| > c sqrt(2) sigma
    n_per, sensors = 25_000, 4
    rng = np.random.default_rng(9)
    specs = [tc(f"tc{i}") for i in range(sensors)]
    checker = PlausibilityChecker(specs, s)
    t = np.repeat(np.arange(float(n_per)), sensors)
    k = np.tile(np.arange(sensors), n_per)
    q = checker.check(k, t, 600.0 + rng.normal(0, NOISE, t.size))
    n = t.size
    expected = (bound + rate_bound) * n
    false = int(np.count_nonzero(q == QUALITY_BAD))
    assert false <= expected + 4 * math.sqrt(expected)  # 149 + 49; seen: 81
    assert false >= 2 * stats.norm.sf(c) * n * 0.5  # the test is not dead either


def test_no_false_alarm_in_10_5_healthy_start_up_readings_at_the_defaults() -> None:
    # Bound per reading at c = 6: spike 1.86e-8 (median bound), rate 2 Phi(-6) = 2.0e-9,
    # stuck erf(r / 2 sigma)^60 = (1.1e-3)^60, flat-line below 1e-40 (Chernoff, below):
    # 2.1e-3 false alarms expected in 10^5 readings on a steady signal. The 3 K/min
    # ramps bias the causal median by at most slope * W = 0.55 K ~ 1.1 sigma, which
    # raises the spike bound on the ramp readings to at most 2.3e-6.
    s = HealthSettings()
    spike = median_false_alarm_bound(s.spike_sigma, s.spike_window)
    assert spike < 2.0e-8
    rng = np.random.default_rng(10)
    sensors, n_per = 4, 25_000
    specs = [tc(f"tc{i}") for i in range(sensors)]
    checker = PlausibilityChecker(specs, s)
    t1 = np.arange(float(n_per))
    t = np.repeat(t1, sensors)
    k = np.tile(np.arange(sensors), n_per)
    x = np.repeat(startup(t1), sensors) + rng.normal(0, NOISE, t.size)
    q = checker.check(k, t, x)
    assert np.count_nonzero(q != QUALITY_GOOD) == 0
    assert all(f["status"] == "ok" for f in checker.flags().values())


def test_flat_line_false_alarm_bound_by_chernoff_is_negligible() -> None:
    # Statistic: population variance of N successive differences of white noise,
    # Q = e' M e with M = D' P D / N; flat when Q < 2 (ratio sigma)^2. Chernoff:
    # P(Q < q) <= exp(t q) prod (1 + 2 t lambda_i)^-1/2 for any t > 0. Anderson's
    # inequality: adding a signal to e only lowers P(Q < q) (the set is convex, symmetric).
    s = HealthSettings()
    nf = math.ceil(s.flatline_window_s * 1.0)
    d = np.diff(np.eye(nf + 1), axis=0)  # (N, N+1) difference operator
    p = np.eye(nf) - 1.0 / nf
    lam = np.linalg.eigvalsh(d.T @ p @ d / nf)
    q = 2 * s.flatline_ratio**2
    log_bound = min(
        tt * q - 0.5 * np.sum(np.log1p(2 * tt * np.clip(lam, 0, None))) for tt in np.logspace(0, 6)
    )
    assert log_bound < math.log(1e-40)
    # and a direct look: 10^5 noise readings never look flat
    rng = np.random.default_rng(11)
    checker = PlausibilityChecker([tc()], s)
    run(checker, np.arange(1e5), 600.0 + rng.normal(0, NOISE, 100_000))
    assert checker.flags()["tc"]["bad"] == 0


# ---------------------------------------------------------------------------------------
# Innovation CUSUM against Page / Siegmund / published ARLs
# ---------------------------------------------------------------------------------------


def brook_evans_arl(mu: float, k: float, h: float, m: int = 600) -> float:
    """One-sided zero-state ARL of the upper CUSUM on N(mu, 1) (Brook & Evans 1972)."""
    w = 2.0 * h / (2 * m - 1)
    i = np.arange(m)
    centre = i * w
    hi = (i[None, :] + 0.5) * w - centre[:, None] + k - mu
    lo = (i[None, :] - 0.5) * w - centre[:, None] + k - mu
    r = stats.norm.cdf(hi) - stats.norm.cdf(lo)
    r[:, 0] = stats.norm.cdf(0.5 * w - centre + k - mu)
    return float(np.linalg.solve(np.eye(m) - r, np.ones(m))[0])


def run_lengths(shift: float, settings_: HealthSettings, replicas: int, seed: int) -> np.ndarray:
    """Zero-state run lengths: one sensor per replica, N(shift, 1) innovations."""
    rng = np.random.default_rng(seed)
    ids = [f"s{i}" for i in range(replicas)]
    monitor = InnovationMonitor(ids, settings_)
    lengths = np.zeros(replicas, dtype=np.int64)
    done = np.zeros(replicas, dtype=bool)
    chunk, seen = 500, 0
    while not done.all():
        k = np.repeat(np.arange(replicas), chunk)
        t = np.tile(np.arange(seen, seen + chunk, dtype=float), replicas)
        alarm = monitor.update(k, t, shift + rng.standard_normal(k.size)).reshape(replicas, chunk)
        fired = alarm.any(axis=1) & ~done
        lengths[fired] = seen + np.argmax(alarm[fired], axis=1) + 1
        done |= fired
        seen += chunk
    return lengths


def test_siegmund_approximation_is_within_4_percent_of_the_published_arls() -> None:
    # Montgomery Table 9.3 (two-sided tabular CUSUM, k = 1/2, h = 5).
    published = {0.0: 465.0, 1.0: 10.4, 1.5: 5.75, 2.0: 4.01}
    for shift, arl in published.items():
        approx = cusum_arl(shift, drift=0.5, threshold=5.0)
        assert abs(approx - arl) / arl < 0.04, (shift, approx)
    # the one-sided in-control ARL is twice the two-sided one: 938 by Siegmund
    assert cusum_arl(0.0, drift=0.5, threshold=5.0, two_sided=False) == pytest.approx(938.2, 1e-3)


def test_in_control_arl_of_the_two_sided_cusum_matches_465_by_simulation() -> None:
    s = HealthSettings(cusum_threshold=5.0, cusum_drift=0.5)
    one_sided = brook_evans_arl(0.0, 0.5, 5.0)
    assert one_sided == pytest.approx(930.0, rel=0.01)  # Markov chain, second method
    two_sided = 1.0 / (2.0 / one_sided)
    assert two_sided == pytest.approx(465.0, rel=0.01)
    lengths = run_lengths(0.0, s, replicas=4000, seed=12)
    se = lengths.std(ddof=1) / math.sqrt(lengths.size)  # ~7.4
    assert abs(lengths.mean() - 465.0) < 4 * se
    assert abs(lengths.mean() - 930.0) > 40 * se  # not the one-sided figure


def test_detection_delay_of_10_and_1_5_sigma_steps_matches_cusum_theory() -> None:
    s = HealthSettings(cusum_threshold=5.0, cusum_drift=0.5)
    # 10 sigma (5 K on 0.5 K noise): S+ jumps by 9.5 > h on the first reading unless
    # nu < 5.5, probability Phi(-4.5) = 3.4e-6.
    big = run_lengths(10.0, s, replicas=2000, seed=13)
    assert big.max() <= 2 and big.mean() < 1.001
    # 1.5 sigma: 5.75 readings (Montgomery Table 9.3), Brook-Evans as the second method.
    lengths = run_lengths(1.5, s, replicas=4000, seed=14)
    se = lengths.std(ddof=1) / math.sqrt(lengths.size)  # ~0.03
    assert brook_evans_arl(1.5, 0.5, 5.0) == pytest.approx(5.75, abs=0.02)
    assert abs(lengths.mean() - 5.75) < 4 * se
    # and at the defaults (h = 16): Siegmund 16.7 readings; steady-state is faster
    default = run_lengths(1.5, HealthSettings(), replicas=2000, seed=15)
    expected = cusum_arl(1.5, drift=0.5, threshold=16.0)
    assert abs(default.mean() - expected) / expected < 0.05


def test_a_5_K_bias_step_during_a_start_up_is_flagged_within_the_start_up() -> None:
    # Synthetic stand-in for the filter: the predicted outer-wall temperature is the
    # truth plus a slow model error (0.1 K, well below k sigma = 0.28 K: a persistent
    # error near k sigma would itself alarm within a few hundred readings), the predictive
    # variance is noise^2 + model^2. The thermocouple gets a 5 K bias 40 min into the ramp.
    rng = np.random.default_rng(16)
    t = np.arange(0.0, 18600.0)  # one start-up: cold hold, ramp, hot hold, ramp down
    truth = startup(t)
    onset = 1800 + 2400
    for model_std in (0.25, 3.0):  # sharp model, and one whose variance hides the step
        z = truth + rng.normal(0, NOISE, t.size) + np.where(t >= onset, 5.0, 0.0)
        predicted = truth + 0.1 * np.sin(2 * np.pi * t / 3600.0)
        nu = (z - predicted) / math.hypot(NOISE, model_std)
        monitor = InnovationMonitor(["tc_outer"], HealthSettings())
        alarm = monitor.update(np.zeros(t.size, int), t, nu)
        first = int(np.argmax(alarm))
        assert alarm.any() and first >= onset, model_std  # no false alarm before the step
        delay = t[first] - t[onset]
        delta = 5.0 / math.hypot(NOISE, model_std)
        expected = cusum_arl(delta, drift=0.5, threshold=16.0)  # 1.9 / 14.6 readings
        assert delay <= 3 * expected + 2, (model_std, delay, expected)
        a = monitor.alarms()["tc_outer"]
        assert a["active"] and a["direction"] == 1 and a["since"] == t[first]
        # the same stream through the raw-signal checks: a level shift as well
        checker = PlausibilityChecker([tc("tc_outer")], HealthSettings())
        run(checker, t, z)
        assert checker.flags(monitor)["tc_outer"]["bias_step"]


def test_monitor_skips_non_finite_innovations_and_reset_acknowledges() -> None:
    s = HealthSettings(cusum_threshold=5.0)
    monitor = InnovationMonitor(["a", "b"], s)
    nu = np.array([3.0, np.nan, 3.0, 3.0, np.nan, 0.0])
    alarm = monitor.update(np.zeros(6, int), np.arange(6.0), nu)
    # S+: 2.5, skip, 5.0 (not > 5), 7.5 -> alarm at index 3, kept through the NaN
    assert alarm.tolist() == [False, False, False, True, True, True]
    a = monitor.alarms()
    assert a["a"]["since"] == 3.0 and a["a"]["upper"] == pytest.approx(7.0)
    assert a["a"]["readings"] == 4 and not a["b"]["active"] and a["b"]["direction"] == 0
    monitor.reset("a")
    assert monitor.alarms()["a"] == {
        "active": False,
        "since": None,
        "direction": 0,
        "statistic": 0.0,
        "upper": 0.0,
        "lower": 0.0,
        "readings": 4,
    }
    alarm = monitor.update(np.zeros(3, int), np.array([6.0, 7.0, 8.0]), np.full(3, -3.0))
    assert alarm.tolist() == [False, False, True]  # S-: 2.5, 5.0, 7.5
    assert monitor.alarms()["a"]["direction"] == -1


# ---------------------------------------------------------------------------------------
# State: round trips and chunking invariance
# ---------------------------------------------------------------------------------------


def _faulty_stream() -> tuple[list[SensorSpec], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three interleaved sensors with every fault kind, a gap and incoming qualities."""
    rng = np.random.default_rng(17)
    specs = [
        tc("tc_a"),
        tc("tc_b", noise=0.3, rate=0.5),
        SensorSpec("p", "pressure", 0.0, 3.0e7, 1.0, 2.0e4),
    ]
    parts = []
    n = 700
    for k, spec in enumerate(specs):
        t = np.arange(n) / spec.rate_Hz + 0.1 * k
        if k == 1:
            t[400:] += 500.0  # a gap
        if spec.quantity == "pressure":
            x = 1.7e7 + 2.0e3 * np.arange(n) + rng.normal(0, spec.noise_std, n)
        else:
            x = startup(t + 1500.0) + rng.normal(0, spec.noise_std, n)
        x[100] += 30 * spec.noise_std  # spike
        x[200:290] = x[199]  # stuck / flat
        x[350] = np.nan
        x[500:] += 12 * spec.noise_std  # level shift
        x[600:620] += np.arange(20) * 15 * spec.noise_std  # rate violations
        q = np.where(rng.random(n) < 0.02, QUALITY_UNCERTAIN, QUALITY_GOOD).astype(np.int8)
        q[rng.random(n) < 0.01] = QUALITY_BAD
        parts.append((np.full(n, k), t, x, q))
    k, t, x, q = (np.concatenate(a) for a in zip(*parts, strict=True))
    order = np.argsort(t, kind="stable")
    return specs, k[order], t[order], x[order], q[order]


SPECS, K, T, X, Q = _faulty_stream()
SETTINGS = HealthSettings(
    stuck_window_s=30.0,
    flatline_window_s=40.0,
    max_rate={"temperature": 0.5, "pressure": 5.0e4},
    cusum_threshold=4.0,
)


def _states_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, np.ndarray):
            if va.shape != vb.shape or not np.array_equal(va, vb, equal_nan=va.dtype.kind == "f"):
                return False
        elif va != vb:
            return False
    return True


def _through_json(d: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint does: arrays kept as arrays (dtype, shape), the rest via JSON."""
    arrays = {k: np.array(v) for k, v in d.items() if isinstance(v, np.ndarray)}
    rest = json.loads(json.dumps({k: v for k, v in d.items() if not isinstance(v, np.ndarray)}))
    return {**rest, **arrays}


def test_the_faulty_stream_exercises_every_check() -> None:
    checker = PlausibilityChecker(SPECS, SETTINGS)
    checker.check(K, T, X, Q)
    for f in checker.flags().values():
        assert f["spike"] >= 1 and f["rate"] >= 1 and f["out_of_range"] == 1
        assert f["level_shifts"] >= 1 and f["bad"] > 60  # stuck and flat-line readings


@settings(max_examples=40)
@given(cuts=st.lists(st.integers(0, K.size), max_size=8))
def test_any_split_into_calls_gives_the_same_qualities_flags_and_state(cuts: list[int]) -> None:
    whole = PlausibilityChecker(SPECS, SETTINGS)
    q_whole = whole.check(K, T, X, Q)
    parts = PlausibilityChecker(SPECS, SETTINGS)
    edges = [0, *sorted(cuts), K.size]
    q_parts = np.concatenate(
        [
            parts.check(K[a:b], T[a:b], X[a:b], Q[a:b])
            for a, b in zip(edges, edges[1:], strict=False)
        ]
    )
    assert np.array_equal(q_whole, q_parts)
    assert whole.flags() == parts.flags()
    assert _states_equal(whole.state_dict(), parts.state_dict())


@settings(max_examples=40)
@given(cut=st.integers(0, K.size), cut2=st.integers(0, K.size))
def test_a_restored_checker_and_monitor_continue_identically(cut: int, cut2: int) -> None:
    a, b = sorted((cut, cut2))
    nu = np.random.default_rng(18).standard_normal(K.size) + np.where(T > 400, 1.0, 0.0)
    ids = [s.id for s in SPECS]
    checker = PlausibilityChecker(SPECS, SETTINGS)
    monitor = InnovationMonitor(ids, SETTINGS)
    q_ref = checker.check(K, T, X, Q)
    alarm_ref = monitor.update(K, T, nu)

    c1 = PlausibilityChecker(SPECS, SETTINGS)
    m1 = InnovationMonitor(ids, SETTINGS)
    q_head = c1.check(K[:a], T[:a], X[:a], Q[:a])
    alarm_head = m1.update(K[:a], T[:a], nu[:a])
    c2 = PlausibilityChecker.from_state_dict(_through_json(c1.state_dict()), SPECS, SETTINGS)
    m2 = InnovationMonitor.from_state_dict(_through_json(m1.state_dict()), ids, SETTINGS)
    q_tail = np.concatenate(
        [c2.check(K[a:b], T[a:b], X[a:b], Q[a:b]), c2.check(K[b:], T[b:], X[b:], Q[b:])]
    )
    alarm_tail = np.concatenate(
        [m2.update(K[a:b], T[a:b], nu[a:b]), m2.update(K[b:], T[b:], nu[b:])]
    )
    assert np.array_equal(np.concatenate([q_head, q_tail]), q_ref)
    assert np.array_equal(np.concatenate([alarm_head, alarm_tail]), alarm_ref)
    assert c2.flags() == checker.flags() and m2.alarms() == monitor.alarms()
    assert _states_equal(c2.state_dict(), checker.state_dict())
    assert _states_equal(m2.state_dict(), monitor.state_dict())


def test_state_dicts_hold_only_arrays_and_json_values() -> None:
    checker = PlausibilityChecker(SPECS, SETTINGS)
    checker.check(K, T, X, Q)
    monitor = InnovationMonitor([s.id for s in SPECS], SETTINGS)
    monitor.update(K, T, np.ones(K.size))
    for d in (checker.state_dict(), monitor.state_dict()):
        for key, value in d.items():
            if isinstance(value, np.ndarray):
                assert value.dtype.kind in "biuf", key  # no object arrays
            else:
                json.dumps(value)


def test_restoring_with_other_sensors_or_a_foreign_state_is_refused() -> None:
    checker = PlausibilityChecker(SPECS, SETTINGS)
    state = checker.state_dict()
    with pytest.raises(TwinInputError, match="sensor_ids"):
        PlausibilityChecker.from_state_dict(state, SPECS[:2], SETTINGS)
    with pytest.raises(TwinInputError, match="kind"):
        InnovationMonitor.from_state_dict(state, [s.id for s in SPECS], SETTINGS)
    del state["tail"]
    with pytest.raises(TwinInputError, match="tail"):
        PlausibilityChecker.from_state_dict(state, SPECS, SETTINGS)


# ---------------------------------------------------------------------------------------
# Bad settings and bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spike_sigma", 0.0),
        ("spike_sigma", float("nan")),
        ("spike_window", 10),
        ("spike_window", 3),
        ("spike_window", True),
        ("level_shift_window", 4),
        ("level_shift_sigma", -1.0),
        ("stuck_window_s", -5.0),
        ("flatline_window_s", "60"),
        ("flatline_ratio", 1.5),
        ("gap_intervals", 0.5),
        ("suspect_hold_s", float("inf")),
        ("cusum_threshold", 0.0),
        ("cusum_drift", -0.1),
        ("max_rate", {"temperature": -1.0}),
        ("max_rate", {"humidity": 1.0}),
        ("max_rate", 5.0),
        ("stuck_resolution", {"pressure": float("nan")}),
    ],
)
def test_bad_settings_raise_a_config_error_naming_field_and_value(field: str, value: Any) -> None:
    with pytest.raises(TwinConfigError) as err:
        HealthSettings(**{field: value})
    message = str(err.value)
    assert f"HealthSettings.{field}" in message
    shown = repr(value) if not isinstance(value, dict) else repr(next(iter(value)))
    if isinstance(value, dict) and "humidity" not in value:
        shown = repr(next(iter(value.values())))
    assert shown in message


def test_unknown_setting_keys_and_sensor_fields_are_named() -> None:
    with pytest.raises(TwinConfigError, match=r"twin\.health\.spike_sigmas: unknown setting"):
        HealthSettings.from_mapping({"spike_sigmas": 5.0}, where="twin.health")
    with pytest.raises(TwinConfigError, match=r"twin\.health\.spike_window: .*got 8"):
        HealthSettings.from_mapping({"spike_window": 8}, where="twin.health")
    assert HealthSettings.from_mapping(HealthSettings().to_dict()) == HealthSettings()
    with pytest.raises(
        TwinConfigError, match=r"SensorSpec\('h1'\)\.quantity: unknown quantity 'humidity'"
    ):
        SensorSpec("h1", "humidity", 0.0, 1.0, 1.0, 0.1)
    with pytest.raises(TwinConfigError, match=r"noise_std: .*got 0\.0"):
        SensorSpec("t1", "temperature", 250.0, 1100.0, 1.0, 0.0)
    with pytest.raises(TwinConfigError, match=r"valid_max: .*got 100\.0"):
        SensorSpec("t1", "temperature", 250.0, 100.0, 1.0, 0.5)
    with pytest.raises(TwinConfigError, match=r"sensors\[1\]\.id: duplicate sensor id 'tc'"):
        PlausibilityChecker([tc(), tc()], HealthSettings())
    with pytest.raises(TwinConfigError, match=r"sensor_ids\[1\]: duplicate"):
        InnovationMonitor(["a", "a"], HealthSettings())


def test_bad_input_raises_an_input_error_and_changes_nothing() -> None:
    checker = PlausibilityChecker([tc("a"), tc("b")], HealthSettings())
    checker.check(np.array([0, 1]), np.array([10.0, 10.0]), np.array([700.0, 700.0]))
    before = checker.state_dict()
    cases = [
        ((np.array([0, 2]), np.array([11.0, 11.0]), np.array([1.0, 1.0])), "index 2"),
        ((np.array([0]), np.array([11.0, 12.0]), np.array([1.0, 1.0])), "shapes"),
        ((np.array([0.5]), np.array([11.0]), np.array([700.0])), "integer"),
        (
            (np.array([1, 0]), np.array([11.0, 9.0]), np.array([700.0, 700.0])),
            "'a' must come in time order",
        ),
        ((np.array([0]), np.array([np.nan]), np.array([700.0])), "time: must be finite"),
    ]
    for args, match in cases:
        with pytest.raises(TwinInputError, match=match):
            checker.check(*args)
    with pytest.raises(TwinInputError, match="code 3"):
        checker.check(np.array([0]), np.array([11.0]), np.array([700.0]), np.array([3]))
    assert _states_equal(checker.state_dict(), before)
    monitor = InnovationMonitor(["a"], HealthSettings())
    with pytest.raises(TwinInputError, match="0..0"):
        monitor.update(np.array([1]), np.array([0.0]), np.array([0.0]))
    with pytest.raises(TwinInputError, match="unknown sensor 'z'"):
        monitor.reset("z")
