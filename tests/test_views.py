"""Views, indexes and full-text search on a database built from the seeds, and through
the sqlite-utils command line exactly as a user would run it."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from watcher.demo import WIRE_STORY
from watcher.store import Store, views

SQLITE_UTILS = Path(sys.executable).with_name("sqlite-utils")


@pytest.fixture
def store(seed_db: Path, tmp_path: Path):
    """A private copy of the seed database, opened."""
    db = tmp_path / "copy.db"
    shutil.copy(seed_db, db)
    s = Store.open(db)
    yield s
    s.close()


def rows(db: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def count(db: Path, table: str) -> int:
    return rows(db, f"select count(*) as n from {table}")[0]["n"]


def test_every_view_exists_and_answers(seed_db: Path) -> None:
    for name in views.VIEWS:
        assert rows(seed_db, f"select * from {name}"), name


def test_latest_terms_is_the_ledger_with_provenance(seed_db: Path) -> None:
    got = rows(seed_db, "select * from latest_terms")
    assert len(got) == count(seed_db, "ledger")
    row = next(r for r in got if r["category"] == "neutrality")
    assert row["conflict"] == "russia-ukraine" and row["proposer"] == "russia"
    assert row["source_count"] == 1 and row["first_seen_at"] and row["last_seen_at"]
    assert "neutral" in row["last_quote"] and row["last_article_url"].endswith("/world/004.html")
    assert row["last_article_title"] and row["last_source"]
    assert json.loads(row["values"]) is not None


def test_term_timeline_has_every_observation_oldest_first(seed_db: Path) -> None:
    got = rows(seed_db, "select * from term_timeline")
    assert len(got) == count(seed_db, "terms")
    assert [r["term_id"] for r in got] == sorted(r["term_id"] for r in got)
    assert all(r["article_url"] and r["article_title"] and r["outlet"] and r["observed_at"] for r in got)
    assert {r["version"] for r in got} == {1, 2}


def test_recent_changes_newest_first_with_articles(seed_db: Path) -> None:
    got = rows(seed_db, "select * from recent_changes")
    assert len(got) == count(seed_db, "changes")
    assert [r["change_id"] for r in got] == sorted((r["change_id"] for r in got), reverse=True)
    assert {"new", "revised"} <= {r["kind"] for r in got}
    assert all(r["article_url"] and r["summary"] and r["key"] for r in got)
    week = rows(seed_db, "select * from recent_changes where detected_at >= datetime('now', '-7 days')")
    assert len(week) == len(got)


def test_article_versions(seed_db: Path) -> None:
    got = rows(seed_db, "select * from article_versions")
    assert len(got) == count(seed_db, "snapshots") == 4
    # seed 000 (#1), seed 004 (#2) edited once, Demo Wire's story (#3)
    assert [(r["article_id"], r["version"]) for r in got] == [(1, 1), (2, 1), (2, 2), (3, 1)]
    assert [r["url"].rsplit("/", 2)[1:] for r in got if r["version"] == 1] == [
        ["world", "000.html"], ["world", "004.html"], ["wire", "wire-kharkiv.html"]]
    edited = [r for r in got if r["url"].endswith("/world/004.html")]
    assert [(r["version"], r["has_diff"], r["is_latest"]) for r in edited] == [(1, 0, 0), (2, 1, 1)]
    assert all(r["is_latest"] == 1 and r["has_diff"] == 0 for r in got if r["article_id"] != 2)
    assert all(r["terms"] > 0 and r["text_pruned"] == 0 for r in got)
    seeds = [r for r in got if r["article_id"] != 3]
    assert all(r["chars"] > 1000 for r in seeds)  # the seeds' whole text, not the feed's summary
    [wire] = [r for r in got if r["article_id"] == 3]  # the wire's whole (short) story: headline + body
    assert wire["chars"] == len(f"{WIRE_STORY.title}\n\n{WIRE_STORY.text}")
    assert "Kharkiv" in edited[1]["diff"]
    assert sum(r["changes"] for r in got) == count(seed_db, "changes")


def test_feed_health_ok_and_failing(store: Store) -> None:
    # the demo polls both feeds in each of its three poll rounds (its fourth round re-checks articles)
    health = store.query("select * from feed_health order by feed_id")
    assert [(r["feed"], r["state"], r["polls_24h"], r["failed_24h"], r["error_rate_24h"], r["polls_7d"])
            for r in health] == [("Demo News", "ok", 3, 0, 0, 3), ("Demo Wire", "ok", 3, 0, 0, 3)]
    [row] = store.query("select * from feed_health where feed = 'Demo News'")
    assert row["state"] == "ok" and row["polls_24h"] == 3 and row["failed_24h"] == 0
    assert row["error_rate_24h"] == 0 and row["polls_7d"] == 3
    with store.transaction():
        store.db.execute(
            "insert into polls (feed_id, started_at, duration_ms, outcome, error) "
            "values (?, datetime('now', '-1 hour'), 5, 'error', 'timed out after 20s')", [row["feed_id"]])
        store.db.execute(
            "insert into polls (feed_id, started_at, duration_ms, outcome) "
            "values (?, datetime('now', '-3 days'), 5, 'ok')", [row["feed_id"]])
        store.db.execute(
            "update feeds set consecutive_errors = 1, last_error = 'timed out after 20s', "
            "failing_since = datetime('now', '-1 hour') where id = ?", [row["feed_id"]])
    [row] = store.query("select * from feed_health where feed = 'Demo News'")
    assert row["state"] == "failing" and row["last_error"] == "timed out after 20s" and row["failing_since"]
    assert (row["polls_24h"], row["failed_24h"], row["error_rate_24h"]) == (4, 1, 0.25)
    assert (row["polls_7d"], row["failed_7d"]) == (5, 1)
    [other] = store.query("select * from feed_health where feed = 'Demo Wire'")  # untouched
    assert (other["state"], other["polls_24h"], other["failed_24h"], other["polls_7d"]) == ("ok", 3, 0, 3)
    store.db.execute("update feeds set disabled_reason = '410 Gone' where id = ?", [row["feed_id"]])
    assert [r["state"] for r in store.query("select state from feed_health order by feed_id")] == ["disabled", "ok"]


def test_ensure_is_idempotent_and_writes_nothing_when_current(store: Store) -> None:
    schema = store.query("select type, name, sql from sqlite_master order by name")
    before = store.db.conn.total_changes
    views.ensure(store.db)
    views.ensure(store.db)
    assert store.db.conn.total_changes == before
    assert store.query("select type, name, sql from sqlite_master order by name") == schema


def test_history_indexes_exist_and_are_used(store: Store) -> None:
    names = {r["name"] for r in store.query("select name from sqlite_master where type = 'index'")}
    assert set(views.INDEXES) <= names
    plan = " ".join(
        str(r[3]) for r in store.db.execute(
            "explain query plan select * from term_timeline where conflict = 'russia-ukraine' "
            "order by observed_at desc, term_id desc limit 200")
    )
    assert "terms_conflict_observed" in plan, plan
    assert "SCAN t " not in plan + " "


@pytest.mark.parametrize("table", sorted(views.FTS_TABLES))
def test_transform_drops_fts_triggers_and_opening_restores_them(store: Store, table: str) -> None:
    """sqlite-utils' Table.transform() rebuilds a table without its triggers; the next
    open (views.ensure after migrations) must put them back and re-index."""
    path = store.path
    store.db[table].transform()
    triggers = {r["name"] for r in store.query(
        "select name from sqlite_master where type = 'trigger' and tbl_name = ?", [table])}
    assert not triggers & {f"{table}_ai", f"{table}_ad", f"{table}_au"}  # the trap is real
    store.close()
    reopened = Store.open(path)
    try:
        triggers = {r["name"] for r in reopened.query(
            "select name from sqlite_master where type = 'trigger' and tbl_name = ?", [table])}
        assert {f"{table}_ai", f"{table}_ad", f"{table}_au"} <= triggers
        # old rows are still found, and a new row is found without any rebuild
        assert reopened.search("neutral", limit=50)
        with reopened.transaction():
            if table == "snapshots":
                reopened.db.execute(
                    "insert into snapshots (article_id, version, fetched_at, content_hash, title, text, "
                    "text_source) values (1, 99, datetime('now'), 'x', 'Zanzibar accord', "
                    "'A quokka ceasefire was agreed.', 'page')")
            else:
                reopened.db.execute(
                    "insert into terms (snapshot_id, article_id, observed_at, conflict, proposer, category, "
                    "stance, quote) values (1, 1, datetime('now'), 'c', 'p', 'ceasefire', 'proposed', "
                    "'A quokka ceasefire was agreed.')")
        hits = reopened.search("quokka")
        assert [h["hit"] for h in hits] == [table[:-1]]
        with reopened.transaction():
            reopened.db.execute(f"delete from {table} where id = (select max(id) from {table})")
        assert reopened.search("quokka") == []
    finally:
        reopened.close()


# --- the sqlite-utils command line itself ---------------------------------------------


def sqlite_utils(*args: str) -> str:
    result = subprocess.run([str(SQLITE_UTILS), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sqlite_utils_tables_counts(seed_db: Path) -> None:
    tables = {t["table"]: t["count"] for t in json.loads(sqlite_utils("tables", str(seed_db), "--counts"))}
    assert tables["terms"] == count(seed_db, "terms") and tables["changes"] == count(seed_db, "changes")
    assert {"feeds", "polls", "articles", "snapshots", "ledger", "snapshots_fts", "terms_fts"} <= set(tables)
    listed = {v["view"] for v in json.loads(sqlite_utils("views", str(seed_db)))}
    assert set(views.VIEWS) <= listed


def test_sqlite_utils_query_on_a_view(seed_db: Path) -> None:
    out = json.loads(sqlite_utils(
        "query", str(seed_db),
        "select category, stance, last_article_url from latest_terms where proposer = :p order by category",
        "-p", "p", "russia"))
    assert "neutrality" in [r["category"] for r in out]
    csv = sqlite_utils("query", str(seed_db), "select feed, state from feed_health", "--csv")
    assert csv.splitlines()[0] == "feed,state"


def test_sqlite_utils_search(seed_db: Path) -> None:
    terms = json.loads(sqlite_utils("search", str(seed_db), "terms", "neutral", "-c", "category", "-c", "quote"))
    assert terms and all("neutral" in r["quote"].lower() for r in terms)
    snapshots = json.loads(sqlite_utils("search", str(seed_db), "snapshots", "Kharkiv", "-c", "article_id",
                                        "-c", "version"))
    # only seed 004's edited version (#2 v2) and Demo Wire's story (#3) name Kharkiv
    assert sorted((r["article_id"], r["version"]) for r in snapshots) == [(2, 2), (3, 1)]
