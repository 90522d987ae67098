"""Small PETSc helpers shared by the thermal and mechanical solvers (private)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models._bindings import ensure_bindings

__all__ = ["LaggedSolver", "StepFailure", "create_ksp"]


class StepFailure(RuntimeError):
    """A linear or nonlinear solve of one step failed (internal; carries the residual).

    The service translates it into :class:`models.errors.SolverDivergedError` with
    the step, the time and the partial results.
    """

    def __init__(self, message: str, *, residual: float) -> None:
        super().__init__(message)
        self.residual = residual


_DEFAULTS: dict[str, str] = {"ksp_type": "preonly", "pc_type": "lu"}


def create_ksp(comm: Any, *, prefix: str, options: Mapping[str, Any] | None) -> Any:
    """Create a KSP whose options come from ``options`` under a unique ``prefix``.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm
        Communicator of the mesh.
    prefix : str
        Options prefix (e.g. ``"twin_thermal_"``); one per solver.
    options : mapping, optional
        PETSc options without prefix; a direct LU solve when empty.

    Returns
    -------
    petsc4py.PETSc.KSP
    """
    ensure_bindings()
    from petsc4py import PETSc

    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix(prefix)
    opts = PETSc.Options()
    merged = dict(_DEFAULTS)
    merged.update(dict(options or {}))
    for key, value in merged.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        opts[f"{prefix}{key}"] = value  # type: ignore[index]
    ksp.setFromOptions()
    for key in merged:
        opts.delValue(f"{prefix}{key}")
    return ksp


class LaggedSolver:
    """Solve a sequence of slowly changing SPD systems with a lagged LU preconditioner.

    The first solve factorises the matrix (``pc_type lu``); later solves keep that
    factorisation as the preconditioner of conjugate gradients while the matrix
    changes (temperature-dependent properties), and refactorise only when CG needs
    more than ``max_lagged_iterations`` iterations or fails. With an unchanged matrix
    CG converges in one iteration: the cost of a direct solve without refactorising.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm
        Communicator of the mesh.
    prefix : str
        Options prefix (one per solver).
    options : mapping, optional
        PETSc options. When given, they are used as they are (no lagging).
    max_lagged_iterations : int, optional
        Refactorise when a lagged solve needs more CG iterations than this.
    rtol : float, optional
        Relative residual tolerance of the lagged CG solves.
    """

    def __init__(
        self,
        comm: Any,
        *,
        prefix: str,
        options: Mapping[str, Any] | None,
        max_lagged_iterations: int = 12,
        rtol: float = 1e-12,
    ) -> None:
        self.lagged = not options
        opts = dict(options or {})
        if self.lagged:
            opts = {
                "ksp_type": "cg",
                "pc_type": "lu",
                "ksp_rtol": rtol,
                "ksp_atol": 0.0,
                "ksp_max_it": 4 * max_lagged_iterations,
            }
        self.ksp = create_ksp(comm, prefix=prefix, options=opts)
        self.max_lagged_iterations = max_lagged_iterations
        #: Smallest system (unknowns) solved with a lagged factorisation.
        self.min_lagged_size = 20_000
        self.factorisations = 0
        self._factored = False

    def set_operator(self, A: Any) -> None:
        """Set the matrix (once; later in-place changes are seen by the solver).

        Below :attr:`min_lagged_size` unknowns a fresh LU factorisation is cheaper than
        preconditioned CG: the solver then refactorises at every solve.
        """
        self.ksp.setOperators(A)
        self._factored = False
        if self.lagged and A.getSize()[0] < self.min_lagged_size:
            self.lagged = False
            self.ksp.setType("preonly")

    def solve(self, b: Any, x: Any) -> None:
        """Solve ``A x = b``; refactorise when the lagged preconditioner is not enough.

        Raises
        ------
        StepFailure
            If the solve fails even after refactorising.
        """
        pc = self.ksp.getPC()
        if not self.lagged:
            self.ksp.solve(b, x)
            self._check()
            return
        pc.setReusePreconditioner(self._factored)
        if not self._factored:
            self.factorisations += 1
        self.ksp.solve(b, x)
        self._factored = True
        if (
            self.ksp.getConvergedReason() < 0
            or self.ksp.getIterationNumber() > self.max_lagged_iterations
        ):
            pc.setReusePreconditioner(False)
            self.factorisations += 1
            self.ksp.solve(b, x)
        self._check()

    def _check(self) -> None:
        reason = self.ksp.getConvergedReason()
        if reason < 0:
            raise StepFailure(
                f"linear solve failed (PETSc KSP reason {reason}, "
                f"{self.ksp.getIterationNumber()} iterations)",
                residual=float(self.ksp.getResidualNorm()),
            )
