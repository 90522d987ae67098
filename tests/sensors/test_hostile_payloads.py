"""A running ingester under malformed and hostile payloads (hypothesis).

The reference is the test's own bookkeeping: every payload is built to hit one
reason code (or to be valid), and the ingester's counters and archive must match
exactly what was sent.
"""

from __future__ import annotations

import collections
import itertools
import json
import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sensors.archive import open_archive
from sensors.catalogue import Catalogue, load_catalogue
from sensors.ingest import Ingester
from sensors.mqtt import make_client, parse_broker_url
from sensors.schema import encode_batch, encode_reading

pytestmark = pytest.mark.requires_broker

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"
CAT = load_catalogue(DEMO)
TEMPS = [s.id for s in CAT.sensors if s.quantity == "temperature"]
SEQ = {sid: itertools.count(10) for sid in CAT.ids}
ANY = "any"  # a letter of whatever reason: random garbage


def _single(sid: str, **over: Any) -> bytes:
    doc: dict[str, Any] = {
        "schema_version": 1,
        "time": time.time() - 1.0,
        "value": 20.0,
        "unit": "degC",
        "sequence": next(SEQ[sid]),
    }
    doc.update(over)
    return json.dumps(doc).encode()  # Python's json: writes NaN/Infinity when asked


sensor = st.sampled_from(TEMPS)
cases = st.one_of(
    sensor.map(lambda s: (s, _single(s), ("ok", 1))),
    st.tuples(sensor, st.integers(2, 50)).map(
        lambda a: (
            a[0],
            encode_batch(
                time=[time.time() - 1.0] * a[1],
                value=[400.0] * a[1],
                unit="K",
                sequence=[next(SEQ[a[0]]) for _ in range(a[1])],
            ),
            ("ok", a[1]),
        )
    ),
    st.tuples(sensor, st.sampled_from([float("nan"), float("inf"), -float("inf"), None])).map(
        lambda a: (a[0], _single(a[0], value=a[1]), ("non_finite", 1))
    ),
    st.tuples(sensor, st.floats(1e4, 1e300)).map(
        lambda a: (a[0], _single(a[0], value=a[1]), ("out_of_range", 1))
    ),
    st.text("ABCXYZxyz019-_", min_size=1, max_size=12)
    .filter(lambda s: s not in CAT.ids)
    .map(
        lambda s: (
            s,
            encode_reading(time=time.time(), value=1.0, unit="K", sequence=1),
            ("unknown_sensor", 1),
        )
    ),
    st.tuples(sensor, st.sampled_from(["psi", "degF", "°C", "", "kelvin", "Kelvin"])).map(
        lambda a: (a[0], _single(a[0], unit=a[1]), ("unknown_unit", 1))
    ),
    sensor.map(lambda s: (s, _single(s, unit="bar"), ("unit_mismatch", 1))),
    st.tuples(sensor, st.integers().filter(lambda v: v != 1)).map(
        lambda a: (a[0], _single(a[0], schema_version=a[1]), ("unsupported_version", 1))
    ),
    st.tuples(sensor, st.floats(1e5, 1e9)).map(
        lambda a: (a[0], _single(a[0], time=time.time() + a[1]), ("time_in_future", 1))
    ),
    st.tuples(sensor, st.floats(3 * 86_400, 5e8)).map(  # after 2000: not time_before_start
        lambda a: (a[0], _single(a[0], time=time.time() - a[1]), ("time_backwards", 1))
    ),
    st.tuples(sensor, st.sampled_from([2**64, -5, "7", 1.5, [1]])).map(
        lambda a: (a[0], _single(a[0], sequence=a[1]), ("schema", 1))
    ),
    sensor.map(lambda s: (s, b"[" * 5000, ("malformed_json", 1))),
    # Hardening (issue 13, section 3): huge numbers are schema errors, not internal
    # errors; UTF-16/32, a BOM, invalid UTF-8 and lone surrogates are malformed.
    st.tuples(sensor, st.sampled_from(["value", "time"])).map(
        lambda a: (
            a[0],
            _single(a[0]).replace(
                f'"{a[1]}": '.encode(), f'"{a[1]}": {"9" * 400}, "x{a[1]}": '.encode()
            ),
            ("schema", 1),
        )
    ),
    st.tuples(sensor, st.sampled_from([2**63 - 1, 2**53])).map(
        lambda a: (a[0], _single(a[0], sequence=a[1]), ("schema", 1))
    ),
    st.tuples(sensor, st.sampled_from(["utf-16", "utf-32", "utf-8-sig"])).map(
        lambda a: (a[0], _single(a[0]).decode().encode(a[1]), ("malformed_json", 1))
    ),
    sensor.map(
        lambda s: (s, _single(s, unit="K\udcff", value=float("nan")), ("malformed_json", 1))
    ),
    sensor.map(lambda s: (s, b'{"v": "' + b"x" * 30_000 + b'"}', ("oversized", 1))),
    st.tuples(sensor, st.binary(max_size=300)).map(lambda a: (a[0], a[1], (ANY, 1))),
    st.tuples(sensor, st.text(max_size=100)).map(lambda a: (a[0], ("{" + a[1]).encode(), (ANY, 1))),
)


@pytest.fixture
def running(any_broker: Any, tmp_path: pathlib.Path) -> Iterator[tuple[Ingester, Any, Catalogue]]:
    settings_ = parse_broker_url(any_broker.url)
    ingester = Ingester(
        CAT, tmp_path / "h.zarr", broker=settings_, flush_interval=0.05, max_payload_bytes=20_000
    )
    stop = threading.Event()
    thread = threading.Thread(target=ingester.serve, kwargs={"stop": stop})
    thread.start()
    assert ingester.subscribed.wait(10)
    client, props = make_client(settings_, client_id="hostile-pub")
    client.dead_letters = []  # messages seen on the dead-letter topic
    client.on_message = lambda c, u, m: client.dead_letters.append(json.loads(m.payload))
    client.connect(settings_.host, settings_.port, **({"properties": props} if props else {}))
    client.loop_start()
    client.subscribe(ingester.deadletter_topic, qos=1)
    time.sleep(0.3)
    yield ingester, client, CAT
    client.disconnect()
    client.loop_stop()
    stop.set()
    thread.join(30)


def _wait(cond: Any, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_ingester_survives_hostile_payloads_and_counts_every_dead_letter(
    running: tuple[Ingester, Any, Catalogue],
) -> None:
    ingester, client, cat = running
    expected_ok = 0
    expected = collections.Counter[str]()
    expected_any = 0
    # a valid reading per sensor first: the reference time for time_backwards
    for sid in TEMPS:
        client.publish(cat.topic("plant", sid), _single(sid), qos=1).wait_for_publish(10)
        expected_ok += 1
    assert _wait(lambda: ingester.stats.archived == expected_ok)

    # No shrinking: the broker and the counters carry state from one example to the next.
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(cases, min_size=1, max_size=25))
    def one_round(batch: list[tuple[str, bytes, tuple[str, int]]]) -> None:
        nonlocal expected_ok, expected_any
        for sid, payload, (kind, n) in batch:
            client.publish(cat.topic("plant", sid), payload, qos=1)
            if kind == "ok":
                expected_ok += n
            elif kind == ANY:
                expected_any += 1
            else:
                expected[kind] += 1

        def settled() -> bool:
            s = ingester.stats
            return (
                s.archived == expected_ok
                and sum(s.dead_letters.values()) == sum(expected.values()) + expected_any
            )

        assert _wait(settled), (ingester.stats, expected_ok, expected, expected_any)
        targeted = {k: v for k, v in ingester.stats.dead_letters.items() if k in expected}
        # every targeted letter has exactly its reason; garbage only adds on top
        for reason, count in expected.items():
            assert targeted.get(reason, 0) >= count
        assert sum(ingester.stats.dead_letters.values()) - sum(expected.values()) == expected_any

    one_round()
    assert "internal_error" not in ingester.stats.dead_letters
    assert ingester.stats.duplicates == 0
    ds = open_archive(ingester.archive.path)
    assert ds.sizes["reading"] == expected_ok
    letters = open_archive(ingester.archive.path, group="deadletter")
    assert letters.sizes["letter"] == sum(expected.values()) + expected_any
    # ... and each was published on the dead-letter topic with its reason
    assert _wait(lambda: len(client.dead_letters) == letters.sizes["letter"], timeout=10)
    published = collections.Counter(d["reason"] for d in client.dead_letters)
    assert published == collections.Counter(letters["reason_code"].values.tolist())
