"""Prognostic and calibration metrics of one replayed scenario, twin and baseline.

The true remaining life at forecast time ``t`` is ``(end_of_life - t) / YEAR`` years.
A sample of ``inf`` means "survives the forecast horizon H": every sample and the truth
are *censored* at H (``min(r, H)``) before they are scored, so the CRPS is that of the
censored distributions (the part of the CRPS integral below H; Gneiting & Raftery
2007), an interval whose upper end reaches H holds a truth beyond H, and a PIT value of
a truth at H splits the tie with the samples at H. When the truth survived its own run
(``end_of_life`` null) a forecast is scored only if the truth ran on past ``t + H``
(its censored remaining life is then exactly H); the prognostic metrics (alpha-lambda,
prognostic horizon, relative accuracies, convergence) need a true end of life and are
null, with the reason in the notes.

Prognostic metrics come from :mod:`twin.metrics` under its ``"rul"`` convention (Saxena
et al. 2010): ``lam`` is a fraction of the life counted from the first forecast, and the
prognostic-horizon fraction is ``PH / (end_of_life - t_first)``. Calibration comes from
:mod:`twin.calibration`. The deterministic baseline is scored the same way with one
sample per forecast: its CRPS is the absolute error (the CRPS of a point mass), its
"interval" is the point itself, so it covers the truth only where both are censored at
H, and its PIT is 0, 1/2 or 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from scenarios._report_inputs import YEAR, Array, RunData
from twin.calibration import coverage, crps, pit
from twin.errors import TwinInputError
from twin.metrics import (
    alpha_lambda,
    convergence,
    cumulative_relative_accuracy,
    prognostic_horizon,
    relative_accuracy,
)

__all__ = ["ALPHA", "LAMBDA", "PIT_BINS", "Scored", "half_life_row", "rul_band", "score_run"]

ALPHA = 0.2  # half-width of the alpha-lambda cone, fraction of the true RUL
LAMBDA = 0.5  # fraction of life (from the first forecast) where alpha-lambda is read
PIT_BINS = 10


class Scored:
    """The truth and the censored predictions a run's metrics are computed on.

    Attributes
    ----------
    t_years : numpy.ndarray, shape (n,)
        Forecast times, years since the scenario's start.
    true_rul : numpy.ndarray, shape (n,)
        True remaining life, years (inf where the truth survived).
    rows : numpy.ndarray of int
        Forecasts that are scored (made before the end of life, truth known up to H).
    truth_c : numpy.ndarray, shape (len(rows),)
        The censored true remaining life of the scored forecasts, years.
    twin_c, base_c : numpy.ndarray
        Censored twin samples (len(rows), m) and baseline points (len(rows),), years.
    eol_years : float or None
        True end of life, years since the start.
    """

    def __init__(self, data: RunData) -> None:
        h = np.inf if data.horizon_years is None else float(data.horizon_years)
        self.horizon = h
        self.t_years: Array = (data.forecast_time - data.start_time) / YEAR
        eol = data.end_of_life
        if eol is not None:
            self.eol_years: float | None = (eol - data.start_time) / YEAR
            self.true_rul: Array = (eol - data.forecast_time) / YEAR
            ok = self.true_rul > 0.0
        else:
            self.eol_years = None
            self.true_rul = np.full(data.forecast_time.shape, np.inf)
            end = data.truth_end
            ok = np.zeros(data.forecast_time.shape, dtype=bool)
            if end is not None and np.isfinite(h):
                ok = (end - data.forecast_time) / YEAR >= h
        self.rows = np.flatnonzero(ok)
        self.truth_c: Array = np.minimum(self.true_rul[self.rows], h)
        self.twin_all: Array = np.minimum(data.rul_samples, h)
        self.base_all: Array = np.minimum(data.baseline_rul, h)
        self.twin_c: Array = self.twin_all[self.rows]
        self.base_c: Array = self.base_all[self.rows]


def _calibration(truth: Array, samples: Array, *, point: bool) -> dict[str, Any]:
    if truth.size == 0:
        return {
            "coverage_50": None,
            "coverage_80": None,
            "coverage_90": None,
            "crps": None,
            "pit": [],
            "pit_histogram": [0] * PIT_BINS,
        }
    x = samples[:, None] if point else samples
    u = np.asarray(pit(truth, x), dtype=np.float64)
    hist, _ = np.histogram(u, bins=PIT_BINS, range=(0.0, 1.0))
    # a point's CRPS is its absolute error (Gneiting & Raftery 2007, CRPS of a point mass)
    score = np.abs(samples - truth) if point else np.asarray(crps(truth, x), dtype=np.float64)
    return {
        "coverage_50": coverage(truth, x, probability=0.5),
        "coverage_80": coverage(truth, x, probability=0.8),
        "coverage_90": coverage(truth, x, probability=0.9),
        "crps": float(np.mean(score)),
        "pit": [float(v) for v in u],
        "pit_histogram": [int(c) for c in hist],
    }


def _try(fn: Callable[[], Any], name: str, who: str, notes: list[str]) -> Any:
    try:
        return fn()
    except TwinInputError as err:
        notes.append(f"{who}: {name} not computed: {err}")
        return None


def half_life_row(t_years: Array, eol_years: float) -> int | None:
    """Return the first forecast at or after half the life (from the first forecast)."""
    t0 = float(t_years[0])
    t_lam = t0 + LAMBDA * (eol_years - t0)
    ok = (t_years >= t_lam) & (t_years < eol_years)
    return int(np.argmax(ok)) if ok.any() else None


def _prognostic(s: Scored, pred: Array, who: str, notes: list[str]) -> dict[str, Any]:
    keys = (
        "alpha_lambda_pass",
        "prognostic_horizon_fraction",
        "cra",
        "convergence",
        "ra_half_life",
        "rul_error_at_half_life",
    )
    out: dict[str, Any] = dict.fromkeys(keys)
    if s.eol_years is None:
        return out
    eol = s.eol_years
    toe = s.t_years[:, None] + pred if pred.ndim == 2 else s.t_years + pred
    tp = s.t_years
    out["alpha_lambda_pass"] = _try(
        lambda: alpha_lambda(tp, toe, eol, alpha=ALPHA, lam=LAMBDA), "alpha_lambda", who, notes
    )
    ph = _try(
        lambda: prognostic_horizon(tp, toe, eol, alpha=ALPHA), "prognostic_horizon", who, notes
    )
    before = tp < eol
    if before.any():
        life = eol - float(tp[0])
        if ph is None:
            notes.append(
                f"{who}: no forecast before the end of life met the +-{ALPHA:g} accuracy "
                "zone: prognostic horizon 0"
            )
        out["prognostic_horizon_fraction"] = 0.0 if ph is None else float(ph) / life
    out["cra"] = _try(lambda: cumulative_relative_accuracy(tp, toe, eol), "cra", who, notes)
    out["convergence"] = _try(lambda: convergence(tp, toe, eol), "convergence", who, notes)
    out["ra_half_life"] = _try(
        lambda: relative_accuracy(tp, toe, eol, lam=LAMBDA), "ra_half_life", who, notes
    )
    i = half_life_row(s.t_years, eol)
    if i is not None:
        centre = float(np.median(pred[i])) if pred.ndim == 2 else float(pred[i])
        out["rul_error_at_half_life"] = centre - float(s.true_rul[i])
    return out


def score_run(data: RunData) -> tuple[dict[str, Any], Scored, list[str]]:
    """Compute the report's metrics of the twin and of the baseline.

    Parameters
    ----------
    data : RunData
        A loaded run folder.

    Returns
    -------
    metrics : dict
        ``alpha_lambda_pass``, ``prognostic_horizon_fraction``, ``cra``, ``convergence``,
        ``ra_half_life``, ``rul_error_at_half_life`` (years, median minus truth),
        ``coverage_50/80/90``, ``crps`` (years), ``pit`` and ``pit_histogram``
        (10 bins), ``crps_ratio`` (twin / baseline), ``scored`` (forecasts scored) and
        ``baseline`` with the same keys (its ``crps_ratio`` is null).
    scored : Scored
        The censored truth and predictions (for the figures).
    notes : list of str
        Why a metric is null or degenerate.
    """
    s = Scored(data)
    notes: list[str] = []
    if s.eol_years is None:
        notes.append(
            "the truth survived its run (end_of_life null): the prognostic metrics "
            "(alpha-lambda, prognostic horizon, RA, CRA, convergence) need a true end of "
            "life and are null"
        )
    if s.rows.size == 0:
        notes.append(
            "no forecast could be scored (none before the end of life, or the surviving "
            "truth did not run a horizon past any forecast): calibration metrics are null"
        )
    elif s.rows.size < data.forecast_time.size:
        notes.append(
            f"{data.forecast_time.size - s.rows.size} of {data.forecast_time.size} forecasts "
            "are not scored (made at or after the end of life, or the truth unknown to H)"
        )
    if np.isfinite(s.horizon):
        notes.append(
            f"remaining lives beyond the {s.horizon:g}-year horizon (inf samples) are "
            "censored at it, truth too: CRPS, coverage and PIT are of the censored "
            "distributions"
        )
    notes.append(
        "the baseline is deterministic: its CRPS is its absolute error and its interval "
        "is a point (it covers the truth only where both are censored at the horizon)"
    )
    twin = _prognostic(s, s.twin_all, "twin", notes)
    twin.update(_calibration(s.truth_c, s.twin_c, point=False))
    base = _prognostic(s, s.base_all, "baseline", notes)
    base.update(_calibration(s.truth_c, s.base_c, point=True))
    twin["scored"] = base["scored"] = int(s.rows.size)
    c_twin, c_base = twin["crps"], base["crps"]
    twin["crps_ratio"] = (
        c_twin / c_base if c_twin is not None and c_base not in (None, 0.0) else None
    )
    base["crps_ratio"] = None
    twin["baseline"] = base
    return twin, s, notes


def rul_band(samples: npt.NDArray[np.float64]) -> tuple[Array, Array, Array]:
    """Return the 5 %, 50 % and 95 % quantiles of censored samples per forecast (years)."""
    q = np.quantile(samples, [0.05, 0.5, 0.95], axis=1)
    return q[0], q[1], q[2]
