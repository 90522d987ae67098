"""``twin model solve`` and ``twin model responses`` end to end on a small component."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from twin.cli import main

CONFIG = """
schema_version = 1
[component]
name = "cli-header"
material = "grade91"
[geometry]
inner_radius_m = 0.15
wall_thickness_m = 0.04
length_m = 0.01
[mesh]
radial_cells = 16
axial_cells = 1
degree = 2
[thermal]
bore_htc_W_m2K = 2000.0
outer = "insulated"
initial_temperature_degC = 200.0
[mechanical]
end_condition = "closed"
[loads]
time_h = [0.0, 1.0, 3.0]
fluid_temperature_degC = [200.0, 500.0, 500.0]
pressure_MPa = [1.0, 12.0, 12.0]
[solver]
time_step_s = 90.0
[output]
field_times_h = [1.0, 3.0]
"""


@pytest.fixture()
def config_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "component.toml"
    path.write_text(CONFIG)
    return path


def test_model_solve_writes_dataset_fields_and_images(
    config_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["model", "solve", str(config_file), "--output", str(out)])
    assert result.exit_code == 0, result.output
    for name in (
        "results.nc",
        "fields.xdmf",
        "fields.h5",
        "histories.png",
        "hoop_stress.png",
        "temperature.png",
    ):
        assert (out / name).stat().st_size > 1000, name
    assert (out / "hoop_stress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the XDMF file holds every field at both field times (1 h and 3 h of the config)
    import xml.etree.ElementTree as ET

    root = ET.parse(out / "fields.xdmf").getroot()
    grids = [g for g in root.iter("Grid") if g.find("Time") is not None]
    times = sorted({float(g.find("Time").get("Value")) for g in grids})
    assert times == [3600.0, 10800.0]
    names = {a.get("Name") for a in root.iter("Attribute")}
    assert {"temperature", "displacement", "sigma_theta", "sigma_vm", "eps_th"} <= names
    ds = xr.open_dataset(out / "results.nc")
    # after the 2-h hold the wall is isothermal: closed-end Lame hoop stress at the bore
    # (Timoshenko & Goodier, Theory of Elasticity, ch. 4)
    a, b, p = 0.15, 0.19, 12e6
    ref = p * (a * a + b * b) / (b * b - a * a)
    assert float(ds["sigma_theta"].sel(location="bore").isel(time=-1)) == pytest.approx(
        ref, rel=5e-3
    )
    assert "bore hoop stress at the end" in result.output
    assert f"{ref / 1e6:8.1f}".strip() in result.output


def test_model_responses_writes_responses_and_modes(
    config_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "responses"
    result = CliRunner().invoke(
        main, ["model", "responses", str(config_file), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    modes = xr.open_dataset(out / "modes.nc")
    # unit pressure: closed-end Lame hoop stress per Pa at the bore
    a, b = 0.15, 0.19
    gain = float(modes["gain"].sel(output="sigma_theta", location="bore", input="pressure"))
    assert gain == pytest.approx((a * a + b * b) / (b * b - a * a), rel=2e-3)
    ur = xr.open_dataset(out / "unit_responses.nc")
    assert np.all(np.diff(ur["time"].values) > 0)


def test_model_solve_rejects_a_bad_config_naming_the_field(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.replace("bore_htc_W_m2K = 2000.0", "bore_htc_W_m2K = -5.0"))
    result = CliRunner().invoke(
        main, ["model", "solve", str(path), "--output", str(tmp_path / "x")]
    )
    assert result.exit_code != 0
    assert "bore_htc_W_m2K" in result.output and "-5" in result.output


def test_model_solve_refuses_an_earlier_run_unless_forced_and_then_replaces_it_whole(
    config_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "results"
    fast = ["--no-xdmf"]
    first = CliRunner().invoke(main, ["model", "solve", str(config_file), "--output", str(out)])
    assert first.exit_code == 0, first.output
    assert (out / "histories.png").exists() and (out / "fields.xdmf").exists()
    stamp = (out / "results.nc").stat().st_mtime_ns
    # a second run into the same folder is refused, naming the folder and the option
    again = CliRunner().invoke(
        main, ["model", "solve", str(config_file), "--output", str(out), *fast]
    )
    assert again.exit_code != 0
    assert str(out) in again.output and "--force" in again.output
    assert (out / "results.nc").stat().st_mtime_ns == stamp
    # --force replaces the folder whole: no image or field file of the first run is left
    forced = CliRunner().invoke(
        main,
        ["model", "solve", str(config_file), "--output", str(out), "--no-images", *fast, "--force"],
    )
    assert forced.exit_code == 0, forced.output
    assert sorted(p.name for p in out.iterdir()) == ["results.nc", "run.json"]
    import json

    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "twin model solve" and run["files"] == ["results.nc"]
    # a folder with other files is not deleted, even with --force
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(
        main, ["model", "solve", str(config_file), "--output", str(other), *fast, "--force"]
    )
    assert refused.exit_code != 0 and "not a run of twin model" in refused.output
    assert (other / "notes.txt").read_text() == "mine"
