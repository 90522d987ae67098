"""Sensor health: the shared vocabulary of the plausibility checks and the innovation CUSUM.

A reading reaches the particle filter with a quality code (the sensor archive's codes:
0 good, 1 uncertain, 2 bad). Two layers judge a sensor:

- :class:`~twin.plausibility.PlausibilityChecker` looks at the raw readings before
  assimilation (range, spike, level shift, rate of change, stuck-at, flat-line) and
  lowers their quality: a bad reading is not assimilated, an uncertain one is
  assimilated with inflated variance.
- :class:`~twin.cusum.InnovationMonitor` runs Page's CUSUM on the normalised
  innovations that the filter computes, and flags a bias step or a drift that the raw
  signal cannot show.

This module holds what both share: the quality codes, the quantities, the thresholds
(:class:`HealthSettings`, validated once, errors naming the field and the value) and
the sensor description (:class:`SensorSpec`). Both classes are re-exported here, so
``from twin.health import PlausibilityChecker, InnovationMonitor`` works.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import TwinConfigError, TwinInputError

if TYPE_CHECKING:
    from twin.cusum import InnovationMonitor, cusum_arl
    from twin.plausibility import PlausibilityChecker

__all__ = [
    "HEALTH_SCHEMA_VERSION",
    "QUALITY_BAD",
    "QUALITY_GOOD",
    "QUALITY_UNCERTAIN",
    "QUANTITIES",
    "HealthSettings",
    "InnovationMonitor",
    "PlausibilityChecker",
    "SensorSpec",
    "cusum_arl",
]

#: Quality codes, the same as the sensor archive's (``sensors/archive.py``).
QUALITY_GOOD, QUALITY_UNCERTAIN, QUALITY_BAD = 0, 1, 2
#: Quantities a twin sensor may measure (SI: K, Pa, 1, m, 1).
QUANTITIES: tuple[str, ...] = (
    "creep_strain",
    "pressure",
    "strain",
    "temperature",
    "wall_thickness",
)
#: Version of the layout of the health state dictionaries.
HEALTH_SCHEMA_VERSION = 1

# Plausible rates of change, SI per second: outer-wall and fluid temperatures of a thick
# header change by K/min (a quench a few K/s); a trip depressurises at well under 1 MPa/s;
# thermal strain transients stay below 1e-4 1/s; wall loss and creep strain are years-slow.
_DEFAULT_MAX_RATE = {
    "creep_strain": 1.0e-8,
    "pressure": 1.0e6,
    "strain": 1.0e-4,
    "temperature": 5.0,
    "wall_thickness": 1.0e-9,
}
# Resolution under which two successive readings count as the same value (SI).
_DEFAULT_RESOLUTION = {
    "creep_strain": 1.0e-9,
    "pressure": 1.0,
    "strain": 1.0e-9,
    "temperature": 1.0e-3,
    "wall_thickness": 1.0e-7,
}
_LAZY = {
    "InnovationMonitor": "twin.cusum",
    "cusum_arl": "twin.cusum",
    "PlausibilityChecker": "twin.plausibility",
}


def __getattr__(name: str) -> Any:
    """Re-export the checker and the monitor without an import cycle."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'twin.health' has no attribute {name!r}")


def _frozen_map(defaults: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(defaults))


def _number(where: str, value: Any, *, low: float, low_open: bool, fix: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and math.isfinite(value) and (value > low if low_open else value >= low):
        return float(value)
    rule = f"a finite number {'>' if low_open else '>='} {low:g}"
    raise TwinConfigError(f"{where}: must be {rule}, got {value!r}; {fix}")


def _integer(where: str, value: Any, *, low: int, fix: str) -> int:
    if isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= low:
        return int(value)
    raise TwinConfigError(f"{where}: must be an integer >= {low}, got {value!r}; {fix}")


def _quantity_map(where: str, given: Any, defaults: Mapping[str, float], low_open: bool) -> Any:
    if not isinstance(given, Mapping):
        raise TwinConfigError(
            f"{where}: must be a table of quantity = value, got {given!r}; "
            f"give values for some of {list(QUANTITIES)}"
        )
    merged = dict(defaults)
    for key, value in given.items():
        if key not in QUANTITIES:
            raise TwinConfigError(
                f"{where}: unknown quantity {key!r}; use one of {list(QUANTITIES)}"
            )
        merged[key] = _number(
            f"{where}[{key!r}]", value, low=0.0, low_open=low_open, fix="give an SI value"
        )
    return MappingProxyType(merged)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HealthSettings:
    """Thresholds of the plausibility checks and of the innovation CUSUM.

    Attributes
    ----------
    spike_sigma : float
        Robust z-score above which a reading is a spike (default 6). Also the noise
        allowance of the rate test, in units of ``sqrt(2) sigma``.
    spike_window : int
        Readings in the median/MAD window (odd, >= 5; default 11). A longer window
        lets a ramp bias the median more (by up to ``slope * W``).
    level_shift_window : int
        Recent readings whose median the level-shift test compares with the spike
        window's median (odd, >= 3; default 5: robust to two adjacent spikes).
    level_shift_sigma : float
        Threshold of the level-shift test, in the spike test's scale (default 4.5).
    stuck_window_s : float
        Seconds of unchanged readings that make a stuck-at fault, s (default 60).
    stuck_resolution : Mapping[str, float]
        Per quantity, SI: successive readings closer than this are the same value
        (defaults: 1e-3 K, 1 Pa, 1e-9, 1e-7 m, 1e-9). Quantities left out keep
        their defaults.
    flatline_window_s : float
        Seconds of successive differences whose spread is tested, s (default 60).
    flatline_ratio : float
        A flat line has a difference spread below this fraction of the expected
        ``sqrt(2) sigma`` (0 < ratio < 1; default 0.1).
    max_rate : Mapping[str, float]
        Per quantity, SI per second (K/s, Pa/s, 1/s, m/s, 1/s): plausible rates of
        change (defaults 5 K/s, 1 MPa/s, 1e-4 1/s, 1e-9 m/s, 1e-8 1/s). Quantities
        left out keep their defaults.
    gap_intervals : float
        A gap longer than this many nominal sampling intervals restarts the windows
        (default 10).
    suspect_hold_s : float
        A sensor stays ``"suspect"`` this long after its last flagged reading, s
        (default 3600).
    cusum_threshold : float
        Decision interval ``h`` of the innovation CUSUM, in innovation standard
        deviations (default 16: a two-sided in-control average run length of about
        3e7 readings, a year at 1 Hz, by Siegmund's approximation).
    cusum_drift : float
        Reference value ``k`` of the CUSUM (default 0.5: tuned to a 1-sigma shift).
    """

    spike_sigma: float = 6.0
    spike_window: int = 11
    level_shift_window: int = 5
    level_shift_sigma: float = 4.5
    stuck_window_s: float = 60.0
    stuck_resolution: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: _frozen_map(_DEFAULT_RESOLUTION)
    )
    flatline_window_s: float = 60.0
    flatline_ratio: float = 0.1
    max_rate: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: _frozen_map(_DEFAULT_MAX_RATE)
    )
    gap_intervals: float = 10.0
    suspect_hold_s: float = 3600.0
    cusum_threshold: float = 16.0
    cusum_drift: float = 0.5

    def __post_init__(self) -> None:
        w = "HealthSettings"
        pos = "give a positive value"
        _number(f"{w}.spike_sigma", self.spike_sigma, low=0.0, low_open=True, fix=pos)
        window = _integer(f"{w}.spike_window", self.spike_window, low=5, fix="e.g. 11")
        if window % 2 == 0:
            raise TwinConfigError(
                f"{w}.spike_window: must be odd (the median is then one reading), "
                f"got {self.spike_window!r}; use {window + 1}"
            )
        recent = _integer(f"{w}.level_shift_window", self.level_shift_window, low=3, fix="e.g. 5")
        if recent % 2 == 0:
            raise TwinConfigError(
                f"{w}.level_shift_window: must be odd, got {self.level_shift_window!r}; "
                f"use {recent + 1}"
            )
        _number(f"{w}.level_shift_sigma", self.level_shift_sigma, low=0.0, low_open=True, fix=pos)
        _number(f"{w}.stuck_window_s", self.stuck_window_s, low=0.0, low_open=True, fix=pos)
        _number(f"{w}.flatline_window_s", self.flatline_window_s, low=0.0, low_open=True, fix=pos)
        ratio = _number(
            f"{w}.flatline_ratio", self.flatline_ratio, low=0.0, low_open=True, fix="e.g. 0.1"
        )
        if ratio >= 1.0:
            raise TwinConfigError(
                f"{w}.flatline_ratio: must be below 1, got {self.flatline_ratio!r}; e.g. 0.1"
            )
        _number(f"{w}.gap_intervals", self.gap_intervals, low=1.0, low_open=False, fix="e.g. 10")
        _number(f"{w}.suspect_hold_s", self.suspect_hold_s, low=0.0, low_open=False, fix=pos)
        _number(f"{w}.cusum_threshold", self.cusum_threshold, low=0.0, low_open=True, fix=pos)
        _number(f"{w}.cusum_drift", self.cusum_drift, low=0.0, low_open=False, fix="e.g. 0.5")
        for name, defaults, low_open in (
            ("stuck_resolution", _DEFAULT_RESOLUTION, False),
            ("max_rate", _DEFAULT_MAX_RATE, True),
        ):
            merged = _quantity_map(f"{w}.{name}", getattr(self, name), defaults, low_open)
            object.__setattr__(self, name, merged)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, where: str = "health") -> HealthSettings:
        """Build settings from a config table (e.g. ``[twin.health]`` of a TOML file).

        Parameters
        ----------
        raw : Mapping
            Keys are field names of :class:`HealthSettings`; missing keys keep their
            defaults.
        where : str
            Dotted path of the table, used in error messages.

        Returns
        -------
        HealthSettings
            The validated settings.

        Raises
        ------
        TwinConfigError
            On an unknown key or an invalid value.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        for key in raw:
            if key not in names:
                raise TwinConfigError(f"{where}.{key}: unknown setting; use one of {sorted(names)}")
        try:
            return cls(**raw)
        except TwinConfigError as err:
            raise TwinConfigError(str(err).replace("HealthSettings", where, 1)) from err

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready values (the inverse of :meth:`from_mapping`)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out


@dataclasses.dataclass(frozen=True)
class SensorSpec:
    """What the health checks need to know of one sensor.

    Attributes
    ----------
    id : str
        Sensor id.
    quantity : str
        One of :data:`QUANTITIES`.
    valid_min, valid_max : float
        Physical range, SI (K, Pa, 1, m).
    rate_Hz : float
        Nominal sampling rate, Hz.
    noise_std : float
        Standard deviation of the sensor noise, SI (> 0).
    """

    id: str
    quantity: str
    valid_min: float
    valid_max: float
    rate_Hz: float
    noise_std: float

    def __post_init__(self) -> None:
        w = f"SensorSpec({self.id!r})"
        if not isinstance(self.id, str) or not self.id:
            raise TwinConfigError(f"SensorSpec.id: must be a non-empty string, got {self.id!r}")
        if self.quantity not in QUANTITIES:
            raise TwinConfigError(
                f"{w}.quantity: unknown quantity {self.quantity!r}; use one of {list(QUANTITIES)}"
            )
        for name in ("valid_min", "valid_max"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise TwinConfigError(f"{w}.{name}: must be a finite number, got {value!r}")
        if not self.valid_min < self.valid_max:
            raise TwinConfigError(
                f"{w}.valid_max: must exceed valid_min ({self.valid_min!r}), got "
                f"{self.valid_max!r}; fix the sensor's range"
            )
        _number(f"{w}.rate_Hz", self.rate_Hz, low=0.0, low_open=True, fix="give the rate in Hz")
        _number(
            f"{w}.noise_std", self.noise_std, low=0.0, low_open=True, fix="give the SI noise std"
        )

    @classmethod
    def from_sensor(cls, sensor: Any, *, noise_std: float) -> SensorSpec:
        """Spec of a catalogue sensor (:class:`sensors.catalogue.Sensor`).

        Parameters
        ----------
        sensor : sensors.catalogue.Sensor
            Catalogue entry (``id``, ``quantity``, ``valid_min``, ``valid_max``,
            ``rate``).
        noise_std : float
            Noise standard deviation, SI.

        Returns
        -------
        SensorSpec
            The spec.
        """
        return cls(
            sensor.id,
            sensor.quantity,
            float(sensor.valid_min),
            float(sensor.valid_max),
            float(sensor.rate),
            float(noise_std),
        )


def _check_header(d: Mapping[str, Any], kind: str, ids: list[str]) -> None:
    """Check that a saved state has this schema version, kind and sensor list."""
    if d.get("schema_version") != HEALTH_SCHEMA_VERSION or d.get("kind") != kind:
        raise TwinInputError(
            f"state: expected kind {kind!r} schema_version {HEALTH_SCHEMA_VERSION}, got kind "
            f"{d.get('kind')!r} schema_version {d.get('schema_version')!r}"
        )
    saved = list(d.get("sensor_ids", []))
    if saved != ids:
        raise TwinInputError(
            f"state.sensor_ids: saved for {saved}, restored with {ids}; restore with the "
            "sensors the state was saved for"
        )
