"""Twin assimilation: the wall-lag peer problem beside ProgPy, and the component twin.

1. The peer problem (the one ProgPy's ParticleFilter is measured on): a first-order
   wall-temperature lag behind a fluid ramp 150 -> 565 degC over two hours, time
   constant 450 s (prior uniform 200-900 s), readings every second with 0.5 K noise,
   500 particles, 400 readings. ProgPy runs one ``estimate`` per reading; the project's
   filter (models.modal.ModalFilter + twin.filter.ParticleFilter) assimilates the same
   readings one by one and in blocks of 60 (the twin's default block of plant time).
   ProgPy comes from the ``bench`` extra (``pip install -e ".[bench]"``); without it the
   peer column says so.
2. The component twin of examples/grade91_header.toml with its shipped mode surrogate:
   readings per second at 500 and 5,000 particles over synthetic start-ups, memory per
   twin, checkpoint size and restore time.

Run: ``python benchmarks/bench_twin.py [--skip-peer] [--skip-twin]``.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.modal import ModalBank, ModalFilter  # noqa: E402
from twin.filter import Observations, ParticleFilter  # noqa: E402

TAU_TRUE = 450.0


def tf_at(t: np.ndarray) -> np.ndarray:
    return 150.0 + np.minimum(t, 7200.0) * (415.0 / 7200.0)


class WallLag:
    """One-state lag per particle: the project's modal filter with one mode of gain 1."""

    def __init__(self, tau: np.ndarray) -> None:
        self.P = tau.size
        self.filter = ModalFilter(self._bank(tau))
        self.filter.start(0.0, 150.0, 0.0)

    @staticmethod
    def _bank(tau: np.ndarray) -> ModalBank:
        P = tau.size
        return ModalBank(
            outputs=(("temperature", "outer"),),
            amplitudes=np.ones((P, 1, 1)),
            time_constants=tau.reshape(P, 1, 1),
            direct=np.zeros((P, 1)),
            pressure_gain=np.zeros((P, 1)),
        )

    # FilterModel protocol; theta is logit((tau - 200) / 700)
    def save(self):
        return {
            k: (v.copy() if isinstance(v, np.ndarray) else v)
            for k, v in self.filter.state_dict().items()
        }

    def load(self, snap):
        bank = self.filter.bank
        self.filter = ModalFilter.from_state_dict(snap)
        self.filter.set_bank(bank)

    def advance(self, t, inputs):
        return self.filter.advance(t, inputs["tf"], np.zeros(t.size))[:, 0, :]

    def predict(self, outputs, obs):
        mu = 150.0 + outputs[:, obs.index]
        return mu, np.full_like(mu, 0.25)

    def commit(self, t, inputs, outputs):
        pass

    def take(self, index):
        self.filter.take(index)

    def set_parameters(self, theta):
        tau = 200.0 + 700.0 / (1.0 + np.exp(-theta[:, 0]))
        self.filter.set_bank(self._bank(tau))


def ours(n_particles: int, n_steps: int, block: int) -> dict:
    rng = np.random.default_rng(1)
    t = np.arange(1.0, n_steps + 1.0)
    # exact lag response to the ramp (closed form of tau dx/dt = tf - x, x(0) = 150)
    x = 150.0 + (415.0 / 7200.0) * (t - TAU_TRUE * (1.0 - np.exp(-t / TAU_TRUE)))
    z = x + rng.normal(0.0, 0.5, t.size)
    tau0 = rng.uniform(200.0, 900.0, n_particles)
    u = (tau0 - 200.0) / 700.0
    theta = np.log(u / (1.0 - u))[:, None]
    pf = ParticleFilter(theta, rng=rng)
    model = WallLag(tau0)
    t0 = time.perf_counter()
    for s in range(0, n_steps, block):
        tt = t[s : s + block]
        obs = Observations(
            np.arange(tt.size), np.zeros(tt.size, np.intp), z[s : s + block], np.ones(tt.size)
        )
        pf.estimate(model, tt, {"tf": tf_at(tt)}, obs)
    dt = time.perf_counter() - t0
    tau = 200.0 + 700.0 / (1.0 + np.exp(-pf.theta[:, 0]))
    return {"readings_per_s": n_steps / dt, "tau_est": float(np.sum(pf.weights * tau))}


def peer(n_particles: int, n_steps: int) -> dict | None:
    try:
        from progpy import PrognosticsModel
        from progpy.state_estimators import ParticleFilter as ProgPF
    except ImportError:
        return None

    class Lag(PrognosticsModel):
        inputs = ["tf"]
        states = ["tw", "tau"]
        outputs = ["tw_meas"]
        default_parameters = {
            "x0": {"tw": 150.0, "tau": 600.0},
            "process_noise": {"tw": 0.05, "tau": 2.0},
            "measurement_noise": {"tw_meas": 0.5},
        }

        def dx(self, x, u):
            return self.StateContainer({"tw": (u["tf"] - x["tw"]) / x["tau"], "tau": 0.0})

        def output(self, x):
            return self.OutputContainer({"tw_meas": x["tw"]})

    rng = np.random.default_rng(1)
    t = np.arange(1.0, n_steps + 1.0)
    x = 150.0 + (415.0 / 7200.0) * (t - TAU_TRUE * (1.0 - np.exp(-t / TAU_TRUE)))
    z = x + rng.normal(0.0, 0.5, t.size)
    m = Lag()
    x0 = {
        "tw": list(150.0 + rng.normal(0, 1, n_particles)),
        "tau": list(rng.uniform(200.0, 900.0, n_particles)),
    }
    pf = ProgPF(m, x0, num_particles=n_particles)
    t0 = time.perf_counter()
    for k in range(n_steps):
        pf.estimate(
            float(t[k]), m.InputContainer({"tf": float(tf_at(t[k]))}), {"tw_meas": float(z[k])}
        )
    dt = time.perf_counter() - t0
    return {"readings_per_s": n_steps / dt, "tau_est": float(np.mean(pf.x.sample(200).key("tau")))}


def bench_peer() -> None:
    P, n = 500, 400
    ref = peer(P, n)
    ours(P, n, 60)  # compile the modal kernel, warm caches
    one = ours(P, n, 1)
    blk = ours(P, n, 60)
    print(f"\n== wall-lag problem, {P} particles, {n} readings (tau true {TAU_TRUE:.0f} s)")
    print(f"{'filter':<44} {'readings/s':>12} {'tau est [s]':>12} {'vs ProgPy':>10}")
    rows = [
        ("ProgPy ParticleFilter (estimate per reading)", ref),
        ("twin.filter, one reading per call", one),
        ("twin.filter, blocks of 60 readings", blk),
    ]
    for name, r in rows:
        if r is None:
            print(f"{name:<44} {'not installed: pip install -e .[bench]':>36}")
            continue
        ratio = r["readings_per_s"] / ref["readings_per_s"] if ref else float("nan")
        print(f"{name:<44} {r['readings_per_s']:>12.0f} {r['tau_est']:>12.1f} {ratio:>9.0f}x")


def bench_twin() -> None:
    from models.config import load_config
    from scenarios.truth import Cycle, TruthLibrary, synthesize_readings
    from twin.state import Twin

    cfg_path = ROOT / "examples" / "grade91_header.toml"
    cfg = load_config(cfg_path)
    lib = TruthLibrary(cfg, ROOT / "results" / "truth-cache", time_step_s=10.0)
    truth = lib.run(Cycle(), bore_htc=2400.0, wall_thickness=0.05)
    sensors = {
        "TC-steam-01": ("fluid_temperature", ""),
        "PT-01": ("pressure", ""),
        "TC-outer-01": ("temperature", "outer"),
        "SG-outer-01": ("eps_theta", "outer"),
    }
    noise = {"TC-steam-01": 0.3, "PT-01": 0.02e6, "TC-outer-01": 0.5, "SG-outer-01": 5e-6}
    readings = synthesize_readings(
        truth, cycles=4, t0=1.9e9, sensors=sensors, noise=noise, rng=np.random.default_rng(0)
    )
    n = readings["time"].size
    print(
        f"\n== component twin (grade91_header, shipped mode surrogate), {n} readings of 4 sensors"
    )
    print(
        f"{'particles':>9} {'readings/s':>12} {'components at 4 readings/s':>28} "
        f"{'memory MiB':>11} "
        f"{'checkpoint MiB':>15} {'restore s':>10}"
    )
    for P in (500, 5000):
        doc = cfg.to_dict()
        doc.setdefault("twin", {})["particles"] = P
        from models.config import parse_config

        c = parse_config(doc)
        tracemalloc.start()
        twin = Twin.from_config(c, seed=0, config_path=cfg_path)
        chunk = 20_000
        twin.update({k: v[:chunk] for k, v in readings.items()})  # warm up (JIT, caches)
        t0 = time.perf_counter()
        for s in range(chunk, n, chunk):
            twin.update({k: v[s : s + chunk] for k, v in readings.items()})
        dt = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rate = (n - chunk) / dt
        ck = ROOT / "results" / f"bench-checkpoint-{P}"
        twin.checkpoint(ck)
        size = sum(f.stat().st_size for f in ck.iterdir()) / 2**20
        t0 = time.perf_counter()
        Twin.restore(ck)
        rs = time.perf_counter() - t0
        print(
            f"{P:>9} {rate:>12.0f} {rate / 4:>28.0f} {peak / 2**20:>11.1f} "
            f"{size:>15.2f} {rs:>10.2f}"
        )
        print(
            "   state:",
            json.dumps(
                {
                    k: round(v["mean"], 2)
                    for k, v in twin.state["parameters"].items()
                    if k == "bore_htc"
                }
            ),
        )


if __name__ == "__main__":
    if "--skip-peer" not in sys.argv:
        bench_peer()
    if "--skip-twin" not in sys.argv:
        bench_twin()
