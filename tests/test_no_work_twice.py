"""Do no work twice: a rejected feed body and an unchanged article page are not parsed,
scored or extracted again; an article re-check sweep ends within its time budget. Real
loopback server, real SQLite; the CPU stages are counted by wrapping them in-process
(`workers = 1` runs them in a thread of this process)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from projection import STORIES, make_config, poll, publish

from watcher import pipeline as pipeline_mod
from watcher.demo import article_page, edited
from watcher.loopback import LoopbackServer
from watcher.pipeline import Pipeline
from watcher.store import Store

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"parse_for_poll": 0, "read_article": 0}
    for name in calls:
        real = getattr(pipeline_mod, name)

        def wrapper(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        wrapper.__name__ = name
        monkeypatch.setattr(pipeline_mod, name, wrapper)
    return calls


def test_a_rejected_body_is_not_parsed_again_until_it_changes(
    loopback: LoopbackServer, tmp_path: Path, counted: dict[str, int]
) -> None:
    for conditional in (True, False):  # a 304, then a 200 with the same bytes
        path = f"/page-{conditional}.xml"
        loopback.add(path, "<html><body><p>Not a feed</p></body></html>", content_type="text/html",
                     conditional=conditional)
        config = make_config(tmp_path / f"w{conditional}.db", [{"url": loopback.url(path), "name": "bad"}])
        counted["parse_for_poll"] = 0
        store, first = poll(config)
        assert first[0].outcome == "rejected" and counted["parse_for_poll"] == 1
        _, again = poll(config, store)
        assert again[0].outcome == "rejected" and again[0].error.startswith(first[0].error)
        assert counted["parse_for_poll"] == 1  # not parsed again
        assert again[0].http_status == (304 if conditional else 200)
        row = store.query("select consecutive_errors, last_error, note from feeds f join polls p on "
                          "p.feed_id = f.id order by p.id desc limit 1")[0]
        assert row["consecutive_errors"] == 2  # still failing, still backing off
        assert row["note"] == "same body as last time; not parsed again"
        assert "not a feed" in row["last_error"]
        # the body changes: it is read again (and here is a feed at last)
        publish(loopback, path, STORIES[:1])
        _, fixed = poll(config, store)
        assert fixed[0].outcome == "ok" and counted["parse_for_poll"] == 2
        store.close()


def test_reset_forgets_a_rejected_body(loopback: LoopbackServer, tmp_path: Path, counted: dict[str, int]) -> None:
    loopback.add("/bad.xml", "<html><body>nope</body></html>", content_type="text/html")
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/bad.xml"), "name": "bad"}])
    store, _ = poll(config)
    store.reset_feed(store.feeds()[0]["id"])
    _, again = poll(config, store)
    assert again[0].outcome == "rejected" and again[0].http_status == 200
    assert counted["parse_for_poll"] == 2  # parsed afresh after the reset


def check(config, store: Store, **kwargs) -> int:
    async def run() -> int:
        async with Pipeline(config, store) as pipeline:
            return await pipeline.check_articles(force=True, **kwargs)

    return asyncio.run(run())


def test_an_unchanged_article_page_is_not_read_again(
    loopback: LoopbackServer, tmp_path: Path, counted: dict[str, int]
) -> None:
    publish(loopback, "/feed.xml", STORIES)
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/feed.xml"), "name": "f"}])
    store, _ = poll(config)
    reads = counted["read_article"]
    assert check(config, store) == 0  # first re-check: read once, its page remembered
    assert counted["read_article"] == reads + len(STORIES)
    assert check(config, store) == 0  # unchanged (304): nothing read or extracted
    assert counted["read_article"] == reads + len(STORIES)
    stored = store.query("select page_hash, check_count from articles")
    assert all(r["page_hash"] and r["check_count"] == 2 for r in stored)
    # an edited page is read, and is an edit
    loopback.add(f"/world/{STORIES[1].slug}.html", article_page(edited(STORIES[1])), content_type="text/html")
    assert check(config, store) == 1
    assert counted["read_article"] == reads + len(STORIES) + 1
    store.close()


def test_an_unchanged_page_without_validators_is_known_by_its_hash(
    loopback: LoopbackServer, tmp_path: Path, counted: dict[str, int]
) -> None:
    publish(loopback, "/feed.xml", STORIES[:1])
    loopback.add(f"/world/{STORIES[0].slug}.html", article_page(STORIES[0]), content_type="text/html",
                 conditional=False)
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/feed.xml"), "name": "f"}])
    store, _ = poll(config)
    check(config, store)
    reads = counted["read_article"]
    check(config, store)
    assert counted["read_article"] == reads
    store.close()


def test_a_sweep_ends_within_its_budget_and_leaves_the_rest_due(loopback: LoopbackServer, tmp_path: Path) -> None:
    publish(loopback, "/feed.xml", STORIES)
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/feed.xml"), "name": "f"}],
                         timeout="30s")
    store, _ = poll(config)
    for s in STORIES:  # pages that take 5 s to answer
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html", delay=5.0)
    before = store.query("select id, next_check_at, check_count from articles order by id")
    t0 = time.monotonic()
    assert check(config, store, budget=0.5) == 0
    assert time.monotonic() - t0 < 4.0  # not the 5 s a page takes
    after = store.query("select id, next_check_at, check_count from articles order by id")
    assert after == before  # nothing recorded: still due, taken by the next sweep
    store.close()
