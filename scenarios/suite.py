"""The validation suite: many seeded variants of a scenario, run on Dask, one report.

A variant draws its hidden truth from the component's own priors (``[twin.priors]``
and the sensors' bias and offset priors) and its material heat from the scatter of
``[twin.scatter]`` (Larson-Miller constant, fatigue life): the population the twin
believes the component comes from, so that calibration is a fair question (a 90 %
interval should hold the truth in 90 % of the variants). Draws outside the scenario's valid range
(the surrogate's trained range) are drawn again. Each variant also gets one sensor
fault of a kind taken in turn from :data:`scenarios.spec.FAULT_KINDS`, on a sensor
the twin observes, starting at a random time in the middle of the recording. The
variants are never chosen or tuned by their results.

:func:`run_suite` runs the variants as independent tasks (record, replay, report) on
a local Dask cluster (``workers`` processes, one thread each) or on an existing
scheduler, sharing the FEM truth library cache, and aggregates the reports
(:func:`scenarios.report.aggregate_reports`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np

from scenarios.errors import ScenarioInputError

__all__ = ["FAULT_SIZES", "aggregate_folder", "make_variant", "run_suite"]

YEAR = 365.25 * 86400.0
DAY = 86400.0

#: Fault magnitudes of the variants per quantity and kind (SI; drift per s). A bias
#: step of 5 K or 150 microstrain is what a loosened thermocouple or a debonding gauge
#: gives; a drift of 0.2 K/day is a fast thermocouple decalibration; spikes of 40 K.
FAULT_SIZES = {
    "temperature": {"bias_step": 5.0, "drift": 0.2 / DAY, "spikes": 40.0},
    "strain": {"bias_step": 150e-6, "drift": 5e-6 / DAY, "spikes": 1500e-6},
    "pressure": {"bias_step": 0.5e6, "drift": 0.02e6 / DAY, "spikes": 3e6},
    "wall_thickness": {"bias_step": 0.5e-3, "drift": 0.01e-3 / DAY, "spikes": 3e-3},
}


def _valid(scenario: Any) -> dict[str, tuple[float, float]]:
    sec = scenario.config.sections.get("surrogate", {}).get("parameters", {})
    out = {}
    for key, name in (
        ("thermal.bore_htc_W_m2K", "bore_htc"),
        ("geometry.wall_thickness_m", "wall_thickness"),
    ):
        if key in sec:
            lo, hi = sec[key]
            out[name] = (float(lo), float(hi))
    return out


def make_variant(scenario: Any, index: int, seed: int) -> Any:
    """Return variant ``index`` of a scenario (a function of scenario, index and seed).

    Parameters
    ----------
    scenario : scenarios.spec.Scenario
    index : int
        Variant number (0, 1, ...).
    seed : int
        Suite seed.
    """
    from models.config import load_config
    from scenarios.spec import FAULT_KINDS, FaultSpec
    from sensors.catalogue import parse_catalogue
    from twin.settings import parse_twin_settings

    if index < 0:
        raise ScenarioInputError(f"variant.index: must be >= 0 (got {index})")
    cfg = scenario.config
    if not hasattr(cfg, "sections"):
        cfg = load_config(scenario.component_path)
    settings = parse_twin_settings(
        cfg.sections.get("twin"),
        catalogue=parse_catalogue(cfg.to_dict()).sensors,
        locations=[loc.name for loc in cfg.locations],
    )
    rng = np.random.default_rng([int(seed), int(index)])
    valid = _valid(scenario)
    truth: dict[str, Any] = {}
    bias: dict[str, float] = {}
    for p in settings.parameters:
        for _ in range(1000):
            x = float(p.prior.sample(rng, 1)[0])
            lo, hi = valid.get(p.name, (-math.inf, math.inf))
            if lo <= x <= hi:
                break
        else:
            raise ScenarioInputError(f"variant: the prior of {p.name} has no mass in [{lo}, {hi}]")
        if p.name == "bore_htc_drift":
            truth["bore_htc_drift"] = x  # priors are SI: per second
        elif p.name in ("bore_htc", "wall_thickness", "oxidation_factor", "creep_strength_factor"):
            truth[p.name] = x
        elif p.name.startswith(("bias.", "offset.")):
            bias[p.name.split(".", 1)[1]] = x
    # the heat of material: its place in the scatter the forecast samples (the same
    # normal laws: Larson-Miller constant and log10 of the fatigue life)
    truth["larson_miller_C_offset"] = float(rng.normal(0.0, settings.larson_miller_C_std))
    truth["fatigue_life_factor"] = float(10.0 ** rng.normal(0.0, settings.fatigue_log10_std))
    observed = list(settings.observed())
    kind = FAULT_KINDS[index % len(FAULT_KINDS)]
    target = observed[int(rng.integers(len(observed)))]
    start = float(rng.uniform(0.3, 0.6)) * scenario.duration
    size = FAULT_SIZES.get(target.quantity, FAULT_SIZES["temperature"])
    length = {"stuck_at": 2 * DAY, "dropout": 3 * DAY}.get(kind, math.inf)
    fault = FaultSpec(
        kind=kind,
        sensor=target.id,
        start=start,
        duration=min(length, 0.2 * scenario.duration) if math.isfinite(length) else length,
        magnitude=float(size.get(kind, 0.0)),
        count=5,
    )
    new_truth = dataclasses.replace(scenario.truth, bias={**scenario.truth.bias, **bias}, **truth)
    return dataclasses.replace(
        scenario,
        name=f"{scenario.name}-{index:02d}",
        seed=int(rng.integers(2**31)),
        truth=new_truth,
        faults=(fault,),
    )


def run_suite(
    scenario_path: str | pathlib.Path,
    out: str | pathlib.Path,
    *,
    count: int = 30,
    seed: int = 0,
    quick: bool = False,
    scheduler: str | None = None,
    workers: int = 2,
    cache: str | pathlib.Path | None = None,
    options: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run ``count`` variants on Dask and aggregate their reports into ``out``.

    Returns
    -------
    dict
        The aggregate (``suite.json``), with ``wall_seconds`` and the per-scenario
        summaries.
    """
    import importlib

    from scenarios.report import aggregate_reports
    from scenarios.runner import DEFAULT_CACHE, run_pipeline

    if isinstance(count, bool) or count < 1:
        raise ScenarioInputError(f"count: must be an integer >= 1 (got {count!r})")
    dd: Any = importlib.import_module("dask.distributed")
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    cache_dir = str(pathlib.Path(cache or DEFAULT_CACHE).resolve())
    path = str(pathlib.Path(scenario_path).resolve())
    t0 = _time.perf_counter()
    cluster = None
    if scheduler is None:
        cluster = dd.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
            env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )  # fmt: skip
        client = dd.Client(cluster)
    else:
        client = dd.Client(scheduler)
    try:
        futures = [
            client.submit(
                run_pipeline,
                path,
                str((folder / f"s{i:02d}").resolve()),
                quick=quick,
                variant={"index": i, "seed": seed},
                cache=cache_dir,
                options=options,
                key=f"scenario-{i:02d}-{folder.name}",
                pure=False,
            )
            for i in range(count)
        ]
        reports: list[dict[str, Any]] = []
        for n, fut in enumerate(dd.as_completed(futures), 1):
            reports.append(fut.result())
            if progress is not None:
                progress(n, count)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    reports.sort(key=lambda r: str(r.get("scenario", {}).get("folder", "")))
    ok = [r for r in reports if "error" not in r]
    failed = [r for r in reports if "error" in r]
    agg: dict[str, Any] = aggregate_reports(ok, folder) if ok else {}
    agg["failed"] = [{"folder": r["scenario"]["folder"], "error": r["error"]} for r in failed]
    agg["wall_seconds"] = _time.perf_counter() - t0
    agg["count"] = count
    agg["workers"] = workers if scheduler is None else scheduler
    (folder / "suite.json").write_text(json.dumps(agg, indent=1, default=str) + "\n")
    return agg


def aggregate_folder(folder: str | pathlib.Path, *, rebuild: bool = True) -> dict[str, Any]:
    """Aggregate the run folders ``folder/s*`` of a suite again (reports rebuilt first).

    A run folder without a replay is skipped and listed under ``failed``.
    """
    from scenarios.errors import ScenarioRunError
    from scenarios.report import aggregate_reports, build_report

    d = pathlib.Path(folder)
    runs = sorted(p for p in d.glob("s*") if (p / "run.json").is_file())
    if not runs:
        raise ScenarioRunError(f"{str(d)!r}: no suite run folders (s00, s01, ...) in it")
    reports, failed = [], []
    for run in runs:
        try:
            if rebuild:
                reports.append(build_report(run))
            else:
                reports.append(json.loads((run / "report" / "report.json").read_text()))
        except (ScenarioRunError, OSError, ValueError) as err:
            failed.append({"folder": str(run), "error": str(err)})
    agg: dict[str, Any] = aggregate_reports(reports, d) if reports else {}
    agg["failed"] = failed
    old = d / "suite.json"
    if old.is_file():
        prev = json.loads(old.read_text())
        for key in ("wall_seconds", "count", "workers"):
            if key in prev:
                agg[key] = prev[key]
    old.write_text(json.dumps(agg, indent=1, default=str) + "\n")
    return agg
