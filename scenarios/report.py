"""The validation report of a replayed scenario: how well the twin tracked the truth.

:func:`build_report` reads a run folder (``twin scenario run`` then ``twin scenario
replay``), scores the twin's remaining-life forecasts and the deterministic baseline's
against the true end of life (prognostic metrics of Saxena et al. 2010 from
:mod:`twin.metrics`; coverage, PIT and CRPS from :mod:`twin.calibration`), compares each
hidden parameter's truth with the twin's final 90 % band, matches injected sensor
faults to detections, and writes ``report/index.html`` with its PNG figures and
``report/report.json``. :func:`aggregate_reports` turns many such reports into the
suite's one report against the issue's targets. How remaining lives beyond the forecast
horizon are scored (censored at it) is told in :mod:`scenarios._report_metrics`.
"""

from __future__ import annotations

import json
import math
import pathlib
from typing import Any

import numpy as np

from scenarios._report_figures import (
    plot_damage,
    plot_faults,
    plot_parameters,
    plot_pit,
    plot_rul,
    quantiles,
)
from scenarios._report_html import render_report
from scenarios._report_inputs import YEAR, RunData, load_run
from scenarios._report_metrics import score_run
from scenarios._report_suite import aggregate_reports
from scenarios.errors import ScenarioRunError

__all__ = [
    "aggregate_reports",
    "build_report",
    "identifiability",
    "match_faults",
    "match_parameters",
]

_EDGE_UNITS = ("W_m2K", "per_year", "m", "K", "MPa", "mm", "microstrain")


def _candidates(key: str) -> list[str]:
    """Names a truth.json parameter may carry in parameters.nc (the twin's names)."""
    out = [key, key.replace(".", "__")]
    for unit in _EDGE_UNITS:
        if key.endswith("_" + unit):
            out.append(key[: -len(unit) - 1])
    return out


def identifiability(data: RunData) -> dict[str, str] | None:
    """Return the twin's ``name -> why (not) identifiable``, or None when unknown.

    From ``replay.json`` (``"identifiable"``: the map of
    :meth:`twin.settings.TwinSettings.identifiable`, or a list of identified names), else
    from the run's ``component.toml`` copy and its ``[twin]`` section.

    Parameters
    ----------
    data : RunData
        A loaded run folder.

    Returns
    -------
    dict or None
        A reason per twin parameter name; identified ones start with ``"identified"``.
    """
    given = data.replay.get("identifiable", (data.replay.get("settings") or {}).get("identifiable"))
    if isinstance(given, dict):
        return {str(k): str(v) for k, v in given.items()}
    if isinstance(given, list):
        return {str(k): "identified (replay.json)" for k in given}
    path = data.folder / "component.toml"
    if not path.is_file():
        return None
    from models.config import load_config
    from models.errors import ModelError
    from sensors.catalogue import parse_catalogue
    from twin.errors import TwinError
    from twin.settings import parse_twin_settings

    try:
        cfg = load_config(path)
        settings = parse_twin_settings(
            cfg.sections.get("twin"),
            catalogue=parse_catalogue(cfg.to_dict()).sensors,
            locations=[loc.name for loc in cfg.locations],
        )
    except (ModelError, TwinError, ValueError, OSError) as err:
        raise ScenarioRunError(
            f"component.toml: cannot be read to tell which parameters are identifiable "
            f"({err}); fix the copy or give 'identifiable' in replay.json"
        ) from err
    return settings.identifiable()


def match_parameters(
    data: RunData,
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, float]]]:
    """Compare each hidden parameter in both truth.json and parameters.nc with its band.

    Parameters
    ----------
    data : RunData
        A loaded run folder.

    Returns
    -------
    parameters : dict
        ``name -> {"truth", "p05", "p95", "inside", "identifiable"}`` (SI, the final
        forecast's band, ``inside`` with the bounds included; ``identifiable`` null when
        unknown, see :func:`identifiability`); ``name`` is truth.json's key.
    matched : dict
        ``name -> (variable in parameters.nc, truth)`` for the figure.
    """
    out: dict[str, dict[str, Any]] = {}
    matched: dict[str, tuple[str, float]] = {}
    have = {str(v) for v in data.parameters_ds.data_vars}
    why = identifiability(data)
    for key, value in data.truth["parameters"].items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        var = next((c for c in _candidates(str(key)) if c in have), None)
        if var is None:
            continue
        q = quantiles(data.parameters_ds, var)[-1]
        truth = float(value)
        out[str(key)] = {
            "truth": truth,
            "p05": float(q[0]),
            "p95": float(q[2]),
            "inside": bool(q[0] <= truth <= q[2]),
            "identifiable": None if why is None else _identified(why, var),
        }
        matched[str(key)] = (var, truth)
    return out, matched


def _identified(why: dict[str, str], var: str) -> bool | None:
    reason = why.get(var, why.get(var.replace("__", ".")))
    return None if reason is None else reason.startswith("identified")


def match_faults(data: RunData) -> list[dict[str, Any]]:
    """Match each injected fault to the first detection of its sensor at or after it.

    Parameters
    ----------
    data : RunData
        A loaded run folder.

    Returns
    -------
    list of dict
        ``{"kind", "sensor", "injected_at", "detected_at", "delay_s", "flag"}`` per fault
        (epoch s; ``detected_at``, ``delay_s`` and ``flag`` null when missed).
    """
    out = []
    for f in data.truth["faults"]:
        t0 = float(f["injected_at"])
        hits = sorted(
            (float(d["time"]), str(d.get("flag", "")))
            for d in data.detections
            if d["sensor"] == f["sensor"] and float(d["time"]) >= t0
        )
        first = hits[0] if hits else None
        out.append(
            {
                "kind": str(f["kind"]),
                "sensor": str(f["sensor"]),
                "injected_at": t0,
                "detected_at": None if first is None else first[0],
                "delay_s": None if first is None else first[0] - t0,
                "flag": None if first is None else first[1],
            }
        )
    return out


def _relative_width(data: Any, eol: float | None) -> float | None:
    """Median over the forecasts of the 90 % remaining-life interval's width / the life.

    Samples beyond the horizon count at the horizon (the width is then a lower bound).
    """
    if eol is None or data.rul_samples.size == 0:
        return None
    life = (eol - data.start_time) / YEAR
    if life <= 0:
        return None
    h = data.horizon_years if data.horizon_years is not None else math.inf
    r = np.minimum(np.asarray(data.rul_samples, dtype=np.float64), h)
    q = np.quantile(r, [0.05, 0.95], axis=1)
    return float(np.median(q[1] - q[0]) / life)


def _clean(value: Any) -> Any:
    """Make a value strict JSON: numpy scalars to Python, non-finite floats to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_report(
    run_dir: str | pathlib.Path, *, out: str | pathlib.Path | None = None
) -> dict[str, Any]:
    """Score a replayed run and write its HTML report, PNG figures and report.json.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder (truth.json, truth.nc, replay/...).
    out : str or pathlib.Path, optional
        Report folder; default ``run_dir/report``.

    Returns
    -------
    dict
        ``metrics`` (twin; ``baseline`` inside), ``parameters``, ``faults``, ``scenario``
        (name, seed), ``end_of_life`` (epoch s or null), ``life_years`` (from the start,
        or null), ``forecasts`` (count) and ``notes`` (why a metric is null, how
        censoring is handled); the same as ``report.json``.

    Raises
    ------
    ScenarioRunError
        The run folder is missing a file or its files disagree.
    """
    data = load_run(run_dir)
    target = pathlib.Path(out) if out is not None else data.folder / "report"
    target.mkdir(parents=True, exist_ok=True)
    metrics, scored, notes = score_run(data)
    parameters, matched = match_parameters(data)
    faults = match_faults(data)
    eol = data.end_of_life
    metrics["interval_90_width_over_life"] = _relative_width(data, eol)
    learned = data.replay.get("learned")
    held = (
        sorted(set(data.replay.get("identifiable", {})) - set(learned))
        if isinstance(learned, list)
        else None
    )
    report: dict[str, Any] = {
        "scenario": dict(data.scenario),
        "end_of_life": eol,
        "life_years": None if eol is None else (eol - data.start_time) / YEAR,
        "mechanism": data.truth.get("mechanism"),
        "forecasts": int(data.forecast_time.size),
        "metrics": metrics,
        "parameters": parameters,
        "faults": faults,
        "notes": notes,
        "held": held,
    }
    figures = {
        "parameters": plot_parameters(data, matched, target),
        "damage": plot_damage(data, target),
        "rul": plot_rul(data, scored, target),
        "pit": plot_pit(metrics, target),
        "faults": plot_faults(data, faults, target),
    }
    report = _clean(report)
    (target / "index.html").write_text(render_report(report, figures))
    (target / "report.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    return report
