"""Read the life-law material files (``models/data/life/<material>.toml``) once.

Each file has one section per law (``larson_miller``, ``strain_life``,
``creep_fatigue_envelope``, ``oxidation``) with ``status = "available"`` and cited
constants, or ``status = "missing"`` and a note saying why. Asking for a missing
section raises :class:`~models.errors.UnknownMaterialError` with that note.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from models.errors import UnknownMaterialError
from models.materials import canonical_material_name

__all__ = ["available_materials", "law_data", "normalise_material"]

_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "life"
def available_materials() -> tuple[str, ...]:
    """Return the names of the materials that have a life-law data file."""
    return tuple(sorted(p.stem for p in _DATA_DIR.glob("*.toml")))


def normalise_material(material: str) -> str:
    """Map a material name (``"Grade 91"``, ``"P91"``, ``"316H"``) to its file stem.

    The aliases are those of the FEM materials
    (:data:`models.materials.MATERIAL_ALIASES`), so a name means the same alloy in both.

    Raises
    ------
    UnknownMaterialError
        If no data file exists for the name.
    """
    if not isinstance(material, str):
        raise UnknownMaterialError(
            f"material: must be a string; got {material!r}. Use one of {available_materials()}."
        )
    stem = canonical_material_name(material)
    if not (_DATA_DIR / f"{stem}.toml").exists():
        raise UnknownMaterialError(
            f"material: no life-law data for {material!r}; known materials are "
            f"{available_materials()}. Add models/data/life/<name>.toml or pass constants."
        )
    return stem


@functools.cache
def _load(stem: str) -> dict[str, Any]:
    with (_DATA_DIR / f"{stem}.toml").open("rb") as fh:
        return tomllib.load(fh)


def law_data(material: str, law: str) -> dict[str, Any]:
    """Return the section ``law`` of a material's data file.

    Parameters
    ----------
    material : str
        Material name (see :func:`normalise_material`).
    law : str
        Section name, e.g. ``"larson_miller"``.

    Returns
    -------
    dict
        The section, with ``status == "available"``.

    Raises
    ------
    UnknownMaterialError
        If the material is unknown or the section is missing for it.
    """
    stem = normalise_material(material)
    section = _load(stem).get(law)
    if section is None or section.get("status") != "available":
        note = "" if section is None else f" ({section.get('note', 'no note')})"
        raise UnknownMaterialError(
            f"material: {stem!r} has no {law} data{note}. Pass the law's constants explicitly."
        )
    return dict(section)
