"""Small PETSc helpers shared by the thermal and mechanical solvers (private)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["create_ksp"]

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
    from petsc4py import PETSc

    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix(prefix)
    opts = PETSc.Options()
    merged = dict(_DEFAULTS)
    merged.update(dict(options or {}))
    for key, value in merged.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        opts[f"{prefix}{key}"] = value
    ksp.setFromOptions()
    for key in merged:
        opts.delValue(f"{prefix}{key}")
    return ksp
