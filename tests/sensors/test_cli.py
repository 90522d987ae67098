"""``twin publish`` -> ``twin ingest`` -> ``twin archive info`` against a real Mosquitto."""

from __future__ import annotations

import json
import pathlib
import signal
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from sensors.broker import MosquittoBroker
from twin.cli import main

pytestmark = pytest.mark.requires_broker
DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"


def test_cli_publish_ingest_and_archive_info_agree(
    mosquitto: MosquittoBroker,
    tmp_path: pathlib.Path,
    ingest_process: type,
    readings_committed: Callable[..., int],
) -> None:
    archive = tmp_path / "cli.zarr"
    ingest = ingest_process(archive, mosquitto.url, tmp_path / "ingest.log")
    ingest.start()
    runner = CliRunner()
    out = runner.invoke(
        main,
        [
            "publish",
            str(DEMO),
            "--broker",
            mosquitto.url,
            "--duration",
            "20",
            "--rate-scale",
            "5",
            "--speed",
            "max",
            "--batch-size",
            "25",
            "--dropout",
            "0.1",
            "--spike",
            "0.01",
            "--seed",
            "3",
        ],
    )
    assert out.exit_code == 0, out.output
    published = json.loads(out.output.strip().splitlines()[-1])
    # 20 s x 5 x (1 + 1 + 1 + 10 + 0.001) Hz = 1301 readings before 10 % dropout
    assert 1000 < published["readings"] < 1301
    assert readings_committed(archive, published["readings"], timeout=30) == published["readings"]
    ingest.kill(signal.SIGTERM)
    info = runner.invoke(main, ["archive", "info", str(archive), "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.output)
    assert summary["readings"] == published["readings"]
    assert sum(s["readings"] for s in summary["sensors"].values()) == published["readings"]
    # dropouts leave holes in the sequence numbers (spikes of 0.2 span stay in range)
    assert sum(s.get("missing_sequences", 0) for s in summary["sensors"].values()) > 0
    text = runner.invoke(main, ["archive", "info", str(archive)])
    assert "component header-a at plant-1" in text.output


def test_archive_info_on_a_missing_archive_names_the_path(tmp_path: pathlib.Path) -> None:
    (tmp_path / "empty").mkdir()
    out = CliRunner().invoke(main, ["archive", "info", str(tmp_path / "empty")])
    assert out.exit_code != 0
    assert "no sensor archive" in out.output
