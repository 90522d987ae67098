"""The SimPy processes of the virtual plant: operation, trips, commands, record end, horizon."""

from __future__ import annotations

import math
import queue
import time as _time
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from scenarios.spec import DAY, YEAR

__all__ = ["Processes"]

Proc = Generator[Any, Any, Any]


class Processes:
    """The processes of one :class:`scenarios.plant.VirtualPlant` run."""

    def __init__(self, plant: Any) -> None:
        self.p = plant
        self.env: simpy.Environment = plant.env
        self.sc = plant.scenario

    # ------------------------------------------------------------ waiting
    def wait(
        self, duration: float, *, interruptible: bool, piece: Callable[[float, float], None]
    ) -> Proc:
        """Let ``duration`` pass in slices, emitting readings; return a trip cause or None."""
        env, p = self.env, self.p
        end = env.now + duration
        done_to = env.now
        while env.now < end - 1e-9 and not p.done.triggered:
            step = min(p._slice if p.recording() else math.inf, end - env.now)
            try:
                yield env.timeout(step)
            except simpy.Interrupt as intr:
                if interruptible:
                    piece(done_to, env.now)
                    return intr.cause
                p.pending_trip = True
                continue
            piece(done_to, env.now)
            done_to = env.now
        return None

    def steady(self, duration: float, *, interruptible: bool = False) -> Proc:
        """Steady operation: readings by exception, damage daily and at the end."""
        p, env = self.p, self.env
        a = env.now
        cause = yield from self.wait(duration, interruptible=interruptible, piece=p.emit_piece)
        b = env.now
        for day in p.day_marks(a, b):
            if p.done.triggered or p.advance(np.array([day]), p.steady_values(1)):
                return cause
            p.row(day)
        if b > a and not p.done.triggered:
            p.advance(np.array([b]), p.steady_values(1))
        return cause

    def segment(self, seg: Any, label: str, detail: dict[str, Any]) -> Proc:
        """Run a transient: its FEM truth at the current (h, wall), readings at full rate."""
        p, env = self.p, self.env
        t_a = env.now
        h = p.h_at(t_a)
        truth = p.library.history(seg, h=h, w=p.wall())
        p.event(label, {**detail, "segment": seg.name, "h": h})

        def piece(lo: float, hi: float) -> None:
            p.emit_piece(lo, hi, truth, t_a)

        if not p.state:  # the plant starts at rest at the first segment's start
            p.state = {k: float(v[0]) for k, v in truth.values.items()}
        yield from self.wait(seg.duration, interruptible=False, piece=piece)
        if p.done.triggered:
            return
        t = t_a + truth.time[1:]
        if not p.advance(t, {k: v[1:] for k, v in truth.values.items()}):
            p.state = {k: float(v[-1]) for k, v in truth.values.items()}
            p.row(env.now)

    # ------------------------------------------------------------ operation
    def operation(self) -> Proc:
        """Walk the realised duty: cycles, outages, holds with dips and trips."""
        p, env, plan = self.p, self.env, self.sc.duty
        cycles = p.schedule.cycles
        outages = list(p.schedule.outages)
        t0 = self.sc.start_time
        for i, cyc in enumerate(cycles):
            if p.done.triggered:
                return
            kind = plan.kind(cyc.kind)
            nxt = cycles[i + 1].kind if i + 1 < len(cycles) else cyc.kind
            ya = t0 + cyc.year * YEAR
            if env.now < ya and p.state:
                yield from self.steady(ya - env.now)
            up, down = p.segment("startup", kind.name), p.segment("shutdown", kind.name, nxt)
            busy = up.duration + cyc.hold + down.duration
            while outages and outages[0].start <= env.now + busy and p.state:
                o = outages.pop(0)
                if o.start > env.now:
                    yield from self.steady(o.start - env.now)
                p.event("outage", {"duration": o.duration, "scheduled": o.scheduled})
                yield from self.steady(o.duration)
                if o.inspect and not p.done.triggered:
                    self.inspect()
            if p.done.triggered:
                return
            yield from self.segment(up, "startup", {"kind": kind.name})
            yield from self.hold(kind, cyc.hold)
            yield from self.segment(p.segment("shutdown", kind.name, nxt), "shutdown",
                                    {"kind": kind.name, "to": nxt})  # fmt: skip
            yield from self.steady(cyc.off)
        if not p.done.triggered:
            yield from self.steady(max(t0 + self.sc.truth_horizon - env.now, 0.0))

    def hold(self, kind: Any, duration: float) -> Proc:
        """Hold for ``duration``: steady, with dips; trips interrupt it."""
        p, env = self.p, self.env
        start, end = env.now, env.now + duration
        dips: list[float] = []
        lf = self.sc.load_following
        if lf is not None and lf.per_hold_day > 0:
            d = p.segment("dip", kind.name).duration
            n = int(self._dip_count(lf.per_hold_day * duration / DAY))
            last = start
            for x in np.sort(start + duration * p._dip_rng.random(n)):
                if x >= last and x + d <= end:
                    dips.append(float(x))
                    last = x + d
        p.in_hold = kind.name
        trips = self.sc.duty.trips
        if trips is not None and trips.kind == kind.name and p.deferred_trips:
            p.deferred_trips -= 1
            p.pending_trip = True
        try:
            while env.now < end - 1e-9 and not p.done.triggered:
                if p.pending_trip:
                    yield from self.trip(kind, end, {"source": "deferred"})
                    continue
                ahead = [x for x in dips if x >= env.now - 1e-9]
                nxt = ahead[0] if ahead else end
                cause = None
                if nxt > env.now:
                    cause = yield from self.steady(nxt - env.now, interruptible=True)
                if cause is not None or p.pending_trip:
                    yield from self.trip(kind, end, cause)
                    continue
                if ahead and not p.done.triggered:
                    dips.remove(nxt)
                    yield from self.segment(p.segment("dip", kind.name), "dip", {"kind": kind.name})
                    if p.pending_trip:
                        yield from self.trip(kind, end, {"action": "trip"})
        finally:
            p.in_hold = None

    def _dip_count(self, mean: float) -> int:
        return int(self.p._dip_rng.poisson(mean))

    def trip(self, kind: Any, end: float, cause: Any) -> Proc:
        """Trip out of the hold; the hold loses the trip's duration."""
        p, env = self.p, self.env
        p.pending_trip = False
        p.in_hold = None
        seg = p.segment("trip", kind.name)
        lost = max(0.0, min(seg.duration, end - env.now))
        p.result.hold_lost += lost
        src = cause.get("source", "poisson") if isinstance(cause, dict) else "poisson"
        yield from self.segment(seg, "trip", {"kind": kind.name, "hold_lost": lost, "source": src})
        p.in_hold = kind.name

    def inspect(self) -> None:
        """Inspect the wall: record the true wall, and a UT sensor's reading if any."""
        p, env = self.p, self.env
        wall = p.wall()
        entry: dict[str, Any] = {"time": float(env.now), "wall_thickness_m": wall}
        if p.ut and p.recording():
            sid = p.ut[0]
            v = p.read(sid, np.array([wall]))
            entry["measured_m"] = float(v[0])
            p.emit(np.array([env.now]), np.array([sid], dtype=object), v)
        p.result.inspections.append(entry)
        p.event("inspection", {"wall_thickness_m": wall})

    # ------------------------------------------------------------ side processes
    def trips(self) -> Proc:
        """Interrupt the operation process at the realised trip times.

        A trip drawn while the plant is not in a hold of the trips' kind is deferred to
        the start of the next such hold (so the count per year is the draw's).
        """
        p, env = self.p, self.env
        kind = self.sc.duty.trips.kind
        for when in p.schedule.trips:
            if when > env.now:
                yield env.timeout(when - env.now)
            if p.in_hold == kind and p.op.is_alive:
                p.op.interrupt({"action": "trip", "source": "poisson", "drawn": when})
                p.in_hold = None  # a second trip at this instant waits for the next hold
            else:  # not in a hold of the kind: the trip comes at the start of the next one
                p.deferred_trips += 1

    def commands(self) -> Proc:
        """Poll the command queue (``{"action": "trip" | "stop"}``)."""
        p, env = self.p, self.env
        while True:
            dt = p._slice if (p.recording() and math.isfinite(p._slice)) else DAY
            yield env.timeout(dt)
            while True:
                try:
                    cmd = p.commands.get_nowait()
                except queue.Empty:
                    break
                action = cmd.get("action")
                if action == "trip" and p.in_hold is not None and p.op.is_alive:
                    p.op.interrupt({"action": "trip", "source": "command"})
                    p.in_hold = None
                    p.event("command", {"action": "trip"})
                elif action == "stop":
                    p.event("command", {"action": "stop"})
                    p.finish()
                else:
                    p.event("command", {"action": str(action), "ignored": True})

    def record_end(self) -> Proc:
        """At the end of the recording: note the wall time, stop pacing."""
        p, env = self.p, self.env
        yield env.timeout(self.sc.duration)
        p.result.record_wall_seconds = _time.perf_counter() - p._t_run
        p.event("record_end", {})
        go_fast = getattr(env, "go_fast", None)
        if callable(go_fast):
            go_fast()

    def horizon(self) -> Proc:
        """End the truth at its horizon."""
        yield self.env.timeout(self.sc.truth_horizon)
        self.p.event("horizon", {})
        self.p.finish()
