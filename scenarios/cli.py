"""``twin scenario``: the virtual plant's commands (registered by name in ``twin.cli``).

``run`` records a scenario (the SimPy plant on the FEM truth), ``replay`` runs the twin
and the baseline over a run folder, ``report`` writes the validation report, ``suite``
runs seeded variants on Dask and aggregates them; ``record`` is the plain start-up
recorder. Errors of the packages become one ``Error:`` line and exit status 1.
"""

from __future__ import annotations

import functools
import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["scenario"]


def _errors[F: Callable[..., Any]](command: F) -> F:
    """Report the packages' errors as ``Error: ...`` (exit 1); tracebacks are bugs."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from models.errors import ModelError
        from scenarios.errors import ScenarioError
        from sensors.errors import SensorsError
        from twin.errors import TwinError

        try:
            return command(*args, **kwargs)
        except (ScenarioError, TwinError, ModelError, SensorsError, OSError) as err:
            raise click.ClickException(str(err)) from err

    return wrapper  # type: ignore[return-value]


def _bar(desc: str, unit: str, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=0, desc=desc, unit=unit, disable=quiet, file=sys.stderr)


@click.group("scenario")
def scenario() -> None:
    """Virtual plant: run scenarios on the FEM truth, replay them through the twin, report."""


_OUT = click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="Run folder.",
)
_CACHE = click.option(
    "--cache",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="FEM truth library cache [default: results/truth-cache].",
)


@scenario.command("run")
@click.argument(
    "scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@_OUT
@click.option(
    "--quick", is_flag=True, help="Shorten the scenario (its [quick] table) for a first try or CI."
)
@_CACHE
@click.option(
    "--broker",
    default=None,
    help="Publish over MQTT to this broker URL instead of writing the archive.",
)
@click.option("--prefix", default="plant", show_default=True, help="Topic prefix with --broker.")
@click.option("--force", is_flag=True, help="Replace an earlier run in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
@_errors
def run(
    scenario_file: pathlib.Path,
    out: pathlib.Path,
    quick: bool,
    cache: pathlib.Path | None,
    broker: str | None,
    prefix: str,
    force: bool,
    quiet: bool,
) -> None:
    """Generate and record SCENARIO_FILE: the plant's readings and the hidden truth."""
    from scenarios.runner import DEFAULT_CACHE, run_scenario
    from scenarios.spec import load_scenario

    scen = load_scenario(scenario_file)
    if quick:
        scen = scen.quick()
    sink = None
    if broker is not None:
        from scenarios.sinks import MqttSink
        from sensors.mqtt import parse_broker_url

        try:
            settings = parse_broker_url(broker)
        except ValueError as err:
            raise click.BadParameter(f"{broker!r}: {err}", param_hint="--broker") from err
        sink = MqttSink(settings, scen.config, prefix=prefix, speed=scen.speed)
    bar = _bar("FEM truth library", "node", quiet)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    click.echo(f"scenario {scen.name!r}: FEM truth library, then the virtual plant ...", err=True)
    truth = run_scenario(
        scen,
        out,
        cache=cache or DEFAULT_CACHE,
        quick=quick,
        sink=sink,
        progress=progress,
        force=force,
    )
    bar.close()
    eol = truth.get("end_of_life")
    life = (eol - truth["start_time"]) / (365.25 * 86400) if eol else None
    click.echo(
        f"recorded {truth['readings']} readings ({truth['readings_per_year']:.3g} per simulated "
        f"year) into {out}; true end of life: "
        + (
            f"{life:.3g} years ({truth['mechanism']} at {truth['location']})"
            if life
            else "beyond the truth horizon"
        )
    )


@scenario.command("replay")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.option(
    "--particles", type=click.IntRange(2, 100_000), default=None, help="Override twin.particles."
)
@click.option(
    "--every-days",
    type=click.FloatRange(min=0.001),
    default=None,
    help="Plant days between forecasts [default: the scenario's].",
)
@click.option(
    "--samples",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Monte Carlo samples per forecast.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the twin and forecasts."
)
@click.option("--json", "as_json", is_flag=True, help="Print replay.json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_errors
def replay_cmd(
    run_dir: pathlib.Path,
    particles: int | None,
    every_days: float | None,
    samples: int | None,
    seed: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run the twin (and the deterministic baseline) over RUN_DIR, forecasting as it goes."""
    from scenarios.replay import ReplayOptions, replay

    opts = ReplayOptions(
        particles=particles,
        forecast_every_s=None if every_days is None else every_days * 86400.0,
        samples=samples,
        seed=seed,
    )
    bar = _bar("replay", "reading", quiet or as_json)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    doc = replay(run_dir, options=opts, progress=progress)
    bar.close()
    if as_json:
        click.echo(json.dumps(doc, indent=1))
        return
    click.echo(
        f"replayed {doc['readings']} readings ({doc['readings_per_second']:.0f}/s), "
        f"{doc['forecasts']} forecasts in {doc['wall_seconds']:.1f} s; wrote {run_dir / 'replay'}"
    )
    last = doc["last_forecast"]
    q = last["rul_years"]

    def years(x: float | None) -> str:
        return "beyond the horizon" if x is None else f"{x:.3g} years"

    click.echo(
        f"remaining life at the last forecast: median {years(q['p50'])}, 90 % interval "
        f"[{years(q['p05'])}, {years(q['p95'])}]; baseline {years(last['baseline_rul_years'])}"
    )


@scenario.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report's JSON.")
@_errors
def report_cmd(run_dir: pathlib.Path, as_json: bool) -> None:
    """Write RUN_DIR/report/index.html (figures beside it) from the truth and the replay."""
    from scenarios.report import build_report

    doc = build_report(run_dir)
    if as_json:
        click.echo(json.dumps(doc, indent=1, default=str))
        return
    m = doc["metrics"]
    click.echo(
        f"coverage 90 % {m.get('coverage_90')}, CRPS {m.get('crps')} (baseline "
        f"{m.get('baseline', {}).get('crps')}), alpha-lambda pass {m.get('alpha_lambda_pass')}"
    )
    click.echo(f"report: {run_dir / 'report' / 'index.html'}")


@scenario.command("suite")
@click.argument(
    "scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@_OUT
@click.option(
    "--count",
    type=click.IntRange(1, 10_000),
    default=30,
    show_default=True,
    help="Seeded variants.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Suite seed (the variants' truths and faults).",
)
@click.option("--quick", is_flag=True, help="Shorten every variant.")
@click.option(
    "--scheduler",
    default=None,
    help="Address of an existing Dask scheduler [default: a local cluster].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=2,
    show_default=True,
    help="Workers of the local cluster.",
)
@click.option(
    "--particles", type=click.IntRange(2, 100_000), default=None, help="Override twin.particles."
)
@_CACHE
@click.option("--json", "as_json", is_flag=True, help="Print suite.json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_errors
def suite_cmd(
    scenario_file: pathlib.Path,
    out: pathlib.Path,
    count: int,
    seed: int,
    quick: bool,
    scheduler: str | None,
    workers: int,
    particles: int | None,
    cache: pathlib.Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run COUNT seeded variants of SCENARIO_FILE on Dask; one aggregated report in --out."""
    from scenarios.replay import ReplayOptions
    from scenarios.spec import load_scenario
    from scenarios.suite import run_suite

    load_scenario(scenario_file)  # refuse bad input before a cluster starts
    bar = _bar("suite", "scenario", quiet or as_json)
    bar.total = count

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    agg = run_suite(
        scenario_file, out, count=count, seed=seed, quick=quick, scheduler=scheduler,
        workers=workers, cache=cache, options=ReplayOptions(particles=particles),
        progress=progress,
    )  # fmt: skip
    bar.close()
    if as_json:
        click.echo(json.dumps(agg, indent=1, default=str))
        return
    click.echo(f"suite of {count} in {agg['wall_seconds']:.0f} s; report: {out / 'index.html'}")
    if agg.get("failed"):
        raise click.ClickException(f"{len(agg['failed'])} scenarios failed: {agg['failed'][:3]}")


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


@scenario.command("aggregate")
@click.argument("suite_dir", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.option("--json", "as_json", is_flag=True, help="Print suite.json.")
@_errors
def aggregate_cmd(suite_dir: pathlib.Path, as_json: bool) -> None:
    """Rebuild the reports of a suite's run folders and aggregate them again."""
    from scenarios.suite import aggregate_folder

    agg = aggregate_folder(suite_dir)
    if as_json:
        click.echo(json.dumps(agg, indent=1, default=str))
        return
    click.echo(f"{agg.get('scenarios', 0)} scenarios; report: {suite_dir / 'index.html'}")
    if agg.get("failed"):
        raise click.ClickException(f"{len(agg['failed'])} run folders failed: {agg['failed'][:3]}")
