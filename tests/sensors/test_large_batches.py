"""One payload must not stall the ingester: a batch at the payload limit, clean or with a
repeated sequence number, is archived in about the same time (issue 13, section 2)."""

from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import pytest

from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.ingest import Ingester
from sensors.mqtt import make_client, parse_broker_url
from sensors.reader import committed_count, read_readings
from sensors.schema import encode_batch

pytestmark = pytest.mark.requires_broker
LIMIT = 1_000_000  # the ingester's default payload limit, bytes


def _batch(first_seq: int, n: int, now: float) -> bytes:
    return encode_batch(
        time=np.round(now - 3600.0 + np.arange(n) * 0.05, 2),
        value=np.round(20.0 + np.arange(n) % 100 * 0.1, 1),
        unit="degC",
        sequence=first_seq + np.arange(n),
    )


def _most_readings(first_seq: int, now: float) -> int:
    """Readings of the largest batch that fits the payload limit (bisection)."""
    lo, hi = 1, 99_999
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if len(_batch(first_seq, mid, now)) <= LIMIT else (lo, mid - 1)
    return lo


def test_a_batch_at_the_limit_with_a_repeated_sequence_is_archived_as_fast_as_a_clean_one(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    settings = parse_broker_url(mosquitto.url)
    path = tmp_path / "a.zarr"
    ingester = Ingester(catalogue, path, broker=settings, flush_interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    pub, props = make_client(settings)
    pub.connect(settings.host, settings.port, properties=props)
    pub.loop_start()
    now = time.time()
    topic = catalogue.topic("plant", "TC-outer-01")
    try:
        assert ingester.subscribed.wait(10)
        n = _most_readings(100_000, now)  # six-digit sequence numbers in both batches
        clean = _batch(100_000, n, now)
        # one repeated sequence number: the last reading repeats the first's
        seq = 200_000 + np.arange(n)
        seq[-1] = seq[0]
        dirty = encode_batch(
            time=np.round(now - 3600.0 + np.arange(n) * 0.05, 2),
            value=np.round(20.0 + np.arange(n) % 100 * 0.1, 1),
            unit="degC",
            sequence=seq,
        )
        assert n > 30_000 and len(clean) <= LIMIT and len(dirty) <= LIMIT
        timings = []
        for payload, expect in ((clean, n), (dirty, 2 * n - 1)):
            started = time.monotonic()
            pub.publish(topic, payload, qos=1).wait_for_publish(10)
            deadline = started + 60
            while committed_count(path) < expect and time.monotonic() < deadline:
                time.sleep(0.01)
            timings.append(time.monotonic() - started)
            assert committed_count(path) == expect
        time.sleep(0.3)
    finally:
        pub.disconnect()
        pub.loop_stop()
        stop.set()
        thread.join(30)
    clean_s, dirty_s = timings
    assert dirty_s < clean_s + 2.0, timings  # was 48 s with the per-reading fallback
    assert ingester.stats.duplicates == 1 and ingester.stats.connects == 1  # never dropped
    got = read_readings(path)
    expected = list(range(100_000, 100_000 + n)) + list(range(200_000, 200_000 + n - 1))
    assert got.sequence.tolist() == expected


def test_readings_per_payload_are_capped(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    settings = parse_broker_url(mosquitto.url)
    ingester = Ingester(catalogue, tmp_path / "a.zarr", broker=settings, max_readings=1000)
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    pub, props = make_client(settings)
    pub.connect(settings.host, settings.port, properties=props)
    pub.loop_start()
    topic = catalogue.topic("plant", "SG-outer-01")
    now = time.time() - 100.0
    try:
        assert ingester.subscribed.wait(10)
        for n, first in ((1000, 0), (1001, 5000)):
            payload = encode_batch(
                time=now + np.arange(n) * 0.01,
                value=np.zeros(n),
                unit="microstrain",
                sequence=first + np.arange(n),
            )
            pub.publish(topic, payload, qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 20
        while sum(ingester.stats.dead_letters.values()) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        pub.disconnect()
        pub.loop_stop()
        stop.set()
        thread.join(30)
    assert ingester.stats.archived == 1000
    assert dict(ingester.stats.dead_letters) == {"oversized": 1}


def _archive_then_stream(
    mosquitto: MosquittoBroker, catalogue: Catalogue, path: pathlib.Path, stride: int
) -> float:
    """Fill an archive with 3 x 10^5 readings of one sensor (sequence step ``stride``),
    then time 2,000 more as single-reading messages, publish to durable."""
    from sensors.archive import Archive, ArchiveBatch
    from sensors.schema import encode_reading
    from sensors.validation import REASONS

    n, k = 300_000, 2_000
    now = time.time()
    with Archive(path, catalogue, reasons=REASONS) as arch:
        arch.append(
            ArchiveBatch(
                now - 7200.0 + np.arange(n) * 0.01,
                np.full(n, catalogue.ids.index("SG-outer-01"), dtype=np.int32),
                np.zeros(n),
                np.zeros(n, dtype=np.int8),
                stride * np.arange(n, dtype=np.int64),
            )
        )
    settings = parse_broker_url(mosquitto.url)
    ingester = Ingester(
        catalogue, path, broker=settings, flush_interval=0.05, client_id=str(stride)
    )
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    pub, props = make_client(settings)
    pub.connect(settings.host, settings.port, properties=props)
    pub.loop_start()
    topic = catalogue.topic("plant", "SG-outer-01")
    try:
        assert ingester.subscribed.wait(10)
        started = time.monotonic()
        for i in range(k):
            payload = encode_reading(
                time=now - 100.0 + i * 0.01,
                value=1.0,
                unit="microstrain",
                sequence=stride * (n + i),
            )
            pub.publish(topic, payload, qos=1)
        while committed_count(path) < n + k and time.monotonic() - started < 120:
            time.sleep(0.01)
        elapsed = time.monotonic() - started
    finally:
        pub.disconnect()
        pub.loop_stop()
        stop.set()
        thread.join(30)
    assert committed_count(path) == n + k and ingester.stats.duplicates == 0
    return elapsed


def test_sequence_holes_do_not_slow_the_ingester(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    # Stride-2 sequence numbers leave 3 x 10^5 holes in the tracker rebuilt from the
    # archive; the previous tracker re-merged all of them on every reading (5.9 ms
    # each, ~12 s for these 2,000), ours inserts in O(log n).
    contiguous = _archive_then_stream(mosquitto, catalogue, tmp_path / "c.zarr", 1)
    holes = _archive_then_stream(mosquitto, catalogue, tmp_path / "h.zarr", 2)
    assert holes < 2.0 * contiguous + 1.0, (contiguous, holes)
