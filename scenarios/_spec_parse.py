"""Parsing and validation of scenario documents (:func:`scenarios.spec.parse_scenario`).

Every error is a :class:`~scenarios.errors.ScenarioInputError` naming the dotted field,
the rule and the value received. The whole scenario is checked here, before any FEM
run: unknown keys, the truth against the FEM's valid range (the component's
``[surrogate.parameters]``, its wall limits), the duty's hold temperatures against the
material's property tables and life laws, faults against the component's sensors, and
a duty or fault schedule that overlaps itself.
"""

from __future__ import annotations

import datetime as dt
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from models.units import MPA, ZERO_CELSIUS
from scenarios.errors import ScenarioInputError
from scenarios.spec import (
    DAY,
    FAULT_KINDS,
    YEAR,
    FaultSpec,
    HistorianSpec,
    LoadFollowing,
    QuickSpec,
    ReplaySpec,
    Scenario,
    ScheduledOutage,
    TruthSpec,
)

__all__ = ["DEFAULT_DEADBAND", "DEFAULT_NOISE", "SCHEMA_VERSION", "parse_scenario"]

SCHEMA_VERSION = 1
_MIN = 60.0
#: Truth noise (1 sigma, SI) of a sensor whose ``[twin.sensors.<id>]`` declares none.
DEFAULT_NOISE = {"temperature": 0.5, "pressure": 0.02e6, "strain": 5e-6, "wall_thickness": 1e-4}
#: Historian deadband per quantity (SI) when ``[historian.deadband]`` omits it: about four
#: standard deviations of the difference of two readings at the default noise (0.5 K,
#: 0.02 MPa, 5 microstrain), so that noise alone rarely passes it in steady operation.
DEFAULT_DEADBAND = {"temperature": 3.0, "pressure": 0.2e6, "strain": 30e-6, "wall_thickness": 1e-4}
_TOP = {
    "schema_version", "name", "description", "seed", "component", "start", "duration_years",
    "truth_horizon_years", "speed", "truth", "duty", "historian", "faults", "replay", "quick",
}  # fmt: skip
_DEFAULT_START = "2027-01-01T00:00:00Z"


def _fail(where: str, rule: str, value: Any) -> ScenarioInputError:
    return ScenarioInputError(f"{where}: {rule} (got {value!r})")


def _num(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    default: float | None = None,
    *,
    low: float | None = None,
    positive: bool = False,
    allow_inf: bool = False,
) -> float:
    w = f"{where}.{key}"
    if key not in raw:
        if default is None:
            raise ScenarioInputError(f"{w}: missing (a number is required)")
        return default
    v = raw[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
        raise _fail(w, "must be a number", v)
    if math.isinf(v) and not (allow_inf and v > 0):
        raise _fail(w, "must be finite", v)
    x = float(v)
    if positive and not x > 0:
        raise _fail(w, "must be > 0", x)
    if low is not None and x < low:
        raise _fail(w, f"must be >= {low:g}", x)
    return x


def _int(raw: Mapping[str, Any], key: str, where: str, default: int, *, low: int) -> int:
    v = raw.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise _fail(f"{where}.{key}", f"must be an integer >= {low}", v)
    return int(v)


def _table(
    raw: Any, where: str, keys: set[str], *, required: frozenset[str] | set[str] = frozenset()
) -> Any:
    if not isinstance(raw, Mapping):
        raise _fail(where, "must be a table", raw)
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise ScenarioInputError(f"{where}: unknown keys {unknown}; it takes {sorted(keys)}")
    missing = sorted(required - set(raw))
    if missing:
        raise ScenarioInputError(f"{where}: missing keys {missing}")
    return raw


def _start(raw: Any, where: str) -> float:
    if isinstance(raw, dt.datetime):
        stamp = raw
    elif isinstance(raw, str):
        try:
            stamp = dt.datetime.fromisoformat(raw)
        except ValueError as err:
            raise _fail(
                where, "must be an ISO-8601 UTC time like 2027-01-01T00:00:00Z", raw
            ) from err
    elif isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    else:
        raise _fail(where, "must be an ISO-8601 UTC time or an epoch number (s)", raw)
    if stamp.utcoffset() != dt.timedelta(0):
        raise _fail(where, "must carry the UTC zone (a trailing Z or +00:00)", raw)
    return stamp.timestamp()


def _sensor_units(config: Any) -> dict[str, tuple[str, str]]:
    """``{sensor id: (quantity, config unit)}`` of the component's sensors."""
    return {
        str(s["id"]): (str(s["quantity"]), str(s["unit"]))
        for s in config.to_dict().get("sensors", [])
    }


def _scale(unit: str, quantity: str) -> float:
    """SI per config unit of a difference (a bias, a noise, a step): no offset."""
    from sensors.units import to_si

    return float(to_si(1.0, unit, quantity) - to_si(0.0, unit, quantity))


def _per_sensor(
    raw: Any, where: str, units: Mapping[str, tuple[str, str]], *, positive: bool
) -> dict[str, float]:
    table = _table(raw, where, set(units))
    out = {}
    for sid in table:
        v = _num(table, sid, where, positive=positive)
        q, u = units[sid]
        out[str(sid)] = v * _scale(u, q)
    return out


def _range(config: Any, name: str) -> tuple[float, float] | None:
    params = config.sections.get("surrogate", {}).get("parameters", {})
    r = params.get(name)
    if isinstance(r, list | tuple) and len(r) == 2:
        return float(r[0]), float(r[1])
    return None


def _inside(value: float, r: tuple[float, float] | None, where: str, what: str) -> None:
    if r is not None and not r[0] <= value <= r[1]:
        raise _fail(where, f"must lie inside {what} [{r[0]:g}, {r[1]:g}]", value)


def _truth(raw: Any, where: str, config: Any, settings: Any, duration: float) -> TruthSpec:
    keys = {
        "bore_htc_W_m2K", "bore_htc_drift_per_year", "wall_thickness_m", "oxidation_factor",
        "creep_strength_factor", "larson_miller_C_offset", "fatigue_life_factor", "bias",
        "noise",
    }  # fmt: skip
    t = _table(raw, where, keys, required={"bore_htc_W_m2K"})
    h = _num(t, "bore_htc_W_m2K", where, positive=True)
    drift = _num(t, "bore_htc_drift_per_year", where, 0.0)
    wall = _num(t, "wall_thickness_m", where, config.geometry.wall_thickness, positive=True)
    ox = _num(t, "oxidation_factor", where, 1.0, positive=True)
    cs = _num(t, "creep_strength_factor", where, 1.0, positive=True)
    dc = _num(t, "larson_miller_C_offset", where, 0.0)
    if abs(dc) > 1.5:
        raise _fail(f"{where}.larson_miller_C_offset", "must lie in [-1.5, 1.5] decades", dc)
    phi = _num(t, "fatigue_life_factor", where, 1.0, positive=True)
    hr = _range(config, "thermal.bore_htc_W_m2K")
    what = "the FEM's valid range (surrogate.parameters.'thermal.bore_htc_W_m2K')"
    _inside(h, hr, f"{where}.bore_htc_W_m2K", what)
    h_end = h * math.exp(drift * duration / YEAR)
    if hr is not None and not hr[0] <= h_end <= hr[1]:
        raise _fail(
            f"{where}.bore_htc_drift_per_year",
            f"takes h to {h_end:.6g} W/m2K at the end of the recording, outside {what} "
            f"[{hr[0]:g}, {hr[1]:g}]",
            drift,
        )
    w_where = f"{where}.wall_thickness_m"
    _inside(
        wall,
        _range(config, "geometry.wall_thickness_m"),
        w_where,
        "the FEM's valid range (surrogate.parameters.'geometry.wall_thickness_m')",
    )
    if wall >= config.geometry.inner_radius:
        raise _fail(w_where, f"must be < the inner radius {config.geometry.inner_radius:g} m", wall)
    w_min = settings.minimum_wall_thickness
    if w_min is not None and wall <= w_min:
        raise _fail(w_where, f"must be > twin.minimum_wall_thickness_m = {w_min:g} m", wall)
    units = _sensor_units(config)
    bias = _per_sensor(t.get("bias", {}), f"{where}.bias", units, positive=False)
    noise = _default_noise(config, settings, units)
    noise.update(_per_sensor(t.get("noise", {}), f"{where}.noise", units, positive=True))
    return TruthSpec(h, drift / YEAR, wall, ox, cs, bias, noise, dc, phi)


def _default_noise(
    config: Any, settings: Any, units: Mapping[str, tuple[str, str]]
) -> dict[str, float]:
    declared = config.sections.get("twin", {}).get("sensors", {})
    model = {s.id: s.noise_std for s in settings.sensors}
    out = {}
    for sid, (q, _u) in units.items():
        keys = declared.get(sid, {})
        if sid in model and any(str(k).startswith("noise_") for k in keys):
            out[sid] = float(model[sid])
        else:
            out[sid] = DEFAULT_NOISE.get(q, 0.0)
    return out


def _check_hold(duty: Any, config: Any, where: str) -> None:
    from models.errors import ModelError
    from models.life import larson_miller

    ranges: list[tuple[str, tuple[float, float]]] = [
        ("the material's property tables", tuple(config.material.temperature_range))
    ]
    try:
        lm = larson_miller(config.component.material)
        ranges.append(("the Larson-Miller curve's calibrated range", lm.temperature_range))
    except ModelError:
        pass
    sur = _range(config, "loads.hold_temperature_degC")
    if sur is not None:
        ranges.append(
            (
                "the surrogate's loads.hold_temperature_degC range",
                (sur[0] + ZERO_CELSIUS, sur[1] + ZERO_CELSIUS),
            )
        )
    p_range = _range(config, "loads.hold_pressure_MPa")
    for k in duty.startups:
        w = f"{where}.startups.{k.name}"
        t_c = k.hold_temperature - ZERO_CELSIUS
        for what, (lo, hi) in ranges:
            if not lo <= k.hold_temperature <= hi:
                raise _fail(
                    f"{w}.hold_temperature_degC",
                    f"must lie inside {what} [{lo - ZERO_CELSIUS:g}, {hi - ZERO_CELSIUS:g}] degC",
                    t_c,
                )
        _inside(
            k.hold_pressure / MPA,
            p_range,
            f"{w}.hold_pressure_MPa",
            "the surrogate's loads.hold_pressure_MPa range",
        )


def _duty(raw: Any, where: str, config: Any) -> tuple[Any, LoadFollowing | None, list[Any]]:
    from twin.errors import TwinConfigError
    from twin.plan import parse_plan

    if not isinstance(raw, Mapping):
        raise _fail(where, "must be a table (a duty plan)", raw)
    plan_doc = {k: v for k, v in raw.items() if k not in ("load_following", "outage")}
    plan_doc.setdefault("schema_version", 1)
    plan_doc.setdefault("name", "duty")
    try:
        duty = parse_plan(plan_doc, source=where)
    except TwinConfigError as err:
        raise ScenarioInputError(str(err)) from err
    _check_hold(duty, config, where)
    lf = None
    if "load_following" in raw:
        w = f"{where}.load_following"
        keys = {"per_hold_day", "drop_degC", "rate_degC_per_min", "low_h", "pressure_MPa"}
        t = _table(raw["load_following"], w, keys, required=keys)
        lf = LoadFollowing(
            per_hold_day=_num(t, "per_hold_day", w, low=0.0),
            drop=_num(t, "drop_degC", w, positive=True),
            rate=_num(t, "rate_degC_per_min", w, positive=True) / _MIN,
            low=_num(t, "low_h", w, low=0.0) * 3600.0,
            pressure=_num(t, "pressure_MPa", w, positive=True) * MPA,
        )
    outages = raw.get("outage", [])
    if not isinstance(outages, list):
        raise _fail(f"{where}.outage", "must be an array of tables ([[duty.outage]])", outages)
    return duty, lf, outages


def _outages(items: list[Any], where: str, duration: float) -> tuple[ScheduledOutage, ...]:
    out = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        t = _table(
            item,
            w,
            {"start_days", "duration_days", "inspect"},
            required={"start_days", "duration_days"},
        )
        start = _num(t, "start_days", w, low=0.0) * DAY
        length = _num(t, "duration_days", w, positive=True) * DAY
        inspect = t.get("inspect", True)
        if not isinstance(inspect, bool):
            raise _fail(f"{w}.inspect", "must be true or false", inspect)
        if start + length > duration:
            raise _fail(
                w,
                f"ends at day {(start + length) / DAY:g}, past the duration "
                f"({duration / DAY:g} days)",
                t["start_days"],
            )
        out.append((i, ScheduledOutage(start, length, inspect)))
    out.sort(key=lambda p: p[1].start)
    for (i, a), (j, b) in zip(out, out[1:], strict=False):
        if b.start < a.start + a.duration:
            raise _fail(
                f"{where}[{j}].start_days",
                f"overlaps {where}[{i}] (days {a.start / DAY:g}-{(a.start + a.duration) / DAY:g})",
                b.start / DAY,
            )
    return tuple(o for _, o in out)


def _faults(
    items: Any, where: str, config: Any, duration: float, seed: int
) -> tuple[FaultSpec, ...]:
    if not isinstance(items, list):
        raise _fail(where, "must be an array of tables ([[faults]])", items)
    units = _sensor_units(config)
    keys = {
        "kind",
        "sensor",
        "start_days",
        "random",
        "window_days",
        "duration_days",
        "magnitude",
        "count",
    }
    out: list[tuple[int, FaultSpec]] = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        t = _table(item, w, keys, required={"kind", "sensor"})
        kind = t["kind"]
        if kind not in FAULT_KINDS:
            raise _fail(f"{w}.kind", f"must be one of {list(FAULT_KINDS)}", kind)
        sensor = t["sensor"]
        if sensor not in units:
            raise _fail(f"{w}.sensor", f"must be a sensor of the component {sorted(units)}", sensor)
        start = _fault_start(t, w, duration, np.random.default_rng([seed, i]))
        length = _num(t, "duration_days", w, math.inf, positive=True, allow_inf=True) * DAY
        q, u = units[sensor]
        needs = kind in ("bias_step", "drift", "spikes")
        if needs and "magnitude" not in t:
            raise ScenarioInputError(f"{w}.magnitude: missing (a {kind} needs its size)")
        mag = _num(t, "magnitude", w, 0.0) * _scale(u, q)
        if kind == "drift":
            mag /= DAY
        if "count" in t and kind != "spikes":
            raise _fail(f"{w}.count", "is for spikes only", t["count"])
        count = _int(t, "count", w, 1, low=1)
        out.append((i, FaultSpec(kind, str(sensor), start, length, mag, count)))
    for a_i, (i, a) in enumerate(out):
        for j, b in out[a_i + 1 :]:
            if (
                a.sensor == b.sensor
                and a.start < b.start + b.duration
                and b.start < a.start + a.duration
            ):
                raise _fail(
                    f"{where}[{j}].start_days",
                    f"the fault window overlaps {where}[{i}] on the same sensor {a.sensor!r}",
                    b.start / DAY,
                )
    return tuple(f for _, f in out)


def _fault_start(t: Mapping[str, Any], w: str, duration: float, rng: np.random.Generator) -> float:
    rand = t.get("random", False)
    if not isinstance(rand, bool):
        raise _fail(f"{w}.random", "must be true or false", rand)
    if rand:
        if "start_days" in t:
            raise _fail(
                f"{w}.start_days",
                "conflicts with random = true (give window_days)",
                t["start_days"],
            )
        win = t.get("window_days", [0.0, duration / DAY])
        ok = (
            isinstance(win, list)
            and len(win) == 2
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in win)
        )
        if not ok or not 0 <= win[0] < win[1] <= duration / DAY:
            raise _fail(
                f"{w}.window_days",
                f"must be [low, high] days with 0 <= low < high <= {duration / DAY:g}",
                win,
            )
        return float(rng.uniform(win[0], win[1])) * DAY
    if "window_days" in t:
        raise _fail(f"{w}.window_days", "is for random = true", t["window_days"])
    if "start_days" not in t:
        raise ScenarioInputError(f"{w}.start_days: missing (or give random = true)")
    start = _num(t, "start_days", w, low=0.0) * DAY
    if start >= duration:
        raise _fail(
            f"{w}.start_days", f"must be < the duration ({duration / DAY:g} days)", start / DAY
        )
    return start


def _historian(raw: Any, where: str) -> HistorianSpec:
    from sensors.units import ALLOWED_UNITS

    t = _table(raw, where, {"transient_interval_s", "heartbeat_s", "deadband"})
    dti = _num(t, "transient_interval_s", where, 60.0, positive=True)
    beat = _num(t, "heartbeat_s", where, 14400.0, positive=True)
    if beat < dti:
        raise _fail(f"{where}.heartbeat_s", f"must be >= transient_interval_s = {dti:g}", beat)
    keys = {f"{q}_{u}" for q, us in ALLOWED_UNITS.items() for u in us if u != "1"}
    w = f"{where}.deadband"
    d = _table(t.get("deadband", {}), w, keys)
    band = dict(DEFAULT_DEADBAND)
    for key in d:
        q, u = next((q, key[len(q) + 1 :]) for q in ALLOWED_UNITS if key.startswith(f"{q}_"))
        band[q] = _num(d, key, w, low=0.0) * _scale(u, q)
    return HistorianSpec(dti, beat, band)


def _replay(raw: Any, where: str) -> ReplaySpec:
    t = _table(raw, where, {"forecast_every_days", "samples", "horizon_years"})
    return ReplaySpec(
        forecast_every=_num(t, "forecast_every_days", where, 30.0, positive=True) * DAY,
        samples=_int(t, "samples", where, 400, low=1),
        horizon_years=_num(t, "horizon_years", where, 40.0, positive=True),
    )


def _quick(raw: Any, where: str) -> QuickSpec:
    t = _table(raw, where, {"duration_days", "forecast_every_days", "samples"})
    return QuickSpec(
        duration=_num(t, "duration_days", where, 20.0, positive=True) * DAY,
        forecast_every=_num(t, "forecast_every_days", where, 5.0, positive=True) * DAY,
        samples=_int(t, "samples", where, 200, low=1),
    )


def _component(raw: Any, where: str, base: pathlib.Path) -> tuple[pathlib.Path, Any, Any]:
    from models.config import load_config
    from models.errors import ModelError
    from sensors.catalogue import parse_catalogue
    from twin.errors import TwinError
    from twin.settings import parse_twin_settings

    if not isinstance(raw, str) or not raw:
        raise _fail(where, "must be the path of a component config (relative to the scenario)", raw)
    path = (base / raw).resolve()
    try:
        config = load_config(path)
        settings = parse_twin_settings(
            config.sections.get("twin"),
            catalogue=parse_catalogue(config.to_dict()).sensors,
            locations=[loc.name for loc in config.locations],
        )
    except (ModelError, TwinError) as err:
        raise ScenarioInputError(f"{where} = {raw!r}: {err}") from err
    return path, config, settings


def parse_scenario(doc: Mapping[str, Any], *, base: pathlib.Path, source: str) -> Scenario:
    """Validate a scenario document; see :func:`scenarios.spec.parse_scenario`."""
    if not isinstance(doc, Mapping):
        raise _fail(source, "must be a TOML table", doc)
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise ScenarioInputError(f"{source}: unknown keys {unknown}; a scenario has {sorted(_TOP)}")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise _fail(f"{source}.schema_version", f"must be {SCHEMA_VERSION}", version)
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(f"{source}.name", "must be a non-empty string", name)
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise _fail(f"{source}.description", "must be a string", description)
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail(f"{source}.seed", "must be an integer >= 0", seed)
    comp_path, config, settings = _component(doc.get("component"), f"{source}.component", base)
    start = _start(doc.get("start", _DEFAULT_START), f"{source}.start")
    duration = _num(doc, "duration_years", source, positive=True) * YEAR
    horizon = _num(doc, "truth_horizon_years", source, 60.0, positive=True) * YEAR
    if horizon < duration:
        raise _fail(
            f"{source}.truth_horizon_years",
            f"must be >= duration_years = {duration / YEAR:g}",
            horizon / YEAR,
        )
    speed = _num(doc, "speed", source, 0.0, low=0.0)
    if "truth" not in doc:
        raise ScenarioInputError(f"{source}.truth: missing (the hidden truth is required)")
    truth = _truth(doc["truth"], f"{source}.truth", config, settings, duration)
    if "duty" not in doc:
        raise ScenarioInputError(f"{source}.duty: missing (a duty plan is required)")
    duty, lf, raw_outages = _duty(doc["duty"], f"{source}.duty", config)
    outages = _outages(raw_outages, f"{source}.duty.outage", duration)
    faults = _faults(doc.get("faults", []), f"{source}.faults", config, duration, seed)
    return Scenario(
        name=name,
        description=description,
        seed=seed,
        path=None,
        component_path=comp_path,
        config=config,
        start_time=start,
        duration=duration,
        truth_horizon=horizon,
        speed=None if speed == 0 else speed,
        truth=truth,
        duty=duty,
        load_following=lf,
        outages=outages,
        faults=faults,
        historian=_historian(doc.get("historian", {}), f"{source}.historian"),
        replay=_replay(doc.get("replay", {}), f"{source}.replay"),
        quick_spec=_quick(doc.get("quick", {}), f"{source}.quick"),
        doc=dict(doc),
    )
