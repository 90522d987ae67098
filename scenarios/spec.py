"""A scenario: the hidden truth, the duty, the faults and the historian of a virtual plant.

A scenario file (TOML, ``schema_version = 1``) names a component config, the truth the
twin must find (heat-transfer coefficient and its fouling drift, wall thickness,
oxidation and creep-strength factors, sensor biases), the duty in the format of a
duty plan (:mod:`twin.plan`) plus load following and scheduled outages, sensor faults,
the plant historian's practice, and how the replay forecasts. :func:`load_scenario`
validates it whole before anything runs; every error names the dotted field and the
value. SI inside; edge units in the key names.
"""

from __future__ import annotations

import math
import pathlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from twin.plan import DutyPlan

__all__ = [
    "FAULT_KINDS",
    "FaultSpec",
    "HistorianSpec",
    "LoadFollowing",
    "QuickSpec",
    "ReplaySpec",
    "Scenario",
    "ScheduledOutage",
    "TruthSpec",
    "load_scenario",
    "parse_scenario",
]

YEAR = 365.25 * 86400.0
DAY = 86400.0
#: Sensor faults the plant can inject.
FAULT_KINDS = ("bias_step", "drift", "stuck_at", "dropout", "spikes")


@dataclass(frozen=True)
class TruthSpec:
    r"""The hidden truth, SI.

    Attributes
    ----------
    bore_htc : float
        Bore heat-transfer coefficient at the start, W m-2 K-1.
    bore_htc_drift : float
        Fouling drift, 1/s: :math:`h(t) = h_0 \exp(\text{drift}\,(t - t_0))`.
    wall_thickness : float
        Initial wall thickness, m.
    oxidation_factor : float
        Factor on the material's parabolic oxidation rate constant.
    creep_strength_factor : float
        Rupture time at stress / factor (the twin's meaning).
    bias : dict of str to float
        Constant bias per sensor, SI.
    noise : dict of str to float
        White-noise standard deviation per sensor, SI.
    larson_miller_C_offset : float
        The heat's Larson-Miller constant minus the average curve's (decades of rupture
        time: creep damage times :math:`10^{\Delta C}`), the scatter the forecast samples.
    fatigue_life_factor : float
        The heat's fatigue life over the curve's (fatigue damage divided by it).
    """

    bore_htc: float
    bore_htc_drift: float
    wall_thickness: float
    oxidation_factor: float
    creep_strength_factor: float
    bias: dict[str, float] = field(default_factory=dict)
    noise: dict[str, float] = field(default_factory=dict)
    larson_miller_C_offset: float = 0.0
    fatigue_life_factor: float = 1.0

    def h_at(self, elapsed: float) -> float:
        """Heat-transfer coefficient ``elapsed`` seconds after the start."""
        return self.bore_htc * math.exp(self.bore_htc_drift * elapsed)


@dataclass(frozen=True)
class LoadFollowing:
    """Dips of the fluid temperature and pressure during holds, SI."""

    per_hold_day: float
    drop: float
    rate: float
    low: float
    pressure: float


@dataclass(frozen=True)
class ScheduledOutage:
    """An outage at a fixed plant time (s from the scenario start)."""

    start: float
    duration: float
    inspect: bool = True


@dataclass(frozen=True)
class FaultSpec:
    """One sensor fault (times in s from the scenario start, magnitudes SI).

    ``magnitude`` is the step of a ``bias_step``, the rate (SI per s) of a ``drift``,
    the size of each of ``count`` ``spikes``; ``stuck_at`` and ``dropout`` ignore it.
    """

    kind: str
    sensor: str
    start: float
    duration: float = math.inf
    magnitude: float = 0.0
    count: int = 1


@dataclass(frozen=True)
class HistorianSpec:
    """Plant historian: full rate in transients, report by exception in steady operation."""

    transient_interval: float = 60.0
    heartbeat: float = 14400.0
    deadband: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplaySpec:
    """How a replay forecasts."""

    forecast_every: float = 30.0 * DAY
    samples: int = 400
    horizon_years: float = 40.0


@dataclass(frozen=True)
class QuickSpec:
    """What ``--quick`` changes."""

    duration: float = 20.0 * DAY
    forecast_every: float = 5.0 * DAY
    samples: int = 200


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see the module docstring)."""

    name: str
    description: str
    seed: int
    path: pathlib.Path | None
    component_path: pathlib.Path
    config: Any
    start_time: float
    duration: float
    truth_horizon: float
    speed: float | None
    truth: TruthSpec
    duty: DutyPlan
    load_following: LoadFollowing | None = None
    outages: tuple[ScheduledOutage, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    historian: HistorianSpec = field(default_factory=HistorianSpec)
    replay: ReplaySpec = field(default_factory=ReplaySpec)
    quick_spec: QuickSpec = field(default_factory=QuickSpec)
    doc: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def end_time(self) -> float:
        """Epoch time at which recording stops."""
        return self.start_time + self.duration

    def quick(self) -> Scenario:
        """Return the shortened scenario of ``--quick``.

        Recording lasts ``quick.duration``; the replay forecasts every
        ``quick.forecast_every`` with ``quick.samples``; faults and scheduled outages keep
        their place and length as a fraction of the run.
        """
        q = self.quick_spec
        if q.duration >= self.duration:
            return replace(
                self,
                replay=replace(self.replay, forecast_every=q.forecast_every, samples=q.samples),
            )
        f = q.duration / self.duration
        faults = tuple(
            replace(
                x,
                start=x.start * f,
                duration=x.duration * f if math.isfinite(x.duration) else x.duration,
            )
            for x in self.faults
        )
        outages = tuple(
            replace(o, start=o.start * f, duration=o.duration * f) for o in self.outages
        )
        return replace(
            self,
            duration=q.duration,
            faults=faults,
            outages=outages,
            replay=replace(self.replay, forecast_every=q.forecast_every, samples=q.samples),
        )

    def with_truth(self, **changes: Any) -> Scenario:
        """Return the scenario with truth fields replaced (the suite's variants)."""
        return replace(self, truth=replace(self.truth, **changes))


def parse_scenario(
    doc: Mapping[str, Any], *, base: pathlib.Path, source: str = "scenario"
) -> Scenario:
    """Validate a scenario document (the parsed TOML) into a :class:`Scenario`.

    Parameters
    ----------
    doc : mapping
        The TOML document.
    base : pathlib.Path
        Folder the ``component`` path is relative to (the scenario file's folder).
    source : str, optional
        Prefix of the error messages (the file name).

    Returns
    -------
    Scenario
        With ``path`` None (:func:`load_scenario` sets it).

    Raises
    ------
    ScenarioInputError
        Naming the dotted field, the rule and the value (:mod:`scenarios._spec_parse`).
    """
    from scenarios._spec_parse import parse_scenario as parse

    return parse(doc, base=pathlib.Path(base), source=source)


def load_scenario(path: str | pathlib.Path) -> Scenario:
    """Read and validate a scenario TOML file (the component path is relative to it).

    Raises
    ------
    ScenarioInputError
        If the file is missing, not TOML, or invalid (naming the field and the value).
    """
    from scenarios.errors import ScenarioInputError

    p = pathlib.Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except OSError as err:
        raise ScenarioInputError(f"scenario: cannot read {str(p)!r} ({err.strerror})") from err
    except tomllib.TOMLDecodeError as err:
        raise ScenarioInputError(f"scenario {p.name}: not valid TOML ({err})") from err
    return replace(parse_scenario(doc, base=p.resolve().parent, source=p.name), path=p.resolve())
