"""Synthetic but realistic news feeds and article pages for the benchmarks.

    python bench/synth.py OUT_DIR [--feeds 1000] [--seed 7]

Writes, under OUT_DIR:

- ``feeds/NNNN.xml``: 50-item feeds of about 60 KB, RSS 2.0 (70 %) or Atom 1.0 (30 %),
  each item with a headline, 2-4 paragraphs of HTML description, author, categories,
  guid and date, as news sites publish them. Most items are ordinary news (markets,
  weather, sport, courts ...). About one feed in two also carries one or two ceasefire
  stories: a pool of wire stories built from the seed articles (``seeds/*.txt``) that many
  feeds syndicate, so the same article URL turns up in several feeds.
- ``feeds/NNNN.v2.xml`` for the 10 % of feeds that change in the third benchmark cycle:
  five new items on top (one of them a new ceasefire story in every other changed feed),
  the five oldest gone.
- ``pages/story-KKK.html``: the article page of every ceasefire story (navigation,
  headline, paragraphs, related links, footer; ``watcher.demo.article_page``).
- ``manifest.json``: counts and which feeds change.

Links to the loopback server are written as ``@@BASE@@``; whoever serves the files
replaces it with the server's base URL (``load``).
"""

from __future__ import annotations

import argparse
import html
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

BASE = "@@BASE@@"
ITEMS = 50
CHANGED_FRACTION = 0.10

_SECTIONS = {
    "markets": (
        ["Shares", "Bond yields", "The pound", "Oil prices", "Tech stocks", "Gold", "The euro",
         "Retail sales", "Factory output", "House prices"],
        ["rise", "slip", "fall sharply", "edge higher", "hit a three-month high", "steady",
         "slide", "rebound"],
        ["as investors weigh the central bank's next move", "after a stronger jobs report",
         "on fresh inflation figures", "ahead of quarterly earnings",
         "as traders price in lower rates", "despite weak consumer confidence"],
    ),
    "weather": (
        ["Heavy rain", "A heatwave", "Snow", "Strong winds", "Flooding", "Fog", "Storm Agnes",
         "Hail"],
        ["disrupts", "closes", "threatens", "sweeps across", "delays", "cuts power to"],
        ["rail services in the north", "schools across the region", "the coastal road",
         "thousands of homes", "weekend flights", "the harvest"],
    ),
    "sport": (
        ["United", "City", "The national side", "The defending champions", "Rovers",
         "The home team", "The Lions", "Athletic"],
        ["beat", "draw with", "lose to", "edge past", "thrash", "hold"],
        ["their rivals in a late thriller", "the league leaders", "ten-man opponents",
         "the cup holders on penalties", "a spirited second-division side"],
    ),
    "courts": (
        ["A former minister", "The council", "Two men", "A tech company", "The regulator",
         "A hospital trust"],
        ["is fined over", "wins appeal against", "faces inquiry into", "admits failings in",
         "is cleared of", "settles claim over"],
        ["data breach", "planning decision", "fraud charges", "safety lapses",
         "procurement contract", "unpaid wages"],
    ),
    "science": (
        ["Researchers", "A new study", "Astronomers", "Engineers", "Doctors", "Scientists"],
        ["find", "warn of", "report", "develop", "question", "map"],
        ["a link between sleep and memory", "a faster way to recycle batteries",
         "a distant planet with water vapour", "rising sea temperatures",
         "a cheaper malaria test", "microplastics in rainwater"],
    ),
    "politics": (
        ["The prime minister", "The opposition leader", "MPs", "The finance minister",
         "Local councils", "The health secretary"],
        ["announces", "rejects", "defends", "unveils", "delays", "backs"],
        ["plans for new housing", "a rise in the minimum wage", "the budget timetable",
         "reform of social care", "tax cuts for small firms", "a review of rail fares"],
    ),
}
_FILLER = [
    "Officials said the figures would be reviewed next month.",
    "Local residents told reporters they had been expecting the decision for weeks.",
    "The announcement follows a period of sustained pressure from campaigners and industry groups.",
    "Analysts cautioned that the full effect would not be clear until later in the year.",
    "A spokesperson declined to comment on the details but said a statement would follow.",
    "The change is expected to affect several thousand people across the region.",
    "Critics argued the measures did not go far enough, while supporters called them overdue.",
    "Figures published on Tuesday showed the trend continuing for a third consecutive quarter.",
    "The company said it was cooperating fully and had commissioned an independent review.",
    "Further updates are expected once the committee has completed its work.",
    "Opposition figures called for an urgent statement in parliament.",
    "Experts said the findings were significant but needed to be confirmed by larger studies.",
]
_NAMES = ["Anna Clarke", "James Patel", "Sofia Rossi", "Tom Becker", "Leila Haddad", "Mark Owens",
          "Priya Nair", "Daniel Kim", "Elena Petrova", "Lucas Moreau"]
_OUTLETS = ["Daily Courier", "Evening Post", "The Chronicle", "Metro Herald", "Valley News",
            "Coastal Times", "The Observer Gazette", "Northern Echo", "City Wire", "Regional Mail"]


@dataclass
class Item:
    title: str
    link: str
    guid: str
    published: datetime
    author: str
    category: str
    paragraphs: list[str]


def _seed_stories() -> list[tuple[str, list[str]]]:
    """(headline, paragraphs) of each seed article, as `watcher.demo` reads them."""
    from watcher.demo import seed_stories

    return [(s.title, [p for p in s.text.split("\n\n") if p.strip()]) for s in seed_stories()]


_LEADS = [
    "Diplomats said on {day} that the proposal was being studied in several capitals.",
    "The offer, reported by {outlet}, drew a cautious response from Western officials.",
    "Analysts said the timing of the statement on {day} was unlikely to be an accident.",
    "Officials in Kyiv did not immediately respond to requests for comment on {day}.",
    "Negotiators were expected to meet again later this week, according to {outlet}.",
]


def story_pool(rng: random.Random, count: int, start: datetime) -> list[dict]:
    """`count` ceasefire wire stories derived from the seed articles: same facts, each with
    its own headline variant, lead paragraph and paragraph selection, as syndicated copy is."""
    seeds = _seed_stories()
    pool = []
    for k in range(count):
        title, paragraphs = seeds[k % len(seeds)]
        keep = paragraphs[: max(4, len(paragraphs) - rng.randrange(0, 3))]
        lead = rng.choice(_LEADS).format(day=rng.choice(["Monday", "Tuesday", "Thursday"]),
                                         outlet=rng.choice(_OUTLETS))
        suffix = ["", " — reports", ": what we know", ", sources say", " as talks stall"][k % 5]
        pool.append({
            "slug": f"story-{k:03d}",
            "title": title + suffix,
            "paragraphs": [keep[0], lead, *keep[1:]],
            "published": start + timedelta(minutes=37 * k),
        })
    return pool


def _news_item(rng: random.Random, feed: int, n: int, when: datetime) -> Item:
    section = rng.choice(list(_SECTIONS))
    subjects, verbs, objects = _SECTIONS[section]
    title = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}"
    first = f"{title}, according to figures and statements released on {when:%A}."
    paragraphs = [first] + [
        " ".join(rng.sample(_FILLER, rng.randint(2, 4))) for _ in range(rng.randint(2, 3))
    ]
    slug = "-".join(title.lower().split()[:6]).replace("'", "")
    return Item(
        title=title,
        link=f"https://news{feed % 97}.example.com/{section}/{when:%Y/%m/%d}/{slug}-{feed}-{n}",
        guid=f"urn:uuid:feed{feed}-item{n}",
        published=when,
        author=rng.choice(_NAMES),
        category=section,
        paragraphs=paragraphs,
    )


def _story_item(story: dict, feed: int) -> Item:
    return Item(
        title=story["title"],
        link=f"{BASE}/world/{story['slug']}.html?utm_source=rss&utm_medium=feed{feed}",
        guid=f"{BASE}/world/{story['slug']}.html",
        published=story["published"],
        author="Wire staff",
        category="world",
        paragraphs=story["paragraphs"][:2],
    )


def _rss(feed: int, items: list[Item]) -> str:
    out = []
    for it in items:
        desc = "".join(f"<p>{html.escape(p)}</p>" for p in it.paragraphs)
        out.append(
            f"<item>\n<title>{html.escape(it.title)}</title>\n<link>{html.escape(it.link)}</link>\n"
            f'<guid isPermaLink="false">{html.escape(it.guid)}</guid>\n'
            f"<pubDate>{format_datetime(it.published)}</pubDate>\n"
            f"<dc:creator>{it.author}</dc:creator>\n<category>{it.category}</category>\n"
            f"<description>{html.escape(desc)}</description>\n</item>"
        )
    outlet = _OUTLETS[feed % len(_OUTLETS)]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{outlet} — feed {feed}</title>\n<link>https://news{feed % 97}.example.com/</link>\n"
        f"<description>Latest stories from {outlet}</description>\n<language>en-gb</language>\n"
        f"<lastBuildDate>{format_datetime(items[0].published)}</lastBuildDate>\n<ttl>15</ttl>\n"
        + "\n".join(out)
        + "\n</channel>\n</rss>\n"
    )


def _atom(feed: int, items: list[Item]) -> str:
    out = []
    for it in items:
        desc = "".join(f"<p>{html.escape(p)}</p>" for p in it.paragraphs)
        stamp = it.published.isoformat().replace("+00:00", "Z")
        out.append(
            f"<entry>\n<title type=\"text\">{html.escape(it.title)}</title>\n"
            f'<link rel="alternate" type="text/html" href="{html.escape(it.link)}"/>\n'
            f"<id>{html.escape(it.guid)}</id>\n<published>{stamp}</published>\n<updated>{stamp}</updated>\n"
            f"<author><name>{it.author}</name></author>\n<category term=\"{it.category}\"/>\n"
            f'<summary type="html">{html.escape(desc)}</summary>\n</entry>'
        )
    outlet = _OUTLETS[feed % len(_OUTLETS)]
    updated = items[0].published.isoformat().replace("+00:00", "Z")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"<title>{outlet} — feed {feed}</title>\n<subtitle>Latest stories from {outlet}</subtitle>\n"
        f'<link rel="alternate" href="https://news{feed % 97}.example.com/"/>\n'
        f"<id>urn:uuid:feed-{feed}</id>\n<updated>{updated}</updated>\n"
        + "\n".join(out)
        + "\n</feed>\n"
    )


def generate(out: Path, feeds: int = 1000, seed: int = 7, stories: int = 120) -> dict:
    """Write the feeds, the changed versions, the story pages and a manifest under `out`."""
    from watcher.demo import Story, article_page

    rng = random.Random(seed)
    now = datetime(2024, 6, 24, 12, 0, tzinfo=UTC)
    pool = story_pool(rng, stories, now - timedelta(days=3))
    (out / "feeds").mkdir(parents=True, exist_ok=True)
    (out / "pages").mkdir(parents=True, exist_ok=True)
    changed = sorted(rng.sample(range(feeds), max(1, round(feeds * CHANGED_FRACTION))))
    changed_set = set(changed)
    story_links = 0
    used_stories: set[str] = set()
    total_bytes = 0
    fresh = iter(range(stories // 2, stories))  # stories held back for the changed feeds
    for f in range(feeds):
        items: list[Item] = []
        when = now - timedelta(minutes=rng.randint(0, 90))
        for n in range(ITEMS + 5):
            items.append(_news_item(rng, f, n, when))
            when -= timedelta(minutes=rng.randint(10, 120))
        # about half the feeds carry one or two ceasefire wire stories among their items
        picks = rng.sample(pool[: stories // 2], rng.choice([0, 0, 1, 1, 2]))
        for story in picks:
            slot = rng.randrange(5, ITEMS + 5)
            items[slot] = _story_item(story, f)
            used_stories.add(story["slug"])
            story_links += 1
        render = _atom if f % 10 >= 7 else _rss
        v1 = items[5:]
        text = render(f, v1)
        total_bytes += len(text.encode())
        (out / "feeds" / f"{f:04d}.xml").write_text(text, encoding="utf-8")
        if f in changed_set:
            v2 = items[:ITEMS]
            if (changed.index(f) % 2) == 0:
                story = pool[next(fresh, stories // 2)]
                v2[1] = _story_item(story, f)
                used_stories.add(story["slug"])
            (out / "feeds" / f"{f:04d}.v2.xml").write_text(render(f, v2), encoding="utf-8")
    for story in pool:
        page = article_page(
            Story(story["slug"], story["title"], "\n\n".join(story["paragraphs"]), story["published"]),
            site="Wire Service",
        )
        (out / "pages" / f"{story['slug']}.html").write_text(page, encoding="utf-8")
    manifest = {
        "feeds": feeds,
        "items_per_feed": ITEMS,
        "seed": seed,
        "changed": changed,
        "stories": stories,
        "stories_linked": len(used_stories),
        "story_links_first_cycle": story_links,
        "feed_bytes_total": total_bytes,
        "rss_fraction": 0.7,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def load(out: Path, base_url: str, version: int = 1) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(feed path -> bytes, page path -> bytes) as served, `@@BASE@@` replaced by `base_url`.

    `version=2` serves the changed feeds' second versions."""
    manifest = json.loads((out / "manifest.json").read_text())
    base = base_url.encode()
    feeds, pages = {}, {}
    for f in range(manifest["feeds"]):
        path = out / "feeds" / f"{f:04d}.xml"
        if version == 2 and f in set(manifest["changed"]):
            path = out / "feeds" / f"{f:04d}.v2.xml"
        feeds[f"/feeds/{f:04d}.xml"] = path.read_bytes().replace(BASE.encode(), base)
    for p in sorted((out / "pages").glob("*.html")):
        pages[f"/world/{p.name}"] = p.read_bytes()
    return feeds, pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    m = generate(args.out, args.feeds, args.seed)
    print(json.dumps({k: v for k, v in m.items() if k != "changed"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
