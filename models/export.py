# mypy: disable-error-code="no-untyped-call"
"""Export of service-model results: XDMF fields for ParaView, PNG renderings and plots.

* :class:`XDMFFieldWriter` writes temperature, displacement and the stress/strain
  outputs at each field time into one XDMF/HDF5 file (fields interpolated to the
  mesh's degree-1 Lagrange space, as XDMF stores them).
* :func:`render_quarter_pipe` revolves a radial profile of the dataset into a 3-D
  quarter pipe and renders it off-screen with pyvista.
* :func:`plot_histories` draws the load and response histories with matplotlib.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from models.errors import RenderError
from models.units import HOUR, MPA, ZERO_CELSIUS

__all__ = [
    "XDMFFieldWriter",
    "history_figure",
    "plot_histories",
    "quarter_pipe_title",
    "render_quarter_pipe",
]



class XDMFFieldWriter:
    """Write the fields of a :class:`~models.service.ServiceModel` at field times.

    Use it as the ``on_field`` callback of :func:`models.service.solve` and close it
    afterwards (or use it as a context manager).

    Parameters
    ----------
    path : str or pathlib.Path
        Output ``.xdmf`` file (an ``.h5`` file is written next to it).
    """

    def __init__(self, path: str | pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self._file: Any = None
        self._funcs: list[tuple[Any, Any]] = []

    def _open(self, model: Any) -> None:
        from dolfinx import fem, io

        from models.mechanical import OUTPUTS

        msh = model.wall.mesh
        self._file = io.XDMFFile(msh.comm, str(self.path), "w")
        self._file.write_mesh(msh)
        P1 = fem.functionspace(msh, ("Lagrange", 1))
        P1v = fem.functionspace(msh, ("Lagrange", 1, (msh.geometry.dim,)))
        pts = P1.element.interpolation_points
        T1 = fem.Function(P1, name="temperature")
        self._funcs.append((T1, fem.Expression(model.thermal.T, pts)))
        u1 = fem.Function(P1v, name="displacement")
        self._funcs.append(
            (u1, fem.Expression(model.mechanical.u, P1v.element.interpolation_points))
        )
        out = model.mechanical.outputs
        for j, (name, _) in enumerate(OUTPUTS):
            self._funcs.append((fem.Function(P1, name=name), fem.Expression(out[j], pts)))

    def __call__(self, t: float, model: Any) -> None:
        """Write the current fields at time ``t`` (s)."""
        if self._file is None:
            self._open(model)
        model.mechanical.compute_outputs()
        for f, expr in self._funcs:
            f.interpolate(expr)
            self._file.write_function(f, t)

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> XDMFFieldWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_quarter_pipe(
    ds: Any,
    path: str | pathlib.Path,
    *,
    variable: str = "sigma_theta",
    time_index: int | None = None,
    window_size: tuple[int, int] = (900, 700),
) -> pathlib.Path:
    """Render a radial profile revolved into a 3-D quarter pipe, off-screen, to PNG.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`models.service.solve` with profiles (``time_field``, ``r``).
    path : str or pathlib.Path
        PNG file to write.
    variable : str, optional
        Base name of the profile (``"sigma_theta"``, ``"temperature"``, ...).
    time_index : int, optional
        Index along ``time_field``; by default the field time with the largest
        through-wall range of the variable (the most telling picture). The title says
        which time the picture shows and why (:func:`quarter_pipe_title`).
    window_size : tuple of int, optional
        Image size in pixels.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    all_profiles = np.asarray(ds[f"{variable}_profile"].values, dtype=float)
    chosen = time_index is None
    if time_index is None:
        time_index = int(np.argmax(np.ptp(all_profiles, axis=1)))
    prof = ds[f"{variable}_profile"].isel(time_field=time_index)
    r = np.asarray(ds["r"].values, dtype=float)
    values = np.asarray(prof.values, dtype=float)
    unit = ds[f"{variable}_profile"].attrs.get("units", "")
    scale, label = 1.0, f"{variable} [{unit}]"
    if unit == "Pa":
        scale, label = 1e-6, f"{variable} [MPa]"
    elif unit == "K":
        scale, label = 1.0, f"{variable} [degC]"
        values = values - ZERO_CELSIUS
    title = quarter_pipe_title(ds, variable=variable, time_index=time_index, chosen=chosen)
    path = pathlib.Path(path)
    _render_in_child(
        r=r, values=values * scale, label=label, title=title, path=path, window_size=window_size
    )
    return path


def quarter_pipe_title(ds: Any, *, variable: str, time_index: int, chosen: bool) -> str:
    """Title of a quarter-pipe picture: what it shows, at which time, and why that time.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`models.service.solve` with profiles.
    variable : str
        Base name of the profile.
    time_index : int
        Index along ``time_field`` of the picture.
    chosen : bool
        Whether the time was chosen as the field time with the largest through-wall
        range (``False``: the caller asked for it).

    Returns
    -------
    str
        Two lines: component, variable and time; the reason for the time.
    """
    names = {"sigma_theta": "hoop stress", "temperature": "temperature", "sigma_vm": "von Mises"}
    t_h = float(ds["time_field"].values[time_index]) / HOUR
    n = int(ds.sizes["time_field"])
    why = (
        f"field time {time_index + 1} of {n}: the largest through-wall range of the {n}"
        if chosen
        else f"field time {time_index + 1} of {n}, as requested"
    )
    what = names.get(variable, variable)
    return f"{ds.attrs.get('component', '')}: {what} at t = {t_h:.2f} h\n({why})"


def _render_in_child(
    *,
    r: np.ndarray,
    values: np.ndarray,
    label: str,
    title: str,
    path: pathlib.Path,
    window_size: tuple[int, int],
) -> None:
    """Render in a child process (``python -m models._render``).

    VTK's off-screen rendering loads Mesa's LLVM (llvmpipe); torch's triton carries its
    own LLVM and crashes (SIGSEGV) when it is imported after Mesa's in one process, as
    happens when a twin renders fields and then trains or evaluates a GP surrogate.
    A child process keeps the two apart and costs about a second per image.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="twin-render-") as tmp:
        data = pathlib.Path(tmp) / "profile.npz"
        np.savez(data, r=r, values=values)
        spec = {
            "data": str(data),
            "label": label,
            "title": title,
            "path": str(path.resolve()),
            "window_size": list(window_size),
        }
        # The child must import this very package, installed or not.
        root = str(pathlib.Path(__file__).resolve().parents[1])
        path_var = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, PYTHONPATH=path_var, VTK_DEFAULT_OPENGL_WINDOW="vtkEGLRenderWindow")
        done = subprocess.run(
            [sys.executable, "-m", "models._render", json.dumps(spec)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0 or not path.exists():
        raise RenderError(
            f"rendering {path.name} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
            "; render without images (--no-images) or check the off-screen OpenGL (EGL) setup"
        )


def history_figure(ds: Any) -> Any:
    """Draw the load and response histories: one panel per quantity, shared time axis.

    The fluid temperature and the pressure get a panel each: on twin axes of one panel
    their curves coincide whenever the two ramp together (the usual start-up).

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`models.service.solve`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t_h = ds["time"].values / HOUR
    fig, axes = plt.subplots(5, 1, figsize=(8, 13), sharex=True)
    axes[0].plot(t_h, ds["fluid_temperature"].values - ZERO_CELSIUS, color="C3",
                 label="fluid temperature")
    if "outer_temperature" in ds:
        axes[0].plot(t_h, ds["outer_temperature"].values - ZERO_CELSIUS, color="C1", ls="--",
                     label="outer temperature (prescribed)")
    axes[0].set_ylabel("T_f [degC]")
    axes[1].plot(t_h, ds["pressure"].values / MPA, color="C0", label="pressure")
    axes[1].set_ylabel("p [MPa]")
    axes[0].set_title(f"{ds.attrs.get('component', '')} ({ds.attrs.get('material', '')})")
    locs = [loc for loc in ds["location"].values if loc in ("bore", "mid_wall", "outer")]
    for loc in locs:
        sel = ds.sel(location=loc)
        axes[2].plot(t_h, sel["temperature"].values - ZERO_CELSIUS, label=loc)
        axes[3].plot(t_h, sel["sigma_theta"].values / MPA, label=loc)
        axes[4].plot(t_h, sel["sigma_vm"].values / MPA, label=loc)
    axes[2].set_ylabel("metal T [degC]")
    axes[3].set_ylabel("hoop stress [MPa]")
    axes[4].set_ylabel("von Mises [MPa]")
    axes[4].set_xlabel("time [h]")
    for a in axes:
        a.legend(loc="best", fontsize=8)
        a.grid(alpha=0.3)
    return fig


def plot_histories(ds: Any, path: str | pathlib.Path) -> pathlib.Path:
    """Plot loads, temperatures and stresses at the critical locations to a PNG file.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`models.service.solve`.
    path : str or pathlib.Path
        PNG file to write.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import matplotlib.pyplot as plt

    fig = history_figure(ds)
    fig.tight_layout()
    path = pathlib.Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
