"""Settings of the damage account (:class:`twin.damage.DamageSettings`), validated once.

Every field has a documented default except the material, the locations and their
stress concentration factors, which come from the ``[twin]`` section of the config.
Invalid values raise :class:`~twin.errors.TwinConfigError` naming the field, the rule
and the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from twin.errors import TwinConfigError

__all__ = ["DamageSettings"]

_LOCATION_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True, kw_only=True)
class DamageSettings:
    """What the damage account needs from the config (validated at construction).

    Attributes
    ----------
    material : str
        Material name with life-law data (``"grade91"``).
    locations : tuple of str
        Damage locations, e.g. ``("bore", "outer")``.
    stress_concentration : mapping of str to float
        Stress concentration factor (>= 1) per location; every location needs one.
    oxidation_location : str or None, optional
        Location whose metal temperature grows the steam-side oxide (``"bore"``);
        ``None`` accounts no oxidation (wall loss stays 0).
    creep_stress_factor : float, optional
        :math:`K'` of HBB-T-1411: the rupture time is taken at creep stress / K'.
        Default 1.0 (best estimate); 0.9 as we read the Code's elastic route.
    creep_cutoff_temperature : float or None, optional
        Metal temperature (K) below which no creep damage is counted. Default: the
        rupture curve's lowest calibrated temperature. Lower values need
        ``extrapolate=True``.
    creep_below_range : {"limit", "zero"}, optional
        Creep stresses below the rupture curve's calibrated minimum: rupture time at
        the minimum (default, conservative) or no damage.
    fatigue_below_range : {"endurance", "limit"}, optional
        Strain amplitudes below the strain-life law's calibrated minimum: no damage
        (default) or the life at the minimum.
    oxidation_cutoff_temperature : float or None, optional
        Metal temperature (K) below which no oxide grows. Default: the lowest
        calibrated temperature of the oxidation constants.
    initial_oxide_thickness : float, optional
        Oxide on the bore when the account starts (m), default 0.
    extrapolate : bool, optional
        Use the laws above their calibrated ranges (creep stress and temperature,
        strain amplitude, oxidation temperature) instead of raising. Default False.
    """

    material: str
    locations: tuple[str, ...]
    stress_concentration: Mapping[str, float]
    oxidation_location: str | None = "bore"
    creep_stress_factor: float = 1.0
    creep_cutoff_temperature: float | None = None
    creep_below_range: Literal["limit", "zero"] = "limit"
    fatigue_below_range: Literal["endurance", "limit"] = "endurance"
    oxidation_cutoff_temperature: float | None = None
    initial_oxide_thickness: float = 0.0
    extrapolate: bool = False
    _resolved: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from models.errors import UnknownMaterialError
        from models.life import creep_fatigue_envelope, larson_miller, oxidation_law, strain_life
        from models.materials import get_material

        if not isinstance(self.material, str) or not self.material:
            raise TwinConfigError(
                f"damage.material: must be a material name; got {self.material!r}."
            )
        locs = self.locations
        if isinstance(locs, str) or not isinstance(locs, tuple | list) or not locs:
            raise TwinConfigError(
                f"damage.locations: must be a non-empty sequence of names; got {locs!r}."
            )
        locs = tuple(locs)
        for loc in locs:
            if not isinstance(loc, str) or not loc or not set(loc) <= _LOCATION_CHARS:
                raise TwinConfigError(
                    f"damage.locations: {loc!r} is not a location name (letters, digits, "
                    "'_' and '-')."
                )
        if len(set(locs)) != len(locs):
            raise TwinConfigError(f"damage.locations: names must be unique; got {list(locs)}.")
        object.__setattr__(self, "locations", locs)
        scf_in = self.stress_concentration
        if not isinstance(scf_in, Mapping):
            raise TwinConfigError(
                f"damage.stress_concentration: must map location to factor; got {scf_in!r}."
            )
        extra = sorted(set(scf_in) - set(locs))
        missing = [loc for loc in locs if loc not in scf_in]
        if extra or missing:
            raise TwinConfigError(
                f"damage.stress_concentration: needs exactly the locations {list(locs)}; "
                f"unknown {extra}, missing {missing}."
            )
        scf: dict[str, float] = {}
        for loc in locs:
            v = _number(f"damage.stress_concentration.{loc}", scf_in[loc])
            if v < 1.0:
                raise TwinConfigError(
                    f"damage.stress_concentration.{loc}: must be >= 1; got {v!r}."
                )
            scf[loc] = v
        object.__setattr__(self, "stress_concentration", MappingProxyType(scf))
        if self.oxidation_location is not None and self.oxidation_location not in locs:
            raise TwinConfigError(
                f"damage.oxidation_location: {self.oxidation_location!r} is not one of the "
                f"locations {list(locs)}; add it to the locations or pass None (no oxidation)."
            )
        kp = _number("damage.creep_stress_factor", self.creep_stress_factor)
        if kp <= 0.0:
            raise TwinConfigError(f"damage.creep_stress_factor: must be > 0; got {kp!r}.")
        for name, value, allowed in (
            ("creep_below_range", self.creep_below_range, ("limit", "zero")),
            ("fatigue_below_range", self.fatigue_below_range, ("endurance", "limit")),
        ):
            if value not in allowed:
                raise TwinConfigError(f"damage.{name}: must be one of {allowed}; got {value!r}.")
        if not isinstance(self.extrapolate, bool):
            raise TwinConfigError(
                f"damage.extrapolate: must be true or false; got {self.extrapolate!r}."
            )
        x0 = _number("damage.initial_oxide_thickness", self.initial_oxide_thickness)
        if x0 < 0.0:
            raise TwinConfigError(f"damage.initial_oxide_thickness: must be >= 0 m; got {x0!r}.")
        try:
            curve = larson_miller(self.material)
            ox = oxidation_law(self.material) if self.oxidation_location is not None else None
            creep_fatigue_envelope(self.material)
            strain_life(self.material, 800.0, extrapolate=True)
            get_material(self.material)
        except UnknownMaterialError as err:
            msg = str(err).removeprefix("material: ")
            raise TwinConfigError(f"damage.material: {msg}") from err
        resolved = {
            "creep_cutoff": self._cutoff(
                "creep_cutoff_temperature",
                self.creep_cutoff_temperature,
                curve.temperature_range[0],
            )
        }
        if ox is not None:
            resolved["oxidation_cutoff"] = self._cutoff(
                "oxidation_cutoff_temperature",
                self.oxidation_cutoff_temperature,
                ox.temperature_range[0],
            )
        object.__setattr__(self, "_resolved", resolved)

    def _cutoff(self, name: str, value: float | None, floor: float) -> float:
        if value is None:
            return float(floor)
        v = _number(f"damage.{name}", value)
        if v <= 0.0:
            raise TwinConfigError(f"damage.{name}: must be > 0 K; got {v!r}.")
        if v < floor and not self.extrapolate:
            raise TwinConfigError(
                f"damage.{name}: {v:.2f} K is below the law's calibrated range (from "
                f"{floor:.2f} K); raise it or set extrapolate=True."
            )
        return v

    @property
    def creep_cutoff(self) -> float:
        """Resolved creep cut-off temperature (K)."""
        return self._resolved["creep_cutoff"]

    @property
    def oxidation_cutoff(self) -> float | None:
        """Resolved oxidation cut-off temperature (K), or None without oxidation."""
        return self._resolved.get("oxidation_cutoff")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dictionary."""
        return {
            "material": self.material,
            "locations": list(self.locations),
            "stress_concentration": dict(self.stress_concentration),
            "oxidation_location": self.oxidation_location,
            "creep_stress_factor": float(self.creep_stress_factor),
            "creep_cutoff_temperature": self.creep_cutoff_temperature,
            "creep_below_range": self.creep_below_range,
            "fatigue_below_range": self.fatigue_below_range,
            "oxidation_cutoff_temperature": self.oxidation_cutoff_temperature,
            "initial_oxide_thickness": float(self.initial_oxide_thickness),
            "extrapolate": self.extrapolate,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DamageSettings:
        """Rebuild settings saved by :meth:`to_dict`."""
        known = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        unknown = sorted(set(d) - known)
        if unknown:
            raise TwinConfigError(
                f"damage settings: unknown keys {unknown}; known are {sorted(known)}."
            )
        kw = dict(d)
        if "locations" in kw and isinstance(kw["locations"], list):
            kw["locations"] = tuple(kw["locations"])
        try:
            return cls(**kw)
        except TypeError as err:
            raise TwinConfigError(f"damage settings: {err}") from err


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TwinConfigError(f"{name}: must be a number; got {value!r}.")
    v = float(value)
    if not math.isfinite(v):
        raise TwinConfigError(f"{name}: must be finite; got {v!r}.")
    return v
