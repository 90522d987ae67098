"""The sensor catalogue read from a component config."""

from __future__ import annotations

import pathlib
import tomllib

import pytest

from sensors.catalogue import load_catalogue, parse_catalogue
from sensors.errors import CatalogueError

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"


def test_demo_config_gives_ranges_in_si() -> None:
    cat = load_catalogue(DEMO)
    assert (cat.component, cat.site) == ("header-a", "plant-1")
    pt = cat.get("PT-01")
    assert pt is not None and pt.valid_max == pytest.approx(30e6)  # 30 MPa
    tc = cat.get("TC-outer-01")
    assert tc is not None and tc.valid_max == pytest.approx(973.15)  # 700 degC, SI Brochure offset
    ut = cat.get("UT-01")
    assert ut is not None and ut.radius == 0.19 and ut.valid_min == pytest.approx(1e-3)
    assert cat.topic("plant", "PT-01") == "plant/plant-1/header-a/PT-01"


def _doc(**sensor: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "TC-1",
        "quantity": "temperature",
        "unit": "degC",
        "location": "outer",
        "valid_min": 0.0,
        "valid_max": 700.0,
    }
    base.update(sensor)
    return {
        "component": {"name": "h", "site": "s"},
        "sensors": [{k: v for k, v in base.items() if v is not None}],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unit": "degF"}, r"sensors\[0\] \(TC-1\)\.unit: .*'degF'"),
        ({"quantity": "flow"}, r"\.quantity: .*'flow'"),
        ({"id": "TC/1"}, r"sensors\[0\]\.id: .*'TC/1'"),
        ({"location": None}, "exactly one of 'location'"),
        ({"radius_m": 0.2}, "exactly one of 'location'"),
        ({"valid_min": 800.0}, "valid_min must be < valid_max"),
        ({"valid_max": "700"}, r"valid_max: must be a int or float, got '700'"),
        ({"rate_Hz": -1.0}, r"rate_Hz: must be > 0 Hz, got -1.0"),
    ],
)
def test_bad_sensor_entries_name_field_rule_and_value(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(_doc(**change))


def test_duplicate_ids_and_missing_sections_are_rejected() -> None:
    doc = _doc()
    doc["sensors"] = doc["sensors"] * 2  # type: ignore[operator]
    with pytest.raises(CatalogueError, match="appears twice"):
        parse_catalogue(doc)
    with pytest.raises(CatalogueError, match=r"component: the \[component\] table is missing"):
        parse_catalogue({"sensors": []})


def test_other_sections_of_a_component_config_are_ignored(tmp_path: pathlib.Path) -> None:
    text = (
        DEMO.read_text() + '\n[geometry]\ninner_radius_m = 0.15\n[surrogate]\nanything = "goes"\n'
    )
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert load_catalogue(path) == parse_catalogue(tomllib.loads(DEMO.read_text()))
