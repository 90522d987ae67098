"""Parsing and validation of duty-plan documents (:func:`twin.plan.parse_plan`).

Every error is a :class:`~twin.errors.TwinConfigError` naming the dotted field, the
rule and the value received.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from models.units import HOUR, MPA, ZERO_CELSIUS
from twin.errors import TwinConfigError
from twin.plan import (
    _DAY,
    _MIN,
    _PARAMS,
    PLAN_SCHEMA_VERSION,
    Distribution,
    DutyPlan,
    Inspections,
    Outages,
    StartupKind,
    Trips,
)

__all__ = ["check_shapes", "parse_plan"]


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
                hold=_dist(t["hold_h"], f"{w}.hold_h", HOUR),
                start_temperature=t_start,
                hold_temperature=t_hold,
                start_pressure=_num(t["start_pressure_MPa"], f"{w}.start_pressure_MPa", minimum=0.0)
                * MPA,
                hold_pressure=_num(t["hold_pressure_MPa"], f"{w}.hold_pressure_MPa", minimum=0.0)
                * MPA,
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
            pressure=_num(t["pressure_MPa"], f"{w}.pressure_MPa", minimum=0.0) * MPA,
            off=_num(t.get("off_h", 0.0), f"{w}.off_h", minimum=0.0) * HOUR,
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
    check_shapes(plan, where=source)
    return plan


def check_shapes(plan: DutyPlan, *, where: str) -> None:
    """Refuse cycle shapes that cannot be simulated (trip colder than the start, ...)."""
    if plan.trips is not None:
        k = plan.kind(plan.trips.kind)
        if plan.trips.temperature_drop >= k.hold_temperature - ZERO_CELSIUS:
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
            f"{where}.startups: the mean start-ups need {need / HOUR:.0f} h a year (ramps and "
            f"holds), more than the {year / HOUR:.0f} h of a year; fewer starts or shorter holds"
        )
