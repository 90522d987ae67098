"""Validation of incoming readings: the gate between MQTT and the archive.

Every message ends in exactly one of three places: its readings are accepted
(converted to SI, ready to archive), dropped as duplicates of a ``(sensor,
sequence)`` already seen, or dead-lettered with a machine-readable reason from
:data:`REASONS`. A batch may split: its good readings are accepted and each
reason among the bad ones yields one dead-letter record.

Checks, in order: size (``oversized``), JSON (``malformed_json``), schema version
(``unsupported_version``), fields (``schema``), topic (``bad_topic``), sensor
(``unknown_sensor``), unit (``unknown_unit``, ``unit_mismatch``); then per reading:
duplicate, ``non_finite`` value or time, ``out_of_range`` (the sensor's valid range,
SI), ``time_before_start`` (before ``earliest_time``, by default 2000-01-01 UTC: a
clock that was never set reports 1970), ``time_in_future`` (beyond
``future_tolerance`` after the receive time) and
``time_backwards`` (more than ``backwards_tolerance`` before the latest accepted
time of that sensor).
"""

from __future__ import annotations

import base64
import dataclasses
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from sensors.archive import ArchiveBatch
from sensors.catalogue import Catalogue
from sensors.dedupe import DEFAULT_MAX_INTERVALS, SeenSequences
from sensors.errors import PayloadError, UnitError
from sensors.schema import MAX_BATCH_READINGS, decode_payload
from sensors.units import ALLOWED_UNITS, si_coefficients

__all__ = [
    "DEFAULT_EARLIEST_TIME",
    "REASONS",
    "DeadLetter",
    "Outcome",
    "SeenSequences",
    "Validator",
]

#: Dead-letter reason codes (sorted; the archive stores their index).
REASONS: tuple[str, ...] = (
    "bad_topic",
    "internal_error",
    "malformed_json",
    "non_finite",
    "out_of_range",
    "oversized",
    "schema",
    "sequence_too_old",
    "time_backwards",
    "time_before_start",
    "time_in_future",
    "unit_mismatch",
    "unknown_sensor",
    "unknown_unit",
    "unsupported_version",
)
_REASON_INDEX = {r: i for i, r in enumerate(REASONS)}

# Codes of the batch path, in the order the rules are applied (0 is accepted).
_BATCH_CODES = {
    1: "non_finite",
    2: "out_of_range",
    3: "time_before_start",
    4: "time_in_future",
    5: "sequence_too_old",
    6: "time_backwards",
}
_TOO_OLD, _BACKWARDS = 5, 6
_LETTER_ORDER = [5, 1, 2, 3, 4, 6]

#: Default lower bound of reading times: 2000-01-01T00:00:00Z, epoch s.
DEFAULT_EARLIEST_TIME = 946_684_800.0
_KNOWN_UNITS = frozenset(u for units in ALLOWED_UNITS.values() for u in units)


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message, or the readings of a batch rejected for one reason.

    Attributes
    ----------
    reason : str
        One of :data:`REASONS`.
    detail : str
        Human-readable explanation (field, rule, value).
    topic : str
        Topic the message came on.
    sensor : str or None
        Sensor id from the topic, None when the topic could not be parsed.
    readings : int
        Readings rejected (0 when the payload could not be decoded).
    received : float
        Receive time, epoch seconds.
    payload : bytes
        The whole offending payload (bounded by the payload limit; an oversized one
        is cut to that limit), kept in the archive for ``twin archive requeue``.
    """

    reason: str
    detail: str
    topic: str
    sensor: str | None
    readings: int
    received: float
    payload: bytes

    @property
    def reason_index(self) -> int:
        """Index of :attr:`reason` in :data:`REASONS`."""
        return _REASON_INDEX[self.reason]

    @property
    def excerpt(self) -> bytes:
        """The first 256 bytes of the payload (what the dead-letter topic carries)."""
        return self.payload[:256]

    def to_json(self) -> bytes:
        """Encode for the dead-letter topic (the payload's first 256 bytes, base64)."""
        return orjson.dumps(
            {
                "schema_version": 1,
                "reason": self.reason,
                "detail": self.detail,
                "topic": self.topic,
                "sensor": self.sensor,
                "readings": self.readings,
                "received": self.received,
                "payload_base64": base64.b64encode(self.excerpt).decode("ascii"),
            }
        )


@dataclasses.dataclass(slots=True)
class Outcome:
    """What became of one message.

    Attributes
    ----------
    accepted : ArchiveBatch or None
        Readings to archive (SI values).
    duplicates : int
        Readings dropped as already seen.
    letters : list of DeadLetter
        Dead letters, one per reason.
    """

    accepted: ArchiveBatch | None
    duplicates: int
    letters: list[DeadLetter]


class Validator:
    """Decode, check, deduplicate and convert the readings of one component.

    Parameters
    ----------
    catalogue : Catalogue
        The component's sensors.
    sensor_index : callable
        Maps a sensor id to its archive index.
    prefix : str
        Topic prefix; readings arrive on ``{prefix}/{site}/{component}/{sensor}``.
    max_payload_bytes : int
        Largest payload accepted, bytes.
    future_tolerance : float
        How far after the receive time a reading time may lie, s.
    backwards_tolerance : float
        How far before the latest accepted time of its sensor a reading may lie, s.
    max_readings : int, optional
        Most readings one payload may carry; a larger batch is ``oversized``.
    max_intervals : int, optional
        Cap of each sensor's duplicate tracker (:class:`~sensors.dedupe.SeenSequences`).
    earliest_time : float, optional
        Earliest reading time accepted, epoch s (e.g. the component's commissioning
        date); earlier readings are dead-lettered as ``time_before_start``.
    clock : callable, optional
        Returns "now", epoch s: the receive time when :meth:`check` is given none,
        and so the reference of ``time_in_future``. Pass the plant clock when time
        is accelerated or replayed, so such readings are not dead-lettered.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        sensor_index: Any,
        *,
        prefix: str,
        max_payload_bytes: int = 1_000_000,
        future_tolerance: float = 300.0,
        backwards_tolerance: float = 86_400.0,
        max_readings: int = MAX_BATCH_READINGS,
        max_intervals: int = DEFAULT_MAX_INTERVALS,
        earliest_time: float = DEFAULT_EARLIEST_TIME,
        clock: Callable[[], float] = _time.time,
    ) -> None:
        self.catalogue = catalogue
        self.clock = clock
        self.earliest_time = float(earliest_time)
        self.max_readings = int(max_readings)
        self.max_intervals = int(max_intervals)
        self._sensor_index = sensor_index
        self._topic_head = f"{prefix}/{catalogue.site}/{catalogue.component}/"
        self.max_payload_bytes = max_payload_bytes
        self.future_tolerance = future_tolerance
        self.backwards_tolerance = backwards_tolerance
        self._seen: dict[int, SeenSequences] = {}
        self._latest: dict[int, float] = {}

    def restore(
        self,
        committed: tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.float64]],
    ) -> None:
        """Rebuild dedupe and latest-time state from archived ``(sensor, sequence, time)``."""
        sensor, sequence, time = committed
        for idx in np.unique(sensor):
            mask = sensor == idx
            seen = self._seen.setdefault(int(idx), SeenSequences(max_intervals=self.max_intervals))
            seen.add(sequence[mask])
            latest = max(self._latest.get(int(idx), -np.inf), float(time[mask].max()))
            self._latest[int(idx)] = latest

    def _letter(
        self,
        reason: str,
        detail: str,
        topic: str,
        sensor: str | None,
        readings: int,
        received: float,
        payload: bytes,
    ) -> DeadLetter:
        # The whole payload, bounded by the limit (an oversized one is cut to it).
        return DeadLetter(
            reason,
            detail,
            topic,
            sensor,
            readings,
            received,
            bytes(payload[: self.max_payload_bytes]),
        )

    def check(self, topic: str, payload: bytes, *, received: float | None = None) -> Outcome:
        """Validate one message.

        Parameters
        ----------
        topic : str
            Topic the message came on.
        payload : bytes
            Message payload.
        received : float or None, optional
            Receive time, epoch seconds (the reference for ``time_in_future``);
            ``clock()`` when None.

        Returns
        -------
        Outcome
            Accepted readings, duplicates dropped and dead letters.
        """
        if received is None:
            received = float(self.clock())
        sensor_id = topic[len(self._topic_head) :] if topic.startswith(self._topic_head) else None
        if sensor_id is None or "/" in sensor_id or not sensor_id:
            return Outcome(
                None,
                0,
                [
                    self._letter(
                        "bad_topic",
                        f"topic: must be {self._topic_head}<sensor>, got {topic!r}",
                        topic,
                        None,
                        0,
                        received,
                        payload,
                    )
                ],
            )
        try:
            readings = decode_payload(
                payload, max_bytes=self.max_payload_bytes, max_readings=self.max_readings
            )
        except PayloadError as err:
            return Outcome(
                None,
                0,
                [self._letter(err.reason, str(err), topic, sensor_id, 0, received, payload)],
            )
        n = len(readings)
        sensor = self.catalogue.get(sensor_id)
        if sensor is None:
            return Outcome(
                None,
                0,
                [
                    self._letter(
                        "unknown_sensor",
                        f"sensor: {sensor_id!r} is not in the catalogue of "
                        f"{self.catalogue.component!r}; add it to the config",
                        topic,
                        sensor_id,
                        n,
                        received,
                        payload,
                    )
                ],
            )
        try:
            scale, offset = si_coefficients(readings.unit, sensor.quantity)
        except UnitError as err:
            reason = "unit_mismatch" if readings.unit in _KNOWN_UNITS else "unknown_unit"
            return Outcome(
                None, 0, [self._letter(reason, str(err), topic, sensor_id, n, received, payload)]
            )
        index = self._sensor_index(sensor_id)
        seen = self._seen.setdefault(index, SeenSequences(max_intervals=self.max_intervals))
        if n == 1:
            return self._check_one(
                readings, sensor, index, seen, scale, offset, topic, payload, received
            )
        return self._check_batch(
            readings, sensor, index, seen, scale, offset, topic, payload, received
        )

    def _check_batch(
        self,
        readings: Any,
        sensor: Any,
        index: int,
        seen: SeenSequences,
        scale: float,
        offset: float,
        topic: str,
        payload: bytes,
        received: float,
    ) -> Outcome:
        # Vectorised twin of _check_one, reading by reading in payload order: a
        # reading is a duplicate if its sequence number was accepted before (also
        # earlier in this batch), then the rules of _BATCH_CODES apply in order.
        n = len(readings)
        seq = readings.sequence
        value = readings.value * scale + offset
        t = readings.time
        code = np.zeros(n, dtype=np.int8)  # 0 accepted, -1 duplicate, else _BATCH_CODES
        static = [
            ~(np.isfinite(value) & np.isfinite(t)),
            (value < sensor.valid_min) | (value > sensor.valid_max),
            t < self.earliest_time,
            t > received + self.future_tolerance,
        ]
        for k in range(len(static), 0, -1):  # the first rule that fails names the reason
            code[static[k - 1]] = k
        code[seen.forgotten(seq)] = _TOO_OLD
        dup = seen.contains(seq)
        code[dup] = -1
        latest = self._latest.get(index, -np.inf)
        tolerance = self.backwards_tolerance
        if np.unique(seq).size == n:
            cand = code == 0
            # A rejected reading never raises the running maximum (its time is below
            # it), so the maximum over all candidates equals the sequential one.
            prior = np.maximum.accumulate(np.where(cand, t, -np.inf))
            prior = np.maximum(np.r_[latest, prior[:-1]], latest)
            code[cand & (t < prior - tolerance)] = _BACKWARDS
        else:
            # Repeated sequence numbers: whether a repeat is a duplicate depends on
            # whether an earlier one was accepted. One linear pass over plain lists.
            taken: set[int] = set()
            codes = code.tolist()
            for i, (s_i, t_i) in enumerate(zip(seq.tolist(), t.tolist(), strict=True)):
                if codes[i] == -1 or s_i in taken:
                    codes[i] = -1
                elif codes[i] == 0:
                    if t_i < latest - tolerance:
                        codes[i] = _BACKWARDS
                    else:
                        taken.add(s_i)
                        latest = max(latest, t_i)
            code = np.asarray(codes, dtype=np.int8)
        letters: list[DeadLetter] = []
        for k in sorted(set(np.unique(code).tolist()) - {0, -1}, key=_LETTER_ORDER.index):
            count = int((code == k).sum())
            reason = _BATCH_CODES[k]
            letters.append(
                self._letter(
                    reason,
                    f"{self._rule(reason, sensor, received, seen)} ({count} of {n} readings)",
                    topic,
                    sensor.id,
                    count,
                    received,
                    payload,
                )
            )
        duplicates = int((code == -1).sum())
        keep = code == 0
        if not keep.any():
            return Outcome(None, duplicates, letters)
        seen.add(seq[keep])
        self._latest[index] = max(self._latest.get(index, -np.inf), float(t[keep].max()))
        accepted = ArchiveBatch(
            t[keep],
            np.full(int(keep.sum()), index, dtype=np.int32),
            value[keep],
            readings.quality[keep],
            seq[keep],
        )
        return Outcome(accepted, duplicates, letters)

    def _check_one(
        self,
        readings: Any,
        sensor: Any,
        index: int,
        seen: SeenSequences,
        scale: float,
        offset: float,
        topic: str,
        payload: bytes,
        received: float,
    ) -> Outcome:
        # Scalar twin of the batch path in check(): same rules, same order.
        seq = int(readings.sequence[0])
        if seen.contains_one(seq):
            return Outcome(None, 1, [])
        too_old = seq < seen.floor
        value = float(readings.value[0]) * scale + offset
        t = float(readings.time[0])
        reason = ""
        latest = self._latest.get(index, -np.inf)
        if too_old:
            reason = "sequence_too_old"
        elif not (np.isfinite(value) and np.isfinite(t)):
            reason = "non_finite"
        elif not sensor.valid_min <= value <= sensor.valid_max:
            reason = "out_of_range"
        elif t < self.earliest_time:
            reason = "time_before_start"
        elif t > received + self.future_tolerance:
            reason = "time_in_future"
        elif t < latest - self.backwards_tolerance:
            reason = "time_backwards"
        if reason:
            return Outcome(
                None,
                0,
                [
                    self._letter(
                        reason,
                        f"{self._rule(reason, sensor, received, seen)} (1 of 1 readings)",
                        topic,
                        sensor.id,
                        1,
                        received,
                        payload,
                    )
                ],
            )
        seen.add_one(seq)
        if t > latest:
            self._latest[index] = t
        accepted = ArchiveBatch(
            readings.time,
            np.array([index], dtype=np.int32),
            np.array([value]),
            readings.quality,
            readings.sequence,
        )
        return Outcome(accepted, 0, [])

    def _rule(self, reason: str, sensor: Any, received: float, seen: SeenSequences) -> str:
        """Return the rule a reading broke, for the dead letter (both paths use it)."""
        if reason == "sequence_too_old":
            return (
                f"sequence: at least {seen.floor}, the oldest number the duplicate tracker "
                "of this sensor still remembers (older ones cannot be told from "
                "redeliveries); requeue it with 'twin archive requeue'"
            )
        if reason == "non_finite":
            return "value/time: must be finite numbers"
        if reason == "out_of_range":
            return (
                f"value: must lie in [{sensor.valid_min:g}, {sensor.valid_max:g}] {sensor.si_unit}"
            )
        if reason == "time_before_start":
            return f"time: at or after the earliest time {self.earliest_time:.0f} (epoch s)"
        if reason == "time_in_future":
            return (
                f"time: at most {self.future_tolerance:g} s after the receive time {received:.3f}"
            )
        return f"time: at most {self.backwards_tolerance:g} s before the latest reading"
