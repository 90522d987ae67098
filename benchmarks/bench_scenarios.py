"""The validation suite: seeded variants of the run-to-failure scenario on Dask.

Each variant draws its hidden truth (heat-transfer coefficient, fouling drift, wall,
oxidation and creep-strength factors, thermocouple bias and strain-gauge offset) from
the aged header's priors and its heat of material from the twin's scatter, and gets
one sensor fault (kinds in turn); it is recorded from the FEM truth, replayed through
the twin and the deterministic baseline, and reported (``twin scenario suite``). The
figures are printed beside the issue's targets (the floor each must meet), with the
wall time, and the aggregate report goes to ``results/suite/index.html``.

Run: ``python benchmarks/bench_scenarios.py [COUNT] [PARTICLES] [--quick]``
(default 30 variants, 200 particles, the whole scenario).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.replay import ReplayOptions  # noqa: E402
from scenarios.suite import run_suite  # noqa: E402


def main(count: int = 30, particles: int = 200, quick: bool = False) -> None:
    out = ROOT / "results" / ("suite-quick" if quick else "suite")
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"  {done}/{total} scenarios, {time.perf_counter() - t0:.0f} s", flush=True)

    agg = run_suite(
        ROOT / "examples" / "scenarios" / "run_to_failure.toml", out, count=count,
        quick=quick, workers=2, cache=ROOT / "results" / "truth-cache",
        options=ReplayOptions(particles=particles), progress=progress,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    print(f"\nsuite: {count} variants, {particles} particles, 2 workers, {wall:.0f} s wall")
    print(f"{'target':<34} {'value':>10} {'floor':>12} {'met':>5}  n")
    targets = agg.get("targets", {})
    for name, t in targets.items():
        if name == "parameters":
            for p, tp in t.items():
                v = tp.get("value")
                shown = "-" if v is None else f"{v:.3g}"
                row = f"  90 % holds {p:<23} {shown:>10} {tp['target']:>12}"
                print(f"{row} {tp['met']!s:>5}  {tp['n']}")
            continue
        v = t.get("value")
        shown = "-" if v is None else f"{v:.3g}"
        print(f"  {name:<32} {shown:>10} {t['target']:>12} {t['met']!s:>5}  {t['n']}")
    if agg.get("failed"):
        print(f"failed scenarios: {agg['failed']}")
    (out / "bench.json").write_text(
        json.dumps({"wall_seconds": wall, **agg}, indent=1, default=str)
    )
    print(f"report: {out / 'index.html'}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(*(int(a) for a in args), quick="--quick" in sys.argv)
