"""Materials a user brings: a [material] section, a material file, aliases, override checks."""

from __future__ import annotations

import pathlib

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import pytest

from models.config import load_config, parse_config
from models.errors import ConfigError, UnknownMaterialError
from models.materials import Material, get_material

A, B = 0.15, 0.19

CONSTANT = {
    "name": "steel_const",
    "description": "constant-property steel for a hand check",
    "properties": {
        "E": {"unit": "GPa", "value": 200.0, "source": "hand check, textbook steel"},
        "nu": {"unit": "-", "value": 0.3, "source": "hand check, textbook steel"},
        "alpha_mean": {"unit": "1e-6/K", "value": 12.0, "source": "hand check"},
        "k": {"unit": "W/m/K", "value": 30.0, "source": "hand check"},
        "rho": {"unit": "kg/m^3", "value": 7800.0, "source": "hand check"},
        "cp": {"unit": "J/kg/K", "value": 500.0, "source": "hand check"},
    },
}

TABLED_FILE = '''
schema_version = 1
name = "my_alloy"
description = "a user alloy with one tabulated property"

[properties.E]
unit = "GPa"
source = "supplier data sheet MA-1, table 3"
temperature_degC = [20.0, 400.0, 700.0]
values = [210.0, 190.0, 160.0]

[properties.nu]
unit = "-"
value = 0.3
source = "supplier data sheet MA-1"

[properties.alpha_mean]
unit = "1e-6/K"
value = 12.5
source = "supplier data sheet MA-1"

[properties.k]
unit = "W/m/K"
value = 28.0
source = "supplier data sheet MA-1"

[properties.rho]
unit = "kg/m^3"
value = 7800.0
source = "supplier data sheet MA-1"

[properties.cp]
unit = "J/kg/K"
value = 480.0
source = "supplier data sheet MA-1"
'''


def _raw(material: object = "grade91", material_section: dict | None = None) -> dict:
    raw = {
        "component": {"name": "user-mat", "material": material},
        "geometry": {"inner_radius_m": A, "outer_radius_m": B, "length_m": 0.01},
        "mesh": {"radial_cells": 8, "axial_cells": 1, "degree": 2},
        "thermal": {"bore_htc_W_m2K": 3000.0, "initial_temperature_degC": 900.0},
        "loads": {
            "time_h": [0.0, 0.5, 4.0],
            "fluid_temperature_degC": [900.0, 1000.0, 1000.0],
            "pressure_MPa": [0.0, 10.0, 10.0],
        },
        "solver": {"time_step_s": 600.0},
    }
    if material is None:
        del raw["component"]["material"]
    if material_section is not None:
        raw["material"] = material_section
    return raw


def test_a_constant_property_section_solves_where_no_shipped_material_has_data() -> None:
    # 1000 degC is outside every shipped table; the constant-property material has no
    # range. After the hold the insulated wall is isothermal: closed-end Lame stresses
    # (Timoshenko & Goodier, Theory of Elasticity, ch. 4).
    from models.service import solve

    with pytest.raises(ConfigError, match="outside the data of material 'grade91'"):
        parse_config(_raw())
    cfg = parse_config(_raw(material=None, material_section=CONSTANT))
    assert cfg.component.material == "steel_const" and isinstance(cfg.material, Material)
    ds = solve(cfg, fields=False)
    assert ds.attrs["material"] == "steel_const"
    p = 10e6
    k = A * A / (B * B - A * A)
    end = ds.isel(time=-1)
    assert float(end["sigma_theta"].sel(location="bore")) == pytest.approx(
        p * k * (1 + B * B / A**2), rel=5e-3
    )
    # the section is part of the config's content and hash
    assert cfg.to_dict()["material"]["name"] == "steel_const"
    assert parse_config(cfg.to_dict()).config_hash == cfg.config_hash


def test_a_material_file_is_read_relative_to_the_config_and_inlined(tmp_path: pathlib.Path) -> None:
    (tmp_path / "alloys").mkdir()
    (tmp_path / "alloys" / "my_alloy.toml").write_text(TABLED_FILE)
    config = tmp_path / "component.toml"
    config.write_text(
        '[component]\nname = "c1"\nmaterial = "file:alloys/my_alloy.toml"\n'
        "[geometry]\ninner_radius_m = 0.15\nwall_thickness_m = 0.04\n"
        "[thermal]\nbore_htc_W_m2K = 2000.0\n"
        "[loads]\ntime_h = [0.0, 1.0]\nfluid_temperature_degC = [100.0, 600.0]\n"
        "pressure_MPa = [1.0, 10.0]\n"
    )
    cfg = load_config(config)
    assert cfg.component.material == "my_alloy"
    assert cfg.material.E(673.15) == pytest.approx(190e9)
    assert cfg.material.sources["E"] == "supplier data sheet MA-1, table 3"
    # the file's data travels with the config (no path to resolve again)
    again = parse_config(cfg.to_dict())
    assert again.material.E(673.15) == pytest.approx(190e9)
    assert cfg.with_overrides({"thermal.bore_htc_W_m2K": 2500.0}).component.material == "my_alloy"
    # a temperature outside the user's table is refused like one outside the shipped data
    config.write_text(config.read_text().replace("600.0]", "750.0]"))
    with pytest.raises(ConfigError, match="750.0 degC lies outside the data of material 'my_al"):
        load_config(config)
    with pytest.raises(ConfigError, match="cannot read the material file 'alloys/none.toml'"):
        parse_config(_raw(material="file:alloys/none.toml"), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m["properties"]["k"].pop("source"), r"properties.k\]\.source is missing"),
        (
            lambda m: m["properties"]["E"].update(unit="Pa"),
            r"E = 200 Pa \(in SI\) lies outside the plausible range",
        ),
        (lambda m: m["properties"].pop("cp"), r"\['cp'\] are missing"),
        (lambda m: m["properties"]["nu"].update(value=0.7), "Poisson's ratio"),
    ],
)
def test_a_user_material_is_validated_like_the_shipped_data(change, match) -> None:
    import copy

    section = copy.deepcopy(CONSTANT)
    change(section)
    with pytest.raises(ConfigError, match=match):
        parse_config(_raw(material=None, material_section=section))


def test_component_material_and_section_must_agree() -> None:
    with pytest.raises(ConfigError, match="differs from the \\[material\\] section's name"):
        parse_config(_raw(material="grade91", material_section=CONSTANT))
    with pytest.raises(ConfigError, match="component.material: required"):
        parse_config(_raw(material=None))


def test_solve_checks_the_temperatures_against_the_material_it_is_given() -> None:
    # The config names Grade 91 (data to 704 degC); a material handed to solve() whose
    # data end at 500 degC must be refused before the first step, naming that material.
    from models.service import solve

    raw = _raw()
    raw["thermal"]["initial_temperature_degC"] = 150.0
    raw["loads"]["fluid_temperature_degC"] = [150.0, 550.0, 550.0]
    cfg = parse_config(raw)
    narrow_section = {
        **CONSTANT,
        "name": "narrow",
        "properties": {
            **CONSTANT["properties"],
            "k": {
                "unit": "W/m/K",
                "temperature_degC": [20.0, 500.0],
                "values": [30.0, 28.0],
                "source": "hand check",
            },
        },
    }
    from models.material_file import material_from_mapping

    narrow = material_from_mapping(narrow_section, origin="test")
    with pytest.raises(ConfigError, match="550.0 degC lies outside the data of material 'narrow'"):
        solve(cfg, fields=False, material=narrow)


@pytest.mark.parametrize("alias", ["P91", "T91", "grade91", "Grade 91", "gr91"])
def test_grade91_aliases_mean_the_same_material_in_the_fem_and_the_life_laws(alias: str) -> None:
    from models import life

    assert get_material(alias) is get_material("grade91")
    raw = _raw(material=alias)
    raw["thermal"]["initial_temperature_degC"] = 150.0
    raw["loads"]["fluid_temperature_degC"] = [150.0, 550.0, 550.0]
    assert parse_config(raw).component.material == "grade91"
    assert life.creep_fatigue_envelope(alias) == life.creep_fatigue_envelope("grade91")
    assert life.larson_miller(alias) == life.larson_miller("grade91")


def test_an_unknown_alias_is_refused_by_the_fem_and_the_life_laws_alike() -> None:
    from models import life

    with pytest.raises(UnknownMaterialError, match="P92"):
        get_material("P92")
    with pytest.raises(UnknownMaterialError, match="P92"):
        life.creep_fatigue_envelope("P92")
