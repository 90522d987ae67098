"""Versioned twin checkpoints: NumPy arrays plus JSON, written atomically, never pickled.

A checkpoint is a folder::

    <path>/checkpoint.npz    every array of the state, plus the JSON document as bytes
    <path>/checkpoint.json   the same JSON document, for people and tools

The JSON document holds the schema version, the component config (TOML-shaped), the
mode surrogate's path and provenance hash, the RNG state, counters and the archive
offset the state covers; arrays are referenced from it by key. ``checkpoint.npz`` is
written to a temporary file, fsynced and renamed over the old one, so a crash leaves
either the old or the new checkpoint, never a torn one. It is read with
``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import CheckpointError

if TYPE_CHECKING:
    from twin.state import Twin

__all__ = [
    "CHECKPOINT_SCHEMA_VERSION",
    "load_twin_state",
    "read_checkpoint",
    "read_state",
    "twin_state_dict",
    "write_checkpoint",
]

CHECKPOINT_SCHEMA_VERSION = 1
_NPZ = "checkpoint.npz"
_JSON = "checkpoint.json"
_META = "__meta__"


def _split(obj: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """Replace arrays in a nested structure by references; collect them."""
    if isinstance(obj, np.ndarray):
        key = prefix or "root"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, Mapping):
        return {
            str(k): _split(v, arrays, f"{prefix}/{k}" if prefix else str(k)) for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [_split(v, arrays, f"{prefix}/{i}") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"__float__": repr(obj)}
    return obj


def _join(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(obj, Mapping):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def write_checkpoint(twin: Twin, path: str | pathlib.Path) -> pathlib.Path:
    """Write ``twin``'s state to the folder ``path`` (atomically) and return it."""
    folder = pathlib.Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CheckpointError(f"checkpoint: cannot create {str(folder)!r}: {err.strerror}") from err
    arrays: dict[str, np.ndarray] = {}
    state = _split(twin.state_dict(), arrays, "state")
    sur = twin.model.surrogate
    meta = {
        "schema_version": CHECKPOINT_SCHEMA_VERSION,
        "component": twin.config.component.name,
        "site": twin.config.component.site,
        "config": twin.config.to_dict(),
        "config_hash": twin.config.config_hash,
        "surrogate_path": twin.surrogate_path,
        "surrogate_hash": getattr(getattr(sur, "surrogate", sur), "relevant_hash", None),
        "archive_offset": twin.archive_offset,
        "readings": twin.readings_seen,
        "time": twin.state["time"],
        "state": state,
    }
    text = json.dumps(meta, allow_nan=False)  # key order kept: the config is order-sensitive
    arrays[_META] = np.frombuffer(text.encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # (numpy's stub reads ** as allow_pickle)
    try:
        for name, data in (
            (_NPZ, buf.getvalue()),
            (_JSON, (json.dumps(meta, indent=1) + "\n").encode()),
        ):
            tmp = folder / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
    except OSError as err:
        raise CheckpointError(
            f"checkpoint: cannot write {str(folder)!r}: {err.strerror}; the previous "
            "checkpoint (if any) is intact"
        ) from err
    return folder


def read_state(path: str | pathlib.Path) -> dict[str, Any]:
    """Read a checkpoint's JSON document with its arrays joined back in."""
    folder = pathlib.Path(path)
    if folder.is_dir() and (folder / "checkpoint").is_dir() and not (folder / _NPZ).exists():
        folder = folder / "checkpoint"  # an out folder of `twin assimilate`
    file = folder / _NPZ
    if not file.exists():
        raise CheckpointError(f"checkpoint: no {_NPZ} in {str(folder)!r}")
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as err:
        raise CheckpointError(f"checkpoint: {str(file)!r} is unreadable ({err})") from err
    if _META not in arrays:
        raise CheckpointError(f"checkpoint: {str(file)!r} has no metadata")
    meta = json.loads(arrays.pop(_META).tobytes().decode())
    version = meta.get("schema_version")
    if version != CHECKPOINT_SCHEMA_VERSION:
        raise CheckpointError(
            f"checkpoint: schema_version {version!r} in {str(file)!r}; this version reads "
            f"{CHECKPOINT_SCHEMA_VERSION}"
        )
    meta["state"] = _join(meta["state"], arrays)
    return dict(meta)


def read_checkpoint(path: str | pathlib.Path, *, config: Any = None, surrogate: Any = None) -> Twin:
    """Rebuild the twin saved in ``path``.

    Parameters
    ----------
    path : path
        Checkpoint folder (or the out folder of ``twin assimilate``, which holds one).
    config : models.config.ComponentConfig, optional
        Defaults to the config stored in the checkpoint; a different component is refused.
    surrogate : surrogates.modes.ModeSurrogate or path, optional
        Defaults to the surrogate path stored in the checkpoint.
    """
    from models.config import parse_config
    from twin.state import Twin

    meta = read_state(path)
    cfg = config if config is not None else parse_config(meta["config"])
    if cfg.config_hash != meta["config_hash"]:
        raise CheckpointError(
            f"checkpoint: it was written for config {meta['config_hash'][:12]} "
            f"(component {meta['component']!r}); the given config hashes to "
            f"{cfg.config_hash[:12]}"
        )
    sur = surrogate if surrogate is not None else meta.get("surrogate_path")
    twin = Twin.from_config(cfg, rng=np.random.default_rng(0), surrogate=sur)
    twin.load_state_dict(meta["state"])
    return twin


def twin_state_dict(self: Twin) -> dict[str, Any]:
    """Everything that determines a twin's future: arrays and JSON-able values."""
    from twin.state import STATE_SCHEMA_VERSION

    pt, ps, pv, pq = self._pending.arrays()
    return {
        "schema_version": STATE_SCHEMA_VERSION,
        "filter": self.pf.state_dict(),
        "model": self.model.state_dict(),
        "health": self.health.state_dict(),
        "innovations": self.innovations.state_dict(),
        "pending": {"time": pt, "sensor": ps, "value": pv, "quality": pq},
        "started": self.started,
        "closed_until": self.closed_until,
        "max_seen": self.max_seen,
        "counters": {
            "readings_seen": self.readings_seen,
            "late_readings": self.late_readings,
            "before_start": self.before_start,
            "assimilated": self.assimilated,
            "bad_readings": self.bad_readings,
            "blocks": self.blocks,
            "archive_offset": self.archive_offset,
        },
        "time": self.time,
        "last_input": {k: list(v) for k, v in self._last_input.items()},
        "last_obs_time": self._last_obs_time.copy(),
        "ess_min": self.ess_min,
        "block_ess_min": self._block_ess_min,
        "nis_sum": self.nis_sum.copy(),
        "nis_count": self.nis_count.copy(),
        "history_bookkeeping": [self._next_record, self._resampled_since, self._obs_since],
        "quarantined": dict(self.quarantined),
    }


def load_twin_state(self: Twin, state: Mapping[str, Any]) -> None:
    """Restore :func:`twin_state_dict` into a twin (same config and surrogate)."""
    from twin._setup import sensor_specs as _sensor_specs
    from twin.errors import TwinInputError
    from twin.filter import ParticleFilter
    from twin.health import InnovationMonitor, PlausibilityChecker
    from twin.state import STATE_SCHEMA_VERSION

    if int(state["schema_version"]) != STATE_SCHEMA_VERSION:
        raise TwinInputError(
            f"schema_version: the state has version {state['schema_version']}, this twin "
            f"reads {STATE_SCHEMA_VERSION}"
        )
    self.pf = ParticleFilter.from_state_dict(state["filter"])
    self.model.load_state_dict(state["model"])
    self.health = PlausibilityChecker.from_state_dict(
        state["health"], _sensor_specs(self.settings), self.health_settings
    )
    self.innovations = InnovationMonitor.from_state_dict(
        state["innovations"], list(self._observed), self.health_settings
    )
    p = state["pending"]
    self._pending.set(
        np.asarray(p["time"], np.float64),
        np.asarray(p["sensor"], np.intp),
        np.asarray(p["value"], np.float64),
        np.asarray(p["quality"], np.int8),
    )
    self.started = bool(state["started"])
    self.closed_until = float(state["closed_until"])
    self.max_seen = float(state["max_seen"])
    c = state["counters"]
    self.readings_seen = int(c["readings_seen"])
    self.late_readings = int(c["late_readings"])
    self.before_start = int(c["before_start"])
    self.assimilated = int(c["assimilated"])
    self.bad_readings = int(c["bad_readings"])
    self.blocks = int(c["blocks"])
    self.archive_offset = int(c["archive_offset"])
    self.time = float(state["time"])
    self._last_input = {k: (float(v[0]), float(v[1])) for k, v in state["last_input"].items()}
    self._last_obs_time = np.asarray(state["last_obs_time"], np.float64).copy()
    self.ess_min = float(state["ess_min"])
    self._block_ess_min = float(state["block_ess_min"])
    self.nis_sum = np.asarray(state["nis_sum"], np.float64).copy()
    self.nis_count = np.asarray(state["nis_count"], np.int64).copy()
    nxt, rs, ob = state["history_bookkeeping"]
    self._next_record, self._resampled_since, self._obs_since = float(nxt), int(rs), int(ob)
    self.quarantined = {str(k): float(v) for k, v in dict(state.get("quarantined", {})).items()}
