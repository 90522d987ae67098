"""Remaining-life forecast: plans, per-cycle tables, verification against direct integration.

The twin is a 64-particle twin of the example header after one FEM-truth start-up.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib

import numpy as np
import pytest

import models.life as life
from tests.twin.conftest import EXAMPLE, make_readings
from twin.errors import TwinConfigError
from twin.forecast import Forecaster, ForecastOptions, ModelParts
from twin.plan import load_plan, parse_plan, plan_from_history

PLAN = EXAMPLE.with_name("grade91_header.plan.toml")
YEAR = 365.25 * 86400.0


def one_kind_plan(*, starts=52.0, hold_h=100.0, ramp=25.0, hold_C=600.0, extra=""):
    """A deterministic plan of one start-up kind (numbers are fixed values)."""
    return parse_plan(
        tomllib.loads(f"""
schema_version = 1
name = "test"
[startups.cold]
starts_per_year = {starts}
start_temperature_degC = 150.0
start_pressure_MPa = 1.0
ramp_rate_degC_per_min = {ramp}
hold_temperature_degC = {hold_C}
hold_pressure_MPa = 17.0
hold_h = {hold_h}
shutdown_rate_degC_per_min = {ramp}
{extra}
""")
    )


@pytest.fixture(scope="module")
def twin64(example_config, truth_library, short_cycle):
    from models.config import parse_config
    from twin.state import Twin

    truth = truth_library.run(short_cycle, bore_htc=3000.0, wall_thickness=0.05)
    doc = example_config.to_dict()
    doc["twin"] = {**doc["twin"], "particles": 64, "block_s": 300.0}
    twin = Twin.from_config(parse_config(doc), seed=0, config_path=EXAMPLE)
    twin.update(make_readings(truth, cycles=1, seed=1))
    twin.flush()
    return twin


@pytest.fixture(scope="module")
def checkpoint(twin64, tmp_path_factory):
    return twin64.checkpoint(tmp_path_factory.mktemp("forecast") / "checkpoint")


def collapsed(twin, *, particle=3, parts=None, **opts):
    """A forecaster on one particle of the posterior (no posterior spread)."""
    fc = Forecaster.from_twin(twin, options=ForecastOptions(**opts))
    return Forecaster(
        parts=parts or fc.parts,
        posterior=fc.posterior.select(np.array([particle])),
        options=fc.options,
    )


# ---------------------------------------------------------------- plans
def test_example_plan_parses_and_round_trips_through_its_toml_document():
    plan = load_plan(PLAN)
    assert [k.name for k in plan.startups] == ["cold", "warm", "hot"]
    cold = plan.kind("cold")
    assert cold.ramp_rate == pytest.approx(3.0 / 60.0)  # degC/min -> K/s
    assert cold.hold_temperature == pytest.approx(565.0 + 273.15)
    assert cold.hold.params == pytest.approx((14 * 3600.0, 18 * 3600.0))
    assert plan.trips is not None and plan.trips.kind == "warm"
    assert parse_plan(plan.to_dict()) == plan


BAD_PLANS = [
    (
        ("startups", "cold", "ramp_rate_degC_per_min", -3.0),
        r"startups\.cold\.ramp_rate_degC_per_min: must be > 0 \(got -3\.0\)",
    ),
    (
        ("startups", "cold", "hold_h", {"distribution": "poisson", "mean": 3.0}),
        r"startups\.cold\.hold_h\.distribution: 'poisson' is for counts",
    ),
    (
        ("startups", "cold", "starts_per_year", {"distribution": "normal", "mean": 3.0}),
        r"starts_per_year: a normal distribution needs \['mean', 'std'\]; missing \['std'\]",
    ),
    (
        ("startups", "warm", "hold_temperature_degC", 300.0),
        r"startups\.warm\.hold_temperature_degC: must be above start_temperature_degC",
    ),
    (("trips", "kind", "boiling"), r"trips\.kind: 'boiling' is not a start-up kind"),
    (("startups", "hot", "colour", 1), r"startups\.hot: unknown keys \['colour'\]"),
]


@pytest.mark.parametrize(("edit", "message"), BAD_PLANS)
def test_bad_plan_fields_are_refused_naming_the_field_and_the_value(edit, message):
    doc = tomllib.loads(PLAN.read_text())
    *path, key, value = edit
    node = doc
    for p in path:
        node = node[p]
    node[key] = value
    with pytest.raises(TwinConfigError, match=message):
        parse_plan(doc, source="plan")


def test_plan_derived_from_a_history_counts_its_cycles_by_kind():
    # A synthetic fortnight, built corner by corner: ten start-ups at 3 K/min to 565 degC
    # (cold from 150 degC, warm from 350), 10 h holds, shut-downs at 2 K/min to the next
    # start temperature, and two trips out of warm holds (20 K/min down by 120 K, 1 h off,
    # back at 3 K/min, 4 h more at hold). The expected values follow from the corners.
    C = 273.15
    start = [150.0 if i % 5 < 2 else 350.0 for i in range(10)]
    corners = [(0.0, start[0] + C, 1e6)]

    def go(dt_h, T, p):
        corners.append((corners[-1][0] + dt_h * 3600.0, T + C, p))

    for i, T0 in enumerate(start):
        p0 = 1e6 if T0 < 200 else 6e6
        go(6.0, T0, p0)  # rest
        go((565.0 - T0) / (3.0 * 60.0), 565.0, 17e6)  # ramp up
        go(10.0, 565.0, 17e6)
        if i in (3, 7):  # a trip out of the hold and the restart
            go(120.0 / (20.0 * 60.0), 445.0, 6e6)
            go(1.0, 445.0, 6e6)
            go(120.0 / (3.0 * 60.0), 565.0, 17e6)
            go(4.0, 565.0, 17e6)
        nxt = start[i + 1] if i < 9 else T0
        go((565.0 - nxt) / (2.0 * 60.0), nxt, 1e6 if nxt < 200 else 6e6)  # shut down
    go(6.0, start[-1], 6e6)
    c = np.array(corners)
    t = np.arange(0.0, c[-1, 0], 10.0)
    plan = plan_from_history(t, np.interp(t, c[:, 0], c[:, 1]), np.interp(t, c[:, 0], c[:, 2]))
    span_years = (t[-1] - t[0]) / YEAR
    kinds = {k.name: k for k in plan.startups}
    assert set(kinds) == {"cold", "warm"}
    # the first start-up has no shut-down before it in the record: 3 cold, 6 warm counted
    assert kinds["cold"].starts_per_year.mean == pytest.approx(3 / span_years, rel=1e-3)
    assert kinds["warm"].starts_per_year.mean == pytest.approx(6 / span_years, rel=1e-3)
    for k in kinds.values():
        assert k.ramp_rate * 60.0 == pytest.approx(3.0, rel=0.02)
        assert k.shutdown_rate * 60.0 == pytest.approx(2.0, rel=0.02)
        assert k.hold_temperature - C == pytest.approx(565.0, abs=0.5)
        assert k.hold_pressure == pytest.approx(17e6, rel=1e-3)
    assert kinds["cold"].start_temperature - C == pytest.approx(150.0, abs=0.5)
    assert kinds["warm"].start_temperature - C == pytest.approx(350.0, abs=0.5)
    # time within the 15 K band: 10 h + the ramps' last 15 K (5 min up, 7.5 min down);
    # with a trip also the trip's first 15 K (0.75 min), the reheat's last (5 min), 4 h
    plain = 10.0 + (5.0 + 7.5) / 60.0
    tripped = plain + 4.0 + (0.75 + 5.0) / 60.0
    assert kinds["cold"].hold.mean / 3600.0 == pytest.approx(plain, abs=0.05)
    assert kinds["warm"].hold.mean / 3600.0 == pytest.approx(
        (4 * plain + 2 * tripped) / 6, abs=0.05
    )
    assert plan.trips is not None and plan.trips.kind == "warm"
    assert plan.trips.per_year.mean == pytest.approx(2 / span_years, rel=1e-3)
    assert plan.trips.temperature_drop == pytest.approx(120.0, abs=1.0)
    assert plan.trips.cooling_rate * 60.0 == pytest.approx(20.0, rel=0.05)


# ---------------------------------------------------------------- per-cycle tables
def _equivalent_strain(stress, T):
    # twin.damage's equivalent strain, written out: sign(hoop) * von Mises / E(T)
    from twin._damage_laws import Modulus

    s = stress
    vm = np.sqrt(0.5 * ((s[0] - s[1]) ** 2 + (s[1] - s[2]) ** 2 + (s[2] - s[0]) ** 2))
    return np.sign(s[1]) * vm / Modulus("grade91")(T)


def test_per_cycle_damage_is_the_periodic_rainflow_count_and_robinson_sum(twin64):
    # Independent of twin.damage: ASTM E1049 on the history rotated to start at its
    # largest value (the count of the repeated cycle) with models.life's strain-life law,
    # and Robinson's trapezoid sum with models.life's rupture time (bisection).
    from twin._forecast_cycles import build_cycle_tables

    fc = collapsed(twin64, particle=3)
    plan = one_kind_plan(ramp=25.0, hold_C=600.0)
    tab = build_cycle_tables(model_parts=fc.parts, plan=plan, bore_htc=fc.posterior.bore_htc,
                             wall=fc.posterior.wall, wall_offsets=np.zeros(1),
                             creep_factors=np.array([0.9, 1.1]), keep_histories=True)  # fmt: skip
    t, S, T = tab.histories[(0, 0)]
    k = life.strain_life("grade91", 813.15, extrapolate=True)
    curve = life.larson_miller("grade91")
    w = np.zeros(t.size)
    w[:-1] += 0.5 * np.diff(t)
    w[1:] += 0.5 * np.diff(t)
    for li, loc in enumerate(tab.locations):
        eps = _equivalent_strain(S[loc][0], T[loc][0])
        i = int(np.argmax(eps))
        cyc = life.count_cycles(np.concatenate([eps[i:], eps[1 : i + 1]]))
        amp = cyc.ranges / 2
        live = amp >= k.strain_amplitude_range[0]  # below the design curve: no damage
        ref = np.sum(
            cyc.counts[live] / life.cycles_to_failure(amp[live], constants=k, extrapolate=True)
        )
        assert tab.fatigue[0, 0, li, 0] == pytest.approx(ref, rel=1e-9)
        s = S[loc][0]
        vm = np.sqrt(0.5 * ((s[0] - s[1]) ** 2 + (s[1] - s[2]) ** 2 + (s[2] - s[0]) ** 2))
        for m, f in enumerate(tab.creep_factors):
            hot = T[loc][0] >= 773.15
            sig = np.maximum(vm[hot] / f, 30e6)  # the 'limit' rule below the calibrated range
            ref_c = np.sum(w[hot] / curve.rupture_time(sig, T[loc][0][hot]))
            assert tab.creep[0, 0, li, 0, m] == pytest.approx(ref_c, rel=1e-6)
    assert tab.fatigue[0, 0, 0, 0] > 0  # the fast ramp does fatigue damage at the bore


def test_wall_and_creep_factor_interpolation_errors_are_small(twin64):
    # One build at five walls and nine creep-strength factors; the forecast's
    # interpolation from every other node is compared with the nodes in between.
    from twin._forecast_cycles import build_cycle_tables
    from twin._forecast_step import lagrange_weights, log_interp

    fc = collapsed(twin64, particle=5)
    plan = one_kind_plan(ramp=25.0, hold_C=600.0)
    wo = np.linspace(0.0, 0.002, 5)
    cf = np.exp(np.linspace(np.log(0.75), np.log(1.35), 9))
    tab = build_cycle_tables(model_parts=fc.parts, plan=plan, bore_htc=fc.posterior.bore_htc,
                             wall=fc.posterior.wall, wall_offsets=wo, creep_factors=cf)  # fmt: skip
    W = lagrange_weights(wo[::2], wo[1::2], order=1)
    # linear in log between nodes 1 mm apart; measured: fatigue 4e-3, creep stress 2e-4,
    # oxide 2e-5 (the errors fall with the square of the spacing; the forecast's nodes
    # span the horizon's wall loss, a few tenths of a mm for the example)
    for name, tol in (("fatigue", 1e-2), ("hold_stress", 5e-4), ("oxide", 1e-4)):
        a = getattr(tab, name)
        both = (a[:, :-1:2] > 0) & (a[:, 2::2] > 0)  # where a node is zero: linear in value
        lin = np.einsum("kj...,mj->km...", a[:, ::2], W)
        est = np.exp(np.einsum("kj...,mj->km...", np.log(np.maximum(a[:, ::2], 1e-300)), W))
        est = np.where(both, est, lin)
        b = a[:, 1::2]
        ok = both & (b > 0)
        assert np.max(np.abs(est[ok] / b[ok] - 1)) < tol, name
        # a fatigue damage switching on at the end of the design curve (1e8 cycles, 1e-8
        # per cycle): the error is of that size, not of the damages that matter
        assert np.all(np.abs(est - b)[~both] < 1e-7), name
    # the hold's rupture rate, evaluated at the nodes' creep stresses and interpolated
    # the same way (measured 2.6e-3 at 1 mm)
    curve = life.larson_miller("grade91")
    rate = 1.0 / curve.rupture_time(tab.hold_stress[0, :, 0, 0], tab.hold_temperature[0, :, 0, 0])
    est = np.exp(W @ np.log(rate[::2]))
    assert np.max(np.abs(est / rate[1::2] - 1)) < 1e-2
    bore = tab.creep[:, 0, 0]  # (K, P, M); measured <= 0.3 % at the bore
    for m, f in enumerate(cf[1::2]):
        est = log_interp(bore[..., ::2], cf[::2], np.full(1, f))
        assert np.max(np.abs(est / bore[..., 1 + 2 * m] - 1)) < 5e-3


# ---------------------------------------------------------------- verification
def _reference(fc, plan, result, *, C=None, lf=None):
    """Direct step-by-step integration with models.life's laws, cycle by cycle.

    One cycle per step. At each wall node of the forecast's tables, the per-cycle
    increments: fatigue, creep (the simulated cycle's plus the hold's with
    ``LarsonMillerCurve.rupture_time``, a bisection on the Larson-Miller parameter, with
    each sample's own constant C) and oxide (the parabolic rate from the oxidation
    constants); between the nodes ``numpy.interp`` in their logarithm (in the value next
    to a zero); the failure time
    inside a step by bisection on the envelope test and on the wall. The samples are
    independent (``C``, ``lf``: per-sample material; default the mean curves); they are
    advanced side by side only to save time.
    """
    meta = result.meta
    tab = fc.tables(plan, creep_factors=np.array(meta["creep_factor_nodes"]),
                    wall_offsets=np.array(meta["wall_offsets_m"]))  # fmt: skip
    post, ds = fc.posterior, fc.parts.damage_settings
    curve = life.larson_miller(ds.material)
    ox = life.oxidation_law(ds.material)
    env = life.creep_fatigue_envelope(ds.material)
    C = np.array([curve.C]) if C is None else np.asarray(C)
    lf = np.ones(C.size) if lf is None else np.asarray(lf)
    M = C.size
    wo = tab.wall_offsets
    kind = plan.startups[0]
    Q = meta["steps_per_year"]
    assert kind.starts_per_year.params[0] == Q  # one cycle per step
    e = kind.hold.params[0] - tab.settle  # hold beyond the simulated settle
    f = post.params["creep_strength_factor"][0]
    of = post.params["oxidation_factor"][0]
    U = meta["damage_limit"]
    x0, r = ds.initial_oxide_thickness, ox.pilling_bedworth
    w_ref = post.wall[0]
    w_init = w_ref + (math.sqrt(post.oxide_sq[0]) - x0) / r
    w_min = fc.parts.settings.minimum_wall_thickness
    L = len(tab.locations)
    iox = tab.locations.index(ds.oxidation_location)
    assert tab.creep.shape[-1] == 1  # a collapsed posterior: one creep-strength factor

    # the laws at the wall nodes, per sample: (M, J, L) and (M, J)
    T = tab.hold_temperature[0, :, :, 0]
    sig = np.maximum(tab.hold_stress[0, :, :, 0] / f, curve.stress_range[0])
    t_R = curve.rupture_time(sig[None], T[None], C=C[:, None, None])
    rate = np.where(T[None] >= ds.creep_cutoff, 1.0 / t_R, 0.0)
    scale = 10.0 ** (C - curve.C)  # the simulated cycle's creep: t_R goes as 10^-C
    per_f = np.broadcast_to(tab.fatigue[0, :, :, 0][None], rate.shape) / lf[:, None, None]
    per_c = np.maximum(tab.creep[0, :, :, 0, 0][None] * scale[:, None, None] + e * rate, 0.0)
    Tb = T[:, iox]
    kp = np.where(
        Tb >= ds.oxidation_cutoff, ox.k0 * np.exp(-ox.Q / (life.creep.GAS_CONSTANT * Tb)), 0.0
    )
    per_x = of * np.maximum(tab.oxide[0, :, 0] + e * kp, 0.0)

    def at(d, nodes):  # (M, J) -> (M,): linear in the logarithm between the wall nodes,
        # linear in the value next to a zero node
        if wo.size == 1:
            return np.asarray(nodes)[:, 0].copy()
        out = np.empty(M)
        for m in range(M):
            k = min(max(int(np.searchsorted(wo, d[m], side="right")) - 1, 0), wo.size - 2)
            pair = nodes[m, k : k + 2]
            if np.all(pair > 0):
                out[m] = np.exp(np.interp(d[m], wo, np.log(np.maximum(nodes[m], 1e-300))))
            else:
                out[m] = np.interp(d[m], wo, nodes[m])
        return out

    Df = np.tile(post.fatigue[:, 0], (M, 1)) / lf[:, None]
    Dc = np.tile(post.creep[:, 0], (M, 1)) * scale[:, None]
    x2 = np.full(M, post.oxide_sq[0])
    ttf = np.full(M, np.inf)
    trace = []
    for i in range(int(round(meta["horizon_years"] * Q))):
        w = w_init - (np.sqrt(x2) - x0) / r
        d = np.clip(w_ref - w, wo[0], wo[-1])
        dDf = np.stack([at(d, per_f[:, :, li]) for li in range(L)], axis=1)
        dDc = np.stack([at(d, per_c[:, :, li]) for li in range(L)], axis=1)
        x2_new = x2 + at(d, np.broadcast_to(per_x, (M, wo.size)))

        def failed(tau, Df=Df, Dc=Dc, dDf=dDf, dDc=dDc, x2=x2, x2_new=x2_new):
            inside = env.is_inside((Df + tau[:, None] * dDf) / U, (Dc + tau[:, None] * dDc) / U)
            out = ~np.all(inside, axis=1)
            if w_min is not None:
                xx = x2 + tau * (x2_new - x2)
                out |= w_init - (np.sqrt(xx) - x0) / r <= w_min
            return out

        new = np.isinf(ttf) & failed(np.ones(M))
        if new.any():
            a, b = np.zeros(M), np.ones(M)
            for _ in range(60):
                m = 0.5 * (a + b)
                bad = failed(m)
                a, b = np.where(bad, a, m), np.where(bad, m, b)
            ttf[new] = (i + b[new]) / Q
        Df, Dc, x2 = Df + dDf, Dc + dDc, x2_new
        if np.isinf(ttf[0]):
            trace.append((Df[0].copy(), Dc[0].copy(), w_init - (math.sqrt(x2[0]) - x0) / r))
        if np.isfinite(ttf).all():
            break
    return ttf, trace


@pytest.mark.parametrize("case", ["creep", "wall"])
def test_collapsed_deterministic_forecast_equals_step_by_step_integration(twin64, case):
    # Posterior collapsed to one particle, no material scatter, held parameters at their
    # medians, a fixed plan with one cycle per step: the vectorised forecast must equal
    # the direct integration of the life laws to 1e-6 (relative time to failure).
    fc0 = collapsed(twin64, samples=3, horizon_years=40.0, steps_per_year=52, damage_limit=1.0,
                    material_scatter=False, sample_held=False)  # fmt: skip
    post = fc0.posterior
    if case == "creep":
        opts = dataclasses.replace(fc0.options, damage_limit=0.1)
        fc = Forecaster(parts=fc0.parts, posterior=post, options=opts)
    else:  # strong oxidation and a minimum wall 0.3 mm below today's
        settings = dataclasses.replace(
            fc0.parts.settings, minimum_wall_thickness=float(post.wall[0]) - 3e-4
        )
        parts = dataclasses.replace(fc0.parts, settings=settings)
        params = {**post.params, "oxidation_factor": np.array([5.0])}
        fc = Forecaster(
            parts=parts, posterior=dataclasses.replace(post, params=params), options=fc0.options
        )
    plan = one_kind_plan(starts=52.0, hold_h=100.0, ramp=25.0, hold_C=600.0)
    result = fc.run(plan, seed=0)
    ref, trace = _reference(fc, plan, result)
    assert np.isfinite(ref[0]) and 0.5 < ref[0] < 40.0  # the case fails inside the horizon
    np.testing.assert_allclose(result.time_to_failure, ref[0], rtol=1e-6)
    assert result.mechanism[0] == (1 if case == "creep" else 3)  # creep leg / wall thinning
    n = len(trace)
    tr = result.trajectories
    np.testing.assert_allclose(tr["creep"][1 : n + 1, 0], [t[1] for t in trace], rtol=1e-6)
    np.testing.assert_allclose(tr["fatigue"][1 : n + 1, 0], [t[0] for t in trace], rtol=1e-6)
    np.testing.assert_allclose(tr["wall"][1 : n + 1, 0], [t[2] for t in trace], rtol=1e-6)


def test_material_scatter_quantiles_match_a_brute_force_monte_carlo(twin64):
    # Only material scatter: the forecast (scatter as life multipliers, 4000 samples)
    # against a brute-force Monte Carlo that evaluates the laws with each sample's own
    # Larson-Miller constant and fatigue life (400 samples, independent draws). Sampling
    # error: each forecast quantile must lie inside the brute force's distribution-free
    # 3-sigma band of order statistics, ranks n q -/+ 3 sqrt(n q (1 - q)).
    fc = collapsed(twin64, samples=4000, horizon_years=40.0, steps_per_year=52, damage_limit=0.01,
                   material_scatter=True, sample_held=False)  # fmt: skip
    plan = one_kind_plan(starts=52.0, hold_h=100.0, ramp=25.0, hold_C=600.0)
    result = fc.run(plan, seed=11)
    st = fc.parts.settings
    rng = np.random.default_rng(2024)
    n = 400
    C = life.larson_miller("grade91").C + st.larson_miller_C_std * rng.standard_normal(n)
    lf = 10.0 ** (st.fatigue_log10_std * rng.standard_normal(n))
    brute, _ = _reference(fc, plan, result, C=C, lf=lf)
    assert np.isfinite(brute).mean() > 0.97  # the quantiles lie inside the horizon
    srt = np.sort(brute)
    for q in (0.05, 0.5, 0.95):
        ours = float(np.quantile(result.time_to_failure, q, method="inverted_cdf"))
        half = 3.0 * math.sqrt(n * q * (1 - q))
        lo, hi = srt[max(0, int(n * q - half))], srt[min(n - 1, int(math.ceil(n * q + half)))]
        assert lo <= ours <= hi, (q, lo, ours, hi)


def test_forecast_is_reproducible_for_a_seed_and_reports_the_contract(twin64):
    fc = Forecaster.from_twin(twin64, options=ForecastOptions(samples=300, horizon_years=20.0))
    plan = load_plan(PLAN).with_parameter("hold_temperature", 600.0 + 273.15)
    a, b, c = fc.run(plan, seed=5), fc.run(plan, seed=5), fc.run(plan, seed=6)
    np.testing.assert_array_equal(a.time_to_failure, b.time_to_failure)
    np.testing.assert_array_equal(a.trajectories["usage"], b.trajectories["usage"])
    assert not np.array_equal(a.trajectories["usage"], c.trajectories["usage"])
    s = a.summary()
    assert set(s) == {
        "rul_years",
        "horizon_years",
        "probability_of_failure",
        "mechanism",
        "location",
        "samples",
    }
    assert set(s["rul_years"]) == {"p05", "p50", "p95"} and s["samples"] == 300
    p = np.array(s["probability_of_failure"])
    assert p[0, 0] == 0.0 and p[-1, 0] == pytest.approx(20.0)
    assert np.all(np.diff(p[:, 1]) >= 0) and p[-1, 1] <= 1.0
    assert sum(s["mechanism"].values()) == pytest.approx(1.0)
    assert sum(s["location"].values()) == pytest.approx(1.0)
    assert s["mechanism"]["none"] == pytest.approx(1.0 - p[-1, 1])
    ds = a.dataset()
    assert ds["time_to_failure"].attrs["units"] == "year"
    assert ds.sizes["sample"] == 300 and ds.sizes["time"] == 241


def test_advice_finds_the_hottest_hold_within_the_target_and_brackets_it(twin64):
    from twin.advice import advise

    fc = collapsed(twin64, samples=400, horizon_years=20.0, steps_per_year=4, sample_held=True)
    plan = one_kind_plan(starts=50.0, hold_h=100.0, ramp=3.0, hold_C=565.0)
    a = advise(fc, plan, parameter="hold_temperature", bounds=(560.0 + 273.15, 640.0 + 273.15),
               by_years=20.0, max_probability=0.05, tolerance=0.5, seed=3)  # fmt: skip
    assert a.value is not None and not a.at_bound
    ev = {round(x, 9): p for x, p, _ in a.evaluations}
    assert ev[round(a.value, 9)] <= 0.05
    above = [p for x, p, _ in a.evaluations if a.value < x <= a.value + 0.5 + 1e-9]
    assert above and min(above) > 0.05  # the bracket's upper end fails the target
    lo, hi = a.interval
    assert lo is not None and hi is not None and lo <= a.value <= hi
    # common random numbers: the failure probability rises with the hold temperature
    xs, ps = zip(*sorted((x, p) for x, p, _ in a.evaluations), strict=True)
    assert np.all(np.diff(ps) >= 0)


def test_fleet_forecasts_do_not_depend_on_the_number_of_dask_workers(checkpoint):
    from twin.fleet import FleetMember, forecast_fleet, forecast_member

    opts = ForecastOptions(samples=200, horizon_years=10.0, steps_per_year=4)
    members = [FleetMember(EXAMPLE, checkpoint, PLAN, f"unit-{i}") for i in range(3)]
    one = forecast_fleet(members, options=opts, seed=1, workers=1, processes=False)
    two = forecast_fleet(members, options=opts, seed=1, workers=2, processes=False)
    again = forecast_member(members[1], options=opts, seed=1)  # a re-executed task
    for r1, r2 in zip(one, two, strict=True):
        assert r1["identity"] == r2["identity"]
        assert r1["summary"] == r2["summary"]
        np.testing.assert_array_equal(r1["time_to_failure"], r2["time_to_failure"])
    assert json.dumps(again["summary"]) == json.dumps(one[1]["summary"])
    assert len({r["seed"] for r in one}) == 3  # seeded by identity, not by position


def test_twin_forecast_command_writes_the_contract_and_is_reproducible(checkpoint, tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    hot = tmp_path / "hot.toml"
    text = PLAN.read_text().replace(
        "hold_temperature_degC = 565.0", "hold_temperature_degC = 600.0"
    )
    hot.write_text(text.replace('name = "two-shift"', 'name = "two-shift 600 degC"'))
    args = ["forecast", str(EXAMPLE), "--checkpoint", str(checkpoint.parent), "--plan", str(PLAN),
            "--samples", "200", "--horizon-years", "10", "--seed", "4", "--json"]  # fmt: skip
    r1 = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert r1.exit_code == 0, r1.output
    doc = json.loads(r1.output)
    assert set(doc) == {
        "rul_years",
        "horizon_years",
        "probability_of_failure",
        "mechanism",
        "location",
        "samples",
    }
    assert doc["horizon_years"] == 10.0 and doc["samples"] == 200
    r2 = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b"), "--compare", str(hot)])
    assert r2.exit_code == 0, r2.output
    both = json.loads(r2.output)
    assert both["forecast"] == doc  # the same seed gives the same output
    assert [c["plan"] for c in both["compare"]] == ["two-shift", "two-shift 600 degC"]
    for name in ("forecast.zarr", "summary.json", "fan.png", "risk.png"):
        assert (tmp_path / "a" / name).exists()
    assert (tmp_path / "b" / "compare.png").exists() and (tmp_path / "b" / "compare.json").exists()
    bad_args = ["forecast", str(EXAMPLE), "--checkpoint", str(checkpoint), "--plan", str(PLAN)]
    bad = CliRunner().invoke(main, [*bad_args, "--samples", "0", "--out", str(tmp_path / "c")])
    assert bad.exit_code != 0 and "forecast.samples: must be an integer >= 1 (got 0)" in bad.output


def test_the_checkpoint_reader_gives_the_posterior_of_the_restored_twin(twin64, checkpoint):
    from twin.state import Twin

    a = Forecaster.from_checkpoint(checkpoint).posterior
    b = Forecaster.from_twin(Twin.restore(checkpoint)).posterior
    c = Forecaster.from_twin(twin64).posterior
    for p in (b, c):
        for name in ("weights", "bore_htc", "wall", "fatigue", "creep", "oxide_sq"):
            np.testing.assert_array_equal(getattr(a, name), getattr(p, name), err_msg=name)
        assert a.params.keys() == p.params.keys() and a.held == p.held and a.time == p.time


def test_model_parts_carry_what_the_forecast_needs(twin64):
    fc = Forecaster.from_twin(twin64)
    assert isinstance(fc.parts, ModelParts)
    assert fc.parts.settings.minimum_wall_thickness == pytest.approx(0.040)
    assert fc.posterior.held == ("oxidation_factor", "creep_strength_factor")
    assert fc.posterior.weights.sum() == pytest.approx(1.0)


def test_plan_derived_from_a_sensor_archive_continues_its_start_ups(
    example_config, truth_library, short_cycle, tmp_path
):
    # Three FEM-truth cycles archived as `twin ingest` would: two complete start-ups
    # (the first has no shut-down before it), 150 -> 565 degC in 2 h (3.46 K/min).
    from sensors.archive import Archive, ArchiveBatch
    from sensors.catalogue import parse_catalogue
    from sensors.validation import REASONS
    from twin._plan_history import plan_from_archive

    truth = truth_library.run(short_cycle, bore_htc=3000.0, wall_thickness=0.05)
    r = make_readings(truth, cycles=3, seed=2)
    cat = parse_catalogue(example_config.to_dict())
    arch = Archive(tmp_path / "archive", cat, reasons=REASONS)
    ids = np.array([cat.ids.index(s) for s in r["sensor"]], dtype=np.int32)
    seq = np.zeros(ids.size, dtype=np.int64)
    for i in np.unique(ids):
        seq[ids == i] = np.arange(np.count_nonzero(ids == i))
    arch.append(ArchiveBatch(r["time"], ids, r["value"], r["quality"], seq))
    plan = plan_from_archive(
        tmp_path / "archive", fluid_temperature="TC-steam-01", pressure="PT-01"
    )
    (cold,) = plan.startups
    span = (r["time"][-1] - r["time"][0]) / YEAR
    assert cold.name == "cold" and plan.trips is None
    assert cold.starts_per_year.kind == "poisson"
    assert cold.starts_per_year.mean == pytest.approx(2 / span, rel=0.02)
    assert cold.ramp_rate * 60.0 == pytest.approx(415.0 / 120.0, rel=0.03)
    assert cold.shutdown_rate * 60.0 == pytest.approx(415.0 / 120.0, rel=0.03)
    assert cold.start_temperature - 273.15 == pytest.approx(150.0, abs=1.5)
    assert cold.hold_pressure == pytest.approx(17e6, rel=0.01)
    # 2 h at hold plus the ramps' last and first 15 K (4.3 min each at 3.46 K/min)
    assert cold.hold.mean / 3600.0 == pytest.approx(
        2.0 + 2 * 15.0 / (415.0 / 120.0) / 60.0, abs=0.05
    )
