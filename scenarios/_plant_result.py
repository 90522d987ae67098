"""What a virtual-plant run leaves: truth rows, events, faults, timings, truth files."""

from __future__ import annotations

import json
import math
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.spec import YEAR

__all__ = ["PlantResult"]


@dataclass
class PlantResult:
    """The outcome of :meth:`scenarios.plant.VirtualPlant.run`.

    Attributes
    ----------
    parameters : dict
        The hidden truth, SI (``truth.json``'s ``parameters``).
    rows : list of dict
        Truth rows (``time`` epoch s, ``bore_htc``, ``wall_thickness``, ``fatigue_<loc>``,
        ``creep_<loc>``, ``margin_<loc>``, ``margin``) at every segment end and every
        day of steady operation.
    events : list of dict
        ``{"time", "kind", "detail"}`` of the duty (start-ups, shut-downs, trips with the
        hold time they cost, dips, outages, inspections, commands, failure).
    faults : list of dict
        The injected faults (:class:`scenarios.faults.FaultInjector`).
    inspections : list of dict
        ``{"time", "wall_thickness_m"}`` (true wall; ``measured_m`` when a sensor read it).
    readings : int
        Readings handed to the sink.
    start_time, record_end : float
        Epoch s.
    end_of_life : float or None
        Epoch s of the failure, None when the truth survived its horizon.
    mechanism, location : str or None
    wall_seconds, record_wall_seconds : float
        Wall time of the whole run and of its recorded part.
    library : dict
        ``{"runs", "cached", "seconds", "cache"}`` of the FEM truth library.
    hold_lost : float
        Hold time lost to trips, s.
    starts : dict
        Starts per year and kind that the plant ran.
    """

    parameters: dict[str, float]
    rows: list[dict[str, float]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    inspections: list[dict[str, Any]] = field(default_factory=list)
    readings: int = 0
    start_time: float = 0.0
    record_end: float = 0.0
    end_of_life: float | None = None
    mechanism: str | None = None
    location: str | None = None
    wall_seconds: float = 0.0
    record_wall_seconds: float = 0.0
    library: dict[str, Any] = field(default_factory=dict)
    hold_lost: float = 0.0
    starts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def readings_per_year(self) -> float:
        """Readings per simulated year of the recording."""
        span = self.record_end - self.start_time
        return self.readings / (span / YEAR) if span > 0 else 0.0

    @property
    def speed_x(self) -> float:
        """Plant seconds recorded per wall second (the recording's speed-up)."""
        span = self.record_end - self.start_time
        return span / self.record_wall_seconds if self.record_wall_seconds > 0 else math.inf

    def to_json(self) -> dict[str, Any]:
        """Return the ``truth.json`` document."""
        return {
            "parameters": dict(self.parameters),
            "end_of_life": self.end_of_life,
            "mechanism": self.mechanism,
            "location": self.location,
            "start_time": self.start_time,
            "record_end": self.record_end,
            "events": self.events,
            "faults": self.faults,
            "inspections": self.inspections,
            "readings": int(self.readings),
            "readings_per_year": self.readings_per_year,
            "wall_seconds": self.wall_seconds,
            "record_wall_seconds": self.record_wall_seconds,
            "speed_x": self.speed_x if math.isfinite(self.speed_x) else None,
            "hold_lost_s": self.hold_lost,
            "starts": self.starts,
            "library": self.library,
        }

    def dataset(self) -> Any:
        """Return the truth rows as an :class:`xarray.Dataset` along ``time``."""
        import xarray as xr

        if not self.rows:
            return xr.Dataset(coords={"time": ("time", np.empty(0))})
        names = [k for k in self.rows[0] if k != "time"]
        t = np.array([r["time"] for r in self.rows])
        data = {k: ("time", np.array([r.get(k, np.nan) for r in self.rows])) for k in names}
        ds = xr.Dataset(data, coords={"time": ("time", t)})
        # epoch seconds as plain numbers (a CF "since" unit would make readers decode dates)
        ds["time"].attrs.update(units="s", long_name="plant time, s since 1970-01-01 UTC")
        ds.attrs["source"] = "virtual plant: FEM truth segments and the true damage account"
        return ds

    def write(self, folder: str | pathlib.Path) -> None:
        """Write ``folder/truth.nc`` and ``folder/truth.json``."""
        out = pathlib.Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        self.dataset().to_netcdf(out / "truth.nc")
        doc = json.dumps(self.to_json(), indent=1, allow_nan=False, default=_plain)
        (out / "truth.json").write_text(doc + "\n")


def _plain(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON: {type(x).__name__}")
