"""Run a design of experiments on Dask and keep the results in a resumable zarr store.

The runner is generic: ``function`` is any picklable callable taking one parameter
point ``{name: value}`` and returning ``{output: float}``. Runs execute on a
``distributed.LocalCluster`` (``n_workers`` processes, one thread each) or on an
existing cluster given its scheduler address. Each finished run is written to its own
zarr chunk as soon as it completes, with its status, so an interrupted campaign
restarts where it stopped: runs already done are not redone, failed runs are retried.

Store layout (xarray): coordinates ``run`` (int) and ``param`` (names); variables
``X (run, param)``, ``status (run)`` (0 pending, 1 done, 2 failed), ``elapsed_s (run)``
and one ``(run,)`` variable per output; attributes ``design_hash`` (of ``X`` and the
names), ``provenance`` (JSON: config hash, package versions, ...), ``failures`` (JSON).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from surrogates.errors import CampaignError, InvalidInputError, InvalidParameterError

__all__ = ["PENDING", "DONE", "FAILED", "package_versions", "run_campaign"]

PENDING, DONE, FAILED = 0, 1, 2
_PACKAGES = (
    "numpy",
    "scipy",
    "xarray",
    "zarr",
    "dask",
    "distributed",
    "torch",
    "gpytorch",
    "dolfinx-solver-real",
    "fenics-basix",
    "fenics-ffcx",
    "fenics-ufl",
    "materials-twin",
)


def package_versions() -> dict[str, str]:
    """Versions of the packages a campaign's numbers depend on (``"absent"`` if not installed)."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _design_hash(X: np.ndarray, names: Sequence[str]) -> str:
    h = hashlib.sha256(json.dumps(list(names)).encode())
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    return h.hexdigest()


def _timed_call(
    function: Callable[[dict[str, float]], Mapping[str, float]], point: dict[str, float]
) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    result = function(point)
    return {k: float(v) for k, v in result.items()}, time.perf_counter() - start


def _new_store(
    path: Path, X: np.ndarray, names: Sequence[str], provenance: Mapping[str, Any], digest: str
) -> None:
    import xarray as xr

    n = X.shape[0]
    ds = xr.Dataset(
        {
            "X": (("run", "param"), X),
            "status": ("run", np.zeros(n, dtype=np.int8)),
            "elapsed_s": ("run", np.full(n, np.nan)),
        },
        coords={"run": np.arange(n), "param": list(names)},
        attrs={
            "design_hash": digest,
            "provenance": json.dumps(dict(provenance), default=str),
            "failures": "{}",
        },
    )
    ds["elapsed_s"].attrs["units"] = "s"
    ds["status"].attrs["flag_values"] = [PENDING, DONE, FAILED]
    ds["status"].attrs["flag_meanings"] = "pending done failed"
    encoding = {v: {"chunks": (1,)} for v in ("status", "elapsed_s")}
    ds.to_zarr(path, mode="w", encoding=encoding, consolidated=False)


def _add_outputs(path: Path, n: int, names: Sequence[str], units: Mapping[str, str]) -> None:
    import xarray as xr

    with xr.open_zarr(path, consolidated=False) as old:
        attrs = dict(old.attrs)  # mode="a" replaces the group attributes: carry them over
    new = xr.Dataset({k: ("run", np.full(n, np.nan)) for k in names}, attrs=attrs)
    for k in names:
        if k in units:
            new[k].attrs["units"] = units[k]
    new.to_zarr(path, mode="a", encoding={k: {"chunks": (1,)} for k in names}, consolidated=False)


def _write_row(path: Path, i: int, values: Mapping[str, Any]) -> None:
    import xarray as xr

    row = xr.Dataset({k: ("run", np.asarray([v])) for k, v in values.items()})
    row.to_zarr(path, region={"run": slice(i, i + 1)}, consolidated=False)


def run_campaign(
    function: Callable[[dict[str, float]], Mapping[str, float]],
    X: ArrayLike,
    *,
    names: Sequence[str],
    store: str | Path,
    provenance: Mapping[str, Any] | None = None,
    units: Mapping[str, str] | None = None,
    n_workers: int = 2,
    scheduler_address: str | None = None,
    progress: bool = True,
    raise_on_failure: bool = True,
) -> Any:
    """Evaluate ``function`` at every row of ``X`` on Dask, resuming a previous store.

    Parameters
    ----------
    function : callable
        Picklable; ``function({name: value}) -> {output: float}``.
    X : array_like, shape (n_runs, len(names))
        The design (edge units).
    names : sequence of str
        Parameter names (columns of ``X``).
    store : path-like
        zarr store; created, or resumed when it holds the same design.
    provenance : mapping, optional
        Stored as JSON in the store's attributes (config hash, design method, seed...);
        package versions are added.
    units : mapping, optional
        Units of the outputs (stored as ``attrs["units"]``).
    n_workers : int
        Worker processes of the local cluster (one thread each); ignored with
        ``scheduler_address``.
    scheduler_address : str, optional
        Use an existing Dask cluster instead of starting a local one.
    progress : bool
        Show a tqdm progress bar.
    raise_on_failure : bool
        Raise :class:`CampaignError` naming the failed runs after the others are stored.

    Returns
    -------
    xarray.Dataset
        The store's content, loaded.
    """
    import xarray as xr
    from tqdm.auto import tqdm

    Xa = np.asarray(X, dtype=np.float64)
    names = list(names)
    if Xa.ndim != 2 or Xa.shape[1] != len(names) or Xa.shape[0] == 0:
        raise InvalidInputError(
            f"X: expected shape (n_runs > 0, {len(names)}) matching names {names} (got {Xa.shape});"
            " give one row per run and one column per name"
        )
    if not np.isfinite(Xa).all():
        i = int(np.argwhere(~np.isfinite(Xa))[0, 0])
        raise InvalidInputError(
            f"X[{i}]: design points must be finite (got {Xa[i].tolist()}); fix the design"
        )
    if scheduler_address is None and (not isinstance(n_workers, int) or n_workers < 1):
        raise InvalidParameterError(
            f"n_workers: must be a positive integer (got {n_workers!r}); give 1 or more"
        )
    path = Path(store)
    digest = _design_hash(Xa, names)
    if (path / "zarr.json").exists():
        existing = xr.open_zarr(path, consolidated=False)
        if existing.attrs.get("design_hash") != digest:
            raise CampaignError(
                f"store: {path.name!r} holds another design (different points or parameter names); "
                "pass a new store path or delete the old one to start over"
            )
        status = existing["status"].values.copy()
        outputs_known = [v for v in existing.data_vars if v not in ("X", "status", "elapsed_s")]
        failures: dict[str, str] = json.loads(existing.attrs.get("failures", "{}"))
        existing.close()
    else:
        prov = {**dict(provenance or {}), "package_versions": package_versions()}
        _new_store(path, Xa, names, prov, digest)
        status = np.zeros(Xa.shape[0], dtype=np.int8)
        outputs_known = []
        failures = {}
    todo = [int(i) for i in np.flatnonzero(status != DONE)]
    if todo:
        _execute(
            function,
            Xa,
            names,
            todo,
            path,
            outputs_known,
            failures,
            units or {},
            n_workers=n_workers,
            scheduler_address=scheduler_address,
            progress=progress,
            n_done=Xa.shape[0] - len(todo),
            tqdm=tqdm,
        )
    ds = xr.open_zarr(path, consolidated=False).load()
    if raise_on_failure and failures:
        listed = "; ".join(
            f"run {k} at {ds['X'].values[int(k)].tolist()}: {v}"
            for k, v in sorted(failures.items(), key=lambda kv: int(kv[0]))
        )
        raise CampaignError(
            f"{len(failures)} of {Xa.shape[0]} FEM runs failed ({listed}); fix the cause and "
            "rerun: finished runs are kept"
        )
    return ds


def _execute(
    function: Callable[[dict[str, float]], Mapping[str, float]],
    Xa: np.ndarray,
    names: list[str],
    todo: list[int],
    path: Path,
    outputs_known: list[str],
    failures: dict[str, str],
    units: Mapping[str, str],
    *,
    n_workers: int,
    scheduler_address: str | None,
    progress: bool,
    n_done: int,
    tqdm: Any,
) -> None:
    import zarr
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler_address is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        client = Client(scheduler_address)  # type: ignore[no-untyped-call]
    try:
        futures = {}
        for i in todo:
            point = {n: float(v) for n, v in zip(names, Xa[i], strict=True)}
            fut = client.submit(
                _timed_call,
                function,
                point,
                pure=False,
                key=f"fem-run-{i}-{path.name}-{time.monotonic_ns()}",
            )
            futures[fut.key] = (i, fut)
        bar = tqdm(
            total=Xa.shape[0], initial=n_done, desc="FEM campaign", unit="run", disable=not progress
        )
        for fut in as_completed([f for _, f in futures.values()]):  # type: ignore[no-untyped-call]
            i = futures[fut.key][0]
            try:
                result, elapsed = fut.result()
            except Exception as err:  # a failed run is recorded, the campaign goes on
                failures[str(i)] = f"{type(err).__name__}: {err}"
                _write_row(path, i, {"status": np.int8(FAILED)})
            else:
                missing = [k for k in result if k not in outputs_known]
                if missing:
                    _add_outputs(path, Xa.shape[0], missing, units)
                    outputs_known.extend(missing)
                failures.pop(str(i), None)
                _write_row(path, i, {**result, "status": np.int8(DONE), "elapsed_s": elapsed})
            bar.update(1)
            fut.release()
        bar.close()
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
    group = zarr.open_group(str(path), mode="r+")
    group.attrs["failures"] = json.dumps(failures)
