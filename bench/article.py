"""Article path benchmark: trafilatura's ``fast`` mode against its default on real text
rendered as pages, and one relevant article end to end, each part beside its floor.

    python bench/article.py [--corpus ../shared/corpus] [--repeat 3] [--json FILE]

Pages: the labelled articles of ``eval/corpus/*.json`` (real reporting) and the entries of
the shared corpus's real feeds that carry 1,000+ characters of HTML, each rendered in three
page shapes (a plain article page with navigation and a footer; a heavy one with a cookie
banner, share bar, scripts, related stories and comments; one whose paragraphs are <div>s
in nested wrappers). For each page, ``extract_main_text`` as the pipeline calls it, with
``fast=False`` and ``fast=True`` (what the pipeline uses since this measurement): is the main text the same (after the pipeline's
normalisation), and the CPU per page of each, min/median/max over ``--repeat`` passes.

End to end, per relevant article (the seed stories' pages): trafilatura, term extraction
and storing (``watcher.record.record_poll`` of one entry with its snapshot and terms into a fresh
database), beside the floor of each: lxml's HTML parse of the same page, a regex pass over
the text, and an empty ``record_poll``.

Benchmarks print figures; nothing here fails on a slow number.
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _paras(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r", "").split("\n") if p.strip()]


def plain_page(title: str, paras: list[str]) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} | News"
            f"</title></head><body><header><nav><a href='/'>Home</a> <a href='/world'>World</a> "
            f"<a href='/politics'>Politics</a></nav></header><main><article><h1>{html.escape(title)}</h1>"
            f"<p class='byline'>By Staff reporter</p>{body}</article></main><footer><p>© News. All rights "
            f"reserved.</p><a href='/privacy'>Privacy</a></footer></body></html>")


def heavy_page(title: str, paras: list[str]) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" + ("<div class='ad'>Advertisement</div>" if i % 3 == 2 else "")
                     for i, p in enumerate(paras))
    related = "".join(f"<li><a href='/story/{i}'>Related story number {i} about something else</a></li>"
                      for i in range(12))
    comments = "".join(f"<div class='comment'><b>user{i}</b><p>I think this is comment {i}.</p></div>"
                       for i in range(6))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta property='og:title' content='{html.escape(title)}'><script>var a = {{x: 1}};</script>"
            f"<style>.a{{color:red}}</style></head><body><div id='cookie'>We use cookies. <button>Accept"
            f"</button></div><header><nav>" + "".join(f"<a href='/s{i}'>Section {i}</a> " for i in range(20))
            + f"</nav></header><div class='share'><a>Share</a><a>Tweet</a><a>Email</a></div><main>"
            f"<article><h1>{html.escape(title)}</h1><time>12 May 2024</time>{body}</article>"
            f"<aside><h2>Related</h2><ul>{related}</ul></aside><section id='comments'>{comments}</section>"
            f"</main><footer><ul><li><a href='/about'>About</a></li><li><a href='/contact'>Contact</a></li>"
            f"</ul><p>© 2024 News Corp</p></footer><script>track();</script></body></html>")


def div_page(title: str, paras: list[str]) -> str:
    body = "".join(f"<div class='para'><span>{html.escape(p)}</span></div>" for p in paras)
    return (f"<html><head><title>{html.escape(title)}</title></head><body><div class='wrap'><div class='col'>"
            f"<div class='menu'><a href='/'>Home</a><a href='/news'>News</a></div><div class='story'>"
            f"<h1>{html.escape(title)}</h1><div class='content'>{body}</div></div><div class='more'>More "
            f"news: <a href='/x'>x</a></div></div></div></body></html>")


SHAPES = {"plain": plain_page, "heavy": heavy_page, "divs": div_page}


def texts(corpus: Path | None) -> list[tuple[str, str, list[str]]]:
    """(name, title, paragraphs) of real reporting: labelled articles, then real feed entries."""
    out = []
    for p in sorted((ROOT / "eval" / "corpus").glob("*.json")):
        d = json.loads(p.read_text())
        paras = _paras(d["text"])
        if sum(map(len, paras)) >= 300:
            out.append((f"eval/{p.stem}", d["title"], paras))
    if corpus and (corpus / "feeds").is_dir():
        import feedparser

        from watcher.feeds.text import html_to_text

        for f in sorted((corpus / "feeds").iterdir()):
            if f.name in ("INDEX.tsv", "LICENSES") or not f.is_file():
                continue
            for i, e in enumerate(feedparser.parse(f.read_bytes()).entries):
                raw = (e.get("content") or [{}])[0].get("value") or e.get("summary") or ""
                if len(raw) < 1000:
                    continue
                paras = _paras(html_to_text(raw))
                if sum(map(len, paras)) >= 300:
                    out.append((f"feed/{f.name}#{i}", e.get("title") or "", paras))
    return out


def _mmm(xs: list[float], scale: float = 1000) -> str:
    xs = sorted(xs)
    return f"{xs[0] * scale:.2f} / {statistics.median(xs) * scale:.2f} / {xs[-1] * scale:.2f}"


def compare_fast(pages: list[tuple[str, str]], repeat: int) -> dict:
    from unittest import mock

    import trafilatura

    from watcher import article

    real = trafilatura.bare_extraction

    def run(fast: bool) -> tuple[list, list[float]]:
        results, times = [], []
        with mock.patch.object(article.trafilatura, "bare_extraction",
                               lambda *a, **k: real(*a, **{**k, "fast": fast})):
            for rep in range(repeat):
                t0 = time.process_time()
                got = [article.extract_main_text(page, url) for url, page in pages]
                times.append((time.process_time() - t0) / len(pages))
                if rep == 0:
                    results = got
        return results, times

    slow, slow_t = run(False)
    fast, fast_t = run(True)
    same = sum(1 for a, b in zip(slow, fast, strict=True)
               if (a and article.normalise_for_hash(a.text)) == (b and article.normalise_for_hash(b.text)))
    same_title = sum(1 for a, b in zip(slow, fast, strict=True) if (a and a.title) == (b and b.title))
    differ = [pages[i][0] for i, (a, b) in enumerate(zip(slow, fast, strict=True))
              if (a and article.normalise_for_hash(a.text)) != (b and article.normalise_for_hash(b.text))]
    return {"pages": len(pages), "same_text": same, "same_title": same_title, "differ": differ[:10],
            "default_ms": _mmm(slow_t), "fast_ms": _mmm(fast_t),
            "fast_over_default": round(statistics.median(fast_t) / statistics.median(slow_t), 2)}


def end_to_end(repeat: int) -> dict:
    import re

    from lxml import html as lxml_html

    from watcher.demo import article_page, seed_stories
    from watcher.models import Entry, EntryRecord, FeedState, PollRecord, Relevance
    from watcher.record import record_poll
    from watcher.store import Store
    from watcher.work import read_article

    pages = [(f"http://news.example/world/{s.slug}.html", article_page(s).encode()) for s in seed_stories()]
    now = datetime.now(UTC)
    read_article(pages[0][1], pages[0][0], "t", "", None, "{}", now)  # warm: gazetteer, model
    from watcher.article import extract_main_text
    from watcher.terms import extract

    parts: dict[str, list[float]] = {k: [] for k in ("read_article", "  trafilatura", "  term extraction",
                                                      "html_parse_floor", "regex_floor", "store", "store_floor")}
    tmp = Path(tempfile.mkdtemp(prefix="watcher-article-"))
    for rep in range(repeat):
        store = Store.open(tmp / f"a{rep}.db")
        store.db.execute("insert into feeds (config_url, url, interval_seconds, created_at) "
                         "values ('f', 'http://f.example/', 900, '2024-01-01 00:00:00')")
        drafts = []
        t0 = time.process_time()
        for url, page in pages:
            drafts.append(read_article(page, url, "t", "", None, "{}", now))
        parts["read_article"].append((time.process_time() - t0) / len(pages))
        t0 = time.process_time()
        mains = [extract_main_text(page, url) for url, page in pages]
        parts["  trafilatura"].append((time.process_time() - t0) / len(pages))
        t0 = time.process_time()
        for m in mains:
            extract(m.text, title=m.title, as_of=now)
        parts["  term extraction"].append((time.process_time() - t0) / len(pages))
        t0 = time.process_time()
        for _, page in pages:
            lxml_html.fromstring(page)
        parts["html_parse_floor"].append((time.process_time() - t0) / len(pages))
        rx = re.compile(r"\b(?:ceasefire|truce|withdraw\w*)\b", re.I)
        t0 = time.process_time()
        for d in drafts:
            rx.findall(d.text)
        parts["regex_floor"].append((time.process_time() - t0) / len(pages))

        def record(i: int, draft, rep: int = rep) -> PollRecord:
            state = FeedState(url="http://f.example/", etag=None, last_modified=None, body_hash=None,
                              consecutive_errors=0, next_poll_at=now, last_status=200, last_error=None)
            entries = []
            if draft is not None:
                url = f"{pages[i % len(pages)][0]}?rep={rep}&i={i}"
                entry = Entry(url=url, link=url, guid=None, title=draft.title, summary="", content="",
                              published_at=None)
                entries = [EntryRecord(entry, Relevance(True, 1.0, "ceasefire", []), snapshot=draft,
                                       source="news.example")]
            return PollRecord(feed_id=1, started_at=now, duration_ms=1, outcome="ok", http_status=200,
                              bytes=1, error=None, state=state, entries=entries)

        t0 = time.process_time()
        for i, d in enumerate(drafts * 5):
            record_poll(store, record(i, d))
        parts["store"].append((time.process_time() - t0) / (len(drafts) * 5))
        t0 = time.process_time()
        for i in range(len(drafts) * 5):
            record_poll(store, record(i, None))
        parts["store_floor"].append((time.process_time() - t0) / (len(drafts) * 5))
        store.close()
    return {k: _mmm(v) for k, v in parts.items()} | {
        "total_ms_median": round(1000 * (statistics.median(parts["read_article"]) + statistics.median(parts["store"])), 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="at most this many texts (0: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    import logging

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    items = texts(args.corpus if args.corpus.exists() else None)
    if args.limit:
        items = items[:args.limit]
    out: dict = {"texts": len(items), "shapes": {}}
    print(f"{len(items)} real texts x {len(SHAPES)} page shapes; CPU per page in ms, min / median / max "
          f"over {args.repeat} passes")
    for shape, render in SHAPES.items():
        pages = [(f"https://news.example/{name}", render(title, paras)) for name, title, paras in items]
        r = out["shapes"][shape] = compare_fast(pages, args.repeat)
        print(f"  {shape:6s} same main text with fast=True: {r['same_text']} of {r['pages']} "
              f"(same title {r['same_title']}); default {r['default_ms']} ms, fast {r['fast_ms']} ms "
              f"({r['fast_over_default']}x)" + (f"; differ e.g. {r['differ'][:3]}" if r["differ"] else ""))
    e2e = out["end_to_end"] = end_to_end(args.repeat)
    print("one relevant article end to end (seed pages), ms min / median / max:")
    for k, v in e2e.items():
        print(f"  {k:18s} {v}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
