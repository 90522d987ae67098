# mypy: disable-error-code="no-untyped-call"
r"""Norton creep with stress relaxation as a constitutive law of :mod:`models.mechanical`.

Small strains, additive split :math:`\varepsilon = \varepsilon_e + \varepsilon_{th}
+ \varepsilon_{cr}`, Hooke's law on :math:`\varepsilon_e` (as
:class:`~models.mechanical.ThermoElastic`) and von Mises (Odqvist) flow with a Norton
rate:

.. math::

    \dot\varepsilon_{cr} = \tfrac32\,A(T)\,\sigma_{vm}^{\,n(T)-1}\,s,\qquad
    s = \sigma - \tfrac13\mathrm{tr}(\sigma) I,\qquad
    \sigma_{vm} = \sqrt{\tfrac32\, s:s},

so that under uniaxial stress :math:`\dot\varepsilon = A\sigma^n` (``A`` in
1/s/Pa^n). The creep strain (4-vector ``rr, theta theta, zz, rz``, tensor shear) is a
discontinuous Lagrange (DG) field; its nodes are the integration points of the update.

Time integration (:meth:`NortonCreepLaw.update`, called by the solver after each
converged step): forward Euler of the creep strain with the rate at the converged
stress. The criterion is the linearised relaxation rate of a fully constrained point,

.. math::

    \lambda = 3\mu\, n\, A\, \sigma_{vm}^{\,n-1}
    \qquad\big(\dot\sigma_{vm} = -3\mu A\,\sigma_{vm}^n \text{ at frozen total strain}\big),

an upper bound of a structure's redistribution rate (it is of the order
:math:`n E A \sigma^{n-1}`). Node by node:

* ``dt * lambda <= whole_step`` (1 by default, the no-overshoot limit; forward Euler
  is stable up to 2): one plain Euler step. Its fixed point under constant load is
  the exact stationary creep state.
* longer steps are cut into sub-steps :math:`\Delta t_{sub} = c/\lambda` at *frozen
  total strain*, the stress falling with the creep strain as
  :math:`\sigma = \sigma_0 - 2\mu\,\Delta\varepsilon_{cr}` (creep strain is
  deviatoric); ``c = safety`` (0.05 by default: about 1 % error in the relaxed stress
  after five relaxation times for n >= 3). This is stable for any step, but the
  redistribution within the step waits for the next equilibrium solve, which biases
  the stress (3-9 % off the stationary bore and outer hoop stresses for steps 2-20
  times the limit in the thick-tube case of :mod:`models.verification.creep`, against
  0.14 % within it): keep ``dt`` below about ``1/lambda`` where accuracy matters.

References
----------
F. K. G. Odqvist, *Mathematical Theory of Creep and Creep Rupture*, Clarendon, 1966.
H. Kraus, *Creep Analysis*, Wiley, 1980, ch. 3 (stationary creep of a thick tube).
J. T. Boyle and J. Spence, *Stress Analysis for Creep*, Butterworths, 1983, ch. 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models._petsc import StepFailure
from models.errors import LawInputError

__all__ = ["NortonCreep", "NortonCreepLaw", "integrate_relaxation", "stationary_creep_stresses"]

#: ``A(T)`` (1/s/Pa^n) or ``n(T)`` (1): a constant or a vectorised callable of T (K).
Parameter = float | Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _check_parameter(name: str, value: Parameter) -> None:
    if callable(value):
        return
    if not (math.isfinite(float(value)) and float(value) > 0.0):
        raise LawInputError(
            f"{name}: must be finite and > 0 (or a callable of temperature); got {value!r}. "
            "Check the Norton constants."
        )


def _evaluate(value: Parameter, T: NDArray[np.float64]) -> NDArray[np.float64]:
    if callable(value):
        return np.broadcast_to(np.asarray(value(T), dtype=np.float64), T.shape)
    return np.full(T.shape, float(value))


@dataclass(frozen=True)
class NortonCreep:
    """Norton creep parameters; calling it with ``(E, nu)`` builds the constitutive law.

    Pass an instance as ``constitutive=`` to :class:`~models.mechanical.MechanicalSolver`
    or :func:`models.service.solve`.

    Attributes
    ----------
    A : float or callable
        Norton pre-factor (1/s/Pa^n), or ``A(T)`` of an array of temperatures (K).
    n : float or callable
        Norton exponent (1), or ``n(T)``.
    degree : int
        Degree of the DG creep-strain field (>= 0).
    safety : float
        Safety factor ``c`` of the sub-step (0 < c <= 1).
    whole_step : float
        Steps with ``dt * lambda <= whole_step`` stay one plain Euler step
        (0 <= value <= 1; see the module docstring).
    max_substeps : int
        Largest number of sub-steps of one node in one update.
    """

    A: Parameter
    n: Parameter
    degree: int = 1
    safety: float = 0.05
    whole_step: float = 1.0
    max_substeps: int = 100_000

    def __post_init__(self) -> None:
        _check_parameter("A", self.A)
        _check_parameter("n", self.n)
        if self.degree < 0:
            raise LawInputError(f"degree: must be >= 0; got {self.degree!r}.")
        if not 0.0 < self.safety <= 1.0:
            raise LawInputError(
                f"safety: must lie in (0, 1] for a monotone explicit step; got {self.safety!r}."
            )
        if not 0.0 <= self.whole_step <= 1.0:
            raise LawInputError(
                f"whole_step: must lie in [0, 1] (no overshoot); got {self.whole_step!r}."
            )
        if self.max_substeps < 1:
            raise LawInputError(f"max_substeps: must be >= 1; got {self.max_substeps!r}.")

    @classmethod
    def from_life_data(cls, material: str, **kwargs: Any) -> NortonCreep:
        r"""Norton constants from the material's minimum-creep-rate law.

        The Kocks-Mecking rate of :func:`models.life.creep.creep_rate_law` is a Norton
        law :math:`A(T)\sigma^{n(T)}` with :math:`n = C_1 A_{KM}` and
        :math:`A = \dot\varepsilon_0 e^{C_1 B_{KM}} G^{-n}` (see
        :class:`~models.life.creep.KocksMeckingCreep`); no range checks are applied.

        Parameters
        ----------
        material : str
            Material key (e.g. ``"grade91"``).
        **kwargs
            Further fields (``degree``, ``safety``, ``max_substeps``).
        """
        from models.life.creep import creep_rate_law

        law = creep_rate_law(material)

        def exponent(T: NDArray[np.float64]) -> NDArray[np.float64]:
            return law.exponent(T)

        def prefactor(T: NDArray[np.float64]) -> NDArray[np.float64]:
            G = np.interp(T, law.temperature_table, law.modulus_table) / (2.0 * (1.0 + law.nu))
            c1 = -G * law.b**3 / (law.boltzmann * T)
            n = c1 * law.A
            return np.asarray(law.eps0 * np.exp(c1 * law.B) * G ** (-n), dtype=np.float64)

        return cls(A=prefactor, n=exponent, **kwargs)

    def __call__(self, E: Any, nu: Any) -> NortonCreepLaw:
        """Build the law on the mesh of the property fields ``E`` (Pa) and ``nu``."""
        return NortonCreepLaw(E, nu, parameters=self)


class NortonCreepLaw:
    """Thermo-elasticity plus Norton creep strain carried on a DG field.

    Parameters
    ----------
    E, nu : dolfinx.fem.Function
        Young's modulus (Pa) and Poisson's ratio fields (from the mechanical solver).
    parameters : NortonCreep
        Norton constants and integration settings.

    Attributes
    ----------
    eps_cr : dolfinx.fem.Function
        Creep strain 4-vector ``(rr, tt, zz, rz)`` (1), DG of ``parameters.degree``.
    inelastic_strain : dolfinx.fem.Function
        The same field (the hook of :class:`~models.mechanical.ConstitutiveLaw`).
    substeps : int
        Largest number of sub-steps a node took in the last update.
    """

    def __init__(self, E: Any, nu: Any, *, parameters: NortonCreep) -> None:
        import basix.ufl
        from dolfinx import fem

        from models.mechanical import ThermoElastic

        self.E = E
        self.nu = nu
        self.parameters = parameters
        self._elastic = ThermoElastic(E, nu)
        msh = E.function_space.mesh
        self._mesh = msh
        element = basix.ufl.element(
            "DG", msh.basix_cell(), parameters.degree, shape=(4,), discontinuous=True
        )
        self.space = fem.functionspace(msh, element)
        self.eps_cr = fem.Function(self.space, name="creep_strain")
        self.inelastic_strain: Any = self.eps_cr
        n_cells = msh.topology.index_map(msh.topology.dim).size_local
        self._cells = np.arange(n_cells, dtype=np.int32)
        self._order = np.asarray(self.space.dofmap.list[:n_cells], dtype=np.int64).ravel()
        self._expr: Any = None
        self._expr_key: tuple[int, int] | None = None
        self.substeps = 0

    def stress(self, eps_e: Any) -> Any:
        """Hooke's law for the 4-vector ``(rr, tt, zz, rz)`` of elastic strain."""
        return self._elastic.stress(eps_e)

    def _nodal_state(self, stress: Any, temperature: Any) -> NDArray[np.float64]:
        """Stress (4), shear modulus and temperature at the DG nodes, shape ``(N, 6)``."""
        import ufl
        from dolfinx import fem

        key = (id(stress), id(temperature))
        if self._expr is None or self._expr_key != key:
            mu = self.E / (2.0 * (1.0 + self.nu))
            data = ufl.as_vector([stress[0], stress[1], stress[2], stress[3], mu, temperature])
            points = self.space.element.interpolation_points
            self._expr = fem.Expression(data, points)
            self._expr_key = key
        values = self._expr.eval(self._mesh, self._cells)
        return np.asarray(values, dtype=np.float64).reshape(-1, 6)

    def update(self, dt: float, *, stress: Any, temperature: Any) -> None:
        """Advance the creep strain over ``dt`` (s) from the converged ``stress``.

        Parameters
        ----------
        dt : float
            Step length in s (>= 0).
        stress : ufl expression
            Stress 4-vector (Pa) of the converged step.
        temperature : dolfinx.fem.Function
            Temperature field (K).

        Raises
        ------
        models._petsc.StepFailure
            If a node needs more than ``max_substeps`` sub-steps (the service turns it
            into :class:`~models.errors.SolverDivergedError`).
        """
        if not (math.isfinite(dt) and dt >= 0.0):
            raise LawInputError(f"dt: must be finite and >= 0 s; got {dt!r}.")
        if dt == 0.0:
            return
        state = self._nodal_state(stress, temperature)
        sig = state[:, :4].copy()
        mu = state[:, 4]
        T = state[:, 5]
        A = _evaluate(self.parameters.A, T)
        n = _evaluate(self.parameters.n, T)
        d_eps, count = integrate_relaxation(
            sig, mu=mu, A=A, n=n, dt=dt, safety=self.parameters.safety,
            whole_step=self.parameters.whole_step, max_substeps=self.parameters.max_substeps,
        )  # fmt: skip
        self.substeps = count
        values = self.eps_cr.x.array.reshape(-1, 4)
        values[self._order] += d_eps
        self.eps_cr.x.scatter_forward()


def _rate(sig: NDArray[np.float64], A: NDArray[np.float64], n: NDArray[np.float64]) -> Any:
    """Norton rate 4-vector and von Mises stress for stress rows ``(rr, tt, zz, rz)``."""
    mean = sig[:, :3].sum(axis=1) / 3.0
    s = sig.copy()
    s[:, :3] -= mean[:, None]
    vm = np.sqrt(1.5 * ((s[:, :3] ** 2).sum(axis=1) + 2.0 * s[:, 3] ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(vm > 0.0, 1.5 * A * vm ** (n - 1.0), 0.0)
    return factor[:, None] * s, vm


def integrate_relaxation(
    sig: NDArray[np.float64],
    *,
    mu: NDArray[np.float64],
    A: NDArray[np.float64],
    n: NDArray[np.float64],
    dt: float,
    safety: float = 0.05,
    whole_step: float = 1.0,
    max_substeps: int = 100_000,
) -> tuple[NDArray[np.float64], int]:
    """Forward-Euler creep strain increment over ``dt`` with stable sub-steps.

    Parameters
    ----------
    sig : ndarray, shape (N, 4)
        Stress rows ``(rr, tt, zz, rz)`` (Pa) at the start of the step.
    mu, A, n : ndarray, shape (N,)
        Shear modulus (Pa), Norton pre-factor (1/s/Pa^n) and exponent per row.
    dt : float
        Step (s).
    safety : float
        Sub-step factor ``c`` (see the module docstring).
    whole_step : float
        Rows with ``dt * lambda <= whole_step`` take ``dt`` as one plain Euler step.
    max_substeps : int
        Largest number of sub-steps per row.

    Returns
    -------
    d_eps : ndarray, shape (N, 4)
        Creep strain increment (1).
    substeps : int
        Largest number of sub-steps a row took.
    """
    sig = np.array(sig, dtype=np.float64)
    d_eps = np.zeros_like(sig)
    left = np.full(sig.shape[0], float(dt))
    count = 0
    active = left > 0.0
    while np.any(active):
        count += 1
        if count > max_substeps:
            raise StepFailure(
                f"Norton creep update: more than max_substeps={max_substeps} sub-steps for "
                f"dt = {dt:.6g} s; raise max_substeps or shorten the time step",
                residual=math.nan,
            )
        idx = np.flatnonzero(active)
        rate, vm = _rate(sig[idx], A[idx], n[idx])
        stiff = 3.0 * mu[idx] * n[idx] * A[idx] * vm ** (n[idx] - 1.0)
        with np.errstate(divide="ignore"):
            h = np.where(stiff > 0.0, safety / stiff, np.inf)
        if count == 1:  # a step within the no-overshoot limit stays one plain Euler step
            h = np.where(left[idx] * stiff <= whole_step, left[idx], h)
        h = np.minimum(h, left[idx])
        inc = rate * h[:, None]
        d_eps[idx] += inc
        sig[idx] -= 2.0 * mu[idx, None] * inc  # frozen total strain, deviatoric creep
        left[idx] -= h
        active = left > 1e-12 * dt
    return d_eps, count


def stationary_creep_stresses(
    r: NDArray[np.float64], *, a: float, b: float, pressure: float, n: float
) -> dict[str, NDArray[np.float64]]:
    r"""Stationary Norton-creep stresses of a closed-end thick tube under internal pressure.

    With :math:`m = 2/n` and :math:`\beta = (b/a)^m`:

    .. math::

        \sigma_r = -p\,\frac{(b/r)^m - 1}{\beta - 1},\quad
        \sigma_\theta = p\,\frac{1 + (m-1)(b/r)^m}{\beta - 1},\quad
        \sigma_z = p\,\frac{1 + (m/2-1)(b/r)^m}{\beta - 1}.

    Derivation: in the stationary state the elastic strain is constant, so the strain
    rate is the creep rate: incompressible with :math:`\dot\varepsilon_z = 0`, hence
    :math:`\dot u = C/r`, :math:`\dot\varepsilon_\theta = -\dot\varepsilon_r = C/r^2`,
    :math:`s_z = 0` (:math:`\sigma_z` is the mean of :math:`\sigma_r, \sigma_\theta`)
    and the flow rule gives :math:`\sigma_\theta - \sigma_r \propto r^{-2/n}`;
    equilibrium :math:`d\sigma_r/dr = (\sigma_\theta - \sigma_r)/r` with
    :math:`\sigma_r(a) = -p`, :math:`\sigma_r(b) = 0` fixes the constants. ``n = 1``
    gives Lamé; the axial force equals :math:`p\pi a^2` (closed ends). Kraus, *Creep
    Analysis* (1980), ch. 3; Boyle and Spence, *Stress Analysis for Creep* (1983), ch. 3.

    Parameters
    ----------
    r : ndarray
        Radii (m), ``a <= r <= b``.
    a, b : float
        Inner and outer radius (m).
    pressure : float
        Internal pressure (Pa).
    n : float
        Norton exponent.

    Returns
    -------
    dict
        ``sigma_r``, ``sigma_theta``, ``sigma_z`` (Pa).
    """
    m = 2.0 / n
    beta = (b / a) ** m
    x = (b / np.asarray(r, dtype=np.float64)) ** m
    return {
        "sigma_r": -pressure * (x - 1.0) / (beta - 1.0),
        "sigma_theta": pressure * (1.0 + (m - 1.0) * x) / (beta - 1.0),
        "sigma_z": pressure * (1.0 + (0.5 * m - 1.0) * x) / (beta - 1.0),
    }
