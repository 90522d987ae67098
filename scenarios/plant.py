"""The virtual plant: one SimPy model of the duty, the FEM truth, the sensors and the damage.

:class:`VirtualPlant` walks the scenario's realised duty (:mod:`scenarios._plant_duty`:
start-ups of each kind per year, hold times, random order, the year's spare time spread
over the gaps, a shut-down to the next start's temperature and pressure, plan and
scheduled outages ending in wall inspections) as a SimPy *operation* process. A *trip*
process interrupts it (:class:`simpy.Interrupt`) during a hold of the trips' kind at
Poisson times; load-following dips (Poisson per day of hold) come inside holds; a
*command* process polls a :class:`queue.Queue` (``{"action": "trip"}``), so MQTT
callbacks never touch the environment. Every transient is a
:class:`scenarios.segments.Segment` whose truth is
``library.history(segment, h=truth.h_at(elapsed), w=wall0 - wall_loss)`` (fouling saturating
at the bound of the component's valid FEM range); steady periods
hold the segment's last values. Each sensor reads its FEM variable (as
:mod:`scenarios.record`: fluid TC and PT the fluid, wall TC ``temperature@<id>``, SG
``eps_theta@<id>``) plus its bias plus white noise (an explicit ``rng``), scanned every
``historian.transient_interval``; the historian keeps every scan of a transient and
reports steady scans by exception; then the faults; then the sink. The true damage
(:class:`scenarios.truthdamage.TruthDamage`) is advanced through every segment and
steady period; truth rows are taken at segment ends and daily in steady operation.
After ``scenario.duration`` the sink gets nothing and the truth runs on (fast) to failure
or ``truth_horizon``. ``speed`` None runs :class:`simpy.Environment` as fast as
possible; ``speed = k`` a :class:`simpy.rt.RealtimeEnvironment` at k times real time
(as fast as possible again after the recording).

Simplifications: an outage rests at the last shut-down's end state (no cool-down to
ambient); a trip costs the hold its own duration (the cycle keeps its schedule).

Measured (this machine, 2 shared cores, the shipped ``examples/scenarios/*.toml``, FEM
nodes cached, sink an :class:`~scenarios.sinks.ArchiveSink`, 60 s full-rate scans in
transients, 1 h heartbeat):

=================  ================  ===================  =========================
scenario           readings / year   recording            speed (plant s / wall s)
=================  ================  ===================  =========================
sensor_fault       508,000           1 year in 2.8 s      1.1e7
fouling            269,000           3 years in 5.5 s     1.7e7
run_to_failure     102,000           4.8 years in 4.4 s   3.5e7 (fails by creep at
                                                          the bore after 4.81 years)
=================  ================  ===================  =========================

Transients dominate the readings (every scan of a start-up, shut-down, trip or dip is
kept; steady operation costs one reading per sensor per heartbeat). The truth after the
recording runs at about 1 year of plant per second (fouling: 57 more years in ~70 s);
the FEM nodes of a run cost ~2.5 s each when not cached (run_to_failure: 12 nodes,
20 s). A real-time run at 3600 x takes 2.0 s of wall time for 2 h of plant.
"""

from __future__ import annotations

import math
import queue
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
import simpy.rt

from scenarios._plant_duty import DutySchedule, realise_duty
from scenarios._plant_needs import needs
from scenarios._plant_result import PlantResult
from scenarios.faults import FaultInjector
from scenarios.historian import Historian
from scenarios.record import DEFAULT_NOISE, _sensor_map
from scenarios.segments import Segment, dip_segment, shutdown_segment, startup_segment, trip_segment
from scenarios.spec import DAY, Scenario
from scenarios.truthdamage import TruthDamage

__all__ = ["PlantResult", "VirtualPlant"]

F64 = Any
_NOISE = {**DEFAULT_NOISE, "wall_thickness": 0.1e-3}


class _Realtime(simpy.rt.RealtimeEnvironment):
    """A real-time environment that can switch to as fast as possible."""

    def go_fast(self) -> None:
        """Stop pacing (the recording is over)."""
        self._factor = 0.0


class VirtualPlant:
    """A scenario's plant: run it once with :meth:`run`.

    Parameters
    ----------
    scenario : Scenario
    library : scenarios.segments.SegmentLibrary
        The FEM truth of the segments.
    sink : ArchiveSink or MqttSink or None
        Where readings go (None: counted only).
    rng : numpy.random.Generator, optional
        Sensor noise (default: seeded from ``scenario.seed``); the duty is drawn from
        ``numpy.random.default_rng(scenario.seed)``.
    quick : bool, optional
        Run :meth:`Scenario.quick`.
    client : dask.distributed.Client, optional
        Run the FEM nodes of :meth:`prepare` on it.
    prepare_horizon : bool, optional
        Also prepare the nodes the truth needs after the recording (else they run
        lazily when it gets there).
    """

    def __init__(
        self,
        scenario: Scenario,
        library: Any,
        *,
        sink: Any = None,
        rng: np.random.Generator | None = None,
        quick: bool = False,
        client: Any = None,
        prepare_horizon: bool = False,
    ) -> None:
        self.scenario = sc = scenario.quick() if quick else scenario
        self.library, self.sink, self.client = library, sink, client
        self.prepare_horizon = prepare_horizon
        self.rng = rng if rng is not None else np.random.default_rng([sc.seed, 1])
        self.commands: queue.Queue[dict[str, Any]] = queue.Queue()
        cfg = sc.config
        quantity = {s.id: s.quantity for s in cfg.sensors}
        self.keys = {
            sid: v if not loc else f"{v}@{loc}" for sid, (v, loc) in _sensor_map(cfg).items()
        }
        self.ut = [s.id for s in cfg.sensors if s.quantity == "wall_thickness"]
        self.bias = {s: sc.truth.bias.get(s, 0.0) for s in [*self.keys, *self.ut]}
        self.noise = {s: sc.truth.noise.get(s, _NOISE.get(quantity[s], 0.0)) for s in self.bias}
        self.historian = Historian(list(self.keys), sc.historian, quantity)
        self.faults = FaultInjector(sc.faults, start_time=sc.start_time, end_time=sc.end_time,
                                    rng=np.random.default_rng([sc.seed, 2]))  # fmt: skip
        self.schedule: DutySchedule = realise_duty(sc)
        self._dip_rng = np.random.default_rng([sc.seed, 3])
        from twin.settings import parse_twin_settings

        self.minimum_wall = parse_twin_settings(
            cfg.sections.get("twin"), catalogue=_catalogue(cfg).sensors,
            locations=[loc.name for loc in cfg.locations],
        ).minimum_wall_thickness  # fmt: skip
        self.wall0 = sc.truth.wall_thickness
        bounds = (cfg.sections.get("surrogate") or {}).get("parameters", {})
        self.h_bounds = tuple(bounds.get("thermal.bore_htc_W_m2K", (0.0, math.inf)))
        self._segments: dict[tuple[str, ...], Segment] = {}

    # ------------------------------------------------------------ segments
    def segment(self, what: str, kind: str, to: str = "") -> Segment:
        """Return (memoised) a ``startup``, ``shutdown`` (to kind ``to``), ``trip`` or ``dip``."""
        key = (what, kind, to)
        if key not in self._segments:
            plan = self.scenario.duty
            k = plan.kind(kind)
            if what == "startup":
                seg = startup_segment(k)
            elif what == "shutdown":
                n = plan.kind(to)
                seg = shutdown_segment(k, to_temperature=n.start_temperature,
                                       to_pressure=n.start_pressure)  # fmt: skip
            elif what == "trip":
                seg = trip_segment(k, plan.trips or _command_trip(k))
            else:
                assert self.scenario.load_following is not None
                seg = dip_segment(k, self.scenario.load_following)
            self._segments[key] = seg
        return self._segments[key]

    def prepare(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Run (or find cached) every FEM node the run can need (:mod:`scenarios._plant_needs`)."""
        out: dict[str, Any] = self.library.prepare(
            needs(self, horizon=self.prepare_horizon), client=self.client, progress=progress
        )
        return out

    # ------------------------------------------------------------ run
    def run(self, progress: Callable[[int, int], None] | None = None) -> PlantResult:
        """Prepare the FEM truth, run the model, close the sink; return the result."""
        sc = self.scenario
        wall_start = _time.perf_counter()
        lib_stats = self.prepare(progress)
        self.damage = TruthDamage(
            sc.config,
            creep_strength_factor=sc.truth.creep_strength_factor,
            oxidation_factor=sc.truth.oxidation_factor,
            t0=sc.start_time,
            larson_miller_C_offset=sc.truth.larson_miller_C_offset,
            fatigue_life_factor=sc.truth.fatigue_life_factor,
        )
        params = {
            "bore_htc_W_m2K": sc.truth.bore_htc,
            "bore_htc_drift": sc.truth.bore_htc_drift,  # SI (1/s), as the twin names it
            "wall_thickness_m": sc.truth.wall_thickness,
            "oxidation_factor": sc.truth.oxidation_factor,
            "creep_strength_factor": sc.truth.creep_strength_factor,
            "larson_miller_C_offset": sc.truth.larson_miller_C_offset,
            "fatigue_life_factor": sc.truth.fatigue_life_factor,
            **{f"bias.{k}": float(v) for k, v in sc.truth.bias.items()},
        }
        self.result = res = PlantResult(parameters=params, start_time=sc.start_time,
                                        record_end=sc.end_time)  # fmt: skip
        if sc.speed is None:
            self.env: simpy.Environment = simpy.Environment(initial_time=sc.start_time)
            self._slice = math.inf
        else:
            self.env = _Realtime(initial_time=sc.start_time, factor=1.0 / sc.speed, strict=False)
            self._slice = max(sc.historian.transient_interval, 0.25 * sc.speed)
        self.done = self.env.event()
        self.state: dict[str, float] = {}
        self.in_hold: str | None = None
        self.pending_trip = False
        self.deferred_trips = 0
        self._t_run = _time.perf_counter()
        from scenarios._plant_process import Processes

        procs = Processes(self)
        self.op = self.env.process(procs.operation())
        if sc.duty.trips is not None:
            self.env.process(procs.trips())
        self.env.process(procs.commands())
        self.env.process(procs.record_end())
        self.env.process(procs.horizon())
        if self.sink is not None and hasattr(self.sink, "clock"):
            self.sink.clock = lambda: float(self.env.now)  # stamps are plant time
        self.env.run(until=self.done)
        for sid in self.keys:  # the held scans before the record end
            t, v = self.historian.flush(sid)
            self.emit(t, np.full(t.size, sid, dtype=object), v)
        if self.sink is not None:
            self.sink.close()
        if res.end_of_life is not None:  # nothing is recorded after the failure
            res.record_end = min(res.record_end, res.end_of_life)
        res.wall_seconds = _time.perf_counter() - wall_start
        if not res.record_wall_seconds:
            res.record_wall_seconds = _time.perf_counter() - self._t_run
        res.library = {**self.library.stats(), "prepare": lib_stats}
        res.faults = self.faults.injected
        res.starts = {str(y): v for y, v in self.schedule.starts.items()}
        return res

    # ------------------------------------------------------------ readings
    def recording(self) -> bool:
        """Return True while readings are recorded."""
        return self.env.now < self.scenario.end_time and not self.done.triggered

    def scans(self, lo: float, hi: float) -> F64:
        """Scan times of the historian in ``[lo, min(hi, record end))``."""
        sc = self.scenario
        hi = min(hi, sc.end_time)
        dt = sc.historian.transient_interval
        a = math.ceil((lo - sc.start_time) / dt - 1e-9)
        b = math.ceil((hi - sc.start_time) / dt - 1e-9)
        return sc.start_time + dt * np.arange(a, max(a, b), dtype=np.float64)

    def read(self, sid: str, truth: F64) -> F64:
        """Return a sensor's readings of ``truth``: plus its bias and white noise."""
        noise = self.noise[sid] * self.rng.standard_normal(np.shape(truth))
        out: F64 = truth + self.bias[sid] + noise
        return out

    def emit(self, t: F64, s: F64, v: F64) -> None:
        """Faults, then the sink."""
        if not len(t):
            return
        order = np.argsort(t, kind="stable")
        t, s, v = self.faults.apply(t[order], s[order], v[order])
        self.result.readings += len(t)
        if self.sink is not None and len(t):
            self.sink.write(t, s, v)

    def emit_piece(self, lo: float, hi: float, truth: Any = None, t_a: float = 0.0) -> None:
        """Emit the readings of ``[lo, hi)``: a transient (``truth`` given) or steady operation."""
        if lo >= self.scenario.end_time or self.done.triggered:
            return
        scans = self.scans(lo, hi)
        if not scans.size:
            return
        ts, ss, vs = [], [], []
        for sid, key in self.keys.items():
            if truth is None:
                t, v = self.historian.steady(
                    sid, scans, self.read(sid, np.full(scans.size, self.state[key]))
                )
            else:
                x = np.interp(scans, t_a + truth.time, truth.values[key])
                t, v = self.historian.transient(sid, scans, self.read(sid, x))
            ts.append(t)
            vs.append(v)
            ss.append(np.full(t.size, sid, dtype=object))
        self.emit(np.concatenate(ts), np.concatenate(ss), np.concatenate(vs))

    # ------------------------------------------------------------ truth
    def h_at(self, t: float) -> float:
        """Return the true heat-transfer coefficient at epoch ``t`` (fouling, saturated).

        The fouling law runs on until it reaches the component's valid FEM range
        (``[surrogate.parameters]``) and stays at its bound from then on.
        """
        lo, hi = self.h_bounds
        return float(min(max(self.scenario.truth.h_at(t - self.scenario.start_time), lo), hi))

    def wall(self) -> float:
        """Return the current true wall thickness, m."""
        return self.wall0 - float(self.damage.wall_loss)

    def row(self, t: float) -> None:
        """Record a truth row at epoch ``t``."""
        d = self.damage
        h = self.h_at(t)
        r: dict[str, float] = {"time": float(t), "bore_htc": h, "wall_thickness": self.wall()}
        margin = d.margin()
        for loc, f in d.fatigue().items():
            r[f"fatigue_{loc}"] = f
        for loc, c in d.creep().items():
            r[f"creep_{loc}"] = c
        for loc, m in margin.items():
            r[f"margin_{loc}"] = m
        r["margin"] = min(margin.values()) if margin else math.inf
        self.result.rows.append(r)

    def advance(self, t: F64, values: dict[str, F64]) -> bool:
        """Advance the true damage; on failure end the truth. Returns True on failure."""
        if not len(t):
            return False
        when = self.damage.advance_until(
            t, values, minimum_wall=self.minimum_wall, wall0=self.wall0
        )
        if when is None:
            return False
        failure = self.damage.failure(self.minimum_wall, self.wall0)
        mech, loc = failure if failure is not None else ("unknown", "")
        res = self.result
        res.end_of_life, res.mechanism, res.location = float(when), mech, loc
        self.event("failure", {"mechanism": mech, "location": loc}, when)
        self.row(when)
        self.finish()
        return True

    def steady_values(self, n: int) -> dict[str, F64]:
        """Return the held state as arrays of ``n`` samples."""
        return {k: np.full(n, v) for k, v in self.state.items()}

    def event(self, kind: str, detail: dict[str, Any], t: float | None = None) -> None:
        """Record an event of the duty."""
        self.result.events.append({"time": float(self.env.now if t is None else t), "kind": kind,
                                   "detail": detail})  # fmt: skip

    def finish(self) -> None:
        """End the run (failure, horizon or a ``stop`` command)."""
        if not self.done.triggered:
            self.done.succeed()

    def day_marks(self, a: float, b: float) -> F64:
        """Day boundaries (from the start) in ``(a, b)``."""
        t0 = self.scenario.start_time
        k0, k1 = math.floor((a - t0) / DAY) + 1, math.ceil((b - t0) / DAY)
        return t0 + DAY * np.arange(k0, max(k0, k1), dtype=np.float64)


def _command_trip(kind: Any) -> Any:
    """Return the trip of a ``trip`` command when the duty has no ``[trips]``.

    The shipped plan's trip: 120 K drop at 15 K/min to the start pressure, one hour off.
    """
    from twin.plan import Distribution, Trips

    return Trips(
        per_year=Distribution("fixed", (0.0,)),
        kind=kind.name,
        temperature_drop=120.0,
        cooling_rate=15.0 / 60.0,
        pressure=kind.start_pressure,
        off=3600.0,
    )


def _catalogue(cfg: Any) -> Any:
    from sensors.catalogue import parse_catalogue

    return parse_catalogue(cfg.to_dict())
