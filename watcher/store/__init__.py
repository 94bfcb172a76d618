"""The one place that talks to SQLite: schema, migrations and every query.

``core`` holds opening, migrations, feeds, polls, articles, snapshots, terms, ledger and
changes; ``digests`` the digest outbox; ``history`` the read-side queries of the history
commands; ``timeline`` those of the timeline report. :class:`Store` combines them.
"""

from watcher.store.core import (
    CoreStore,
    DatabaseReplaced,
    EntryRecord,
    FeedState,
    PollRecord,
    PollSummary,
    SnapshotDraft,
    StoreError,
    backoff_delay,
    change_key,
    next_check_delay,
    oldest_first,
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
    "DatabaseReplaced",
    "EntryRecord",
    "FeedState",
    "PollRecord",
    "PollSummary",
    "SnapshotDraft",
    "Store",
    "StoreError",
    "backoff_delay",
    "change_key",
    "next_check_delay",
    "oldest_first",
    "parse_ts",
    "ts",
    "utcnow",
]
