"""The sensor catalogue: which sensors a component has and what they measure.

Read from the ``[component]`` and ``[[sensors]]`` sections of a component config
(TOML). Other sections belong to other packages and are ignored here. Valid ranges
are given in the sensor's configured unit and held in SI.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from sensors.errors import CatalogueError, UnitError
from sensors.units import ALLOWED_UNITS, QUANTITIES, SI_UNITS, to_si

__all__ = ["LOCATIONS", "Catalogue", "Sensor", "load_catalogue", "parse_catalogue"]

#: Named locations a sensor may sit at (or give ``radius_m`` instead).
LOCATIONS: tuple[str, ...] = ("bore", "fluid", "mid_wall", "outer")

# MQTT topic levels must not contain wildcards or separators.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


@dataclasses.dataclass(frozen=True, slots=True)
class Sensor:
    """One sensor of a component.

    Attributes
    ----------
    id : str
        Sensor id, the last level of its MQTT topic.
    quantity : str
        Measured quantity, one of :data:`sensors.units.QUANTITIES`.
    unit : str
        Unit the sensor is configured to report in (payloads may use any unit of
        the same quantity listed in :data:`sensors.units.ALLOWED_UNITS`).
    location : str or None
        Named location (:data:`LOCATIONS`), or None when ``radius`` is given.
    radius : float or None
        Radial position, m.
    valid_min, valid_max : float
        Physical range in the SI unit of ``quantity`` (K, Pa, 1, m).
    rate : float
        Nominal sampling rate, Hz.
    """

    id: str
    quantity: str
    unit: str
    location: str | None
    radius: float | None
    valid_min: float
    valid_max: float
    rate: float

    @property
    def si_unit(self) -> str:
        """SI unit of the archived values of this sensor."""
        return SI_UNITS[self.quantity]


@dataclasses.dataclass(frozen=True, slots=True)
class Catalogue:
    """The sensors of one component.

    Attributes
    ----------
    component : str
        Component id (MQTT topic level and archive name).
    site : str
        Site id (MQTT topic level).
    sensors : tuple of Sensor
        Sensors in config order.
    """

    component: str
    site: str
    sensors: tuple[Sensor, ...]
    _by_id: dict[str, Sensor] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.sensors})

    def get(self, sensor_id: str) -> Sensor | None:
        """Return the sensor with this id, or None if the component has none.

        Parameters
        ----------
        sensor_id : str
            Sensor id.

        Returns
        -------
        Sensor or None
            The sensor.
        """
        return self._by_id.get(sensor_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Sensor ids in config order."""
        return tuple(s.id for s in self.sensors)

    def topic(self, prefix: str, sensor_id: str) -> str:
        """Return the readings topic ``{prefix}/{site}/{component}/{sensor}``.

        Parameters
        ----------
        prefix : str
            Topic prefix (e.g. ``"plant"``).
        sensor_id : str
            Sensor id.

        Returns
        -------
        str
            MQTT topic.
        """
        return f"{prefix}/{self.site}/{self.component}/{sensor_id}"


def _field(table: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise CatalogueError(f"{where}.{key}: required field is missing; add it to the config")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise CatalogueError(f"{where}.{key}: must be a {names}, got {value!r}")
    return value


def _identifier(table: Mapping[str, Any], key: str, where: str) -> str:
    value: str = _field(table, key, where, str)
    if not _ID_RE.match(value):
        raise CatalogueError(
            f"{where}.{key}: must be 1-64 characters of letters, digits, '_', '.', '-' "
            f"(no '/', '+', '#', spaces), got {value!r}; rename it"
        )
    return value


def _number(table: Mapping[str, Any], key: str, where: str) -> float:
    value = float(_field(table, key, where, (int, float)))
    if not math.isfinite(value):
        raise CatalogueError(f"{where}.{key}: must be finite, got {value!r}")
    return value


def _sensor(raw: Any, index: int) -> Sensor:
    where = f"sensors[{index}]"
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: must be a table ([[sensors]]), got {raw!r}")
    sensor_id = _identifier(raw, "id", where)
    where = f"sensors[{index}] ({sensor_id})"
    quantity = _field(raw, "quantity", where, str)
    if quantity not in QUANTITIES:
        raise CatalogueError(
            f"{where}.quantity: must be one of {list(QUANTITIES)}, got {quantity!r}"
        )
    unit = _field(raw, "unit", where, str)
    if unit not in ALLOWED_UNITS[quantity]:
        raise CatalogueError(
            f"{where}.unit: a {quantity} sensor reports in one of "
            f"{list(ALLOWED_UNITS[quantity])}, got {unit!r}"
        )
    has_loc, has_radius = "location" in raw, "radius_m" in raw
    if has_loc == has_radius:
        raise CatalogueError(
            f"{where}: give exactly one of 'location' ({list(LOCATIONS)}) or 'radius_m'"
        )
    location: str | None = None
    radius: float | None = None
    if has_loc:
        location = _field(raw, "location", where, str)
        if location not in LOCATIONS:
            raise CatalogueError(
                f"{where}.location: must be one of {list(LOCATIONS)}, got {location!r}"
            )
    else:
        radius = _number(raw, "radius_m", where)
        if radius <= 0.0:
            raise CatalogueError(f"{where}.radius_m: must be > 0 m, got {radius!r}")
    lo = _number(raw, "valid_min", where)
    hi = _number(raw, "valid_max", where)
    if not lo < hi:
        raise CatalogueError(f"{where}: valid_min must be < valid_max, got {lo!r} >= {hi!r}")
    rate = _number(raw, "rate_Hz", where) if "rate_Hz" in raw else 1.0
    if rate <= 0.0:
        raise CatalogueError(f"{where}.rate_Hz: must be > 0 Hz, got {rate!r}")
    try:
        lo_si, hi_si = (float(v) for v in to_si([lo, hi], unit, quantity))
    except UnitError as err:  # pragma: no cover - unit checked above
        raise CatalogueError(f"{where}.unit: {err}") from err
    return Sensor(sensor_id, quantity, unit, location, radius, lo_si, hi_si, rate)


def parse_catalogue(document: Mapping[str, Any]) -> Catalogue:
    """Build a catalogue from a parsed component config.

    Parameters
    ----------
    document : mapping
        The TOML document as a dict; only ``component`` and ``sensors`` are read.

    Returns
    -------
    Catalogue
        The validated catalogue.

    Raises
    ------
    CatalogueError
        Naming the field, the rule and the value when a section is invalid.
    """
    component = document.get("component")
    if not isinstance(component, Mapping):
        raise CatalogueError("component: the [component] table is missing; add name and site")
    name = _identifier(component, "name", "component")
    site = _identifier(component, "site", "component")
    raw_sensors = document.get("sensors", [])
    if not isinstance(raw_sensors, list) or not raw_sensors:
        raise CatalogueError(
            f"sensors: need at least one [[sensors]] table, got {raw_sensors!r}; "
            "declare the component's sensors"
        )
    sensors = tuple(_sensor(raw, i) for i, raw in enumerate(raw_sensors))
    seen: set[str] = set()
    for s in sensors:
        if s.id in seen:
            raise CatalogueError(f"sensors: id {s.id!r} appears twice; sensor ids must be unique")
        seen.add(s.id)
    return Catalogue(name, site, sensors)


def load_catalogue(path: str | pathlib.Path) -> Catalogue:
    """Read a component config file and build its sensor catalogue.

    Parameters
    ----------
    path : str or pathlib.Path
        TOML component config.

    Returns
    -------
    Catalogue
        The validated catalogue.

    Raises
    ------
    CatalogueError
        If the file cannot be read or parsed, or a section is invalid.
    """
    path = pathlib.Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CatalogueError(f"config: cannot read {path.name!r}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise CatalogueError(f"config: {path.name!r} is not valid TOML: {err}") from err
    return parse_catalogue(document)
