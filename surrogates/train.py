"""Fit a :class:`~surrogates.component.ComponentSurrogate` from a campaign dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from surrogates.campaign import DONE
from surrogates.component import ComponentSurrogate
from surrogates.errors import TrainingDataError
from surrogates.gp import GPSurrogate
from surrogates.space import ParameterSpace

__all__ = ["training_arrays", "fit_from_campaign"]


def training_arrays(
    ds: Any, *, names: Sequence[str], outputs: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, Y)`` of a campaign dataset, refusing unfinished or non-finite runs.

    Raises
    ------
    TrainingDataError
        Naming the run (index and parameter values) that is not done or holds a
        non-finite value, or a parameter/output the dataset lacks.
    """
    stored = [str(p) for p in ds["param"].values]
    if stored != list(names):
        raise TrainingDataError(
            f"campaign: parameters {stored} differ from the surrogate space {list(names)}; "
            "run the campaign of this [surrogate] section"
        )
    missing = [o for o in outputs if o not in ds.data_vars]
    if missing:
        raise TrainingDataError(
            f"campaign: outputs {missing} are not in the dataset; rerun with these outputs"
        )
    X = np.asarray(ds["X"].values, dtype=np.float64)
    status = np.asarray(ds["status"].values)
    not_done = np.flatnonzero(status != DONE)
    if not_done.size:
        i = int(not_done[0])
        raise TrainingDataError(
            f"campaign: run {i} at {dict(zip(names, X[i].tolist(), strict=True))} is not finished "
            f"(status {int(status[i])}; {not_done.size} runs in all); resume the campaign "
            "before training"
        )
    Y = np.column_stack([np.asarray(ds[o].values, dtype=np.float64) for o in outputs])
    bad = ~np.isfinite(Y)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise TrainingDataError(
            f"campaign: run {i} at {dict(zip(names, X[i].tolist(), strict=True))} has "
            f"{outputs[j]} = {Y[i, j]}; "
            "every training value must be finite: inspect that FEM run, then drop or rerun it"
        )
    return X, Y


def fit_from_campaign(
    ds: Any,
    *,
    space: ParameterSpace,
    outputs: Sequence[str],
    units: Mapping[str, str],
    relevant_hash: str,
    provenance: Mapping[str, Any] | None = None,
    gp_params: Mapping[str, Any] | None = None,
    kind: str = "peak",
) -> ComponentSurrogate:
    """Train a batch GP on every finished run of ``ds``.

    Parameters
    ----------
    ds : xarray.Dataset
        Store content of :func:`~surrogates.campaign.run_campaign`.
    space : ParameterSpace
    outputs : sequence of str
    units : mapping
        Unit per output.
    relevant_hash : str
        :meth:`ParameterSpace.relevant_hash` of the config the campaign ran.
    provenance : mapping, optional
    gp_params : mapping, optional
        Keyword arguments of :class:`GPSurrogate` (``bounds`` is the space's box).
    kind : {"peak", "modes"}
        Recorded on the surrogate (see :class:`ComponentSurrogate`).

    Returns
    -------
    ComponentSurrogate
    """
    X, Y = training_arrays(ds, names=space.names, outputs=outputs)
    gp = GPSurrogate(**{**dict(gp_params or {}), "bounds": space.bounds}).fit(X, Y)
    prov = {**dict(provenance or {}), "n_train": int(X.shape[0])}
    return ComponentSurrogate(
        space=space,
        outputs=tuple(outputs),
        units={o: units.get(o, "") for o in outputs},
        gp=gp,
        relevant_hash=relevant_hash,
        provenance=prov,
        kind=kind,
    )
