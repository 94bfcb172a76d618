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


def test_an_article_past_the_deadline_is_remembered_not_rechecked(loopback, tmp_path):
    """Issue 14.10: an article whose reading ran past `cpu_timeout` was re-checked, and its
    worker pool stopped again, for seven days. Its re-checks now end there."""
    from watcher.demo import article_page, rss_feed, seed_stories

    stories = seed_stories()[:1]
    loopback.add(f"/world/{stories[0].slug}.html", article_page(stories[0]), content_type="text/html")
    loopback.add("/feed.xml", rss_feed(stories, loopback.base_url))
    config = parse_config({"watcher": {"database": str(tmp_path / "w.db"), "workers": 2, "allow_private": True},
                           "feeds": [{"url": loopback.url("/feed.xml")}]}, base=tmp_path)
    store = Store.open(config.watcher.database)

    async def run() -> None:
        async with Pipeline(config, store) as pipeline:
            await pipeline.poll(all_feeds=True)
            config.watcher.cpu_timeout = 0.001  # no page can be read in a millisecond
            assert await pipeline.check_articles(force=True) == 0
            hits = loopback.hits(f"/world/{stories[0].slug}.html")
            assert await pipeline.check_articles(force=True) == 0
            assert loopback.hits(f"/world/{stories[0].slug}.html") == hits  # not even fetched again

    asyncio.run(run())
    [article] = store.query("select * from articles")
    assert article["next_check_at"] is None
    assert "read_article took longer than" in article["last_check_error"]


def test_a_run_on_sentence_is_read_in_capped_pieces():
    """Issue 14.10: one sentence's cost grew with the square of its length (a 150 KB run-on
    took a minute). Sentences are cut at MAX_SENTENCE, with exact offsets; real news
    sentences are untouched."""
    from pathlib import Path

    from watcher.terms.extractor import MAX_SENTENCE, _capped
    from watcher.terms.textprep import sentences

    text = "Talks\n\n" + "Russia demands that Ukraine withdraw its troops from Kherson and " * 2000
    pieces = _capped(sentences(text))
    assert len(pieces) > 60 and all(p.end - p.start <= MAX_SENTENCE for p in pieces)
    assert all(text[p.start:p.end] == p.text for p in pieces)
    for seed in (Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"):
        real = sentences(seed.read_text(encoding="utf-8"))
        assert _capped(real) is real


@pytest.mark.slow
@pytest.mark.timeout(90)  # quadratic, the 300 KB below took about four minutes
def test_extracting_a_300_kb_run_on_sentence_finishes():
    from watcher.terms import extract

    unit = ("Russia demands that Ukraine withdraw its troops from Kherson and Ukraine proposes a ceasefire "
            "while Hamas frees hostages and Israel withdraws forces from Gaza and ")
    result = extract("Peace talks\n\n" + unit * (300_000 // len(unit)))
    assert result.terms


def test_the_gc_pause_of_a_first_load_gives_the_gc_back_as_it_found_it():
    """``gcpause.gc_paused`` (the article stage's first read, the fork server's warm-ups, the
    extractor's model) turns the cyclic GC back on after itself, even on an error, and leaves
    it off if it was off."""
    import gc

    from watcher.gcpause import gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def _lines_run(code: object, call: object, stop_at: int = 0) -> list[int]:
    """The lines ``call()`` runs in ``code``, in order; with ``stop_at``, a KeyboardInterrupt
    raised at that many-th line (what a Ctrl-C between two statements does)."""
    import sys

    run: list[int] = []

    def local(frame, event, arg):  # noqa: ANN001, ANN202
        if event == "line":
            run.append(frame.f_lineno)
            if len(run) == stop_at:
                raise KeyboardInterrupt
        return local

    sys.settrace(lambda frame, event, arg: local if frame.f_code is code else None)
    try:
        call()
    except KeyboardInterrupt:
        pass
    finally:
        sys.settrace(None)
    return run


def test_a_ctrl_c_as_the_gc_is_paused_does_not_leave_it_off() -> None:
    """A KeyboardInterrupt at any line from the pause's start up to the paused work (e.g. right
    after ``gc.disable()``, before the ``try`` whose ``finally`` turns it back on) leaves
    the collector on: it would stay off for the rest of the process."""
    import gc
    import inspect

    from watcher.gcpause import gc_paused

    def paused_stretch() -> None:
        with gc_paused():
            pass

    code = gc_paused.__wrapped__.__code__
    source = inspect.getsource(code).splitlines()
    line = lambda n: source[n - code.co_firstlineno].strip()  # noqa: E731
    run = _lines_run(code, paused_stretch)
    entering = run[: next(i for i, n in enumerate(run) if line(n).startswith("yield")) + 1]
    assert len(entering) >= 3
    try:
        for k, n in enumerate(entering, 1):
            _lines_run(code, paused_stretch, stop_at=k)
            assert gc.isenabled(), f"a KeyboardInterrupt at {line(n)!r} left the GC off"
    finally:
        gc.enable()
