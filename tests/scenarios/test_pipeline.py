"""The shortened scenario end to end, as CI and a first-time user run it.

``twin scenario run --quick`` (FEM truth library, SimPy plant, archive), ``replay``
(the twin through the service's core, forecasts, the deterministic baseline) and
``report`` (HTML, figures, JSON), each as its own process like the README's commands.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "scenarios" / "run_to_failure.toml"
YEAR = 365.25 * 86400.0


def _twin(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "twin", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    work = tmp_path_factory.mktemp("scenario")
    run = work / "run"
    r = _twin("scenario", "run", str(SCENARIO), "--out", str(run), "--quick", "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "true end of life" in r.stdout
    return run


@pytest.mark.slow
def test_replay_needs_no_truth_and_report_has_the_issue_keys(quick_run: pathlib.Path) -> None:
    # Honesty: the replay must not read the truth; hide it while the twin runs.
    hidden = quick_run.parent / "hidden"
    hidden.mkdir()
    for name in ("truth.json", "truth.nc"):
        shutil.move(quick_run / name, hidden / name)
    r = _twin("scenario", "replay", str(quick_run), "-q", cwd=quick_run.parent)
    assert r.returncode == 0, r.stderr
    assert "remaining life at the last forecast" in r.stdout
    for name in ("truth.json", "truth.nc"):
        shutil.move(hidden / name, quick_run / name)
    r = _twin("scenario", "report", str(quick_run), "--json", cwd=quick_run.parent)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (quick_run / "report" / "index.html").is_file()
    for png in ("parameters.png", "damage.png", "rul.png", "pit.png", "faults.png"):
        assert (quick_run / "report" / png).stat().st_size > 1000
    m = doc["metrics"]
    for key in ("alpha_lambda_pass", "prognostic_horizon_fraction", "cra", "coverage_90", "crps"):
        assert key in m and key in m["baseline"]
    # A quick run ends long before half of the life: alpha-lambda at lambda 0.5 cannot be
    # evaluated, and the report says so instead of passing or failing it.
    assert m["alpha_lambda_pass"] is None
    assert any("alpha_lambda not computed" in n for n in doc["notes"])
    truth = json.loads((quick_run / "truth.json").read_text())
    # The true end of life against the hand calculation in the scenario's comments
    # (Larson-Miller time fractions of the steady hold, Lame stress, oxidation thinning:
    # 4.65 years; the FEM truth adds transients, trips and fatigue, which add little).
    life = (truth["end_of_life"] - truth["start_time"]) / YEAR
    assert truth["mechanism"] == "creep" and truth["location"] == "bore"
    assert abs(life - 4.65) / 4.65 < 0.05, life
    # What the sensors identify within a month of transients: the heat-transfer
    # coefficient and the thermocouple bias come back inside their 90 % intervals.
    p = doc["parameters"]
    assert p["bore_htc_W_m2K"]["inside"], p["bore_htc_W_m2K"]
    assert p["bias.TC-outer-01"]["inside"], p["bias.TC-outer-01"]
    # Every reading the plant recorded reached the archive and the twin.
    replay = json.loads((quick_run / "replay" / "replay.json").read_text())
    assert replay["readings"] == truth["readings"]
    # The report's CRPS of the twin against a direct evaluation with scoringrules on the
    # stored samples (clipped at the horizon, as the report states).
    import scoringrules as sr
    import xarray as xr

    with xr.open_dataset(quick_run / "replay" / "forecasts.nc") as fc:
        t = np.asarray(fc["forecast"].values)
        ens = np.minimum(np.asarray(fc["rul_years"].values), fc.attrs["horizon_years"])
    obs = np.minimum((truth["end_of_life"] - t) / YEAR, 40.0)
    direct = float(np.mean(sr.crps_ensemble(obs, ens)))
    assert m["crps"] == pytest.approx(direct, rel=0.02)


def test_bad_scenario_is_refused_before_anything_runs(tmp_path: pathlib.Path) -> None:
    component = (SCENARIO.parent / "aged_header.toml").as_posix()
    text = SCENARIO.read_text().replace('"aged_header.toml"', f'"{component}"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '\n[[faults]]\nkind = "melt"\nsensor = "TC-outer-01"\nstart_days = 1.0\n')
    out = tmp_path / "run"
    r = _twin("scenario", "run", str(bad), "--out", str(out), "--quick", cwd=tmp_path)
    assert r.returncode == 1
    assert "faults[0].kind" in r.stderr and "melt" in r.stderr, r.stderr
    assert not out.exists()
