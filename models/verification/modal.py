"""Verification of the stateful modal filter against the FEM of the example header.

Groups (each returns a list of :class:`~models.verification.CaseResult`):

* ``modal/frozen_fem``: the filter of the fitted unit responses against the direct FEM
  with the same frozen properties, on a start-up, a shut-down and a trip
  (:mod:`models.modal_error`): within 1 % of each output's peak change.
* ``modal/temperature_dependent``: the same filter against the temperature-dependent
  FEM; the RMS model error per output must equal the figure stored in
  ``models/data/modal_error.toml`` (the model-discrepancy standard deviations a twin
  reads), so a change of the model that moves it is seen. Regenerate the file with
  ``python -m models.verification.modal --write``.

The modal model is the one a twin of the example runs: unit responses with properties
frozen at the hold temperature, fitted with the config's ``[surrogate.modes]`` mode
count and time grid, on a coarse mesh (20 radial cells of degree 2, one axial cell)
shared by the FEM it is compared with. FEM time step 2 s (6 s on the ramps of the
temperature-dependent runs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.verification import CaseResult, compare

__all__ = ["CASES", "model_error_figures"]

_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "grade91_header.toml"
_COARSE = {"mesh.radial_cells": 20, "mesh.axial_cells": 1}
_TIME_STEP = 2.0  # s, frozen-property comparisons (the FEM's backward Euler error < 0.1 %)
# temperature-dependent FEM: 6 s on the two-hour ramps (its time error is small against a
# model error of several per cent), 2 s on the two-minute trip
_TDEP_STEPS = {"startup": 6.0, "shutdown": 6.0, "trip": 2.0}
_FLOOR = 0.05  # scale floor: fraction of the largest stress peak at the same location
#: The outputs compared (those of surrogates.targets.MODE_KEYS for the example).
OUTPUTS: tuple[tuple[str, str], ...] = (
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
_SRC_FROZEN = (
    "Duhamel superposition of FEM unit-step responses (Boley & Weiner, Theory of Thermal "
    "Stresses, 1960, ch. 1) advanced by the exact ramp-invariant recursion, against the direct "
    "FEM transient of the same frozen-property model (models.service.solve)"
)
_SRC_TDEP = (
    "stored model-error figures models/data/modal_error.toml (python -m "
    "models.verification.modal --write); reference FEM: models.service.solve with "
    "temperature-dependent properties of the material tables"
)


@functools.cache
def _setup() -> tuple[Any, Any, float, dict[str, Any]]:
    """Return the coarse example config, its one-particle bank, the property temperature."""
    import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)

    from models.config import load_config
    from models.modal_error import modal_bank

    cfg = load_config(_EXAMPLE).with_overrides(_COARSE)
    modes = dict(cfg.sections.get("surrogate", {}).get("modes", {}))
    settings = {
        "n_modes": int(modes.get("n_modes", 4)),
        "stages": int(modes.get("stages", 8)),
        "stage_steps": int(modes.get("stage_steps", 15)),
    }
    Tp = float(np.max(cfg.loads.fluid_temperature))  # the hold: as the mode campaign does
    bank = modal_bank(cfg, OUTPUTS, property_temperature=Tp, **settings)
    return cfg, bank, Tp, settings


def _comparisons(*, frozen: bool) -> list[Any]:
    from models.modal_error import TRANSIENTS, compare_transient

    cfg, bank, Tp, _ = _setup()
    return [
        compare_transient(
            cfg,
            name,
            bank,
            time_step=_TIME_STEP if frozen else _TDEP_STEPS[name],
            property_temperature=Tp if frozen else None,
        )
        for name in TRANSIENTS
    ]


def _scales(c: Any) -> np.ndarray:
    """Return the peak change per output, floored for stresses.

    A stress that is zero by a boundary condition (the radial stress at the
    traction-free outer surface) is compared with 5 % of the largest stress peak at its
    location.
    """
    peak = c.peak.copy()
    for j, (o, loc) in enumerate(c.outputs):
        if o.startswith("sigma_"):
            same = [
                peak[k]
                for k, (o2, l2) in enumerate(c.outputs)
                if o2.startswith("sigma_") and l2 == loc
            ]
            peak[j] = max(peak[j], _FLOOR * max(same))
    return np.asarray(peak, dtype=np.float64)


def frozen_fem() -> list[CaseResult]:
    """Filter vs frozen-property FEM: worst error of each output on each transient."""
    out = []
    for c in _comparisons(frozen=True):
        scale = _scales(c)
        for j, (o, loc) in enumerate(c.outputs):
            i = int(np.argmax(np.abs(c.error[j])))
            out.append(
                compare(
                    "modal/frozen_fem",
                    f"{o} {loc} {c.name} t={c.time[i]:.0f}s (worst)",
                    c.modal[j, i],
                    c.fem[j, i],
                    tolerance=0.01,
                    source=_SRC_FROZEN,
                    scale=float(scale[j]),
                )
            )
    return out


def model_error_figures() -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute the model error against the temperature-dependent FEM: ``(result, header)``."""
    from models.config import load_config
    from models.modal_error import modal_model_error

    _, _, Tp, settings = _setup()
    result = modal_model_error(_comparisons(frozen=False))
    header = {
        "description": (
            "model error of the frozen-property modal filter against the temperature-dependent "
            "FEM, per output, pooled over a start-up, a shut-down and a trip "
            "(models.modal_error); rms and max in the output's SI unit, *_rel_peak relative "
            "to the largest FEM change over the three"
        ),
        "config": "examples/grade91_header.toml",
        "config_hash_at_computation": load_config(_EXAMPLE).config_hash,
        "mesh": "radial_cells = 20, axial_cells = 1, degree 2",
        "fem_time_step_s": ", ".join(f"{k} {v:g}" for k, v in _TDEP_STEPS.items()),
        "property_temperature_K": Tp,
        "n_modes": settings["n_modes"],
        "unit_response_stages": settings["stages"],
        "unit_response_stage_steps": settings["stage_steps"],
        "computed_by": "python -m models.verification.modal --write",
    }
    return result, header


def temperature_dependent() -> list[CaseResult]:
    """RMS model error per output against the stored figures (regression, 5 %)."""
    from models.modal_error import load_modal_error

    stored = load_modal_error()
    result, _ = model_error_figures()
    out = []
    for o, per_loc in result["outputs"].items():
        for loc, rec in per_loc.items():
            ref = stored[(o, loc)]
            out.append(
                compare(
                    "modal/temperature_dependent",
                    f"{o} {loc} rms model error ({rec['unit']}; {100 * rec['rms_rel_peak']:.2f} % "
                    "of peak)",
                    rec["rms"],
                    float(ref["rms"]),
                    tolerance=0.05,
                    source=_SRC_TDEP,
                )
            )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "modal/frozen_fem": frozen_fem,
    "modal/temperature_dependent": temperature_dependent,
}


def _main() -> None:  # pragma: no cover - maintenance entry point
    import argparse

    from models.modal_error import DEFAULT_MODAL_ERROR, write_modal_error

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write models/data/modal_error.toml")
    args = parser.parse_args()
    result, header = model_error_figures()
    for o, per_loc in result["outputs"].items():
        for loc, rec in per_loc.items():
            print(
                f"{o:12s} {loc:8s} rms {rec['rms']:.4g} {rec['unit']:2s} "
                f"({100 * rec['rms_rel_peak']:.2f} % of peak), "
                f"max {100 * rec['max_rel_peak']:.2f} %"
            )
    if args.write:
        print(write_modal_error(result, DEFAULT_MODAL_ERROR, header=header))


if __name__ == "__main__":  # pragma: no cover
    _main()
