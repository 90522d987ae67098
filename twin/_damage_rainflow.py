"""Streaming rainflow counting of many histories at once (ASTM E1049-85, 5.4.4).

One *row* is one history: a particle's equivalent strain at one damage location. The
rows advance together, one batch of samples per call, and :func:`push` returns the
cycles the batch closes in every row. The counting convention is that of
:mod:`models.life.rainflow` (and of the ``rainflow`` package behind
:func:`models.life.count_cycles`): the reversals of a history are its first sample,
every interior turning point (for a plateau, its last sample) and, when the history
is closed, its last sample; the three-point rule of E1049 5.4.4 removes a range when
the next one is at least as large, as a full cycle, or as a half cycle when it holds
the starting point.

How it is vectorised (the work per batch is NumPy over all rows, Python only for a
few rows at the end):

1. Reversals of every row from the signs of the increments (zero increments take the
   sign of the last non-zero one, so a plateau's last sample is the reversal).
2. The open residue of each row and its new reversals are laid out one row after the
   other in flat arrays. In *rounds*, every range the three-point rule removes given
   its neighbours is removed at once, in all rows (the rule of
   ``models.life.rainflow._reduce_rounds``, applied per row segment): a leading run of
   non-decreasing ranges holds the start (half cycles), and an interior range that is
   no larger than the next and smaller than the previous is a full cycle.
   Candidates never share a reversal.
3. When a round removes fewer than :data:`MIN_PAIRS_PER_ROUND` ranges in total, the
   rows that still changed finish with the plain E1049 stack loop.

A row whose residue is *stable* (strictly decreasing ranges) is what the stack loop
would leave; the rounds stop for a row exactly there. The residue is kept open; it is
closed (last sample taken as a reversal, the rest counted as half cycles) only in
:func:`residue_terms`, which says what :meth:`models.life.RainflowCounter.finish`
would return without changing the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MIN_PAIRS_PER_ROUND", "PushResult", "RainflowState", "ResidueTerms", "push", "residue_terms"]

#: Below this many ranges removed in one vectorised round, finish with the stack loop.
MIN_PAIRS_PER_ROUND = 64

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class RainflowState:
    """Open rainflow state of ``R`` histories.

    Attributes
    ----------
    values : numpy.ndarray, shape (R, D)
        Residue reversals of each row, oldest first (only ``[:depth]`` is used).
    temperatures : numpy.ndarray, shape (R, D)
        Metal temperature (K) at each residue reversal.
    depth : numpy.ndarray of int64, shape (R,)
        Number of residue reversals per row.
    last : numpy.ndarray, shape (R,)
        Last sample of each row.
    last_temperature : numpy.ndarray, shape (R,)
        Metal temperature (K) at the last sample.
    direction : numpy.ndarray of int8, shape (R,)
        Sign of the last non-zero increment (0 before any).
    started : bool
        Whether any sample was seen (all rows see the same samples).
    """

    values: F64
    temperatures: F64
    depth: I64
    last: F64
    last_temperature: F64
    direction: NDArray[np.int8]
    started: bool

    @classmethod
    def empty(cls, rows: int, capacity: int = 8) -> RainflowState:
        """Return the state of ``rows`` histories that have seen no sample."""
        return cls(
            values=np.zeros((rows, capacity)),
            temperatures=np.zeros((rows, capacity)),
            depth=np.zeros(rows, dtype=np.int64),
            last=np.zeros(rows),
            last_temperature=np.zeros(rows),
            direction=np.zeros(rows, dtype=np.int8),
            started=False,
        )

    def take(self, rows: NDArray[np.intp]) -> RainflowState:
        """Return the state of the rows ``rows`` (in that order, repeats allowed)."""
        return RainflowState(
            values=self.values[rows],
            temperatures=self.temperatures[rows],
            depth=self.depth[rows],
            last=self.last[rows],
            last_temperature=self.last_temperature[rows],
            direction=self.direction[rows],
            started=self.started,
        )


@dataclass(frozen=True)
class PushResult:
    """What one batch did to the rows.

    Attributes
    ----------
    state : RainflowState
        The new state (new arrays; the old state is unchanged).
    origin : numpy.ndarray of int64, shape (R, D')
        For each new residue entry, its index in the old residue of the row, or -1 for
        a reversal of this batch (and beyond the depth).
    rows, ranges, temperatures, counts : numpy.ndarray, shape (k,)
        Closed cycles: row, range (unit of the history), temperature (the larger
        metal temperature of its two reversals, K), count (1.0 full, 0.5 half).
    """

    state: RainflowState
    origin: I64
    rows: I64
    ranges: F64
    temperatures: F64
    counts: F64


@dataclass(frozen=True)
class ResidueTerms:
    """How closing each row now would count its residue (see :func:`residue_terms`).

    Attributes
    ----------
    closing : numpy.ndarray of bool, shape (R, D)
        Residue ranges ``j`` (between entries ``j`` and ``j + 1``) that the last sample
        closes as full cycles.
    half : numpy.ndarray of bool, shape (R, D)
        Residue ranges counted as half cycles.
    tail_range, tail_temperature : numpy.ndarray, shape (R,)
        The half cycle from the last remaining reversal to the last sample (range and
        larger temperature); range 0 for a row without samples.
    """

    closing: NDArray[np.bool_]
    half: NDArray[np.bool_]
    tail_range: F64
    tail_temperature: F64


def _signs(d: F64) -> NDArray[np.int8]:
    return np.asarray((d > 0).view(np.int8) - (d < 0).view(np.int8), dtype=np.int8)


def _reversals(
    state: RainflowState, x: F64, temp: F64
) -> tuple[I64, F64, F64, NDArray[np.int8]]:
    """Return the new reversals (row, value, temperature), row-major, and the new direction."""
    R, n = x.shape
    if state.started:
        S = np.empty((R, n), dtype=np.int8)
        S[:, 0] = _signs(x[:, 0] - state.last)
        if n > 1:
            S[:, 1:] = _signs(np.diff(x, axis=1))
        offset = 1  # ext[k] = x[:, k - 1], ext[0] = last
    else:
        S = _signs(np.diff(x, axis=1)) if n > 1 else np.zeros((R, 0), dtype=np.int8)
        offset = 0  # ext[k] = x[:, k]
    m = S.shape[1]
    if m == 0:
        rev = np.zeros((R, 0), dtype=np.bool_)
        new_dir = state.direction.copy()
    elif np.count_nonzero(S) == S.size:
        rev = np.empty((R, m), dtype=np.bool_)
        rev[:, 0] = (S[:, 0] * state.direction) < 0
        np.not_equal(S[:, 1:], S[:, :-1], out=rev[:, 1:])
        new_dir = S[:, -1].copy()
    else:
        # Zero increments take the sign of the last non-zero one before them.
        Sx = np.empty((R, m + 1), dtype=np.int8)
        Sx[:, 0] = state.direction
        Sx[:, 1:] = S
        idx = np.where(Sx != 0, np.arange(m + 1, dtype=np.int32), np.int32(0))
        np.maximum.accumulate(idx, axis=1, out=idx)
        ff = np.take_along_axis(Sx, idx, axis=1)
        rev = (S * ff[:, :-1]) < 0
        new_dir = ff[:, -1].copy()
    rr, kk = np.nonzero(rev)
    rr = rr.astype(np.int64)
    if offset:
        first = kk == 0
        col = np.where(first, 0, kk - 1)
        vals = np.where(first, state.last[rr], x[rr, col])
        tvals = np.where(first, state.last_temperature[rr], temp[rr, col])
        return rr, vals, tvals, new_dir
    # First batch of the history: its first sample is a reversal of every row.
    rows0 = np.arange(R, dtype=np.int64)
    rows = np.concatenate([rows0, rr])
    vals = np.concatenate([x[:, 0], x[rr, kk]])
    tvals = np.concatenate([temp[:, 0], temp[rr, kk]])
    order = np.argsort(rows, kind="stable")
    return rows[order], vals[order], tvals[order], new_dir


class _Cycles:
    """Collects closed cycles (arrays per round or per loop)."""

    def __init__(self) -> None:
        self.rows: list[I64] = []
        self.ranges: list[F64] = []
        self.temps: list[F64] = []
        self.counts: list[F64] = []

    def add(self, rows: I64, ranges: F64, temps: F64, count: float | F64) -> None:
        if rows.shape[0] == 0:
            return
        self.rows.append(rows)
        self.ranges.append(ranges)
        self.temps.append(temps)
        self.counts.append(np.broadcast_to(np.asarray(count, dtype=np.float64), rows.shape))

    def arrays(self) -> tuple[I64, F64, F64, F64]:
        if not self.rows:
            e = np.empty(0)
            return np.empty(0, dtype=np.int64), e, e.copy(), e.copy()
        return (
            np.concatenate(self.rows),
            np.concatenate(self.ranges),
            np.concatenate(self.temps),
            np.concatenate(self.counts),
        )


def _round(
    v: F64, tv: F64, seg: I64, starts: I64, out: _Cycles, row_of_seg: I64
) -> tuple[NDArray[np.bool_], I64]:
    """One vectorised round over all segments; return the keep mask and removals per segment."""
    n = v.shape[0]
    y = np.abs(np.diff(v))  # range i: reversals i, i + 1
    same = seg[1:] == seg[:-1]  # range i lies in one segment
    le = (y[:-1] <= y[1:]) & same[:-1] & same[1:]  # range i has a next range, no larger
    bad = np.ones(n, dtype=np.bool_)
    bad[: n - 2] = ~le
    bad_pos = np.flatnonzero(bad)
    k = bad_pos[np.searchsorted(bad_pos, starts)] - starts  # leading run per segment
    cand = np.zeros(n, dtype=np.bool_)
    if n >= 3:
        cand[1 : n - 2] = le[1:] & (y[1:-1] < y[:-2]) & same[:-2]
    full = np.flatnonzero(cand)
    keep = np.ones(n, dtype=np.bool_)
    removed = np.bincount(seg[full], minlength=starts.shape[0]).astype(np.int64)
    lead = np.flatnonzero(k > 0)
    if lead.shape[0]:
        delta = np.zeros(n + 1, dtype=np.int64)
        delta[starts[lead]] = 1
        delta[starts[lead] + k[lead]] = -1
        lead_mask = np.cumsum(delta[:n]) > 0
        h = np.flatnonzero(lead_mask)
        out.add(row_of_seg[seg[h]], y[h], np.maximum(tv[h], tv[h + 1]), 0.5)
        keep[h] = False
        removed += np.where(k > 0, k, 0)
    if full.shape[0]:
        out.add(row_of_seg[seg[full]], y[full], np.maximum(tv[full], tv[full + 1]), 1.0)
        keep[full] = False
        keep[full + 1] = False
    return keep, removed


def _stack_loop(
    v: list[float], tv: list[float], org: list[int], row: int, out: _Cycles
) -> tuple[list[float], list[float], list[int]]:
    """E1049 5.4.4 steps 1-4 on one row's reversals (residue first); return the residue."""
    sv: list[float] = []
    st: list[float] = []
    so: list[int] = []
    rng: list[float] = []
    tmp: list[float] = []
    cnt: list[float] = []
    for x, t, o in zip(v, tv, org, strict=True):
        sv.append(x)
        st.append(t)
        so.append(o)
        while len(sv) >= 3:
            a, b = sv[-3], sv[-2]
            yb = abs(b - a)
            if abs(x - b) < yb:
                break
            if len(sv) == 3:
                rng.append(yb)
                tmp.append(max(st[0], st[1]))
                cnt.append(0.5)
                del sv[0], st[0], so[0]
            else:
                rng.append(yb)
                tmp.append(max(st[-3], st[-2]))
                cnt.append(1.0)
                del sv[-3:-1], st[-3:-1], so[-3:-1]
    if rng:
        out.add(
            np.full(len(rng), row, dtype=np.int64),
            np.asarray(rng),
            np.asarray(tmp),
            np.asarray(cnt),
        )
    return sv, st, so


def push(state: RainflowState, x: F64, temp: F64) -> PushResult:
    """Count a batch of samples in every row.

    Parameters
    ----------
    state : RainflowState
        State before the batch (not modified).
    x : numpy.ndarray, shape (R, n)
        Next samples of each row, ``n >= 1``, finite.
    temp : numpy.ndarray, shape (R, n)
        Metal temperature (K) at those samples.

    Returns
    -------
    PushResult
        New state, origin of the new residue entries and the closed cycles.
    """
    R, n = x.shape
    rows_new, v_new, t_new, new_dir = _reversals(state, x, temp)
    out = _Cycles()
    D = state.values.shape[1]
    cnt = np.bincount(rows_new, minlength=R).astype(np.int64)
    act = np.flatnonzero(cnt)
    depth = state.depth.copy()
    values = state.values
    temps = state.temperatures
    origin = np.where(np.arange(D)[None, :] < depth[:, None], np.arange(D)[None, :], -1)
    if act.shape[0]:
        A = act.shape[0]
        old_d = depth[act]
        lengths = old_d + cnt[act]
        seg_start = np.cumsum(lengths) - lengths
        total = int(lengths.sum())
        v = np.empty(total)
        tv = np.empty(total)
        org = np.empty(total, dtype=np.int64)
        seg = np.repeat(np.arange(A, dtype=np.int64), lengths)
        # old residue entries
        ai, aj = np.nonzero(np.arange(D)[None, :] < old_d[:, None])
        pos = seg_start[ai] + aj
        v[pos] = values[act[ai], aj]
        tv[pos] = temps[act[ai], aj]
        org[pos] = aj
        # new reversals (row-major)
        amap = np.full(R, -1, dtype=np.int64)
        amap[act] = np.arange(A)
        first = np.cumsum(cnt) - cnt
        rank = np.arange(rows_new.shape[0]) - first[rows_new]
        an = amap[rows_new]
        pos = seg_start[an] + old_d[an] + rank
        v[pos] = v_new
        tv[pos] = t_new
        org[pos] = -1
        # vectorised rounds
        touched = np.zeros(A, dtype=np.bool_)
        while v.shape[0] >= 3:
            starts = np.flatnonzero(np.concatenate([[True], seg[1:] != seg[:-1]]))
            present = seg[starts]
            keep, removed = _round(v, tv, seg, starts, out, act[present])
            n_removed = int(removed.sum())
            if n_removed == 0:
                touched[:] = False
                break
            v, tv, org, seg = v[keep], tv[keep], org[keep], seg[keep]
            touched[:] = False
            touched[present[removed > 0]] = True
            if n_removed < MIN_PAIRS_PER_ROUND:
                break
        # final residues: the stack loop for the rows the last round changed
        loop_segs = np.flatnonzero(touched)
        fin_seg = [seg]
        fin_v = [v]
        fin_t = [tv]
        fin_o = [org]
        if loop_segs.shape[0]:
            in_loop = touched[seg]
            rest = ~in_loop
            fin_seg, fin_v, fin_t, fin_o = [seg[rest]], [v[rest]], [tv[rest]], [org[rest]]
            lv, lt, lo, ls = v[in_loop], tv[in_loop], org[in_loop], seg[in_loop]
            bounds = np.flatnonzero(np.concatenate([[True], ls[1:] != ls[:-1], [True]]))
            lvl, ltl, lol = lv.tolist(), lt.tolist(), lo.tolist()
            for i0, i1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                s_id = int(ls[i0])
                sv, st, so = _stack_loop(lvl[i0:i1], ltl[i0:i1], lol[i0:i1], int(act[s_id]), out)
                fin_seg.append(np.full(len(sv), s_id, dtype=np.int64))
                fin_v.append(np.asarray(sv, dtype=np.float64))
                fin_t.append(np.asarray(st, dtype=np.float64))
                fin_o.append(np.asarray(so, dtype=np.int64))
        fseg = np.concatenate(fin_seg)
        fv = np.concatenate(fin_v)
        ft = np.concatenate(fin_t)
        fo = np.concatenate(fin_o)
        order = np.argsort(fseg, kind="stable")
        fseg, fv, ft, fo = fseg[order], fv[order], ft[order], fo[order]
        new_len = np.bincount(fseg, minlength=A).astype(np.int64)
        fstart = np.cumsum(new_len) - new_len
        fpos = np.arange(fseg.shape[0]) - fstart[fseg]
        D_new = max(D, int(new_len.max()) if A else 0)
        if D_new > D:
            D_new = max(D_new, 2 * D)
            grow = D_new - D
            values = np.pad(values, ((0, 0), (0, grow)))
            temps = np.pad(temps, ((0, 0), (0, grow)))
            origin = np.pad(origin, ((0, 0), (0, grow)), constant_values=-1)
        else:
            values = values.copy()
            temps = temps.copy()
        values[act] = 0.0
        temps[act] = 0.0
        origin[act] = -1
        rows_f = act[fseg]
        values[rows_f, fpos] = fv
        temps[rows_f, fpos] = ft
        origin[rows_f, fpos] = fo
        depth[act] = new_len
    new_state = RainflowState(
        values=values,
        temperatures=temps,
        depth=depth,
        last=x[:, -1].copy(),
        last_temperature=temp[:, -1].copy(),
        direction=new_dir,
        started=True,
    )
    rows, ranges, ctemps, counts = out.arrays()
    return PushResult(new_state, origin.astype(np.int64), rows, ranges, ctemps, counts)


def residue_terms(state: RainflowState) -> ResidueTerms:
    """Say how closing each row now would count its residue, without closing it.

    Closing pushes the last sample as a reversal (E1049 5.4.4 steps 1-4) and counts what
    is left as half cycles, as :meth:`models.life.RainflowCounter.finish` does. Because
    a residue has strictly decreasing ranges, the last sample closes the top ranges
    ``j = m-1, m-3, ...`` (``m + 1`` entries) exactly while it reaches past
    ``s_j``, a condition that holds for a contiguous top run; the bottom range is
    a half cycle either way.

    Parameters
    ----------
    state : RainflowState
        The open state.

    Returns
    -------
    ResidueTerms
    """
    s = state.values
    R, D = s.shape
    depth = state.depth
    m = depth - 1
    L = state.last
    cols = np.arange(D)
    closing = np.zeros((R, D), dtype=np.bool_)
    if D >= 2:
        j = cols[None, : D - 1]
        reach = np.abs(L[:, None] - s[:, 1:]) >= np.abs(s[:, 1:] - s[:, :-1])
        ok = (j >= 1) & (j <= (m - 1)[:, None]) & (((m - 1)[:, None] - j) % 2 == 0)
        closing[:, : D - 1] = reach & ok
    has = closing.any(axis=1)
    j_min = np.where(has, np.argmax(closing, axis=1), np.maximum(depth, 0))
    half = cols[None, :] <= (j_min - 2)[:, None]
    top = np.clip(j_min - 1, 0, max(D - 1, 0))
    ridx = np.arange(R)
    started = depth > 0
    if D:
        s_top = s[ridx, top]
        t_top = state.temperatures[ridx, top]
    else:
        s_top = np.zeros(R)
        t_top = np.zeros(R)
    tail_range = np.where(started, np.abs(L - s_top), 0.0)
    tail_temp = np.where(started, np.maximum(state.last_temperature, t_top), 0.0)
    return ResidueTerms(closing, half, tail_range, tail_temp)
