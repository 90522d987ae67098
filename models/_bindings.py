"""Load order of the compiled FEM stack (private).

The DOLFINx wheel requires ``dolfinx_solver`` to be imported before ``dolfinx``,
``petsc4py`` or ``mpi4py`` (it loads MPI first). Every entry point of the FEM modules
calls :func:`ensure_bindings` before importing them, so callers need not know.
"""

from __future__ import annotations

__all__ = ["ensure_bindings"]


def ensure_bindings() -> None:
    """Import ``dolfinx_solver`` (idempotent, cheap after the first call)."""
    import dolfinx_solver  # noqa: F401
