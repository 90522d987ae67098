"""Benchmark the life laws: streaming rainflow vs the rainflow package, damage evaluation.

Run from the repository root: ``python benchmarks/bench_life.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_rainflow(n: int = 1_000_000) -> None:
    import rainflow

    from models.life import Cycles, RainflowCounter

    x = np.random.default_rng(42).standard_normal(n)
    t_ref, ref = best_of(lambda: list(rainflow.extract_cycles(x)))
    t_cnt, _ = best_of(lambda: rainflow.count_cycles(x))
    print(f"rainflow history: {n} samples, standard normal, {len(ref)} cycles")  # type: ignore[arg-type]
    v = rainflow.__version__
    print(f"  rainflow {v} extract_cycles (batch): {t_ref:7.3f} s  {n / t_ref:12,.0f} samples/s")
    print(f"  rainflow {v} count_cycles   (batch): {t_cnt:7.3f} s  {n / t_cnt:12,.0f} samples/s")
    ref_sorted = sorted(ref, key=lambda c: (c[3], c[4]))  # type: ignore[union-attr]
    for chunk in (n, 100_000, 10_000, 1_000):

        def run(chunk: int = chunk) -> Cycles:
            c = RainflowCounter()
            parts = [c.update(x[i : i + chunk]) for i in range(0, n, chunk)]
            parts.append(c.finish())
            return Cycles.concatenate(parts)

        t, got = best_of(run)
        same = got.sorted().to_tuples() == ref_sorted  # type: ignore[union-attr]
        print(
            f"  RainflowCounter streaming, chunks of {chunk:>9,}: {t:7.3f} s  "
            f"{n / t:12,.0f} samples/s  ({t_ref / t:5.1f}x extract_cycles; same cycles: {same})"
        )


def bench_damage(samples: int = 100_000, cycles: int = 10_000) -> None:
    import models.life as life

    rng = np.random.default_rng(7)
    k = life.strain_life("316H", 873.15)
    curve = life.larson_miller("316H")
    ea = rng.uniform(0.0008, 0.006, cycles)
    counts = rng.choice([0.5, 1.0], cycles)
    dur = rng.uniform(0.0, 8.0 * 3600.0, cycles)
    stress = rng.uniform(60e6, 160e6, cycles)
    temp = rng.uniform(823.0, 900.0, cycles)
    lf = life.sample_life_factors(rng, samples, log10_std=0.2)
    cs = life.sample_larson_miller_constant(rng, samples, curve=curve, std=0.3)

    def run() -> tuple[np.ndarray, np.ndarray]:
        return life.fatigue_creep_damage(
            strain_amplitude=ea, cycle_counts=counts, strain_life_constants=k,
            hold_durations=dur, hold_stress=stress, hold_temperature=temp,
            rupture_curve=curve, life_factor=lf, C=cs,
        )  # fmt: skip

    t, (df, dc) = best_of(run)  # type: ignore[misc]
    print(f"damage evaluation: {samples:,} samples x {cycles:,} cycles (+ {cycles:,} creep holds)")
    print(f"  fatigue_creep_damage (Miner + Robinson, scatter as life multipliers): {t:7.3f} s")
    # Brute force on a slice: every sample's own Nf and t_R per cycle/hold.
    m = 200

    def brute() -> tuple[np.ndarray, np.ndarray]:
        nf = life.cycles_to_failure(ea, constants=k)[None, :] * lf[:m, None]
        tr = curve.rupture_time(stress[None, :], temp[None, :], C=cs[:m, None])
        return np.sum(counts / nf, axis=1), np.sum(dur / tr, axis=1)

    tb, (dfb, dcb) = best_of(brute, repeat=1)  # type: ignore[misc]
    err = max(np.max(np.abs(dfb / df[:m] - 1)), np.max(np.abs(dcb / dc[:m] - 1)))
    print(
        f"  brute force sample x cycle on {m} samples: {tb:7.3f} s "
        f"(~{tb * samples / m:,.0f} s for all); max rel. difference {err:.1e}"
    )
    temps = rng.uniform(700.0, 975.0, samples)
    amps = rng.uniform(0.001, 0.009, samples)
    kk = life.strain_life("316H", temps)
    tn, _ = best_of(lambda: life.cycles_to_failure(amps, constants=kk))
    print(f"  Newton on log N, {samples:,} samples with their own temperature: {tn:7.3f} s")


if __name__ == "__main__":
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load {os.getloadavg()}")
    bench_rainflow()
    bench_damage()
