"""The entries of the shared corpus's real feeds, read by feedparser as it is (no sanitising,
no URL resolution): what the fast paths and the text conversions are checked against."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def corpus_entries(folder: Path) -> Iterator[Any]:
    """Every entry of every feed file in ``folder`` (gzip bodies opened; the index and licence
    files skipped)."""
    import feedparser

    for path in sorted(folder.glob("*.*")):
        if path.suffix == ".tsv" or path.name == "LICENSES":
            continue
        body = path.read_bytes()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        yield from feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False).entries
