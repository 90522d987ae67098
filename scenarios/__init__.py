"""Virtual plant, duty cycles, fault injection, record and replay, validation.

Today: the honest truth (:class:`TruthLibrary`, temperature-dependent FEM runs of whole
cycles, cached) and recorded archives (:func:`record_startups`, ``twin scenario record``).
Public names are imported lazily, so ``import scenarios`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Cycle": "scenarios.truth",
    "TruthLibrary": "scenarios.truth",
    "cycle_loads": "scenarios.truth",
    "Segment": "scenarios.segments",
    "SegmentLibrary": "scenarios.segments",
    "SegmentTruth": "scenarios.segments",
    "TruthDamage": "scenarios.truthdamage",
    "dip_segment": "scenarios.segments",
    "record_startups": "scenarios.record",
    "shutdown_segment": "scenarios.segments",
    "startup_segment": "scenarios.segments",
    "trip_segment": "scenarios.segments",
    "synthesize_readings": "scenarios.truth",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


__all__ = [
    "Cycle",
    "Segment",
    "SegmentLibrary",
    "SegmentTruth",
    "TruthDamage",
    "TruthLibrary",
    "cycle_loads",
    "dip_segment",
    "record_startups",
    "shutdown_segment",
    "startup_segment",
    "synthesize_readings",
    "trip_segment",
]
