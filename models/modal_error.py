"""How far the modal filter is from the FEM on the transients a twin sees.

Three load transients are built from a component config's own levels (the low
temperature ``thermal.initial_temperature_degC`` and first pressure, the hold
temperature and pressure: the maxima of its load history):

* ``startup``: from rest at the low temperature, fluid and pressure ramp to the hold
  levels over two hours, then hold for one hour;
* ``shutdown``: from rest at the hold temperature, the reverse ramp, then one hour;
* ``trip``: from rest at the hold temperature, the fluid drops by 200 K and the pressure
  to 30 % in two minutes, then one hour.

Each is solved by the FEM (:func:`models.service.solve`) and advanced by a
:class:`~models.modal.ModalFilter` from the unit responses of the same mesh
(:func:`models.responses.unit_responses` fitted with shared time constants,
:func:`models.modefit.fit_shared_modes`); outputs are compared as changes from the
initial state. With properties frozen in the FEM too the two are the same linear model
(the difference is the mode fit and time stepping). Against the temperature-dependent
FEM the difference is the model error of freezing the properties, which a twin must
carry as observation noise: :func:`modal_model_error` measures it per output and
:func:`write_modal_error` stores it (``models/data/modal_error.toml`` for the example
header; :func:`load_modal_error` reads it).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.errors import ConfigError
from models.units import HOUR, ZERO_CELSIUS

__all__ = [
    "DEFAULT_MODAL_ERROR",
    "TRANSIENTS",
    "TransientComparison",
    "compare_transient",
    "load_modal_error",
    "modal_bank",
    "modal_model_error",
    "transient_config",
    "write_modal_error",
]

#: Names of the transients of :func:`transient_config`.
TRANSIENTS: tuple[str, ...] = ("startup", "shutdown", "trip")
#: The stored model error of the example header (examples/grade91_header.toml).
DEFAULT_MODAL_ERROR = Path(__file__).parent / "data" / "modal_error.toml"
_TRIP_DROP = 200.0  # K
_TRIP_TIME = 120.0  # s
_TRIP_PRESSURE = 0.3  # fraction of the hold pressure after a trip
_SCHEMA = 1


def transient_config(config: Any, name: str, *, time_step: float) -> Any:
    """Return ``config`` with the load history (and initial temperature) of a transient.

    Parameters
    ----------
    config : ComponentConfig
    name : {"startup", "shutdown", "trip"}
    time_step : float
        FEM time step in s (a divisor of 120 s keeps the trip's corner on a step).

    Returns
    -------
    ComponentConfig
    """
    loads = config.loads
    t_low = float(config.thermal.initial_temperature)
    t_hold = float(np.max(loads.fluid_temperature))
    p_low, p_hold = float(loads.pressure[0]), float(np.max(loads.pressure))
    if name == "startup":
        start, t = t_low, [0.0, 2 * HOUR, 3 * HOUR]
        tf, p = [t_low, t_hold, t_hold], [p_low, p_hold, p_hold]
    elif name == "shutdown":
        start, t = t_hold, [0.0, 2 * HOUR, 3 * HOUR]
        tf, p = [t_hold, t_low, t_low], [p_hold, p_low, p_low]
    elif name == "trip":
        start, t = t_hold, [0.0, _TRIP_TIME, HOUR]
        low = t_hold - _TRIP_DROP
        tf, p = [t_hold, low, low], [p_hold, _TRIP_PRESSURE * p_hold, _TRIP_PRESSURE * p_hold]
    else:
        raise ConfigError(f"transient: {name!r} is not one of {list(TRANSIENTS)}")
    run = config.with_overrides(
        {"thermal.initial_temperature_degC": start - ZERO_CELSIUS, "solver.time_step_s": time_step}
    )
    return run.with_loads(time=t, fluid_temperature=tf, pressure=p)


def modal_bank(
    config: Any,
    outputs: Sequence[tuple[str, str]],
    *,
    property_temperature: float,
    n_modes: int,
    stages: int = 8,
    stage_steps: int = 15,
) -> Any:
    """One-particle :class:`~models.modal.ModalBank` of the config's unit responses.

    The unit responses are computed on the config's mesh with properties frozen at
    ``property_temperature`` (K) and fitted with ``n_modes`` shared time constants, as
    the mode campaign of the surrogates does.
    """
    from models.modal import ModalBank
    from models.modefit import fit_shared_modes
    from models.responses import unit_responses

    ur = unit_responses(
        config, property_temperature=property_temperature, stages=stages, stage_steps=stage_steps
    )
    return ModalBank.from_shared_modes(fit_shared_modes(ur, outputs, n_modes=n_modes), outputs)


@dataclass(frozen=True)
class TransientComparison:
    """FEM and modal filter on one transient, as changes from the initial state.

    Attributes
    ----------
    name : str
        Transient name.
    outputs : tuple of (str, str)
    time : numpy.ndarray, shape (n,)
        s.
    fem, modal : numpy.ndarray, shape (O, n)
        Output changes (K, Pa, 1).
    """

    name: str
    outputs: tuple[tuple[str, str], ...]
    time: NDArray[np.float64]
    fem: NDArray[np.float64]
    modal: NDArray[np.float64]

    @property
    def peak(self) -> NDArray[np.float64]:
        """Largest FEM change of each output, shape (O,)."""
        return np.asarray(np.abs(self.fem).max(axis=1), dtype=np.float64)

    @property
    def error(self) -> NDArray[np.float64]:
        """``modal - fem``, shape (O, n)."""
        return np.asarray(self.modal - self.fem, dtype=np.float64)


def compare_transient(
    config: Any,
    name: str,
    bank: Any,
    *,
    time_step: float,
    property_temperature: float | None = None,
) -> TransientComparison:
    """Run transient ``name`` through the FEM and through a filter of ``bank``.

    Parameters
    ----------
    config : ComponentConfig
    name : str
        One of :data:`TRANSIENTS`.
    bank : ModalBank
        One particle; its outputs are compared.
    time_step : float
        FEM time step (s); the filter advances through the same sample times.
    property_temperature : float, optional
        Freeze the FEM's properties at this temperature (K); ``None``: temperature
        dependent.

    Returns
    -------
    TransientComparison
    """
    from models.modal import ModalFilter
    from models.service import solve

    run = transient_config(config, name, time_step=time_step)
    ds = solve(run, fields=False, property_temperature=property_temperature)
    t = np.asarray(ds["time"].values, dtype=np.float64)
    tf = np.asarray(ds["fluid_temperature"].values, dtype=np.float64)
    p = np.asarray(ds["pressure"].values, dtype=np.float64)
    fem = np.stack(
        [np.asarray(ds[o].sel(location=loc).values, dtype=np.float64) for o, loc in bank.outputs]
    )
    f = ModalFilter(bank.take([0]))
    f.start(float(t[0]), float(tf[0]), float(p[0]))
    y = f.advance(t[1:], tf[1:], p[1:])[0]
    at_start = bank.pressure_gain[0] * p[0]  # the filter's output at t0
    modal = np.hstack([np.zeros((len(bank.outputs), 1)), y - at_start[:, None]])
    return TransientComparison(name, tuple(bank.outputs), t, fem - fem[:, :1], modal)


def modal_model_error(comparisons: Sequence[TransientComparison]) -> dict[str, Any]:
    """Per-output RMS and largest error over transients, absolute and relative to the peak.

    Returns
    -------
    dict
        ``{"outputs": {output: {location: {"rms", "max", "peak", "rms_rel_peak",
        "max_rel_peak", "cases": {name: {...}}}}}}``; ``rms`` is the time-weighted
        RMS over all transients (trapezoidal rule, so it does not depend on the sampling),
        ``peak`` the largest FEM change over them.
    """
    from models.responses import RESPONSE_OUTPUTS

    out: dict[str, dict[str, dict[str, Any]]] = {}
    keys = comparisons[0].outputs
    for j, (o, loc) in enumerate(keys):
        cases = {}
        sq_time, duration = 0.0, 0.0
        for c in comparisons:
            e = c.error[j]
            span = float(c.time[-1] - c.time[0])
            sq = float(np.trapezoid(e**2, c.time))  # time-weighted: independent of sampling
            sq_time, duration = sq_time + sq, duration + span
            cases[c.name] = {
                "rms": float(np.sqrt(sq / span)),
                "max": float(np.abs(e).max()),
                "peak": float(c.peak[j]),
            }
        peak = max(v["peak"] for v in cases.values())
        rms = float(np.sqrt(sq_time / duration))
        mx = max(v["max"] for v in cases.values())
        out.setdefault(o, {})[loc] = {
            "unit": RESPONSE_OUTPUTS[o],
            "rms": rms,
            "max": mx,
            "peak": peak,
            "rms_rel_peak": rms / peak if peak > 0 else 0.0,
            "max_rel_peak": mx / peak if peak > 0 else 0.0,
            "cases": cases,
        }
    return {"outputs": out}


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else f'"{name}"'


def write_modal_error(
    result: Mapping[str, Any], path: str | Path, *, header: Mapping[str, Any]
) -> Path:
    """Write :func:`modal_model_error` as TOML with a header saying how it was computed.

    Parameters
    ----------
    result : mapping
        Output of :func:`modal_model_error`.
    path : path-like
    header : mapping
        Scalar fields (str, int, float) written first: config, method, settings.
    """

    def scalar(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        return repr(float(v)) if isinstance(v, float) else str(v)

    lines = [f"schema_version = {_SCHEMA}"]
    lines += [f"{_key(k)} = {scalar(v)}" for k, v in header.items()]
    for o, per_loc in result["outputs"].items():
        for loc, rec in per_loc.items():
            lines.append("")
            lines.append(f"[outputs.{_key(o)}.{_key(loc)}]")
            lines += [f"{k} = {scalar(v)}" for k, v in rec.items() if k != "cases"]
            for case, vals in rec["cases"].items():
                inner = ", ".join(f"{k} = {scalar(v)}" for k, v in vals.items())
                lines.append(f"cases.{_key(case)} = {{ {inner} }}")
    target = Path(path)
    target.write_text("\n".join(lines) + "\n")
    return target


def load_modal_error(
    path: str | Path = DEFAULT_MODAL_ERROR,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Read stored model-error figures: ``{(output, location): {"rms", "max", ...}}``.

    ``rms`` (in the output's SI unit) is the model-discrepancy standard deviation a twin
    adds to a sensor's noise; ``rms_rel_peak`` the same relative to the peak change.
    """
    raw = tomllib.loads(Path(path).read_text())
    if raw.get("schema_version") != _SCHEMA:
        raise ConfigError(
            f"modal_error.schema_version: {raw.get('schema_version')!r} in {Path(path).name} "
            f"is not {_SCHEMA}; regenerate it (benchmarks/modal_error.py)"
        )
    return {
        (o, loc): dict(rec) for o, per_loc in raw["outputs"].items() for loc, rec in per_loc.items()
    }
