"""The pipeline's CPU stages in a real process pool: a worker that dies, and a stage that
runs past `watcher.cpu_timeout` (a feed that keeps a parser busy for minutes must cost its
own poll, not a worker for good). Standard-library functions stand in for the stages."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from watcher.config import parse_config
from watcher.pipeline import Pipeline, StageTimeout
from watcher.store import Store

pytestmark = pytest.mark.timeout(120)


def die_once(marker: str) -> str:
    """Kill the worker process running it, the first time only (a worker killed for memory)."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return "survived"


def pipeline_for(tmp_path, **watcher: object) -> Pipeline:
    settings = {"database": str(tmp_path / "w.db"), "workers": 2, **watcher}
    config = parse_config({"watcher": settings, "feeds": []}, base=tmp_path)
    return Pipeline(config, Store.open(config.watcher.database))


def test_a_stage_past_its_deadline_stops_its_pool_and_the_others_run_again(tmp_path):
    async def run() -> None:
        async with pipeline_for(tmp_path, cpu_timeout="2s") as pipeline:
            first_pool = pipeline.executor
            stuck = asyncio.create_task(pipeline._cpu(time.sleep, 600))
            await asyncio.sleep(1.5)
            # running in the other worker of the same pool when that pool is stopped
            bystander = asyncio.create_task(pipeline._cpu(time.sleep, 1.0))
            with pytest.raises(StageTimeout, match=r"sleep took longer than 2s \(watcher.cpu_timeout\)"):
                await stuck
            assert await bystander is None  # ran again in the new pool
            assert pipeline.executor is not first_pool
            assert await pipeline._cpu(pow, 2, 10) == 1024

    asyncio.run(run())


def test_a_dead_worker_is_replaced_once_for_all_the_tasks_it_broke(tmp_path, caplog):
    """Every task in the broken pool notices; only the first replaces it (a second
    replacement would shut down, with its queue, the pool the first one's retry went to)."""

    async def run() -> None:
        async with pipeline_for(tmp_path) as pipeline:
            first_pool = pipeline.executor
            dying = asyncio.create_task(pipeline._cpu(die_once, str(tmp_path / "died")))
            queued = [asyncio.create_task(pipeline._cpu(time.sleep, 0.3)) for _ in range(4)]
            assert await asyncio.gather(dying, *queued) == ["survived", None, None, None, None]
            assert pipeline.executor is not first_pool
            assert caplog.text.count("a worker process died") == 1
            with pytest.raises(BrokenProcessPool):  # a task that kills every worker it gets
                await pipeline._cpu(os._exit, 1)
            assert await pipeline._cpu(pow, 3, 3) == 27

    asyncio.run(run())


def test_a_feed_that_keeps_the_parser_busy_fails_its_own_poll_only(loopback, tmp_path):
    """feedparser's author e-mail regex is quadratic: an 80 KB <author> of "a.a.a...@" takes
    it ~17 s. Made ill-formed (an undefined entity) the feed goes to feedparser, runs into
    the deadline, and fails with the reason; the good feed beside it is stored as usual."""
    from watcher.demo import article_page, rss_feed, seed_stories

    stories = seed_stories()
    for story in stories:
        loopback.add(f"/world/{story.slug}.html", article_page(story),
                     content_type="text/html; charset=utf-8")
    loopback.add("/good.xml", rss_feed(stories, loopback.base_url))
    loopback.add("/busy.xml", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Busy&nbsp;feed</title><item>'
        f"<title>x</title><link>{loopback.base_url}/x</link><author>{'a.' * 40_000}@</author>"
        "</item></channel></rss>").encode())
    feeds = [{"url": loopback.url("/good.xml"), "name": "good"},
             {"url": loopback.url("/busy.xml"), "name": "busy"}]
    config = parse_config({"watcher": {"database": str(tmp_path / "w.db"), "workers": 2,
                                       "allow_private": True, "cpu_timeout": "2s"},
                           "feeds": feeds}, base=tmp_path)
    store = Store.open(config.watcher.database)

    async def run() -> list:
        async with Pipeline(config, store) as pipeline:
            return await pipeline.poll(all_feeds=True)

    reports = {r.feed: r for r in asyncio.run(run())}
    assert reports["good"].outcome == "ok" and reports["good"].articles_new == len(stories)
    assert reports["busy"].outcome == "error"
    assert "parse_for_poll took longer than 2s (watcher.cpu_timeout)" in reports["busy"].error
    feed = store.query("select * from feeds where name = 'busy'")[0]
    assert feed["consecutive_errors"] == 1  # backs off like any failing feed
