"""The pipeline's writes, off the event loop: one thread with a connection of its own.

A poll's write (``record.record_poll``, one transaction) takes a few milliseconds on a small
database and up to half a second at a million term rows; a re-check's, an index merge's,
the same. On the event loop each held up every fetch and parse meanwhile, and a write that
waits for the lock (another process writing: a digest, `watcher extract --store`) held them
up for as long as it waited. Here the writes queue on one thread, in the order they were
asked for, each still one transaction; the caller awaits its own, so a poll is stored before
its report is made and before the article reads it shared are let go, as before.

The event loop keeps the store's own connection for its reads: in WAL mode a reader never
waits for the writer, and it sees each write once committed. A write once queued is carried
out even if its caller is cancelled (a sweep out of time, a daemon stopping): what was
fetched and read is not thrown away, and `aclose` waits for the queue to empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from watcher.store import Store

T = TypeVar("T")


class StoreWriter:
    """Runs ``fn(store, ...)`` for the pipeline in its writer thread, on its own connection
    to the same database file (opened at the first write, checked to be the same file)."""

    def __init__(self, store: Store) -> None:
        self.store = store  # the event loop's: reads, and the file the writer opens
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watcher-store")
        self._own: Store | None = None

    def _connection(self) -> Store:
        if self._own is None:
            own = type(self.store).open(self.store.path, identity=self.store.identity, migrate=False)
            own.defer_index_maintenance()  # per connection: no checkpoint inside a poll's write
            self._own = own
        return self._own

    def _call(self, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        return fn(self._connection(), *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(store, *args, **kwargs)`` in the writer thread; its result or its exception."""
        if self.store.path is None:  # no file to open a second connection to
            return fn(self.store, *args, **kwargs)
        future = asyncio.wrap_future(self._thread.submit(self._call, fn, args, kwargs))
        future.add_done_callback(_retrieve)  # a cancelled caller's write still finishes
        return await asyncio.shield(future)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(store, *args)`` without waiting for it (index maintenance); a failure
        is ``fn``'s to log."""
        if self.store.path is None:
            fn(self.store, *args)
            return
        self._thread.submit(self._call, fn, args, {})

    def close(self) -> None:
        """Wait for the queued writes, then close the writer's connection (blocks)."""
        self._thread.shutdown(wait=True)
        if self._own is not None:
            self._own.close()
            self._own = None


def _retrieve(future: asyncio.Future) -> None:
    """Mark the outcome read: a caller cancelled meanwhile no longer reads it (a write that
    failed rolled back: nothing of it is stored, and its feed or article stays due)."""
    if not future.cancelled():
        future.exception()
