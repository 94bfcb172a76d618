"""The database schema, as a list of migrations.

Each function moves the schema up one version (kept in ``PRAGMA user_version``); append,
never edit a released one. Views and full-text indexes are not here: ``watcher.store.views``
re-creates them idempotently after every migration.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

_SCHEMA_V1 = """
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    config_url TEXT NOT NULL UNIQUE,      -- the URL as written in config.toml
    url TEXT NOT NULL,                    -- the URL fetched now (after permanent redirects)
    name TEXT,
    title TEXT,                           -- the feed's own title
    site_url TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    interval_seconds INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_body_hash TEXT,
    created_at TEXT NOT NULL,
    last_polled_at TEXT,
    last_success_at TEXT,
    next_poll_at TEXT,
    last_status INTEGER,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    failing_since TEXT,
    disabled_reason TEXT,
    removed_at TEXT                       -- no longer in config.toml; kept for history
);
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    bytes INTEGER NOT NULL DEFAULT 0,
    entries_seen INTEGER NOT NULL DEFAULT 0,
    entries_new INTEGER NOT NULL DEFAULT 0,
    articles_new INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    note TEXT
);
CREATE INDEX polls_feed_started ON polls(feed_id, started_at);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    url TEXT NOT NULL,
    guid TEXT,
    title TEXT,
    published_at TEXT,
    first_seen_at TEXT NOT NULL,
    relevance_score REAL NOT NULL,
    relevant INTEGER NOT NULL,
    UNIQUE(feed_id, url)
);
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,             -- canonical URL: one story, whatever feeds carry it
    guid TEXT,
    title TEXT,
    source TEXT,                          -- the outlet (host name)
    published_at TEXT,
    first_seen_at TEXT NOT NULL,
    first_feed_id INTEGER REFERENCES feeds(id),
    relevance_topic TEXT,
    relevance_score REAL,
    relevance_matched TEXT,               -- JSON list: why it counted as relevant
    language TEXT,
    latest_version INTEGER NOT NULL DEFAULT 0,
    last_checked_at TEXT,
    next_check_at TEXT,                   -- when to look for edits; NULL: no more checks
    check_count INTEGER NOT NULL DEFAULT 0,
    last_check_error TEXT
);
CREATE INDEX articles_next_check ON articles(next_check_at);
CREATE TABLE article_feeds (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (article_id, feed_id)
);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT,
    text TEXT,                            -- NULL once pruned (terms and changes stay)
    text_source TEXT NOT NULL,            -- page: the article page; feed: the feed's own text
    note TEXT,
    diff TEXT,                            -- unified diff from the previous version
    baseline INTEGER NOT NULL DEFAULT 0,  -- read by its feed's first poll (terms are a starting point)
    kind TEXT NOT NULL DEFAULT 'first',   -- first | edit (the page changed) | full_text (the page
                                          -- replaced the feed's text: not an edit)
    UNIQUE(article_id, version)
);
CREATE TABLE terms (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    source TEXT,
    observed_at TEXT NOT NULL,
    conflict TEXT NOT NULL,
    proposer TEXT NOT NULL,
    category TEXT NOT NULL,
    stance TEXT NOT NULL,
    precondition INTEGER NOT NULL DEFAULT 0,
    "values" TEXT NOT NULL DEFAULT '{}',  -- JSON: party, places, numbers, text
    responses TEXT NOT NULL DEFAULT '[]', -- JSON: [{"actor": ..., "stance": ...}]
    quote TEXT,
    span_start INTEGER,
    span_end INTEGER
);
CREATE INDEX terms_key ON terms(conflict, proposer, category, observed_at);
CREATE INDEX terms_snapshot ON terms(snapshot_id);
CREATE TABLE ledger (
    conflict TEXT NOT NULL,
    proposer TEXT NOT NULL,
    category TEXT NOT NULL,
    stance TEXT NOT NULL,
    precondition INTEGER NOT NULL DEFAULT 0,
    "values" TEXT NOT NULL DEFAULT '{}',
    responses TEXT NOT NULL DEFAULT '[]',
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',   -- JSON list of outlets that reported it
    source_count INTEGER NOT NULL DEFAULT 0,
    observations INTEGER NOT NULL DEFAULT 0,
    last_term_id INTEGER REFERENCES terms(id),
    last_quote TEXT,
    PRIMARY KEY (conflict, proposer, category)
);
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    detected_at TEXT NOT NULL,
    conflict TEXT NOT NULL,
    proposer TEXT NOT NULL,
    category TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- new | changed | status | withdrawn | revised
    summary TEXT NOT NULL,                -- one line in words
    before TEXT,                          -- JSON of the term before, NULL for new
    after TEXT,                           -- JSON of the term after
    quote TEXT,
    source TEXT,
    url TEXT,
    article_id INTEGER REFERENCES articles(id),
    snapshot_id INTEGER REFERENCES snapshots(id),
    term_id INTEGER REFERENCES terms(id),
    baseline INTEGER NOT NULL DEFAULT 0,  -- found by its feed's first poll
    key TEXT NOT NULL UNIQUE              -- snapshot:conflict:proposer:category:kind, stable across reprocess
);
CREATE INDEX changes_detected ON changes(detected_at);
CREATE INDEX changes_key ON changes(conflict, proposer, category);
"""


_SCHEMA_V2 = """
CREATE TABLE digests (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,                -- console | email | apprise
    kind TEXT NOT NULL DEFAULT 'digest',  -- digest | alert (immediate) | lookback (--since)
    message_id TEXT NOT NULL UNIQUE,      -- stable: a retry resends the same message
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,                 -- pending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    next_attempt_at TEXT,                 -- failed: when the schedule retries (NULL: gave up)
    sent_at TEXT,
    error TEXT,
    subject TEXT,
    change_count INTEGER NOT NULL DEFAULT 0,
    feed_count INTEGER NOT NULL DEFAULT 0, -- feeds reported failing or recovered
    body_text TEXT,
    body_html TEXT,
    payload TEXT                          -- JSON of the digest as collected: any format re-renders from it
);
CREATE INDEX digests_status ON digests(channel, status);
CREATE TABLE digest_changes (
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    channel TEXT NOT NULL,
    change_key TEXT NOT NULL,             -- changes.key: survives `watcher reprocess`
    UNIQUE(channel, change_key)           -- a change goes into one digest per channel, once
);
CREATE INDEX digest_changes_digest ON digest_changes(digest_id);
CREATE TABLE feed_reports (
    digest_id INTEGER NOT NULL REFERENCES digests(id),
    channel TEXT NOT NULL,
    feed_id INTEGER NOT NULL REFERENCES feeds(id),
    state TEXT NOT NULL,                  -- failing | recovered
    since TEXT NOT NULL,                  -- feeds.failing_since of the episode reported
    UNIQUE(channel, feed_id, state, since)
);
"""


def _run(db: Database, script: str) -> None:
    """Statement by statement: executescript() would commit the migration's transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _migrate_v1(db: Database) -> None:
    _run(db, _SCHEMA_V1)


def _migrate_v2(db: Database) -> None:
    _run(db, _SCHEMA_V2)


def _migrate_v3(db: Database) -> None:
    # 1 while a feed's first poll left relevant entries for later polls: they are its
    # baseline too, not news
    db.execute("ALTER TABLE feeds ADD COLUMN baseline_backlog INTEGER NOT NULL DEFAULT 0")


def _migrate_v4(db: Database) -> None:
    # a story whose link changes at every poll (?sid=...) is found by its guid or its text
    db.execute("CREATE INDEX articles_guid ON articles(guid)")
    db.execute("CREATE INDEX snapshots_content_hash ON snapshots(content_hash)")


def _migrate_v5(db: Database) -> None:
    # a digest is claimed (a lease) by the job sending it, so no other job or process sends
    # it at the same time; delivered_to lists the recipients the server already accepted
    db.execute("ALTER TABLE digests ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE digests ADD COLUMN claimed_until TEXT")
    db.execute("ALTER TABLE digests ADD COLUMN delivered_to TEXT NOT NULL DEFAULT '[]'")


def _migrate_v6(db: Database) -> None:
    # what identifies the page last read at a re-check (its validators and a hash of its
    # bytes): an unchanged page is neither read (trafilatura) nor extracted again
    db.execute("ALTER TABLE articles ADD COLUMN page_etag TEXT")
    db.execute("ALTER TABLE articles ADD COLUMN page_last_modified TEXT")
    db.execute("ALTER TABLE articles ADD COLUMN page_hash TEXT")


MIGRATIONS = [_migrate_v1, _migrate_v2, _migrate_v3, _migrate_v4, _migrate_v5, _migrate_v6]



