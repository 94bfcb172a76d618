"""Feeds: bytes from a server to ``ParsedFeed`` records.

- ``parse``: feedparser behind a hardening layer; ``parse_feed`` is the entry point.
- ``fastxml``: the fast reader for well-formed RSS 2.0, RSS 1.0 and Atom (feedparser's own
  rules, equal results); declines anything else.
- ``xmlsafety``: DOCTYPE internal subsets stripped, entity bombs refused, UTF-16/32 made UTF-8.
- ``text``: feed HTML to plain text.
- ``urls``: URL canonicalisation (standard library only).

The public names are importable from here too, each loaded on first use, so importing
``watcher.feeds.urls`` (the config does) never loads feedparser or lxml.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "parse_feed": "parse",
    "html_to_text": "text",
    "canonical_url": "urls",
    "TRACKING_PARAMS": "urls",
    "entity_bomb": "xmlsafety",
    "strip_internal_subset": "xmlsafety",
    "transcode_wide": "xmlsafety",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
