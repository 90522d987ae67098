"""Record a virtual plant's sensor archive from the FEM truth.

:func:`record_startups` runs (or reads from the cache) the temperature-dependent FEM
of one start-up cycle at a hidden heat-transfer coefficient and wall thickness, repeats
it, adds each sensor's bias and white noise, and writes the readings into a sensor
archive exactly as ``twin ingest`` would (the same zarr layout, commit marker and
lock), with the hidden truth beside it in ``truth.json``. ``twin publish
--from-archive`` replays such an archive over MQTT into ``twin ingest``; ``twin
assimilate`` reads either.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from scenarios.truth import Cycle, TruthLibrary, synthesize_readings

__all__ = ["DEFAULT_NOISE", "record_startups"]

#: White noise per quantity of the synthetic readings, SI.
DEFAULT_NOISE = {"temperature": 0.5, "pressure": 0.02e6, "strain": 5e-6}


def _sensor_map(config: Any) -> dict[str, tuple[str, str]]:
    """Map each sensor of the config to the FEM truth variable and location it reads."""
    out: dict[str, tuple[str, str]] = {}
    for s in config.sensors:
        if s.location == "fluid":
            var = "fluid_temperature" if s.quantity == "temperature" else "pressure"
            out[s.id] = (var, "")
        elif s.quantity == "temperature":
            out[s.id] = ("temperature", s.id)
        elif s.quantity == "strain":
            out[s.id] = ("eps_theta", s.id)
    return out


def record_startups(
    config: Any,
    out: str | pathlib.Path,
    *,
    cycles: int,
    seed: int,
    bore_htc: float,
    wall_thickness: float,
    bias: Mapping[str, float] | None = None,
    cycle: Cycle | None = None,
    cache: str | pathlib.Path,
    t0: float = 1.7e9,
    time_step_s: float = 30.0,
) -> dict[str, Any]:
    """Write ``out/archive`` (readings) and ``out/truth.json`` (the hidden truth).

    Parameters
    ----------
    config : models.config.ComponentConfig
        The component and its sensors.
    out : path
        Output folder (created).
    cycles, seed : int
        Start-up cycles and the seed of the noise.
    bore_htc, wall_thickness : float
        Hidden truth (W m-2 K-1, m).
    bias : mapping, optional
        Hidden constant bias per sensor, SI.
    cycle : Cycle, optional
        The duty cycle (default: a two-hour start-up, two-hour hold, two-hour shut-down
        and one hour at rest).
    cache : path
        FEM truth cache folder.
    t0 : float
        Epoch time of the first reading, s.
    time_step_s : float
        FEM time step (and reading interval), s.

    Returns
    -------
    dict
        The truth document written to ``truth.json``.
    """
    from sensors.archive import Archive, ArchiveBatch
    from sensors.catalogue import parse_catalogue
    from sensors.validation import REASONS

    cyc = cycle or Cycle(ramp_h=2.0, hold_h=2.0, down_h=2.0, rest_h=1.0)
    lib = TruthLibrary(config, cache, time_step_s=time_step_s)
    fem = lib.run(cyc, bore_htc=bore_htc, wall_thickness=wall_thickness)
    sensors = _sensor_map(config)
    quantity = {s.id: s.quantity for s in config.sensors}
    noise = {sid: DEFAULT_NOISE[quantity[sid]] for sid in sensors}
    readings = synthesize_readings(
        fem, cycles=cycles, t0=t0, sensors=sensors, noise=noise, bias=bias,
        rng=np.random.default_rng(seed),
    )  # fmt: skip
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    catalogue = parse_catalogue(config.to_dict())
    archive = Archive(
        folder / "archive", catalogue, reasons=REASONS, clock=lambda: float(readings["time"][-1])
    )
    index = {sid: archive.sensor_index(sid) for sid in sensors}
    sid = readings["sensor"]
    seq = np.zeros(sid.size, dtype=np.int64)
    for name in sensors:
        m = sid == name
        seq[m] = np.arange(int(m.sum()))
    archive.append(
        ArchiveBatch(
            time=readings["time"],
            sensor=np.array([index[s] for s in sid], dtype=np.int32),
            value=readings["value"],
            quality=readings["quality"],
            sequence=seq,
        )
    )
    close = getattr(archive, "close", None)
    if callable(close):
        close()
    truth = {
        "bore_htc_W_m2K": bore_htc,
        "wall_thickness_m": wall_thickness,
        "bias": dict(bias or {}),
        "cycles": cycles,
        "cycle": asdict(cyc),
        "seed": seed,
        "readings": int(sid.size),
        "start_time": float(readings["time"][0]),
        "end_time": float(readings["time"][-1]),
        "noise": noise,
        "source": "temperature-dependent FEM (models.service.solve), cached per cycle",
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth
