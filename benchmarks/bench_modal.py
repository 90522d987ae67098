"""Benchmark the stateful modal filter and the array form of the mode surrogate.

Run from the repository root: ``python benchmarks/bench_modal.py``.

Side by side in one run: the compiled filter (models.modal.ModalFilter), the path that
existed before it (one ModalResponse.simulate per particle and output), a NumPy
formulation vectorised over particles, outputs and modes with a loop over the
readings, and the memory floor (writing the output array once). Then
ModeSurrogate.predict_bank against the dict path (one predict and modal_responses per
row) on the example's shipped mode surrogate.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _bank(P: int, O: int, M: int):  # type: ignore[no-untyped-def]  # noqa: E741
    from models.modal import ModalBank

    rng = np.random.default_rng(0)
    return ModalBank(
        outputs=tuple((f"out{j}", "bore") for j in range(O)),
        amplitudes=rng.normal(size=(P, O, M)),
        time_constants=10.0 ** rng.uniform(0.0, 3.0, (P, O, M)),
        direct=np.zeros((P, O)),
        pressure_gain=rng.normal(size=(P, O)),
    )


def bench_filter(P: int = 500, O: int = 12, M: int = 3, n: int = 1000) -> None:  # noqa: E741
    from models.modal import ModalFilter
    from models.responses import ModalResponse

    bank = _bank(P, O, M)
    t = 100.0 + np.arange(1, n + 1) * 1.0
    tf = 600.0 + 100.0 * np.sin(t / 300.0)
    p = 17e6 + 1e5 * np.cos(t / 200.0)
    f = ModalFilter(bank)

    def batch() -> None:
        f.start(100.0, 600.0, 17e6)
        f.advance(t, tf, p)

    batch()  # compile (or load the cached machine code)
    t_batch = best_of(batch)

    def singles() -> None:
        f.start(100.0, 600.0, 17e6)
        for k in range(n):
            f.advance(t[k : k + 1], tf[k : k + 1], p[k : k + 1])

    t_single = best_of(singles, 3) / n
    rng = np.random.default_rng(1)
    t_irr = 100.0 + np.cumsum(rng.uniform(0.5, 1.5, n))

    def irregular() -> None:
        f.start(100.0, 600.0, 17e6)
        f.advance(t_irr, tf, p)

    t_irregular = best_of(irregular, 3)

    def drift() -> None:  # new parameters every reading: coefficients recomputed each time
        f.start(100.0, 600.0, 17e6)
        for k in range(100):
            f.set_bank(bank)
            f.advance(t[k : k + 1], tf[k : k + 1], p[k : k + 1])

    t_drift = best_of(drift, 3) / 100

    # peer 1: the path before the filter, one ModalResponse.simulate per (particle, output)
    T, U = np.r_[100.0, t], np.r_[600.0, tf] - 600.0
    some = 200

    def simulate() -> None:
        for i in range(some):
            pi, oi = divmod(i, O)
            r = ModalResponse(
                direct=0.0,
                amplitudes=bank.amplitudes[pi, oi],
                time_constants=bank.time_constants[pi, oi],
            )
            r.simulate(T, U)

    t_sim = best_of(simulate, 3) * (P * O) / some

    # peer 2: NumPy, vectorised over (P, O, M), loop over the readings
    tau, b = bank.time_constants, bank.amplitudes

    def numpy_loop() -> None:
        w = np.zeros_like(tau)
        y = np.empty((P, O, n))
        e = np.exp(-1.0 / tau)
        d = -np.expm1(-1.0 / tau) * tau
        gain = b.sum(axis=2)
        u_prev = 0.0
        for k in range(n):
            u = tf[k] - 600.0
            w *= e
            w -= d * (u - u_prev)
            y[:, :, k] = np.einsum("pom,pom->po", b, w) + gain * u
            u_prev = u

    t_np = best_of(numpy_loop, 3)

    # floor: writing the (P, O, n) float64 output once
    def floor() -> None:
        y = np.empty((P, O, n))
        y.fill(1.0)

    t_floor = best_of(floor)
    states = P * O * M
    print(f"modal filter: {P} particles x {O} outputs x {M} modes = {states:,} mode states")
    print(f"  batch of {n} uniform readings       : {t_batch * 1e3:8.2f} ms  "
          f"({states * n / t_batch / 1e9:5.2f} G state-steps/s)")  # fmt: skip
    print(f"  one reading per call (same dt)      : {t_single * 1e6:8.1f} us per call")
    print(f"  batch of {n} irregular readings     : {t_irregular * 1e3:8.2f} ms")
    print(f"  one reading after set_bank (drift)  : {t_drift * 1e6:8.1f} us per call")
    print(f"  peer: ModalResponse.simulate per (particle, output), uniform: {t_sim * 1e3:8.1f} ms "
          f"({t_sim / t_batch:5.0f}x slower)")  # fmt: skip
    print(f"  peer: NumPy vectorised over P,O,M, loop over readings      : {t_np * 1e3:8.1f} ms "
          f"({t_np / t_batch:5.1f}x slower)")  # fmt: skip
    print(f"  floor: write the ({P}, {O}, {n}) float64 output once       : {t_floor * 1e3:8.2f} ms")


def bench_predict_bank() -> None:
    import torch

    from models.config import load_config
    from surrogates.modes import ModeSurrogate
    from surrogates.targets import modal_responses

    torch.set_num_threads(1)
    cfg = load_config(ROOT / "examples" / "grade91_header.toml")
    ms = ModeSurrogate.load(ROOT / "examples" / "grade91_header.surrogate", config=cfg)
    b = ms.space.bounds
    rng = np.random.default_rng(3)
    print(
        f"mode surrogate (shipped example): {len(ms.keys)} outputs x {ms.n_modes} modes, "
        f"{len(ms.surrogate.outputs)} GP outputs, n_train {ms.surrogate.gp.n_features_in_}-d "
        f"{int(ms.surrogate.provenance.get('n_train', 0))} runs"
    )
    for n in (500, 5000):
        X = b[:, 0] + rng.random((n, b.shape[0])) * (b[:, 1] - b[:, 0])
        ms.predict_bank(X[:10])
        t_bank = best_of(lambda X=X: ms.predict_bank(X), 3)
        print(
            f"  predict_bank n={n:5d}: {t_bank * 1e3:8.1f} ms  ({t_bank / n * 1e6:6.1f} us per row)"
        )
    n = 200
    X = b[:, 0] + rng.random((n, b.shape[0])) * (b[:, 1] - b[:, 0])

    def dict_path() -> None:
        for i in range(n):
            mean, _ = ms.surrogate.predict(X[i : i + 1])
            modal_responses(dict(zip(ms.surrogate.outputs, mean[0], strict=True)), ms.keys,
                            n_modes=ms.n_modes)  # fmt: skip

    t_dict = best_of(dict_path, 2) / n
    print(f"  peer: predict + modal_responses per row: {t_dict * 1e6:8.1f} us per row")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    bench_filter()
    bench_filter(M=4, O=10)
    bench_predict_bank()
