"""The (segment, h, w) triples a plant run can ask of its truth library, for ``prepare``.

The segments are those of the realised duty (start-up of each kind, shut-down of each
(kind, next kind) pair, trips, dips). The heat-transfer coefficient moves with the
fouling drift over the recording (and, with ``horizon``, over the truth horizon): its
range is covered at half the library's node ratio, so every node a bilinear bracket
can use is named. The wall lies between the initial thickness and a bound on the
oxidation loss (the material's parabolic law at the hottest hold temperature for the
whole time, times the oxidation factor; never below the minimum wall, where the truth
fails), covered at half the wall step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["needs", "wall_range"]


def wall_range(plant: Any, span: float) -> tuple[float, float]:
    """Smallest and largest true wall over ``span`` seconds of operation, m."""
    from models.life import oxidation_law

    sc = plant.scenario
    w0 = sc.truth.wall_thickness
    t_hot = max(k.hold_temperature for k in sc.duty.startups)
    law = oxidation_law(sc.config.component.material)
    x = float(law.oxide_thickness([span], [t_hot], extrapolate=True)[()])
    loss = float(law.metal_loss(x)) * math.sqrt(max(sc.truth.oxidation_factor, 0.0))
    low = w0 - 1.05 * loss
    if plant.minimum_wall is not None:
        low = max(low, float(plant.minimum_wall) - plant.library.wall_step)
    return max(low, plant.library.wall_step), w0


def needs(plant: Any, *, horizon: bool = False) -> list[tuple[Any, float, float]]:
    """Return every ``(segment, h, w)`` the run of ``plant`` can need."""
    sc = plant.scenario
    plan = sc.duty
    cycles = plant.schedule.cycles
    segs: list[Any] = []
    for i, c in enumerate(cycles):
        nxt = cycles[i + 1].kind if i + 1 < len(cycles) else c.kind
        for key in (("startup", c.kind, ""), ("shutdown", c.kind, nxt)):
            s = plant.segment(*key)
            if s not in segs:
                segs.append(s)
    if plan.trips is not None and any(k.name == plan.trips.kind for k in plan.startups):
        segs.append(plant.segment("trip", plan.trips.kind))
    if sc.load_following is not None and sc.load_following.per_hold_day > 0:
        segs += [plant.segment("dip", k.name) for k in plan.startups]
    span = sc.truth_horizon if horizon else sc.duration
    h_a, h_b = plant.h_at(sc.start_time), plant.h_at(sc.start_time + span)
    lo, hi = min(h_a, h_b), max(h_a, h_b)
    n_h = max(2, math.ceil(2 * math.log(hi / lo) / math.log(plant.library.h_ratio)) + 2)
    hs = np.geomspace(lo, hi, n_h) if hi > lo else np.array([lo])
    w_lo, w_hi = wall_range(plant, span)
    n_w = max(2, math.ceil(2 * (w_hi - w_lo) / plant.library.wall_step) + 2)
    ws = np.linspace(w_lo, w_hi, n_w) if w_hi > w_lo else np.array([w_hi])
    return [(s, float(h), float(w)) for s in segs for h in hs for w in ws]
