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

from twin.errors import TwinConfigError
from twin.settings import ZERO_CELSIUS

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
_H = 3600.0
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
        _check_shapes(plan, where="plan")
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
                "start_pressure_MPa": k.start_pressure / 1e6,
                "ramp_rate_degC_per_min": k.ramp_rate * _MIN,
                "hold_temperature_degC": k.hold_temperature - ZERO_CELSIUS,
                "hold_pressure_MPa": k.hold_pressure / 1e6,
                "hold_h": _dist_doc(k.hold, _H),
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
                "pressure_MPa": tr.pressure / 1e6,
                "off_h": tr.off / _H,
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


# ---------------------------------------------------------------- parsing
def _num(value: Any, where: str, *, positive: bool = False, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TwinConfigError(f"{where}: must be a finite number (got {value!r})")
    v = float(value)
    if positive and not v > 0:
        raise TwinConfigError(f"{where}: must be > 0 (got {v!r})")
    if minimum is not None and v < minimum:
        raise TwinConfigError(f"{where}: must be >= {minimum:g} (got {v!r})")
    return v


def _table(
    doc: Mapping[str, Any], key: str, where: str, required: set[str], optional: set[str]
) -> dict[str, Any]:
    raw = doc.get(key)
    if not isinstance(raw, Mapping):
        raise TwinConfigError(f"{where}: must be a table (got {raw!r})")
    unknown = sorted(set(raw) - required - optional)
    if unknown:
        raise TwinConfigError(
            f"{where}: unknown keys {unknown}; it takes {sorted(required | optional)}"
        )
    missing = sorted(required - set(raw))
    if missing:
        raise TwinConfigError(f"{where}: missing keys {missing}")
    return dict(raw)


def _dist(raw: Any, where: str, unit: float, *, count: bool = False) -> Distribution:
    """Parse a number or a distribution table (edge unit ``unit`` per SI unit)."""
    if not isinstance(raw, Mapping):
        return Distribution("fixed", (_num(raw, where, minimum=0.0) * unit,))
    kind = raw.get("distribution")
    if kind not in _PARAMS:
        raise TwinConfigError(
            f"{where}.distribution: must be one of {sorted(_PARAMS)} (got {kind!r})"
        )
    if kind == "poisson" and not count:
        raise TwinConfigError(
            f"{where}.distribution: 'poisson' is for counts (per_year, starts_per_year), "
            f"not for {where.rsplit('.', 1)[-1]!r}"
        )
    names = _PARAMS[kind]
    unknown = sorted(set(raw) - {"distribution", "varies", *names})
    if unknown:
        raise TwinConfigError(
            f"{where}: unknown keys {unknown}; a {kind} distribution takes {list(names)}"
        )
    missing = [n for n in names if n not in raw]
    if missing:
        raise TwinConfigError(
            f"{where}: a {kind} distribution needs {list(names)}; missing {missing}"
        )
    varies = raw.get("varies", "yearly")
    if varies not in ("yearly", "once"):
        raise TwinConfigError(f"{where}.varies: must be 'yearly' or 'once' (got {varies!r})")
    v = [_num(raw[n], f"{where}.{n}") for n in names]
    if kind == "fixed":
        if v[0] < 0:
            raise TwinConfigError(f"{where}.value: must be >= 0 (got {v[0]!r})")
        return Distribution(kind, (v[0] * unit,), varies)
    if kind == "normal":
        if v[1] <= 0:
            raise TwinConfigError(f"{where}.std: must be > 0 (got {v[1]!r})")
        return Distribution(kind, (v[0] * unit, v[1] * unit), varies)
    if kind == "lognormal":
        if v[0] <= 0 or v[1] <= 0:
            raise TwinConfigError(
                f"{where}: median and cov must be > 0 (got median={v[0]!r}, cov={v[1]!r})"
            )
        return Distribution(kind, (v[0] * unit, math.sqrt(math.log1p(v[1] ** 2))), varies)
    if kind == "uniform":
        if not 0 <= v[0] < v[1]:
            raise TwinConfigError(f"{where}: needs 0 <= low < high (got [{v[0]!r}, {v[1]!r}])")
        return Distribution(kind, (v[0] * unit, v[1] * unit), varies)
    if kind == "triangular":
        if not (0 <= v[0] <= v[1] <= v[2] and v[0] < v[2]):
            raise TwinConfigError(
                f"{where}: needs 0 <= low <= mode <= high, low < high (got {v!r})"
            )
        return Distribution(kind, tuple(x * unit for x in v), varies)
    if v[0] < 0:
        raise TwinConfigError(f"{where}.mean: must be >= 0 (got {v[0]!r})")
    return Distribution(kind, (v[0],), varies)


_KIND_KEYS = {
    "starts_per_year",
    "start_temperature_degC",
    "start_pressure_MPa",
    "ramp_rate_degC_per_min",
    "hold_temperature_degC",
    "hold_pressure_MPa",
    "hold_h",
    "shutdown_rate_degC_per_min",
}


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
        Naming the dotted field, the rule and the value.
    """
    top = {"schema_version", "name", "description", "startups", "trips", "outages", "inspections"}
    unknown = sorted(set(doc) - top)
    if unknown:
        raise TwinConfigError(f"{source}: unknown keys {unknown}; a plan has {sorted(top)}")
    version = doc.get("schema_version")
    if version != PLAN_SCHEMA_VERSION:
        raise TwinConfigError(
            f"{source}.schema_version: must be {PLAN_SCHEMA_VERSION} (got {version!r})"
        )
    name = doc.get("name", "plan")
    if not isinstance(name, str) or not name:
        raise TwinConfigError(f"{source}.name: must be a non-empty string (got {name!r})")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise TwinConfigError(f"{source}.description: must be a string (got {description!r})")
    raw_kinds = doc.get("startups")
    if not isinstance(raw_kinds, Mapping) or not raw_kinds:
        raise TwinConfigError(
            f"{source}.startups: needs at least one start-up kind table, e.g. [startups.cold] "
            f"(got {raw_kinds!r})"
        )
    kinds = []
    for kname in raw_kinds:
        w = f"{source}.startups.{kname}"
        t = _table(raw_kinds, kname, w, _KIND_KEYS, set())
        t_start = _num(t["start_temperature_degC"], f"{w}.start_temperature_degC") + ZERO_CELSIUS
        t_hold = _num(t["hold_temperature_degC"], f"{w}.hold_temperature_degC") + ZERO_CELSIUS
        if not t_hold > t_start:
            raise TwinConfigError(
                f"{w}.hold_temperature_degC: must be above start_temperature_degC "
                f"(got {t_hold - ZERO_CELSIUS!r} <= {t_start - ZERO_CELSIUS!r})"
            )
        kinds.append(
            StartupKind(
                name=str(kname),
                starts_per_year=_dist(
                    t["starts_per_year"], f"{w}.starts_per_year", 1.0, count=True
                ),
                hold=_dist(t["hold_h"], f"{w}.hold_h", _H),
                start_temperature=t_start,
                hold_temperature=t_hold,
                start_pressure=_num(t["start_pressure_MPa"], f"{w}.start_pressure_MPa", minimum=0.0)
                * 1e6,
                hold_pressure=_num(t["hold_pressure_MPa"], f"{w}.hold_pressure_MPa", minimum=0.0)
                * 1e6,
                ramp_rate=_num(
                    t["ramp_rate_degC_per_min"], f"{w}.ramp_rate_degC_per_min", positive=True
                )
                / _MIN,
                shutdown_rate=_num(
                    t["shutdown_rate_degC_per_min"],
                    f"{w}.shutdown_rate_degC_per_min",
                    positive=True,
                )
                / _MIN,
            )
        )
    trips = None
    if "trips" in doc:
        w = f"{source}.trips"
        t = _table(
            doc, "trips", w,
            {"per_year", "kind", "temperature_drop_degC", "cooling_rate_degC_per_min",
             "pressure_MPa"},
            {"off_h"},
        )  # fmt: skip
        kname = t["kind"]
        if kname not in [k.name for k in kinds]:
            raise TwinConfigError(
                f"{w}.kind: {kname!r} is not a start-up kind of the plan {[k.name for k in kinds]}"
            )
        trips = Trips(
            per_year=_dist(t["per_year"], f"{w}.per_year", 1.0, count=True),
            kind=str(kname),
            temperature_drop=_num(
                t["temperature_drop_degC"], f"{w}.temperature_drop_degC", positive=True
            ),
            cooling_rate=_num(
                t["cooling_rate_degC_per_min"], f"{w}.cooling_rate_degC_per_min", positive=True
            )
            / _MIN,
            pressure=_num(t["pressure_MPa"], f"{w}.pressure_MPa", minimum=0.0) * 1e6,
            off=_num(t.get("off_h", 0.0), f"{w}.off_h", minimum=0.0) * _H,
        )
    outages = None
    if "outages" in doc:
        w = f"{source}.outages"
        t = _table(doc, "outages", w, {"every_years", "duration_days"}, {"first_year"})
        every = _num(t["every_years"], f"{w}.every_years", positive=True)
        duration = _dist(t["duration_days"], f"{w}.duration_days", _DAY)
        outages = Outages(
            every, _num(t.get("first_year", every), f"{w}.first_year", minimum=0.0), duration
        )
    inspections = None
    if "inspections" in doc:
        w = f"{source}.inspections"
        t = _table(doc, "inspections", w, {"every_years"}, {"first_year"})
        every = _num(t["every_years"], f"{w}.every_years", positive=True)
        inspections = Inspections(
            every, _num(t.get("first_year", every), f"{w}.first_year", minimum=0.0)
        )
    plan = DutyPlan(
        name=name,
        startups=tuple(kinds),
        trips=trips,
        outages=outages,
        inspections=inspections,
        description=description,
    )
    _check_shapes(plan, where=source)
    return plan


def _check_shapes(plan: DutyPlan, *, where: str) -> None:
    """Refuse cycle shapes that cannot be simulated (trip colder than the start, ...)."""
    if plan.trips is not None:
        k = plan.kind(plan.trips.kind)
        if plan.trips.temperature_drop >= k.hold_temperature - 273.15:
            raise TwinConfigError(
                f"{where}.trips.temperature_drop_degC: {plan.trips.temperature_drop!r} K would "
                "cool the fluid below 0 degC"
            )
    year = 365.25 * _DAY
    need = sum(
        k.starts_per_year.mean * (k.ramp_time + k.shutdown_time + k.hold.mean)
        for k in plan.startups
    )
    if need > year:
        raise TwinConfigError(
            f"{where}.startups: the mean start-ups need {need / _H:.0f} h a year (ramps and "
            f"holds), more than the {year / _H:.0f} h of a year; fewer starts or shorter holds"
        )


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
