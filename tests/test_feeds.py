"""Feed parsing: hostile inputs (entity bombs, XXE, HTML, broken XML), encodings, links."""

from __future__ import annotations

import gzip
import re
import resource
import time
from pathlib import Path

import pytest
from corpus_entries import corpus_entries
from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.feeds import canonical_url, html_to_text, parse_feed, strip_internal_subset
from watcher.feeds import parse as feeds_parse
from watcher.feeds import text as feeds_text

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus" / "feeds"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")

# Titles and links taken from the seed articles.
SEED_1 = ("Putin Offers Ceasefire Deal To End Ukraine War", "https://news.example/russia/putin-ceasefire")
SEED_2 = (
    "Putin’s Peace Proposal for Ukraine Stays on the Table Despite Sevastopol Attack, "
    "Kremlin Says",
    "https://news.example/geopolitics/peace-proposal",
)


def rss(items: str, channel_extra: str = "", prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>World news</title><link>https://news.example/</link>"
        f"{channel_extra}{items}</channel></rss>"
    ).encode()


def item(title: str, link: str | None, guid: str | None = None, extra: str = "") -> str:
    parts = [f"<title>{title}</title>"]
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    return "<item>" + "".join(parts) + extra + "</item>"


# --- well-formed RSS and Atom --------------------------------------------------------


def test_rss_entry_fields() -> None:
    body = rss(
        item(
            SEED_1[0],
            SEED_1[1] + "?utm_source=rss&amp;utm_medium=feed",
            guid="seed-000",
            extra=(
                "<description>&lt;p&gt;Russia &amp;apos;can fight&amp;apos; but "
                "&lt;b&gt;prefers&lt;/b&gt;   peace&lt;/p&gt;</description>"
                "<content:encoded><![CDATA[<p>First para.</p><p>Second <em>para</em>.</p>"
                "<script>alert(1)</script>]]></content:encoded>"
                "<pubDate>Mon, 24 Jun 2024 12:30:00 +0200</pubDate>"
                "<author>desk@news.example (World desk)</author>"
            ),
        ),
        channel_extra="<ttl>15</ttl>",
    )
    feed = parse_feed(body, {"Content-Type": "application/rss+xml; charset=utf-8"})
    assert not feed.rejected and not feed.malformed and feed.problem is None
    assert feed.title == "World news" and feed.link == "https://news.example/"
    assert feed.ttl_seconds == 15 * 60
    (e,) = feed.entries
    assert e.url == SEED_1[1]
    assert e.link == SEED_1[1] + "?utm_source=rss&utm_medium=feed"
    assert e.guid == "seed-000"
    assert e.title == SEED_1[0]
    assert e.summary == "Russia 'can fight' but prefers peace"
    assert e.content == "First para.\n\nSecond para."
    assert e.published_at == "2024-06-24T10:30:00+00:00"
    assert e.author and "World desk" in e.author


def test_atom_entry_fields_and_html_title() -> None:
    body = f"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/world/">
  <title>Atom world</title><link href="https://atom.example/"/><id>urn:feed</id>
  <entry>
    <title type="html">{SEED_2[0].replace("’", "&amp;#8217;")} &amp;lt;b&amp;gt;</title>
    <link rel="alternate" href="peace-proposal"/>
    <id>urn:seed:004</id>
    <updated>2024-06-24T10:00:00Z</updated>
    <summary type="text">Peskov told reporters on Monday.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One.</p><p>Two.</p></div></content>
  </entry>
</feed>""".encode()
    feed = parse_feed(body)
    (e,) = feed.entries
    assert e.title == SEED_2[0] + " <b>"
    assert e.link == "https://atom.example/world/peace-proposal"
    assert e.guid == "urn:seed:004"
    assert e.published_at == "2024-06-24T10:00:00+00:00"
    assert e.summary == "Peskov told reporters on Monday."
    assert e.content == "One.\n\nTwo."


# --- hostile input --------------------------------------------------------------------


def test_billion_laughs_internal_entity_is_refused_fast() -> None:
    # One 100 KB entity referenced 20,000 times: ~200 KB that would expand to 2 GB.
    big = "A" * 100_000
    prolog = f'\n<!DOCTYPE rss [\n<!ENTITY big "{big}">\n]>'
    body = rss(item("Ceasefire " + "&big;" * 20_000, SEED_1[1]), prolog=prolog)
    assert len(body) > 190_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    feed = parse_feed(body)
    assert time.perf_counter() - t0 < 1.0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50
    assert feed.rejected and feed.entries == []
    assert feed.problem and feed.problem.startswith("refused:") and "entity" in feed.problem


def test_nested_entity_chain_is_refused() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    prolog = f'<!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
    body = rss(item("Ceasefire &lol9;", SEED_1[1]), prolog=prolog)
    for encoded in (body, body.decode().encode("utf-16")):
        feed = parse_feed(encoded)
        assert feed.rejected and feed.entries == [] and "billion laughs" in (feed.problem or "")


def test_small_declared_entity_is_stripped_and_feed_kept() -> None:
    prolog = '<!DOCTYPE rss [<!ENTITY site "tag:news.example,">]>'
    feed = parse_feed(rss(item("Truce &site; holds", SEED_1[1]), prolog=prolog))
    assert not feed.rejected and [e.url for e in feed.entries] == [SEED_1[1]]
    assert feed.malformed and "undefined entity" in (feed.problem or "")


def test_strip_internal_subset_shapes() -> None:
    doc = b'<?xml version="1.0"?>\n<!-- c ] > -->\n<!DOCTYPE rss PUBLIC "-//x//EN" "a]>.dtd" [\n' \
        b'<!ENTITY a "x]>y"> <!-- ]> --> <?pi ]> ?>\n]  >\n<rss/>'
    assert strip_internal_subset(doc) == (
        b'<?xml version="1.0"?>\n<!-- c ] > -->\n<!DOCTYPE rss PUBLIC "-//x//EN" "a]>.dtd">\n<rss/>'
    )
    plain = b'<?xml version="1.0"?><!DOCTYPE rss><rss/>'
    assert strip_internal_subset(plain) is plain
    unterminated = b'<!DOCTYPE rss [ <!ENTITY a "zzz"> <rss><channel/></rss>'
    assert b"ENTITY" not in strip_internal_subset(unterminated)


def test_external_entity_is_not_resolved() -> None:
    secret = Path("/etc/hostname")
    if not secret.is_file() or not secret.read_text().strip():
        pytest.skip("no /etc/hostname to leak")
    prolog = '\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file:///etc/hostname">\n]>'
    body = rss(item("leak: &xxe;", SEED_1[1], extra="<description>&xxe;</description>"),
               prolog=prolog)
    feed = parse_feed(body)
    text = " ".join(f"{e.title} {e.summary}" for e in feed.entries)
    assert secret.read_text().strip() not in text


def test_external_entity_blocked_in_strict_parser_too() -> None:
    """Even without our subset stripping, expat must not read the file (defence in depth)."""
    import io

    import feedparser

    secret = Path("/etc/hostname")
    if not secret.is_file() or not secret.read_text().strip():
        pytest.skip("no /etc/hostname to leak")
    body = rss(item("leak: &xxe;", SEED_1[1]),
               prolog='\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>')
    result = feedparser.parse(io.BytesIO(body))
    assert secret.read_text().strip() not in str(result.entries)


def test_body_that_names_a_file_is_not_opened() -> None:
    feed = parse_feed(b"/etc/hostname")
    assert feed.rejected and feed.entries == []


def test_html_page_is_rejected() -> None:
    html = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    feed = parse_feed(html, {"content-type": "text/html; charset=utf-8"})
    assert feed.rejected and feed.entries == []
    assert "not a feed" in (feed.problem or "")


@pytest.mark.parametrize("body", [b"", b"   \n\t"])
def test_empty_body_is_rejected(body: bytes) -> None:
    feed = parse_feed(body)
    assert feed.rejected and feed.problem == "empty body"


def test_malformed_xml_keeps_partial_entries() -> None:
    body = rss(
        item(SEED_1[0], SEED_1[1])
        + item("Broken & unescaped <b>item", "https://news.example/2")
        + item(SEED_2[0], SEED_2[1])
    )
    feed = parse_feed(body)
    assert feed.malformed and not feed.rejected
    assert feed.problem and "not well-formed" in feed.problem and "line" in feed.problem
    assert SEED_1[1] in [e.url for e in feed.entries]


def test_truncated_feed_is_malformed_not_rejected() -> None:
    body = rss(item(SEED_1[0], SEED_1[1]) + item(SEED_2[0], SEED_2[1]))[:-40]
    feed = parse_feed(body)
    assert feed.malformed and not feed.rejected
    assert [e.url for e in feed.entries][:1] == [SEED_1[1]]


# --- encodings --------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
@pytest.mark.parametrize("declared", [True, False])
def test_utf16_and_32(codec: str, declared: bool) -> None:
    text = rss(item(SEED_2[0], SEED_2[1])).decode()
    if not declared:
        text = text.replace(' encoding="utf-8"', "")
    else:
        text = text.replace('encoding="utf-8"', f'encoding="{codec}"')
    prolog_entity = '<!DOCTYPE rss [<!ENTITY big "BIGBIGBIG">]>'
    text = text.replace("?>", "?>" + prolog_entity, 1)
    feed = parse_feed(text.encode(codec))
    assert not feed.rejected, feed.problem
    (e,) = feed.entries
    assert e.title == SEED_2[0]


def test_utf16_charset_from_header_only() -> None:
    body = rss(item(SEED_2[0], SEED_2[1])).decode().replace(' encoding="utf-8"', "")
    feed = parse_feed(body.encode("utf-16-le"), {"Content-Type": "text/xml; charset=UTF-16LE"})
    assert [e.title for e in feed.entries] == [SEED_2[0]]


def test_latin1_with_doctype_subset() -> None:
    body = (
        '<?xml version="1.0" encoding="iso-8859-1"?><!DOCTYPE rss [<!ENTITY x "y">]>'
        "<rss version='2.0'><channel><title>Caf\u00e9</title><link>https://a.example/</link>"
        "<item><title>Tr\u00eave</title><link>/t</link></item></channel></rss>"
    ).encode("iso-8859-1")
    feed = parse_feed(body)
    assert feed.title == "Café"
    assert [e.title for e in feed.entries] == ["Trêve"]


# --- links, guids, dates, duplicates ---------------------------------------------------


def test_relative_links_resolve_against_feed_link_then_base_url() -> None:
    body = rss(item("a", "/world/a") + item("b", "b.html"))
    feed = parse_feed(body, base_url="https://cdn.example/feeds/world.xml")
    assert [e.link for e in feed.entries] == [
        "https://news.example/world/a",
        "https://news.example/b.html",
    ]
    no_channel_link = body.replace(b"<link>https://news.example/</link>", b"")
    feed = parse_feed(no_channel_link, base_url="https://cdn.example/feeds/world.xml")
    assert [e.link for e in feed.entries] == [
        "https://cdn.example/world/a",
        "https://cdn.example/feeds/b.html",
    ]


def test_entry_without_link_uses_url_guid_or_is_skipped() -> None:
    body = rss(
        "<item><title>by guid</title><guid>https://news.example/by-guid</guid></item>"
        "<item><title>no link</title><guid>not-a-url-123</guid></item>"
        "<item><title>js</title><link>javascript:alert(1)</link></item>"
    )
    feed = parse_feed(body)
    assert [e.url for e in feed.entries] == ["https://news.example/by-guid"]
    assert feed.problem == "2 entries skipped: no http(s) link"
    assert not feed.malformed


def test_duplicates_removed_by_canonical_url_and_guid() -> None:
    body = rss(
        item(SEED_1[0], SEED_1[1] + "?utm_source=a", guid="g1")
        + item(SEED_1[0] + " (copy)", SEED_1[1].replace("https://news", "HTTPS://NEWS") + "#top")
        + item("same guid, other url", "https://news.example/other", guid="g1")
        + item(SEED_2[0], SEED_2[1], guid="g2")
    )
    feed = parse_feed(body)
    assert [e.url for e in feed.entries] == [SEED_1[1], SEED_2[1]]
    assert feed.entries[0].title == SEED_1[0]


def test_dates_missing_future_and_updated_only() -> None:
    body = rss(
        item("none", "https://n.example/1")
        + item("future", "https://n.example/2",
               extra="<pubDate>Tue, 01 Jan 2199 00:00:00 GMT</pubDate>")
        + item("updated", "https://n.example/3",
               extra="<atom:updated xmlns:atom='http://www.w3.org/2005/Atom'>"
                     "2024-06-24T08:00:00-02:00</atom:updated>")
    )
    dates = [e.published_at for e in parse_feed(body).entries]
    assert dates == [None, None, "2024-06-24T10:00:00+00:00"]


@pytest.mark.parametrize("ttl, expected", [("60", 3600), ("0", None), ("soon", None)])
def test_ttl(ttl: str, expected: int | None) -> None:
    assert parse_feed(rss("", channel_extra=f"<ttl>{ttl}</ttl>")).ttl_seconds == expected


def test_empty_channel_is_a_feed() -> None:
    feed = parse_feed(rss(""))
    assert not feed.rejected and feed.entries == [] and feed.title == "World news"


def test_html_to_text() -> None:
    assert html_to_text("a &amp; b") == "a & b"
    assert html_to_text("<p>x</p><style>p{}</style><p>y<br>z</p>") == "x\n\ny\n\nz"
    assert html_to_text("<p>x\n  y</p>", paragraphs=False) == "x y"
    assert html_to_text("3 < 4 and 5 > 2", paragraphs=False) == "3 < 4 and 5 > 2"


# --- canonical_url ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("HTTP://News.Example.COM:80", "http://news.example.com/"),
        ("https://news.example:443/a?b=1#frag", "https://news.example/a?b=1"),
        ("https://news.example:8443/a", "https://news.example:8443/a"),
        (
            "https://news.example/a?utm_source=x&id=7&fbclid=abc&gclid=1&CMP=rss&ref=tw&z=2",
            "https://news.example/a?id=7&z=2",
        ),
        ("https://n.example/a?at_medium=RSS&at_campaign=KARANGA&ns_source=x&smid=1&ocid=2",
         "https://n.example/a"),
        ("https://n.example/%7euser/%41b%2fc%e2%82%ac", "https://n.example/~user/Ab%2Fc%E2%82%AC"),
        ("https://n.example/a b/é", "https://n.example/a%20b/%C3%A9"),
        ("https://n.example/a/./b/../c", "https://n.example/a/c"),
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("https://n.example/a?q=1&&r", "https://n.example/a?q=1&r"),
        ("  https://n.example/a  ", "https://n.example/a"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("not a url", "not a url"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


_url_text = st.lists(
    st.sampled_from(list("aZ09-._~%/?#&=+:@!$'()*,; é€[]\\") + ["%7e", "%2F", "%zz", "..", "//"]),
    max_size=12,
).map("".join)
urls = st.one_of(
    st.builds(
        lambda scheme, host, port, path, query, frag: f"{scheme}://{host}{port}{path}{query}{frag}",
        st.sampled_from(["http", "https", "HTTP", "Https", "ftp"]),
        st.sampled_from(["news.example", "NEWS.Example.", "bücher.de", "[::1]", "a..b", "x" * 70,
                         "user:pw@host.example", ""]),
        st.sampled_from(["", ":80", ":443", ":8080", ":", ":99999", ":x"]),
        _url_text,
        st.one_of(st.just(""), _url_text.map(lambda s: "?" + s),
                  st.just("?utm_source=a&b=2&fbclid=1")),
        st.one_of(st.just(""), _url_text.map(lambda s: "#" + s)),
    ),
    st.text(max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(urls)
def test_canonical_url_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


# --- real-world corpus ------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize(
    "name, min_entries",
    [
        ("rbren__rss-parser__guardian.rss", 50),
        ("jameslawler__react-native-rss-parser__reuters.xml", 10),
        ("danmactough__node-feedparser__tpm.atom", 20),
        ("rbren__rss-parser__encoding.rss", 40),
        ("danmactough__node-feedparser__iconv.xml", 10),
    ],
)
def test_real_world_feeds(name: str, min_entries: int) -> None:
    feed = parse_feed((CORPUS / name).read_bytes())
    assert not feed.rejected and not feed.malformed
    assert len(feed.entries) >= min_entries
    for e in feed.entries:
        assert e.url.startswith(("http://", "https://")) and e.title
        assert "<" not in e.summary or ">" not in e.summary  # no markup left


@needs_corpus
@pytest.mark.parametrize(
    "name, rejected, malformed",
    [
        ("danmactough__node-feedparser__notafeed.html", True, False),
        ("rbren__rss-parser__unrecognized.rss", True, False),
        ("danmactough__node-feedparser__saxerror.xml", False, True),
        ("feed-rs__feed-rs__rss_2.0_invalid_1.xml", False, True),
    ],
)
def test_real_world_bad_feeds(name: str, rejected: bool, malformed: bool) -> None:
    feed = parse_feed((CORPUS / name).read_bytes())
    assert (feed.rejected, feed.malformed) == (rejected, malformed)
    assert feed.problem


@needs_corpus
def test_gzip_corpus_file_after_decompression() -> None:
    raw = (CORPUS / "danmactough__node-feedparser__compressed.xml").read_bytes()
    feed = parse_feed(gzip.decompress(raw))
    assert len(feed.entries) == 10 and feed.title and "Оренбург" in feed.title


@needs_corpus
def test_whole_corpus_never_raises() -> None:
    for path in sorted(CORPUS.glob("*.*")):
        if path.suffix in (".tsv",):
            continue
        body = path.read_bytes()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        feed = parse_feed(body, base_url="https://feeds.example/x.xml")
        assert feed.rejected or feed.entries or feed.title is not None or feed.problem, path.name


# --- html_to_text: the fast path and the lxml path give the same text ---------------------
#
# html_to_text strips simple fragments (known inline and block tags, properly nested,
# entities) without building an lxml tree (feeds._fast_text); anything else goes through
# lxml (feeds._lxml_text). Wherever the fast path answers, both must agree exactly.

_TAGS = ("a abbr b cite code del em i ins mark q s small span strike strong sub sup time u "
         "div blockquote li p h1 h3 ul ol br img hr table pre font script style").split()
_ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&rsquo;", "&#8217;", "&#x2019;",
             "&#128;", "&#0;", "&#xD800;", "&#1114112;", "&notit;", "&ampx;", "&foo;", "&copy",
             "AT&T", "& ", "&#", "&;", "&AMP;", "&#39;", "&#X41;", "&NotEqualTilde;", "&amp", "&#65"]
_TEXTS = ["a", "word", " ", "\n", "\t", "  x  ", "\xa0", "é", "<", ">", "<3", "a < b", "\r\n",
          "Hello world.", "\u2028", "\x0c", "\x01", "ceasefire talks"]
_ODD = ["<!-- c -->", "<![CDATA[x]]>", "<?pi?>", "</>", "< p>", "<!doctype html>"]


@st.composite
def _tag(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(_TAGS))
    if draw(st.booleans()) and draw(st.booleans()):
        name = name.upper()
    attrs = draw(st.sampled_from(["", ' href="x>y"', " class=a", " title='q'", " data-x", ' a="1" b=2']))
    form = draw(st.sampled_from(["<{n}{a}>", "</{n}>", "<{n}{a}/>", "<{n} />"]))
    return form.format(n=name, a=attrs)


@st.composite
def _balanced(draw: st.DrawFn, depth: int = 0) -> str:
    """Mostly well-formed fragments (what the fast path is for), now and then broken."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 9))
        if kind < 4:
            parts.append(draw(st.sampled_from(_TEXTS[:14] + ["Talks", " peace deal "])))
        elif kind < 6:
            parts.append(draw(st.sampled_from(_ENTITIES)))
        elif kind < 9 and depth < 3:
            name = draw(st.sampled_from(_TAGS[:27]))
            parts.append(f"<{name}>" + draw(_balanced(depth + 1)) + f"</{name}>")
        else:
            parts.append(draw(st.sampled_from(["<br>", "<br/>", "<img src=x>", "<hr>"] + _ODD)))
    return "".join(parts)


_FRAGMENTS = st.one_of(
    st.lists(st.one_of(_tag(), st.sampled_from(_ENTITIES + _TEXTS + _ODD)), max_size=14).map("".join),
    _balanced(),
    st.text(alphabet=st.sampled_from(list("ab <>/&;#x1p\n")), max_size=30),
)


def _lxml_or_error(value: str, paragraphs: bool) -> object:
    try:
        return feeds_text._lxml_text(value, paragraphs)
    except ValueError as err:  # lxml refuses some control characters; the fast path declines them
        return type(err)


def _html_to_text_or_error(value: str, paragraphs: bool) -> object:
    try:
        return html_to_text(value, paragraphs)
    except ValueError as err:
        return type(err)


def _same_text(value: str) -> bool:
    """Both paths agree wherever the fast path answers, and html_to_text is what lxml
    gives for any fragment with markup; reports whether the fast path answered."""
    answered = False
    for paragraphs in (True, False):
        fast = feeds_text._fast_text(value, paragraphs)
        expected = _lxml_or_error(value, paragraphs)
        if fast is not None:
            answered = True
            assert fast == expected, (value, paragraphs)
        if feeds_text._MARKUP_HINT.search(value):
            assert _html_to_text_or_error(value, paragraphs) == expected, (value, paragraphs)
    return answered


@settings(max_examples=3000, deadline=None)
@given(_FRAGMENTS)
def test_html_fast_path_matches_lxml(value: str) -> None:
    _same_text(value)


@pytest.mark.parametrize(
    "value",
    [
        "<p>One &amp; two.</p><p>Three&nbsp;four &rsquo;five&#8217;</p>",
        "<p>A <a href=\"https://x.example/?a=1&amp;b=2\">link</a> and <b>bold</b>.</p>\n<p>Next</p>",
        "Plain &lt;text&gt; with entities only",
        "<ul>\n <li>one</li>\n <li>two <em>2</em></li>\n</ul><blockquote><p>q</p></blockquote>",
        "line one<br>line two<br />line three",
        "<div><h3>Head</h3><p>para</p></div>tail",
    ],
)
def test_html_fast_path_takes_common_summaries(value: str) -> None:
    assert _same_text(value)  # answered by the fast path, and equal to lxml's text


@pytest.mark.parametrize(
    "value",
    [
        "<p>a<div>b</div>c</p>d",  # a block inside <p> closes it: lxml's tree differs
        "<p>a</div>b",  # a stray end tag
        "<ul><li>a<li>b</ul>",  # implicit </li>
        "<p>x<script>alert(1)</script></p>",
        "<!-- comment --><p>x</p>",
        "AT&T &copy 2024",  # references without ';' follow HTML5's rules: leave them to lxml
        "a < b <p>x</p>",
        "<pre>\ncode</pre>",
    ],
)
def test_html_fast_path_declines_what_it_cannot_know(value: str) -> None:
    assert feeds_text._fast_text(value, True) is None
    assert html_to_text(value) == feeds_text._lxml_text(value, True)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from([" ", "\n", "\r", "\t", "\xa0", "a", "b", "\x0b", "\x0c", "\x1c",
                                 "\u2028", "\x85", "  ", "\n\n", " \n "]), max_size=20).map("".join))
def test_paragraphs_matches_reference(text: str) -> None:
    assert feeds_text._paragraphs(text) == _paragraphs_reference(text)


def _paragraphs_reference(text: str) -> str:
    """_paragraphs as first written, with two regex substitutions."""
    text = re.sub(r"[^\S\n]+", " ", text.replace("\r", "\n"))
    return re.sub(r"\s*\n\s*(?:\n\s*)+", "\n\n", text).strip()


def _corpus_texts() -> list[str]:
    values = []
    for e in corpus_entries(CORPUS):
        values += [e.get(k) or "" for k in ("summary", "title", "author")]
        values += [c.get("value") or "" for c in e.get("content") or []]
    return [v for v in values if feeds_text._MARKUP_HINT.search(v)]


@needs_corpus
def test_html_fast_path_matches_lxml_on_real_feeds() -> None:
    values = _corpus_texts()
    answered = sum(_same_text(v) for v in values)
    assert len(values) > 500 and answered > len(values) // 3  # many real summaries are simple


def test_html_fast_path_matches_lxml_on_bench_feeds(tmp_path: Path) -> None:
    import io
    import sys

    import feedparser

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import synth

    synth.generate(tmp_path, feeds=6)
    bodies, _ = synth.load(tmp_path, "http://127.0.0.1:1", 1)
    for body in bodies.values():
        result = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
        for e in result.entries:
            assert _same_text(e.summary)


# --- _absolute: the shortcut for plain absolute links is what urljoin gives -------------


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://", "https:///"]),
    st.lists(st.sampled_from(list("ab/:?#;.%@[]\t -_=&") + ["//", "x.example", "\uff0f", "\u2100", "é"]),
             max_size=10).map("".join),
    st.sampled_from(["https://news.example/feed.xml", "http://a/b/c", "ftp://x/", "http://a"]),
)
def test_absolute_shortcut_matches_urljoin(scheme: str, rest: str, base: str) -> None:
    from urllib.parse import urljoin

    link = (scheme + rest).strip()
    try:
        expected = urljoin(base, link)
    except ValueError:
        expected = link
    assert feeds_parse._absolute(link, base) == expected


def test_html_with_control_characters_does_not_fail_the_poll() -> None:
    assert html_to_text("<div>\x0cceasefire\x00 talks</div><p>resume</p>") == "ceasefire talks\n\nresume"


def test_canonical_url_leaves_a_url_without_a_host_alone() -> None:
    """Found by hypothesis: userinfo followed by an unclosed bracket has no host."""
    for url in ("http://[::1]@[/", "http://[::1]@[]/"):
        assert canonical_url(url) == url
        assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_fragments_lxml_cannot_build_a_tree_from_still_give_text() -> None:
    """Found by hypothesis: lxml asserts ("too many bodies") on some fragments."""
    assert html_to_text("<!doctype html><script>") == ""
    assert html_to_text("<!doctype html><p>Truce &amp; talks") == "Truce & talks"


@pytest.mark.parametrize(
    "value",
    ["<!-- c --><p>x&#12;y</p>", "<p>a<p>&#12;b</p>", "<p>a<p>x&#11;&#1;y</p>", "<font><p>q</p>&#x0c;r</font>"],
)
def test_a_reference_to_a_character_xml_forbids_does_not_fail_the_lxml_path(value: str) -> None:
    # lxml decodes "&#12;" into the tree and then refuses the same character when a block's
    # text is set; the ValueError failed the whole feed's poll ("internal error")
    text = feeds_text._lxml_text(value, True)
    assert "\x0c" not in text and "\x01" not in text and "\x0b" not in text
    assert html_to_text(value, False) == feeds_text._lxml_text(value, False)
    simple = value.replace("<!-- c -->", "")
    if feeds_text._fast_text(simple, True) is not None:
        assert text == feeds_text._fast_text(simple, True)
