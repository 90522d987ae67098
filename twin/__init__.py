"""The digital twin: state, assimilation, damage accounting, forecasting, service and CLI.

``Twin.from_config(cfg, rng=...)`` builds a component twin; ``update(readings)``
assimilates, ``state`` reports, ``checkpoint(path)`` / ``Twin.restore(path)`` keep it.
Public names are imported lazily, so ``import twin`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CheckpointError": "twin.errors",
    "DamageAccount": "twin.damage",
    "DamageSettings": "twin.damage",
    "ParticleFilter": "twin.filter",
    "Twin": "twin.state",
    "TwinConfigError": "twin.errors",
    "TwinError": "twin.errors",
    "TwinInputError": "twin.errors",
    "TwinSettings": "twin.settings",
    "parse_twin_settings": "twin.settings",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'twin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


__all__ = [
    "CheckpointError",
    "DamageAccount",
    "DamageSettings",
    "ParticleFilter",
    "Twin",
    "TwinConfigError",
    "TwinError",
    "TwinInputError",
    "TwinSettings",
    "parse_twin_settings",
]
