"""The load history of a component: piecewise-linear fluid temperature, pressure, outer temperature.

:class:`LoadHistory` holds the history in SI; :func:`check_loads` validates the arrays of a
config file (edge units) and converts them; :func:`read_load_file` reads them from a CSV
file (columns ``time_h, fluid_temperature_degC, pressure_MPa`` and, for a prescribed outer
surface, ``outer_temperature_degC``).
"""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import ConfigError
from models.units import HOUR, MPA, ZERO_CELSIUS

__all__ = ["LoadHistory", "check_loads", "read_load_file"]


@dataclass(frozen=True, eq=False)
class LoadHistory:
    """Piecewise-linear load history (SI).

    Attributes
    ----------
    time : ndarray, shape (n,)
        Strictly increasing times from 0, s.
    fluid_temperature : ndarray, shape (n,)
        Fluid (steam) temperature at the bore, K.
    pressure : ndarray, shape (n,)
        Internal pressure, Pa.
    outer_temperature : ndarray of shape (n,) or None
        Prescribed outer-surface temperature, K (with ``thermal.outer = "prescribed"``).
    """

    time: NDArray[np.float64]
    fluid_temperature: NDArray[np.float64]
    pressure: NDArray[np.float64]
    outer_temperature: NDArray[np.float64] | None = None

    @property
    def duration(self) -> float:
        """Length of the history, s."""
        return float(self.time[-1] - self.time[0])

    def fluid_temperature_at(self, t: ArrayLike) -> NDArray[np.float64]:
        """Return the fluid temperature at time(s) ``t`` (s), K, by linear interpolation."""
        return np.asarray(
            np.interp(np.asarray(t, dtype=float), self.time, self.fluid_temperature), dtype=float
        )

    def pressure_at(self, t: ArrayLike) -> NDArray[np.float64]:
        """Return the internal pressure at time(s) ``t`` (s), Pa, by linear interpolation."""
        return np.asarray(
            np.interp(np.asarray(t, dtype=float), self.time, self.pressure), dtype=float
        )

    def outer_temperature_at(self, t: ArrayLike) -> NDArray[np.float64] | None:
        """Return the prescribed outer temperature at ``t`` (s), K, or ``None`` if none."""
        if self.outer_temperature is None:
            return None
        return np.asarray(
            np.interp(np.asarray(t, dtype=float), self.time, self.outer_temperature),
            dtype=float,
        )


def check_loads(
    t_h: list[float], tf_c: list[float], p_mpa: list[float], to_c: list[float] | None = None
) -> LoadHistory:
    """Validate load arrays in edge units (h, degC, MPa) and convert them to SI.

    Parameters
    ----------
    t_h, tf_c, p_mpa : list of float
        Times (h), fluid temperatures (degC) and pressures (MPa), equal lengths >= 2.
    to_c : list of float, optional
        Prescribed outer temperatures (degC), same length.

    Returns
    -------
    LoadHistory

    Raises
    ------
    ConfigError
        Naming the array, the index and the value that break a rule (lengths, finite,
        start at 0, strictly increasing times, above absolute zero, pressure >= 0).
    """
    lengths = {
        "loads.time_h": len(t_h),
        "loads.fluid_temperature_degC": len(tf_c),
        "loads.pressure_MPa": len(p_mpa),
    }
    if to_c is not None:
        lengths["loads.outer_temperature_degC"] = len(to_c)
    if len(set(lengths.values())) != 1:
        raise ConfigError(f"load history arrays must have equal lengths; got {lengths}")
    if len(t_h) < 2:
        raise ConfigError(f"loads.time_h: need at least 2 points, got {len(t_h)}")
    t = np.asarray(t_h, dtype=float) * HOUR
    tf = np.asarray(tf_c, dtype=float) + ZERO_CELSIUS
    p = np.asarray(p_mpa, dtype=float) * MPA
    to = None if to_c is None else np.asarray(to_c, dtype=float) + ZERO_CELSIUS
    checked = [
        ("loads.time_h", t, t_h),
        ("loads.fluid_temperature_degC", tf, tf_c),
        ("loads.pressure_MPa", p, p_mpa),
    ]
    if to is not None and to_c is not None:
        checked.append(("loads.outer_temperature_degC", to, to_c))
    for name, arr, edge in checked:
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ConfigError(f"{name}[{bad[0]}]: value {edge[bad[0]]} is not finite")
    if t[0] != 0.0:
        raise ConfigError(f"loads.time_h[0]: the history must start at 0 h, got {t_h[0]}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise ConfigError(
            f"loads.time_h[{i}]: times must increase strictly, got {t_h[i - 1]} then {t_h[i]}"
        )
    if np.any(tf <= 0):
        i = int(np.flatnonzero(tf <= 0)[0])
        raise ConfigError(
            f"loads.fluid_temperature_degC[{i}]: {tf_c[i]} degC is below absolute zero"
        )
    if np.any(p < 0):
        i = int(np.flatnonzero(p < 0)[0])
        raise ConfigError(
            f"loads.pressure_MPa[{i}]: {p_mpa[i]} MPa is negative; give gauge pressure >= 0 in MPa"
        )
    if to is not None and to_c is not None and np.any(to <= 0):
        i = int(np.flatnonzero(to <= 0)[0])
        raise ConfigError(
            f"loads.outer_temperature_degC[{i}]: {to_c[i]} degC is below absolute zero"
        )
    return LoadHistory(time=t, fluid_temperature=tf, pressure=p, outer_temperature=to)


def read_load_file(
    name: str, base_dir: str | pathlib.Path | None
) -> tuple[list[float], list[float], list[float], list[float] | None]:
    """Read the load arrays from a CSV file (edge units in the column names).

    Parameters
    ----------
    name : str
        File name, relative to ``base_dir`` unless absolute.
    base_dir : path or None
        The config file's folder.

    Returns
    -------
    tuple of lists
        ``time_h, fluid_temperature_degC, pressure_MPa`` and ``outer_temperature_degC``
        (``None`` without that column).

    Raises
    ------
    ConfigError
        If the file cannot be read, a column is missing, a row is short or a value is
        not a number (naming the line and the column).
    """
    path = pathlib.Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = pathlib.Path(base_dir) / path
    columns = ["time_h", "fluid_temperature_degC", "pressure_MPa"]
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise ConfigError(
                    f"loads.file {name!r}: missing column(s) {', '.join(missing)}; "
                    f"found {', '.join(header) or 'none'} (units belong in the column names)"
                )
            if "outer_temperature_degC" in header:
                columns.append("outer_temperature_degC")
            rows = list(reader)
    except OSError as err:
        raise ConfigError(f"loads.file: cannot read {name!r}: {err.strerror}") from err
    out: list[list[float]] = [[] for _ in columns]
    for line, row in enumerate(rows, start=2):
        for j, c in enumerate(columns):
            value = row[c]
            if value is None:
                given = sum(row.get(h) is not None for h in header)
                raise ConfigError(
                    f"loads.file {name!r} line {line}: the row has {given} field(s) but the "
                    f"header has {len(header)} ({', '.join(header)}); column {c} is missing. "
                    "Fix: give every row a value for every column"
                )
            try:
                out[j].append(float(value))
            except ValueError as err:
                raise ConfigError(
                    f"loads.file {name!r} line {line}, column {c}: {value!r} is not a number"
                ) from err
    outer = out[3] if len(columns) == 4 else None
    return out[0], out[1], out[2], outer
