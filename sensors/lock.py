"""One writer per directory: an exclusive OS file lock that dies with its process.

:func:`exclusive_lock` takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a lock file inside
a directory (the sensor archive, later the twin's state directory). The kernel
releases the lock when the process ends, however it ends (a SIGKILL included), so a
crash never leaves a stale lock behind; there is no lock-breaking step to get wrong.
Readers take no lock. The lock file holds the owner's PID and host for the error
message of a refused second writer; its content is advisory, the lock is the flock.

``flock`` locks belong to an open file description: a second :func:`exclusive_lock`
on the same directory is refused within one process too. It works on local file
systems; on NFS, Linux emulates it with ``fcntl`` byte-range locks (lockd), which
also die with the process.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pathlib
import socket
from collections.abc import Iterator

from sensors.errors import LockedError

__all__ = ["LOCK_FILE", "DirectoryLock", "exclusive_lock"]

#: Name of the lock file inside a locked directory.
LOCK_FILE = ".writer.lock"


class DirectoryLock:
    """An exclusive, non-blocking writer lock on a directory.

    Parameters
    ----------
    directory : str or pathlib.Path
        The directory to lock (created if missing).
    role : str, optional
        What the holder is, for the error message (e.g. ``"twin ingest"``).
    """

    def __init__(self, directory: str | pathlib.Path, *, role: str = "writer") -> None:
        self.directory = pathlib.Path(directory)
        self.path = self.directory / LOCK_FILE
        self.role = role
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> DirectoryLock:
        """Take the lock, or raise at once if another writer holds it.

        Returns
        -------
        DirectoryLock
            ``self``.

        Raises
        ------
        LockedError
            If another process (or another lock object) holds the lock.
        """
        if self._fd is not None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            owner = _read_owner(fd)
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise LockedError(
                    f"lock: {str(self.directory)!r} is already written by another {self.role} "
                    f"({owner or 'owner unknown'}); one writer at a time: stop it first, "
                    "or use another path (readers need no lock)"
                ) from err
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} ({self.role})\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock (the lock file stays; it is harmless)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()


def _read_owner(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    return ""


@contextlib.contextmanager
def exclusive_lock(
    directory: str | pathlib.Path, *, role: str = "writer"
) -> Iterator[DirectoryLock]:
    """Hold the exclusive writer lock of ``directory`` for the ``with`` block.

    Parameters
    ----------
    directory : str or pathlib.Path
        Directory to lock (created if missing).
    role : str, optional
        What the holder is, for the refusal message.

    Yields
    ------
    DirectoryLock
        The held lock.

    Raises
    ------
    LockedError
        If another writer holds it.
    """
    lock = DirectoryLock(directory, role=role).acquire()
    try:
        yield lock
    finally:
        lock.release()
