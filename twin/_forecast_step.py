"""The forecast's time stepping: per-cycle tables sampled into per-year increments.

:func:`integrate` turns the cycle tables and a run's draws into the increments per year
of operation of every sample at every wall node (the equations of :mod:`twin.forecast`,
NumPy over samples, years, kinds and nodes), then lets the compiled loop of
:mod:`twin._forecast_kernel` accumulate them step by step with the wall feedback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twin._forecast_cycles import CycleTables
from twin._forecast_kernel import accumulate, usage
from twin.plan import DutyPlan

if TYPE_CHECKING:
    from twin.forecast import Forecaster, ForecastResult

__all__ = ["integrate", "lagrange_weights", "log_interp"]

F64 = NDArray[np.float64]
YEAR = 365.25 * 86400.0
_TINY = 1e-300


def lagrange_weights(nodes: F64, x: F64, *, order: int = 1) -> F64:
    """Weights ``(len(x), len(nodes))`` of piecewise-polynomial interpolation at ``x``.

    ``order=1``: linear between the two nodes around each ``x``; ``order=2``: the
    quadratic through the three nearest nodes. ``x`` outside the nodes extrapolates the
    end piece (callers clip it). One node: weight 1.
    """
    n = nodes.size
    W = np.zeros((x.size, n))
    if n == 1:
        W[:, 0] = 1.0
        return W
    m = min(order + 1, n)
    k = np.clip(np.searchsorted(nodes, x) - 1, 0, n - 2)
    if m == 3:  # the triple centred on the nearer end of x's interval
        k = k - (x < 0.5 * (nodes[k] + nodes[k + 1]))
    c = np.clip(k, 0, n - m).astype(np.intp)
    rows = np.arange(x.size)
    for a in range(m):
        wa = np.ones(x.size)
        xa = nodes[c + a]
        for b in range(m):
            if b != a:
                xb = nodes[c + b]
                wa = wa * (x - xb) / (xa - xb)
        W[rows, c + a] = wa
    return W


def log_interp(values: F64, nodes: F64, x: F64) -> F64:
    """Interpolate positive ``values[..., s, m]`` at ``x[s]`` in log-log.

    Quadratic through the three nearest nodes, linear where one of them is zero (the
    damage switching off: no overshoot). ``values`` has the nodes on its last axis and
    the samples on the one before. One node: the values.
    """
    if nodes.size == 1:
        return np.asarray(values[..., 0])
    lx, ln = np.log(x), np.log(nodes)
    W2 = lagrange_weights(ln, lx, order=2)
    W1 = lagrange_weights(ln, lx, order=1)
    zero = values <= _TINY
    lv = np.log(np.maximum(values, _TINY))
    q = np.einsum("...sm,sm->...s", lv, W2)
    lin = np.einsum("...sm,sm->...s", lv, W1)
    bad = np.einsum("...sm,sm->...s", zero.astype(np.float64), (W2 != 0).astype(np.float64)) > 0
    return np.asarray(np.exp(np.where(bad, lin, q)))


def integrate(
    fc: Forecaster,
    plan: DutyPlan,
    tables: CycleTables,
    draws: dict[str, Any],
    *,
    progress: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Accumulate damage and wall loss of every sample over the horizon."""
    from twin.forecast import MECHANISMS, ForecastResult

    o, post = fc.options, fc.posterior
    st, ds = fc.parts.settings, fc.parts.damage_settings
    S, Q = o.samples, o.steps_per_year
    N = max(1, math.ceil(o.horizon_years * Q - 1e-9))
    dty = 1.0 / Q
    locs = tables.locations
    L, K, J = len(locs), len(tables.shapes), tables.wall_offsets.size
    idx = draws["particle"]
    f_s = np.asarray(draws["creep_strength_factor"], dtype=np.float64)
    of_s = np.asarray(draws["oxidation_factor"], dtype=np.float64)
    lf = np.asarray(draws["fatigue_life_factor"], dtype=np.float64)
    cscale = 10.0 ** (np.asarray(draws["larson_miller_C"]) - fc.curve.C)

    # ---------------------------------------------------------- cycles per year
    n_start = len(plan.startups)
    op = draws["operating_fraction"]
    cyc = np.zeros((S, op.shape[1], K))
    extra = np.zeros((S, op.shape[1], K))
    for k in range(K):
        if k < n_start:
            cyc[:, :, k] = draws["starts"][:, :, k] * op
        else:
            cyc[:, :, k] = draws["trips"] * op
            extra[:, :, k] = -tables.settle
    operating = np.array([sh.operating for sh in tables.shapes])
    fixed = np.einsum("syk,k->sy", cyc, operating)
    holds = np.einsum("syk,syk->sy", cyc[:, :, :n_start], draws["hold"])
    with np.errstate(divide="ignore", invalid="ignore"):
        hf = np.where(holds > 0, np.clip((op * YEAR - fixed) / holds, 0.0, 1.0), 1.0)
    extra[:, :, :n_start] = draws["hold"] * hf[:, :, None] - tables.settle

    # ---------------------------------------------------------- per-sample tables
    cnodes = tables.creep_factors
    C_full = tables.creep[:, :, :, idx, :]  # (K, J, L, S, M)
    Cf = log_interp(C_full, cnodes, f_s)  # (K, J, L, S)
    f_p = post.params["creep_strength_factor"][idx]
    ref_s = log_interp(C_full[0, 0], cnodes, f_s)  # (L, S)
    ref_p = log_interp(C_full[0, 0], cnodes, f_p)
    ratio = np.where(ref_p > _TINY, ref_s / np.maximum(ref_p, _TINY), 1.0).T  # (S, L)

    # ---------------------------------------------------------- increments per node
    # per sample, kind, wall node (and location): the simulated cycle's damage and oxide,
    # the hold's rupture rate at the sample's creep-strength factor and material, and the
    # parabolic rate at the hold's metal temperature (the laws at the nodes' values)
    F = tables.fatigue[..., idx].transpose(3, 0, 1, 2)  # (S, K, J, L)
    Cn = Cf.transpose(3, 0, 1, 2)
    sig = tables.hold_stress[..., idx].transpose(3, 0, 1, 2) / f_s[:, None, None, None]
    T = tables.hold_temperature[..., idx].transpose(3, 0, 1, 2)
    sig = np.where(T >= ds.creep_cutoff, sig, 0.0)
    rate = fc.rupture.rate(
        sig.copy(),
        T,
        smin=float(sig.min()),
        smax=float(sig.max()),
        tmin=float(T.min()),
        tmax=float(T.max()),
        field="forecast hold creep stress",
    )
    rate = np.zeros_like(sig) if rate is None else rate
    iox = locs.index(ds.oxidation_location) if ds.oxidation_location is not None else -1
    X = tables.oxide[:, :, idx].transpose(2, 0, 1)  # (S, K, J)
    kp = np.zeros_like(X)
    if fc.oxidation is not None:
        Tb = T[:, :, :, iox]
        g = fc.oxidation.rate(
            Tb, tmin=float(Tb.min()), tmax=float(Tb.max()), field="forecast hold temperature"
        )
        kp = np.zeros_like(X) if g is None else g
    # per year: cycles x per-cycle increment (a cycle's creep and oxide clipped at 0)
    e = extra[:, :, :, None, None]
    inc_f = np.einsum("syk,skjl->syjl", cyc, F) / lf[:, None, None, None]
    per_c = np.maximum(Cn[:, None] + e * rate[:, None], 0.0)
    inc_c = np.einsum("syk,syjkl->syjl", cyc, per_c.transpose(0, 1, 3, 2, 4))
    inc_c *= cscale[:, None, None, None]
    per_x = np.maximum(X[:, None] + extra[:, :, :, None] * kp[:, None], 0.0)
    inc_x = np.einsum("syk,sykj->syj", cyc, per_x) * of_s[:, None, None]
    log_inc = np.log(np.maximum(np.concatenate([inc_f, inc_c, inc_x[..., None]], axis=3), _TINY))

    # ---------------------------------------------------------- initial state
    x0 = ds.initial_oxide_thickness
    r = fc.pilling_bedworth
    Df = post.fatigue[:, idx].T / lf[:, None]
    Dc = post.creep[:, idx].T * cscale[:, None] * ratio
    of_p = post.params["oxidation_factor"][idx]
    x2_p = post.oxide_sq[idx]
    x2 = np.where(of_p > 0, x0**2 + (x2_p - x0**2) * of_s / np.where(of_p > 0, of_p, 1.0), x2_p)
    wall_ref = post.wall[idx]
    w_init = wall_ref + (np.sqrt(x2_p) - x0) / r
    oxidises = fc.oxidation is not None
    w = np.asarray(w_init - (np.sqrt(x2) - x0) / r) if oxidises else wall_ref.copy()
    w_min = st.minimum_wall_thickness
    x_min_sq = (x0 + r * (w_init - w_min)) ** 2 if w_min is not None else np.full(S, -1.0)
    U = o.damage_limit
    env = fc.envelope
    d_f, d_c = env.fatigue_intersection, env.creep_intersection
    k1 = (1.0 - d_c) / d_f

    ttf = np.full(S, np.inf)
    mech = np.zeros(S, dtype=np.int8)
    where = np.full(S, -1, dtype=np.int8)
    u = np.array([[usage(a, b, k1, d_f, d_c) for a, b in zip(fs, cs, strict=True)]
                  for fs, cs in zip(Df, Dc, strict=True)]).reshape(S, L)  # fmt: skip
    gone = u.max(axis=1) >= U
    worst = np.argmax(u, axis=1)
    ttf[gone] = 0.0
    mech[gone] = np.where(Df[gone, worst[gone]] / U <= d_f, 1, 2)
    where[gone] = worst[gone]
    if w_min is not None:
        thin = (w <= w_min) & ~gone
        ttf[thin], mech[thin], where[thin] = 0.0, 3, iox
    traj = {
        "usage": np.empty((N + 1, S, L), np.float32),
        "fatigue": np.empty((N + 1, S, L), np.float32),
        "creep": np.empty((N + 1, S, L), np.float32),
        "wall": np.empty((N + 1, S), np.float32),
    }
    traj["usage"][0], traj["fatigue"][0], traj["creep"][0], traj["wall"][0] = u, Df, Dc, w
    wo = tables.wall_offsets
    h = float(wo[1] - wo[0]) if J > 1 else 1.0
    chunks = np.array_split(np.arange(S), min(S, 20))
    reported = 0
    for n_done, part in enumerate(chunks, start=1):
        sl = slice(int(part[0]), int(part[-1]) + 1)
        accumulate(
            log_inc[sl], h, Q, N, dty, Df[sl], Dc[sl], x2[sl], w_init[sl], wall_ref[sl],
            x0, r, oxidises, x_min_sq[sl], iox, U, k1, d_f, d_c,
            ttf[sl], mech[sl], where[sl],
            traj["usage"][:, sl], traj["fatigue"][:, sl], traj["creep"][:, sl], traj["wall"][:, sl],
        )  # fmt: skip
        if progress is not None:
            now = N * n_done // len(chunks)
            progress(now - reported)
            reported = now
    assert MECHANISMS[3] == "wall_thinning"
    return ForecastResult(
        plan=plan,
        years=np.asarray(np.arange(N + 1) * dty, dtype=np.float64),
        time_to_failure=ttf,
        mechanism=mech,
        location=where,
        locations=tuple(locs),
        trajectories=traj,
        samples={
            "particle": np.asarray(idx),
            "creep_strength_factor": f_s,
            "oxidation_factor": of_s,
            "fatigue_life_factor": lf,
            "larson_miller_C": np.asarray(draws["larson_miller_C"]),
        },
        meta={
            "horizon_years": float(o.horizon_years),
            "steps_per_year": Q,
            "samples": S,
            "damage_limit": U,
            "minimum_wall_thickness_m": w_min,
            "wall_offsets_m": [float(v) for v in wo],
            "creep_factor_nodes": [float(v) for v in cnodes],
        },
    )
