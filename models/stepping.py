r"""Time grids of the service model: uniform, or adaptive on the temperature change.

:func:`time_grid` lays a uniform grid over the load history with the special times
(load-history corners, field times) snapped onto it. :class:`AdaptiveStepper` lets the
step follow the load history instead: a long hold needs long steps, a ramp short ones.

Adaptive rule
-------------
Let :math:`\Delta T_n = \max_\text{nodes} |T^{n} - T^{n-1}|` be the largest nodal
temperature change of the step just taken and :math:`\Delta T_\text{tol}` the stated
tolerance (``solver.max_temperature_change_K``). The next step is

.. math::

    \Delta t_{n+1} = \min\Big(\Delta t_\max,\ \max\big(\Delta t_\min,\
        \Delta t_n \min(2,\ 0.9\,\Delta T_\text{tol} / \Delta T_n)\big)\Big),

restarting from :math:`\Delta t_\min` (``solver.time_step_s``) at every corner of the
load history, where the loads change slope, and shortened so that every special time
is hit exactly. During a ramp the step stays near :math:`\Delta t_\min`; in a hold the
wall settles exponentially, :math:`\Delta T_n` falls and the step doubles up to
:math:`\Delta t_\max` (``solver.max_time_step_s``). The tolerance bounds the change per
step, not the error; the error against the fine uniform grid is measured in the tests
(``tests/models/test_fem_time_steps.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.errors import ConfigError

__all__ = ["AdaptiveStepper", "time_grid"]

#: Largest growth of the step from one step to the next.
MAX_GROWTH: float = 2.0
#: Safety factor on the tolerance.
SAFETY: float = 0.9


def time_grid(duration: float, dt: float, special: Sequence[float] = ()) -> np.ndarray:
    """Uniform time grid from 0 to ``duration`` with the special times snapped onto it.

    Parameters
    ----------
    duration : float
        End time in s.
    dt : float
        Nominal step in s.
    special : sequence of float
        Times (s) that must be grid points (field times, load-history corners). Each
        replaces its nearest interior grid point, or is inserted when that point is
        already taken.

    Returns
    -------
    numpy.ndarray
        Strictly increasing times, first 0 and last ``duration``.
    """
    n = max(1, int(math.ceil(duration / dt - 1e-9)))
    grid = np.linspace(0.0, duration, n + 1)
    fixed = np.zeros(grid.size, dtype=bool)
    fixed[[0, -1]] = True
    extra = []
    for t in sorted(set(float(s) for s in special)):
        if not 0.0 <= t <= duration:
            continue
        i = int(np.argmin(np.abs(grid - t)))
        if abs(grid[i] - t) <= 1e-9 * max(duration, 1.0):
            fixed[i] = True
        elif not fixed[i]:
            grid[i] = t
            fixed[i] = True
        else:
            extra.append(t)
    return np.unique(np.concatenate([grid, extra]))


class AdaptiveStepper:
    """Choose the next time step from the temperature change of the last one.

    Parameters
    ----------
    duration : float
        End time in s.
    min_step, max_step : float
        Smallest and largest step in s (``0 < min_step <= max_step``).
    tolerance : float
        Target largest nodal temperature change per step, K (> 0).
    corners : sequence of float
        Times (s) where the loads change slope: the step restarts from ``min_step``.
    targets : sequence of float
        Further times (s) to hit exactly (field times).

    Attributes
    ----------
    dt : float
        The last step returned by :meth:`next_time`, s.
    """

    def __init__(
        self,
        *,
        duration: float,
        min_step: float,
        max_step: float,
        tolerance: float,
        corners: Sequence[float] = (),
        targets: Sequence[float] = (),
    ) -> None:
        if not 0.0 < min_step <= max_step:
            raise ConfigError(
                f"solver: need 0 < time_step_s <= max_time_step_s, got {min_step} and "
                f"{max_step} s; raise max_time_step_s or lower time_step_s"
            )
        if not tolerance > 0.0:
            raise ConfigError(
                f"solver.max_temperature_change_K: must be > 0, got {tolerance}; give a "
                "positive tolerance in K"
            )
        self.duration = float(duration)
        self.min_step, self.max_step = float(min_step), float(max_step)
        self.tolerance = float(tolerance)
        eps = 1e-9 * max(self.duration, 1.0)
        self._eps = eps
        self._corners = np.unique([c for c in corners if eps < c < self.duration - eps])
        stops = [*self._corners, *(t for t in targets if eps < t < self.duration - eps)]
        self._stops = np.unique([*stops, self.duration])
        self.dt = self.min_step

    def next_time(self, t: float, change: float | None) -> float:
        """Return the time of the next grid point after ``t``.

        Parameters
        ----------
        t : float
            Current time in s.
        change : float or None
            Largest nodal temperature change (K) of the step that ended at ``t``;
            ``None`` at the start.

        Returns
        -------
        float
            The next time, at most ``duration``; a special time when one is near.
        """
        at_corner = bool(np.any(np.abs(self._corners - t) <= self._eps))
        if change is None or at_corner:
            dt = self.min_step
        else:  # grow or shrink the step just taken
            growth = MAX_GROWTH if change == 0.0 else SAFETY * self.tolerance / float(change)
            dt = self.dt * min(MAX_GROWTH, growth)
            dt = min(self.max_step, max(self.min_step, dt))
        stop = float(self._stops[np.searchsorted(self._stops, t + self._eps)])
        remaining = stop - t
        if remaining <= dt * (1.0 + 1e-9):
            dt = remaining
        elif remaining < dt + 0.5 * self.min_step:
            dt = 0.5 * remaining  # no sliver of a step before the stop
        self.dt = dt
        return stop if dt == remaining else t + dt
