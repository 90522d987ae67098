"""The scenario report: metrics against answers known by hand, files, errors.

The run folders here are test data for the report, written with xarray in the layout
of ``twin scenario run`` + ``twin scenario replay`` (issue 14's contract): synthetic
forecasts whose distribution is chosen so that coverage, CRPS, alpha-lambda and the
fault delays are known in closed form.
"""

from __future__ import annotations

import json
import math
import pathlib
import shutil

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from scenarios.errors import ScenarioRunError
from scenarios.report import aggregate_reports, build_report

YEAR = 365.25 * 86400.0
START = 1.8e9
LIFE = 10.0  # years
HORIZON = 40.0  # years
SD = 0.3  # years, spread of the synthetic twin forecasts
Q3 = [0.05, 0.5, 0.95]


def _write_run(
    folder: pathlib.Path,
    *,
    rng: np.random.Generator,
    n: int = 200,
    m: int = 800,
    eol_years: float | None = LIFE,
    bias: float = 0.0,
    censored_half: bool = False,
) -> dict[str, np.ndarray]:
    """Write a run folder; twin samples ~ N(true RUL (1 + bias) + SD eps_i, SD)."""
    rep = folder / "replay"
    rep.mkdir(parents=True)
    t_years = np.linspace(0.1, 9.0, n)
    t = START + t_years * YEAR
    if eol_years is None:
        true_rul = np.full(n, np.inf)
        # half the samples survive the horizon, half end at 30 years (known CRPS)
        samples = np.where(np.arange(m) % 2 == 0, np.inf, 30.0) * np.ones((n, 1))
        base = np.full(n, np.inf)
    else:
        true_rul = eol_years - t_years
        mu = true_rul * (1.0 + bias) + SD * rng.standard_normal(n)
        samples = mu[:, None] + SD * rng.standard_normal((n, m))
        if censored_half:
            samples[:, ::2] = np.inf
        base = 1.3 * true_rul  # a deterministic monitor 30 % optimistic
    truth = {
        "parameters": {
            "bore_htc_W_m2K": 2600.0,
            "wall_thickness_m": 0.046,
            "bias.TC-outer-01": 1.5,
            "oxidation_factor": 1.3,  # the twin does not estimate it here: not reported
        },
        "end_of_life": None if eol_years is None else START + eol_years * YEAR,
        "mechanism": "creep",
        "location": "bore",
        "start_time": START,
        "record_end": START + 9.0 * YEAR,
        "events": [],
        "faults": [
            {
                "kind": "bias_step",
                "sensor": "TC-outer-01",
                "injected_at": START + 100 * 86400.0,
                "until": None,
                "magnitude": 8.0,
            },
            {
                "kind": "stuck_at",
                "sensor": "SG-outer-01",
                "injected_at": START + 200 * 86400.0,
                "until": None,
                "magnitude": 0.0,
            },
        ],
        "inspections": [],
    }
    (folder / "truth.json").write_text(json.dumps(truth))
    (folder / "scenario.toml").write_text(
        'name = "synthetic"\nseed = 11\ntruth_horizon_years = 60.0\n'
        "[replay]\nhorizon_years = 40.0\n"
    )
    tt = START + np.linspace(0.0, 10.0, 121) * YEAR
    frac = (tt - START) / (10.0 * YEAR)
    xr.Dataset(
        {
            "bore_htc": ("time", 2600.0 * np.exp(-0.03 * frac * 10.0)),
            "wall_thickness": ("time", 0.046 - 1e-4 * frac),
            "fatigue_bore": ("time", 0.2 * frac),
            "creep_bore": ("time", 0.8 * frac),
            "margin_bore": ("time", 1.0 - frac),
            "margin": ("time", 1.0 - frac),
        },
        coords={"time": tt},
    ).to_netcdf(folder / "truth.nc")
    ds = xr.Dataset(
        {
            "rul_years": (("forecast", "sample"), samples),
            "rul_q": (("forecast", "q"), np.quantile(np.minimum(samples, HORIZON), Q3, axis=1).T),
        },
        coords={"forecast": t, "q": Q3},
        attrs={"horizon_years": HORIZON},
    )
    ds.to_netcdf(rep / "forecasts.nc")
    ones = np.ones((n, 1))
    xr.Dataset(
        {
            "bore_htc": (("forecast", "q3"), ones * [2400.0, 2550.0, 2800.0]),
            "wall_thickness": (("forecast", "q3"), ones * [0.047, 0.048, 0.049]),
            "bias__TC-outer-01": (("forecast", "q3"), ones * [1.0, 1.4, 2.0]),
            "fatigue_bore": (("forecast", "q3"), (t_years[:, None] / 10) * [0.15, 0.2, 0.25]),
            "creep_bore": (("forecast", "q3"), (t_years[:, None] / 10) * [0.6, 0.8, 1.0]),
        },
        coords={"forecast": t, "q3": Q3},
    ).to_netcdf(rep / "parameters.nc")
    xr.Dataset(
        {
            "rul_years": ("forecast", base),
            "fatigue_bore": ("forecast", 0.1 * t_years / 10),
            "creep_bore": ("forecast", 0.5 * t_years / 10),
            "wall_thickness": ("forecast", np.full(n, 0.05)),
        },
        coords={"forecast": t},
    ).to_netcdf(rep / "baseline.nc")
    inj = START + 100 * 86400.0
    detections = [
        {"sensor": "TC-outer-01", "flag": "plausibility", "time": inj - 86400.0},  # before it
        {"sensor": "TC-outer-01", "flag": "cusum", "time": inj + 5 * 3600.0},
        {"sensor": "TC-outer-01", "flag": "innovation", "time": inj + 3 * 3600.0},
        {"sensor": "PT-01", "flag": "innovation", "time": START + 250 * 86400.0},
    ]
    (rep / "detections.json").write_text(json.dumps(detections))
    (rep / "replay.json").write_text(json.dumps({"settings": {"horizon_years": HORIZON}}))
    return {"t_years": t_years, "true_rul": true_rul, "samples": samples, "base": base}


def _crps_normal(y: np.ndarray, mu: np.ndarray, sd: float) -> np.ndarray:
    # Gneiting & Raftery (2007), eq. 5: CRPS(N(mu, sd^2), y)
    z = (y - mu) / sd
    return sd * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))


def test_calibrated_forecasts_cover_ninety_percent_and_score_the_closed_form_crps(tmp_path):
    rng = np.random.default_rng(3)
    run = _write_run(tmp_path / "run", rng=rng)
    r = build_report(tmp_path / "run")
    m = r["metrics"]
    # mu_i - y_i ~ N(0, SD) and samples ~ N(mu_i, SD): y_i sits at a uniform quantile, so
    # the 90 % interval holds it with probability 0.9 (binomial sd sqrt(.09/200) = 0.021)
    assert m["scored"] == 200
    assert abs(m["coverage_90"] - 0.9) < 3 * math.sqrt(0.09 / 200)
    assert abs(m["coverage_50"] - 0.5) < 3 * math.sqrt(0.25 / 200)
    assert abs(m["coverage_80"] - 0.8) < 3 * math.sqrt(0.16 / 200)
    # closed form per forecast at the sample mean (mu is known only through the samples
    # here; the sample mean's error SD/sqrt(800) moves it little: seen 0.08 %)
    mu = run["samples"].mean(axis=1)
    expected = float(np.mean(_crps_normal(run["true_rul"], mu, SD)))
    assert m["crps"] == pytest.approx(expected, rel=0.005)
    # the baseline is 30 % optimistic: its CRPS is |0.3 r|, and a point never covers
    base = m["baseline"]
    assert base["crps"] == pytest.approx(float(np.mean(0.3 * run["true_rul"])), rel=1e-12)
    assert base["coverage_90"] == 0.0
    assert m["crps_ratio"] == pytest.approx(m["crps"] / base["crps"], rel=1e-12)
    # PIT of a calibrated forecast: 10 bins of about 20 forecasts each
    assert sum(m["pit_histogram"]) == 200 and max(m["pit_histogram"]) < 40
    # at half life (t_lam = 0.1 + 0.5 (10 - 0.1) = 5.05 y) the cone is +-0.2 r ~ +-1 y,
    # far wider than SD: the twin passes; the baseline's point at 1.3 r is outside
    assert m["alpha_lambda_pass"] is True and base["alpha_lambda_pass"] is False
    i = int(np.argmax(run["t_years"] >= 0.1 + 0.5 * (LIFE - 0.1)))
    assert base["rul_error_at_half_life"] == pytest.approx(0.3 * run["true_rul"][i])
    assert abs(m["rul_error_at_half_life"]) < 4 * SD
    # the horizon's zone (rul convention) is truth +- 0.2 (10 - 0.1) = +-1.98 y: the
    # baseline's error 0.3 r enters it at r = 6.6 y, PH / life = 6.6 / 9.9 (one forecast
    # step, 0.045 y, of slack)
    assert base["prognostic_horizon_fraction"] == pytest.approx(6.6 / 9.9, abs=0.045 / 9.9)
    assert m["prognostic_horizon_fraction"] > 0.5
    assert r["life_years"] == pytest.approx(LIFE) and r["forecasts"] == 200
    assert r["scenario"] == {"name": "synthetic", "seed": 11}


def test_a_forecast_half_again_too_long_fails_alpha_lambda(tmp_path):
    _write_run(tmp_path / "run", rng=np.random.default_rng(4), bias=0.5)
    m = build_report(tmp_path / "run")["metrics"]
    # samples near 1.5 r, the cone ends at 1.2 r: almost no mass inside
    assert m["alpha_lambda_pass"] is False
    assert m["ra_half_life"] == pytest.approx(0.5, abs=0.1)  # RA = 1 - |0.5 r| / r


def test_parameters_are_compared_with_the_final_band_and_faults_with_detections(tmp_path):
    _write_run(tmp_path / "run", rng=np.random.default_rng(5))
    r = build_report(tmp_path / "run")
    p = r["parameters"]
    assert set(p) == {"bore_htc_W_m2K", "wall_thickness_m", "bias.TC-outer-01"}
    assert p["bore_htc_W_m2K"] == {
        "truth": 2600.0,
        "p05": 2400.0,
        "p95": 2800.0,
        "inside": True,
        "identifiable": None,
    }  # no component, no replay verdict
    assert p["wall_thickness_m"]["inside"] is False  # 0.046 below [0.047, 0.049]
    assert p["bias.TC-outer-01"]["inside"] is True
    f_tc, f_sg = r["faults"]
    # the first detection at or after injection is the one 3 h later (the earlier one
    # precedes the fault, the 5 h one comes after)
    assert f_tc["delay_s"] == 10800.0 and f_tc["detected_at"] == START + 100 * 86400 + 10800
    assert f_tc["kind"] == "bias_step" and f_tc["sensor"] == "TC-outer-01"
    assert f_sg["detected_at"] is None and f_sg["delay_s"] is None
    out = tmp_path / "run" / "report"
    for name in (
        "index.html",
        "report.json",
        "parameters.png",
        "damage.png",
        "rul.png",
        "pit.png",
        "faults.png",
    ):
        assert (out / name).stat().st_size > 0, name
    html = (out / "index.html").read_text()
    assert "src='rul.png'" in html and "/" not in html.split("src='")[1].split("'")[0]
    assert "wall_thickness_m" in html and "not detected" in html
    assert json.loads((out / "report.json").read_text()) == r


def test_a_truth_that_survives_gives_null_prognostics_and_censored_scores(tmp_path):
    _write_run(tmp_path / "run", rng=np.random.default_rng(6), eol_years=None, m=400)
    r = build_report(tmp_path / "run", out=tmp_path / "elsewhere")
    m = r["metrics"]
    assert r["end_of_life"] is None and r["life_years"] is None
    for k in (
        "alpha_lambda_pass",
        "prognostic_horizon_fraction",
        "cra",
        "convergence",
        "ra_half_life",
    ):
        assert m[k] is None and m["baseline"][k] is None
    assert any("survived" in n for n in r["notes"])
    # truth ran 60 y, every forecast (t <= 9 y) sees it survive t + 40 y: censored at 40.
    # samples: half at 40 (inf, censored), half at 30. Fair CRPS estimator (Ferro 2014):
    # E|X - y| = 5, E|X - X'| = 10 (m/2)^2 2 / (m (m - 1)), CRPS = 5 - E|X-X'| / 2
    mm = 400
    assert m["crps"] == pytest.approx(5.0 - 0.5 * 10.0 * 2 * (mm / 2) ** 2 / (mm * (mm - 1)))
    assert m["coverage_90"] == 1.0  # the interval reaches the horizon
    assert m["baseline"]["crps"] == 0.0 and m["baseline"]["coverage_90"] == 1.0
    assert m["crps_ratio"] is None  # the baseline scores 0: no ratio
    assert (tmp_path / "elsewhere" / "index.html").is_file()


def test_samples_beyond_the_horizon_are_censored_not_dropped(tmp_path):
    run = _write_run(tmp_path / "run", rng=np.random.default_rng(7), censored_half=True)
    m = build_report(tmp_path / "run")["metrics"]
    # half the samples sit at 40 y > every true RUL (<= 9.9 y): the 90 % interval's
    # upper end is 40 and the lower end is the 10 % quantile of the finite half
    lo = np.quantile(np.minimum(run["samples"], HORIZON), 0.05, axis=1)
    assert m["coverage_90"] == pytest.approx(float(np.mean(run["true_rul"] >= lo)))
    assert m["crps"] > 5.0  # half the mass 30+ years away


@pytest.mark.parametrize(
    "victim",
    [
        "truth.json",
        "truth.nc",
        "replay/forecasts.nc",
        "replay/parameters.nc",
        "replay/baseline.nc",
        "replay/detections.json",
        "replay/replay.json",
    ],
)
def test_a_missing_file_is_named(tmp_path, victim):
    _write_run(tmp_path / "run", rng=np.random.default_rng(8), n=10, m=20)
    (tmp_path / "run" / victim).unlink()
    with pytest.raises(ScenarioRunError, match=pathlib.Path(victim).name + ": missing"):
        build_report(tmp_path / "run")


def test_replay_files_that_disagree_are_refused(tmp_path):
    _write_run(tmp_path / "run", rng=np.random.default_rng(9), n=10, m=20)
    path = tmp_path / "run" / "replay" / "baseline.nc"
    ds = xr.load_dataset(path).isel(forecast=slice(0, 9))
    ds.to_netcdf(path)
    with pytest.raises(ScenarioRunError, match=r"baseline.nc: its forecast times \(9\)"):
        build_report(tmp_path / "run")
    bad = tmp_path / "run" / "truth.json"
    doc = json.loads(bad.read_text())
    del doc["start_time"]
    bad.write_text(json.dumps(doc))
    with pytest.raises(ScenarioRunError, match="truth.json: lacks the key 'start_time'"):
        build_report(tmp_path / "run")


def test_identifiability_comes_from_the_component_or_the_replay(tmp_path):
    _write_run(tmp_path / "run", rng=np.random.default_rng(10), n=10, m=20)
    root = pathlib.Path(__file__).resolve().parents[2]
    shutil.copy(root / "examples" / "grade91_header.toml", tmp_path / "run" / "component.toml")
    p = build_report(tmp_path / "run")["parameters"]
    # the example header has a wall thermocouple (bore_htc identified) and no ultrasonic
    # gauge (wall only weakly identified by the strain gauge): twin.settings' verdicts
    assert p["bore_htc_W_m2K"]["identifiable"] is True
    assert p["wall_thickness_m"]["identifiable"] is False
    assert p["bias.TC-outer-01"]["identifiable"] is True
    replay = tmp_path / "run" / "replay" / "replay.json"
    replay.write_text(json.dumps({"identifiable": ["wall_thickness"]}))
    p = build_report(tmp_path / "run")["parameters"]
    assert p["wall_thickness_m"]["identifiable"] is True
    assert p["bore_htc_W_m2K"]["identifiable"] is None  # not in the list: unknown


def _report(name: str, *, cov: float, al: bool | None, ph: float, crps: float, inside: bool):
    return {
        "scenario": {"name": name, "seed": 0},
        "life_years": 10.0,
        "metrics": {
            "coverage_90": cov,
            "scored": 20,
            "alpha_lambda_pass": al,
            "prognostic_horizon_fraction": ph,
            "crps": crps,
            "crps_ratio": crps,
            "pit": [0.5],
            "baseline": {"crps": 1.0},
        },
        "parameters": {"bore_htc_W_m2K": {"truth": 1.0, "p05": 0.0, "p95": 2.0, "inside": inside}},
        "faults": [],
    }


def test_the_suite_checks_each_target_and_gives_the_numbers_of_a_miss(tmp_path):
    reports = [
        _report(
            f"s{i}",
            cov=0.9 if i < 5 else 0.85,
            al=i < 7 if i < 9 else None,
            ph=0.1 * i,
            crps=0.5 if i < 9 else 2.0,
            inside=True,
        )
        for i in range(10)
    ]
    s = aggregate_reports(reports, tmp_path / "suite")
    t = s["targets"]
    # pooled: (5 * 0.9 * 20 + 5 * 0.85 * 20) / 200 = 0.875
    assert t["coverage_90"]["value"] == pytest.approx(0.875) and t["coverage_90"]["met"]
    # alpha-lambda: 7 of the 9 evaluated pass = 0.778 < 0.8
    assert t["alpha_lambda"]["value"] == pytest.approx(7 / 9) and not t["alpha_lambda"]["met"]
    assert "0.778 over 9 scenarios" in t["alpha_lambda"]["reason"]
    assert t["alpha_lambda"]["not_evaluated"] == 1
    # median of 0.0, 0.1, ..., 0.9 = 0.45 < 0.5
    assert t["prognostic_horizon"]["value"] == pytest.approx(0.45)
    assert not t["prognostic_horizon"]["met"]
    assert t["crps_beats_baseline"]["value"] == pytest.approx(0.9)
    assert t["crps_beats_baseline"]["met"]
    assert t["parameters"]["bore_htc_W_m2K"]["met"] and not s["met"]
    # a parameter the twin cannot identify is no target
    reports[0]["parameters"]["oxidation_factor"] = {
        "truth": 1.3,
        "p05": 0.5,
        "p95": 1.0,
        "inside": False,
        "identifiable": False,
    }
    assert (
        "oxidation_factor"
        not in aggregate_reports(reports, tmp_path / "s2")["targets"]["parameters"]
    )
    for name in ("index.html", "suite.json", "suite_metrics.png", "suite_pit.png"):
        assert (tmp_path / "suite" / name).stat().st_size > 0
    assert (
        "missed: fraction of scenarios passing alpha-lambda"
        in (tmp_path / "suite" / "index.html").read_text()
    )
    with pytest.raises(ScenarioRunError, match="at least one scenario report"):
        aggregate_reports([], tmp_path / "none")
