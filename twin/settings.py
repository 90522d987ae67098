"""The ``[twin]`` section of a component config: priors, sensor noise and filter settings.

Example (edge units in the key names, as everywhere in the config)::

    [twin]
    particles = 500
    block_s = 60.0                    # assimilation block of plant time
    lateness_s = 5.0                  # readings up to this late are reordered
    damage_locations = ["bore", "outer"]

    [twin.stress_concentration]       # SCF per damage location (>= 1)
    bore = 1.0
    outer = 1.0

    [twin.priors]
    bore_htc_W_m2K = { distribution = "lognormal", median = 2500.0, cov = 0.3 }
    wall_thickness_m = { distribution = "normal", mean = 0.05, std = 0.001 }

    [twin.sensors.TC-outer-01]
    noise_K = 0.5
    bias_K = { distribution = "normal", mean = 0.0, std = 3.0 }

A prior is ``normal`` (``mean``, ``std``), ``lognormal`` (``median``, ``cov``: the
coefficient of variation, ``sigma = sqrt(log(1 + cov^2))``), ``uniform`` (``low``,
``high``) or ``fixed`` (``value``). Every field has a documented default
(:data:`DEFAULT_PRIORS`, :data:`DEFAULT_SENSOR`), so an empty ``[twin]`` section is valid.
Everything is validated here, before anything runs: unknown keys, bad numbers and
sensors the catalogue lacks raise :class:`~twin.errors.TwinConfigError` naming the
dotted field and the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.units import ZERO_CELSIUS
from twin.errors import TwinConfigError
from twin.priors import (
    DEFAULT_PRIORS,
    DEFAULT_SENSOR,
    MICRO,
    Prior,
    _key,
    _number,
    _si_unit,
    parse_prior,
)

__all__ = [
    "DEFAULT_PRIORS",
    "DEFAULT_SENSOR",
    "ParameterSpec",
    "Prior",
    "is_linear",
    "SensorModel",
    "TwinSettings",
    "parse_twin_settings",
]


@dataclass(frozen=True)
class ParameterSpec:
    """One uncertain parameter of the twin.

    Attributes
    ----------
    name : str
        ``bore_htc``, ``wall_thickness``, ``bias.<sensor>``, ``offset.<sensor>``, ...
    unit : str
        SI unit of the value (``W m-2 K-1``, ``m``, ``K``, ``1``, ``K s-1``, ``s-1``).
    edge_unit : str
        Unit used in the config and in reports (``W_m2K``, ``K_per_year``, ...).
    edge_factor : float
        SI value per edge-unit value.
    prior : Prior
    description : str
    """

    name: str
    unit: str
    edge_unit: str
    edge_factor: float
    prior: Prior
    description: str


@dataclass(frozen=True)
class SensorModel:
    """How the twin reads one sensor.

    Attributes
    ----------
    id, quantity, location : str
        From the catalogue; ``location`` is the config location name (or the sensor id
        for a sensor placed by radius).
    noise_std : float
        Measurement noise standard deviation, SI.
    role : {"input", "observation", "unused"}
        Fluid temperature and pressure sensors are inputs of the model.
    """

    id: str
    quantity: str
    location: str
    noise_std: float
    role: str
    valid_min: float
    valid_max: float
    rate: float


@dataclass(frozen=True)
class TwinSettings:
    """Validated ``[twin]`` section, SI.

    Attributes
    ----------
    particles : int
    block : float
        Plant time of one assimilation block, s. Readings are assimilated block by
        block; the blocks are fixed in plant time, so the state does not depend on how
        the readings were batched on arrival.
    lateness : float
        Readings up to this much older than the newest reading are still reordered, s.
    resample_ess_fraction : float
        Resample when the effective sample size falls below this fraction of particles.
    liu_west_a : float
        Shrinkage of the Liu-West kernel for the static parameters (0 < a < 1).
    correlation_time : float
        Correlation time of the model error, s: each observation's log-likelihood is
        weighted by ``min(1, dt / correlation_time)`` (``dt`` to the previous reading
        of that sensor), so correlated model error does not count as independent
        information.
    property_temperature : float or None
        Temperature at which the mode surrogate freezes the properties (K); None (the
        default) follows each particle's modelled mean wall temperature through
        start-ups and holds (a quasi-linear model: the modes are re-evaluated when it
        moves by more than ``property_tolerance``).
    property_tolerance : float
        K.
    history_interval : float
        Plant time between two rows of the state history, s (``history_s``).
    health_warmup : float
        Plant time after the start before the innovation CUSUM watches, s
        (``health_warmup_h``): while the posterior still learns from its prior the
        innovations lead every transient and are not a sensor fault.
    damage_locations : tuple of str
    stress_concentration : dict
        SCF per damage location.
    model_error : dict
        Standard deviation of the frozen-property model error per observed quantity, SI.
    parameters : tuple of ParameterSpec
        In column order of the particle array.
    sensors : tuple of SensorModel
    inputs : dict
        ``{"fluid_temperature": sensor id, "pressure": sensor id}``.
    surrogate : str or None
        Path of the mode surrogate, relative to the config's folder.
    minimum_wall_thickness : float or None
        The wall (m) the forecast counts as failure when oxidation thins the wall to it
        (``minimum_wall_thickness_m``, e.g. the design minimum of the pressure code);
        None: no wall criterion.
    fatigue_log10_std : float
        Material scatter of the fatigue life: standard deviation of log10 N_f
        (``scatter.fatigue_log10_life_std``, default 0.25, an assumed typical value).
    larson_miller_C_std : float
        Material scatter of the rupture life: standard deviation of the Larson-Miller
        constant C, i.e. of log10 t_R (``scatter.larson_miller_C_std``, default 0.25).
    quarantine_faulty : bool
        Stop assimilating an observed sensor once its health is ``faulty`` (stuck,
        flat-line, level shift or innovation alarm); ``quarantine_faulty_sensors``,
        default false: a false alarm (e.g. model error beyond the stated one in an
        unusual transient) would otherwise blind the twin to that sensor for good.
    """

    particles: int
    block: float
    lateness: float
    resample_ess_fraction: float
    liu_west_a: float
    correlation_time: float
    property_temperature: float | None
    property_tolerance: float
    history_interval: float
    health_warmup: float
    damage_locations: tuple[str, ...]
    stress_concentration: dict[str, float]
    model_error: dict[str, float]
    parameters: tuple[ParameterSpec, ...]
    sensors: tuple[SensorModel, ...]
    inputs: dict[str, str]
    surrogate: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    minimum_wall_thickness: float | None = None
    fatigue_log10_std: float = 0.25
    larson_miller_C_std: float = 0.25
    quarantine_faulty: bool = False

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the parameters, in column order."""
        return tuple(p.name for p in self.parameters)

    @property
    def sampled(self) -> tuple[ParameterSpec, ...]:
        """Parameters carried as particle columns (the nonlinear ones)."""
        return tuple(p for p in self.parameters if not is_linear(p.name))

    @property
    def linear(self) -> tuple[ParameterSpec, ...]:
        """Sensor offsets and drifts, marginalised analytically (:mod:`twin.linear`)."""
        return tuple(p for p in self.parameters if is_linear(p.name))

    def index(self, name: str) -> int:
        """Column of a parameter."""
        return self.parameter_names.index(name)

    def observed(self) -> tuple[SensorModel, ...]:
        """Return the sensors assimilated as observations."""
        return tuple(s for s in self.sensors if s.role == "observation")

    def identifiable(self) -> dict[str, str]:
        """Which parameters the available sensors can identify, and why (or why not)."""
        q = {s.quantity for s in self.observed()}
        out: dict[str, str] = {}
        for p in self.parameters:
            n = p.name
            if p.prior.distribution == "fixed":
                out[n] = "fixed: not estimated"
            elif n == "bore_htc":
                out[n] = (
                    "identified: outer-wall temperature lag during transients"
                    if "temperature" in q
                    else "not identified: no wall thermocouple"
                )
            elif n == "bore_htc_drift":
                out[n] = "weakly identified over years of transients (prior dominates early)"
            elif n == "wall_thickness":
                out[n] = (
                    "identified by ultrasonic thickness readings"
                    if "wall_thickness" in q
                    else "weakly identified: strain-gauge pressure gain (~1 % per 1 % wall)"
                )
            elif n == "oxidation_factor":
                out[n] = (
                    "weakly identified: wall loss between thickness inspections over years"
                    if "wall_thickness" in q
                    else "not identified: no thickness readings (forecast uncertainty)"
                )
            elif n == "creep_strength_factor":
                out[n] = (
                    "identified by the creep-strain gauge"
                    if "creep_strain" in q
                    else "not identified: no creep-strain gauge (forecast uncertainty)"
                )
            elif n.startswith("bias."):
                out[n] = "identified at steady holds (isothermal wall vs fluid temperature)"
            elif n.startswith("offset."):
                out[n] = "identified against the modelled strain"
            elif n.startswith("drift."):
                out[n] = "weakly identified: needs long records"
            else:
                out[n] = "unknown"
        return out

    def is_identifiable(self, name: str) -> bool:
        """Return whether :meth:`identifiable` says the sensors identify ``name``."""
        return self.identifiable()[name].startswith("identified")


def is_linear(name: str) -> bool:
    """Whether a parameter enters its sensor's readings linearly (bias, offset, drift)."""
    return name.startswith(("bias.", "offset.", "drift."))


_TOP_KEYS = {
    "particles",
    "block_s",
    "lateness_s",
    "resample_ess_fraction",
    "liu_west_a",
    "correlation_time_s",
    "property_temperature_degC",
    "property_tolerance_K",
    "history_s",
    "health_warmup_h",
    "quarantine_faulty_sensors",
    "damage_locations",
    "stress_concentration",
    "model_error",
    "priors",
    "sensors",
    "inputs",
    "surrogate",
    "minimum_wall_thickness_m",
    "scatter",
}


def parse_twin_settings(
    section: Mapping[str, Any] | None,
    *,
    catalogue: Sequence[Any],
    locations: Sequence[str],
) -> TwinSettings:
    """Validate a ``[twin]`` section against the component's sensors and locations.

    Parameters
    ----------
    section : mapping or None
        The raw ``[twin]`` table (None: all defaults).
    catalogue : sequence of sensors.catalogue.Sensor
        The component's sensors (id, quantity, location, radius, valid range, rate).
    locations : sequence of str
        Location names of the component config (``bore``, ``mid_wall``, ``outer``, ...).

    Returns
    -------
    TwinSettings
    """
    sec = dict(section or {})
    unknown = sorted(set(sec) - _TOP_KEYS)
    if unknown:
        raise TwinConfigError(f"twin: unknown keys {unknown}; known keys are {sorted(_TOP_KEYS)}")
    raw_particles = sec.get("particles", 500)
    if isinstance(raw_particles, bool) or not isinstance(raw_particles, int) or raw_particles < 2:
        raise TwinConfigError(f"twin.particles: must be an integer >= 2 (got {raw_particles!r})")
    block = _number(sec, "block_s", "twin", 60.0)
    lateness = _number(sec, "lateness_s", "twin", 5.0)
    ess = _number(sec, "resample_ess_fraction", "twin", 0.5)
    a = _number(sec, "liu_west_a", "twin", 0.9)
    corr = _number(sec, "correlation_time_s", "twin", 30.0)
    if block <= 0:
        raise TwinConfigError(f"twin.block_s: must be > 0 (got {block})")
    if lateness < 0:
        raise TwinConfigError(f"twin.lateness_s: must be >= 0 (got {lateness})")
    if not 0 < ess <= 1:
        raise TwinConfigError(f"twin.resample_ess_fraction: must be in (0, 1] (got {ess})")
    if not 0 < a < 1:
        raise TwinConfigError(f"twin.liu_west_a: must be in (0, 1) (got {a})")
    if corr < 0:
        raise TwinConfigError(f"twin.correlation_time_s: must be >= 0 (got {corr})")
    tp = (
        _number(sec, "property_temperature_degC", "twin", 0.0) + ZERO_CELSIUS
        if "property_temperature_degC" in sec
        else None
    )
    quarantine = sec.get("quarantine_faulty_sensors", False)
    if not isinstance(quarantine, bool):
        raise TwinConfigError(
            f"twin.quarantine_faulty_sensors: must be true or false (got {quarantine!r})"
        )
    warm = _number(sec, "health_warmup_h", "twin", 12.0) * 3600.0
    if warm < 0:
        raise TwinConfigError(f"twin.health_warmup_h: must be >= 0 (got {warm / 3600.0})")
    hist = _number(sec, "history_s", "twin", 600.0)
    if hist <= 0:
        raise TwinConfigError(f"twin.history_s: must be > 0 (got {hist})")
    tol = _number(sec, "property_tolerance_K", "twin", 10.0)
    if tol <= 0:
        raise TwinConfigError(f"twin.property_tolerance_K: must be > 0 (got {tol})")

    locs = sec.get("damage_locations", ["bore", "outer"])
    if not isinstance(locs, list) or not locs or not all(isinstance(x, str) for x in locs):
        raise TwinConfigError(
            f"twin.damage_locations: must be a non-empty list of location names (got {locs!r})"
        )
    for loc in locs:
        if loc not in locations:
            raise TwinConfigError(
                f"twin.damage_locations: unknown location {loc!r}; the component has "
                f"{list(locations)}"
            )
    scf_raw = sec.get("stress_concentration", {})
    if not isinstance(scf_raw, Mapping):
        raise TwinConfigError(f"twin.stress_concentration: must be a table (got {scf_raw!r})")
    for loc in scf_raw:
        if loc not in locs:
            raise TwinConfigError(f"twin.stress_concentration.{loc}: not a damage location {locs}")
    scf = {loc: _number(scf_raw, loc, "twin.stress_concentration", 1.0) for loc in locs}
    for loc, v in scf.items():
        if v < 1.0:
            raise TwinConfigError(f"twin.stress_concentration.{loc}: must be >= 1 (got {v})")

    me_raw = sec.get("model_error", {})
    me_keys = {
        "temperature_K": ("temperature", 1.0, 1.0),
        "strain_microstrain": ("strain", MICRO, 20.0),
    }
    if not isinstance(me_raw, Mapping) or set(me_raw) - set(me_keys):
        raise TwinConfigError(
            f"twin.model_error: a table with keys {sorted(me_keys)} (got {me_raw!r})"
        )
    model_error = {
        q: _number(me_raw, k, "twin.model_error", d) * f for k, (q, f, d) in me_keys.items()
    }
    for k, v in model_error.items():
        if v < 0:
            raise TwinConfigError(f"twin.model_error: {k} must be >= 0 (got {v})")

    params: list[ParameterSpec] = []
    pri_raw = sec.get("priors", {})
    if not isinstance(pri_raw, Mapping):
        raise TwinConfigError(f"twin.priors: must be a table (got {pri_raw!r})")
    known = {_key(n, u): n for n, (u, *_rest) in DEFAULT_PRIORS.items()}
    bad = sorted(set(pri_raw) - set(known))
    if bad:
        raise TwinConfigError(
            f"twin.priors: unknown keys {bad}; known (with their unit) are {sorted(known)}"
        )
    for name, (edge, factor, default, desc) in DEFAULT_PRIORS.items():
        key = _key(name, edge)
        prior = parse_prior(pri_raw.get(key, default), f"twin.priors.{key}", factor)
        params.append(ParameterSpec(name, _si_unit(edge), edge, factor, prior, desc))

    by_id = {s.id: s for s in catalogue}
    sen_raw = sec.get("sensors", {})
    if not isinstance(sen_raw, Mapping):
        raise TwinConfigError(f"twin.sensors: must be a table of sensor tables (got {sen_raw!r})")
    for sid in sen_raw:
        if sid not in by_id:
            raise TwinConfigError(
                f"twin.sensors.{sid}: the component has no sensor {sid!r}; its sensors are "
                f"{sorted(by_id)}"
            )
    inputs_raw = sec.get("inputs", {})
    if not isinstance(inputs_raw, Mapping) or set(inputs_raw) - {"fluid_temperature", "pressure"}:
        raise TwinConfigError(
            f"twin.inputs: a table with fluid_temperature and pressure sensor ids "
            f"(got {inputs_raw!r})"
        )
    inputs: dict[str, str] = {}
    for inp, quantity in (("fluid_temperature", "temperature"), ("pressure", "pressure")):
        if inp in inputs_raw:
            sid = inputs_raw[inp]
            if sid not in by_id or by_id[sid].quantity != quantity:
                raise TwinConfigError(
                    f"twin.inputs.{inp}: {sid!r} is not a {quantity} sensor of the component"
                )
            inputs[inp] = sid
        else:
            cands = [s.id for s in catalogue if s.quantity == quantity and s.location == "fluid"]
            if not cands:
                raise TwinConfigError(
                    f"twin.inputs.{inp}: the component has no {quantity} sensor at location "
                    "'fluid'; the twin needs one as its input (name it in twin.inputs)"
                )
            inputs[inp] = cands[0]

    sensors: list[SensorModel] = []
    for s in catalogue:
        quantity = s.quantity
        if quantity not in DEFAULT_SENSOR:
            raise TwinConfigError(
                f"sensors: {s.id!r} measures {quantity!r}, which the twin cannot assimilate"
            )
        spec = DEFAULT_SENSOR[quantity]
        raw = dict(sen_raw.get(s.id, {}))
        noise_unit, noise_factor, noise_default = spec["noise"]
        where = f"twin.sensors.{s.id}"
        allowed = {f"noise_{noise_unit}"} | {
            f"{p}_{u}" for p, (u, _f, _d) in spec["params"].items()
        }
        bad = sorted(set(raw) - allowed)
        if bad:
            raise TwinConfigError(
                f"{where}: unknown keys {bad}; a {quantity} sensor takes {sorted(allowed)}"
            )
        noise = _number(raw, f"noise_{noise_unit}", where, noise_default) * noise_factor
        if noise <= 0:
            raise TwinConfigError(f"{where}.noise_{noise_unit}: must be > 0 (got {noise})")
        if s.id in inputs.values():
            role = "input"
        elif s.location == "fluid":
            role = "unused"
        else:
            role = "observation"
        location = s.location if s.location not in (None, "fluid") else s.id
        if quantity in ("wall_thickness",):
            location = "bore"
        sensors.append(
            SensorModel(
                s.id, quantity, str(location), noise, role, s.valid_min, s.valid_max, s.rate
            )
        )
        if role != "observation":
            continue
        for pname, (edge, factor, default) in spec["params"].items():
            key = f"{pname}_{edge}"
            prior = parse_prior(raw.get(key, default), f"{where}.{key}", factor)
            if prior.distribution != "normal":
                raise TwinConfigError(
                    f"{where}.{key}: must be a normal prior (got {prior.distribution!r}); a "
                    "sensor's offset and drift enter its readings linearly and are "
                    "marginalised analytically"
                )
            params.append(
                ParameterSpec(
                    f"{pname}.{s.id}",
                    _si_unit(edge),
                    edge,
                    factor,
                    prior,
                    f"{pname} of sensor {s.id}",
                )
            )
    surrogate = sec.get("surrogate")
    if surrogate is not None and not isinstance(surrogate, str):
        raise TwinConfigError(f"twin.surrogate: must be a path string (got {surrogate!r})")
    w_min = None
    if "minimum_wall_thickness_m" in sec:
        w_min = _number(sec, "minimum_wall_thickness_m", "twin", 0.0)
        if w_min <= 0:
            raise TwinConfigError(f"twin.minimum_wall_thickness_m: must be > 0 (got {w_min})")
    sc_raw = sec.get("scatter", {})
    sc_keys = {"fatigue_log10_life_std", "larson_miller_C_std"}
    if not isinstance(sc_raw, Mapping) or set(sc_raw) - sc_keys:
        raise TwinConfigError(f"twin.scatter: a table with keys {sorted(sc_keys)} (got {sc_raw!r})")
    scatter = {k: _number(sc_raw, k, "twin.scatter", 0.25) for k in sorted(sc_keys)}
    for k, v in scatter.items():
        if v < 0:
            raise TwinConfigError(f"twin.scatter.{k}: must be >= 0 (got {v})")
    return TwinSettings(
        particles=int(raw_particles),
        block=block,
        lateness=lateness,
        resample_ess_fraction=ess,
        liu_west_a=a,
        correlation_time=corr,
        property_temperature=tp,
        property_tolerance=tol,
        history_interval=hist,
        health_warmup=warm,
        damage_locations=tuple(locs),
        stress_concentration=scf,
        model_error=model_error,
        parameters=tuple(params),
        sensors=tuple(sensors),
        inputs=inputs,
        surrogate=surrogate,
        minimum_wall_thickness=w_min,
        fatigue_log10_std=scatter["fatigue_log10_life_std"],
        larson_miller_C_std=scatter["larson_miller_C_std"],
        quarantine_faulty=quarantine,
    )
