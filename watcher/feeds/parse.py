"""Feed bytes to `ParsedFeed`: feedparser behind a hardening layer, URL canonicalisation,
de-duplication.

Why a layer in front of feedparser:

- **Entity expansion.** feedparser keeps "safe" entities from a DOCTYPE's internal subset
  and its lenient fallback parser expands them without limit: one large entity referenced
  many times turned a 190 KB feed into gigabytes. `strip_internal_subset` removes the
  internal subset before feedparser sees the bytes (`<!DOCTYPE rss [ ... ]>` becomes
  `<!DOCTYPE rss>`). A feed that used its own declared entities then parses leniently
  (malformed, "undefined entity"); HTML named entities such as &nbsp; still decode.
  UTF-16/32 bodies are transcoded to UTF-8 first (`transcode_wide`). A subset with the
  attack signature (entities defined through entities, or an entity over 4 KB) gets the
  whole feed rejected: "refused: ... (billion laughs)". Nothing is kept from it.
- **External entities (XXE).** feedparser's strict parser is expat through xml.sax with
  external general entities switched off; the subset stripping removes SYSTEM entity
  declarations as well, so neither parser can read a local file or fetch a URL.
- **Bytes only.** `feedparser.parse(bytes)` first tries `open()` on its argument as a file
  name; we always pass a `BytesIO`, so a body can never be taken for a path.
- **Speed.** Well-formed RSS and Atom (most feeds) are read by `fastxml` from an lxml tree
  by feedparser's own rules, about 6x cheaper, with the same result; it declines anything
  outside what it reproduces exactly (a DOCTYPE among them: nothing with declared entities
  reaches lxml), and feedparser reads that.

Choices:

- `malformed` is feedparser's bozo flag, except for the harmless kinds (declared encoding
  overridden by the HTTP header, XML served as text/plain): those only set `problem`.
- `rejected` when the body is empty or is not a feed (no rss/atom/rdf root and no entries).
- Entry links are resolved against the feed's `<link>` when it is absolute (feeds on a
  CDN or FeedBurner host point at the publisher's site), otherwise against `base_url`.
- An entry without an http(s) link uses its guid when that is an http(s) URL; otherwise it
  is skipped, and the count is reported in `problem` ("2 entries skipped: no http(s) link").
- `published_at` comes from published, else updated; a date more than a day in the future
  is dropped (None), never clamped to "now", so nothing is invented.
- Entries are de-duplicated within one feed by canonical URL and by guid; the first wins.
  The fragment is not part of the canonical URL, so "page#post1" and "page#post2" are one.
- feedparser's HTML sanitiser and relative-URI rewriting are off (2-3x faster on big
  feeds): every text we return is plain text, and html_to_text drops script/style.
"""

from __future__ import annotations

import contextlib
import io
import re
import xml.sax
from calendar import timegm
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from watcher.feeds import fastxml
from watcher.feeds.text import _MARKUP_HINT, _collapse, _paragraphs, html_to_text
from watcher.feeds.urls import canonical_url
from watcher.feeds.xmlsafety import _strip_subset_ascii, entity_bomb, transcode_wide
from watcher.models import Entry, ParsedFeed
from watcher.safetext import printable

__all__ = ["parse_feed"]

_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_FUTURE_SLACK = timedelta(days=1)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "feedparser flagged the feed as malformed"
    if isinstance(exc, xml.sax.SAXParseException):
        return (
            f"not well-formed XML: {exc.getMessage()} at line {exc.getLineNumber()}, "
            f"column {exc.getColumnNumber()}; parsed leniently"
        )
    if isinstance(exc, feedparser.CharacterEncodingUnknown):
        return f"character encoding unknown: {exc}"
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return f"encoding: {exc}"
    if isinstance(exc, feedparser.NonXMLContentType):
        return f"content type: {exc}"
    return f"{type(exc).__name__}: {exc}"


_CHARSET_PARAM = re.compile(r"\s*;\s*charset\s*=\s*\"?[^;\"]*\"?", re.I)


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.I)
    return m.group(1) if m else None


def _is_http_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# An absolute http(s) link that urljoin would give back unchanged: urljoin returns such a
# link as urlunparse(urlparse(link)), which is the link itself unless it has an empty
# query, fragment or ;params, an upper-case scheme, tabs or line breaks (removed), or no
# host. Most feed links are like this; the rest go through urljoin.
_PLAIN_ABSOLUTE = re.compile(r"https?://[^/?#;\t\r\n][^?#;\t\r\n]*")


_HOSTLESS = re.compile(r"(?i)https?:/*(?:[?#].*)?$")  # a scheme and nothing to fetch


def _absolute(link: str, base: str | None) -> str:
    link = link.strip()
    if not link or base is None:
        return link
    if _PLAIN_ABSOLUTE.fullmatch(link):
        return link
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _iso_utc(struct: Any, now: datetime) -> str | None:
    if not struct:
        return None
    try:
        when = datetime.fromtimestamp(timegm(struct[:9]), UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None
    if when > now + _FUTURE_SLACK:
        return None
    return when.isoformat()


# feedparser's FeedParserDict.get goes through __getitem__ and its key aliases (about 1 µs
# a call); for the keys read below ("id", "link", "author", "content", "value", "type",
# "title", "summary" and their "_detail") there is no alias and no special case, so the
# plain dict.get returns the same value, several times faster (50 entries x 10 keys a feed).
_get = dict.get


def _str(value: Any) -> str:
    """A text field as a string. feedparser can leave a dict or list where a string belongs
    (an element named like one of its internal keys, <links> or <summary_detail> say)."""
    return value if isinstance(value, str) else ""


def _content_text(entry: Any) -> str:
    parts = []
    content = _get(entry, "content")
    for c in content if isinstance(content, list) else []:
        if not isinstance(c, dict):
            continue
        value = _str(_get(c, "value"))
        kind = _get(c, "type") or ""
        if "html" in kind or "xml" in kind:
            value = html_to_text(value)
        else:
            value = _paragraphs(value)
        if value and value not in parts:
            parts.append(value)
    return "\n\n".join(parts)


def _detail_text(entry: Any, key: str, paragraphs: bool) -> str:
    value = _str(_get(entry, key))
    detail = _get(entry, key + "_detail") or {}
    if not isinstance(detail, dict):  # <description_detail>text</...> lands here as a string
        detail = {}
    if "html" in (_get(detail, "type") or "text/html") or _MARKUP_HINT.search(value):
        return html_to_text(value, paragraphs=paragraphs)
    return _paragraphs(value) if paragraphs else _collapse(value)


def _looks_not_feed(result: Any) -> bool:
    return not result.get("version") and not result["entries"]


def parse_feed(
    body: bytes,
    headers: dict[str, str] | None = None,
    base_url: str | None = None,
    *,
    fast: bool = True,
) -> ParsedFeed:
    """Parse feed bytes into a ParsedFeed. Pure: no network, no file access.

    `headers` are the HTTP response headers (any case); Content-Type and its charset
    steer encoding detection. `base_url` (the feed's URL after redirects) resolves relative
    links when the feed's own <link> cannot. Well-formed RSS 2.0, RSS 1.0 and Atom feeds
    are read by `fastxml` (about 6x faster, same result); `fast=False` always runs
    feedparser, which the tests use to check that both agree.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if not body or not body.strip():
        return ParsedFeed(None, None, [], rejected=True, problem="empty body")
    content_type = hdrs.get("content-type", "")
    wide = transcode_wide(body, _charset(content_type))
    if wide is not None:
        body = wide
        if content_type:
            hdrs["content-type"] = _CHARSET_PARAM.sub("", content_type) + "; charset=utf-8"
    body, subset = _strip_subset_ascii(body)
    if subset is not None and (bomb := entity_bomb(subset)) is not None:
        return ParsedFeed(None, None, [], rejected=True, problem=f"refused: {bomb}")
    hdrs.pop("content-location", None)  # we resolve links ourselves, see module docstring
    # Sanitising and URI-rewriting HTML costs feedparser 2-3x its parse time and buys us
    # nothing: we keep plain text only (html_to_text drops script/style content itself).
    result: Any = None
    if fast:
        with contextlib.suppress(fastxml.Fallback):  # outside what it reads exactly
            result = fastxml.read(body, hdrs)
    if result is None:
        try:
            result = feedparser.parse(
                io.BytesIO(body), response_headers=hdrs, sanitize_html=False,
                resolve_relative_uris=False,
            )
        except Exception as exc:  # noqa: BLE001 - a parser bug on odd input; name it, go on
            problem = f"the feed parser failed on it: {type(exc).__name__}: {exc}"
            return ParsedFeed(None, None, [], rejected=True, problem=problem)
    exc = result.get("bozo_exception")
    if _looks_not_feed(result):
        kind = "an HTML page" if _looks_html(body) else "no RSS, Atom or RDF feed element"
        problem = f"not a feed: {kind}"
        if result.get("bozo"):
            problem += f" ({_describe(exc)})"
        return ParsedFeed(None, None, [], rejected=True, problem=problem)

    feed = result["feed"]
    feed_title = printable(_detail_text(feed, "title", paragraphs=False)) or None
    feed_link = _str(feed.get("link")).strip() or None
    if feed_link and not _is_http_url(feed_link):
        feed_link = _absolute(feed_link, base_url) if base_url else feed_link
    entry_base = feed_link if _is_http_url(feed_link) else base_url

    now = datetime.now(UTC)
    entries: list[Entry] = []
    seen_urls: set[str] = set()
    seen_guids: set[str] = set()
    skipped = 0
    duplicates = 0
    for raw in result["entries"]:
        guid = _str(_get(raw, "id")).strip() or None
        # With <guid> and no <link>, feedparser copies the guid into link; a guid that is
        # not itself a URL must not be resolved into one.
        raw_link = _str(_get(raw, "link")).strip()
        if raw_link == guid and not _is_http_url(guid):
            raw_link = ""
        if _HOSTLESS.match(raw_link):  # "http://" alone would resolve to the feed's own site
            raw_link = ""
        link = _absolute(raw_link, entry_base)
        if not _is_http_url(link):
            if guid and _is_http_url(guid):
                link = guid
            else:
                skipped += 1
                continue
        url = canonical_url(link)
        if url in seen_urls or (guid is not None and guid in seen_guids):
            duplicates += 1
            continue
        seen_urls.add(url)
        if guid is not None:
            seen_guids.add(guid)
        content = printable(_content_text(raw))
        summary = printable(_detail_text(raw, "summary", paragraphs=True))
        author = printable(_collapse(html_to_text(_str(_get(raw, "author")), paragraphs=False))) or None
        entries.append(
            Entry(
                url=url,
                link=link,
                guid=guid,
                title=printable(_detail_text(raw, "title", paragraphs=False)),
                summary=summary,
                content=content,
                # dict.get: FeedParserDict.get("published_parsed") falls back to updated
                # with a DeprecationWarning; we ask for each explicitly.
                published_at=_iso_utc(dict.get(raw, "published_parsed"), now)
                or _iso_utc(dict.get(raw, "updated_parsed"), now),
                author=author,
            )
        )

    problems = []
    malformed = bool(result.get("bozo")) and not isinstance(exc, _HARMLESS_BOZO)
    if result.get("bozo"):
        problems.append(_describe(exc))
    if skipped:
        problems.append(f"{skipped} entr{'y' if skipped == 1 else 'ies'} skipped: no http(s) link")
    return ParsedFeed(
        title=feed_title,
        link=feed_link,
        entries=entries,
        ttl_seconds=_ttl_seconds(feed.get("ttl")),
        malformed=malformed,
        problem=printable("; ".join(problems)) or None,
    )


def _ttl_seconds(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)


def _looks_html(body: bytes) -> bool:
    head = body[:2048]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return bool(_HTML_START.match(head)) or b"<html" in head.lower()
