"""Material data files: read, validate and build a :class:`~models.materials.Material`.

The layout is that of ``models/data/materials/*.toml``: ``schema_version``, ``name``,
``description`` and one ``[properties.<name>]`` table per property of
:data:`~models.materials.PROPERTY_NAMES`, each with its ``unit``, a cited ``source`` and
either a constant ``value`` or a table (``temperature_degC``, ``values``). The same rules
hold for the shipped files, a user's file (``component.material = "file:PATH"``) and a
config's ``[material]`` section: equal lengths, strictly increasing temperatures,
positive values (Poisson's ratio in (-1, 0.5)), known units, a source, and a plausible
SI range per property (:data:`PLAUSIBLE_RANGES`) that catches a wrong unit.
"""

from __future__ import annotations

import math
import pathlib
import tomllib
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from models.errors import MaterialDataError
from models.materials import (
    _SCHEMA_VERSION,
    _SI_UNIT,
    _UNITS,
    PROPERTY_NAMES,
    Material,
    PropertyTable,
    _frozen,
    _positive_number,
)
from models.units import ZERO_CELSIUS

__all__ = ["PLAUSIBLE_RANGES", "load_material", "load_material_file", "material_from_mapping"]

#: Plausible SI range of each property of a structural alloy: a value outside is a unit
#: or transcription error (e.g. E in MPa under ``unit = "Pa"``), for shipped and user data.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "E": (1.0e9, 1.0e12),
    "nu": (0.0, 0.5),
    "alpha_mean": (1.0e-7, 1.0e-4),
    "k": (0.1, 1000.0),
    "rho": (500.0, 25000.0),
    "cp": (50.0, 5000.0),
}


def _parse_property(material: str, prop: str, entry: Any, origin: str) -> PropertyTable:
    where = f"{origin}: [properties.{prop}]"
    if not isinstance(entry, dict):
        raise MaterialDataError(f"{where} must be a table, got {type(entry).__name__}.")
    unit = entry.get("unit")
    if unit not in _UNITS[prop]:
        raise MaterialDataError(
            f"{where}.unit = {unit!r} is not accepted; use one of {list(_UNITS[prop])}."
        )
    factor = _UNITS[prop][unit]
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise MaterialDataError(f"{where}.source is missing or empty; every table must cite it.")
    source = " ".join(source.split())
    has_value = "value" in entry
    has_table = "temperature_degC" in entry or "values" in entry
    if has_value == has_table:
        raise MaterialDataError(
            f"{where} needs either 'value' (constant) or 'temperature_degC' and 'values' "
            "(table), not both and not neither."
        )
    if has_value:
        v = _positive_number(entry["value"], where=f"{where}.value", prop=prop)
        return PropertyTable(
            name=prop,
            unit=_SI_UNIT[prop],
            source=source,
            values=_frozen([v * factor]),
            material=material,
        )
    temps, vals = entry.get("temperature_degC"), entry.get("values")
    for key, seq in (("temperature_degC", temps), ("values", vals)):
        if not isinstance(seq, list) or not seq:
            raise MaterialDataError(f"{where}.{key} must be a non-empty list, got {seq!r}.")
    temps, vals = cast(list[Any], temps), cast(list[Any], vals)
    if len(temps) != len(vals):
        raise MaterialDataError(
            f"{where}: temperature_degC has {len(temps)} entries but values has {len(vals)}; "
            "they must have equal lengths."
        )
    if len(temps) < 2:
        raise MaterialDataError(
            f"{where}: a table needs at least two rows (use 'value' for a constant)."
        )
    t = np.array([_number(x, f"{where}.temperature_degC") for x in temps]) + ZERO_CELSIUS
    if np.any(t <= 0.0):
        raise MaterialDataError(
            f"{where}.temperature_degC has values at or below absolute zero "
            f"({-ZERO_CELSIUS} degC)."
        )
    steps = np.diff(t)
    if np.any(steps <= 0.0):
        i = int(np.argmax(steps <= 0.0))
        raise MaterialDataError(
            f"{where}.temperature_degC must be strictly increasing; entry {i + 1} "
            f"({temps[i + 1]!r}) follows {temps[i]!r}."
        )
    vs = np.array([_positive_number(x, where=f"{where}.values", prop=prop) for x in vals])
    return PropertyTable(
        name=prop,
        unit=_SI_UNIT[prop],
        source=source,
        values=_frozen(vs * factor),
        temperature=_frozen(t),
        material=material,
    )


def _number(x: Any, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise MaterialDataError(f"{where}: expected finite numbers, got {x!r}.")
    return float(x)


def _parse_material(data: Mapping[str, Any], origin: str) -> Material:
    version = data.get("schema_version")
    if version != _SCHEMA_VERSION:
        raise MaterialDataError(
            f"{origin}: schema_version = {version!r} is not supported; expected {_SCHEMA_VERSION}."
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MaterialDataError(f"{origin}: 'name' must be a non-empty string, got {name!r}.")
    description = data.get("description", "")
    props = data.get("properties")
    if not isinstance(props, dict):
        raise MaterialDataError(f"{origin}: missing [properties] tables.")
    unknown = sorted(set(props) - set(PROPERTY_NAMES))
    if unknown:
        raise MaterialDataError(
            f"{origin}: unknown properties {unknown}; allowed are {list(PROPERTY_NAMES)}."
        )
    missing = [p for p in PROPERTY_NAMES if p not in props]
    if missing:
        raise MaterialDataError(
            f"{origin}: properties {missing} are missing; every material needs "
            f"{list(PROPERTY_NAMES)}."
        )
    tables = {p: _parse_property(name, p, props[p], origin) for p in PROPERTY_NAMES}
    for p, table in tables.items():
        _check_plausible(table, f"{origin}: [properties.{p}]")
    material = Material(name=name, description=str(description), tables=tables)
    t_min, t_max = material.temperature_range
    if not t_min < t_max:
        raise MaterialDataError(
            f"{origin}: the tabulated ranges of the properties do not overlap "
            f"(intersection {t_min:.2f}-{t_max:.2f} K)."
        )
    return material


def load_material_file(text: str, *, origin: str = "<string>") -> Material:
    """Parse and validate the TOML text of a material data file.

    Parameters
    ----------
    text : str
        Content of a ``models/data/materials/*.toml`` file.
    origin : str, optional
        Name used in error messages (file name).

    Returns
    -------
    Material

    Raises
    ------
    MaterialDataError
        If the file is not valid TOML or breaks a rule of the schema (equal lengths,
        strictly increasing temperatures, positive values, known units, a source).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise MaterialDataError(f"{origin}: not valid TOML: {err}") from err
    return _parse_material(data, origin)


def _check_plausible(table: PropertyTable, where: str) -> None:
    lo, hi = PLAUSIBLE_RANGES[table.name]
    bad = (table.values <= lo) | (table.values > hi) if table.name == "nu" else (
        (table.values < lo) | (table.values > hi)
    )
    if np.any(bad):
        v = float(table.values[int(np.argmax(bad))])
        raise MaterialDataError(
            f"{where}: {table.name} = {v:g} {table.unit} (in SI) lies outside the plausible "
            f"range {lo:g} to {hi:g} {table.unit} of a structural alloy; check the value and "
            "its unit."
        )


def load_material(path: str | pathlib.Path) -> Material:
    """Read a user material file (same schema and checks as the shipped data files).

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML file laid out like ``models/data/materials/grade91.toml``: every property
        with its unit and its cited source.

    Returns
    -------
    Material

    Raises
    ------
    MaterialDataError
        If the file cannot be read or breaks a rule of the schema.
    """
    file = pathlib.Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise MaterialDataError(
            f"material file {str(file)!r}: cannot read it ({err.strerror}); check the path"
        ) from err
    return load_material_file(text, origin=str(file))


def material_from_mapping(data: Mapping[str, Any], *, origin: str) -> Material:
    """Build a material from a parsed TOML table (e.g. a config's ``[material]``).

    Parameters
    ----------
    data : mapping
        Content laid out like a material data file (``schema_version`` may be omitted).
    origin : str
        Name used in error messages.

    Returns
    -------
    Material

    Raises
    ------
    MaterialDataError
        If the content breaks a rule of the schema.
    """
    content = dict(data)
    content.setdefault("schema_version", _SCHEMA_VERSION)
    return _parse_material(content, origin)
