"""Read-side queries of the timeline report (``watcher report``): one conflict's reports
(oldest first by publication, as ``watcher history`` orders them), term observations,
changes (in the order the ledger made them, so each change's ``before`` is the state the
previous one left) and ledger rows."""

from __future__ import annotations

from typing import Any

from watcher.store.views import reported_sql


class TimelineQueries:
    """Mixed into :class:`watcher.store.Store`; uses its ``query``."""

    query: Any  # CoreStore's

    def timeline_conflicts(self) -> list[str]:
        """Every conflict with a term or a change on record."""
        rows = self.query("select conflict from terms union select conflict from changes order by 1")
        return [r["conflict"] for r in rows]

    def timeline_reports(self, conflict: str, since: str | None = None) -> list[dict]:
        """The article versions that reported a term of, or changed, the conflict: the columns
        of the timeline, oldest first by when they were reported (``reported_at``, as
        ``watcher history`` and the ``term_timeline`` view order them: the story's published
        time, never later than when it was read; an edit's and an undated story's read time).
        ``feed`` is the outlet as ``watcher history`` names it: the feed's name, else its title."""
        return self.query(
            "select s.id as snapshot_id, s.article_id, s.version, s.kind, s.fetched_at, s.baseline, "
            "coalesce(s.title, a.title) as title, a.url, a.source as outlet, a.published_at, "
            "coalesce(f.name, f.title) as feed, "
            f"{reported_sql('s.fetched_at')} as reported_at "
            "from snapshots s join articles a on a.id = s.article_id left join feeds f on f.id = a.first_feed_id "
            "where s.id in ("
            "  select snapshot_id from terms where conflict = :c and observed_at >= :since"
            "  union select snapshot_id from changes where conflict = :c and detected_at >= :since) "
            "order by reported_at, s.id",
            {"c": conflict, "since": since or ""},
        )

    def timeline_terms(self, conflict: str, since: str | None = None) -> list[dict]:
        """Every report of a term of the conflict, oldest first."""
        return self.query(
            'select id, snapshot_id, article_id, source, observed_at, proposer, category, stance, precondition, '
            '"values", responses, quote from terms where conflict = :c and observed_at >= :since '
            "order by observed_at, id",
            {"c": conflict, "since": since or ""},
        )

    def timeline_state_before(self, conflict: str, since: str) -> list[dict]:
        """Where each (proposer, category) stood just before ``since``: the ``after`` of its
        last change then (a change is written whenever a report moves the ledger)."""
        return self.query(
            "select proposer, category, after from ("
            "  select *, row_number() over (partition by proposer, category order by id desc) as n"
            "  from changes where conflict = :c and detected_at < :since) where n = 1",
            {"c": conflict, "since": since},
        )

    def timeline_changes(self, conflict: str, since: str | None = None) -> list[dict]:
        """Every change of the conflict in the order the ledger made them, with its article."""
        return self.query(
            "select c.id, c.key, c.detected_at, c.proposer, c.category, c.kind, c.summary, c.before, c.after, "
            "c.quote, c.source, c.url, c.snapshot_id, c.baseline, a.title "
            "from changes c left join articles a on a.id = c.article_id "
            "where c.conflict = :c and c.detected_at >= :since order by c.id",
            {"c": conflict, "since": since or ""},
        )

    def timeline_ledger(self, conflict: str) -> list[dict]:
        """Where each term of the conflict stands now, with the outlets that reported it."""
        return self.query(
            'select proposer, category, stance, precondition, "values", responses, sources, source_count, '
            "first_seen_at, last_seen_at from ledger where conflict = ? order by category, proposer",
            [conflict],
        )
