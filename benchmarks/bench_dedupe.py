"""Worst cases of the duplicate check next to the normal path (issue 13, section 2).

Run from the repository root::

    python benchmarks/bench_dedupe.py           # ~1 minute
    python benchmarks/bench_dedupe.py --quick   # smaller counts

Three parts, each printed side by side with its peer:

* the duplicate tracker per reading (one membership test + one insert, the scalar
  path of single-reading messages) for sequences counting up by one, stride 2 after
  10^5 and 3 x 10^5 holes, random order and timestamp-like numbers; ours
  (``sensors.dedupe.SeenSequences``) next to the previous release's tracker (one
  vectorised re-merge per insert, reproduced below) and a Python ``set`` (the floor:
  O(1), but unbounded memory);
* the validator on a batch at the 1 MB payload limit, clean and with one repeated
  sequence number; ours next to the previous release's per-reading fallback;
* the same two batches through ``Ingester`` on a real Mosquitto: publish to durable.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sensors.broker import MosquittoBroker  # noqa: E402
from sensors.catalogue import load_catalogue  # noqa: E402
from sensors.dedupe import SeenSequences  # noqa: E402
from sensors.ingest import Ingester  # noqa: E402
from sensors.mqtt import make_client, parse_broker_url  # noqa: E402
from sensors.reader import committed_count  # noqa: E402
from sensors.schema import decode_payload, encode_batch  # noqa: E402
from sensors.validation import Validator  # noqa: E402

DEMO = ROOT / "examples" / "sensors_demo.toml"
TOPIC = "plant/plant-1/header-a/TC-outer-01"


class PreviousTracker:
    """The previous release's interval set: every insert re-merges all intervals."""

    def __init__(self) -> None:
        self._start = np.empty(0, dtype=np.int64)
        self._end = np.empty(0, dtype=np.int64)

    def contains_one(self, seq: int) -> bool:
        if not self._start.size or seq > self._end[-1]:
            return False
        i = int(np.searchsorted(self._start, seq, side="right")) - 1
        return i >= 0 and seq <= int(self._end[i])

    def add(self, seq: np.ndarray) -> None:
        if seq.size == 1 and self._end.size and int(seq[0]) == int(self._end[-1]) + 1:
            self._end[-1] += 1
            return
        s = np.unique(seq)
        breaks = np.flatnonzero(np.diff(s) != 1) + 1
        starts = np.concatenate([self._start, s[np.r_[0, breaks]]])
        ends = np.concatenate([self._end, s[np.r_[breaks - 1, s.size - 1]]])
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
        reach = np.maximum.accumulate(ends)
        new = np.r_[True, starts[1:] > reach[:-1] + 1]
        group = np.cumsum(new) - 1
        self._start = starts[new]
        self._end = np.zeros(self._start.size, dtype=np.int64)
        np.maximum.at(self._end, group, ends)


def _per_reading_us(
    prefill: np.ndarray, probe: np.ndarray, make: str, *, limit: float = 20.0
) -> tuple[float, int]:
    """Microseconds per (membership test + insert) for ``probe`` after ``prefill``."""
    if make == "ours":
        ours = SeenSequences()
        ours.add(prefill)

        def one(s: int) -> None:
            if not ours.contains_one(s):
                ours.add_one(s)

    elif make == "previous":
        prev = PreviousTracker()
        prev.add(prefill)

        def one(s: int) -> None:
            if not prev.contains_one(s):
                prev.add(np.array([s], dtype=np.int64))

    else:
        floor = set(prefill.tolist())

        def one(s: int) -> None:
            if s not in floor:
                floor.add(s)

    items = probe.tolist()
    start = time.perf_counter()
    done = 0
    for s in items:
        one(s)
        done += 1
        if done % 256 == 0 and time.perf_counter() - start > limit:
            break
    return (time.perf_counter() - start) / done * 1e6, done


def bench_tracker(quick: bool) -> None:
    rng = np.random.default_rng(0)
    k = 2_000 if quick else 10_000
    cases: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "contiguous, 3e5 seen": (np.arange(300_000), np.arange(300_000, 300_000 + k)),
        "stride 2, 1e5 holes": (2 * np.arange(100_000), 2 * np.arange(100_000, 100_000 + k)),
        "stride 2, 3e5 holes": (2 * np.arange(300_000), 2 * np.arange(300_000, 300_000 + k)),
        "random order, 1e5 holes": (
            2 * np.arange(100_000),
            rng.permutation(2 * np.arange(100_000, 100_000 + k)) - 199_999,
        ),
        "timestamp-like (ms, jitter)": (
            np.cumsum(rng.integers(900, 1100, 100_000)) + 1_764_000_000_000,
            np.cumsum(rng.integers(900, 1100, k)) + 1_764_000_000_000 + 110_000_000,
        ),
    }
    print("\n## Duplicate tracker, per reading (contains + insert), microseconds")
    print(f"{'case':<30}{'ours':>10}{'previous':>12}{'set (floor)':>13}")
    for name, (prefill, probe) in cases.items():
        prefill = prefill.astype(np.int64)
        probe = probe.astype(np.int64)
        ours, _ = _per_reading_us(prefill, probe, "ours")
        prev, n_prev = _per_reading_us(prefill, probe[: max(200, k // 10)], "previous", limit=10)
        floor, _ = _per_reading_us(prefill, probe, "set")
        print(f"{name:<30}{ours:>10.2f}{prev:>12.1f}{floor:>13.2f}   (previous: {n_prev} readings)")
    seen = SeenSequences()
    seen.add(2 * np.arange(3_000_000, dtype=np.int64))
    print(
        f"memory after 3e6 holes: ours {seen.nbytes / 2**20:.1f} MiB (cap {seen.max_intervals} "
        f"intervals, floor {seen.floor}); a set of 3e6 ints ~ "
        f"{(sys.getsizeof(set(range(3_000_000))) + 28 * 3_000_000) / 2**20:.0f} MiB"
    )


def _batches(now: float) -> tuple[bytes, bytes, int]:
    def encode(first: int, n: int, *, repeat: bool) -> bytes:
        seq = first + np.arange(n)
        if repeat:
            seq[-1] = seq[0]
        return encode_batch(
            time=np.round(now - 3600.0 + np.arange(n) * 0.05, 2),
            value=np.round(20.0 + np.arange(n) % 100 * 0.1, 1),
            unit="degC",
            sequence=seq,
        )

    lo, hi = 1, 99_999
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (
            (mid, hi) if len(encode(100_000, mid, repeat=False)) <= 1_000_000 else (lo, mid - 1)
        )
    return encode(100_000, lo, repeat=False), encode(200_000, lo, repeat=True), lo


def _previous_fallback(v: Validator, payload: bytes, now: float) -> None:
    """The previous release's path for a batch with a repeated sequence number."""
    readings = decode_payload(payload, max_bytes=2_000_000)
    sensor = v.catalogue.get("TC-outer-01")
    seen = SeenSequences()
    n = len(readings)
    for i in range(n):
        one = readings.take(np.arange(n) == i)  # O(n) per reading: O(n^2) in all
        v._check_one(one, sensor, 1, seen, 1.0, 273.15, TOPIC, payload, now)


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_batch(quick: bool) -> None:
    cat = load_catalogue(DEMO)
    now = time.time()
    clean, dirty, n = _batches(now)

    def fresh() -> Validator:
        return Validator(cat, {s: i for i, s in enumerate(cat.ids)}.get, prefix="plant")

    print(f"\n## Validator on a batch at the 1 MB limit ({n} readings, {len(dirty)} bytes), s")
    clean_s = min(_time(lambda: fresh().check(TOPIC, clean, received=now)) for _ in range(3))
    dirty_s = min(_time(lambda: fresh().check(TOPIC, dirty, received=now)) for _ in range(3))
    prev_s = _time(lambda: _previous_fallback(fresh(), dirty if not quick else clean, now))
    print(f"{'clean batch':<40}{clean_s:>10.3f}")
    print(f"{'one repeated sequence number, ours':<40}{dirty_s:>10.3f}")
    print(f"{'one repeated, previous per-reading path':<40}{prev_s:>10.3f}")


def bench_broker(quick: bool) -> None:
    cat = load_catalogue(DEMO)
    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker(pathlib.Path(tmp) / "mq") as mq:
        settings = parse_broker_url(mq.url)
        path = pathlib.Path(tmp) / "a.zarr"
        ingester = Ingester(cat, path, broker=settings, flush_interval=0.05)
        stop = threading.Event()
        thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
        thread.start()
        ingester.subscribed.wait(10)
        pub, props = make_client(settings)
        pub.connect(settings.host, settings.port, properties=props)
        pub.loop_start()
        now = time.time()
        clean, dirty, n = _batches(now)
        print("\n## Mosquitto, publish to durable for one batch at the 1 MB limit, s")
        for name, payload, expect in (("clean", clean, n), ("one repeated", dirty, 2 * n - 1)):
            start = time.perf_counter()
            pub.publish(TOPIC, payload, qos=1).wait_for_publish(10)
            while committed_count(path) < expect and time.perf_counter() - start < 120:
                time.sleep(0.005)
            print(f"{name:<40}{time.perf_counter() - start:>10.3f}")
        pub.disconnect()
        pub.loop_stop()
        stop.set()
        thread.join(30)
        print(f"connects {ingester.stats.connects}, duplicates {ingester.stats.duplicates}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args()
    bench_tracker(args.quick)
    bench_batch(args.quick)
    bench_broker(args.quick)


if __name__ == "__main__":
    main()
