"""The parameter space of a component surrogate, read from the config's ``[surrogate]`` section.

A parameter is either a dotted config key in the file's edge units (for example
``thermal.bore_htc_W_m2K`` or ``geometry.wall_thickness_m``), applied with
:meth:`models.config.ComponentConfig.with_overrides`, or a load-shape parameter of the
standard start-up used for training (``loads.hold_temperature_degC``,
``loads.hold_pressure_MPa``, ``loads.ramp_rate_degC_per_h``), or a material scatter
factor (``material.E_factor``, ``material.alpha_mean_factor``, ``material.k_factor``)
that multiplies one property table of the config's material (Young's modulus, mean
thermal expansion, conductivity) at every temperature. The start-up ramps the
fluid temperature linearly from ``thermal.initial_temperature_degC`` to the hold
temperature at the ramp rate, the pressure linearly from the first pressure of the
base history to the hold pressure over the same time, then holds both for
``hold_h`` hours.

Example section::

    [surrogate]
    hold_h = 1.0
    [surrogate.parameters]
    "thermal.bore_htc_W_m2K" = [1000.0, 5000.0]
    "geometry.wall_thickness_m" = [0.035, 0.06]
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.units import HOUR, MPA, ZERO_CELSIUS
from surrogates.errors import ExtrapolationError, ParameterSpaceError

if TYPE_CHECKING:
    from models.config import ComponentConfig

__all__ = ["LOAD_PARAMETERS", "MATERIAL_FACTORS", "Parameter", "ParameterSpace"]

#: Load-shape parameters understood by :meth:`ParameterSpace.config_for` (edge units).
LOAD_PARAMETERS = (
    "loads.hold_pressure_MPa",
    "loads.hold_temperature_degC",
    "loads.ramp_rate_degC_per_h",
)
#: Material scatter factors understood by :meth:`ParameterSpace.material_for` (-).
MATERIAL_FACTORS = ("material.E_factor", "material.alpha_mean_factor", "material.k_factor")
# Config sections whose numeric keys may be varied.
_VARIABLE_SECTIONS = ("geometry", "thermal", "mechanical")
# Sections (or keys) that determine what the FEM computes, besides the varied keys.
_RELEVANT_SECTIONS = ("geometry", "mesh", "thermal", "mechanical", "loads", "solver")


@dataclass(frozen=True)
class Parameter:
    """One input of a surrogate.

    Attributes
    ----------
    name : str
        Dotted config key in edge units, or one of :data:`LOAD_PARAMETERS`.
    low, high : float
        Range in the unit named by the key's suffix (``low < high``).
    """

    name: str
    low: float
    high: float

    @property
    def is_load(self) -> bool:
        """Whether the parameter shapes the load history rather than overriding a key."""
        return self.name in LOAD_PARAMETERS


@dataclass(frozen=True)
class ParameterSpace:
    """A box of surrogate inputs plus the start-up shape the training runs use.

    Attributes
    ----------
    parameters : tuple of Parameter
        The inputs, in column order of every design matrix.
    hold_duration : float
        Duration of the hold after the ramp of the standard start-up, in s.
    """

    parameters: tuple[Parameter, ...]
    hold_duration: float = HOUR

    def __post_init__(self) -> None:
        if not self.parameters:
            raise ParameterSpaceError(
                "surrogate.parameters: needs at least one parameter (got none); "
                'add e.g. "thermal.bore_htc_W_m2K" = [1000.0, 5000.0]'
            )
        seen: set[str] = set()
        for p in self.parameters:
            if p.name in seen:
                raise ParameterSpaceError(
                    f"surrogate.parameters: {p.name!r} appears twice; keep one"
                )
            seen.add(p.name)
            if not (math.isfinite(p.low) and math.isfinite(p.high)) or not p.low < p.high:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{p.name}: range must be finite with low < high "
                    f"(got [{p.low}, {p.high}]); give [low, high]"
                )
            if p.name == "loads.ramp_rate_degC_per_h" and p.low <= 0.0:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{p.name}: ramp rate must be > 0 (got low={p.low})"
                )
            if p.name.startswith("material."):
                if p.name not in MATERIAL_FACTORS:
                    raise ParameterSpaceError(
                        f"surrogate.parameters.{p.name}: unknown material factor; "
                        f"use one of {', '.join(MATERIAL_FACTORS)}"
                    )
                if p.low <= 0.0:
                    raise ParameterSpaceError(
                        f"surrogate.parameters.{p.name}: a property factor must be > 0 "
                        f"(got low={p.low}); e.g. [0.9, 1.1] for +-10 % scatter"
                    )
                continue
            if p.name.startswith("loads.") and not p.is_load:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{p.name}: unknown load parameter; "
                    f"use one of {', '.join(LOAD_PARAMETERS)}"
                )
            if not p.is_load and p.name.split(".")[0] not in _VARIABLE_SECTIONS:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{p.name}: only keys of the sections "
                    f"{', '.join(_VARIABLE_SECTIONS)} or the load parameters "
                    f"{', '.join(LOAD_PARAMETERS)} can vary"
                )
        if not (math.isfinite(self.hold_duration) and self.hold_duration > 0.0):
            raise ParameterSpaceError(
                f"surrogate.hold_h: must be > 0 (got {self.hold_duration / HOUR} h)"
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> ParameterSpace:
        """Build the space from a ``[surrogate]`` section (a TOML-shaped mapping).

        Parameters
        ----------
        section : mapping
            Must hold ``parameters`` (mapping name -> ``[low, high]``); may hold
            ``hold_h`` (hours, default 1).

        Returns
        -------
        ParameterSpace
        """
        raw = section.get("parameters")
        if not isinstance(raw, Mapping) or not raw:
            raise ParameterSpaceError(
                f"surrogate.parameters: must be a table of name = [low, high] (got {raw!r}); "
                'e.g. "thermal.bore_htc_W_m2K" = [1000.0, 5000.0]'
            )
        params = []
        for name, rng in raw.items():
            if not isinstance(rng, Sequence) or isinstance(rng, str) or len(rng) != 2:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{name}: must be [low, high] (got {rng!r})"
                )
            try:
                low, high = float(rng[0]), float(rng[1])
            except (TypeError, ValueError) as err:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{name}: bounds must be numbers (got {rng!r})"
                ) from err
            params.append(Parameter(str(name), low, high))
        hold_h = section.get("hold_h", 1.0)
        if not isinstance(hold_h, int | float) or isinstance(hold_h, bool):
            raise ParameterSpaceError(
                f"surrogate.hold_h: must be a number of hours (got {hold_h!r})"
            )
        return cls(tuple(params), hold_duration=float(hold_h) * HOUR)

    @classmethod
    def from_config(cls, config: ComponentConfig) -> ParameterSpace:
        """Build the space from ``config.sections["surrogate"]`` and check its keys exist."""
        section = config.sections.get("surrogate")
        if not section:
            raise ParameterSpaceError(
                "surrogate: the component config has no [surrogate] section; "
                "add one with a [surrogate.parameters] table"
            )
        space = cls.from_section(section)
        raw = config.to_dict()
        for p in space.parameters:
            if p.is_load or p.name in MATERIAL_FACTORS:
                continue
            sec, _, key = p.name.partition(".")
            node = raw.get(sec, {})
            thickness_alias = key == "wall_thickness_m" and "outer_radius_m" in node
            if key not in node and not thickness_alias:
                raise ParameterSpaceError(
                    f"surrogate.parameters.{p.name}: no key {key!r} in section [{sec}] of the "
                    "component config; check the spelling and the unit suffix"
                )
        return space

    # ------------------------------------------------------------------ properties
    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in column order."""
        return tuple(p.name for p in self.parameters)

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.parameters)

    @property
    def bounds(self) -> NDArray[np.float64]:
        """Array ``(dim, 2)`` of ``[low, high]`` per parameter (edge units)."""
        return np.array([[p.low, p.high] for p in self.parameters], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Return the TOML-shaped section this space was read from (round-trips)."""
        return {
            "hold_h": self.hold_duration / HOUR,
            "parameters": {p.name: [p.low, p.high] for p in self.parameters},
        }

    # ------------------------------------------------------------------ arrays
    def modal(self, property_temperature: Sequence[float] | None = None) -> ParameterSpace:
        """Return the sub-space that changes the unit responses of the linearised model.

        Hold pressure and ramp rate only scale or shape the inputs of a linear model, so
        they drop out; the hold temperature stays (it sets the property temperature).

        Parameters
        ----------
        property_temperature : [low, high], optional
            Range of the property temperature (degC) of the mode campaign, from
            ``[surrogate.modes] property_temperature_degC``; replaces the hold
            temperature's range. The twin follows the metal temperature through
            start-ups, so its modes must cover the whole operating range, not only
            the hold.
        """
        keep = [
            p
            for p in self.parameters
            if p.name not in ("loads.hold_pressure_MPa", "loads.ramp_rate_degC_per_h")
        ]
        if property_temperature is not None:
            try:
                lo, hi = (float(v) for v in property_temperature)
            except (TypeError, ValueError) as err:
                raise ParameterSpaceError(
                    "surrogate.modes.property_temperature_degC: must be [low, high] "
                    f"(got {property_temperature!r})"
                ) from err
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                raise ParameterSpaceError(
                    "surrogate.modes.property_temperature_degC: needs finite low < high "
                    f"(got [{lo}, {hi}])"
                )
            name = "loads.hold_temperature_degC"
            keep = [p for p in keep if p.name != name] + [Parameter(name, lo, hi)]
        return ParameterSpace(tuple(keep), hold_duration=self.hold_duration)

    @classmethod
    def modal_from_config(cls, config: ComponentConfig) -> ParameterSpace:
        """Return the mode campaign's space of a config (:meth:`from_config`, :meth:`modal`)."""
        section = config.sections.get("surrogate") or {}
        modes = section.get("modes") or {}
        return cls.from_config(config).modal(modes.get("property_temperature_degC"))

    def as_array(self, X: ArrayLike, *, name: str = "X") -> NDArray[np.float64]:
        """Return ``X`` as a finite float64 array ``(n, dim)`` or raise naming ``name``."""
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim == 1 and arr.size == self.dim:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise ParameterSpaceError(
                f"{name}: expected shape (n, {self.dim}) with columns {list(self.names)} "
                f"(got shape {arr.shape})"
            )
        bad = ~np.isfinite(arr)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ParameterSpaceError(
                f"{name}[{i}, {self.names[j]}]: must be finite (got {arr[i, j]})"
            )
        return arr

    def inside(self, X: ArrayLike, *, rtol: float = 1e-9) -> NDArray[np.bool_]:
        """Mask ``(n,)`` of the rows that lie inside the box (with a relative tolerance)."""
        arr = self.as_array(X)
        b = self.bounds
        slack = rtol * (b[:, 1] - b[:, 0])
        return np.all((arr >= b[:, 0] - slack) & (arr <= b[:, 1] + slack), axis=1)

    def check(self, X: ArrayLike, *, name: str = "X") -> NDArray[np.float64]:
        """Return ``X`` as an array; :class:`ExtrapolationError` on the first row outside."""
        arr = self.as_array(X, name=name)
        ok = self.inside(arr)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            b = self.bounds
            j = int(np.flatnonzero((arr[i] < b[:, 0]) | (arr[i] > b[:, 1]))[0])
            raise ExtrapolationError(
                f"{name}[{i}, {self.names[j]}] = {arr[i, j]:g} lies outside the trained range "
                f"[{b[j, 0]:g}, {b[j, 1]:g}]; widen surrogate.parameters and retrain, or predict "
                "with extrapolation='flag' to get an explicit flag and inflated variance"
            )
        return arr

    def to_unit(self, X: ArrayLike) -> NDArray[np.float64]:
        """Map points to the unit cube ``[0, 1]^dim``."""
        b = self.bounds
        return (self.as_array(X) - b[:, 0]) / (b[:, 1] - b[:, 0])

    def from_unit(self, U: ArrayLike) -> NDArray[np.float64]:
        """Map unit-cube points back to parameter values."""
        b = self.bounds
        return b[:, 0] + np.asarray(U, dtype=np.float64) * (b[:, 1] - b[:, 0])

    def point(self, x: ArrayLike) -> dict[str, float]:
        """Return one row as ``{name: value}``."""
        row = self.as_array(x)[0]
        return {n: float(v) for n, v in zip(self.names, row, strict=True)}

    # ------------------------------------------------------------------ configs
    def config_for(self, config: ComponentConfig, point: Mapping[str, float]) -> ComponentConfig:
        """Return the component config of one parameter point.

        Parameters
        ----------
        config : ComponentConfig
            The base component.
        point : mapping
            ``{name: value}`` in edge units; every parameter of the space must be given.

        Returns
        -------
        ComponentConfig
            Re-validated; load parameters replace the load history by the standard start-up.
        """
        missing = [n for n in self.names if n not in point]
        if missing:
            raise ParameterSpaceError(
                f"point: missing parameters {missing}; give every one of {list(self.names)}"
            )
        overrides = {
            n: float(point[n]) for n in self.names if not n.startswith(("loads.", "material."))
        }
        cfg = config.with_overrides(overrides) if overrides else config
        if any(p.is_load for p in self.parameters):
            t, temp, pres = self.startup(cfg, point)
            cfg = cfg.with_loads(time=t, fluid_temperature=temp, pressure=pres)
        return cfg

    def material_for(self, config: ComponentConfig, point: Mapping[str, float]) -> Any:
        """Return the config's material with the point's scatter factors applied, or None.

        Returns
        -------
        models.materials.Material or None
            None when the space has no material factor (use the config's material).
        """
        factors = {n: float(point[n]) for n in self.names if n in MATERIAL_FACTORS}
        if not factors:
            return None
        base = config.material
        return base.scaled(
            **{n.removeprefix("material.").removesuffix("_factor"): v for n, v in factors.items()}
        )

    def startup(
        self, config: ComponentConfig, point: Mapping[str, float]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Return the standard start-up ``(time s, fluid temperature K, pressure Pa)`` of a point.

        Load parameters absent from the space take the base history's values: hold
        temperature and pressure its maxima, ramp rate its mean heating rate up to the
        first maximum.
        """
        loads = config.loads
        t0 = float(config.thermal.initial_temperature)
        p0 = float(loads.pressure[0])
        i_max = int(np.argmax(loads.fluid_temperature))
        t_hold = point.get("loads.hold_temperature_degC")
        t_hold_k = (
            float(loads.fluid_temperature.max()) if t_hold is None else float(t_hold) + ZERO_CELSIUS
        )
        p_hold = point.get("loads.hold_pressure_MPa")
        p_hold_pa = float(loads.pressure.max()) if p_hold is None else float(p_hold) * MPA
        rate = point.get("loads.ramp_rate_degC_per_h")
        if rate is None:
            span = float(loads.time[i_max] - loads.time[0])
            rate_k_s = (
                (float(loads.fluid_temperature[i_max]) - t0) / span if span > 0 else 1.0 / HOUR
            )
        else:
            rate_k_s = float(rate) / HOUR
        if t_hold_k <= t0 or rate_k_s <= 0.0:
            raise ParameterSpaceError(
                f"loads.hold_temperature_degC: {t_hold_k - ZERO_CELSIUS:.1f} degC must exceed "
                f"thermal.initial_temperature_degC = {t0 - ZERO_CELSIUS:.1f} degC for a start-up"
            )
        ramp = (t_hold_k - t0) / rate_k_s
        time = np.array([0.0, ramp, ramp + self.hold_duration])
        temperature = np.array([t0, t_hold_k, t_hold_k])
        pressure = np.array([p0, p_hold_pa, p_hold_pa])
        return time, temperature, pressure

    def relevant_hash(self, config: ComponentConfig) -> str:
        """SHA-256 of what a surrogate of this space depends on.

        It covers the material, the FEM-relevant sections without the varied keys (and
        without the loads when load parameters replace them) and the space itself, but
        not names, sites, sensors or other packages' sections.
        """
        raw = config.to_dict()
        content: dict[str, Any] = {"material": raw.get("component", {}).get("material")}
        varied = set(self.names)
        load_shaped = any(p.is_load for p in self.parameters)
        for sec in _RELEVANT_SECTIONS:
            if sec == "loads" and load_shaped:
                loads = raw.get("loads", {})
                content["loads"] = {"first_pressure_MPa": (loads.get("pressure_MPa") or [None])[0]}
                continue
            node = raw.get(sec, {})
            if isinstance(node, Mapping):
                node = {k: v for k, v in node.items() if f"{sec}.{k}" not in varied}
                if sec == "geometry" and "geometry.wall_thickness_m" in varied:
                    node.pop("outer_radius_m", None)
            content[sec] = node
        content["surrogate_space"] = self.to_dict()
        content["column_order"] = list(self.names)
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()
