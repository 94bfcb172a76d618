"""Views and full-text search: the questions people ask of the database, answered in SQL.

Applied after every migration by :meth:`watcher.store.Store.migrate`, idempotently, so a
migration that rebuilds a table (sqlite-utils' ``Table.transform()`` silently drops the FTS
triggers) gets its triggers back on the next open. A view is only re-created when its SQL
changed, so opening an up-to-date database writes nothing (and works on a read-only copy).

The views are documented column by column in docs/database.md; keep the two in step.
"""

from __future__ import annotations

from sqlite_utils import Database

FTS_TABLES = {
    "snapshots": ["title", "text"],
    "terms": ["quote"],
}

# Poll outcomes that count as a failure (malformed feeds still delivered entries).
FAILED_OUTCOMES = ("error", "rejected", "rate_limited", "blocked")
_FAILED = "(" + ", ".join(f"'{o}'" for o in FAILED_OUTCOMES) + ")"


def _poll_window(alias: str, days: int) -> str:
    """Polls, failures and failure rate of one feed over the last ``days`` days."""
    since = f"datetime('now', '-{days} days')"
    polls = f"(select count(*) from polls p where p.feed_id = f.id and p.started_at >= {since})"
    failed = (
        f"(select count(*) from polls p where p.feed_id = f.id and p.started_at >= {since} "
        f"and p.outcome in {_FAILED})"
    )
    return (
        f"{polls} as polls_{alias},\n  {failed} as failed_{alias},\n"
        f"  round(1.0 * {failed} / nullif({polls}, 0), 3) as error_rate_{alias}"
    )


def reported_sql(seen: str) -> str:
    """When a report was made, in SQL: the story's publication (never after ``seen``, when the
    watcher read it), or ``seen`` for an edit or an undated story (needs ``s`` and ``a``)."""
    return (f"case when s.kind = 'edit' or a.published_at is null then {seen} "
            f"else min(a.published_at, {seen}) end")


VIEWS: dict[str, str] = {
    # The ledger, per conflict, proposer and category, with where it was last read.
    "latest_terms": """
select
  l.conflict, l.proposer, l.category, l.stance, l.precondition,
  l."values", l.responses,
  l.source_count, l.sources, l.observations,
  l.first_seen_at, l.last_seen_at, l.last_quote,
  t.source as last_source,
  a.title as last_article_title,
  a.url as last_article_url,
  l.last_term_id,
  {reported} as last_reported_at,
  coalesce(f.name, f.title, t.source, a.source) as last_outlet
from ledger l
left join terms t on t.id = l.last_term_id
left join articles a on a.id = t.article_id
left join snapshots s on s.id = t.snapshot_id
left join feeds f on f.id = a.first_feed_id
""".replace("{reported}", reported_sql("t.observed_at")),
    # Every observation of a term, oldest first by when it was reported (published), with the
    # article and the outlet (the feed's name) that reported it.
    "term_timeline": """
select
  t.id as term_id, t.observed_at, t.conflict, t.proposer, t.category, t.stance,
  t.precondition, t."values", t.responses, t.quote,
  coalesce(f.name, f.title, t.source, a.source) as outlet,
  a.id as article_id, a.title as article_title, a.url as article_url,
  a.published_at, s.id as snapshot_id, s.version,
  {reported} as reported_at,
  coalesce(t.source, a.source) as host
from terms t
join articles a on a.id = t.article_id
join snapshots s on s.id = t.snapshot_id
left join feeds f on f.id = a.first_feed_id
order by reported_at, t.id
""".replace("{reported}", reported_sql("t.observed_at")),
    # Every term change, newest first; filter on detected_at for "this week".
    "recent_changes": """
select
  c.id as change_id, c.detected_at, c.conflict, c.proposer, c.category, c.kind,
  c.summary, c.quote, coalesce(f.name, f.title, c.source) as outlet,
  a.title as article_title, coalesce(a.url, c.url) as article_url,
  c.before, c.after, c.baseline, c.article_id, c.snapshot_id, c.key,
  {reported_change} as reported_at,
  c.source as host
from changes c
left join articles a on a.id = c.article_id
left join snapshots s on s.id = c.snapshot_id
left join feeds f on f.id = a.first_feed_id
order by c.detected_at desc, c.id desc
""".replace("{reported_change}", reported_sql("c.detected_at")),
    # Every stored version of every article, with its diff and what was read from it.
    "article_versions": """
select
  s.id as snapshot_id, s.article_id, a.url, a.source as outlet,
  a.title as article_title, s.version, (s.version = a.latest_version) as is_latest,
  s.fetched_at, s.title, s.text_source,
  length(s.text) as chars, (s.text is null) as text_pruned,
  (s.diff is not null) as has_diff, s.diff,
  (select count(*) from terms t where t.snapshot_id = s.id) as terms,
  (select count(*) from changes c where c.snapshot_id = s.id) as changes,
  s.baseline
from snapshots s
join articles a on a.id = s.article_id
order by s.article_id, s.version
""",
    # One row per configured feed: is it working, and how often did it fail lately.
    "feed_health": f"""
select
  f.id as feed_id, coalesce(f.name, f.title, f.url) as feed, f.url, f.config_url,
  case
    when f.removed_at is not null then 'removed'
    when f.disabled_reason is not null then 'disabled'
    when not f.enabled then 'off'
    when f.consecutive_errors > 0 then 'failing'
    when f.last_polled_at is null then 'new'
    else 'ok'
  end as state,
  f.last_polled_at, f.last_success_at, f.next_poll_at, f.last_status,
  f.consecutive_errors, f.last_error, f.failing_since, f.disabled_reason,
  {_poll_window("24h", 1)},
  {_poll_window("7d", 7)},
  f.removed_at
from feeds f
order by f.id
""",
}

# Indexes the history commands and views need beyond the schema's own (see
# HistoryQueries): timelines by conflict and date, per-article lookups, pruning by date.
INDEXES: dict[str, str] = {
    "terms_observed": "terms(observed_at)",
    "terms_conflict_observed": "terms(conflict, observed_at)",
    "terms_proposer_observed": "terms(proposer, observed_at)",
    "terms_article": "terms(article_id)",
    "changes_snapshot": "changes(snapshot_id)",
    "changes_article": "changes(article_id)",
    "changes_conflict_detected": "changes(conflict, detected_at)",
    "snapshots_fetched": "snapshots(fetched_at)",
    "polls_started": "polls(started_at)",
}


def _fts_triggers_present(db: Database, table: str) -> bool:
    names = {
        row[0]
        for row in db.execute(
            "select name from sqlite_master where type = 'trigger' and tbl_name = ?", [table]
        )
    }
    return {f"{table}_ai", f"{table}_ad", f"{table}_au"} <= names


def _view_sql(name: str, sql: str) -> str:
    return f"CREATE VIEW [{name}] AS {sql.strip()}"


def ensure(db: Database) -> None:
    """Create (or restore) full-text indexes with their triggers, indexes and every view."""
    for table, columns in FTS_TABLES.items():
        if not db[table].exists():
            continue
        fts = f"{table}_fts"
        if not db[fts].exists() or not _fts_triggers_present(db, table):
            db[table].enable_fts(columns, create_triggers=True, replace=True)
            db[table].rebuild_fts()
    tables = set(db.table_names())
    for name, target in INDEXES.items():
        if target.split("(")[0] in tables:
            db.execute(f"create index if not exists [{name}] on {target}")
    existing = {
        row[0]: row[1] for row in db.execute("select name, sql from sqlite_master where type = 'view'")
    }
    for name, sql in VIEWS.items():
        wanted = _view_sql(name, sql)
        if existing.get(name) == wanted:
            continue
        db.execute(f"drop view if exists [{name}]")
        db.execute(wanted)
