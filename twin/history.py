"""The twin's state history as an xarray Dataset, and its plots.

One row per assimilated block (dim ``time``, epoch seconds): for each parameter its
posterior mean and 5/50/95 % quantiles, the current heat-transfer coefficient and
wall thickness (with drift and oxidation), damage per location (fatigue, creep,
envelope margin), effective sample size and resampling events. CF ``units`` on
every variable.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

__all__ = ["history_dataset", "plot_history"]

_QUANT = ("p05", "p50", "p95")


def history_dataset(twin: Any) -> Any:
    """Build the state-history Dataset of a :class:`twin.state.Twin`."""
    import xarray as xr

    rows = twin.history
    t = np.array([r["time"] for r in rows], dtype=np.float64)
    coords = {
        "time": ("time", t, {"units": "seconds since 1970-01-01", "calendar": "standard"}),
        "quantile": ("quantile", np.array([0.05, 0.5, 0.95])),
    }
    data: dict[str, Any] = {}
    units = {p.name: p.unit for p in twin.settings.parameters}
    units.update({"bore_htc_now": "W m-2 K-1", "wall_thickness_now": "m"})
    names = [*twin.settings.parameter_names, "bore_htc_now", "wall_thickness_now"]
    for loc in twin.settings.damage_locations:
        for what in ("fatigue", "creep", "margin"):
            names.append(f"{what}.{loc}")
            units[f"{what}.{loc}"] = "1"
    for name in names:
        key = name.replace(".", "__").replace("-", "_")
        mean = np.array([r[f"{name}.mean"] for r in rows], dtype=np.float64)
        q = np.array([r[f"{name}.q"] for r in rows], dtype=np.float64).reshape(len(rows), 3)
        attrs = {"units": units[name], "long_name": name}
        data[f"{key}_mean"] = ("time", mean, attrs)
        data[f"{key}_quantiles"] = (("time", "quantile"), q, attrs)
    for key, unit in (
        ("ess", "1"),
        ("ess_min", "1"),
        ("resampled", "1"),
        ("observations", "1"),
        ("out_of_range", "1"),
    ):
        data[key] = ("time", np.array([r[key] for r in rows], dtype=np.float64), {"units": unit})
    return xr.Dataset(
        data,
        coords=coords,
        attrs={
            "component": twin.config.component.name,
            "site": twin.config.component.site,
            "particles": twin.settings.particles,
            "config_hash": twin.config.config_hash,
        },
    )


def plot_history(
    ds: Any, out: str | pathlib.Path, *, truth: dict[str, float] | None = None
) -> list[pathlib.Path]:
    """Write ``parameters.png`` (tracking with 90 % bands) and ``damage.png``; return paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(out)
    t_h = (ds["time"].values - ds["time"].values[0]) / 3600.0 if ds.sizes["time"] else np.zeros(0)
    params = [str(v)[: -len("_mean")] for v in ds.data_vars if str(v).endswith("_mean")]
    tracked = [p for p in params if not p.startswith(("fatigue", "creep", "margin"))]
    n = len(tracked)
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.6 * rows), squeeze=False)
    for ax, p in zip(axes.flat, tracked, strict=False):
        q = ds[f"{p}_quantiles"].values
        ax.fill_between(t_h, q[:, 0], q[:, 2], alpha=0.3, label="90 % band")
        ax.plot(t_h, ds[f"{p}_mean"].values, lw=1.2, label="mean")
        if truth and p in truth:
            ax.axhline(truth[p], color="k", ls="--", lw=1, label="truth")
        ax.set_title(
            f"{p.replace('__', '.')} [{ds[f'{p}_mean'].attrs.get('units', '')}]", fontsize=9
        )
        ax.set_xlabel("plant time since start [h]", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    p1 = out / "parameters.png"
    fig.savefig(p1, dpi=110)
    plt.close(fig)

    dmg = [p for p in params if p.startswith(("fatigue", "creep", "margin"))]
    dmg.append("wall_thickness_now")
    fig, axes = plt.subplots(len(dmg), 1, figsize=(7, 2.0 * len(dmg)), squeeze=False, sharex=True)
    for ax, p in zip(axes[:, 0], dmg, strict=True):
        q = ds[f"{p}_quantiles"].values
        ax.fill_between(t_h, q[:, 0], q[:, 2], alpha=0.3)
        ax.plot(t_h, ds[f"{p}_mean"].values, lw=1.2)
        ax.set_ylabel(p.replace("__", "\n"), fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("plant time since start [h]")
    fig.suptitle("damage, envelope margin and wall thickness (mean, 90 % band)", fontsize=10)
    fig.tight_layout()
    p2 = out / "damage.png"
    fig.savefig(p2, dpi=110)
    plt.close(fig)
    return [p1, p2]
