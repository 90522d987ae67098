"""``twin scenario``: the virtual plant's commands (registered by name in ``twin.cli``)."""

from __future__ import annotations

import json
import pathlib

import click

__all__ = ["scenario"]


@click.group("scenario")
def scenario() -> None:
    """Virtual plant: record sensor archives from the FEM truth."""


@scenario.command("record")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="Folder for archive/ and truth.json.",
)
@click.option(
    "--cycles",
    type=click.IntRange(1, 10_000),
    default=5,
    show_default=True,
    help="Start-up cycles to record.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the noise.")
@click.option(
    "--bore-htc",
    type=float,
    default=3000.0,
    show_default=True,
    help="Hidden heat-transfer coefficient, W/m2K.",
)
@click.option(
    "--wall-thickness",
    type=float,
    default=None,
    help="Hidden wall thickness, m [default: the config's].",
)
@click.option(
    "--bias",
    "biases",
    multiple=True,
    metavar="SENSOR=K",
    help="Hidden bias of a sensor in SI units (repeatable), e.g. TC-outer-01=1.5.",
)
@click.option(
    "--cache",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="FEM truth cache [default: results/truth-cache].",
)
@click.option("--force", is_flag=True, help="Replace an earlier recording in --out.")
def record(
    config: pathlib.Path,
    out: pathlib.Path,
    cycles: int,
    seed: int,
    bore_htc: float,
    wall_thickness: float | None,
    biases: tuple[str, ...],
    cache: pathlib.Path | None,
    force: bool,
) -> None:
    """Record CYCLES start-ups of CONFIG's component from the temperature-dependent FEM."""
    import shutil

    from models.config import load_config
    from models.errors import ModelError
    from scenarios.record import record_startups

    try:
        cfg = load_config(config)
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    ids = {s.id for s in cfg.sensors}
    bias: dict[str, float] = {}
    for item in biases:
        name, sep, raw = item.partition("=")
        if not sep or name not in ids:
            raise click.BadParameter(
                f"{item!r}: expected SENSOR=VALUE with SENSOR one of {sorted(ids)}",
                param_hint="--bias",
            )
        try:
            bias[name] = float(raw)
        except ValueError as err:
            raise click.BadParameter(
                f"{item!r}: {raw!r} is not a number", param_hint="--bias"
            ) from err
    if out.exists() and any(out.iterdir()):
        if not force:
            raise click.ClickException(
                f"--out: {str(out)!r} holds an earlier recording; pass --force"
            )
        shutil.rmtree(out)
    wall = (
        cfg.geometry.outer_radius - cfg.geometry.inner_radius
        if wall_thickness is None
        else wall_thickness
    )
    click.echo(
        f"FEM truth of one cycle (h = {bore_htc:g} W/m2K, wall = {wall:g} m), then "
        f"{cycles} cycles of readings ...",
        err=True,
    )
    truth = record_startups(
        cfg,
        out,
        cycles=cycles,
        seed=seed,
        bore_htc=bore_htc,
        wall_thickness=wall,
        bias=bias,
        cache=cache or pathlib.Path("results") / "truth-cache",
    )
    click.echo(json.dumps({"archive": str(out / "archive"), **truth}, indent=1))
