"""Unit constants: the one place where the edge units meet SI.

Inside the packages everything is SI (K, Pa, m, s). Degrees Celsius, MPa and hours
appear only at the edges (config files, reports, payloads) in names that say so
(``temperature_degC``, ``pressure_MPa``, ``time_h``); the conversions use these
constants and no bare numbers. ``sensors`` imports nothing of ours and keeps its own
single definition of each (see ``sensors/units.py``).
"""

from __future__ import annotations

__all__ = ["HOUR", "MPA", "T20", "ZERO_CELSIUS", "celsius_to_kelvin", "kelvin_to_celsius"]

#: Zero degrees Celsius, K.
ZERO_CELSIUS: float = 273.15
#: One hour, s.
HOUR: float = 3600.0
#: One megapascal, Pa.
MPA: float = 1.0e6
#: 20 degC in K: the reference temperature of the mean thermal-expansion coefficients
#: of ASME II-D Table TE-1.
T20: float = ZERO_CELSIUS + 20.0


def celsius_to_kelvin(t_degc: float) -> float:
    """Return a temperature given in degC in K."""
    return t_degc + ZERO_CELSIUS


def kelvin_to_celsius(t_k: float) -> float:
    """Return a temperature given in K in degC."""
    return t_k - ZERO_CELSIUS
