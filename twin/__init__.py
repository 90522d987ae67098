"""The digital twin: state, assimilation, damage accounting, forecasting, service and CLI.

``Twin.from_config(cfg, rng=...)`` builds a component twin; ``update(readings)``
assimilates, ``state`` reports, ``checkpoint(path)`` / ``Twin.restore(path)`` keep it.
``Forecaster.from_checkpoint(path).run(load_plan(plan), seed=...)`` forecasts the
remaining life.
Public names are imported lazily, so ``import twin`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CheckpointError": "twin.errors",
    "DamageAccount": "twin.damage",
    "DamageSettings": "twin.damage",
    "DutyPlan": "twin.plan",
    "ForecastOptions": "twin.forecast",
    "ForecastResult": "twin.forecast",
    "Forecaster": "twin.forecast",
    "ParticleFilter": "twin.filter",
    "Twin": "twin.state",
    "TwinConfigError": "twin.errors",
    "TwinError": "twin.errors",
    "TwinInputError": "twin.errors",
    "TwinSettings": "twin.settings",
    "advise": "twin.advice",
    "compare_plans": "twin.advice",
    "forecast_fleet": "twin.fleet",
    "load_plan": "twin.plan",
    "parse_twin_settings": "twin.settings",
    "plan_from_history": "twin.plan",
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
    "DutyPlan",
    "ForecastOptions",
    "ForecastResult",
    "Forecaster",
    "ParticleFilter",
    "Twin",
    "TwinConfigError",
    "TwinError",
    "TwinInputError",
    "TwinSettings",
    "advise",
    "compare_plans",
    "forecast_fleet",
    "load_plan",
    "parse_twin_settings",
    "plan_from_history",
]
