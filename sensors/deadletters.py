"""Dead letters kept whole in the archive, and their requeue after a config change.

Every dead letter is recorded in the archive with its topic and whole payload
(bounded by the payload limit), so nothing is lost when a reading was refused for a
reason that a later config fixes: a sensor that was missing from the config, a
range that was too narrow, a unit not yet allowed. :func:`requeue` re-validates
the kept payloads against the current config and archives the readings that now
pass, exactly once:

* it takes the archive's writer lock (stop ``twin ingest`` first);
* readings already in the archive (by ``(sensor, sequence)``, checked exactly
  against all archived rows) are duplicates and are not archived again;
* a letter whose message now passes completely is recorded as requeued (in the same
  commit as its readings) and is not looked at again; a message that still fails in
  part keeps its letter, its passing readings are archived, and a later requeue
  finds them as duplicates.

The time rules apply as they do on ingest, with the letter's receive time as "now"
for ``time_in_future``; ``time_backwards`` compares with the sensor's newest
archived reading, so widen ``backwards_tolerance`` to requeue readings more than a
day older than that.
"""

from __future__ import annotations

import collections
import dataclasses
import pathlib
from typing import Any

import numpy as np

from sensors.archive import Archive, ArchiveBatch
from sensors.catalogue import Catalogue
from sensors.dedupe import DEFAULT_MAX_INTERVALS
from sensors.errors import ArchiveError
from sensors.reader import read_commit
from sensors.validation import DEFAULT_EARLIEST_TIME, REASONS, Validator

__all__ = ["DeadLetterRecord", "RequeueReport", "read_dead_letters", "requeue"]


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One dead letter as the archive holds it.

    Attributes
    ----------
    index : int
        Position in the archive's dead-letter log.
    received : float
        Receive time, epoch s.
    reason : str
        Reason code.
    sensor_id : str or None
        Sensor id from the topic when the archive knows it.
    readings : int
        Readings the letter stands for.
    topic : str or None
        Topic of the message (None when the archive predates whole payloads).
    payload : bytes or None
        The whole payload (None when not kept).
    data_offset : int
        Where topic and payload lie in the archive's dead-letter data (-1: not kept).
    requeued : bool
        Whether :func:`requeue` has archived this letter's readings.
    """

    index: int
    received: float
    reason: str
    sensor_id: str | None
    readings: int
    topic: str | None
    payload: bytes | None
    data_offset: int
    requeued: bool


@dataclasses.dataclass(slots=True)
class RequeueReport:
    """What :func:`requeue` did.

    Attributes
    ----------
    letters : int
        Dead letters looked at (after the reason filter).
    archived : int
        Readings archived by this requeue.
    duplicates : int
        Readings found already archived.
    requeued_letters : int
        Letters now recorded as requeued.
    already_requeued : int
        Letters skipped because an earlier requeue archived them.
    not_kept : int
        Letters without a kept payload (archives written before payloads were kept).
    still_failing : collections.Counter
        Readings that still fail, per reason.
    """

    letters: int = 0
    archived: int = 0
    duplicates: int = 0
    requeued_letters: int = 0
    already_requeued: int = 0
    not_kept: int = 0
    still_failing: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy."""
        out = dataclasses.asdict(self)
        out["still_failing"] = dict(self.still_failing)
        return out


def read_dead_letters(
    path: str | pathlib.Path, *, reasons: tuple[str, ...] | None = None
) -> list[DeadLetterRecord]:
    """Return the committed dead letters of an archive (lock-free, like every reader).

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory.
    reasons : tuple of str or None, optional
        Only letters with one of these reason codes.

    Returns
    -------
    list of DeadLetterRecord
        In the order they were recorded.
    """
    import zarr

    counts = read_commit(path)
    root: Any = zarr.open_group(path, mode="r", zarr_format=3)
    letters = root["deadletter"]
    m = int(counts["deadletter"])
    stored = [str(r) for r in letters.attrs["reasons"]]
    ids = [str(s) for s in root.attrs["sensors"]]
    if reasons is not None:
        unknown = sorted(set(reasons) - set(stored) - set(REASONS))
        if unknown:
            raise ArchiveError(f"reason: unknown reason code(s) {unknown}; choose from {stored}")
    cols = {
        name: np.asarray(letters[name][:m]) for name in ("received", "reason", "sensor", "readings")
    }
    if "data_offset" in letters:
        offset = np.asarray(letters["data_offset"][:m])
        topic_n = np.asarray(letters["topic_bytes"][:m])
        payload_n = np.asarray(letters["payload_bytes"][:m])
    else:
        offset, topic_n, payload_n = np.full(m, -1), np.zeros(m, int), np.zeros(m, int)
    done: set[int] = set()
    if "requeue" in root and counts.get("requeued", 0):
        done = set(np.asarray(root["requeue"]["letter"][: counts["requeued"]]).tolist())
    data = letters["data"] if "data" in letters else None
    out = []
    for i in range(m):
        reason = stored[int(cols["reason"][i])]
        if reasons is not None and reason not in reasons:
            continue
        topic: str | None = None
        payload: bytes | None = None
        if offset[i] >= 0 and data is not None:
            a, t, p = int(offset[i]), int(topic_n[i]), int(payload_n[i])
            blob = np.asarray(data[a : a + t + p], dtype=np.uint8).tobytes()
            topic, payload = blob[:t].decode("utf-8", "replace"), blob[t:]
        s = int(cols["sensor"][i])
        out.append(
            DeadLetterRecord(
                index=i,
                received=float(cols["received"][i]),
                reason=reason,
                sensor_id=ids[s] if 0 <= s < len(ids) else None,
                readings=int(cols["readings"][i]),
                topic=topic,
                payload=payload,
                data_offset=int(offset[i]),
                requeued=i in done,
            )
        )
    return out


def requeue(
    path: str | pathlib.Path,
    catalogue: Catalogue,
    *,
    reasons: tuple[str, ...] | None = None,
    prefix: str = "plant",
    max_payload_bytes: int = 1_000_000,
    future_tolerance: float = 300.0,
    backwards_tolerance: float = 86_400.0,
    earliest_time: float = DEFAULT_EARLIEST_TIME,
) -> RequeueReport:
    """Re-validate kept dead letters against ``catalogue`` and archive what now passes.

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory (its writer lock is taken for the duration).
    catalogue : Catalogue
        The current config's sensors.
    reasons : tuple of str or None, optional
        Only letters with these reason codes; all when None.
    prefix : str, optional
        Topic prefix the letters arrived under.
    max_payload_bytes, future_tolerance, backwards_tolerance, earliest_time
        The validation rules (as for :class:`~sensors.validation.Validator`).

    Returns
    -------
    RequeueReport
        Counts of what was archived, found again and still failing.

    Raises
    ------
    LockedError
        If ``twin ingest`` (or another writer) holds the archive.
    """
    read_commit(path)  # an existing archive only: never create one here
    report = RequeueReport()
    with Archive(path, catalogue, reasons=REASONS) as archive:
        letters = read_dead_letters(path, reasons=reasons)
        validator = Validator(
            catalogue,
            archive.sensor_index,
            prefix=prefix,
            max_payload_bytes=max_payload_bytes,
            future_tolerance=future_tolerance,
            backwards_tolerance=backwards_tolerance,
            earliest_time=earliest_time,
            # exact dedupe against every archived row: never forget a hole here
            max_intervals=max(DEFAULT_MAX_INTERVALS, archive.n_readings + 1024),
        )
        validator.restore(archive.committed())
        by_message: dict[int, list[DeadLetterRecord]] = {}
        for rec in letters:
            report.letters += 1
            if rec.requeued:
                report.already_requeued += 1
            elif rec.payload is None or rec.topic is None:
                report.not_kept += 1
            else:
                by_message.setdefault(rec.data_offset, []).append(rec)
        parts: list[ArchiveBatch] = []
        marked: list[int] = []
        for recs in by_message.values():
            first = recs[0]
            out = validator.check(first.topic or "", first.payload or b"", received=first.received)
            report.duplicates += out.duplicates
            if out.accepted is not None:
                parts.append(out.accepted)
                report.archived += len(out.accepted)
            for dl in out.letters:
                report.still_failing[dl.reason] += max(dl.readings, 1)
            if not out.letters:
                marked += [r.index for r in recs]
        if parts or marked:
            archive.append(
                ArchiveBatch.concatenate(parts) if parts else None,
                requeued=np.asarray(marked, dtype=np.int64),
            )
        report.requeued_letters = len(marked)
    return report
