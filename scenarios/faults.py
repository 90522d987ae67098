"""Sensor faults of a scenario, injected into the readings the historian reports.

Five kinds (:data:`scenarios.spec.FAULT_KINDS`), each on one sensor over a window
``[start, start + duration)`` of plant time (s from the scenario start, clipped to
the recording):

- ``bias_step``: ``magnitude`` added from the start;
- ``drift``: ``magnitude * (t - start)`` added (``magnitude`` per s);
- ``stuck_at``: the value frozen at the first reading inside the window;
- ``dropout``: the readings inside the window removed;
- ``spikes``: ``count`` spikes of ``+-magnitude`` (random sign) at random times inside
  the window; each lands on the first reading of the sensor at or after its time.

:class:`FaultInjector` streams (the plant hands it readings in time order, chunk by
chunk; a stuck value and pending spikes carry over). Its :attr:`FaultInjector.injected`
is the list ``truth.json`` records. Randomness only from the explicit ``rng``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scenarios.errors import ScenarioInputError
from scenarios.spec import FAULT_KINDS, FaultSpec

__all__ = ["FaultInjector", "apply_faults"]

F64 = NDArray[np.float64]


class FaultInjector:
    """Apply a scenario's faults to readings streamed in time order.

    Parameters
    ----------
    faults : sequence of FaultSpec
        The faults (times from the scenario start, SI magnitudes).
    start_time : float
        Scenario start, epoch s.
    end_time : float
        End of the recording, epoch s (an open window ends there).
    rng : numpy.random.Generator
        Draws the spike times and signs (at construction).
    """

    def __init__(
        self,
        faults: Sequence[FaultSpec],
        *,
        start_time: float,
        end_time: float,
        rng: np.random.Generator,
    ) -> None:
        self.faults = tuple(faults)
        self._windows: list[tuple[float, float]] = []
        self._stuck: dict[int, float] = {}
        self._spikes: dict[int, tuple[F64, F64]] = {}
        self.injected: list[dict[str, Any]] = []
        for i, f in enumerate(self.faults):
            if f.kind not in FAULT_KINDS:
                raise ScenarioInputError(
                    f"faults[{i}].kind: must be one of {list(FAULT_KINDS)}, got {f.kind!r}"
                )
            a = start_time + f.start
            b = a + f.duration
            self._windows.append((a, b))
            entry: dict[str, Any] = {
                "kind": f.kind,
                "sensor": f.sensor,
                "injected_at": a,
                "until": a + f.duration if math.isfinite(f.duration) else None,
                "magnitude": f.magnitude,
            }
            if f.kind == "spikes":
                span = max(min(b, end_time) - a, 0.0)
                times = np.sort(a + span * rng.random(f.count))
                signs = rng.choice(np.array([-1.0, 1.0]), size=f.count)
                self._spikes[i] = (times, signs)
                entry["count"] = f.count
                entry["times"] = [float(x) for x in times]
                entry["signs"] = [float(x) for x in signs]
            self.injected.append(entry)

    def apply(self, time: F64, sensor: NDArray[Any], value: F64) -> tuple[F64, NDArray[Any], F64]:
        """Return the readings with the faults applied (dropped readings removed).

        Parameters
        ----------
        time : numpy.ndarray of float
            Epoch s, non-decreasing per sensor, later than every earlier call's.
        sensor : numpy.ndarray of str
            Sensor id per reading.
        value : numpy.ndarray of float
            SI values.

        Returns
        -------
        tuple
            ``(time, sensor, value)`` after the faults.
        """
        t = np.asarray(time, dtype=np.float64)
        v = np.array(value, dtype=np.float64)
        keep = np.ones(t.size, dtype=bool)
        for i, f in enumerate(self.faults):
            a, b = self._windows[i]
            on = sensor == f.sensor
            win = on & (t >= a) & (t < b)
            if f.kind == "bias_step":
                v[win] += f.magnitude
            elif f.kind == "drift":
                v[win] += f.magnitude * (t[win] - a)
            elif f.kind == "stuck_at":
                idx = np.flatnonzero(win)
                if idx.size:
                    frozen = self._stuck.setdefault(i, float(v[idx[0]]))
                    v[idx] = frozen
            elif f.kind == "dropout":
                keep &= ~win
            elif f.kind == "spikes":
                times, signs = self._spikes[i]
                idx = np.flatnonzero(on)
                if not idx.size or not times.size:
                    continue
                pos = np.searchsorted(t[idx], times, side="left")
                hit = pos < idx.size
                if hit.any():
                    # several spikes on one reading add up
                    np.add.at(v, idx[pos[hit]], f.magnitude * signs[hit])
                self._spikes[i] = (times[~hit], signs[~hit])
        return t[keep], sensor[keep], v[keep]


def apply_faults(
    time: F64,
    sensor: NDArray[Any],
    value: F64,
    faults: Sequence[FaultSpec],
    *,
    start_time: float,
    end_time: float,
    rng: np.random.Generator,
) -> tuple[F64, NDArray[Any], F64, list[dict[str, Any]]]:
    """Apply faults to one set of readings at once.

    Parameters
    ----------
    time, sensor, value : numpy.ndarray
        Readings in time order (epoch s, sensor ids, SI).
    faults : sequence of FaultSpec
    start_time, end_time : float
        Scenario start and end of the recording, epoch s.
    rng : numpy.random.Generator

    Returns
    -------
    tuple
        ``(time, sensor, value, injected)``; ``injected`` is the list of
        ``{"kind", "sensor", "injected_at", "until", "magnitude"}`` (epoch s, SI;
        ``until`` None for an open window) that ``truth.json`` records.
    """
    inj = FaultInjector(faults, start_time=start_time, end_time=end_time, rng=rng)
    t, s, v = inj.apply(time, sensor, value)
    return t, s, v, inj.injected
