"""Payload encode/decode: round trips (hypothesis) and the reason codes of bad payloads."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.errors import PayloadError
from sensors.schema import (
    MAX_SEQUENCE,
    QUALITY_CODES,
    decode_payload,
    encode_batch,
    encode_reading,
)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
seqs = st.integers(min_value=0, max_value=MAX_SEQUENCE)
quality = st.sampled_from(sorted(QUALITY_CODES))


@given(t=finite, v=finite, s=seqs, q=quality, unit=st.sampled_from(["degC", "K", "MPa", "bar"]))
def test_single_reading_round_trips_bit_for_bit(
    t: float, v: float, s: int, q: str, unit: str
) -> None:
    r = decode_payload(encode_reading(time=t, value=v, unit=unit, sequence=s, quality=q))
    assert (r.time[0], r.value[0], int(r.sequence[0]), r.unit) == (t, v, s, unit)
    assert r.quality[0] == QUALITY_CODES[q]


@settings(max_examples=50)
@given(data=st.lists(st.tuples(finite, finite, seqs, quality), min_size=1, max_size=300))
def test_batch_round_trips_bit_for_bit(data: list[tuple[float, float, int, str]]) -> None:
    t, v, s, q = (list(col) for col in zip(*data, strict=True))
    r = decode_payload(encode_batch(time=t, value=v, unit="K", sequence=s, quality=q))
    np.testing.assert_array_equal(r.time, t)
    np.testing.assert_array_equal(r.value, v)
    np.testing.assert_array_equal(r.sequence, s)
    np.testing.assert_array_equal(r.quality, [QUALITY_CODES[x] for x in q])
    # the reference decoder agrees on the values
    assert json.loads(encode_batch(time=t, value=v, unit="K", sequence=s))["value"] == v


def _payload(**fields: object) -> bytes:
    base: dict[str, object] = {
        "schema_version": 1,
        "time": 1.7e9,
        "value": 1.0,
        "unit": "K",
        "sequence": 1,
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b"[1, 2]", "schema"),
        (_payload(schema_version=2), "unsupported_version"),
        (_payload(schema_version=True), "unsupported_version"),
        (_payload(time="yesterday"), "schema"),
        (_payload(value="1.0"), "schema"),
        (_payload(value=True), "schema"),
        (_payload(sequence=-1), "schema"),
        (_payload(sequence=1.5), "schema"),
        (_payload(unit=...), "schema"),
        (_payload(quality="excellent"), "schema"),
        (_payload(time=[1.0, 2.0], value=[1.0], sequence=[1, 2]), "schema"),
        (_payload(time=[1.0, 2.0], value=[1.0, "x"], sequence=[1, 2]), "schema"),
        (_payload(time=[1.0, 2.0], value=[1.0, 2.0], sequence=[1, [2]]), "schema"),
        (_payload(time=[], value=[], sequence=[]), "schema"),
        (b" " * 2000, "oversized"),
    ],
)
def test_bad_payloads_raise_with_their_reason_code(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as info:
        decode_payload(payload, max_bytes=1000)
    assert info.value.reason == reason


def test_null_and_nan_values_decode_to_nan_for_validation_to_reject() -> None:
    assert np.isnan(decode_payload(_payload(value=None)).value[0])
    # Python's json writes NaN, which is not JSON; the lenient second pass reads it.
    assert np.isnan(decode_payload(_payload(value=float("nan"))).value[0])
    batch = decode_payload(_payload(time=[1.0, 2.0], value=[None, 3.0], sequence=[1, 2]))
    assert np.isnan(batch.value[0]) and batch.value[1] == 3.0


_GOOD = '{"schema_version": 1, "time": 1.7e9, "value": 1.0, "unit": "K", "sequence": 1}'
_BIG = "1" * 400  # a 400-digit integer: beyond float64 and beyond orjson's 64-bit ints


@pytest.mark.parametrize(
    ("payload", "reason", "field"),
    [
        (_GOOD.replace("1.0", _BIG).encode(), "schema", "value"),
        (_GOOD.replace("1.7e9", _BIG).encode(), "schema", "time"),
        (_GOOD.replace('"sequence": 1', f'"sequence": {_BIG}').encode(), "schema", "sequence"),
        (_payload(time=[1.0, 2.0], value=[None, 10**400], sequence=[1, 2]), "schema", "value[1]"),
        (_payload(time=[1.0, 2.0], value=[1.0, 2.0], sequence=[1, 10**400]), "schema", "sequence"),
        (_payload(sequence=2**63 - 1), "schema", "sequence"),
        (_payload(sequence=MAX_SEQUENCE + 1), "schema", "sequence"),
        (_payload(time=[1.0], value=[1.0], sequence=[MAX_SEQUENCE + 1]), "schema", "sequence"),
        (_GOOD.encode("utf-16"), "malformed_json", "payload"),  # with its BOM
        (_GOOD.encode("utf-16-le"), "malformed_json", "payload"),
        (_GOOD.encode("utf-32"), "malformed_json", "payload"),
        (b"\xef\xbb\xbf" + _GOOD.encode(), "malformed_json", "payload"),  # UTF-8 BOM
        (_GOOD.replace('"K"', '"K\xff"').encode("latin-1"), "malformed_json", "payload"),
        (_GOOD.replace('"K"', '"K\\udcff"').encode(), "malformed_json", "payload"),
        (
            _GOOD.replace("1.0", "NaN").replace('"K"', '"K\\udcff"').encode(),
            "malformed_json",
            "payload",
        ),
    ],
)
def test_huge_numbers_and_non_utf8_payloads_are_rejected_with_a_reason(
    payload: bytes, reason: str, field: str
) -> None:
    # RFC 8259 section 8.1: JSON exchanged between systems must be UTF-8, without a BOM.
    with pytest.raises(PayloadError) as info:
        decode_payload(payload)
    assert info.value.reason == reason
    assert str(info.value).startswith(f"{field}:")


def test_the_largest_sequence_number_decodes_exactly() -> None:
    r = decode_payload(_payload(sequence=MAX_SEQUENCE))
    assert int(r.sequence[0]) == MAX_SEQUENCE == 2**53 - 1
    b = decode_payload(_payload(time=[1.0], value=[1.0], sequence=[MAX_SEQUENCE]))
    assert int(b.sequence[0]) == MAX_SEQUENCE
