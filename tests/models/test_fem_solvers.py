"""The lagged-LU linear solver used for temperature-dependent systems."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (orders MPI before petsc4py)
import numpy as np


def test_lagged_lu_solves_a_drifting_spd_sequence_like_a_dense_solver() -> None:
    from mpi4py import MPI
    from petsc4py import PETSc

    from models._petsc import LaggedSolver

    n = 400
    rng = np.random.default_rng(3)
    main = 2.0 + np.zeros(n)
    A = PETSc.Mat().createAIJ([n, n], nnz=3, comm=MPI.COMM_SELF)

    def fill(diag: np.ndarray) -> np.ndarray:
        dense = np.diag(diag) - np.eye(n, k=1) - np.eye(n, k=-1)
        A.zeroEntries()
        for i in range(n):
            cols = [j for j in (i - 1, i, i + 1) if 0 <= j < n]
            A.setValues([i], cols, dense[i, cols])
        A.assemble()
        return dense

    solver = LaggedSolver(MPI.COMM_SELF, prefix="test_lagged_", options=None)
    solver.min_lagged_size = 0  # exercise the lagged path on a small system
    fill(main)
    solver.set_operator(A)
    x, b = A.createVecs()
    solves = 0
    for step in range(12):
        # properties drift slowly, as E(T) or k(T) do between time steps
        dense = fill(main * (1.0 + 0.02 * step) + 0.01 * rng.random(n))
        rhs = rng.standard_normal(n)
        b.setArray(rhs)
        solver.solve(b, x)
        solves += 1
        # independent reference: dense LAPACK solve
        np.testing.assert_allclose(x.getArray(), np.linalg.solve(dense, rhs), rtol=1e-8, atol=1e-10)
    assert solver.lagged
    assert 1 <= solver.factorisations < solves
