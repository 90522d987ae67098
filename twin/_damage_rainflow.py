"""Streaming rainflow counting of many histories at once (ASTM E1049-85, 5.4.4).

One *row* is one history: a particle's equivalent strain at one damage location. The
rows advance together, one batch of samples per call, and :func:`count` returns the
cycles the batch closes in every row. The counting convention is that of
:mod:`models.life.rainflow` (and of the ``rainflow`` package behind
:func:`models.life.count_cycles`): the reversals of a history are its first sample,
every interior turning point (for a plateau, its last sample) and, when the history
is closed, its last sample; the three-point rule of E1049 5.4.4 removes a range when
the next one is at least as large, as a full cycle, or as a half cycle when it holds
the starting point.

The per-row loop is compiled (:mod:`twin._damage_kernel`); this module holds the
state, grows the residue arrays when a row outgrows them, and says how the open
residue would be counted if the history ended now (:func:`residue_terms`, what
:meth:`models.life.RainflowCounter.finish` would return, without closing anything).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CycleBuffer",
    "PushResult",
    "RainflowState",
    "ResidueTerms",
    "count",
    "count_strain",
    "residue_terms",
]

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
        metal temperature of its two reversals, K), count (1.0 full, 0.5 half), in
        the order they closed within each row.
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


class CycleBuffer:
    """Reusable output arrays for the closed cycles of :func:`count` (grown on demand).

    Reusing them across batches avoids touching fresh memory pages every call; the
    cycles a :class:`PushResult` holds are views into the buffer, valid until the next
    :func:`count` with the same buffer.
    """

    def __init__(self) -> None:
        self.rows = np.empty(0, dtype=np.int64)
        self.ranges = np.empty(0)
        self.temperatures = np.empty(0)
        self.counts = np.empty(0)

    def ensure(self, capacity: int) -> None:
        """Make room for ``capacity`` cycles."""
        if self.rows.shape[0] < capacity:
            size = max(capacity, 2 * self.rows.shape[0])
            self.rows = np.empty(size, dtype=np.int64)
            self.ranges = np.empty(size)
            self.temperatures = np.empty(size)
            self.counts = np.empty(size)


def count(
    state: RainflowState,
    x: F64,
    temp: F64,
    *,
    min_range: float = 0.0,
    buffer: CycleBuffer | None = None,
) -> PushResult:
    """Count a batch of samples in every row.

    Parameters
    ----------
    state : RainflowState
        State before the batch (not modified).
    x : numpy.ndarray, shape (R, n)
        Next samples of each row, ``n >= 1``.
    temp : numpy.ndarray, shape (R, n)
        Metal temperature (K) at those samples.
    min_range : float, optional
        Closed cycles with a smaller range are left out of the result (they are
        counted; the damage account passes the range below which the strain-life law
        gives no damage).
    buffer : CycleBuffer, optional
        Output arrays to reuse.

    Returns
    -------
    PushResult
        New state, origin of the new residue entries and the closed cycles.
    """
    from twin._damage_kernel import rainflow_push

    kernel: Any = rainflow_push  # numba dispatcher (untyped)
    R, n = x.shape
    x = np.ascontiguousarray(x, dtype=np.float64)
    temp = np.ascontiguousarray(temp, dtype=np.float64)

    def run(arrays: tuple[Any, ...], cycles: tuple[Any, ...]) -> tuple[int, int]:
        nc, overflow = kernel(x, temp, state.started, *arrays, *cycles, 0, 0, float(min_range))
        return int(nc), int(overflow)

    return _counted(state, R * n, run, buffer)


def count_strain(
    state: RainflowState,
    blocks: list[tuple[F64, F64, float]],
    *,
    table: tuple[F64, F64, F64],
    creep_scale: F64,
    creep_cutoff: float,
    min_range: float,
    buffer: CycleBuffer | None = None,
) -> tuple[PushResult, list[F64], list[F64]]:
    """Count the equivalent strain of every location's stress history at once.

    Parameters
    ----------
    state : RainflowState
        State of ``L * P`` rows, location-major (not modified).
    blocks : list of (stress (P, 3, n), temperature (P, n), scf)
        One entry per location, in row order; C-contiguous float64.
    table : tuple of arrays
        Modulus table ``(xp, fp, slope)`` (K, Pa, Pa/K).
    creep_scale : numpy.ndarray, shape (P,)
        Factor on the creep stress per particle.
    creep_cutoff : float
        Metal temperature (K) below which the creep stress is 0.
    min_range : float
        As for :func:`count`.
    buffer : CycleBuffer, optional
        Output arrays to reuse.

    Returns
    -------
    PushResult
        As for :func:`count`.
    list of numpy.ndarray, shape (P, n)
        Creep stress (Pa) per location.
    list of numpy.ndarray, shape (P, 4)
        Per location and particle: smallest and largest temperature, smallest and
        largest creep stress (NaN where an input was not finite).
    """
    from twin._damage_kernel import strain_rainflow

    kernel: Any = strain_rainflow  # numba dispatcher (untyped)
    P, _, n = blocks[0][0].shape
    sc = [np.empty((P, n)) for _ in blocks]
    ext = [np.empty((P, 4)) for _ in blocks]

    def run(arrays: tuple[Any, ...], cycles: tuple[Any, ...]) -> tuple[int, int]:
        nc = 0
        for k, (S, T, scf) in enumerate(blocks):
            rows = slice(k * P, (k + 1) * P)
            part = [a[rows] for a in arrays]
            nc, overflow = kernel(
                S, T, float(scf), *table, creep_scale, float(creep_cutoff), sc[k], ext[k],
                state.started, *part, *cycles, nc, k * P, float(min_range),
            )  # fmt: skip
            if overflow >= 0:
                return int(nc), int(overflow)
        return int(nc), -1

    return _counted(state, len(blocks) * P * n, run, buffer), sc, ext


def _counted(
    state: RainflowState,
    samples: int,
    run: Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[int, int]],
    buffer: CycleBuffer | None,
) -> PushResult:
    """Run a kernel on a copy of the state, widening the residue until it fits."""
    buf = CycleBuffer() if buffer is None else buffer
    buf.ensure(int(state.depth.sum()) + samples)  # each cycle removes a residue entry
    cycles = (buf.rows, buf.ranges, buf.temperatures, buf.counts)
    R = state.depth.shape[0]
    D = state.values.shape[1]
    while True:
        values = _widen(state.values, D)
        tvals = _widen(state.temperatures, D)
        depth = state.depth.copy()
        last = state.last.copy()
        last_t = state.last_temperature.copy()
        direction = state.direction.copy()
        origin = np.empty((R, D), dtype=np.int64)
        nc, overflow = run((last, last_t, direction, values, tvals, depth, origin), cycles)
        if overflow < 0:
            break
        D = 2 * D  # a row outgrew the residue arrays: widen them and count again
    stale = np.arange(D)[None, :] >= depth[:, None]  # entries the loop removed
    values[stale] = 0.0
    tvals[stale] = 0.0
    new = RainflowState(values, tvals, depth, last, last_t, direction, True)
    return PushResult(
        new, origin, buf.rows[:nc], buf.ranges[:nc], buf.temperatures[:nc], buf.counts[:nc]
    )


def _widen(a: F64, D: int) -> F64:
    """Return a copy of ``a`` (R, D0) with ``D >= D0`` columns (zeros appended)."""
    out = np.zeros((a.shape[0], D))
    out[:, : a.shape[1]] = a
    return out


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
