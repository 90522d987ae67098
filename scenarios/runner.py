"""Run one scenario end to end: record (the virtual plant), replay (the twin), report.

:func:`run_scenario` is ``twin scenario run``: it builds the truth library the run needs
(the FEM up front, on Dask when a client is given), runs the SimPy plant, and writes the
run folder: the sensor archive (or MQTT), ``truth.nc``, ``truth.json``, a copy of the
scenario and ``run.json`` (where the scenario came from, ``--quick``, the suite
variant). :func:`replay_and_report` chains ``twin scenario replay`` and ``report``;
:func:`run_pipeline` does all three (one task of the validation suite).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import time as _time
from collections.abc import Callable, Mapping
from typing import Any

from scenarios.errors import ScenarioRunError

__all__ = ["DEFAULT_CACHE", "replay_and_report", "run_pipeline", "run_scenario"]

#: Where the FEM truth library is cached unless told otherwise (relative to the cwd).
DEFAULT_CACHE = pathlib.Path("results") / "truth-cache"


def run_scenario(
    scenario: Any,
    out: str | pathlib.Path,
    *,
    cache: str | pathlib.Path = DEFAULT_CACHE,
    quick: bool = False,
    variant: Mapping[str, Any] | None = None,
    sink: Any = None,
    client: Any = None,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Record a scenario into ``out`` (see the module docstring); return ``truth.json``.

    Parameters
    ----------
    scenario : scenarios.spec.Scenario
        Already shortened by :meth:`~scenarios.spec.Scenario.quick` when ``quick``.
    out : path
        Run folder (created; an earlier run is replaced only with ``force``).
    cache : path
        FEM truth library cache.
    quick, variant
        Recorded in ``run.json`` so that the replay rebuilds the same scenario.
    sink : object, optional
        Where readings go (default: the archive ``out/archive``).
    client : distributed.Client, optional
        Runs the truth library's FEM on Dask.
    progress : callable, optional
        ``progress(done, total)`` of the FEM truth nodes.
    force : bool
        Replace an earlier run in ``out``.
    """
    from scenarios.plant import VirtualPlant
    from scenarios.segments import SegmentLibrary
    from scenarios.sinks import ArchiveSink

    folder = pathlib.Path(out)
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise ScenarioRunError(
                f"--out: {str(folder)!r} holds an earlier run; pass --force to replace it"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if scenario.path is not None:
        shutil.copyfile(scenario.path, folder / "scenario.toml")
    meta = {
        "scenario_path": str(pathlib.Path(scenario.path).resolve()) if scenario.path else None,
        "scenario": scenario.name,
        "quick": bool(quick),
        "variant": dict(variant) if variant else None,
        "cache": str(cache),
        "created_wall_time": _time.time(),
    }
    (folder / "run.json").write_text(json.dumps(meta, indent=1) + "\n")
    library = SegmentLibrary(scenario.config, cache)
    own_sink = sink is None
    if own_sink:
        sink = ArchiveSink(folder / "archive", scenario.config)
    plant = VirtualPlant(scenario, library, sink=sink, client=client)
    result = plant.run(progress=progress)
    result.write(folder)
    doc: dict[str, Any] = json.loads((folder / "truth.json").read_text())
    return doc


def replay_and_report(
    folder: str | pathlib.Path,
    *,
    options: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Replay a run folder through the twin and write its report; return the report JSON."""
    from scenarios.replay import replay
    from scenarios.report import build_report

    replay(folder, options=options, progress=progress)
    report: dict[str, Any] = build_report(folder)
    return report


def run_pipeline(
    scenario_path: str,
    out: str,
    *,
    quick: bool,
    variant: Mapping[str, Any] | None,
    cache: str,
    options: Any = None,
) -> dict[str, Any]:
    """Record, replay and report one scenario (a suite task; plain arguments for Dask)."""
    from scenarios.replay import scenario_of
    from scenarios.spec import load_scenario

    t0 = _time.perf_counter()
    try:
        scenario = scenario_of(load_scenario(scenario_path), quick=quick, variant=variant)
        run_scenario(scenario, out, cache=cache, quick=quick, variant=variant, force=True)
        report = replay_and_report(out, options=options)
    except Exception as err:  # one failed scenario is reported; the suite goes on
        return {"scenario": {"folder": out}, "error": f"{type(err).__name__}: {err}"}
    report["wall_seconds"] = _time.perf_counter() - t0
    report.setdefault("scenario", {})["folder"] = out
    return report


def check_run_folder(folder: pathlib.Path) -> None:
    """Refuse a folder that is not a run folder, naming what is missing."""
    for name in ("run.json", "truth.json"):
        if not (folder / name).is_file():
            raise ScenarioRunError(f"{str(folder / name)!r}: missing; not a run folder")
