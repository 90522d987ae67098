"""Parameter recovery over 20 seeded runs of ten start-ups (the full set of the CI test).

Readings come from the temperature-dependent FEM (scenarios.truth, cached under
results/truth-cache), with hidden heat-transfer coefficient, wall thickness and
thermocouple bias drawn from the priors of examples/grade91_header.toml, plus sensor
noise; the twin sees only the readings (500 particles, 300 s blocks). Targets (issue
"twin core"): every identifiable parameter's 90 % interval holds the truth in at least
17 of 20 runs; the heat-transfer coefficient's posterior standard deviation at least
5 times smaller than its prior's.

Run: ``python benchmarks/bench_recovery.py [RUNS] [CYCLES]``.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from models.config import load_config  # noqa: E402
from scenarios.truth import Cycle, TruthLibrary  # noqa: E402
from tests.twin.test_recovery import run_one  # noqa: E402


def main(runs: int = 20, cycles: int = 10) -> None:
    import tests.twin.test_recovery as rec

    rec.PARTICLES = 500
    cfg = load_config(ROOT / "examples" / "grade91_header.toml")
    lib = TruthLibrary(cfg, ROOT / "results" / "truth-cache", time_step_s=30.0)
    cycle = Cycle(ramp_h=2.0, hold_h=2.0, down_h=2.0, rest_h=1.0)
    names = ("bore_htc", "wall_thickness", "bias.TC-outer-01")
    inside = dict.fromkeys(names, 0)
    ratios = []
    t0 = time.perf_counter()
    print(
        f"{'seed':>4} {'h truth':>8} {'h p05':>8} {'h p95':>8} {'ratio':>6} {'wall truth':>10} "
        f"{'wall p05':>9} {'wall p95':>9} {'bias':>6} {'p05':>6} {'p95':>6}"
    )
    for seed in range(runs):
        truth, st = run_one(seed, cfg, lib, cycle, cycles=cycles, particles=500)
        p = st["parameters"]
        for n in names:
            inside[n] += int(p[n]["p05"] <= truth[n] <= p[n]["p95"])
        ratio = p["bore_htc"]["prior_std"] / p["bore_htc"]["std"]
        ratios.append(ratio)
        print(
            f"{seed:>4} {truth['bore_htc']:>8.0f} {p['bore_htc']['p05']:>8.0f} "
            f"{p['bore_htc']['p95']:>8.0f} "
            f"{ratio:>6.1f} {truth['wall_thickness']:>10.5f} {p['wall_thickness']['p05']:>9.5f} "
            f"{p['wall_thickness']['p95']:>9.5f} {truth['bias.TC-outer-01']:>6.2f} "
            f"{p['bias.TC-outer-01']['p05']:>6.2f} {p['bias.TC-outer-01']['p95']:>6.2f}",
            flush=True,
        )
    dt = time.perf_counter() - t0
    print(
        f"\n90 % intervals holding the truth, of {runs} runs "
        f"(target >= {int(np.ceil(0.85 * runs))}):"
    )
    for n in names:
        print(f"  {n:<20} {inside[n]:>3}")
    r = np.array(ratios)
    print(
        f"prior/posterior std of h: median {np.median(r):.1f}, min {r.min():.1f}, "
        f"runs >= 5: {int((r >= 5).sum())} of {runs}"
    )
    print(f"{runs} runs x {cycles} start-ups in {dt:.0f} s (FEM truth cached after the first use)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
