"""Readings that arrive out of time order: stored in arrival order, read in time order."""

from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import pytest

from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue
from sensors.errors import ArchiveError
from sensors.ingest import Ingester
from sensors.mqtt import make_client, parse_broker_url
from sensors.reader import read_readings, read_time_ordered
from sensors.schema import encode_batch, encode_reading

pytestmark = pytest.mark.requires_broker


def test_late_readings_are_archived_as_they_come_and_read_in_time_order(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "a.zarr"
    settings = parse_broker_url(mosquitto.url)
    ingester = Ingester(catalogue, path, broker=settings, flush_interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    pub, props = make_client(settings)
    pub.connect(settings.host, settings.port, properties=props)
    pub.loop_start()
    rng = np.random.default_rng(11)
    t0 = time.time() - 3600.0
    times = t0 + rng.permutation(200) * 1.0  # every reading late or early, within 1 h
    topic = catalogue.topic("plant", "TC-outer-01")
    try:
        assert ingester.subscribed.wait(10)
        for seq, t in enumerate(times[:100]):
            payload = encode_reading(time=float(t), value=300.0 + seq, unit="K", sequence=seq)
            pub.publish(topic, payload, qos=1).wait_for_publish(10)
        pub.publish(
            topic,
            encode_batch(
                time=times[100:],
                value=300.0 + np.arange(100, 200),
                unit="K",
                sequence=np.arange(100, 200),
            ),
            qos=1,
        ).wait_for_publish(10)
        pub.publish(  # a second sensor, in order, to check the sensor filter
            catalogue.topic("plant", "PT-01"),
            encode_batch(
                time=t0 + np.arange(5.0), value=np.ones(5), unit="MPa", sequence=np.arange(5)
            ),
            qos=1,
        ).wait_for_publish(10)
        deadline = time.monotonic() + 20
        while ingester.stats.archived < 205 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        pub.disconnect()
        pub.loop_stop()
        stop.set()
        thread.join(30)
    assert ingester.stats.archived == 205 and not ingester.stats.dead_letters
    stored = read_readings(path)
    tc = stored.sensor_id == "TC-outer-01"
    np.testing.assert_array_equal(stored.time[tc], times)  # arrival order, as documented
    ordered = read_time_ordered(path, sensor_id="TC-outer-01")
    np.testing.assert_array_equal(ordered.time, np.sort(times))
    np.testing.assert_array_equal(ordered.value, 300.0 + np.argsort(times, kind="stable"))
    # each row keeps its archive offset: reading it back by offset gives the same row
    again = read_readings(path)
    np.testing.assert_array_equal(again.time[ordered.offset], ordered.time)
    both = read_time_ordered(path)
    assert np.all(np.diff(both.time) >= 0) and len(both) == 205
    with pytest.raises(ArchiveError, match="sensor_id: 'XX' is not in this archive"):
        read_time_ordered(path, sensor_id="XX")
