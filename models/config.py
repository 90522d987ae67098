"""Component configuration: one TOML file in, one frozen, validated object out.

The TOML file speaks the units of the plant (degC, MPa, hours) in key names that
say so (``inner_radius_m``, ``pressure_MPa``); the loaded :class:`ComponentConfig`
holds SI only (m, K, Pa, s). Conversion happens here and nowhere else.

Validation happens once, before any solve: a nonphysical or incomplete config raises
:class:`models.errors.ConfigError` naming the field, the rule, the value received and
the fix. Unknown keys are errors too, so a key with the wrong unit suffix
(``inner_radius_mm``) is caught rather than ignored.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import pathlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.errors import ConfigError

__all__ = [
    "SCHEMA_VERSION",
    "ComponentConfig",
    "Location",
    "SensorRef",
    "load_config",
    "parse_config",
]

SCHEMA_VERSION = 1
ZERO_CELSIUS = 273.15  # K
_HOUR = 3600.0  # s
_MPA = 1.0e6  # Pa
_CRITICAL_LOCATIONS = ("bore", "mid_wall", "outer")
# Top-level sections owned by other packages; models/ keeps them as plain dicts.
_FOREIGN_SECTIONS = ("surrogate", "twin", "scenario", "service")


# --------------------------------------------------------------------------- raw schema
# These pydantic models mirror the TOML file (edge units). They are private: callers
# get the SI dataclasses below.


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Component(_Section):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    site: str = Field(default="site", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    material: str = Field(min_length=1)


class _Geometry(_Section):
    inner_radius_m: float = Field(gt=0.0)
    wall_thickness_m: float | None = Field(default=None, gt=0.0)
    outer_radius_m: float | None = Field(default=None, gt=0.0)
    length_m: float = Field(default=0.02, gt=0.0)

    @model_validator(mode="after")
    def _one_of_thickness_or_outer(self) -> _Geometry:
        if (self.wall_thickness_m is None) == (self.outer_radius_m is None):
            raise ValueError(
                "give exactly one of wall_thickness_m and outer_radius_m "
                f"(got wall_thickness_m={self.wall_thickness_m}, "
                f"outer_radius_m={self.outer_radius_m})"
            )
        if self.outer_radius_m is not None and self.outer_radius_m <= self.inner_radius_m:
            raise ValueError(
                f"outer_radius_m={self.outer_radius_m} must exceed "
                f"inner_radius_m={self.inner_radius_m}"
            )
        return self


class _Mesh(_Section):
    radial_cells: int = Field(default=40, ge=2, le=100_000)
    axial_cells: int = Field(default=2, ge=1, le=100_000)
    degree: int = Field(default=2, ge=1, le=4)


class _Thermal(_Section):
    bore_htc_W_m2K: float = Field(gt=0.0)
    outer: Literal["insulated", "convective"] = "insulated"
    outer_htc_W_m2K: float = Field(default=10.0, ge=0.0)
    ambient_temperature_degC: float = Field(default=20.0, gt=-ZERO_CELSIUS)
    initial_temperature_degC: float | None = Field(default=None, gt=-ZERO_CELSIUS)


class _Mechanical(_Section):
    end_condition: Literal["closed", "open", "plane_strain"] = "closed"
    reference_temperature_degC: float = Field(default=20.0, gt=-ZERO_CELSIUS)


class _Loads(_Section):
    time_h: list[float] | None = None
    fluid_temperature_degC: list[float] | None = None
    pressure_MPa: list[float] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _arrays_or_file(self) -> _Loads:
        arrays = (self.time_h, self.fluid_temperature_degC, self.pressure_MPa)
        if self.file is not None:
            if any(a is not None for a in arrays):
                raise ValueError(
                    "give either 'file' or the arrays time_h, fluid_temperature_degC, "
                    "pressure_MPa, not both"
                )
            return self
        missing = [
            n
            for n, a in zip(
                ("time_h", "fluid_temperature_degC", "pressure_MPa"), arrays, strict=True
            )
            if a is None
        ]
        if missing:
            raise ValueError(
                f"missing load history {', '.join(missing)} (or give file = 'history.csv')"
            )
        return self


class _Solver(_Section):
    time_step_s: float = Field(default=36.0, gt=0.0)
    petsc_options: dict[str, str | int | float | bool] = Field(default_factory=dict)


class _ExtraLocation(_Section):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    radius_m: float = Field(gt=0.0)


class _Output(_Section):
    field_times_h: list[float] = Field(default_factory=list)
    extra_locations: list[_ExtraLocation] = Field(default_factory=list)


class _SensorRef(BaseModel):
    # sensors/ owns the full sensor schema; models/ reads only where a sensor sits.
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    quantity: str = Field(min_length=1)
    location: str | None = None
    radius_m: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _one_position(self) -> _SensorRef:
        if (self.location is None) == (self.radius_m is None):
            raise ValueError(f"sensor {self.id!r}: give exactly one of location and radius_m")
        return self


class _Config(_Section):
    schema_version: int = SCHEMA_VERSION
    component: _Component
    geometry: _Geometry
    mesh: _Mesh = Field(default_factory=_Mesh)
    thermal: _Thermal
    mechanical: _Mechanical = Field(default_factory=_Mechanical)
    loads: _Loads
    solver: _Solver = Field(default_factory=_Solver)
    output: _Output = Field(default_factory=_Output)
    sensors: list[_SensorRef] = Field(default_factory=list)
    surrogate: dict[str, Any] | None = None
    twin: dict[str, Any] | None = None
    scenario: dict[str, Any] | None = None
    service: dict[str, Any] | None = None

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {v}; this version reads {SCHEMA_VERSION}")
        return v


# --------------------------------------------------------------------------- SI objects


@dataclass(frozen=True)
class Location:
    """A named point of interest through the wall.

    Attributes
    ----------
    name : str
        ``bore``, ``mid_wall``, ``outer``, an extra location or a sensor id.
    radius : float
        Radial position, m.
    """

    name: str
    radius: float


@dataclass(frozen=True)
class SensorRef:
    """Where a sensor declared in the config sits (models/ reads nothing else of it).

    Attributes
    ----------
    id : str
        Sensor id.
    quantity : str
        Measured quantity (``temperature``, ``pressure``, ``strain``, ...).
    location : str or None
        Named location (``bore``, ``mid_wall``, ``outer``, ``fluid``), if given.
    radius : float or None
        Radial position, m (from ``radius_m`` or the named wall location).
    """

    id: str
    quantity: str
    location: str | None
    radius: float | None


@dataclass(frozen=True)
class Component:
    """Identity of the component: ``name``, ``site`` and ``material`` name."""

    name: str
    site: str
    material: str


@dataclass(frozen=True)
class Geometry:
    """Axisymmetric thick-walled cylinder; all lengths in m."""

    inner_radius: float
    outer_radius: float
    length: float

    @property
    def wall_thickness(self) -> float:
        """Wall thickness ``outer_radius - inner_radius``, m."""
        return self.outer_radius - self.inner_radius


@dataclass(frozen=True)
class Mesh:
    """Structured r-z mesh resolution and Lagrange element degree."""

    radial_cells: int
    axial_cells: int
    degree: int


@dataclass(frozen=True)
class Thermal:
    """Thermal boundary conditions (SI).

    Attributes
    ----------
    bore_htc : float
        Heat-transfer coefficient fluid-to-bore, W/(m^2 K).
    outer : {"insulated", "convective"}
        Outer-surface condition.
    outer_htc : float
        Outer heat-transfer coefficient, W/(m^2 K) (used when convective).
    ambient_temperature : float
        Ambient temperature outside, K.
    initial_temperature : float
        Uniform wall temperature at t = 0, K.
    """

    bore_htc: float
    outer: Literal["insulated", "convective"]
    outer_htc: float
    ambient_temperature: float
    initial_temperature: float


@dataclass(frozen=True)
class Mechanical:
    """Axial end condition and stress-free reference temperature (K)."""

    end_condition: Literal["closed", "open", "plane_strain"]
    reference_temperature: float


@dataclass(frozen=True, eq=False)
class LoadHistory:
    """Piecewise-linear load history (SI).

    Attributes
    ----------
    time : ndarray, shape (n,)
        Strictly increasing times from 0, s.
    fluid_temperature : ndarray, shape (n,)
        Fluid (steam) temperature at the bore, K.
    pressure : ndarray, shape (n,)
        Internal pressure, Pa.
    """

    time: NDArray[np.float64]
    fluid_temperature: NDArray[np.float64]
    pressure: NDArray[np.float64]

    @property
    def duration(self) -> float:
        """Length of the history, s."""
        return float(self.time[-1] - self.time[0])

    def fluid_temperature_at(self, t: ArrayLike) -> NDArray[np.float64]:
        """Return the fluid temperature at time(s) ``t`` (s), K, by linear interpolation."""
        return np.asarray(
            np.interp(np.asarray(t, dtype=float), self.time, self.fluid_temperature), dtype=float
        )

    def pressure_at(self, t: ArrayLike) -> NDArray[np.float64]:
        """Return the internal pressure at time(s) ``t`` (s), Pa, by linear interpolation."""
        return np.asarray(
            np.interp(np.asarray(t, dtype=float), self.time, self.pressure), dtype=float
        )


@dataclass(frozen=True)
class Solver:
    """Time step (s) and PETSc options passed through to the solvers."""

    time_step: float
    petsc_options: Mapping[str, str | int | float | bool]


@dataclass(frozen=True)
class Output:
    """Times (s) at which full radial fields are stored."""

    field_times: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class ComponentConfig:
    """A validated component configuration in SI units.

    Build it with :func:`load_config` or :func:`parse_config`, never by hand.
    """

    component: Component
    geometry: Geometry
    mesh: Mesh
    thermal: Thermal
    mechanical: Mechanical
    loads: LoadHistory
    solver: Solver
    output: Output
    locations: tuple[Location, ...]
    sensors: tuple[SensorRef, ...]
    sections: Mapping[str, Any]
    _raw: Mapping[str, Any] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the TOML-shaped content in edge units (loads inlined as arrays)."""
        return copy.deepcopy(dict(self._raw))

    @property
    def config_hash(self) -> str:
        """SHA-256 of the canonical content (hex): provenance of derived datasets."""
        canonical = json.dumps(self._raw, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_overrides(self, overrides: Mapping[str, Any]) -> ComponentConfig:
        """Return a new validated config with dotted TOML keys replaced.

        Parameters
        ----------
        overrides : mapping
            ``{"thermal.bore_htc_W_m2K": 3000.0, "geometry.wall_thickness_m": 0.045}``;
            keys and values in the file's edge units.

        Returns
        -------
        ComponentConfig
        """
        raw = self.to_dict()
        for key, value in overrides.items():
            parts = key.split(".")
            node: Any = raw
            for part in parts[:-1]:
                if not isinstance(node, dict) or part not in node:
                    raise ConfigError(f"override {key!r}: no section {part!r} in the config")
                node = node[part]
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {'.'.join(parts[:-1])!r} is not a section")
            if parts[-1] == "wall_thickness_m":
                node.pop("outer_radius_m", None)
            if parts[-1] == "outer_radius_m":
                node.pop("wall_thickness_m", None)
            node[parts[-1]] = value
        return parse_config(raw)

    def with_loads(
        self, *, time: ArrayLike, fluid_temperature: ArrayLike, pressure: ArrayLike
    ) -> ComponentConfig:
        """Return a new validated config with another load history (SI arrays: s, K, Pa)."""
        raw = self.to_dict()
        raw["loads"] = {
            "time_h": (np.asarray(time, dtype=float) / _HOUR).tolist(),
            "fluid_temperature_degC": (
                np.asarray(fluid_temperature, dtype=float) - ZERO_CELSIUS
            ).tolist(),
            "pressure_MPa": (np.asarray(pressure, dtype=float) / _MPA).tolist(),
        }
        raw["output"] = {k: v for k, v in raw.get("output", {}).items() if k != "field_times_h"}
        return parse_config(raw)


# --------------------------------------------------------------------------- loading


def load_config(path: str | pathlib.Path) -> ComponentConfig:
    """Read and validate a component config TOML file.

    A ``loads.file`` CSV (columns ``time_h, fluid_temperature_degC, pressure_MPa``)
    is resolved relative to the config file's folder.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.

    Returns
    -------
    ComponentConfig

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or any field is invalid.
    """
    path = pathlib.Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read config file {str(path)!r}: {err.strerror}") from err
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from err
    return parse_config(raw, base_dir=path.parent)


def parse_config(
    raw: Mapping[str, Any], *, base_dir: str | pathlib.Path | None = None
) -> ComponentConfig:
    """Validate a TOML-shaped mapping (edge units) and convert it to SI.

    Parameters
    ----------
    raw : mapping
        Content of a config file.
    base_dir : path, optional
        Folder against which a relative ``loads.file`` is resolved.

    Returns
    -------
    ComponentConfig
    """
    content: dict[str, Any] = copy.deepcopy(dict(raw))
    try:
        cfg = _Config.model_validate(content)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from err

    loads_raw = cfg.loads
    if loads_raw.file is not None:
        t_h, tf_c, p_mpa = _read_load_file(loads_raw.file, base_dir)
        content["loads"] = {"time_h": t_h, "fluid_temperature_degC": tf_c, "pressure_MPa": p_mpa}
    else:
        # _Loads validation guarantees all three arrays are present here.
        t_h = list(loads_raw.time_h or [])
        tf_c = list(loads_raw.fluid_temperature_degC or [])
        p_mpa = list(loads_raw.pressure_MPa or [])
    loads = _check_loads(t_h, tf_c, p_mpa)

    g = cfg.geometry
    outer = (
        g.outer_radius_m
        if g.outer_radius_m is not None
        else g.inner_radius_m + float(g.wall_thickness_m or 0.0)
    )
    geometry = Geometry(inner_radius=g.inner_radius_m, outer_radius=outer, length=g.length_m)

    th = cfg.thermal
    t0_c = th.initial_temperature_degC if th.initial_temperature_degC is not None else tf_c[0]
    thermal = Thermal(
        bore_htc=th.bore_htc_W_m2K,
        outer=th.outer,
        outer_htc=th.outer_htc_W_m2K,
        ambient_temperature=th.ambient_temperature_degC + ZERO_CELSIUS,
        initial_temperature=t0_c + ZERO_CELSIUS,
    )
    if th.outer == "convective" and th.outer_htc_W_m2K <= 0.0:
        raise ConfigError(
            "thermal.outer_htc_W_m2K: must be > 0 when thermal.outer = 'convective' "
            f"(got {th.outer_htc_W_m2K}); "
            "set a positive coefficient or outer = 'insulated'"
        )

    field_times = tuple(float(t) * _HOUR for t in cfg.output.field_times_h)
    for i, t in enumerate(field_times):
        if not 0.0 <= t <= loads.duration:
            raise ConfigError(
                f"output.field_times_h[{i}]: {t / _HOUR} h lies outside the load history "
                f"[0, {loads.duration / _HOUR}] h; pick a time inside it"
            )

    if cfg.solver.time_step_s > loads.duration:
        raise ConfigError(
            f"solver.time_step_s: {cfg.solver.time_step_s} s is longer than the load history "
            f"({loads.duration} s); use a smaller step"
        )

    named = {
        "bore": geometry.inner_radius,
        "mid_wall": 0.5 * (geometry.inner_radius + outer),
        "outer": outer,
    }
    locations = [Location(n, named[n]) for n in _CRITICAL_LOCATIONS]
    for i, extra in enumerate(cfg.output.extra_locations):
        _check_radius(f"output.extra_locations[{i}].radius_m", extra.radius_m, geometry)
        locations.append(Location(extra.name, extra.radius_m))

    sensors = []
    for i, s in enumerate(cfg.sensors):
        if s.location is not None and s.location not in (*named, "fluid"):
            raise ConfigError(
                f"sensors[{i}].location: unknown location {s.location!r} for sensor {s.id!r}; "
                f"use one of {', '.join((*named, 'fluid'))} or give radius_m"
            )
        radius = s.radius_m if s.radius_m is not None else named.get(str(s.location))
        if s.radius_m is not None:
            _check_radius(f"sensors[{i}].radius_m", s.radius_m, geometry)
        sensors.append(SensorRef(id=s.id, quantity=s.quantity, location=s.location, radius=radius))
        if radius is not None and s.quantity not in ("pressure",):
            locations.append(Location(s.id, radius))
    names = [loc.name for loc in locations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"location names must be unique; repeated: {', '.join(dupes)} "
            "(rename the sensor or extra location)"
        )

    _check_material(cfg.component.material, loads, thermal)

    return ComponentConfig(
        component=Component(
            name=cfg.component.name,
            site=cfg.component.site,
            material=cfg.component.material.lower(),
        ),
        geometry=geometry,
        mesh=Mesh(
            radial_cells=cfg.mesh.radial_cells,
            axial_cells=cfg.mesh.axial_cells,
            degree=cfg.mesh.degree,
        ),
        thermal=thermal,
        mechanical=Mechanical(
            end_condition=cfg.mechanical.end_condition,
            reference_temperature=cfg.mechanical.reference_temperature_degC + ZERO_CELSIUS,
        ),
        loads=loads,
        solver=Solver(
            time_step=cfg.solver.time_step_s, petsc_options=dict(cfg.solver.petsc_options)
        ),
        output=Output(field_times=field_times),
        locations=tuple(locations),
        sensors=tuple(sensors),
        sections={k: v for k in _FOREIGN_SECTIONS if (v := getattr(cfg, k)) is not None},
        _raw=content,
    )


def _check_radius(name: str, radius: float, geometry: Geometry) -> None:
    if not geometry.inner_radius <= radius <= geometry.outer_radius:
        raise ConfigError(
            f"{name}: {radius} m lies outside the wall "
            f"[{geometry.inner_radius}, {geometry.outer_radius}] m"
        )


def _check_loads(t_h: list[float], tf_c: list[float], p_mpa: list[float]) -> LoadHistory:
    lengths = {
        "loads.time_h": len(t_h),
        "loads.fluid_temperature_degC": len(tf_c),
        "loads.pressure_MPa": len(p_mpa),
    }
    if len(set(lengths.values())) != 1:
        raise ConfigError(f"load history arrays must have equal lengths; got {lengths}")
    if len(t_h) < 2:
        raise ConfigError(f"loads.time_h: need at least 2 points, got {len(t_h)}")
    t = np.asarray(t_h, dtype=float) * _HOUR
    tf = np.asarray(tf_c, dtype=float) + ZERO_CELSIUS
    p = np.asarray(p_mpa, dtype=float) * _MPA
    for name, arr, edge in (
        ("loads.time_h", t, t_h),
        ("loads.fluid_temperature_degC", tf, tf_c),
        ("loads.pressure_MPa", p, p_mpa),
    ):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ConfigError(f"{name}[{bad[0]}]: value {edge[bad[0]]} is not finite")
    if t[0] != 0.0:
        raise ConfigError(f"loads.time_h[0]: the history must start at 0 h, got {t_h[0]}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise ConfigError(
            f"loads.time_h[{i}]: times must increase strictly, got {t_h[i - 1]} then {t_h[i]}"
        )
    if np.any(tf <= 0):
        i = int(np.flatnonzero(tf <= 0)[0])
        raise ConfigError(
            f"loads.fluid_temperature_degC[{i}]: {tf_c[i]} degC is below absolute zero"
        )
    if np.any(p < 0):
        i = int(np.flatnonzero(p < 0)[0])
        raise ConfigError(
            f"loads.pressure_MPa[{i}]: {p_mpa[i]} MPa is negative; give gauge pressure >= 0 in MPa"
        )
    return LoadHistory(time=t, fluid_temperature=tf, pressure=p)


def _read_load_file(
    name: str, base_dir: str | pathlib.Path | None
) -> tuple[list[float], list[float], list[float]]:
    path = pathlib.Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = pathlib.Path(base_dir) / path
    columns = ("time_h", "fluid_temperature_degC", "pressure_MPa")
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise ConfigError(
                    f"loads.file {name!r}: missing column(s) {', '.join(missing)}; "
                    f"found {', '.join(header) or 'none'} (units belong in the column names)"
                )
            rows = list(reader)
    except OSError as err:
        raise ConfigError(f"loads.file: cannot read {name!r}: {err.strerror}") from err
    out: list[list[float]] = [[], [], []]
    for line, row in enumerate(rows, start=2):
        for j, c in enumerate(columns):
            try:
                out[j].append(float(row[c]))
            except (TypeError, ValueError) as err:
                raise ConfigError(
                    f"loads.file {name!r} line {line}, column {c}: {row[c]!r} is not a number"
                ) from err
    return out[0], out[1], out[2]


def _check_material(name: str, loads: LoadHistory, thermal: Thermal) -> None:
    """Fail early when the material is unknown or the loads leave its tabulated range."""
    from models.errors import UnknownMaterialError
    from models.materials import get_material

    try:
        material = get_material(name)
    except UnknownMaterialError as err:
        raise ConfigError(f"component.material: {err}") from err
    t_min, t_max = material.temperature_range
    temps = {
        "loads.fluid_temperature_degC": loads.fluid_temperature,
        "thermal.initial_temperature_degC": np.array([thermal.initial_temperature]),
    }
    for field_name, values in temps.items():
        lo, hi = float(values.min()), float(values.max())
        if lo < t_min or hi > t_max:
            bad = lo if lo < t_min else hi
            raise ConfigError(
                f"{field_name}: {bad - ZERO_CELSIUS:.1f} degC lies outside the data of "
                f"material {name!r} "
                f"({t_min - ZERO_CELSIUS:.0f} to {t_max - ZERO_CELSIUS:.0f} degC); "
                "keep the loads inside the tabulated range or choose another material"
            )


def _describe(err: ValidationError) -> str:
    """Turn a pydantic error into lines naming the dotted field, the rule and the value."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e["loc"]).replace(
            ".[", "["
        )
        kind = e["type"]
        value = e.get("input")
        if kind == "extra_forbidden":
            msg = (
                f"{loc}: unknown field (value {value!r}); check the spelling and the unit "
                "suffix, e.g. _m, _degC, _MPa, _h"
            )
        elif kind == "missing":
            msg = f"{loc}: required field is missing"
        else:
            shown = value if not isinstance(value, dict) else "{...}"
            msg = f"{loc or 'config'}: {e['msg']} (got {shown!r})"
        lines.append(msg)
    return "invalid component config:\n  " + "\n  ".join(lines)
