"""Calibration metrics of forecast samples against observations.

Observation first, as in ``scoringrules``: :func:`coverage` (fraction of observations in
the central interval), :func:`pit` (probability integral transform), :func:`interval_score`
(Winkler 1972) and :func:`crps` (continuous ranked probability score, estimated by
``scoringrules``). A remaining-life forecast scored over many replayed components should
give a coverage near its probability, uniform PIT values and a small CRPS. Re-exported by
:mod:`twin.metrics`.

References
----------
Winkler, R. L. (1972). A decision-theoretic approach to interval estimation. J. Am.
Stat. Assoc. 67, 187-191. Gneiting, T., Raftery, A. E. (2007). Strictly proper scoring
rules, prediction, and estimation. J. Am. Stat. Assoc. 102, 359-378. Gneiting, T.,
Balabdaoui, F., Raftery, A. E. (2007). Probabilistic forecasts, calibration and
sharpness. J. R. Stat. Soc. B 69, 243-268. Ferro, C. A. T. (2014). Fair scores for
ensemble forecasts. Q. J. R. Meteorol. Soc. 140, 1917-1923.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import TwinInputError

__all__ = ["coverage", "crps", "interval_score", "pit"]


def _fraction(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and 0.0 < v <= 1.0):
        raise TwinInputError(f"{name}: must satisfy 0 < {name} <= 1, got {value!r}")
    return v


def _forecast(
    observation: npt.ArrayLike, samples: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], bool]:
    y = np.asarray(observation, dtype=np.float64)
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 0 or x.shape[:-1] != y.shape or x.shape[-1] == 0:
        raise TwinInputError(
            f"samples: must have shape observation.shape + (m,) = {y.shape} + (m,), got {x.shape}"
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        raise TwinInputError("observation, samples: must be finite (no NaN or inf)")
    return y, x, y.ndim == 0


def _out(value: npt.NDArray[np.float64], scalar: bool) -> Any:
    return float(value) if scalar else value


def coverage(
    observation: npt.ArrayLike, samples: npt.ArrayLike, *, probability: float = 0.9
) -> float:
    """Fraction of observations inside the central interval of their forecast samples.

    Parameters
    ----------
    observation : array_like, shape (k,) or scalar
        True values.
    samples : array_like, shape (k, m) or (m,)
        Forecast samples per observation.
    probability : float
        Probability of the central interval, between the ``(1 - p)/2`` and ``(1 + p)/2``
        sample quantiles (linear interpolation), bounds included.

    Returns
    -------
    float
        Coverage; a calibrated forecast gives ``probability`` on average.
    """
    prob = _fraction("probability", probability)
    y, x, _ = _forecast(observation, samples)
    lo, hi = np.quantile(x, [(1.0 - prob) / 2.0, (1.0 + prob) / 2.0], axis=-1)
    return float(np.mean((y >= lo) & (y <= hi)))


def pit(observation: npt.ArrayLike, samples: npt.ArrayLike) -> Any:
    """Probability integral transform: the forecast CDF at the observation.

    ``PIT = (#{x < y} + #{x = y} / 2) / m`` (ties split); uniform on [0, 1] for a
    calibrated forecast (Gneiting et al. 2007).

    Parameters
    ----------
    observation : array_like, shape (k,) or scalar
        True values.
    samples : array_like, shape (k, m) or (m,)
        Forecast samples per observation.

    Returns
    -------
    float or numpy.ndarray of shape (k,)
        PIT values.
    """
    y, x, scalar = _forecast(observation, samples)
    below = np.count_nonzero(x < y[..., None], axis=-1)
    tied = np.count_nonzero(x == y[..., None], axis=-1)
    return _out((below + 0.5 * tied) / x.shape[-1], scalar)


def interval_score(
    observation: npt.ArrayLike, samples: npt.ArrayLike, *, probability: float = 0.9
) -> Any:
    """Winkler interval score of the central interval of the forecast samples.

    ``IS = (u - l) + (2/a)(l - y) 1{y < l} + (2/a)(y - u) 1{y > u}`` with
    ``a = 1 - probability`` (Winkler 1972; Gneiting & Raftery 2007, eq. 43); lower is
    better.

    Parameters
    ----------
    observation : array_like, shape (k,) or scalar
        True values.
    samples : array_like, shape (k, m) or (m,)
        Forecast samples per observation.
    probability : float
        Probability of the central interval (sample quantiles, linear interpolation).

    Returns
    -------
    float or numpy.ndarray of shape (k,)
        The score, in the unit of the observation.
    """
    prob = _fraction("probability", probability)
    if prob >= 1.0:
        raise TwinInputError(f"probability: must be below 1, got {probability!r}")
    y, x, scalar = _forecast(observation, samples)
    lo, hi = np.quantile(x, [(1.0 - prob) / 2.0, (1.0 + prob) / 2.0], axis=-1)
    a = 1.0 - prob
    score = (hi - lo) + (2.0 / a) * np.maximum(lo - y, 0.0) + (2.0 / a) * np.maximum(y - hi, 0.0)
    return _out(score, scalar)


def crps(
    observation: npt.ArrayLike,
    samples: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    estimator: str = "pwm",
) -> Any:
    """Continuous ranked probability score of forecast samples, by ``scoringrules``.

    ``CRPS(F, y) = E|X - y| - E|X - X'| / 2``; ``scoringrules.crps_ensemble`` estimates it
    (NumPy backend, so results do not depend on whether numba is installed). The default
    ``"pwm"`` (probability-weighted-moment) estimator equals the fair estimator, with
    ``m (m - 1)`` in the second term, unbiased for the distribution the samples are drawn
    from (Ferro 2014), in O(m log m) time and memory (scoringrules' NumPy ``"fair"`` and
    ``"nrg"`` build an m x m matrix); ``"qd"`` scores the empirical distribution itself.

    Parameters
    ----------
    observation : array_like, shape (k,) or scalar
        True values.
    samples : array_like, shape (k, m) or (m,)
        Forecast samples per observation.
    weights : array_like, shape of samples, optional
        Sample weights (e.g. particle weights).
    estimator : str
        A ``scoringrules`` CRPS estimator name.

    Returns
    -------
    float or numpy.ndarray of shape (k,)
        The score, in the unit of the observation; lower is better.
    """
    y, x, scalar = _forecast(observation, samples)
    import scoringrules  # heavy (compiles its kernels at import): only when scored

    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and (w.shape != x.shape or not np.all(np.isfinite(w)) or np.any(w < 0)):
        raise TwinInputError(
            f"weights: must be finite, non-negative and of shape {x.shape}, got shape {w.shape}"
        )
    try:
        value = scoringrules.crps_ensemble(y, x, ens_w=w, estimator=estimator, backend="numpy")
    except ValueError as err:
        raise TwinInputError(f"estimator: {estimator!r} rejected by scoringrules: {err}") from err
    return _out(np.asarray(value, dtype=np.float64), scalar)
