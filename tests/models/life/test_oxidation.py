"""Steam oxidation: Arrhenius rate, Norton rate and SpallMap hand values."""

from __future__ import annotations

import math

import pytest

import models.life as life
from models.errors import LawInputError


def test_arrhenius_rate_ratio_and_norton_rate_match_hand_values() -> None:
    ox = life.ParabolicOxidation(k0=2e-8, Q=200e3, pilling_bedworth=2.1)
    r = ox.rate_constant(900.0) / ox.rate_constant(800.0)
    assert r == pytest.approx(math.exp(-200e3 / 8.314462618 * (1 / 900.0 - 1 / 800.0)), rel=1e-12)
    assert ox.metal_loss(2.1e-4) == pytest.approx(1e-4)
    # 1e-40 * (100e6)^5 * exp(0) = 1e-40 * 1e40 = 1 /s.
    assert life.norton_rate(100e6, 900.0, A=1e-40, n=5.0, Q=0.0) == pytest.approx(1.0)


def test_grade91_steam_oxidation_matches_hand_values_of_the_spallmap_t91_input() -> None:
    # SpallMap T91 input (oxide_growth_input3_t91.txt): x^2 = 2 kp t, kp = 1e12 micron^2/h
    # * exp(-198987 / (R T)). Hand values in SI with the law's R and T in K: after
    # 8760 h at 873.15 K, x = sqrt(2e12 * 1e-12 / 3600 * exp(-198987 / (8.314462618 *
    # 873.15)) * 8760 * 3600) m.
    ox = life.oxidation_law("T91")
    x_hand = math.sqrt(2.0 / 3600.0 * math.exp(-198987 / (8.314462618 * 873.15)) * 8760 * 3600)
    assert float(ox.oxide_thickness([8760 * 3600.0], 873.15)) == pytest.approx(x_hand, rel=1e-12)
    assert 1e-4 < x_hand < 1e-3  # about 0.15 mm of scale per year at 600 C
    assert ox.pilling_bedworth == life.pilling_bedworth_ratio("P91") == 2.10
    with pytest.raises(LawInputError, match="temperature: .*1000 K"):
        ox.rate_constant(1000.0)
