"""Priors of the twin's parameters: the distributions, their defaults and their parsing.

A prior is ``normal`` (``mean``, ``std``), ``lognormal`` (``median``, ``cov``: the
coefficient of variation, ``sigma = sqrt(log(1 + cov^2))``), ``uniform`` (``low``,
``high``) or ``fixed`` (``value``), given in the edge unit its config key names and held
in SI (:class:`Prior`). :data:`DEFAULT_PRIORS` and :data:`DEFAULT_SENSOR` are the
documented defaults of :mod:`twin.settings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import TwinConfigError

__all__ = ["DEFAULT_PRIORS", "DEFAULT_SENSOR", "MICRO", "YEAR", "Prior", "parse_prior"]

YEAR = 365.25 * 86400.0  # s
MICRO = 1.0e-6

#: name -> (edge unit, SI factor, default prior, what the parameter is).
DEFAULT_PRIORS: dict[str, tuple[str, float, dict[str, Any], str]] = {
    "bore_htc": (
        "W_m2K",
        1.0,
        {"distribution": "lognormal", "median": 2500.0, "cov": 0.3},
        "bore heat-transfer coefficient at the start of assimilation",
    ),
    "bore_htc_drift": (
        "per_year",
        1.0 / YEAR,
        {"distribution": "normal", "mean": 0.0, "std": 0.02},
        "relative change of the bore heat-transfer coefficient per year (fouling < 0)",
    ),
    "wall_thickness": (
        "m",
        1.0,
        {"distribution": "normal", "mean": 0.05, "std": 0.001},
        "wall thickness at the start of assimilation",
    ),
    "oxidation_factor": (
        "1",
        1.0,
        {"distribution": "lognormal", "median": 1.0, "cov": 0.3},
        "factor on the parabolic oxidation rate constant",
    ),
    "creep_strength_factor": (
        "1",
        1.0,
        {"distribution": "lognormal", "median": 1.0, "cov": 0.1},
        "factor on the material's creep rupture strength",
    ),
}

#: Per sensor quantity: noise key and default, then parameter name -> (edge unit, SI
#: factor, default prior). Thermocouples have a bias and a drift; strain gauges an
#: offset and a drift; thickness and creep-strain gauges only noise.
DEFAULT_SENSOR: dict[str, dict[str, Any]] = {
    "temperature": {
        "noise": ("K", 1.0, 0.5),
        "params": {
            "bias": ("K", 1.0, {"distribution": "normal", "mean": 0.0, "std": 3.0}),
            "drift": (
                "K_per_year",
                1.0 / YEAR,
                {"distribution": "normal", "mean": 0.0, "std": 0.5},
            ),
        },
    },
    "strain": {
        "noise": ("microstrain", MICRO, 5.0),
        "params": {
            "offset": (
                "microstrain",
                MICRO,
                {"distribution": "normal", "mean": 0.0, "std": 200.0},
            ),
            "drift": (
                "microstrain_per_year",
                MICRO / YEAR,
                {"distribution": "normal", "mean": 0.0, "std": 20.0},
            ),
        },
    },
    "pressure": {"noise": ("MPa", 1.0e6, 0.05), "params": {}},
    "wall_thickness": {"noise": ("mm", 1.0e-3, 0.2), "params": {}},
    "creep_strain": {"noise": ("microstrain", MICRO, 20.0), "params": {}},
}

_PRIOR_FIELDS = {
    "normal": ("mean", "std"),
    "lognormal": ("median", "cov"),
    "uniform": ("low", "high"),
    "fixed": ("value",),
}


@dataclass(frozen=True)
class Prior:
    """A prior distribution in SI units.

    Attributes
    ----------
    distribution : {"normal", "lognormal", "uniform", "fixed"}
    a, b : float
        ``(mean, std)``, ``(median, sigma_log)``, ``(low, high)`` or ``(value, 0)``, SI.
    """

    distribution: str
    a: float
    b: float

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """Draw ``n`` values (SI)."""
        if self.distribution == "normal":
            return rng.normal(self.a, self.b, n)
        if self.distribution == "lognormal":
            return self.a * np.exp(rng.normal(0.0, self.b, n))
        if self.distribution == "uniform":
            return rng.uniform(self.a, self.b, n)
        return np.full(n, self.a)

    @property
    def mean(self) -> float:
        """Mean of the prior (SI)."""
        if self.distribution == "lognormal":
            return float(self.a * math.exp(0.5 * self.b * self.b))
        if self.distribution == "uniform":
            return 0.5 * (self.a + self.b)
        return self.a

    @property
    def std(self) -> float:
        """Standard deviation of the prior (SI)."""
        if self.distribution == "normal":
            return self.b
        if self.distribution == "lognormal":
            s2 = self.b * self.b
            return float(self.a * math.exp(0.5 * s2) * math.sqrt(math.expm1(s2)))
        if self.distribution == "uniform":
            return (self.b - self.a) / math.sqrt(12.0)
        return 0.0

    def interval(self, p: float) -> tuple[float, float]:
        """Central interval holding probability ``p`` (SI)."""
        from scipy.stats import norm

        z = float(norm.ppf(0.5 + 0.5 * p))
        if self.distribution == "normal":
            return self.a - z * self.b, self.a + z * self.b
        if self.distribution == "lognormal":
            return self.a * math.exp(-z * self.b), self.a * math.exp(z * self.b)
        if self.distribution == "uniform":
            half = 0.5 * p * (self.b - self.a)
            mid = 0.5 * (self.a + self.b)
            return mid - half, mid + half
        return self.a, self.a

    def to_unconstrained(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map values to the space the jitter kernel works in (log for lognormal)."""
        if self.distribution == "lognormal":
            return np.log(np.maximum(x, 1e-300))
        if self.distribution == "uniform":
            u = np.clip((x - self.a) / (self.b - self.a), 1e-12, 1.0 - 1e-12)
            return np.log(u / (1.0 - u))
        return x

    def from_unconstrained(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Inverse of :meth:`to_unconstrained`."""
        if self.distribution == "lognormal":
            return np.exp(y)
        if self.distribution == "uniform":
            return self.a + (self.b - self.a) / (1.0 + np.exp(-y))
        return y


def _number(table: Mapping[str, Any], key: str, where: str, default: float) -> float:
    raw = table.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise TwinConfigError(f"{where}.{key}: must be a finite number (got {raw!r})")
    return float(raw)


def parse_prior(raw: Any, where: str, factor: float) -> Prior:
    """Validate a prior table (edge units times ``factor``) into a :class:`Prior` (SI)."""
    if not isinstance(raw, Mapping):
        raise TwinConfigError(
            f"{where}: a prior is a table such as "
            f'{{ distribution = "normal", mean = 0.0, std = 1.0 }} (got {raw!r})'
        )
    dist = raw.get("distribution")
    if dist not in _PRIOR_FIELDS:
        raise TwinConfigError(
            f"{where}.distribution: must be one of {sorted(_PRIOR_FIELDS)} (got {dist!r})"
        )
    names = _PRIOR_FIELDS[dist]
    unknown = sorted(set(raw) - {"distribution", *names})
    if unknown:
        raise TwinConfigError(
            f"{where}: unknown keys {unknown} for a {dist} prior; it takes {list(names)}"
        )
    missing = [k for k in names if k not in raw]
    if missing:
        raise TwinConfigError(f"{where}: a {dist} prior needs {list(names)}; missing {missing}")
    vals = [_number(raw, k, where, 0.0) for k in names]
    if dist == "normal":
        if vals[1] <= 0:
            raise TwinConfigError(f"{where}.std: must be > 0 (got {vals[1]})")
        return Prior(dist, vals[0] * factor, vals[1] * factor)
    if dist == "lognormal":
        if vals[0] <= 0 or vals[1] <= 0:
            raise TwinConfigError(
                f"{where}: median and cov must be > 0 (got median={vals[0]}, cov={vals[1]})"
            )
        return Prior(dist, vals[0] * factor, math.sqrt(math.log1p(vals[1] ** 2)))
    if dist == "uniform":
        if not vals[0] < vals[1]:
            raise TwinConfigError(f"{where}: needs low < high (got [{vals[0]}, {vals[1]}])")
        return Prior(dist, vals[0] * factor, vals[1] * factor)
    return Prior(dist, vals[0] * factor, 0.0)


def _key(name: str, edge: str) -> str:
    """Config key of a parameter: its name with the edge unit (none when dimensionless)."""
    return name if edge == "1" else f"{name}_{edge}"


def _si_unit(edge: str) -> str:
    return {
        "W_m2K": "W m-2 K-1",
        "per_year": "s-1",
        "m": "m",
        "1": "1",
        "K": "K",
        "K_per_year": "K s-1",
        "microstrain": "1",
        "microstrain_per_year": "s-1",
    }[edge]
