"""Save and load surrogates without pickle: safetensors for tensors, JSON for metadata.

A saved surrogate is a folder with ``surrogate.safetensors`` (training inputs and
outputs in normalised units and the GPyTorch state dict) and ``surrogate.json``
(schema version, GP hyperparameters, normalisation, parameter space, output names
and units, the hash of the FEM-relevant config content, provenance). Loading rebuilds
the GP and its prediction cache; with ``config=`` it refuses a surrogate trained for a
different component or parameter space.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from surrogates.component import ComponentSurrogate
from surrogates.errors import MetadataMismatchError, SurrogateError
from surrogates.space import ParameterSpace

if TYPE_CHECKING:
    from models.config import ComponentConfig

__all__ = ["SCHEMA_VERSION", "load_surrogate", "save_surrogate"]

SCHEMA_VERSION = 1
_TENSORS = "surrogate.safetensors"
_META = "surrogate.json"
# Constructor parameters of GPSurrogate that are not saved: the input bounds are stored
# with the normalisation, progress display and random state belong to a training run.
_NOT_SAVED = ("bounds", "progress", "rng")


def save_surrogate(surrogate: ComponentSurrogate, path: str | Path) -> Path:
    """Write ``surrogate`` into the folder ``path`` (created if needed).

    Returns
    -------
    Path
        The folder.
    """
    from safetensors.torch import save_file

    gp = surrogate.gp
    gp._check_fitted()
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"train_x": gp._train_x.contiguous(), "train_y": gp._train_y.contiguous()}
    tensors.update(
        {f"state.{k}": v.detach().contiguous() for k, v in gp.model_.state_dict().items()}
    )
    save_file(tensors, str(folder / _TENSORS))
    meta = {
        "schema_version": SCHEMA_VERSION,
        "kind": "materials-twin component surrogate",
        "gp": {k: v for k, v in gp.get_params().items() if k not in _NOT_SAVED},
        "normalisation": {
            "x_low": gp.x_low_.tolist(),
            "x_high": gp.x_high_.tolist(),
            "y_mean": gp.y_mean_.tolist(),
            "y_scale": gp.y_scale_.tolist(),
            "one_d": bool(gp._one_d),
        },
        "training": {"n_iter": gp.n_iter_, "converged": gp.converged_, "loss": gp.loss_},
        "space": surrogate.space.to_dict(),
        "outputs": list(surrogate.outputs),
        "units": dict(surrogate.units),
        "relevant_hash": surrogate.relevant_hash,
        "surrogate_kind": surrogate.kind,
        "provenance": surrogate.provenance,
    }
    # No sort_keys: the order of the parameters is the column order of X.
    (folder / _META).write_text(json.dumps(meta, indent=2, default=str))
    return folder


def load_surrogate(
    path: str | Path, *, config: ComponentConfig | None = None
) -> ComponentSurrogate:
    """Load a surrogate saved by :func:`save_surrogate`.

    Parameters
    ----------
    path : path-like
        The folder.
    config : ComponentConfig, optional
        When given, the surrogate must have been trained for it (same parameter space
        and FEM-relevant content); otherwise :class:`MetadataMismatchError`.

    Returns
    -------
    ComponentSurrogate
    """
    import torch
    from safetensors.torch import load_file

    from surrogates.gp import GPSurrogate

    folder = Path(path)
    if not (folder / _META).is_file() or not (folder / _TENSORS).is_file():
        raise SurrogateError(
            f"load_surrogate: {str(folder)!r} holds no {_META} and {_TENSORS}; give the folder "
            "written by `twin surrogate train` (save_surrogate)"
        )
    meta = json.loads((folder / _META).read_text())
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise MetadataMismatchError(
            f"schema_version: saved surrogate has {meta.get('schema_version')!r}, this code reads "
            f"{SCHEMA_VERSION}; retrain the surrogate"
        )
    tensors = load_file(str(folder / _TENSORS))
    params: dict[str, Any] = dict(meta["gp"])
    if params.get("lengthscale_prior") is not None:
        params["lengthscale_prior"] = tuple(params["lengthscale_prior"])
    norm = meta["normalisation"]
    gp = GPSurrogate(**params, bounds=np.column_stack([norm["x_low"], norm["x_high"]]))
    gp.x_low_ = np.asarray(norm["x_low"], dtype=np.float64)
    gp.x_high_ = np.asarray(norm["x_high"], dtype=np.float64)
    gp.y_mean_ = np.asarray(norm["y_mean"], dtype=np.float64)
    gp.y_scale_ = np.asarray(norm["y_scale"], dtype=np.float64)
    gp._one_d = bool(norm["one_d"])
    gp._train_x = tensors["train_x"].to(torch.float64)
    gp._train_y = tensors["train_y"].to(torch.float64)
    gp.n_features_in_ = int(gp._train_x.shape[1])
    gp.n_outputs_ = int(gp._train_y.shape[0])
    gp.n_iter_ = int(meta["training"]["n_iter"])
    gp.converged_ = bool(meta["training"]["converged"])
    gp.loss_ = float(meta["training"]["loss"])
    gp.model_ = gp._build(gp._train_x, gp._train_y)
    state = {k.removeprefix("state."): v for k, v in tensors.items() if k.startswith("state.")}
    gp.model_.load_state_dict(state)
    gp._cache()
    surrogate = ComponentSurrogate(
        space=ParameterSpace.from_section(meta["space"]),
        outputs=tuple(meta["outputs"]),
        units=dict(meta["units"]),
        gp=gp,
        relevant_hash=str(meta["relevant_hash"]),
        provenance=dict(meta.get("provenance", {})),
        kind=str(meta.get("surrogate_kind", "peak")),
    )
    if config is not None:
        surrogate.check_config(config)
    return surrogate
