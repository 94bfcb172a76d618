"""The fast feed reader (watcher.feeds.fastxml) must give what feedparser gives, or step aside.

Three sources of feeds, each compared at two levels — the raw fields parse_feed reads
(feed title/link/ttl; entry id, link, title, summary, content, author, dates, with their
content types) and the finished ParsedFeed:

- every file of ../shared/corpus (real news feeds and feedparser's own test corpus;
  every 8th file by default, all under `-m slow`; skipped when the folder is absent);
- feeds of the benchmark generator (bench/synth.py), the shape the bench measures;
- generated feeds (hypothesis: RSS 2.0, Atom and RSS 1.0) built from the elements where feedparser's rules are
  subtle: several titles at different depths, media:title and media:description inside
  media:content, content:encoded before and after description, guids with and without
  isPermaLink standing in for links, Atom links by rel and type, authors with e-mail
  addresses, mojibake, cp1252 code points, CDATA, escaped markup in titles.

A feed the fast reader declines (Fallback) is parsed by feedparser alone, so equality
there is trivially true; the tests also check that the reader does take the ordinary feeds.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.feeds import fastxml as feedxml
from watcher.feeds.parse import parse_feed
from watcher.feeds.xmlsafety import _strip_subset_ascii

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import synth  # noqa: E402
from test_corpus import CORPUS, corpus_files, route_for  # noqa: E402

ENTRY_KEYS = ("id", "link", "title", "title_detail", "summary", "summary_detail", "content",
              "author", "published_parsed", "updated_parsed")
FEED_KEYS = ("title", "title_detail", "link", "ttl")


def _subset(d: dict, keys: tuple[str, ...]) -> dict:
    out = {}
    for key in keys:
        value = dict.get(d, key)
        if key == "content" and value:
            value = [(dict.get(c, "type"), dict.get(c, "value")) for c in value]
        elif isinstance(value, dict):
            value = (dict.get(value, "type"), dict.get(value, "value"))
        elif key.endswith("_parsed") and value:
            value = tuple(value)
        out[key] = value
    return out


def compare(body: bytes, headers: dict[str, str]) -> str | None:
    """None when the fast reader declined; otherwise assert equality and return 'fast'."""
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs.pop("content-location", None)
    stripped, _ = _strip_subset_ascii(body)
    try:
        fast = feedxml.read(stripped, dict(hdrs))
    except feedxml.Fallback:
        return None
    slow = feedparser.parse(io.BytesIO(stripped), response_headers=dict(hdrs),
                            sanitize_html=False, resolve_relative_uris=False)
    assert _subset(fast["feed"], FEED_KEYS) == _subset(slow["feed"], FEED_KEYS)
    assert len(fast["entries"]) == len(slow["entries"])
    for mine, theirs in zip(fast["entries"], slow["entries"], strict=True):
        assert _subset(mine, ENTRY_KEYS) == _subset(theirs, ENTRY_KEYS)
    assert bool(fast["bozo"]) == bool(slow["bozo"])
    base = "http://feeds.example.com/feed"
    assert parse_feed(body, headers, base) == parse_feed(body, headers, base, fast=False)
    return "fast"


# --- the shared corpus ---------------------------------------------------------------------


def _corpus_sweep(every: int) -> tuple[int, int]:
    files = corpus_files()
    taken = 0
    for i, path in enumerate(files):
        if "feeds" not in path.parent.name and i % every:
            continue
        body = path.read_bytes()
        content_type, headers = route_for(path, body)
        if compare(body, {"content-type": content_type, **headers}) == "fast":
            taken += 1
    return taken, len(files)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
def test_corpus_sample_equal_to_feedparser():
    taken, _ = _corpus_sweep(every=8)
    assert taken >= 100  # the real-world feeds/ folder alone gives 54


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
def test_whole_corpus_equal_to_feedparser():
    taken, total = _corpus_sweep(every=1)
    print(f"fast reader took {taken} of {total} corpus files")
    assert taken >= 900


def test_real_news_feed_shapes_are_taken():
    """The corpus' real RSS 2.0 and Atom news feeds go through the fast reader."""
    folder = CORPUS / "feeds"
    if not folder.is_dir():
        pytest.skip("no corpus")
    names = ["feed-rs__feed-rs__rss_2.0_bbc.xml", "rbren__rss-parser__feedburner.atom",
             "danmactough__node-feedparser__rss2sample.xml",
             "rbren__rss-parser__content-encoded.rss",  # Medium: "cc" bound to another module
             "feed-rs__feed-rs__rss_1.0_debian.xml"]
    for name in names:
        body = (folder / name).read_bytes()
        assert compare(body, {"content-type": "application/xml"}) == "fast", name


# --- the benchmark's feeds -------------------------------------------------------------------


def test_benchmark_feeds_equal_to_feedparser(tmp_path):
    synth.generate(tmp_path, feeds=12, stories=20)
    feeds, _ = synth.load(tmp_path, "http://127.0.0.1:9", 1)
    for body in feeds.values():
        assert compare(body, {"content-type": "application/rss+xml"}) == "fast"


# --- generated feeds -----------------------------------------------------------------------

TEXTS = [
    "Ceasefire talks resume", "  spaced out  ", "", "AT&amp;T &lt;b&gt;bold&lt;/b&gt;",
    "<![CDATA[<p>Truce <em>holds</em></p> & more]]>", "caf\u00e9 \u2014 Kyiv",
    "\u00c3\u00a9t\u00c3\u00a9 mojibake", "&#128;&#147;cp1252&#148;", "&lt;p&gt;escaped para&lt;/p&gt;",
    "jo@example.com (Jo Doe)", "Jo Doe &lt;jo@example.com&gt;", "&amp;amp; twice",
    "1 &lt; 2", "Fish &amp; chips", "&lt;script&gt;x&lt;/script&gt;hi",
]
URLS = [
    "https://news.example.com/a/1", "http://example.com/a?b=1&amp;c=2", "/relative/path",
    "urn:uuid:1234", "tag:example.com,2024:1", "  https://news.example.com/spaced  ",
    "http:///three/slashes", "https://news.example.com/a?x=1&amp;y;=2", "",
]
DATES = ["Mon, 24 Jun 2024 09:13:00 +0000", "2024-06-24T09:13:00Z", "not a date", "",
         "2024-06-24", "Tue, 25 Jun 2024 10:00:00 GMT"]
TYPES = ["", ' type="text"', ' type="html"', ' type="text/html"', ' type="text/plain"',
         ' type="xhtml"', ' type="application/octet-stream"']

text = st.sampled_from(TEXTS)
url = st.sampled_from(URLS)
date = st.sampled_from(DATES)
ctype = st.sampled_from(TYPES)


def _el(tag: str, body: str, attrs: str = "") -> str:
    return f"<{tag}{attrs}>{body}</{tag}>"


def texted(tag: str, values: st.SearchStrategy[str] = text) -> st.SearchStrategy[str]:
    return st.builds(lambda v: _el(tag, v), values)


def _media(children: list[str]) -> str:
    return '<media:content url="https://img.example.com/x.jpg">' + "".join(children) + "</media:content>"


rss_item_child = st.one_of(
    st.builds(lambda t, a: _el("title", t, a), text, ctype),
    texted("link", url),
    st.builds(lambda u, p: _el("guid", u, p), url,
              st.sampled_from(["", ' isPermaLink="true"', ' isPermaLink="false"'])),
    st.builds(lambda t, a: _el("description", t, a), text, ctype),
    texted("content:encoded"),
    texted("pubDate", date),
    texted("dc:date", date),
    texted("dc:creator"),
    texted("author"),
    texted("category"),
    texted("media:title"),
    texted("media:description"),
    st.builds(lambda a, b: _media([_el("media:title", a), _el("media:description", b)]), text, text),
    st.builds(lambda t: _media([_el("media:credit", t)]), text),
    st.just('<media:thumbnail url="https://img.example.com/t.jpg" width="100"/>'),
    st.builds(lambda u, r, t: f'<atom:link href="{u}"{r}{t}/>', url,
              st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="enclosure"']),
              st.sampled_from(["", ' type="text/html"', ' type="application/pdf"'])),
    st.just('<enclosure url="https://img.example.com/a.mp3" length="1" type="audio/mpeg"/>'),
    st.builds(lambda t: _el("source", t, ' url="https://other.example.com/rss"'), text),
    texted("comments", url),
    texted("itunes:summary"),
    texted("itunes:author"),
    texted("dc:title"),
    texted("dc:description"),
    texted("x:unknown"),
    texted("summary"),
)

rss_channel_child = st.one_of(
    st.builds(lambda t, a: _el("title", t, a), text, ctype),
    texted("link", url),
    texted("description"),
    st.builds(lambda t: _el("ttl", t), st.sampled_from(["15", " 30 ", "abc", "-5", ""])),
    st.builds(lambda t, u: f"<image><url>https://img.example.com/l.png</url>{_el('title', t)}"
              f"{_el('link', u)}</image>", text, url),
    st.just('<atom:link href="https://feeds.example.com/rss" rel="self" type="application/rss+xml"/>'),
    st.builds(lambda u: f'<atom:link href="{u}" rel="alternate" type="text/html"/>', url),
    texted("lastBuildDate", date),
    st.just("<language>en-gb</language>"),
)

atom_person = st.builds(
    lambda n, e, u: "<author>" + "".join(p for p in (n, e, u) if p) + "</author>",
    st.sampled_from(["", "<name>Jo Doe</name>", "<name>  Ann \u00c3\u00a9  </name>"]),
    st.sampled_from(["", "<email>jo@example.com</email>"]),
    st.sampled_from(["", "<uri>https://example.com/jo</uri>", "<uri>/jo</uri>"]),
)

atom_entry_child = st.one_of(
    st.builds(lambda t, a: _el("title", t, a), text, ctype),
    st.builds(lambda u, r, t: f'<link href="{u}"{r}{t}/>', url,
              st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="enclosure"', ' rel="related"']),
              st.sampled_from(["", ' type="text/html"', ' type="application/pdf"', ' type="TEXT/HTML"'])),
    texted("link", url),
    texted("id", url),
    texted("published", date),
    texted("updated", date),
    st.builds(lambda t, a: _el("summary", t, a), text, ctype),
    st.builds(lambda t, a: _el("content", t, a), text, ctype),
    st.just('<content src="https://news.example.com/body" type="text/html"/>'),
    atom_person,
    st.just("<contributor><name>Helper</name></contributor>"),
    st.just('<category term="world"/>'),
    texted("media:description"),
    st.builds(lambda a, b: _media([_el("media:title", a), _el("media:description", b)]), text, text),
)

atom_feed_child = st.one_of(
    st.builds(lambda t, a: _el("title", t, a), text, ctype),
    st.builds(lambda u, r: f'<link href="{u}"{r}/>', url,
              st.sampled_from(["", ' rel="alternate"', ' rel="self"'])),
    texted("id", url),
    texted("updated", date),
    atom_person,
    texted("subtitle"),
)

NAMESPACES = ('xmlns:dc="http://purl.org/dc/elements/1.1/" '
              'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
              'xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom" '
              'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:x="http://example.com/x"')


@st.composite
def rss_documents(draw) -> bytes:
    head = draw(st.lists(rss_channel_child, max_size=6))
    items = draw(st.lists(st.lists(rss_item_child, max_size=9), max_size=4))
    tail = draw(st.lists(rss_channel_child, max_size=2))
    body = "".join(head) + "".join("<item>" + "".join(i) + "</item>" for i in items) + "".join(tail)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" {NAMESPACES}>'
            f"<channel>{body}</channel></rss>").encode()


@st.composite
def atom_documents(draw) -> bytes:
    head = draw(st.lists(atom_feed_child, max_size=6))
    entries = draw(st.lists(st.lists(atom_entry_child, max_size=9), max_size=4))
    body = "".join(head) + "".join("<entry>" + "".join(e) + "</entry>" for e in entries)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:media="http://search.yahoo.com/mrss/">' + body + "</feed>").encode("utf-8")


rdf_textinput = st.builds(
    lambda t: f'<textinput rdf:about="https://e.com/search"><title>{t}</title>'
              "<description>Search</description><name>q</name>"
              "<link>https://e.com/search</link></textinput>", text)


@st.composite
def rdf_documents(draw) -> bytes:
    """RSS 1.0: items beside the channel, ids from rdf:about, the version from whichever
    of the RSS 1.0 and Atom namespaces is declared first."""
    declarations = draw(st.permutations([
        'xmlns="http://purl.org/rss/1.0/"',
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
        'xmlns:atom="http://www.w3.org/2005/Atom"',
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:media="http://search.yahoo.com/mrss/" xmlns:x="http://example.com/x" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
    ]))
    channel = draw(st.lists(rss_channel_child.filter(lambda c: "<image>" not in c), max_size=5))
    about = st.sampled_from(['', ' rdf:about="https://news.example.com/a/1"', ' rdf:about=""',
                             ' rdf:about="  /relative  "'])
    items = draw(st.lists(st.tuples(about, st.lists(rss_item_child, max_size=8)), max_size=4))
    extras = draw(st.lists(st.one_of(rdf_textinput, st.just(
        '<image rdf:about="https://e.com/logo.png"><title>Logo</title>'
        "<url>https://e.com/logo.png</url><link>https://e.com/</link></image>")), max_size=2))
    body = ('<channel rdf:about="https://e.com/rss">' + "".join(channel)
            + '<image rdf:resource="https://e.com/logo.png"/>'
            + "<items><rdf:Seq><rdf:li rdf:resource=\"https://e.com/a/1\"/></rdf:Seq></items>"
            + "</channel>" + "".join(extras)
            + "".join(f"<item{a}>" + "".join(i) + "</item>" for a, i in items))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF ' + " ".join(declarations) + ">"
            + body + "</rdf:RDF>").encode()


def _generated(doc: bytes, content_type: str) -> None:
    compare(doc, {"content-type": content_type})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rss_documents())
def test_generated_rss_equal_to_feedparser(doc):
    _generated(doc, "application/rss+xml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(atom_documents())
def test_generated_atom_equal_to_feedparser(doc):
    _generated(doc, "application/atom+xml")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rdf_documents())
def test_generated_rss10_equal_to_feedparser(doc):
    _generated(doc, "application/rdf+xml")


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(rss_documents(), atom_documents(), rdf_documents()))
def test_generated_feeds_long_run(doc):
    _generated(doc, "application/xml")


def test_plain_feed_takes_the_fast_path():
    assert feedxml.AVAILABLE, "feedparser's internals moved: every feed now pays feedparser's price"
    sample = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>' \
             b"<title>A</title><link>https://e.com/a</link><description>&lt;p&gt;x&lt;/p&gt;" \
             b"</description></item></channel></rss>"
    assert compare(sample, {"content-type": "application/rss+xml"}) == "fast"


def test_declarations_in_cdata_and_comments_are_not_markup():
    """The version (and with it whether titles are sniffed for HTML) comes from the first
    RSS 1.0 / Atom namespace declaration; one quoted inside CDATA or a comment is text."""
    doc = (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<!-- xmlns="http://www.w3.org/2005/Atom" --><channel><title>T</title><description>'
           b'<![CDATA[<svg xmlns="http://www.w3.org/2005/Atom"></svg>]]></description></channel>'
           b'<item rdf:about="https://e.com/a"><title>&lt;b&gt;Truce&lt;/b&gt; holds</title>'
           b"</item></rdf:RDF>")
    assert compare(doc, {"content-type": "application/rdf+xml"}) == "fast"
    assert feedxml.read(doc, {})["entries"][0]["title_detail"]["type"] == "text/html"


def test_review_findings_now_agree():
    """Inputs a review found to differ, now equal: rel compared case-insensitively (the SAX
    parser lower-cases rel and type), an unknown child with attributes inside <author> (its
    text joins the author's), a namespaced attribute on <ttl> (feedparser keeps the
    attributes), and namespace declarations quoted in text, PIs and comments."""
    cases = [
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>u</id>'
        b'<link rel="Alternate" href="http://x/a"/></entry></feed>',
        b'<rss><channel><item><title>A</title><author><x a="1">jo@example.com (Jo)</x></author>'
        b"</item></channel></rss>",
        b'<rss><channel><title>T</title><ttl xml:lang="en">60</ttl></channel></rss>',
        b'<?xml version="1.0"?><?xml-stylesheet href="s.xsl" xmlns="http://purl.org/rss/1.0/"?>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>i</id><title>&lt;b&gt;x&lt;/b&gt;'
        b"</title></entry></feed>",
        b'<?xml version="1.0"?><!-- <![CDATA[ --><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<entry><id>i</id><title>&lt;b&gt;x&lt;/b&gt;</title><summary><![CDATA[a]]></summary>"
        b"</entry></feed>",
    ]
    for doc in cases:
        compare(doc, {"content-type": "application/xml"})


def test_many_declarations_cost_linear_time():
    """Declarations come from the parser's start-ns events, not a scan of the text: a
    description full of 'xmlns:a=' text costs a parse, not a quadratic search."""
    doc = (b'<rss><channel><item><description>' + b'xmlns:a="b" ' * 80_000
           + b"</description></item></channel></rss>")
    assert compare(doc, {"content-type": "application/xml"}) == "fast"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1.-_+@[] ()?=subject.com<>9xZ", max_size=40))
def test_email_search_equals_feedparsers_regex(text):
    """_email_in is feedparser's author e-mail regex, searched in linear time."""
    regex = re.compile(r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|"""
                       r"""(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?""")
    match = regex.search(text)
    assert feedxml._email_in(text) == (match.group(0) if match else None)


def test_email_search_on_a_pathological_author():
    """feedparser's regex takes ~17 s on this 80 KB author; the split search a few ms."""
    assert feedxml._email_in("a." * 40_000 + "@") is None
    assert feedxml._email_in("a." * 40_000 + "@x.org") == "a." * 40_000 + "@x.org"


# --- what makes the reader step aside ------------------------------------------------------

DECLINED = {
    "not well-formed": b"<rss><channel><item><title>x</item></channel></rss>",
    "undefined entity": b"<rss><channel><title>&nbsp;</title></channel></rss>",
    "DOCTYPE": b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
               b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91">'
               b"<channel><title>x</title></channel></rss>",
    "Atom 0.3": b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>'
                b'<content mode="escaped">x</content></entry></feed>',
    "inline xhtml": b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="xhtml">'
                    b'<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content></entry></feed>',
    "xml:base": b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://e.com/"><entry>'
                b'<link href="a"/></entry></feed>',
    "markup in a title": b"<rss><channel><item><title>a <b>bold</b> move</title></item></channel></rss>",
    "textinput with a child feedparser leaves it for": b"<rss><channel><textInput><title>x</title>"
                                                       b"<foo>y</foo></textInput></channel></rss>",
    "nesting deeper than lxml allows": b"<rss><channel><item>" + b"<x>" * 300 + b"deep"
                                       + b"</x>" * 300 + b"</item></channel></rss>",
    "an element named like one of feedparser's aliases": (
        b"<rss><channel><item><link>https://e.com/a</link><description>d</description>"
        b"<description_detail>x</description_detail><date_parsed>y</date_parsed></item>"
        b"</channel></rss>"),
    "a prefix bound to two namespaces": (
        b'<rss xmlns:foo="http://unknown.example/"><channel><item><foo:title>Hi</foo:title>'
        b'<title>B</title></item><item><bar xmlns:foo="http://purl.org/dc/elements/1.1/"/>'
        b"</item></channel></rss>"),
    "a standard prefix rebound while its namespace is in use": (
        b'<rss xmlns:m="http://search.yahoo.com/mrss/"><channel><item><m:title>Early</m:title>'
        b'<title>B</title></item><item><x xmlns:media="http://purl.org/dc/elements/1.1/"/>'
        b"<m:title>Late</m:title></item></channel></rss>"),
    "an unknown namespace bound to two prefixes": (
        b'<rss xmlns:zz="http://u/" xmlns:dc="http://u/"><channel><item>'
        b"<dc:creator>Bob</dc:creator></item></channel></rss>"),
    "an unknown namespace bound to a prefix and the default": (
        b'<rss xmlns:x="http://u/"><channel><item><title xmlns="http://u/">A</title></item>'
        b"</channel></rss>"),
    "RSS 1.0 version declared below the root": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><item><title>'
        b'&lt;b&gt;x&lt;/b&gt;</title></item><x xmlns="http://www.w3.org/2005/Atom"/></rdf:RDF>'),
    "markup inside <rights>": b"<rss><channel><item><rights>r<title>X</title></rights></item></channel></rss>",
    "an unknown element named like a container": (
        b"<rss><channel><item><links>x</links><link>http://e/1</link></item></channel></rss>"),
    "gml:pos outside georss:where": (
        b'<rss xmlns:gml="http://www.opengis.net/gml"><channel><item><gml:pos>1 2</gml:pos>'
        b"</item></channel></rss>"),
    "markup inside an image's url": (
        b"<rss><channel><title>T</title><image><url>http://i/<x/></url><title>Img</title>"
        b"</image></channel></rss>"),
    "a name expat refuses": "<rss><channel><item><x\u3001/></item></channel></rss>".encode(),
    "base64": b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="application/octet-stream">'
              b"aGVsbG8=</content></entry></feed>",
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declines_and_feedparser_reads_instead(name):
    body = DECLINED[name]
    with pytest.raises(feedxml.Fallback):
        feedxml.read(_strip_subset_ascii(body)[0], {"content-type": "application/xml"})
    headers = {"content-type": "application/xml"}
    assert parse_feed(body, headers, "https://e.com/") == parse_feed(body, headers, "https://e.com/",
                                                                     fast=False)


def test_feedparser_failing_on_a_feed_is_a_rejection_not_a_crash():
    """feedparser raises KeyError on <gml:pos> outside <georss:where>: the poll gets a
    rejected feed naming the failure instead of an exception from the worker."""
    parsed = parse_feed(DECLINED["gml:pos outside georss:where"], {"content-type": "application/xml"},
                        "https://e.com/")
    assert parsed.rejected
    assert "the feed parser failed on it: KeyError" in parsed.problem


# --- the shortcuts of the fast walk (equal to what they stand in for) ------------------------

from feedparser.datetimes import _parse_date  # noqa: E402
from feedparser.urls import _urljoin  # noqa: E402

uri_text = st.text(alphabet="htpsfa:/.?&=#+-x1 \u00e9", max_size=24)


@given(st.one_of(uri_text, st.sampled_from(URLS), st.sampled_from(["a+b://x", "x-y.z:///p", "://", ":///"])))
def test_join_equals_feedparsers_urljoin_without_base(uri):
    assert feedxml._join(uri) == _urljoin("", uri)


def test_date_memo_equals_feedparser_and_is_bounded(monkeypatch):
    monkeypatch.setattr(feedxml, "_DATES", {})
    monkeypatch.setattr(feedxml, "_DATES_MAX", 4)
    samples = [*DATES, "Mon, 24 Jun 2024 09:13:00 +0000", "2024-06-24T09:13:00Z"]
    for text_ in samples + samples:
        assert feedxml._parse_date_memo(text_) == _parse_date(text_)
        assert len(feedxml._DATES) <= 4


def test_unknown_namespace_names_come_from_each_documents_prefix():
    """A tag in a namespace feedparser does not know is named after the document's prefix,
    so its handler is kept per document, not in the shared table: the same tag under
    another prefix in a later feed is another name (`a_ttl` vs `b_ttl`, neither our ttl)."""
    for prefix in ("a", "b", "a"):
        doc = (f'<rss xmlns:{prefix}="http://unknown.example/ns"><channel><title>T</title>'
               f"<{prefix}:title>Other</{prefix}:title><item><title>I</title></item>"
               "</channel></rss>").encode()
        assert compare(doc, {"content-type": "application/rss+xml"}) == "fast"
    assert not any(tag.startswith("{http://unknown.example/ns}") for tag in feedxml._BY_TAG)


def test_non_ascii_prefix_is_declined_even_on_a_known_namespace():
    doc = ('<rss xmlns:d\u00e9="http://purl.org/dc/elements/1.1/"><channel><item>'
           "<d\u00e9:creator>Jo</d\u00e9:creator></item></channel></rss>").encode()
    with pytest.raises(feedxml.Fallback):
        feedxml.read(doc, {"content-type": "application/rss+xml"})
    headers = {"content-type": "application/rss+xml"}
    assert parse_feed(doc, headers, "https://e.com/") == parse_feed(doc, headers, "https://e.com/", fast=False)


def test_element_names_from_feeds_are_not_kept_without_bound(monkeypatch):
    """Every element name a worker meets must not stay in memory for its whole life: a feed
    of random tags, poll after poll, would grow a worker without end. The per-tag table is
    bounded (_BY_TAG_MAX); what says whether feedparser has a handler must be too."""
    monkeypatch.setattr(feedxml, "_BY_TAG", {})
    monkeypatch.setattr(feedxml, "_BY_TAG_MAX", 50)
    for round_ in range(3):
        tags = "".join(f"<x{round_}n{i}>v</x{round_}n{i}>" for i in range(200))
        doc = f"<rss><channel><title>T</title><item><title>I</title>{tags}</item></channel></rss>".encode()
        assert compare(doc, {"content-type": "application/rss+xml"}) == "fast"
    assert len(feedxml._BY_TAG) <= 50
    info = getattr(feedxml._has_handler, "cache_info", None)
    assert info is None or info().maxsize is not None, "an unbounded cache keyed by feed element names"
    names = [n for n in dir(feedparser.api.StrictFeedParser) if n.startswith(("_start_", "_end_"))]
    for name in [n.split("_", 2)[2] for n in names] + ["x0n1", "ttl", "title", "dc_creator"]:
        assert feedxml._has_handler(name) == (hasattr(feedparser.api.StrictFeedParser, "_start_" + name)
                                              or hasattr(feedparser.api.StrictFeedParser, "_end_" + name))


def test_date_memo_follows_the_clock_for_dates_feedparser_completes_from_it(monkeypatch):
    """feedparser completes a date that lacks its day or year ("10:00:00Z", "--06-12") from
    today's UTC date: a memo kept across days must not give yesterday's answer."""
    import time

    monkeypatch.setattr(feedxml, "_DATES", {})
    real, now = time.gmtime, time.time()
    doc = (b"<rss><channel><title>T</title><item><title>I</title><link>http://e.com/1</link>"
           b"<pubDate>T10:00:00Z</pubDate></item></channel></rss>")
    for days in (0, 1, 400):
        monkeypatch.setattr(time, "gmtime", lambda *a, d=days: real(*a) if a else real(now + d * 86400))
        assert compare(doc, {"content-type": "application/rss+xml"}) == "fast"
        got = feedxml.read(doc, {"content-type": "application/rss+xml"})["entries"][0]["published_parsed"]
        assert got[:3] == time.gmtime()[:3]
