"""What a forecast reports: the JSON summary, the xarray dataset, the fan chart and risk curve.

The remaining life's quantiles are those of the time to failure over all samples, the
survivors counting as beyond the horizon (a quantile beyond the horizon is ``None``).
The probability of failure at a time is the fraction of samples failed by then.
Mechanisms and locations are reported with ``none`` for the survivors, so each sums
to 1.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from twin.forecast import ForecastResult

__all__ = ["dataset", "plot_compare", "plot_fan", "plot_risk", "rul_quantiles", "summary"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
RUL_Q = (0.05, 0.5, 0.95)


def rul_quantiles(ttf: NDArray[np.float64], q: tuple[float, ...] = RUL_Q) -> list[float | None]:
    """Quantiles of the time to failure (``inf`` for survivors); ``None`` beyond the horizon.

    The q-quantile is the smallest time by which at least a fraction q of the samples
    failed (the inverse of the empirical distribution, ``numpy.quantile``'s
    ``"inverted_cdf"``).
    """
    out: list[float | None] = []
    for p in q:
        v = float(np.quantile(ttf, p, method="inverted_cdf"))
        out.append(v if np.isfinite(v) else None)
    return out


def probability_of_failure(result: ForecastResult) -> NDArray[np.float64]:
    """Fraction of the samples failed by each time of ``result.years``."""
    s = np.sort(result.time_to_failure)
    return np.searchsorted(s, result.years, side="right") / s.size


def _fractions(
    codes: NDArray[np.int8], names: tuple[str, ...], offset: int = 0
) -> dict[str, float]:
    n = codes.size
    return {name: float(np.count_nonzero(codes == i - offset)) / n for i, name in enumerate(names)}


def summary(result: ForecastResult) -> dict[str, Any]:
    """Return the ``twin forecast --json`` object (docs/forecast.md, "The command")."""
    from twin.forecast import MECHANISMS

    q = rul_quantiles(result.time_to_failure)
    pof = probability_of_failure(result)
    locations = ("none", *result.locations)
    return {
        "rul_years": dict(zip(("p05", "p50", "p95"), q, strict=True)),
        "horizon_years": result.meta["horizon_years"],
        "probability_of_failure": [
            [float(t), float(p)] for t, p in zip(result.years, pof, strict=True)
        ],
        "mechanism": _fractions(result.mechanism, MECHANISMS),
        "location": _fractions(result.location, locations, offset=1),
        "samples": int(result.time_to_failure.size),
    }


def dominant_mechanism(result: ForecastResult) -> str:
    """Return the failure mechanism of most failed samples (``none`` when none failed)."""
    from twin.forecast import MECHANISMS

    counts = np.bincount(result.mechanism, minlength=len(MECHANISMS))[1:]
    return "none" if counts.sum() == 0 else MECHANISMS[1 + int(np.argmax(counts))]


def dataset(result: ForecastResult) -> Any:
    """Return the samples, trajectory quantiles and summary of a forecast (xarray)."""
    import xarray as xr

    from twin.forecast import MECHANISMS

    tr = result.trajectories
    qs = np.array(QUANTILES)
    ttf = result.time_to_failure
    q_rul = rul_quantiles(ttf)
    loc_names = ("none", *result.locations)
    q_of = {k: np.quantile(tr[k], qs, axis=1) for k in ("usage", "fatigue", "creep", "wall")}
    qtl = ("quantile", "time", "location")
    mech_p = np.array(list(_fractions(result.mechanism, MECHANISMS).values()))
    loc_p = np.array(list(_fractions(result.location, loc_names, 1).values()))
    data: dict[str, tuple[tuple[str, ...], Any, dict[str, Any]]] = {
        "time_to_failure": (
            ("sample",),
            np.where(np.isfinite(ttf), ttf, np.nan),
            {"units": "year", "long_name": "time to failure from the start (NaN: survives)"},
        ),
        "mechanism": (
            ("sample",),
            result.mechanism,
            {"flag_values": list(range(len(MECHANISMS))), "flag_meanings": " ".join(MECHANISMS)},
        ),
        "failure_location": (
            ("sample",),
            (result.location + 1).astype(np.int8),
            {"flag_values": list(range(len(loc_names))), "flag_meanings": " ".join(loc_names)},
        ),
        "probability_of_failure": (("time",), probability_of_failure(result), {"units": "1"}),
        "usage": (qtl, q_of["usage"], {"units": "1", "long_name": "creep-fatigue envelope used"}),
        "fatigue": (qtl, q_of["fatigue"], {"units": "1"}),
        "creep": (qtl, q_of["creep"], {"units": "1"}),
        "wall_thickness": (("quantile", "time"), q_of["wall"], {"units": "m"}),
        "rul": (
            ("rul_quantile",),
            np.array([np.nan if v is None else v for v in q_rul]),
            {"units": "year"},
        ),
        "mechanism_probability": (("mechanism_name",), mech_p, {"units": "1"}),
        "location_probability": (("location_name",), loc_p, {"units": "1"}),
    }
    for name, values in result.samples.items():
        data[f"sample_{name}"] = (("sample",), np.asarray(values), {})
    meta = {k: v for k, v in result.meta.items() if v is not None}
    attrs = {
        **{k: (v if isinstance(v, int | float | str) else str(v)) for k, v in meta.items()},
        "plan": result.plan.name,
        "dominant_mechanism": dominant_mechanism(result),
    }
    if result.plan.inspections is not None:
        ins = result.plan.inspections
        attrs["inspection_years"] = str(list(_inspections(ins, result.meta["horizon_years"])))
    return xr.Dataset(
        {
            k: xr.DataArray(v[1], dims=v[0], attrs=v[2] if len(v) > 2 else {})
            for k, v in data.items()
        },
        coords={
            "sample": np.arange(ttf.size),
            "time": xr.DataArray(
                result.years,
                dims="time",
                attrs={"units": "year", "long_name": "years from the forecast start"},
            ),
            "quantile": qs,
            "location": list(result.locations),
            "rul_quantile": np.array(RUL_Q),
            "mechanism_name": list(MECHANISMS),
            "location_name": list(loc_names),
        },
        attrs=attrs,
    )


def _inspections(ins: Any, horizon: float) -> list[float]:
    out, t = [], float(ins.first)
    while t <= horizon + 1e-9:
        out.append(round(t, 6))
        t += ins.every
    return out


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fan(result: ForecastResult, path: str | pathlib.Path) -> pathlib.Path:
    """Fan chart: envelope usage per location and wall thickness with 50/90 % bands."""
    plt = _pyplot()
    tr, t = result.trajectories, result.years
    qs = np.array(QUANTILES)
    L = len(result.locations)
    fig, axes = plt.subplots(1, L + 1, figsize=(4.2 * (L + 1), 3.6), constrained_layout=True)
    for li, loc in enumerate(result.locations):
        ax = axes[li]
        q = np.quantile(tr["usage"][:, :, li], qs, axis=1)
        ax.fill_between(t, q[0], q[4], alpha=0.25, color="C0", label="5-95 %")
        ax.fill_between(t, q[1], q[3], alpha=0.45, color="C0", label="25-75 %")
        ax.plot(t, q[2], color="C0", label="median")
        ax.axhline(result.meta["damage_limit"], color="C3", ls="--", lw=1, label="limit")
        ax.set_title(f"{loc}: creep-fatigue envelope used")
        ax.set_xlabel("years from now")
        ax.set_ylabel("usage (1 = envelope), log")
        ax.set_yscale("log")
        low = float(np.min(q[0][1:])) if t.size > 1 else 1e-6
        ax.set_ylim(
            max(1e-7, min(low, 1e-3 * result.meta["damage_limit"]) / 2),
            2 * result.meta["damage_limit"],
        )
        _mark_inspections(ax, result)
        ax.legend(fontsize=7, loc="lower right")
    ax = axes[L]
    q = np.quantile(tr["wall"], qs, axis=1) * 1e3
    ax.fill_between(t, q[0], q[4], alpha=0.25, color="C1")
    ax.fill_between(t, q[1], q[3], alpha=0.45, color="C1")
    ax.plot(t, q[2], color="C1")
    if result.meta.get("minimum_wall_thickness_m") is not None:
        ax.axhline(result.meta["minimum_wall_thickness_m"] * 1e3, color="C3", ls="--", lw=1)
    ax.set_title("wall thickness")
    ax.set_xlabel("years from now")
    ax.set_ylabel("mm")
    _mark_inspections(ax, result)
    fig.suptitle(
        f"{result.meta.get('component', '')}: plan {result.plan.name!r}, "
        f"{result.meta['samples']} samples"
    )
    out = pathlib.Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _mark_inspections(ax: Any, result: ForecastResult) -> None:
    if result.plan.inspections is None:
        return
    for t in _inspections(result.plan.inspections, result.meta["horizon_years"]):
        ax.axvline(t, color="0.6", lw=0.6, ls=":")


def plot_risk(result: ForecastResult, path: str | pathlib.Path) -> pathlib.Path:
    """Risk curve: probability of failure against time, by mechanism."""
    from twin.forecast import MECHANISMS

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    t = result.years
    ax.plot(t, probability_of_failure(result), color="k", lw=2, label="all")
    for m, name in enumerate(MECHANISMS[1:], start=1):
        sel = result.mechanism == m
        if sel.any():
            s = np.sort(result.time_to_failure[sel])
            ax.plot(
                t,
                np.searchsorted(s, t, side="right") / result.time_to_failure.size,
                lw=1,
                label=name,
            )
    if np.isfinite(result.time_to_failure).any():
        ax.set_yscale("log")
        ax.set_ylim(max(0.5 / result.time_to_failure.size, 1e-4), 1.0)
    else:
        ax.set_ylim(0.0, 1.0)
        ax.text(0.5, 0.5, "no sample fails within the horizon", transform=ax.transAxes, ha="center")
    ax.set_xlabel("years from now")
    ax.set_ylabel("probability of failure")
    ax.set_title(f"plan {result.plan.name!r}")
    _mark_inspections(ax, result)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    out = pathlib.Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_compare(results: list[ForecastResult], path: str | pathlib.Path) -> pathlib.Path:
    """Remaining-life distributions of several plans: risk curves and RUL boxes."""
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for i, r in enumerate(results):
        a1.plot(r.years, probability_of_failure(r), color=f"C{i}", label=r.plan.name)
        q = rul_quantiles(r.time_to_failure, (0.05, 0.25, 0.5, 0.75, 0.95))
        h = r.meta["horizon_years"]
        v = [h if x is None else x for x in q]
        a2.plot([v[0], v[4]], [i, i], color=f"C{i}", lw=1)
        a2.plot([v[1], v[3]], [i, i], color=f"C{i}", lw=6, alpha=0.6)
        a2.plot([v[2]], [i], "o", color="k")
    a1.set_xlabel("years from now")
    a1.set_ylabel("probability of failure")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    a2.set_yticks(range(len(results)), [r.plan.name for r in results])
    a2.set_xlabel("remaining life, years (5/25/50/75/95 %; horizon = beyond)")
    a2.grid(alpha=0.3, axis="x")
    out = pathlib.Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
