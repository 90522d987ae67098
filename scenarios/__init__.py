"""Virtual plant, duty cycles, fault injection, record and replay, validation.

Today: the honest truth (:class:`TruthLibrary`, temperature-dependent FEM runs of whole
cycles, cached) and recorded archives (:func:`record_startups`, ``twin scenario record``).
Public names are imported lazily, so ``import scenarios`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ArchiveSink": "scenarios.sinks",
    "Cycle": "scenarios.truth",
    "FaultInjector": "scenarios.faults",
    "Historian": "scenarios.historian",
    "MqttSink": "scenarios.sinks",
    "PlantResult": "scenarios.plant",
    "Scenario": "scenarios.spec",
    "aggregate_reports": "scenarios.report",
    "build_report": "scenarios.report",
    "cycle_loads": "scenarios.truth",
    "load_scenario": "scenarios.spec",
    "parse_scenario": "scenarios.spec",
    "Segment": "scenarios.segments",
    "SegmentLibrary": "scenarios.segments",
    "SegmentTruth": "scenarios.segments",
    "TruthDamage": "scenarios.truthdamage",
    "TruthLibrary": "scenarios.truth",
    "VirtualPlant": "scenarios.plant",
    "apply_faults": "scenarios.faults",
    "dip_segment": "scenarios.segments",
    "record_startups": "scenarios.record",
    "shutdown_segment": "scenarios.segments",
    "startup_segment": "scenarios.segments",
    "synthesize_readings": "scenarios.truth",
    "trip_segment": "scenarios.segments",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


__all__ = [
    "ArchiveSink",
    "Cycle",
    "FaultInjector",
    "Historian",
    "MqttSink",
    "PlantResult",
    "Scenario",
    "Segment",
    "SegmentLibrary",
    "SegmentTruth",
    "TruthDamage",
    "TruthLibrary",
    "VirtualPlant",
    "aggregate_reports",
    "apply_faults",
    "build_report",
    "cycle_loads",
    "dip_segment",
    "load_scenario",
    "parse_scenario",
    "record_startups",
    "shutdown_segment",
    "startup_segment",
    "synthesize_readings",
    "trip_segment",
]
