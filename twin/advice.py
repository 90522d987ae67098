r"""Operating advice from forecasts: plans side by side, and the limit of one plan parameter.

:func:`compare_plans` forecasts several duty plans with the same seed, so they share the
posterior, material and (kind by kind) duty samples: the differences in their
remaining-life distributions are the plans', not Monte Carlo noise.

:func:`advise` finds the largest value of one cycle-shape parameter (the ramp rate, or
the hold temperature, of all start-up kinds or the named ones) that keeps the
probability of failure before a date at or below a target :math:`p^*`, by bisection
on :math:`\hat p(x)`, which rises with :math:`x`. Its uncertainty is the Monte Carlo
error of :math:`\hat p`: with the Wilson 95 % interval
:math:`[\hat p_-(x), \hat p_+(x)]` of a binomial proportion over the samples, the
same bisection on :math:`\hat p_+(x) = p^*` and on :math:`\hat p_-(x) = p^*` brackets the
value (the first is the conservative end). Evaluations are cached.

Reference: E. B. Wilson, "Probable inference, the law of succession, and statistical
inference", J. Am. Stat. Assoc. 22 (1927) 209-212.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import TwinConfigError, TwinInputError
from twin.plan import DutyPlan

if TYPE_CHECKING:
    from twin.forecast import Forecaster, ForecastResult

__all__ = ["Advice", "advise", "compare_plans", "compare_table", "wilson_interval"]

_Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (default 95 %)."""
    if n <= 0:
        raise TwinInputError(f"n: must be >= 1 (got {n})")
    p = k / n
    den = 1.0 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def compare_plans(
    forecaster: Forecaster,
    plans: Sequence[DutyPlan],
    *,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> list[ForecastResult]:
    """Forecast every plan with the same seed (common random numbers)."""
    return [forecaster.run(p, seed=seed, progress=progress) for p in plans]


def compare_table(
    results: Sequence[ForecastResult], *, by_years: float | None = None
) -> list[dict[str, Any]]:
    """One row per plan: RUL quantiles, probability of failure by a date, dominant mechanism."""
    from twin._forecast_output import dominant_mechanism, rul_quantiles

    rows = []
    for r in results:
        h = r.meta["horizon_years"] if by_years is None else by_years
        k = int(np.count_nonzero(r.time_to_failure <= h))
        n = r.time_to_failure.size
        lo, hi = wilson_interval(k, n)
        q = rul_quantiles(r.time_to_failure)
        rows.append(
            {
                "plan": r.plan.name,
                "rul_p05_years": q[0],
                "rul_p50_years": q[1],
                "rul_p95_years": q[2],
                "by_years": h,
                "probability_of_failure": k / n,
                "probability_interval": [lo, hi],
                "dominant_mechanism": dominant_mechanism(r),
            }
        )
    return rows


@dataclass
class Advice:
    r"""The result of :func:`advise` (SI values).

    Attributes
    ----------
    parameter : str
    value : float or None
        Largest value with :math:`\\hat p \\le p^*` (None: even the lower bound fails it).
    interval : (float or None, float or None)
        Values where the Wilson upper and lower bounds reach :math:`p^*` (conservative,
        optimistic).
    probability : float or None
        :math:`\\hat p` at ``value``.
    at_bound : bool
        ``value`` is the upper end of the search range (the target holds there).
    evaluations : list of (float, float, int)
        ``(x, p_hat, samples)`` of every forecast run.
    """

    parameter: str
    by_years: float
    max_probability: float
    bounds: tuple[float, float]
    value: float | None
    interval: tuple[float | None, float | None]
    probability: float | None
    at_bound: bool
    evaluations: list[tuple[float, float, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "parameter": self.parameter,
            "by_years": self.by_years,
            "max_probability": self.max_probability,
            "bounds": list(self.bounds),
            "value": self.value,
            "interval": list(self.interval),
            "probability": self.probability,
            "at_bound": self.at_bound,
            "evaluations": [list(e) for e in self.evaluations],
        }


def advise(
    forecaster: Forecaster,
    plan: DutyPlan,
    *,
    parameter: str,
    bounds: tuple[float, float],
    by_years: float,
    max_probability: float,
    kinds: tuple[str, ...] = (),
    tolerance: float | None = None,
    seed: int = 0,
) -> Advice:
    """Find the largest ``parameter`` keeping P(failure by ``by_years``) <= ``max_probability``.

    Parameters
    ----------
    forecaster : Forecaster
    plan : DutyPlan
        The plan whose start-up kinds get the parameter.
    parameter : {"ramp_rate", "hold_temperature"}
        (or ``shutdown_rate``, ``hold_pressure``), SI: K/s, K, Pa.
    bounds : (float, float)
        Search range, SI (low < high).
    by_years : float
        The date, years from the forecast start (<= the horizon).
    max_probability : float
        Target, in (0, 1).
    kinds : tuple of str, optional
        Start-up kinds to change (default all).
    tolerance : float, optional
        Width of the final bracket, SI (default 1/100 of the range).
    seed : int, optional

    Raises
    ------
    TwinConfigError
        On an empty range, a date beyond the horizon or a probability outside (0, 1).
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:
        raise TwinConfigError(f"advice.bounds: needs low < high (got [{lo!r}, {hi!r}])")
    if not 0.0 < max_probability < 1.0:
        raise TwinConfigError(
            f"advice.max_probability: must be in (0, 1) (got {max_probability!r})"
        )
    horizon = forecaster.options.horizon_years
    if not 0.0 < by_years <= horizon:
        raise TwinConfigError(
            f"advice.by_years: must be in (0, horizon {horizon}] (got {by_years!r})"
        )
    tol = (hi - lo) / 100.0 if tolerance is None else float(tolerance)
    cache: dict[float, tuple[int, int]] = {}
    evals: list[tuple[float, float, int]] = []

    def failures(x: float) -> tuple[int, int]:
        key = round(x, 12)
        if key not in cache:
            r = forecaster.run(plan.with_parameter(parameter, x, kinds=kinds), seed=seed)
            k = int(np.count_nonzero(r.time_to_failure <= by_years))
            cache[key] = (k, r.time_to_failure.size)
            evals.append((x, k / r.time_to_failure.size, r.time_to_failure.size))
        return cache[key]

    def estimate(x: float, which: int) -> float:
        k, n = failures(x)
        if which == 0:
            return k / n
        a, b = wilson_interval(k, n)
        return b if which > 0 else a

    def largest(which: int) -> float | None:
        if estimate(lo, which) > max_probability:
            return None
        if estimate(hi, which) <= max_probability:
            return hi
        a, b = lo, hi
        while b - a > tol:
            m = 0.5 * (a + b)
            if estimate(m, which) <= max_probability:
                a = m
            else:
                b = m
        return a

    value = largest(0)
    conservative = largest(+1)
    optimistic = largest(-1)
    return Advice(
        parameter=parameter,
        by_years=float(by_years),
        max_probability=float(max_probability),
        bounds=(lo, hi),
        value=value,
        interval=(conservative, optimistic),
        probability=None if value is None else estimate(value, 0),
        at_bound=value == hi,
        evaluations=sorted(evals),
    )
