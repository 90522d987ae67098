"""The forecast's time stepping: per-cycle tables sampled and accumulated, vectorised.

:func:`integrate` carries out the equations of :mod:`twin.forecast` for every sample at
once; the loop is over the time steps only. The per-cycle quantities of each sample's
particle are gathered once into one array ``(samples, wall nodes, columns)`` and
interpolated in the wall loss at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twin._forecast_cycles import CycleTables
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


def _usage(envelope: Any, f: F64, c: F64) -> F64:
    """Fraction of the creep-fatigue envelope reached along the damage ray (0 at no damage)."""
    out = np.zeros(f.shape)
    some = (f > 0.0) | (c > 0.0)
    if some.any():
        out[some] = 1.0 / (1.0 + envelope.margin(f[some], c[some]))
    return out


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
    KL = K * L
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

    def cols(a: F64) -> F64:  # (K, J, L, S) -> (S, J, K*L)
        return np.ascontiguousarray(a.transpose(3, 1, 0, 2).reshape(S, J, KL))

    # per-cycle quantities, interpolated linearly in the wall loss: damage, stress and
    # oxide in log (power laws are near-linear there, and a damage switching off at the
    # endurance limit does not overshoot), the hold temperature as it is
    G = np.concatenate(
        [
            np.log(np.maximum(cols(tables.fatigue[..., idx]), _TINY)),
            np.log(np.maximum(cols(Cf), _TINY)),
            np.log(np.maximum(cols(tables.hold_stress[..., idx]), _TINY)),
            cols(tables.hold_temperature[..., idx]),
            np.log(
                np.maximum(np.ascontiguousarray(tables.oxide[:, :, idx].transpose(2, 1, 0)), _TINY)
            ),
        ],
        axis=2,
    )
    iox = locs.index(ds.oxidation_location) if ds.oxidation_location is not None else -1

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

    def wall_of(x2v: F64) -> F64:
        return np.asarray(w_init - (np.sqrt(x2v) - x0) / r) if oxidises else wall_ref

    w = wall_of(x2)
    w_min = st.minimum_wall_thickness
    x_min_sq = (x0 + r * (w_init - w_min)) ** 2 if w_min is not None else None
    U = o.damage_limit
    env = fc.envelope
    d_f = env.fatigue_intersection

    ttf = np.full(S, np.inf)
    mech = np.zeros(S, dtype=np.int8)
    where = np.full(S, -1, dtype=np.int8)
    u = _usage(env, Df / U, Dc / U)
    gone = u.max(axis=1) >= 1.0
    ttf[gone] = 0.0
    mech[gone] = np.where(Df[gone, np.argmax(u[gone], axis=1)] / U <= d_f, 1, 2)
    where[gone] = np.argmax(u[gone], axis=1)
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
    if J > 1:
        d_lo, d_hi = wo[0] - (wo[1] - wo[0]), wo[-1] + (wo[-1] - wo[-2])
    cut = ds.creep_cutoff
    every = max(1, N // 100)
    done = 0

    # ---------------------------------------------------------- time steps
    for i in range(N):
        y = i // Q
        c = cyc[:, y, :] * dty  # cycles of each kind in this step
        e = extra[:, y, :]
        if J == 1:
            Z = G[:, 0].copy()
        else:
            d = np.clip(wall_ref - w, d_lo, d_hi)
            Z = np.einsum("sj,sjw->sw", lagrange_weights(wo, d, order=1), G)
        np.exp(Z[:, : 3 * KL], out=Z[:, : 3 * KL])
        np.exp(Z[:, 4 * KL :], out=Z[:, 4 * KL :])
        F = Z[:, :KL].reshape(S, K, L)
        Cc = Z[:, KL : 2 * KL].reshape(S, K, L)
        sig = Z[:, 2 * KL : 3 * KL].reshape(S, K, L) / f_s[:, None, None]
        T = Z[:, 3 * KL : 4 * KL].reshape(S, K, L)
        X = Z[:, 4 * KL :]
        hot = T >= cut
        sig = np.where(hot, sig, 0.0)
        rate = fc.rupture.rate(
            sig,
            T,
            smin=float(sig.min()),
            smax=float(sig.max()),
            tmin=float(T.min()),
            tmax=float(T.max()),
            field="forecast hold creep stress",
        )
        per_creep = Cc if rate is None else Cc + e[:, :, None] * rate
        dDf = np.einsum("sk,skl->sl", c, F) / lf[:, None]
        dDc = np.einsum("sk,skl->sl", c, np.maximum(per_creep, 0.0)) * cscale[:, None]
        Df_new, Dc_new = Df + dDf, Dc + dDc
        x2_new = x2
        if oxidises and fc.oxidation is not None:
            Tb = T[:, :, iox]
            kp = fc.oxidation.rate(
                Tb, tmin=float(Tb.min()), tmax=float(Tb.max()), field="forecast hold temperature"
            )
            per_ox = X if kp is None else X + e * kp
            x2_new = x2 + of_s * np.einsum("sk,sk->s", c, np.maximum(per_ox, 0.0))
        w_new = wall_of(x2_new)
        u_new = _usage(env, Df_new / U, Dc_new / U)
        alive = np.isinf(ttf)
        cand = np.full((S, L + 1), np.inf)
        cross = alive[:, None] & (u_new >= 1.0)
        if cross.any():
            si, li = np.nonzero(cross)
            s = env.margin(
                Df[si, li] / U,
                Dc[si, li] / U,
                direction=(dDf[si, li] / U, dDc[si, li] / U),
            )
            cand[si, li] = np.clip(s, 0.0, 1.0)
        if x_min_sq is not None:
            cw = alive & (w_new <= w_min)
            if cw.any():
                num = x_min_sq[cw] - x2[cw]
                den = x2_new[cw] - x2[cw]
                cand[cw, L] = np.clip(num / np.where(den > 0, den, 1.0), 0.0, 1.0)
        hit = np.isfinite(cand).any(axis=1)
        if hit.any():
            h = np.flatnonzero(hit)
            best = np.argmin(cand[h], axis=1)
            frac = cand[h, best]
            ttf[h] = (i + frac) * dty
            env_hit = best < L
            bl = np.minimum(best, L - 1)
            f_star = (Df[h, bl] + frac * dDf[h, bl]) / U
            mech[h] = np.where(env_hit, np.where(f_star <= d_f, 1, 2), 3)
            where[h] = np.where(env_hit, best, iox)
        Df, Dc, x2, w = Df_new, Dc_new, x2_new, w_new
        traj["usage"][i + 1], traj["fatigue"][i + 1], traj["creep"][i + 1] = u_new, Df, Dc
        traj["wall"][i + 1] = w
        if progress is not None and ((i + 1) % every == 0 or i + 1 == N):
            progress(i + 1 - done)
            done = i + 1
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
