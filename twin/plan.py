r"""Future duty of a component: the duty plan a forecast samples (a TOML file, validated once).

A plan names its start-up kinds (cold, warm, hot, or any names), each with the shape
of its cycle (start and hold fluid temperature and pressure, ramp-up and shut-down
rates) and the distributions of how often it happens and how long it holds; trips
out of a hold; planned outages; and inspections. Edge units are in the key names;
:class:`DutyPlan` holds SI values. Example (``examples/grade91_header.plan.toml``)::

    schema_version = 1
    name = "two-shift"

    [startups.warm]
    starts_per_year = { distribution = "normal", mean = 150.0, std = 20.0 }
    start_temperature_degC = 350.0
    start_pressure_MPa = 4.0
    ramp_rate_degC_per_min = 3.0
    hold_temperature_degC = 565.0
    hold_pressure_MPa = 17.0
    hold_h = { distribution = "uniform", low = 12.0, high = 16.0 }
    shutdown_rate_degC_per_min = 2.0

    [trips]
    per_year = { distribution = "poisson", mean = 3.0 }
    kind = "warm"                     # the hold a trip interrupts
    temperature_drop_degC = 120.0
    cooling_rate_degC_per_min = 15.0
    pressure_MPa = 4.0
    off_h = 1.0

    [outages]
    every_years = 4.0
    duration_days = { distribution = "uniform", low = 28.0, high = 42.0 }

    [inspections]
    every_years = 4.0

A number stands for a fixed value; a table is a distribution: ``fixed`` (``value``),
``normal`` (``mean``, ``std``; negative draws count as 0), ``lognormal`` (``median``,
``cov``), ``uniform`` (``low``, ``high``), ``triangular`` (``low``, ``mode``,
``high``) or ``poisson`` (``mean``; counts). ``varies = "yearly"`` (the default)
draws a new value every year of every sample (year-to-year variation); ``varies =
"once"`` draws one value per sample for the whole horizon (an uncertain but
persistent duty, e.g. how the unit will be dispatched). The cycle shapes (the
temperatures, pressures and rates) are fixed numbers: they set the cycle the
forecast simulates once per kind. Every error names the dotted field and the value.
:func:`plan_from_history` derives a plan from a recorded history
(:mod:`twin._plan_history`).
"""

from __future__ import annotations

import math
import pathlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.units import HOUR, MPA, ZERO_CELSIUS
from twin.errors import TwinConfigError

__all__ = [
    "PLAN_SCHEMA_VERSION",
    "Distribution",
    "DutyPlan",
    "Inspections",
    "Outages",
    "StartupKind",
    "Trips",
    "load_plan",
    "parse_plan",
    "plan_from_history",
]

PLAN_SCHEMA_VERSION = 1
_MIN = 60.0
_DAY = 86400.0
_PARAMS = {
    "fixed": ("value",),
    "normal": ("mean", "std"),
    "lognormal": ("median", "cov"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "poisson": ("mean",),
}


@dataclass(frozen=True)
class Distribution:
    """A non-negative random quantity of a plan, SI.

    Attributes
    ----------
    kind : {"fixed", "normal", "lognormal", "uniform", "triangular", "poisson"}
    params : tuple of float
        In the order of the TOML keys (``lognormal``: median and sigma of the log).
    varies : {"yearly", "once"}
        A new draw every year, or one per sample for the whole horizon.
    """

    kind: str
    params: tuple[float, ...]
    varies: str = "yearly"

    @property
    def mean(self) -> float:
        """Mean of the distribution (before the clip at 0 of a normal)."""
        p = self.params
        if self.kind == "lognormal":
            return p[0] * math.exp(0.5 * p[1] ** 2)
        if self.kind == "uniform":
            return 0.5 * (p[0] + p[1])
        if self.kind == "triangular":
            return (p[0] + p[1] + p[2]) / 3.0
        return p[0]

    @property
    def low(self) -> float:
        """Smallest value the distribution gives."""
        if self.kind in ("uniform", "triangular"):
            return self.params[0]
        if self.kind == "fixed":
            return self.params[0]
        return 0.0

    @property
    def deterministic(self) -> bool:
        """True for a fixed value."""
        return self.kind == "fixed"

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
        """Draw values of ``shape`` (SI, >= 0).

        The generator is always advanced by the same number of standard draws for a
        given shape and distribution kind, so two plans with the same kinds of
        distributions share their random numbers (common random numbers for
        comparisons).
        """
        p = self.params
        if self.kind == "fixed":
            return np.full(shape, p[0])
        if self.kind == "normal":
            return np.maximum(p[0] + p[1] * rng.standard_normal(shape), 0.0)
        if self.kind == "lognormal":
            return p[0] * np.exp(p[1] * rng.standard_normal(shape))
        if self.kind == "uniform":
            return p[0] + (p[1] - p[0]) * rng.random(shape)
        if self.kind == "triangular":
            return rng.triangular(p[0], p[1], p[2], shape)
        return rng.poisson(p[0], shape).astype(np.float64)

    def scaled(self, factor: float) -> Distribution:
        """Return the same distribution of ``factor`` times the quantity (not for poisson)."""
        p = self.params
        if self.kind == "lognormal":
            return replace(self, params=(p[0] * factor, p[1]))
        if self.kind == "poisson":
            return replace(self, params=(p[0] * factor,))
        return replace(self, params=tuple(v * factor for v in p))


@dataclass(frozen=True)
class StartupKind:
    """One kind of start-up and its shut-down, SI.

    Attributes
    ----------
    name : str
    starts_per_year : Distribution
        Starts per year of operation (count).
    hold : Distribution
        Time from the end of the ramp up to the start of the shut-down, s.
    start_temperature, hold_temperature : float
        Fluid temperature before the start and during the hold, K.
    start_pressure, hold_pressure : float
        Pa.
    ramp_rate, shutdown_rate : float
        Fluid-temperature rates of the start-up and the shut-down, K/s (> 0).
    """

    name: str
    starts_per_year: Distribution
    hold: Distribution
    start_temperature: float
    hold_temperature: float
    start_pressure: float
    hold_pressure: float
    ramp_rate: float
    shutdown_rate: float

    @property
    def ramp_time(self) -> float:
        """Duration of the ramp up, s."""
        return (self.hold_temperature - self.start_temperature) / self.ramp_rate

    @property
    def shutdown_time(self) -> float:
        """Duration of the shut-down, s."""
        return (self.hold_temperature - self.start_temperature) / self.shutdown_rate


@dataclass(frozen=True)
class Trips:
    """Trips out of the hold of one start-up kind, SI.

    A trip cools the fluid by ``temperature_drop`` at ``cooling_rate`` (pressure falling
    to ``pressure``), stays off for ``off``, and restarts at the kind's ramp rate.
    """

    per_year: Distribution
    kind: str
    temperature_drop: float
    cooling_rate: float
    pressure: float
    off: float


@dataclass(frozen=True)
class Outages:
    """Planned outages: one every ``every`` years (the first at ``first``), no operation."""

    every: float
    first: float
    duration: Distribution


@dataclass(frozen=True)
class Inspections:
    """Inspections every ``every`` years, the first at ``first`` (reported, marked)."""

    every: float
    first: float


@dataclass(frozen=True)
class DutyPlan:
    """A validated duty plan (see the module docstring), SI.

    Attributes
    ----------
    name : str
    startups : tuple of StartupKind
    trips : Trips or None
    outages : Outages or None
    inspections : Inspections or None
    description : str
    """

    name: str
    startups: tuple[StartupKind, ...]
    trips: Trips | None = None
    outages: Outages | None = None
    inspections: Inspections | None = None
    description: str = ""

    def kind(self, name: str) -> StartupKind:
        """Return the start-up kind called ``name``."""
        for k in self.startups:
            if k.name == name:
                return k
        raise TwinConfigError(
            f"plan: no start-up kind {name!r}; the plan has {[k.name for k in self.startups]}"
        )

    @property
    def deterministic(self) -> bool:
        """True when every distribution of the plan is a fixed value."""
        dists = [d for k in self.startups for d in (k.starts_per_year, k.hold)]
        if self.trips is not None:
            dists.append(self.trips.per_year)
        if self.outages is not None:
            dists.append(self.outages.duration)
        return all(d.deterministic for d in dists)

    def with_parameter(self, name: str, value: float, *, kinds: tuple[str, ...] = ()) -> DutyPlan:
        """Return a copy with one cycle-shape parameter set (operating advice), SI.

        Parameters
        ----------
        name : {"ramp_rate", "hold_temperature", "shutdown_rate", "hold_pressure"}
        value : float
            K/s, K or Pa.
        kinds : tuple of str, optional
            The start-up kinds to change (default: all).
        """
        if name not in ("ramp_rate", "hold_temperature", "shutdown_rate", "hold_pressure"):
            raise TwinConfigError(
                f"plan parameter: {name!r} is not one of ramp_rate, hold_temperature, "
                "shutdown_rate, hold_pressure"
            )
        names = kinds or tuple(k.name for k in self.startups)
        for n in names:
            self.kind(n)
        change: dict[str, Any] = {name: float(value)}
        new = tuple(replace(k, **change) if k.name in names else k for k in self.startups)
        plan = replace(self, startups=new)
        from twin._plan_parse import check_shapes

        check_shapes(plan, where="plan")
        return plan

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as a TOML document in edge units (:func:`parse_plan` reads it)."""
        doc: dict[str, Any] = {"schema_version": PLAN_SCHEMA_VERSION, "name": self.name}
        if self.description:
            doc["description"] = self.description
        doc["startups"] = {
            k.name: {
                "starts_per_year": _dist_doc(k.starts_per_year, 1.0),
                "start_temperature_degC": k.start_temperature - ZERO_CELSIUS,
                "start_pressure_MPa": k.start_pressure / MPA,
                "ramp_rate_degC_per_min": k.ramp_rate * _MIN,
                "hold_temperature_degC": k.hold_temperature - ZERO_CELSIUS,
                "hold_pressure_MPa": k.hold_pressure / MPA,
                "hold_h": _dist_doc(k.hold, HOUR),
                "shutdown_rate_degC_per_min": k.shutdown_rate * _MIN,
            }
            for k in self.startups
        }
        if self.trips is not None:
            tr = self.trips
            doc["trips"] = {
                "per_year": _dist_doc(tr.per_year, 1.0),
                "kind": tr.kind,
                "temperature_drop_degC": tr.temperature_drop,
                "cooling_rate_degC_per_min": tr.cooling_rate * _MIN,
                "pressure_MPa": tr.pressure / MPA,
                "off_h": tr.off / HOUR,
            }
        if self.outages is not None:
            doc["outages"] = {
                "every_years": self.outages.every,
                "first_year": self.outages.first,
                "duration_days": _dist_doc(self.outages.duration, _DAY),
            }
        if self.inspections is not None:
            doc["inspections"] = {
                "every_years": self.inspections.every,
                "first_year": self.inspections.first,
            }
        return doc


def _dist_doc(d: Distribution, unit: float) -> Any:
    p = d.params
    if d.kind == "fixed":
        return p[0] / unit
    if d.kind == "lognormal":
        vals: tuple[float, ...] = (p[0] / unit, math.sqrt(math.expm1(p[1] ** 2)))
    elif d.kind == "poisson":
        vals = (p[0],)
    else:
        vals = tuple(v / unit for v in p)
    out: dict[str, Any] = {"distribution": d.kind, **dict(zip(_PARAMS[d.kind], vals, strict=True))}
    if d.varies != "yearly":
        out["varies"] = d.varies
    return out


def parse_plan(doc: Mapping[str, Any], *, source: str = "plan") -> DutyPlan:
    """Validate a plan document (the parsed TOML) into a :class:`DutyPlan`.

    Parameters
    ----------
    doc : mapping
        The TOML document.
    source : str, optional
        Prefix of the error messages (the file name).

    Raises
    ------
    TwinConfigError
        Naming the dotted field, the rule and the value (:mod:`twin._plan_parse`).
    """
    from twin._plan_parse import parse_plan as parse

    return parse(doc, source=source)


def load_plan(path: str | pathlib.Path) -> DutyPlan:
    """Read and validate a plan TOML file.

    Raises
    ------
    TwinConfigError
        If the file is missing, not TOML, or invalid (naming the field and the value).
    """
    p = pathlib.Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except FileNotFoundError as err:
        raise TwinConfigError(f"plan: no file {str(p)!r}") from err
    except tomllib.TOMLDecodeError as err:
        raise TwinConfigError(f"plan {p.name}: not valid TOML ({err})") from err
    return parse_plan(doc, source=p.name)


def plan_from_history(
    t: NDArray[np.float64],
    fluid_temperature: NDArray[np.float64],
    pressure: NDArray[np.float64],
    **kwargs: Any,
) -> DutyPlan:
    """Derive a plan from a recorded history ("continue as the last year ran").

    See :func:`twin._plan_history.plan_from_history` for the rules and keywords.
    """
    from twin._plan_history import plan_from_history as derive

    return derive(t, fluid_temperature, pressure, **kwargs)
