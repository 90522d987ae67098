"""Reading payloads: the JSON schema, a fast decoder and the encoders.

A reading travels on ``{prefix}/{site}/{component}/{sensor}`` as UTF-8 JSON, in one
of two forms (:data:`PAYLOAD_JSON_SCHEMA` is the formal description):

single reading::

    {"schema_version": 1, "time": 1764052800.25, "value": 565.2, "unit": "degC",
     "quality": "good", "sequence": 42}

batched readings of one sensor (arrays of equal length, for high-rate sources)::

    {"schema_version": 1, "unit": "degC", "time": [1764052800.0, 1764052800.1],
     "value": [565.2, 565.3], "sequence": [42, 43], "quality": "good"}

``time`` is epoch seconds (UTC); ``sequence`` is an integer in
``[0, MAX_SEQUENCE]`` (2**53 - 1, exact in every JSON implementation), unique per
sensor, that makes redelivered readings recognisable; ``quality`` is one of
:data:`QUALITY_CODES` (default ``"good"``), a string or, in a batch, an array.
``value`` may be ``null`` (or ``NaN`` from lenient encoders): such a reading is
decoded as NaN and then dead-lettered by validation as ``non_finite``.

The payload must be UTF-8 without a byte-order mark; UTF-16/32, a BOM, invalid
UTF-8 bytes and lone surrogate escapes (``"\udcff"``) are ``malformed_json``. A
number outside the float64 range (a 400-digit integer) is a ``schema`` error.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from sensors.errors import PayloadError

__all__ = [
    "MAX_BATCH_READINGS",
    "MAX_SEQUENCE",
    "PAYLOAD_JSON_SCHEMA",
    "QUALITY_CODES",
    "SCHEMA_VERSION",
    "Readings",
    "decode_payload",
    "encode_batch",
    "encode_reading",
]

#: Version written into, and required in, every payload.
SCHEMA_VERSION = 1

#: Quality flags and the int8 codes stored in the archive.
QUALITY_CODES: dict[str, int] = {"good": 0, "uncertain": 1, "bad": 2}

#: Most readings one batched payload may carry (the ingester's default cap).
MAX_BATCH_READINGS = 100_000

#: Largest sequence number: 2**53 - 1, exact in float64 and in every JSON parser.
MAX_SEQUENCE = 2**53 - 1

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

_NUMBER = {"type": "number"}
PAYLOAD_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "materials-twin sensor reading payload",
    "description": "Topic {prefix}/{site}/{component}/{sensor}; time in epoch seconds UTC.",
    "oneOf": [
        {
            "title": "single reading",
            "type": "object",
            "required": ["schema_version", "time", "value", "unit", "sequence"],
            "properties": {
                "schema_version": {"const": SCHEMA_VERSION},
                "time": _NUMBER,
                "value": {"type": ["number", "null"]},
                "unit": {"type": "string"},
                "quality": {"enum": list(QUALITY_CODES)},
                "sequence": {"type": "integer", "minimum": 0, "maximum": MAX_SEQUENCE},
            },
        },
        {
            "title": "batched readings",
            "type": "object",
            "required": ["schema_version", "time", "value", "unit", "sequence"],
            "properties": {
                "schema_version": {"const": SCHEMA_VERSION},
                "time": {
                    "type": "array",
                    "items": _NUMBER,
                    "minItems": 1,
                    "maxItems": MAX_BATCH_READINGS,
                },
                "value": {"type": "array", "items": {"type": ["number", "null"]}},
                "unit": {"type": "string"},
                "quality": {
                    "oneOf": [
                        {"enum": list(QUALITY_CODES)},
                        {"type": "array", "items": {"enum": list(QUALITY_CODES)}},
                    ]
                },
                "sequence": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0, "maximum": MAX_SEQUENCE},
                },
            },
        },
    ],
}


@dataclasses.dataclass(frozen=True, slots=True)
class Readings:
    """Decoded readings of one payload, still in the payload's unit.

    Attributes
    ----------
    time : numpy.ndarray of float64, shape (n,)
        Epoch seconds, UTC.
    value : numpy.ndarray of float64, shape (n,)
        Values in ``unit`` (NaN where the payload had null/NaN).
    quality : numpy.ndarray of int8, shape (n,)
        Codes of :data:`QUALITY_CODES`.
    sequence : numpy.ndarray of int64, shape (n,)
        Per-sensor sequence numbers.
    unit : str
        Unit of ``value`` as written in the payload.
    """

    time: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.int8]
    sequence: npt.NDArray[np.int64]
    unit: str

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def take(self, mask: npt.NDArray[np.bool_]) -> Readings:
        """Return the readings where ``mask`` is true."""
        return Readings(
            self.time[mask], self.value[mask], self.quality[mask], self.sequence[mask], self.unit
        )


def _schema_error(field: str, rule: str, value: Any) -> PayloadError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return PayloadError("schema", f"{field}: {rule}, got {shown}")


def _asarray(raw: Any, field: str) -> npt.NDArray[Any]:
    try:
        return np.asarray(raw)
    except (ValueError, TypeError, OverflowError) as err:
        raise _schema_error(field, "must be a flat array", raw) from err


def _numbers(raw: list[Any], field: str, *, allow_null: bool) -> npt.NDArray[np.float64]:
    arr = _asarray(raw, field)
    if arr.ndim != 1:
        raise _schema_error(field, "must be a flat array of numbers", raw)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64, copy=False)
    if allow_null and arr.dtype.kind == "O":
        out = np.empty(len(raw), dtype=np.float64)
        for i, v in enumerate(raw):
            if v is None:
                out[i] = np.nan
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[i] = _as_float(v, f"{field}[{i}]")
            else:
                raise _schema_error(f"{field}[{i}]", "must be a number or null", v)
        return out
    raise _schema_error(field, "must be an array of numbers", raw)


def _as_float(v: float, field: str) -> float:
    try:
        return float(v)
    except OverflowError as err:
        raise _schema_error(field, "must be a number within the float64 range", v) from err


def _sequence(raw: Any, n: int) -> npt.NDArray[np.int64]:
    arr = _asarray(raw, "sequence")
    if arr.ndim != 1 or arr.shape[0] != n or arr.dtype.kind not in "iu":
        raise _schema_error(
            "sequence", f"must be an array of {n} integers in [0, {MAX_SEQUENCE}]", raw
        )
    if arr.size and int(arr.max()) > MAX_SEQUENCE:
        raise _schema_error("sequence", f"must be <= {MAX_SEQUENCE} (2**53 - 1)", int(arr.max()))
    out = arr.astype(np.int64, copy=False)
    if out.size and int(out.min()) < 0:
        raise _schema_error("sequence", "must be >= 0", int(out.min()))
    return out


def _quality(raw: Any, n: int) -> npt.NDArray[np.int8]:
    if isinstance(raw, str):
        if raw not in QUALITY_CODES:
            raise _schema_error("quality", f"must be one of {list(QUALITY_CODES)}", raw)
        return np.full(n, QUALITY_CODES[raw], dtype=np.int8)
    if isinstance(raw, list) and len(raw) == n:
        try:
            return np.fromiter((QUALITY_CODES[q] for q in raw), dtype=np.int8, count=n)
        except (KeyError, TypeError):
            pass
    raise _schema_error("quality", f"must be one of {list(QUALITY_CODES)} or an array of {n}", raw)


def _check_text(doc: Any, depth: int = 0) -> None:
    """Refuse strings that are not valid Unicode scalar values (lone surrogates)."""
    if isinstance(doc, str):
        doc.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
    elif isinstance(doc, dict):
        for k, v in doc.items():
            _check_text(k, depth + 1)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                _check_text(v, depth + 1)
    elif isinstance(doc, list) and depth < 2:
        for v in doc:
            if isinstance(v, (str, list, dict)):
                _check_text(v, depth + 1)


def _parse_json(payload: bytes) -> Any:
    if payload.startswith(_BOMS) or payload[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        raise PayloadError(
            "malformed_json",
            "payload: must be UTF-8 JSON without a byte-order mark, got a BOM "
            f"{payload[:4]!r}; encode as UTF-8",
        )
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    # Lenient second pass: encoders such as Python's json write NaN/Infinity, and
    # orjson refuses integers beyond 64 bits (judged by the schema below). Strict
    # UTF-8 only: json.loads(bytes) would also guess UTF-16/32.
    try:
        doc = json.loads(payload.decode("utf-8"))
        _check_text(doc)
    except (ValueError, RecursionError) as err:
        raise PayloadError("malformed_json", f"payload: not valid UTF-8 JSON ({err})") from err
    return doc


def decode_payload(
    payload: bytes, *, max_bytes: int = 4_000_000, max_readings: int = MAX_BATCH_READINGS
) -> Readings:
    """Decode a single or batched reading payload.

    Parameters
    ----------
    payload : bytes
        The MQTT message payload.
    max_bytes : int, optional
        Largest payload accepted, bytes.
    max_readings : int, optional
        Most readings a batch may carry (``oversized`` beyond it).

    Returns
    -------
    Readings
        The decoded readings (values still in the payload's unit).

    Raises
    ------
    PayloadError
        With ``reason`` one of ``oversized``, ``malformed_json``,
        ``unsupported_version``, ``schema``.
    """
    if len(payload) > max_bytes:
        raise PayloadError(
            "oversized", f"payload: at most {max_bytes} bytes, got {len(payload)}; split the batch"
        )
    doc = _parse_json(payload)
    if not isinstance(doc, dict):
        raise _schema_error("payload", "must be a JSON object", doc)
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise PayloadError(
            "unsupported_version",
            f"schema_version: must be {SCHEMA_VERSION}, got {version!r}; upgrade the publisher",
        )
    for key in ("time", "value", "unit", "sequence"):
        if key not in doc:
            raise _schema_error(key, "required field is missing", None)
    unit = doc["unit"]
    if not isinstance(unit, str):
        raise _schema_error("unit", "must be a string", unit)
    t, v, s = doc["time"], doc["value"], doc["sequence"]
    if isinstance(t, list):
        n = len(t)
        if n > max_readings:
            raise PayloadError(
                "oversized",
                f"time: a batch holds at most {max_readings} readings, got {n}; split the batch",
            )
        if n < 1:
            raise _schema_error("time", "a batch holds at least 1 reading", n)
        if not isinstance(v, list) or len(v) != n:
            raise _schema_error("value", f"must be an array of {n} numbers like 'time'", v)
        time = _numbers(t, "time", allow_null=False)
        value = _numbers(v, "value", allow_null=True)
        sequence = _sequence(s, n)
        quality = _quality(doc.get("quality", "good"), n)
        return Readings(time, value, quality, sequence, unit)
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise _schema_error("time", "must be a number (epoch seconds UTC)", t)
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise _schema_error("value", "must be a number or null", v)
    if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEQUENCE:
        raise _schema_error("sequence", f"must be an integer in [0, {MAX_SEQUENCE}]", s)
    t = _as_float(t, "time")
    v = None if v is None else _as_float(v, "value")
    quality_raw = doc.get("quality", "good")
    if not isinstance(quality_raw, str):
        raise _schema_error("quality", f"must be one of {list(QUALITY_CODES)}", quality_raw)
    return Readings(
        np.array([t], dtype=np.float64),
        np.array([np.nan if v is None else v], dtype=np.float64),
        _quality(quality_raw, 1),
        np.array([s], dtype=np.int64),
        unit,
    )


def encode_reading(
    *, time: float, value: float, unit: str, sequence: int, quality: str = "good"
) -> bytes:
    """Encode one reading as a single-reading payload.

    Parameters
    ----------
    time : float
        Epoch seconds, UTC.
    value : float
        Value in ``unit``.
    unit : str
        Unit of ``value``.
    sequence : int
        Per-sensor sequence number (>= 0).
    quality : str, optional
        One of :data:`QUALITY_CODES`.

    Returns
    -------
    bytes
        UTF-8 JSON.
    """
    return orjson.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "time": float(time),
            "value": float(value),
            "unit": unit,
            "quality": quality,
            "sequence": int(sequence),
        }
    )


def encode_batch(
    *,
    time: npt.ArrayLike,
    value: npt.ArrayLike,
    unit: str,
    sequence: npt.ArrayLike,
    quality: str | Sequence[str] = "good",
) -> bytes:
    """Encode readings of one sensor as a batched payload.

    Parameters
    ----------
    time : array_like of float, shape (n,)
        Epoch seconds, UTC.
    value : array_like of float, shape (n,)
        Values in ``unit``.
    unit : str
        Unit of ``value``.
    sequence : array_like of int, shape (n,)
        Per-sensor sequence numbers.
    quality : str or sequence of str, optional
        One flag for all readings, or one per reading.

    Returns
    -------
    bytes
        UTF-8 JSON.
    """
    doc = {
        "schema_version": SCHEMA_VERSION,
        "unit": unit,
        "time": np.ascontiguousarray(time, dtype=np.float64),
        "value": np.ascontiguousarray(value, dtype=np.float64),
        "sequence": np.ascontiguousarray(sequence, dtype=np.int64),
        "quality": quality if isinstance(quality, str) else list(quality),
    }
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
