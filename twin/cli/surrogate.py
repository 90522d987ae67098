"""``twin surrogate``: train GP surrogates from FEM campaigns on Dask and validate them.

Two surrogates per component, both from the config's ``[surrogate]`` section:

* ``model/``: steady and peak quantities (bore hoop and von Mises stress, wall
  temperature difference, outer strain) over the whole parameter space;
* ``modes/`` (when ``[surrogate.modes]`` is present): the exponential-mode parameters of
  the FEM unit responses over the sub-space that changes them.

Only ``click`` and the standard library are imported at module level; torch, Dask and
DOLFINx are imported inside the commands (``twin --help`` stays fast).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from twin.cli._common import out_option, quiet, reports_errors, verbosity_options

__all__ = ["surrogate"]

_DEFAULTS: dict[str, Any] = {
    "n_train": 32,
    "n_holdout": 16,
    "design": "sobol",
    "seed": 0,
    "workers": 2,
}
_MODE_DEFAULTS: dict[str, Any] = {"n_modes": 3, "stages": 11, "stage_steps": 50}
_HOLDOUT_SEED_OFFSET = 7919  # held-out designs never reuse the training seed


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


class _Job:
    """What one surrogate kind needs: its space, campaign function, outputs and folders."""

    def __init__(self, kind: str, cfg: Any, space: Any, section: dict[str, Any]) -> None:
        from surrogates.targets import (
            PEAK_OUTPUTS,
            FemResponses,
            ModeResponses,
            mode_keys_for,
            mode_output_names,
        )

        self.kind = kind
        if kind == "peak":
            self.space = space
            outputs = tuple(section.get("outputs", tuple(PEAK_OUTPUTS)))
            self.units = {o: PEAK_OUTPUTS[o][0] for o in outputs}
            self.function: Any = FemResponses(
                config=cfg.to_dict(), space=space.to_dict(), outputs=outputs
            )
            self.model_dir, self.store, self.holdout = "model", "campaign.zarr", "holdout.zarr"
            self.n_train = int(section["n_train"])
            self.n_holdout = int(section["n_holdout"])
            self.gp = dict(section.get("gp", {}))
        else:
            msec = {**_MODE_DEFAULTS, **dict(section["modes"])}
            self.space = space.modal(msec.get("property_temperature_degC"))
            n_modes = int(msec["n_modes"])
            keys = mode_keys_for(cfg)
            self.units = mode_output_names(keys, n_modes=n_modes)
            self.function = ModeResponses(
                config=cfg.to_dict(),
                space=self.space.to_dict(),
                keys=keys,
                n_modes=n_modes,
                stages=int(msec["stages"]),
                stage_steps=int(msec["stage_steps"]),
            )
            self.model_dir, self.store, self.holdout = "modes", "modes.zarr", "modes_holdout.zarr"
            self.n_train = int(msec.get("n_train", section["n_train"]))
            self.n_holdout = int(msec.get("n_holdout", section["n_holdout"]))
            self.gp = {"max_iter": 1000, **dict(section.get("gp", {})), **dict(msec.get("gp", {}))}
        self.outputs = tuple(self.units)
        self.design = str(section["design"])
        self.seed = int(section["seed"]) + (0 if kind == "peak" else 1)
        self.relevant_hash = self.space.relevant_hash(cfg)
        self.config_hash = cfg.config_hash

    def run(
        self,
        X: Any,
        *,
        store: Path,
        workers: int,
        scheduler: str | None,
        progress: bool,
        purpose: str,
    ) -> Any:
        from surrogates.campaign import run_campaign
        from surrogates.errors import CampaignError

        provenance = {
            "purpose": purpose,
            "surrogate_kind": self.kind,
            "config_hash": self.config_hash,
            "relevant_hash": self.relevant_hash,
            "design": self.design if purpose == "training" else "lhs",
            "seed": self.seed,
        }
        try:
            return run_campaign(
                self.function,
                X,
                names=self.space.names,
                store=store,
                provenance=provenance,
                units=self.units,
                n_workers=workers,
                scheduler_address=scheduler,
                progress=progress,
            )
        except CampaignError as err:
            raise click.ClickException(str(err)) from err


def _setup(
    config: Path, sets: tuple[str, ...], kind: str = "all"
) -> tuple[Any, list[_Job], dict[str, Any]]:
    """Load the config (with overrides) and build one job per surrogate kind."""
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
        section = {**_DEFAULTS, **dict(cfg.sections.get("surrogate", {}))}
        kinds = ["peak", "modes"] if "modes" in section else ["peak"]
        if kind == "modes" and "modes" not in section:
            raise click.ClickException(
                "--kind modes: the config has no [surrogate.modes] section; add one "
                "(n_modes, n_train, n_holdout)"
            )
        if kind != "all":
            kinds = [kind]
        jobs = [_Job(k, cfg, space, section) for k in kinds]
    except (ConfigError, ParameterSpaceError) as err:
        raise click.ClickException(str(err)) from err
    return cfg, jobs, section


@click.group("surrogate")
@verbosity_options
def surrogate() -> None:
    """Train and validate GP surrogates of a component's FEM model."""


_config_arg = click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_out_opt = out_option(
    help="Folder of the campaign stores and the models [default: <config stem>.surrogate]",
)
_workers_opt = click.option(
    "--workers",
    type=int,
    default=None,
    help="Local Dask workers [default: surrogate.workers or 2].",
)
_sched_opt = click.option(
    "--scheduler", default=None, help="Address of an existing Dask scheduler (no local cluster)."
)
_set_opt = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config key for every run, e.g. --set mesh.radial_cells=10 (repeatable).",
)
_progress_opt = click.option("--progress/--no-progress", default=True, help="Show progress bars.")
_kind_opt = click.option(
    "--kind",
    type=click.Choice(["all", "peak", "modes"]),
    default="all",
    show_default=True,
    help="Which surrogate: peak quantities (model/), unit-response modes (modes/) or both.",
)


@surrogate.command("train")
@_config_arg
@_out_opt
@_workers_opt
@_sched_opt
@_set_opt
@_progress_opt
@_kind_opt
@click.option(
    "--n-train",
    type=int,
    default=None,
    help="FEM runs of the peak surrogate [default: surrogate.n_train]; the modes "
    "campaign takes surrogate.modes.n_train (settable with --set).",
)
@verbosity_options
@reports_errors
def train(
    config: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    sets: tuple[str, ...],
    progress: bool,
    kind: str,
    n_train: int | None,
) -> None:
    """Run the training FEM campaigns of CONFIG on Dask and fit the GP surrogates."""
    import time

    import numpy as np

    from surrogates.design import design_points
    from surrogates.errors import SurrogateError
    from surrogates.persistence import save_surrogate
    from surrogates.train import fit_from_campaign

    cfg, jobs, section = _setup(config, sets, kind)
    progress = progress and not quiet()
    folder = out or Path(f"{config.stem}.surrogate")
    folder.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        n = int(n_train or job.n_train) if job.kind == "peak" else job.n_train
        rng = np.random.default_rng(job.seed)
        X = design_points(job.space, n, method=job.design, rng=rng)
        start = time.perf_counter()
        ds = job.run(
            X,
            store=folder / job.store,
            workers=int(workers or section["workers"]),
            scheduler=scheduler,
            progress=progress,
            purpose="training",
        )
        campaign_s = time.perf_counter() - start
        start = time.perf_counter()
        try:
            sur = fit_from_campaign(
                ds,
                space=job.space,
                outputs=job.outputs,
                units=job.units,
                relevant_hash=job.relevant_hash,
                provenance={
                    "config_hash": cfg.config_hash,
                    "campaign": json.loads(ds.attrs["provenance"]),
                    "overrides": list(sets),
                },
                gp_params={**job.gp, "progress": progress},
                kind=job.kind,
            )
        except SurrogateError as err:
            raise click.ClickException(str(err)) from err
        fit_s = time.perf_counter() - start
        path = save_surrogate(sur, folder / job.model_dir)
        if quiet():
            continue
        click.echo(
            f"[{job.kind}] campaign: {n} FEM runs in {campaign_s:.1f} s; training: {fit_s:.2f} s, "
            f"{sur.gp.n_iter_} L-BFGS iterations, converged={sur.gp.converged_}; model: {path}"
        )


@surrogate.command("validate")
@_config_arg
@_out_opt
@_workers_opt
@_sched_opt
@_set_opt
@_progress_opt
@_kind_opt
@click.option(
    "--n-holdout",
    type=int,
    default=None,
    help="Held-out FEM runs of the peak surrogate [default: surrogate.n_holdout]; "
    "modes: surrogate.modes.n_holdout.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object of metrics per output.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Parity plot PNG of the peak quantities [default: <out>/parity.png].",
)
@verbosity_options
@reports_errors
def validate(
    config: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    sets: tuple[str, ...],
    progress: bool,
    kind: str,
    n_holdout: int | None,
    as_json: bool,
    plot: Path | None,
) -> None:
    """Check the trained surrogates of CONFIG against held-out FEM runs never used in training."""
    import numpy as np

    from surrogates.design import design_points
    from surrogates.errors import SurrogateError
    from surrogates.persistence import load_surrogate
    from surrogates.train import training_arrays
    from surrogates.validation import format_metrics_table, metrics, plot_parity

    cfg, jobs, section = _setup(config, sets, kind)
    progress = progress and not quiet()
    folder = out or Path(f"{config.stem}.surrogate")
    table: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    notes = []
    for job in jobs:
        try:
            sur = load_surrogate(folder / job.model_dir, config=cfg)
        except SurrogateError as err:
            raise click.ClickException(str(err)) from err
        n = int(n_holdout or job.n_holdout) if job.kind == "peak" else job.n_holdout
        # A Latin hypercube from another seed: points the training design never visited.
        rng = np.random.default_rng(job.seed + _HOLDOUT_SEED_OFFSET)
        X = design_points(job.space, n, method="lhs", rng=rng)
        ds = job.run(
            X,
            store=folder / job.holdout,
            workers=int(workers or section["workers"]),
            scheduler=scheduler,
            progress=progress,
            purpose="holdout",
        )
        try:
            Xh, Yh = training_arrays(ds, names=job.space.names, outputs=sur.outputs)
        except SurrogateError as err:
            raise click.ClickException(str(err)) from err
        mean, std = sur.predict(Xh)
        for j, o in enumerate(sur.outputs):
            table[o] = metrics(Yh[:, j], mean[:, j], std=std[:, j])
            units[o] = sur.units.get(o, "")
        png_path = (plot or folder / "parity.png") if job.kind == "peak" else folder / "modes.png"
        scales = {o: {"Pa": 1e-6, "1": 1e6}.get(sur.units.get(o, ""), 1.0) for o in sur.outputs}
        shown = {o: {"Pa": "MPa", "1": "microstrain"}.get(u, u) for o, u in sur.units.items()}
        png = plot_parity(
            Yh, mean, std=std, names=sur.outputs, path=png_path, units=shown, scales=scales
        )
        notes.append(f"[{job.kind}] {n} held-out FEM runs; parity plot: {png}")
    if as_json:
        click.echo(json.dumps(table, indent=2))
    else:
        click.echo(format_metrics_table(table, units=units))
    for note in [] if quiet() else notes:
        click.echo(note, err=as_json)
