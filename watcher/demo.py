"""The demo's news site and rounds: the whole pipeline on the two seed articles, over loopback.

A loopback HTTP server plays a news site: an RSS feed and article pages (with navigation,
related links and a footer, as real pages have). Round one publishes seed 000, round two
adds seed 004, round three a second outlet's follow-up, round four edits seed 004's page so
the re-check stores version 2. ``watcher.cli.demo`` prints what each round stored.

The same builders serve the tests and benchmarks, so the demo is exercised by CI.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.config import Config, parse_config

if TYPE_CHECKING:
    from watcher.loopback import LoopbackServer


@dataclass
class Story:
    slug: str
    title: str
    text: str  # the article's body text, paragraphs separated by blank lines
    published: datetime


def seed_stories() -> list[Story]:
    """The two seed articles shipped with the package, oldest first."""
    from watcher.terms import title_of

    stories = []
    folder = resources.files("watcher") / "data" / "seeds"
    base = datetime(2024, 6, 20, 9, 0, tzinfo=UTC)
    for i, name in enumerate(sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))):
        text = (folder / name).read_text(encoding="utf-8")
        title = title_of(text)
        body = _body_without_title(text, title)
        stories.append(Story(name.split("_")[0], title, body, base + timedelta(days=4 * i)))
    return stories


def _body_without_title(text: str, title: str) -> str:
    """Paragraphs after the headline (page furniture before it is the site's, not the story's)."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    if title in paragraphs:
        paragraphs = paragraphs[paragraphs.index(title) + 1 :]
    while paragraphs and paragraphs[0] == title:
        paragraphs.pop(0)
    return "\n\n".join(paragraphs)


def article_page(story: Story, site: str = "Demo News") -> str:
    """A realistic article page: navigation, headline, paragraphs, related links, footer."""
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in story.text.split("\n\n"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(story.title)} | {site}</title>
<meta property="og:title" content="{html.escape(story.title)}">
<meta name="author" content="Staff reporter">
<meta property="article:published_time" content="{story.published.isoformat()}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics</a>
<a href="/subscribe">Subscribe</a></nav></header>
<main><article>
<h1>{html.escape(story.title)}</h1>
<p class="byline">By Staff reporter · {story.published:%d %B %Y}</p>
{paragraphs}
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Markets close higher</a></li>
<li><a href="/b">Storm warning for the coast</a></li></ul></aside></main>
<footer><p>© {site}. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


def rss_feed(stories: list[Story], base_url: str, title: str = "Demo News", path: str = "/world") -> str:
    """An RSS 2.0 feed of the stories, newest first, linking to their pages under ``path``."""
    items = []
    for s in sorted(stories, key=lambda s: s.published, reverse=True):
        link = f"{base_url}{path}/{s.slug}.html?utm_source=rss&utm_medium=feed"
        summary = s.text.split("\n\n")[0]
        items.append(
            f"<item><title>{html.escape(s.title)}</title><link>{html.escape(link)}</link>"
            f"<guid isPermaLink=\"false\">demo-{s.slug}</guid>"
            f"<pubDate>{format_datetime(s.published)}</pubDate>"
            f"<description>{html.escape(summary)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>{base_url}/</link>"
        f"<description>World news</description>{''.join(items)}</channel></rss>"
    )


def demo_config(db: Path, feed_url: str, wire_url: str) -> Config:
    return parse_config(
        {
            "watcher": {
                "database": str(db),
                "allow_private": True,  # the demo's site is on loopback
                "workers": 1,
                "timeout": "10s",
            },
            "feeds": [{"url": feed_url, "name": "Demo News"}, {"url": wire_url, "name": "Demo Wire"}],
            "digest": {"channels": ["console"]},
        },
        base=db.parent,
    )


def edited(story: Story) -> Story:
    """Seed 004 as its outlet might revise it: a wider withdrawal demand."""
    text = story.text.replace(
        "as well as the Kherson and Zaporozhye regions.",
        "as well as the Kherson, Zaporozhye and Kharkiv regions.",
    )
    return Story(story.slug, story.title, text, story.published)


# A follow-up from a second outlet, written for the demo (the seeds are the real reporting):
# it widens a term the seeds reported, which the ledger records as a change.
WIRE_STORY = Story(
    "wire-kharkiv",
    "Kremlin widens its withdrawal demand to the Kharkiv region",
    "Russia now wants Ukrainian forces to leave the Kharkiv region as well before any peace talks "
    "can begin, Kremlin spokesman Dmitry Peskov told reporters on Thursday.\n\n"
    "Peskov said Moscow would be ready to open talks only if Ukraine withdrew all its troops from "
    "the Donetsk, Luhansk, Kherson, Zaporizhzhia and Kharkiv regions.\n\n"
    "Kyiv has not yet responded to the new demand.",
    datetime(2024, 6, 27, 9, 0, tzinfo=UTC),
)


def _publish(server: LoopbackServer, prefix: str, stories: list[Story], site: str) -> None:
    for s in stories:
        server.add(f"{prefix}/{s.slug}.html", article_page(s, site), content_type="text/html; charset=utf-8")
    server.add(f"{prefix}/feed.xml", rss_feed(stories, server.base_url, site, path=prefix))


async def _rounds(config: Config, news: LoopbackServer, wire: LoopbackServer, stories: list[Story], out: list) -> None:
    from watcher.pipeline import Pipeline
    from watcher.store import Store

    store = Store.open(config.watcher.database)
    async with Pipeline(config, store) as pipeline:
        _publish(wire, "/wire", [], "Demo Wire")
        for n in range(len(stories)):
            _publish(news, "/world", stories[: n + 1], "Demo News")
            reports = await pipeline.poll(all_feeds=True)
            what = "the first poll is the baseline" if n == 0 else "seed 004 is added"
            out.append((f"Round {n + 1}: Demo News carries {n + 1} stor{'y' if n == 0 else 'ies'} ({what})",
                        reports, None))
        _publish(wire, "/wire", [WIRE_STORY], "Demo Wire")
        reports = await pipeline.poll(all_feeds=True)
        out.append(("Round 3: a second outlet reports a widened demand", reports, None))
        last = stories[-1]
        news.add(f"/world/{last.slug}.html", article_page(edited(last)), content_type="text/html; charset=utf-8")
        versions = await pipeline.check_articles(force=True)
        out.append(("Round 4: Demo News edits its story; the re-check finds it", [], versions))
    store.close()


def build_demo_db(db_path: Path) -> tuple[Config, list]:
    """Run the demo's four rounds into ``db_path`` (tests use this to get a real database).

    Returns the config used and, per round, (heading, poll reports, new versions)."""
    from watcher.loopback import LoopbackServer

    rounds: list = []
    with LoopbackServer() as news, _second_host() as wire:
        config = demo_config(db_path, news.url("/world/feed.xml"), wire.url("/wire/feed.xml"))
        asyncio.run(_rounds(config, news, wire, seed_stories(), rounds))
    return config, rounds


def _second_host() -> LoopbackServer:
    """The second outlet on its own loopback address, so it counts as another source."""
    from watcher.loopback import LoopbackServer

    try:
        return LoopbackServer(host="127.0.0.2").start()
    except OSError:  # systems where only 127.0.0.1 is configured
        return LoopbackServer().start()
