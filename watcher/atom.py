"""An Atom 1.0 feed of term changes, so anyone can follow them in a feed reader.

Entry ids come from ``changes.key`` (snapshot, conflict, proposer, category, kind), which
``watcher reprocess`` keeps stable, so a reader never sees the same change twice. The XML
is built with ElementTree, which escapes every value; characters XML 1.0 cannot carry at
all (most control characters) are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG_AUTHORITY = "tag:ceasefire-watcher,2024:"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object) -> str:
    """Text XML 1.0 can carry (ElementTree escapes <, & and quotes, not these)."""
    return _NOT_XML.sub("", "" if text is None else str(text))


def rfc3339(stored: str | None) -> str:
    """'2024-06-24 10:00:00' (UTC, as stored) as '2024-06-24T10:00:00Z'."""
    if not stored:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return stored.strip().replace(" ", "T") + ("" if stored.endswith("Z") else "Z")


def entry_id(key: str) -> str:
    return TAG_AUTHORITY + "change/" + quote(key, safe=":-._~")


def feed_id(conflict: str | None) -> str:
    return TAG_AUTHORITY + "changes" + (f"/{quote(conflict, safe='-._~')}" if conflict else "")


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _content(change: dict) -> str:
    lines = []
    if change.get("quote"):
        lines.append(f"\u201c{change['quote']}\u201d")
    where = change.get("outlet") or "unknown outlet"
    article = change.get("article_title") or change.get("article_url")
    lines.append(f"Reported by {where}" + (f": {article}" if article else ""))
    lines.append(
        f"{change['conflict']} \u00b7 {change['proposer']} \u00b7 {change['category']} \u00b7 {change['kind']}"
    )
    if change.get("baseline"):
        lines.append("Read on the feed's first poll: a starting point, not necessarily news.")
    return "\n\n".join(lines)


def changes_feed(changes: list[dict], *, conflict: str | None = None, self_url: str | None = None) -> bytes:
    """The Atom document (UTF-8 bytes) for ``changes`` (rows of the recent_changes view)."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    title = "Ceasefire watcher: term changes" + (f" ({conflict})" if conflict else "")
    _sub(feed, "title", title)
    _sub(feed, "subtitle", "Changes in the terms of ceasefire and peace proposals, as reported by news feeds.")
    _sub(feed, "id", feed_id(conflict))
    newest = max((c["detected_at"] for c in changes if c.get("detected_at")), default=None)
    _sub(feed, "updated", rfc3339(newest))
    author = _sub(feed, "author")
    _sub(author, "name", "ceasefire watcher")
    _sub(feed, "generator", "ceasefire-watcher")
    if self_url:
        _sub(feed, "link", rel="self", href=self_url)
    for change in changes:
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(change["key"]))
        _sub(entry, "title", change["summary"])
        _sub(entry, "updated", rfc3339(change["detected_at"]))
        _sub(entry, "published", rfc3339(change["detected_at"]))
        if change.get("article_url"):
            _sub(entry, "link", rel="alternate", href=change["article_url"])
        if change.get("outlet"):
            source_author = _sub(entry, "author")
            _sub(source_author, "name", change["outlet"])
        for term in ("conflict", "proposer", "category", "kind"):
            if change.get(term):
                _sub(entry, "category", term=change[term], label=f"{term}: {change[term]}")
        if change.get("quote"):
            _sub(entry, "summary", change["quote"])
        _sub(entry, "content", _content(change), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
