"""Many feeds carrying the same wire story in one cycle: the page is fetched and read once,
and the database ends up exactly as when each feed is polled on its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from projection import poll

from watcher.config import parse_config
from watcher.demo import article_page, rss_feed, seed_stories
from watcher.loopback import LoopbackServer
from watcher.store import Store

pytestmark = pytest.mark.timeout(60)


def _run(db: Path, urls: list[str]) -> Store:
    config = parse_config(
        {"watcher": {"database": str(db), "allow_private": True, "workers": 1, "timeout": "5s"},
         "feeds": [{"url": u} for u in urls]},
        base=db.parent,
    )
    return poll(config)[0]


def test_one_read_for_a_story_in_many_feeds(loopback: LoopbackServer, tmp_path: Path) -> None:
    stories = seed_stories()
    for s in stories:
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html; charset=utf-8")
    urls = [loopback.add(f"/feed{i}.xml", rss_feed(stories, loopback.base_url, title=f"Feed {i}"))
            for i in range(6)]
    store = _run(tmp_path / "many.db", urls)
    pages = [r for r in loopback.requests if r.path.startswith("/world/")]
    assert len(pages) == len(stories)  # one fetch per story, not one per feed
    assert store.query("select count(*) as n from snapshots")[0]["n"] == len(stories)
    assert store.query("select count(*) as n from article_feeds")[0]["n"] == len(stories) * len(urls)
    assert {r["latest_version"] for r in store.query("select latest_version from articles")} == {1}
    many = store.query("select conflict, proposer, category, stance from ledger order by 1, 2, 3")
    store.close()

    single = _run(tmp_path / "one.db", urls[:1])
    assert single.query("select conflict, proposer, category, stance from ledger order by 1, 2, 3") == many
    single.close()
