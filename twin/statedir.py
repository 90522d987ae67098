"""The service's state directory of one component: checkpoints, journal, duty plan.

Layout (``STATE/{site}/{component}/``)::

    .writer.lock                         one service process per component (flock)
    checkpoints/{offset:016d}-{n:08d}/   a twin checkpoint (checkpoint.npz, .json) + core.json
    journal.jsonl                        acknowledgements and outside conditions, one a line
    duty_plan.json                       the duty plan and its version

A checkpoint is written into a temporary folder, every file fsynced, then the folder is
renamed to its final name and the parent fsynced: a crash leaves the old set of
checkpoints, or the old set plus a complete new one. The newest three are kept; on
start the newest one that reads back is restored (an unreadable one is skipped and
logged). A journal entry is appended and fsynced *before* it takes effect, and a torn
last line (a crash inside the write) is ignored, because it never took effect.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pathlib
import shutil
from collections.abc import Iterator
from typing import Any

from twin.errors import CheckpointError

__all__ = ["StateDir"]

_log = logging.getLogger(__name__)
_KEEP = 3


def _fsync_dir(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: pathlib.Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class StateDir:
    """Checkpoints, journal and duty plan of one component.

    Parameters
    ----------
    root : path
        The ``--state`` folder.
    site, component : str
        The component.
    """

    def __init__(self, root: str | pathlib.Path, site: str, component: str) -> None:
        self.path = pathlib.Path(root) / site / component
        self.checkpoints = self.path / "checkpoints"
        self.journal_path = self.path / "journal.jsonl"
        self.plan_path = self.path / "duty_plan.json"
        self._lock: Any = None

    def lock(self) -> None:
        """Take the writer lock (raises :class:`sensors.errors.LockedError` if held)."""
        from sensors.lock import DirectoryLock

        self._lock = DirectoryLock(self.path, role="twin serve").acquire()

    def release(self) -> None:
        """Release the writer lock."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ------------------------------------------------------------ checkpoints
    def write_checkpoint(self, core: Any) -> pathlib.Path:
        """Write the core's twin and state as a new checkpoint; return its folder."""
        name = f"{core.offset:016d}-{core.journal_applied:08d}"
        final = self.checkpoints / name
        if final.exists():
            return final  # the same state is already there
        tmp = self.checkpoints / f".tmp-{name}"
        try:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            if tmp.exists():
                shutil.rmtree(tmp)
            core.twin.checkpoint(tmp)
            _write_atomic(tmp / "core.json", json.dumps(core.state_dict(), sort_keys=True).encode())
            os.rename(tmp, final)
            _fsync_dir(self.checkpoints)
        except OSError as err:
            raise CheckpointError(
                f"checkpoint: cannot write {str(final)!r}: {err.strerror or err}; the previous "
                "checkpoints are intact"
            ) from err
        for old in self.list_checkpoints()[_KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def list_checkpoints(self) -> list[pathlib.Path]:
        """Complete checkpoint folders, newest first."""
        if not self.checkpoints.is_dir():
            return []
        names = [p for p in self.checkpoints.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return sorted(names, key=lambda p: p.name, reverse=True)

    def restore(self, build: Any) -> tuple[Any, pathlib.Path] | None:
        """Restore the newest readable checkpoint with ``build(path) -> core``.

        Returns
        -------
        tuple of (core, path) or None
            None when no checkpoint reads back (the caller starts from the archive's row 0).
        """
        for path in self.list_checkpoints():
            try:
                return build(path), path
            except (OSError, ValueError, KeyError) as err:
                _log.warning("checkpoint %s is unusable (%s); trying an older one", path, err)
        return None

    # ------------------------------------------------------------ journal
    def read_journal(self) -> list[dict[str, Any]]:
        """Every complete journal entry, in order (a torn last line is dropped)."""
        if not self.journal_path.exists():
            return []
        entries: list[dict[str, Any]] = []
        for i, line in enumerate(self.journal_path.read_bytes().split(b"\n")):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                _log.warning("journal %s: line %d is torn; ignored", self.journal_path, i + 1)
        return entries

    def append_journal(self, entry: dict[str, Any]) -> None:
        """Append one entry and fsync it (before it takes effect)."""
        self.path.mkdir(parents=True, exist_ok=True)
        data = json.dumps(entry, sort_keys=True, allow_nan=False).encode() + b"\n"
        with open(self.journal_path, "ab") as fh:
            if fh.tell() > 0:
                with open(self.journal_path, "rb") as rd:
                    rd.seek(-1, os.SEEK_END)
                    if rd.read(1) != b"\n":
                        fh.write(b"\n")  # close a torn line
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    # ------------------------------------------------------------ duty plan
    def read_plan(self) -> dict[str, Any] | None:
        """Return the stored duty plan ``{"version": int, "plan": {...}}``, or None."""
        with contextlib.suppress(FileNotFoundError):
            doc: dict[str, Any] = json.loads(self.plan_path.read_text())
            return doc
        return None

    def write_plan(self, doc: dict[str, Any]) -> None:
        """Replace the duty plan atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.plan_path, json.dumps(doc, sort_keys=True).encode())

    def __enter__(self) -> StateDir:
        self.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def files(self) -> Iterator[pathlib.Path]:
        """Every file of the state directory (for tests and tools)."""
        yield from (p for p in self.path.rglob("*") if p.is_file())
