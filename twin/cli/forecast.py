"""``twin forecast``: remaining life from a twin checkpoint, plans compared, operating advice."""

from __future__ import annotations

import json
import math
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import click

from twin.cli._common import out_option, quiet, verbosity_options

__all__ = ["forecast"]


def _per_min(v: float) -> float:
    return v / 60.0


def _to_per_min(v: float) -> float:
    return v * 60.0


def _kelvin(v: float) -> float:
    from models.units import celsius_to_kelvin

    return float(celsius_to_kelvin(v))


def _celsius(v: float) -> float:
    from models.units import kelvin_to_celsius

    return float(kelvin_to_celsius(v))


#: --advise parameter: (edge unit, edge -> SI, SI -> edge)
_UNITS: dict[str, tuple[str, Callable[[float], float], Callable[[float], float]]] = {
    "ramp_rate": ("degC/min", _per_min, _to_per_min),
    "hold_temperature": ("degC", _kelvin, _celsius),
}


def _plan(path: pathlib.Path | None, config: pathlib.Path, twin_settings: Any) -> Any:
    from twin._plan_history import plan_from_archive
    from twin.plan import load_plan

    p = path or config.with_name(f"{config.stem}.plan.toml")
    if p.is_dir():  # a sensor archive: continue as the last year ran
        return plan_from_archive(
            p,
            fluid_temperature=twin_settings.inputs["fluid_temperature"],
            pressure=twin_settings.inputs["pressure"],
        )
    if not p.exists():
        raise click.ClickException(
            f"--plan: no plan given and no {p.name} beside the config; pass --plan FILE "
            "(a duty plan TOML) or --plan ARCHIVE (derive it from the sensor archive)"
        )
    return load_plan(p)


@click.command()
@click.argument(
    "configs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, path_type=pathlib.Path),
    help="Checkpoint written by `twin assimilate` (DIR/checkpoint, or DIR); once per CONFIG.",
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(exists=True, path_type=pathlib.Path),
    default=None,
    help="Duty plan TOML, or a sensor archive to continue as its last year ran "
    "(default: <config stem>.plan.toml beside the config).",
)
@click.option("--samples", type=int, default=1000, show_default=True, help="Monte Carlo samples.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed: the same seed gives the same output.",
)
@click.option(
    "--horizon-years", type=float, default=40.0, show_default=True, help="Forecast horizon."
)
@click.option(
    "--steps-per-year", type=int, default=12, show_default=True, help="Time steps per year."
)
@click.option(
    "--damage-limit",
    type=float,
    default=1.0,
    show_default=True,
    help="Failure at this fraction of the creep-fatigue envelope.",
)
@out_option(required=True, help="Folder for forecast.zarr, summary.json, fan.png and risk.png")
@click.option("--force", is_flag=True, help="Replace an earlier run in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--compare",
    "compare",
    multiple=True,
    type=click.Path(exists=True, path_type=pathlib.Path),
    help="Another duty plan to compare (repeat the option for more).",
)
@click.option(
    "--advise",
    type=click.Choice(sorted(_UNITS)),
    default=None,
    help="Find the largest ramp rate or hold temperature meeting --max-probability.",
)
@click.option(
    "--range",
    "advise_range",
    type=float,
    nargs=2,
    default=None,
    help="Search range of --advise in degC/min or degC.",
)
@click.option(
    "--by-years", type=float, default=None, help="Date of --advise (default: the horizon)."
)
@click.option(
    "--max-probability",
    type=float,
    default=0.01,
    show_default=True,
    help="Largest allowed probability of failure by --by-years.",
)
@click.option(
    "--fleet",
    "fleet_file",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="Fleet file of components (runs on Dask).",
)
@click.option(
    "--scheduler", default=None, help="Dask scheduler address (default: a local cluster)."
)
@click.option("--workers", type=int, default=None, help="Workers of the local Dask cluster.")
@verbosity_options
def forecast(
    configs: tuple[pathlib.Path, ...],
    checkpoints: tuple[pathlib.Path, ...],
    plan_path: pathlib.Path | None,
    samples: int,
    seed: int,
    horizon_years: float,
    steps_per_year: int,
    damage_limit: float,
    out: pathlib.Path,
    force: bool,
    as_json: bool,
    compare: tuple[pathlib.Path, ...],
    advise: str | None,
    advise_range: tuple[float, float] | None,
    by_years: float | None,
    max_probability: float,
    fleet_file: pathlib.Path | None,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Remaining-life forecast of CONFIG's component from its twin checkpoint.

    Several CONFIGs (each with its --checkpoint) or --fleet forecast a fleet on Dask.
    """
    from models.errors import ConfigError
    from surrogates.errors import SurrogateError
    from twin.errors import TwinError
    from twin.forecast import ForecastOptions

    try:
        options = ForecastOptions(
            samples=samples,
            horizon_years=horizon_years,
            steps_per_year=steps_per_year,
            damage_limit=damage_limit,
        )
        for ck in checkpoints:
            if out.resolve() == ck.resolve() or out.resolve() in ck.resolve().parents:
                raise click.UsageError(
                    f"--out: {str(out)!r} holds the checkpoint; use another folder"
                )
        _fresh(out, force=force)
        if fleet_file is not None or len(configs) > 1:
            _fleet(configs, checkpoints, plan_path, fleet_file, options, seed, out, as_json,
                   scheduler, workers)  # fmt: skip
            return
        if len(configs) != 1 or len(checkpoints) != 1:
            raise click.UsageError("give one CONFIG and its --checkpoint (or several, or --fleet)")
        _single(configs[0], checkpoints[0], plan_path, options, seed, out, as_json, compare,
                advise, advise_range, by_years, max_probability, quiet())  # fmt: skip
    except (ConfigError, TwinError, SurrogateError, OSError) as err:
        raise click.ClickException(str(err)) from err


def _single(
    config: pathlib.Path,
    checkpoint: pathlib.Path,
    plan_path: pathlib.Path | None,
    options: Any,
    seed: int,
    out: pathlib.Path,
    as_json: bool,
    compare: tuple[pathlib.Path, ...],
    advise: str | None,
    advise_range: tuple[float, float] | None,
    by_years: float | None,
    max_probability: float,
    quiet: bool,
) -> None:
    from tqdm import tqdm

    from models.config import load_config
    from twin._forecast_output import plot_compare, plot_fan, plot_risk
    from twin.advice import advise as find_limit
    from twin.advice import compare_table
    from twin.forecast import Forecaster
    from twin.plan import load_plan

    cfg = load_config(config)
    fc = Forecaster.from_checkpoint(checkpoint, options=options)
    if fc.parts.component != cfg.component.name or fc.parts.site != cfg.component.site:
        raise click.ClickException(
            f"--checkpoint: it holds component {fc.parts.site}/{fc.parts.component}, the config "
            f"is {cfg.component.site}/{cfg.component.name}"
        )
    plan = _plan(plan_path, config, fc.parts.settings)
    others = [load_plan(p) for p in compare]
    steps = max(1, math.ceil(options.horizon_years * options.steps_per_year - 1e-9))
    quiet_bar = quiet or as_json
    results = []
    for p in [plan, *others]:
        with tqdm(total=steps, unit="step", desc=p.name, disable=quiet_bar, file=sys.stderr) as bar:
            results.append(fc.run(p, seed=seed, progress=bar.update))
    main = results[0]
    out.mkdir(parents=True, exist_ok=True)
    ds = main.dataset()
    ds.to_zarr(out / "forecast.zarr", mode="w", consolidated=False)
    plot_fan(main, out / "fan.png")
    plot_risk(main, out / "risk.png")
    summary = main.summary()
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    doc: dict[str, Any] = {}
    if others:
        for r in results[1:]:
            r.dataset().to_zarr(
                out / f"forecast-{_slug(r.plan.name)}.zarr", mode="w", consolidated=False
            )
        table = compare_table(results)
        plot_compare(results, out / "compare.png")
        (out / "compare.json").write_text(json.dumps(table, indent=1) + "\n")
        doc["compare"] = [{"plan": r.plan.name, **r.summary()} for r in results]
    if advise is not None:
        unit, to_si, from_si = _UNITS[advise]
        if advise_range is None:
            raise click.UsageError(f"--advise {advise} needs --range LOW HIGH in {unit}")
        a = find_limit(
            fc, plan, parameter=advise, bounds=(to_si(advise_range[0]), to_si(advise_range[1])),
            by_years=by_years if by_years is not None else options.horizon_years,
            max_probability=max_probability, seed=seed,
        )  # fmt: skip
        adv = a.to_dict()
        conv = {k: (None if adv[k] is None else from_si(adv[k])) for k in ("value",)}
        adv.update(conv, unit=unit, interval=[None if v is None else from_si(v)
                                              for v in a.interval],
                   bounds=list(advise_range),
                   evaluations=[[from_si(x), p, n] for x, p, n in a.evaluations])  # fmt: skip
        (out / "advice.json").write_text(json.dumps(adv, indent=1) + "\n")
        doc["advice"] = adv
    if as_json:
        click.echo(json.dumps({"forecast": summary, **doc} if doc else summary, indent=1))
        return
    if not quiet:  # -q: only the requested tables (--compare, --advise) remain
        _print(summary, main, out)
    if others:
        click.echo(f"\n{'plan':<24} {'RUL p05':>9} {'p50':>9} {'p95':>9} {'P(fail)':>9}  dominant")
        for row in compare_table(results):
            q = [("> horizon" if v is None else f"{v:.1f}") for v in
                 (row["rul_p05_years"], row["rul_p50_years"], row["rul_p95_years"])]  # fmt: skip
            click.echo(
                f"{row['plan']:<24} {q[0]:>9} {q[1]:>9} {q[2]:>9} "
                f"{row['probability_of_failure']:>9.3f}  {row['dominant_mechanism']}"
            )
    if advise is not None:
        a_doc = doc["advice"]
        v = a_doc["value"]
        lo, hi = a_doc["interval"]
        click.echo(
            f"\nlargest {advise} with P(failure within {a_doc['by_years']:g} y) <= "
            f"{max_probability:g}: " + ("none in the range" if v is None else
            f"{v:.4g} {a_doc['unit']} (95 % MC interval {_fmt(lo)} .. {_fmt(hi)})")
        )  # fmt: skip


def _fresh(out: pathlib.Path, *, force: bool) -> None:
    """Refuse a non-empty ``--out`` unless ``--force`` (which empties it)."""
    import shutil

    if out.exists() and any(out.iterdir()):
        if not force:
            raise click.ClickException(
                f"--out: {str(out)!r} holds an earlier run; pass --force to replace it"
            )
        shutil.rmtree(out)


def _fmt(v: float | None) -> str:
    return "below the range" if v is None else f"{v:.4g}"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _print(summary: dict[str, Any], result: Any, out: pathlib.Path) -> None:
    q = summary["rul_years"]
    txt = {k: ("> horizon" if v is None else f"{v:.2f}") for k, v in q.items()}
    pof = summary["probability_of_failure"][-1][1]
    click.echo(
        f"{summary['samples']} samples, horizon {summary['horizon_years']:g} y, plan "
        f"{result.plan.name!r}: remaining life 5/50/95 % {txt['p05']} / {txt['p50']} / "
        f"{txt['p95']} years; P(failure within the horizon) {pof:.4f}"
    )
    mech = ", ".join(f"{k} {v:.3f}" for k, v in summary["mechanism"].items())
    loc = ", ".join(f"{k} {v:.3f}" for k, v in summary["location"].items())
    click.echo(f"  mechanism: {mech}\n  location: {loc}")
    click.echo(f"wrote {out / 'forecast.zarr'}, summary.json, fan.png, risk.png")


def _fleet(
    configs: tuple[pathlib.Path, ...],
    checkpoints: tuple[pathlib.Path, ...],
    plan_path: pathlib.Path | None,
    fleet_file: pathlib.Path | None,
    options: Any,
    seed: int,
    out: pathlib.Path,
    as_json: bool,
    scheduler: str | None,
    workers: int | None,
) -> None:
    from twin.fleet import FleetMember, forecast_fleet, load_fleet

    members = list(load_fleet(fleet_file)) if fleet_file is not None else []
    if configs:
        if len(checkpoints) != len(configs):
            raise click.UsageError(
                f"--checkpoint: give one per CONFIG ({len(configs)} configs, "
                f"{len(checkpoints)} checkpoints)"
            )
        members += [FleetMember(c, k, plan_path) for c, k in zip(configs, checkpoints, strict=True)]
    results = forecast_fleet(
        members, options=options, seed=seed, scheduler=scheduler, workers=workers
    )
    out.mkdir(parents=True, exist_ok=True)
    doc = {"components": {r["identity"]: r["summary"] for r in results}}
    (out / "fleet.json").write_text(json.dumps(doc, indent=1) + "\n")
    if as_json:
        click.echo(json.dumps(doc, indent=1))
        return
    click.echo(f"{'component':<28} {'RUL p05':>9} {'p50':>9} {'p95':>9} {'P(fail)':>9}")
    for r in results:
        q = r["summary"]["rul_years"]
        t = [("> horizon" if q[k] is None else f"{q[k]:.1f}") for k in ("p05", "p50", "p95")]
        pof = r["summary"]["probability_of_failure"][-1][1]
        click.echo(f"{r['identity']:<28} {t[0]:>9} {t[1]:>9} {t[2]:>9} {pof:>9.3f}")
    click.echo(f"wrote {out / 'fleet.json'}")
