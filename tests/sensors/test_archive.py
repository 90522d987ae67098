"""The zarr archive: commit marker, crash recovery, readers while writing, info."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import zarr

from sensors.archive import (
    Archive,
    ArchiveBatch,
    DeadLetterBatch,
    archive_info,
    open_archive,
    read_commit,
)
from sensors.catalogue import load_catalogue
from sensors.errors import ArchiveError
from sensors.validation import REASONS

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"


def _batch(sensor: int, seq: np.ndarray, t0: float, dt: float) -> ArchiveBatch:
    n = seq.size
    return ArchiveBatch(
        t0 + dt * seq.astype(float),
        np.full(n, sensor, dtype=np.int32),
        seq.astype(float) * 10.0,
        np.zeros(n, dtype=np.int8),
        seq.astype(np.int64),
    )


def test_uncommitted_tail_is_invisible_and_cut_by_the_next_writer(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    path = tmp_path / "a.zarr"
    arch = Archive(path, cat, reasons=REASONS)
    arch.append(_batch(0, np.arange(100), 1.7e9, 1.0))
    # a crash after appending some arrays but before the commit marker
    group = zarr.open_group(path, mode="r+")
    group["time"].append(np.arange(7.0))
    group["value"].append(np.arange(7.0))
    ds = open_archive(path)  # a reader sees the committed rows only
    assert ds.sizes["reading"] == 100
    arch.close()  # the crashed writer's lock is gone (the kernel drops it with the process)
    arch2 = Archive(path, cat, reasons=REASONS)
    assert arch2.n_readings == 100 and zarr.open_group(path)["time"].shape == (100,)
    arch2.append(_batch(1, np.arange(5), 1.7e9, 1.0))
    ds = open_archive(path).load()
    assert ds.sizes["reading"] == 105
    assert ds["sequence"].values.tolist() == list(range(100)) + list(range(5))
    assert ds["sensor_id"].values[-1] == cat.ids[1]
    assert read_commit(path) == {
        "readings": 105,
        "deadletter": 0,
        "flushes": 2,
        "deadletter_bytes": 0,
        "requeued": 0,
    }
    sensor, seq, time = arch2.committed(tail=7)  # the dedupe state of a bounded restart
    assert seq.tolist() == [98, 99, 0, 1, 2, 3, 4] and sensor.tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert arch2.committed()[1].size == 105


def test_archive_of_another_component_is_refused(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    Archive(tmp_path / "a.zarr", cat, reasons=REASONS)
    other = type(cat)("header-b", cat.site, cat.sensors)
    with pytest.raises(ArchiveError, match="belongs to component 'header-a'"):
        Archive(tmp_path / "a.zarr", other, reasons=REASONS)


def test_info_counts_gaps_missing_sequences_and_dead_letters(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)  # TC-fluid-01 at 1 Hz: a gap is > 3 s
    path = tmp_path / "a.zarr"
    arch = Archive(path, cat, reasons=REASONS)
    seq = np.r_[0:50, 60:100]  # 10 missing readings: one 11 s gap
    arch.append(_batch(0, seq, 1.7e9, 1.0))
    arch.append(
        _batch(2, np.arange(20), 1.7e9, 1.0),
        DeadLetterBatch(
            np.full(3, 1.7e9),
            np.array(
                [REASONS.index("out_of_range")] * 2 + [REASONS.index("malformed_json")],
                dtype=np.int16,
            ),
            np.array([0, 0, -1], dtype=np.int32),
            np.array([4, 1, 0]),
        ),
    )
    info = archive_info(path)
    tc = info["sensors"]["TC-fluid-01"]
    assert (tc["readings"], tc["gaps"], tc["missing_sequences"]) == (90, 1, 10)
    assert tc["largest_gap_s"] == pytest.approx(11.0)
    assert info["sensors"]["PT-01"]["gaps"] == 0
    assert info["readings"] == 110 and info["first_time"] == 1.7e9
    assert info["dead_letters"] == {
        "malformed_json": {"letters": 1, "readings": 0},
        "out_of_range": {"letters": 2, "readings": 5},
    }


def test_info_is_exact_and_readable_with_a_huge_sequence_gap(tmp_path: pathlib.Path) -> None:
    from click.testing import CliRunner

    from twin.cli import main

    cat = load_catalogue(DEMO)
    path = tmp_path / "a.zarr"
    with Archive(path, cat, reasons=REASONS) as arch:
        # an archive written before sequence numbers were bounded: 2**63 - 1 after 0..9
        seq = np.r_[np.arange(10), 2**63 - 1]
        arch.append(
            ArchiveBatch(
                1.7e9 + np.arange(11.0),
                np.zeros(11, dtype=np.int32),
                np.full(11, 300.0),
                np.zeros(11, dtype=np.int8),
                seq.astype(np.int64),
            )
        )
        arch.append(_batch(1, np.arange(123_456_789, 123_456_800), 1.7e9, 1.0))
    tc = archive_info(path)["sensors"]["TC-fluid-01"]
    assert tc["missing_sequences"] == 2**63 - 1 + 1 - 11  # Python ints: exact
    assert tc["last_sequence"] == 2**63 - 1
    out = CliRunner().invoke(main, ["archive", "info", str(path)])
    assert out.exit_code == 0, out.output
    rows = {line.split()[0]: line.split() for line in out.output.splitlines()[2:7]}
    # six columns, each separated: sensor unit readings gaps largest-gap missing
    assert rows["TC-fluid-01"] == ["TC-fluid-01", "K", "11", "0", "0.0", str(2**63 - 11)]
    assert rows["TC-outer-01"] == ["TC-outer-01", "K", "11", "0", "0.0", "0"]
