"""Read and check a replayed run folder for the report.

The folder is the contract of ``twin scenario run`` and ``twin scenario replay``:
``truth.json`` and ``truth.nc`` (the hidden truth), ``replay/forecasts.nc``,
``replay/parameters.nc``, ``replay/baseline.nc``, ``replay/detections.json`` and
``replay/replay.json``. :func:`load_run` reads them into a :class:`RunData` and refuses a
missing or inconsistent folder with :class:`~scenarios.errors.ScenarioRunError` naming
the file and the cause.
"""

from __future__ import annotations

import json
import math
import pathlib
import tomllib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scenarios.errors import ScenarioRunError

__all__ = ["YEAR", "RunData", "load_run"]

YEAR = 365.25 * 86400.0  # s, the Julian year (twin.priors.YEAR)

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RunData:
    """Everything the report reads from one run folder (SI, epoch seconds).

    Attributes
    ----------
    folder : pathlib.Path
        The run folder.
    truth : dict
        ``truth.json`` as read.
    truth_ds, parameters_ds, baseline_ds : xarray.Dataset
        ``truth.nc``, ``replay/parameters.nc``, ``replay/baseline.nc`` (loaded).
    forecast_time : numpy.ndarray, shape (n,)
        Epoch s of each forecast.
    rul_samples : numpy.ndarray, shape (n, m)
        Remaining-life samples, years (inf = survives the forecast horizon).
    baseline_rul : numpy.ndarray, shape (n,)
        The deterministic baseline's remaining life, years (inf allowed).
    horizon_years : float or None
        The forecast horizon, years (None when unknown; needed only if a sample is inf).
    truth_end : float or None
        Epoch s to which the truth was run (bounds what a surviving truth says).
    detections : list of dict
        ``replay/detections.json``: ``{"sensor", "flag", "time"}``.
    replay : dict
        ``replay/replay.json``.
    scenario : dict
        ``{"name", "seed"}`` from ``scenario.toml`` (else truth.json, else the folder name).
    """

    folder: pathlib.Path
    truth: dict[str, Any]
    truth_ds: Any
    parameters_ds: Any
    baseline_ds: Any
    forecast_time: Array
    rul_samples: Array
    baseline_rul: Array
    horizon_years: float | None
    truth_end: float | None
    detections: list[dict[str, Any]]
    replay: dict[str, Any]
    scenario: dict[str, Any]

    @property
    def start_time(self) -> float:
        """Return the scenario's start, epoch s."""
        return float(self.truth["start_time"])

    @property
    def end_of_life(self) -> float | None:
        """Return the true end of life, epoch s (None: the truth survived)."""
        eol = self.truth.get("end_of_life")
        return None if eol is None else float(eol)


def _need(path: pathlib.Path) -> pathlib.Path:
    if not path.is_file():
        raise ScenarioRunError(
            f"{path.name}: missing from the run folder ({path}); run "
            "`twin scenario run` and `twin scenario replay` on it first"
        )
    return path


def _json(path: pathlib.Path) -> Any:
    try:
        return json.loads(_need(path).read_text())
    except json.JSONDecodeError as err:
        raise ScenarioRunError(f"{path.name}: not valid JSON ({err}); rewrite it") from err


def _netcdf(path: pathlib.Path, needs: tuple[str, ...]) -> Any:
    import xarray as xr

    _need(path)
    try:
        with xr.open_dataset(path, decode_times=False) as ds:
            loaded = ds.load()
    except (OSError, ValueError) as err:
        raise ScenarioRunError(f"{path.name}: cannot be read as netCDF ({err})") from err
    missing = [k for k in needs if k not in loaded.variables]
    if missing:
        raise ScenarioRunError(
            f"{path.name}: lacks {missing} (has {sorted(map(str, loaded.variables))}); "
            "rerun the step that writes it"
        )
    return loaded


def _number(doc: dict[str, Any], key: str, where: str, *, null: bool = False) -> None:
    value = doc.get(key, "missing") if not null else doc.get(key)
    if null and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioRunError(f"{where}: {key!r} must be a finite number, got {value!r}")


def _check_truth(truth: Any) -> dict[str, Any]:
    where = "truth.json"
    if not isinstance(truth, dict):
        raise ScenarioRunError(f"{where}: must hold a JSON object, got {type(truth).__name__}")
    for key in ("parameters", "end_of_life", "start_time", "faults"):
        if key not in truth:
            raise ScenarioRunError(f"{where}: lacks the key {key!r}; rerun `twin scenario run`")
    _number(truth, "start_time", where)
    _number(truth, "end_of_life", where, null=True)
    if not isinstance(truth["parameters"], dict):
        raise ScenarioRunError(f"{where}: 'parameters' must be an object of name -> value")
    faults = truth["faults"]
    if not isinstance(faults, list) or not all(
        isinstance(f, dict) and {"kind", "sensor", "injected_at"} <= set(f) for f in faults
    ):
        raise ScenarioRunError(
            f"{where}: 'faults' must be a list of objects with kind, sensor, injected_at"
        )
    return truth


def _spec(folder: pathlib.Path) -> dict[str, Any]:
    """Return the run's copy of its scenario file (empty when absent)."""
    spec = folder / "scenario.toml"
    if not spec.is_file():
        return {}
    try:
        return tomllib.loads(spec.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ScenarioRunError(f"scenario.toml: not valid TOML ({err})") from err


def _horizon(folder: pathlib.Path, forecasts: Any, replay: dict[str, Any]) -> float | None:
    """Return the forecast horizon in years: forecasts.nc, replay.json, then scenario.toml."""
    for value in (
        forecasts.attrs.get("horizon_years"),
        replay.get("horizon_years"),
        (replay.get("settings") or {}).get("horizon_years"),
    ):
        if value is not None:
            return float(value)
    value = _spec(folder).get("replay", {}).get("horizon_years")
    return None if value is None else float(value)


def _truth_end(folder: pathlib.Path, truth: dict[str, Any]) -> float | None:
    """Return the epoch s to which the truth ran (truth.json, else the scenario file)."""
    if truth.get("truth_end") is not None:
        return float(truth["truth_end"])
    years = _spec(folder).get("truth_horizon_years")
    return None if years is None else float(truth["start_time"]) + float(years) * YEAR


def _identity(folder: pathlib.Path, truth: dict[str, Any]) -> dict[str, Any]:
    """Return the scenario's name and seed (scenario.toml, else truth.json)."""
    doc = _spec(folder)
    return {
        "name": doc.get("name", truth.get("name", folder.name)),
        "seed": doc.get("seed", truth.get("seed")),
    }


def load_run(folder: str | pathlib.Path) -> RunData:
    """Read a replayed run folder and check that its files agree.

    Parameters
    ----------
    folder : str or pathlib.Path
        The run folder (``twin scenario run --out DIR``, then ``twin scenario replay DIR``).

    Returns
    -------
    RunData
        The truth and the replay's forecasts, parameters, baseline and detections.

    Raises
    ------
    ScenarioRunError
        A file is missing, unreadable, lacks a variable, or disagrees with another
        (different forecast times, a non-positive sample count, NaN remaining life).
    """
    root = pathlib.Path(folder)
    if not root.is_dir():
        raise ScenarioRunError(f"run folder: {root} is not a directory")
    rep = root / "replay"
    truth = _check_truth(_json(root / "truth.json"))
    truth_ds = _netcdf(root / "truth.nc", ("time",))
    forecasts = _netcdf(rep / "forecasts.nc", ("forecast", "rul_years"))
    params = _netcdf(rep / "parameters.nc", ("forecast",))
    baseline = _netcdf(rep / "baseline.nc", ("forecast", "rul_years"))
    detections = _json(rep / "detections.json")
    replay = _json(rep / "replay.json")
    if not isinstance(detections, list) or not all(
        isinstance(d, dict) and {"sensor", "time"} <= set(d) for d in detections
    ):
        raise ScenarioRunError(
            "detections.json: must be a list of objects with sensor, flag and time"
        )
    if not isinstance(replay, dict):
        raise ScenarioRunError("replay.json: must hold a JSON object")

    t = np.asarray(forecasts["forecast"].values, dtype=np.float64)
    rul = np.asarray(forecasts["rul_years"].transpose("forecast", ...).values, dtype=np.float64)
    if t.size == 0 or rul.ndim != 2 or rul.shape[1] == 0:
        raise ScenarioRunError(
            f"forecasts.nc: rul_years must be (forecast, sample) with at least one of each, "
            f"got shape {rul.shape}"
        )
    if np.any(np.isnan(rul)) or np.any(rul == -np.inf):
        raise ScenarioRunError("forecasts.nc: rul_years holds NaN or -inf; rerun the replay")
    if np.any(np.diff(t) <= 0):
        raise ScenarioRunError("forecasts.nc: forecast times must increase strictly")
    for name, ds in (("parameters.nc", params), ("baseline.nc", baseline)):
        other = np.asarray(ds["forecast"].values, dtype=np.float64)
        if other.shape != t.shape or not np.allclose(other, t, rtol=0.0, atol=1e-3):
            raise ScenarioRunError(
                f"{name}: its forecast times ({other.size}) differ from forecasts.nc's "
                f"({t.size}); the replay folder is inconsistent, rerun the replay"
            )
    base = np.asarray(baseline["rul_years"].values, dtype=np.float64).reshape(-1)
    if base.shape != t.shape or np.any(np.isnan(base)):
        raise ScenarioRunError(
            f"baseline.nc: rul_years must be one finite-or-inf value per forecast, "
            f"got shape {base.shape}"
        )
    horizon = _horizon(root, forecasts, replay)
    if horizon is None and (np.any(np.isinf(rul)) or np.any(np.isinf(base))):
        raise ScenarioRunError(
            "forecasts.nc: samples survive the horizon (inf) but no horizon_years is given "
            "(forecasts.nc attrs, replay.json or scenario.toml [replay])"
        )
    return RunData(
        folder=root,
        truth=truth,
        truth_ds=truth_ds,
        parameters_ds=params,
        baseline_ds=baseline,
        forecast_time=t,
        rul_samples=rul,
        baseline_rul=base,
        horizon_years=horizon,
        truth_end=_truth_end(root, truth),
        detections=detections,
        replay=replay,
        scenario=_identity(root, truth),
    )
