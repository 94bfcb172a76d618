"""Main-text extraction, snapshot normalisation and hashing, revision diffs."""

from __future__ import annotations

import html
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.article import (
    MIN_TEXT_CHARS,
    content_hash,
    extract_main_text,
    normalise_for_hash,
    text_diff,
)
from watcher.textnorm import is_date_line, split_sentences

SEED = Path(__file__).resolve().parents[1] / "seeds" / "004_bf88e37bba94a288.txt"
NAV = ["Home", "World", "Russia", "Business", "Sport", "Opinion"]


def seed() -> tuple[str, list[str], list[str]]:
    """Headline, body paragraphs, the two "related stories" lines at the end."""
    lines = [line for line in SEED.read_text().splitlines() if line.strip()]
    return lines[1], lines[2:-2], lines[-2:]


def page(title: str, paragraphs: list[str], related: list[str], lang: str = "en") -> bytes:
    e = html.escape
    nav = "".join(f'<li><a href="/{w.lower()}">{w} navigation</a></li>' for w in NAV)
    rel = "".join(f'<li><a href="/r{i}">{e(r)}</a></li>' for i, r in enumerate(related))
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>{e(title)} | Example News</title><meta property="og:title" content="{e(title)}">
</head><body><header><nav><ul>{nav}</ul></nav><form>Search the site</form></header>
<main><article><h1>{e(title)}</h1><p class="byline">Published: 24 Jun, 2024 10:32</p>{body}
</article><aside class="related"><h3>Related stories</h3><ul>{rel}</ul></aside>
<section class="comments"><h3>Comments</h3><div class="comment"><p>Reader comment: this
is nonsense and everybody knows it, says a reader who posts here every single day.</p>
</div></section></main>
<footer><p>Copyright 2024 Example News. All rights reserved.</p><a href="/privacy">Privacy
policy</a></footer></body></html>""".encode()


# --- extraction -------------------------------------------------------------------------


def test_extracts_seed_paragraphs_without_navigation() -> None:
    title, paragraphs, related = seed()
    art = extract_main_text(page(title, paragraphs, related), "https://news.example/peace")
    assert art is not None and art.source == "page"
    assert art.title == title
    assert art.language == "en"
    assert len(art.text) >= MIN_TEXT_CHARS
    for p in paragraphs:
        assert p in art.text
    for junk in ["navigation", "Search the site", "Reader comment", "All rights reserved",
                 "Privacy", related[0]]:
        assert junk not in art.text
    # paragraphs separated by blank lines, in order
    parts = art.text.split("\n\n")
    assert parts.index(paragraphs[0]) < parts.index(paragraphs[-1])


def test_str_input_and_language_from_meta() -> None:
    title, paragraphs, related = seed()
    doc = page(title, paragraphs, related, lang="de-DE").decode()
    art = extract_main_text(doc)
    assert art is not None and art.language == "de"


def test_plain_text_is_accepted() -> None:
    _, paragraphs, _ = seed()
    art = extract_main_text("\n\n".join(paragraphs).encode())
    assert art is not None and art.text == "\n\n".join(paragraphs) and art.title == ""
    art = extract_main_text("line one\nline two")
    assert art is not None and art.text == "line one\n\nline two"


def test_little_or_nothing() -> None:
    assert extract_main_text(b"") is None
    assert extract_main_text("   ") is None
    nav_only = extract_main_text(
        "<html><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav></body></html>"
    )
    assert nav_only is None or len(nav_only.text) < MIN_TEXT_CHARS


# --- normalisation and hashing ----------------------------------------------------------


def test_normalise_removes_non_edits() -> None:
    a = "Putin\u2019s \u201cpeace plan\u201d \u2014 a\u00a0test\u00adword\u200b.\n\n\nSecond  line "
    b = "Putin's \"peace plan\" - a test" + "word.\nSecond line"
    assert normalise_for_hash(a) == normalise_for_hash(b)
    assert normalise_for_hash("e\u0301") == normalise_for_hash("\u00e9")


def test_date_lines_do_not_make_versions() -> None:
    body = "Putin said the offer stands.\nPeskov agreed."
    v1 = "Published: 24 Jun, 2024 10:32\n" + body + "\nUpdated 10:32 GMT, 24 June 2024"
    v2 = "Last modified on Tue 25 Jun 2024 08.05 BST\n" + body + "\n3 hours ago"
    assert content_hash(v1) == content_hash(v2) == content_hash(body)
    assert content_hash(body) != content_hash(body.replace("stands", "stood"))


def test_is_date_line() -> None:
    for line in ["Updated 10:32 GMT, 24 June 2024", "Published: 24 Jun, 2024 10:32",
                 "Last modified on Mon 24 Jun 2024 10.32 BST", "3 hours ago",
                 "2024-06-24T10:32:00Z", "24/06/2024", "10:32", "June 24, 2024 at 4:15 p.m. ET"]:
        assert is_date_line(line), line
    for line in ["Monday", "2024", "Updated", "May peace come soon",
                 "Posted by John on 24 June 2024", "The talks began on 24 June 2024."]:
        assert not is_date_line(line), line


_chars = st.sampled_from(list("ab .,\n\t'\"-") + ["\u2019", "\u201c", "\u2014", "\u00a0", "\u00ad",
                                               "\u200b", "\u0301", "e", "1", "0", ":", "\u2028",
                                               "Updated ", "June", "GMT", "\r", "\ufeff"])
texts = st.one_of(st.lists(_chars, max_size=40).map("".join), st.text(max_size=60))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_normalise_for_hash_idempotent(text: str) -> None:
    once = normalise_for_hash(text)
    assert normalise_for_hash(once) == once


_QUOTE_SWAPS = {"'": "\u2019", '"': "\u201c", "-": "\u2013", " ": "\u00a0  "}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["The", "truce", "holds", "'", '"', "-", " ", "Kyiv's", "2024"]),
             min_size=1, max_size=20),
    st.sets(st.sampled_from(sorted(_QUOTE_SWAPS))),
    st.booleans(),
)
def test_hash_invariant_under_whitespace_and_quote_style(
    words: list[str], swaps: set[str], pad: bool
) -> None:
    text = " ".join(words)
    styled = "".join(_QUOTE_SWAPS[c] if c in swaps else c for c in text)
    if pad:
        styled = "  \n" + styled.replace(" ", " \t ") + "\n\n"
    assert content_hash(styled) == content_hash(text)


# --- diff -------------------------------------------------------------------------------


def test_diff_shows_one_sentence_for_one_word_edit() -> None:
    _, paragraphs, _ = seed()
    old = "\n\n".join(paragraphs)
    new = old.replace("at least four people", "at least five people")
    diff = text_diff(old, new, "v1", "v2")
    lines = diff.splitlines()
    assert lines[0] == "--- v1" and lines[1] == "+++ v2"
    removed = [line for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line for line in lines if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 1
    assert "four" in removed[0] and "five" in added[0]
    assert "Sevastopol, causing civilian casualties" in diff  # one line of context
    assert text_diff(old, old) == ""


def test_split_sentences() -> None:
    assert split_sentences("Mr. Putin spoke. The U.S. said no. Talks end! Why? 3 left.") == [
        "Mr. Putin spoke.", "The U.S. said no.", "Talks end!", "Why?", "3 left."
    ]
    assert split_sentences("He said \u201cno.\u201d Then left.") == [
        "He said \u201cno.\u201d", "Then left."
    ]
