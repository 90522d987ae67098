"""Benchmark the twin's damage account: advance, take, state round trip, against a peer.

Run from the repository root: ``python benchmarks/bench_damage.py`` (``--quick`` for a
smaller peer run). Printed side by side in one run:

- ``DamageAccount.advance`` at 500 and 5,000 particles, 2 locations, 1,000 samples per
  batch (15 s apart): a start-up batch (cold, ramp and hot: every mask path), a hot
  hold, and the start-up with 0.2 MPa white noise on every stress component (about
  every other sample a reversal);
- the floor: one read of the same input arrays (``numpy.sum``), which any account must do;
- the peer: the life laws of ``models.life`` applied particle by particle, as one would
  without this module (a ``RainflowCounter`` per particle and location, then
  ``cycles_to_failure``/``miner_damage`` on its cycles and residue,
  ``robinson_fraction`` with trapezoid weights, ``ParabolicOxidation``), timed on a
  subset of particles and scaled to the full count;
- ``take`` (resampling) and the state round trip (``state_dict`` / ``from_state_dict``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

N = 1000  # samples per batch
DT = 15.0  # s between samples


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def batch(P: int, kind: str, rng: np.random.Generator) -> tuple[dict, dict]:
    """Stress (P, 3, N) and temperature (P, N) at the bore and the outer surface."""
    tau = np.arange(N) * DT
    if kind == "hold":
        Tf = 873.0 + 2.0 * np.sin(tau / 3000.0)
        p = np.full(N, 17e6)
    else:  # start-up: 330 K until 2,000 s, ramp to 873 K at 9,200 s, hold
        Tf = np.interp(tau, [0.0, 2000.0, 9200.0, tau[-1]], [330.0, 330.0, 873.0, 873.0])
        p = np.interp(tau, [0.0, 2000.0, 9200.0, tau[-1]], [0.0, 0.0, 17e6, 17e6])
    Tb = np.empty((P, N))
    To = np.empty((P, N))
    off = rng.uniform(-5.0, 5.0, P)
    Tb[:, 0] = To[:, 0] = Tf[0] + off
    ab, ao = np.exp(-DT / 600.0), np.exp(-DT / 1800.0)
    for k in range(1, N):
        Tb[:, k] = Tf[k] + off + ab * (Tb[:, k - 1] - Tf[k - 1] - off)
        To[:, k] = Tf[k] + off + ao * (To[:, k - 1] - Tf[k - 1] - off)
    sth = (1.0 + 0.1 * rng.standard_normal((P, 1))) * 1.86e6 * (To - Tb)
    bore = np.stack([np.broadcast_to(-p, (P, N)), 2.9 * p + sth, p + 0.9 * sth], axis=1)
    outer = np.stack([np.zeros((P, N)), 1.9 * p - 0.8 * sth, 0.9 * p - 0.7 * sth], axis=1)
    if kind == "noisy":
        bore = bore + 0.2e6 * rng.standard_normal(bore.shape)
        outer = outer + 0.2e6 * rng.standard_normal(outer.shape)
    return {"bore": np.ascontiguousarray(bore), "outer": np.ascontiguousarray(outer)}, {
        "bore": Tb,
        "outer": To,
    }


def settings():  # type: ignore[no-untyped-def]
    from twin.damage import DamageSettings

    return DamageSettings(
        material="grade91",
        locations=("bore", "outer"),
        stress_concentration={"bore": 1.3, "outer": 1.4},
    )


def bench_advance(P: int, kind: str, repeat: int) -> tuple[float, float, float, float]:
    """Return (best and median ms per advance, first call ms, floor ms)."""
    from twin.damage import DamageAccount

    rng = np.random.default_rng(1)
    S, T = batch(P, kind, rng)
    acc = DamageAccount(settings(), n_particles=P, t0=0.0)
    cf, of = np.exp(0.1 * rng.standard_normal(P)), np.ones(P)
    k = [0]

    def step() -> None:
        t = (np.arange(N) + k[0] * N) * DT + 1.0
        k[0] += 1
        acc.advance(t, S, T, creep_factor=cf, oxidation_factor=of)

    first = timed(step, 1)[0]
    times = timed(step, repeat)
    floor = min(timed(lambda: [float(np.sum(S[x])) + float(np.sum(T[x])) for x in S], 5))
    return 1e3 * min(times), 1e3 * float(np.median(times)), 1e3 * first, 1e3 * floor


def peer_advance(P_sub: int, kind: str) -> float:
    """ms per advance of the per-particle peer on ``P_sub`` particles (one batch)."""
    import models.life as life
    from models.materials import get_material

    rng = np.random.default_rng(1)
    S, T = batch(P_sub, kind, rng)
    t = np.arange(N) * DT + 1.0
    w = np.zeros(N)
    w[:-1] += 0.5 * np.diff(t)
    w[1:] += 0.5 * np.diff(t)
    E = get_material("grade91").E
    curve = life.larson_miller("grade91")
    ox = life.oxidation_law("grade91")
    scf = {"bore": 1.3, "outer": 1.4}
    counters = {(loc, p): life.RainflowCounter() for loc in S for p in range(P_sub)}
    lo = curve.stress_range[0]
    t0 = time.perf_counter()
    for loc in S:
        s = S[loc]
        vm = np.sqrt(
            0.5 * ((s[:, 0] - s[:, 1]) ** 2 + (s[:, 1] - s[:, 2]) ** 2 + (s[:, 2] - s[:, 0]) ** 2)
        )
        eps = np.copysign(scf[loc] * vm / E(T[loc]), s[:, 1])
        for p in range(P_sub):
            c = counters[(loc, p)]
            cyc = life.Cycles.concatenate([c.update(eps[p]), c.residue_cycles()])
            k = life.strain_life("grade91", np.full(len(cyc), 813.15), extrapolate=True)
            nf = life.cycles_to_failure(cyc.ranges / 2, constants=k, below_range="endurance")
            life.miner_damage(cyc.counts, nf)
            sc = scf[loc] * vm[p]
            live = (T[loc][p] >= curve.temperature_range[0]) & (sc > 0)
            life.robinson_fraction(
                w, np.where(live, np.maximum(sc, lo), 0.0), T[loc][p], curve=curve
            )
            if loc == "bore":
                hot = T[loc][p] >= ox.temperature_range[0]
                ox.oxide_thickness(w * hot, np.where(hot, T[loc][p], ox.temperature_range[0]))
    return 1e3 * (time.perf_counter() - t0)


def bench_take_and_state(P: int) -> tuple[float, float, float, int]:
    from twin.damage import DamageAccount

    rng = np.random.default_rng(2)
    S, T = batch(P, "noisy", rng)
    acc = DamageAccount(settings(), n_particles=P, t0=0.0)
    for k in range(3):
        t = (np.arange(N) + k * N) * DT + 1.0
        acc.advance(t, S, T, creep_factor=np.ones(P), oxidation_factor=np.ones(P))
    idx = np.sort(rng.integers(0, P, P))
    take = min(timed(lambda: acc.take(idx), 7))
    save = min(timed(acc.state_dict, 7))
    d = acc.state_dict()
    load = min(timed(lambda: DamageAccount.from_state_dict(d), 7))
    size = sum(v.nbytes for v in d.values() if isinstance(v, np.ndarray))
    return 1e3 * take, 1e3 * save, 1e3 * load, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller peer subset and fewer repeats")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    repeat = 5 if args.quick else 9
    sub = 10 if args.quick else 50
    print(f"DamageAccount.advance: 2 locations (bore, outer), {N} samples per batch, Grade 91")
    print(
        f"{'particles':>9} {'batch':>9} {'best ms':>9} {'median':>8} {'first':>8} "
        f"{'floor ms':>9} {'peer ms':>10} {'peer/best':>9}  target <= 20 ms at 500"
    )
    for P in (500, 5000):
        for kind in ("start-up", "hold", "noisy"):
            best, med, first, floor = bench_advance(P, kind, repeat if P == 500 else 5)
            peer = peer_advance(sub, kind) * P / sub
            print(
                f"{P:>9} {kind:>9} {best:>9.2f} {med:>8.2f} {first:>8.1f} {floor:>9.2f} "
                f"{peer:>10.0f} {peer / best:>8.0f}x"
            )
    print(
        f"(peer: timed on {sub} particles, scaled linearly; first: the first call of a "
        "process, which loads the compiled kernels)"
    )
    print("take (resampling) and state round trip, after 3 noisy batches (best of 7):")
    for P in (500, 5000):
        take, save, load, size = bench_take_and_state(P)
        print(
            f"  {P:>5} particles: take {take:6.2f} ms, state_dict {save:6.2f} ms, "
            f"from_state_dict {load:6.2f} ms, arrays {size / 1e6:6.2f} MB"
        )
    n_small = 60
    from twin.damage import DamageAccount

    S, T = batch(500, "start-up", np.random.default_rng(3))
    S = {k: np.ascontiguousarray(v[..., :n_small]) for k, v in S.items()}
    T = {k: np.ascontiguousarray(v[..., :n_small]) for k, v in T.items()}
    acc = DamageAccount(settings(), n_particles=500, t0=0.0)
    k = [0]

    def small() -> None:
        acc.advance(
            (np.arange(n_small) + k[0] * n_small) * DT + 1.0,
            S,
            T,
            creep_factor=np.ones(500),
            oxidation_factor=np.ones(500),
        )
        k[0] += 1

    small()
    ms = 1e3 * min(timed(small, 21))
    print(
        f"small batches: 500 particles x {n_small} samples: {ms:.2f} ms per advance "
        f"({500 * n_small * 2 / ms / 1e3:.1f} M particle-samples/s)"
    )


if __name__ == "__main__":
    main()
