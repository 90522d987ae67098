r"""Active learning: add FEM runs where the surrogate is least certain.

Two acquisition rules over a finite candidate set :math:`\{x_c\}` (standardised
outputs, summed over outputs):

- ``"variance"``: the candidate of largest posterior variance :math:`\sigma^2(x_c)`;
- ``"ivr"``: integrated variance reduction, the candidate whose observation most
  reduces the total posterior variance over all candidates,
  :math:`\sum_j \mathrm{cov}(x_j, x_c)^2 / (\sigma^2(x_c) + \sigma_n^2)`
  (Sacks et al. 1989; Gramacy 2020, *Surrogates*, sec. 6.2).

A batch of ``batch_size`` points is chosen greedily: after each pick the candidate
covariance is updated as if the point had been observed (the update does not depend
on the unknown value), so a batch spreads out and can run in parallel on Dask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surrogates.errors import InvalidParameterError
from surrogates.gp import GPSurrogate
from surrogates.validation import metrics

__all__ = ["ActiveLearningResult", "CampaignEvaluator", "active_learning", "select_batch"]

CRITERIA = ("ivr", "variance")


def select_batch(
    gp: GPSurrogate, candidates: ArrayLike, *, batch_size: int, criterion: str = "variance"
) -> NDArray[np.intp]:
    """Return indices of ``batch_size`` candidates to run next.

    Parameters
    ----------
    gp : GPSurrogate
        The current fitted surrogate.
    candidates : array_like, shape (m, n_features)
    batch_size : int
    criterion : {"variance", "ivr"}

    Returns
    -------
    ndarray of int, shape (batch_size,)
    """
    if criterion not in CRITERIA:
        raise InvalidParameterError(
            f"criterion: must be one of {', '.join(CRITERIA)} (got {criterion!r}); pick one"
        )
    C = np.asarray(candidates, dtype=np.float64)
    if not 1 <= batch_size <= C.shape[0]:
        raise InvalidParameterError(
            f"batch_size: must be between 1 and the {C.shape[0]} candidates (got {batch_size}); "
            "ask for fewer points or give more candidates"
        )
    cov = gp.posterior_covariance(C)  # (b, m, m)
    noise = np.asarray(gp.noise_)[:, None]
    chosen: list[int] = []
    for _ in range(batch_size):
        var = np.clip(np.diagonal(cov, axis1=1, axis2=2), 0.0, None)  # (b, m)
        if criterion == "variance":
            score = var.sum(axis=0)
        else:
            score = ((cov**2).sum(axis=1) / (var + noise)).sum(axis=0)
        score[chosen] = -np.inf
        c = int(np.argmax(score))
        chosen.append(c)
        col = cov[:, :, c]  # (b, m)
        cov = cov - col[:, :, None] * col[:, None, :] / (var[:, c] + noise[:, 0])[:, None, None]
    return np.asarray(chosen, dtype=np.intp)


@dataclass
class CampaignEvaluator:
    """``evaluate(X) -> Y`` for :func:`active_learning` that runs each batch as a Dask campaign.

    Each call writes its own zarr store ``<folder>/round-<k>.zarr`` (resumable like any
    campaign) and returns the outputs in column order; non-finite values are refused by
    the next training, naming the run.

    Attributes
    ----------
    function : callable
        Picklable campaign function (e.g. :class:`~surrogates.targets.FemResponses`).
    names : sequence of str
        Parameter names (columns of ``X``).
    outputs : sequence of str
        Outputs to return (columns of ``Y``).
    folder : str
        Where the round stores go.
    n_workers : int
    scheduler_address : str or None
        Reuse one running cluster across rounds (saves the start-up per round).
    """

    function: Callable[[dict[str, float]], Mapping[str, float]]
    names: tuple[str, ...]
    outputs: tuple[str, ...]
    folder: str
    n_workers: int = 2
    scheduler_address: str | None = None
    rounds: int = 0

    def __call__(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """Run the FEM at the rows of ``X`` and return ``(len(X), len(outputs))``."""
        from pathlib import Path

        from surrogates.campaign import run_campaign

        ds = run_campaign(
            self.function,
            X,
            names=self.names,
            store=Path(self.folder) / f"round-{self.rounds}.zarr",
            n_workers=self.n_workers,
            scheduler_address=self.scheduler_address,
            progress=False,
        )
        self.rounds += 1
        return np.column_stack([np.asarray(ds[o].values, dtype=np.float64) for o in self.outputs])


@dataclass
class ActiveLearningResult:
    """Outcome of :func:`active_learning`.

    Attributes
    ----------
    gp : GPSurrogate
        Surrogate fitted on every run.
    X, Y : ndarray
        All runs (inputs, outputs).
    curve : list of dict
        Learning curve: per round ``n_train``, ``mean_std`` and ``max_std`` over the
        candidates (standardised units) and, with validation data, per-output metrics.
    reached : bool
        Whether the target accuracy was met.
    """

    gp: GPSurrogate
    X: NDArray[np.float64]
    Y: NDArray[np.float64]
    curve: list[dict[str, Any]] = field(default_factory=list)
    reached: bool = False


def active_learning(
    evaluate: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    *,
    X_initial: ArrayLike,
    candidates: ArrayLike,
    max_runs: int,
    batch_size: int = 1,
    criterion: str = "variance",
    target_rmse_pct: float = 1.0,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    gp_params: Mapping[str, Any] | None = None,
) -> ActiveLearningResult:
    """Grow a training set by acquisition until a target accuracy or the run budget.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(X (k, d)) -> Y (k, n_outputs)``: runs the FEM (e.g. a Dask campaign).
    X_initial : array_like, shape (n0, d)
        Initial design (already a space-filling design).
    candidates : array_like, shape (m, d)
        Points the acquisition chooses from.
    max_runs : int
        Budget of runs in total (initial ones included).
    batch_size : int
        Runs added per round.
    criterion : {"variance", "ivr"}
    target_rmse_pct : float
        Stop when every output's RMSE on ``validation`` is at most this percentage of
        its range; without validation data, when the largest predictive std over the
        candidates is at most this percentage of the training output range.
    validation : (X_val, Y_val), optional
        Held-out runs for the learning curve and the stopping rule.
    gp_params : mapping, optional
        Keyword arguments of :class:`GPSurrogate`.

    Returns
    -------
    ActiveLearningResult
    """
    C = np.asarray(candidates, dtype=np.float64)
    X = np.asarray(X_initial, dtype=np.float64)
    Y = np.atleast_2d(np.asarray(evaluate(X), dtype=np.float64).T).T
    params = dict(gp_params or {})
    curve: list[dict[str, Any]] = []
    taken = np.zeros(C.shape[0], dtype=bool)
    while True:
        gp = GPSurrogate(**params).fit(X, Y)
        mean_c, std_c = gp.predict(C, extrapolation="flag")
        std_c = np.atleast_2d(np.asarray(std_c).T).T
        span = np.ptp(Y, axis=0)
        span = np.where(span > 0, span, 1.0)
        entry: dict[str, Any] = {
            "n_train": int(X.shape[0]),
            "max_std_pct_range": float(np.max(100.0 * std_c / span)),
            "mean_std_pct_range": float(np.mean(100.0 * std_c / span)),
        }
        if validation is not None:
            Xv = np.asarray(validation[0], dtype=np.float64)
            Yv = np.atleast_2d(np.asarray(validation[1], dtype=np.float64).T).T
            mv, sv = gp.predict(Xv, extrapolation="flag")
            mv = np.atleast_2d(np.asarray(mv).T).T
            sv = np.atleast_2d(np.asarray(sv).T).T
            entry["metrics"] = [
                metrics(Yv[:, j], mv[:, j], std=sv[:, j]) for j in range(Yv.shape[1])
            ]
            reached = all(m["rmse_pct_range"] <= target_rmse_pct for m in entry["metrics"])
        else:
            reached = entry["max_std_pct_range"] <= target_rmse_pct
        curve.append(entry)
        room = max_runs - X.shape[0]
        available = int((~taken).sum())
        if reached or room <= 0 or available == 0:
            return ActiveLearningResult(gp=gp, X=X, Y=Y, curve=curve, reached=reached)
        k = min(batch_size, room, available)
        free = np.flatnonzero(~taken)
        pick = free[select_batch(gp, C[free], batch_size=k, criterion=criterion)]
        taken[pick] = True
        Xn = C[pick]
        Yn = np.atleast_2d(np.asarray(evaluate(Xn), dtype=np.float64).T).T
        X = np.vstack([X, Xn])
        Y = np.vstack([Y, Yn])
