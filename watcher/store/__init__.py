"""The one place that talks to SQLite: schema, migrations and every query.

The store keeps rows, queries, schema and migrations and decides nothing: what a poll
writes, how versions and the ledger fold, is the pipeline's write stage (``watcher.record``),
which calls these methods inside one transaction. The store imports nothing above
``watcher.models`` (tests/test_layering.py).

``core`` holds opening, migrations, feeds, polls, articles, snapshots, terms, ledger and
changes; ``digests`` the digest outbox; ``history`` the read-side queries of the history
commands; ``timeline`` those of the timeline report. :class:`Store` combines them.
"""

from watcher.models import EntryRecord, FeedState, PollRecord, PollSummary, SnapshotDraft
from watcher.store.core import (
    BadQuery,
    CoreStore,
    DatabaseReplaced,
    StoreError,
    change_key,
    is_disk_full,
    parse_ts,
    ts,
    utcnow,
)
from watcher.store.digests import DigestQueries
from watcher.store.history import HistoryQueries
from watcher.store.timeline import TimelineQueries


class Store(DigestQueries, HistoryQueries, TimelineQueries, CoreStore):
    """Every query the program runs, on one connection."""


__all__ = [
    "BadQuery",
    "DatabaseReplaced",
    "EntryRecord",
    "FeedState",
    "PollRecord",
    "PollSummary",
    "SnapshotDraft",
    "Store",
    "StoreError",
    "change_key",
    "is_disk_full",
    "parse_ts",
    "ts",
    "utcnow",
]
