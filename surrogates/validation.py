r"""Validation metrics of a probabilistic surrogate on held-out FEM runs, and the parity plot.

For held-out truths :math:`y_i`, predictive means :math:`\mu_i` and standard
deviations :math:`s_i` (Gaussian predictive distribution):

- RMSE :math:`\sqrt{\overline{(\mu - y)^2}}`, also as a percentage of the range of ``y``;
- maximum absolute error;
- :math:`R^2 = 1 - \sum (\mu - y)^2 / \sum (y - \bar y)^2`;
- NLPD, the mean negative log predictive density
  :math:`\overline{\tfrac12 \ln(2\pi s^2) + (y - \mu)^2 / (2 s^2)}`
  (Quinonero-Candela et al. 2006, "Evaluating predictive uncertainty challenge");
- coverage: the fraction of ``y`` inside :math:`\mu \pm 1.959964\,s`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surrogates.errors import InvalidInputError

__all__ = ["format_metrics_table", "metrics", "plot_parity"]

Z95 = 1.959963984540054  # two-sided 95 % standard-normal quantile


def metrics(y_true: ArrayLike, mean: ArrayLike, *, std: ArrayLike) -> dict[str, float]:
    """Return RMSE, relative RMSE, max error, R2, NLPD and 95 % coverage of one output.

    Parameters
    ----------
    y_true, mean, std : array_like, shape (n,)
        Held-out truth, predictive mean and standard deviation (same unit).

    Returns
    -------
    dict
        ``rmse``, ``rmse_pct_range``, ``max_abs_error``, ``r2``, ``nlpd``,
        ``coverage_95``, ``n``.
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    mu = np.asarray(mean, dtype=np.float64).ravel()
    s = np.asarray(std, dtype=np.float64).ravel()
    if not (y.shape == mu.shape == s.shape) or y.size == 0:
        raise InvalidInputError(
            "metrics: y_true, mean and std must be equal non-empty shapes "
            f"(got {y.shape}, {mu.shape}, {s.shape}); pass one value of each per sample"
        )
    if (
        not (np.isfinite(y).all() and np.isfinite(mu).all() and np.isfinite(s).all())
        or (s <= 0).any()
    ):
        raise InvalidInputError(
            "metrics: values must be finite and std > 0 (got a non-finite value or a "
            "std <= 0); drop the failed runs before scoring"
        )
    err = mu - y
    rmse = float(np.sqrt(np.mean(err**2)))
    span = float(np.ptp(y))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "n": float(y.size),
        "rmse": rmse,
        "rmse_pct_range": 100.0 * rmse / span if span > 0 else math.inf,
        "max_abs_error": float(np.max(np.abs(err))),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else math.nan,
        "nlpd": float(np.mean(0.5 * np.log(2.0 * np.pi * s**2) + err**2 / (2.0 * s**2))),
        "coverage_95": float(np.mean(np.abs(err) <= Z95 * s)),
    }


def format_metrics_table(
    per_output: Mapping[str, Mapping[str, float]], *, units: Mapping[str, str] | None = None
) -> str:
    """Return a plain-text table, one row per output."""
    cols = ("rmse", "rmse_pct_range", "max_abs_error", "r2", "nlpd", "coverage_95")
    head = ["output", "unit", "RMSE", "RMSE %range", "max |err|", "R2", "NLPD", "cover95"]
    rows = [head]
    for name, m in per_output.items():
        unit = (units or {}).get(name, "")
        rows.append([name, unit] + [f"{m[c]:.4g}" for c in cols])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot_parity(
    y_true: ArrayLike,
    mean: ArrayLike,
    *,
    std: ArrayLike,
    names: Sequence[str],
    path: str | Path,
    units: Mapping[str, str] | None = None,
    scales: Mapping[str, float] | None = None,
) -> Path:
    """Write predicted-versus-FEM panels with 95 % error bars as a PNG.

    Parameters
    ----------
    y_true, mean, std : array_like, shape (n, n_outputs)
    names : sequence of str
        Output names (panel titles).
    path : path-like
        PNG file to write.
    units, scales : mapping, optional
        Per output: unit label and a factor applied before plotting (e.g. 1e-6 for MPa).

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    y = np.atleast_2d(np.asarray(y_true, dtype=np.float64).T).T
    mu = np.atleast_2d(np.asarray(mean, dtype=np.float64).T).T
    s = np.atleast_2d(np.asarray(std, dtype=np.float64).T).T
    k = y.shape[1]
    ncol = min(k, 3)
    nrow = math.ceil(k / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 4.0 * nrow), squeeze=False)
    for j in range(k):
        ax: Any = axes[j // ncol][j % ncol]
        f = (scales or {}).get(names[j], 1.0)
        ax.errorbar(
            y[:, j] * f, mu[:, j] * f, yerr=Z95 * s[:, j] * f, fmt="o", ms=3, capsize=2, lw=0.8
        )
        lo, hi = (
            float(min(y[:, j].min(), mu[:, j].min()) * f),
            float(max(y[:, j].max(), mu[:, j].max()) * f),
        )
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        unit = (units or {}).get(names[j], "")
        ax.set_title(names[j], fontsize=9)
        ax.set_xlabel(f"FEM [{unit}]")
        ax.set_ylabel(f"surrogate [{unit}] (95 % bars)")
    for j in range(k, nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
