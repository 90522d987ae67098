"""An honest truth: FEM histories with temperature-dependent properties, cached per cycle.

The virtual plant's temperatures, stresses and strains come from the full service
model (:func:`models.service.solve`, temperature-dependent properties), never from the
twin's own forward model (modes frozen at one temperature, a GP in between). A cycle
(start-up ramp, hold, shut-down ramp, rest) that starts and ends in equilibrium at the
same temperature repeats exactly, so the FEM runs once per distinct cycle, heat-transfer
coefficient and wall thickness, and decades of operation are repetitions of cached
cycles. The cache is a folder of netCDF files named by the SHA-256 of everything that
determines the run (the FEM-relevant config sections and the cycle).
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Cycle", "TruthLibrary", "cycle_loads", "synthesize_readings"]

_H = 3600.0


@dataclass(frozen=True)
class Cycle:
    """One start-up, hold, shut-down and rest, in edge units.

    Attributes
    ----------
    cold_degC, hot_degC : float
        Fluid temperature before the start-up and during the hold.
    low_MPa, high_MPa : float
        Pressure before the start-up and during the hold.
    ramp_h, hold_h, down_h, rest_h : float
        Durations of the ramp up, the hold, the ramp down and the rest at cold.
    """

    cold_degC: float = 150.0
    hot_degC: float = 565.0
    low_MPa: float = 1.0
    high_MPa: float = 17.0
    ramp_h: float = 2.0
    hold_h: float = 4.0
    down_h: float = 2.0
    rest_h: float = 2.0

    @property
    def duration(self) -> float:
        """Length of the cycle, s."""
        return (self.ramp_h + self.hold_h + self.down_h + self.rest_h) * _H


def cycle_loads(cycle: Cycle) -> dict[str, list[float]]:
    """Return the ``[loads]`` arrays of one cycle (edge units)."""
    c = cycle
    t = np.cumsum([0.0, c.ramp_h, c.hold_h, c.down_h, c.rest_h])
    return {
        "time_h": [float(x) for x in t],
        "fluid_temperature_degC": [c.cold_degC, c.hot_degC, c.hot_degC, c.cold_degC, c.cold_degC],
        "pressure_MPa": [c.low_MPa, c.high_MPa, c.high_MPa, c.low_MPa, c.low_MPa],
    }


class TruthLibrary:
    """FEM truth runs of single cycles, cached on disk.

    Parameters
    ----------
    config : models.config.ComponentConfig
        Base component (geometry, mesh, material, sensors).
    cache : path
        Folder of the cached runs (created if missing).
    time_step_s : float
        FEM time step of the truth runs.
    """

    def __init__(
        self, config: Any, cache: str | pathlib.Path, *, time_step_s: float = 30.0
    ) -> None:
        self.config = config
        self.cache = pathlib.Path(cache)
        self.time_step = float(time_step_s)

    def _overrides(self, cycle: Cycle, bore_htc: float, wall_thickness: float) -> dict[str, Any]:
        loads = cycle_loads(cycle)
        return {
            "loads.time_h": loads["time_h"],
            "loads.fluid_temperature_degC": loads["fluid_temperature_degC"],
            "loads.pressure_MPa": loads["pressure_MPa"],
            "thermal.bore_htc_W_m2K": float(bore_htc),
            "thermal.initial_temperature_degC": float(cycle.cold_degC),
            "geometry.wall_thickness_m": float(wall_thickness),
            "solver.time_step_s": self.time_step,
            "output.field_times_h": [loads["time_h"][1]],
        }

    def key(self, cycle: Cycle, bore_htc: float, wall_thickness: float) -> str:
        """Cache key of one run."""
        raw = self.config.to_dict()
        relevant = {
            k: raw.get(k)
            for k in ("component", "geometry", "mesh", "thermal", "mechanical", "sensors")
        }
        doc = {
            "config": relevant,
            "cycle": asdict(cycle),
            "h": bore_htc,
            "w": wall_thickness,
            "dt": self.time_step,
            "version": 1,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:24]

    def run(self, cycle: Cycle, *, bore_htc: float, wall_thickness: float) -> Any:
        """Return the FEM history of one cycle (cached): dims ``time`` x ``location``."""
        import xarray as xr

        path = self.cache / f"truth-{self.key(cycle, bore_htc, wall_thickness)}.nc"
        if path.exists():
            return xr.open_dataset(path).load()
        import dolfinx_solver  # noqa: F401  (must precede dolfinx)

        from models.service import solve

        cfg = self.config.with_overrides(self._overrides(cycle, bore_htc, wall_thickness))
        ds = solve(cfg, fields=False)
        keep = [
            v
            for v in (
                "temperature",
                "sigma_r",
                "sigma_theta",
                "sigma_z",
                "sigma_vm",
                "eps_theta",
                "fluid_temperature",
                "pressure",
            )
            if v in ds
        ]
        ds = ds[keep]
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        ds.to_netcdf(tmp)
        tmp.replace(path)
        return ds


def synthesize_readings(
    truth: Any,
    *,
    cycles: int,
    t0: float,
    sensors: Mapping[str, tuple[str, str]],
    noise: Mapping[str, float],
    bias: Mapping[str, float] | None = None,
    rng: np.random.Generator,
    every: int = 1,
) -> dict[str, NDArray[Any]]:
    """Sensor readings of ``cycles`` repetitions of one FEM truth cycle.

    Parameters
    ----------
    truth : xarray.Dataset
        One cycle from :meth:`TruthLibrary.run`.
    cycles : int
        Repetitions (the cycle starts and ends in the same equilibrium).
    t0 : float
        Epoch time of the first sample, s.
    sensors : mapping
        ``{sensor id: (variable, location)}``, e.g. ``{"TC-outer-01": ("temperature",
        "outer"), "TC-steam-01": ("fluid_temperature", "")}``.
    noise : mapping
        White noise standard deviation per sensor, SI.
    bias : mapping, optional
        Constant bias per sensor, SI.
    rng : numpy.random.Generator
    every : int, optional
        Keep every ``every``-th FEM time step.

    Returns
    -------
    dict
        ``time``, ``sensor`` (ids), ``value`` (SI), ``quality``, sorted by time.
    """
    tc = np.asarray(truth["time"].values, dtype=float)
    period = float(tc[-1])
    idx = np.arange(0, tc.size - 1, every)  # the last point equals the next cycle's first
    times, ids, values = [], [], []
    for k in range(cycles):
        tk = t0 + k * period + tc[idx]
        for sid, (var, loc) in sensors.items():
            da = truth[var]
            vals = np.asarray(
                da.sel(location=loc).values if "location" in da.dims else da.values, float
            )[idx]
            vals = vals + (bias or {}).get(sid, 0.0) + rng.normal(0.0, noise[sid], vals.size)
            times.append(tk)
            ids.append(np.full(tk.size, sid, dtype=object))
            values.append(vals)
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    return {
        "time": t[order],
        "sensor": np.concatenate(ids)[order],
        "value": np.concatenate(values)[order],
        "quality": np.zeros(t.size, dtype=np.int8),
    }


def repeat_truth(
    truth: Any, cycles: int, variables: Sequence[str], location: str
) -> dict[str, NDArray[np.float64]]:
    """Return the truth of ``variables`` at ``location`` over ``cycles`` repetitions."""
    tc = np.asarray(truth["time"].values, dtype=float)
    period = float(tc[-1])
    t = np.concatenate([k * period + tc[:-1] for k in range(cycles)] + [[cycles * period]])
    out = {"time": t}
    for v in variables:
        vals = np.asarray(truth[v].sel(location=location).values, dtype=float)
        out[v] = np.concatenate([vals[:-1]] * cycles + [vals[-1:]])
    return out
