"""Conventions of the twin commands: -v/-q, --out with its aliases, --json, one-line errors."""

from __future__ import annotations

import json
import pathlib

import pytest
import xarray as xr
from click.testing import CliRunner

from twin.cli import main

OWNED = [
    ["model", "solve"],
    ["model", "responses"],
    ["verify"],
    ["surrogate", "train"],
    ["surrogate", "validate"],
]
WITH_OUT = [c for c in OWNED if c != ["verify"]]

CONFIG = """
schema_version = 1
[component]
name = "conv-header"
material = "P91"
[geometry]
inner_radius_m = 0.15
wall_thickness_m = 0.03
length_m = 0.01
[mesh]
radial_cells = 8
axial_cells = 1
[thermal]
bore_htc_W_m2K = 2000.0
initial_temperature_degC = 200.0
[loads]
time_h = [0.0, 0.5, 1.5]
fluid_temperature_degC = [200.0, 450.0, 450.0]
pressure_MPa = [1.0, 10.0, 10.0]
[solver]
time_step_s = 300.0
"""


@pytest.fixture()
def config_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "c.toml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize("command", [[], ["model"], ["surrogate"], *OWNED], ids=" ".join)
def test_every_owned_command_takes_verbose_and_quiet(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "-v, --verbose" in result.output and "-q, --quiet" in result.output


@pytest.mark.parametrize("command", WITH_OUT, ids=" ".join)
def test_the_output_option_is_out_with_o_and_output_as_aliases(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert "-o, --out, --output DIR" in result.output


def test_model_solve_json_prints_the_summary_that_run_json_holds(
    config_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(
        main, ["model", "solve", str(config_file), "--out", str(out), "--no-images", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == json.loads((out / "run.json").read_text())
    assert summary["material"] == "grade91" and summary["steps"] == 18
    ds = xr.open_dataset(out / "results.nc")
    end = float(ds["sigma_theta"].sel(location="bore").isel(time=-1)) / 1e6
    assert summary["bore_hoop_stress_end_MPa"] == pytest.approx(end, rel=1e-12)
    assert summary["files"] == ["results.nc"]  # no field times: no XDMF file


def test_quiet_model_solve_prints_nothing_and_the_old_output_spelling_still_works(
    config_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    for spelling in ("-o", "--output"):
        out = tmp_path / spelling.strip("-")
        result = CliRunner().invoke(
            main,
            [
                "-q",
                "model",
                "solve",
                str(config_file),
                spelling,
                str(out),
                "--no-images",
                "--no-xdmf",
            ],
        )
        assert result.exit_code == 0, result.output
        assert result.output == ""
        assert (out / "results.nc").exists()


def test_an_os_error_is_one_line_and_the_traceback_comes_with_verbose(
    config_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    args = ["model", "solve", str(config_file), "--out", str(blocker / "sub"), "--no-images"]
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 1
    lines = plain.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "file.txt" in lines[0]
    loud = CliRunner().invoke(main, [*args, "-v"])
    assert loud.exit_code == 1 and "Traceback (most recent call last)" in loud.output


def test_quiet_verify_prints_only_the_count() -> None:
    result = CliRunner().invoke(main, ["verify", "-q", "--only", "life/rainflow_astm"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1].endswith("passed, 0 failed")
    assert "life/rainflow_astm/batch" not in result.output


def test_twin_help_describes_publish_as_it_is() -> None:
    # twin publish sends synthetic readings (the config's sensors) or recorded ones
    # (an archive), as README's command table says.
    result = CliRunner().invoke(main, ["--help"])
    line = next(x for x in result.output.splitlines() if x.strip().startswith("publish"))
    assert "synthetic or recorded" in line


def test_without_v_or_q_the_group_leaves_logging_to_the_command() -> None:
    # twin ingest configures INFO logging itself (its log says when it is subscribed);
    # the group's -v/-q must not install a WARNING handler in front of it.
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        CliRunner().invoke(main, ["verify", "--list"])
        assert root.handlers == handlers and root.level == level
        CliRunner().invoke(main, ["-v", "verify", "--list"])
        assert root.level == logging.INFO
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
