"""OPML in and out: the feed list format every feed reader speaks.

config.toml is the one feed list (the ``feeds`` table only holds each feed's state). So
``watcher feeds import`` *appends* ``[[feeds]]`` blocks to the config file as text, keeping
the user's comments and layout, skipping feeds already there, and validates the result
with the real config loader before atomically replacing the file; ``watcher feeds export``
writes the configured feeds as OPML 2.0. Nobody has to keep two lists in step.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from watcher.config import Config, ConfigError, parse_config
from watcher.errors import WatcherError

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class OpmlError(WatcherError):
    """The OPML file cannot be read; the message says why."""


@dataclass
class OpmlFeed:
    url: str
    title: str | None = None
    html_url: str | None = None
    category: str | None = None  # the enclosing outlines' titles, "News/World"


@dataclass
class ImportPlan:
    added: list[OpmlFeed] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
    text: str = ""  # the new config text ("" when nothing is added)


# --- reading -----------------------------------------------------------------------------


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document (any nesting of outlines), in document order."""
    if re.search(rb"<!ENTITY", data, re.I):
        raise OpmlError("the file declares XML entities; refusing to expand them")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise OpmlError(f"not well-formed XML: {err}") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"not an OPML document (the root element is <{_local(root.tag)}>)")
    feeds: list[OpmlFeed] = []
    # depth first, in document order, without recursion: outlines nest as deep as a file
    # makes them (5,000 levels would overflow Python's stack)
    stack: list[tuple[Iterator[ET.Element], tuple[str, ...]]] = [(iter(root), ())]
    while stack:
        children, path = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        if _local(child.tag) not in ("outline", "body"):
            continue
        attrs = {k.lower(): v for k, v in child.attrib.items()}
        label = _text(attrs.get("title") or attrs.get("text"))
        url = (attrs.get("xmlurl") or "").strip()
        if url:
            feeds.append(OpmlFeed(url, label, (attrs.get("htmlurl") or "").strip() or None, "/".join(path) or None))
        stack.append((iter(child), path + (label,) if (label and not url) else path))
    return feeds


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _text(value: str | None) -> str | None:
    value = " ".join(_CONTROL.sub(" ", value or "").split())
    return value or None


# --- importing into config.toml ----------------------------------------------------------


def _key(url: str) -> str:
    """Compare feed URLs as the pipeline does (canonical form), falling back to the text."""
    try:
        from watcher.feeds.urls import canonical_url

        return canonical_url(url)
    except Exception:
        return url.strip()


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML; DEL must be escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def plan_import(config_text: str, feeds: list[OpmlFeed], *, source: str, path: Path | None = None) -> ImportPlan:
    """Decide which feeds to add and build the new config text; raises ConfigError when
    the result would not be a valid config (it is never written then)."""
    current = tomllib.loads(config_text)
    known = {_key(f["url"]) for f in current.get("feeds", []) if isinstance(f, dict) and "url" in f}
    plan = ImportPlan()
    for feed in feeds:
        try:
            parts = urlsplit(feed.url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:  # e.g. an unclosed IPv6 bracket: http://[::1/feed
            plan.skipped.append((feed.url, "not a valid URL"))
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname or _CONTROL.search(feed.url) or " " in feed.url:
            plan.skipped.append((feed.url, "not an http:// or https:// URL"))
            continue
        key = _key(feed.url)
        if key in known:
            plan.skipped.append((feed.url, "already in the config"))
            continue
        known.add(key)
        plan.added.append(feed)
    if not plan.added:
        return plan
    newline = "\r\n" if "\r\n" in config_text else "\n"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = ["", f"# Imported from {_text(source) or 'OPML'} by `watcher feeds import` on {today}."]
    for feed in plan.added:
        lines += [""]
        if feed.category:
            lines.append(f"# {feed.category}")
        lines += ["[[feeds]]", f"url = {toml_string(feed.url)}"]
        if feed.title:
            lines.append(f"name = {toml_string(feed.title)}")
    text = config_text
    if text and not text.endswith(("\n", "\r")):
        text += newline
    plan.text = text + newline.join(lines) + newline
    base = path.resolve().parent if path else Path.cwd()
    try:
        parse_config(tomllib.loads(plan.text), base=base, path=path)
    except tomllib.TOMLDecodeError as err:  # pragma: no cover - our blocks are valid TOML
        raise ConfigError(f"the imported feeds would not be valid TOML: {err}", path) from None
    return plan


def import_opml(config: Config, opml_path: Path, *, dry_run: bool = False) -> ImportPlan:
    """Append the OPML file's new feeds to the config file (atomically), unless dry_run."""
    if config.path is None:
        raise ConfigError("this config was not read from a file; nothing to add feeds to")
    try:
        data = opml_path.read_bytes()
    except OSError as err:
        raise OpmlError(f"cannot read {opml_path}: {err.strerror}") from None
    feeds = parse_opml(data)
    with editing(Path(config.path)):
        config_text = Path(config.path).read_bytes().decode("utf-8")  # keep CRLF line ends as they are
        plan = plan_import(config_text, feeds, source=opml_path.name, path=Path(config.path))
        if plan.added and not dry_run:
            atomic_write(Path(config.path), plan.text)
    return plan


@contextmanager
def editing(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the config's directory from reading the file to replacing
    it: two edits at once (`feeds add` from two shells or scripts) each read the old text
    and the second rename dropped the first one's feed. The directory, not the file, is
    locked, because atomic_write replaces the file (a lock on it would be on the old one)."""
    fd = os.open(path.resolve().parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def atomic_write(path: Path, text: str) -> None:
    """Write beside the real file (through a symlink), fsync, keep its mode, then rename
    over it: a crash leaves the old file or the new one, never half of either."""
    target = path.resolve()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            shutil.copymode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- exporting ---------------------------------------------------------------------------


def export_opml(config: Config, details: dict[str, dict] | None = None) -> bytes:
    """OPML 2.0 of the configured feeds. ``xmlUrl`` is the URL as written in the config,
    so exporting and importing again changes nothing; ``details`` (the feeds table, by
    config URL) adds each feed's site and own title when polling learnt them."""
    details = details or {}
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = "ceasefire watcher feeds"
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(opml, "body")
    for feed in config.feeds:
        known = details.get(feed.url, {})
        label = _text(feed.name or known.get("title")) or feed.url
        attrs = {"type": "rss", "text": label, "title": label, "xmlUrl": _CONTROL.sub("", feed.url)}
        if known.get("site_url"):
            attrs["htmlUrl"] = _CONTROL.sub("", known["site_url"])
        ET.SubElement(body, "outline", attrs)
    ET.indent(opml)
    return ET.tostring(opml, encoding="utf-8", xml_declaration=True) + b"\n"
