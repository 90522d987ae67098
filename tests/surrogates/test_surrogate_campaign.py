"""Dask campaign runner (real LocalCluster, real zarr store) and active learning.

The campaign function is the closed-form Lame + thermal hoop stress
(Timoshenko & Goodier 1970, sec. 33 and 150; surrogates/analytic.py), so every
stored value has an exact reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from surrogates.active import active_learning, select_batch
from surrogates.analytic import (
    ANALYTIC_BOUNDS,
    ANALYTIC_NAMES,
    bore_hoop_stress,
    closed_form_response,
)
from surrogates.campaign import DONE, FAILED, run_campaign
from surrogates.design import design_points
from surrogates.errors import CampaignError
from surrogates.gp import GPSurrogate
from surrogates.validation import metrics


def test_campaign_on_local_cluster_stores_exact_values_and_resumes(tmp_path: Path) -> None:
    X = design_points(ANALYTIC_BOUNDS, 12, rng=np.random.default_rng(1))
    store = tmp_path / "campaign.zarr"
    ds = run_campaign(
        closed_form_response,
        X,
        names=ANALYTIC_NAMES,
        store=store,
        n_workers=2,
        provenance={"config_hash": "abc"},
        units={"bore_hoop_stress": "Pa"},
        progress=False,
    )
    np.testing.assert_allclose(ds["bore_hoop_stress"].values, bore_hoop_stress(X), rtol=1e-14)
    assert (ds["status"].values == DONE).all()
    assert ds["bore_hoop_stress"].attrs["units"] == "Pa"
    prov = json.loads(ds.attrs["provenance"])
    assert prov["config_hash"] == "abc" and prov["package_versions"]["numpy"] == np.__version__
    # Resume: nothing left to do, so the stored timings are untouched.
    again = run_campaign(closed_form_response, X, names=ANALYTIC_NAMES, store=store, progress=False)
    np.testing.assert_array_equal(again["elapsed_s"].values, ds["elapsed_s"].values)
    # An interrupted campaign: runs 3 and 7 never finished. Only they are run again.
    import zarr

    group = zarr.open_group(str(store), mode="r+")
    group["status"][[3, 7]] = 0
    group["bore_hoop_stress"][[3, 7]] = np.nan
    resumed = run_campaign(
        closed_form_response, X, names=ANALYTIC_NAMES, store=store, n_workers=1, progress=False
    )
    changed = np.flatnonzero(resumed["elapsed_s"].values != ds["elapsed_s"].values)
    assert changed.tolist() == [3, 7]
    np.testing.assert_allclose(resumed["bore_hoop_stress"].values, bore_hoop_stress(X), rtol=1e-14)
    # Training refuses a non-finite value or an unfinished run, naming the run.
    from surrogates.errors import TrainingDataError
    from surrogates.train import training_arrays

    X_ok, Y_ok = training_arrays(resumed, names=ANALYTIC_NAMES, outputs=["bore_hoop_stress"])
    np.testing.assert_allclose(Y_ok[:, 0], bore_hoop_stress(X), rtol=1e-14)
    group["bore_hoop_stress"][5] = np.inf
    with pytest.raises(TrainingDataError, match=r"run 5 at .* bore_hoop_stress = inf"):
        training_arrays(
            xr.open_zarr(store, consolidated=False),
            names=ANALYTIC_NAMES,
            outputs=["bore_hoop_stress"],
        )
    group["status"][9] = 0
    with pytest.raises(TrainingDataError, match=r"run 9 .* not finished"):
        training_arrays(
            xr.open_zarr(store, consolidated=False),
            names=ANALYTIC_NAMES,
            outputs=["bore_hoop_stress"],
        )
    with pytest.raises(CampaignError, match="another design"):
        run_campaign(closed_form_response, X[:6], names=ANALYTIC_NAMES, store=store, progress=False)


def test_failed_runs_are_recorded_and_named(tmp_path: Path) -> None:
    X = design_points(ANALYTIC_BOUNDS, 4, rng=np.random.default_rng(2))
    names = list(ANALYTIC_NAMES)
    names[0] = (
        "thermal.htc"  # closed_form_response needs ANALYTIC_NAMES: every run fails with KeyError
    )
    with pytest.raises(CampaignError, match=r"4 of 4 FEM runs failed \(run 0 at .*KeyError"):
        run_campaign(
            closed_form_response,
            X,
            names=names,
            store=tmp_path / "c.zarr",
            n_workers=1,
            progress=False,
        )
    import xarray as xr

    ds = xr.open_zarr(tmp_path / "c.zarr", consolidated=False)
    assert (ds["status"].values == FAILED).all()
    assert set(json.loads(ds.attrs["failures"])) == {"0", "1", "2", "3"}


def test_active_learning_reaches_target_and_ivr_spreads_a_batch() -> None:
    rng = np.random.default_rng(11)
    X0 = design_points(ANALYTIC_BOUNDS, 12, method="lhs", rng=rng)
    cand = design_points(ANALYTIC_BOUNDS, 400, method="random", rng=rng)
    Xv = design_points(ANALYTIC_BOUNDS, 200, method="random", rng=rng)
    yv = bore_hoop_stress(Xv)

    def evaluate(X: np.ndarray) -> np.ndarray:
        return bore_hoop_stress(X)[:, None]

    res = active_learning(
        evaluate,
        X_initial=X0,
        candidates=cand,
        max_runs=60,
        batch_size=4,
        criterion="ivr",
        target_rmse_pct=0.5,
        validation=(Xv, yv),
        gp_params={"bounds": ANALYTIC_BOUNDS},
    )
    assert res.reached
    rmse = [c["metrics"][0]["rmse_pct_range"] for c in res.curve]
    assert rmse[-1] <= 0.5 < rmse[0]
    mean, std = res.gp.predict(Xv)
    assert (
        metrics(
            yv, mean[:, 0] if mean.ndim == 2 else mean, std=std[:, 0] if std.ndim == 2 else std
        )["rmse_pct_range"]
        <= 0.5
    )
    # Greedy batch: four distinct candidates, the first one the maximum-variance candidate.
    gp = GPSurrogate(bounds=ANALYTIC_BOUNDS).fit(X0, bore_hoop_stress(X0))
    pick = select_batch(gp, cand, batch_size=4, criterion="variance")
    _, s = gp.predict(cand)
    assert len(set(pick.tolist())) == 4 and pick[0] == int(np.argmax(s))


def test_campaign_evaluator_runs_active_learning_rounds_on_an_existing_cluster(
    tmp_path: Path,
) -> None:
    from distributed import Client, LocalCluster

    from surrogates.active import CampaignEvaluator

    rng = np.random.default_rng(4)
    X0 = design_points(ANALYTIC_BOUNDS, 8, method="lhs", rng=rng)
    cand = design_points(ANALYTIC_BOUNDS, 100, method="random", rng=rng)
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster),
    ):
        ev = CampaignEvaluator(
            closed_form_response,
            ANALYTIC_NAMES,
            ("bore_hoop_stress",),
            str(tmp_path),
            scheduler_address=cluster.scheduler_address,
        )
        res = active_learning(
            ev,
            X_initial=X0,
            candidates=cand,
            max_runs=16,
            batch_size=4,
            gp_params={"bounds": ANALYTIC_BOUNDS},
        )
    assert ev.rounds == 3 and res.X.shape == (16, 4)
    np.testing.assert_allclose(res.Y[:, 0], bore_hoop_stress(res.X), rtol=1e-14)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "round-0.zarr",
        "round-1.zarr",
        "round-2.zarr",
    ]
