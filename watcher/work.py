"""The CPU stages a pool worker runs: parsing a feed, reading an article page.

A slim entry on purpose: a spawned worker imports this module to unpickle its first task,
and everything it imports is start-up paid by every worker. Only the models at import time;
the parser, trafilatura and the extractor when a stage first needs them. Nothing here
imports httpx, asyncio, SQLite or sqlite-utils (``tests/test_startup.py`` checks).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar

from watcher.gcpause import gc_paused
from watcher.models import Entry, Relevance, SnapshotDraft, Topic

P = ParamSpec("P")
R = TypeVar("R")


def parse_for_poll(
    body: bytes, headers: dict[str, str], base_url: str, topics: list[Topic]
) -> tuple[Any, list[tuple[Entry, Relevance]]]:
    """Parse a feed and score its entries, returned as a poll needs them back from a worker
    process, small to send:

    - the entries travel once, in ``scored`` (``parsed.entries`` comes back empty);
    - an entry that is not relevant keeps only what the store records of it (url, link,
      guid, title, published_at): its summary, content and author are emptied. Only a
      relevant entry's text is used again (to stand in for an unreadable article page).

    The whole result is pickled by the worker and unpickled on the event loop, so every byte
    saved is saved twice.
    """
    from watcher.feeds.parse import parse_feed
    from watcher.relevance import score_entries

    parsed = parse_feed(body, headers, base_url)
    entries, parsed.entries = parsed.entries, []
    relevances = score_entries([(e.title, e.summary, e.content) for e in entries], topics)
    for e, r in zip(entries, relevances, strict=True):
        if not r.relevant:
            e.summary = e.content = ""
            e.author = None
    return parsed, list(zip(entries, relevances, strict=True))


@lru_cache(maxsize=4)
def _gazetteer(extension_key: str) -> Any:
    import json

    from watcher.terms import load_gazetteer

    return load_gazetteer(json.loads(extension_key) or None)


def _first_call_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` with its first call in a process run with the GC paused (``gc_paused``): the
    article stage's first read loads trafilatura, the extractor, its gazetteer and model
    (~0.3 CPU-s), and the collections that loading sets off cost a third of it."""
    loaded = False

    @wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        nonlocal loaded
        if loaded:
            return fn(*args, **kwargs)
        with gc_paused():
            out = fn(*args, **kwargs)
        loaded = True
        return out

    return call


@_first_call_paused
def read_article(
    html: bytes | None,
    url: str,
    entry_title: str,
    feed_text: str,
    fetch_note: str | None,
    extension_key: str,
    fetched_at: datetime,
    as_of: datetime | None = None,
) -> SnapshotDraft | None:
    """Page bytes (or None) to a snapshot draft with its terms; the feed's own text stands
    in when the page cannot be had or yields little. ``as_of`` is the story's time (see
    ``models.story_time``), the extractor's "now"; default ``fetched_at``. The first call in a
    process loads the stage, with the GC paused."""
    from watcher.terms import extract
    from watcher.textnorm import content_hash

    note = fetch_note
    article = None
    if html:  # trafilatura only for a page: the feed's text alone does not import it
        from watcher.article import MIN_TEXT_CHARS, extract_main_text

        article = extract_main_text(html, url)
        if article is not None and len(article.text) < MIN_TEXT_CHARS:
            article = None
    if article is not None:
        title, text, source, language = article.title or entry_title, article.text, "page", article.language
    else:
        if html and note is None:
            note = "the page yielded too little text; using the feed's text"
        if not feed_text.strip():
            return None
        title, text, source, language = entry_title, feed_text, "feed", None
    title = title.strip() or entry_title
    extraction = extract(text, title=title, gazetteer=_gazetteer(extension_key), as_of=as_of or fetched_at)
    return SnapshotDraft(
        title=title,
        text=text,
        content_hash=content_hash(title + "\n\n" + text),
        text_source=source,
        language=language or extraction.language,
        fetched_at=fetched_at,
        note=note,
        terms=extraction.terms,
    )


def warm_modules(workers: int) -> list[str]:
    """What the pool's fork server imports before forking workers: the parse stage always;
    the article stage (~0.38 CPU-s: trafilatura, the extractor, its gazetteer) only for a
    pool of several workers, where importing it once in the server beats once in each. A
    single worker imports it at its first article, so a cycle with none to read skips it.
    (The fork server is one per process: the first pool's choice holds for later ones.)"""
    return ["watcher.workwarm"] + (["watcher.workwarm_articles"] if workers > 1 else [])


PR_SET_PDEATHSIG = 1


def exit_with_parent(parent_pid: int) -> None:
    """Pool worker initializer (here, so starting a worker imports only this module): the
    worker ends when the process that started the pool is gone.

    A SIGKILLed daemon cannot stop its pool, and the workers (and with them multiprocessing's
    resource tracker, which lives while any of them holds its pipe) would run forever. On
    Linux the kernel sends SIGKILL at the parent's death (PR_SET_PDEATHSIG); everywhere a
    thread watches for the parent's pid to change (reparented), for a worker busy in Python.
    A forked worker's parent is the fork server, which ends when ``parent_pid`` does.
    """
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    parent = os.getppid()
    if parent != parent_pid and not _alive(parent_pid):  # died before this worker got here
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent and (parent == parent_pid or _alive(parent_pid)):
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="watcher-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
