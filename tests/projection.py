"""The good feeds of the failure tests (test_pipeline, test_faults) and what they store, and
the poll those tests (and test_security, test_pipeline_shared_reads) run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from watcher.config import Config, parse_config
from watcher.demo import Story, article_page, rss_feed, seed_stories
from watcher.loopback import LoopbackServer
from watcher.pipeline import Pipeline
from watcher.store import Store

GOOD = ("good one", "good two")
STORIES = seed_stories()


def make_config(db: Path, feeds: list[dict], **watcher: object) -> Config:
    settings = {"database": str(db), "allow_private": True, "workers": 1, "timeout": "2s", "interval": "15m"}
    settings.update(watcher)
    return parse_config({"watcher": settings, "feeds": feeds}, base=db.parent)


def poll(config: Config, store: Store | None = None, *, all_feeds: bool = True) -> tuple[Store, list]:
    """One `Pipeline.poll` into `store` (default: the config's database, opened here)."""
    store = store or Store.open(config.watcher.database)

    async def run() -> list:
        async with Pipeline(config, store) as pipeline:
            return await pipeline.poll(all_feeds=all_feeds)

    return store, asyncio.run(run())


def publish(server: LoopbackServer, path: str, stories: list[Story]) -> str:
    """Serve `stories`' article pages and an RSS feed of them at `path`; returns its URL."""
    for s in stories:
        server.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html; charset=utf-8")
    return server.add(path, rss_feed(stories, server.base_url))


def good_feeds(server: LoopbackServer) -> list[dict]:
    return [{"url": server.url("/good1.xml"), "name": GOOD[0]}, {"url": server.url("/good2.xml"), "name": GOOD[1]}]


def publish_good(server: LoopbackServer) -> list[dict]:
    """The two good feeds, both carrying every seed story; returns their config entries."""
    publish(server, "/good1.xml", STORIES)
    publish(server, "/good2.xml", STORIES)
    return good_feeds(server)


def projection(store: Store, *, with_polls: bool = True) -> dict:
    """What the good feeds ("good one", "good two") produced, without ids, times or the
    server's port: a bad feed polled beside them must leave this exactly as it is."""

    def path(url: str) -> str:
        return urlsplit(url).path

    good = "where a.url like '%/world/%'"
    names = ",".join(f"'{n}'" for n in GOOD)
    return {
        "entries": sorted(
            (r["name"], path(r["url"]), r["title"], r["published_at"], r["relevant"])
            for r in store.query(f"select e.*, f.name from entries e join feeds f on f.id = e.feed_id "
                                 f"where f.name in ({names})")
        ),
        "polls": None if not with_polls else sorted(
            (r["name"], r["outcome"], r["http_status"], r["entries_seen"], r["entries_new"], r["error"])
            for r in store.query(f"select p.*, f.name from polls p join feeds f on f.id = p.feed_id "
                                 f"where f.name in ({names})")
        ),
        "articles": sorted(
            (path(r["url"]), r["title"], r["latest_version"])
            for r in store.query(f"select * from articles a {good}")
        ),
        "snapshots": sorted(
            (path(r["url"]), r["version"], r["content_hash"], r["text_source"])
            for r in store.query(f"select s.*, a.url from snapshots s join articles a on a.id = s.article_id {good}")
        ),
        "terms": sorted(
            (r["conflict"], r["proposer"], r["category"], r["stance"], r["values"], r["quote"])
            for r in store.query('select conflict, proposer, category, stance, "values", quote from terms')
        ),
        "changes": sorted(
            (r["kind"], r["conflict"], r["proposer"], r["category"], r["summary"])
            for r in store.query("select * from changes")
        ),
        "ledger": sorted(
            (r["conflict"], r["proposer"], r["category"], r["stance"], r["values"], r["source_count"])
            for r in store.query('select * from ledger')
        ),
    }
