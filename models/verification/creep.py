# mypy: disable-error-code="no-untyped-call"
r"""Verification of the Norton creep law of :mod:`models.creep_fem`.

Groups:

* ``fem/creep_thick_cylinder``: a closed-end thick tube (b/a = 4/3) under constant
  internal pressure with Norton creep (n = 5) held isothermally; the hoop stress at the
  bore and the outer surface relaxes from the Lamé values to the stationary creep
  distribution (:func:`~models.creep_fem.stationary_creep_stresses`).
* ``fem/creep_relaxation``: stress relaxation at frozen total strain (one long step,
  cut into stable sub-steps) against the closed form of
  :math:`\dot\sigma_{vm} = -3\mu A\sigma_{vm}^n`.

Time scale: :math:`\tau = 1/(E A p^{n-1})`. At the bore the stationary von Mises stress
is about :math:`3.2p`, so the local relaxation time
:math:`t_R = \sigma_{vm}/(3\mu\,\dot\varepsilon_{vm}) = 1/(3\mu A\sigma_{vm}^{n-1})`
is about :math:`8\times10^{-3}\tau`. The hold lasts :math:`0.03\tau`, with geometric
steps from :math:`10^{-5}\tau` growing by 1.3 up to :math:`10^{-3}\tau` (45 steps; the
late steps lie within the no-overshoot limit :math:`1/\lambda = t_R/n \approx 1.7\times10^{-3}\tau`
of the stationary bore stress, so they are plain Euler steps). Tolerance 2 %: the
elastic transient decays roughly as :math:`\exp(-t/t_R)` (:math:`e^{-3.6}` of the 25 %
initial excess at the bore, about 0.7 %, would remain after :math:`0.03\tau`)
and the forward-Euler and DG1 creep-strain errors add a drift proportional to the
accumulated creep strain (0.1-0.5 % observed on 16 cells).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from models.verification import CaseResult, compare

__all__ = ["CASES"]

_A, _B, _L = 0.15, 0.20, 0.01
_E, _NU = 200e9, 0.3
_P = 20e6
_N = 5.0
#: Norton pre-factor: 1e-10 1/s at 100 MPa (the order of Grade 91 near 600 C).
_A_NORTON = 1e-10 / (100e6) ** _N

_SRC_STATIONARY = (
    "stationary creep of a closed-end thick tube under internal pressure, Norton law with "
    "von Mises flow: sigma_theta = p (1 + (m-1)(b/r)^m)/((b/a)^m - 1), m = 2/n "
    "(H. Kraus, Creep Analysis, Wiley 1980, ch. 3; J. T. Boyle and J. Spence, Stress "
    "Analysis for Creep, Butterworths 1983, ch. 3); re-derived in "
    "models.creep_fem.stationary_creep_stresses"
)
_SRC_RELAX = (
    "Norton stress relaxation at constant total strain: d sigma_vm/dt = -3 mu A "
    "sigma_vm^n gives sigma_vm = (sigma_0^(1-n) + (n-1) 3 mu A t)^(1/(1-n)) "
    "(uniaxial form: Boyle and Spence, Stress Analysis for Creep, 1983, ch. 2)"
)


def _solver(radial_cells: int, law: Any) -> tuple[Any, Any, Any]:
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)

    from models.geometry import create_wall_mesh
    from models.materials import Material
    from models.mechanical import MechanicalSolver
    from models.thermal import ThermalSolver

    mat = Material.constant(
        E=_E, nu=_NU, alpha=1.2e-5, k=25.0, rho=7800.0, cp=500.0, name="verif-steel"
    )
    wall = create_wall_mesh(
        inner_radius=_A, outer_radius=_B, length=_L, radial_cells=radial_cells, axial_cells=1
    )
    th = ThermalSolver(wall, material=mat, degree=2, bore_htc=0.0, initial_temperature=873.15)
    me = MechanicalSolver(
        wall,
        temperature=th.T,
        material=mat,
        degree=2,
        reference_temperature=873.15,
        end_condition="closed",
        constitutive=law,
    )
    return wall, th, me


def hold_times(tau: float) -> np.ndarray:
    """Step lengths (s) of the hold: geometric from 1e-5 tau by 1.3, capped, to 0.03 tau."""
    steps = []
    t, dt, end = 0.0, 1e-5 * tau, 0.03 * tau
    while t < end * (1.0 - 1e-12):
        h = min(dt, end - t)
        steps.append(h)
        t += h
        dt = min(1.3 * dt, 1e-3 * tau)
    return np.asarray(steps)


def thick_cylinder_hold(radial_cells: int = 16) -> dict[str, np.ndarray]:
    """Hoop stress (Pa) at bore and outer radius: Lamé start, end of hold, stationary."""
    from models.creep_fem import NortonCreep, stationary_creep_stresses

    wall, _, me = _solver(radial_cells, NortonCreep(A=_A_NORTON, n=_N))
    pts = wall.locate([_A, _B])
    me.solve(_P)
    start = me.compute_outputs().eval(pts.x, pts.cells)[:, 1].copy()
    tau = 1.0 / (_E * _A_NORTON * _P ** (_N - 1.0))
    for dt in hold_times(tau):
        me.update(float(dt))
        me.solve(_P)
    end = me.compute_outputs().eval(pts.x, pts.cells)
    ref = stationary_creep_stresses(pts.radius, a=_A, b=_B, pressure=_P, n=_N)
    return {
        "lame": start,
        "sigma_theta": end[:, 1].copy(),
        "sigma_z": end[:, 2].copy(),
        "ref_theta": ref["sigma_theta"],
        "ref_z": ref["sigma_z"],
    }


def creep_thick_cylinder() -> list[CaseResult]:
    """Stationary creep stresses after a long hold at constant pressure."""
    res = thick_cylinder_hold()
    name = "fem/creep_thick_cylinder"
    peak = float(res["ref_theta"][0])
    out = []
    for k, where in enumerate(("inner", "outer")):
        out.append(
            compare(name, f"sigma_theta at {where} radius after hold, Pa",
                    res["sigma_theta"][k], res["ref_theta"][k],
                    tolerance=0.02, source=_SRC_STATIONARY)
        )  # fmt: skip
        out.append(
            compare(name, f"sigma_z at {where} radius after hold, Pa (scale: bore hoop)",
                    res["sigma_z"][k], res["ref_z"][k],
                    tolerance=0.02, source=_SRC_STATIONARY, scale=peak)
        )  # fmt: skip
    return out


def creep_relaxation() -> list[CaseResult]:
    """One long step at frozen strain: sub-stepped Euler against the closed form."""
    from models.creep_fem import integrate_relaxation

    mu = np.full(3, _E / (2.0 * (1.0 + _NU)))
    A = np.full(3, _A_NORTON)
    n = np.array([3.0, 5.0, 8.0])
    # uniaxial, equibiaxial-plus-shear and a general state (Pa)
    sig0 = np.array([[0.0, 0.0, 80e6, 0.0], [60e6, 60e6, 0.0, 20e6], [-30e6, 90e6, 40e6, 15e6]])
    mean = sig0[:, :3].mean(axis=1, keepdims=True)
    s0 = sig0.copy()
    s0[:, :3] -= mean
    vm0 = np.sqrt(1.5 * ((s0[:, :3] ** 2).sum(axis=1) + 2.0 * s0[:, 3] ** 2))
    # five initial relaxation times 1/(3 mu A sigma_0^(n-1)) per state
    dt = 5.0 / (3.0 * mu * A * vm0 ** (n - 1.0))
    vm1 = np.empty(3)
    for k in range(3):
        d_eps, _ = integrate_relaxation(
            sig0[k : k + 1], mu=mu[k : k + 1], A=A[k : k + 1], n=n[k : k + 1], dt=float(dt[k])
        )
        s1 = s0[k] - 2.0 * mu[k] * d_eps[0]
        vm1[k] = np.sqrt(1.5 * ((s1[:3] ** 2).sum() + 2.0 * s1[3] ** 2))
    ref = (vm0 ** (1.0 - n) + (n - 1.0) * 3.0 * mu * A * dt) ** (1.0 / (1.0 - n))
    out = []
    for k in range(3):
        out.append(
            compare("fem/creep_relaxation",
                    f"von Mises stress after relaxation (n = {n[k]:g}, state {k}), Pa",
                    vm1[k], ref[k], tolerance=0.02, source=_SRC_RELAX)
        )  # fmt: skip
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "fem/creep_relaxation": creep_relaxation,
    "fem/creep_thick_cylinder": creep_thick_cylinder,
}
