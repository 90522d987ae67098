"""The report's PNG figures (matplotlib, Agg backend), written beside its HTML.

Each function draws one figure into ``out`` and returns the file name (relative, so the
report folder is self-contained). Time axes are years since the scenario's start.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from scenarios._report_inputs import YEAR, Array, RunData
from scenarios._report_metrics import ALPHA, LAMBDA, PIT_BINS, Scored, rul_band

__all__ = [
    "plot_damage",
    "plot_faults",
    "plot_parameters",
    "plot_pit",
    "plot_rul",
    "quantiles",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out: pathlib.Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=100)
    _pyplot().close(fig)
    return name


def quantiles(ds: Any, name: str) -> Array:
    """Return a ``(forecast, 3)`` array of the 5/50/95 % band of ``name`` in ``ds``."""
    var = ds[name]
    other = [d for d in var.dims if d != "forecast"]
    if len(other) != 1 or var.sizes[other[0]] != 3:
        from scenarios.errors import ScenarioRunError

        raise ScenarioRunError(
            f"parameters.nc: {name!r} must have dims (forecast, q3) with q3 = "
            f"[0.05, 0.5, 0.95], got {dict(var.sizes)}"
        )
    return np.asarray(var.transpose("forecast", other[0]).values, dtype=np.float64)


def _years(data: RunData, t: Any) -> Array:
    return (np.asarray(t, dtype=np.float64) - data.start_time) / YEAR


def _grid(n: int, *, width: float = 4.2, height: float = 2.8) -> tuple[Any, Any]:
    cols = min(3, max(n, 1))
    rows = (max(n, 1) + cols - 1) // cols
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, axes


def plot_parameters(data: RunData, matched: dict[str, tuple[str, float]], out: pathlib.Path) -> str:
    """Each hidden parameter's truth against the twin's 90 % posterior band over time."""
    fig, axes = _grid(len(matched))
    t = _years(data, data.forecast_time)
    for ax, (key, (var, truth)) in zip(axes.flat, matched.items(), strict=False):
        q = quantiles(data.parameters_ds, var)
        ax.fill_between(t, q[:, 0], q[:, 2], alpha=0.3, label="twin 90 % band")
        ax.plot(t, q[:, 1], lw=1.2, label="twin median")
        ax.axhline(truth, color="k", ls="--", lw=1, label="truth")
        units = data.parameters_ds[var].attrs.get("units", "")
        ax.set_title(f"{key} [{units}]" if units else key, fontsize=9)
        ax.set_xlabel("years since start", fontsize=8)
        ax.tick_params(labelsize=7)
    if matched:
        axes.flat[0].legend(fontsize=7)
    else:
        axes.flat[0].text(0.5, 0.5, "no hidden parameter estimated", ha="center")
    return _save(fig, out, "parameters.png")


def plot_damage(data: RunData, out: pathlib.Path) -> str:
    """Damage (fatigue, creep per location) and wall: truth, twin band and baseline."""
    truth_ds, est, base = data.truth_ds, data.parameters_ds, data.baseline_ds
    names = [
        str(v)
        for v in truth_ds.data_vars
        if str(v).startswith(("fatigue_", "creep_")) or str(v) == "wall_thickness"
    ]
    names.sort(key=lambda n: (n == "wall_thickness", n))
    fig, axes = _grid(len(names), height=2.6)
    t_truth = _years(data, truth_ds["time"].values)
    t = _years(data, data.forecast_time)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.plot(t_truth, truth_ds[name].values, "k-", lw=1.2, label="truth")
        est_name = "wall_thickness_now" if name == "wall_thickness" else name
        if est_name not in est.data_vars:
            est_name = name
        if est_name in est.data_vars:
            q = quantiles(est, est_name)
            ax.fill_between(t, q[:, 0], q[:, 2], alpha=0.3, color="C0", label="twin 90 %")
            ax.plot(t, q[:, 1], color="C0", lw=1.0, label="twin median")
        if name in base.data_vars:
            ax.plot(t, base[name].values, color="C3", ls="--", lw=1.0, label="baseline")
        ax.set_xlim(0.0, max(float(t[-1]), 1e-9) * 1.05)
        ax.set_title(name + (" [m]" if name == "wall_thickness" else " [-]"), fontsize=9)
        ax.set_xlabel("years since start", fontsize=8)
        ax.tick_params(labelsize=7)
    if names:
        axes.flat[0].legend(fontsize=7)
    return _save(fig, out, "damage.png")


def plot_rul(data: RunData, s: Scored, out: pathlib.Path) -> str:
    """Predicted remaining life against the truth inside the alpha-lambda cone."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    t = s.t_years
    h = s.horizon
    if s.eol_years is not None:
        tl = np.linspace(0.0, s.eol_years, 200)
        r = s.eol_years - tl
        t_lam = float(t[0]) + LAMBDA * (s.eol_years - float(t[0]))
    for ax, who in zip(axes, ("twin", "baseline"), strict=True):
        if s.eol_years is not None:
            ax.plot(tl, np.minimum(r, h), "k-", lw=1.2, label="true RUL")
            ax.fill_between(
                tl,
                np.minimum(r * (1 - ALPHA), h),
                np.minimum(r * (1 + ALPHA), h),
                color="0.8",
                label=f"alpha = {ALPHA:g} cone",
            )
            ax.axvline(t_lam, color="0.4", ls=":", lw=1, label=f"lambda = {LAMBDA:g}")
        else:
            ax.set_title("truth survives its run: no cone", fontsize=8)
        if who == "twin":
            lo, mid, hi = rul_band(s.twin_all)
            ax.fill_between(t, lo, hi, alpha=0.35, color="C0", label="twin 90 % band")
            ax.plot(t, mid, "C0o-", ms=3, lw=1, label="twin median")
        else:
            ax.plot(t, s.base_all, "C3s-", ms=3, lw=1, label="baseline")
        if np.isfinite(h):
            ax.axhline(h, color="0.5", lw=0.6, ls="--")
        ax.set_xlabel("years since start")
        ax.set_title(who, fontsize=10, loc="left")
        ax.legend(fontsize=7)
    lo, _, hi = rul_band(s.twin_all)
    seen = [hi, lo, s.base_all] + ([np.minimum(r * (1 + ALPHA), h)] if s.eol_years else [])
    top = max(float(np.max(v)) for v in seen)
    axes[0].set_ylim(min(0.0, float(np.min(lo))), 1.05 * top if top > 0 else 1.0)
    axes[0].set_ylabel("remaining life [years] (censored at the horizon)")
    return _save(fig, out, "rul.png")


def plot_pit(metrics: dict[str, Any], out: pathlib.Path, name: str = "pit.png") -> str:
    """Histogram of PIT values (uniform for a calibrated forecast)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    u = np.asarray(metrics.get("pit", []), dtype=np.float64)
    edges = np.linspace(0.0, 1.0, PIT_BINS + 1)
    if u.size:
        ax.hist(u, bins=edges, density=True, alpha=0.6, color="C0", label="twin")
    ax.axhline(1.0, color="k", ls="--", lw=1, label="uniform")
    ax.set_xlabel("PIT of the true remaining life")
    ax.set_ylabel("density")
    ax.set_title(f"PIT histogram ({u.size} forecasts)", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, out, name)


def plot_faults(data: RunData, faults: list[dict[str, Any]], out: pathlib.Path) -> str:
    """Timeline of the sensor faults injected against those detected."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.5 * max(len(faults), 2) + 1.2))
    day = 86400.0
    for i, f in enumerate(faults):
        t0 = (float(f["injected_at"]) - data.start_time) / day
        ax.plot(t0, i, "kv", label="injected" if i == 0 else None)
        if f["detected_at"] is not None:
            t1 = (float(f["detected_at"]) - data.start_time) / day
            ax.plot([t0, t1], [i, i], "C2-", lw=1)
            ax.plot(t1, i, "C2o", label="detected" if i == 0 else None)
        else:
            ax.plot(t0, i, "rx", ms=9, label="missed")
    ax.set_yticks(range(len(faults)))
    ax.set_yticklabels([f"{f['kind']} {f['sensor']}" for f in faults], fontsize=8)
    ax.set_xlabel("days since start")
    if faults:
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles, strict=True))
        ax.legend(uniq.values(), uniq.keys(), fontsize=7)
    else:
        ax.text(0.5, 0.5, "no fault injected", ha="center", transform=ax.transAxes)
    return _save(fig, out, "faults.png")
