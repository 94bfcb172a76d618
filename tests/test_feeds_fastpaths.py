"""The per-entry fast paths of the parse stage give exactly what the slow paths give:
`printable` without its two substitutions, `_fast_text`'s paragraph assembly without the
regex split, and `canonical_url`'s cached authority. Checked on generated strings and on
every entry field and link of the shared corpus's feeds."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from corpus_entries import corpus_entries
from hypothesis import given, settings
from hypothesis import strategies as st

from watcher import safetext
from watcher.feeds import text as feeds_text
from watcher.feeds import urls as feeds_urls

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not (CORPUS / "feeds").is_dir(), reason="shared corpus absent")


def _printable_reference(text: str) -> str:
    """printable as first written: both substitutions, whatever the text."""
    return safetext._CONTROL.sub("", safetext._SEQUENCE.sub("", text))


def _authority_reference(url: str) -> str | None:
    """The authority canonical_url used to compute on every call from urlsplit's parts."""
    try:
        parts = urlsplit(url.strip())
        hostname, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    if not hostname:
        return None
    netloc = parts.netloc
    userinfo = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
    bracketed = netloc.rsplit("@", 1)[-1].startswith("[")
    host = "[" + hostname + "]" if bracketed else feeds_urls._idna_host(hostname)
    if not host:
        return None
    if port is not None and port != feeds_urls._DEFAULT_PORTS[parts.scheme.lower()]:
        host = f"{host}:{port}"
    return userinfo + host


def _check_authority(url: str) -> None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return
    if parts.scheme.lower() not in feeds_urls._DEFAULT_PORTS or not parts.netloc:
        return
    expected = _authority_reference(url)
    assert feeds_urls._authority(parts.scheme.lower(), parts.netloc) == expected, url
    if expected is None:
        assert feeds_urls.canonical_url(url) == url.strip()
    else:
        assert feeds_urls.canonical_url(url).startswith(f"{parts.scheme.lower()}://{expected}")


_TEXT = st.lists(st.sampled_from(
    ["a", " ", "\n", "\t", "\r", "\x1b", "[", "]", "0", ";", "2J", "\x07", "\x9b", "\x9c", "\x90",
     "\x9d", "\x85", "\x00", "\x7f", "\\", "é", "\u2028", "P", "m", "\u202e", "\u2067", "\u200f"]), max_size=16).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_printable_fast_path_matches_substitutions(text: str) -> None:
    assert safetext.printable(text) == _printable_reference(text)


_FRAGMENT = st.lists(st.sampled_from(
    ["<p>", "</p>", "<div>", "</div>", "<br>", "<b>", "</b>", "<ul>", "<li>", "</li>", "</ul>",
     " ", "\n", "\r", "a", "b c", "&amp;", "&#10;", "&#13;", "&#0;", "&nbsp;", "\u2028", "é"]),
    max_size=20).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_FRAGMENT)
def test_fast_text_paragraphs_match_the_regex_split(value: str) -> None:
    """Paragraph breaks joined without _paragraphs' regex split are what it gives."""
    fast = feeds_text._fast_text(value, True)
    if fast is not None:
        flat = feeds_text._fast_text(value, False)
        assert fast == feeds_text._lxml_text(value, True)
        assert flat == feeds_text._lxml_text(value, False)


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://", "https:///", "ftp://"]),
    st.lists(st.sampled_from(list("aZ09:/?#@[]%.-_~") + ["user:pw@", "[::1]", ":80", ":443",
                                                        ":99999", ":x", "é", "xn--", "İ", "."]),
             max_size=8).map("".join),
)
def test_cached_authority_matches_urllib(scheme: str, rest: str) -> None:
    _check_authority(scheme + rest)


def _corpus_entries() -> tuple[list[str], list[str]]:
    links: list[str] = []
    texts: list[str] = []
    for e in corpus_entries(CORPUS / "feeds"):
        links += [v for k in ("link", "id") if isinstance(v := e.get(k), str)]
        texts += [v for k in ("summary", "title", "author") if isinstance(v := e.get(k), str)]
        texts += [c.get("value") or "" for c in e.get("content") or []]
    return links, texts


@needs_corpus
def test_fast_paths_on_the_corpus_entries() -> None:
    links, texts = _corpus_entries()
    assert len(links) > 1000 and len(texts) > 1000
    for url in links:
        _check_authority(url)
    for value in texts:
        for paragraphs in (True, False):
            out = feeds_text.html_to_text(value, paragraphs)
            assert safetext.printable(out) == _printable_reference(out)
            if feeds_text._fast_text(value, paragraphs) is not None:
                assert out == feeds_text._lxml_text(value, paragraphs)
        assert safetext.printable(value) == _printable_reference(value)


@pytest.mark.parametrize(
    "value",
    [
        "<p>One.</p><p>Two &amp; three.</p>",
        "  <p>One</p>\n\n<p> </p>\n<p>Two\t words &hellip;</p>\n",
        "<p>a &#10; b</p><p>c</p>",  # a decoded line break: declined, the loop answers
        "<p></p>",
    ],
)
def test_plain_paragraphs_are_lxml_text(value: str) -> None:
    assert feeds_text._PLAIN_PARAGRAPHS.fullmatch(value)
    assert feeds_text._fast_text(value, True) == feeds_text._lxml_text(value, True)
