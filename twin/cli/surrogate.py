"""``twin surrogate``: train GP surrogates from FEM campaigns on Dask and validate them.

Only ``click`` and the standard library are imported at module level; torch, Dask and
DOLFINx are imported inside the commands (``twin --help`` stays fast).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

__all__ = ["surrogate"]

_DEFAULTS: dict[str, Any] = {
    "n_train": 32,
    "n_holdout": 16,
    "design": "sobol",
    "seed": 0,
    "workers": 2,
}


def _parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                f"{item!r}: expected KEY=VALUE, e.g. mesh.radial_cells=10", param_hint="--set"
            )
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _setup(config: Path, sets: tuple[str, ...]) -> tuple[Any, Any, dict[str, Any]]:
    """Load the config (with overrides), its parameter space and the [surrogate] settings."""
    import torch

    from models.config import load_config
    from models.errors import ConfigError
    from surrogates.errors import ParameterSpaceError
    from surrogates.space import ParameterSpace

    torch.set_num_threads(1)
    try:
        cfg = load_config(config)
        overrides = _parse_sets(sets)
        if overrides:
            cfg = cfg.with_overrides(overrides)
        space = ParameterSpace.from_config(cfg)
    except (ConfigError, ParameterSpaceError) as err:
        raise click.ClickException(str(err)) from err
    section = {**_DEFAULTS, **dict(cfg.sections.get("surrogate", {}))}
    return cfg, space, section


def _campaign(
    cfg: Any,
    space: Any,
    section: dict[str, Any],
    X: Any,
    *,
    store: Path,
    workers: int,
    scheduler: str | None,
    progress: bool,
    kind: str,
) -> Any:
    from surrogates.campaign import run_campaign
    from surrogates.errors import CampaignError
    from surrogates.targets import PEAK_OUTPUTS, FemResponses

    outputs = tuple(section.get("outputs", tuple(PEAK_OUTPUTS)))
    fn = FemResponses(config=cfg.to_dict(), space=space.to_dict(), outputs=outputs)
    provenance = {
        "kind": kind,
        "config_hash": cfg.config_hash,
        "relevant_hash": space.relevant_hash(cfg),
        "design": section["design"] if kind == "training" else "lhs",
        "seed": int(section["seed"]),
    }
    try:
        return run_campaign(
            fn,
            X,
            names=space.names,
            store=store,
            provenance=provenance,
            units={o: PEAK_OUTPUTS[o][0] for o in outputs},
            n_workers=workers,
            scheduler_address=scheduler,
            progress=progress,
        )
    except CampaignError as err:
        raise click.ClickException(str(err)) from err


@click.group("surrogate")
def surrogate() -> None:
    """Train and validate GP surrogates of a component's FEM model."""


_config_arg = click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_out_opt = click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the campaign stores and the model [default: <config stem>.surrogate].",
)
_workers_opt = click.option(
    "--workers",
    type=int,
    default=None,
    help="Local Dask workers [default: surrogate.workers or 2].",
)
_sched_opt = click.option(
    "--scheduler",
    default=None,
    help="Address of an existing Dask scheduler (instead of a local cluster).",
)
_set_opt = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config key for every run, e.g. --set mesh.radial_cells=10 (repeatable).",
)
_progress_opt = click.option("--progress/--no-progress", default=True, help="Show progress bars.")


@surrogate.command("train")
@_config_arg
@_out_opt
@_workers_opt
@_sched_opt
@_set_opt
@_progress_opt
@click.option(
    "--n-train", type=int, default=None, help="FEM runs [default: surrogate.n_train or 32]."
)
def train(
    config: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    sets: tuple[str, ...],
    progress: bool,
    n_train: int | None,
) -> None:
    """Run the training FEM campaign of CONFIG on Dask and fit the GP surrogate."""
    import time

    import numpy as np

    from surrogates.design import design_points
    from surrogates.errors import SurrogateError
    from surrogates.persistence import save_surrogate
    from surrogates.targets import PEAK_OUTPUTS
    from surrogates.train import fit_from_campaign

    cfg, space, section = _setup(config, sets)
    folder = out or Path(f"{config.stem}.surrogate")
    folder.mkdir(parents=True, exist_ok=True)
    n = int(n_train or section["n_train"])
    X = design_points(
        space, n, method=str(section["design"]), rng=np.random.default_rng(int(section["seed"]))
    )
    start = time.perf_counter()
    ds = _campaign(
        cfg,
        space,
        section,
        X,
        store=folder / "campaign.zarr",
        workers=int(workers or section["workers"]),
        scheduler=scheduler,
        progress=progress,
        kind="training",
    )
    campaign_s = time.perf_counter() - start
    outputs = tuple(section.get("outputs", tuple(PEAK_OUTPUTS)))
    start = time.perf_counter()
    try:
        sur = fit_from_campaign(
            ds,
            space=space,
            outputs=outputs,
            units={o: PEAK_OUTPUTS[o][0] for o in outputs},
            relevant_hash=space.relevant_hash(cfg),
            provenance={
                "config_hash": cfg.config_hash,
                "campaign": json.loads(ds.attrs["provenance"]),
                "overrides": list(sets),
            },
            gp_params={**dict(section.get("gp", {})), "progress": progress},
        )
    except SurrogateError as err:
        raise click.ClickException(str(err)) from err
    fit_s = time.perf_counter() - start
    path = save_surrogate(sur, folder / "model")
    click.echo(f"campaign: {n} FEM runs in {campaign_s:.1f} s ({folder / 'campaign.zarr'})")
    click.echo(
        f"training: {fit_s:.2f} s, {sur.gp.n_iter_} L-BFGS iterations, "
        f"converged={sur.gp.converged_}"
    )
    click.echo(f"model: {path}")


@surrogate.command("validate")
@_config_arg
@_out_opt
@_workers_opt
@_sched_opt
@_set_opt
@_progress_opt
@click.option(
    "--n-holdout",
    type=int,
    default=None,
    help="Held-out FEM runs [default: surrogate.n_holdout or 16].",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object of metrics per output.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Parity plot PNG [default: <out>/parity.png].",
)
def validate(
    config: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    sets: tuple[str, ...],
    progress: bool,
    n_holdout: int | None,
    as_json: bool,
    plot: Path | None,
) -> None:
    """Check the trained surrogate of CONFIG against held-out FEM runs never used in training."""
    import numpy as np

    from surrogates.design import design_points
    from surrogates.errors import SurrogateError
    from surrogates.persistence import load_surrogate
    from surrogates.train import training_arrays
    from surrogates.validation import format_metrics_table, metrics, plot_parity

    cfg, space, section = _setup(config, sets)
    folder = out or Path(f"{config.stem}.surrogate")
    try:
        sur = load_surrogate(folder / "model", config=cfg)
    except SurrogateError as err:
        raise click.ClickException(str(err)) from err
    n = int(n_holdout or section["n_holdout"])
    # A Latin hypercube from another seed: points the training design never visited.
    X = design_points(
        space, n, method="lhs", rng=np.random.default_rng(int(section["seed"]) + 7919)
    )
    ds = _campaign(
        cfg,
        space,
        section,
        X,
        store=folder / "holdout.zarr",
        workers=int(workers or section["workers"]),
        scheduler=scheduler,
        progress=progress,
        kind="holdout",
    )
    try:
        Xh, Yh = training_arrays(ds, space=space, outputs=sur.outputs)
    except SurrogateError as err:
        raise click.ClickException(str(err)) from err
    mean, std = sur.predict(Xh)
    table = {o: metrics(Yh[:, j], mean[:, j], std[:, j]) for j, o in enumerate(sur.outputs)}
    scales = {
        o: (1e-6 if sur.units.get(o) == "Pa" else 1e6 if sur.units.get(o) == "1" else 1.0)
        for o in sur.outputs
    }
    units = {
        o: {"Pa": "MPa", "1": "microstrain"}.get(sur.units.get(o, ""), sur.units.get(o, ""))
        for o in sur.outputs
    }
    png = plot_parity(
        Yh,
        mean,
        std,
        names=sur.outputs,
        path=plot or folder / "parity.png",
        units=units,
        scales=scales,
    )
    if as_json:
        click.echo(json.dumps(table, indent=2))
    else:
        click.echo(format_metrics_table(table, units=sur.units))
        click.echo(f"{n} held-out FEM runs; parity plot: {png}")
    if as_json:
        click.echo(f"parity plot: {png}", err=True)
