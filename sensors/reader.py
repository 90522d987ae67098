"""Reading a sensor archive by commit offset, from any process, without the writer role.

The archive (:mod:`sensors.archive`) is an append-only log: its committed readings
are numbered 0, 1, ... in commit order, and ``_commit.json`` holds how many there
are. :class:`ArchiveReader` returns the rows ``[start, stop)`` of that log as a
:class:`CommittedReadings`, the same object the ingester hands to its ``on_durable``
hook, so a consumer in another process can tail an archive::

    reader = ArchiveReader("data/header-a.zarr")
    offset = checkpoint_offset
    while True:
        batch = reader.read(offset)          # everything committed since ``offset``
        consume(batch)
        offset = batch.stop

Only the zarr chunks that hold ``[start, stop)`` are read (a chunk is 65,536 rows),
never whole columns. Readers take no lock: the writer appends the arrays first and
replaces the commit marker last (atomically), and zarr writes each chunk file
atomically, so rows below the committed count never change under a reader.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import numpy as np
import numpy.typing as npt

from sensors.errors import ArchiveError

__all__ = [
    "COMMIT_FILE",
    "READING_COLUMNS",
    "ArchiveReader",
    "CommittedReadings",
    "committed_count",
    "read_commit",
    "read_readings",
    "read_time_ordered",
]

#: Name of the commit marker inside an archive store.
COMMIT_FILE = "_commit.json"

#: Reading columns of the archive and their dtypes.
READING_COLUMNS: dict[str, str] = {
    "time": "f8",
    "sensor": "i4",
    "value": "f8",
    "quality": "i1",
    "sequence": "i8",
    "received": "f8",
}


@dataclasses.dataclass(frozen=True, slots=True)
class CommittedReadings:
    """Readings ``[start, stop)`` of an archive's commit log; arrays of shape (n,).

    Attributes
    ----------
    start, stop : int
        Archive offsets: the committed reading count before and after these rows
        (``stop - start == len(self)``). A consumer that has seen everything up to
        ``stop`` resumes with ``read(stop)``.
    sensor_ids : tuple of str
        The archive's sensor list; ``sensor`` indexes it.
    sensor : numpy.ndarray of int32
        Sensor index per row.
    time : numpy.ndarray of float64
        Reading time, epoch seconds (UTC).
    value : numpy.ndarray of float64
        Value in the sensor's SI unit (K, Pa, 1, m).
    quality : numpy.ndarray of int8
        Quality code (0 good, 1 uncertain, 2 bad).
    sequence : numpy.ndarray of int64
        Per-sensor sequence number.
    received : numpy.ndarray of float64
        Commit time of the row's flush, epoch seconds, on the writer's clock.
    rows : numpy.ndarray of int64 or None
        Archive offset of each row when the rows are not in commit order (see
        :meth:`ArchiveReader.read_time_ordered`); None for ``start, ..., stop - 1``.
    """

    start: int
    stop: int
    sensor_ids: tuple[str, ...]
    sensor: npt.NDArray[np.int32]
    time: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.int8]
    sequence: npt.NDArray[np.int64]
    received: npt.NDArray[np.float64]
    rows: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def offset(self) -> npt.NDArray[np.int64]:
        """Archive offset of each row."""
        if self.rows is not None:
            return self.rows
        return np.arange(self.start, self.stop, dtype=np.int64)

    def time_ordered(self, *, sensor_id: str | None = None) -> CommittedReadings:
        """Return these rows sorted by time (ties in commit order), of one sensor or all.

        Parameters
        ----------
        sensor_id : str or None, optional
            Keep only this sensor's rows.

        Returns
        -------
        CommittedReadings
            Same ``start``/``stop``; :attr:`rows` gives each row's archive offset.
        """
        keep = np.arange(len(self))
        if sensor_id is not None:
            if sensor_id not in self.sensor_ids:
                raise ArchiveError(
                    f"sensor_id: {sensor_id!r} is not in this archive's sensors "
                    f"{list(self.sensor_ids)}"
                )
            keep = np.flatnonzero(self.sensor == self.sensor_ids.index(sensor_id))
        idx = keep[np.argsort(self.time[keep], kind="stable")]
        return CommittedReadings(
            start=self.start,
            stop=self.stop,
            sensor_ids=self.sensor_ids,
            sensor=self.sensor[idx],
            time=self.time[idx],
            value=self.value[idx],
            quality=self.quality[idx],
            sequence=self.sequence[idx],
            received=self.received[idx],
            rows=self.offset[idx],
        )

    @property
    def sensor_id(self) -> npt.NDArray[np.str_]:
        """Sensor id per row (str), decoded from :attr:`sensor`."""
        ids = np.asarray(self.sensor_ids, dtype=np.str_)
        if not ids.size:
            return np.empty(0, dtype=np.str_)
        return ids[self.sensor]


def read_commit(path: str | pathlib.Path) -> dict[str, int]:
    """Return the committed row counts ``{"readings": n, "deadletter": m, "flushes": k}``.

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory.

    Returns
    -------
    dict
        Committed counts.

    Raises
    ------
    ArchiveError
        If ``path`` holds no sensor archive, or its commit marker is unreadable.
    """
    marker = pathlib.Path(path) / COMMIT_FILE
    try:
        data: dict[str, int] = json.loads(marker.read_text())
    except FileNotFoundError as err:
        raise ArchiveError(
            f"archive: no sensor archive at {str(path)!r} ({COMMIT_FILE} missing)"
        ) from err
    except (OSError, ValueError) as err:
        raise ArchiveError(
            f"archive: cannot read the commit marker of {str(path)!r} ({err})"
        ) from err
    return data


def committed_count(path: str | pathlib.Path) -> int:
    """Return how many readings an archive has committed (its next offset).

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory.

    Returns
    -------
    int
        Committed readings.
    """
    return int(read_commit(path)["readings"])


def read_rows(
    group: Any, committed: int, sensor_ids: tuple[str, ...], start: int, stop: int | None
) -> CommittedReadings:
    """Read rows ``[start, min(stop, committed))`` of an open zarr group (both roles use it).

    Parameters
    ----------
    group : zarr.Group
        The archive's root group.
    committed : int
        Committed readings.
    sensor_ids : tuple of str
        The archive's sensor list.
    start : int
        First offset, 0 <= start <= committed.
    stop : int or None
        End offset (exclusive), clipped to ``committed``; None for ``committed``.

    Returns
    -------
    CommittedReadings
        The rows.

    Raises
    ------
    ArchiveError
        If ``start`` is negative or beyond the committed count, ``stop < start``, or
        a chunk cannot be read or decoded.
    """
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ArchiveError(f"start: must be an integer offset >= 0, got {start!r}")
    if start > committed:
        raise ArchiveError(
            f"start: must be at most the committed count {committed}, got {start}; "
            "the archive holds fewer readings than this offset (was it replaced?)"
        )
    end = committed if stop is None else int(stop)
    if end < start:
        raise ArchiveError(f"stop: must be >= start={start}, got {stop!r}")
    end = min(end, committed)
    cols: dict[str, Any] = {}
    for name, dtype in READING_COLUMNS.items():
        try:
            cols[name] = np.asarray(group[name][start:end], dtype=dtype)
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            raise ArchiveError(
                f"archive: cannot read rows [{start}, {end}) of column {name!r} "
                f"({type(err).__name__}: {err}); the store is damaged"
            ) from err
    return CommittedReadings(start=int(start), stop=end, sensor_ids=sensor_ids, **cols)


class ArchiveReader:
    """Lock-free reader of an archive's committed readings by offset.

    Safe while a writer (``twin ingest``) appends to the same archive, from this or
    another process; it never takes the writer role. Each :meth:`read` re-reads the
    commit marker and the array metadata, so it sees every commit made since.

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory.

    Raises
    ------
    ArchiveError
        If ``path`` holds no sensor archive.
    """

    def __init__(self, path: str | pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        read_commit(self.path)  # fail early on a path that is not an archive

    def committed_count(self) -> int:
        """Return the committed readings (the offset the next commit starts at)."""
        return committed_count(self.path)

    def read(self, start: int = 0, stop: int | None = None) -> CommittedReadings:
        """Return the committed readings ``[start, stop)`` (``stop`` clipped to the count).

        Parameters
        ----------
        start : int, optional
            First offset (0 <= start <= committed count).
        stop : int or None, optional
            End offset, exclusive; None (or beyond the count) for all committed.

        Returns
        -------
        CommittedReadings
            The rows, in commit order; empty when nothing new is committed.
        """
        import zarr

        # The commit marker first, then the metadata: a writer updates the sensor
        # list before it commits rows that use a new sensor.
        n = committed_count(self.path)
        group: Any = zarr.open_group(self.path, mode="r", zarr_format=3)
        ids = tuple(str(s) for s in group.attrs["sensors"])
        return read_rows(group, n, ids, start, stop)


def read_time_ordered(
    path: str | pathlib.Path,
    start: int = 0,
    stop: int | None = None,
    *,
    sensor_id: str | None = None,
) -> CommittedReadings:
    """Return the committed readings ``[start, stop)`` sorted by time.

    The archive stores readings in arrival order: a reading may arrive after a
    later-stamped one of its sensor (by up to the ingester's ``backwards_tolerance``,
    1 day by default) and then sits after it. This reader sorts them (stable: equal
    times stay in commit order). Sorting is within ``[start, stop)``: a consumer that
    tails the archive in time order keeps a lateness window of its own.

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory.
    start, stop : int, optional
        Offsets, as for :func:`read_readings`.
    sensor_id : str or None, optional
        Only this sensor's readings.

    Returns
    -------
    CommittedReadings
        Rows in time order; ``rows`` holds each one's archive offset.
    """
    return ArchiveReader(path).read(start, stop).time_ordered(sensor_id=sensor_id)


def read_readings(
    path: str | pathlib.Path, start: int = 0, stop: int | None = None
) -> CommittedReadings:
    """Return the committed readings ``[start, stop)`` of the archive at ``path``.

    Shorthand for ``ArchiveReader(path).read(start, stop)``.

    Parameters
    ----------
    path : str or pathlib.Path
        Archive store directory.
    start : int, optional
        First offset.
    stop : int or None, optional
        End offset, exclusive, clipped to the committed count.

    Returns
    -------
    CommittedReadings
        The rows.
    """
    return ArchiveReader(path).read(start, stop)
