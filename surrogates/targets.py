"""What the surrogates learn from an FEM run, and the picklable FEM campaign function.

Steady and peak quantities are read from the service model's dataset
(:func:`models.service.solve`, locations ``bore`` and ``outer``):

=============================  ====  ==========================================================
output                         unit  definition
=============================  ====  ==========================================================
bore_hoop_stress_end           Pa    hoop stress at the bore at the end of the hold
bore_hoop_stress_min           Pa    most compressive bore hoop stress of the history (heat-up)
bore_von_mises_max             Pa    peak von Mises stress at the bore
wall_delta_temperature_max     K     peak bore-minus-outer temperature difference
outer_hoop_strain_end          1     total hoop strain at the outer surface at the end
=============================  ====  ==========================================================

Unit-response mode parameters (static gain, amplitudes and time constants per output,
location and input; :func:`models.responses.fit_modes`) are added by
:func:`mode_parameters` under names ``mode.<output>.<location>.<input>.<field>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from surrogates.errors import ParameterSpaceError
from surrogates.space import ParameterSpace

__all__ = ["PEAK_OUTPUTS", "FemResponses", "peak_quantities"]

#: name -> (unit, description)
PEAK_OUTPUTS: dict[str, tuple[str, str]] = {
    "bore_hoop_stress_end": ("Pa", "bore hoop stress at the end of the hold"),
    "bore_hoop_stress_min": ("Pa", "most compressive bore hoop stress"),
    "bore_von_mises_max": ("Pa", "peak bore von Mises stress"),
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
    values = {
        "bore_hoop_stress_end": lambda: bore["sigma_theta"].isel(time=-1),
        "bore_hoop_stress_min": lambda: bore["sigma_theta"].min("time"),
        "bore_von_mises_max": lambda: bore["sigma_vm"].max("time"),
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
        import dolfinx_solver  # noqa: F401  (must precede dolfinx, project rule)

        from models.config import parse_config
        from models.service import solve

        cfg = parse_config(dict(self.config))
        if self.overrides:
            cfg = cfg.with_overrides(dict(self.overrides))
        space = ParameterSpace.from_section(self.space)
        # Lengths rounded to 1 nm: the mesh locator rounds node radii to 1e-12 m and then
        # rejects an outer radius with more digits (reported to the FEM owner).
        point = {k: round(v, 9) if k.startswith("geometry.") else v for k, v in point.items()}
        ds = solve(
            space.config_for(cfg, point), fields=False, material=space.material_for(cfg, point)
        )
        # Non-finite values are stored as they are; training refuses them naming the run.
        return peak_quantities(ds, self.outputs)
