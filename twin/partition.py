"""Fleet files: which component configs a ``twin serve`` process owns.

Several ``twin serve`` processes share one broker by owning disjoint partitions of a
fleet. A fleet file (TOML) lists the components, each with its config (relative to the
fleet file) and its partition; ``twin serve --fleet FLEET --partition NAME`` serves the
components of one partition::

    schema_version = 1

    [[component]]
    config = "header-a.toml"
    partition = "east"
    seed = 0                 # optional: the twin's seed (default 0)

    [[component]]
    config = "header-b.toml"
    partition = "west"

Each component's archive and state directory take a writer lock, so a component given
to two processes by mistake is refused by the second (``twin serve`` exits 75).
Partitioning by fleet file, rather than by MQTT 5 shared subscriptions, keeps each
component's readings, archive and twin in one process: a shared subscription would
spread one component's readings over processes and break the archive's single writer.
"""

from __future__ import annotations

import pathlib
import tomllib
from collections.abc import Sequence
from typing import Any

from twin.errors import TwinConfigError

__all__ = ["FLEET_SCHEMA_VERSION", "load_fleet", "load_specs"]

FLEET_SCHEMA_VERSION = 1


def load_specs(paths: Sequence[pathlib.Path], *, seed: int = 0) -> list[Any]:
    """Component specs from config files (each read once, validated)."""
    from models.config import load_config
    from twin.service import ComponentSpec

    return [ComponentSpec(load_config(p), pathlib.Path(p).resolve(), seed) for p in paths]


def load_fleet(path: str | pathlib.Path, partition: str | None) -> list[Any]:
    """Read the component specs of one partition of a fleet file.

    Parameters
    ----------
    path : path
        Fleet file.
    partition : str or None
        Partition to serve; None serves every component of the file.

    Raises
    ------
    TwinConfigError
        On a malformed file, a missing config, an unknown partition or a component
        listed twice.
    """
    from models.config import load_config
    from twin.service import ComponentSpec

    file = pathlib.Path(path)
    try:
        doc = tomllib.loads(file.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise TwinConfigError(f"fleet: cannot read {str(file)!r}: {err}") from err
    if doc.get("schema_version") != FLEET_SCHEMA_VERSION:
        raise TwinConfigError(
            f"fleet.schema_version: must be {FLEET_SCHEMA_VERSION}, got "
            f"{doc.get('schema_version')!r} in {str(file)!r}"
        )
    entries = doc.get("component")
    if not isinstance(entries, list) or not entries:
        raise TwinConfigError(f"fleet.component: {str(file)!r} lists no [[component]]")
    specs, seen, partitions = [], set(), set()
    for i, entry in enumerate(entries):
        where = f"fleet.component[{i}]"
        unknown = sorted(set(entry) - {"config", "partition", "seed"})
        if unknown:
            raise TwinConfigError(
                f"{where}: unknown keys {unknown}; known: config, partition, seed"
            )
        if not isinstance(entry.get("config"), str):
            raise TwinConfigError(f"{where}.config: required path of a component config")
        part = entry.get("partition", "default")
        seed = entry.get("seed", 0)
        if not isinstance(part, str) or not isinstance(seed, int) or isinstance(seed, bool):
            raise TwinConfigError(f"{where}: partition must be a string and seed an integer")
        partitions.add(part)
        cfg_path = (file.parent / entry["config"]).resolve()
        if not cfg_path.is_file():
            raise TwinConfigError(f"{where}.config: no file {str(cfg_path)!r}")
        if partition is not None and part != partition:
            continue
        cfg = load_config(cfg_path)
        key = (cfg.component.site, cfg.component.name)
        if key in seen:
            raise TwinConfigError(f"{where}: component {key[0]}/{key[1]} is listed twice")
        seen.add(key)
        specs.append(ComponentSpec(cfg, cfg_path, seed))
    if partition is not None and partition not in partitions:
        raise TwinConfigError(
            f"--partition: {partition!r} is not in {str(file)!r}; partitions are "
            f"{sorted(partitions)}"
        )
    return specs
