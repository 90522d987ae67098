"""Paris-law crack growth: threshold and closed form."""

from __future__ import annotations

import math

import numpy as np

import models.life as life


def test_paris_threshold_stops_growth_and_closed_form_reports_infinite_life() -> None:
    law = life.ParisLaw(C=1e-29, m=3.0, Y=1.12, threshold=5e6)
    dk0 = float(law.delta_k(1e-3, 50e6))
    assert dk0 < 5e6
    assert math.isinf(float(law.cycles_closed_form(1e-3, 2e-3, 50e6)))
    assert float(law.grow([1e-3], np.full(100, 50e6))[0]) == 1e-3
