"""Fast, uncertainty-aware stand-ins for the FEM service models.

A component's ``[surrogate]`` config section names the uncertain or slowly changing
inputs and their ranges (:class:`ParameterSpace`); a design of experiments
(:func:`design_points`) runs the FEM on Dask into a resumable zarr store
(:func:`run_campaign` with :class:`FemResponses` for steady/peak quantities or
:class:`ModeResponses` for unit-response modes); :func:`fit_from_campaign` trains a batch of
exact GPs (:class:`GPSurrogate`); :func:`metrics` and :func:`plot_parity` check it on
held-out runs; :func:`save_surrogate` / :func:`load_surrogate` persist it without
pickle and refuse it for another component. :func:`active_learning` adds runs where
the GP is least certain. The ``twin surrogate`` CLI drives all of it::

    twin surrogate train examples/grade91_header.toml --workers 2
    twin surrogate validate examples/grade91_header.toml --json

In Python::

    from surrogates import load_surrogate
    sur = load_surrogate("grade91_header.surrogate/model", config=cfg)
    mean, std = sur.predict({"thermal.bore_htc_W_m2K": 3000.0, ...})

Public names are imported lazily (PEP 562), so ``import surrogates`` does not load
torch or GPyTorch until a GP is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ActiveLearningResult": "surrogates.active",
    "CampaignError": "surrogates.errors",
    "CampaignEvaluator": "surrogates.active",
    "ComponentSurrogate": "surrogates.component",
    "ConvergenceError": "surrogates.errors",
    "ConvergenceWarning": "surrogates.errors",
    "ExtrapolationError": "surrogates.errors",
    "FemResponses": "surrogates.targets",
    "GPSurrogate": "surrogates.gp",
    "InvalidInputError": "surrogates.errors",
    "InvalidParameterError": "surrogates.errors",
    "MODE_KEYS": "surrogates.targets",
    "MetadataMismatchError": "surrogates.errors",
    "ModeResponses": "surrogates.targets",
    "ModeSurrogate": "surrogates.modes",
    "NotFittedError": "surrogates.errors",
    "PEAK_OUTPUTS": "surrogates.targets",
    "Parameter": "surrogates.space",
    "ParameterSpace": "surrogates.space",
    "ParameterSpaceError": "surrogates.errors",
    "SurrogateError": "surrogates.errors",
    "SurrogateWarning": "surrogates.errors",
    "TrainingDataError": "surrogates.errors",
    "active_learning": "surrogates.active",
    "design_points": "surrogates.design",
    "fit_from_campaign": "surrogates.train",
    "load_surrogate": "surrogates.persistence",
    "metrics": "surrogates.validation",
    "modal_responses": "surrogates.targets",
    "mode_keys_for": "surrogates.targets",
    "mode_output_names": "surrogates.targets",
    "peak_quantities": "surrogates.targets",
    "plot_parity": "surrogates.validation",
    "run_campaign": "surrogates.campaign",
    "save_surrogate": "surrogates.persistence",
    "select_batch": "surrogates.active",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'surrogates' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


__all__ = [
    "ActiveLearningResult",
    "CampaignError",
    "CampaignEvaluator",
    "ComponentSurrogate",
    "ConvergenceError",
    "ConvergenceWarning",
    "ExtrapolationError",
    "FemResponses",
    "GPSurrogate",
    "InvalidInputError",
    "InvalidParameterError",
    "MODE_KEYS",
    "MetadataMismatchError",
    "ModeResponses",
    "ModeSurrogate",
    "NotFittedError",
    "PEAK_OUTPUTS",
    "Parameter",
    "ParameterSpace",
    "ParameterSpaceError",
    "SurrogateError",
    "SurrogateWarning",
    "TrainingDataError",
    "active_learning",
    "design_points",
    "fit_from_campaign",
    "load_surrogate",
    "metrics",
    "modal_responses",
    "mode_keys_for",
    "mode_output_names",
    "peak_quantities",
    "plot_parity",
    "run_campaign",
    "save_surrogate",
    "select_batch",
]
