"""The validation suite's variants and a two-variant sweep on a real local Dask cluster."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest

from scenarios.spec import FAULT_KINDS, load_scenario
from scenarios.suite import make_variant

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "scenarios" / "run_to_failure.toml"


def test_variants_are_seeded_draws_from_the_priors_inside_the_valid_range() -> None:
    base = load_scenario(SCENARIO)
    a = [make_variant(base, i, 0) for i in range(40)]
    assert make_variant(base, 3, 0) == a[3]  # a function of (scenario, index, seed)
    assert make_variant(base, 3, 1).truth != a[3].truth
    assert [v.faults[0].kind for v in a[:5]] == list(FAULT_KINDS)
    h = np.array([v.truth.bore_htc for v in a])
    lo, hi = base.config.sections["surrogate"]["parameters"]["thermal.bore_htc_W_m2K"]
    assert lo <= h.min() and h.max() <= hi
    # the prior of examples/scenarios/aged_header.toml: lognormal, median 2500, cov 0.25
    # (sigma of the log = sqrt(log(1 + 0.25^2)) = 0.246); 40 draws: the median of the
    # log within 3 standard errors
    s = math.sqrt(math.log(1 + 0.25**2))
    assert abs(np.median(np.log(h)) - math.log(2500.0)) < 3 * 1.25 * s / math.sqrt(40)
    # the heat of material from [twin.scatter]: Larson-Miller C offsets ~ N(0, 0.26)
    dc = np.array([v.truth.larson_miller_C_offset for v in a])
    assert abs(dc.mean()) < 3 * 0.26 / math.sqrt(40) and 0.15 < dc.std() < 0.4
    for v in a:
        f = v.faults[0]
        assert 0.3 * base.duration <= f.start <= 0.6 * base.duration
        assert f.sensor in ("TC-outer-01", "SG-outer-01")


@pytest.mark.slow
def test_a_two_variant_sweep_on_a_local_dask_cluster(tmp_path: pathlib.Path) -> None:
    from scenarios.suite import run_suite

    agg = run_suite(
        SCENARIO, tmp_path / "suite", count=2, quick=True, workers=2, cache=tmp_path / "cache"
    )
    assert agg["failed"] == [], agg["failed"]
    assert agg["count"] == 2 and agg["scenarios"] == 2
    doc = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert set(doc["targets"]) >= {"coverage_90", "alpha_lambda", "crps_beats_baseline"}
    assert (tmp_path / "suite" / "index.html").is_file()
    truths = [
        json.loads((tmp_path / "suite" / f"s{i:02d}" / "truth.json").read_text())["parameters"]
        for i in range(2)
    ]
    assert truths[0]["bore_htc_W_m2K"] != truths[1]["bore_htc_W_m2K"]
    # each variant replayed the readings its own plant recorded
    for i in range(2):
        run = tmp_path / "suite" / f"s{i:02d}"
        rec = json.loads((run / "truth.json").read_text())["readings"]
        assert json.loads((run / "replay" / "replay.json").read_text())["readings"] == rec
