"""The store's core: opening, migrating, feeds, polls, articles, snapshots, terms.

The database is a product surface: people read it with ``sqlite-utils`` and Datasette, so
tables and columns are named for them (see docs/database.md). Times are UTC text in the
form ``2024-06-24 10:00:00``, which sorts as text and compares with SQLite's ``datetime()``.

Writes happen in explicit ``BEGIN IMMEDIATE`` transactions (see :meth:`Store.transaction`),
one per poll, so a crash leaves the database as it was before that poll. sqlite-utils'
own write helpers commit on their own, so inside a transaction we use plain SQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from watcher.errors import WatcherError
from watcher.models import (
    REJECTED,
    Entry,
    EntryRecord,
    FeedState,
    PollRecord,
    PollSummary,
    Relevance,
    SnapshotDraft,
    Term,
    parse_ts,
)
from watcher.store.schema import MIGRATIONS


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def ts(moment: datetime | None) -> str | None:
    """A datetime as stored: UTC, second precision, 'YYYY-MM-DD HH:MM:SS'."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class StoreError(WatcherError):
    """The database cannot be opened or written; the message says which file and why."""


class BadQuery(StoreError):
    """A search query the full-text index cannot read (FTS5 syntax given with --raw)."""

    exit_code = 2


class DatabaseReplaced(StoreError):
    """The file at the database's path is no longer the one this connection writes: it was
    deleted or replaced, and whatever is written now would be lost."""


def is_disk_full(err: BaseException) -> bool:
    """SQLite's SQLITE_FULL: the disk (or the database's size limit) has no room left."""
    return isinstance(err, sqlite3.OperationalError) and err.sqlite_errorcode == sqlite3.SQLITE_FULL


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _foreign(conn: sqlite3.Connection, path: Path) -> str | None:
    """Why this SQLite file is not one to add the watcher's tables to, or None: another
    program's database (tables, and no watcher schema), or a newer watcher's."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [r[0] for r in conn.execute(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")]
    if tables and (version == 0 or "feeds" not in tables):
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        return (f"{path} is not a watcher database: it already holds other tables ({shown}); "
                "point [watcher].database (or --db) at a new file")
    if version > len(MIGRATIONS):
        return (f"database {path} has schema version {version}, newer than this program knows "
                f"({len(MIGRATIONS)}); upgrade ceasefire-watcher")
    return None


def _replaced_message(path: Path | None) -> str:
    return (f"database {path} was deleted or replaced while in use; stopping so nothing more is "
            "written to a file nobody will read (restore it, or restart to start a new one)")


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does (it would use 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass


class CoreStore:
    """Schema, migrations and every query the program runs."""

    def __init__(self, db: Database, path: Path | None = None) -> None:
        self.db = db
        self.path = path
        self.identity = file_identity(path) if path is not None else None

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | str, *, migrate: bool = True, identity: tuple[int, int] | None = None
    ) -> CoreStore:
        """Open (creating when missing) and migrate the database. With ``identity``, the file
        must exist and be that one (a daemon's job opening its own database again)."""
        path = Path(path)
        if identity is not None and file_identity(path) != identity:
            raise DatabaseReplaced(_replaced_message(path))
        try:
            _create_private_file(path)
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            refusal = _foreign(conn, path)  # before WAL: a file we refuse is left as it was
            if refusal:
                conn.close()
                raise StoreError(refusal)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(Database(conn), path)
            if migrate:
                store.migrate()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"cannot open database {path}: {err}") from None
        except OSError as err:
            raise StoreError(f"cannot create database {path}: {err.strerror}") from None
        return store

    def close(self) -> None:
        self.db.conn.close()

    # -- index maintenance off the write path ---------------------------------------------

    def defer_index_maintenance(self) -> None:
        """For the long-running writer (the pipeline): no full-text merging and no WAL
        checkpoint inside a poll's transaction; :meth:`maintain`, run between polls, does
        both. At 1M term rows FTS5's automerge and the auto-checkpoint made one store in
        ten take 5-60x longer (bench/store_scale.py). ``crisismerge`` still bounds the
        segments if ``maintain`` never runs (FTS5 keeps these settings in the database)."""
        from watcher.store.views import FTS_TABLES

        for table in FTS_TABLES:
            fts = f"{table}_fts"
            if self.db[fts].exists():
                self.db.execute(f"insert into [{fts}]([{fts}], rank) values ('automerge', 0)")
                self.db.execute(f"insert into [{fts}]([{fts}], rank) values ('crisismerge', 64)")
        self.db.execute("PRAGMA wal_autocheckpoint = 0")
        # the WAL file shrinks back to this once checkpointed (it would keep its largest size)
        self.db.execute("PRAGMA journal_size_limit = 16777216")

    def checkpoint(self) -> None:
        """A passive WAL checkpoint on a connection of its own: safe in another thread while
        this connection writes (it copies what no reader needs and never waits)."""
        if self.path is None:
            return
        conn = sqlite3.connect(str(self.path), timeout=1)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def maintain(self, pages: int = 500) -> None:
        """The work :meth:`defer_index_maintenance` takes out of the polls: a bounded step of
        full-text merging (at most ``pages`` pages per index, levels of 4+ segments, what
        automerge would have done) and a passive WAL checkpoint (never waits for readers)."""
        from watcher.store.views import FTS_TABLES

        for table in FTS_TABLES:
            fts = f"{table}_fts"
            if self.db[fts].exists():
                self.db.execute(f"insert into [{fts}]([{fts}], rank) values ('merge', ?)", [pages])
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def check_identity(self) -> None:
        """Raise DatabaseReplaced when the path no longer names the file this connection
        has open (deleted, or replaced by another file)."""
        if self.identity is not None and file_identity(self.path) != self.identity:
            raise DatabaseReplaced(_replaced_message(self.path))

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"database {self.path} has schema version {current}, newer than this "
                f"program knows ({len(MIGRATIONS)}); upgrade ceasefire-watcher"
            )
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                MIGRATIONS[version](self.db)
                self.db.execute(f"PRAGMA user_version = {version + 1}")
        from watcher.store import views

        views.ensure(self.db)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            self.check_identity()  # one stat: never write into a file nobody will read again
            yield self.db
        except BaseException:
            # SQLite may have rolled back already (SQLITE_FULL, SQLITE_IOERR do): keep the
            # error that did it rather than raise "no transaction is active" instead
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[Any] | dict = ()) -> dict | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    def query(self, sql: str, params: Sequence[Any] | dict = ()) -> list[dict]:
        return list(self.db.query(sql, params))

    def columns(self, name: str) -> list[str]:
        """The column names of a table or view, in order: a CSV header when no row came back."""
        return [r["name"] for r in self.query("select name from pragma_table_info(?) order by cid", [name])]

    # -- feeds --------------------------------------------------------------------------

    def sync_feeds(self, feeds: list[Any], default_interval: float, now: datetime | None = None) -> None:
        """Make the feeds table match config.toml: add new feeds, update settings, mark
        feeds no longer configured as removed (their history stays)."""
        now = now or utcnow()
        configured = set()
        with self.transaction():
            for feed in feeds:
                configured.add(feed.url)
                interval = int(feed.interval or default_interval)
                row = self._one("select id from feeds where config_url = ?", [feed.url])
                if row is None:
                    self.db.execute(
                        "insert into feeds (config_url, url, name, enabled, interval_seconds, created_at) "
                        "values (?, ?, ?, ?, ?, ?)",
                        [feed.url, feed.url, feed.name, int(feed.enabled), interval, ts(now)],
                    )
                else:
                    self.db.execute(
                        "update feeds set name = ?, enabled = ?, interval_seconds = ?, removed_at = null "
                        "where id = ?",
                        [feed.name, int(feed.enabled), interval, row["id"]],
                    )
            for row in self.query("select id, config_url from feeds where removed_at is null"):
                if row["config_url"] not in configured:
                    self.db.execute("update feeds set removed_at = ? where id = ?", [ts(now), row["id"]])

    def reset_feed(self, feed_id: int) -> None:
        """Forget a feed's failures and disabling (after a 410, say): poll it again now."""
        with self.transaction():
            self.db.execute(
                "update feeds set disabled_reason = null, consecutive_errors = 0, failing_since = null, "
                "next_poll_at = null where id = ?",
                [feed_id],
            )
            # a body kept as rejected (see Pipeline) is fetched and parsed afresh
            self.db.execute(
                "update feeds set last_body_hash = null, etag = null, last_modified = null "
                "where id = ? and last_body_hash like ?",
                [feed_id, REJECTED + "%"],
            )

    def feeds(self, *, include_removed: bool = False) -> list[dict]:
        where = "" if include_removed else "where removed_at is null"
        return self.query(f"select * from feeds {where} order by id")

    def feed(self, feed_id: int) -> dict | None:
        return self._one("select * from feeds where id = ?", [feed_id])

    def due_feeds(self, now: datetime) -> list[dict]:
        return self.query(
            "select * from feeds where removed_at is null and enabled = 1 and disabled_reason is null "
            "and (next_poll_at is null or next_poll_at <= ?) order by next_poll_at, id",
            [ts(now)],
        )

    def configured_feeds(self) -> list[dict]:
        """Feeds enabled in config.toml, disabled by the watcher (a 410) or not: the daemon
        schedules them all, so a `watcher feeds reset` takes effect without a restart."""
        return self.query("select * from feeds where removed_at is null and enabled = 1 order by id")

    def enabled_feeds(self) -> list[dict]:
        return self.query(
            "select * from feeds where removed_at is null and enabled = 1 and disabled_reason is null "
            "order by id"
        )

    # -- reads the pipeline needs before writing -----------------------------------------

    def seen_entry_urls(self, feed_id: int, urls: list[str]) -> set[str]:
        """Which of these entry URLs this feed has carried before."""
        seen: set[str] = set()
        for chunk in _chunks(urls, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"select url from entries where feed_id = ? and url in ({marks})", [feed_id, *chunk]
            )
            seen.update(r[0] for r in rows)
        return seen

    def known_articles(self, urls: list[str]) -> dict[str, dict]:
        known: dict[str, dict] = {}
        for chunk in _chunks(urls, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.query(f"select id, url, latest_version from articles where url in ({marks})", chunk):
                known[row["url"]] = row
        return known

    def articles_by_guid(self, feed_id: int, guids: list[str]) -> dict[str, dict]:
        """Articles this feed carried under these guids: the same story when its link
        changes at every poll (a rotating ``?sid=``)."""
        found: dict[str, dict] = {}
        for chunk in _chunks(guids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.query(
                f"select a.id, a.url, a.guid, a.latest_version from articles a join article_feeds f "
                f"on f.article_id = a.id where f.feed_id = ? and a.guid in ({marks}) order by a.id",
                [feed_id, *chunk],
            ):
                found.setdefault(row["guid"], row)
        return found

    def latest_snapshot(self, article_id: int) -> dict | None:
        return self._one(
            "select * from snapshots where article_id = ? order by version desc limit 1", [article_id]
        )

    def articles_due_for_check(self, now: datetime, limit: int = 200) -> list[dict]:
        return self.query(
            "select * from articles where next_check_at is not null and next_check_at <= ? "
            "order by next_check_at limit ?",
            [ts(now), limit],
        )

    # -- rows one poll writes ---------------------------------------------------------
    # The pipeline's write stage (watcher/record.py) decides what to write and calls these
    # inside one transaction(); each writes rows and nothing else.

    def insert_entries(self, feed_id: int, items: list[tuple[Entry, Relevance]], now: str) -> None:
        """New feed entries in one executemany (a first poll has 50 of them)."""
        self.db.conn.executemany(
            "insert or ignore into entries (feed_id, url, guid, title, published_at, "
            "first_seen_at, relevance_score, relevant) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(feed_id, entry.url, entry.guid, entry.title, _iso_to_ts(entry.published_at), now,
              rel.score, int(rel.relevant)) for entry, rel in items],
        )

    def article_id_by_url(self, url: str) -> int | None:
        row = self._one("select id from articles where url = ?", [url])
        return row["id"] if row else None

    def article_id_by_text(self, feed_id: int, content_hash: str) -> int | None:
        """The article of this feed whose latest version has this text hash, if any."""
        row = self._one(
            "select a.id from snapshots s join articles a on a.id = s.article_id join article_feeds f "
            "on f.article_id = a.id and f.feed_id = ? where s.content_hash = ? "
            "and s.version = a.latest_version order by a.id limit 1",
            [feed_id, content_hash],
        )
        return row["id"] if row else None

    def insert_article(self, item: EntryRecord, feed_id: int, now: str, next_check_at: datetime | None) -> int:
        entry, rel = item.entry, item.relevance
        cursor = self.db.execute(
            "insert into articles (url, guid, title, source, published_at, first_seen_at, "
            "first_feed_id, relevance_topic, relevance_score, relevance_matched, next_check_at, "
            "last_check_error) values (?,?,?,?,?,?,?,?,?,?,?,?)",
            [entry.url, entry.guid, entry.title, item.source, _iso_to_ts(entry.published_at), now,
             feed_id, rel.topic, rel.score, json.dumps(rel.matched), ts(next_check_at), item.too_costly],
        )
        return cursor.lastrowid

    def link_article_feed(self, article_id: int, feed_id: int, now: str) -> None:
        self.db.execute(
            "insert or ignore into article_feeds (article_id, feed_id, first_seen_at) values (?,?,?)",
            [article_id, feed_id, now],
        )

    def insert_snapshot(
        self, article_id: int, version: int, draft: SnapshotDraft, *, diff: str | None, baseline: bool, kind: str
    ) -> dict:
        """Version ``version`` of the article; the article row points at it. Returns the
        snapshot's id, version, fetched_at, kind and baseline."""
        cursor = self.db.execute(
            "insert into snapshots (article_id, version, fetched_at, content_hash, title, text, "
            "text_source, note, diff, baseline, kind) values (?,?,?,?,?,?,?,?,?,?,?)",
            [article_id, version, ts(draft.fetched_at), draft.content_hash, draft.title, draft.text,
             draft.text_source, draft.note, diff, int(baseline), kind],
        )
        self.db.execute(
            "update articles set latest_version = ?, language = coalesce(?, language), title = ? where id = ?",
            [version, draft.language, draft.title or None, article_id],
        )
        return {"id": cursor.lastrowid, "version": version, "fetched_at": ts(draft.fetched_at),
                "kind": kind, "baseline": baseline}

    def write_feed_state(self, feed_id: int, s: FeedState, now: str) -> None:
        self.db.execute(
            """update feeds set url = ?, etag = ?, last_modified = ?, last_body_hash = ?,
                 consecutive_errors = ?, next_poll_at = ?, last_status = ?, last_error = ?,
                 disabled_reason = coalesce(?, disabled_reason), last_polled_at = ?,
                 title = coalesce(?, title), site_url = coalesce(?, site_url),
                 last_success_at = case when ? then ? else last_success_at end,
                 failing_since = case when ? = 0 then null else coalesce(failing_since, ?) end,
                 baseline_backlog = coalesce(?, baseline_backlog)
               where id = ?""",
            [s.url, s.etag, s.last_modified, s.body_hash, s.consecutive_errors, ts(s.next_poll_at),
             s.last_status, s.last_error, s.disabled_reason, now, s.title, s.site_url,
             int(s.success), now, s.consecutive_errors, now,
             None if s.baseline_backlog is None else int(s.baseline_backlog), feed_id],
        )

    def insert_poll(self, record: PollRecord, summary: PollSummary, now: str) -> None:
        self.db.execute(
            "insert into polls (feed_id, started_at, duration_ms, outcome, http_status, bytes, "
            "entries_seen, entries_new, articles_new, error, note) values (?,?,?,?,?,?,?,?,?,?,?)",
            [record.feed_id, now, record.duration_ms, record.outcome, record.http_status,
             record.bytes, record.entries_seen, summary.entries_new, summary.articles_new,
             record.error, record.note],
        )

    def mark_checked(
        self,
        article_id: int,
        *,
        checked_at: datetime,
        next_check_at: datetime | None,
        error: str | None,
        page: tuple[str | None, str | None, str] | None,
    ) -> None:
        """A re-check happened. ``page``: the ETag, Last-Modified and body hash of the page
        read (None: keep what is stored)."""
        self.db.execute(
            "update articles set last_checked_at = ?, next_check_at = ?, check_count = check_count + 1, "
            "last_check_error = ? where id = ?",
            [ts(checked_at), ts(next_check_at), error, article_id],
        )
        if page is not None:
            self.db.execute(
                "update articles set page_etag = ?, page_last_modified = ?, page_hash = ? where id = ?",
                [*page, article_id],
            )

    # -- terms, ledger, changes ----------------------------------------------------------

    def article_ref(self, article_id: int) -> dict:
        """The article's url and source (outlet)."""
        return self._one("select url, source from articles where id = ?", [article_id])

    def insert_terms(self, snap: dict, article_id: int, source: str | None, terms: list[Term]) -> list[int]:
        """The snapshot's terms in one executemany; returns their ids in order."""
        # their ids, in insertion order, are the rows of this snapshot above the largest id
        # before it (the write is ours alone: BEGIN IMMEDIATE)
        before = self.db.execute("select coalesce(max(id), 0) from terms").fetchone()[0]
        self.db.conn.executemany(
            'insert into terms (snapshot_id, article_id, source, observed_at, conflict, proposer, '
            'category, stance, precondition, "values", responses, quote, span_start, span_end) '
            "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(snap["id"], article_id, source, snap["fetched_at"], term.conflict, term.proposer,
              term.category, term.stance, int(term.precondition), json.dumps(term.values, sort_keys=True),
              json.dumps(term.responses, sort_keys=True), term.quote, term.span[0], term.span[1])
             for term in terms],
        )
        return [r[0] for r in self.db.execute(
            "select id from terms where snapshot_id = ? and id > ? order by id", [snap["id"], before])]

    def insert_change(self, change: Any, snap: dict, article_id: int, source: str | None, url: str) -> None:
        """One ``ledger.Change`` of this snapshot (ignored when its key is there already)."""
        self.db.execute(
            "insert or ignore into changes (detected_at, conflict, proposer, category, kind, summary, "
            "before, after, quote, source, url, article_id, snapshot_id, term_id, baseline, key) "
            "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [snap["fetched_at"], change.conflict, change.proposer, change.category, change.kind,
             change.summary, _json_or_none(change.before), _json_or_none(change.after), change.quote,
             source, url, article_id, snap["id"], change.term_id, int(snap["baseline"]),
             change_key(snap["id"], change.conflict, change.proposer, change.category, change.kind)],
        )

    def snapshot_terms(self, article_id: int, version: int) -> list[dict] | None:
        """The terms of the article's version ``version`` (None when there is none)."""
        if version < 1:
            return None
        prev = self._one(
            "select id from snapshots where article_id = ? and version = ?", [article_id, version]
        )
        if prev is None:
            return None
        return [_term_row(r) for r in self.query("select * from terms where snapshot_id = ?", [prev["id"]])]

    def ledger_entries(self, keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict | None]:
        """The ledger rows of several terms in one query (a snapshot's terms are read
        together), each with ``last_change_rows``: the change rows of its latest report."""
        out: dict[tuple[str, str, str], dict | None] = dict.fromkeys(keys)
        if not keys:
            return out
        wanted = sorted(keys)
        rows = self.query(  # a join on the keys, so each is one primary-key lookup
            "with k(c, p, g) as (values " + ", ".join(["(?, ?, ?)"] * len(wanted)) + ") "
            "select l.* from k join ledger l on l.conflict = k.c and l.proposer = k.p and l.category = k.g",
            [part for key in wanted for part in key])
        changes = self._latest_change_rows(wanted)
        for row in rows:
            key = (row["conflict"], row["proposer"], row["category"])
            _decode_ledger(row)
            row["last_change_rows"] = changes.get(key, [])
            out[key] = row
        return out

    def ledger_entry(self, conflict: str, proposer: str, category: str) -> dict | None:
        row = self._one(
            "select * from ledger where conflict = ? and proposer = ? and category = ?",
            [conflict, proposer, category],
        )
        return _decode_ledger(row) if row is not None else None

    def _latest_change_rows(self, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], list[dict]]:
        """Per term, the change rows its latest report wrote, oldest first, JSON decoded: one
        query for all of a snapshot's terms (it was one per term)."""
        rows = self.query(
            "with k(c, p, g) as (values " + ", ".join(["(?, ?, ?)"] * len(keys)) + ") "
            "select ch.conflict, ch.proposer, ch.category, ch.kind, ch.summary, ch.term_id, ch.source, "
            "ch.before, ch.after from k join changes ch on ch.conflict = k.c and ch.proposer = k.p "
            "and ch.category = k.g and ch.snapshot_id = (select x.snapshot_id from changes x where "
            "x.conflict = k.c and x.proposer = k.p and x.category = k.g order by x.id desc limit 1) "
            "order by ch.id",
            [part for key in keys for part in key],
        )
        out: dict[tuple[str, str, str], list[dict]] = {}
        for r in rows:
            key = (r.pop("conflict"), r.pop("proposer"), r.pop("category"))
            r["before"] = json.loads(r["before"]) if r["before"] else None
            r["after"] = json.loads(r["after"]) if r["after"] else None
            out.setdefault(key, []).append(r)
        return out

    def write_ledger(self, entry: dict) -> None:
        self.db.execute(
            'insert or replace into ledger (conflict, proposer, category, stance, precondition, "values", '
            "responses, first_seen_at, last_seen_at, sources, source_count, observations, last_term_id, "
            "last_quote) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [entry["conflict"], entry["proposer"], entry["category"], entry["stance"],
             int(entry["precondition"]), json.dumps(entry["values"], sort_keys=True),
             json.dumps(entry["responses"], sort_keys=True), entry["first_seen_at"], entry["last_seen_at"],
             json.dumps(entry["sources"]), len(entry["sources"]), entry["observations"],
             entry["last_term_id"], entry["last_quote"]],
        )

    def clear_ledger(self) -> None:
        """Forget every term, ledger row and change (inside the caller's transaction)."""
        for table in ("changes", "ledger", "terms"):
            self.db.execute(f"delete from {table}")

    def counts(self, *tables: str) -> dict[str, int]:
        """Rows in each of these tables."""
        return {t: self.db.execute(f"select count(*) from [{t}]").fetchone()[0] for t in tables}

    def stored_terms(self, snapshot_id: int) -> list[Term]:
        """A snapshot's terms as stored (reprocess keeps them for snapshots whose text was pruned)."""
        return [
            Term(r["conflict"], r["category"], r["proposer"], r["stance"], bool(r["precondition"]),
                 json.loads(r["values"]), json.loads(r["responses"]), r["quote"] or "",
                 (r["span_start"] or 0, r["span_end"] or 0))
            for r in self.query("select * from terms where snapshot_id = ? order by id", [snapshot_id])
        ]

    def snapshots_in_order(self, after_id: int = 0) -> Iterator[dict]:
        """Every snapshot (with an id above ``after_id``) in the order live processing folded
        them: ids follow commit order, and within one poll the feed's entry order."""
        yield from self.db.query(
            "select s.*, a.source as article_source, a.published_at as article_published_at "
            "from snapshots s join articles a on a.id = s.article_id "
            "where s.id > ? order by s.id",
            [after_id],
        )


def change_key(snapshot_id: int, conflict: str, proposer: str, category: str, kind: str) -> str:
    """A change's natural key: the same after `watcher reprocess` rebuilds the table, so
    delivery records keyed by it survive."""
    return f"{snapshot_id}:{conflict}:{proposer}:{category}:{kind}"


def _term_row(row: dict) -> dict:
    row = dict(row)
    row["values"] = json.loads(row["values"])
    row["responses"] = json.loads(row["responses"])
    return row


def _decode_ledger(row: dict) -> dict:
    for name in ("values", "responses", "sources"):
        row[name] = json.loads(row[name])
    return row


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _iso_to_ts(value: str | None) -> str | None:
    moment = parse_ts(value) if value else None
    return ts(moment) if moment else None


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
