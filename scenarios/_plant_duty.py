"""The virtual plant's duty, realised: start-ups, holds, outages and trips drawn per year.

The scenario's duty is a :class:`twin.plan.DutyPlan`. :func:`realise_duty` draws, with
``numpy.random.default_rng(scenario.seed)`` and in this order, for each year of the
truth horizon: per start-up kind (in plan order) the number of starts
(``starts_per_year``, rounded, a ``varies = "once"`` distribution drawn once) and then
their hold times; a random order of that year's cycles; then the year's plan outages
(``outages.every_years`` from ``first_year``, durations drawn) and trips (a count from
``trips.per_year``, times uniform in the year). The off time between cycles is the
year's spare time (the year less its cycles and outages) spread evenly over its gaps.
Scheduled outages (``[[duty.outage]]``) are added as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.spec import YEAR

__all__ = ["CycleDraw", "DutySchedule", "OutageDraw", "realise_duty"]


@dataclass(frozen=True)
class CycleDraw:
    """One start-up, hold and shut-down of the realised duty."""

    year: int
    kind: str
    hold: float  # s
    off: float  # s at rest after the shut-down


@dataclass(frozen=True)
class OutageDraw:
    """One outage (epoch s) and whether an inspection ends it."""

    start: float
    duration: float
    inspect: bool
    scheduled: bool


@dataclass
class DutySchedule:
    """The realised duty of one run."""

    cycles: list[CycleDraw] = field(default_factory=list)
    outages: list[OutageDraw] = field(default_factory=list)
    trips: list[float] = field(default_factory=list)  # epoch s
    starts: dict[int, dict[str, int]] = field(default_factory=dict)  # year -> kind -> n

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (starts per year and kind, outages, trip times)."""
        return {
            "starts": {str(y): dict(v) for y, v in self.starts.items()},
            "outages": [o.__dict__ for o in self.outages],
            "trips": list(self.trips),
        }


def _busy(kind: Any, hold: float, settle: float) -> float:
    """Plant time of one cycle apart from its off time: ramp, settle, hold, shut-down, settle."""
    return float(kind.ramp_time + settle + hold + kind.shutdown_time + settle)


def realise_duty(scenario: Any, *, settle: float = 5400.0) -> DutySchedule:
    """Draw the duty of a scenario over its truth horizon (see the module docstring)."""
    plan = scenario.duty
    rng = np.random.default_rng(scenario.seed)
    t0 = float(scenario.start_time)
    years = max(1, math.ceil(scenario.truth_horizon / YEAR - 1e-9))
    once: dict[int, float] = {}

    def draw(d: Any, key: int) -> float:
        if d.varies == "once":
            if key not in once:
                once[key] = float(d.sample(rng, (1,))[0])
            return once[key]
        return float(d.sample(rng, (1,))[0])

    out = DutySchedule()
    for o in scenario.outages:
        out.outages.append(OutageDraw(t0 + o.start, o.duration, bool(o.inspect), True))
    for y in range(years):
        year: list[tuple[str, float]] = []
        counts: dict[str, int] = {}
        for i, kind in enumerate(plan.startups):
            n = max(0, int(round(draw(kind.starts_per_year, 2 * i))))
            counts[kind.name] = n
            if n:
                if kind.hold.varies == "once":
                    holds = np.full(n, draw(kind.hold, 2 * i + 1))
                else:
                    holds = kind.hold.sample(rng, (n,))
                year += [(kind.name, float(h)) for h in holds]
        out.starts[y] = counts
        order = rng.permutation(len(year)) if year else np.empty(0, dtype=np.int64)
        year = [year[int(k)] for k in order]
        ya, yb = t0 + y * YEAR, t0 + (y + 1) * YEAR
        if plan.outages is not None:
            o = plan.outages
            m = 0
            while True:
                when = t0 + (o.first + m * o.every) * YEAR
                if when >= yb:
                    break
                if when >= ya:
                    dur = (
                        draw(o.duration, 10_000)
                        if o.duration.varies == "once"
                        else float(o.duration.sample(rng, (1,))[0])
                    )
                    out.outages.append(OutageDraw(when, dur, plan.inspections is not None, False))
                m += 1
        if plan.trips is not None:
            k = max(0, int(round(draw(plan.trips.per_year, 10_001))))
            out.trips += sorted(float(x) for x in ya + YEAR * rng.random(k))
        down = sum(max(0.0, min(o.start + o.duration, yb) - max(o.start, ya)) for o in out.outages)
        busy = sum(_busy(plan.kind(name), h, settle) for name, h in year)
        gap = max(YEAR - busy - down, 0.0) / len(year) if year else 0.0
        out.cycles += [CycleDraw(y, name, h, gap) for name, h in year]
    out.outages.sort(key=lambda o: o.start)
    return out
