"""Unit conversion at the edge: payload units to SI, with pint as the reference.

Only the units listed in :data:`ALLOWED_UNITS` are accepted for each measured
quantity; anything else raises :class:`~sensors.errors.UnitError` (we never guess).
The conversion of each unit is an affine map ``si = scale * x + offset``; the two
coefficients are obtained once from pint and cached, so converting an array costs
one multiply-add.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from sensors.errors import UnitError

__all__ = ["ALLOWED_UNITS", "QUANTITIES", "SI_UNITS", "from_si", "si_coefficients", "to_si"]

#: SI unit stored in the archive for each measured quantity.
SI_UNITS: dict[str, str] = {
    "pressure": "Pa",
    "strain": "1",
    "temperature": "K",
    "wall_thickness": "m",
}

#: Measured quantities a sensor may declare.
QUANTITIES: tuple[str, ...] = tuple(sorted(SI_UNITS))

#: Units accepted in configs and payloads, per quantity (spelled exactly so).
ALLOWED_UNITS: dict[str, tuple[str, ...]] = {
    "pressure": ("Pa", "kPa", "MPa", "bar"),
    "strain": ("1", "microstrain"),
    "temperature": ("K", "degC"),
    "wall_thickness": ("m", "mm"),
}

# Our spelling -> pint expression.
_PINT_NAMES = {
    "1": "dimensionless",
    "K": "kelvin",
    "degC": "degree_Celsius",
    "Pa": "pascal",
    "kPa": "kilopascal",
    "MPa": "megapascal",
    "bar": "bar",
    "microstrain": "microstrain",
    "m": "meter",
    "mm": "millimeter",
}


@functools.cache
def _registry() -> Any:
    import pint

    ureg = pint.UnitRegistry()
    # Strain gauges report microstrain: 1e-6 m/m (ASTM E251 terminology).
    ureg.define("microstrain = 1e-6 = µε")
    return ureg


def _check(unit: str, quantity: str) -> None:
    if quantity not in ALLOWED_UNITS:
        raise UnitError(
            f"quantity: must be one of {list(QUANTITIES)}, got {quantity!r}; "
            "fix the sensor's 'quantity'"
        )
    if unit not in ALLOWED_UNITS[quantity]:
        raise UnitError(
            f"unit: a {quantity} must be given in one of {list(ALLOWED_UNITS[quantity])}, "
            f"got {unit!r}; convert at the source or use one of the listed units"
        )


@functools.cache
def si_coefficients(unit: str, quantity: str) -> tuple[float, float]:
    """Return ``(scale, offset)`` such that ``si = scale * x + offset``.

    Parameters
    ----------
    unit : str
        Unit of ``x``, one of ``ALLOWED_UNITS[quantity]``.
    quantity : str
        Measured quantity, one of :data:`QUANTITIES`.

    Returns
    -------
    tuple of float
        Scale (SI unit per ``unit``) and offset (SI unit), computed with pint.

    Raises
    ------
    UnitError
        If the quantity is unknown or the unit does not measure it.
    """
    _check(unit, quantity)
    ureg = _registry()
    src = _PINT_NAMES[unit]
    dst = _PINT_NAMES[SI_UNITS[quantity]]
    zero = float(ureg.Quantity(0.0, src).to(dst).magnitude)
    one = float(ureg.Quantity(1.0, src).to(dst).magnitude)
    return one - zero, zero


def to_si(values: npt.ArrayLike, unit: str, quantity: str) -> npt.NDArray[np.float64]:
    """Convert values given in ``unit`` to the SI unit of ``quantity``.

    Parameters
    ----------
    values : array_like of float
        Values in ``unit``.
    unit : str
        Unit of ``values``.
    quantity : str
        Measured quantity (``temperature``, ``pressure``, ``strain``, ``wall_thickness``).

    Returns
    -------
    numpy.ndarray of float64
        Values in :data:`SI_UNITS` ``[quantity]``.
    """
    scale, offset = si_coefficients(unit, quantity)
    return np.asarray(values, dtype=np.float64) * scale + offset


def from_si(values: npt.ArrayLike, unit: str, quantity: str) -> npt.NDArray[np.float64]:
    """Convert SI values of ``quantity`` to ``unit`` (inverse of :func:`to_si`).

    Parameters
    ----------
    values : array_like of float
        Values in the SI unit of ``quantity``.
    unit : str
        Target unit.
    quantity : str
        Measured quantity.

    Returns
    -------
    numpy.ndarray of float64
        Values in ``unit``.
    """
    scale, offset = si_coefficients(unit, quantity)
    return (np.asarray(values, dtype=np.float64) - offset) / scale
