"""A full disk (issue 14.13): the daemon loses nothing, logs once per episode, fetches
nothing it could not store, backs off, and resumes when writes succeed again.

SQLite's own limit stands in for the disk: ``PRAGMA max_page_count`` at the file's size
makes every write that needs another page fail with SQLITE_FULL, as a full disk does."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
from projection import STORIES, good_feeds, make_config, publish_good

from watcher.demo import Story, article_page, rss_feed
from watcher.loopback import LoopbackServer
from watcher.pipeline import Pipeline
from watcher.store import Store

pytestmark = pytest.mark.timeout(60)


def fill(store: Store) -> None:
    """Use up every free page of the file and forbid new ones."""
    conn = store.db.conn
    conn.execute("create table if not exists filler (b blob)")
    conn.execute(f"pragma max_page_count = {conn.execute('pragma page_count').fetchone()[0]}")
    while True:
        try:
            conn.execute("insert into filler values (zeroblob(500))")
        except sqlite3.OperationalError as err:
            assert "full" in str(err)
            return


def make_room(store: Store) -> None:
    store.db.conn.execute("pragma max_page_count = 1073741823")
    store.db.conn.execute("delete from filler")


def test_a_full_disk_pauses_polling_logs_once_and_resumes(loopback: LoopbackServer, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watcher")
    publish_good(loopback)
    config = make_config(tmp_path / "w.db", good_feeds(loopback))
    store = Store.open(config.watcher.database)
    later = [Story(f"{s.slug}b", s.title + " (follow-up)", s.text + "\n\nMore talks are planned.", s.published)
             for s in STORIES]

    def fetches() -> int:
        return sum(r.path.startswith(("/good", "/world")) for r in loopback.requests)

    async def run() -> None:
        async with Pipeline(config, store) as pipeline:
            await pipeline.poll(all_feeds=True)  # the baseline, stored
            for s in later:
                loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html")
            for path in ("/good1.xml", "/good2.xml"):
                loopback.add(path, rss_feed(STORIES + later, loopback.base_url))
            before = store.query("select count(*) as n from snapshots")[0]["n"]
            fill(store)
            await pipeline.writer.write(fill)  # the limit is per connection: the writer's too

            failed = await pipeline.poll(all_feeds=True)
            assert {r.outcome for r in failed} == {"error"}
            assert caplog.text.count("the disk is full") == 1 and "Traceback" not in caplog.text
            seen = fetches()
            for _ in range(3):  # within the pause: nothing fetched, nothing logged
                skipped = await pipeline.poll(all_feeds=True)
                assert {r.outcome for r in skipped} == {"skipped"}
                assert await pipeline.check_articles(force=True) == 0
            assert fetches() == seen
            assert caplog.text.count("the disk is full") == 1

            make_room(store)
            await pipeline.writer.write(make_room)
            pipeline.disk_full_pause_scale = 0  # the pause is over
            probe = await pipeline.poll(all_feeds=True)
            assert sorted(r.outcome for r in probe) == ["ok", "skipped"]  # one poll probes
            assert "writes succeed again" in caplog.text
            rest = await pipeline.poll(all_feeds=True)
            assert "skipped" not in {r.outcome for r in rest}
            after = store.query("select count(*) as n from snapshots")[0]["n"]
            assert after == before + len(later)  # nothing lost

    asyncio.run(run())


def test_only_sqlite_full_is_a_full_disk() -> None:
    """Any SQLite error that mentions "full" used to count as a full disk and pause polling."""
    import sqlite3

    from watcher.store import is_disk_full

    db = sqlite3.connect(":memory:")
    db.execute("create table x (a)")
    try:
        db.execute("select fullname from x")
    except sqlite3.OperationalError as err:
        assert not is_disk_full(err)
    db.execute("pragma max_page_count = 1")
    try:
        db.execute("create table y (b)")
        db.executemany("insert into x values (?)", [("z" * 4000,)] * 10)
    except sqlite3.OperationalError as err:
        assert is_disk_full(err), err
    else:
        raise AssertionError("a one-page database took the rows")
