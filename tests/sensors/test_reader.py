"""Reading an archive by commit offset: exact rows, clipping, chunk-local reads, tailing.

The reference is what the test appended: offsets count rows in commit order.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from sensors.archive import Archive, ArchiveBatch
from sensors.catalogue import load_catalogue
from sensors.errors import ArchiveError
from sensors.reader import ArchiveReader, committed_count, read_readings
from sensors.validation import REASONS

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sensors_demo.toml"
CHUNK = 65_536  # rows per zarr chunk of the archive (sensors/archive.py)


def _batch(sensor: int, seq: np.ndarray) -> ArchiveBatch:
    n = seq.size
    return ArchiveBatch(
        1.7e9 + seq.astype(float),
        np.full(n, sensor, dtype=np.int32),
        seq.astype(float) * 0.5,
        (seq % 3).astype(np.int8),
        seq.astype(np.int64),
    )


def test_read_returns_rows_by_offset_and_clips_stop(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    path = tmp_path / "a.zarr"
    arch = Archive(path, cat, reasons=REASONS, clock=lambda: 1.9e9)
    arch.append(_batch(0, np.arange(10)))
    arch.append(_batch(3, np.arange(100, 105)))
    got = arch.read(8, 12)
    assert (got.start, got.stop, len(got)) == (8, 12, 4)
    assert got.sequence.tolist() == [8, 9, 100, 101]
    assert got.sensor_id.tolist() == ["TC-fluid-01", "TC-fluid-01", "SG-outer-01", "SG-outer-01"]
    assert got.value.tolist() == [4.0, 4.5, 50.0, 50.5]
    assert got.quality.tolist() == [2, 0, 1, 2]
    assert got.received.tolist() == [1.9e9] * 4  # the injected clock stamps the commit
    # stop beyond the committed count is clipped; start == count is an empty tail
    tail = read_readings(path, 12, 10**9)
    assert (tail.start, tail.stop, tail.sequence.tolist()) == (12, 15, [102, 103, 104])
    empty = ArchiveReader(path).read(15)
    assert (empty.start, empty.stop, len(empty), empty.sensor_id.size) == (15, 15, 0, 0)
    assert committed_count(path) == 15 == arch.n_readings
    whole = arch.read()
    assert whole.sequence.tolist() == list(range(10)) + list(range(100, 105))
    with pytest.raises(ArchiveError, match="start: must be at most the committed count 15"):
        arch.read(16)
    with pytest.raises(ArchiveError, match="stop: must be >= start=5"):
        read_readings(path, 5, 4)
    with pytest.raises(ArchiveError, match="start: must be an integer offset >= 0, got -1"):
        read_readings(path, -1)
    with pytest.raises(ArchiveError, match="no sensor archive"):
        ArchiveReader(tmp_path / "missing.zarr")


def test_read_touches_only_the_chunks_that_hold_the_rows(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    path = tmp_path / "big.zarr"
    arch = Archive(path, cat, reasons=REASONS)
    n = 2 * CHUNK + 1_000  # three chunks per column
    arch.append(_batch(1, np.arange(n)))
    chunk0 = sorted(path.glob("*/c/0"))
    assert {p.parent.parent.name for p in chunk0} == {
        "time",
        "sensor",
        "value",
        "quality",
        "sequence",
        "received",
    }
    for p in chunk0:  # destroy the first chunk of every column
        p.write_bytes(b"not a zarr chunk")
    got = read_readings(path, CHUNK + 10, CHUNK + 20)  # lies in chunk 1 only
    assert got.sequence.tolist() == list(range(CHUNK + 10, CHUNK + 20))
    assert arch.read(2 * CHUNK, n).sequence[-1] == n - 1
    # reading chunk 0 now fails: proof that it was not read above
    with pytest.raises(ArchiveError, match=r"cannot read rows \[0, 10\) of column 'time'"):
        read_readings(path, 0, 10)


_TAIL = """
import json, sys, time
from sensors.reader import ArchiveReader
path, want = sys.argv[1], int(sys.argv[2])
reader, offset, seqs, spans = ArchiveReader(path), 0, [], []
deadline = time.monotonic() + 60
while offset < want and time.monotonic() < deadline:
    batch = reader.read(offset)
    if len(batch):
        spans.append([batch.start, batch.stop])
        seqs += batch.sequence.tolist()
    offset = batch.stop
    time.sleep(0.002)
print(json.dumps({"seqs": seqs, "spans": spans}))
"""


def test_another_process_tails_the_archive_while_it_is_written(tmp_path: pathlib.Path) -> None:
    cat = load_catalogue(DEMO)
    path = tmp_path / "tail.zarr"
    arch = Archive(path, cat, reasons=REASONS)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", _TAIL, str(path), "6000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for k in range(30):  # 30 commits of 200 rows while the reader tails
        arch.append(_batch(k % 5, np.arange(200 * k, 200 * (k + 1))))
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["seqs"] == list(range(6000))  # every row once, in commit order
    spans = result["spans"]
    assert spans[0][0] == 0 and spans[-1][1] == 6000
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))  # no hole
