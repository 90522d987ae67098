"""The twin service: latency, sustained rate, memory per twin, restart time.

1. Latency on loopback Mosquitto: ``twin serve`` (its own process) with N components x 4
   sensors, each reading published once a second at plant time = wall time, single
   readings at QoS 1. Twins with ``[twin] block_s = 1`` and ``lateness_s = 0``: a reading
   is assimilated when its block closes, i.e. when the next second's reading arrives, so
   the *posterior* latency includes ~1 s of plant time by construction. Reported per
   reading, from its publication to the first retained state that
   (a) counts it (``readings``), (b) has assimilated it (``time`` >= its time); and, as the
   twin's own share, (c) from the publication of the reading that closed its block to
   (b). Beside it, the ingester alone: publication to the archive commit of the same
   reading (the archive's ``received`` column) in the same run. ``--publish-interval 0``.
2. Sustained readings/s into one live twin (the core's ``feed``, in process) at 500
   particles, blocks of 60 s and of 1 s; ``N`` components at 4 readings/s each that one
   process can hold follows.
3. Memory per twin: RSS growth per twin of 20 twins at 500 particles (one shared surrogate).
4. Restart after a year at 1 Hz: measured on a day of 4 sensors at 1 Hz (345,600 rows):
   the ingester's archive open and duplicate rebuild (all rows, and the service's
   default last 10^6), the twin's checkpoint restore, and the replay of the rows since
   the checkpoint; the parts that grow with the archive are extrapolated to a year.

Run: ``python benchmarks/bench_service.py [--components 100 25] [--particles 500]
[--seconds 40]`` (about 6 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import time
import types

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.twin.service_support import (  # noqa: E402
    _OFFSET,
    _SCALE,
    SENSORS,
    UNITS,
    plant_readings,
    write_config,
)

WARM_S = 10


def pct(x, q):
    return float(np.percentile(np.asarray(x), q)) * 1e3 if len(x) else float("nan")


# ------------------------------------------------------------------ 1. latency
def latency(n_comp: int, particles: int, seconds: int, work: pathlib.Path,
            flush: float = 0.1) -> dict:
    import paho.mqtt.client as mqtt

    from sensors.broker import MosquittoBroker
    from sensors.reader import ArchiveReader
    from sensors.schema import encode_reading

    work.mkdir(parents=True, exist_ok=True)
    names = [f"h{i:03d}" for i in range(n_comp)]
    cfgs = [write_config(work / "cfg", component=c, particles=particles, block_s=1.0,
                         lateness_s=0.0) for c in names]
    broker = MosquittoBroker(work / "mq").start()
    arrivals: queue.Queue = queue.Queue()
    sub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                      protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: arrivals.put((time.time(), m.topic, bytes(m.payload)))
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("twin/+/+/state", qos=1)
    sub.subscribe("twin/+/+/status", qos=1)
    sub.loop_start()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    log = open(work / "serve.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", *map(str, cfgs), "--broker", broker.url,
         "--archive", str(work / "a"), "--state", str(work / "s"), "--publish-interval", "0",
         "--checkpoint-interval", "600", "--flush-interval", str(flush), "-q"],
        stdout=log, stderr=log, env=env)
    online, t_start = set(), time.time()
    while len(online) < n_comp:
        ts, topic, payload = arrivals.get(timeout=600)
        if topic.endswith("/status") and json.loads(payload)["status"] == "online":
            online.add(topic)
    print(f"   {n_comp} components online after {time.time() - t_start:.1f} s", flush=True)
    pub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                      protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    sent: dict[tuple[str, int], float] = {}
    start = float(np.ceil(time.time()))
    values = {s: 0.0 for s in SENSORS}
    rng = np.random.default_rng(0)
    for k in range(seconds):
        t = start + k
        time.sleep(max(0.0, t - time.time()))
        base = {"TC-steam-01": 823.15, "PT-01": 17e6, "TC-outer-01": 821.0, "SG-outer-01": 7e-3}
        for s in SENSORS:
            values[s] = base[s] * (1 + 1e-4 * rng.standard_normal())
        for c in names:
            sent[(c, k)] = time.time()
            for s in SENSORS:
                u = UNITS[s]
                pub.publish(f"plant/plant-1/{c}/{s}", encode_reading(
                    time=t, value=values[s] * _SCALE[u] + _OFFSET[u], unit=u, sequence=k), qos=1)
    time.sleep(5.0)
    proc.terminate()
    proc.wait(120)
    pub.loop_stop()
    sub.loop_stop()
    counted, assim, share = [], [], []
    first_count: dict[tuple[str, int], float] = {}
    first_assim: dict[tuple[str, int], float] = {}
    while not arrivals.empty():
        ts, topic, payload = arrivals.get()
        if not topic.endswith("/state"):
            continue
        doc = json.loads(payload)
        c = doc["component"]
        k_count = doc["readings"] // 4 - 1
        k_time = int(doc["time"] - start) if doc["time"] is not None else -1
        for k in range(0, k_count + 1):
            first_count.setdefault((c, k), ts)
        for k in range(0, k_time + 1):
            first_assim.setdefault((c, k), ts)
    warm = WARM_S  # the first seconds compile kernels (numba) and fill caches
    for (c, k), ts in first_count.items():
        if (c, k) in sent and k >= warm:
            counted.append(ts - sent[(c, k)])
    for (c, k), ts in first_assim.items():
        if (c, k) in sent and k >= warm:
            assim.append(ts - sent[(c, k)])
            if (c, k + 1) in sent:
                share.append(ts - sent[(c, k + 1)])
    ingest = []
    for c in names:
        path = work / "a" / "plant-1" / f"{c}.zarr"
        if not (path / "_commit.json").exists():
            continue
        rows = ArchiveReader(path).read(0)
        for t, rec, s in zip(rows.time, rows.received, rows.sensor_id, strict=True):
            k = int(round(t - start))
            if s == "SG-outer-01" and (c, k) in sent and k >= warm:
                ingest.append(rec - sent[(c, k)])
    broker.stop()
    total = n_comp * (seconds - warm)
    return {
        "components": n_comp, "particles": particles, "seconds": seconds,
        "readings_per_s": 4 * n_comp,
        "counted": (pct(counted, 50), pct(counted, 99), len(counted) / total),
        "assimilated": (pct(assim, 50), pct(assim, 99), len(assim) / total),
        "twin_share": (pct(share, 50), pct(share, 99)),
        "ingester": (pct(ingest, 50), pct(ingest, 99), len(ingest) / total),
    }


# ------------------------------------------------------------------ 2-4. in process
def _core(particles: int, block: float, work: pathlib.Path, sur=None, name="h"):
    from models.config import load_config
    from twin.core import ComponentCore
    from twin.service import parse_service_settings
    from twin.state import Twin

    path = write_config(work, component=name, particles=particles, block_s=block,
                        lateness_s=min(5.0, block))
    cfg = load_config(path)
    twin = Twin.from_config(cfg, seed=0, surrogate=sur, config_path=path)
    return ComponentCore(twin, alerts=parse_service_settings(cfg.sections.get("service")).alerts)


def _rows(readings, a, b):
    index = {s: i for i, s in enumerate(SENSORS)}
    sensor = np.array([index[s] for s in readings["sensor"][a:b]], dtype=np.int32)
    return types.SimpleNamespace(start=a, stop=b, sensor_ids=SENSORS, sensor=sensor,
                                 time=readings["time"][a:b], value=readings["value"][a:b],
                                 quality=readings["quality"][a:b])


def sustained(particles: int, work: pathlib.Path) -> list[dict]:
    out = []
    sur = None
    for block, batch in ((60.0, 400), (1.0, 4)):
        core = _core(particles, block, work / f"b{block}", sur)
        sur = core.twin.model.surrogate
        r = plant_readings(3600, t0=1.9e9, seed=1)
        n = r["time"].size
        core.feed(_rows(r, 0, 800))  # warm-up: JIT, caches
        t0 = time.perf_counter()
        for a in range(800, n, batch):
            core.feed(_rows(r, a, min(n, a + batch)))
        dt = time.perf_counter() - t0
        rate = (n - 800) / dt
        out.append({"block_s": block, "batch": batch, "readings_per_s": rate,
                    "components_at_4_per_s": rate / 4})
    return out


def memory(particles: int, work: pathlib.Path, count: int = 20) -> float:
    import psutil

    proc = psutil.Process()
    first = _core(particles, 60.0, work / "m0")
    sur = first.twin.model.surrogate
    r = plant_readings(600, t0=1.9e9)
    first.feed(_rows(r, 0, r["time"].size))
    base = proc.memory_info().rss
    cores = []
    for i in range(count):
        c = _core(particles, 60.0, work / f"m{i + 1}", sur, name=f"m{i}")
        c.feed(_rows(r, 0, r["time"].size))
        cores.append(c)
    return (proc.memory_info().rss - base) / count / 2**20


def restart(particles: int, work: pathlib.Path) -> dict:
    from sensors.archive import Archive, ArchiveBatch
    from sensors.catalogue import parse_catalogue
    from sensors.reader import ArchiveReader
    from sensors.validation import REASONS, Validator
    from twin.state import Twin
    from twin.statedir import StateDir

    day = 86_400
    core = _core(particles, 60.0, work / "r")
    cat = parse_catalogue(core.twin.config.to_dict())
    path = work / "r" / "day.zarr"
    archive = Archive(path, cat, reasons=REASONS)
    idx = {s: archive.sensor_index(s) for s in SENSORS}
    r = plant_readings(day, t0=1.9e9, seed=2)
    n = r["time"].size
    for a in range(0, n, 100_000):
        b = min(n, a + 100_000)
        archive.append(ArchiveBatch(time=r["time"][a:b], sensor=np.array(
            [idx[s] for s in r["sensor"][a:b]], np.int32), value=r["value"][a:b],
            quality=r["quality"][a:b], sequence=r["sequence"][a:b].astype(np.int64)))
    archive.close()
    # the twin over the day, checkpointed 60 s of wall time (here: 240 rows) before the end
    reader = ArchiveReader(path)
    t0 = time.perf_counter()
    for a in range(0, n - 240, 65_536):
        core.feed(reader.read(a, min(n - 240, a + 65_536)))
    replay_day = time.perf_counter() - t0
    sd = StateDir(work / "r" / "state", "plant-1", "h")
    sd.write_checkpoint(core)
    ck = sd.list_checkpoints()[0]
    t0 = time.perf_counter()
    open_all = Archive(path, cat, reasons=REASONS)
    val = Validator(cat, open_all.sensor_index, prefix="plant")
    val.restore(open_all.committed(tail=None))
    dedupe_all = time.perf_counter() - t0
    open_all.close()
    t0 = time.perf_counter()
    tail = Archive(path, cat, reasons=REASONS)
    val = Validator(cat, tail.sensor_index, prefix="plant")
    val.restore(tail.committed(tail=1_000_000))
    dedupe_tail = time.perf_counter() - t0
    tail.close()
    t0 = time.perf_counter()
    twin = Twin.restore(ck, config=core.twin.config, surrogate=core.twin.model.surrogate)
    restore = time.perf_counter() - t0
    from twin.core import ComponentCore

    c2 = ComponentCore(twin, alerts=core.alerts)
    c2.load_state_dict(json.loads((ck / "core.json").read_text()))
    t0 = time.perf_counter()
    c2.feed(reader.read(c2.offset))
    catch_up = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in ck.iterdir()) / 2**20
    return {"rows_day": n, "replay_day_s": replay_day, "dedupe_all_day_s": dedupe_all,
            "dedupe_tail_day_s": dedupe_tail, "checkpoint_restore_s": restore,
            "catch_up_240_rows_s": catch_up, "checkpoint_MiB": size}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--components", type=int, nargs="*", default=[100, 25])
    ap.add_argument("--particles", type=int, default=500)
    ap.add_argument("--seconds", type=int, default=40)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--latency-only", action="store_true")
    ap.add_argument("--flush-interval", type=float, default=0.1,
                    help="the ingesters' flush interval, s")
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-service-"))
    print(f"work folder {work}; load average {os.getloadavg()[0]:.1f}")
    if not args.skip_latency:
        print("\n== latency: publication -> retained state (ms), Mosquitto, QoS 1, block_s 1, "
              "lateness 0, publish interval 0")
        print(f"{'comp':>5} {'P':>4} {'rd/s':>5} | {'counted p50/p99':>17} | "
              f"{'assimilated p50/p99':>20} | {'twin share p50/p99':>19} | "
              f"{'ingester alone p50/p99':>22} | reflected")
        for nc in args.components:
            res = latency(nc, args.particles, args.seconds, work / f"lat{nc}",
                          args.flush_interval)
            c, a, s, i = res["counted"], res["assimilated"], res["twin_share"], res["ingester"]
            print(f"{nc:>5} {args.particles:>4} {4 * nc:>5} | {c[0]:>7.0f} / {c[1]:>7.0f} | "
                  f"{a[0]:>8.0f} / {a[1]:>9.0f} | {s[0]:>8.0f} / {s[1]:>8.0f} | "
                  f"{i[0]:>10.0f} / {i[1]:>9.0f} | {a[2]:.0%}  (flush {args.flush_interval:g} s)",
                  flush=True)
    if args.latency_only:
        return
    print(f"\n== sustained readings/s into one live twin, {args.particles} particles (in process)")
    for row in sustained(args.particles, work / "sus"):
        print(f"   block {row['block_s']:>4.0f} s, batches of {row['batch']:>3}: "
              f"{row['readings_per_s']:>8.0f} readings/s = {row['components_at_4_per_s']:>6.0f} "
              "components at 4 readings/s (one core, assimilation only)")
    print(f"\n== memory per twin ({args.particles} particles, shared surrogate): "
          f"{memory(args.particles, work / 'mem'):.1f} MiB")
    res = restart(args.particles, work / "rs")
    year = 365
    print(f"\n== restart after a day of 1 Hz x 4 sensors ({res['rows_day']} rows), "
          f"{args.particles} particles")
    print(f"   replay of the whole day through the twin (no checkpoint): "
          f"{res['replay_day_s']:.1f} s  -> a year: {res['replay_day_s'] * year / 60:.0f} min")
    print(f"   ingester duplicate rebuild, all rows: {res['dedupe_all_day_s']:.2f} s -> a year: "
          f"{res['dedupe_all_day_s'] * year:.0f} s;  last 10^6 rows (service default): "
          f"{res['dedupe_tail_day_s']:.2f} s (constant after ~3 days)")
    print(f"   checkpoint restore: {res['checkpoint_restore_s']:.2f} s "
          f"({res['checkpoint_MiB']:.1f} MiB, independent of the archive's length); catch-up "
          f"of the 240 rows after it: {res['catch_up_240_rows_s'] * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
