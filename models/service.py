"""The FEM service model: a component config and its load history in, an xarray Dataset out.

:func:`solve` meshes the wall slice, runs the transient heat conduction
(:mod:`models.thermal`) and, at every step, the thermo-elastic solve
(:mod:`models.mechanical`), and records

* histories ``(time, location)`` at the config's locations (bore, mid-wall, outer
  surface, extra locations, sensors with a radius), evaluated at mid-height of the slice:
  ``temperature`` (K), ``sigma_r``, ``sigma_theta``, ``sigma_z``, ``sigma_vm`` (Pa),
  ``eps_r``, ``eps_theta``, ``eps_z`` (total strain), ``eps_th`` (thermal strain) and the
  displacement ``u_r``, ``u_z`` (m; ``u_z`` at mid-height is ``eps_z L / 2``);
* the loads ``fluid_temperature`` (K) and ``pressure`` (Pa) on ``time``, and
  ``outer_temperature`` (K) when the outer surface is prescribed;
* radial profiles ``<name>_profile`` on ``(time_field, r)`` at the requested field times.

The time grid has the configured step; the requested field times (and the corners of
the load history) are snapped onto it, so they are hit exactly without extra steps.
With ``solver.max_time_step_s`` the step adapts instead to the temperature change per
step (:class:`models.stepping.AdaptiveStepper`): long holds take long steps.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from models.errors import ConfigError, SolverDivergedError
from models.stepping import AdaptiveStepper, time_grid
from models.units import HOUR

if TYPE_CHECKING:
    import xarray as xr

    from models.config import ComponentConfig, LoadHistory
    from models.geometry import PointSet
    from models.materials import Material
    from models.mechanical import ConstitutiveLaw


class ConstitutiveFactory(Protocol):
    """Builds the constitutive law from the modulus and Poisson fields (UFL objects)."""

    def __call__(self, E: Any, nu: Any) -> ConstitutiveLaw:
        """Return the law for the fields ``E`` (Pa) and ``nu``."""
        ...


#: Called at each field time with the time (s) and the model.
FieldCallback = Callable[[float, "ServiceModel"], None]

__all__ = [
    "HISTORY_VARIABLES",
    "ConstitutiveFactory",
    "FieldCallback",
    "ServiceModel",
    "solve",
    "time_grid",
]

#: Recorded variables (name -> (unit, long name)).
HISTORY_VARIABLES: dict[str, tuple[str, str]] = {
    "temperature": ("K", "metal temperature"),
    "sigma_r": ("Pa", "radial stress"),
    "sigma_theta": ("Pa", "hoop stress"),
    "sigma_z": ("Pa", "axial stress"),
    "sigma_vm": ("Pa", "von Mises equivalent stress"),
    "eps_r": ("1", "total radial strain"),
    "eps_theta": ("1", "total hoop strain"),
    "eps_z": ("1", "total axial strain"),
    "eps_th": ("1", "free thermal strain from the stress-free temperature"),
    "u_r": ("m", "radial displacement"),
    "u_z": ("m", "axial displacement from the lower end z = 0, at mid-height of the slice"),
}


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("materials-twin", "fenics-dolfinx", "dolfinx-solver-real", "numpy", "xarray"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


class ServiceModel:
    """The meshed component with its thermal and mechanical solvers, ready to step.

    Parameters
    ----------
    config : ComponentConfig
        Validated component config (SI).
    material : Material, optional
        Overrides the config's material (e.g. ``Material.constant`` for verification).
    property_temperature : float, optional
        Freeze all properties at this temperature (K): a linear model.
    max_picard_iterations : int, optional
        Largest number of Picard iterations of a thermal step.
    constitutive : callable, optional
        ``constitutive(E, nu) -> ConstitutiveLaw`` of the mechanical solver (e.g.
        :class:`models.creep_fem.NortonCreep`); ``None``: thermo-elastic.

    Attributes
    ----------
    wall, thermal, mechanical
        The mesh and the two solvers.
    """

    #: Inputs (load histories) and their SI units.
    inputs: tuple[tuple[str, str], ...] = (("fluid_temperature", "K"), ("pressure", "Pa"))
    #: States carried from step to step.
    states: tuple[tuple[str, str], ...] = (("temperature", "K"), ("displacement", "m"))
    #: Outputs at each location, with units (see :data:`HISTORY_VARIABLES`).
    outputs: tuple[tuple[str, str], ...] = tuple(
        (name, unit) for name, (unit, _) in HISTORY_VARIABLES.items()
    )

    def __init__(
        self,
        config: ComponentConfig,
        *,
        material: Material | None = None,
        property_temperature: float | None = None,
        max_picard_iterations: int = 30,
        constitutive: ConstitutiveFactory | None = None,
    ) -> None:
        from models.geometry import create_wall_mesh
        from models.mechanical import MechanicalSolver
        from models.thermal import ThermalSolver

        cfg = config
        self.config = cfg
        self.material = material if material is not None else cfg.material
        g, m, th = cfg.geometry, cfg.mesh, cfg.thermal
        self.wall = create_wall_mesh(
            inner_radius=g.inner_radius,
            outer_radius=g.outer_radius,
            length=g.length,
            radial_cells=m.radial_cells,
            axial_cells=m.axial_cells,
        )
        options = dict(cfg.solver.petsc_options)
        self.thermal = ThermalSolver(
            self.wall,
            material=self.material,
            degree=m.degree,
            bore_htc=th.bore_htc if th.bore_htc is not None else 0.0,
            outer_htc=th.outer_htc if th.outer == "convective" else 0.0,
            ambient_temperature=th.ambient_temperature,
            initial_temperature=th.initial_temperature,
            property_temperature=property_temperature,
            petsc_options=options,
            max_iterations=max_picard_iterations,
            bore_condition=th.bore,
            outer_condition=th.outer,
            outer_temperature=_outer_temperature(cfg, 0.0),
        )
        self.mechanical = MechanicalSolver(
            self.wall,
            temperature=self.thermal.T,
            material=self.material,
            degree=m.degree,
            reference_temperature=cfg.mechanical.reference_temperature,
            end_condition=cfg.mechanical.end_condition,
            property_temperature=property_temperature,
            constitutive=constitutive,
            petsc_options=options,
        )
        self.points = self.wall.locate([loc.radius for loc in cfg.locations])
        coords = self.thermal.V.tabulate_dof_coordinates()
        # Wall.locate accepts (and clips) the round-off of the node radii.
        r_nodes = np.unique(np.round(coords[:, 0], 12))
        self.profile_points = self.wall.locate(r_nodes)

    def sample(self, points: PointSet) -> NDArray[np.float64]:
        """Temperature, mechanical outputs and displacement at points, shape ``(n, 11)``.

        Columns follow :data:`HISTORY_VARIABLES`. Call after :meth:`mechanical.solve`.
        """
        T = self.thermal.T.eval(points.x, points.cells).reshape(-1, 1)
        out = self.mechanical.compute_outputs().eval(points.x, points.cells)
        u = self.mechanical.u.eval(points.x, points.cells).reshape(T.shape[0], -1)
        return np.asarray(np.hstack([T, out.reshape(T.shape[0], -1), u[:, :2]]), dtype=float)


def _dataset(
    cfg: ComponentConfig,
    material: Material,
    times: np.ndarray,
    hist: np.ndarray,
    field_times: list[float],
    profiles: list[np.ndarray],
    r_profile: np.ndarray,
    *,
    complete: bool,
    steady: bool | None = None,
) -> xr.Dataset:
    import xarray as xr

    names = [loc.name for loc in cfg.locations]
    data_vars: dict[str, Any] = {}
    for j, (name, (unit, long_name)) in enumerate(HISTORY_VARIABLES.items()):
        data_vars[name] = (
            ("time", "location"),
            hist[:, :, j],
            {"units": unit, "long_name": long_name},
        )
    data_vars["fluid_temperature"] = (
        ("time",),
        np.asarray(cfg.loads.fluid_temperature_at(times), dtype=float),
        {"units": "K", "long_name": "fluid temperature at the bore"},
    )
    data_vars["pressure"] = (
        ("time",),
        np.asarray(cfg.loads.pressure_at(times), dtype=float),
        {"units": "Pa", "long_name": "internal pressure"},
    )
    outer = cfg.loads.outer_temperature_at(times)
    if outer is not None:
        data_vars["outer_temperature"] = (
            ("time",),
            np.asarray(outer, dtype=float),
            {"units": "K", "long_name": "prescribed outer-surface temperature"},
        )
    prof = np.asarray(profiles).reshape(len(profiles), r_profile.size, len(HISTORY_VARIABLES))
    for j, (name, (unit, long_name)) in enumerate(HISTORY_VARIABLES.items()):
        data_vars[f"{name}_profile"] = (
            ("time_field", "r"),
            prof[:, :, j],
            {"units": unit, "long_name": f"{long_name}, radial profile at mid-height"},
        )
    ds = xr.Dataset(
        data_vars,
        coords={
            "time": ("time", times, {"units": "s", "long_name": "time since start of history"}),
            "location": ("location", np.array(names, dtype=object)),
            "radius": ("location", np.array([loc.radius for loc in cfg.locations]), {"units": "m"}),
            "time_field": ("time_field", np.asarray(field_times, dtype=float), {"units": "s"}),
            "r": ("r", r_profile, {"units": "m", "long_name": "radius"}),
        },
        attrs={
            "title": f"FEM service model of {cfg.component.name}",
            "component": cfg.component.name,
            "site": cfg.component.site,
            "material": getattr(material, "name", str(material)),
            "config_hash": cfg.config_hash,
            "end_condition": cfg.mechanical.end_condition,
            "analysis": cfg.solver.analysis if steady is None else (
                "steady" if steady else "transient"
            ),
            "bore_condition": cfg.thermal.bore,
            "outer_condition": cfg.thermal.outer,
            "complete": int(complete),
            "versions": ", ".join(f"{k}={v}" for k, v in _versions().items()),
            "Conventions": "CF-1.10",
        },
    )
    return ds


def solve(
    config: ComponentConfig,
    *,
    progress: bool = False,
    fields: bool = True,
    material: Material | None = None,
    property_temperature: float | None = None,
    on_field: FieldCallback | None = None,
    max_picard_iterations: int = 30,
    constitutive: ConstitutiveFactory | None = None,
    steady: bool | None = None,
) -> xr.Dataset:
    """Run the service model over the config's load history.

    Parameters
    ----------
    config : ComponentConfig
        Validated component config (SI units).
    progress : bool, optional
        Show a tqdm progress bar.
    fields : bool, optional
        Record radial profiles at ``config.output.field_times`` (``False``: histories only).
    material : Material, optional
        Use this material instead of the config's (e.g. constant properties); the
        load temperatures are checked against its data before the first step.
    property_temperature : float, optional
        Freeze the properties at this temperature (K), making the model linear.
    on_field : callable, optional
        ``on_field(t, model)`` called at each field time (e.g. to write XDMF files).
    max_picard_iterations : int, optional
        Largest number of Picard iterations per thermal step before the step counts
        as diverged.
    constitutive : callable, optional
        ``constitutive(E, nu) -> ConstitutiveLaw`` (e.g.
        ``models.creep_fem.NortonCreep(A=..., n=...)`` for creep with stress
        relaxation); ``None`` (default): thermo-elastic. After each converged and
        recorded step the law's ``update`` advances it over the next interval, from
        that step's stress (forward Euler).
    steady : bool, optional
        ``True``: a steady state (no heat capacity) at each point of the load history
        and each field time; ``False``: the transient; ``None`` (default): as
        ``solver.analysis`` says.

    Returns
    -------
    xarray.Dataset
        See the module docstring; ``attrs["complete"] == 1``.

    Raises
    ------
    ConfigError
        If a field time lies outside the load history, or the loads leave the data of
        the material solved (``material`` when given, else the config's).
    SolverDivergedError
        If a step fails; ``partial`` holds the dataset up to the last converged step.
    """
    from models._petsc import StepFailure

    cfg = config
    duration = float(cfg.loads.duration)
    field_times = list(cfg.output.field_times) if fields else []
    for i, t in enumerate(field_times):
        if not 0.0 <= t <= duration * (1 + 1e-12):
            raise ConfigError(
                f"output.field_times_h[{i}]: {t / HOUR} h lies outside the load history "
                f"[0, {duration / HOUR}] h; pick a time inside it"
            )
    if material is not None and property_temperature is None:
        from models.config import check_temperatures

        check_temperatures(cfg.loads, cfg.thermal, material, origin="given to solve()")
    is_steady = cfg.solver.analysis == "steady" if steady is None else bool(steady)
    if is_steady and constitutive is not None:
        raise ConfigError(
            "solver.analysis: a steady-state solve has no time for a creep law to act; "
            "run the transient (solver.analysis = 'transient') with constitutive=..."
        )
    model = ServiceModel(
        cfg,
        material=material,
        property_temperature=property_temperature,
        max_picard_iterations=max_picard_iterations,
        constitutive=constitutive,
    )
    next_time = _steady_points(cfg, field_times) if is_steady else _time_stepping(cfg, field_times)
    times: list[float] = []
    hist: list[np.ndarray] = []
    profiles: list[np.ndarray] = []
    recorded_fields: list[float] = []
    r_profile = model.profile_points.radius
    field_set = {float(t) for t in field_times}
    tol_t = 1e-9 * max(duration, 1.0)

    def record(t: float) -> None:
        times.append(t)
        hist.append(model.sample(model.points))
        if field_set and any(abs(t - f) <= tol_t for f in field_set):
            profiles.append(model.sample(model.profile_points))
            recorded_fields.append(t)
            if on_field is not None:
                on_field(t, model)

    def dataset(complete: bool) -> xr.Dataset:
        n = len(hist)
        return _dataset(
            cfg,
            model.material,
            np.asarray(times[:n], dtype=float),
            np.asarray(hist).reshape(n, len(cfg.locations), len(HISTORY_VARIABLES)),
            recorded_fields,
            profiles,
            r_profile,
            complete=complete,
            steady=is_steady,
        )

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=round(duration / HOUR, 6),
            desc=f"solve {cfg.component.name}",
            unit="h",
            bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} h [{elapsed}<{remaining}]",
        )
    t, t_next, i = 0.0, 0.0, 0
    change: float | None = None
    try:
        while True:
            dt = t_next - t
            try:
                outer_t = _outer_temperature(cfg, t_next)
                fluid_t = float(cfg.loads.fluid_temperature_at(t_next))
                if is_steady:
                    model.thermal.step_steady(fluid_t, outer_temperature=outer_t)
                    change = None
                elif i:
                    before = model.thermal.T.x.array.copy()
                    model.thermal.step(dt, fluid_t, outer_temperature=outer_t)
                    change = float(np.max(np.abs(model.thermal.T.x.array - before)))
                else:
                    change = None
                model.mechanical.solve(float(cfg.loads.pressure_at(t_next)))
                record(t_next)
                t = t_next
                if t >= duration - tol_t:
                    break
                t_next = next_time(t, change)
                # advance the law over [t_i, t_i+1] from this step's stress (forward Euler)
                model.mechanical.update(t_next - t)
            except StepFailure as err:
                residual = float(getattr(err, "residual", math.nan))
                raise SolverDivergedError(
                    f"step {i} (t = {t_next:.6g} s, dt = {dt:.6g} s) failed: {err}; "
                    f"last residual {residual:.3e}. Fix: reduce solver.time_step_s, check "
                    "the loads or solver.petsc_options; results up to the previous step are "
                    "in .partial",
                    step=i,
                    time=float(t_next),
                    residual=residual,
                    partial=dataset(False),
                ) from err
            if bar is not None and i:
                bar.update(round(t / HOUR - bar.n, 6))
            i += 1
    finally:
        if bar is not None:
            bar.close()
    return dataset(True)


def _outer_temperature(cfg: ComponentConfig, t: float) -> float | None:
    """Return the prescribed outer temperature at ``t`` (K), or ``None`` without one."""
    outer = cfg.loads.outer_temperature_at(t)
    return None if outer is None else float(outer)


def _time_stepping(
    cfg: ComponentConfig, field_times: list[float]
) -> Callable[[float, float | None], float]:
    """Return ``next_time(t, change)``: the time grid of the solve, uniform or adaptive."""
    duration = float(cfg.loads.duration)
    corners = _load_corners(cfg.loads)
    if cfg.solver.max_time_step is None:
        grid = time_grid(duration, cfg.solver.time_step, [*field_times, *cfg.loads.time])

        def uniform(t: float, change: float | None) -> float:
            return float(grid[np.searchsorted(grid, t + 1e-9 * max(duration, 1.0))])

        return uniform
    stepper = AdaptiveStepper(
        duration=duration,
        min_step=cfg.solver.time_step,
        max_step=cfg.solver.max_time_step,
        tolerance=cfg.solver.max_temperature_change,
        corners=corners,
        targets=field_times,
    )
    return stepper.next_time


def _steady_points(
    cfg: ComponentConfig, field_times: list[float]
) -> Callable[[float, float | None], float]:
    """Return ``next_time(t, change)`` over the load-history points and field times."""
    duration = float(cfg.loads.duration)
    points = np.unique(np.concatenate([np.asarray(cfg.loads.time, dtype=float), field_times]))

    def following(t: float, change: float | None) -> float:
        return float(points[np.searchsorted(points, t + 1e-9 * max(duration, 1.0))])

    return following


def _load_corners(loads: LoadHistory) -> list[float]:
    """Interior times of the load history where the fluid temperature or pressure bends."""
    t = np.asarray(loads.time, dtype=float)
    out = []
    for values in (loads.fluid_temperature, loads.pressure):
        slope = np.diff(np.asarray(values, dtype=float)) / np.diff(t)
        scale = max(float(np.max(np.abs(slope))), 1e-300)
        bends = np.abs(np.diff(slope)) > 1e-9 * scale
        out.extend(t[1:-1][bends].tolist())
    return sorted(set(out))
