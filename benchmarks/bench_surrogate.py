"""Surrogate benchmark: accuracy on held-out FEM, speed against the FEM and the floor, peers.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_surrogate.py            # full (FEM campaign)
    OMP_NUM_THREADS=1 python benchmarks/bench_surrogate.py --analytic-only

Sections, side by side in one run:

1. FEM solve time of one training run (the thing a surrogate evaluation replaces).
2. FEM campaign on 1 and 2 local Dask workers (same points): wall time, speed-up.
3. Training campaign + held-out campaign; GPSurrogate (GPyTorch, batch of outputs)
   against scikit-learn's GaussianProcessRegressor on the same data: fit time,
   10^4-point prediction time, RMSE (% of range), 95 % coverage, per output.
4. Prediction speed: one evaluation (mean+std) vs the FEM solve; 10^4-point batched
   mean and mean+variance vs the floor (bare kernel evaluation + K*·alpha product),
   and GPyTorch's own predictive path with/without fast_pred_var (variance error).
5. The same GP comparison on the closed-form thick-cylinder hoop stress at n=500
   (Timoshenko & Goodier 1970; DESIGN.md's measured figures were taken at n=500).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _timeit(fn: Any, *, repeat: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _floor(gp: Any, X: np.ndarray) -> float:
    """Median time of the bare kernel + K*·alpha product (same batch of outputs)."""
    import torch

    from surrogates._gpmodel import _correlation

    post = gp._posterior  # surrogates.posterior.CachedPosterior
    ls, s, c = post.lengthscale, post.outputscale, post.constant
    U = torch.as_tensor((X - gp.x_low_) / (gp.x_high_ - gp.x_low_))
    xs = post._train_x_scaled
    alpha = post.alpha

    def run() -> None:
        with torch.no_grad():
            K = s[:, None, None] * _correlation(torch.cdist(U.unsqueeze(0) / ls, xs), gp.kernel)
            (K @ alpha)[..., 0] + c[:, None]

    return _timeit(run)


def _sklearn_peer(
    X: np.ndarray, Y: np.ndarray, Xh: np.ndarray, bounds: np.ndarray, *, seed: int
) -> tuple[Any, float]:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    U = (X - bounds[:, 0]) / np.ptp(bounds, axis=1)
    models = []
    t = time.perf_counter()
    for j in range(Y.shape[1]):
        kernel = ConstantKernel(1.0, (1e-4, 1e4)) * Matern(
            np.full(X.shape[1], 0.5), (1e-3, 20.0), nu=2.5
        ) + WhiteKernel(1e-4, (1e-8, 1.0))
        gpr = GaussianProcessRegressor(
            kernel, normalize_y=True, n_restarts_optimizer=2, random_state=seed + j
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(gpr.fit(U, Y[:, j]))
    fit_s = time.perf_counter() - t

    def predict(Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Uq = (Xq - bounds[:, 0]) / np.ptp(bounds, axis=1)
        out = [m.predict(Uq, return_std=True) for m in models]
        return np.column_stack([o[0] for o in out]), np.column_stack([o[1] for o in out])

    return predict, fit_s


def _compare(
    name: str,
    X: np.ndarray,
    Y: np.ndarray,
    Xh: np.ndarray,
    Yh: np.ndarray,
    outputs: list[str],
    bounds: np.ndarray,
    *,
    seed: int,
    X4: np.ndarray,
) -> dict[str, Any]:
    from surrogates.gp import GPSurrogate
    from surrogates.validation import metrics

    t = time.perf_counter()
    gp = GPSurrogate(bounds=bounds).fit(X, Y)
    fit_ours = time.perf_counter() - t
    mean, std = gp.predict(Xh)
    mean, std = np.atleast_2d(mean.T).T, np.atleast_2d(std.T).T
    ours = {o: metrics(Yh[:, j], mean[:, j], std=std[:, j]) for j, o in enumerate(outputs)}
    sk_predict, fit_sk = _sklearn_peer(X, Y, Xh, bounds, seed=seed)
    ms, ss = sk_predict(Xh)
    peer = {o: metrics(Yh[:, j], ms[:, j], std=ss[:, j]) for j, o in enumerate(outputs)}
    pred_ours = _timeit(lambda: gp.predict(X4), repeat=3)
    pred_sk = _timeit(lambda: sk_predict(X4), repeat=3)
    print(f"\n== {name}: n_train={X.shape[0]}, n_holdout={Xh.shape[0]}, outputs={len(outputs)}")
    print(
        f"fit time          GPSurrogate {fit_ours:8.2f} s   "
        f"sklearn GPR (3 starts/output) {fit_sk:8.2f} s"
    )
    print(
        f"predict 1e4 (m+s) GPSurrogate {pred_ours * 1e3:8.1f} ms  "
        f"sklearn GPR {pred_sk * 1e3:8.1f} ms"
    )
    print(
        f"{'output':30s} {'RMSE %rng ours':>15s} {'sklearn':>9s} {'cover95 ours':>13s} "
        f"{'sklearn':>8s} {'NLPD ours':>10s} {'sklearn':>9s}"
    )
    for o in outputs:
        print(
            f"{o:30s} {ours[o]['rmse_pct_range']:15.3f} {peer[o]['rmse_pct_range']:9.3f} "
            f"{ours[o]['coverage_95']:13.3f} {peer[o]['coverage_95']:8.3f} "
            f"{ours[o]['nlpd']:10.3f} {peer[o]['nlpd']:9.3f}"
        )
    return {
        "gp": gp,
        "fit_s": fit_ours,
        "fit_sklearn_s": fit_sk,
        "predict_1e4_s": pred_ours,
        "predict_1e4_sklearn_s": pred_sk,
        "metrics": ours,
        "metrics_sklearn": peer,
    }


def _speed(gp: Any, X4: np.ndarray, fem_s: float | None) -> dict[str, float]:
    x1 = X4[:1]
    single = _timeit(lambda: gp.predict(x1), repeat=200)
    single_mean = _timeit(lambda: gp.predict_mean(x1), repeat=200)
    floor = _floor(gp, X4)
    mean_t = _timeit(lambda: gp.predict_mean(X4))
    full_t = _timeit(lambda: gp.predict(X4))
    gpt = _timeit(lambda: gp.predict_gpytorch(X4), repeat=1)
    gpt_fast = _timeit(lambda: gp.predict_gpytorch(X4, fast_pred_var=True), repeat=1)
    _, s_exact = gp.predict(X4)
    _, s_gpt = gp.predict_gpytorch(X4)
    _, s_fast = gp.predict_gpytorch(X4, fast_pred_var=True)
    dev = float(np.max(np.abs(s_fast**2 / s_exact**2 - 1.0)))
    dev_exact = float(np.max(np.abs(s_gpt / s_exact - 1.0)))
    print(
        f"\n== prediction speed (n_train={gp._train_x.shape[0]}, outputs={gp.n_outputs_}, "
        "1e4 points)"
    )
    print(f"one evaluation mean+std {single * 1e6:8.1f} us   mean only {single_mean * 1e6:8.1f} us")
    if fem_s is not None:
        print(
            f"FEM solve {fem_s:.2f} s  -> speed-up {fem_s / single:,.0f}x (mean+std), "
            f"{fem_s / single_mean:,.0f}x (mean)"
        )
    print(f"floor: kernel + K*.alpha     {floor * 1e3:8.1f} ms")
    print(f"GPSurrogate.predict_mean     {mean_t * 1e3:8.1f} ms  ({mean_t / floor:.2f}x floor)")
    print(f"GPSurrogate.predict (m+var)  {full_t * 1e3:8.1f} ms  ({full_t / floor:.2f}x floor)")
    print(
        f"GPyTorch eval path (exact)   {gpt * 1e3:8.1f} ms  "
        f"(std vs ours max rel dev {dev_exact:.1e})"
    )
    print(
        f"GPyTorch fast_pred_var       {gpt_fast * 1e3:8.1f} ms  "
        f"(variance max rel error {100 * dev:.1f} %)"
    )
    return {
        "single_s": single,
        "single_mean_s": single_mean,
        "floor_s": floor,
        "mean_1e4_s": mean_t,
        "full_1e4_s": full_t,
        "gpytorch_s": gpt,
        "gpytorch_fast_s": gpt_fast,
        "fast_pred_var_max_rel_var_err": dev,
    }


def analytic_section(seed: int) -> dict[str, Any]:
    from surrogates.analytic import ANALYTIC_BOUNDS, bore_hoop_stress
    from surrogates.design import design_points

    rng = np.random.default_rng(seed)
    X = design_points(ANALYTIC_BOUNDS, 500, rng=rng)
    Xh = design_points(ANALYTIC_BOUNDS, 500, method="random", rng=rng)
    X4 = design_points(ANALYTIC_BOUNDS, 10_000, method="random", rng=rng)
    res = _compare(
        "closed-form thick-cylinder hoop stress",
        X,
        bore_hoop_stress(X)[:, None],
        Xh,
        bore_hoop_stress(Xh)[:, None],
        ["bore_hoop_stress"],
        ANALYTIC_BOUNDS,
        seed=seed,
        X4=X4,
    )
    res["speed"] = _speed(res["gp"], X4, None)
    return res


def fem_section(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import dolfinx_solver  # noqa: F401

    from models.config import load_config
    from models.service import solve
    from surrogates.campaign import run_campaign
    from surrogates.design import design_points
    from surrogates.space import ParameterSpace
    from surrogates.targets import PEAK_OUTPUTS, FemResponses
    from surrogates.train import training_arrays

    cfg = load_config(args.config)
    overrides = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    if overrides:
        cfg = cfg.with_overrides(overrides)
    space = ParameterSpace.from_config(cfg)
    section = cfg.sections["surrogate"]
    outputs = list(section.get("outputs", PEAK_OUTPUTS))
    fn = FemResponses(config=cfg.to_dict(), space=space.to_dict(), outputs=tuple(outputs))
    mid = space.point(space.bounds.mean(axis=1))
    run_cfg = space.config_for(cfg, mid)
    solve(run_cfg, fields=False)  # form compilation
    fem_s = _timeit(lambda: solve(run_cfg, fields=False), repeat=3)
    print(
        f"== FEM: {cfg.mesh.radial_cells}x{cfg.mesh.axial_cells} cells, degree {cfg.mesh.degree}, "
        f"{int(run_cfg.loads.duration / cfg.solver.time_step)} steps: solve {fem_s:.2f} s"
    )
    rng = np.random.default_rng(args.seed)
    Xs = design_points(space, args.n_scale, method="lhs", rng=rng)
    scale = {}
    for w in (1, 2):
        t = time.perf_counter()
        run_campaign(
            fn, Xs, names=space.names, store=work / f"scale{w}.zarr", n_workers=w, progress=False
        )
        scale[w] = time.perf_counter() - t
    print(
        f"\n== campaign of {args.n_scale} FEM runs (cluster start-up included): "
        f"1 worker {scale[1]:.1f} s, "
        f"2 workers {scale[2]:.1f} s, speed-up {scale[1] / scale[2]:.2f}x"
    )
    X = design_points(space, args.n_train, method="sobol", rng=rng)
    Xh = design_points(space, args.n_holdout, method="lhs", rng=rng)
    t = time.perf_counter()
    ds = run_campaign(
        fn, X, names=space.names, store=work / "train.zarr", n_workers=2, progress=True
    )
    train_campaign_s = time.perf_counter() - t
    dh = run_campaign(
        fn, Xh, names=space.names, store=work / "holdout.zarr", n_workers=2, progress=True
    )
    X, Y = training_arrays(ds, names=space.names, outputs=outputs)
    Xh, Yh = training_arrays(dh, names=space.names, outputs=outputs)
    print(f"training campaign: {args.n_train} runs in {train_campaign_s:.1f} s on 2 workers")
    X4 = design_points(space, 10_000, method="random", rng=rng)
    res = _compare("FEM held-out", X, Y, Xh, Yh, outputs, space.bounds, seed=args.seed, X4=X4)
    res["speed"] = _speed(res["gp"], X4, fem_s)
    res.update(
        {"fem_solve_s": fem_s, "campaign_1_worker_s": scale[1], "campaign_2_workers_s": scale[2]}
    )
    hoop = res["metrics"]["bore_hoop_stress_end"]
    print("\n== targets")
    print(
        f"bore hoop stress RMSE {hoop['rmse_pct_range']:.3f} % of range (<= 1 %)   "
        f"coverage {100 * hoop['coverage_95']:.1f} % (90-99 %)"
    )
    print(
        f"one evaluation {fem_s / res['speed']['single_s']:,.0f}x faster than the FEM (>= 1e4)   "
        "batched 1e4 means "
        f"{res['speed']['mean_1e4_s'] / res['speed']['floor_s']:.2f}x floor (<= 3)"
    )
    return res


def active_section(args: argparse.Namespace, work: Path) -> None:
    """Active learning on the reduced FEM (CI mesh) against a passive Sobol design."""
    from distributed import Client, LocalCluster

    from models.config import load_config
    from surrogates.active import CampaignEvaluator, active_learning
    from surrogates.design import design_points
    from surrogates.gp import GPSurrogate
    from surrogates.space import ParameterSpace
    from surrogates.targets import FemResponses
    from surrogates.validation import metrics

    reduced = {"mesh.radial_cells": 10, "mesh.axial_cells": 1, "solver.time_step_s": 300.0}
    cfg = load_config(args.config).with_overrides(reduced)
    space = ParameterSpace.from_config(cfg)
    outputs = ("bore_hoop_stress_end",)
    fn = FemResponses(config=cfg.to_dict(), space=space.to_dict(), outputs=outputs)
    rng = np.random.default_rng(args.seed + 1)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        with Client(cluster):
            ev = CampaignEvaluator(
                fn,
                space.names,
                outputs,
                str(work / "al"),
                scheduler_address=cluster.scheduler_address,
            )
            Xv = design_points(space, 32, method="lhs", rng=rng)
            Yv = ev(Xv)
            cand = design_points(space, 256, method="lhs", rng=rng)
            X0 = design_points(space, 8, method="sobol", rng=rng)
            print(
                f"\n== active learning, bore hoop stress, reduced FEM {reduced}, 32 held-out runs"
            )
            print("criterion  n_train:RMSE %range")
            for crit in ("variance", "ivr"):
                t = time.perf_counter()
                res = active_learning(
                    ev,
                    X_initial=X0,
                    candidates=cand,
                    max_runs=48,
                    batch_size=4,
                    criterion=crit,
                    target_rmse_pct=0.1,
                    validation=(Xv, Yv),
                    gp_params={"bounds": space.bounds},
                )
                curve = " ".join(
                    f"{c['n_train']}:{c['metrics'][0]['rmse_pct_range']:.3f}" for c in res.curve
                )
                print(
                    f"{crit:9s}  {curve}  (reached 0.1 %: {res.reached}, "
                    f"{time.perf_counter() - t:.0f} s)"
                )
            passive = []
            for n in (8, 16, 24, 32, 48):
                Xs = design_points(
                    space, n, method="sobol", rng=np.random.default_rng(args.seed + 2)
                )
                Ys = ev(Xs)
                m, sd = GPSurrogate(bounds=space.bounds).fit(Xs, Ys).predict(Xv)
                passive.append(
                    f"{n}:{metrics(Yv[:, 0], m[:, 0], std=sd[:, 0])['rmse_pct_range']:.3f}"
                )
            print(f"{'sobol':9s}  {' '.join(passive)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=str(ROOT / "examples" / "grade91_header.toml"))
    parser.add_argument(
        "--set", action="append", default=[], help="KEY=VALUE override (JSON value)"
    )
    parser.add_argument("--n-train", type=int, default=64)
    parser.add_argument("--n-holdout", type=int, default=48)
    parser.add_argument(
        "--n-scale", type=int, default=12, help="runs of the 1-vs-2 worker comparison"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--analytic-only", action="store_true")
    parser.add_argument("--active-only", action="store_true", help="only the active-learning part")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    print(f"load average at start: {os.getloadavg()}")
    work = Path(tempfile.mkdtemp(prefix="bench_surrogate_"))
    try:
        if args.active_only:
            active_section(args, work)
            return
        if not args.analytic_only:
            fem_section(args, work)
            active_section(args, work)
        analytic_section(args.seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
