"""The sensor archive: an append-only zarr v3 store per component, read with xarray.

Layout of one store (a directory)::

    <store>/zarr.json             group attrs: component, site, sensor ids, units, rates
    <store>/{time,sensor,value,quality,sequence,received}   1-D arrays, dim "reading"
    <store>/deadletter/...        1-D arrays, dim "letter": received, reason, sensor,
                                  readings, data_offset, topic_bytes, payload_bytes
    <store>/deadletter/data       uint8, dim "byte": each dead letter's topic and whole
                                  payload (letters of one message share one copy)
    <store>/requeue/{letter,time} letters requeued by ``twin archive requeue``
    <store>/_commit.json          committed lengths, replaced atomically after each append

Rows are appended in whole flushes (thousands of readings), never rewritten: zarr
re-encodes the last, partly filled chunk of each array on append, but a committed
row keeps its value. A flush first appends every array, then replaces
``_commit.json`` (write to a temporary file, fsync, rename). Readers see only the
committed rows, so the store is readable while it is being written; a writer that
crashed between the two steps leaves an uncommitted tail, which the next writer cuts
off before appending. Values are SI (K, Pa, 1, m); ``time`` and ``received`` are
epoch seconds (UTC).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from sensors.catalogue import Catalogue
from sensors.errors import ArchiveError, StorageError
from sensors.lock import DirectoryLock
from sensors.reader import COMMIT_FILE, CommittedReadings, read_commit, read_rows
from sensors.summary import archive_info, open_archive

__all__ = [
    "ARCHIVE_SCHEMA_VERSION",
    "Archive",
    "ArchiveBatch",
    "DeadLetterBatch",
    "archive_info",
    "open_archive",
    "read_commit",
]

ARCHIVE_SCHEMA_VERSION = 1
_COMMIT = COMMIT_FILE
_CHUNK_ROWS = 65_536  # a flush re-encodes the last partial chunk: keep it small
_READING_VARS: dict[str, tuple[str, dict[str, str]]] = {
    "time": ("f8", {"units": "s", "long_name": "reading time, seconds since 1970-01-01 UTC"}),
    "sensor": ("i4", {"long_name": "index into attrs['sensors']"}),
    "value": ("f8", {"long_name": "value in the SI unit of the sensor (attrs['sensor_units'])"}),
    "quality": ("i1", {"long_name": "quality code: 0 good, 1 uncertain, 2 bad"}),
    "sequence": ("i8", {"long_name": "per-sensor sequence number"}),
    "received": (
        "f8",
        {"units": "s", "long_name": "archive commit time, seconds since 1970-01-01 UTC"},
    ),
}
_LETTER_VARS: dict[str, tuple[str, dict[str, str]]] = {
    "received": ("f8", {"units": "s", "long_name": "receive time, seconds since 1970-01-01 UTC"}),
    "reason": ("i2", {"long_name": "index into attrs['reasons']"}),
    "sensor": ("i4", {"long_name": "index into the root attrs['sensors'], -1 if unknown"}),
    "readings": ("i8", {"long_name": "number of readings the dead letter stands for"}),
    "data_offset": ("i8", {"long_name": "offset of topic + payload in data, -1 if not kept"}),
    "topic_bytes": ("i4", {"long_name": "length of the UTF-8 topic in data"}),
    "payload_bytes": ("i4", {"long_name": "length of the whole payload in data"}),
}
_DATA_CHUNK = 2**20
_REQUEUE_VARS: dict[str, tuple[str, dict[str, str]]] = {
    "letter": ("i8", {"long_name": "index of a dead letter whose readings were requeued"}),
    "time": ("f8", {"units": "s", "long_name": "requeue time, seconds since 1970-01-01 UTC"}),
}


@dataclasses.dataclass(frozen=True, slots=True)
class ArchiveBatch:
    """Readings to append, all arrays of shape (n,).

    Attributes
    ----------
    time : numpy.ndarray of float64
        Epoch seconds, UTC.
    sensor : numpy.ndarray of int32
        Index into the archive's sensor list (:attr:`Archive.sensor_ids`).
    value : numpy.ndarray of float64
        SI value.
    quality : numpy.ndarray of int8
        Quality code.
    sequence : numpy.ndarray of int64
        Per-sensor sequence number.
    """

    time: npt.NDArray[np.float64]
    sensor: npt.NDArray[np.int32]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.int8]
    sequence: npt.NDArray[np.int64]

    @staticmethod
    def concatenate(parts: list[ArchiveBatch]) -> ArchiveBatch:
        """Join batches end to end."""
        return ArchiveBatch(
            *(
                np.concatenate([getattr(p, f.name) for p in parts])
                for f in dataclasses.fields(ArchiveBatch)
            )
        )

    def __len__(self) -> int:
        return int(self.time.shape[0])


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetterBatch:
    """Dead-letter records to append, all arrays of shape (m,).

    Attributes
    ----------
    received : numpy.ndarray of float64
        Receive time, epoch seconds.
    reason : numpy.ndarray of int16
        Index into the archive's reason list (:meth:`Archive.reason_index`).
    sensor : numpy.ndarray of int32
        Sensor index, -1 when the sensor is unknown.
    readings : numpy.ndarray of int64
        Readings each record stands for.
    topic, payload : tuple of bytes or None
        The topic (UTF-8) and whole payload of each record's message, kept in the
        archive so that ``twin archive requeue`` can archive them later; equal
        (topic, payload) pairs in one append are stored once. None: not kept.
    """

    received: npt.NDArray[np.float64]
    reason: npt.NDArray[np.int16]
    sensor: npt.NDArray[np.int32]
    readings: npt.NDArray[np.int64]
    topic: tuple[bytes, ...] | None = None
    payload: tuple[bytes, ...] | None = None

    def __len__(self) -> int:
        return int(self.received.shape[0])


def _storage_message(path: pathlib.Path, err: OSError, *, opening: bool = False) -> str:
    cause = f"{err.strerror or err}" + (f" (errno {err.errno})" if err.errno else "")
    if opening:
        return (
            f"archive: cannot open {str(path)!r} for writing: {cause}; "
            "fix the path or its permissions"
        )
    return (
        f"archive: cannot write {str(path)!r}: {cause}; every reading committed before is "
        "durable and unacknowledged messages stay at the broker, so a restart after "
        "freeing space (or making it writable) archives them exactly once"
    )


def _write_commit(path: pathlib.Path, counts: dict[str, int]) -> None:
    tmp = path / f"{_COMMIT}.tmp"
    with open(tmp, "w") as fh:
        json.dump(counts, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path / _COMMIT)


class Archive:
    """Writer of one component's sensor archive (one writer at a time, enforced).

    The writer holds an exclusive OS lock on the store (:mod:`sensors.lock`) from
    construction until :meth:`close` (or the end of its process, however it ends);
    a second writer is refused with :class:`~sensors.errors.LockedError`. Readers
    (:class:`~sensors.reader.ArchiveReader`, :func:`open_archive`) take no lock.

    Parameters
    ----------
    path : str or pathlib.Path
        Store directory; created if missing.
    catalogue : Catalogue
        The component's sensors. An existing archive must belong to the same
        component; sensors new to it are added to its sensor list.
    reasons : sequence of str
        Dead-letter reason codes (stored so readers can decode them). An existing
        archive keeps its stored list and appends reasons new to it, so the indices
        of letters already written keep their meaning (:meth:`reason_index`).
    clock : callable, optional
        Returns the time (epoch s) stamped as ``received`` on each commit; the plant
        clock when time is accelerated or replayed.

    Raises
    ------
    LockedError
        If another writer holds the archive.
    ArchiveError
        If the store belongs to another component or a sensor changed its quantity.
    """

    def __init__(
        self,
        path: str | pathlib.Path,
        catalogue: Catalogue,
        *,
        reasons: tuple[str, ...],
        clock: Callable[[], float] = _time.time,
    ) -> None:
        import zarr

        self.path = pathlib.Path(path)
        self.catalogue = catalogue
        self.clock = clock
        self._failure: StorageError | None = None
        try:
            self._lock = DirectoryLock(self.path, role="archive writer").acquire()
        except OSError as err:
            raise StorageError(_storage_message(self.path, err, opening=True)) from err
        try:
            self._open(zarr, catalogue, reasons)
        except OSError as err:
            self._lock.release()
            raise StorageError(_storage_message(self.path, err, opening=True)) from err
        except BaseException:
            self._lock.release()
            raise

    def _open(self, zarr: Any, catalogue: Catalogue, reasons: tuple[str, ...]) -> None:
        path = self.path
        if (self.path / _COMMIT).exists():
            self._group: Any = zarr.open_group(self.path, mode="r+", zarr_format=3)
            attrs: dict[str, Any] = dict(self._group.attrs)
            if attrs.get("component") != catalogue.component or attrs.get("site") != catalogue.site:
                raise ArchiveError(
                    f"archive: {str(path)!r} belongs to component {attrs.get('component')!r} at "
                    f"site {attrs.get('site')!r}, not {catalogue.component!r} at "
                    f"{catalogue.site!r}; "
                    "use another archive path"
                )
            ids = list(attrs["sensors"])
            units, rates = dict(attrs["sensor_units"]), dict(attrs["sensor_rate_Hz"])
            for s in catalogue.sensors:
                if s.id not in ids:
                    ids.append(s.id)
                if s.id in units and units[s.id] != s.si_unit:
                    raise ArchiveError(
                        f"archive: sensor {s.id!r} was archived in {units[s.id]!r}, the config now "
                        f"says a {s.quantity} ({s.si_unit!r}); give the sensor a new id"
                    )
                units[s.id], rates[s.id] = s.si_unit, s.rate
            stored = [str(r) for r in attrs.get("reasons", [])]
            stored += [r for r in reasons if r not in stored]
            self._group.attrs.update(
                {
                    "sensors": ids,
                    "sensor_units": units,
                    "sensor_rate_Hz": rates,
                    "reasons": stored,
                }
            )
            self._counts = read_commit(self.path)
            self._letters: Any = self._group["deadletter"]
            self._letters.attrs["reasons"] = stored
            self._counts.setdefault("deadletter_bytes", 0)
            self._counts.setdefault("requeued", 0)
            self._create_missing(zarr)
            self._truncate_uncommitted()
        else:
            # mode "a", not "w": "w" would delete the lock file held above. A store
            # without a commit marker is a creation that crashed: its arrays are replaced.
            self._group = zarr.open_group(self.path, mode="a", zarr_format=3)
            self._group.attrs.update(
                {
                    "schema_version": ARCHIVE_SCHEMA_VERSION,
                    "component": catalogue.component,
                    "site": catalogue.site,
                    "sensors": list(catalogue.ids),
                    "sensor_units": {s.id: s.si_unit for s in catalogue.sensors},
                    "sensor_rate_Hz": {s.id: s.rate for s in catalogue.sensors},
                    "reasons": list(reasons),
                }
            )
            for name, (dtype, var_attrs) in _READING_VARS.items():
                arr = self._group.create_array(
                    name,
                    shape=(0,),
                    chunks=(_CHUNK_ROWS,),
                    dtype=dtype,
                    dimension_names=["reading"],
                    overwrite=True,
                )
                arr.attrs.update(var_attrs)
            self._letters = self._group.create_group("deadletter", overwrite=True)
            self._letters.attrs["reasons"] = list(reasons)
            self._counts = {
                "readings": 0,
                "deadletter": 0,
                "flushes": 0,
                "deadletter_bytes": 0,
                "requeued": 0,
            }
            self._create_missing(zarr)
            _write_commit(self.path, self._counts)
        self.sensor_ids: tuple[str, ...] = tuple(self._group.attrs["sensors"])
        self._index = {sid: i for i, sid in enumerate(self.sensor_ids)}
        self.reasons: tuple[str, ...] = tuple(self._group.attrs["reasons"])
        self._reason_index = {r: i for i, r in enumerate(self.reasons)}

    def _create_missing(self, zarr: Any) -> None:
        """Create the dead-letter and requeue arrays an archive lacks (older layouts)."""
        m = self._counts["deadletter"]
        fill = {"data_offset": -1, "topic_bytes": 0, "payload_bytes": 0}
        for name, (dtype, var_attrs) in _LETTER_VARS.items():
            if name not in self._letters:
                arr = self._letters.create_array(
                    name,
                    shape=(m,),
                    chunks=(65_536,),
                    dtype=dtype,
                    dimension_names=["letter"],
                    fill_value=fill.get(name, 0),
                )
                arr.attrs.update(var_attrs)
        if "data" not in self._letters:
            arr = self._letters.create_array(
                "data", shape=(0,), chunks=(_DATA_CHUNK,), dtype="u1", dimension_names=["byte"]
            )
            arr.attrs["long_name"] = "topics and whole payloads of the dead letters"
        if "requeue" not in self._group:
            group = self._group.create_group("requeue")
            for name, (dtype, var_attrs) in _REQUEUE_VARS.items():
                arr = group.create_array(
                    name, shape=(0,), chunks=(65_536,), dtype=dtype, dimension_names=["requeue"]
                )
                arr.attrs.update(var_attrs)

    def _truncate_uncommitted(self) -> None:
        for name in _READING_VARS:
            arr = self._group[name]
            if arr.shape[0] != self._counts["readings"]:
                arr.resize((self._counts["readings"],))
        for name in _LETTER_VARS:
            arr = self._letters[name]
            if arr.shape[0] != self._counts["deadletter"]:
                arr.resize((self._counts["deadletter"],))
        data = self._letters["data"]
        if data.shape[0] != self._counts["deadletter_bytes"]:
            data.resize((self._counts["deadletter_bytes"],))
        for name in _REQUEUE_VARS:
            arr = self._group["requeue"][name]
            if arr.shape[0] != self._counts["requeued"]:
                arr.resize((self._counts["requeued"],))

    @property
    def failure(self) -> StorageError | None:
        """The write failure that stopped this writer, None while it can append."""
        return self._failure

    def close(self) -> None:
        """Give up the writer role (release the lock); the object cannot append after it."""
        self._lock.release()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reason_index(self, reason: str) -> int:
        """Return the index this archive stores for a dead-letter reason code."""
        try:
            return self._reason_index[reason]
        except KeyError as err:
            raise ArchiveError(
                f"reason: {reason!r} is not one of this archive's reasons {list(self.reasons)}"
            ) from err

    def sensor_index(self, sensor_id: str) -> int:
        """Return the archive index of a sensor (-1 if unknown)."""
        return self._index.get(sensor_id, -1)

    @property
    def n_readings(self) -> int:
        """Committed readings."""
        return self._counts["readings"]

    def read(self, start: int = 0, stop: int | None = None) -> CommittedReadings:
        """Return the committed readings ``[start, stop)`` by archive offset.

        Reads only the chunks that hold those rows; ``stop`` beyond the committed
        count is clipped (another process uses :class:`sensors.reader.ArchiveReader`).

        Parameters
        ----------
        start : int, optional
            First offset (0 <= start <= :attr:`n_readings`).
        stop : int or None, optional
            End offset, exclusive; None for all committed readings.

        Returns
        -------
        CommittedReadings
            The rows in commit order.
        """
        return read_rows(self._group, self._counts["readings"], self.sensor_ids, start, stop)

    def committed(
        self, *, tail: int | None = None
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Return ``(sensor, sequence, time)`` of committed readings (for dedupe state).

        Parameters
        ----------
        tail : int or None, optional
            Only the last ``tail`` committed rows; all of them when None.

        Returns
        -------
        tuple of numpy.ndarray
            Sensor index, sequence number and time (epoch s) per row.
        """
        n = self._counts["readings"]
        first = 0 if tail is None else max(0, n - tail)
        return (
            np.asarray(self._group["sensor"][first:n]),
            np.asarray(self._group["sequence"][first:n]),
            np.asarray(self._group["time"][first:n]),
        )

    def append(
        self,
        readings: ArchiveBatch | None,
        letters: DeadLetterBatch | None = None,
        *,
        requeued: npt.NDArray[np.int64] | None = None,
    ) -> float:
        """Append readings, dead letters and requeue records, then commit them at once.

        Parameters
        ----------
        readings : ArchiveBatch or None
            Readings to append.
        letters : DeadLetterBatch or None, optional
            Dead-letter records to append (with their whole payloads when given).
        requeued : numpy.ndarray of int64 or None, optional
            Indices of dead letters whose readings this commit archives (requeue).

        Returns
        -------
        float
            Commit time, epoch seconds (the readings' ``received`` stamp).

        Raises
        ------
        StorageError
            If the store cannot be written (disk full, read-only, no permission).
            Nothing committed before is affected; this writer refuses further
            appends, and the next writer cuts the uncommitted tail.
        """
        if not self._lock.held:
            raise ArchiveError(
                f"archive: {str(self.path)!r} was closed by this writer; open a new Archive"
            )
        if self._failure is not None:
            raise self._failure  # half-appended arrays: only a new writer may go on
        try:
            return self._append(readings, letters, requeued)
        except OSError as err:
            self._failure = StorageError(_storage_message(self.path, err))
            raise self._failure from err

    def _append(
        self,
        readings: ArchiveBatch | None,
        letters: DeadLetterBatch | None,
        requeued: npt.NDArray[np.int64] | None,
    ) -> float:
        now = float(self.clock())
        counts = dict(self._counts)
        if readings is not None and len(readings):
            n = len(readings)
            columns = {f.name: getattr(readings, f.name) for f in dataclasses.fields(ArchiveBatch)}
            columns["received"] = np.full(n, now)
            for name, (dtype, _) in _READING_VARS.items():
                self._group[name].append(np.asarray(columns[name], dtype=dtype))
            counts["readings"] += n
        if letters is not None and len(letters):
            columns, blob = self._letter_columns(letters, counts["deadletter_bytes"])
            if blob:
                self._letters["data"].append(np.frombuffer(blob, dtype=np.uint8))
            for name, (dtype, _) in _LETTER_VARS.items():
                self._letters[name].append(np.asarray(columns[name], dtype=dtype))
            counts["deadletter"] += len(letters)
            counts["deadletter_bytes"] += len(blob)
        if requeued is not None and requeued.size:
            group = self._group["requeue"]
            group["letter"].append(np.asarray(requeued, dtype=np.int64))
            group["time"].append(np.full(requeued.size, now))
            counts["requeued"] += int(requeued.size)
        counts["flushes"] += 1
        _write_commit(self.path, counts)
        self._counts = counts
        return now

    @staticmethod
    def _letter_columns(letters: DeadLetterBatch, base: int) -> tuple[dict[str, Any], bytes]:
        m = len(letters)
        columns: dict[str, Any] = {
            "received": letters.received,
            "reason": letters.reason,
            "sensor": letters.sensor,
            "readings": letters.readings,
            "data_offset": np.full(m, -1, dtype=np.int64),
            "topic_bytes": np.zeros(m, dtype=np.int32),
            "payload_bytes": np.zeros(m, dtype=np.int32),
        }
        if letters.topic is None or letters.payload is None:
            return columns, b""
        parts: list[bytes] = []
        stored: dict[tuple[bytes, bytes], int] = {}  # one copy per distinct message
        size = 0
        for i, (topic, payload) in enumerate(zip(letters.topic, letters.payload, strict=True)):
            key = (topic, payload)
            if key not in stored:
                stored[key] = base + size
                parts += [topic, payload]
                size += len(topic) + len(payload)
            columns["data_offset"][i] = stored[key]
            columns["topic_bytes"][i] = len(topic)
            columns["payload_bytes"][i] = len(payload)
        return columns, b"".join(parts)
