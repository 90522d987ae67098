"""Input checks of :class:`twin.damage.DamageAccount`, where the batches enter.

Each check raises :class:`~twin.errors.TwinInputError` naming the field (with the
particle and sample), the rule and the value received.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin._damage_laws import first_bad, where
from twin.errors import TwinInputError

__all__ = ["by_location", "refuse_stress", "row_sum", "shaped", "times", "vector"]

F64 = NDArray[np.float64]


def row_sum(a: F64) -> F64:
    """Row sums accumulated left to right (independent of trailing zero padding)."""
    if a.shape[1] == 0:
        return np.zeros(a.shape[0])
    return np.asarray(np.cumsum(a, axis=1)[:, -1])


def refuse_stress(s: F64, field: str, offset: int) -> None:
    bad = ~np.isfinite(s)
    if bad.any():
        p, c, k = first_bad(bad)
        raise TwinInputError(
            f"{where(field, (p, k), offset)} component {c}: must be finite; got "
            f"{float(s[p, c, k])!r}."
        )


def times(t: ArrayLike, last: float, *, first: bool) -> F64:
    try:
        tt = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TwinInputError(f"t: must be numeric times (s); got {t!r}.") from err
    if tt.ndim != 1 or tt.shape[0] < 1:
        raise TwinInputError(
            f"t: must be a non-empty 1-D array of times (s); got shape {tt.shape}."
        )
    if not np.isfinite(tt).all():
        i = first_bad(~np.isfinite(tt))[0]
        raise TwinInputError(f"t[{i}]: must be finite; got {float(tt[i])!r}.")
    if tt.shape[0] > 1 and not (np.diff(tt) > 0).all():
        i = int(np.argmax(np.diff(tt) <= 0))
        raise TwinInputError(
            f"t[{i + 1}]: times must increase strictly; got {float(tt[i + 1])!r} after "
            f"{float(tt[i])!r}."
        )
    if (tt[0] < last) if first else (tt[0] <= last):
        rule = "at or after t0" if first else "after the last time seen"
        raise TwinInputError(
            f"t[0]: the batch must start {rule} ({last!r} s); got {float(tt[0])!r}. Pass "
            "consecutive batches in time order."
        )
    return tt


def by_location(name: str, value: Any, locations: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TwinInputError(
            f"{name}: must map each location {list(locations)} to an array; got "
            f"{type(value).__name__}."
        )
    unknown = [k for k in value if k not in locations]
    if unknown:
        raise TwinInputError(
            f"{name}: unknown location {unknown[0]!r}; the damage locations are {list(locations)}."
        )
    missing = [k for k in locations if k not in value]
    if missing:
        raise TwinInputError(
            f"{name}: missing location {missing[0]!r}; pass every one of {list(locations)}."
        )
    return value


def shaped(name: str, value: Any, shape: tuple[int, ...]) -> F64:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TwinInputError(f"{name}: must be numeric; got {type(value).__name__}.") from err
    if a.shape != shape:
        raise TwinInputError(f"{name}: must have shape {shape}; got {a.shape}.")
    return np.ascontiguousarray(a)


def vector(name: str, value: Any, n: int, *, strict: bool) -> F64:
    a = shaped(name, value, (n,))
    if not np.isfinite(a).all():
        i = first_bad(~np.isfinite(a))[0]
        raise TwinInputError(f"{name}[{i}]: must be finite; got {float(a[i])!r}.")
    bad = a <= 0.0 if strict else a < 0.0
    if bad.any():
        i = first_bad(bad)[0]
        rule = "> 0" if strict else ">= 0"
        raise TwinInputError(f"{name}[{i}]: must be {rule}; got {float(a[i])!r}.")
    return a
