"""An injected plant clock: accelerated or replayed time is not dead-lettered as future.

The plant clock is an object the test advances; the reference is its own readings.
"""

from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import pytest

from sensors.broker import MosquittoBroker
from sensors.catalogue import Catalogue, load_catalogue
from sensors.ingest import Ingester
from sensors.mqtt import parse_broker_url
from sensors.publish import publish_readings, synthetic_readings, timeline_start
from sensors.reader import read_readings
from sensors.schema import encode_reading
from sensors.validation import Validator

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"
TOPIC = "plant/plant-1/header-a/TC-fluid-01"


class PlantClock:
    """Plant time, epoch s, moved only by :meth:`advance`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt


def test_validator_judges_future_time_by_its_clock() -> None:
    cat = load_catalogue(DEMO)
    plant = PlantClock(2.2e9)  # year 2039: a replay far ahead of the wall clock
    v = Validator(cat, {s: i for i, s in enumerate(cat.ids)}.get, prefix="plant", clock=plant)
    ahead = encode_reading(time=plant.now + 30.0, value=20.0, unit="degC", sequence=1)
    assert v.check(TOPIC, ahead).accepted is not None  # 30 s ahead: within 300 s
    late = encode_reading(time=plant.now + 400.0, value=20.0, unit="degC", sequence=2)
    assert [d.reason for d in v.check(TOPIC, late).letters] == ["time_in_future"]
    plant.advance(200.0)  # now 200 s in the future only
    assert v.check(TOPIC, late).accepted is not None
    wall = Validator(cat, {s: i for i, s in enumerate(cat.ids)}.get, prefix="plant")
    assert [d.reason for d in wall.check(TOPIC, ahead).letters] == ["time_in_future"]


def test_timeline_start_keeps_every_paced_reading_at_or_before_the_clock() -> None:
    plant = PlantClock(1.8e9)
    for speed in (1.0, 2.0, 10.0, 1000.0):
        start = timeline_start(duration=600.0, speed=speed, clock=plant)
        offset = np.linspace(0.0, 600.0, 601)
        sent = plant.now + offset / speed  # when paced publishing sends each reading
        assert np.all(start + offset <= sent + 1e-6)
        assert start + 600.0 == pytest.approx(plant.now + 600.0 / speed)  # the last is "now"
    assert timeline_start(duration=600.0, speed=None, clock=plant) == plant.now - 600.0


@pytest.mark.requires_broker
def test_ingest_with_a_plant_clock_archives_accelerated_time_that_wall_time_rejects(
    mosquitto: MosquittoBroker, catalogue: Catalogue, tmp_path: pathlib.Path
) -> None:
    settings = parse_broker_url(mosquitto.url)
    plant = PlantClock(time.time() + 30 * 86_400.0)  # plant time 30 days ahead
    fast = Ingester(catalogue, tmp_path / "plant.zarr", broker=settings, clock=plant)
    wall = Ingester(catalogue, tmp_path / "wall.zarr", broker=settings, client_id="wall-clock")
    stops, threads = [], []
    for ing in (fast, wall):
        stop = threading.Event()
        thread = threading.Thread(target=ing.serve, kwargs={"stop": stop})
        thread.start()
        assert ing.subscribed.wait(10)
        stops.append(stop)
        threads.append(thread)
    sent: list[float] = []
    try:
        for hour in range(3):  # three plant hours, each published stamped on the plant clock
            plant.advance(3600.0)
            rec = synthetic_readings(
                catalogue, duration=2.0, start_time=0.0, rng=np.random.default_rng(hour)
            )
            rec = rec.assign(sequence=rec["sequence"] + 100 * hour)
            sent += [plant.now] * rec.sizes["reading"]
            publish_readings(
                rec, catalogue, broker=settings, batch_size=5, stamp_now=True, clock=plant
            )
            deadline = time.monotonic() + 20
            while fast.stats.archived < len(sent) and time.monotonic() < deadline:
                time.sleep(0.02)
        deadline = time.monotonic() + 20
        while sum(wall.stats.dead_readings.values()) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for stop, thread in zip(stops, threads, strict=True):
            stop.set()
            thread.join(30)
    assert fast.stats.archived == len(sent) and not fast.stats.dead_letters
    got = read_readings(tmp_path / "plant.zarr")
    np.testing.assert_array_equal(np.sort(got.time), np.sort(sent))  # plant stamps, exact
    assert np.all(got.received >= got.time)  # commit stamped on the plant clock too
    assert np.all(got.received <= plant.now)
    # the same messages judged by the wall clock: all 30 days in the future
    assert wall.stats.archived == 0
    assert dict(wall.stats.dead_readings) == {"time_in_future": len(sent)}
