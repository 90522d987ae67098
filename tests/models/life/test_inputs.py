"""Bad input to the life laws: clear errors naming the argument and the value."""

from __future__ import annotations

import numpy as np
import pytest

import models.life as life
from models.errors import LawInputError, UnknownMaterialError

LM = life.larson_miller("316H")
K600 = life.strain_life("316H", 873.0)
OX = life.ParabolicOxidation(k0=1e-9, Q=1e5, pilling_bedworth=2.0)
BAD_INPUTS = {
    "nan stress": (lambda: LM.rupture_time(float("nan"), 873.0), r"stress: must be finite"),
    "hot": (lambda: LM.rupture_time(100e6, 1500.0), r"temperature: .*1500 K.*extrapolate=True"),
    "overstress": (lambda: LM.rupture_time(1e9, 873.0), r"stress: .*calibrated"),
    "negative hold": (
        lambda: life.robinson_fraction([-1.0], 100e6, 873.0, curve=LM),
        r"durations: must be >= 0; element 0 is -1",
    ),
    "table temperature": (lambda: life.strain_life("316H", 2000.0), r"temperature: .*2000 K"),
    "negative amplitude": (
        lambda: life.cycles_to_failure(-0.001, constants=K600),
        r"strain_amplitude: must be >= 0",
    ),
    "large amplitude": (
        lambda: life.cycles_to_failure(0.05, constants=K600),
        r"strain_amplitude: .*calibrated",
    ),
    "shrinking crack": (
        lambda: life.ParisLaw(C=1e-29, m=3.0).cycles_closed_form(2e-3, 1e-3, 1e8),
        r"final_length",
    ),
    "negative damage": (
        lambda: life.creep_fatigue_envelope("316H").is_inside(-0.1, 0.1),
        r"fatigue: must be >= 0",
    ),
    "wall below minimum": (lambda: OX.time_to_wall(0.02, 0.03, 873.0), r"minimum_wall"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_raises_law_input_error_naming_argument_and_value(case: str) -> None:
    call, pattern = BAD_INPUTS[case]
    with pytest.raises(LawInputError, match=pattern):
        call()


def test_extrapolate_true_accepts_out_of_range_values_explicitly() -> None:
    curve = life.larson_miller("316H")
    assert np.isfinite(curve.rupture_time(100e6, 1150.0, extrapolate=True))
    k = life.strain_life("316H", 1000.0, extrapolate=True)
    assert float(k.E) < 139.4e9  # linear continuation, not a clamp to the last row


def test_unknown_and_missing_material_data_raise_unknown_material_error() -> None:
    with pytest.raises(UnknownMaterialError, match="unobtainium"):
        life.larson_miller("unobtainium")
    with pytest.raises(UnknownMaterialError, match="316h.*oxidation"):
        life.oxidation_law("316H")
    with pytest.raises(KeyError):  # UnknownMaterialError is also a KeyError
        life.oxidation_law("A617")
