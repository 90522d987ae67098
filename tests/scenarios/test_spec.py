"""Scenario files: parsing, SI conversion, validation before anything runs, --quick."""

from __future__ import annotations

import copy
import math
import pathlib
import tomllib
from typing import Any

import pytest

from scenarios.errors import ScenarioInputError
from scenarios.spec import DAY, YEAR, load_scenario, parse_scenario

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "scenarios"
BASE_DOC = tomllib.loads((EXAMPLES / "sensor_fault.toml").read_text())


def _doc(**top: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE_DOC)
    doc.update(top)
    return doc


def _parse(doc: dict[str, Any]) -> Any:
    return parse_scenario(doc, base=EXAMPLES, source="s")


def _refused(doc: dict[str, Any], *parts: str) -> str:
    with pytest.raises(ScenarioInputError) as info:
        _parse(doc)
    msg = str(info.value)
    for p in parts:
        assert p in msg, msg
    return msg


@pytest.mark.parametrize("name", ["run_to_failure", "sensor_fault", "fouling"])
def test_every_example_loads_and_its_quick_run_is_short(name: str) -> None:
    s = load_scenario(EXAMPLES / f"{name}.toml")
    assert s.path == (EXAMPLES / f"{name}.toml").resolve()
    assert s.component_path.is_file() and s.truth_horizon >= s.duration
    q = s.quick()
    assert 10 * DAY <= q.duration <= 30 * DAY
    assert all(f.start < q.duration for f in q.faults)


def test_start_speed_and_durations_in_si() -> None:
    s = _parse(_doc(start="2027-01-01T00:00:00Z", speed=0, duration_years=1.5))
    # 2027-01-01 UTC: 57 years after 1970 with 14 leap days (1972 ... 2024).
    assert s.start_time == (57 * 365 + 14) * 86400.0
    assert s.speed is None and s.duration == 1.5 * 365.25 * 86400.0
    assert _parse(_doc(start=1.8e9, speed=60.0)).start_time == 1.8e9
    assert _parse(_doc(speed=60.0)).speed == 60.0


def test_edge_units_convert_to_si_by_hand() -> None:
    doc = _doc()
    doc["truth"]["bias"] = {"TC-outer-01": 1.5, "SG-outer-01": 8.0, "PT-01": 0.1}
    doc["truth"]["noise"] = {"PT-01": 0.05}
    doc["faults"] = [
        {"kind": "drift", "sensor": "TC-outer-01", "start_days": 10.0, "magnitude": 0.1},
        {"kind": "bias_step", "sensor": "SG-outer-01", "start_days": 1.5, "magnitude": 8.0},
    ]
    s = _parse(doc)
    # degC -> K is a shift for readings but a bias or a step is a difference: 1.5 K.
    assert s.truth.bias["TC-outer-01"] == pytest.approx(1.5, rel=1e-12)
    assert s.truth.bias["SG-outer-01"] == pytest.approx(8e-6, rel=1e-12)
    assert s.truth.bias["PT-01"] == pytest.approx(0.1e6, rel=1e-12)
    assert s.truth.noise["PT-01"] == pytest.approx(0.05e6, rel=1e-12)
    # Defaults: the config's [twin.sensors] noise (0.5 K, 5 microstrain), else 0.5 K.
    assert s.truth.noise["TC-outer-01"] == pytest.approx(0.5)
    assert s.truth.noise["SG-outer-01"] == pytest.approx(5e-6)
    assert s.truth.noise["TC-steam-01"] == pytest.approx(0.5)
    drift, step = s.faults
    assert drift.magnitude == pytest.approx(0.1 / 86400.0, rel=1e-12)  # K/day -> K/s
    assert drift.start == 10 * 86400.0 and math.isinf(drift.duration)
    assert step.magnitude == pytest.approx(8e-6, rel=1e-12) and step.start == 1.5 * 86400.0
    lf = s.load_following
    assert lf is not None
    assert (lf.drop, lf.rate, lf.low, lf.pressure) == pytest.approx((25.0, 1 / 60, 10800.0, 14e6))
    assert s.historian.deadband["strain"] == pytest.approx(30e-6)  # the default, about 4 sigma
    assert s.historian.deadband["pressure"] == pytest.approx(0.2e6)


def test_fouling_drift_is_per_second_and_h_follows_it() -> None:
    s = load_scenario(EXAMPLES / "fouling.toml")
    assert s.truth.bore_htc_drift == pytest.approx(-0.1 / YEAR, rel=1e-12)
    assert s.truth.h_at(3 * YEAR) == pytest.approx(3000.0 * math.exp(-0.3), rel=1e-12)


def test_quick_keeps_the_faults_fractions() -> None:
    s = load_scenario(EXAMPLES / "sensor_fault.toml")
    q = s.quick()
    assert q.duration == 20 * DAY and q.replay.samples == 200
    assert q.replay.forecast_every == 5 * DAY
    for a, b in zip(s.faults, q.faults, strict=True):
        assert b.start / q.duration == pytest.approx(a.start / s.duration, rel=1e-12)
        assert b.duration / q.duration == pytest.approx(a.duration / s.duration, rel=1e-12)
        assert (a.kind, a.sensor, a.magnitude) == (b.kind, b.sensor, b.magnitude)
    assert s.with_truth(bore_htc=2000.0).truth.bore_htc == 2000.0


def test_schema_version_unknown_keys_and_start() -> None:
    _refused(_doc(schema_version=2), "s.schema_version", "2")
    _refused(_doc(colour="red"), "unknown keys", "colour")
    doc = _doc()
    doc["truth"]["htc"] = 1.0
    _refused(doc, "s.truth", "htc")
    doc = _doc()
    doc["duty"]["startups"]["warm"]["hold_hours"] = 3.0
    _refused(doc, "s.duty.startups.warm", "hold_hours")
    _refused(_doc(start="2027-01-01T00:00:00"), "s.start", "2027-01-01T00:00:00")
    _refused(_doc(start="next tuesday"), "s.start", "next tuesday")


def test_durations_speed_and_horizon() -> None:
    _refused(_doc(duration_years=0.0), "s.duration_years", "0.0")
    _refused(_doc(duration_years=-1.0), "s.duration_years", "-1.0")
    _refused(_doc(truth_horizon_years=0.5), "s.truth_horizon_years", "0.5")
    _refused(_doc(speed=-1.0), "s.speed", "-1.0")


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("bore_htc_W_m2K", 800.0, "s.truth.bore_htc_W_m2K"),  # surrogate range 1000-5000
        ("bore_htc_W_m2K", 6000.0, "s.truth.bore_htc_W_m2K"),
        ("wall_thickness_m", 0.07, "s.truth.wall_thickness_m"),  # range 0.035-0.065
        ("wall_thickness_m", 0.039, "s.truth.wall_thickness_m"),  # <= minimum wall 0.040
        ("bore_htc_drift_per_year", -1.5, "s.truth.bore_htc_drift_per_year"),  # h(1 y) = 584
        ("creep_strength_factor", 0.0, "s.truth.creep_strength_factor"),
    ],
)
def test_truth_outside_the_fem_range_is_refused(key: str, value: float, field: str) -> None:
    doc = _doc()
    doc["truth"][key] = value
    _refused(doc, field, repr(value))


def test_wall_must_be_thinner_than_the_inner_radius(tmp_path: pathlib.Path) -> None:
    text = (ROOT / "examples" / "grade91_header.toml").read_text()
    text = text.replace('"geometry.wall_thickness_m" = [0.035, 0.065]',
                        '"geometry.wall_thickness_m" = [0.035, 0.25]')  # fmt: skip
    assert "0.25]" in text
    (tmp_path / "c.toml").write_text(text)
    doc = _doc(component="c.toml")
    doc["truth"]["wall_thickness_m"] = 0.2
    with pytest.raises(ScenarioInputError, match=r"wall_thickness_m.*inner radius 0.15.*0\.2"):
        parse_scenario(doc, base=tmp_path, source="s")


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (610.0, "surrogate"),  # surrogate hold range 500-600 degC
        (480.0, "Larson-Miller"),  # the rupture curve's calibrated range is 500-650 degC
        (720.0, "property tables"),  # Grade 91 property tables end at 700 degC
    ],
)
def test_hold_temperature_outside_the_ranges_is_refused(value: float, what: str) -> None:
    doc = _doc()
    doc["duty"]["startups"]["cold"]["hold_temperature_degC"] = value
    _refused(doc, "s.duty.startups.cold.hold_temperature_degC", repr(value), what)


def test_faults_are_checked() -> None:
    doc = _doc()
    doc["faults"][1]["kind"] = "melt"
    msg = _refused(doc, "s.faults[1].kind", "'melt'")
    assert "bias_step" in msg and "spikes" in msg
    doc = _doc()
    doc["faults"][2]["sensor"] = "TC-bore-09"
    msg = _refused(doc, "s.faults[2].sensor", "'TC-bore-09'")
    assert "PT-01" in msg and "SG-outer-01" in msg
    doc = _doc()
    doc["faults"][0]["duration_days"] = math.inf  # the bias step runs into the spikes
    _refused(doc, "s.faults[4].start_days", "faults[0]", "TC-outer-01")
    doc = _doc()
    doc["faults"][3]["start_days"] = 400.0
    _refused(doc, "s.faults[3].start_days", "400.0")
    doc = _doc()
    del doc["faults"][0]["magnitude"]
    _refused(doc, "s.faults[0].magnitude")
    doc = _doc()
    doc["faults"][0]["count"] = 3
    _refused(doc, "s.faults[0].count", "3")


def test_random_fault_start_is_seeded_inside_its_window() -> None:
    doc = _doc()
    doc["faults"] = [{"kind": "dropout", "sensor": "PT-01", "random": True,
                      "window_days": [100.0, 110.0], "duration_days": 1.0}]  # fmt: skip
    a, b = _parse(doc).faults[0], _parse(doc).faults[0]
    assert a == b and 100 * DAY <= a.start <= 110 * DAY
    doc["faults"][0]["window_days"] = [100.0, 500.0]
    _refused(doc, "s.faults[0].window_days", "500.0")


def test_scheduled_outages_must_not_overlap_or_pass_the_end() -> None:
    doc = _doc()
    doc["duty"]["outage"] = [
        {"start_days": 100.0, "duration_days": 30.0},
        {"start_days": 120.0, "duration_days": 10.0, "inspect": False},
    ]
    _refused(doc, "s.duty.outage[1].start_days", "120.0", "overlaps s.duty.outage[0]")
    doc["duty"]["outage"] = [{"start_days": 350.0, "duration_days": 30.0}]
    _refused(doc, "s.duty.outage[0]", "350.0", "past the duration")
    doc["duty"]["outage"] = [
        {"start_days": 200.0, "duration_days": 10.0},
        {"start_days": 100.0, "duration_days": 30.0, "inspect": False},
    ]
    outages = _parse(doc).outages
    assert [(o.start, o.inspect) for o in outages] == [(100 * DAY, False), (200 * DAY, True)]


def test_duty_errors_of_the_plan_format_name_the_field() -> None:
    doc = _doc()
    doc["duty"]["startups"]["warm"]["ramp_rate_degC_per_min"] = -3.0
    _refused(doc, "s.duty.startups.warm.ramp_rate_degC_per_min", "-3.0")
    doc = _doc()
    doc["duty"]["load_following"]["drop_degC"] = "big"
    _refused(doc, "s.duty.load_following.drop_degC", "'big'")


def test_component_and_file_errors(tmp_path: pathlib.Path) -> None:
    _refused(_doc(component="missing.toml"), "s.component", "missing.toml")
    with pytest.raises(ScenarioInputError, match="nothing.toml"):
        load_scenario(tmp_path / "nothing.toml")
    (tmp_path / "bad.toml").write_text("name = ")
    with pytest.raises(ScenarioInputError, match="bad.toml: not valid TOML"):
        load_scenario(tmp_path / "bad.toml")
    doc = _doc()
    doc["historian"] = {"heartbeat_s": 10.0, "transient_interval_s": 60.0}
    _refused(doc, "s.historian.heartbeat_s", "10.0")
    doc["historian"] = {"deadband": {"temperature_F": 1.0}}
    _refused(doc, "s.historian.deadband", "temperature_F")
