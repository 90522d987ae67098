"""Load order of the compiled FEM stack (private).

The DOLFINx wheel requires ``dolfinx_solver`` to be imported before ``dolfinx``,
``petsc4py`` or ``mpi4py`` (it loads MPI first). The netCDF4 wheel carries its own
HDF5 library, which must load before DOLFINx's: loaded after it, every later
``to_netcdf`` fails with "NetCDF: HDF error". Every entry point of the FEM modules
calls :func:`ensure_bindings` before importing them, so callers need not know.
"""

from __future__ import annotations

__all__ = ["ensure_bindings"]


def ensure_bindings() -> None:
    """Import netCDF4 and ``dolfinx_solver`` in that order (idempotent, cheap after the first)."""
    import dolfinx_solver  # noqa: F401
    import netCDF4  # noqa: F401  (its HDF5 before DOLFINx's)
