"""Norton creep with stress relaxation as a constitutive law of the mechanical solver.

Closed form of the stationary creep stresses in a closed-end thick tube under internal
pressure (Norton law, von Mises flow, m = 2/n): H. Kraus, Creep Analysis, Wiley 1980,
ch. 3; J. T. Boyle and J. Spence, Stress Analysis for Creep, Butterworths 1983, ch. 3.
"""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import numpy as np
import pytest
from scipy.integrate import quad

from models.creep_fem import NortonCreep, integrate_relaxation, stationary_creep_stresses
from models.errors import LawInputError
from models.verification import creep as creep_cases

A_IN, B_OUT, P = 0.15, 0.20, 20e6


def test_stationary_solution_with_n_one_is_lame() -> None:
    # Lame, closed ends (Timoshenko & Goodier, Theory of Elasticity, ch. 4).
    r = np.linspace(A_IN, B_OUT, 7)
    s = stationary_creep_stresses(r, a=A_IN, b=B_OUT, pressure=P, n=1.0)
    c = P * A_IN**2 / (B_OUT**2 - A_IN**2)
    np.testing.assert_allclose(s["sigma_r"], c - c * B_OUT**2 / r**2, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(s["sigma_theta"], c + c * B_OUT**2 / r**2, rtol=1e-12)
    np.testing.assert_allclose(s["sigma_z"], c, rtol=1e-12)


@pytest.mark.parametrize("n", [2.0, 5.0, 9.0])
def test_stationary_solution_satisfies_equilibrium_and_the_closed_end_force(n: float) -> None:
    # Independent checks by quadrature: radial equilibrium d(r sigma_r)/dr = sigma_theta
    # integrated over the wall with sigma_r(a) = -p, sigma_r(b) = 0, and the axial
    # force 2 pi int sigma_z r dr = p pi a^2 of closed ends.
    def f(r: float, key: str) -> float:
        return float(stationary_creep_stresses(np.array([r]), a=A_IN, b=B_OUT,
                                               pressure=P, n=n)[key][0])  # fmt: skip

    hoop = quad(lambda r: f(r, "sigma_theta"), A_IN, B_OUT)[0]
    assert hoop == pytest.approx(B_OUT * 0.0 - A_IN * (-P), rel=1e-10)
    axial = 2.0 * np.pi * quad(lambda r: f(r, "sigma_z") * r, A_IN, B_OUT)[0]
    assert axial == pytest.approx(P * np.pi * A_IN**2, rel=1e-10)
    assert f(A_IN, "sigma_r") == pytest.approx(-P, rel=1e-12)
    assert abs(f(B_OUT, "sigma_r")) < 1e-6 * P


def test_creep_increment_is_deviatoric_and_follows_the_stress_deviator() -> None:
    # von Mises flow (Odqvist 1966): the creep strain rate is (3/2) A sigma_vm^(n-1) s,
    # trace-free and parallel to the deviator; one short step is plain forward Euler.
    sig = np.array([[-30e6, 90e6, 40e6, 15e6]])
    mu, A, n = np.array([77e9]), np.array([1e-40]), np.array([5.0])
    s = sig.copy()
    s[0, :3] -= sig[0, :3].mean()
    vm = np.sqrt(1.5 * ((s[0, :3] ** 2).sum() + 2.0 * s[0, 3] ** 2))
    dt = 1e-3 / (3.0 * mu[0] * n[0] * A[0] * vm ** (n[0] - 1.0))
    d_eps, count = integrate_relaxation(sig, mu=mu, A=A, n=n, dt=dt)
    assert count == 1
    np.testing.assert_allclose(d_eps[0], 1.5 * A[0] * vm ** (n[0] - 1.0) * s[0] * dt, rtol=1e-12)
    assert abs(d_eps[0, :3].sum()) < 1e-12 * np.abs(d_eps).max()


def test_long_step_relaxation_matches_the_closed_form() -> None:
    results = creep_cases.creep_relaxation()
    assert len(results) == 3
    assert all(r.passed for r in results), [(r.quantity, r.rel_error) for r in results]


def test_long_hold_relaxes_bore_hoop_stress_from_lame_to_the_stationary_creep_state() -> None:
    res = creep_cases.thick_cylinder_hold()
    lame_bore = P * (B_OUT**2 + A_IN**2) / (B_OUT**2 - A_IN**2)
    assert res["lame"][0] == pytest.approx(lame_bore, rel=5e-3)
    # bore relaxes by 25 %, the outer surface takes load (closed form, n = 5)
    np.testing.assert_allclose(res["sigma_theta"], res["ref_theta"], rtol=0.02)
    np.testing.assert_allclose(res["sigma_z"], res["ref_z"], atol=0.02 * res["ref_theta"][0])
    assert res["sigma_theta"][0] < 0.8 * res["lame"][0]


def test_grade91_norton_constants_reproduce_the_kocks_mecking_rate() -> None:
    from models.life.creep import creep_rate_law

    law = NortonCreep.from_life_data("grade91")
    km = creep_rate_law("grade91")
    T = np.array([823.15, 873.15, 898.15])
    sigma = np.array([60e6, 100e6, 150e6])
    assert callable(law.A) and callable(law.n)
    np.testing.assert_allclose(law.A(T) * sigma ** law.n(T), km.rate(sigma, T), rtol=1e-10)


def test_bad_norton_constants_are_rejected_with_the_field_name() -> None:
    with pytest.raises(LawInputError, match="A: must be finite and > 0"):
        NortonCreep(A=-1.0, n=5.0)
    with pytest.raises(LawInputError, match="safety"):
        NortonCreep(A=1e-40, n=5.0, safety=3.0)


def test_service_solve_accepts_a_norton_law_and_relaxes_the_bore_stress() -> None:
    # Isothermal hold at constant pressure through models.service.solve; at the end the
    # bore hoop stress lies near the stationary closed form and below Lame.
    from models.config import parse_config
    from models.materials import Material
    from models.service import solve

    n, E = 5.0, 200e9
    tau = 1.2e6  # s: 1/(E A p^(n-1)), so the 10 h hold is 0.03 tau
    A = 1.0 / (E * tau * P ** (n - 1.0))
    raw = {
        "component": {"name": "creep-header", "material": "grade91"},
        "geometry": {"inner_radius_m": A_IN, "outer_radius_m": B_OUT, "length_m": 0.01},
        "mesh": {"radial_cells": 16, "axial_cells": 1, "degree": 2},
        "thermal": {
            "bore_htc_W_m2K": 1000.0,
            "outer": "insulated",
            "initial_temperature_degC": 600.0,
        },
        "mechanical": {"end_condition": "closed", "reference_temperature_degC": 600.0},
        "loads": {
            "time_h": [0.0, 10.0],
            "fluid_temperature_degC": [600.0, 600.0],
            "pressure_MPa": [P / 1e6, P / 1e6],
        },
        "solver": {"time_step_s": 300.0},
        "output": {"field_times_h": []},
    }
    cfg = parse_config(raw)
    mat = Material.constant(E=E, nu=0.3, alpha=1.2e-5, k=25.0, rho=7800.0, cp=500.0)
    ds = solve(cfg, material=mat, fields=False, constitutive=NortonCreep(A=A, n=n))
    hoop = ds["sigma_theta"].sel(location="bore").values
    ref = stationary_creep_stresses(np.array([A_IN]), a=A_IN, b=B_OUT, pressure=P, n=n)
    lame_bore = P * (B_OUT**2 + A_IN**2) / (B_OUT**2 - A_IN**2)
    assert hoop[0] == pytest.approx(lame_bore, rel=5e-3)
    assert hoop[-1] == pytest.approx(ref["sigma_theta"][0], rel=0.03)
    assert np.all(np.diff(hoop) <= 1e-6 * lame_bore)


def test_steps_beyond_the_no_overshoot_limit_are_sub_stepped_and_never_reverse_the_stress() -> None:
    # Forward Euler on d sigma_vm/dt = -lambda sigma_vm stays monotone for dt lambda <= 1
    # (lambda = 3 mu n A sigma_vm^(n-1)); a longer step must be cut, the stress keep its
    # sign and follow the closed-form relaxation (Boyle & Spence 1983, ch. 2).
    sig = np.array([[0.0, 0.0, 100e6, 0.0]])
    mu, A, n = np.array([77e9]), np.array([1e-40]), np.array([5.0])
    lam = 3.0 * mu[0] * n[0] * A[0] * (100e6) ** (n[0] - 1.0)
    _, one = integrate_relaxation(sig, mu=mu, A=A, n=n, dt=0.9 / lam)
    d_eps, many = integrate_relaxation(sig, mu=mu, A=A, n=n, dt=50.0 / lam)
    assert one == 1
    assert many > 50
    closed = (100e6 ** (1.0 - n[0]) + (n[0] - 1.0) * 3.0 * mu[0] * A[0] * 50.0 / lam) ** (
        1.0 / (1.0 - n[0])
    )
    # uniaxial: d_eps = (-1/2, -1/2, 1, 0) d_eps_zz, so sigma_vm = sigma_0 - 3 mu d_eps_zz
    vm_after = 100e6 - 3.0 * mu[0] * d_eps[0, 2]
    assert vm_after > 0.0
    assert vm_after == pytest.approx(closed, rel=0.02)
