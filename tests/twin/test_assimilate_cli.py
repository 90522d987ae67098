"""``twin assimilate`` end to end: FEM-truth recording -> MQTT -> ingest -> archive -> twin."""

from __future__ import annotations

import json
import pathlib
import signal

import pytest
from click.testing import CliRunner

from tests.sensors.conftest import IngestProcess, mosquitto, wait_for_readings  # noqa: F401
from tests.twin.conftest import EXAMPLE
from twin.cli import main


def _config(tmp_path: pathlib.Path) -> pathlib.Path:
    """The example with 64 particles and 300 s blocks, its surrogate beside it."""
    import shutil
    import tomllib

    doc = tomllib.loads(EXAMPLE.read_text())
    text = (
        EXAMPLE.read_text()
        .replace("particles = 500", "particles = 64")
        .replace("block_s = 60.0 ", "block_s = 300.0")
    )
    assert doc["twin"]["particles"] == 500
    cfg = tmp_path / "grade91_header.toml"
    cfg.write_text(text)
    shutil.copytree(
        EXAMPLE.with_name("grade91_header.surrogate"), tmp_path / "grade91_header.surrogate"
    )
    return cfg


@pytest.fixture(scope="module")
def recording(tmp_path_factory, truth_library):
    out = tmp_path_factory.mktemp("plant")
    result = CliRunner().invoke(
        main,
        [
            "scenario",
            "record",
            str(EXAMPLE),
            "--out",
            str(out / "rec"),
            "--cycles",
            "2",
            "--bore-htc",
            "3000",
            "--bias",
            "TC-outer-01=1.5",
            "--cache",
            str(truth_library.cache),
        ],
    )
    assert result.exit_code == 0, result.output
    return out / "rec", json.loads(result.stdout)


def test_assimilate_writes_state_checkpoint_and_plots_and_prints_the_json(tmp_path, recording):
    rec, truth = recording
    cfg = _config(tmp_path)
    out = tmp_path / "twin"
    result = CliRunner().invoke(
        main,
        ["assimilate", str(cfg), "--archive", str(rec / "archive"), "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["readings"] == truth["readings"]
    assert set(doc) >= {"readings", "parameters", "damage", "wall_thickness_m", "ess_min"}
    h = doc["parameters"]["bore_htc"]
    assert set(h) == {"mean", "p05", "p50", "p95", "unit"}
    assert h["p05"] < 3000.0 < h["p95"]  # the hidden truth of the recording
    b = doc["parameters"]["bias.TC-outer-01"]
    assert b["p05"] < 1.5 < b["p95"]
    for loc in ("bore", "outer"):
        assert set(doc["damage"][loc]) == {"fatigue", "creep", "envelope_margin"}
        assert set(doc["damage"][loc]["creep"]) >= {"mean", "p05", "p95"}
    for name in ("state.zarr", "checkpoint/checkpoint.npz", "parameters.png", "damage.png"):
        assert (out / name).exists(), name
    import xarray as xr

    hist = xr.open_zarr(out / "state.zarr")
    assert hist["bore_htc_quantiles"].attrs["units"] == "W m-2 K-1"
    assert hist.sizes["time"] > 10
    # the same seed gives the same output; an earlier run is not overwritten silently
    again = CliRunner().invoke(
        main,
        ["assimilate", str(cfg), "--archive", str(rec / "archive"), "--out", str(out), "--json"],
    )
    assert again.exit_code != 0 and "--force" in again.output
    again = CliRunner().invoke(
        main,
        [
            "assimilate",
            str(cfg),
            "--archive",
            str(rec / "archive"),
            "--out",
            str(out),
            "--json",
            "--force",
        ],
    )
    assert json.loads(again.stdout) == doc


def test_assimilate_without_a_surrogate_names_the_training_command(tmp_path, recording):
    rec, _ = recording
    cfg = tmp_path / "lonely.toml"
    cfg.write_text(EXAMPLE.read_text())
    result = CliRunner().invoke(
        main,
        ["assimilate", str(cfg), "--archive", str(rec / "archive"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code != 0
    assert "twin surrogate train" in result.output


@pytest.mark.requires_broker
def test_an_archive_ingested_over_mqtt_gives_the_same_twin_as_the_recording(
    tmp_path,
    recording,
    mosquitto,  # noqa: F811
):
    # The README's path: twin publish --from-archive -> Mosquitto -> twin ingest -> twin
    # assimilate. Single-reading payloads arrive in time order (a batch holds one
    # sensor's consecutive readings, hours of them here, beyond the twin's lateness);
    # the twin's state depends only on the readings, so both archives give one answer.
    rec, truth = recording
    cfg = _config(tmp_path)
    live = tmp_path / "live.zarr"
    ingest = IngestProcess(live, mosquitto.url, tmp_path / "ingest.log")
    ingest.args[4] = str(EXAMPLE)
    ingest.start()
    try:
        pub = CliRunner().invoke(
            main,
            [
                "publish",
                str(EXAMPLE),
                "--broker",
                mosquitto.url,
                "--from-archive",
                str(rec / "archive"),
                "--speed",
                "max",
                "--batch-size",
                "1",
                "--linger",
                "0",
            ],
        )
        assert pub.exit_code == 0, pub.output
        assert wait_for_readings(live, truth["readings"], timeout=60) == truth["readings"]
    finally:
        ingest.kill(signal.SIGTERM)
    outs = []
    for archive, name in ((rec / "archive", "a"), (live, "b")):
        r = CliRunner().invoke(
            main,
            [
                "assimilate",
                str(cfg),
                "--archive",
                str(archive),
                "--out",
                str(tmp_path / name),
                "--json",
            ],
        )
        assert r.exit_code == 0, r.output
        outs.append(json.loads(r.stdout))
    assert outs[0] == outs[1]
