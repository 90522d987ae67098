"""Benchmark of the FEM service model (issue 2, section 4).

Prints, side by side with the floor measured for DESIGN.md (DOLFINx plane-strain
annulus, thermo-elastic, one solve: 1e3 cells 0.02 s, 1e4 cells 0.4 s, 1e5 cells 5 s):

1. time per transient step (thermal and mechanical, assembly and solve separately) at
   about 1e3, 1e4 and 1e5 cells, degree 2, with temperature-dependent Grade 91
   properties (Picard: matrices reassembled, KSP reused) and with constant properties
   (linear: matrices assembled once, LU factorisation reused), with each run's peak
   memory (max RSS of its process);
2. the example start-up (examples/grade91_header.toml, 200 steps): total wall time
   with a fresh JIT cache (first run) and with the cache warm, split into import,
   model set-up (mesh, forms, JIT) and the time loop.

Each measurement runs in its own process (so peak memory and JIT state are its own).
Usage: ``python benchmarks/bench_fem.py [--quick]`` (``--quick`` skips 1e5 cells).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

_STEP_CHILD = r"""
import json, resource, sys, time
import dolfinx_solver  # noqa: F401
import numpy as np
from models.config import load_config
from models.materials import get_material, Material
from models.service import ServiceModel

nr, nz, kind, steps = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
overrides = {"mesh.radial_cells": nr, "mesh.axial_cells": nz, "geometry.length_m": 0.05 * nz / nr}
if len(sys.argv) > 5:
    overrides["solver.petsc_options"] = json.loads(sys.argv[5])
cfg = load_config("examples/grade91_header.toml").with_overrides(overrides)
mat = None
if kind == "constant":
    mat = Material.constant(E=200e9, nu=0.3, alpha=1.2e-5, k=27.0, rho=7770.0, cp=560.0)
t0 = time.perf_counter()
model = ServiceModel(cfg, material=mat)
t_setup = time.perf_counter() - t0
model.mechanical.solve(1e6)
model.thermal.step(54.0, 423.15)  # warm-up step: first factorisations are not per-step costs
model.mechanical.solve(1e6)
for key in ("assemble", "solve"):
    model.thermal.timings[key] = 0.0
    model.mechanical.timings[key] = 0.0
dt = 54.0
t0 = time.perf_counter()
iters = 0
for i in range(1, steps + 1):
    iters += model.thermal.step(dt, 423.15 + 2.0 * i)
    model.mechanical.solve(1e6 + 1e5 * i)
    model.sample(model.points)
wall = (time.perf_counter() - t0) / steps
cells = model.wall.mesh.topology.index_map(2).size_local
print(json.dumps({
    "cells": cells, "kind": kind, "setup_s": t_setup, "step_s": wall,
    "picard_iterations": iters / steps,
    "thermal_assemble_s": model.thermal.timings["assemble"] / steps,
    "thermal_solve_s": model.thermal.timings["solve"] / steps,
    "mech_assemble_s": model.mechanical.timings["assemble"] / steps,
    "mech_solve_s": model.mechanical.timings["solve"] / steps,
    "dofs_T": model.thermal.V.dofmap.index_map.size_global,
    "dofs_u": model.mechanical.V.dofmap.index_map.size_global * 2,
    "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

_STARTUP_CHILD = r"""
import json, resource, time
t0 = time.perf_counter()
import dolfinx_solver  # noqa: F401
import dolfinx  # noqa: F401
from models.config import load_config
from models.service import solve
t_import = time.perf_counter() - t0
cfg = load_config("examples/grade91_header.toml")
t1 = time.perf_counter()
ds = solve(cfg)
t_solve = time.perf_counter() - t1
print(json.dumps({
    "import_s": t_import, "solve_s": t_solve, "total_s": time.perf_counter() - t0,
    "steps": int(ds.sizes["time"] - 1),
    "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    full_env = dict(os.environ)
    full_env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)})
    full_env.update(env or {})
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"load average at start: {os.getloadavg()}")
    print("\n== example start-up (grade91_header.toml, Grade 91, 40x2 cells, degree 2)")
    with tempfile.TemporaryDirectory() as cache:
        first = _child(_STARTUP_CHILD, env={"XDG_CACHE_HOME": cache})
        warm = _child(_STARTUP_CHILD, env={"XDG_CACHE_HOME": cache})
    for label, r in (("JIT first run (fresh cache)", first), ("JIT cached", warm)):
        print(
            f"{label:<28} total {r['total_s']:6.2f} s  (import {r['import_s']:.2f} s, "
            f"set-up + {r['steps']} steps {r['solve_s']:.2f} s), peak {r['peak_MiB']:.0f} MiB"
        )
    print("target: < 10 s after JIT on 2 cores")

    sizes = [(100, 10), (200, 50), (500, 200)]
    if quick:
        sizes = sizes[:2]
    floor = {1000: 0.02, 10000: 0.4, 100000: 5.0}
    print("\n== time per transient step (degree 2; thermal + mechanical, two mech. solves)")
    header = (
        f"{'cells':>7} {'props':>9} {'dofs T/u':>15} {'Picard':>6} {'T asm':>8} {'T solve':>8} "
        f"{'u asm':>8} {'u solve':>8} {'step':>8} {'floor*':>7} {'peak MiB':>8}"
    )
    print(header)
    for nr, nz in sizes:
        steps = 20 if nr * nz <= 10_000 else 4
        for kind in ("grade91", "constant"):
            r = _child(_STEP_CHILD, str(nr), str(nz), kind, str(steps))
            print(
                f"{r['cells']:>7} {kind:>9} {r['dofs_T']:>7}/{r['dofs_u']:<7} "
                f"{r['picard_iterations']:>6.1f} {r['thermal_assemble_s']:>8.4f} "
                f"{r['thermal_solve_s']:>8.4f} {r['mech_assemble_s']:>8.4f} "
                f"{r['mech_solve_s']:>8.4f} {r['step_s']:>8.4f} {floor[nr * nz]:>7.2f} "
                f"{r['peak_MiB']:>8.0f}"
            )
    print(
        "* floor: one DOLFINx plane-strain thermo-elastic solve of the same cell count (DESIGN.md)"
    )


if __name__ == "__main__":
    main()
