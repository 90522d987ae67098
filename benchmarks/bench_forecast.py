"""Remaining-life forecast: speed per component, ProgPy's MonteCarlo side by side, a fleet on Dask.

1. The example component (examples/grade91_header.toml, its plan file): a twin of 500
   particles after two FEM-truth start-ups, checkpointed; the forecast restores it,
   simulates every cycle kind once per particle (the posterior thinned to 200) and
   runs 1,000 samples over 40 years at 12 and at 50 steps a year (2,000 steps).
2. The wall-lag problem of benchmarks/bench_twin.py (a first-order wall-temperature lag
   behind a fluid ramp 150 -> 565 degC over two hours, time constant uniform 200-900 s)
   predicted 2,000 steps of 1 s ahead to the event "wall at 250 degC": ProgPy's
   MonteCarlo predictor (pure-Python per sample and step, ``bench`` extra) against the
   project's modal filter vectorised over the samples, and against the component
   forecast's cost per sample at 2,000 steps.
3. A fleet of 50 components (the same checkpoint under 50 identities) on a local Dask
   cluster of 1 and 2 worker processes: wall time, speed-up, identical results.

Run: ``python benchmarks/bench_forecast.py [--skip-peer] [--skip-fleet] [--components N]``.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "examples" / "grade91_header.toml"
PLAN = ROOT / "examples" / "grade91_header.plan.toml"
RESULTS = ROOT / "results"
HORIZON_STEPS = 2000
THRESHOLD = 250.0  # degC, the wall-lag event


def checkpoint(particles: int = 500) -> pathlib.Path:
    """A checkpoint of the example twin after two FEM-truth start-ups (cached)."""
    path = RESULTS / f"bench-forecast-checkpoint-{particles}"
    if (path / "checkpoint.npz").exists():
        return path
    from models.config import load_config, parse_config
    from scenarios.truth import Cycle, TruthLibrary, synthesize_readings
    from twin.state import Twin

    cfg = load_config(EXAMPLE)
    lib = TruthLibrary(cfg, RESULTS / "truth-cache", time_step_s=30.0)
    truth = lib.run(Cycle(ramp_h=2.0, hold_h=2.0, down_h=2.0, rest_h=1.0), bore_htc=3000.0,
                    wall_thickness=0.05)  # fmt: skip
    sensors = {
        "TC-steam-01": ("fluid_temperature", ""),
        "PT-01": ("pressure", ""),
        "TC-outer-01": ("temperature", "outer"),
        "SG-outer-01": ("eps_theta", "outer"),
    }
    noise = {"TC-steam-01": 0.3, "PT-01": 0.02e6, "TC-outer-01": 0.5, "SG-outer-01": 5e-6}
    readings = synthesize_readings(truth, cycles=2, t0=1.9e9, sensors=sensors, noise=noise,
                                   rng=np.random.default_rng(0))  # fmt: skip
    doc = cfg.to_dict()
    doc["twin"] = {**doc["twin"], "particles": particles}
    twin = Twin.from_config(parse_config(doc), seed=0, config_path=EXAMPLE)
    twin.update(readings)
    twin.flush()
    return twin.checkpoint(path)


def bench_component(ck: pathlib.Path) -> float:
    from twin.forecast import Forecaster, ForecastOptions
    from twin.plan import load_plan

    plan = load_plan(PLAN)
    opts = ForecastOptions(samples=1000, horizon_years=40.0)
    t0 = time.perf_counter()
    fc = Forecaster.from_checkpoint(ck, options=opts)
    t_cold = time.perf_counter() - t0
    t_restore = min(_timed(lambda: Forecaster.from_checkpoint(ck, options=opts)) for _ in range(3))
    fc.run(plan, seed=0)  # JIT (numba cache) and warm caches
    t_tables = min(_timed(lambda: (fc._tables.clear(), fc.run(plan, seed=0))) for _ in range(2))
    rows = []
    per_sample_2000 = float("nan")
    for q in (12, 50):
        oq = ForecastOptions(samples=1000, horizon_years=40.0, steps_per_year=q)
        f = Forecaster(parts=fc.parts, posterior=fc.posterior, options=oq)
        f.run(plan, seed=0)
        best = min(_timed(lambda f=f: f.run(plan, seed=0)) for _ in range(3))
        rows.append((q, 40 * q, best))
        if 40 * q == HORIZON_STEPS:
            per_sample_2000 = best / 1000
    kinds = len(plan.startups) + (plan.trips is not None)
    print(f"\n== component forecast: {EXAMPLE.name}, plan {plan.name!r}, 1000 samples x 40 years")
    print(f"   posterior: 500 particles thinned to {fc.posterior.n_particles}; "
          f"{kinds} cycle kinds x 3 walls x 5 creep factors")  # fmt: skip
    print(f"{'step':<44} {'time [s]':>10}")
    print(f"{'read the checkpoint (first, with imports)':<44} {t_cold:>10.2f}")
    print(f"{'read the checkpoint (again)':<44} {t_restore:>10.2f}")
    print(f"{'cycle tables + Monte Carlo (12 steps/year)':<44} {t_tables:>10.2f}")
    for q, n, t in rows:
        print(f"{f'Monte Carlo alone, {q} steps/year ({n} steps)':<44} {t:>10.3f}"
              f"   target <= 1 s: {'met' if t <= 1.0 else 'MISSED'}")  # fmt: skip
    return per_sample_2000


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _tf(t: np.ndarray) -> np.ndarray:
    return 150.0 + np.minimum(t, 7200.0) * (415.0 / 7200.0)


def peer_progpy(n_samples: int = 40) -> dict | None:
    try:
        from progpy import PrognosticsModel
        from progpy.predictors import MonteCarlo
        from progpy.uncertain_data import UnweightedSamples
    except ImportError:
        return None

    class Lag(PrognosticsModel):
        inputs = ["tf"]
        states = ["tw", "tau"]
        outputs = ["tw_meas"]
        events = ["hot"]
        default_parameters = {
            "x0": {"tw": 150.0, "tau": 600.0},
            "process_noise": {"tw": 0.0, "tau": 0.0},
            "measurement_noise": {"tw_meas": 0.0},
        }

        def dx(self, x, u):
            return self.StateContainer({"tw": (u["tf"] - x["tw"]) / x["tau"], "tau": 0.0})

        def output(self, x):
            return self.OutputContainer({"tw_meas": x["tw"]})

        def threshold_met(self, x):
            return {"hot": x["tw"] >= THRESHOLD}

        def event_state(self, x):
            return {"hot": max(0.0, (THRESHOLD - x["tw"]) / (THRESHOLD - 150.0))}

    m = Lag()
    rng = np.random.default_rng(1)
    tau = rng.uniform(200.0, 900.0, n_samples)
    samples = UnweightedSamples([{"tw": 150.0, "tau": float(v)} for v in tau])

    def load(t, x=None):
        return m.InputContainer({"tf": float(_tf(np.array(t)))})

    mc = MonteCarlo(m)
    t0 = time.perf_counter()
    res = mc.predict(samples, load, dt=1.0, horizon=float(HORIZON_STEPS), save_freq=100.0)
    dt = time.perf_counter() - t0
    toe = np.array([s["hot"] if s["hot"] is not None else np.nan for s in res.time_of_event])
    return {"per_sample": dt / n_samples, "samples": n_samples, "tau": tau, "toe": toe}


def ours_wall_lag(tau: np.ndarray) -> tuple[float, np.ndarray]:
    from models.modal import ModalBank, ModalFilter

    P = tau.size
    bank = ModalBank(outputs=(("temperature", "outer"),), amplitudes=np.ones((P, 1, 1)),
                     time_constants=tau.reshape(P, 1, 1), direct=np.zeros((P, 1)),
                     pressure_gain=np.zeros((P, 1)))  # fmt: skip
    t = np.arange(1.0, HORIZON_STEPS + 1.0)
    t0 = time.perf_counter()
    f = ModalFilter(bank)
    f.start(0.0, 150.0, 0.0)
    y = 150.0 + f.advance(t, _tf(t), np.zeros(t.size))[:, 0, :]
    hit = y >= THRESHOLD
    k = np.argmax(hit, axis=1)
    ok = hit[np.arange(P), k]
    prev = np.where(k > 0, y[np.arange(P), k - 1], 150.0)
    toe = np.where(ok, k + (THRESHOLD - prev) / (y[np.arange(P), k] - prev), np.nan)
    return (time.perf_counter() - t0) / P, toe


def bench_peer(per_sample_forecast: float) -> None:
    ref = peer_progpy()
    print(
        f"\n== wall-lag prediction, {HORIZON_STEPS} steps of 1 s to 'wall at {THRESHOLD:.0f} degC'"
    )
    print(f"{'predictor':<52} {'ms per sample':>14} {'vs ProgPy':>10}")
    if ref is None:
        print(f"{'ProgPy MonteCarlo':<52} {'not installed: pip install -e .[bench]':>40}")
        return
    ours_wall_lag(np.full(10, 500.0))  # compile the kernel
    per, toe = ours_wall_lag(np.random.default_rng(1).uniform(200.0, 900.0, 10_000))
    _, toe_same = ours_wall_lag(ref["tau"])
    agree = np.nanmax(np.abs(toe_same - ref["toe"]))
    rows = [
        (f"ProgPy MonteCarlo ({ref['samples']} samples)", ref["per_sample"]),
        ("models.modal.ModalFilter, vectorised (10,000 samples)", per),
        ("twin.forecast, example header (1000 samples)", per_sample_forecast),
    ]
    for name, v in rows:
        print(f"{name:<52} {v * 1e3:>14.4f} {ref['per_sample'] / v:>9.0f}x")
    print(f"   time of event, same samples: largest difference to ProgPy {agree:.2f} s "
          "(ProgPy steps Euler at dt = 1 s, the modal filter is exact)")  # fmt: skip


def bench_fleet(ck: pathlib.Path, n: int) -> None:
    from twin.fleet import FleetMember, forecast_fleet
    from twin.forecast import ForecastOptions

    opts = ForecastOptions(samples=1000, horizon_years=40.0)
    members = [FleetMember(EXAMPLE, ck, PLAN, f"plant-1/header-{i:02d}") for i in range(n)]
    print(f"\n== fleet: {n} components (1000 samples x 40 years each) on a local Dask cluster")
    print(f"{'workers':>8} {'wall time [s]':>14} {'per component [s]':>18} {'speed-up':>9}")
    out = {}
    for w in (1, 2):
        t0 = time.perf_counter()
        out[w] = forecast_fleet(members, options=opts, seed=0, workers=w)
        out[w + 10] = time.perf_counter() - t0
        sp = out[11] / out[w + 10]
        print(f"{w:>8} {out[w + 10]:>14.1f} {out[w + 10] / n:>18.2f} {sp:>8.2f}x")
    same = all(
        np.array_equal(a["time_to_failure"], b["time_to_failure"])
        for a, b in zip(out[1], out[2], strict=True)
    )
    print(f"   results identical on 1 and 2 workers: {same}")


if __name__ == "__main__":
    ck = checkpoint()
    per = bench_component(ck)
    if "--skip-peer" not in sys.argv:
        bench_peer(per)
    if "--skip-fleet" not in sys.argv:
        n = int(sys.argv[sys.argv.index("--components") + 1]) if "--components" in sys.argv else 50
        bench_fleet(ck, n)
