"""``twin assimilate``: replay a sensor archive through the component twin."""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

import click

__all__ = ["assimilate", "summary_json"]

_CHUNK = 65_536


def summary_json(twin: Any) -> dict[str, Any]:
    """Return the ``--json`` object of ``twin assimilate`` from a twin's state."""
    st = twin.state
    params = {
        name: {k: p[k] for k in ("mean", "p05", "p50", "p95", "unit")}
        for name, p in st["parameters"].items()
    }
    return {
        "readings": st["readings"],
        "assimilated": st["assimilated"],
        "late_readings": st["late_readings"],
        "bad_readings": st["bad_readings"],
        "parameters": params,
        "damage": st["damage"],
        "wall_thickness_m": st["wall_thickness_m"],
        "ess_min": st["filter"]["ess_min"],
        "time": st["time"],
    }


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@click.option(
    "--archive",
    "archive_path",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path),
    help="Sensor archive written by `twin ingest`.",
)
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="Folder for state.zarr, the checkpoint and the plots.",
)
@click.option(
    "--surrogate",
    type=click.Path(path_type=pathlib.Path),
    default=None,
    help="Mode surrogate folder (default: <config stem>.surrogate beside the config).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the twin's RNG.")
@click.option("--particles", type=int, default=None, help="Override twin.particles.")
@click.option("--json", "as_json", is_flag=True, help="Print the final state as JSON.")
@click.option("--force", is_flag=True, help="Replace an earlier run in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def assimilate(
    config: pathlib.Path,
    archive_path: pathlib.Path,
    out: pathlib.Path,
    surrogate: pathlib.Path | None,
    seed: int,
    particles: int | None,
    as_json: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Replay an archive through the twin: posterior, damage and wall over time."""
    import shutil

    import numpy as np
    from tqdm import tqdm

    from models.config import load_config
    from models.errors import ConfigError
    from sensors.archive import open_archive, read_commit
    from sensors.errors import SensorsError
    from surrogates.errors import SurrogateError
    from twin._setup import with_twin_section
    from twin.errors import TwinError
    from twin.history import history_dataset, plot_history
    from twin.state import Twin

    try:
        cfg = load_config(config)
        if particles is not None:
            section = dict(cfg.sections.get("twin", {}))
            section["particles"] = particles
            cfg = with_twin_section(cfg, section)
        twin = Twin.from_config(cfg, seed=seed, surrogate=surrogate, config_path=config)
        counts = read_commit(archive_path)
        ds = open_archive(archive_path)
    except (ConfigError, TwinError, SurrogateError, SensorsError, OSError) as err:
        raise click.ClickException(str(err)) from err
    if out.exists() and any(out.iterdir()):
        if not force:
            raise click.ClickException(
                f"--out: {str(out)!r} holds an earlier run; pass --force to replace it"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    n = int(counts["readings"])
    ids = list(ds.attrs["sensors"])
    known = set(twin.sensor_ids)
    with tqdm(total=n, unit="reading", disable=quiet or as_json, file=sys.stderr) as bar:
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            part = ds.isel(reading=slice(start, stop))
            sensor = np.asarray(part["sensor"].values)
            names = np.asarray(ids, dtype=object)[sensor]
            keep = np.array([s in known for s in names], dtype=bool)
            try:
                twin.update(
                    {
                        "time": np.asarray(part["time"].values)[keep],
                        "sensor": names[keep],
                        "value": np.asarray(part["value"].values)[keep],
                        "quality": np.asarray(part["quality"].values)[keep],
                    },
                    archive_offset=stop,
                )
            except TwinError as err:
                raise click.ClickException(f"archive rows {start}-{stop}: {err}") from err
            bar.update(stop - start)
    twin.flush()
    hist = history_dataset(twin)
    hist.to_zarr(out / "state.zarr", mode="w")
    twin.checkpoint(out / "checkpoint")
    if hist.sizes["time"]:
        plot_history(hist, out)
    result = summary_json(twin)
    (out / "summary.json").write_text(json.dumps(result, indent=1) + "\n")
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(
        f"readings {result['readings']}, assimilated {result['assimilated']}, "
        f"late {result['late_readings']}, bad {result['bad_readings']}, "
        f"ESS min {result['ess_min']:.0f}"
    )
    for name, p in result["parameters"].items():
        click.echo(
            f"  {name:<28} {p['mean']:>12.5g}  90 % [{p['p05']:.5g}, {p['p95']:.5g}] {p['unit']}"
        )
    for loc, d in result["damage"].items():
        click.echo(
            f"  damage {loc:<8} fatigue {d['fatigue']['mean']:.3g}  "
            f"creep {d['creep']['mean']:.3g}  "
            f"margin {d['envelope_margin']['mean']:.3g}"
        )
    click.echo(f"wrote {out / 'state.zarr'}, {out / 'checkpoint'}, parameters.png, damage.png")
