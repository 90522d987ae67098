"""Input checks shared by the life laws: finite, signed and calibrated-range rules.

Every check raises :class:`~models.errors.LawInputError` naming the argument, the
rule, the offending value and the fix. Nothing is clipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError

__all__ = ["as_finite", "check_range", "check_sign"]


def _first_bad(values: NDArray[Any], mask: NDArray[np.bool_]) -> tuple[int, float]:
    flat = np.flatnonzero(mask.ravel())
    i = int(flat[0])
    return i, float(values.ravel()[i])


def as_finite(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array, refusing NaN and infinities.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : array_like
        Values to check.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    LawInputError
        If any element is NaN or infinite, or the input is not numeric.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise LawInputError(
            f"{name}: must be numeric; got {value!r}. Pass numbers (SI units)."
        ) from err
    bad = ~np.isfinite(arr)
    if bad.any():
        i, v = _first_bad(arr, bad)
        raise LawInputError(
            f"{name}: must be finite; element {i} is {v}. Remove or repair NaN/inf values "
            "before calling the law."
        )
    return arr


def check_sign(
    name: str, arr: NDArray[np.float64], *, strict: bool = False, unit: str = ""
) -> NDArray[np.float64]:
    """Refuse negative values (or non-positive ones when ``strict``).

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    arr : numpy.ndarray
        Finite values (see :func:`as_finite`).
    strict : bool, optional
        Also refuse zero.
    unit : str, optional
        Unit shown in the message.

    Returns
    -------
    numpy.ndarray
        ``arr`` unchanged.
    """
    bad = arr <= 0 if strict else arr < 0
    if bad.any():
        i, v = _first_bad(arr, bad)
        rule = "> 0" if strict else ">= 0"
        raise LawInputError(
            f"{name}: must be {rule}; element {i} is {v} {unit}".rstrip()
            + ". Check the sign convention of the input."
        )
    return arr


def check_range(
    name: str,
    arr: NDArray[np.float64],
    *,
    low: float,
    high: float,
    unit: str,
    extrapolate: bool,
    what: str,
) -> NDArray[np.float64]:
    """Refuse values outside a law's calibrated interval unless extrapolation is allowed.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    arr : numpy.ndarray
        Finite values.
    low, high : float
        Calibrated interval (inclusive), in ``unit``.
    unit : str
        Unit of ``arr``, ``low`` and ``high``.
    extrapolate : bool
        When true, values outside pass unchanged.
    what : str
        The law and material, for the message.

    Returns
    -------
    numpy.ndarray
        ``arr`` unchanged.
    """
    if extrapolate:
        return arr
    bad = (arr < low) | (arr > high)
    if bad.any():
        i, v = _first_bad(arr, bad)
        u = f" {unit}" if unit else ""
        raise LawInputError(
            f"{name}: element {i} is {v:g}{u}, outside {low:g}..{high:g}{u}, the calibrated "
            f"range of {what}. To accept it, call again with extrapolate=True (the law is "
            "then continued beyond its data, unverified there), or keep the input inside "
            "the range."
        )
    return arr
