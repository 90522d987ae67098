# mypy: disable-error-code="no-untyped-call"
r"""Axisymmetric thermo-elasticity of the wall slice with the generalised plane-strain condition.

Displacement :math:`\mathbf u = (u_r, u_z)` on the r-z section. Strains (Voigt order
``rr, theta theta, zz, rz``; the shear entry is the tensor component):

.. math::

    \varepsilon = \Big(\frac{\partial u_r}{\partial r},\ \frac{u_r}{r},\
        \frac{\partial u_z}{\partial z},\
        \tfrac12\Big(\frac{\partial u_r}{\partial z} + \frac{\partial u_z}{\partial r}\Big)\Big)

and the stress follows from a replaceable constitutive law
(:class:`ThermoElastic` here: :math:`\sigma = \lambda\,\mathrm{tr}(\varepsilon_e)\,I
+ 2\mu\,\varepsilon_e` with :math:`\varepsilon_e = \varepsilon - \varepsilon_{th} I
- \varepsilon_{in}`, ``E(T)`` and ``nu(T)`` nodal fields). Equilibrium, weighted by
:math:`r`:

.. math::

    \int_\Omega \sigma(\mathbf u) : \varepsilon(\mathbf v)\, r\,\mathrm{d}x
        = \int_{\Gamma_b} p\, v_r\, r\,\mathrm{d}s .

Axial condition (long pipe, generalised plane strain): :math:`u_z = 0` on the lower
end and :math:`u_z = \varepsilon_z L` on the upper end with a uniform unknown
:math:`\varepsilon_z`. Because the problem is linear in :math:`\varepsilon_z`, it is
found by superposing two solves with one factorisation: solution A with
:math:`\varepsilon_z = 0` and all loads, solution B with :math:`\varepsilon_z = 1`
and no load; :math:`\varepsilon_z = (N_\mathrm{target} - N_A) / N_B` with the axial
force :math:`N = 2\pi \int \sigma_{zz} r\,\mathrm d r` and
:math:`N_\mathrm{target} = p\pi a^2` (closed ends), 0 (open ends) or
:math:`\varepsilon_z = 0` (plane strain).

The constitutive law is an object with ``stress(eps_e)`` (a UFL expression),
``inelastic_strain`` (a UFL 4-vector or ``None``) and
``update(dt, *, stress, temperature)``, called after each converged step with the UFL
stress of that step and the temperature field; a Norton creep law
(:math:`\dot\varepsilon_{cr} = \tfrac32 A(T)\,\sigma_{vm}^{n-1} s`) can carry its creep
strain as a DG or quadrature field, advance it there (explicit or implicit Euler) and
so relax the stress, without changing the callers.

References
----------
S. P. Timoshenko and J. N. Goodier, *Theory of Elasticity*, 3rd ed., McGraw-Hill, 1970,
ch. 4 (thick cylinder under pressure) and ch. 13 (thermal stresses in a long cylinder).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import numpy as np

from models._bindings import ensure_bindings
from models._petsc import StepFailure
from models.errors import ConfigError
from models.geometry import BORE, BOTTOM, TOP, WallMesh

__all__ = ["OUTPUTS", "ConstitutiveLaw", "MechanicalSolver", "ThermoElastic"]

#: Components of :attr:`MechanicalSolver.outputs`, in order (name, unit).
OUTPUTS: tuple[tuple[str, str], ...] = (
    ("sigma_r", "Pa"),
    ("sigma_theta", "Pa"),
    ("sigma_z", "Pa"),
    ("sigma_vm", "Pa"),
    ("eps_r", "1"),
    ("eps_theta", "1"),
    ("eps_z", "1"),
    ("eps_th", "1"),
)


class ConstitutiveLaw(Protocol):
    """What the mechanical solver needs from a constitutive law."""

    inelastic_strain: Any

    def stress(self, eps_e: Any) -> Any:
        """Return the stress 4-vector (UFL) for an elastic strain 4-vector."""
        ...

    def update(self, dt: float, *, stress: Any, temperature: Any) -> None:
        """Advance internal variables after a converged step of length ``dt`` (s).

        ``stress`` is the UFL stress 4-vector of the converged step, ``temperature``
        the temperature field (K).
        """
        ...


class ThermoElastic:
    """Isotropic linear elasticity with temperature-dependent ``E`` and ``nu``.

    Parameters
    ----------
    E, nu : dolfinx.fem.Function or ufl expression
        Young's modulus (Pa) and Poisson's ratio fields.
    """

    #: No inelastic strain: pure thermo-elasticity.
    inelastic_strain: Any = None

    def __init__(self, E: Any, nu: Any) -> None:
        self.E = E
        self.nu = nu

    def stress(self, eps_e: Any) -> Any:
        """Hooke's law for the 4-vector ``(rr, tt, zz, rz)`` of elastic strain."""
        import ufl

        lam = self.E * self.nu / ((1.0 + self.nu) * (1.0 - 2.0 * self.nu))
        mu = self.E / (2.0 * (1.0 + self.nu))
        tr = eps_e[0] + eps_e[1] + eps_e[2]
        return ufl.as_vector(
            [
                lam * tr + 2.0 * mu * eps_e[0],
                lam * tr + 2.0 * mu * eps_e[1],
                lam * tr + 2.0 * mu * eps_e[2],
                2.0 * mu * eps_e[3],
            ]
        )

    def update(self, dt: float, *, stress: Any, temperature: Any) -> None:
        """Nothing to advance for an elastic law."""


def _strain(u: Any, r: Any) -> Any:
    import ufl

    return ufl.as_vector([u[0].dx(0), u[0] / r, u[1].dx(1), 0.5 * (u[0].dx(1) + u[1].dx(0))])


def _contract(s: Any, e: Any) -> Any:
    """``s : e`` for symmetric tensors in the 4-vector layout (shear counted twice)."""
    return s[0] * e[0] + s[1] * e[1] + s[2] * e[2] + 2.0 * s[3] * e[3]


class MechanicalSolver:
    """Quasi-static axisymmetric thermo-elastic solve on a :class:`WallMesh`.

    Parameters
    ----------
    wall : WallMesh
        Mesh with tagged boundaries.
    temperature : dolfinx.fem.Function
        Temperature field (K) from :class:`~models.thermal.ThermalSolver`; its space
        carries the nodal property fields.
    material : Material
        Provides ``E(T)``, ``nu(T)``, ``thermal_strain(T, T_ref)``.
    degree : int
        Lagrange degree of the displacement.
    reference_temperature : float
        Stress-free temperature in K.
    end_condition : {"closed", "open", "plane_strain"}
        Axial condition (see the module docstring).
    property_temperature : float, optional
        Freeze ``E``, ``nu`` and the instantaneous expansion coefficient at this
        temperature (K): linear thermo-elasticity in the temperature *change*
        ``T - reference_temperature``.
    constitutive : callable, optional
        ``constitutive(E, nu) -> ConstitutiveLaw``; :class:`ThermoElastic` by default.
    petsc_options : mapping, optional
        PETSc options of the ``twin_mech_`` solver (LU by default).

    Attributes
    ----------
    u : dolfinx.fem.Function
        Displacement (m) of the last solve.
    eps_z : float
        Uniform axial strain of the last solve.
    outputs : dolfinx.fem.Function
        Discontinuous field with the components listed in :data:`OUTPUTS`
        (filled by :meth:`compute_outputs`).
    """

    def __init__(
        self,
        wall: WallMesh,
        *,
        temperature: Any,
        material: Any,
        degree: int,
        reference_temperature: float,
        end_condition: Literal["closed", "open", "plane_strain"] = "closed",
        property_temperature: float | None = None,
        constitutive: Any = None,
        petsc_options: Mapping[str, Any] | None = None,
    ) -> None:
        ensure_bindings()
        import basix.ufl
        import ufl
        from dolfinx import default_scalar_type, fem
        from dolfinx.fem import petsc as fem_petsc

        from models._petsc import LaggedSolver, create_ksp

        if end_condition not in ("closed", "open", "plane_strain"):
            raise ConfigError(
                f"end_condition: must be 'closed', 'open' or 'plane_strain', got {end_condition!r}"
            )
        self.wall = wall
        self.material = material
        self.end_condition = end_condition
        self.reference_temperature = float(reference_temperature)
        self.property_temperature = property_temperature
        self.T = temperature
        msh = wall.mesh
        VT = temperature.function_space
        self.E = fem.Function(VT)
        self.nu = fem.Function(VT)
        self.eps_th = fem.Function(VT)
        tables = getattr(material, "tables", None)
        self.constant_elastic = property_temperature is not None or (
            tables is not None and all(tables[p].is_constant for p in ("E", "nu"))
        )
        if property_temperature is not None:
            Tp = float(property_temperature)
            d = 0.5
            self._alpha_inst = float(material.thermal_strain(Tp + d, Tp - d) / (2.0 * d))
            self.E.x.array[:] = material.E(Tp)
            self.nu.x.array[:] = material.nu(Tp)
        else:
            self._alpha_inst = math.nan
        self._update_properties()

        gdim = msh.geometry.dim
        self.V = fem.functionspace(msh, ("Lagrange", degree, (gdim,)))
        self.u = fem.Function(self.V, name="displacement")
        self.u_A = fem.Function(self.V)
        self.u_B = fem.Function(self.V)
        self.law = (constitutive or ThermoElastic)(self.E, self.nu)

        x = ufl.SpatialCoordinate(msh)
        r = x[0]
        ds = ufl.Measure("ds", domain=msh, subdomain_data=wall.facet_tags)
        # The rational Lame coefficients of E(T), nu(T) make UFL's degree estimate ~15;
        # 2p + 2 integrates the polynomial part of the stiffness exactly per direction.
        dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": 2 * degree + 2})
        w, v = ufl.TrialFunction(self.V), ufl.TestFunction(self.V)
        self.p = fem.Constant(msh, default_scalar_type(0.0))
        eth = ufl.as_vector([self.eps_th, self.eps_th, self.eps_th, 0.0])
        eps_free = eth if self.law.inelastic_strain is None else eth + self.law.inelastic_strain
        sig = self.law.stress
        self._a = fem.form(_contract(sig(_strain(w, r)), _strain(v, r)) * r * dx)
        self._L = fem.form(
            _contract(sig(eps_free), _strain(v, r)) * r * dx + self.p * v[0] * r * ds(BORE)
        )
        self._zero_L = fem.form(ufl.inner(fem.Constant(msh, np.zeros(gdim)), v) * dx)

        # u_z = 0 at the bottom, u_z = top_value at the top (1 * L for solution B)
        fdim = msh.topology.dim - 1
        Vz = self.V.sub(1)
        bottom = wall.facet_tags.find(BOTTOM)
        top = wall.facet_tags.find(TOP)
        dofs_b = fem.locate_dofs_topological(Vz, fdim, bottom)
        dofs_t = fem.locate_dofs_topological(Vz, fdim, top)
        self._top_value = fem.Constant(msh, default_scalar_type(0.0))
        self._bcs = [
            fem.dirichletbc(default_scalar_type(0.0), dofs_b, Vz),  # type: ignore[arg-type]
            fem.dirichletbc(self._top_value, dofs_t, Vz),
        ]
        length = wall.length
        self._N_full = fem.form(
            2.0 * math.pi / length * sig(_strain(self.u_A, r) - eps_free)[2] * r * dx
        )
        self._N_unit = fem.form(2.0 * math.pi / length * sig(_strain(self.u_B, r))[2] * r * dx)

        # output field: stresses, total strains, thermal strain
        eps_tot = _strain(self.u, r)
        s = sig(eps_tot - eps_free)
        self.stress = s  # UFL stress 4-vector (rr, tt, zz, rz) of the current solution
        vm = ufl.sqrt(
            0.5 * ((s[0] - s[1]) ** 2 + (s[1] - s[2]) ** 2 + (s[2] - s[0]) ** 2) + 3.0 * s[3] ** 2
        )
        out = ufl.as_vector([s[0], s[1], s[2], vm, eps_tot[0], eps_tot[1], eps_tot[2], self.eps_th])
        element = basix.ufl.element("DG", msh.basix_cell(), degree, shape=(len(OUTPUTS),))
        self.W = fem.functionspace(msh, element)
        self.outputs = fem.Function(self.W, name="outputs")
        self._out_expr = fem.Expression(out, self.W.element.interpolation_points)

        self.A = fem_petsc.create_matrix(self._a)
        self.b = fem_petsc.create_vector(self.V)
        if self.constant_elastic:
            self.ksp = create_ksp(msh.comm, prefix="twin_mech_", options=petsc_options)
            self.ksp.setOperators(self.A)
            self._lagged = None
        else:  # E(T), nu(T): lagged LU preconditioner, refactorised when CG slows down
            self._lagged = LaggedSolver(msh.comm, prefix="twin_mech_", options=petsc_options)
            self._lagged.set_operator(self.A)
            self.ksp = self._lagged.ksp
        self._matrix_ready = False
        self._N_B = math.nan
        self.eps_z = 0.0
        self.timings = {"assemble": 0.0, "solve": 0.0}

    # ----------------------------------------------------------------------------------
    def _update_properties(self) -> None:
        T = self.T.x.array
        if self.property_temperature is not None:
            self.eps_th.x.array[:] = self._alpha_inst * (T - self.reference_temperature)
            return
        m = self.material
        self.E.x.array[:] = m.E(T)
        self.nu.x.array[:] = m.nu(T)
        self.eps_th.x.array[:] = m.thermal_strain(T, self.reference_temperature)

    def _solve_into(self, target: Any, L: Any, top_value: float) -> None:
        from dolfinx.fem import petsc as fem_petsc
        from petsc4py import PETSc

        t0 = time.perf_counter()
        self._top_value.value = top_value  # type: ignore[assignment]
        with self.b.localForm() as loc:
            loc.set(0.0)
        fem_petsc.assemble_vector(self.b, L)  # type: ignore[arg-type]
        fem_petsc.apply_lifting(self.b, [self._a], bcs=[self._bcs])
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)  # type: ignore[arg-type]
        fem_petsc.set_bc(self.b, self._bcs)
        t1 = time.perf_counter()
        if self._lagged is not None:
            self._lagged.solve(self.b, target.x.petsc_vec)
        else:
            self.ksp.solve(self.b, target.x.petsc_vec)
        target.x.scatter_forward()
        self.timings["assemble"] += t1 - t0
        self.timings["solve"] += time.perf_counter() - t1
        reason = self.ksp.getConvergedReason()
        if reason < 0:
            raise StepFailure(
                f"mechanical linear solve failed (PETSc KSP reason {reason})",
                residual=float(self.ksp.getResidualNorm()),
            )

    def solve(self, pressure: float) -> float:
        """Solve for the displacement at the current temperature and bore pressure.

        Parameters
        ----------
        pressure : float
            Internal pressure in Pa.

        Returns
        -------
        float
            The uniform axial strain ``eps_z``.
        """
        from dolfinx import fem
        from dolfinx.fem import petsc as fem_petsc

        self._update_properties()
        if not (self._matrix_ready and self.constant_elastic):
            t0 = time.perf_counter()
            self.A.zeroEntries()
            fem_petsc.assemble_matrix(self.A, self._a, bcs=self._bcs)  # type: ignore[arg-type, misc]
            self.A.assemble()
            self.timings["assemble"] += time.perf_counter() - t0
            self._matrix_ready = False
        self.p.value = pressure  # type: ignore[assignment]
        L = self.wall.length
        self._solve_into(self.u_A, self._L, 0.0)
        if self.end_condition == "plane_strain":
            eps_z = 0.0
        else:
            if not self._matrix_ready:
                self._solve_into(self.u_B, self._zero_L, L)
                self._N_B = float(fem.assemble_scalar(self._N_unit).real)
            N_A = float(fem.assemble_scalar(self._N_full).real)
            a = self.wall.inner_radius
            target = pressure * math.pi * a * a if self.end_condition == "closed" else 0.0
            eps_z = (target - N_A) / self._N_B
        self._matrix_ready = True
        self.u.x.array[:] = self.u_A.x.array + eps_z * self.u_B.x.array
        self.eps_z = float(eps_z)
        return self.eps_z

    def compute_outputs(self) -> Any:
        """Fill and return :attr:`outputs` (stresses, strains) from the last solve."""
        self.outputs.interpolate(self._out_expr)
        return self.outputs

    def update(self, dt: float) -> None:
        """Advance the constitutive law's internal variables after a converged step."""
        self.law.update(dt, stress=self.stress, temperature=self.T)
