"""Error texts a new user meets: each names the field and the value and says what to do."""

from __future__ import annotations

import pathlib

import pytest

from models.config import parse_config
from models.errors import ConfigError, LawInputError


def _raw() -> dict:
    return {
        "component": {"name": "x", "material": "grade91"},
        "geometry": {"inner_radius_m": 0.15, "wall_thickness_m": 0.05},
        "thermal": {"bore_htc_W_m2K": 2000.0},
        "loads": {
            "time_h": [0.0, 1.0],
            "fluid_temperature_degC": [100.0, 200.0],
            "pressure_MPa": [1.0, 2.0],
        },
    }


def _message(raw: dict, base_dir: pathlib.Path | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, base_dir=base_dir)
    return str(info.value)


def test_a_rule_across_fields_reads_without_the_section_dump() -> None:
    raw = _raw()
    raw["geometry"] = {"inner_radius_m": 0.15, "outer_radius_m": 0.1}
    text = _message(raw)
    assert "geometry: outer_radius_m=0.1 must exceed inner_radius_m=0.15" in text
    assert "{...}" not in text and "got" not in text and "Value error" not in text


def test_missing_loads_say_what_to_give() -> None:
    raw = _raw()
    del raw["loads"]
    text = _message(raw)
    assert "loads: required, but missing" in text
    assert "time_h, fluid_temperature_degC and pressure_MPa" in text and "loads.file" in text


def test_a_short_row_of_the_load_file_is_named_as_such(tmp_path: pathlib.Path) -> None:
    (tmp_path / "h.csv").write_text(
        "time_h,fluid_temperature_degC,pressure_MPa\n0,100,1\n1,200\n"
    )
    raw = _raw()
    raw["loads"] = {"file": "h.csv"}
    text = _message(raw, tmp_path)
    assert "line 3: the row has 2 field(s) but the header has 3" in text
    assert "column pressure_MPa is missing" in text and "None" not in text
    (tmp_path / "h.csv").write_text("time_h,fluid_temperature_degC,pressure_MPa\n0,100,one\n")
    assert "column pressure_MPa: 'one' is not a number" in _message(raw, tmp_path)


def test_outside_the_calibrated_range_says_how_to_allow_it() -> None:
    from models import life

    constants = life.strain_life("grade91", 813.15)
    with pytest.raises(LawInputError) as info:
        life.cycles_to_failure(0.05, constants=constants)
    text = str(info.value)
    assert "is calibrated" not in text  # "the constants is calibrated"
    assert "element 0 is 0.05, outside 0.0006..0.0095, the calibrated range of" in text
    assert "extrapolate=True" in text
