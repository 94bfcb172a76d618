"""Read-side queries for the history commands (history, terms, show, search, export, prune).

They read the views of :mod:`watcher.store.views`, so the commands show exactly what a user gets
from ``sqlite-utils query`` or Datasette; JSON columns come back decoded.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from watcher.store.core import BadQuery, StoreError, _chunks

_JSON_COLUMNS = ("values", "responses", "sources", "before", "after")


def _decode(row: dict) -> dict:
    """Decode the JSON text columns of a row, so callers handle plain objects."""
    for key in _JSON_COLUMNS:
        if isinstance(row.get(key), str):
            try:
                row[key] = json.loads(row[key])
            except ValueError:
                pass
    return row


# What ``search`` gives for each hit, in order (both kinds of hit have the same columns).
SEARCH_COLUMNS = ("hit", "article_id", "snapshot_id", "version", "conflict", "proposer", "category",
                  "title", "url", "outlet", "seen_at", "snippet")


class HistoryQueries:
    """Mixed into :class:`watcher.store.Store`; uses its ``db``, ``query`` and ``transaction``."""

    # Provided by CoreStore (declared, not defined: a definition here would shadow it).
    db: Any
    path: Path | None
    query: Any
    transaction: Any

    # -- terms --------------------------------------------------------------------------

    def term_history(
        self,
        *,
        conflict: str | None = None,
        proposer: str | None = None,
        category: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Observations of terms, oldest first by when they were reported (``reported_at``:
        the story's published time); with ``limit`` the newest ``limit`` of them.

        A report is never published after it was read, so the newest ``limit`` by
        ``reported_at`` all have ``observed_at`` at or after the oldest ``reported_at`` among
        the newest ``limit`` by ``observed_at``: that bound lets the ``observed_at`` index
        answer the query instead of sorting the whole timeline."""
        where, params = _filters(conflict=conflict, proposer=proposer, category=category)
        if since:
            where += ["observed_at >= ?", "reported_at >= ?"]
            params += [since, since]
        if limit:
            bound_sql = _select("term_timeline", list(where), list(params), "observed_at desc, term_id desc",
                                limit, columns="reported_at")
            bound = self.query(f"select min(reported_at) as m from ({bound_sql})", [*params, limit])[0]["m"]
            if bound is not None:
                where.append("observed_at >= ?")
                params.append(bound)
        sql = _select("term_timeline", where, params, "reported_at desc, term_id desc", limit)
        return [_decode(r) for r in reversed(self.query(sql, params))]

    def ledger_rows(self, *, conflict: str | None = None, proposer: str | None = None) -> list[dict]:
        """The current ledger (one row per conflict, proposer and category)."""
        where, params = _filters(conflict=conflict, proposer=proposer)
        sql = _select("latest_terms", where, params, "conflict, proposer, category")
        return [_decode(r) for r in self.query(sql, params)]

    def terms_as_of(
        self, moment: str, *, conflict: str | None = None, proposer: str | None = None
    ) -> list[dict]:
        """Per conflict, proposer and category, the last report published on or before
        ``moment`` (``reported_at``, ties by id): what the terms looked like on that date (by
        the latest report, not the ledger fold).

        A report is never published after it was read, so it is found among (a) the term's
        reports read by ``moment`` since the publication of the last one read by then, two
        indexed lookups per term, and (b) the reports read after ``moment`` of stories
        published before it (an old feed's first poll, a late first read), found once for
        all terms from the snapshots read since ``moment``. No scan of the whole timeline."""
        where, params = _filters(conflict=conflict, proposer=proposer)
        keys_sql = _select("ledger", where, params, "conflict, proposer, category",
                           columns="conflict, proposer, category")
        best: dict[tuple, dict] = {}

        def consider(row: dict) -> None:
            key = (row["conflict"], row["proposer"], row["category"])
            held = best.get(key)
            if held is None or (row["reported_at"], row["term_id"]) > (held["reported_at"], held["term_id"]):
                best[key] = row

        keys = self.query(keys_sql, params)
        for key in keys:
            term = [key["conflict"], key["proposer"], key["category"]]
            bound = self.query(
                "select reported_at from term_timeline where conflict = ? and proposer = ? and category = ? "
                "and observed_at <= ? order by observed_at desc, term_id desc limit 1", [*term, moment])
            if bound:
                found = self.query(
                    "select * from term_timeline where conflict = ? and proposer = ? and category = ? "
                    "and observed_at <= ? and observed_at >= ? order by reported_at desc, term_id desc limit 1",
                    [*term, moment, bound[0]["reported_at"]])
                for row in found:
                    consider(row)
        late = [r["article_id"] for r in self.query(
            "select distinct s.article_id from snapshots s join articles a on a.id = s.article_id "
            "where s.fetched_at > ? and s.kind != 'edit' and a.published_at <= ?", [moment, moment])]
        wanted = {(k["conflict"], k["proposer"], k["category"]) for k in keys}
        for chunk in _chunks(late, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.query(f"select * from term_timeline where article_id in ({marks}) and observed_at > ? "
                                  "and reported_at <= ?", [*chunk, moment, moment]):
                if (row["conflict"], row["proposer"], row["category"]) in wanted:
                    consider(row)
        return [_decode(best[k]) for k in sorted(best)]

    # -- articles -----------------------------------------------------------------------

    def find_article(self, ref: str, canonical: str | None = None) -> dict | None:
        """An article by id, by its stored (canonical) URL, or by ``canonical``: the URL as
        a feed gave it, canonicalised by the caller (the store knows no URL rules)."""
        ref = ref.strip()
        if ref.isdigit() and len(ref) < 19:  # a SQLite integer holds at most 19 digits
            rows = self.query("select * from articles where id = ?", [int(ref)])
            if rows:
                return rows[0]
        for url in dict.fromkeys(u for u in (ref, canonical) if u):
            rows = self.query("select * from articles where url = ?", [url])
            if rows:
                return rows[0]
        return None

    def article_rows(self) -> list[dict]:
        """Every article (id, url, title, source, latest_version), in the order first seen."""
        return self.query("select id, url, title, source, latest_version from articles order by id")

    def article_history(self, article_id: int) -> dict:
        """An article, each of its versions (with diff and terms) and the changes it caused."""
        article = self.query("select * from articles where id = ?", [article_id])[0]
        article["relevance_matched"] = _loads(article.get("relevance_matched"), [])
        article["feeds"] = self.query(
            "select f.id as feed_id, coalesce(f.name, f.title, f.url) as feed, af.first_seen_at "
            "from article_feeds af join feeds f on f.id = af.feed_id where af.article_id = ? "
            "order by af.first_seen_at, f.id",
            [article_id],
        )
        versions = self.query(
            "select * from article_versions where article_id = ? order by version", [article_id]
        )
        for version in versions:
            version["terms"] = [
                _decode(t)
                for t in self.query(
                    'select id as term_id, conflict, proposer, category, stance, precondition, "values", '
                    "responses, quote, span_start, span_end from terms where snapshot_id = ? "
                    "order by span_start, id",
                    [version["snapshot_id"]],
                )
            ]
        changes = [
            _decode(c)
            for c in self.query(
                "select * from recent_changes where article_id = ? order by detected_at, change_id",
                [article_id],
            )
        ]
        return {"article": article, "versions": versions, "changes": changes}

    # -- search -------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 20, raw: bool = False) -> list[dict]:
        """Full-text search over snapshot titles and text and over term quotes, best first.

        Terms read from the same sentence of the same version are one hit (their
        proposers and categories comma-joined). The query is quoted word by word unless ``raw`` (then FTS5 syntax: AND, OR, NEAR,
        "phrases", prefix*), so punctuation in a plain query never raises a syntax error."""
        match = text if raw else self.db.quote_fts(text)
        try:
            return self._search(match, limit)
        except sqlite3.OperationalError as err:
            # FTS5 syntax the user wrote with --raw is SQLite's plain error; a read broken
            # off (locked, I/O, interrupted) is the database's, not a bad query
            if raw and err.sqlite_errorcode == sqlite3.SQLITE_ERROR:
                raise BadQuery(str(err)) from None
            raise StoreError(f"cannot search {self.path}: {err}") from None

    def _search(self, match: str, limit: int) -> list[dict]:
        snapshot_hits = self.query(
            """select 'snapshot' as hit, s.article_id, s.id as snapshot_id, s.version,
                      null as conflict, null as proposer, null as category,
                      coalesce(s.title, a.title) as title, a.url, a.source as outlet,
                      s.fetched_at as seen_at,
                      snippet(snapshots_fts, -1, '«', '»', '…', 16) as snippet,
                      snapshots_fts.rank as rank
               from snapshots_fts
               join snapshots s on s.rowid = snapshots_fts.rowid
               join articles a on a.id = s.article_id
               where snapshots_fts match :q order by snapshots_fts.rank limit :limit""",
            {"q": match, "limit": limit},
        )
        term_rows = self.query(
            """select 'term' as hit, t.article_id, t.snapshot_id, s.version,
                      t.conflict, t.proposer, t.category,
                      a.title, a.url, coalesce(t.source, a.source) as outlet,
                      t.observed_at as seen_at, t.quote,
                      snippet(terms_fts, 0, '«', '»', '…', 24) as snippet,
                      terms_fts.rank as rank
               from terms_fts
               join terms t on t.rowid = terms_fts.rowid
               join snapshots s on s.id = t.snapshot_id
               join articles a on a.id = t.article_id
               where terms_fts match :q order by terms_fts.rank limit :limit""",
            {"q": match, "limit": limit * 10},
        )
        grouped: dict[tuple, dict] = {}
        for row in term_rows:
            key = (row["snapshot_id"], row.pop("quote"))
            if key in grouped:
                hit = grouped[key]
                for column in ("proposer", "category"):
                    if row[column] not in hit[column].split(","):
                        hit[column] += "," + row[column]
            else:
                grouped[key] = row
        rows = sorted([*snapshot_hits, *grouped.values()], key=lambda r: (r["rank"], r["hit"]))[:limit]
        for row in rows:
            row.pop("rank", None)
        return rows

    # -- changes ------------------------------------------------------------------------

    def changes_in_order(self) -> list[dict]:
        """Every change as stored, in the order written."""
        return self.query("select * from changes order by id")

    def change_rows(
        self, *, conflict: str | None = None, since: str | None = None, limit: int | None = None
    ) -> list[dict]:
        """Term changes, newest first (the Atom export and the docs' 'this week')."""
        where, params = _filters(conflict=conflict)
        if since:
            where.append("detected_at >= ?")
            params.append(since)
        sql = _select("recent_changes", where, params, "detected_at desc, change_id desc", limit)
        return [_decode(r) for r in self.query(sql, params)]

    # -- feeds --------------------------------------------------------------------------

    def feed_details(self) -> dict[str, dict]:
        """What polling learnt about each configured feed (its own title, its site), by
        config URL, for the OPML export."""
        rows = self.query("select config_url, url, title, site_url from feeds")
        return {row["config_url"]: row for row in rows}

    # -- retention ----------------------------------------------------------------------

    def prune(self, cutoff: str, *, dry_run: bool = False) -> dict[str, int]:
        """Delete poll rows started before ``cutoff`` and empty the text of article
        versions fetched before it, except each article's latest version. Terms, changes,
        diffs and the versions' rows stay, so history and provenance survive."""
        old_texts = """
            from snapshots s
            where s.fetched_at < :cutoff and s.text is not null
              and s.version < (select max(s2.version) from snapshots s2 where s2.article_id = s.article_id)"""
        params = {"cutoff": cutoff}
        polls = self.db.execute("select count(*) from polls where started_at < :cutoff", params).fetchone()[0]
        texts, text_bytes = self.db.execute(
            f"select count(*), coalesce(sum(length(cast(s.text as blob))), 0) {old_texts}", params
        ).fetchone()
        result = {"polls": polls, "texts": texts, "text_bytes": text_bytes}
        if dry_run or not (polls or texts):
            return result
        with self.transaction():
            self.db.execute("delete from polls where started_at < :cutoff", params)
            self.db.execute(f"update snapshots set text = null where id in (select s.id {old_texts})", params)
        return result

    def file_size(self) -> int:
        """Bytes on disk of the database and its WAL (after a checkpoint)."""
        if self.path is None:
            return 0
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.path.getsize(f"{self.path}{suffix}")
            except OSError:
                pass
        return total

    def vacuum(self) -> None:
        """Give freed pages back to the file system (rewrites the whole file)."""
        self.db.execute("VACUUM")


def _select(
    source: str, where: list[str], params: list[Any], order: str, limit: int | None = None,
    *, columns: str = "*",
) -> str:
    """``select columns from source [where ...] order by ... [limit ?]``; appends the limit
    to ``params``."""
    sql = f"select {columns} from {source}"
    if where:
        sql += " where " + " and ".join(where)
    sql += f" order by {order}"
    if limit:
        sql += " limit ?"
        params.append(limit)
    return sql


def _filters(**values: str | None) -> tuple[list[str], list[Any]]:
    where, params = [], []
    for column, value in values.items():
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    return where, params


def _loads(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default
