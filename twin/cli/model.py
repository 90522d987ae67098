"""``twin model``: solve the FEM service model of a component, compute unit responses."""

from __future__ import annotations

import pathlib
import time
from typing import Any

import click

__all__ = ["model"]


@click.group()
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
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="Directory for the dataset, fields and images.",
)
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
def solve(config: pathlib.Path, output: pathlib.Path, fmt: str, images: bool, xdmf: bool) -> None:
    """Solve CONFIG over its load history; write the dataset, fields and images."""
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)

    from models.config import load_config
    from models.errors import ModelError, SolverDivergedError
    from models.export import XDMFFieldWriter, plot_histories, render_quarter_pipe
    from models.service import solve as solve_model

    t0 = time.perf_counter()
    try:
        cfg = load_config(config)
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    output.mkdir(parents=True, exist_ok=True)
    writer = XDMFFieldWriter(output / "fields.xdmf") if xdmf else None
    try:
        ds = solve_model(cfg, progress=True, on_field=writer)
    except SolverDivergedError as err:
        if err.partial is not None:
            path = _write_dataset(err.partial, output, "results-partial", fmt)
            click.echo(f"partial results up to step {err.step - 1} written to {path}", err=True)
        raise click.ClickException(str(err)) from err
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    finally:
        if writer is not None:
            writer.close()
    t_solve = time.perf_counter() - t0
    path = _write_dataset(ds, output, "results", fmt)
    written = [path]
    if xdmf:
        written.append(output / "fields.xdmf")
    if images:
        written.append(plot_histories(ds, output / "histories.png"))
        if ds.sizes.get("time_field", 0):
            written.append(render_quarter_pipe(ds, output / "hoop_stress.png"))
            written.append(
                render_quarter_pipe(ds, output / "temperature.png", variable="temperature")
            )
    bore = ds.sel(location="bore")
    i_min = int(bore["sigma_theta"].argmin("time"))
    i_vm = int(bore["sigma_vm"].argmax("time"))
    dT = ds.sel(location="bore")["temperature"] - ds.sel(location="outer")["temperature"]
    click.echo(
        f"component {cfg.component.name} ({ds.attrs['material']}), "
        f"{ds.sizes['time'] - 1} steps, solved in {t_solve:.1f} s"
    )
    click.echo(
        f"  most compressive bore hoop stress {float(bore['sigma_theta'][i_min]) / 1e6:8.1f} MPa"
        f" at t = {float(ds['time'][i_min]) / 3600:.2f} h"
    )
    click.echo(
        f"  peak bore von Mises stress        {float(bore['sigma_vm'][i_vm]) / 1e6:8.1f} MPa"
        f" at t = {float(ds['time'][i_vm]) / 3600:.2f} h"
    )
    click.echo(
        f"  bore hoop stress at the end       {float(bore['sigma_theta'][-1]) / 1e6:8.1f} MPa"
    )
    click.echo(f"  peak bore-outer temperature diff  {float(dT.max()):8.1f} K")
    for p in written:
        click.echo(f"  wrote {p}")


@model.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="Directory for the responses and the fitted modes.",
)
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
def responses(
    config: pathlib.Path,
    output: pathlib.Path,
    n_modes: int,
    property_temperature_degc: float | None,
) -> None:
    """Compute unit-step responses of CONFIG and fit them as exponential modes."""
    import dolfinx_solver  # noqa: F401

    from models.config import load_config
    from models.errors import ModelError
    from models.responses import fit_modes, unit_responses

    try:
        cfg = load_config(config)
        tp = None if property_temperature_degc is None else property_temperature_degc + 273.15
        t0 = time.perf_counter()
        ur = unit_responses(cfg, property_temperature=tp)
        modes = fit_modes(ur, n_modes=n_modes)
    except ModelError as err:
        raise click.ClickException(str(err)) from err
    output.mkdir(parents=True, exist_ok=True)
    p1 = _write_dataset(ur, output, "unit_responses", "netcdf")
    p2 = _write_dataset(modes.to_dataset(), output, "modes", "netcdf")
    click.echo(
        f"unit responses of {cfg.component.name} in {time.perf_counter() - t0:.1f} s "
        f"(properties at {ur.attrs['property_temperature'] - 273.15:.1f} degC)"
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
