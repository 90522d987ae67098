"""Prognostic and calibration metrics: how early, how accurately, how honestly a twin forecast.

A *prediction profile* is what a replay produces: at prediction times ``t_p`` (n,) the
forecaster gave samples of the time of event (ToE), ``toe_samples`` (n, m); the truth is
the true time of event. Every profile metric takes ``(t_p, toe_samples, truth)``
positionally (``t_p`` in any order; rows follow it), then keyword options.

Two conventions (keyword ``convention``):

``"rul"`` (default; Saxena et al. 2008, 2010)
    Accuracy on the remaining useful life ``r = ToE - t_p`` relative to the true one
    ``r* = truth - t_p``; ``lam`` is a fraction of the life elapsed since the first
    prediction, ``t_lam = t_P + lam (truth - t_P)``; only predictions made before the
    true event count, and a profile is aggregated by a plain mean over them (optional
    ``weights``). Invariant under a shift of the time origin.
``"progpy"`` (NASA ProgPy, ``progpy.metrics.toe_profile_metrics`` and
``UncertainData.relative_accuracy``)
    Accuracy on the time of event relative to the true time of event,
    ``RA = 1 - |ToE* - mean(ToE)| / ToE*``; ``lam`` is an absolute time (the first
    prediction at or after it); means run over every prediction of the profile;
    "within bounds" is strict (ProgPy's ``percentage_in_bounds``).

The alpha-lambda bounds are the same cone in both: ``truth +- alpha (truth - t_p)`` on
the ToE, i.e. ``r* (1 +- alpha)`` on the RUL. The prognostic horizon's accuracy zone is
``truth +- alpha (truth - t_P)`` under ``"rul"`` (Saxena's ``alpha EoL*`` with life counted
from the first prediction) and ``truth +- alpha truth`` under ``"progpy"``. ProgPy has no
convergence metric; its convention here only changes the relative error used.

Calibration metrics of forecast samples against observations (observation first, as in
``scoringrules``) live in :mod:`twin.calibration` and are re-exported here:
:func:`coverage`, :func:`pit`, :func:`interval_score` (Winkler 1972) and :func:`crps`
(continuous ranked probability score, estimated by ``scoringrules``).

References
----------
Saxena, A., Celaya, J., Balaban, E., Goebel, K., Saha, B., Saha, S., Schwabacher, M.
(2008). Metrics for evaluating performance of prognostic techniques. PHM 2008.
Saxena, A., Celaya, J., Saha, B., Saha, S., Goebel, K. (2010). Metrics for offline
evaluation of prognostic performance. Int. J. Prognostics Health Manag. 1, 001.
Coble, J., Hines, J. W. (2009). Identifying optimal prognostic parameters from data:
a genetic algorithms approach. PHM 2009 (monotonicity).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt

from twin.calibration import coverage, crps, interval_score, pit
from twin.errors import TwinInputError

__all__ = [
    "alpha_lambda",
    "convergence",
    "coverage",
    "crps",
    "cumulative_relative_accuracy",
    "interval_score",
    "monotonicity",
    "pit",
    "prognostic_horizon",
    "relative_accuracy",
]

Convention = Literal["rul", "progpy"]
Criterion = Callable[[float, npt.NDArray[np.float64], float], bool]
_CONVENTIONS = ("rul", "progpy")


class _Profile:
    """A validated prediction profile, sorted by prediction time."""

    def __init__(self, t_p: npt.ArrayLike, toe_samples: npt.ArrayLike, truth: float) -> None:
        t = np.asarray(t_p, dtype=np.float64)
        toe = np.asarray(toe_samples, dtype=np.float64)
        if t.ndim != 1 or t.size == 0:
            raise TwinInputError(f"t_p: must be a non-empty 1-D array, got shape {t.shape}")
        if toe.ndim == 1:
            toe = toe[:, None]  # one sample per prediction (point forecasts)
        if toe.ndim != 2 or toe.shape[0] != t.size or toe.shape[1] == 0:
            raise TwinInputError(
                f"toe_samples: must have shape (n, m) with n = len(t_p) = {t.size} and m >= 1,"
                f" got {toe.shape}"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(toe))):
            raise TwinInputError("t_p, toe_samples: must be finite (no NaN or inf)")
        truth_f = float(truth)
        if not math.isfinite(truth_f):
            raise TwinInputError(f"truth: must be a finite time of event, got {truth!r}")
        order = np.argsort(t, kind="stable")
        self.t, self.toe, self.truth = t[order], toe[order], truth_f
        if np.any(np.diff(self.t) == 0):
            raise TwinInputError("t_p: prediction times must be distinct")
        self.order = order

    def before_event(self) -> npt.NDArray[np.bool_]:
        return self.t < self.truth


def _convention(convention: str) -> str:
    if convention not in _CONVENTIONS:
        raise TwinInputError(f"convention: must be one of {_CONVENTIONS}, got {convention!r}")
    return convention


def _fraction(name: str, value: float, *, closed_low: bool = True) -> float:
    v = float(value)
    ok = math.isfinite(v) and (0.0 <= v if closed_low else 0.0 < v) and v <= 1.0
    if not ok:
        low = "0 <=" if closed_low else "0 <"
        raise TwinInputError(f"{name}: must satisfy {low} {name} <= 1, got {value!r}")
    return v


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise TwinInputError(f"{name}: must be a finite number > 0, got {value!r}")
    return v


def _rows(p: _Profile, convention: str, *, what: str) -> npt.NDArray[np.intp]:
    """Rows that a profile mean runs over: before the event ("rul") or all ("progpy")."""
    if convention == "progpy":
        if p.truth == 0.0:
            raise TwinInputError(
                "truth: the progpy convention divides by the true time of event, got 0"
            )
        return np.arange(p.t.size)
    rows = np.flatnonzero(p.before_event())
    if rows.size == 0:
        raise TwinInputError(
            f"t_p: {what} needs a prediction made before the true event ({p.truth!r}); "
            f"the first prediction is at {p.t[0]!r}"
        )
    return rows


def _ra(p: _Profile, rows: npt.NDArray[np.intp], convention: str) -> npt.NDArray[np.float64]:
    """Relative accuracy of each row's mean prediction."""
    mean_toe = p.toe[rows].mean(axis=1)
    if convention == "progpy":
        ra: npt.NDArray[np.float64] = 1.0 - np.abs(p.truth - mean_toe) / p.truth
        return ra
    r_true = p.truth - p.t[rows]
    out: npt.NDArray[np.float64] = 1.0 - np.abs(r_true - (mean_toe - p.t[rows])) / r_true
    return out


def _lambda_time(p: _Profile, lam: float, convention: str) -> float:
    if convention == "progpy":
        v = float(lam)
        if not math.isfinite(v):
            raise TwinInputError(
                f"lam: must be a finite time under the progpy convention, got {lam!r}"
            )
        return v
    frac = _fraction("lam", lam)
    return float(p.t[0] + frac * (p.truth - p.t[0]))


def _row_at(p: _Profile, t_lam: float, convention: str) -> int:
    """Return the first prediction at or after ``t_lam`` (before the event under "rul")."""
    ok = p.t >= t_lam
    if convention == "rul":
        ok &= p.before_event()
    if not ok.any():
        raise TwinInputError(
            f"lam: no prediction at or after t_lam = {t_lam!r}"
            + (" and before the true event" if convention == "rul" else "")
            + f"; predictions span {float(p.t[0]):.6g}..{float(p.t[-1]):.6g}"
        )
    return int(np.argmax(ok))


def alpha_lambda(
    t_p: npt.ArrayLike,
    toe_samples: npt.ArrayLike,
    truth: float,
    *,
    alpha: float = 0.2,
    beta: float = 0.5,
    lam: float = 0.5,
    convention: Convention = "rul",
) -> bool:
    """Whether at least ``beta`` of the prediction at ``t_lam`` lies in the alpha cone.

    Parameters
    ----------
    t_p : array_like, shape (n,)
        Prediction times.
    toe_samples : array_like, shape (n, m)
        Samples of the predicted time of event at each prediction time.
    truth : float
        True time of event.
    alpha : float
        Half-width of the cone as a fraction of the true RUL: ToE within
        ``truth +- alpha (truth - t_p)``.
    beta : float
        Probability mass required inside the cone.
    lam : float
        ``"rul"``: fraction of the life since the first prediction (0..1);
        ``"progpy"``: an absolute time. The metric is evaluated at the first
        prediction at or after ``t_lam``.
    convention : {"rul", "progpy"}
        See the module docstring (bounds inclusive under ``"rul"``, strict under
        ``"progpy"``).

    Returns
    -------
    bool
        True when the alpha-lambda criterion holds.
    """
    conv = _convention(convention)
    a, b = _positive("alpha", alpha), _fraction("beta", beta)
    p = _Profile(t_p, toe_samples, truth)
    i = _row_at(p, _lambda_time(p, lam, conv), conv)
    half = a * (p.truth - p.t[i])
    x = p.toe[i]
    if conv == "progpy":
        inside = (x > p.truth - half) & (x < p.truth + half)
    else:
        inside = (x >= p.truth - half) & (x <= p.truth + half)
    return bool(np.count_nonzero(inside) / x.size >= b)


def prognostic_horizon(
    t_p: npt.ArrayLike,
    toe_samples: npt.ArrayLike,
    truth: float,
    *,
    alpha: float = 0.1,
    beta: float = 0.5,
    reading: Literal["first", "stay"] = "first",
    convention: Convention = "rul",
    criterion: Criterion | None = None,
) -> float | None:
    """Time from the first prediction that meets the accuracy criterion to the true event.

    ``PH = truth - t_i`` (Saxena et al. 2010). Only predictions made before the event
    count (ProgPy keeps a horizon only when it is positive, the same thing).

    Parameters
    ----------
    t_p : array_like, shape (n,)
        Prediction times.
    toe_samples : array_like, shape (n, m)
        Samples of the predicted time of event.
    truth : float
        True time of event.
    alpha : float
        Half-width of the accuracy zone: ``alpha (truth - t_P)`` (``"rul"``, ``t_P`` the
        first prediction time) or ``alpha truth`` (``"progpy"``) around ``truth``.
    beta : float
        Probability mass required inside the zone.
    reading : {"first", "stay"}
        ``"first"``: the first prediction inside the zone (Saxena's definition,
        ProgPy's ``prognostic_horizon``); ``"stay"``: the first prediction after which
        every later prediction (before the event) stays inside.
    convention : {"rul", "progpy"}
        Zone width and strictness (inclusive for ``"rul"``, strict for ``"progpy"``).
    criterion : callable, optional
        ``criterion(t_p, toe_samples_row, truth) -> bool`` replaces the alpha-beta zone
        test (ProgPy's ``criteria_eqn``).

    Returns
    -------
    float or None
        The horizon, in the unit of ``t_p``; None when the criterion is never met (or,
        for ``"stay"``, not met by the last prediction before the event).
    """
    conv = _convention(convention)
    if reading not in ("first", "stay"):
        raise TwinInputError(f"reading: must be 'first' or 'stay', got {reading!r}")
    p = _Profile(t_p, toe_samples, truth)
    rows = np.flatnonzero(p.before_event())
    if rows.size == 0:
        return None
    if criterion is not None:
        met = np.array([bool(criterion(float(p.t[i]), p.toe[i].copy(), p.truth)) for i in rows])
    else:
        a, b = _positive("alpha", alpha), _fraction("beta", beta)
        half = a * (p.truth - p.t[0]) if conv == "rul" else a * abs(p.truth)
        x = p.toe[rows]
        if conv == "progpy":
            inside = (x > p.truth - half) & (x < p.truth + half)
        else:
            inside = (x >= p.truth - half) & (x <= p.truth + half)
        met = inside.mean(axis=1) >= b
    if reading == "first":
        if not met.any():
            return None
        first = int(np.argmax(met))
    else:
        if not met[-1]:
            return None
        failing = np.flatnonzero(~met)
        first = int(failing[-1]) + 1 if failing.size else 0
    return float(p.truth - p.t[rows[first]])


def relative_accuracy(
    t_p: npt.ArrayLike,
    toe_samples: npt.ArrayLike,
    truth: float,
    *,
    lam: float | None = None,
    convention: Convention = "rul",
) -> float:
    """Relative accuracy of the mean prediction, at ``t_lam`` or averaged over the profile.

    ``"rul"``: ``RA = 1 - |r* - mean(r)| / r*`` (Saxena et al. 2010);
    ``"progpy"``: ``RA = 1 - |ToE* - mean(ToE)| / ToE*`` (ProgPy).

    Parameters
    ----------
    t_p : array_like, shape (n,)
        Prediction times.
    toe_samples : array_like, shape (n, m)
        Samples of the predicted time of event.
    truth : float
        True time of event.
    lam : float, optional
        Evaluate at the first prediction at or after ``t_lam`` (fraction of life under
        ``"rul"``, absolute time under ``"progpy"``). Default: the plain mean over the
        predictions made before the event (``"rul"``) or over all (``"progpy"``).
    convention : {"rul", "progpy"}
        See the module docstring.

    Returns
    -------
    float
        Relative accuracy (1 is perfect; negative when the error exceeds the truth).
    """
    conv = _convention(convention)
    p = _Profile(t_p, toe_samples, truth)
    if lam is None:
        rows = _rows(p, conv, what="relative_accuracy")
    else:
        if conv == "progpy":
            _rows(p, conv, what="relative_accuracy")  # checks truth != 0
        rows = np.array([_row_at(p, _lambda_time(p, lam, conv), conv)])
    return float(_ra(p, rows, conv).mean())


def cumulative_relative_accuracy(
    t_p: npt.ArrayLike,
    toe_samples: npt.ArrayLike,
    truth: float,
    *,
    lam: float | None = None,
    weights: npt.ArrayLike | None = None,
    convention: Convention = "rul",
) -> float:
    """Mean relative accuracy over the predictions up to ``t_lam``.

    ``CRA = sum_i w_i RA_i / sum_i w_i`` over the predictions made at or before
    ``t_lam`` (Saxena et al. 2010 write ``(1/|l|) sum w RA``: the same for weights
    averaging 1; ProgPy's ``cumulative_relative_accuracy`` is the plain mean over the
    whole profile).

    Parameters
    ----------
    t_p : array_like, shape (n,)
        Prediction times.
    toe_samples : array_like, shape (n, m)
        Samples of the predicted time of event.
    truth : float
        True time of event.
    lam : float, optional
        Last prediction time included: fraction of life (``"rul"``) or absolute time
        (``"progpy"``). Default: every prediction before the event (``"rul"``) or all
        (``"progpy"``).
    weights : array_like, shape (n,), optional
        Non-negative weight per prediction (in the order of ``t_p``).
    convention : {"rul", "progpy"}
        See the module docstring.

    Returns
    -------
    float
        The cumulative relative accuracy.
    """
    conv = _convention(convention)
    p = _Profile(t_p, toe_samples, truth)
    rows = _rows(p, conv, what="cumulative_relative_accuracy")
    if lam is not None:
        rows = rows[p.t[rows] <= _lambda_time(p, lam, conv)]
        if rows.size == 0:
            raise TwinInputError(f"lam: no prediction at or before t_lam for lam = {lam!r}")
    ra = _ra(p, rows, conv)
    if weights is None:
        return float(ra.mean())
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != p.t.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise TwinInputError(
            f"weights: must be {p.t.size} finite non-negative numbers, got shape {w.shape}"
        )
    w = w[p.order][rows]
    if w.sum() <= 0:
        raise TwinInputError("weights: the predictions used all have zero weight")
    return float(np.sum(w * ra) / np.sum(w))


def convergence(
    t_p: npt.ArrayLike,
    toe_samples: npt.ArrayLike,
    truth: float,
    *,
    convention: Convention = "rul",
) -> float:
    """Distance from ``(t_P, 0)`` to the centroid of the area under the relative error.

    Saxena et al. (2010): with the error ``M_i`` held from ``t_i`` to ``t_{i+1}`` (the last
    until the true event), ``x_c = sum (t_{i+1}^2 - t_i^2) M_i / (2 sum (t_{i+1} - t_i)
    M_i)``, ``y_c = sum (t_{i+1} - t_i) M_i^2 / (2 sum (t_{i+1} - t_i) M_i)`` and
    ``C = sqrt((x_c - t_P)^2 + y_c^2)``; smaller is faster convergence. ``M_i`` is
    ``1 - RA_i`` of the convention; predictions at or after the event are left out.

    Parameters
    ----------
    t_p : array_like, shape (n,)
        Prediction times.
    toe_samples : array_like, shape (n, m)
        Samples of the predicted time of event.
    truth : float
        True time of event.
    convention : {"rul", "progpy"}
        Relative error on the RUL (``"rul"``) or on the ToE (``"progpy"``).

    Returns
    -------
    float
        The convergence distance, in the unit of ``t_p`` (the error axis is
        dimensionless, as in Saxena et al.); 0 for a profile without error.
    """
    conv = _convention(convention)
    p = _Profile(t_p, toe_samples, truth)
    rows = np.flatnonzero(p.before_event())
    if rows.size == 0:
        raise TwinInputError("t_p: convergence needs a prediction made before the true event")
    if conv == "progpy" and p.truth == 0.0:
        raise TwinInputError("truth: the progpy convention divides by the true time of event")
    err = 1.0 - _ra(p, rows, conv)
    t0 = p.t[rows]
    t1 = np.append(t0[1:], p.truth)
    area = np.sum((t1 - t0) * err)
    if area == 0.0:
        return 0.0
    x_c = np.sum((t1**2 - t0**2) * err) / (2.0 * area)
    y_c = np.sum((t1 - t0) * err**2) / (2.0 * area)
    return float(math.hypot(x_c - t0[0], y_c))


def monotonicity(
    t_p: npt.ArrayLike,
    toe_samples: npt.ArrayLike,
    truth: float,
    *,
    convention: Convention = "rul",
) -> float:
    """Monotonicity of the mean predicted RUL: ``|sum sign(r_{i+1} - r_i)| / (n - 1)``.

    Coble & Hines (2009), as ProgPy computes it (on ``mean(ToE) - t_p``).

    Parameters
    ----------
    t_p : array_like, shape (n,)
        Prediction times.
    toe_samples : array_like, shape (n, m)
        Samples of the predicted time of event.
    truth : float
        True time of event (``"rul"`` keeps the predictions made before it).
    convention : {"rul", "progpy"}
        ``"progpy"`` uses every prediction of the profile.

    Returns
    -------
    float
        Between 0 (no trend) and 1 (strictly monotonic).
    """
    conv = _convention(convention)
    p = _Profile(t_p, toe_samples, truth)
    rows = np.arange(p.t.size) if conv == "progpy" else np.flatnonzero(p.before_event())
    if rows.size < 2:
        raise TwinInputError(f"t_p: monotonicity needs two predictions, got {rows.size}")
    rul = p.toe[rows].mean(axis=1) - p.t[rows]
    return float(abs(np.sum(np.sign(np.diff(rul)))) / (rows.size - 1))
