"""Index maintenance off the write path: the pipeline's store merges full-text segments and
checkpoints the WAL between polls, and search finds the same things (real SQLite)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from projection import STORIES, make_config, poll, publish

from watcher.loopback import LoopbackServer
from watcher.pipeline import Pipeline
from watcher.store import Store


def fts_setting(store: Store, fts: str, key: str) -> int | None:
    row = store.db.execute(f"select v from [{fts}_config] where k = ?", [key]).fetchone()
    return row[0] if row else None


def test_the_pipeline_defers_merging_and_checkpoints_and_search_still_finds(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    publish(loopback, "/feed.xml", STORIES)
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/feed.xml"), "name": "f"}])
    store, reports = poll(config)
    assert reports[0].outcome == "ok"
    for fts in ("snapshots_fts", "terms_fts"):
        assert fts_setting(store, fts, "automerge") == 0
        assert fts_setting(store, fts, "crisismerge") == 64
    assert store.db.execute("pragma wal_autocheckpoint").fetchone()[0] == 0
    word = STORIES[0].title.split()[0]
    found = store.search(word)
    store.maintain()
    assert store.search(word) == found and found
    # many small writes, one segment each, then the merge step: search is unchanged
    for i in range(30):
        with store.transaction():
            store.db.execute("update snapshots set title = title || ? where id = 1", [f" {i}"])
    before = store.search(word)
    store.maintain(pages=2000)
    assert store.search(word) == before
    store.close()


def test_checkpoints_keep_the_wal_small(loopback: LoopbackServer, tmp_path: Path, monkeypatch) -> None:
    publish(loopback, "/feed.xml", STORIES)
    feeds = [{"url": loopback.url("/feed.xml") + f"?n={i}", "name": f"f{i}"} for i in range(12)]
    config = make_config(tmp_path / "w.db", feeds)
    monkeypatch.setattr(Pipeline, "CHECKPOINT_EVERY", 3)
    store = Store.open(config.watcher.database)
    calls = []
    real = store.checkpoint

    def counted() -> None:
        calls.append(1)
        real()

    store.checkpoint = counted  # type: ignore[method-assign]

    async def run() -> None:
        async with Pipeline(config, store) as pipeline:
            await pipeline.poll(all_feeds=True)
            assert pipeline._stored == 12

    asyncio.run(run())
    assert 1 <= len(calls) <= 4  # in threads, every 3 stored polls (one at a time)
    store.close()


def test_ledger_entries_read_every_terms_latest_changes_in_one_go(demo_template: Path, tmp_path: Path) -> None:
    """ledger_entries gave each term its latest report's change rows with one query per term;
    one query for all gives the same rows (here: every term of the demo's ledger at once)."""
    path = tmp_path / "w.db"
    shutil.copy(demo_template, path)
    store = Store.open(path)
    keys = {(r["conflict"], r["proposer"], r["category"]) for r in store.query("select * from ledger")}
    entries = store.ledger_entries(keys | {("nowhere", "nobody", "ceasefire")})
    assert entries[("nowhere", "nobody", "ceasefire")] is None
    with_changes = 0
    for key in keys:
        expected = store.query(
            "select kind, summary, term_id, source, before, after from changes where snapshot_id = ("
            "select snapshot_id from changes where conflict = ? and proposer = ? and category = ? "
            "order by id desc limit 1) and conflict = ? and proposer = ? and category = ? order by id", [*key, *key])
        for r in expected:
            r["before"] = json.loads(r["before"]) if r["before"] else None
            r["after"] = json.loads(r["after"]) if r["after"] else None
        assert entries[key]["last_change_rows"] == expected, key
        with_changes += bool(expected)
    store.close()
    assert len(keys) > 5 and with_changes == len(keys)
