"""One daemon per database: an exclusive lock on a file beside it, held while `watcher run` runs.

An advisory ``flock`` on ``<database>.lock``: the kernel releases it when the process
ends, however it ends (SIGKILL included), so a stale lock never blocks a restart. Only
`watcher run` takes it; `watcher poll` and the read commands may run beside a daemon.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from watcher.errors import WatcherError


class DaemonRunning(WatcherError):
    """Another daemon holds the database; the message names it and the file."""


class DaemonLock:
    """Held from :meth:`acquire` until :meth:`release` or the end of the process."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self.path = self.database.with_name(self.database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise DaemonRunning naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DaemonRunning(
                f"another `watcher run` (pid {holder}) is already running on database {self.database}; "
                "run one daemon per database (`watcher poll` and the read commands may run beside it)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
