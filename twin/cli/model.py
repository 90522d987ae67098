"""``twin model``: solve the FEM service model of a component, compute unit responses."""

from __future__ import annotations

import contextlib
import json
import pathlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import click

from twin.cli._common import out_option, quiet, reports_errors, verbosity_options

__all__ = ["model"]

#: Written into every output folder: what made it (the summary of the run).
RUN_FILE = "run.json"
# Files whose presence marks a folder as an earlier run of this command.
_RUN_MARKERS = (RUN_FILE, "results.nc", "results.zarr", "results-partial.nc", "unit_responses.nc")


@contextlib.contextmanager
def _output_folder(out: pathlib.Path, *, force: bool) -> Iterator[pathlib.Path]:
    """Yield a fresh folder to write into; it becomes ``out`` whole at the end.

    A non-empty ``out`` is refused unless ``force`` is given and ``out`` holds an earlier
    run (a folder with other files is refused even then, so nothing else is deleted).
    The run is written into a new sibling folder, which replaces ``out`` when the block
    ends (also after a failure, so the folder never mixes two runs).
    """
    if out.exists() and not out.is_dir():
        raise click.UsageError(f"--out {out}: is a file, not a folder; choose a folder")
    entries = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if entries:
        earlier = any(name in entries for name in _RUN_MARKERS)
        shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
        if not force:
            what = "an earlier run" if earlier else "other files"
            raise click.UsageError(
                f"--out {out}: the folder is not empty (it holds {what}: {shown}); pass "
                "--force to replace it whole, or choose a new folder"
            )
        if not earlier:
            raise click.UsageError(
                f"--out {out}: the folder holds files that are not a run of twin model "
                f"({shown}); --force replaces only an earlier run, so choose a new or "
                "empty folder"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield staging
    finally:
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)


def _force_option(command: Any) -> Any:
    return click.option(
        "--force",
        is_flag=True,
        help="Replace the output folder whole if it holds an earlier run.",
    )(command)


@click.group()
@verbosity_options
def model() -> None:
    """FEM service model: solve a component, unit responses."""


def _write_dataset(ds: Any, out: pathlib.Path, stem: str, fmt: str) -> pathlib.Path:
    ds = ds.copy()
    for name in list(ds.coords):
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    if fmt == "zarr":
        target = out / f"{stem}.zarr"
        ds.to_zarr(target, mode="w", consolidated=False)
    else:
        target = out / f"{stem}.nc"
        ds.to_netcdf(target)
    return target


@model.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@out_option(required=True, help="Folder for the dataset, fields and images")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["netcdf", "zarr"]),
    default="netcdf",
    show_default=True,
    help="Dataset format.",
)
@click.option(
    "--images/--no-images",
    default=True,
    show_default=True,
    help="Render PNG images (pyvista off-screen, matplotlib).",
)
@click.option(
    "--xdmf/--no-xdmf",
    default=True,
    show_default=True,
    help="Write the fields at the field times to XDMF for ParaView.",
)
@_force_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the run's summary as JSON (the content of run.json) instead of text.",
)
@verbosity_options
@reports_errors
def solve(
    config: pathlib.Path,
    out: pathlib.Path,
    fmt: str,
    images: bool,
    xdmf: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Solve CONFIG over its load history; write the dataset, fields and images.

    The output folder must be new or empty; --force replaces an earlier run whole.
    """
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)

    from models.config import load_config
    from models.errors import ModelError

    t0 = time.perf_counter()
    try:
        cfg = load_config(config)
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    progress = not (quiet() or as_json)
    with _output_folder(out, force=force) as staging:
        summary = _solve_into(
            staging, cfg, fmt=fmt, images=images, xdmf=xdmf, t0=t0, progress=progress
        )
        summary |= {"command": "twin model solve", "config": str(config), "out": str(out)}
        (staging / RUN_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet():
        _print_summary(summary, out)


def _solve_into(
    out: pathlib.Path, cfg: Any, *, fmt: str, images: bool, xdmf: bool, t0: float, progress: bool
) -> dict[str, Any]:
    """Solve and write every output into ``out``; return the summary of the run."""
    from models.errors import ModelError, SolverDivergedError
    from models.export import XDMFFieldWriter, plot_histories, render_quarter_pipe
    from models.service import solve as solve_model
    from models.units import HOUR

    writer = XDMFFieldWriter(out / "fields.xdmf") if xdmf else None
    try:
        ds = solve_model(cfg, progress=progress, on_field=writer)
    except SolverDivergedError as err:
        if err.partial is not None:
            path = _write_dataset(err.partial, out, "results-partial", fmt)
            click.echo(
                f"partial results up to step {err.step - 1} written to {path.name} in the "
                "output folder",
                err=True,
            )
        raise click.ClickException(str(err)) from err
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    finally:
        if writer is not None:
            writer.close()
    t_solve = time.perf_counter() - t0
    written = [_write_dataset(ds, out, "results", fmt)]
    if xdmf:
        written += [out / "fields.xdmf", out / "fields.h5"]
    if images:
        written.append(plot_histories(ds, out / "histories.png"))
        if ds.sizes.get("time_field", 0):
            written.append(render_quarter_pipe(ds, out / "hoop_stress.png"))
            written.append(render_quarter_pipe(ds, out / "temperature.png", variable="temperature"))
    bore = ds.sel(location="bore")
    i_min = int(bore["sigma_theta"].argmin("time"))
    i_vm = int(bore["sigma_vm"].argmax("time"))
    dT = ds.sel(location="bore")["temperature"] - ds.sel(location="outer")["temperature"]
    return {
        "component": cfg.component.name,
        "material": ds.attrs["material"],
        "config_hash": cfg.config_hash,
        "steps": int(ds.sizes["time"] - 1),
        "solve_seconds": round(t_solve, 3),
        "bore_hoop_stress_min_MPa": float(bore["sigma_theta"][i_min]) / 1e6,
        "bore_hoop_stress_min_time_h": float(ds["time"][i_min]) / HOUR,
        "bore_von_mises_max_MPa": float(bore["sigma_vm"][i_vm]) / 1e6,
        "bore_von_mises_max_time_h": float(ds["time"][i_vm]) / HOUR,
        "bore_hoop_stress_end_MPa": float(bore["sigma_theta"][-1]) / 1e6,
        "bore_outer_temperature_difference_max_K": float(dT.max()),
        "files": [p.name for p in written if p.exists()],
    }


def _print_summary(summary: dict[str, Any], output: pathlib.Path) -> None:
    s = summary
    click.echo(
        f"component {s['component']} ({s['material']}), {s['steps']} steps, "
        f"solved in {s['solve_seconds']:.1f} s"
    )
    click.echo(
        f"  most compressive bore hoop stress {s['bore_hoop_stress_min_MPa']:8.1f} MPa"
        f" at t = {s['bore_hoop_stress_min_time_h']:.2f} h"
    )
    click.echo(
        f"  peak bore von Mises stress        {s['bore_von_mises_max_MPa']:8.1f} MPa"
        f" at t = {s['bore_von_mises_max_time_h']:.2f} h"
    )
    click.echo(f"  bore hoop stress at the end       {s['bore_hoop_stress_end_MPa']:8.1f} MPa")
    click.echo(
        f"  peak bore-outer temperature diff  {s['bore_outer_temperature_difference_max_K']:8.1f} K"
    )
    for name in s["files"]:
        click.echo(f"  wrote {output / name}")


@model.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@out_option(required=True, help="Folder for the responses and the fitted modes")
@click.option(
    "--modes",
    "n_modes",
    default=5,
    show_default=True,
    type=click.IntRange(1, 12),
    help="Number of exponential modes per response.",
)
@click.option(
    "--property-temperature-degC",
    "property_temperature_degc",
    type=float,
    default=None,
    help="Temperature at which properties are frozen (default: middle of the T_f range).",
)
@_force_option
@verbosity_options
@reports_errors
def responses(
    config: pathlib.Path,
    out: pathlib.Path,
    n_modes: int,
    property_temperature_degc: float | None,
    force: bool,
) -> None:
    """Compute unit-step responses of CONFIG and fit them as exponential modes.

    The output folder must be new or empty; --force replaces an earlier run whole.
    """
    import dolfinx_solver  # noqa: F401

    from models.config import load_config
    from models.errors import ModelError
    from models.responses import fit_modes, unit_responses
    from models.units import ZERO_CELSIUS

    try:
        cfg = load_config(config)
        tp = None if property_temperature_degc is None else property_temperature_degc + ZERO_CELSIUS
        t0 = time.perf_counter()
        ur = unit_responses(cfg, property_temperature=tp)
        modes = fit_modes(ur, n_modes=n_modes)
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    with _output_folder(out, force=force) as staging:
        p1 = _write_dataset(ur, staging, "unit_responses", "netcdf")
        p2 = _write_dataset(modes.to_dataset(), staging, "modes", "netcdf")
        run: dict[str, Any] = {"command": "twin model responses", "config": str(config)}
        run |= {"config_hash": cfg.config_hash, "files": [p1.name, p2.name]}
        (staging / RUN_FILE).write_text(json.dumps(run, indent=2) + "\n")
    p1, p2 = out / p1.name, out / p2.name
    if quiet():
        return
    click.echo(
        f"unit responses of {cfg.component.name} in {time.perf_counter() - t0:.1f} s "
        f"(properties at {ur.attrs['property_temperature'] - ZERO_CELSIUS:.1f} degC)"
    )
    for loc in ("bore", "outer"):
        r = modes[("sigma_theta", loc, "fluid_temperature")]
        taus = ", ".join(f"{t:.3g}" for t in r.time_constants)
        click.echo(
            f"  sigma_theta {loc:<6} per K of T_f: gain {r.gain / 1e6:8.4f} MPa/K, "
            f"tau = [{taus}] s, fit error {r.fit_error:.1e}"
        )
        rp = modes[("sigma_theta", loc, "pressure")]
        click.echo(f"  sigma_theta {loc:<6} per Pa:        gain {rp.gain:8.4f}")
    click.echo(f"  wrote {p1}\n  wrote {p2}")
