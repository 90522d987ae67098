"""Unit conversion at the edge, checked against exact SI definitions and pint."""

from __future__ import annotations

import numpy as np
import pint
import pytest

from sensors.errors import UnitError
from sensors.units import ALLOWED_UNITS, from_si, si_coefficients, to_si


def test_celsius_to_kelvin_adds_exactly_273_15() -> None:
    # SI Brochure (9th ed., 2019), 2.3.1: t/degC = T/K - 273.15 exactly.
    np.testing.assert_allclose(
        to_si([0.0, 565.0, -273.15], "degC", "temperature"),
        [273.15, 838.15, 0.0],
        rtol=0,
        atol=1e-12,
    )


def test_pressure_units_match_their_definitions() -> None:
    # 1 bar = 1e5 Pa (SI Brochure, Table 8); MPa and kPa by SI prefixes.
    assert to_si(17.0, "MPa", "pressure") == pytest.approx(17e6, rel=1e-15)
    assert to_si(170.0, "bar", "pressure") == pytest.approx(17e6, rel=1e-15)
    assert to_si(1.0, "kPa", "pressure") == pytest.approx(1e3, rel=1e-15)


def test_microstrain_is_one_millionth() -> None:
    # ASTM E251 / E1237 terminology: 1 microstrain = 1e-6 m/m.
    assert to_si(1500.0, "microstrain", "strain") == pytest.approx(1.5e-3, rel=1e-15)


@pytest.mark.parametrize("quantity", sorted(ALLOWED_UNITS))
def test_every_allowed_unit_agrees_with_a_fresh_pint_registry_and_round_trips(
    quantity: str,
) -> None:
    ureg = pint.UnitRegistry()
    names = {
        "degC": "degC",
        "K": "K",
        "Pa": "Pa",
        "kPa": "kPa",
        "MPa": "MPa",
        "bar": "bar",
        "1": "dimensionless",
        "microstrain": "1e-6 * dimensionless",
        "m": "m",
        "mm": "mm",
    }
    si = {"temperature": "K", "pressure": "Pa", "strain": "dimensionless", "wall_thickness": "m"}
    x = np.array([-3.5, 0.0, 12.25, 900.0])
    for unit in ALLOWED_UNITS[quantity]:
        expected = ureg.Quantity(
            x, ureg(names[unit]).units if unit != "microstrain" else "dimensionless"
        )
        if unit == "microstrain":
            expected = expected * 1e-6
        np.testing.assert_allclose(
            to_si(x, unit, quantity), expected.to(si[quantity]).magnitude, rtol=1e-14, atol=1e-12
        )
        np.testing.assert_allclose(
            from_si(to_si(x, unit, quantity), unit, quantity), x, rtol=1e-14, atol=1e-12
        )


@pytest.mark.parametrize(
    ("unit", "quantity"),
    [
        ("degF", "temperature"),
        ("psi", "pressure"),
        ("bar", "temperature"),
        ("", "strain"),
        ("K", "humidity"),
    ],
)
def test_unknown_or_mismatched_units_are_rejected_naming_the_value(
    unit: str, quantity: str
) -> None:
    with pytest.raises(UnitError, match=repr(unit) if quantity != "humidity" else "humidity"):
        si_coefficients(unit, quantity)
