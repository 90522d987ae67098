"""Compiled time loop of the forecast (numba): damage, oxide and wall of every sample.

:func:`accumulate` advances each sample step by step: the wall from the oxide, the
per-step increments interpolated in the wall loss (linear in the logarithm between the
two nearest nodes, linear in the value where one of them is zero), the damage and the
oxide, the first crossing of the scaled creep-fatigue envelope or of the minimum wall
(exact inside the step for linear damage and linear growth of the squared oxide). The
increments per node and per year are prepared by :mod:`twin._forecast_step`, so the
loop is plain arithmetic.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["accumulate", "crossing", "usage"]


_LOG_ZERO = -600.0  # below: a zero (stored as log 1e-300)


@numba.njit(cache=True, nogil=True)
def _between(l0: float, l1: float, a: float) -> float:
    """Interpolate between two nodes given as logarithms.

    Linear in the logarithm, or in the value where one node is zero (a damage switching
    on at the endurance limit).
    """
    if l0 < _LOG_ZERO or l1 < _LOG_ZERO:
        return (1.0 - a) * math.exp(l0) + a * math.exp(l1)
    return math.exp((1.0 - a) * l0 + a * l1)


@numba.njit(cache=True, nogil=True)
def usage(f: float, c: float, k1: float, df: float, dc: float) -> float:
    """Fraction ``1 / lambda`` of the bilinear envelope reached along the ray through (f, c).

    The envelope joins (0, 1), (df, dc), (1, 0): segment 1 is ``c + k1 f = 1`` with
    ``k1 = (1 - dc) / df``, segment 2 ``dc f + (1 - df) c = dc``; the ray meets segment 1
    when it reaches it at ``f <= df``.
    """
    if f <= 0.0 and c <= 0.0:
        return 0.0
    u1 = c + k1 * f
    if f <= df * u1:
        return u1
    return (dc * f + (1.0 - df) * c) / dc


@numba.njit(cache=True, nogil=True)
def crossing(f0: float, c0: float, gf: float, gc: float, k1: float, df: float, dc: float) -> float:
    """Fraction of a step (0..1) at which ``(f0, c0) + tau (gf, gc)`` reaches the envelope."""
    best = 2.0
    den1 = gc + k1 * gf
    if den1 > 0.0:
        t = (1.0 - c0 - k1 * f0) / den1
        if f0 + t * gf <= df * (1.0 + 1e-12):
            best = t
    den2 = dc * gf + (1.0 - df) * gc
    if den2 > 0.0:
        t = (dc - dc * f0 - (1.0 - df) * c0) / den2
        if f0 + t * gf >= df * (1.0 - 1e-12) and t < best:
            best = t
    return min(max(best, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def accumulate(
    log_inc: np.ndarray,
    h: float,
    Q: int,
    N: int,
    dty: float,
    Df: np.ndarray,
    Dc: np.ndarray,
    x2: np.ndarray,
    w_init: np.ndarray,
    wall_ref: np.ndarray,
    x0: float,
    r: float,
    oxidises: bool,
    x_min_sq: np.ndarray,
    iox: int,
    U: float,
    k1: float,
    df: float,
    dc: float,
    ttf: np.ndarray,
    mech: np.ndarray,
    where: np.ndarray,
    traj_u: np.ndarray,
    traj_f: np.ndarray,
    traj_c: np.ndarray,
    traj_w: np.ndarray,
) -> None:
    """Advance every sample ``N`` steps (arrays updated in place).

    Parameters
    ----------
    log_inc : (S, Y, J, 2 L + 1)
        Log of the increments per year of operation at each wall node: fatigue and
        creep per location, then the squared oxide (1e-300 for none).
    h : float
        Spacing of the wall-loss nodes (m; the nodes start at 0).
    x_min_sq : (S,)
        Squared oxide at which the wall reaches its minimum (negative: no criterion).
    ttf, mech, where : (S,)
        Time to failure (years, inf while alive), mechanism (1 creep, 2 fatigue,
        3 wall thinning) and location; samples with a finite ``ttf`` are not checked.
    traj_* : (N + 1, S, L) and (N + 1, S)
        Envelope usage (1 = the envelope; failure at ``U``), fatigue, creep and wall
        after each step (row 0 is filled by the caller).
    """
    S, _, J, C = log_inc.shape
    L = (C - 1) // 2
    dfu = np.empty(L)
    dcu = np.empty(L)
    for s in range(S):
        x2s = x2[s]
        for i in range(N):
            y = i // Q
            w = w_init[s] - (math.sqrt(x2s) - x0) / r if oxidises else wall_ref[s]
            if J == 1:
                j0, j1, a = 0, 0, 0.0
            else:
                t = (wall_ref[s] - w) / h
                t = min(max(t, -1.0), J)
                j0 = min(max(int(math.floor(t)), 0), J - 2)
                j1 = j0 + 1
                a = t - j0
            for li in range(L):
                dfu[li] = dty * _between(log_inc[s, y, j0, li], log_inc[s, y, j1, li], a)
                k = L + li
                dcu[li] = dty * _between(log_inc[s, y, j0, k], log_inc[s, y, j1, k], a)
            dx2 = dty * _between(log_inc[s, y, j0, C - 1], log_inc[s, y, j1, C - 1], a)
            x2n = x2s + dx2 if oxidises else x2s
            if math.isinf(ttf[s]):
                tau_best = 2.0
                m_best = 0
                l_best = -1
                for li in range(L):
                    fn = (Df[s, li] + dfu[li]) / U
                    cn = (Dc[s, li] + dcu[li]) / U
                    if usage(fn, cn, k1, df, dc) >= 1.0:
                        f0, c0 = Df[s, li] / U, Dc[s, li] / U
                        tau = crossing(f0, c0, dfu[li] / U, dcu[li] / U, k1, df, dc)
                        if tau < tau_best:
                            tau_best = tau
                            l_best = li
                            m_best = 1 if f0 + tau * dfu[li] / U <= df else 2
                if x_min_sq[s] >= 0.0 and x2n >= x_min_sq[s] and x2n > x2s:
                    tau = min(max((x_min_sq[s] - x2s) / (x2n - x2s), 0.0), 1.0)
                    if tau < tau_best:
                        tau_best = tau
                        l_best = iox
                        m_best = 3
                if l_best >= 0:
                    ttf[s] = (i + tau_best) * dty
                    mech[s] = m_best
                    where[s] = l_best
            for li in range(L):
                Df[s, li] += dfu[li]
                Dc[s, li] += dcu[li]
                traj_f[i + 1, s, li] = Df[s, li]
                traj_c[i + 1, s, li] = Dc[s, li]
                traj_u[i + 1, s, li] = usage(Df[s, li], Dc[s, li], k1, df, dc)
            x2s = x2n
            traj_w[i + 1, s] = w_init[s] - (math.sqrt(x2s) - x0) / r if oxidises else wall_ref[s]
        x2[s] = x2s
