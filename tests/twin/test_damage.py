"""Damage accounting of the twin: streaming equals the offline life laws, per particle.

References used here, each independent of the code under test:

- the offline computation over the whole history with :mod:`models.life`:
  ``count_cycles`` (the ``rainflow`` package, ASTM E1049-85 5.4.4), ``cycles_to_failure``
  and ``miner_damage``, ``robinson_fraction`` with trapezoid weights, and
  ``ParabolicOxidation.oxide_thickness``;
- hand checks: the Larson-Miller rupture time solved with ``numpy.roots`` from the
  curve's published polynomial (NEML, see ``models/data/life/grade91.toml``), and the
  Coffin-Manson-Basquin equation solved with ``scipy.optimize.brentq`` from the
  constants on file.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.life import (
    count_cycles,
    creep_fatigue_envelope,
    cycles_to_failure,
    larson_miller,
    miner_damage,
    oxidation_law,
    robinson_fraction,
    strain_life,
)
from models.materials import get_material
from twin._damage_rainflow import RainflowState, count, residue_terms
from twin.damage import DamageAccount, DamageSettings
from twin.errors import TwinConfigError, TwinError, TwinInputError

MAT = "grade91"
SCF = {"bore": 1.3, "outer": 1.4}


def make_settings(**kw: object) -> DamageSettings:
    base: dict[str, object] = {
        "material": MAT,
        "locations": ("bore", "outer"),
        "stress_concentration": SCF,
    }
    base.update(kw)
    return DamageSettings(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- histories
def _lag(x: np.ndarray, t: np.ndarray, tau: float) -> np.ndarray:
    """First-order lag of a piecewise-linear input, exact per interval."""
    y = np.empty_like(x)
    y[0] = x[0]
    for k in range(1, x.shape[0]):
        dt = t[k] - t[k - 1]
        a = math.exp(-dt / tau)
        slope = (x[k] - x[k - 1]) / dt
        y[k] = x[k] - tau * slope + a * (y[k - 1] - x[k - 1] + tau * slope)
    return y


def duty_history(
    rng: np.random.Generator,
    P: int,
    *,
    cycles: int = 3,
    dt: float = 120.0,
    t_start: float = 10.0,
    noise: float = 0.2e6,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Start-up / hot hold / shut-down / cold hold cycles of a header, per particle.

    Fluid 330 K -> 873 K in 2 h, 8 h hold, 2 h down, 3 h cold; pressure 0 -> 17 MPa
    with the start-up. Bore and outer metal temperatures lag the fluid (600 s,
    1800 s); the through-wall difference makes the thermal stress. Particles differ in
    their thermal-stress factor and temperature offset; a little white noise makes
    minor cycles (``noise`` Pa, standard deviation).
    """
    seg = [
        (3 * 3600, 330.0, 0.0),
        (2 * 3600, 873.0, 17e6),
        (8 * 3600, 873.0, 17e6),
        (2 * 3600, 330.0, 0.0),
    ]
    times = [0.0]
    Tf = [330.0]
    p = [0.0]
    for _ in range(cycles):
        for dur, T_end, p_end in seg:
            times.append(times[-1] + dur)
            Tf.append(T_end)
            p.append(p_end)
    t = np.arange(0.0, times[-1], dt) + t_start
    tf = np.interp(t - t_start, times, Tf)
    pp = np.interp(t - t_start, times, p)
    Tb = _lag(tf, t, 600.0)
    To = _lag(tf, t, 1800.0)
    k_th = 0.5 * 2.0e11 * 1.3e-5 / 0.7
    n = t.shape[0]
    fac = 1.0 + 0.1 * rng.standard_normal((P, 1))
    off = rng.uniform(-5.0, 5.0, (P, 1))
    sth = fac * k_th * (To - Tb)[None, :]
    noise = noise * rng.standard_normal((P, 3, n))
    sb = np.stack([-pp + 0 * sth, 2.9 * pp + sth, 1.0 * pp + 0.9 * sth], axis=1) + noise
    so = np.stack([0 * sth, 1.9 * pp - 0.8 * sth, 0.9 * pp - 0.7 * sth], axis=1) + noise
    temps = {"bore": Tb[None, :] + off, "outer": To[None, :] + off}
    return t, {"bore": sb, "outer": so}, temps


# --------------------------------------------------------------------------- offline
def trapezoid_weights(t: np.ndarray) -> np.ndarray:
    w = np.zeros_like(t)
    d = np.diff(t)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


def offline(
    t: np.ndarray,
    stress: dict[str, np.ndarray],
    temperature: dict[str, np.ndarray],
    cf: np.ndarray,
    of: np.ndarray,
    s: DamageSettings,
) -> dict[str, np.ndarray]:
    """The life laws over the whole history, particle by particle (no twin code)."""
    curve = larson_miller(MAT)
    E = get_material(MAT).E
    w = trapezoid_weights(t)
    out: dict[str, np.ndarray] = {}
    for loc in s.locations:
        sig, T = stress[loc], temperature[loc]
        P = sig.shape[0]
        sr, sq, sz = sig[:, 0], sig[:, 1], sig[:, 2]
        vm = np.sqrt(0.5 * ((sr - sq) ** 2 + (sq - sz) ** 2 + (sz - sr) ** 2))
        scf = s.stress_concentration[loc]
        eps = np.copysign(scf * vm / E(T), sq)
        fat = np.zeros(P)
        crp = np.zeros(P)
        for p in range(P):
            cyc = count_cycles(eps[p])
            if len(cyc):
                Tc = np.maximum(T[p, cyc.starts], T[p, cyc.ends])
                nf = cycles_to_failure(
                    cyc.ranges / 2.0,
                    constants=strain_life(MAT, Tc, extrapolate=True),
                    below_range="endurance",
                )
                fat[p] = miner_damage(cyc.counts, nf)
            sc = scf * vm[p] / (s.creep_stress_factor * cf[p])
            live = (T[p] >= s.creep_cutoff) & (sc > 0)
            if s.creep_below_range == "zero":
                live &= sc >= curve.stress_range[0]
            sc_eff = np.where(live, np.maximum(sc, curve.stress_range[0]), 0.0)
            crp[p] = robinson_fraction(w, sc_eff, T[p], curve=curve, extrapolate=s.extrapolate)
        out[f"fatigue.{loc}"] = fat
        out[f"creep.{loc}"] = crp
    if s.oxidation_location is not None:
        law = oxidation_law(MAT)
        T = temperature[s.oxidation_location]
        hot = T >= s.oxidation_cutoff
        Tx = np.where(hot, T, law.temperature_range[0])
        x0 = s.initial_oxide_thickness
        x_free = law.oxide_thickness(w * hot, Tx, initial_thickness=0.0)  # sqrt(sum kp dt)
        out["oxide"] = np.sqrt(x0**2 + of * x_free**2)
    return out


def stream(
    s: DamageSettings,
    t: np.ndarray,
    stress: dict[str, np.ndarray],
    temperature: dict[str, np.ndarray],
    cf: np.ndarray,
    of: np.ndarray,
    cuts: list[int],
) -> DamageAccount:
    P = cf.shape[0]
    acc = DamageAccount(s, n_particles=P, t0=float(t[0]) - 1.0)
    bounds = [0, *cuts, t.shape[0]]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        acc.advance(
            t[a:b],
            {k: v[:, :, a:b] for k, v in stress.items()},
            {k: v[:, a:b] for k, v in temperature.items()},
            creep_factor=cf,
            oxidation_factor=of,
        )
    return acc


def assert_close(a: np.ndarray, b: np.ndarray, rtol: float) -> None:
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.abs(b), 1e-300)
    rel = np.abs(a - b) / scale
    assert np.all((rel <= rtol) | (a == b)), f"max rel. error {rel.max():.3e}: {a} vs {b}"


# --------------------------------------------------------------------------- rainflow rows
def _row_cycles_stream(x: np.ndarray, cuts: list[int]) -> list[list[tuple[float, float, float]]]:
    """Cycles per row from push() + residue_terms(), temperature = sample index."""
    R, n = x.shape
    idx = np.broadcast_to(np.arange(n, dtype=np.float64), x.shape)
    state = RainflowState.empty(R, capacity=2)
    got: list[list[tuple[float, float, float]]] = [[] for _ in range(R)]
    bounds = [0, *cuts, n]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        res = count(state, np.ascontiguousarray(x[:, a:b]), np.ascontiguousarray(idx[:, a:b]))
        for r, rg, tp, c in zip(res.rows, res.ranges, res.temperatures, res.counts, strict=True):
            got[int(r)].append((float(rg), float(c), float(tp)))
        state = res.state
    terms = residue_terms(state)
    s, T = state.values, state.temperatures
    for r in range(R):
        for j in np.flatnonzero(terms.closing[r]):
            got[r].append((abs(s[r, j + 1] - s[r, j]), 1.0, max(T[r, j], T[r, j + 1])))
        for j in np.flatnonzero(terms.half[r]):
            got[r].append((abs(s[r, j + 1] - s[r, j]), 0.5, max(T[r, j], T[r, j + 1])))
        got[r].append((float(terms.tail_range[r]), 0.5, float(terms.tail_temperature[r])))
    return [sorted(c for c in row if c[0] > 0) for row in got]


def _row_cycles_batch(x: np.ndarray) -> list[list[tuple[float, float, float]]]:
    out = []
    for row in x:
        c = count_cycles(row)
        cyc = [
            (float(rg), float(k), float(max(i, j)))
            for rg, k, i, j in zip(c.ranges, c.counts, c.starts, c.ends, strict=True)
        ]
        out.append(sorted(t for t in cyc if t[0] > 0))
    return out


@st.composite
def histories_and_cuts(draw: st.DrawFn) -> tuple[np.ndarray, list[int]]:
    R = draw(st.integers(1, 4))
    n = draw(st.integers(1, 120))
    # Small integers: many plateaus and equal ranges (the ties of the three-point rule).
    x = np.array(draw(st.lists(st.integers(-4, 4), min_size=R * n, max_size=R * n)), dtype=float)
    cuts = sorted(draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=8)) - {n})
    return x.reshape(R, n), [c for c in cuts if 0 < c < n]


@settings(max_examples=300, deadline=None)
@given(histories_and_cuts())
def test_streaming_rows_count_the_cycles_of_count_cycles(
    data: tuple[np.ndarray, list[int]],
) -> None:
    # Reference: models.life.count_cycles (the rainflow package, ASTM E1049-85 5.4.4) on
    # each whole row; the cycle "temperature" is the sample index, so the reversal
    # positions (plateau: its last sample) are checked too.
    x, cuts = data
    assert _row_cycles_stream(x, cuts) == _row_cycles_batch(x)


def test_long_noisy_rows_and_a_deep_cascade_count_the_cycles_of_count_cycles() -> None:
    # Long random walks (deep residues, the residue arrays widened on the way) and a
    # converging oscillation closed by a spike (a cascade through the whole residue);
    # both against count_cycles.
    rng = np.random.default_rng(3)
    noisy = np.cumsum(rng.standard_normal((6, 3000)), axis=1)
    k = np.arange(400)
    conv = ((-1.0) ** k * (400 - k))[None, :]
    spike = np.concatenate([conv, [[1e4, -1e4, 3.0]]], axis=1)
    for x, cuts in ((noisy, [700, 701, 2500]), (spike, [200, 401]), (spike, [])):
        assert _row_cycles_stream(x, cuts) == _row_cycles_batch(x)


# --------------------------------------------------------------------------- streaming vs offline
P_HIST = 5
_RNG = np.random.default_rng(11)
T_H, S_H, TEMP_H = duty_history(_RNG, P_HIST, cycles=3)
CF_H = np.exp(0.1 * _RNG.standard_normal(P_HIST))
OF_H = np.exp(0.3 * _RNG.standard_normal(P_HIST))
SET_H = make_settings(initial_oxide_thickness=2e-6)
REF_H = offline(T_H, S_H, TEMP_H, CF_H, OF_H, SET_H)


def _compare(acc: DamageAccount, ref: dict[str, np.ndarray], rtol: float) -> None:
    for loc in acc.settings.locations:
        assert_close(acc.fatigue(loc), ref[f"fatigue.{loc}"], rtol)
        assert_close(acc.creep(loc), ref[f"creep.{loc}"], rtol)
    assert_close(acc.oxide_thickness, ref["oxide"], rtol)


def test_history_has_the_damage_it_is_meant_to_check() -> None:
    # Guard on the fixture: fatigue, creep and oxide are all non-trivial and differ
    # between particles, and the creep-fatigue point lies inside the envelope.
    for loc in ("bore", "outer"):
        assert np.all(REF_H[f"fatigue.{loc}"] > 1e-7)
        assert np.all(REF_H[f"creep.{loc}"] > 1e-8)
        assert np.ptp(REF_H[f"creep.{loc}"]) > 0.01 * REF_H[f"creep.{loc}"].mean()
    assert np.all(REF_H["oxide"] > 3e-6)
    env = creep_fatigue_envelope(MAT)
    assert env.is_inside(REF_H["fatigue.bore"], REF_H["creep.bore"]).all()


def test_one_batch_equals_the_offline_life_laws() -> None:
    acc = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, [])
    _compare(acc, REF_H, 1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, T_H.shape[0] - 1), max_size=12, unique=True))
def test_random_batch_splits_equal_the_offline_life_laws(cuts: list[int]) -> None:
    # Streaming over any split of the history (some batches of one sample) gives the
    # offline Miner, Robinson and oxide results to 1e-9, particle by particle.
    acc = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, sorted(cuts))
    _compare(acc, REF_H, 1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, T_H.shape[0] - 1), min_size=1, max_size=20, unique=True))
def test_consecutive_batches_equal_one_call_with_their_concatenation(cuts: list[int]) -> None:
    # Same account, split or not: equal to round-off (1e-12), every quantity.
    one = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, [])
    split = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, sorted(cuts))
    for loc in SET_H.locations:
        assert_close(split.fatigue(loc), one.fatigue(loc), 1e-12)
        assert_close(
            split.fatigue(loc, include_residue=False),
            one.fatigue(loc, include_residue=False),
            1e-12,
        )
        assert_close(split.creep(loc), one.creep(loc), 1e-12)
        assert_close(split.margin(loc), one.margin(loc), 1e-12)
    assert_close(split.oxide_thickness, one.oxide_thickness, 1e-12)
    a, b = split.state_dict(), one.state_dict()
    for key in ("rainflow_depth", "rainflow_direction"):
        np.testing.assert_array_equal(a[key], b[key])


def test_single_sample_batches_equal_the_offline_life_laws() -> None:
    n = 400  # the first 400 samples one by one (a start-up), then the rest
    acc = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, list(range(1, n)))
    _compare(acc, REF_H, 1e-9)


def test_residue_is_reported_but_stays_open() -> None:
    # Closed-only damage is below the reported one, and continuing the stream gives
    # the offline damage of the longer history (the residue was not closed).
    n = T_H.shape[0]
    half = n // 2
    acc = stream(
        SET_H,
        T_H[:half],
        {k: v[..., :half] for k, v in S_H.items()},
        {k: v[..., :half] for k, v in TEMP_H.items()},
        CF_H,
        OF_H,
        [],
    )
    assert np.all(acc.fatigue("bore", include_residue=False) < acc.fatigue("bore"))
    acc.advance(
        T_H[half:],
        {k: v[..., half:] for k, v in S_H.items()},
        {k: v[..., half:] for k, v in TEMP_H.items()},
        creep_factor=CF_H,
        oxidation_factor=OF_H,
    )
    _compare(acc, REF_H, 1e-9)


# --------------------------------------------------------------------------- resampling
def test_take_then_advance_equals_the_selected_particles_from_the_start() -> None:
    n = T_H.shape[0]
    cut = n // 3
    idx = np.array([4, 0, 0, 2, 4])
    acc = stream(
        SET_H,
        T_H[:cut],
        {k: v[..., :cut] for k, v in S_H.items()},
        {k: v[..., :cut] for k, v in TEMP_H.items()},
        CF_H,
        OF_H,
        [40, 41],
    )
    acc.take(idx)
    acc.advance(
        T_H[cut:],
        {k: v[idx][..., cut:] for k, v in S_H.items()},
        {k: v[idx][..., cut:] for k, v in TEMP_H.items()},
        creep_factor=CF_H[idx],
        oxidation_factor=OF_H[idx],
    )
    # The genealogy: each new particle's whole history is its ancestor's, then its own.
    ref = stream(
        SET_H,
        T_H,
        {k: v[idx] for k, v in S_H.items()},
        {k: v[idx] for k, v in TEMP_H.items()},
        CF_H[idx],
        OF_H[idx],
        [40, 41, cut],
    )
    for loc in SET_H.locations:
        assert_close(acc.fatigue(loc), ref.fatigue(loc), 1e-12)
        assert_close(acc.creep(loc), ref.creep(loc), 1e-12)
    assert_close(acc.wall_loss, ref.wall_loss, 1e-12)
    assert acc.n_particles == idx.shape[0]


def test_take_can_change_the_particle_count() -> None:
    acc = stream(
        SET_H,
        T_H[:300],
        {k: v[..., :300] for k, v in S_H.items()},
        {k: v[..., :300] for k, v in TEMP_H.items()},
        CF_H,
        OF_H,
        [],
    )
    before = acc.creep("bore")
    acc.take(np.array([3, 1]))
    np.testing.assert_array_equal(acc.creep("bore"), before[[3, 1]])
    assert acc.oxide_thickness.shape == (2,)


# --------------------------------------------------------------------------- persistence
def _through_disk(d: dict) -> dict:
    """Split arrays into npz and the rest into JSON, read both back (no pickle)."""
    arrays = {k: v for k, v in d.items() if isinstance(v, np.ndarray)}
    rest = {k: v for k, v in d.items() if not isinstance(v, np.ndarray)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        back = {k: npz[k] for k in npz.files}
    back.update(json.loads(json.dumps(rest)))
    return back


def test_state_round_trip_continues_byte_identically() -> None:
    n = T_H.shape[0]
    cuts = [n // 4, n // 2, (3 * n) // 4]
    parts = list(zip([0, *cuts], [*cuts, n], strict=True))

    def step(acc: DamageAccount, a: int, b: int) -> None:
        acc.advance(
            T_H[a:b],
            {k: v[..., a:b] for k, v in S_H.items()},
            {k: v[..., a:b] for k, v in TEMP_H.items()},
            creep_factor=CF_H,
            oxidation_factor=OF_H,
        )

    straight = DamageAccount(SET_H, n_particles=P_HIST, t0=0.0)
    restored = DamageAccount(SET_H, n_particles=P_HIST, t0=0.0)
    for i, (a, b) in enumerate(parts):
        step(straight, a, b)
        step(restored, a, b)
        if i == 1:
            restored.take(np.arange(P_HIST))  # a resampling that keeps every particle
        restored = DamageAccount.from_state_dict(_through_disk(restored.state_dict()))
    s1, s2 = straight.state_dict(), restored.state_dict()
    assert s1.keys() == s2.keys()
    for k in s1:
        if isinstance(s1[k], np.ndarray):
            assert s1[k].dtype == s2[k].dtype and s1[k].tobytes() == s2[k].tobytes(), k
        else:
            assert s1[k] == s2[k], k


def test_state_dict_holds_only_arrays_and_json_values() -> None:
    acc = stream(
        SET_H,
        T_H[:50],
        {k: v[..., :50] for k, v in S_H.items()},
        {k: v[..., :50] for k, v in TEMP_H.items()},
        CF_H,
        OF_H,
        [],
    )
    d = acc.state_dict()
    rest = {k: v for k, v in d.items() if not isinstance(v, np.ndarray)}
    assert json.loads(json.dumps(rest)) == rest
    assert all(v.dtype != object for v in d.values() if isinstance(v, np.ndarray))


def test_restoring_a_state_of_another_schema_is_refused() -> None:
    d = DamageAccount(SET_H, n_particles=2, t0=0.0).state_dict()
    d["schema_version"] = 99
    with pytest.raises(TwinInputError, match="schema_version"):
        DamageAccount.from_state_dict(d)
    d = DamageAccount(SET_H, n_particles=2, t0=0.0).state_dict()
    d["creep"] = np.zeros(3)
    with pytest.raises(TwinInputError, match="state.creep"):
        DamageAccount.from_state_dict(d)


# --------------------------------------------------------------------------- hand checks
def _lm_rupture_hours(stress_pa: float, T: float) -> float:
    """Rupture time from the Grade 91 curve on file, solved independently (numpy.roots).

    NEML form: log10(sigma/MPa) = a2 P^2 + a1 P + a0 with P = T (C + log10 t_h); the
    falling branch is the root above the vertex -a1 / (2 a2).
    """
    import tomllib
    from importlib import resources

    text = resources.files("models").joinpath("data/life/grade91.toml").read_text()
    d = tomllib.loads(text)["larson_miller"]
    a2, a1, a0 = d["coefficients"]
    roots = np.roots([a2, a1, a0 - math.log10(stress_pa / 1e6)])
    P = float(max(r.real for r in roots if abs(r.imag) < 1e-9))
    assert P > -a1 / (2 * a2)
    return 10.0 ** (P / T - d["C"])


def _strain_life_cycles(amplitude: float) -> float:
    """Cycles to failure from the Grade 91 constants on file, by brentq (not Newton)."""
    import tomllib
    from importlib import resources

    from scipy.optimize import brentq

    d = tomllib.loads(resources.files("models").joinpath("data/life/grade91.toml").read_text())
    c = d["strain_life"]
    sf, b, ef, cc, E = c["sigma_f_Pa"][0], c["b"][0], c["eps_f"][0], c["c"][0], c["E_Pa"][0]

    def f(logN: float) -> float:
        r = 2.0 * 10.0**logN
        return sf / E * r**b + ef * r**cc - amplitude

    return 10.0 ** brentq(f, 0.0, 12.0, xtol=1e-14)


def _hoop_only(values: np.ndarray, P: int) -> np.ndarray:
    s = np.zeros((P, 3, values.shape[-1]))
    s[:, 1] = values
    return s


def test_constant_hold_gives_duration_over_rupture_time() -> None:
    # 1000 h at 600 C, hoop stress 60 MPa, SCF 1.3, K' = 0.9, creep-strength factors
    # 1.0 and 1.2: D_c = 1000 h / t_R(1.3 * 60 / (0.9 f) MPa, 873.15 K).
    s = make_settings(creep_stress_factor=0.9)
    P, n = 2, 101
    t = np.linspace(0.0, 1000 * 3600.0, n)
    cf = np.array([1.0, 1.2])
    acc = DamageAccount(s, n_particles=P, t0=0.0)
    acc.advance(
        t,
        {"bore": _hoop_only(np.full((P, n), 60e6), P), "outer": np.zeros((P, 3, n))},
        {"bore": np.full((P, n), 873.15), "outer": np.full((P, n), 700.0)},
        creep_factor=cf,
        oxidation_factor=np.ones(P),
    )
    expected = [1000.0 / _lm_rupture_hours(1.3 * 60e6 / (0.9 * f), 873.15) for f in cf]
    assert_close(acc.creep("bore"), np.array(expected), 1e-9)
    assert expected[0] > 1e-3  # a hold that matters
    np.testing.assert_array_equal(acc.creep("outer"), 0.0)  # no stress, below the cut-off
    np.testing.assert_array_equal(acc.fatigue("bore"), 0.0)  # constant strain: no cycle


def test_one_full_cycle_of_known_strain_range_gives_one_over_cycles_to_failure() -> None:
    # Hoop stress -S, +S, -S at 700 K: ASTM E1049 counts two half cycles of range
    # 2 SCF S / E, i.e. one full cycle of amplitude SCF S / E(700 K).
    s = make_settings()
    E = float(get_material(MAT).E(700.0))
    S = np.array([[0.0016], [0.004]]) * E / SCF["bore"]  # amplitudes 0.0016 and 0.004
    hist = np.concatenate([-S, S, -S], axis=1)
    P = 2
    acc = DamageAccount(s, n_particles=P, t0=0.0)
    acc.advance(
        np.array([1.0, 2.0, 3.0]),
        {"bore": _hoop_only(hist, P), "outer": np.zeros((P, 3, 3))},
        {"bore": np.full((P, 3), 700.0), "outer": np.full((P, 3), 700.0)},
        creep_factor=np.ones(P),
        oxidation_factor=np.ones(P),
    )
    expected = np.array([1.0 / _strain_life_cycles(a) for a in (0.0016, 0.004)])
    assert_close(acc.fatigue("bore"), expected, 1e-9)
    # Both half cycles are still the open residue: nothing is closed yet.
    np.testing.assert_array_equal(acc.fatigue("bore", include_residue=False), 0.0)


def test_oxide_at_constant_temperature_is_the_parabolic_closed_form() -> None:
    # x = sqrt(x0^2 + f_ox kp(T) t) (ParabolicOxidation, SpallMap T91 constants);
    # wall loss (x - x0) / Pilling-Bedworth ratio.
    x0 = 3e-6
    s = make_settings(initial_oxide_thickness=x0)
    P, n = 3, 11
    t = np.linspace(100.0, 100.0 + 1e7, n)
    of = np.array([0.5, 1.0, 1.7])
    acc = DamageAccount(s, n_particles=P, t0=100.0)
    acc.advance(
        t,
        {"bore": np.zeros((P, 3, n)), "outer": np.zeros((P, 3, n))},
        {"bore": np.full((P, n), 873.15), "outer": np.full((P, n), 873.15)},
        creep_factor=np.ones(P),
        oxidation_factor=of,
    )
    law = oxidation_law(MAT)
    x = law.oxide_thickness(np.array([[1e7]]) * of[:, None], 873.15, initial_thickness=x0)
    assert_close(acc.oxide_thickness, x, 1e-12)
    kp = law.k0 * math.exp(-law.Q / (8.314462618 * 873.15))
    assert_close(acc.oxide_thickness, np.sqrt(x0**2 + of * kp * 1e7), 1e-12)
    assert_close(acc.wall_loss, (x - x0) / law.pilling_bedworth, 1e-12)
    assert law.pilling_bedworth == pytest.approx(2.10)


def test_no_oxide_grows_below_the_cut_off_and_none_without_an_oxidation_location() -> None:
    s = make_settings()
    acc = DamageAccount(s, n_particles=1, t0=0.0)
    acc.advance(
        np.array([1.0, 1e6]),
        {"bore": np.zeros((1, 3, 2)), "outer": np.zeros((1, 3, 2))},
        {"bore": np.full((1, 2), 700.0), "outer": np.full((1, 2), 700.0)},
        creep_factor=np.ones(1),
        oxidation_factor=np.ones(1),
    )
    np.testing.assert_array_equal(acc.wall_loss, 0.0)
    none = DamageAccount(make_settings(oxidation_location=None), n_particles=2, t0=0.0)
    np.testing.assert_array_equal(none.wall_loss, 0.0)


# --------------------------------------------------------------------------- range rules
def _hold(s: DamageSettings, stress: float, T: float, hours: float = 10.0) -> DamageAccount:
    acc = DamageAccount(s, n_particles=1, t0=0.0)
    t = np.array([0.0, hours * 3600.0])
    acc.advance(
        t,
        {"bore": _hoop_only(np.full((1, 2), stress), 1), "outer": np.zeros((1, 3, 2))},
        {"bore": np.full((1, 2), T), "outer": np.full((1, 2), 800.0)},
        creep_factor=np.ones(1),
        oxidation_factor=np.ones(1),
    )
    return acc


def test_low_creep_stress_is_taken_at_the_curve_minimum_or_not_counted() -> None:
    # 15 MPa x SCF 1.3 = 19.5 MPa, below the curve's calibrated 30 MPa.
    limit = _hold(make_settings(), 15e6, 873.15, hours=1000.0)
    assert_close(limit.creep("bore"), np.array([1000.0 / _lm_rupture_hours(30e6, 873.15)]), 1e-9)
    zero = _hold(make_settings(creep_below_range="zero"), 15e6, 873.15, hours=1000.0)
    np.testing.assert_array_equal(zero.creep("bore"), 0.0)


def test_creep_below_the_cut_off_temperature_counts_nothing() -> None:
    acc = _hold(make_settings(), 200e6, 770.0)  # just below 773.15 K
    np.testing.assert_array_equal(acc.creep("bore"), 0.0)
    lower = _hold(make_settings(creep_cutoff_temperature=700.0, extrapolate=True), 200e6, 770.0)
    expected = 10.0 / _lm_rupture_hours(1.3 * 200e6, 770.0)
    assert_close(lower.creep("bore"), np.array([expected]), 1e-9)


def test_out_of_range_creep_stress_or_temperature_raises_unless_extrapolating() -> None:
    with pytest.raises(TwinInputError, match=r"stress\['bore'\].*above its calibrated range"):
        _hold(make_settings(), 300e6, 873.15)  # 390 MPa creep stress
    with pytest.raises(TwinInputError, match=r"temperature 930.00 K is above"):
        _hold(make_settings(oxidation_location=None), 60e6, 930.0)
    with pytest.raises(TwinInputError, match=r"oxidation constants"):
        _hold(make_settings(), 0.0, 930.0)
    acc = _hold(make_settings(extrapolate=True), 300e6, 930.0)
    curve = larson_miller(MAT)
    tr = curve.rupture_time(1.3 * 300e6, 930.0, extrapolate=True)
    assert_close(acc.creep("bore"), np.array([10 * 3600.0 / float(tr)]), 1e-9)
    with pytest.raises(TwinInputError, match="reach"):  # beyond the polynomial's vertex
        _hold(make_settings(extrapolate=True), 400e6, 873.15)


def test_strain_beyond_the_strain_life_range_raises_unless_extrapolating() -> None:
    E = float(get_material(MAT).E(700.0))
    S = 0.012 * E / SCF["bore"]  # amplitude 0.012 > 0.0095

    def run(s: DamageSettings) -> DamageAccount:
        acc = DamageAccount(s, n_particles=1, t0=0.0)
        hist = np.array([[-S, S, -S, S]])
        acc.advance(
            np.arange(4.0),
            {"bore": _hoop_only(hist, 1), "outer": np.zeros((1, 3, 4))},
            {"bore": np.full((1, 4), 700.0), "outer": np.full((1, 4), 700.0)},
            creep_factor=np.ones(1),
            oxidation_factor=np.ones(1),
        )
        return acc

    with pytest.raises(TwinInputError, match="strain range 0.024"):
        run(make_settings())
    acc = run(make_settings(extrapolate=True))
    nf = cycles_to_failure(
        0.012, constants=strain_life(MAT, 700.0, extrapolate=True), extrapolate=True
    )
    # one closed full cycle (-S, S, -S) ... and the residue (S, -S, S -> half cycles)
    assert_close(acc.fatigue("bore"), np.array([1.5 / float(nf)]), 1e-9)


def test_the_rupture_rate_matches_the_curve_on_its_whole_range() -> None:
    from twin._damage_laws import RuptureRate

    for mat in ("grade91", "316h"):
        curve = larson_miller(mat)
        lo, hi = curve.stress_range
        Tlo, Thi = curve.temperature_range
        s, T = np.meshgrid(np.geomspace(lo, hi, 60), np.linspace(Tlo, Thi, 40))
        rate = RuptureRate(curve, cutoff=Tlo, below_range="limit", extrapolate=False)
        got = rate.rate(s.copy(), T, smin=lo, smax=hi, tmin=Tlo, tmax=Thi, field="x")  # all hot
        assert got is not None
        assert_close(got, 1.0 / curve.rupture_time(s, T), 1e-11)


def test_fatigue_law_interpolates_a_multi_curve_material() -> None:
    from twin._damage_laws import FatigueLaw

    law = FatigueLaw("316h", below_range="endurance", extrapolate=False)
    rng = np.random.default_rng(5)
    T = rng.uniform(300.0, 978.0, 50)
    r = rng.uniform(0.002, 0.019, 50)
    nf = cycles_to_failure(r / 2, constants=strain_life("316h", np.maximum(T, 313.15)))
    assert_close(law.damage(r, T, field="x"), 1.0 / nf, 1e-12)


# --------------------------------------------------------------------------- margin
def test_margin_is_the_envelope_margin_positive_inside_negative_outside() -> None:
    acc = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, [])
    env = creep_fatigue_envelope(MAT)
    m = acc.margin("bore")
    assert_close(m, env.margin(acc.fatigue("bore"), acc.creep("bore")), 1e-15)
    assert np.all(m > 0)
    # A long hot hold at a high stress goes outside the Grade 91 envelope (0.1, 0.01).
    out = _hold(make_settings(), 200e6, 873.15, hours=2000.0)
    assert out.creep("bore")[0] > 1.0
    assert out.margin("bore")[0] < 0 and not env.is_inside(0.0, out.creep("bore")[0])
    fresh = DamageAccount(SET_H, n_particles=3, t0=0.0)
    assert np.all(np.isinf(fresh.margin("bore")))


def test_summary_lists_every_location_and_the_oxide() -> None:
    acc = stream(
        SET_H,
        T_H[:100],
        {k: v[..., :100] for k, v in S_H.items()},
        {k: v[..., :100] for k, v in TEMP_H.items()},
        CF_H,
        OF_H,
        [],
    )
    s = acc.summary()
    assert set(s["locations"]) == {"bore", "outer"}
    for loc in ("bore", "outer"):
        assert set(s["locations"][loc]) == {"fatigue", "creep", "margin"}
        np.testing.assert_array_equal(s["locations"][loc]["creep"], acc.creep(loc))
    np.testing.assert_array_equal(s["wall_loss"], acc.wall_loss)
    assert s["time"] == T_H[99]


# --------------------------------------------------------------------------- bad input
def _batch(P: int = 2, n: int = 4, t0: float = 1.0) -> dict:
    return {
        "t": t0 + np.arange(n, dtype=float),
        "stress": {"bore": np.zeros((P, 3, n)), "outer": np.zeros((P, 3, n))},
        "temperature": {"bore": np.full((P, n), 700.0), "outer": np.full((P, n), 700.0)},
        "creep_factor": np.ones(P),
        "oxidation_factor": np.ones(P),
    }


def _advance(acc: DamageAccount, b: dict) -> None:
    acc.advance(
        b["t"],
        b["stress"],
        b["temperature"],
        creep_factor=b["creep_factor"],
        oxidation_factor=b["oxidation_factor"],
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["stress"].__setitem__("bore", np.zeros((2, 3, 3))),
            r"stress\['bore'\]: must have shape \(2, 3, 4\); got \(2, 3, 3\)",
        ),
        (
            lambda b: b["temperature"].__setitem__("outer", np.zeros((3, 4)) + 700),
            r"temperature\['outer'\]: must have shape \(2, 4\)",
        ),
        (
            lambda b: b["stress"].__setitem__("mid", np.zeros((2, 3, 4))),
            r"stress: unknown location 'mid'",
        ),
        (lambda b: b["temperature"].pop("outer"), r"temperature: missing location 'outer'"),
        (
            lambda b: b.__setitem__("t", np.array([1.0, 2.0, 2.0, 3.0])),
            r"t\[2\]: times must increase strictly; got 2.0 after 2.0",
        ),
        (
            lambda b: b.__setitem__("t", np.array([0.5, 2.0, 3.0, 4.0])),
            r"t\[0\]: the batch must start at or after t0 \(1.0 s\); got 0.5",
        ),
        (
            lambda b: b["temperature"]["bore"].__setitem__((1, 2), np.nan),
            r"temperature\['bore'\]\[particle 1, sample 2\]: nan K must be finite",
        ),
        (
            lambda b: b["temperature"]["bore"].__setitem__((0, 1), -3.0),
            r"temperature\['bore'\]\[particle 0, sample 1\]: -3.0 K must be > 0",
        ),
        (
            lambda b: b.__setitem__("creep_factor", np.array([1.0, 0.0])),
            r"creep_factor\[1\]: must be > 0; got 0.0",
        ),
        (
            lambda b: b.__setitem__("oxidation_factor", np.ones(3)),
            r"oxidation_factor: must have shape \(2,\)",
        ),
        (
            lambda b: b["temperature"]["bore"].__setitem__((0, 0), 2000.0),
            r"outside the modulus table",
        ),
    ],
)
def test_bad_input_names_the_field_and_the_value(change, message) -> None:  # type: ignore[no-untyped-def]
    acc = DamageAccount(make_settings(), n_particles=2, t0=1.0)
    b = _batch()
    change(b)
    with pytest.raises(TwinInputError, match=message) as info:
        _advance(acc, b)
    assert isinstance(info.value, TwinError) and isinstance(info.value, ValueError)


def test_a_later_batch_must_start_after_the_last_time_and_a_refused_batch_changes_nothing() -> None:
    acc = DamageAccount(make_settings(), n_particles=2, t0=1.0)
    _advance(acc, _batch())
    before = acc.state_dict()
    with pytest.raises(
        TwinInputError,
        match=r"t\[0\]: the batch must start after the last time seen \(4.0 s\); got 4.0",
    ):
        _advance(acc, _batch(t0=4.0))
    b = _batch(t0=10.0)
    b["temperature"]["bore"][:] = 873.15
    b["stress"]["bore"][1, 1, -1] = 500e6  # the last sample of particle 1 is out of range
    with pytest.raises(
        TwinInputError, match=r"stress\['bore'\] \(creep stress\)\[particle 1, sample 3\]"
    ):
        _advance(acc, b)
    after = acc.state_dict()
    for k, v in before.items():
        assert np.array_equal(v, after[k]) if isinstance(v, np.ndarray) else v == after[k], k


def test_bad_queries_and_resampling_indices_are_refused() -> None:
    acc = DamageAccount(make_settings(), n_particles=2, t0=0.0)
    with pytest.raises(TwinInputError, match="'mid' is not a damage location"):
        acc.fatigue("mid")
    with pytest.raises(TwinInputError, match="idx: 2 is not a particle index"):
        acc.take(np.array([0, 2]))
    with pytest.raises(TwinInputError, match="idx: must be a non-empty 1-D integer array"):
        acc.take(np.array([0.0, 1.0]))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"stress_concentration": {"bore": 0.9, "outer": 1.0}},
            r"stress_concentration.bore: must be >= 1; got 0.9",
        ),
        ({"stress_concentration": {"bore": 1.0}}, r"missing \['outer'\]"),
        ({"stress_concentration": {"bore": 1.0, "outer": 1.0, "mid": 2.0}}, r"unknown \['mid'\]"),
        ({"locations": ("bore", "bore")}, "must be unique"),
        ({"locations": ()}, "non-empty"),
        ({"material": "unobtainium"}, "damage.material: no life-law data for 'unobtainium'"),
        ({"material": "316h"}, "316h.*oxidation"),
        ({"oxidation_location": "mid"}, "oxidation_location: 'mid' is not one of the locations"),
        ({"creep_cutoff_temperature": 700.0}, r"creep_cutoff_temperature: 700.00 K is below"),
        ({"creep_stress_factor": 0.0}, "creep_stress_factor: must be > 0"),
        ({"creep_below_range": "clip"}, "creep_below_range: must be one of"),
        ({"initial_oxide_thickness": -1e-6}, "initial_oxide_thickness: must be >= 0"),
    ],
)
def test_bad_settings_name_the_field_and_the_value(kw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TwinConfigError, match=message):
        make_settings(**kw)


def test_settings_round_trip_through_json() -> None:
    s = make_settings(
        creep_stress_factor=0.9, creep_below_range="zero", initial_oxide_thickness=1e-6
    )
    back = DamageSettings.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    with pytest.raises(TwinConfigError, match="unknown keys"):
        DamageSettings.from_dict({**s.to_dict(), "colour": "red"})


@pytest.mark.parametrize("block_samples", [1, 2000])
def test_particle_blocks_do_not_change_the_result(monkeypatch, block_samples) -> None:  # type: ignore[no-untyped-def]
    # The per-sample work runs in blocks of particles; one particle per block, or a few,
    # give the offline result too, and an error names the particle across blocks.
    import twin.damage as damage

    monkeypatch.setattr(damage, "_BLOCK_SAMPLES", block_samples)
    acc = stream(SET_H, T_H, S_H, TEMP_H, CF_H, OF_H, [100, 900])
    _compare(acc, REF_H, 1e-9)
    b = _batch(P=5, n=4)
    b["temperature"]["bore"][:] = 873.15
    b["stress"]["outer"][3, 1, 2] = np.inf
    with pytest.raises(
        TwinInputError,
        match=r"stress\['outer'\]\[particle 3, sample 2\] component 1: must be finite; got inf",
    ):
        _advance(DamageAccount(make_settings(), n_particles=5, t0=1.0), b)
