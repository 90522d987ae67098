"""Forecasts of a fleet of components on Dask: one task per component, seeded by its identity.

A fleet is a list of components, each a config, a checkpoint and optionally a duty plan
(default: ``<config stem>.plan.toml`` beside the config), given on the command line or
in a fleet file::

    # fleet.toml (paths relative to this file)
    [[component]]
    config = "grade91_header.toml"
    checkpoint = "runs/header-a/checkpoint"
    plan = "grade91_header.plan.toml"      # optional
    id = "plant-1/header-a"                # optional: default site/component of the config

Each component's forecast is one Dask task, a pure function of its inputs: its seed is
derived from the run's seed and the component's identity
(:func:`component_seed`), never from the task's position, worker or timing, so a
re-executed task (a lost worker) and any number of workers give bit-identical results.
A local cluster (processes, one thread each) is started unless a scheduler address is
given.
"""

from __future__ import annotations

import hashlib
import pathlib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin.errors import TwinConfigError

__all__ = ["FleetMember", "component_seed", "forecast_fleet", "forecast_member", "load_fleet"]


@dataclass(frozen=True)
class FleetMember:
    """One component of a fleet (paths resolved)."""

    config: pathlib.Path
    checkpoint: pathlib.Path
    plan: pathlib.Path | None = None
    identity: str | None = None


def component_seed(seed: int, identity: str) -> int:
    """Return a 64-bit seed from the run's seed and a component's identity (SHA-256 of the id)."""
    digest = hashlib.sha256(identity.encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=tuple(words))
    return int(ss.generate_state(2, dtype=np.uint64)[0])


def load_fleet(path: str | pathlib.Path) -> list[FleetMember]:
    """Read a fleet file (see the module docstring); errors name the entry and the field."""
    p = pathlib.Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except FileNotFoundError as err:
        raise TwinConfigError(f"fleet: no file {str(p)!r}") from err
    except tomllib.TOMLDecodeError as err:
        raise TwinConfigError(f"fleet {p.name}: not valid TOML ({err})") from err
    unknown = sorted(set(doc) - {"component"})
    if unknown:
        raise TwinConfigError(
            f"fleet {p.name}: unknown keys {unknown}; it holds [[component]] tables"
        )
    entries = doc.get("component")
    if not isinstance(entries, list) or not entries:
        raise TwinConfigError(f"fleet {p.name}: needs at least one [[component]] table")
    out = []
    base = p.parent
    for i, e in enumerate(entries):
        where = f"fleet {p.name}: component[{i}]"
        if not isinstance(e, dict):
            raise TwinConfigError(f"{where}: must be a table (got {e!r})")
        bad = sorted(set(e) - {"config", "checkpoint", "plan", "id"})
        if bad:
            raise TwinConfigError(
                f"{where}: unknown keys {bad}; it takes config, checkpoint, plan, id"
            )
        for key in ("config", "checkpoint"):
            if not isinstance(e.get(key), str):
                raise TwinConfigError(f"{where}.{key}: must be a path string (got {e.get(key)!r})")
        plan = e.get("plan")
        if plan is not None and not isinstance(plan, str):
            raise TwinConfigError(f"{where}.plan: must be a path string (got {plan!r})")
        ident = e.get("id")
        if ident is not None and (not isinstance(ident, str) or not ident):
            raise TwinConfigError(f"{where}.id: must be a non-empty string (got {ident!r})")
        out.append(
            FleetMember(
                config=base / e["config"],
                checkpoint=base / e["checkpoint"],
                plan=None if plan is None else base / plan,
                identity=ident,
            )
        )
    ids = [m.identity for m in out if m.identity is not None]
    if len(set(ids)) != len(ids):
        raise TwinConfigError(f"fleet {p.name}: component ids must be unique (got {ids})")
    return out


def _plan_for(member: FleetMember) -> Any:
    from twin.plan import load_plan

    path = member.plan or member.config.with_name(f"{member.config.stem}.plan.toml")
    if not path.exists():
        raise TwinConfigError(
            f"plan: no plan for {str(member.config)!r}; give one (plan = ...) or write "
            f"{path.name} beside the config"
        )
    return load_plan(path)


def forecast_member(member: FleetMember, *, options: Any, seed: int) -> dict[str, Any]:
    """Forecast one component (a Dask task): its summary and samples.

    Returns
    -------
    dict
        ``identity``, ``seed`` (the component's), ``summary`` (the ``--json`` object),
        ``time_to_failure``, ``mechanism``, ``location`` (arrays) and ``locations``.
    """
    from models.config import load_config
    from twin.forecast import Forecaster

    cfg = load_config(member.config)
    identity = member.identity or f"{cfg.component.site}/{cfg.component.name}"
    fc = Forecaster.from_checkpoint(member.checkpoint, options=options)
    s = component_seed(seed, identity)
    r = fc.run(_plan_for(member), seed=s)
    return {
        "identity": identity,
        "seed": s,
        "summary": r.summary(),
        "time_to_failure": r.time_to_failure,
        "mechanism": r.mechanism,
        "location": r.location,
        "locations": list(r.locations),
    }


def forecast_fleet(
    members: Sequence[FleetMember],
    *,
    options: Any,
    seed: int = 0,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> list[dict[str, Any]]:
    """Forecast every member on Dask (one task each), results in the members' order.

    Parameters
    ----------
    members : sequence of FleetMember
    options : twin.forecast.ForecastOptions
    seed : int, optional
    scheduler : str, optional
        Address of an existing Dask scheduler; default: a local cluster.
    workers : int, optional
        Workers of the local cluster (default: the CPU count).
    processes : bool, optional
        Local workers as processes (default) or threads.
    """
    import importlib

    dd: Any = importlib.import_module("dask.distributed")
    if not members:
        raise TwinConfigError("fleet: no components to forecast")
    cluster = None
    try:
        if scheduler is None:
            cluster = dd.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=processes,
                dashboard_address=None,
            )  # fmt: skip
            client = dd.Client(cluster)
        else:
            client = dd.Client(scheduler)
        try:
            keys = [f"forecast-{i}-{m.identity or m.config.stem}" for i, m in enumerate(members)]
            futures = [
                client.submit(forecast_member, m, options=options, seed=seed, key=k, pure=False)
                for m, k in zip(members, keys, strict=True)
            ]
            results: list[dict[str, Any]] = list(client.gather(futures))
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
    ids = [r["identity"] for r in results]
    if len(set(ids)) != len(ids):
        raise TwinConfigError(
            f"fleet: component identities must be unique (got {ids}); set id = ... per component"
        )
    return results
