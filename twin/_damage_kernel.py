# mypy: disable-error-code="misc"
"""Compiled inner loops of the damage account (numba): equivalent strain and rainflow.

The loops are serial in time and independent across rows (a row is one particle at
one location). NumPy needs one pass over the whole ``(rows, samples)`` array per
operation and cannot express the three-point rule of ASTM E1049 without a Python loop
per reversal; these loops make one pass per row instead (measured in
``benchmarks/bench_damage.py``). :func:`strain_rainflow` computes each sample's
equivalent strain and counts it at once (no strain array is stored);
:func:`rainflow_push` counts a given history. Both push reversals through the same
:func:`_push`; their reversal detection is the same few lines (a shared helper
returning a tuple per sample measured 2-3x slower).

Every row follows the same operations in the same order whatever the batch length,
so a batch and any split of it count the same cycles in the same order.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["rainflow_push", "strain_rainflow"]


@numba.njit(cache=True, nogil=True, inline="always")
def _push(
    p: int,
    x: float,
    tx: float,
    d: int,
    stack_v: np.ndarray,
    stack_t: np.ndarray,
    origin: np.ndarray,
    cyc_row: np.ndarray,
    cyc_range: np.ndarray,
    cyc_temp: np.ndarray,
    cyc_count: np.ndarray,
    nc: int,
    row: int,
    min_range: float,
) -> tuple[int, int]:
    """Push one reversal on row ``p``'s residue (E1049 5.4.4 steps 1-4); return (depth, cycles).

    Closed cycles with a range below ``min_range`` are not written out.
    """
    stack_v[p, d] = x
    stack_t[p, d] = tx
    origin[p, d] = -1
    d += 1
    while d >= 3:
        a = stack_v[p, d - 3]
        b = stack_v[p, d - 2]
        Y = abs(b - a)
        if abs(x - b) < Y:
            break
        keep = Y >= min_range
        if keep:
            cyc_row[nc] = row
            cyc_range[nc] = Y
            cyc_temp[nc] = max(stack_t[p, d - 3], stack_t[p, d - 2])
        if d == 3:  # the range holds the start: half cycle, drop the first reversal
            if keep:
                cyc_count[nc] = 0.5
            for i in range(2):
                stack_v[p, i] = stack_v[p, i + 1]
                stack_t[p, i] = stack_t[p, i + 1]
                origin[p, i] = origin[p, i + 1]
            d = 2
        else:  # full cycle: drop its two reversals
            if keep:
                cyc_count[nc] = 1.0
            stack_v[p, d - 3] = stack_v[p, d - 1]
            stack_t[p, d - 3] = stack_t[p, d - 1]
            origin[p, d - 3] = origin[p, d - 1]
            d -= 2
        if keep:
            nc += 1
    return d, nc


@numba.njit(cache=True, nogil=True)
def _count_row(
    x: np.ndarray,
    px: int,
    T: np.ndarray,
    pT: int,
    p: int,
    started: bool,
    last: np.ndarray,
    last_t: np.ndarray,
    direction: np.ndarray,
    stack_v: np.ndarray,
    stack_t: np.ndarray,
    depth: np.ndarray,
    origin: np.ndarray,
    cyc_row: np.ndarray,
    cyc_range: np.ndarray,
    cyc_temp: np.ndarray,
    cyc_count: np.ndarray,
    nc: int,
    row_offset: int,
    min_range: float,
) -> tuple[int, bool]:
    """Count the samples ``x[px]`` (temperatures ``T[pT]``) into row ``p`` of the state.

    Reversals are the first sample of a history and every sample where the direction
    of the non-zero increments changes (a plateau's last sample), as in
    :class:`models.life.RainflowCounter`. Returns the cycle count and False if the
    row's residue outgrew its arrays (the row is then partly updated).
    """
    n = x.shape[1]
    D = stack_v.shape[1]
    d = depth[p]
    for i in range(D):
        origin[p, i] = i if i < d else -1
    k0 = 0
    if started:
        prev = last[p]
        prev_t = last_t[p]
    else:
        if d >= D:
            return nc, False
        d, nc = _push(p, x[px, 0], T[pT, 0], d, stack_v, stack_t, origin,
                      cyc_row, cyc_range, cyc_temp, cyc_count, nc, row_offset + p,
                      min_range)  # fmt: skip
        prev = x[px, 0]
        prev_t = T[pT, 0]
        k0 = 1
    dirn = direction[p]
    for k in range(k0, n):
        v = x[px, k]
        dlt = v - prev
        if dlt != 0.0:
            sgn = 1 if dlt > 0.0 else -1
            if dirn != 0 and sgn != dirn:
                if d >= D:
                    return nc, False
                d, nc = _push(p, prev, prev_t, d, stack_v, stack_t, origin,
                              cyc_row, cyc_range, cyc_temp, cyc_count, nc, row_offset + p,
                              min_range)  # fmt: skip
            dirn = sgn
        prev = v
        prev_t = T[pT, k]
    last[p] = prev
    last_t[p] = prev_t
    direction[p] = dirn
    depth[p] = d
    return nc, True


@numba.njit(cache=True, nogil=True)
def rainflow_push(
    x: np.ndarray,
    T: np.ndarray,
    started: bool,
    last: np.ndarray,
    last_t: np.ndarray,
    direction: np.ndarray,
    stack_v: np.ndarray,
    stack_t: np.ndarray,
    depth: np.ndarray,
    origin: np.ndarray,
    cyc_row: np.ndarray,
    cyc_range: np.ndarray,
    cyc_temp: np.ndarray,
    cyc_count: np.ndarray,
    nc: int,
    row_offset: int,
    min_range: float,
) -> tuple[int, int]:
    """Count a batch of samples in every row, updating the open state in place.

    Reversals are the first sample of a history and every sample where the direction
    of the non-zero increments changes (a plateau's last sample), as in
    :class:`models.life.RainflowCounter`. Each is pushed with the three-point rule;
    the closed cycles go to the ``cyc_*`` arrays (row ``row_offset + p``, range, larger
    temperature of the two reversals, count 1.0 or 0.5).

    Parameters
    ----------
    x, T : float64 arrays, shape (P, n)
        Samples and metal temperatures (K).
    started : bool
        Whether the rows saw samples before (``last``, ``last_t``, ``direction`` valid).
    last, last_t : float64 arrays, shape (P,)
        Previous sample and its temperature; updated.
    direction : int8 array, shape (P,)
        Sign of the last non-zero increment (0: none); updated.
    stack_v, stack_t : float64 arrays, shape (P, D)
        Residue reversals and their temperatures; updated.
    depth : int64 array, shape (P,)
        Residue depth; updated.
    origin : int64 array, shape (P, D)
        Output: index in the old residue of each entry, -1 for new ones.
    cyc_row, cyc_range, cyc_temp, cyc_count : arrays, shape (C,)
        Output: closed cycles, written from index ``nc`` (``C - nc`` >= residue depths +
        samples is always enough).
    nc : int
        Cycles already in the ``cyc_*`` arrays.
    row_offset : int
        Added to the row numbers written to ``cyc_row``.
    min_range : float
        Closed cycles with a smaller range are counted but not written out (0: all).

    Returns
    -------
    n_cycles : int
        Cycles in the ``cyc_*`` arrays now.
    overflow : int
        -1, or the first row whose residue outgrew ``D`` (the state is then partly
        updated; call again from a copy with a wider residue).
    """
    P = x.shape[0]
    for p in range(P):
        nc, ok = _count_row(
            x, p, T, p, p, started, last, last_t, direction, stack_v, stack_t, depth,
            origin, cyc_row, cyc_range, cyc_temp, cyc_count, nc, row_offset, min_range,
        )  # fmt: skip
        if not ok:
            return nc, p
    return nc, -1


@numba.njit(cache=True, nogil=True)
def strain_rainflow(
    s: np.ndarray,
    T: np.ndarray,
    scf: float,
    xp: np.ndarray,
    fp: np.ndarray,
    slope: np.ndarray,
    creep_scale: np.ndarray,
    cutoff: float,
    sc: np.ndarray,
    ext: np.ndarray,
    started: bool,
    last: np.ndarray,
    last_t: np.ndarray,
    direction: np.ndarray,
    stack_v: np.ndarray,
    stack_t: np.ndarray,
    depth: np.ndarray,
    origin: np.ndarray,
    cyc_row: np.ndarray,
    cyc_range: np.ndarray,
    cyc_temp: np.ndarray,
    cyc_count: np.ndarray,
    nc: int,
    row_offset: int,
    min_range: float,
) -> tuple[int, int]:
    """Signed equivalent strain of each sample, counted at once; creep stress and extremes.

    ``vm = sqrt(((s_r - s_t)^2 + (s_t - s_z)^2 + (s_z - s_r)^2) / 2)`` and the strain
    ``sign(s_t) * scf * vm / E(T)``, E interpolated linearly on the material table
    (``numpy.interp``'s formula; temperatures off the table use the end segments and
    are refused by the caller from ``ext``), fed to the rainflow count as in
    :func:`rainflow_push`.

    Parameters
    ----------
    s : float64 array, shape (P, 3, n)
        Stress components sigma_r, sigma_theta, sigma_z (Pa).
    T : float64 array, shape (P, n)
        Metal temperature (K).
    scf : float
        Stress concentration factor.
    xp, fp, slope : float64 arrays, shapes (m,), (m,), (m - 1,)
        Modulus table: temperatures (K, increasing), E (Pa) and segment slopes.
    creep_scale : float64 array, shape (P,)
        Factor on the creep stress (1 / (K' * creep-strength factor)).
    cutoff : float
        Metal temperature (K) below which the creep stress is 0.
    sc : float64 array, shape (P, n)
        Output: creep stress ``vm * scf * creep_scale[p]`` (Pa).
    ext : float64 array, shape (P, 4)
        Output per row: smallest and largest temperature, smallest and largest creep
        stress; NaN where a temperature or a stress is not finite.
    started, last, last_t, direction, stack_v, stack_t, depth, origin
        As for :func:`rainflow_push`.
    cyc_row, cyc_range, cyc_temp, cyc_count, nc, row_offset, min_range
        As for :func:`rainflow_push`.

    Returns
    -------
    n_cycles, overflow : int
        As for :func:`rainflow_push`.
    """
    P, _, n = s.shape
    m = xp.shape[0]
    row = np.empty((1, n))  # one row's strain, counted after the arithmetic loop
    for p in range(P):
        j = 0
        tmin = math.inf
        tmax = -math.inf
        smin = math.inf
        smax = -math.inf
        bad_t = False
        bad_s = False
        f = scf * creep_scale[p]
        for k in range(n):
            a = s[p, 0, k]
            b = s[p, 1, k]
            c = s[p, 2, k]
            v = math.sqrt(0.5 * ((a - b) * (a - b) + (b - c) * (b - c) + (c - a) * (c - a)))
            if not v < math.inf:
                bad_s = True
            t = T[p, k]
            q = v * f if t >= cutoff else 0.0
            sc[p, k] = q
            smin = q if q < smin else smin  # selects, not branches: q may be noisy
            smax = q if q > smax else smax
            if not (t > -math.inf and t < math.inf):
                bad_t = True
                row[0, k] = 0.0
                continue
            tmin = t if t < tmin else tmin
            tmax = t if t > tmax else tmax
            while j > 0 and t < xp[j]:
                j -= 1
            while j < m - 2 and t >= xp[j + 1]:
                j += 1
            E = fp[j] if t == xp[j] else slope[j] * (t - xp[j]) + fp[j]
            row[0, k] = math.copysign(scf * v / E, b)
        ext[p, 0] = math.nan if bad_t else tmin
        ext[p, 1] = math.nan if bad_t else tmax
        ext[p, 2] = math.nan if bad_s else smin
        ext[p, 3] = math.nan if bad_s else smax
        nc, ok = _count_row(
            row, 0, T, p, p, started, last, last_t, direction, stack_v, stack_t, depth,
            origin, cyc_row, cyc_range, cyc_temp, cyc_count, nc, row_offset, min_range,
        )  # fmt: skip
        if not ok:
            return nc, p
    return nc, -1
