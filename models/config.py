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
import hashlib
import json
import pathlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import ValidationError

from models.component_material import check_temperatures, resolve_material
from models.config_schema import SCHEMA_VERSION, ConfigFile, _Thermal, describe
from models.errors import ConfigError
from models.loads import LoadHistory, check_loads, read_load_file
from models.materials import Material
from models.units import HOUR, MPA, ZERO_CELSIUS

__all__ = [
    "SCHEMA_VERSION",
    "ComponentConfig",
    "LoadHistory",
    "Location",
    "SensorRef",
    "check_temperatures",
    "load_config",
    "parse_config",
]

_CRITICAL_LOCATIONS = ("bore", "mid_wall", "outer")
# Top-level sections owned by other packages; models/ keeps them as plain dicts.
_FOREIGN_SECTIONS = ("surrogate", "twin", "scenario", "service")


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
    """Identity of the component: ``name``, ``site`` and ``material`` name.

    ``material`` is the canonical name of the material solved: a shipped material
    (aliases resolved, ``"P91"`` -> ``"grade91"``) or the ``name`` of a user material.
    """

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
    bore_htc : float or None
        Heat-transfer coefficient fluid-to-bore, W/(m^2 K); ``None`` when the bore
        temperature is prescribed.
    outer : {"insulated", "convective", "prescribed"}
        Outer-surface condition (``prescribed``: the outer temperature history of
        the loads).
    outer_htc : float
        Outer heat-transfer coefficient, W/(m^2 K) (used when convective).
    ambient_temperature : float
        Ambient temperature outside, K.
    initial_temperature : float
        Uniform wall temperature at t = 0, K.
    """

    bore_htc: float | None
    outer: Literal["insulated", "convective", "prescribed"]
    outer_htc: float
    ambient_temperature: float
    initial_temperature: float
    bore: Literal["convective", "prescribed"] = "convective"


@dataclass(frozen=True)
class Mechanical:
    """Axial end condition and stress-free reference temperature (K)."""

    end_condition: Literal["closed", "open", "plane_strain"]
    reference_temperature: float


@dataclass(frozen=True)
class Solver:
    """Time stepping and PETSc options passed through to the solvers.

    Attributes
    ----------
    time_step : float
        The step of a uniform grid; with adaptive stepping the first and smallest step, s.
    analysis : {"transient", "steady"}
        ``steady``: a steady state at each point of the load history (and field time).
    petsc_options : mapping
        Passed to PETSc with a per-solver prefix.
    max_time_step : float or None
        Largest adaptive step, s; ``None``: a uniform grid of ``time_step``.
    max_temperature_change : float
        Tolerance of the adaptive step: target largest nodal temperature change per
        step, K (see :mod:`models.stepping`).
    """

    time_step: float
    petsc_options: Mapping[str, str | int | float | bool]
    max_time_step: float | None = None
    max_temperature_change: float = 1.0
    analysis: Literal["transient", "steady"] = "transient"

    @property
    def adaptive(self) -> bool:
        """Whether the step adapts to the temperature change (``max_time_step`` given)."""
        return self.max_time_step is not None


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
    material: Material = field(repr=False)
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
        self,
        *,
        time: ArrayLike,
        fluid_temperature: ArrayLike,
        pressure: ArrayLike,
        outer_temperature: ArrayLike | None = None,
    ) -> ComponentConfig:
        """Return a new validated config with another load history (SI arrays: s, K, Pa).

        ``outer_temperature`` (K) is the prescribed outer-surface temperature, required
        when the config's outer surface is prescribed.
        """
        raw = self.to_dict()
        raw["loads"] = {
            "time_h": (np.asarray(time, dtype=float) / HOUR).tolist(),
            "fluid_temperature_degC": (
                np.asarray(fluid_temperature, dtype=float) - ZERO_CELSIUS
            ).tolist(),
            "pressure_MPa": (np.asarray(pressure, dtype=float) / MPA).tolist(),
        }
        if outer_temperature is not None:
            raw["loads"]["outer_temperature_degC"] = (
                np.asarray(outer_temperature, dtype=float) - ZERO_CELSIUS
            ).tolist()
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
        cfg = ConfigFile.model_validate(content)
    except ValidationError as err:
        raise ConfigError(describe(err)) from err

    loads_raw = cfg.loads
    if loads_raw.file is not None:
        t_h, tf_c, p_mpa, to_c = read_load_file(loads_raw.file, base_dir)
        content["loads"] = {"time_h": t_h, "fluid_temperature_degC": tf_c, "pressure_MPa": p_mpa}
        if to_c is not None:
            content["loads"]["outer_temperature_degC"] = to_c
    else:
        # _Loads validation guarantees all three arrays are present here.
        t_h = list(loads_raw.time_h or [])
        tf_c = list(loads_raw.fluid_temperature_degC or [])
        p_mpa = list(loads_raw.pressure_MPa or [])
        to_c = None if loads_raw.outer_temperature_degC is None else list(
            loads_raw.outer_temperature_degC
        )
    loads = check_loads(t_h, tf_c, p_mpa, to_c)

    g = cfg.geometry
    outer = (
        g.outer_radius_m
        if g.outer_radius_m is not None
        else g.inner_radius_m + float(g.wall_thickness_m or 0.0)
    )
    geometry = Geometry(inner_radius=g.inner_radius_m, outer_radius=outer, length=g.length_m)

    th = cfg.thermal
    _check_surface_conditions(th, loads)
    t0_c = th.initial_temperature_degC if th.initial_temperature_degC is not None else tf_c[0]
    thermal = Thermal(
        bore_htc=th.bore_htc_W_m2K,
        outer=th.outer,
        outer_htc=th.outer_htc_W_m2K,
        ambient_temperature=th.ambient_temperature_degC + ZERO_CELSIUS,
        initial_temperature=t0_c + ZERO_CELSIUS,
        bore=th.bore,
    )
    if th.outer == "convective" and th.outer_htc_W_m2K <= 0.0:
        raise ConfigError(
            "thermal.outer_htc_W_m2K: must be > 0 when thermal.outer = 'convective' "
            f"(got {th.outer_htc_W_m2K}); "
            "set a positive coefficient or outer = 'insulated'"
        )

    field_times = tuple(float(t) * HOUR for t in cfg.output.field_times_h)
    for i, t in enumerate(field_times):
        if not 0.0 <= t <= loads.duration:
            raise ConfigError(
                f"output.field_times_h[{i}]: {t / HOUR} h lies outside the load history "
                f"[0, {loads.duration / HOUR}] h; pick a time inside it"
            )

    if cfg.solver.time_step_s > loads.duration:
        raise ConfigError(
            f"solver.time_step_s: {cfg.solver.time_step_s} s is longer than the load history "
            f"({loads.duration} s); use a smaller step"
        )
    max_step = cfg.solver.max_time_step_s
    if max_step is not None and max_step < cfg.solver.time_step_s:
        raise ConfigError(
            f"solver.max_time_step_s: {max_step} s is shorter than solver.time_step_s "
            f"({cfg.solver.time_step_s} s); the adaptive step grows from time_step_s up to "
            "max_time_step_s, so give max_time_step_s >= time_step_s"
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

    material = resolve_material(cfg, content, base_dir)
    check_temperatures(loads, thermal, material)

    return ComponentConfig(
        component=Component(
            name=cfg.component.name,
            site=cfg.component.site,
            material=material.name,
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
            time_step=cfg.solver.time_step_s,
            petsc_options=dict(cfg.solver.petsc_options),
            max_time_step=max_step,
            max_temperature_change=cfg.solver.max_temperature_change_K,
            analysis=cfg.solver.analysis,
        ),
        output=Output(field_times=field_times),
        locations=tuple(locations),
        sensors=tuple(sensors),
        sections={k: v for k in _FOREIGN_SECTIONS if (v := getattr(cfg, k)) is not None},
        material=material,
        _raw=content,
    )


def _check_radius(name: str, radius: float, geometry: Geometry) -> None:
    if not geometry.inner_radius <= radius <= geometry.outer_radius:
        raise ConfigError(
            f"{name}: {radius} m lies outside the wall "
            f"[{geometry.inner_radius}, {geometry.outer_radius}] m"
        )


def _check_surface_conditions(th: _Thermal, loads: LoadHistory) -> None:
    """Check that each surface condition has the data it needs, and no other."""
    if th.bore == "convective" and th.bore_htc_W_m2K is None:
        raise ConfigError(
            "thermal.bore_htc_W_m2K: required with thermal.bore = 'convective' (the default); "
            "give the coefficient, or thermal.bore = 'prescribed' for a bore at the fluid "
            "temperature"
        )
    if th.bore == "prescribed" and th.bore_htc_W_m2K is not None:
        raise ConfigError(
            f"thermal.bore_htc_W_m2K: not used with thermal.bore = 'prescribed' (got "
            f"{th.bore_htc_W_m2K}); the bore takes loads.fluid_temperature_degC, so remove "
            "the coefficient or set thermal.bore = 'convective'"
        )
    if th.outer == "prescribed" and loads.outer_temperature is None:
        raise ConfigError(
            "loads.outer_temperature_degC: required with thermal.outer = 'prescribed'; give "
            "the outer-surface temperature history (or a column outer_temperature_degC in "
            "loads.file)"
        )
    if th.outer != "prescribed" and loads.outer_temperature is not None:
        raise ConfigError(
            f"loads.outer_temperature_degC: only used with thermal.outer = 'prescribed' (got "
            f"thermal.outer = {th.outer!r}); remove it or prescribe the outer surface"
        )
