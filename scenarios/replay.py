"""Replay a recorded scenario through the twin, forecasting as the plant time goes on.

``twin scenario replay DIR`` reads a run folder written by ``twin scenario run``: the
sensor archive, the scenario it came from (``run.json``) and nothing of the truth. It
feeds the archive rows, in commit order, to the service's deterministic core
(:class:`twin.core.ComponentCore`: the twin plus its alerts, exactly as ``twin serve``
runs it), and every ``replay.forecast_every`` of plant time it forecasts the remaining
life under the scenario's duty (:class:`twin.forecast.Forecaster`, the duty as the
plan: the operator knows how the unit will be dispatched, not what it will meet),
conditioned on the component being in service at the forecast (samples that would
already have failed are rejected: :func:`_survivors`).

Beside it runs the **baseline**: a deterministic monitor, as plant fatigue and creep
monitors count damage today. It takes only the measured fluid temperature and
pressure, uses the design heat-transfer coefficient (``thermal.bore_htc_W_m2K`` of the
component config), the nominal wall, nominal material (creep-strength and oxidation
factors 1) and no assimilation, and forecasts with the mean material curves: a point
remaining life (the median of its duty samples).

Written to ``DIR/replay/`` (see ``docs/scenarios.md``): ``forecasts.nc``,
``parameters.nc``, ``baseline.nc``, ``detections.json``, ``replay.json`` and the twin's
``checkpoint/``. Nothing here reads ``truth.json`` or ``truth.nc``.
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
from numpy.typing import NDArray

from scenarios.errors import ScenarioRunError
from twin._setup import with_twin_section

__all__ = ["RUL_Q", "ReplayOptions", "baseline_config", "load_run", "replay", "scenario_of"]

YEAR = 365.25 * 86400.0
#: Quantile levels of the stored remaining-life forecasts.
RUL_Q = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
_Q3 = (0.05, 0.5, 0.95)
_CHUNK = 20_000


@dataclasses.dataclass(frozen=True)
class ReplayOptions:
    """Overrides of a replay (None: the scenario's ``[replay]`` or the config's value).

    Attributes
    ----------
    particles : int or None
        Particles of the twin.
    forecast_every_s : float or None
        Plant time between forecasts, s.
    samples : int or None
        Monte Carlo samples per forecast.
    seed : int
        Seed of the twin and of the forecasts.
    baseline : bool
        Run the deterministic baseline beside the twin.
    """

    particles: int | None = None
    forecast_every_s: float | None = None
    samples: int | None = None
    seed: int = 0
    baseline: bool = True


def load_run(folder: str | pathlib.Path) -> tuple[Any, dict[str, Any]]:
    """Return the scenario of a run folder and its ``run.json``.

    Raises
    ------
    ScenarioRunError
        If the folder is not a run folder (no ``run.json`` or no archive).
    """
    from scenarios.spec import load_scenario

    d = pathlib.Path(folder)
    meta_path = d / "run.json"
    if not meta_path.is_file():
        raise ScenarioRunError(
            f"{str(meta_path)!r}: missing; {str(d)!r} is not a run folder (write one with "
            "`twin scenario run SCENARIO --out DIR`)"
        )
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise ScenarioRunError(f"{str(meta_path)!r}: unreadable ({err})") from err
    scen_path = d / "scenario.toml"
    source = pathlib.Path(meta.get("scenario_path") or scen_path)
    if not source.is_file():
        raise ScenarioRunError(
            f"{str(source)!r}: the run's scenario file is gone (its component config and "
            "duty are read from it)"
        )
    scenario = scenario_of(
        load_scenario(source), quick=bool(meta.get("quick")), variant=meta.get("variant")
    )
    if not (d / "archive").exists():
        raise ScenarioRunError(f"{str(d / 'archive')!r}: missing; the run did not record")
    return scenario, meta


def scenario_of(scenario: Any, *, quick: bool, variant: Any = None) -> Any:
    """Return the scenario a run used: shortened by ``--quick``, then the suite's variant."""
    if quick:
        scenario = scenario.quick()
    if variant:
        from scenarios.suite import make_variant

        scenario = make_variant(scenario, int(variant["index"]), int(variant["seed"]))
    return scenario


def _replay_section(sec: dict[str, Any]) -> dict[str, Any]:
    """Return a replay's ``[twin]`` section: the twin's history list kept daily.

    The replay keeps its own record at the forecasts; the history list (for ``twin
    assimilate``'s plots) need not grow every 10 minutes over years of plant time.
    """
    return {**sec, "history_s": max(float(sec.get("history_s", 600.0)), 86400.0)}


def baseline_config(config: Any) -> Any:
    """Return the deterministic monitor's config: design h, nominal wall, 2 particles.

    The heat-transfer coefficient is the design value, its drift 0, the wall the nominal
    (drawing) thickness; the creep-strength and oxidation factors, which no sensor
    informs, stay at the median of the component's priors. The monitor feeds on the
    fluid temperature and pressure only, so the sensor priors never act.
    """
    sec = json.loads(json.dumps(config.sections.get("twin", {})))
    g = config.geometry
    design = {
        "bore_htc_W_m2K": float(config.thermal.bore_htc),
        "bore_htc_drift_per_year": 0.0,
        "wall_thickness_m": float(g.outer_radius - g.inner_radius),
    }
    priors = dict(sec.get("priors", {}))
    # what no sensor informs (material) stays at the same prior median the twin starts
    # from: the comparison is of assimilation, not of prior knowledge
    for key in ("oxidation_factor", "creep_strength_factor"):
        design[key] = _prior_median(priors.get(key), key)
    for key, value in design.items():
        priors[key] = {"distribution": "fixed", "value": value}
    sec["priors"] = priors
    sec["particles"] = 2
    return with_twin_section(config, _replay_section(sec))


def _prior_median(raw: Any, key: str) -> float:
    from twin.priors import parse_prior

    if raw is None:
        return 1.0
    return float(parse_prior(raw, f"twin.priors.{key}", 1.0).interval(0.0)[0])


class _Detections:
    """First time each sensor fault signal was raised (alerts and spike counts)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str]] = set()
        self._spikes: dict[str, int] = {}

    def add(self, sensor: str, flag: str, t: float | None) -> None:
        if (sensor, flag) in self._seen or t is None:
            return
        self._seen.add((sensor, flag))
        self.items.append({"sensor": sensor, "flag": flag, "time": float(t)})

    def alerts(self, messages: list[dict[str, Any]]) -> None:
        for m in messages:
            if m.get("kind") in ("sensor_fault", "stale_input") and m.get("state") == "active":
                self.add(str(m["subject"]), str(m["kind"]), m.get("raised_time"))

    def spikes(self, flags: dict[str, dict[str, Any]], t: float) -> None:
        for sid, f in flags.items():
            n = int(f.get("spike", 0)) + int(f.get("rate", 0))
            if n > self._spikes.get(sid, 0):
                self.add(sid, "spike", f.get("last_fault_time") or t)
            self._spikes[sid] = n


def _survivors(ttf: NDArray[np.float64], seed: int, k: int) -> tuple[NDArray[np.float64], float]:
    """Condition a forecast's samples on the component being in service now.

    A sample whose past damage already reaches the envelope (or whose wall is already
    below the minimum) has ``ttf = 0``: its material and history say the component
    would have failed, and it has not. Those samples get weight 0; the survivors are
    drawn again (with replacement, seeded) to the same count. Returns the samples and
    the fraction that had failed already (if none survives, all are kept).
    """
    alive = np.flatnonzero(ttf > 0.0)
    gone = 1.0 - alive.size / ttf.size
    if alive.size in (0, ttf.size):
        return ttf, gone
    rng = np.random.default_rng([int(seed), int(k), 7])
    return ttf[rng.choice(alive, size=ttf.size, replace=True)], gone


def _quantiles(ttf: NDArray[np.float64], q: tuple[float, ...]) -> NDArray[np.float64]:
    """Quantiles of samples where ``inf`` means beyond the horizon (inf quantiles stay inf)."""
    s = np.sort(ttf)
    idx = np.clip(np.ceil(np.asarray(q) * s.size).astype(int) - 1, 0, s.size - 1)
    return np.asarray(s[idx], dtype=np.float64)


def replay(
    folder: str | pathlib.Path,
    *,
    options: ReplayOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Replay a run folder through the twin and the baseline; write ``DIR/replay/``.

    Parameters
    ----------
    folder : path
        Run folder of ``twin scenario run``.
    options : ReplayOptions, optional
    progress : callable, optional
        Called with (rows done, rows in all) after each piece.

    Returns
    -------
    dict
        The ``replay.json`` document.
    """
    import xarray as xr

    from sensors.reader import read_readings
    from twin.alerts import AlertSettings
    from twin.core import ComponentCore
    from twin.forecast import Forecaster, ForecastOptions
    from twin.state import Twin

    opts = options or ReplayOptions()
    d = pathlib.Path(folder)
    scenario, _meta = load_run(d)
    every = opts.forecast_every_s or scenario.replay.forecast_every
    cfg = scenario.config
    sec = dict(cfg.sections.get("twin", {}))
    if opts.particles is not None:
        sec["particles"] = int(opts.particles)
    cfg = with_twin_section(cfg, _replay_section(sec))
    samples = opts.samples or scenario.replay.samples
    horizon = scenario.replay.horizon_years
    if not (every > 0 and math.isfinite(every)):
        raise ScenarioRunError(f"forecast_every_s: must be > 0 (got {every!r})")
    wall0 = _time.perf_counter()
    twin = Twin.from_config(cfg, seed=opts.seed, config_path=scenario.component_path)
    stale = max(600.0, 3.0 * scenario.historian.heartbeat)
    core = ComponentCore(twin, alerts=AlertSettings(stale_after_s=stale))
    base = None
    if opts.baseline:
        base = Twin.from_config(
            baseline_config(scenario.config), seed=opts.seed, config_path=scenario.component_path
        )
        inputs = set(base.settings.inputs.values())
    rows = read_readings(d / "archive")
    if rows.time.size and np.any(np.diff(rows.time) < -twin.settings.lateness):
        raise ScenarioRunError(
            f"{str(d / 'archive')!r}: rows are not in time order beyond the twin's lateness "
            f"({twin.settings.lateness:g} s); the recording is not a plant historian's stream"
        )
    ids = np.asarray(rows.sensor_ids, dtype=object)
    # the plant stops recording at the end of the scenario or when the component fails;
    # the archive says which (the replay never reads the truth)
    t_end = min(scenario.end_time, float(rows.time[-1])) if rows.time.size else scenario.end_time
    times = list(np.arange(scenario.start_time + every, t_end + 1e-6, every))
    if not times or times[-1] < t_end - 1.0:
        times.append(t_end)
    fopts = ForecastOptions(samples=int(samples), horizon_years=float(horizon))
    bopts = ForecastOptions(
        samples=32, horizon_years=float(horizon), material_scatter=False, sample_held=False
    )
    det = _Detections()
    rul: list[NDArray[np.float64]] = []
    rejected: list[float] = []
    base_rul: list[float] = []
    params: dict[str, list[list[float]]] = {}
    base_vals: dict[str, list[float]] = {}
    done = 0
    n_rows = int(rows.time.size)
    f_seconds = 0.0
    for k, tk in enumerate(times):
        stop = int(np.searchsorted(rows.time, tk, side="left")) if k < len(times) - 1 else n_rows
        while done < stop:
            b = min(stop, done + _CHUNK)
            piece = dataclasses.replace(
                rows,
                start=rows.start + done,
                stop=rows.start + b,
                sensor=rows.sensor[done:b],
                time=rows.time[done:b],
                value=rows.value[done:b],
                quality=rows.quality[done:b],
                sequence=rows.sequence[done:b],
                received=rows.received[done:b],
            )
            det.alerts(core.feed(piece))
            det.spikes(twin.state["sensors"], float(rows.time[b - 1]))
            if base is not None:
                names = ids[rows.sensor[done:b]]
                m = np.fromiter((s in inputs for s in names), bool, names.size)
                base.update(
                    {
                        "time": rows.time[done:b][m],
                        "sensor": names[m],
                        "value": rows.value[done:b][m],
                        "quality": rows.quality[done:b][m],
                    }
                )
            done = b
            if progress is not None:
                progress(done, n_rows)
        if k == len(times) - 1:
            det.alerts(core.flush())
            if base is not None:
                base.flush()
        if not twin.started:
            raise ScenarioRunError(
                f"{str(d / 'archive')!r}: the twin has not started by the first forecast "
                f"({(tk - scenario.start_time) / 86400:.3g} days in): no fluid temperature "
                "and pressure readings"
            )
        t0 = _time.perf_counter()
        res = Forecaster.from_twin(twin, options=fopts).run(scenario.duty, seed=opts.seed + k)
        f_seconds += _time.perf_counter() - t0
        lag = (tk - float(twin.time)) / YEAR
        ttf, gone = _survivors(np.asarray(res.time_to_failure, dtype=np.float64), opts.seed, k)
        rejected.append(gone)
        rul.append(ttf - lag)
        _collect(params, twin.state)
        if base is not None:
            bres = Forecaster.from_twin(base, options=bopts).run(scenario.duty, seed=opts.seed)
            b_ttf = float(_quantiles(np.asarray(bres.time_to_failure, float), (0.5,))[0])
            base_rul.append(b_ttf - (tk - float(base.time)) / YEAR)
            _collect_baseline(base_vals, base.state)
    out = d / "replay"
    out.mkdir(parents=True, exist_ok=True)
    t_arr = np.asarray(times, dtype=np.float64)
    samples_arr = np.vstack(rul)
    fc = xr.Dataset(
        {
            "rul_years": (("forecast", "sample"), samples_arr),
            "rul_q": (("forecast", "q"), np.vstack([_quantiles(r, RUL_Q) for r in rul])),
            "failed_already": ("forecast", np.asarray(rejected)),
        },
        coords={"forecast": t_arr, "q": list(RUL_Q)},
        attrs={"horizon_years": float(horizon), "inf": "survives the horizon"},
    )
    fc.to_netcdf(out / "forecasts.nc")
    xr.Dataset(
        {k: (("forecast", "q3"), np.asarray(v)) for k, v in params.items()},
        coords={"forecast": t_arr, "q3": list(_Q3)},
    ).to_netcdf(out / "parameters.nc")
    if base is not None:
        bd = {k: ("forecast", np.asarray(v)) for k, v in base_vals.items()}
        bd["rul_years"] = ("forecast", np.asarray(base_rul))
        xr.Dataset(bd, coords={"forecast": t_arr}).to_netcdf(out / "baseline.nc")
    (out / "detections.json").write_text(json.dumps(det.items, indent=1) + "\n")
    twin.checkpoint(out / "checkpoint")
    st = twin.state
    doc = {
        "scenario": scenario.name,
        "seed": opts.seed,
        "particles": twin.pf.n_particles,
        "forecasts": len(times),
        "forecast_every_s": float(every),
        "samples": int(samples),
        "readings": n_rows,
        "assimilated": st["assimilated"],
        "late_readings": st["late_readings"],
        "bad_readings": st["bad_readings"],
        "wall_seconds": _time.perf_counter() - wall0,
        "forecast_seconds": f_seconds,
        "baseline": base is not None,
        "horizon_years": float(horizon),
        "identifiable": {k: v["identifiability"] for k, v in st["parameters"].items()},
        "learned": [k for k, v in st["parameters"].items() if v["learned"]],
    }
    last = _quantiles(rul[-1], _Q3)
    doc["last_forecast"] = {
        "time": float(t_arr[-1]),
        "rul_years": {
            k: (None if not math.isfinite(v) else float(v))
            for k, v in zip(("p05", "p50", "p95"), last, strict=True)
        },
        "baseline_rul_years": (base_rul[-1] if base_rul and math.isfinite(base_rul[-1]) else None),
    }
    doc["readings_per_second"] = n_rows / max(doc["wall_seconds"] - f_seconds, 1e-9)
    (out / "replay.json").write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def _collect(params: dict[str, list[list[float]]], st: dict[str, Any]) -> None:
    for name, p in st["parameters"].items():
        params.setdefault(name, []).append([p["p05"], p["p50"], p["p95"]])
    w = st["wall_thickness_m"]  # the wall now (the parameter is the initial wall)
    params.setdefault("wall_thickness_now", []).append([w["p05"], w["p50"], w["p95"]])
    for loc, dmg in st["damage"].items():
        for what in ("fatigue", "creep"):
            x = dmg[what]
            params.setdefault(f"{what}_{loc}", []).append([x["p05"], x["p50"], x["p95"]])


def _collect_baseline(vals: dict[str, list[float]], st: dict[str, Any]) -> None:
    vals.setdefault("wall_thickness", []).append(st["wall_thickness_m"]["mean"])
    for loc, dmg in st["damage"].items():
        for what in ("fatigue", "creep"):
            vals.setdefault(f"{what}_{loc}", []).append(dmg[what]["mean"])
