"""Read-side views of a sensor archive: a lazy xarray Dataset and a summary.

Both read only committed rows and take no lock (see :mod:`sensors.reader`).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from sensors.errors import ArchiveError
from sensors.reader import READING_COLUMNS, read_commit

__all__ = ["archive_info", "open_archive"]

_LETTER_COLUMNS = ("received", "reason", "sensor", "readings")


def open_archive(path: str | pathlib.Path, *, group: str | None = None) -> Any:
    """Open the committed part of a sensor archive as a lazy :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str or pathlib.Path
        Store directory.
    group : {None, "deadletter"}, optional
        None for the readings, ``"deadletter"`` for the dead-letter records.

    Returns
    -------
    xarray.Dataset
        Readings along dim ``reading`` with coordinate ``time`` (epoch s) and a
        ``sensor_id`` coordinate decoded from the sensor index; or dead letters
        along ``letter`` with ``reason_code`` decoded.
    """
    import dask.array as da
    import xarray as xr
    import zarr

    counts = read_commit(path)
    # Each array is cut to the committed length: during an append (or after a crash
    # in one) the arrays may differ in length beyond it.
    root: Any = zarr.open_group(path, mode="r", zarr_format=3)
    ids = np.asarray(list(root.attrs["sensors"]) + ["<unknown>"], dtype=object)

    def dataset(group: Any, names: Iterable[str], dim: str, n: int) -> Any:
        from_zarr: Any = da.from_zarr
        data = {name: (dim, from_zarr(group[name])[:n], dict(group[name].attrs)) for name in names}
        return xr.Dataset(data, attrs=dict(group.attrs))

    if group == "deadletter":
        ds = dataset(root["deadletter"], _LETTER_COLUMNS, "letter", counts["deadletter"]).load()
        reasons = np.asarray(list(ds.attrs["reasons"]), dtype=object)
        return ds.assign_coords(
            reason_code=("letter", reasons[ds["reason"].values]),
            sensor_id=("letter", ids[ds["sensor"].values]),
        )
    if group is not None:
        raise ArchiveError(f"group: must be None or 'deadletter', got {group!r}")
    ds = dataset(root, READING_COLUMNS, "reading", counts["readings"])
    sensor = np.asarray(ds["sensor"].values)
    return ds.set_coords("time").assign_coords(sensor_id=("reading", ids[sensor]))


def archive_info(path: str | pathlib.Path, *, gap_factor: float = 3.0) -> dict[str, Any]:
    """Summarise an archive: counts, time span, gaps and dead letters.

    A gap is an interval between consecutive readings of a sensor longer than
    ``gap_factor`` times its nominal period (``1 / rate_Hz``); missing sequence
    numbers are counted separately.

    Parameters
    ----------
    path : str or pathlib.Path
        Store directory.
    gap_factor : float, optional
        Gap threshold in nominal periods.

    Returns
    -------
    dict
        JSON-serialisable summary.
    """
    ds = open_archive(path)
    letters = open_archive(path, group="deadletter")
    rates = dict(ds.attrs["sensor_rate_Hz"])
    units = dict(ds.attrs["sensor_units"])
    time = np.asarray(ds["time"].values)
    sensor = np.asarray(ds["sensor"].values)
    seq = np.asarray(ds["sequence"].values)
    per_sensor: dict[str, Any] = {}
    for i, sid in enumerate(ds.attrs["sensors"]):
        mask = sensor == i
        n = int(mask.sum())
        entry: dict[str, Any] = {"readings": n, "unit": units.get(sid)}
        if n:
            t = np.sort(time[mask])
            s = np.unique(seq[mask])
            dt = np.diff(t)
            limit = gap_factor / float(rates.get(sid, 1.0))
            gaps = dt[dt > limit]
            entry.update(
                {
                    "first_time": float(t[0]),
                    "last_time": float(t[-1]),
                    "gaps": int(gaps.size),
                    "gap_total_s": float(gaps.sum()),
                    "largest_gap_s": float(gaps.max()) if gaps.size else 0.0,
                    # Python ints: an archive of an older release may hold 2**63 - 1.
                    "missing_sequences": int(s[-1]) - int(s[0]) + 1 - int(s.size),
                    "first_sequence": int(s[0]),
                    "last_sequence": int(s[-1]),
                    "duplicate_sequences": int(n - s.size),
                }
            )
        per_sensor[sid] = entry
    reasons = np.asarray(letters["reason_code"].values)
    counts = np.asarray(letters["readings"].values)
    dead: dict[str, dict[str, int]] = {}
    for r in sorted(set(reasons.tolist())):
        m = reasons == r
        dead[str(r)] = {"letters": int(m.sum()), "readings": int(counts[m].sum())}
    return {
        "component": ds.attrs["component"],
        "site": ds.attrs["site"],
        "readings": int(time.size),
        "first_time": float(time.min()) if time.size else None,
        "last_time": float(time.max()) if time.size else None,
        "sensors": per_sensor,
        "dead_letters": dead,
        "flushes": read_commit(path)["flushes"],
    }
