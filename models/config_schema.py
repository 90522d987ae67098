"""The raw schema of a component config file: pydantic models in the file's edge units.

These models mirror the TOML file (degC, MPa, hours, in key names that say so). They
reject unknown keys and wrong types; :func:`describe` turns pydantic's errors into lines
naming the dotted field, the rule, the value and the fix. :mod:`models.config` converts
a validated file into the SI objects callers get.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.units import ZERO_CELSIUS

__all__ = ["SCHEMA_VERSION", "ConfigFile", "describe"]

SCHEMA_VERSION = 1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Component(_Section):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    site: str = Field(default="site", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    material: str | None = Field(default=None, min_length=1)


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
                f"inner_radius_m={self.inner_radius_m}; give the larger radius as the outer one"
            )
        return self


class _Mesh(_Section):
    radial_cells: int = Field(default=40, ge=2, le=100_000)
    axial_cells: int = Field(default=2, ge=1, le=100_000)
    degree: int = Field(default=2, ge=1, le=4)


class _Thermal(_Section):
    bore: Literal["convective", "prescribed"] = "convective"
    bore_htc_W_m2K: float | None = Field(default=None, gt=0.0)
    outer: Literal["insulated", "convective", "prescribed"] = "insulated"
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
    outer_temperature_degC: list[float] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _arrays_or_file(self) -> _Loads:
        arrays = (self.time_h, self.fluid_temperature_degC, self.pressure_MPa)
        if self.file is not None:
            if any(a is not None for a in (*arrays, self.outer_temperature_degC)):
                raise ValueError(
                    "give either 'file' or the arrays time_h, fluid_temperature_degC, "
                    "pressure_MPa (and outer_temperature_degC), not both"
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
    analysis: Literal["transient", "steady"] = "transient"
    time_step_s: float = Field(default=36.0, gt=0.0)
    max_time_step_s: float | None = Field(default=None, gt=0.0)
    max_temperature_change_K: float = Field(default=1.0, gt=0.0)
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
    material: dict[str, Any] | None = None
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


#: The whole file (the public name of the top-level model).
ConfigFile = _Config


# How to supply a required field or section that is missing.
_MISSING_HINTS = {
    "component": "add a [component] section with name and material",
    "component.name": "give the component a name (letters, digits, _ . -)",
    "geometry": "add a [geometry] section with inner_radius_m and wall_thickness_m",
    "geometry.inner_radius_m": "give the bore radius in m",
    "thermal": "add a [thermal] section (bore_htc_W_m2K, outer, ...)",
    "loads": (
        "add a [loads] section with the arrays time_h, fluid_temperature_degC and "
        "pressure_MPa, or loads.file = 'history.csv' with those columns"
    ),
}


def describe(err: ValidationError) -> str:
    """Turn a pydantic error into lines naming the dotted field, the rule and the value.

    Parameters
    ----------
    err : pydantic.ValidationError
        The error of :meth:`ConfigFile.model_validate`.

    Returns
    -------
    str
        ``invalid component config:`` and one indented line per problem.
    """
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
            msg = f"{loc}: required, but missing; {_MISSING_HINTS.get(loc, 'add it')}"
        elif kind == "value_error":
            # a rule across fields (model validator): its message names the fields and
            # their values; the section it was given adds nothing
            text = str(e["msg"]).removeprefix("Value error, ")
            msg = f"{loc or 'config'}: {text}"
        else:
            shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
            msg = f"{loc or 'config'}: {e['msg']}{shown}"
        lines.append(msg)
    return "invalid component config:\n  " + "\n  ".join(lines)
