"""The ``on_durable`` hook against a real Mosquitto: durable rows, offsets, failures.

The reference is the archive itself, read back by offset by an independent reader,
and the readings the test published.
"""

from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import pytest

from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.errors import DurableHookError
from sensors.ingest import Ingester
from sensors.mqtt import parse_broker_url
from sensors.publish import publish_readings, synthetic_readings
from sensors.reader import CommittedReadings, committed_count, read_readings

pytestmark = pytest.mark.requires_broker


def _recording(catalogue: Catalogue, seconds: float, first_seq: int = 0) -> object:
    rec = synthetic_readings(
        catalogue,
        duration=seconds,
        start_time=time.time() - 600.0,
        rng=np.random.default_rng(3),
        rate_scale=5.0,
    )
    return rec.assign(sequence=rec["sequence"] + first_seq)


def _serve(ingester: Ingester) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    stop, errors = threading.Event(), []

    def run() -> None:
        try:
            ingester.serve(stop=stop)
        except BaseException as err:  # reported to the test
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    assert ingester.subscribed.wait(10)
    return thread, stop, errors


def _wait(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def test_hook_receives_every_durable_reading_once_with_its_archive_offsets(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    batches: list[CommittedReadings] = []
    durable_at_call: list[int] = []

    def hook(batch: CommittedReadings) -> None:
        durable_at_call.append(committed_count(path))  # an outside reader's view
        batches.append(batch)

    settings = parse_broker_url(mosquitto.url)
    ingester = Ingester(catalogue, path, broker=settings, flush_interval=0.05, on_durable=hook)
    thread, stop, errors = _serve(ingester)
    try:
        rec = _recording(catalogue, 20.0)
        n = rec.sizes["reading"]
        publish_readings(rec, catalogue, broker=settings, batch_size=20, speed=20.0)
        _wait(lambda: ingester.stats.archived >= n)
    finally:
        stop.set()
        thread.join(30)
    assert errors == [] and ingester.stats.archived == n and ingester.stats.hook_errors == 0
    assert len(batches) == ingester.stats.flushes > 1
    # offsets tile [0, n) and each batch was durable when the hook saw it
    assert batches[0].start == 0 and batches[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(batches, batches[1:], strict=False))
    assert all(seen >= b.stop for seen, b in zip(durable_at_call, batches, strict=True))
    archived = read_readings(path, 0, n)
    for name in ("sensor", "time", "value", "quality", "sequence", "received"):
        joined = np.concatenate([getattr(b, name) for b in batches])
        np.testing.assert_array_equal(joined, getattr(archived, name), err_msg=name)
    ids = np.concatenate([b.sensor_id for b in batches])
    pairs = {(str(s), int(q)) for s, q in zip(ids, archived.sequence, strict=True)}
    published = {
        (str(s), int(q))
        for s, q in zip(rec["sensor_id"].values, rec["sequence"].values, strict=True)
    }
    assert pairs == published and len(pairs) == n


def test_a_failing_hook_is_counted_and_archiving_goes_on(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    seen: list[CommittedReadings] = []

    def hook(batch: CommittedReadings) -> None:
        seen.append(batch)
        if len(seen) == 1:
            raise ZeroDivisionError("consumer bug")

    settings = parse_broker_url(mosquitto.url)
    ingester = Ingester(catalogue, path, broker=settings, flush_interval=0.05, on_durable=hook)
    thread, stop, errors = _serve(ingester)
    try:
        rec = _recording(catalogue, 20.0)
        n = rec.sizes["reading"]
        publish_readings(rec, catalogue, broker=settings, batch_size=20, speed=20.0)
        _wait(lambda: ingester.stats.archived >= n)
    finally:
        stop.set()
        thread.join(30)
    assert errors == [] and ingester.stats.archived == n == committed_count(path)
    assert ingester.stats.hook_errors == 1 and len(seen) == ingester.stats.flushes > 1
    # the failed batch is durable: the consumer reads it again by its offsets
    again = read_readings(path, seen[0].start, seen[0].stop)
    np.testing.assert_array_equal(again.sequence, seen[0].sequence)


def test_stop_on_hook_error_stops_cleanly_and_a_restart_loses_nothing(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    settings = parse_broker_url(mosquitto.url)
    calls: list[CommittedReadings] = []

    def failing(batch: CommittedReadings) -> None:
        calls.append(batch)
        raise RuntimeError("twin update failed")

    first = Ingester(
        catalogue,
        path,
        broker=settings,
        client_id="hook-stop",
        flush_interval=0.05,
        on_durable=failing,
        stop_on_hook_error=True,
    )
    thread, _, errors = _serve(first)
    rec1 = _recording(catalogue, 10.0)
    publish_readings(rec1, catalogue, broker=settings, batch_size=20)
    thread.join(30)
    assert not thread.is_alive()  # serve() ended by itself
    assert len(errors) == 1 and isinstance(errors[0], DurableHookError)
    err = errors[0]
    assert (err.start, err.stop) == (calls[0].start, calls[0].stop) and len(calls) == 1
    assert "twin update failed" in str(err) and isinstance(err.__cause__, RuntimeError)
    archived_first = committed_count(path)
    assert archived_first >= calls[0].stop  # the failed batch stayed durable
    # Published while no ingester runs: held by the broker in the persistent session.
    rec2 = _recording(catalogue, 10.0, first_seq=10_000)
    publish_readings(rec2, catalogue, broker=settings, batch_size=20)
    total = rec1.sizes["reading"] + rec2.sizes["reading"]
    again = Ingester(catalogue, path, broker=settings, client_id="hook-stop", flush_interval=0.05)
    thread, stop, errors = _serve(again)
    try:
        _wait(lambda: committed_count(path) >= total)
        time.sleep(0.3)  # a late redelivery would be a duplicate
    finally:
        stop.set()
        thread.join(30)
    got = read_readings(path)
    pairs = {(str(s), int(q)) for s, q in zip(got.sensor_id, got.sequence, strict=True)}
    assert len(got) == total == len(pairs)  # every reading exactly once
