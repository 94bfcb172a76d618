"""``watcher extract``: terms from files, URLs or stdin, as JSON (an array, or one object
a line with ``--nl``) or as text.

Each input is read as the pipeline would read it: HTML goes through main-text extraction,
plain text is taken as it is, so spans index the text the extractor saw. An input that
cannot be read is reported on stderr and the others still run; the exit code is then 1.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any

import click

from watcher.models import Extraction
from watcher.safetext import printable


def _looks_like_html(data: bytes, name: str) -> bool:
    if name.lower().endswith((".html", ".htm", ".xhtml")):
        return True
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<article", b"<div", b"<p"))


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _fetch(url: str) -> bytes:
    import asyncio

    from watcher.fetch import Fetcher

    async def get() -> bytes:
        async with Fetcher() as fetcher:
            res = await fetcher.get(url)
        if not res.ok or res.body is None:
            raise OSError(res.error or f"HTTP {res.status}")
        return res.body

    return asyncio.run(get())


MAX_INPUT = 10_000_000  # bytes, as [watcher].max_bytes: a longer "article" is no article
MAX_TITLE = 200  # characters of a title made from the text's first line


def _read_capped(stream: Any) -> bytes:
    data = stream.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise ValueError(f"over {MAX_INPUT:,} bytes; not read (an article is far shorter)")
    return data


def _looks_binary(data: bytes) -> bool:
    """NUL bytes, or mostly control characters: an image, archive or program, not text."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and controls / len(head) > 0.1


def read_input(name: str) -> tuple[str | None, str, bool]:
    """(title or None, text, was_html) for a path, URL or '-'."""
    if name == "-":
        data = _read_capped(sys.stdin.buffer)
    elif name.startswith(("http://", "https://")):
        data = _fetch(name)
        return _from_html(data, name)
    else:
        with open(name, "rb") as f:
            data = _read_capped(f)
    if _looks_binary(data):
        raise ValueError("a binary file, not text or HTML")
    if _looks_like_html(data, name):
        return _from_html(data, None)
    return None, printable(_decode(data)), False


def short_title(title: str) -> str:
    """A title fit for one line: a text with no headline gives its whole first line."""
    title = " ".join(title.split())
    if len(title) <= MAX_TITLE:
        return title
    cut = title.rfind(" ", 0, MAX_TITLE)
    return title[: cut if cut > MAX_TITLE // 2 else MAX_TITLE] + "…"


def _from_html(data: bytes, url: str | None) -> tuple[str | None, str, bool]:
    from watcher.article import extract_main_text

    article = extract_main_text(data, url)
    if article is None or not article.text.strip():
        raise ValueError("no article text found in the HTML")
    return article.title or None, article.text, True


def extraction_json(name: str, title: str, result: Extraction) -> dict[str, Any]:
    return {
        "input": name,
        "title": title,
        "relevant": result.relevant,
        "language": result.language,
        "conflicts": result.conflicts,
        "terms": [t.to_json() for t in result.terms],
    }


def run_extract(inputs: list[str], *, output: str | None = None, extension: dict | None = None) -> int:
    from watcher.gcpause import gc_paused

    with gc_paused():  # the extractor's imports and gazetteer: one-off loading (see gc_paused)
        from watcher.terms import extract, load_gazetteer, title_of

        gazetteer = load_gazetteer(extension or None)
    failed = 0
    payloads = []
    for i, name in enumerate(inputs):
        # the first extraction loads the model and compiles regexes: one-off loading too
        with gc_paused() if i == 0 else nullcontext():
            try:
                title, text, _ = read_input(name)
            except (OSError, ValueError) as err:
                reason = getattr(err, "strerror", None) or str(err)
                click.echo(f"error: cannot read {name}: {reason}", err=True)
                failed += 1
                continue
            title = short_title(title or title_of(text))
            result = extract(text, title=title, gazetteer=gazetteer)
            payload = extraction_json(name, title, result)
            if output == "nl":  # each input as soon as it is read
                from watcher.cli.common import dumps

                click.echo(dumps(payload))
            elif output == "json":
                payloads.append(payload)
            else:
                from watcher.cli.tables import extraction_table

                extraction_table(payload)
    if output == "json":
        from watcher.cli.common import emit

        emit(payloads, "json")
    return 1 if failed else 0

