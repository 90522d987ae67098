"""Physics of the twin: FEM service models, materials, damage and life laws.

Heavy backends (DOLFINx, pyvista) are imported inside the modules that need them,
so importing this package is cheap.
"""

from models.config import ComponentConfig, load_config, parse_config
from models.errors import (
    ConfigError,
    LawInputError,
    MaterialDataError,
    MaterialRangeError,
    ModelError,
    ModelInputError,
    ModelWarning,
    RenderError,
    SolverDivergedError,
    UnknownMaterialError,
    UnknownResponseError,
)
from models.materials import Material, available_materials, get_material
from models.modal import ModalBank, ModalFilter, ModalState
from models.modefit import SharedModes, fit_shared_modes

__all__ = [
    "ComponentConfig",
    "ConfigError",
    "LawInputError",
    "Material",
    "MaterialDataError",
    "MaterialRangeError",
    "ModalBank",
    "ModalFilter",
    "ModalState",
    "ModelError",
    "ModelInputError",
    "ModelWarning",
    "RenderError",
    "SharedModes",
    "SolverDivergedError",
    "UnknownMaterialError",
    "UnknownResponseError",
    "available_materials",
    "fit_shared_modes",
    "get_material",
    "load_config",
    "parse_config",
]
