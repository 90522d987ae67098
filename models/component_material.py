"""The material a component config solves: resolved from its name, a file or a section.

``component.material`` names a shipped material (or an alias), ``"file:PATH"`` a
material file, or a ``[material]`` section holds the data itself; files and sections are
validated like the shipped data (:mod:`models.materials`). :func:`check_temperatures`
keeps the load and initial temperatures inside the data of the material actually
solved (the config's, or one handed to :func:`models.service.solve`).
"""

from __future__ import annotations

import pathlib
import tomllib
from typing import TYPE_CHECKING, Any

import numpy as np

from models.config_schema import ConfigFile
from models.errors import ConfigError, MaterialDataError, UnknownMaterialError
from models.loads import LoadHistory
from models.material_file import material_from_mapping
from models.materials import Material, canonical_material_name, get_material
from models.units import ZERO_CELSIUS

if TYPE_CHECKING:
    from models.config import Thermal

__all__ = ["check_temperatures", "resolve_material"]


def resolve_material(cfg: ConfigFile, content: dict[str, Any], base_dir: Any) -> Material:
    """Return the material the config names, and inline a user material into ``content``.

    Parameters
    ----------
    cfg : ConfigFile
        The validated file.
    content : dict
        The file's content (edge units); a material file is inlined as ``material``.
    base_dir : path or None
        Folder against which a relative ``file:PATH`` is resolved.

    Returns
    -------
    Material

    ``component.material`` names a shipped material (or an alias), ``"file:PATH"`` a
    material file (relative to the config's folder), or a ``[material]`` section holds
    the data itself; files and sections are validated like the shipped data. A file is
    inlined as the ``[material]`` section, so :meth:`ComponentConfig.to_dict` and the
    config hash carry the data, not a path.
    """
    named = cfg.component.material
    section = cfg.material
    if named is not None and named.startswith("file:"):
        if section is not None:
            raise ConfigError(
                "component.material: names a file and the config has a [material] section "
                f"too (got {named!r}); give one of them"
            )
        section = _read_material_file(named.removeprefix("file:"), base_dir)
        content["material"] = section
        named = None
    if section is not None:
        try:
            material = material_from_mapping(section, origin="[material]")
        except MaterialDataError as err:
            raise ConfigError(f"material: {err}") from err
        if named is not None and canonical_material_name(named) != canonical_material_name(
            material.name
        ):
            raise ConfigError(
                f"component.material: {named!r} differs from the [material] section's name "
                f"{material.name!r}; drop component.material or make the names agree"
            )
        content.setdefault("component", {})["material"] = material.name
        return material
    if named is None:
        raise ConfigError(
            "component.material: required; give a shipped material (grade91, 316h, a617, or "
            "an alias such as P91), 'file:PATH' to a material file, or a [material] section"
        )
    try:
        return get_material(named)
    except UnknownMaterialError as err:
        raise ConfigError(f"component.material: {err}") from err


def _read_material_file(name: str, base_dir: Any) -> dict[str, Any]:
    path = pathlib.Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = pathlib.Path(base_dir) / path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(
            f"component.material: cannot read the material file {name!r} ({err.strerror}); "
            "give a path relative to the config file's folder"
        ) from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"component.material: the material file {name!r} is not valid TOML: {err}"
        ) from err


def check_temperatures(
    loads: LoadHistory, thermal: Thermal, material: Material, *, origin: str = ""
) -> None:
    """Fail early when the loads or the initial temperature leave the material's data.

    Parameters
    ----------
    loads : LoadHistory
        The load history (SI).
    thermal : models.config.Thermal
        Thermal boundary conditions (SI); its initial temperature is checked.
    material : Material
        The material that will be solved.
    origin : str, optional
        Where the material comes from, for the message (e.g. ``"given to solve()"``).

    Raises
    ------
    ConfigError
        Naming the field, the temperature, the material and its range.
    """
    t_min, t_max = material.temperature_range
    temps = {
        "loads.fluid_temperature_degC": loads.fluid_temperature,
        "thermal.initial_temperature_degC": np.array([thermal.initial_temperature]),
    }
    if loads.outer_temperature is not None:
        temps["loads.outer_temperature_degC"] = loads.outer_temperature
    where = f" ({origin})" if origin else ""
    for field_name, values in temps.items():
        lo, hi = float(values.min()), float(values.max())
        if lo < t_min or hi > t_max:
            bad = lo if lo < t_min else hi
            raise ConfigError(
                f"{field_name}: {bad - ZERO_CELSIUS:.1f} degC lies outside the data of "
                f"material {material.name!r}{where} "
                f"({t_min - ZERO_CELSIUS:.0f} to {t_max - ZERO_CELSIUS:.0f} degC); "
                "keep the loads inside the tabulated range or choose another material"
            )
