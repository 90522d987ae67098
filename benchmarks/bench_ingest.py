"""Sensor ingestion throughput and latency: publish -> durable archive, with the C-client floor.

Run from the repository root::

    python benchmarks/bench_ingest.py            # both brokers, ~3 minutes
    python benchmarks/bench_ingest.py --quick    # smaller counts

Everything runs on loopback; every phase is bounded in count and time. For each
broker (Mosquitto subprocess, embedded amqtt) it prints:

* the floor: ``mosquitto_pub -l`` into ``mosquitto_sub`` (150-byte JSON, QoS 0 and 1);
* our path: ``twin ingest`` in a subprocess (QoS 0/1 subscription, ack after flush)
  fed by paho publishers in this process, single-reading and batched payloads;
  readings/s from the first publish until the archive commit holds them all;
* publish-to-durable latency p50/p99 at a paced 1,000 readings/s (single-reading
  payloads stamped at send; durable = the archive commit time of the row).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sensors.archive import open_archive, read_commit  # noqa: E402
from sensors.broker import EmbeddedBroker, MosquittoBroker  # noqa: E402
from sensors.catalogue import load_catalogue  # noqa: E402
from sensors.errors import ArchiveError  # noqa: E402
from sensors.mqtt import parse_broker_url  # noqa: E402
from sensors.publish import publish_readings, synthetic_readings  # noqa: E402

BENCH_TOML = """schema_version = 1
[component]
name = "bench"
site = "lab"
""" + "".join(
    f"""
[[sensors]]
id = "TC-{i:02d}"
quantity = "temperature"
unit = "degC"
location = "outer"
valid_min = 0.0
valid_max = 700.0
rate_Hz = 100.0
"""
    for i in range(10)
)


def floor_c_clients(url: str, n: int, qos: int, v311: bool, timeout: float) -> tuple[float, int]:
    """mosquitto_pub -l -> mosquitto_sub: messages/s and messages received."""
    s = parse_broker_url(url)
    common = ["-h", s.host, "-p", str(s.port), "-t", "floor/t", "-q", str(qos)]
    if v311:
        common += ["-V", "mqttv311", "-u", "twin"]
    sub = subprocess.Popen(
        ["mosquitto_sub", *common, "-C", str(n), "-i", f"floor-sub-{qos}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    line = json.dumps(
        {
            "schema_version": 1,
            "time": 1.7e9,
            "value": 565.25,
            "unit": "degC",
            "quality": "good",
            "sequence": 123456789,
            "pad": "x" * 40,
        }
    )
    payload = ("\n".join([line] * n) + "\n").encode()
    pub = subprocess.Popen(
        ["mosquitto_pub", *common, "-l"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    t0 = time.perf_counter()
    assert pub.stdin is not None
    pub.stdin.write(payload)
    pub.stdin.flush()  # stdin stays open: mosquitto_pub -l drops its queue at EOF
    got = 0
    assert sub.stdout is not None
    deadline = t0 + timeout
    os.set_blocking(sub.stdout.fileno(), False)
    while sub.poll() is None and time.perf_counter() < deadline:
        chunk = sub.stdout.read()
        if chunk:
            got += chunk.count(b"\n")
        time.sleep(0.01)
    chunk = sub.stdout.read()
    if chunk:
        got += chunk.count(b"\n")
    elapsed = time.perf_counter() - t0
    for p in (sub, pub):
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
        p.wait(timeout=10)
    return min(got, n) / elapsed, min(got, n)


def start_ingest(
    config: pathlib.Path, archive: pathlib.Path, url: str, qos: int, log: pathlib.Path
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    fh = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twin",
            "ingest",
            str(config),
            "--archive",
            str(archive),
            "--broker",
            url,
            "--qos",
            str(qos),
            "--client-id",
            f"bench-{archive.name}",
            "--flush-interval",
            "0.1",
            "--flush-rows",
            "50000",
            "--receive-maximum",
            "10000",
        ],
        cwd=ROOT,
        env=env,
        stdout=fh,
        stderr=fh,
    )
    deadline = time.monotonic() + 30
    while b"acknowledged" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text())
        time.sleep(0.05)
    return proc


def committed(archive: pathlib.Path) -> int:
    try:
        return read_commit(archive)["readings"]
    except ArchiveError:
        return 0


def run_ingest(
    workdir: pathlib.Path,
    tag: str,
    url: str,
    *,
    n: int,
    batch: int,
    qos: int,
    speed: float | None,
    timeout: float,
) -> dict[str, float]:
    """Publish n readings, wait until the archive holds them; readings/s to durable."""
    config = workdir.parent / "bench.toml"
    cat = load_catalogue(config)
    archive = workdir / f"{tag}.zarr"
    proc = start_ingest(config, archive, url, qos, workdir / f"{tag}.log")
    try:
        per_sensor = n / len(cat.sensors)
        duration = per_sensor / 100.0
        start = time.time() - duration - 1.0
        rec = synthetic_readings(
            cat, duration=duration, start_time=start, rng=np.random.default_rng(0)
        )
        n = rec.sizes["reading"]
        settings = parse_broker_url(url)
        t0 = time.perf_counter()
        t0_wall = time.time()
        stats = publish_readings(
            rec,
            cat,
            broker=settings,
            batch_size=batch,
            qos=qos,
            speed=speed,
            stamp_now=speed is not None,
            client_id=f"bench-pub-{tag}",
            linger=0.0 if "mosquitto" in tag else 1.0,
        )
        t_pub = stats.elapsed
        last, last_change = -1, time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            got = committed(archive)
            if got >= n:
                break
            if got != last:
                last, last_change = got, time.perf_counter()
            elif time.perf_counter() - last_change > 5.0:
                break  # stalled: report what arrived
            time.sleep(0.01)
        got = committed(archive)
        ds = open_archive(archive).load()
        # durable = commit time of the last row (the publisher may still be lingering)
        t_done = float(ds["received"].values.max()) - t0_wall if got else float("nan")
        result = {
            "readings": n,
            "archived": got,
            "messages": stats.messages,
            "publish_s": t_pub,
            "durable_s": t_done,
            "readings_per_s": got / t_done,
            "messages_per_s": got / max(batch, 1) / t_done,
        }
        if speed is not None and got:
            lat = (ds["received"].values - ds["time"].values) * 1e3
            result["p50_ms"] = float(np.percentile(lat, 50))
            result["p99_ms"] = float(np.percentile(lat, 99))
        return result
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def run_ingest_c_publisher(
    workdir: pathlib.Path, tag: str, url: str, *, n: int, qos: int, v311: bool, timeout: float
) -> dict[str, float]:
    """Single-reading payloads from mosquitto_pub -l (the publisher is not the limit)."""
    from sensors.schema import encode_reading

    config = workdir.parent / "bench.toml"
    archive = workdir / f"{tag}.zarr"
    proc = start_ingest(config, archive, url, qos, workdir / f"{tag}.log")
    s = parse_broker_url(url)
    args = ["-h", s.host, "-p", str(s.port), "-t", "plant/lab/bench/TC-00", "-q", str(qos), "-l"]
    if v311:
        args += ["-V", "mqttv311", "-u", "twin"]
    now = time.time()
    lines = (
        b"\n".join(
            encode_reading(time=now - 10.0 + i * 1e-4, value=500.0, unit="degC", sequence=i)
            for i in range(n)
        )
        + b"\n"
    )
    pub = subprocess.Popen(
        ["mosquitto_pub", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        t0 = time.perf_counter()
        assert pub.stdin is not None
        pub.stdin.write(lines)
        pub.stdin.flush()  # keep stdin open until the archive holds everything
        last, last_change = -1, time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            got = committed(archive)
            if got >= n:
                break
            if got != last:
                last, last_change = got, time.perf_counter()
            elif time.perf_counter() - last_change > 5.0:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        got = committed(archive)
        return {"readings": n, "archived": got, "readings_per_s": got / elapsed}
    finally:
        for p in (pub, proc):
            os.kill(p.pid, signal.SIGTERM)
            p.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--broker", choices=["mosquitto", "amqtt", "both"], default="both")
    args = parser.parse_args()
    q = 0.2 if args.quick else 1.0
    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    brokers = ["mosquitto", "amqtt"] if args.broker == "both" else [args.broker]
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        (work / "bench.toml").write_text(BENCH_TOML)
        for kind in brokers:
            bdir = work / kind
            bdir.mkdir()
            broker = MosquittoBroker(bdir / "broker") if kind == "mosquitto" else EmbeddedBroker()
            broker.start()
            url = broker.url
            v311 = kind == "amqtt"
            try:
                # amqtt: small bursts only (it stalls on 5k+ and drops deliveries whose
                # PUBACK takes more than 5 s)
                n_floor = int(50_000 * q) if kind == "mosquitto" else int(3_000 * q)
                floors = {}
                for qos in (0, 1):
                    rate, got = floor_c_clients(url, n_floor, qos, v311, timeout=60)
                    floors[qos] = rate
                    rows.append(
                        (
                            kind,
                            f"C clients QoS {qos}",
                            f"{rate:,.0f} msg/s ({got}/{n_floor} received)",
                        )
                    )
                    print(rows[-1], flush=True)
                plans = (
                    [("single", 1, int(20_000 * q)), ("batched", 1000, int(500_000 * q))]
                    if kind == "mosquitto"
                    else [("single", 1, int(3_000 * q)), ("batched", 100, int(50_000 * q))]
                )
                for label, batch, n in plans:
                    for qos in (0, 1):
                        tag = f"{kind}-{label}-q{qos}"
                        speed = None
                        r = run_ingest(
                            bdir, tag, url, n=n, batch=batch, qos=qos, speed=speed, timeout=120
                        )
                        ratio = r["readings_per_s"] / floors[qos]  # a C message = one reading
                        rows.append(
                            (
                                kind,
                                f"twin ingest {label} (x{batch}) QoS {qos}",
                                f"{r['readings_per_s']:,.0f} readings/s, "
                                f"{r['messages_per_s']:,.0f} msg/s "
                                f"({r['archived']}/{r['readings']} archived, "
                                f"{ratio:.2f}x C-client readings/s)",
                            )
                        )
                        print(rows[-1], flush=True)
                n_c = int(20_000 * q) if kind == "mosquitto" else int(3_000 * q)
                for qos in (0, 1):
                    r = run_ingest_c_publisher(
                        bdir, f"{kind}-cpub-q{qos}", url, n=n_c, qos=qos, v311=v311, timeout=120
                    )
                    ratio = r["readings_per_s"] / floors[qos]
                    rows.append(
                        (
                            kind,
                            f"mosquitto_pub -l -> twin ingest, single, QoS {qos}",
                            f"{r['readings_per_s']:,.0f} readings/s "
                            f"({r['archived']}/{r['readings']} archived, {ratio:.2f}x C clients)",
                        )
                    )
                    print(rows[-1], flush=True)
                n_lat = int(10_000 * q)
                r = run_ingest(
                    bdir, f"{kind}-latency", url, n=n_lat, batch=1, qos=1, speed=1.0, timeout=60
                )
                rows.append(
                    (
                        kind,
                        "latency at 1,000 readings/s, single, QoS 1",
                        f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
                        f"({r['archived']}/{r['readings']} archived)",
                    )
                )
                print(rows[-1], flush=True)
            finally:
                broker.stop()
    print(f"\nload average after: {os.getloadavg()}")
    print("\n| broker | case | result |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
