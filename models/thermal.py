# mypy: disable-error-code="no-untyped-call"
r"""Transient heat conduction in the axisymmetric wall, backward Euler in time.

Governing equation (no heat sources), in the r-z section :math:`\Omega`:

.. math::

    \rho c_p(T)\,\frac{\partial T}{\partial t}
        = \frac{1}{r}\frac{\partial}{\partial r}\Big(r\,k(T)\frac{\partial T}{\partial r}\Big)
        + \frac{\partial}{\partial z}\Big(k(T)\frac{\partial T}{\partial z}\Big)

with a convective (Robin) bore :math:`-k\,\partial T/\partial n = h\,(T - T_f(t))` or a
prescribed bore temperature :math:`T = T_f(t)`, an insulated, convective
(:math:`-k\,\partial T/\partial n = h_o\,(T - T_\infty)`) or prescribed
(:math:`T = T_o(t)`) outer surface, and insulated ends (symmetry planes). Prescribed
temperatures are Dirichlet conditions on the surface's nodes.
:meth:`ThermalSolver.step_steady` drops the time derivative (steady state for the
current boundary values). The weak form carries the axisymmetric weight
:math:`r` (the factor :math:`2\pi` cancels):

.. math::

    \int_\Omega \Big[\rho c_p \frac{T^{n+1} - T^n}{\Delta t}\,v
        + k\,\nabla T^{n+1}\cdot\nabla v\Big]\,r\,\mathrm{d}x
    + \int_{\Gamma_b} h\,(T^{n+1} - T_f^{n+1})\,v\,r\,\mathrm{d}s
    + \int_{\Gamma_o} h_o\,(T^{n+1} - T_\infty)\,v\,r\,\mathrm{d}s = 0 .

Temperature-dependent :math:`k` and :math:`\rho c_p` are nodal fields in the
temperature space, interpolated from the material tables at the current iterate;
the nonlinearity is resolved by Picard (fixed-point) iteration on each step, started
from a linear extrapolation in time clipped to the range the solution can reach
(:meth:`ThermalSolver.reachable_range`), with the KSP object reused across iterations and
steps: the LU factorisation of an earlier matrix preconditions conjugate gradients and
is renewed only when CG slows down (:class:`models._petsc.LaggedSolver`). With
constant properties (or properties frozen at a ``property_temperature``) the system
is linear: the matrix is assembled
once per distinct time step and its LU factorisation is reused.

References
----------
H. S. Carslaw and J. C. Jaeger, *Conduction of Heat in Solids*, 2nd ed., Oxford
University Press, 1959, chapter 7 (the cylinder).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from models._bindings import ensure_bindings
from models._petsc import StepFailure
from models.errors import ConfigError
from models.geometry import BORE, OUTER, WallMesh
from models.units import T20

__all__ = ["PicardDivergence", "ThermalSolver"]


class PicardDivergence(StepFailure):
    """The Picard iteration or the linear solve of a thermal step failed (internal)."""


def _is_constant(material: Any) -> bool:
    tables = getattr(material, "tables", None)
    if tables is None:
        return False
    return all(getattr(tables[p], "is_constant", False) for p in ("k", "rho", "cp"))


class ThermalSolver:
    """Backward-Euler transient conduction on a :class:`~models.geometry.WallMesh`.

    Parameters
    ----------
    wall : WallMesh
        Mesh with tagged boundaries.
    material : Material
        Provides ``k(T)``, ``rho(T)``, ``cp(T)`` (T in K, SI values).
    degree : int
        Lagrange degree of the temperature space.
    bore_htc : float
        Bore heat-transfer coefficient ``h`` in W/(m^2 K).
    outer_htc : float, optional
        Outer heat-transfer coefficient in W/(m^2 K); 0 for an insulated surface.
    ambient_temperature : float, optional
        Ambient temperature of the outer surface in K.
    initial_temperature : float
        Uniform initial temperature in K.
    property_temperature : float, optional
        Freeze every property at this temperature (K): a linear problem (used for
        unit responses). ``None`` evaluates the properties at the solution.
    petsc_options : mapping, optional
        PETSc options for the ``twin_thermal_`` solver (LU by default).
    rtol, atol : float, optional
        Picard stopping rule: ``max|T_k+1 - T_k| <= atol + rtol * max|T_k+1|`` (K).
    max_iterations : int, optional
        Largest number of Picard iterations per step.
    bore_condition : {"convective", "prescribed"}, optional
        Robin condition with ``bore_htc`` and the fluid temperature, or the fluid
        temperature prescribed on the bore surface (``bore_htc`` unused).
    outer_condition : {"insulated", "convective", "prescribed"}, optional
        Outer-surface condition; by default convective when ``outer_htc > 0``, else
        insulated.
    outer_temperature : float, optional
        Initial prescribed outer temperature in K (default: ``initial_temperature``);
        later values are passed to :meth:`step`.

    Attributes
    ----------
    T : dolfinx.fem.Function
        Temperature at the current time (K).
    linear : bool
        Whether the problem is linear (constant or frozen properties).
    iterations : int
        Picard iterations used by the last step.
    """

    def __init__(
        self,
        wall: WallMesh,
        *,
        material: Any,
        degree: int,
        bore_htc: float,
        outer_htc: float = 0.0,
        ambient_temperature: float = T20,
        initial_temperature: float,
        property_temperature: float | None = None,
        petsc_options: Mapping[str, Any] | None = None,
        rtol: float = 1e-9,
        atol: float = 1e-7,
        max_iterations: int = 30,
        bore_condition: Literal["convective", "prescribed"] = "convective",
        outer_condition: Literal["insulated", "convective", "prescribed"] | None = None,
        outer_temperature: float | None = None,
    ) -> None:
        ensure_bindings()
        import ufl
        from dolfinx import default_scalar_type, fem
        from dolfinx.fem import petsc as fem_petsc

        from models._petsc import LaggedSolver, create_ksp

        if bore_htc < 0.0 or outer_htc < 0.0:
            raise ConfigError(
                f"heat-transfer coefficients must be >= 0, got bore_htc={bore_htc}, "
                f"outer_htc={outer_htc} W/(m2 K); give non-negative coefficients"
            )
        if outer_condition is None:
            outer_condition = "convective" if outer_htc > 0.0 else "insulated"
        if bore_condition not in ("convective", "prescribed"):
            raise ConfigError(
                f"bore_condition: must be 'convective' or 'prescribed', got {bore_condition!r}"
            )
        if outer_condition not in ("insulated", "convective", "prescribed"):
            raise ConfigError(
                "outer_condition: must be 'insulated', 'convective' or 'prescribed', "
                f"got {outer_condition!r}"
            )
        self.bore_condition = bore_condition
        self.outer_condition = outer_condition
        self.wall = wall
        self.material = material
        self.rtol, self.atol, self.max_iterations = rtol, atol, max_iterations
        msh = wall.mesh
        self.V = fem.functionspace(msh, ("Lagrange", degree))
        self.T = fem.Function(self.V, name="temperature")
        self.T_n = fem.Function(self.V)
        self.T.x.array[:] = initial_temperature
        self.T_n.x.array[:] = initial_temperature
        self.k = fem.Function(self.V)
        self.rhocp = fem.Function(self.V)
        self.property_temperature = property_temperature
        self.linear = property_temperature is not None or _is_constant(material)
        T_props = (
            float(property_temperature) if property_temperature is not None else initial_temperature
        )
        self._update_properties(np.full(self.T.x.array.shape, T_props))

        # 1 / dt of backward Euler; 0 is the steady problem
        self.inv_dt = fem.Constant(msh, default_scalar_type(1.0))
        self.T_f = fem.Constant(msh, default_scalar_type(initial_temperature))
        self.h = fem.Constant(msh, default_scalar_type(bore_htc))
        self.h_o = fem.Constant(msh, default_scalar_type(outer_htc))
        self.T_amb = fem.Constant(msh, default_scalar_type(ambient_temperature))
        T_o0 = initial_temperature if outer_temperature is None else float(outer_temperature)
        self.T_o = fem.Constant(msh, default_scalar_type(T_o0))

        x = ufl.SpatialCoordinate(msh)
        r = x[0]
        ds = ufl.Measure("ds", domain=msh, subdomain_data=wall.facet_tags)
        dx = ufl.Measure("dx", domain=msh)
        u, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        a = (
            self.rhocp * self.inv_dt * u * v * r * dx
            + self.k * ufl.inner(ufl.grad(u), ufl.grad(v)) * r * dx
        )
        L = self.rhocp * self.inv_dt * self.T_n * v * r * dx
        if bore_condition == "convective":
            a += self.h * u * v * r * ds(BORE)
            L += self.h * self.T_f * v * r * ds(BORE)
        if outer_condition == "convective":
            a += self.h_o * u * v * r * ds(OUTER)
            L += self.h_o * self.T_amb * v * r * ds(OUTER)
        self._has_outer_convection = outer_condition == "convective"
        fdim = msh.topology.dim - 1
        self.bcs = []
        for prescribed, tag, value in (
            (bore_condition == "prescribed", BORE, self.T_f),
            (outer_condition == "prescribed", OUTER, self.T_o),
        ):
            if prescribed:
                dofs = fem.locate_dofs_topological(self.V, fdim, wall.facet_tags.find(tag))
                self.bcs.append(fem.dirichletbc(value, dofs, self.V))
        self._a = fem.form(a)
        self._L = fem.form(L)
        self.A = fem_petsc.create_matrix(self._a)
        self.b = fem_petsc.create_vector(self.V)
        if self.linear:
            self.ksp = create_ksp(msh.comm, prefix="twin_thermal_", options=petsc_options)
            self.ksp.setOperators(self.A)
            self._lagged = None
        else:
            self._lagged = LaggedSolver(msh.comm, prefix="twin_thermal_", options=petsc_options)
            self._lagged.set_operator(self.A)
            self.ksp = self._lagged.ksp
        self._assembled_dt: float | None = None
        self._T_prev: np.ndarray | None = None  # temperature one step back (predictor)
        self._dt_prev = 0.0
        self.iterations = 0
        self.timings = {"assemble": 0.0, "solve": 0.0}

    # -- properties ----------------------------------------------------------------------
    def _update_properties(self, T_nodal: np.ndarray) -> None:
        m = self.material
        self.k.x.array[:] = m.k(T_nodal)
        self.rhocp.x.array[:] = np.asarray(m.rho(T_nodal)) * np.asarray(m.cp(T_nodal))

    def set_temperature(self, values: Any) -> None:
        """Set the current and previous temperature (K) from a callable or a number."""
        if callable(values):
            self.T.interpolate(values)
        else:
            self.T.x.array[:] = float(values)
        self.T_n.x.array[:] = self.T.x.array
        self._T_prev, self._dt_prev = None, 0.0

    # -- one step ------------------------------------------------------------------------
    def _assemble_matrix(self) -> None:
        from dolfinx.fem import petsc as fem_petsc

        self.A.zeroEntries()
        fem_petsc.assemble_matrix(self.A, self._a, bcs=self.bcs)  # type: ignore[arg-type, misc]
        self.A.assemble()

    def _solve_linear(self) -> None:
        import time

        from dolfinx.fem import petsc as fem_petsc
        from petsc4py import PETSc

        t0 = time.perf_counter()
        with self.b.localForm() as loc:
            loc.set(0.0)
        fem_petsc.assemble_vector(self.b, self._L)  # type: ignore[arg-type]
        if self.bcs:
            fem_petsc.apply_lifting(self.b, [self._a], bcs=[self.bcs])
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)  # type: ignore[arg-type]
        if self.bcs:
            fem_petsc.set_bc(self.b, self.bcs)
        t1 = time.perf_counter()
        try:
            if self._lagged is not None:
                self._lagged.solve(self.b, self.T.x.petsc_vec)
            else:
                self.ksp.solve(self.b, self.T.x.petsc_vec)
        finally:
            self.T.x.scatter_forward()
            self.timings["assemble"] += t1 - t0
            self.timings["solve"] += time.perf_counter() - t1
        reason = self.ksp.getConvergedReason()
        if reason < 0:
            raise PicardDivergence(
                f"thermal linear solve failed (PETSc KSP reason {reason})",
                residual=float(self.ksp.getResidualNorm()),
            )

    def step(
        self, dt: float, fluid_temperature: float, *, outer_temperature: float | None = None
    ) -> int:
        """Advance the temperature by one backward-Euler step.

        Parameters
        ----------
        dt : float
            Time step in s (> 0).
        fluid_temperature : float
            Fluid temperature ``T_f`` at the end of the step, in K (the bore
            temperature when the bore is prescribed).
        outer_temperature : float, optional
            Prescribed outer temperature at the end of the step, in K (only with a
            prescribed outer surface; the last value is kept when omitted).

        Returns
        -------
        int
            Number of Picard iterations (1 for a linear problem).

        Raises
        ------
        PicardDivergence
            If the linear solve fails, the temperature is not finite, or the Picard
            iteration does not meet its tolerance within ``max_iterations``.
        """
        return self._advance(1.0 / dt, dt, fluid_temperature, outer_temperature)

    def step_steady(
        self, fluid_temperature: float, *, outer_temperature: float | None = None
    ) -> int:
        """Solve the steady temperature for the given boundary values (no time derivative).

        Parameters
        ----------
        fluid_temperature : float
            Fluid (or prescribed bore) temperature in K.
        outer_temperature : float, optional
            Prescribed outer temperature in K (prescribed outer surface only).

        Returns
        -------
        int
            Number of Picard iterations, started from the current temperature.

        Raises
        ------
        PicardDivergence
            As :meth:`step`.
        """
        self._T_prev, self._dt_prev = None, 0.0  # no predictor across steady states
        return self._advance(0.0, math.inf, fluid_temperature, outer_temperature)

    def _advance(
        self, inv_dt: float, dt: float, fluid_temperature: float, outer_temperature: float | None
    ) -> int:
        import time

        self.inv_dt.value = inv_dt  # type: ignore[assignment]
        self.T_f.value = fluid_temperature  # type: ignore[assignment]
        if outer_temperature is not None:
            self.T_o.value = outer_temperature  # type: ignore[assignment]
        self.T_n.x.array[:] = self.T.x.array
        if self.linear:
            if self._assembled_dt != inv_dt:
                t0 = time.perf_counter()
                self._assemble_matrix()
                self.timings["assemble"] += time.perf_counter() - t0
                self._assembled_dt = inv_dt
            self._solve_linear()
            self._check_finite(math.nan)
            self.iterations = 1
            return 1
        increment = math.inf
        T_n = self.T_n.x.array.copy()
        if self._T_prev is not None and self._dt_prev > 0.0 and math.isfinite(dt):
            # linear extrapolation in time as the first Picard iterate (predictor),
            # kept inside the range the solution can reach (maximum principle)
            lo, hi = self.reachable_range(T_n)
            predictor = T_n + (T_n - self._T_prev) * (dt / self._dt_prev)
            self.T.x.array[:] = np.clip(predictor, lo, hi)
        if math.isfinite(dt):
            self._T_prev, self._dt_prev = T_n, dt
        for it in range(1, self.max_iterations + 1):
            previous = self.T.x.array.copy()
            t0 = time.perf_counter()
            self._update_properties(previous)
            self._assemble_matrix()
            self.timings["assemble"] += time.perf_counter() - t0
            self._solve_linear()
            self._check_finite(increment)
            increment = float(np.max(np.abs(self.T.x.array - previous)))
            if increment <= self.atol + self.rtol * float(np.max(np.abs(self.T.x.array))):
                self.iterations = it
                return it
        raise PicardDivergence(
            f"Picard iteration did not converge in {self.max_iterations} iterations "
            f"(last temperature increment {increment:.3e} K)",
            residual=increment,
        )

    def reachable_range(self, T_now: np.ndarray) -> tuple[float, float]:
        """Range ``(T_lo, T_hi)`` in K the temperature can reach over the next step.

        Without heat sources the temperature stays between the lowest and the highest
        of the current metal temperatures and the temperatures the boundaries impose
        (fluid, ambient when the outer surface is convective, the prescribed outer
        temperature); the Picard predictor is
        clipped to it, so a long step does not start from an extrapolation beyond the
        material data.

        Parameters
        ----------
        T_now : numpy.ndarray
            Current nodal temperatures in K.

        Returns
        -------
        tuple of float
        """
        bounds = [float(np.min(T_now)), float(np.max(T_now)), float(self.T_f.value)]
        if self._has_outer_convection:
            bounds.append(float(self.T_amb.value))
        if self.outer_condition == "prescribed":
            bounds.append(float(self.T_o.value))
        return (min(bounds), max(bounds))

    def _check_finite(self, residual: float) -> None:
        if not np.all(np.isfinite(self.T.x.array)):
            raise PicardDivergence("temperature became non-finite", residual=residual)
