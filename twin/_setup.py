"""Building a twin: its mode surrogate and the check of its priors against it."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.units import ZERO_CELSIUS
from twin.errors import TwinConfigError
from twin.settings import TwinSettings

__all__ = ["Pending", "check_priors", "load_surrogate", "sensor_specs", "with_twin_section"]


def with_twin_section(config: Any, section: dict[str, Any]) -> Any:
    """Return ``config`` with its ``[twin]`` section replaced (validated again)."""
    from models.config import parse_config

    doc = config.to_dict()
    doc["twin"] = section
    return parse_config(doc)


def load_surrogate(
    config: Any, settings: TwinSettings, surrogate: Any, config_path: Any
) -> tuple[Any, str | None]:
    from surrogates.modes import ModeSurrogate

    if surrogate is not None and not isinstance(surrogate, str | pathlib.Path):
        return surrogate, None
    if surrogate is None:
        if settings.surrogate is not None:
            base = pathlib.Path(config_path).parent if config_path else pathlib.Path(".")
            surrogate = base / settings.surrogate
        elif config_path is not None:
            cp = pathlib.Path(config_path)
            surrogate = cp.with_name(f"{cp.stem}.surrogate")
        else:
            raise TwinConfigError(
                "surrogate: no mode surrogate given; pass surrogate=PATH or config_path, or "
                "set twin.surrogate in the config"
            )
    path = pathlib.Path(surrogate)
    model_dir = path / "modes" if (path / "modes").is_dir() else path
    if not model_dir.exists():
        raise TwinConfigError(
            f"surrogate: no mode surrogate at {str(path)!r}; train one with "
            "`twin surrogate train CONFIG` (it writes <config stem>.surrogate/modes)"
        )
    return ModeSurrogate.load(model_dir, config=config), str(path.resolve())


def check_priors(settings: TwinSettings, surrogate: Any) -> None:
    """Refuse priors whose central 95 % interval leaves the surrogate's trained range."""
    ranges = {p.name: (p.low, p.high) for p in surrogate.space.parameters}
    pairs = (
        ("bore_htc", "thermal.bore_htc_W_m2K", "bore_htc_W_m2K"),
        ("wall_thickness", "geometry.wall_thickness_m", "wall_thickness_m"),
    )
    for name, sname, key in pairs:
        if sname not in ranges:
            continue
        lo, hi = ranges[sname]
        prior = next(p.prior for p in settings.parameters if p.name == name)
        a, b = prior.interval(0.95)
        if a < lo or b > hi:
            raise TwinConfigError(
                f"twin.priors.{key}: the prior's central 95 % interval [{a:.6g}, {b:.6g}] "
                f"leaves the mode surrogate's trained range [{lo:.6g}, {hi:.6g}]; narrow the "
                "prior or retrain the surrogate over a wider range"
            )
    if settings.property_temperature is None:
        return
    tp = settings.property_temperature - ZERO_CELSIUS
    if "loads.hold_temperature_degC" in ranges:
        lo, hi = ranges["loads.hold_temperature_degC"]
        if not lo <= tp <= hi:
            raise TwinConfigError(
                f"twin.property_temperature_degC: {tp:.6g} lies outside the mode surrogate's "
                f"trained hold-temperature range [{lo:.6g}, {hi:.6g}]"
            )


@dataclass
class Pending:
    """Readings taken but not yet assimilated (their block is still open)."""

    time: list[NDArray[np.float64]] = field(default_factory=list)
    sensor: list[NDArray[np.intp]] = field(default_factory=list)
    value: list[NDArray[np.float64]] = field(default_factory=list)
    quality: list[NDArray[np.int8]] = field(default_factory=list)

    def arrays(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64], NDArray[np.int8]]:
        if not self.time:
            return np.zeros(0), np.zeros(0, np.intp), np.zeros(0), np.zeros(0, np.int8)
        out = (
            np.concatenate(self.time),
            np.concatenate(self.sensor),
            np.concatenate(self.value),
            np.concatenate(self.quality),
        )
        self.time, self.sensor, self.value, self.quality = [out[0]], [out[1]], [out[2]], [out[3]]
        return out

    def set(self, t: Any, s: Any, v: Any, q: Any) -> None:
        self.time, self.sensor, self.value, self.quality = [t], [s], [v], [q]


def sensor_specs(settings: TwinSettings) -> list[Any]:
    """Describe each sensor as the health checks need it."""
    from twin.health import SensorSpec

    return [
        SensorSpec(
            id=s.id,
            quantity=s.quantity,
            valid_min=s.valid_min,
            valid_max=s.valid_max,
            rate_Hz=s.rate,
            noise_std=s.noise_std,
        )
        for s in settings.sensors
    ]
