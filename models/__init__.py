"""Physics of the twin: FEM service models, materials, damage and life laws.

Heavy backends (DOLFINx, pyvista) are imported inside the modules that need them,
so importing this package is cheap.
"""

from models.errors import (
    ConfigError,
    LawInputError,
    MaterialRangeError,
    ModelError,
    ModelWarning,
    SolverDivergedError,
    UnknownMaterialError,
)

__all__ = [
    "ConfigError",
    "LawInputError",
    "MaterialRangeError",
    "ModelError",
    "ModelWarning",
    "SolverDivergedError",
    "UnknownMaterialError",
]
