"""The history commands (history, terms, show, search, datasette-metadata, prune) on a
database built from the seeds by the real pipeline (watcher.demo.build_demo_db)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.cli.common import parse_when
from watcher.store import Store


def write_config(folder: Path, db: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[watcher]\ndatabase = "{db}"\nlog_level = "WARNING"\n\n'
        '[[feeds]]\nurl = "https://example.org/feed.xml"\nname = "Example"\n'
    )
    return config


@pytest.fixture(scope="module")
def config(seed_db: Path) -> Path:
    return write_config(seed_db.parent, seed_db)


def run(config: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [args[0], "--config", str(config), *args[1:]], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def json_lines(text: str) -> list[dict]:
    """The rows of a list command's --json: one JSON array (docs/output.md)."""
    rows = json.loads(text)
    assert isinstance(rows, list)
    return rows


# --- history -------------------------------------------------------------------------


def test_history_lists_every_report_oldest_first(config: Path, seed_db: Path) -> None:
    rows = json_lines(run(config, "history", "--json", "--limit", "0"))
    with sqlite3.connect(seed_db) as conn:
        assert len(rows) == conn.execute("select count(*) from terms").fetchone()[0]
    assert [r["term_id"] for r in rows] == sorted(r["term_id"] for r in rows)
    assert isinstance(rows[0]["values"], dict)  # JSON columns decoded
    assert {"observed_at", "outlet", "article_url", "article_title", "stance", "quote", "version"} <= set(rows[0])


def test_history_filters(config: Path) -> None:
    rows = json_lines(run(config, "history", "--conflict", "russia-ukraine", "--proposer", "russia",
                          "--category", "neutrality", "--json"))
    assert rows and all(r["category"] == "neutrality" and r["proposer"] == "russia" for r in rows)
    assert "neutral" in rows[0]["quote"]
    assert json_lines(run(config, "history", "--since", "2999-01-01", "--json")) == []
    assert json_lines(run(config, "history", "--since", "1d", "--json"))
    limited = json_lines(run(config, "history", "--limit", "3", "--json"))
    assert len(limited) == 3


def test_history_table_and_bad_since(config: Path) -> None:
    out = run(config, "history", "--category", "neutrality")
    assert "term reports" in out and "neutrality" in out
    result = CliRunner().invoke(cli, ["history", "--config", str(config), "--since", "last tuesday"])
    assert result.exit_code == 2 and "expected a date" in result.output


def test_parse_when_forms() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 6, 24, 12, 0, tzinfo=UTC)
    assert parse_when("7d", now=now) == "2024-06-17 12:00:00"
    assert parse_when("2024-06-01", now=now) == "2024-06-01 00:00:00"
    assert parse_when("2024-06-01T10:00+02:00", now=now) == "2024-06-01 08:00:00"


def test_reading_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    out = run(write_config(tmp_path, db), "history", code=1)
    assert "no database" in out and not db.exists()


# --- terms ---------------------------------------------------------------------------


def test_terms_is_the_ledger(config: Path, seed_db: Path) -> None:
    rows = json_lines(run(config, "terms", "--json"))
    with sqlite3.connect(seed_db) as conn:
        assert len(rows) == conn.execute("select count(*) from ledger").fetchone()[0]
    neutrality = [r for r in rows if r["category"] == "neutrality"]
    assert neutrality and neutrality[0]["last_article_url"].endswith("/world/004.html")
    assert "terms in the ledger" in run(config, "terms", "--conflict", "russia-ukraine")


def test_terms_as_of_a_date(config: Path) -> None:
    today = json_lines(run(config, "terms", "--as-of", parse_when("1s")[:10], "--proposer", "russia", "--json"))
    keys = [(r["conflict"], r["proposer"], r["category"]) for r in today]
    assert len(keys) == len(set(keys)) and all(r["proposer"] == "russia" for r in today)
    assert {"neutrality", "troop_withdrawal"} <= {r["category"] for r in today}
    withdrawal = next(r for r in today if r["category"] == "troop_withdrawal")
    assert withdrawal["version"] == 2  # the latest report: the edited article
    assert json_lines(run(config, "terms", "--as-of", "2000-01-01", "--json")) == []


# --- show ----------------------------------------------------------------------------


def test_show_by_id_and_url(config: Path, seed_db: Path) -> None:
    with sqlite3.connect(seed_db) as conn:
        article_id, url = conn.execute("select id, url from articles where latest_version = 2").fetchone()
    detail = json.loads(run(config, "show", str(article_id), "--json"))
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][0]["diff"] is None and "+" in detail["versions"][1]["diff"]
    assert all(v["terms"] for v in detail["versions"])
    assert any(c["kind"] == "revised" for c in detail["changes"])
    assert json.loads(run(config, "show", url, "--json"))["article"]["id"] == article_id
    tracked = url + "?utm_source=rss"  # as a feed gave it: found by its canonical form
    assert json.loads(run(config, "show", tracked, "--json"))["article"]["id"] == article_id
    out = run(config, "show", str(article_id))
    assert "version 2" in out and "Kharkiv" in out


def test_show_unknown_article(config: Path) -> None:
    assert "no article" in run(config, "show", "https://example.org/nope", code=1)


# --- search --------------------------------------------------------------------------


def test_search_finds_text_and_quotes(config: Path) -> None:
    rows = json_lines(run(config, "search", "neutral status", "--json"))
    hits = {r["hit"] for r in rows}
    assert hits == {"term", "snapshot"}
    assert all("«neutral»" in r["snippet"] for r in rows)
    term = next(r for r in rows if r["hit"] == "term")
    assert "neutrality" in term["category"] and isinstance(term["proposer"], list)  # lists, not "a,b"
    assert "matches for" in run(config, "search", "Kharkiv")


def test_search_plain_punctuation_is_safe_and_raw_errors_are_usage_errors(config: Path) -> None:
    run(config, "search", 'AND "(', "--json")
    assert "bad search query" in run(config, "search", 'AND "(', "--raw", code=2)
    rows = json_lines(run(config, "search", "NEAR(neutral status, 2)", "--raw", "--json"))
    assert rows


# --- datasette -----------------------------------------------------------------------


def test_datasette_metadata_canned_queries_run(config: Path, seed_db: Path) -> None:
    meta = json.loads(run(config, "datasette-metadata"))
    database = meta["databases"]["watcher"]  # keyed by the database file's stem
    with sqlite3.connect(seed_db) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
        assert set(database["tables"]) <= names
        article_id = conn.execute("select id from articles where latest_version = 2").fetchone()[0]
        params = {"conflict": "russia-ukraine", "proposer": "russia", "category": "neutrality",
                  "date": parse_when("1s")[:10], "article_id": article_id, "q": "neutral"}
        for name, query in database["queries"].items():
            assert query["title"] and query["description"]
            rows = conn.execute(query["sql"], params).fetchall()
            if name != "failing_feeds":
                assert rows, name
    assert "description" in meta


def test_datasette_metadata_follows_the_database_name(tmp_path: Path, seed_db: Path) -> None:
    db = tmp_path / "news-history.db"
    shutil.copy(seed_db, db)
    meta = json.loads(run(write_config(tmp_path, db), "datasette-metadata"))
    assert list(meta["databases"]) == ["news-history"]


# --- prune ---------------------------------------------------------------------------


@pytest.fixture
def aged_db(tmp_path: Path, seed_db: Path) -> tuple[Path, Path]:
    """A copy of the seed database whose polls and first versions are a year old."""
    db = tmp_path / "aged.db"
    store = Store.open(seed_db)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    shutil.copy(seed_db, db)
    with sqlite3.connect(db) as conn:
        conn.execute("update polls set started_at = datetime('now', '-365 days')")
        conn.execute("update snapshots set fetched_at = datetime('now', '-365 days') where version = 1")
    return db, write_config(tmp_path, db)


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("polls", "snapshots", "terms", "changes", "ledger", "articles")}


def test_prune_dry_run_changes_nothing(aged_db: tuple[Path, Path]) -> None:
    db, config = aged_db
    before = _counts(db)
    report = json.loads(run(config, "prune", "--older-than", "90d", "--dry-run", "--json"))
    assert report["polls"] == before["polls"] > 0 and report["texts"] == 1
    assert _counts(db) == before
    assert "would remove" in run(config, "prune", "--older-than", "90d", "--dry-run")


def test_prune_keeps_latest_versions_terms_and_changes(aged_db: tuple[Path, Path]) -> None:
    db, config = aged_db
    before = _counts(db)
    out = run(config, "prune", "--older-than", "90d", "--vacuum")
    assert f"removed {before['polls']} poll rows" in out and "text of 1 old article" in out and "vacuumed" in out
    after = _counts(db)
    assert after["polls"] == 0
    assert {k: v for k, v in after.items() if k != "polls"} == {k: v for k, v in before.items() if k != "polls"}
    with sqlite3.connect(db) as conn:
        texts = conn.execute(
            "select a.latest_version, s.version, s.text is null, s.diff is not null from snapshots s "
            "join articles a on a.id = s.article_id order by s.id").fetchall()
    for latest, version, pruned, _ in texts:
        assert pruned == (version < latest)  # only the old version of the edited article
    # the full-text index followed (trigger): the pruned version no longer matches
    rows = json_lines(run(config, "search", "neutral", "--json"))
    assert {r["version"] for r in rows if r["hit"] == "snapshot"} == {2}
    assert json.loads(run(config, "show", "2", "--json"))["versions"][0]["text_pruned"] == 1
    assert "removed 0 poll rows" in run(config, "prune", "--older-than", "90d")


def test_prune_rejects_a_bad_age(config: Path) -> None:
    assert "expected" in run(config, "prune", "--older-than", "soon", code=2)
