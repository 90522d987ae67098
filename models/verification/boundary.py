# mypy: disable-error-code="no-untyped-call"
"""Verification of the prescribed-temperature surfaces, the steady solve and the displacement.

Groups (each returns a list of :class:`~models.verification.CaseResult`):

* ``fem/prescribed_steady``: both surfaces at prescribed temperatures, steady state,
  against the logarithmic profile.
* ``fem/prescribed_transient``: a step of the prescribed bore temperature, insulated
  outer surface, against the Bessel-function series of the hollow cylinder.
* ``fem/steady_service``: the service model's steady-state solve (convective bore and
  outer surface) against the logarithmic profile with film resistances.
* ``fem/lame_displacement``: radial and axial displacement of the closed-end Lamé
  cylinder in the service model's dataset against the closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from models.units import HOUR, ZERO_CELSIUS
from models.verification import CaseResult, compare
from models.verification.fem import (
    _A,
    _B,
    _CP,
    _E,
    _K,
    _L,
    _NU,
    _RHO,
    _SRC_LOG,
    _material,
    _wall,
    series_solution,
)

__all__ = ["CASES"]

_SRC_DIRICHLET = (
    "steady conduction through a cylindrical wall with prescribed surface temperatures, "
    "T = Ti + (To - Ti) ln(r/a)/ln(b/a): Incropera & DeWitt, Fundamentals of Heat and Mass "
    "Transfer, 6th ed., ch. 3 (radial systems)"
)
_SRC_SERIES_DIRICHLET = (
    "hollow cylinder, prescribed inner temperature, insulated outer surface: Carslaw & Jaeger, "
    "Conduction of Heat in Solids, 2nd ed., ch. VII, hollow cylinder (J0/Y0 eigenfunction "
    "series, R(beta a) = 0); eigenvalues by scipy.special + brentq"
)
_SRC_LAME_U = (
    "Lame thick cylinder with closed ends, displacement u_r = r/E [A (1 - 2 nu) + B (1 + nu)/r^2], "
    "A = p a^2/(b^2 - a^2), B = A b^2, eps_z = A (1 - 2 nu)/E: Timoshenko & Goodier, Theory of "
    "Elasticity, 3rd ed., ch. 4 (pressure in a cylindrical tube)"
)


def prescribed_steady() -> list[CaseResult]:
    """Both surface temperatures prescribed: steady log profile."""
    from models.thermal import ThermalSolver

    Ti, To = 800.0, 350.0
    wall = _wall(20)
    th = ThermalSolver(
        wall,
        material=_material(),
        degree=2,
        bore_htc=0.0,
        initial_temperature=To,
        bore_condition="prescribed",
        outer_condition="prescribed",
        outer_temperature=To,
    )
    th.step_steady(Ti, outer_temperature=To)
    pts = wall.locate(np.linspace(_A, _B, 41))
    T = th.T.eval(pts.x, pts.cells).ravel()
    exact = Ti + (To - Ti) * np.log(pts.radius / _A) / math.log(_B / _A)
    i = int(np.argmax(np.abs(T - exact)))
    return [
        compare(
            "fem/prescribed_steady",
            f"T at r={pts.radius[i]:.4f} m (worst of 41), K",
            T[i],
            exact[i],
            tolerance=1e-4,
            source=_SRC_DIRICHLET,
            scale=Ti - To,
        )
    ]


def prescribed_transient() -> list[CaseResult]:
    """Step of the prescribed bore temperature, insulated outer: Bessel series."""
    from models.thermal import ThermalSolver

    T0, Tb = 300.0, 800.0
    kappa = _K / (_RHO * _CP)
    t_ref = (_B - _A) ** 2 / kappa
    wall = _wall(40)
    th = ThermalSolver(
        wall,
        material=_material(),
        degree=2,
        bore_htc=0.0,
        initial_temperature=T0,
        bore_condition="prescribed",
    )
    theta = series_solution(a=_A, b=_B, k=_K, kappa=kappa, h=math.inf)
    pts = wall.locate([0.5 * (_A + _B), _B])
    names = ("mid-wall", "outer")
    t, out = 0.0, []
    for fo in (0.05, 0.2, 1.0):
        target = fo * t_ref
        while t < target - 1e-9:
            step = min(0.25, target - t)
            th.step(step, Tb)
            t += step
        T = th.T.eval(pts.x, pts.cells).ravel()
        exact = Tb + (T0 - Tb) * theta(pts.radius, t)
        for j, name in enumerate(names):
            out.append(
                compare(
                    "fem/prescribed_transient",
                    f"T {name} at Fo={fo:g} (t={t:.1f} s), K",
                    T[j],
                    exact[j],
                    tolerance=0.01,
                    source=_SRC_SERIES_DIRICHLET,
                    scale=Tb - T0,
                )
            )
    return out


def _service_config(**thermal: Any) -> Any:
    import dolfinx_solver  # noqa: F401

    from models.config import parse_config

    return parse_config(
        {
            "component": {"name": "verif-steady", "material": "grade91"},
            "geometry": {"inner_radius_m": _A, "outer_radius_m": _B, "length_m": _L},
            "mesh": {"radial_cells": 20, "axial_cells": 1, "degree": 2},
            "thermal": {"initial_temperature_degC": 300.0, **thermal},
            "mechanical": {"end_condition": "closed", "reference_temperature_degC": 300.0},
            "loads": {
                "time_h": [0.0, 1.0],
                "fluid_temperature_degC": [300.0, 500.0],
                "pressure_MPa": [0.0, 20.0],
            },
            "solver": {"analysis": "steady"},
        }
    )


def steady_service() -> list[CaseResult]:
    """Check the service model's steady solve at the end of the history (log profile)."""
    from models.service import solve

    hi, ho, Tamb_c = 2000.0, 50.0, 20.0
    cfg = _service_config(
        bore_htc_W_m2K=hi,
        outer="convective",
        outer_htc_W_m2K=ho,
        ambient_temperature_degC=Tamb_c,
    )
    ds = solve(cfg, material=_material(), fields=False)
    end = ds.isel(time=-1)
    Tf, Tamb = float(end["fluid_temperature"]), Tamb_c + ZERO_CELSIUS
    q = (Tf - Tamb) / (1.0 / (_A * hi) + math.log(_B / _A) / _K + 1.0 / (_B * ho))
    out = []
    for loc in ("bore", "mid_wall", "outer"):
        r = float(end["radius"].sel(location=loc))
        exact = Tf - q * (1.0 / (_A * hi) + math.log(r / _A) / _K)
        out.append(
            compare(
                "fem/steady_service",
                f"T {loc} (r={r:.3f} m) of the steady solve at t=1 h, K",
                float(end["temperature"].sel(location=loc)),
                exact,
                tolerance=1e-4,
                source=_SRC_LOG,
                scale=Tf - Tamb,
            )
        )
    return out


def lame_displacement() -> list[CaseResult]:
    """Radial and axial displacement of the pressurised closed-end cylinder (dataset)."""
    from models.service import solve

    cfg = _service_config(bore="prescribed")
    # isothermal at the stress-free temperature: only the pressure acts
    cfg = cfg.with_loads(time=[0.0, HOUR], fluid_temperature=[573.15, 573.15], pressure=[0, 20e6])
    ds = solve(cfg, material=_material(), fields=False)
    end = ds.isel(time=-1)
    p = 20e6
    A = p * _A**2 / (_B**2 - _A**2)
    B = A * _B**2
    out = []
    for loc in ("bore", "outer"):
        r = float(end["radius"].sel(location=loc))
        exact = r / _E * (A * (1.0 - 2.0 * _NU) + B * (1.0 + _NU) / r**2)
        out.append(
            compare(
                "fem/lame_displacement",
                f"u_r {loc} (r={r:.3f} m), m",
                float(end["u_r"].sel(location=loc)),
                exact,
                tolerance=1e-3,
                source=_SRC_LAME_U,
            )
        )
    eps_z = A * (1.0 - 2.0 * _NU) / _E
    out.append(
        compare(
            "fem/lame_displacement",
            "u_z at mid-height z = L/2, m",
            float(end["u_z"].sel(location="mid_wall")),
            eps_z * _L / 2.0,
            tolerance=1e-3,
            source=_SRC_LAME_U,
        )
    )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "fem/lame_displacement": lame_displacement,
    "fem/prescribed_steady": prescribed_steady,
    "fem/prescribed_transient": prescribed_transient,
    "fem/steady_service": steady_service,
}
