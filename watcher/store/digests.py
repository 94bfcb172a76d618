"""Queries of the digest outbox (tables digests, digest_changes, feed_reports).

A change belongs to at most one digest per channel (``UNIQUE(channel, change_key)``): the
row in ``digest_changes`` is written with the digest, in the same transaction, before
anything is sent. ``digests.status`` says whether the server accepted it yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# What the digest shows of a change: the change, its article and snapshot, the outlet (the
# feed's name, else its title, else the host) and how many outlets reported the term (from
# the ledger).
_CHANGE_SELECT = """
select c.id, c.key, c.detected_at, c.conflict, c.proposer, c.category, c.kind, c.summary,
       c.before, c.after, c.quote, coalesce(f.name, f.title, c.source) as source, c.url, c.baseline, c.snapshot_id,
       a.title as title, s.version as version, s.diff as diff,
       coalesce(l.source_count, 0) as source_count
from changes c
left join articles a on a.id = c.article_id
left join snapshots s on s.id = c.snapshot_id
left join feeds f on f.id = a.first_feed_id
left join ledger l on l.conflict = c.conflict and l.proposer = c.proposer and l.category = c.category
"""


# What ``list_digests`` gives for each digest (no bodies), in order.
DIGEST_LIST_COLUMNS = ("id", "channel", "kind", "message_id", "created_at", "status", "attempts",
                       "last_attempt_at", "next_attempt_at", "sent_at", "error", "subject",
                       "change_count", "feed_count")
_FILTER_COLUMNS = ("conflict", "proposer", "category", "kind")


def _where_in(where: dict[str, list[str]] | None) -> tuple[str, list[str]]:
    """``and c.conflict in (?, ?) ...`` for each column given; an empty list matches nothing."""
    sql, params = "", []
    for column, values in (where or {}).items():
        if column not in _FILTER_COLUMNS:
            raise ValueError(f"cannot filter changes on {column!r}")
        if not values:
            return " and 0", []
        sql += f" and c.{column} in ({', '.join('?' * len(values))})"
        params += list(values)
    return sql, params


class DigestQueries:
    """Mixed into :class:`watcher.store.Store`; uses its ``db``, ``query`` and ``transaction``."""

    db: Any
    query: Any  # CoreStore's
    transaction: Any

    # -- collecting ---------------------------------------------------------------------

    def undelivered_changes(self, channel: str, *, limit: int | None = None,
                            where: dict[str, list[str]] | None = None) -> list[dict]:
        """Changes no digest of this channel holds yet, oldest first. ``where`` keeps only
        changes whose columns (conflict, proposer, category, kind) hold one of the values:
        a subscription's lane never claims the rest, so they must not be read every run."""
        sql, params = _where_in(where)
        return self.query(
            _CHANGE_SELECT
            + "where not exists (select 1 from digest_changes d where d.channel = ? and d.change_key = c.key) "
            f"{sql} order by c.detected_at, c.id limit ?",
            [channel, *params, limit if limit is not None else -1],
        )

    def changes_since(self, since: str, *, limit: int | None = None,
                      where: dict[str, list[str]] | None = None) -> list[dict]:
        """Every change detected at or after ``since``, delivered or not (a look back)."""
        sql, params = _where_in(where)
        return self.query(
            _CHANGE_SELECT + f"where c.detected_at >= ? {sql} order by c.detected_at, c.id limit ?",
            [since, *params, limit if limit is not None else -1],
        )

    def failing_feeds_unreported(self, channel: str, min_errors: int) -> list[dict]:
        """Feeds in a failing episode this channel has not reported yet."""
        return self.query(
            "select f.* from feeds f where f.failing_since is not null and f.removed_at is null "
            "and (f.consecutive_errors >= ? or f.disabled_reason is not null) "
            "and not exists (select 1 from feed_reports r where r.channel = ? and r.feed_id = f.id "
            "and r.state = 'failing' and r.since = f.failing_since) order by f.id",
            [min_errors, channel],
        )

    def recovered_feeds_unreported(self, channel: str) -> list[dict]:
        """Feeds whose reported failing episode has ended, with ``episode_since`` set."""
        return self.query(
            "select f.*, r.since as episode_since from feed_reports r join feeds f on f.id = r.feed_id "
            "where r.channel = ? and r.state = 'failing' "
            "and (f.failing_since is null or f.failing_since != r.since) "
            "and not exists (select 1 from feed_reports x where x.channel = r.channel "
            "and x.feed_id = r.feed_id and x.state = 'recovered' and x.since = r.since) "
            "order by f.id",
            [channel],
        )

    # -- the outbox ---------------------------------------------------------------------

    def insert_digest(
        self,
        *,
        channel: str,
        kind: str,
        message_id: str,
        created_at: str,
        subject: str,
        body_text: str,
        body_html: str,
        payload: str,
        change_keys: list[str],
        feed_reports: list[tuple[int, str, str]],
    ) -> int:
        """Write a pending digest with the changes and feed states it carries.

        Call inside :meth:`transaction`, together with the reads that chose the changes.
        A change already held by another digest of the channel (a look back) is not moved.
        """
        cursor = self.db.execute(
            "insert into digests (channel, kind, message_id, created_at, status, subject, change_count, "
            "feed_count, body_text, body_html, payload) values (?,?,?,?, 'pending', ?,?,?,?,?,?)",
            [channel, kind, message_id, created_at, subject, len(change_keys), len(feed_reports),
             body_text, body_html, payload],
        )
        digest_id = cursor.lastrowid
        for key in change_keys:
            self.db.execute(
                "insert or ignore into digest_changes (digest_id, channel, change_key) values (?,?,?)",
                [digest_id, channel, key],
            )
        for feed_id, state, since in feed_reports:
            self.db.execute(
                "insert or ignore into feed_reports (digest_id, channel, feed_id, state, since) "
                "values (?,?,?,?,?)",
                [digest_id, channel, feed_id, state, since],
            )
        return digest_id

    def unsent_digests(self, channel: str, *, due_at: str | None = None) -> list[dict]:
        """Digests of the channel not yet accepted, oldest first. With ``due_at``, only those
        whose backoff has passed (never-tried and crashed-mid-send ones are always due)."""
        sql = "select * from digests where channel = ? and status != 'sent'"
        params: list[Any] = [channel]
        if due_at is not None:
            sql += " and (status = 'pending' or (next_attempt_at is not null and next_attempt_at <= ?))"
            params.append(due_at)
        return self.query(sql + " order by id", params)

    def claim_digest(
        self, digest_id: int, owner: str, now: str, until: str, holder_gone: Callable[[str], bool]
    ) -> dict | None:
        """Claim an unsent digest for sending and count the attempt (before sending, so a
        crash mid-send still shows it). None when it was sent meanwhile, or another job
        holds a lease on it that has not run out and whose holder (``holder_gone``) lives."""
        with self.transaction():
            rows = self.query("select * from digests where id = ?", [digest_id])
            if not rows or rows[0]["status"] == "sent":
                return None
            row = rows[0]
            held = row["claimed_by"] and row["claimed_until"] and row["claimed_until"] > now
            if held and row["claimed_by"] != owner and not holder_gone(row["claimed_by"]):
                return None
            self.db.execute(
                "update digests set attempts = attempts + 1, last_attempt_at = ?, claimed_by = ?, "
                "claimed_until = ? where id = ?",
                [now, owner, until, digest_id],
            )
            return self.query("select * from digests where id = ?", [digest_id])[0]

    def add_delivered(self, digest_id: int, recipients: list[str]) -> None:
        """Record recipients the server accepted, so a retry goes only to the others."""
        with self.transaction():
            [row] = self.query("select delivered_to from digests where id = ?", [digest_id])
            done = json.loads(row["delivered_to"] or "[]")
            done += [r for r in recipients if r not in done]
            self.db.execute("update digests set delivered_to = ? where id = ?", [json.dumps(done), digest_id])

    def mark_sent(self, digest_id: int, now: str) -> None:
        with self.transaction():
            self.db.execute(
                "update digests set status = 'sent', sent_at = ?, error = null, next_attempt_at = null, "
                "claimed_by = null, claimed_until = null where id = ?",
                [now, digest_id],
            )

    def mark_failed(self, digest_id: int, error: str, next_attempt_at: str | None) -> None:
        with self.transaction():
            self.db.execute(
                "update digests set status = 'failed', error = ?, next_attempt_at = ?, claimed_by = null, "
                "claimed_until = null where id = ?",
                [error, next_attempt_at, digest_id],
            )

    def digest(self, digest_id: int) -> dict | None:
        rows = self.query("select * from digests where id = ?", [digest_id])
        return rows[0] if rows else None

    def list_digests(self, *, channel: str | None = None, limit: int = 50,
                     subscription: str | None = None) -> list[dict]:
        """Newest first, without the bodies. ``channel`` also matches subscription lanes on
        that channel (``email/<name>/<address>``); ``subscription`` only that one's lanes."""
        clauses, params = [], []
        if channel:
            clauses.append("(channel = ? or channel like ?)")
            params += [channel, channel + "/%"]
        if subscription:
            clauses.append("(channel like ? or channel like ?)")
            params += [f"%/{subscription}", f"%/{subscription}/%"]
        where = "where " + " and ".join(clauses) if clauses else ""
        return self.query(
            f"select {', '.join(DIGEST_LIST_COLUMNS)} from digests {where} order by id desc limit ?",
            [*params, limit],
        )

    def delivered_change_keys(self, channel: str) -> set[str]:
        """Keys of changes in digests the channel's server accepted."""
        rows = self.db.execute(
            "select d.change_key from digest_changes d join digests g on g.id = d.digest_id "
            "where d.channel = ? and g.status = 'sent'",
            [channel],
        )
        return {r[0] for r in rows}
