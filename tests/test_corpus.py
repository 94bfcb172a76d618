"""The parse stage over real and malformed feeds: every file of ../shared/corpus (real news
feeds and feedparser's own test corpus, ~2,190 files) served over loopback with the headers
the files name, fetched by the real Fetcher and parsed by `pipeline.parse_for_poll` (the poll's parse stage).

Zero crashes, zero hangs; each file is counted as parsed cleanly, flagged malformed with
what parsed kept, or rejected, with the reasons. The full sweep is `@pytest.mark.slow`; the
default run takes every 40th file. Skips cleanly when /work/shared is absent.

    .venv/bin/python -m pytest -m slow tests/test_corpus.py -s   # prints the counts
"""

from __future__ import annotations

import asyncio
import gzip
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest

from watcher.fetch import Fetcher
from watcher.loopback import LoopbackServer
from watcher.pipeline import parse_for_poll
from watcher.relevance import default_topic

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PARSE_DEADLINE = 20.0  # seconds one file may take to parse before it counts as a hang
_HEADER = re.compile(rb"^\s*Header:\s*([A-Za-z0-9-]+):[ \t]*(.*?)\s*$", re.M)
_FIRST_COMMENT = re.compile(rb"<!--(.*?)-->", re.S)

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def corpus_files() -> list[Path]:
    skip = {"INDEX.tsv", "LICENSE.feedparser", "SOURCE_COMMIT", "README.md"}
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in skip
                  and "LICENSES" not in p.parts)


def named_headers(body: bytes) -> dict[str, str]:
    """The `Header:` lines of a file's leading comment (feedparser's test convention)."""
    head = body[:4096]
    match = _FIRST_COMMENT.search(head)
    if not match:
        return {}
    before = head[: match.start()].strip(b" \t\r\n\xef\xbb\xbf")  # text before it: only after <?...?>
    if before and not head.lstrip().startswith(b"<?"):
        return {}
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in _HEADER.findall(match.group(1))}


def route_for(path: Path, body: bytes) -> tuple[str, dict[str, str]]:
    """Content type and the other headers to serve `path` with."""
    headers = named_headers(body)
    content_type = "application/xml"
    if path.suffix == ".json":
        content_type = "application/json"
    elif path.suffix == ".html":
        content_type = "text/html"
    for name in list(headers):
        if name.lower() == "content-type":
            content_type = headers.pop(name)
    if body[:2] == b"\x1f\x8b":  # stored gzipped: served as a gzip content-coding
        headers["Content-Encoding"] = "gzip"
    return content_type, headers


def reason(problem: str | None) -> str:
    """A problem in words, without positions and numbers, for counting."""
    text = (problem or "flagged").split("; parsed leniently")[0]
    text = re.sub(r" at line \d+, column \d+", "", text)
    text = re.sub(r"\d[\d,]*", "N", text)
    return text[:110]


def sweep(files: list[Path]) -> dict:
    """Serve, fetch and parse every file; returns counts, reasons and failures."""
    results: dict[str, Counter] = {k: Counter() for k in ("clean", "malformed", "rejected")}
    kept_partial = 0
    entries_total = 0
    crashes: list[str] = []
    hangs: list[str] = []
    unfetched: list[str] = []
    slowest = (0.0, "")
    topics = [default_topic()]
    with LoopbackServer() as server:
        routes = {}
        for i, path in enumerate(files):
            body = path.read_bytes()
            content_type, headers = route_for(path, body)
            url_path = f"/c/{i}/{path.name}"
            server.add(url_path, body, content_type=content_type, headers=headers, conditional=False)
            routes[url_path] = path

        async def fetch_all() -> dict:
            async with Fetcher(timeout=10, concurrency=32, per_host=32, max_bytes=10_000_000) as fetcher:
                async def one(url_path: str):
                    return url_path, await fetcher.get(server.url(url_path), allow_private=True)

                return dict(await asyncio.gather(*(one(p) for p in routes)))

        fetched = asyncio.run(fetch_all())
        with ThreadPoolExecutor(max_workers=1) as pool:
            for url_path, res in fetched.items():
                name = str(routes[url_path].relative_to(CORPUS))
                if not res.ok or res.body is None:
                    # gzip files whose stored bytes are themselves broken are the only excuse
                    unfetched.append(f"{name}: {res.error}")
                    continue
                t0 = time.monotonic()
                future = pool.submit(parse_for_poll, res.body, res.headers, res.final_url, topics)
                try:
                    parsed, scored = future.result(timeout=PARSE_DEADLINE)
                except FutureTimeout:
                    hangs.append(name)
                    break  # the worker thread is stuck; nothing else can run on it
                except Exception as err:  # noqa: BLE001 - the point: count every crash
                    crashes.append(f"{name}: {type(err).__name__}: {err}")
                    continue
                took = time.monotonic() - t0
                if took > slowest[0]:
                    slowest = (took, name)
                if parsed.rejected:
                    results["rejected"][reason(parsed.problem)] += 1
                elif parsed.malformed:
                    results["malformed"][reason(parsed.problem)] += 1
                    kept_partial += bool(scored)
                else:
                    results["clean"]["ok"] += 1
                entries_total += len(scored)
    return {
        "files": len(files),
        "clean": sum(results["clean"].values()),
        "malformed": sum(results["malformed"].values()),
        "malformed_with_entries": kept_partial,
        "rejected": sum(results["rejected"].values()),
        "entries": entries_total,
        "malformed_reasons": results["malformed"].most_common(8),
        "rejected_reasons": results["rejected"].most_common(8),
        "crashes": crashes,
        "hangs": hangs,
        "unfetched": unfetched,
        "slowest": (round(slowest[0], 3), slowest[1]),
    }


def report(summary: dict) -> str:
    lines = [f"corpus: {summary['files']} files: {summary['clean']} clean, {summary['malformed']} malformed "
             f"(kept partial results; {summary['malformed_with_entries']} with entries), "
             f"{summary['rejected']} rejected; {summary['entries']} entries; slowest parse "
             f"{summary['slowest'][0]}s ({summary['slowest'][1]})"]
    lines += [f"  malformed {n:4} × {r}" for r, n in summary["malformed_reasons"]]
    lines += [f"  rejected  {n:4} × {r}" for r, n in summary["rejected_reasons"]]
    lines += [f"  unfetched: {u}" for u in summary["unfetched"]]
    return "\n".join(lines)


def check(summary: dict) -> None:
    print("\n" + report(summary))
    assert summary["crashes"] == []
    assert summary["hangs"] == []
    assert summary["unfetched"] == []
    assert summary["clean"] + summary["malformed"] + summary["rejected"] == summary["files"]


def test_headers_are_read_from_the_leading_comment() -> None:
    body = b"<!--\nHeader:      Content-type: text/xml; charset=windows-1252\nHeader: X-Foo: bar\n-->\n<rss/>"
    assert named_headers(body) == {"Content-type": "text/xml; charset=windows-1252", "X-Foo": "bar"}
    assert route_for(Path("a.xml"), body) == ("text/xml; charset=windows-1252", {"X-Foo": "bar"})
    assert route_for(Path("a.xml"), gzip.compress(b"<rss/>"))[1] == {"Content-Encoding": "gzip"}
    assert named_headers(b"<rss><!-- Header: X-Not: this --></rss>") == {}


@pytest.mark.timeout(120)
def test_corpus_sample_parses_without_crash_or_hang() -> None:
    files = corpus_files()[::40]
    assert len(files) > 40
    check(sweep(files))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_whole_corpus_parses_without_crash_or_hang() -> None:
    files = corpus_files()
    assert len(files) > 2000
    check(sweep(files))
