# mypy: disable-error-code="no-untyped-call"
"""Verification of the FEM service model against analytical and series solutions.

Groups (each returns a list of :class:`~models.verification.CaseResult`):

* ``fem/steady_conduction``: steady radial conduction through the wall with convective
  bore and outer surface (logarithmic profile with film resistances).
* ``fem/thermal_stress_cylinder``: thermal stresses of a long hollow cylinder with a
  steady logarithmic temperature distribution, free/closed ends without pressure
  (generalised plane strain).
* ``fem/lame_closed``: Lamé thick cylinder under internal pressure with closed ends.
* ``fem/transient_series``: transient conduction in a hollow cylinder, convective bore
  (Biot 4), insulated outer surface, against its Bessel-function series.
* ``fem/superposition``: bore hoop stress from fitted unit responses (recursive
  convolution) against the direct FEM transient for a fluid-temperature ramp.
* ``fem/mesh_convergence``: observed L2 order of the temperature against ``degree + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from models.verification import CaseResult, compare

__all__ = ["CASES"]

_A, _B, _L = 0.15, 0.20, 0.01
_E, _NU, _ALPHA, _K, _RHO, _CP = 200e9, 0.3, 1.2e-5, 25.0, 7800.0, 500.0

_SRC_LOG = (
    "steady conduction through a cylindrical wall with film resistances: "
    "Incropera & DeWitt, Fundamentals of Heat and Mass Transfer, 6th ed., ch. 3 (radial systems: "
    "the cylinder, log profile and thermal resistances in series)"
)
_SRC_TG = (
    "Timoshenko & Goodier, Theory of Elasticity, 3rd ed. (1970), ch. 13, thermal stresses in a "
    "long hollow cylinder, T = To + (Ti - To) ln(b/r)/ln(b/a), free ends (eps_z uniform)"
)
_SRC_LAME = (
    "Lame thick cylinder with closed ends: Timoshenko & Goodier, Theory of Elasticity, 2nd ed., "
    "ch. 4 (pressure in a cylindrical tube); sigma_z = p a^2/(b^2 - a^2)"
)
_SRC_SERIES = (
    "hollow cylinder, convective inner surface, insulated outer surface: Carslaw & Jaeger, "
    "Conduction of Heat in Solids, 2nd ed., ch. VII, hollow cylinder (J0/Y0 eigenfunction series); "
    "eigenvalues by scipy.special + brentq"
)
_SRC_SUP = (
    "Duhamel superposition of unit-step responses (Boley & Weiner, Theory of Thermal Stresses, "
    "1960, ch. 1) against the direct FEM transient of the same linear model"
)
_SRC_ORDER = (
    "a priori L2 error estimate O(h^(p+1)) for Lagrange elements of degree p "
    "(Brenner & Scott, The Mathematical Theory of Finite Element Methods, 3rd ed., ch. 5, "
    "duality argument); "
    "exact solution: steady log profile"
)


def _material() -> Any:
    from models.materials import Material

    return Material.constant(E=_E, nu=_NU, alpha=_ALPHA, k=_K, rho=_RHO, cp=_CP, name="verif-steel")


def _wall(radial_cells: int, axial_cells: int = 1) -> Any:
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)

    from models.geometry import create_wall_mesh

    return create_wall_mesh(
        inner_radius=_A,
        outer_radius=_B,
        length=_L,
        radial_cells=radial_cells,
        axial_cells=axial_cells,
    )


def _steady(radial_cells: int, degree: int) -> tuple[Any, Any, Callable[[np.ndarray], np.ndarray]]:
    from models.thermal import ThermalSolver

    hi, ho, Tf, Tamb = 2000.0, 50.0, 800.0, 300.0
    wall = _wall(radial_cells)
    th = ThermalSolver(
        wall,
        material=_material(),
        degree=degree,
        bore_htc=hi,
        outer_htc=ho,
        ambient_temperature=Tamb,
        initial_temperature=Tamb,
    )
    th.step(1e15, Tf)  # backward Euler with an infinite step is the steady problem
    q = (Tf - Tamb) / (1.0 / (_A * hi) + math.log(_B / _A) / _K + 1.0 / (_B * ho))

    def exact(r: np.ndarray) -> np.ndarray:
        return Tf - q * (1.0 / (_A * hi) + np.log(r / _A) / _K)

    return wall, th, exact


def steady_conduction() -> list[CaseResult]:
    """Steady radial conduction, max relative error of the temperature rise."""
    wall, th, exact = _steady(20, 2)
    pts = wall.locate(np.linspace(_A, _B, 41))
    Th = th.T.eval(pts.x, pts.cells).ravel()
    err = np.abs(Th - exact(pts.radius))
    i = int(np.argmax(err))
    rise = 800.0 - 300.0
    return [
        compare(
            "fem/steady_conduction",
            f"T at r={pts.radius[i]:.4f} m (worst of 41), K",
            Th[i],
            exact(pts.radius[i : i + 1])[0],
            tolerance=1e-3,
            source=_SRC_LOG,
            scale=rise,
        )
    ]


def thermal_stress_cylinder() -> list[CaseResult]:
    """Thermal stresses of a hollow cylinder with a steady log temperature."""
    from models.mechanical import MechanicalSolver
    from models.thermal import ThermalSolver

    Ti, To = 500.0, 400.0
    wall = _wall(30)
    mat = _material()
    th = ThermalSolver(wall, material=mat, degree=2, bore_htc=0.0, initial_temperature=To)
    th.set_temperature(lambda x: To + (Ti - To) * np.log(_B / x[0]) / math.log(_B / _A))
    me = MechanicalSolver(
        wall,
        temperature=th.T,
        material=mat,
        degree=2,
        reference_temperature=To,
        end_condition="closed",
    )
    me.solve(0.0)
    pts = wall.locate([_A, _B])
    vals = me.compute_outputs().eval(pts.x, pts.cells)
    r = pts.radius
    lnab = math.log(_B / _A)
    c = _E * _ALPHA * (Ti - To) / (2.0 * (1.0 - _NU) * lnab)
    q = _A**2 / (_B**2 - _A**2)
    ref = {
        "sigma_r": c * (-np.log(_B / r) - q * (1.0 - _B**2 / r**2) * lnab),
        "sigma_theta": c * (1.0 - np.log(_B / r) - q * (1.0 + _B**2 / r**2) * lnab),
        "sigma_z": c * (1.0 - 2.0 * np.log(_B / r) - 2.0 * q * lnab),
    }
    peak = float(np.max(np.abs(ref["sigma_theta"])))
    out = []
    for j, name in enumerate(("sigma_r", "sigma_theta", "sigma_z")):
        for k, where in enumerate(("inner", "outer")):
            out.append(
                compare(
                    "fem/thermal_stress_cylinder",
                    f"{name} at {where} radius, Pa",
                    vals[k, j],
                    ref[name][k],
                    tolerance=0.01,
                    source=_SRC_TG,
                    scale=peak,
                )
            )
    return out


def lame_closed() -> list[CaseResult]:
    """Lamé cylinder under internal pressure with closed ends."""
    from models.mechanical import MechanicalSolver
    from models.thermal import ThermalSolver

    p = 20e6
    wall = _wall(30)
    mat = _material()
    th = ThermalSolver(wall, material=mat, degree=2, bore_htc=0.0, initial_temperature=300.0)
    me = MechanicalSolver(
        wall,
        temperature=th.T,
        material=mat,
        degree=2,
        reference_temperature=300.0,
        end_condition="closed",
    )
    me.solve(p)
    pts = wall.locate([_A, _B])
    vals = me.compute_outputs().eval(pts.x, pts.cells)
    r = pts.radius
    A = p * _A**2 / (_B**2 - _A**2)
    B = A * _B**2
    ref = {"sigma_r": A - B / r**2, "sigma_theta": A + B / r**2, "sigma_z": np.full(2, A)}
    peak = float(ref["sigma_theta"][0])
    out = []
    for j, name in enumerate(("sigma_r", "sigma_theta", "sigma_z")):
        for k, where in enumerate(("inner", "outer")):
            scale = peak if name == "sigma_r" else None
            out.append(
                compare(
                    "fem/lame_closed",
                    f"{name} at {where} radius, Pa",
                    vals[k, j],
                    ref[name][k],
                    tolerance=0.005,
                    source=_SRC_LAME,
                    scale=scale,
                )
            )
    return out


def series_solution(
    *, a: float, b: float, k: float, kappa: float, h: float, n_terms: int = 60
) -> Callable[[np.ndarray, float], np.ndarray]:
    """theta(r, t) = (T - Tf)/(T0 - Tf) for a hollow cylinder, Robin at a, insulated at b.

    ``h = math.inf`` gives the prescribed inner temperature (eigenvalues of R(beta a) = 0).
    """
    from scipy.integrate import quad
    from scipy.optimize import brentq
    from scipy.special import j0, j1, y0, y1

    def R(beta: float, r: Any) -> Any:
        return j0(beta * r) * y1(beta * b) - y0(beta * r) * j1(beta * b)

    def f(beta: float) -> float:
        if math.isinf(h):
            return float(R(beta, a))
        dR = -beta * (j1(beta * a) * y1(beta * b) - y1(beta * a) * j1(beta * b))
        return float(k * dR - h * R(beta, a))

    grid = np.linspace(1e-6, (n_terms + 2) * math.pi / (b - a), 40 * (n_terms + 2))
    vals = np.array([f(x) for x in grid])
    roots = [
        brentq(f, grid[i], grid[i + 1], xtol=1e-14)
        for i in range(grid.size - 1)
        if vals[i] * vals[i + 1] < 0
    ][:n_terms]
    coef = []
    for beta in roots:
        num = quad(lambda r, be=beta: r * R(be, r), a, b, limit=200)[0]
        den = quad(lambda r, be=beta: r * R(be, r) ** 2, a, b, limit=200)[0]
        coef.append(num / den)

    def theta(r: np.ndarray, t: float) -> np.ndarray:
        r = np.asarray(r, dtype=float)
        out = np.zeros_like(r)
        for beta, c in zip(roots, coef, strict=True):
            out += c * R(beta, r) * math.exp(-kappa * beta**2 * t)
        return out

    return theta


def transient_series() -> list[CaseResult]:
    """Transient conduction, Biot number h (b - a) / k = 4, against the series solution."""
    from models.thermal import ThermalSolver

    h, T0, Tf = 2000.0, 300.0, 800.0
    kappa = _K / (_RHO * _CP)
    t_ref = (_B - _A) ** 2 / kappa
    wall = _wall(40)
    th = ThermalSolver(wall, material=_material(), degree=2, bore_htc=h, initial_temperature=T0)
    theta = series_solution(a=_A, b=_B, k=_K, kappa=kappa, h=h)
    pts = wall.locate([_A, 0.5 * (_A + _B), _B])
    names = ("bore", "mid-wall", "outer")
    checks = [0.05, 0.2, 1.0]
    dt = 0.25
    t, out = 0.0, []
    for fo in checks:
        target = fo * t_ref
        while t < target - 1e-9:
            step = min(dt, target - t)
            th.step(step, Tf)
            t += step
        Th = th.T.eval(pts.x, pts.cells).ravel()
        Tex = Tf + (T0 - Tf) * theta(pts.radius, t)
        for j, name in enumerate(names):
            out.append(
                compare(
                    "fem/transient_series",
                    f"T {name} at Fo={fo:g} (t={t:.1f} s), K",
                    Th[j],
                    Tex[j],
                    tolerance=0.01,
                    source=_SRC_SERIES,
                    scale=Tf - T0,
                )
            )
    return out


def superposition() -> list[CaseResult]:
    """Bore hoop stress by recursive convolution of fitted modes against direct FEM."""
    import dolfinx_solver  # noqa: F401

    from models.config import parse_config
    from models.responses import fit_modes, unit_responses
    from models.service import solve

    raw = {
        "component": {"name": "verif", "material": "grade91"},
        "geometry": {"inner_radius_m": _A, "outer_radius_m": _B, "length_m": _L},
        "mesh": {"radial_cells": 24, "axial_cells": 1, "degree": 2},
        "thermal": {
            "bore_htc_W_m2K": 2000.0,
            "outer": "insulated",
            "initial_temperature_degC": 200.0,
        },
        "mechanical": {"end_condition": "closed", "reference_temperature_degC": 20.0},
        "loads": {
            "time_h": [0.0, 0.5, 1.0],
            "fluid_temperature_degC": [200.0, 400.0, 400.0],
            "pressure_MPa": [1.0, 10.0, 10.0],
        },
        "solver": {"time_step_s": 4.0},
    }
    cfg = parse_config(raw)
    mat = _material()
    modes = fit_modes(unit_responses(cfg, material=mat))
    ds = solve(cfg, material=mat, fields=False)
    t = ds["time"].values
    out = []
    for loc in ("bore", "outer"):
        direct = ds["sigma_theta"].sel(location=loc).values
        conv = modes.simulate(
            "sigma_theta",
            loc,
            t,
            fluid_temperature=ds["fluid_temperature"].values,
            pressure=ds["pressure"].values,
        )
        i = int(np.argmax(np.abs(conv - direct)))
        out.append(
            compare(
                "fem/superposition",
                f"sigma_theta {loc} at t={t[i]:.0f} s (worst), Pa",
                conv[i],
                direct[i],
                tolerance=0.01,
                source=_SRC_SUP,
                scale=float(np.max(np.abs(direct))),
            )
        )
    return out


def l2_errors(cells: tuple[int, ...] = (2, 4, 8), degree: int = 2) -> list[float]:
    """L2 (r-weighted) errors of the steady temperature on meshes with ``cells``."""
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
    import ufl
    from dolfinx import fem

    errors = []
    for n in cells:
        wall, th, _ = _steady(n, degree)
        hi, ho, Tf, Tamb = 2000.0, 50.0, 800.0, 300.0
        q = (Tf - Tamb) / (1.0 / (_A * hi) + math.log(_B / _A) / _K + 1.0 / (_B * ho))
        x = ufl.SpatialCoordinate(wall.mesh)
        exact = Tf - q * (1.0 / (_A * hi) + ufl.ln(x[0] / _A) / _K)
        dx = ufl.Measure("dx", domain=wall.mesh, metadata={"quadrature_degree": 10})
        e2 = fem.assemble_scalar(fem.form((th.T - exact) ** 2 * x[0] * dx))
        errors.append(math.sqrt(abs(e2)))
    return errors


def displacement_l2_errors(cells: tuple[int, ...] = (4, 8, 16), degree: int = 2) -> list[float]:
    """L2 (r-weighted) errors of u_r for the closed-end Lamé cylinder on meshes with ``cells``.

    Exact: ``u_r = r/E [A (1 - 2 nu) + B (1 + nu) / r^2]`` with ``A = p a^2/(b^2 - a^2)``,
    ``B = A b^2`` (generalised plane strain, closed ends).
    """
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
    import ufl
    from dolfinx import fem

    from models.mechanical import MechanicalSolver
    from models.thermal import ThermalSolver

    p = 20e6
    A = p * _A**2 / (_B**2 - _A**2)
    B = A * _B**2
    errors = []
    for n in cells:
        wall = _wall(n)
        mat = _material()
        th = ThermalSolver(
            wall, material=mat, degree=degree, bore_htc=0.0, initial_temperature=300.0
        )
        me = MechanicalSolver(
            wall,
            temperature=th.T,
            material=mat,
            degree=degree,
            reference_temperature=300.0,
            end_condition="closed",
        )
        me.solve(p)
        x = ufl.SpatialCoordinate(wall.mesh)
        exact = x[0] / _E * (A * (1.0 - 2.0 * _NU) + B * (1.0 + _NU) / x[0] ** 2)
        dx = ufl.Measure("dx", domain=wall.mesh, metadata={"quadrature_degree": 10})
        e2 = fem.assemble_scalar(fem.form((me.u[0] - exact) ** 2 * x[0] * dx))
        errors.append(math.sqrt(abs(e2)))
    return errors


def mesh_convergence() -> list[CaseResult]:
    """Observed L2 orders (temperature, displacement) against the theoretical p + 1."""
    out = []
    cells = (4, 8, 16)
    runs = [("temperature", d, l2_errors(cells, d)) for d in (1, 2)]
    runs.append(("radial displacement (Lame)", 2, displacement_l2_errors(cells, 2)))
    for what, degree, err in runs:
        order = math.log(err[-2] / err[-1]) / math.log(cells[-1] / cells[-2])
        out.append(
            compare(
                "fem/mesh_convergence",
                f"observed L2 order of {what}, degree {degree} (n={cells})",
                order,
                degree + 1.0,
                tolerance=0.1,
                source=_SRC_ORDER,
            )
        )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "fem/lame_closed": lame_closed,
    "fem/mesh_convergence": mesh_convergence,
    "fem/steady_conduction": steady_conduction,
    "fem/superposition": superposition,
    "fem/thermal_stress_cylinder": thermal_stress_cylinder,
    "fem/transient_series": transient_series,
}
