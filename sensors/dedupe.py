"""The duplicate tracker: which sequence numbers of one sensor were already accepted.

:class:`SeenSequences` holds a set of integers as sorted, disjoint, non-touching
intervals ``[start, end]`` in two NumPy arrays (16 bytes an interval), plus a small
hash set of numbers that arrived out of order and are not merged in yet:

* a number above every interval (the normal case, with or without holes) extends
  the last interval or appends one: amortised O(1);
* a number below the last interval goes into the hash set, O(1); when the set
  holds a quarter as many numbers as there are intervals (at least 1,024), one
  vectorised merge folds it in, O((n + m) log(n + m)) for m numbers: amortised
  O(log n) per number;
* a membership test is a binary search plus a hash lookup, O(log n).

Memory is bounded whatever the pattern: beyond ``max_intervals`` intervals the
oldest (lowest) quarter is forgotten and :attr:`SeenSequences.floor` rises past
them. Below the floor the tracker can no longer tell a new number from a
redelivered one; :meth:`SeenSequences.forgotten` reports such numbers, and the
validator dead-letters them as ``sequence_too_old`` instead of guessing (a
requeue checks them exactly against the archive). With sequences that count up
by one there is one interval and the floor never moves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_MAX_INTERVALS", "SeenSequences"]

#: Default cap on the intervals held per sensor (2**18: 4 MiB of arrays): seven hours
#: of a 10 Hz sensor whose every reading leaves a hole, three days at 1 Hz.
DEFAULT_MAX_INTERVALS = 2**18

_MIN_PENDING = 1024


class SeenSequences:
    """Set of sequence numbers of one sensor with O(log n) operations and bounded memory.

    Parameters
    ----------
    max_intervals : int, optional
        Most intervals held; beyond it the lowest quarter is forgotten (see the
        module docstring).
    """

    def __init__(self, *, max_intervals: int = DEFAULT_MAX_INTERVALS) -> None:
        if max_intervals < 4:
            raise ValueError(f"max_intervals: must be >= 4, got {max_intervals!r}")
        self.max_intervals = int(max_intervals)
        self._start = np.empty(16, dtype=np.int64)
        self._end = np.empty(16, dtype=np.int64)  # inclusive
        self._n = 0
        self._pending: set[int] = set()
        self._pending_sorted: npt.NDArray[np.int64] | None = None
        self._floor = 0

    # -- queries ------------------------------------------------------------------------
    @property
    def floor(self) -> int:
        """Numbers below it are forgotten (0 until the interval cap was reached)."""
        return self._floor

    @property
    def intervals(self) -> int:
        """Number of disjoint, maximal intervals held (after merging pending numbers)."""
        self._merge()
        return self._n

    @property
    def nbytes(self) -> int:
        """Approximate memory held, bytes."""
        return int(self._start.nbytes + self._end.nbytes + 64 * len(self._pending))

    def contains(self, seq: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Return a mask: which of ``seq`` are in the set (False below the floor)."""
        seq = np.asarray(seq, dtype=np.int64)
        out = np.zeros(seq.shape, dtype=bool)
        n = self._n
        if n:
            idx = np.searchsorted(self._start[:n], seq, side="right") - 1
            ok = idx >= 0
            out[ok] = seq[ok] <= self._end[:n][idx[ok]]
        if self._pending:
            if seq.size < 64:
                pending = self._pending
                out |= np.fromiter((int(s) in pending for s in seq), dtype=bool, count=seq.size)
            else:
                if self._pending_sorted is None:
                    self._pending_sorted = np.sort(np.fromiter(self._pending, dtype=np.int64))
                out |= np.isin(seq, self._pending_sorted, assume_unique=False)
        return out

    def contains_one(self, seq: int) -> bool:
        """Return whether one number is in the set (the scalar form of :meth:`contains`)."""
        n = self._n
        if n and seq > int(self._end[n - 1]):
            return False
        if seq in self._pending:
            return True
        if not n:
            return False
        i = int(np.searchsorted(self._start[:n], seq, side="right")) - 1
        return i >= 0 and seq <= int(self._end[i])

    def forgotten(self, seq: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Return a mask: which of ``seq`` lie below the floor (unknown to the tracker)."""
        return np.asarray(seq, dtype=np.int64) < self._floor

    # -- updates ------------------------------------------------------------------------
    def add_one(self, seq: int) -> None:
        """Add one number (not below the floor)."""
        n = self._n
        if n == 0 or seq > int(self._end[n - 1]) + 1:
            self._append(seq, seq)
        elif seq == int(self._end[n - 1]) + 1:
            self._end[n - 1] = seq  # the common case: the next number of the latest run
        elif not self.contains_one(seq):
            self._pending.add(int(seq))
            self._pending_sorted = None
            if len(self._pending) >= max(_MIN_PENDING, self._n // 4):
                self._merge()

    def add(self, seq: npt.NDArray[np.int64]) -> None:
        """Add numbers (a batch; any order, repeats allowed)."""
        seq = np.asarray(seq, dtype=np.int64)
        if not seq.size:
            return
        if seq.size == 1:
            self.add_one(int(seq[0]))
            return
        s = np.unique(seq)
        n = self._n
        if n:
            last = self._end[n - 1]
            cut = int(np.searchsorted(s, last, side="right"))
            low, s = s[:cut], s[cut:]
            if low.size:
                # Below the last interval: pending, O(1) each (invariant: every
                # pending number lies below the last interval's end).
                low = low[~self.contains(low)]
                self._pending.update(low.tolist())
                self._pending_sorted = None
        if s.size:
            # Above the last interval: append their runs, O(k) amortised.
            breaks = np.flatnonzero(np.diff(s) != 1) + 1
            starts = s[np.r_[0, breaks]]
            ends = s[np.r_[breaks - 1, s.size - 1]]
            if self._n and starts[0] == self._end[self._n - 1] + 1:
                self._end[self._n - 1] = ends[0]
                starts, ends = starts[1:], ends[1:]
            self._extend(starts, ends)
        if len(self._pending) >= max(_MIN_PENDING, self._n // 4):
            self._merge()

    # -- internals ----------------------------------------------------------------------
    def _append(self, start: int, end: int) -> None:
        if self._n == self._start.size:
            self._grow(self._n + 1)
        self._start[self._n] = start
        self._end[self._n] = end
        self._n += 1
        if self._n > self.max_intervals:
            self._forget()

    def _extend(self, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]) -> None:
        k = starts.size
        if not k:
            return
        if self._n + k > self._start.size:
            self._grow(self._n + k)
        self._start[self._n : self._n + k] = starts
        self._end[self._n : self._n + k] = ends
        self._n += k
        if self._n > self.max_intervals:
            self._forget()

    def _grow(self, need: int) -> None:
        size = max(need, min(2 * self._start.size, self.max_intervals + 1))
        for name in ("_start", "_end"):
            old = getattr(self, name)
            new = np.empty(size, dtype=np.int64)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _merge(self) -> None:
        if not self._pending:
            return
        p = np.sort(np.fromiter(self._pending, dtype=np.int64))
        self._pending = set()
        self._pending_sorted = None
        p = p[p >= self._floor]
        if not p.size:
            return
        breaks = np.flatnonzero(np.diff(p) != 1) + 1
        n = self._n
        starts = np.concatenate([self._start[:n], p[np.r_[0, breaks]]])
        ends = np.concatenate([self._end[:n], p[np.r_[breaks - 1, p.size - 1]]])
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
        # Merge overlapping or touching intervals.
        reach = np.maximum.accumulate(ends)
        new = np.r_[True, starts[1:] > reach[:-1] + 1]
        group = np.cumsum(new) - 1
        merged_start = starts[new]
        merged_end = np.full(merged_start.size, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(merged_end, group, ends)
        size = max(merged_start.size, min(2 * merged_start.size, self.max_intervals + 1), 16)
        self._start = np.empty(size, dtype=np.int64)
        self._end = np.empty_like(self._start)
        self._n = merged_start.size
        self._start[: self._n] = merged_start
        self._end[: self._n] = merged_end
        if self._n > self.max_intervals:
            self._forget()

    def _forget(self) -> None:
        """Drop the lowest intervals down to three quarters of the cap; raise the floor."""
        keep = (3 * self.max_intervals) // 4
        drop = self._n - keep
        self._floor = int(self._start[drop])
        size = self.max_intervals + 1
        if self._start.size > size:  # a large batch grew the arrays: give the memory back
            start, end = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
        else:
            start, end = self._start, self._end
        start[:keep] = self._start[drop : self._n]
        end[:keep] = self._end[drop : self._n]
        self._start, self._end, self._n = start, end, keep
        if self._pending:
            self._pending = {s for s in self._pending if s >= self._floor}
            self._pending_sorted = None
