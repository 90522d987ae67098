"""Component config: SI conversion at the edge, and errors that name field and value."""

from __future__ import annotations

import copy
import pathlib
import tomllib

import numpy as np
import pytest

from models.config import load_config, parse_config
from models.errors import ConfigError

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "grade91_header.toml"


@pytest.fixture()
def raw() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def test_example_config_loads_in_si_units() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.geometry.inner_radius == 0.15
    assert cfg.geometry.outer_radius == pytest.approx(0.20)
    assert cfg.geometry.wall_thickness == pytest.approx(0.05)
    assert cfg.thermal.initial_temperature == pytest.approx(150.0 + 273.15)
    # Hand check: the ramp 1 -> 17 MPa over 2 h is at 9 MPa after 1 h.
    assert cfg.loads.pressure_at(3600.0) == pytest.approx(9.0e6)
    assert cfg.loads.fluid_temperature_at(7200.0) == pytest.approx(565.0 + 273.15)
    assert cfg.loads.duration == pytest.approx(3 * 3600.0)
    assert cfg.output.field_times == (3600.0, 7200.0, 10800.0)
    names = [loc.name for loc in cfg.locations]
    assert names[:3] == ["bore", "mid_wall", "outer"]
    assert "TC-outer-01" in names and "PT-01" not in names and "TC-steam-01" not in names
    assert dict((loc.name, loc.radius) for loc in cfg.locations)["mid_wall"] == pytest.approx(0.175)


def test_overrides_revalidate_and_change_only_the_named_key() -> None:
    cfg = load_config(EXAMPLE)
    thin = cfg.with_overrides({"geometry.wall_thickness_m": 0.04, "thermal.bore_htc_W_m2K": 3000.0})
    assert thin.geometry.outer_radius == pytest.approx(0.19)
    assert thin.thermal.bore_htc == 3000.0
    assert thin.config_hash != cfg.config_hash
    assert parse_config(cfg.to_dict()).config_hash == cfg.config_hash
    with pytest.raises(ConfigError, match="thermal.bore_htc_W_m2K"):
        cfg.with_overrides({"thermal.bore_htc_W_m2K": -5.0})


def test_with_loads_replaces_the_history_in_si() -> None:
    cfg = load_config(EXAMPLE)
    new = cfg.with_loads(time=[0.0, 600.0], fluid_temperature=[500.0, 600.0], pressure=[0.0, 1e6])
    np.testing.assert_allclose(new.loads.fluid_temperature, [500.0, 600.0])
    np.testing.assert_allclose(new.loads.pressure, [0.0, 1e6])


def test_load_history_from_csv_resolves_relative_to_the_config(
    tmp_path: pathlib.Path, raw: dict
) -> None:
    (tmp_path / "hist.csv").write_text(
        "time_h,fluid_temperature_degC,pressure_MPa\n0,200,1\n1,400,5\n"
    )
    raw["loads"] = {"file": "hist.csv"}
    raw["output"] = {}
    (tmp_path / "c.toml").write_text(_dumps(raw))
    cfg = load_config(tmp_path / "c.toml")
    assert cfg.loads.pressure_at(1800.0) == pytest.approx(3.0e6)


@pytest.mark.parametrize(
    ("edit", "field", "value"),
    [
        (
            lambda r: r["geometry"].update(outer_radius_m=0.1, wall_thickness_m=None),
            "outer_radius_m",
            "0.1",
        ),
        (
            lambda r: r["geometry"].update(wall_thickness_m=-0.01),
            "geometry.wall_thickness_m",
            "-0.01",
        ),
        (lambda r: r["thermal"].update(bore_htc_W_m2K=-10.0), "thermal.bore_htc_W_m2K", "-10.0"),
        (
            lambda r: r["component"].update(material="unobtainium"),
            "component.material",
            "unobtainium",
        ),
        (
            lambda r: r["loads"].update(fluid_temperature_degC=[150.0, 1200.0, 565.0]),
            "loads.fluid_temperature_degC",
            "1200",
        ),
        (lambda r: r["loads"].pop("pressure_MPa"), "pressure_MPa", "missing"),
        (
            lambda r: r["geometry"].update(inner_radius_mm=150.0),
            "geometry.inner_radius_mm",
            "unknown field",
        ),
        (lambda r: r["loads"].update(time_h=[0.0, 2.0, 1.0]), "loads.time_h[2]", "increase"),
        (
            lambda r: r["loads"].update(pressure_MPa=[1.0, -17.0, 17.0]),
            "loads.pressure_MPa[1]",
            "-17.0",
        ),
        (lambda r: r["output"].update(field_times_h=[5.0]), "output.field_times_h[0]", "5.0"),
        (lambda r: r["sensors"][0].update(location="flange"), "sensors[0].location", "flange"),
    ],
)
def test_bad_config_names_the_field_and_the_value(raw: dict, edit, field: str, value: str) -> None:
    bad = copy.deepcopy(raw)
    edit(bad)
    for section in bad.values():
        if isinstance(section, dict):
            for k in [k for k, v in section.items() if v is None]:
                del section[k]
    with pytest.raises(ConfigError) as info:
        parse_config(bad)
    assert field in str(info.value)
    assert value in str(info.value)


def test_missing_config_file_is_a_config_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def _dumps(raw: dict) -> str:
    """Minimal TOML writer for the tests (flat sections, arrays of tables)."""
    lines = []
    for key, value in raw.items():
        if not isinstance(value, (dict, list)):
            lines.append(f"{key} = {_val(value)}")
    for key, value in raw.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {_val(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {_val(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _val(v: object) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_val(x)}" for k, x in v.items()) + "}"
    return repr(v)
