"""The validator: dedupe set against Python's set, reason codes against constructed cases."""

from __future__ import annotations

import json
import pathlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.catalogue import load_catalogue
from sensors.schema import encode_batch, encode_reading
from sensors.validation import SeenSequences, Validator

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"
NOW = 1.8e9


@settings(max_examples=60)
@given(
    batches=st.lists(st.lists(st.integers(0, 400), max_size=60), max_size=12),
    probe=st.lists(st.integers(-5, 405), max_size=100),
)
def test_seen_sequences_behaves_like_a_python_set(
    batches: list[list[int]], probe: list[int]
) -> None:
    seen, reference = SeenSequences(), set()
    for batch in batches:
        seen.add(np.array(batch, dtype=np.int64))
        reference.update(batch)
    got = seen.contains(np.array(probe, dtype=np.int64))
    assert got.tolist() == [p in reference for p in probe]
    # intervals are disjoint and maximal: one per run of consecutive integers
    runs = sum(1 for x in reference if x - 1 not in reference)
    assert seen.intervals == runs


def _validator() -> Validator:
    cat = load_catalogue(DEMO)
    index = {sid: i for i, sid in enumerate(cat.ids)}
    return Validator(
        cat,
        lambda s: index.get(s, -1),
        prefix="plant",
        max_payload_bytes=10_000,
        future_tolerance=60.0,
        backwards_tolerance=3600.0,
    )


TOPIC = "plant/plant-1/header-a/"


def test_batch_splits_into_accepted_duplicates_and_one_letter_per_reason() -> None:
    v = _validator()
    # TC-outer-01 valid range 0..700 degC
    payload = encode_batch(
        time=[NOW - 5, NOW - 4, NOW - 3, NOW - 2, NOW + 1000, NOW - 1, NOW - 1],
        value=[20.0, float("nan"), 800.0, 21.0, 22.0, 23.0, 23.0],
        unit="degC",
        sequence=[1, 2, 3, 4, 5, 6, 6],
    )
    out = v.check(TOPIC + "TC-outer-01", payload, received=NOW)
    assert out.accepted is not None
    assert out.accepted.sequence.tolist() == [1, 4, 6]
    np.testing.assert_allclose(out.accepted.value, [293.15, 294.15, 296.15])  # + 273.15 K
    assert out.duplicates == 1
    assert sorted((d.reason, d.readings) for d in out.letters) == [
        ("non_finite", 1),
        ("out_of_range", 1),
        ("time_in_future", 1),
    ]
    # redelivery of the same payload: everything already seen or rejected again
    again = v.check(TOPIC + "TC-outer-01", payload, received=NOW)
    assert again.accepted is None and again.duplicates == 4
    # a reading two hours older than the latest one goes backwards
    old = v.check(
        TOPIC + "TC-outer-01",
        encode_reading(time=NOW - 7200, value=20.0, unit="degC", sequence=9),
        received=NOW,
    )
    assert [d.reason for d in old.letters] == ["time_backwards"]


def test_message_level_reasons() -> None:
    v = _validator()
    ok = encode_reading(time=NOW, value=1.0, unit="MPa", sequence=1)
    cases = {
        "unknown_sensor": (TOPIC + "XX-99", ok),
        "bad_topic": ("plant/plant-1/header-b/PT-01", ok),
        "unit_mismatch": (TOPIC + "TC-outer-01", ok),
        "unknown_unit": (
            TOPIC + "PT-01",
            encode_reading(time=NOW, value=1.0, unit="psi", sequence=1),
        ),
        "oversized": (TOPIC + "PT-01", b" " * 20_000),
        "malformed_json": (TOPIC + "PT-01", b"{"),
        "unsupported_version": (TOPIC + "PT-01", json.dumps({"schema_version": 0}).encode()),
    }
    for reason, (topic, payload) in cases.items():
        out = v.check(topic, payload, received=NOW)
        assert out.accepted is None
        assert [d.reason for d in out.letters] == [reason]
        assert json.loads(out.letters[0].to_json())["reason"] == reason
    good = v.check(TOPIC + "PT-01", ok, received=NOW)
    assert good.accepted is not None and good.accepted.value[0] == 1e6  # 1 MPa in Pa


reading = st.tuples(
    st.integers(0, 30),  # sequence (repeats allowed: duplicates)
    st.one_of(st.floats(-50.0, 900.0), st.just(float("nan"))),  # degC; range 0..700
    st.floats(-3 * 3600.0, 600.0),  # time offset from NOW: future and backwards cases
)


@settings(max_examples=80)
@given(readings=st.lists(reading, min_size=1, max_size=40))
def test_scalar_fast_path_agrees_with_the_batch_path(
    readings: list[tuple[int, float, float]],
) -> None:
    # Two implementations of the same rules: one message per reading (scalar path)
    # against one batched message (vectorised path).
    one_by_one, batched = _validator(), _validator()
    accepted: list[int] = []
    reasons: dict[str, int] = {}
    duplicates = 0
    for seq, value, dt in readings:
        out = one_by_one.check(
            TOPIC + "TC-fluid-01",
            encode_reading(time=NOW + dt, value=value, unit="degC", sequence=seq),
            received=NOW,
        )
        duplicates += out.duplicates
        if out.accepted is not None:
            accepted += out.accepted.sequence.tolist()
        for d in out.letters:
            reasons[d.reason] = reasons.get(d.reason, 0) + d.readings
    seqs, values, dts = zip(*readings, strict=True)
    out = batched.check(
        TOPIC + "TC-fluid-01",
        encode_batch(time=[NOW + d for d in dts], value=values, unit="degC", sequence=seqs),
        received=NOW,
    )
    got = out.accepted.sequence.tolist() if out.accepted is not None else []
    assert got == accepted
    assert {d.reason: d.readings for d in out.letters} == reasons
    assert out.duplicates == duplicates


@settings(max_examples=80)
@given(
    rounds=st.lists(
        st.lists(st.integers(0, 200), min_size=1, max_size=30),
        min_size=1,
        max_size=6,
    ),
    batched=st.booleans(),
)
def test_a_forgetting_tracker_never_accepts_a_reading_twice(
    rounds: list[list[int]], batched: bool
) -> None:
    # A tracker capped at 4 intervals forgets its lowest holes. Every reading is then
    # accepted once, a duplicate of an accepted one, or dead-lettered as
    # sequence_too_old (the only other outcome: time and value are valid here).
    cat = load_catalogue(DEMO)
    index = {sid: i for i, sid in enumerate(cat.ids)}
    v = Validator(cat, lambda s: index.get(s, -1), prefix="plant", max_intervals=4)
    accepted: list[int] = []
    duplicates = too_old = 0
    for batch in rounds:
        payloads = (
            [
                encode_batch(
                    time=[NOW] * len(batch), value=[1.0] * len(batch), unit="degC", sequence=batch
                )
            ]
            if batched
            else [encode_reading(time=NOW, value=1.0, unit="degC", sequence=q) for q in batch]
        )
        for payload in payloads:
            out = v.check(TOPIC + "TC-fluid-01", payload, received=NOW)
            if out.accepted is not None:
                accepted += out.accepted.sequence.tolist()
            duplicates += out.duplicates
            assert {d.reason for d in out.letters} <= {"sequence_too_old"}
            too_old += sum(d.readings for d in out.letters)
    assert len(accepted) == len(set(accepted))  # never a reading twice
    assert len(accepted) + duplicates + too_old == sum(len(b) for b in rounds)
    everything = {q for b in rounds for q in b}
    assert too_old or set(accepted) == everything


@settings(max_examples=80)
@given(
    batches=st.lists(st.lists(st.integers(0, 3000), max_size=80), max_size=20),
    probe=st.lists(st.integers(-5, 3005), max_size=200),
    cap=st.sampled_from([4, 16, 2**20]),
)
def test_capped_tracker_is_a_set_above_its_floor(
    batches: list[list[int]], probe: list[int], cap: int
) -> None:
    seen, reference = SeenSequences(max_intervals=cap), set()
    floors = []
    for batch in batches:
        if len(batch) == 1:
            seen.add_one(batch[0])  # the scalar path
        else:
            seen.add(np.array(batch, dtype=np.int64))
        reference.update(batch)
        floors.append(seen.floor)
        assert seen.intervals <= cap
    assert floors == sorted(floors)  # the floor only rises
    p = np.array(probe, dtype=np.int64)
    above = p >= seen.floor
    got = seen.contains(p)
    assert got[above].tolist() == [int(x) in reference for x in p[above]]
    assert seen.forgotten(p).tolist() == (~above).tolist()
    assert [seen.contains_one(int(x)) for x in p[above]] == got[above].tolist()
    if cap == 2**20:  # never forgets here: exactly the set, one interval per run
        assert seen.floor == 0
        assert seen.intervals == sum(1 for x in reference if x - 1 not in reference)
