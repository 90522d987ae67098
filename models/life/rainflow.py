"""Rainflow cycle counting per ASTM E1049-85 (reapproved 2017), section 5.4.4.

Two forms that give identical cycles:

* :func:`count_cycles` counts a whole history. It delegates to the ``rainflow``
  package (a well-kept implementation of section 5.4.4) and only adds validation and
  the two-sample case that package leaves uncounted.
* :class:`RainflowCounter` counts a history arriving in chunks of any size. Its open
  state (the residue stack and the last sample) is small and round-trips through
  :meth:`RainflowCounter.to_dict` / :meth:`RainflowCounter.from_dict`.

Counting convention (both forms): the reversals of a history of ``n >= 2`` samples
are its first sample, every interior turning point (for a plateau, the last sample
of the plateau) and its last sample. The three-point rule of E1049 5.4.4 is applied
to them; a range holding the starting point is counted as a half cycle, and what is
left on the stack when the history ends (the *residue*) is counted as half cycles.
A streaming counter cannot know when a history ends, so the residue is closed out
only by :meth:`RainflowCounter.finish`; :meth:`RainflowCounter.residue_cycles` shows
those half cycles without closing anything.

The streaming form is vectorised: per chunk, NumPy finds the reversals and, when the
chunk is large against the residue, removes in rounds every range the three-point
rule would remove given its neighbours (:func:`_reduce_rounds`); the few ranges left
go through the plain stack loop. Chunks small against a deep residue are pushed onto
it directly, and chunks of a few samples skip NumPy, so the work per call follows the
chunk, not the residue. The
cycles are the same as the batch form's, but ranges closed in one round are reported
in canonical order (by start, then end reversal) rather than in the order the
one-at-a-time loop would close them: compare two results with :meth:`Cycles.sorted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError
from models.life._validate import as_finite

__all__ = ["Cycles", "RainflowCounter", "count_cycles"]

_SCHEMA_VERSION = 1
# Below this many removable pairs in a vectorised round, finish with the stack loop.
_MIN_PAIRS_PER_ROUND = 256
# Use the vectorised rounds only for chunks with this many times more reversals than the
# residue holds; smaller chunks are pushed onto the residue (work ~ chunk, not residue).
_ROUNDS_STACK_FACTOR = 4
# Chunks of at most this many samples skip NumPy (per-call overhead dominates there).
_SMALL_CHUNK = 16


@dataclass(frozen=True)
class Cycles:
    """Counted cycles, one entry per (half) cycle.

    Attributes
    ----------
    ranges : numpy.ndarray, shape (k,)
        Range ``|x1 - x2|`` of each cycle, in the unit of the history.
    means : numpy.ndarray, shape (k,)
        Mean ``(x1 + x2) / 2``, in the unit of the history.
    counts : numpy.ndarray, shape (k,)
        1.0 for a full cycle, 0.5 for a half cycle.
    starts, ends : numpy.ndarray of int64, shape (k,)
        Sample indices (in the whole history) of the two reversals of the cycle.
    """

    ranges: NDArray[np.float64]
    means: NDArray[np.float64]
    counts: NDArray[np.float64]
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.ranges.shape[0])

    @classmethod
    def empty(cls) -> Cycles:
        """Return an empty set of cycles."""
        f = np.empty(0, dtype=np.float64)
        i = np.empty(0, dtype=np.int64)
        return cls(f, f.copy(), f.copy(), i, i.copy())

    @classmethod
    def concatenate(cls, parts: list[Cycles]) -> Cycles:
        """Join cycle sets in order."""
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.ranges for p in parts]),
            np.concatenate([p.means for p in parts]),
            np.concatenate([p.counts for p in parts]),
            np.concatenate([p.starts for p in parts]),
            np.concatenate([p.ends for p in parts]),
        )

    @classmethod
    def from_points(
        cls,
        x1: NDArray[np.float64],
        x2: NDArray[np.float64],
        i1: NDArray[np.int64],
        i2: NDArray[np.int64],
        counts: NDArray[np.float64],
    ) -> Cycles:
        """Build cycles from their first (``x1``, ``i1``) and second reversals."""
        return cls(np.abs(x1 - x2), 0.5 * (x1 + x2), counts, i1, i2)

    def sorted(self) -> Cycles:
        """Return the cycles in canonical order: by start reversal, then end reversal.

        A (start, end) pair of reversals closes at most one (half) cycle, so this order
        is unique; it makes cycles from differently chunked counts comparable.
        """
        order = np.lexsort((self.ends, self.starts))
        return Cycles(
            self.ranges[order],
            self.means[order],
            self.counts[order],
            self.starts[order],
            self.ends[order],
        )

    def to_tuples(self) -> list[tuple[float, float, float, int, int]]:
        """Return ``(range, mean, count, start, end)`` tuples, as ``rainflow.extract_cycles``."""
        return list(
            zip(
                self.ranges.tolist(),
                self.means.tolist(),
                self.counts.tolist(),
                self.starts.tolist(),
                self.ends.tolist(),
                strict=True,
            )
        )


def _history(name: str, values: ArrayLike) -> NDArray[np.float64]:
    arr = as_finite(name, values)
    if arr.ndim != 1:
        raise LawInputError(
            f"{name}: must be one-dimensional; got shape {arr.shape}. Pass one signal at a time."
        )
    return arr


def count_cycles(history: ArrayLike) -> Cycles:
    """Count the rainflow cycles of a whole history (ASTM E1049-85, 5.4.4).

    Parameters
    ----------
    history : array_like, shape (n,)
        Load, stress or strain samples (any unit; cycles carry the same unit).

    Returns
    -------
    Cycles
        Full and half cycles in the order of ``rainflow.extract_cycles``.

    Raises
    ------
    LawInputError
        If the history has NaN or infinite samples or is not one-dimensional.

    Notes
    -----
    For ``n >= 3`` this is ``rainflow.extract_cycles``. The package counts nothing for
    a two-sample history; here its single range is a half cycle, as E1049 reads. The
    package detects a reversal by the product of successive increments, which
    underflows to zero for increments below about 1e-154 (in load units): such a
    history should be rescaled first. :class:`RainflowCounter` compares signs and has
    no such limit.
    """
    import rainflow

    x = _history("history", history)
    n = x.shape[0]
    if n < 2:
        return Cycles.empty()
    if n == 2:
        a, b = float(x[0]), float(x[1])
        return Cycles(
            np.array([abs(a - b)]),
            np.array([0.5 * (a + b)]),
            np.array([0.5]),
            np.array([0], dtype=np.int64),
            np.array([1], dtype=np.int64),
        )
    rows = list(rainflow.extract_cycles(x.tolist()))
    if not rows:
        return Cycles.empty()
    r, m, c, i1, i2 = zip(*rows, strict=True)
    return Cycles(
        np.asarray(r, dtype=np.float64),
        np.asarray(m, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        np.asarray(i1, dtype=np.int64),
        np.asarray(i2, dtype=np.int64),
    )


@dataclass
class _Removed:
    """Cycles removed from the stack."""

    x1: list[NDArray[np.float64]] = field(default_factory=list)
    x2: list[NDArray[np.float64]] = field(default_factory=list)
    i1: list[NDArray[np.int64]] = field(default_factory=list)
    i2: list[NDArray[np.int64]] = field(default_factory=list)
    count: list[NDArray[np.float64]] = field(default_factory=list)

    def add(
        self,
        x1: NDArray[np.float64],
        x2: NDArray[np.float64],
        i1: NDArray[np.int64],
        i2: NDArray[np.int64],
        count: NDArray[np.float64],
    ) -> None:
        self.x1.append(x1)
        self.x2.append(x2)
        self.i1.append(i1)
        self.i2.append(i2)
        self.count.append(count)

    def cycles(self) -> Cycles:
        if not self.x1:
            return Cycles.empty()
        x1 = np.concatenate(self.x1)
        x2 = np.concatenate(self.x2)
        i1 = np.concatenate(self.i1)
        i2 = np.concatenate(self.i2)
        cnt = np.concatenate(self.count)
        # Rounds close ranges in another order than the one-reversal-at-a-time loop;
        # report them in the canonical order (start, end), as Cycles.sorted().
        order = np.lexsort((i2, i1))
        return Cycles.from_points(x1[order], x2[order], i1[order], i2[order], cnt[order])


def _reduce_rounds(
    v: NDArray[np.float64], ix: NDArray[np.int64], out: _Removed
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Remove, in vectorised rounds, the ranges the three-point rule would remove.

    A range ``Y_j`` between reversals ``j`` and ``j + 1`` is removed once the next
    range is at least as large (``Y_j <= Y_{j+1}``) and, for ``j >= 1``, the previous
    range is strictly larger (``Y_j < Y_{j-1}``; otherwise the previous range goes
    first). At ``j = 0`` the range holds the start: a half cycle, and only the first
    reversal is dropped. Candidates never share a reversal, so one round removes them
    all.
    """
    while v.shape[0] >= 3:
        y = np.abs(np.diff(v))
        le_next = y[:-1] <= y[1:]  # pair j has a larger-or-equal range after it
        # Leading run of non-decreasing ranges: each range holds the start when the
        # next reversal arrives, so all of them are half cycles, closed in turn.
        k = int(np.argmin(le_next)) if not le_next.all() else le_next.shape[0]
        cand = np.zeros(le_next.shape[0], dtype=np.bool_)
        cand[k + 1 :] = le_next[k + 1 :] & (y[k + 1 : -1] < y[k:-2])
        full = np.flatnonzero(cand)
        if k + full.shape[0] < _MIN_PAIRS_PER_ROUND:
            break
        keep = np.ones(v.shape[0], dtype=np.bool_)
        if k:
            h = np.arange(k)
            out.add(v[h], v[h + 1], ix[h], ix[h + 1], np.full(k, 0.5))
            keep[:k] = False
        out.add(v[full], v[full + 1], ix[full], ix[full + 1], np.ones(full.shape[0]))
        keep[full] = False
        keep[full + 1] = False
        v = v[keep]
        ix = ix[keep]
    return v, ix


def _stable_prefix(v: NDArray[np.float64]) -> int:
    """Return the length of the longest prefix whose ranges strictly decrease.

    The stack loop leaves such a prefix alone (every push finds X < Y), so it can
    start from it as its stack.
    """
    if v.shape[0] < 3:
        return int(v.shape[0])
    y = np.abs(np.diff(v))
    bad = y[:-1] <= y[1:]
    return int(np.argmax(bad)) + 2 if bad.any() else int(v.shape[0])


def _push_loop(
    sv: list[float], si: list[int], xs: list[float], js: list[int], out: _Removed
) -> None:
    """Push reversals on the stack ``(sv, si)`` with the E1049 5.4.4 three-point rule.

    Steps 1-4 of the standard (not the residue step); the stack lists are updated in
    place and the removed ranges go to ``out``.
    """
    r1: list[float] = []
    r2: list[float] = []
    j1: list[int] = []
    j2: list[int] = []
    cnt: list[float] = []
    for x, i in zip(xs, js, strict=True):
        sv.append(x)
        si.append(i)
        while len(sv) >= 3:
            a, b = sv[-3], sv[-2]
            if abs(x - b) < abs(b - a):
                break
            if len(sv) == 3:
                r1.append(a)
                r2.append(b)
                j1.append(si[0])
                j2.append(si[1])
                cnt.append(0.5)
                del sv[0]
                del si[0]
            else:
                r1.append(a)
                r2.append(b)
                j1.append(si[-3])
                j2.append(si[-2])
                cnt.append(1.0)
                del sv[-3:-1]
                del si[-3:-1]
    if r1:
        out.add(
            np.asarray(r1),
            np.asarray(r2),
            np.asarray(j1, dtype=np.int64),
            np.asarray(j2, dtype=np.int64),
            np.asarray(cnt),
        )


def _residue_half_cycles(v: NDArray[np.float64], ix: NDArray[np.int64]) -> Cycles:
    if v.shape[0] < 2:
        return Cycles.empty()
    return Cycles.from_points(v[:-1], v[1:], ix[:-1], ix[1:], np.full(v.shape[0] - 1, 0.5))


class RainflowCounter:
    """Streaming rainflow counter: feed chunks, get the cycles they close.

    The cycles returned by all :meth:`update` calls followed by :meth:`finish` are
    the cycles :func:`count_cycles` finds in the concatenated history, for any
    chunking (a property test checks this); each call returns them in canonical
    order (:meth:`Cycles.sorted`).

    Examples
    --------
    >>> counter = RainflowCounter()
    >>> closed = counter.update([-2, 1, -3, 5])
    >>> rest = counter.update([-1, 3, -4, 4, -2])
    >>> tail = counter.finish()
    >>> sorted((Cycles.concatenate([closed, rest, tail]).ranges).tolist())
    [3.0, 4.0, 4.0, 6.0, 8.0, 8.0, 9.0]
    """

    def __init__(self) -> None:
        self._n = 0  # samples seen
        self._dir = 0  # sign of the last nonzero increment (0: none yet)
        self._last = 0.0  # last sample (index n - 1)
        self._stack_v: list[float] = []  # residue reversals (values, sample indices)
        self._stack_i: list[int] = []
        self._finished = False

    @property
    def samples_seen(self) -> int:
        """Number of samples received so far."""
        return self._n

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` closed this history."""
        return self._finished

    def update(self, chunk: ArrayLike) -> Cycles:
        """Add samples and return the cycles they close.

        Parameters
        ----------
        chunk : array_like, shape (m,)
            Next samples of the history (may be empty).

        Returns
        -------
        Cycles
            Full cycles and start-holding half cycles closed by this chunk.

        Raises
        ------
        LawInputError
            If the chunk has NaN/inf samples, is not 1-D, or the counter is finished.
        """
        if self._finished:
            raise LawInputError(
                "chunk: this counter was closed by finish(); start a new RainflowCounter "
                "(or restore a saved state) to count another history."
            )
        c = _history("chunk", chunk)
        m = c.shape[0]
        if m == 0:
            return Cycles.empty()
        if m <= _SMALL_CHUNK:
            return self._update_small(c.tolist())
        if self._n == 0:
            new_v = c[:1]
            new_i = np.zeros(1, dtype=np.int64)
            ext = c
            base = 0
        else:
            new_v = np.empty(0, dtype=np.float64)
            new_i = np.empty(0, dtype=np.int64)
            ext = np.empty(m + 1, dtype=np.float64)
            ext[0] = self._last
            ext[1:] = c
            base = self._n - 1  # global index of ext[0]
        d = np.diff(ext)
        nz = np.flatnonzero(d)
        if nz.shape[0]:
            s = np.sign(d[nz])
            prev = np.empty_like(s)
            prev[0] = self._dir
            prev[1:] = s[:-1]
            k = nz[s * prev < 0]  # ext[k] is the last sample before a direction change
            self._dir = int(s[-1])
            rv = ext[k]
            ri = (k + base).astype(np.int64)
            new_v = np.concatenate([new_v, rv])
            new_i = np.concatenate([new_i, ri])
        self._n += m
        self._last = float(c[-1])
        if new_v.shape[0] == 0:
            return Cycles.empty()
        out = _Removed()
        if new_v.shape[0] >= max(_MIN_PAIRS_PER_ROUND, _ROUNDS_STACK_FACTOR * len(self._stack_v)):
            # Large chunk: vectorised rounds over residue + chunk, then the loop.
            v = np.concatenate([np.asarray(self._stack_v, dtype=np.float64), new_v])
            ix = np.concatenate([np.asarray(self._stack_i, dtype=np.int64), new_i])
            v, ix = _reduce_rounds(v, ix, out)
            n0 = _stable_prefix(v)
            sv, si = v[:n0].tolist(), ix[:n0].tolist()
            _push_loop(sv, si, v[n0:].tolist(), ix[n0:].tolist(), out)
            self._stack_v, self._stack_i = sv, si
        else:
            # Small chunk against a deep residue: push onto the residue in place, so
            # the work is proportional to the chunk (and to what it closes).
            _push_loop(self._stack_v, self._stack_i, new_v.tolist(), new_i.tolist(), out)
        return out.cycles()

    def _update_small(self, xs: list[float]) -> Cycles:
        """Plain-Python form of :meth:`update` for a few samples (same reversals)."""
        rv: list[float] = []
        ri: list[int] = []
        n, last, direction = self._n, self._last, self._dir
        for x in xs:
            if n == 0:
                rv.append(x)
                ri.append(0)
            else:
                d = x - last
                if d != 0.0:
                    sgn = 1 if d > 0.0 else -1
                    if direction and sgn != direction:
                        rv.append(last)
                        ri.append(n - 1)
                    direction = sgn
            last = x
            n += 1
        self._n, self._last, self._dir = n, last, direction
        if not rv:
            return Cycles.empty()
        out = _Removed()
        _push_loop(self._stack_v, self._stack_i, rv, ri, out)
        return out.cycles()

    def _closing(self) -> tuple[Cycles, list[float], list[int]]:
        sv, si = list(self._stack_v), list(self._stack_i)
        out = _Removed()
        if self._n >= 2:
            _push_loop(sv, si, [self._last], [self._n - 1], out)
        return out.cycles(), sv, si

    def residue_cycles(self) -> Cycles:
        """Return what :meth:`finish` would return now, without closing the history.

        Use it to include the open residue in a damage estimate while data keeps
        arriving; the counter's state is unchanged.
        """
        closed, sv, si = self._closing()
        v = np.asarray(sv, dtype=np.float64)
        ix = np.asarray(si, dtype=np.int64)
        return Cycles.concatenate([closed, _residue_half_cycles(v, ix)])

    def finish(self) -> Cycles:
        """Close the history: take the last sample as a reversal, count the residue.

        Returns
        -------
        Cycles
            Cycles closed by the last sample, then the residue as half cycles.
        """
        if self._finished:
            return Cycles.empty()
        result = self.residue_cycles()
        self._finished = True
        self._stack_v, self._stack_i = [], []
        return result

    def to_dict(self) -> dict[str, Any]:
        """Return the state as a JSON-ready dictionary (schema version included)."""
        return {
            "schema_version": _SCHEMA_VERSION,
            "samples_seen": self._n,
            "direction": self._dir,
            "last_sample": self._last,
            "residue_values": list(self._stack_v),
            "residue_indices": list(self._stack_i),
            "finished": self._finished,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> RainflowCounter:
        """Restore a counter saved by :meth:`to_dict`.

        Raises
        ------
        LawInputError
            If the schema version is unknown or a field is missing or inconsistent.
        """
        version = state.get("schema_version")
        if version != _SCHEMA_VERSION:
            raise LawInputError(
                f"state.schema_version: must be {_SCHEMA_VERSION}; got {version!r}. "
                "Save the state with this version of RainflowCounter.to_dict()."
            )
        try:
            obj = cls()
            obj._n = int(state["samples_seen"])
            obj._dir = int(state["direction"])
            obj._last = float(state["last_sample"])
            values = as_finite("state.residue_values", state["residue_values"]).reshape(-1)
            indices = np.asarray(state["residue_indices"], dtype=np.int64).reshape(-1)
            obj._stack_v, obj._stack_i = values.tolist(), indices.tolist()
            obj._finished = bool(state["finished"])
        except KeyError as err:
            raise LawInputError(
                f"state: missing field {err.args[0]!r}; pass a dictionary from to_dict()."
            ) from err
        if len(obj._stack_v) != len(obj._stack_i) or obj._dir not in (-1, 0, 1):
            raise LawInputError(
                "state: residue_values and residue_indices must have equal length and "
                f"direction must be -1, 0 or 1; got {state!r}. Pass a dictionary from to_dict()."
            )
        return obj
