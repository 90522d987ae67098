"""What the surrogates learn from an FEM run, and the picklable FEM campaign function.

Steady and peak quantities are read from the service model's dataset
(:func:`models.service.solve`, locations ``bore`` and ``outer``):

=============================  ====  ==========================================================
output                         unit  definition
=============================  ====  ==========================================================
bore_hoop_stress_end           Pa    hoop stress at the bore at the end of the hold
bore_hoop_stress_min           Pa    most compressive bore hoop stress of the history (heat-up)
bore_von_mises_max             Pa    peak von Mises stress at the bore
bore_von_mises_ramp_max        Pa    peak bore von Mises stress up to the end of the ramp
bore_von_mises_end             Pa    bore von Mises stress at the end of the hold
wall_delta_temperature_max     K     peak bore-minus-outer temperature difference
outer_hoop_strain_end          1     total hoop strain at the outer surface at the end
=============================  ====  ==========================================================

Unit-response mode parameters (amplitudes per output and location, the time constants
they share, the pressure gain; :func:`models.modefit.fit_shared_modes`) are
produced by :class:`ModeResponses` under names ``mode.<output>.<location>.<field>``
(:func:`mode_output_names`), for the outputs :func:`mode_keys_for` derives from a
config: the temperature at every temperature sensor and damage location, the hoop and
axial strain at every strain gauge, and the three stress components at every damage
location.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surrogates.errors import ParameterSpaceError
from surrogates.space import ParameterSpace

__all__ = [
    "DAMAGE_LOCATIONS",
    "MODE_KEYS",
    "PEAK_OUTPUTS",
    "FemResponses",
    "ModeResponses",
    "mode_keys_for",
    "mode_output_names",
    "modal_responses",
    "peak_quantities",
]

#: Critical locations whose stresses and temperature the damage accounting needs.
DAMAGE_LOCATIONS: tuple[str, ...] = ("bore", "outer")
_STRESSES = ("sigma_r", "sigma_theta", "sigma_z")
_GAUGE_STRAINS = ("eps_theta", "eps_z")  # hoop and axial gauges
_WALL_LOCATIONS = ("bore", "mid_wall", "outer")

#: (output, location) pairs whose fluid-temperature unit response is learned as modes
#: and whose pressure response is learned as a static gain: :func:`mode_keys_for` of
#: the example config (thermocouple at the outer surface, strain gauge at the outer
#: surface, damage at bore and outer surface).
MODE_KEYS: tuple[tuple[str, str], ...] = (
    ("temperature", "bore"),
    ("temperature", "outer"),
    ("sigma_r", "bore"),
    ("sigma_theta", "bore"),
    ("sigma_z", "bore"),
    ("sigma_r", "outer"),
    ("sigma_theta", "outer"),
    ("sigma_z", "outer"),
    ("eps_theta", "outer"),
    ("eps_z", "outer"),
)


def mode_keys_for(
    config: Any, *, damage_locations: Sequence[str] = DAMAGE_LOCATIONS
) -> tuple[tuple[str, str], ...]:
    """Return the (output, location) pairs a twin of ``config`` needs from the modal model.

    Temperatures at the damage locations and at every wall temperature sensor
    (a sensor at a named location uses that name, a through-wall thermocouple given by
    ``radius_m`` its own id), ``sigma_r``, ``sigma_theta``, ``sigma_z`` at every damage
    location, ``eps_theta`` and ``eps_z`` at every strain gauge. Fluid sensors are inputs.

    Parameters
    ----------
    config : ComponentConfig
    damage_locations : sequence of str
        Named wall locations whose damage is accounted (default bore and outer surface).

    Returns
    -------
    tuple of (str, str)
        Without repeats, in the order temperatures, stresses, strains.
    """
    for i, loc in enumerate(damage_locations):
        if loc not in _WALL_LOCATIONS:
            raise ParameterSpaceError(
                f"damage_locations[{i}]: {loc!r} is not a wall location; use one of "
                f"{list(_WALL_LOCATIONS)}"
            )

    def where(sensor: Any) -> str | None:
        if sensor.location == "fluid" or sensor.radius is None:
            return None
        return str(sensor.location) if sensor.location in _WALL_LOCATIONS else str(sensor.id)

    temps = [*damage_locations] + [
        w for s in config.sensors if s.quantity == "temperature" and (w := where(s)) is not None
    ]
    gauges = [w for s in config.sensors if s.quantity == "strain" and (w := where(s)) is not None]
    keys = [("temperature", loc) for loc in temps]
    keys += [(name, loc) for loc in damage_locations for name in _STRESSES]
    keys += [(name, loc) for loc in gauges for name in _GAUGE_STRAINS]
    return tuple(dict.fromkeys(keys))


#: name -> (unit, description)
PEAK_OUTPUTS: dict[str, tuple[str, str]] = {
    "bore_hoop_stress_end": ("Pa", "bore hoop stress at the end of the hold"),
    "bore_hoop_stress_min": ("Pa", "most compressive bore hoop stress"),
    "bore_von_mises_end": ("Pa", "bore von Mises stress at the end of the hold"),
    "bore_von_mises_max": ("Pa", "peak bore von Mises stress"),
    "bore_von_mises_ramp_max": ("Pa", "peak bore von Mises stress up to the end of the ramp"),
    "outer_hoop_strain_end": ("1", "outer-surface total hoop strain at the end"),
    "wall_delta_temperature_max": ("K", "peak bore-minus-outer temperature difference"),
}


def peak_quantities(ds: Any, outputs: Sequence[str] = tuple(PEAK_OUTPUTS)) -> dict[str, float]:
    """Extract the steady and peak quantities from a service-model dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`models.service.solve` (dims ``time``, ``location``).
    outputs : sequence of str
        Names from :data:`PEAK_OUTPUTS`.

    Returns
    -------
    dict
        ``{output: value}`` in SI units.
    """
    unknown = [o for o in outputs if o not in PEAK_OUTPUTS]
    if unknown:
        raise ParameterSpaceError(
            f"surrogate.outputs: unknown outputs {unknown}; choose from {sorted(PEAK_OUTPUTS)}"
        )
    bore = ds.sel(location="bore")
    outer = ds.sel(location="outer")
    # End of the ramp: the first time the fluid reaches its highest temperature. The
    # overall peak switches between this transient peak and the hold value across a
    # parameter box (a kink a GP smooths over); the two parts are smooth on their own.
    ramp_end = float(ds["time"].values[int(ds["fluid_temperature"].argmax("time"))])
    values = {
        "bore_hoop_stress_end": lambda: bore["sigma_theta"].isel(time=-1),
        "bore_hoop_stress_min": lambda: bore["sigma_theta"].min("time"),
        "bore_von_mises_max": lambda: bore["sigma_vm"].max("time"),
        "bore_von_mises_ramp_max": lambda: (
            bore["sigma_vm"].sel(time=slice(None, ramp_end)).max("time")
        ),
        "bore_von_mises_end": lambda: bore["sigma_vm"].isel(time=-1),
        "outer_hoop_strain_end": lambda: outer["eps_theta"].isel(time=-1),
        "wall_delta_temperature_max": lambda: (bore["temperature"] - outer["temperature"]).max(
            "time"
        ),
    }
    return {o: float(values[o]()) for o in outputs}


@dataclass(frozen=True)
class FemResponses:
    """Picklable campaign function: FEM solve of one parameter point, then its targets.

    Attributes
    ----------
    config : dict
        The base component config, TOML-shaped (``ComponentConfig.to_dict()``).
    space : dict
        The ``[surrogate]`` section the parameter space is read from.
    outputs : tuple of str
        Names from :data:`PEAK_OUTPUTS`.
    overrides : dict
        Extra dotted-key overrides applied to every run (e.g. a coarser mesh in CI).
    """

    config: Mapping[str, Any]
    space: Mapping[str, Any]
    outputs: tuple[str, ...] = tuple(PEAK_OUTPUTS)
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, point: Mapping[str, float]) -> dict[str, float]:
        """Solve the FEM at ``point`` and return ``{output: value}`` (SI)."""
        from models.service import solve

        run, material = _run_setup(self.config, self.space, self.overrides, point)
        ds = solve(run, fields=False, material=material)
        # Non-finite values are stored as they are; training refuses them naming the run.
        return peak_quantities(ds, self.outputs)


def _run_setup(
    config: Mapping[str, Any],
    space_section: Mapping[str, Any],
    overrides: Mapping[str, Any],
    point: Mapping[str, float],
) -> tuple[Any, Any]:
    """Return the validated run config and the (scaled) material of one design point."""
    import dolfinx_solver  # noqa: F401  (must precede dolfinx, project rule)

    from models.config import parse_config

    cfg = parse_config(dict(config))
    if overrides:
        cfg = cfg.with_overrides(dict(overrides))
    space = ParameterSpace.from_section(space_section)
    return space.config_for(cfg, point), space.material_for(cfg, point)


def mode_output_names(
    keys: tuple[tuple[str, str], ...] = MODE_KEYS, *, n_modes: int = 3
) -> dict[str, str]:
    r"""Names and units of the learned unit-response parameters.

    Per ``(output, location)``: the amplitudes ``b1..bm`` (per K) and ``log10_tau1..m``
    (time constants in log10 s, sorted ascending; the campaign fits one set shared by
    all outputs of a point, :func:`models.modefit.fit_shared_modes`) of the
    fluid-temperature step response :math:`g(t) = \sum_i b_i (1 - e^{-t/\tau_i})`, and,
    except for the temperature, the pressure gain ``pressure_gain`` (per Pa). Returns
    ``{name: unit}`` in column order.
    """
    from models.responses import RESPONSE_OUTPUTS

    out: dict[str, str] = {}
    for name, loc in keys:
        unit = RESPONSE_OUTPUTS.get(name, "1")
        for i in range(1, n_modes + 1):
            out[f"mode.{name}.{loc}.b{i}"] = f"{unit} K-1"
        for i in range(1, n_modes + 1):
            out[f"mode.{name}.{loc}.log10_tau{i}"] = "log10(s)"
        if name != "temperature":  # the temperature does not respond to pressure
            out[f"mode.{name}.{loc}.pressure_gain"] = f"{unit} Pa-1"
    return out


@dataclass(frozen=True)
class ModeResponses:
    """Picklable campaign function: FEM unit responses of a point, fitted as modes.

    The properties are frozen at the point's hold temperature when the space varies
    it (else at the FEM's default); load-shape parameters do not change the unit
    responses of the linear model. One FEM run gives every output at every location;
    the modes of ``keys`` are fitted with shared time constants
    (:func:`models.modefit.fit_shared_modes`).

    Attributes
    ----------
    config, space, overrides
        As in :class:`FemResponses`.
    keys : tuple of (output, location)
    n_modes : int
    stages, stage_steps : int
        Time grid of :func:`models.responses.unit_responses`.
    """

    config: Mapping[str, Any]
    space: Mapping[str, Any]
    keys: tuple[tuple[str, str], ...] = MODE_KEYS
    n_modes: int = 3
    stages: int = 11
    stage_steps: int = 50
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, point: Mapping[str, float]) -> dict[str, float]:
        """Compute the unit responses at ``point`` and return the mode parameters."""
        import math

        from models.modefit import fit_shared_modes
        from models.responses import unit_responses

        run, material = _run_setup(self.config, self.space, self.overrides, point)
        hold = point.get("loads.hold_temperature_degC")
        ur = unit_responses(
            run,
            property_temperature=None if hold is None else float(hold) + 273.15,
            material=material,
            stages=self.stages,
            stage_steps=self.stage_steps,
        )
        modes = fit_shared_modes(ur, self.keys, n_modes=self.n_modes)
        out: dict[str, float] = {}
        for name, loc in self.keys:
            amps = modes.amplitudes[(name, loc)]
            for i in range(self.n_modes):
                out[f"mode.{name}.{loc}.b{i + 1}"] = float(amps[i])
            for i in range(self.n_modes):
                out[f"mode.{name}.{loc}.log10_tau{i + 1}"] = math.log10(modes.time_constants[i])
            if name != "temperature":
                out[f"mode.{name}.{loc}.pressure_gain"] = modes.pressure_gain[(name, loc)]
        return out


def modal_responses(
    values: Mapping[str, float],
    keys: tuple[tuple[str, str], ...] = MODE_KEYS,
    *,
    n_modes: int = 3,
) -> dict[tuple[str, str, str], Any]:
    """Turn learned mode parameters back into :class:`models.responses.ModalResponse` filters.

    Parameters
    ----------
    values : mapping
        ``{name: value}`` as named by :func:`mode_output_names` (e.g. one row of a mode
        surrogate's predicted mean).
    keys, n_modes
        As used for training.

    Returns
    -------
    dict
        ``{(output, location, input): ModalResponse}`` for the inputs
        ``fluid_temperature`` and (except the temperature) ``pressure``; time constants
        come back sorted, as the FEM fit returns them.
    """
    from models.responses import ModalResponse

    out: dict[tuple[str, str, str], Any] = {}
    for name, loc in keys:
        amps = np.array([values[f"mode.{name}.{loc}.b{i}"] for i in range(1, n_modes + 1)])
        taus = 10.0 ** np.array(
            [values[f"mode.{name}.{loc}.log10_tau{i}"] for i in range(1, n_modes + 1)]
        )
        order = np.argsort(taus)
        out[(name, loc, "fluid_temperature")] = ModalResponse(
            direct=0.0, amplitudes=amps[order], time_constants=taus[order]
        )
        if name != "temperature":
            gain = float(values[f"mode.{name}.{loc}.pressure_gain"])
            out[(name, loc, "pressure")] = ModalResponse(direct=gain)
    return out
