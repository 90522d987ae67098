"""Material property tables: values against their cited sources, interpolation, errors."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest

from models.errors import MaterialDataError, MaterialRangeError, UnknownMaterialError
from models.material_file import load_material_file
from models.materials import (
    PROPERTY_NAMES,
    T20,
    Material,
    available_materials,
    get_material,
)

C = 273.15  # K at 0 degC

# 1 Btu_IT/(h ft degF) in W/(m K), from its definitions (1 Btu_IT = 1055.05585262 J,
# 1 ft = 0.3048 m, 1 degF = 5/9 K): an independent check of the factor in grade91.toml.
BTU_H_FT_F = 1055.05585262 / (3600.0 * 0.3048 * 5.0 / 9.0)


@pytest.fixture(scope="module")
def gr91() -> Material:
    return get_material("grade91")


@pytest.fixture(scope="module")
def ss316h() -> Material:
    return get_material("316h")


def test_shipped_materials_are_found_as_package_data() -> None:
    folder = resources.files("models").joinpath("data", "materials")
    assert folder.joinpath("grade91.toml").is_file()
    assert set(available_materials()) == {"316h", "a617", "grade91"}


def test_grade91_modulus_at_a_tabulated_temperature_matches_asme_tm1(gr91: Material) -> None:
    # ASME II-D (Metric) 2025 Table TM-1, Material Group E (9Cr-Mo incl. variations):
    # E = 187 x 10^3 MPa at 400 degC and 161 x 10^3 MPa at 650 degC.
    assert gr91.E(400.0 + C) == pytest.approx(187e9, rel=1e-12)
    assert gr91.E(650.0 + C) == pytest.approx(161e9, rel=1e-12)


def test_midway_between_two_rows_is_the_average_of_the_rows(gr91: Material) -> None:
    # Hand check: TM-1 Group E gives 187 (400 degC) and 183 (450 degC) x 10^3 MPa,
    # so linear interpolation at 425 degC gives (187 + 183) / 2 = 185 x 10^3 MPa.
    assert gr91.E(425.0 + C) == pytest.approx(185e9, rel=1e-12)
    # TE-1 9Cr-1Mo coefficient B: 12.3e-6 (500 degC) and 12.4e-6 (525 degC) -> 12.35e-6.
    assert gr91.alpha_mean(512.5 + C) == pytest.approx(12.35e-6, rel=1e-12)


def test_316h_expansion_and_modulus_match_asme_tables(ss316h: Material) -> None:
    # ASME II-D (Metric) 2025 Table TE-1, Austenitic Stainless Steels Group 3, coefficient B
    # at 500 degC: 18.4 x 10^-6 /degC; Table TM-1 Material Group G at 550 degC: 156 x 10^3 MPa.
    assert ss316h.alpha_mean(500.0 + C) == pytest.approx(18.4e-6, rel=1e-12)
    assert ss316h.E(550.0 + C) == pytest.approx(156e9, rel=1e-12)
    # Table PRD, High alloy steels (300 series): nu = 0.31, rho = 8030 kg/m^3.
    assert ss316h.nu(600.0 + C) == pytest.approx(0.31)
    assert ss316h.rho(600.0 + C) == pytest.approx(8030.0)


def test_316h_conductivity_and_specific_heat_match_srlife_data(ss316h: Material) -> None:
    # srlife/data/thermal/316H.xml at 673.15 K: cond = 19.7e-3 W/mm-K, diff = 15984 mm^2/hr.
    k_ref = 19.7e-3 * 1e3
    diffusivity = 15984.0 * 1e-6 / 3600.0
    assert ss316h.k(673.15) == pytest.approx(k_ref, rel=1e-12)
    # cp recomputed from k, D and the PRD density (the file stores it rounded to 0.1 J/kg/K).
    assert ss316h.cp(673.15) == pytest.approx(k_ref / (8030.0 * diffusivity), abs=0.06)


def test_grade91_conductivity_is_asme_tcd_converted_from_customary_units(gr91: Material) -> None:
    # ASME II-D (Customary) 2025 Table TCD, Group F: TC = 15.6 Btu/hr-ft-degF at 500 degF and
    # TD = 0.254 ft^2/hr; the file stores SI values rounded to 1e-3 W/m/K and 0.1 J/kg/K.
    T_500F = (500.0 - 32.0) * 5.0 / 9.0 + C
    assert gr91.k(T_500F) == pytest.approx(15.6 * BTU_H_FT_F, abs=1e-3)
    diffusivity = 0.254 * 0.3048**2 / 3600.0
    assert gr91.cp(T_500F) == pytest.approx(15.6 * BTU_H_FT_F / (7750.0 * diffusivity), abs=0.06)


def test_thermal_strain_from_20c_matches_asme_linear_expansion_column(gr91: Material) -> None:
    # TE-1 9Cr-1Mo coefficient C (linear expansion from 20 degC, printed to 0.1 mm/m):
    # 7.3 mm/m at 600 degC and 5.9 mm/m at 500 degC. Our strain uses coefficient B (printed to
    # 0.1e-6/degC), so the two agree within half a printed digit of each:
    # 0.05e-3 + 0.05e-6 * (T - 20 degC).
    for T_c, c_ref in ((600.0, 7.3e-3), (500.0, 5.9e-3)):
        tol = 0.05e-3 + 0.05e-6 * (T_c - 20.0)
        assert gr91.thermal_strain(T_c + C, T20) == pytest.approx(c_ref, abs=tol)


def test_316h_thermal_strain_matches_asme_linear_expansion_column(ss316h: Material) -> None:
    # TE-1 Austenitic Group 3 coefficient C: 10.9 mm/m at 600 degC, 6.9 mm/m at 400 degC.
    for T_c, c_ref in ((600.0, 10.9e-3), (400.0, 6.9e-3)):
        tol = 0.05e-3 + 0.05e-6 * (T_c - 20.0)
        assert ss316h.thermal_strain(T_c + C, T20) == pytest.approx(c_ref, abs=tol)


def test_a617_tables_match_asme_tm4_te4_and_start_at_25c() -> None:
    mat = get_material("a617")
    # ASME II-D (Metric) 2025 Table TM-4, N06617: 167 x 10^3 MPa at 600 degC; no value
    # printed below 25 degC, so the material range starts there.
    assert mat.E(600.0 + C) == pytest.approx(167e9, rel=1e-12)
    assert mat.temperature_range[0] == pytest.approx(25.0 + C)
    # TE-4 N06617 coefficient C: 8.5 mm/m at 600 degC (B = 14.6e-6 from 20 degC).
    assert mat.thermal_strain(600.0 + C, T20) == pytest.approx(8.5e-3, abs=0.05e-3 + 0.05e-6 * 580)


def test_thermal_strain_vanishes_at_the_reference_temperature(
    gr91: Material, ss316h: Material
) -> None:
    T = np.array([293.15, 400.0, 673.15, 900.0])
    for mat in (gr91, ss316h):
        assert np.all(mat.thermal_strain(T, T) == 0.0)
        assert mat.thermal_strain(700.0, 500.0) == pytest.approx(
            -mat.thermal_strain(500.0, 700.0), rel=1e-15
        )


def test_thermal_strain_slope_at_20c_is_the_instantaneous_coefficient(gr91: Material) -> None:
    # At T20 the slope d/dT[alpha_mean (T - T20)] equals alpha_mean(T20), which ASME TE-1 also
    # prints as the instantaneous coefficient A at 20 degC: 10.5 x 10^-6 /degC for 9Cr-1Mo.
    h = 1e-4
    slope = (gr91.thermal_strain(T20 + h, T20) - gr91.thermal_strain(T20, T20)) / h
    # The expansion is smoothed within the printing resolution (0.1e-6 /K, so +/-0.05e-6).
    assert slope == pytest.approx(10.5e-6, abs=0.06e-6)


def test_scalars_give_floats_and_arrays_keep_their_shape(gr91: Material) -> None:
    assert isinstance(gr91.k(500.0), float)
    T = np.full((3, 2), 500.0)
    for prop in PROPERTY_NAMES:
        out = getattr(gr91, prop)(T)
        assert isinstance(out, np.ndarray) and out.shape == (3, 2)


def test_temperature_range_is_the_intersection_of_the_tables(gr91: Material) -> None:
    # alpha (TE-1) and k, cp start at 20 degC; E (TM-1) stops at 700 degC.
    assert gr91.temperature_range == pytest.approx((20.0 + C, 700.0 + C))
    assert set(gr91.sources) == set(PROPERTY_NAMES)
    assert "TM-1" in gr91.sources["E"] and "TE-1" in gr91.sources["alpha_mean"]


def test_out_of_range_temperature_error_names_material_property_and_value(
    gr91: Material,
) -> None:
    with pytest.raises(MaterialRangeError) as info:
        gr91.E(1000.0)
    message = str(info.value)
    for piece in ("grade91", "'E'", "1000.00 K", "726.85 degC", "700.00 degC"):
        assert piece in message
    with pytest.raises(ValueError, match=r"'k'.*292\.15 K \(19\.00 degC\).*1 of 2 values"):
        gr91.k([292.15, 500.0])
    with pytest.raises(MaterialRangeError, match="non-finite"):
        gr91.cp(math.nan)


def test_unknown_material_error_lists_the_available_names() -> None:
    with pytest.raises(UnknownMaterialError) as info:
        get_material("inconel-999")
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    for piece in ("inconel-999", "grade91", "316h", "a617"):
        assert piece in message


def test_names_are_case_insensitive_and_cached() -> None:
    assert get_material(" GRADE91 ") is get_material("grade91")
    assert get_material("316H").name == "316h"


def test_constant_material_has_no_temperature_limits() -> None:
    mat = Material.constant(E=200e9, nu=0.3, alpha=1.2e-5, k=40.0, rho=7800.0, cp=500.0)
    assert mat.E(5000.0) == 200e9 and mat.k(1.0) == 40.0
    # alpha constant: eps = alpha (T - T_ref) exactly.
    assert mat.thermal_strain(800.0, 300.0) == pytest.approx(1.2e-5 * 500.0, rel=1e-14)
    with pytest.raises(MaterialDataError, match="nu"):
        Material.constant(E=200e9, nu=0.6, alpha=1e-5, k=1.0, rho=1.0, cp=1.0)
    with pytest.raises(MaterialDataError, match="k must be positive"):
        Material.constant(E=200e9, nu=0.3, alpha=1e-5, k=-1.0, rho=1.0, cp=1.0)


_GOOD = """
schema_version = 1
name = "test"
[properties.E]
unit = "GPa"
source = "s"
temperature_degC = [20.0, 100.0]
values = [200.0, 190.0]
[properties.nu]
unit = "-"
source = "s"
value = 0.3
[properties.alpha_mean]
unit = "1e-6/K"
source = "s"
temperature_degC = [20.0, 100.0]
values = [11.0, 12.0]
[properties.k]
unit = "W/m/K"
source = "s"
value = 30.0
[properties.rho]
unit = "kg/m^3"
source = "s"
value = 7800.0
[properties.cp]
unit = "J/kg/K"
source = "s"
value = 450.0
"""


def test_a_valid_data_file_loads_and_converts_units() -> None:
    mat = load_material_file(_GOOD)
    assert mat.E(60.0 + C) == pytest.approx(195e9)
    assert mat.alpha_mean(20.0 + C) == pytest.approx(11e-6)


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("[20.0, 100.0]\nvalues = [200.0", "[100.0, 20.0]\nvalues = [200.0", "strictly increasing"),
        ("values = [200.0, 190.0]", "values = [200.0]", "equal lengths"),
        ("values = [11.0, 12.0]", "values = [11.0, -12.0]", "must be positive"),
        ('unit = "GPa"', 'unit = "psi"', "not accepted"),
        ('source = "s"\nvalue = 30.0', 'source = " "\nvalue = 30.0', "must cite"),
    ],
)
def test_invalid_data_files_are_rejected_with_the_broken_rule(
    old: str, new: str, rule: str
) -> None:
    text = _GOOD.replace(old, new, 1)
    assert text != _GOOD
    with pytest.raises(MaterialDataError, match=rule):
        load_material_file(text, origin="bad.toml")


@pytest.mark.parametrize("name", ["grade91", "316h", "a617"])
def test_smoothed_expansion_stays_within_printing_precision_of_every_table_row(name: str) -> None:
    # Reference: the tabulated mean coefficients themselves (ASME II-D TE-1/TE-4, printed to
    # 0.1e-6 /K). The linear expansion alpha_mean(T_i) (T_i - T20) is known to
    # +/- 0.05e-6 |T_i - T20|.
    mat = get_material(name)
    table = mat.tables["alpha_mean"]
    T = table.temperature
    e_table = table.values * (T - T20)
    e_model = np.asarray(mat.thermal_strain(T, np.full_like(T, T20)))
    half = 0.05e-6 * np.maximum(np.abs(T - T20), 1.0)
    assert np.max(np.abs(e_model - e_table) / half) <= 1.5
    # The instantaneous coefficient is continuous: on a 1 K grid it never changes by more than
    # 0.1e-6 /K, whereas differentiating the interpolated mean coefficients jumps by ~1e-6 /K.
    grid = np.arange(T[0], T[-1], 1.0)
    inst = np.asarray(mat.alpha_instantaneous(grid))
    assert np.max(np.abs(np.diff(inst))) < 0.1e-6
    raw = np.diff(np.interp(grid, T, table.values) * (grid - T20))
    assert np.max(np.abs(np.diff(raw))) > 0.3e-6


def test_scaled_material_scales_properties_and_thermal_strain_exactly() -> None:
    # Reference: the unscaled material times the factor (a scatter factor is a pure product).
    base = get_material("grade91")
    T = np.linspace(400.0, 900.0, 7)
    hot = base.scaled(E=1.1, alpha_mean=0.9)
    np.testing.assert_allclose(hot.E(T), 1.1 * np.asarray(base.E(T)), rtol=1e-14)
    np.testing.assert_allclose(
        hot.thermal_strain(T, T20), 0.9 * np.asarray(base.thermal_strain(T, T20)), rtol=1e-12
    )
    np.testing.assert_allclose(hot.k(T), base.k(T), rtol=0)
    with pytest.raises(MaterialDataError, match="youngs"):
        base.scaled(youngs=1.1)
