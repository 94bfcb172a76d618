"""The pipeline's writes run in a thread of their own, on a connection of their own: a write
that waits (here for another process's write lock, as a digest run or `watcher extract
--store` can hold it) never stops the event loop, so fetches and parses go on meanwhile;
each poll is still stored once, in one transaction, when the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from projection import make_config, publish_good

from watcher.loopback import LoopbackServer
from watcher.pipeline import Pipeline
from watcher.store import Store

pytestmark = pytest.mark.timeout(60)
HOLD = 2.0  # seconds another connection holds the write lock


def test_a_waiting_write_does_not_stop_the_event_loop(loopback: LoopbackServer, tmp_path: Path) -> None:
    config = make_config(tmp_path / "w.db", publish_good(loopback))
    store = Store.open(config.watcher.database)
    blocker = sqlite3.connect(config.watcher.database, isolation_level=None, check_same_thread=False)
    seen_while_locked: list[str] = []

    def release() -> None:
        seen_while_locked.extend(r.path for r in loopback.requests)
        blocker.execute("ROLLBACK")

    async def run() -> tuple[list, float]:
        async with Pipeline(config, store) as pipeline:
            gaps = [0.0]

            async def ticker() -> None:
                last = time.monotonic()
                while True:
                    await asyncio.sleep(0.02)
                    now = time.monotonic()
                    gaps.append(now - last)
                    last = now

            ticking = asyncio.create_task(ticker())
            blocker.execute("BEGIN IMMEDIATE")  # every write waits for this lock
            threading.Timer(HOLD, release).start()
            reports = await pipeline.poll(all_feeds=True)
            ticking.cancel()
            return reports, max(gaps)

    reports, longest_gap = asyncio.run(run())
    assert {r.outcome for r in reports} == {"ok"}
    assert longest_gap < HOLD / 2  # the loop ran while the writes waited
    # both feeds and the stories' pages were fetched before the lock was let go
    assert {"/good1.xml", "/good2.xml"} <= set(seen_while_locked)
    assert any(p.startswith("/world/") for p in seen_while_locked)
    _each_poll_and_story_once(store, polls=2)
    blocker.close()
    store.close()


def _each_poll_and_story_once(store: Store, *, polls: int) -> None:
    """Each poll stored once, every story once, each in one version."""
    assert store.query("select count(*) as n from polls")[0]["n"] == polls
    urls = [r["url"] for r in store.query("select url from articles")]
    assert urls and len(urls) == len(set(urls))
    versions = store.query("select article_id, count(*) as n from snapshots group by article_id")
    assert {r["n"] for r in versions} == {1}


def test_a_cancelled_poll_is_still_stored_once_and_close_waits_for_it(loopback: LoopbackServer,
                                                                      tmp_path: Path) -> None:
    """A sweep out of time or a daemon stopping cancels polls whose writes are queued: what
    was fetched and read is stored all the same, each poll once, before `aclose` returns."""
    config = make_config(tmp_path / "w.db", publish_good(loopback))
    store = Store.open(config.watcher.database)
    blocker = sqlite3.connect(config.watcher.database, isolation_level=None, check_same_thread=False)

    async def run() -> None:
        async with Pipeline(config, store) as pipeline:
            blocker.execute("BEGIN IMMEDIATE")  # the writes wait: one in the thread, one queued
            polling = asyncio.create_task(pipeline.poll(all_feeds=True))
            writer = pipeline.writer
            deadline = time.monotonic() + 30
            while writer._thread._work_queue.qsize() < 1:  # one write waiting in the thread, one queued
                assert time.monotonic() < deadline, "the polls' writes were never queued"
                await asyncio.sleep(0.02)
            polling.cancel()
            with pytest.raises(asyncio.CancelledError):
                await polling
            assert store.query("select count(*) as n from polls")[0]["n"] == 0
            threading.Timer(0.3, blocker.execute, ["ROLLBACK"]).start()
        # aclose waited for the queued writes

    asyncio.run(run())
    _each_poll_and_story_once(store, polls=2)
    blocker.close()
    store.close()
