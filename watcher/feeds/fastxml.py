"""A fast reader for well-formed RSS 2.0 and Atom 1.0 feeds, equal to feedparser on them.

feedparser was most of a poll cycle's CPU: about 10 ms for a 60 KB, 50-item feed, because it
walks the document through xml.sax with Python callbacks per element and per text chunk.
lxml builds the same document in about 0.2 ms. `read()` takes the few fields `parse_feed`
uses (the feed's title, link and ttl; each entry's id, link, title, summary, content, author
and dates) from the lxml tree and decides each the way feedparser would — which element wins
when several compete, a guid standing in for a missing link, a description that becomes
content, the first title at the shallowest depth, mojibake repair, cp1252 code points — by
replaying feedparser's own handler rules over a known subset of elements.

Anything outside that subset makes `read()` raise Fallback and `parse_feed` runs feedparser
instead, so an odd feed costs the old price and never a different answer: XML that is not
well-formed, a DOCTYPE or entity declaration, xml:base, a namespaced attribute that could
steer a handler, inline XHTML or any element inside a text element, base64 or non-text
content types, Atom 0.3, Atom's <source>, an element feedparser has a handler for that this
module does not know. RSS 1.0 (RDF) is read too: Deutsche Welle, one of the example feeds,
publishes it. `Fallback.reason` says which.

Encoding detection is feedparser's own (`convert_to_utf8`, with its bozo flags), and so are
date parsing, URI joining, the HTML heuristic and the cp1252 table: imported, not copied, so a
feedparser upgrade moves both paths together. `tests/test_feedxml.py` checks that both give
the same `ParsedFeed` on every file of the shared corpus, the benchmark feeds and generated
feeds.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

from lxml import etree

# feedparser's own pieces, so both paths decide alike. They are internals (pyproject pins
# feedparser < 7); should a release move them, this module switches itself off and every
# feed goes to feedparser: slower, never wrong.
try:
    from feedparser.api import StrictFeedParser
    from feedparser.datetimes import _parse_date
    from feedparser.encodings import convert_to_utf8
    from feedparser.html import _cp1252
    from feedparser.urls import _urljoin
    from feedparser.util import FeedParserDict

    _KNOWN_NS = {k.lower(): v for k, v in StrictFeedParser.namespaces.items()}
    _STANDARD_PREFIXES = frozenset(_KNOWN_NS.values()) - {""}
    _HTML_TYPES = StrictFeedParser.html_types
    _looks_like_html = StrictFeedParser.looks_like_html
    # the element names feedparser has a start or end handler for, read once: a fixed set,
    # where a cache keyed by the names feeds bring would grow with every tag a worker meets
    _HANDLER_NAMES = frozenset(
        n.split("_", 2)[2] for n in dir(StrictFeedParser) if n.startswith(("_start_", "_end_"))
    )
    AVAILABLE = True
except (ImportError, AttributeError):  # pragma: no cover - depends on the installed release
    AVAILABLE = False
    _HANDLER_NAMES = frozenset()

__all__ = ["AVAILABLE", "Fallback", "read"]

_ATOM = "http://www.w3.org/2005/Atom"
_AMP_REF = re.compile("&([A-Za-z0-9_]+);")
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_ABOUT = f"{{{_RDF}}}about"
_FIRST_ELEMENT = re.compile(rb"<\w")

# The keys `parse_feed` reads; an element whose feedparser name is one of these and that this
# module does not handle would write straight into them.
_OUR_KEYS = frozenset({
    "title", "title_detail", "link", "id", "summary", "summary_detail", "content", "author",
    "published_parsed", "updated_parsed", "ttl",
})

# Names FeedParserDict stores under one of those keys (its keymap: date_parsed is
# updated_parsed, description_detail is summary_detail, ...).
_ALIASES_OF_OURS = frozenset(
    key for key, target in (FeedParserDict.keymap.items() if AVAILABLE else ())
    if set(target if isinstance(target, list) else [target]) & _OUR_KEYS
)

# Elements whose feedparser handlers touch nothing `parse_feed` reads (tags, enclosures,
# media attachments, credits, rights, language, generator ...). Their children are still
# walked: <media:content> may hold a <media:description>, which does count.
_HARMLESS = frozenset({
    "category", "dc_subject", "media_category", "keywords", "media_keywords", "itunes_keywords",
    "enclosure", "media_content", "media_thumbnail", "media_credit", "media_group",
    "media_rating", "media_restriction", "media_player", "media_license", "media_hash",
    "language", "dc_language", "generator", "webmaster", "dc_publisher", "cloud", "icon",
    "logo", "dcterms_created", "created", "expirationdate", "media_adult", "itunes_category",
    "itunes_image", "itunes_link", "itunes_block", "itunes_explicit",
})
# Harmless only as leaves: text constructs (feedparser takes any child element of these for
# inline markup, skips its handler and unbalances its content counter) and GeoRSS shapes.
_HARMLESS_LEAVES = frozenset({
    "copyright", "rights", "dc_rights", "subtitle", "tagline", "itunes_subtitle",
    "georss_point", "georss_line", "georss_polygon", "georss_box",
})
# Keys feedparser's handlers keep lists or dicts under: an unknown element of that name
# would store a string there and make a later handler fail (feedparser then silently treats
# that later element as unknown: a <link> after <links>x</links> is lost).
_CONTAINER_KEYS = frozenset({
    "links", "authors", "author_detail", "contributors", "publisher_detail", "tags",
    "media_thumbnail", "media_credit", "media_content", "media_rating", "media_restriction",
    "media_license", "media_player", "where", "textinput", "image", "generator_detail",
    "chapters", "license", "source",
})
_IMAGE_CHILDREN = frozenset({"title", "link", "url", "width", "height", "description"})
_TEXTINPUT_CHILDREN = frozenset({"title", "link", "description", "name"})
_TITLES = frozenset({"title", "dc_title", "media_title"})
_IDS = frozenset({"id", "guid"})
_DESCRIPTIONS = frozenset({"description", "dc_description", "media_description"})
_PUBLISHED = frozenset({"published", "pubdate", "issued", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
_AUTHORS = frozenset({"author", "dc_creator", "dc_author", "managingeditor", "itunes_author"})
_AUTHOR_PARTS = frozenset({"name", "email", "uri", "url"})
# Attributes feedparser's handlers consult; a namespaced attribute reaches the handlers under
# its bare local name too, so one with these names could steer them.
_CONSULTED_ATTRIBUTES = frozenset({
    "type", "mode", "ispermalink", "href", "url", "uri", "rel", "version", "base", "lastmod",
    "src", "text", "about",
})
_HANDLED = (
    _TITLES | _IDS | _DESCRIPTIONS | _PUBLISHED | _UPDATED | _AUTHORS
    | {"rss", "channel", "feed", "item", "entry", "image", "source", "link", "summary", "content",
       "content_encoded", "name", "email", "uri", "url", "contributor", "dc_contributor",
       "width", "height", "itunes_summary", "itunes_owner", "textinput"}
)


class Fallback(Exception):
    """The feed is outside what this module reproduces exactly; feedparser must read it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _has_handler(name: str) -> bool:
    return name in _HANDLER_NAMES


_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
    remove_comments=True, remove_pis=True, strip_cdata=True,
)


def read(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """feedparser's result for `body`, restricted to the keys parse_feed reads.

    Returns a dict with `feed`, `entries`, `bozo`, `bozo_exception` and `version`, shaped as
    feedparser's. Raises Fallback when the feed is outside the subset reproduced here.
    `headers` are lower-case HTTP response headers, as feedparser receives them.
    """
    if not AVAILABLE:
        raise Fallback("feedparser internals not found")
    result: dict[str, Any] = {"bozo": False, "entries": [], "feed": {}}
    data = convert_to_utf8(headers, body, result)
    if not result.get("encoding"):
        raise Fallback("no usable character encoding")
    first = _FIRST_ELEMENT.search(data)
    head = data[: first.start() if first else len(data)].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise Fallback("DOCTYPE")
    # iterparse, for the namespace declarations in document order as SAX reports them
    events = etree.iterparse(io.BytesIO(data), events=("start-ns",), **_PARSER_OPTIONS)
    try:
        declared = [declaration for _, declaration in events]
    except etree.XMLSyntaxError as exc:
        raise Fallback(f"not well-formed: {exc}") from None
    root = events.root
    on_root = len(root.nsmap)
    if {(p or None, u) for p, u in declared[:on_root]} != set(root.nsmap.items()):
        raise Fallback("root declarations not where expected")
    reader = _Reader(_declarations(declared, on_root, root.tag == f"{{{_RDF}}}RDF"))
    _memo_day()
    try:
        reader.run(root)
    except RecursionError:  # 256 levels (libxml2's limit) are ~770 frames of this walk
        raise Fallback("nesting too deep for the walk") from None
    result["feed"] = reader.feed
    result["entries"] = reader.entries
    result["version"] = reader.version
    return result


def _declarations(declared: list[tuple[str, str]], on_root: int, rdf_root: bool) -> str:
    """The version feedparser's track_namespace infers from the namespace declarations (the
    first RSS 1.0 / 0.90 / Atom one, in document order); declines what its namespacemap
    would make order-dependent.

    feedparser's map grows as declarations are met and is never scoped. It only changes an
    element's name when a document binds one prefix to two namespaces, or binds a standard
    prefix ("dc", "media", ...) to another known namespace while also using the namespace
    that prefix stands for; both are declined, so names here never depend on where in the
    document an element is. An element in a namespace feedparser does not know is named
    with the first prefix bound to that namespace (SAX gives it no prefix of its own), so a
    namespace bound to two prefixes, or to a prefix and the default, is declined too.

    `declared` lists (prefix, uri) in document order, the first `on_root` made on the root
    element. Under an rdf:RDF root the version takes effect where it is declared: one
    declared below the root is declined (elements before it would be read as version-less).
    """
    bound: dict[str, str] = {}
    used: set[str] = set()  # standard prefixes of the known namespaces declared
    rebound: set[str] = set()  # standard prefixes the document binds to another namespace
    prefixes_of: dict[str, set[str]] = {}  # unknown namespace -> prefixes bound to it
    version = ""
    for index, (raw_prefix, raw_uri) in enumerate(declared):
        if raw_prefix and not raw_prefix.isascii():
            # expat refuses what libxml2 takes (see _Reader.lookup); declined here, where
            # every prefix an element can carry is declared, the tag alone names an element
            raise Fallback("non-ASCII prefix")
        if not raw_uri:
            continue  # feedparser's startPrefixMapping ignores an undeclaration
        if raw_prefix and bound.setdefault(raw_prefix, raw_uri) != raw_uri:
            # (the default namespace may change freely: unprefixed names never go through
            # feedparser's map)
            raise Fallback(f"prefix {raw_prefix!r} bound to two namespaces")
        uri = raw_uri.lower()
        if not version:
            if not raw_prefix and uri == "http://my.netscape.com/rdf/simple/0.9/":
                version = "rss090"
            elif uri == "http://purl.org/rss/1.0/":
                version = "rss10"
            elif uri == "http://www.w3.org/2005/atom":
                version = "atom10"
            if version and rdf_root and index >= on_root:
                raise Fallback("RSS version declared below the rdf:RDF root")
        if "backend.userland.com/rss" in uri:
            uri = "http://backend.userland.com/rss"
        standard = _KNOWN_NS.get(uri)
        if standard is None:
            prefixes = prefixes_of.setdefault(raw_uri, set())
            prefixes.add(raw_prefix)
            if len(prefixes) > 1:
                raise Fallback(f"namespace {raw_uri!r} bound to several prefixes")
        else:
            used.add(standard)
            if raw_prefix in _STANDARD_PREFIXES and standard != raw_prefix:
                rebound.add(raw_prefix)
    if rebound & used:
        # e.g. Medium binds "cc" to the Harvard module (standard "creativeCommons"): harmless
        # unless the namespace whose standard prefix is "cc" is in the document too
        raise Fallback(f"standard prefixes {sorted(rebound & used)} bound to other namespaces")
    return version


def _repair(text: str) -> str:
    """feedparser's last steps on every text value: undo UTF-8 read as Latin-1, map cp1252."""
    if text.isascii():
        return text
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return text.translate(_cp1252)


_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
                  "xhtml": "application/xhtml+xml"}


def _content_type(value: str) -> str:
    value = value.lower()
    return _CONTENT_TYPES.get(value, value)


# Parsed dates by their text: feedparser's date parsers try up to a dozen formats in Python
# (~3 µs a date, a fifth of this reader's time). A feed repeats its dates from one poll to
# the next and a wire story carries the same one in every feed, so a worker meets most of
# them again. _parse_date returns an immutable struct_time (or None) that depends on the
# string and, for a date without its year, month or day ("10:00:00Z", "--06-12"), on
# today's UTC date, which feedparser fills in: so the memo holds for one UTC day
# (_memo_day, checked once a feed) and is dropped whole when full, which bounds it.
_DATES: dict[str, Any] = {}
_DATES_MAX = 20_000
_DATES_DAY: list[tuple[int, int, int]] = [(0, 0, 0)]  # the UTC day the memo's dates were parsed on


def _memo_day() -> None:
    """Drop the date memo when the UTC day has changed since it was filled."""
    today = time.gmtime()[:3]
    if _DATES_DAY[0] != today:
        _DATES.clear()
        _DATES_DAY[0] = today


def _parse_date_memo(text: str) -> Any:
    try:
        return _DATES[text]
    except KeyError:
        pass
    if len(_DATES) >= _DATES_MAX:
        _DATES.clear()
    parsed = _DATES[text] = _parse_date(text)
    return parsed


def _join(uri: str) -> str:
    """feedparser's ``_urljoin("", uri)``, without its regex where it cannot change anything:
    with no base, urljoin returns the URI, and _urifixer only drops slashes that follow a
    scheme's "://" (so a URI without ":///" comes back as it went in)."""
    return _urljoin("", uri) if ":///" in uri else uri


# Handlers by element tag, for tags in no namespace or in one feedparser knows: their names
# are the same in every document. A tag in another namespace is named after the prefix the
# document binds to it (one per document, see _declarations), so it is kept per reader.
_BY_TAG: dict[Any, tuple[str, Any]] = {}
_BY_TAG_MAX = 10_000


class _Reader:
    """Replays feedparser's handlers for the handled elements, in document order.

    Each element costs a dictionary lookup of its tag for its feedparser name and handler
    (``_handler_for``, decided once per name), its attributes only when it has any, and the
    handler itself: the order of checks each handler makes is feedparser's.
    """

    def __init__(self, version: str) -> None:
        self.by_tag: dict[Any, tuple[str, Any]] = {}
        self.version = version
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.image: dict[str, Any] = {}
        self.source: dict[str, Any] = {}
        self.entry_depths: dict[str, int] = {}  # the shallowest depth each key was stored at
        self.depth = 0
        self.infeed = self.inentry = self.inimage = self.insource = self.inauthor = False
        self.intextinput = False
        self.has_content = False
        self.guidislink = False
        self.title_depth = -1

    # -- names and contexts ---------------------------------------------------------------

    def lookup(self, el: Any) -> tuple[str, Any]:
        """feedparser's handler name for an element ('title', 'dc_creator', 'media_title')
        and the handler that replays it."""
        tag = el.tag
        found = _BY_TAG.get(tag) or self.by_tag.get(tag)
        if found is not None:
            return found
        if not isinstance(tag, str):
            raise Fallback("entity reference or special node")
        if tag[0] == "{":
            ns, local = tag[1:].split("}", 1)
        else:
            ns, local = "", tag
        low = ns.lower()
        if "backend.userland.com/rss" in low:
            low = "http://backend.userland.com/rss"
        if not local.isascii() or not (el.prefix or "").isascii():
            # libxml2 takes XML 1.0 fifth-edition name characters that expat refuses: there
            # feedparser would read the feed with its lenient parser instead (_declarations
            # declines a non-ASCII prefix too, so the tag alone can key the shared table)
            raise Fallback("non-ASCII element name")
        known = _KNOWN_NS.get(low)
        prefix = el.prefix if known is None else known
        qualified = (prefix.lower() + ":" + local if prefix else local).lower()
        # (feedparser then maps the prefix through its namespacemap: the identity here, see
        # _declarations)
        name = qualified.replace(":", "_", 1)
        found = (name, _handler_for(name))
        if known is None:
            self.by_tag[tag] = found
        else:
            if len(_BY_TAG) >= _BY_TAG_MAX:
                _BY_TAG.clear()
            _BY_TAG[tag] = found
        return found

    def name(self, el: Any) -> str:
        return self.lookup(el)[0]

    def context(self) -> dict[str, Any]:
        if self.insource:
            return self.source
        if self.inimage or self.intextinput:
            return self.image  # a sink: the image and the text input are not ours
        if self.inentry:
            return self.entries[-1]
        return self.feed

    # -- the walk ---------------------------------------------------------------------------

    def run(self, root: Any) -> None:
        name = self.name(root)
        if name == "rss":
            if not self.version.startswith("rss"):  # feedparser's _start_rss corrects it
                attr = root.get("version", "")
                self.version = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093",
                                "0.94": "rss094"}.get(attr) or (
                    "rss20" if attr.startswith("2.") else "rss")
        elif name == "feed" and root.tag == f"{{{_ATOM}}}feed":
            pass  # the Atom declaration set the version (or an earlier RSS one did)
        elif name == "rdf_rdf" and root.tag == f"{{{_RDF}}}RDF":
            pass  # RSS 1.0 / 0.90: version from the declarations, as feedparser's
        else:
            raise Fallback(f"root element {name}")
        self.element(root)

    def children(self, el: Any) -> None:
        for child in el:
            self.element(child)

    def element(self, el: Any) -> None:
        # (no try/finally for the depth: a Fallback ends the whole read)
        tag = el.tag
        found = _BY_TAG.get(tag) or self.by_tag.get(tag) or self.lookup(el)
        items = el.items()
        attrs = _attributes(items) if items else {}
        self.depth += 1
        found[1](self, el, found[0], attrs)
        self.depth -= 1

    # -- one handler per kind of element (see _handler_for) ----------------------------------

    def h_rss(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if self.depth != 1:
            raise Fallback("nested rss")
        self.children(el)

    def h_channel(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if self.depth > 2 or self.inentry or "href" in attrs:
            raise Fallback(f"nested {name} or a CDF href")
        self.infeed = True
        self.children(el)
        self.infeed = False

    def h_entry(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if "href" in attrs:
            raise Fallback("CDF href on an entry")
        self.entry(el, attrs.get("rdf:about"))

    def h_image(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.side_block(el, "inimage", _IMAGE_CHILDREN)

    def h_textinput(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.side_block(el, "intextinput", _TEXTINPUT_CHILDREN)

    def h_source(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if not self.inentry or len(el):
            raise Fallback("source with children or outside an entry")
        self.title_depth = -1  # feedparser resets it; the source's own text is not ours

    def h_title(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.title(el, attrs, restore=False)

    def h_media_title(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.title(el, attrs, restore=True)

    def h_link(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.link(el, attrs)

    def h_guid(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.guid(el, attrs)

    def h_description(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if "summary" in self.context() and not self.has_content:
            self.content(el, attrs, "text/plain")
        else:
            self.store(el, "description", self.text_type(attrs, "text/html"))

    def h_summary(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if "summary" in self.context() and not self.has_content:
            self.content(el, attrs, "text/plain")
        else:
            self.store(el, "summary", self.text_type(attrs, "text/plain"))

    def h_content(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.content(el, attrs, "text/plain")

    def h_content_encoded(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.content(el, attrs, "text/html")

    def h_published(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        value = self.store(el, "published")
        self.context()["published_parsed"] = _parse_date_memo(value)

    def h_updated(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        value = self.store(el, "updated")
        self.context()["updated_parsed"] = _parse_date_memo(value)

    def h_author(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.author(el)

    def h_url(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if not self.inimage:  # in an image: its own field, kept in feed.image; nothing of ours
            self.author_part(el, name)

    def h_image_size(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if not self.inimage:
            raise Fallback(f"{name} outside an image")

    def h_author_part(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.author_part(el, name)

    def h_contributor(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        # saved into 'contributors' or 'publisher' only: their names must not be read as
        # the entry's author, so their parts are not walked
        if (self.inentry and name == "itunes_owner") or any(
            not self.person_part(c) or len(c) for c in el
        ):
            raise Fallback(f"{name} in an entry or with unexpected children")

    def h_harmless(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        self.children(el)

    def h_harmless_leaf(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        if len(el):
            raise Fallback(f"markup inside <{name}>")

    def h_declined(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        raise Fallback(f"element {name}")

    def h_our_key(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        raise Fallback(f"unknown element named {name}")

    def h_unknown(self, el: Any, name: str, attrs: dict[str, str]) -> None:
        # feedparser keeps an element it has no handler for under its own name: only <ttl>
        # matters here. Its children are walked like any others.
        if name == "ttl" and not self.inentry:
            if len(el):
                raise Fallback("ttl with children")
            if el.attrib:  # namespaced ones count too: feedparser keeps the attributes
                self.context()["ttl"] = attrs
            else:
                self.store(el, "ttl")
            return
        self.children(el)

    # -- element handlers ----------------------------------------------------------------------

    def entry(self, el: Any, about: str | None) -> None:
        if self.inentry or self.inimage or self.intextinput or self.insource:
            raise Fallback("nested entry")
        self.entries.append({"id": about} if about else {})  # RSS 1.0: rdf:about is the id
        self.entry_depths = {}
        self.inentry = True
        self.guidislink = False
        self.title_depth = -1
        self.children(el)
        self.inentry = False
        self.has_content = False

    def side_block(self, el: Any, flag: str, allowed: frozenset[str]) -> None:
        """<image> or <textinput>: their titles and links are theirs, not the feed's, and any
        other child would make feedparser leave the block early (its `inimage` reset)."""
        if self.inentry or self.inimage or self.intextinput:
            raise Fallback(f"{flag[2:]} inside an entry, image or text input")
        if any(self.name(child) not in allowed or len(child) for child in el):
            raise Fallback(f"{flag[2:]} child feedparser would treat as leaving it")
        setattr(self, flag, True)
        self.title_depth = -1
        self.children(el)
        setattr(self, flag, False)

    def title(self, el: Any, attrs: dict[str, str], restore: bool) -> None:
        saved = self.title_depth
        ctype = self.text_type(attrs, "text/plain")
        value = self.store(el, "title", ctype)
        if value:
            self.title_depth = self.depth
        if restore:
            self.title_depth = saved

    def link(self, el: Any, attrs: dict[str, str]) -> None:
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            attrs.pop("url", None)
            attrs.pop("uri", None)
            attrs["href"] = href
        if "href" in attrs:
            href = _join(attrs["href"])
            if attrs["rel"] == "alternate" and _content_type(attrs["type"]) in _HTML_TYPES:
                self.context()["link"] = href
            return
        self.store(el, "link", uri=True)

    def guid(self, el: Any, attrs: dict[str, str]) -> None:
        self.guidislink = attrs.get("ispermalink", "true") == "true"
        value = self.store(el, "id", uri=self.guidislink)
        context = self.context()
        context.setdefault("guidislink", self.guidislink and "link" not in context)
        if self.guidislink:
            context.setdefault("link", value)

    @staticmethod
    def text_type(attrs: dict[str, str], default: str) -> str:
        if not attrs:
            return default  # (the defaults are text types, lower case and no alias)
        if attrs.get("mode") == "base64":
            raise Fallback("base64 content")
        ctype = _content_type(attrs.get("type", default))
        if not ctype.startswith("text/"):
            raise Fallback(f"content type {ctype}")
        return ctype

    def content(self, el: Any, attrs: dict[str, str], default: str) -> None:
        self.has_content = True
        ctype = self.text_type(attrs, default)
        value = self.store(el, "content", ctype)
        if ctype in ("text/plain", "text/html"):  # feedparser's copyToSummary
            self.context().setdefault("summary", value)

    def author(self, el: Any) -> None:
        context = self.context()
        context.setdefault("authors", []).append({})
        if len(el):
            self.inauthor = True
            for child in el:
                if not self.person_part(child):
                    raise Fallback("author child")
            self.children(el)
            self.inauthor = False
            text = _own_text(el)
        else:
            text = el.text or ""
        self.store(el, "author", text=text)
        self.sync_author()

    def person_part(self, el: Any) -> bool:
        """A child of <author> feedparser saves into the author (or ignores harmlessly)."""
        name = self.name(el)
        if name in _AUTHOR_PARTS or name in ("itunes_name", "itunes_email"):
            return True
        if (_has_handler(name) or name in _OUR_KEYS or name in _ALIASES_OF_OURS
                or name in _CONTAINER_KEYS or len(el)):
            return False
        # an unknown element with attributes is not pushed: its text would join the author's
        return not (el.attrib and el.text)

    def author_part(self, el: Any, name: str) -> None:
        if self.intextinput and name == "name":
            return  # the text input's field name, kept in feed.textinput
        if not self.inauthor:
            raise Fallback(f"{name} outside an author")
        if len(el):
            raise Fallback(f"{name} with children")
        if name in ("uri", "url"):
            # pushed as 'href', stored under that key, then saved into the author
            self.save_author("href", self.store(el, "href", uri=True))
        else:
            self.save_author(name, (el.text or "").strip())  # not text-expecting: raw

    def save_author(self, key: str, value: str) -> None:
        context = self.context()
        context.setdefault("author_detail", {})[key] = value
        self.sync_author()
        context.setdefault("authors", [{}])
        context["authors"][-1][key] = value

    def sync_author(self) -> None:
        """feedparser's _sync_author_detail, for the 'author' key."""
        context = self.context()
        detail = context.get("authors", [{}])[-1]
        if detail:
            name, email = detail.get("name"), detail.get("email")
            if name and email:
                context["author"] = f"{name} ({email})"
            elif name:
                context["author"] = name
            elif email:
                context["author"] = email
            return
        author, email = context.get("author"), None
        if not author:
            return
        email = _email_in(author)
        if email:
            author = author.replace(email, "").replace("()", "").replace("<>", "")
            author = author.replace("&lt;&gt;", "").strip()
            if author and author[0] == "(":
                author = author[1:]
            if author and author[-1] == ")":
                author = author[:-1]
            author = author.strip()
        if author or email:
            context.setdefault("author_detail", detail)
        if author:
            detail["name"] = author
        if email:
            detail["email"] = email

    # -- feedparser's pop(): the text of an element, processed and stored ----------------

    def store(
        self, el: Any, key: str, ctype: str | None = None, uri: bool = False,
        text: str | None = None,
    ) -> str:
        if text is None:
            if len(el):
                raise Fallback(f"markup inside <{key}>")
            text = el.text or ""
        out = text.strip()
        if uri and out:
            out = _join(out)
        # (looks_like_html wants a closing tag or an entity reference: neither, no call)
        if (ctype == "text/plain" and ("</" in out or "&" in out)
                and not self.version.startswith("atom") and _looks_like_html(out)):
            ctype = "text/html"
        if not out.isascii():
            out = _repair(out)
        if key == "title" and -1 < self.title_depth <= self.depth:
            return out
        detail = {"type": ctype, "value": out} if ctype is not None else None
        if self.inentry and not self.insource and not self.inimage:
            entry = self.entries[-1]
            if key == "content":
                entry.setdefault("content", []).append(detail)
            elif key == "link":
                if "&" in out:
                    out = _AMP_REF.sub(r"&\g<1>", out.replace("&amp;", "&"))
                entry["link"] = out
            else:
                if key == "description":
                    key = "summary"
                depths = self.entry_depths
                old = depths.get(key)
                if old is None or self.depth <= old:
                    depths[key] = self.depth
                    entry[key] = out
                if detail is not None:
                    entry[key + "_detail"] = detail
        elif self.infeed or self.insource:
            context = self.context()
            if key == "description":
                key = "subtitle"
            context[key] = out
            if key == "link":
                if "&" in out:
                    out = _AMP_REF.sub(r"&\g<1>", out)
                context[key] = out
            elif detail is not None:
                context[key + "_detail"] = detail
        return out


def _attributes(items: list[tuple[str, str]]) -> dict[str, str]:
    """An element's attributes as feedparser's handlers see them (``el.items()``)."""
    attrs = {}
    for key, value in items:
        if not key.isascii():
            raise Fallback("non-ASCII attribute name")
        if key[0] == "{":
            if key == _RDF_ABOUT:
                attrs["rdf:about"] = value
                continue
            if key.rsplit("}", 1)[1].lower() in _CONSULTED_ATTRIBUTES:
                raise Fallback(f"namespaced attribute {key}")
            continue
        key = key.lower()
        attrs[key] = value.lower() if key in ("rel", "type") else value  # as the SAX parser
    if "base" in attrs or "lastmod" in attrs:
        raise Fallback("xml:base / cdf attributes")
    return attrs


_HANDLERS = {
    "rss": _Reader.h_rss, "channel": _Reader.h_channel, "feed": _Reader.h_channel,
    "item": _Reader.h_entry, "entry": _Reader.h_entry, "image": _Reader.h_image,
    "textinput": _Reader.h_textinput, "source": _Reader.h_source,
    "title": _Reader.h_title, "dc_title": _Reader.h_title, "media_title": _Reader.h_media_title,
    "link": _Reader.h_link, "id": _Reader.h_guid, "guid": _Reader.h_guid,
    **dict.fromkeys(_DESCRIPTIONS, _Reader.h_description),
    "summary": _Reader.h_summary, "itunes_summary": _Reader.h_summary,
    "content": _Reader.h_content, "content_encoded": _Reader.h_content_encoded,
    **dict.fromkeys(_PUBLISHED, _Reader.h_published),
    **dict.fromkeys(_UPDATED, _Reader.h_updated),
    **dict.fromkeys(_AUTHORS, _Reader.h_author),
    "url": _Reader.h_url, "width": _Reader.h_image_size, "height": _Reader.h_image_size,
    "name": _Reader.h_author_part, "email": _Reader.h_author_part, "uri": _Reader.h_author_part,
    "contributor": _Reader.h_contributor, "dc_contributor": _Reader.h_contributor,
    "itunes_owner": _Reader.h_contributor,
}
assert set(_HANDLERS) == _HANDLED, set(_HANDLERS) ^ _HANDLED


def _handler_for(name: str) -> Any:
    """What the reader does with an element of this feedparser name (decided once a name)."""
    if name in _HANDLED:
        return _HANDLERS[name]
    if name in _HARMLESS:
        return _Reader.h_harmless
    if name in _HARMLESS_LEAVES:
        return _Reader.h_harmless_leaf
    if _has_handler(name):
        return _Reader.h_declined
    if (name in _OUR_KEYS and name != "ttl") or name in _ALIASES_OF_OURS or name in _CONTAINER_KEYS:
        return _Reader.h_our_key
    return _Reader.h_unknown


def _own_text(el: Any) -> str:
    """The text directly inside `el` (not its children's), as feedparser collects it."""
    parts = [el.text or ""]
    parts.extend(child.tail or "" for child in el)
    return "".join(parts)


# feedparser's e-mail pattern, split at the "@". Searched whole, it backtracks over every
# start position: 17 s for an 80 KB <author> of "a.a.a...@". The local part cannot contain
# "@", so a match that uses a given "@" starts where the run of local-part characters
# before it starts, and succeeds or fails with the domain part alone: trying each "@" in
# turn finds the same leftmost match in linear time.
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.+")
_EMAIL_DOMAIN = re.compile(
    r"""((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?)(\?subject=\S+)?"""
)


def _email_in(text: str) -> str | None:
    """What feedparser's e-mail regex (in _sync_author_detail) would find in `text`."""
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        if start < at:
            domain = _EMAIL_DOMAIN.match(text, at + 1)
            if domain:
                return text[start : domain.end()]
        at = text.find("@", at + 1)
    return None
