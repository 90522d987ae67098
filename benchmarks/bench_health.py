"""Benchmark the sensor-health checks: readings per second through check() and update().

Run from the repository root: ``python benchmarks/bench_health.py``.

Side by side in one run: our ``PlausibilityChecker.check`` (all tests) at several batch
sizes, the floor of its dominant kernel (the two partitions of the median/MAD window,
nothing else), and pandas' rolling median (one statistic of the spike test only, a
lower bound for a pandas implementation).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def report(label: str, dt: float, n: int) -> None:
    print(f"  {label:<46s}: {dt * 1e3:8.1f} ms  {n / dt:12,.0f} readings/s")


def readings(n: int, sensors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    per = n // sensors
    t1 = np.arange(float(per))
    # start-up-like: 30 min cold, 3 K/min up, hold; 0.5 K noise
    sig = np.interp(
        np.mod(t1, 21000.0), [0, 1800, 6600, 13800, 18600, 21000], [560, 560, 800, 800, 560, 560]
    )
    k = np.tile(np.arange(sensors), per)
    t = np.repeat(t1, sensors)
    x = np.repeat(sig, sensors) + rng.normal(0.0, 0.5, t.size)
    return k, t, x


def main() -> None:
    from numpy.lib.stride_tricks import sliding_window_view

    from twin.health import HealthSettings, InnovationMonitor, PlausibilityChecker, SensorSpec

    n, sensors = 100_000, 4
    settings = HealthSettings()
    specs = [SensorSpec(f"tc{i}", "temperature", 250.0, 1100.0, 1.0, 0.5) for i in range(sensors)]
    k, t, x = readings(n, sensors)
    print(f"sensor health: {n:,} readings of {sensors} sensors (1 Hz, 0.5 K noise, start-ups)")

    for batch in (n, 10_000, 1_000, 100):

        def run(batch: int = batch) -> None:
            checker = PlausibilityChecker(specs, settings)
            for i in range(0, n, batch):
                checker.check(k[i : i + batch], t[i : i + batch], x[i : i + batch])

        dt = best_of(run, repeat=5 if batch >= 1000 else 2)
        report(f"PlausibilityChecker.check, batches of {batch:>7,}", dt, n)

    w, h = settings.spike_window, settings.spike_window // 2

    def floor() -> None:
        for i in range(sensors):
            xs = x[i::sensors]
            win = sliding_window_view(xs, w)[:-1]
            med = np.partition(win, h, axis=1)[:, h]
            np.partition(np.abs(win - med[:, None]), h, axis=1)

    dt = best_of(floor)
    report("floor: median + MAD partitions only", dt, n)

    import pandas as pd

    def pandas_median() -> None:
        for i in range(sensors):
            pd.Series(x[i::sensors]).rolling(w).median().shift(1)

    dt = best_of(pandas_median)
    report("peer: pandas rolling median only", dt, n)

    nu = np.random.default_rng(1).standard_normal(n)

    def monitor() -> None:
        InnovationMonitor([s.id for s in specs], settings).update(k, t, nu)

    dt = best_of(monitor)
    report("InnovationMonitor.update, one batch", dt, n)

    def python_cusum() -> None:
        up = dn = 0.0
        kk, hh = settings.cusum_drift, settings.cusum_threshold
        for v in nu.tolist():
            up = max(0.0, up + v - kk)
            dn = max(0.0, dn - v - kk)
            if up > hh or dn > hh:
                up = dn = 0.0

    dt = best_of(python_cusum, repeat=3)
    report("peer: plain Python CUSUM loop", dt, n)


if __name__ == "__main__":
    main()
