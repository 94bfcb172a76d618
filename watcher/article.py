"""Article page to main text, with trafilatura (precision first: no comments, no tables,
no navigation). The snapshot helpers live in textnorm and are re-exported here, so the
pipeline has one module to import for "page to stored text".

`extract_main_text` returns None when the page yields no text at all, and an ArticleText
whose text may be short otherwise; callers compare `len(text)` with MIN_TEXT_CHARS and fall
back to the feed's own text below it.
"""

from __future__ import annotations

import re

import trafilatura
from lxml import etree
from trafilatura.utils import decode_file, load_html

from watcher.models import ArticleText
from watcher.safetext import printable
from watcher.textnorm import content_hash, normalise_for_hash, split_sentences, text_diff

__all__ = [
    "MIN_TEXT_CHARS",
    "content_hash",
    "extract_main_text",
    "normalise_for_hash",
    "split_sentences",
    "text_diff",
]

# Below this many characters a page is taken to have yielded little (a paywall stub, a
# cookie wall, a video page): the feed's own text is the better snapshot.
MIN_TEXT_CHARS = 200

_HTML_HINT = re.compile(
    r"<(?:!doctype\s+html|html|head|body|article|main|div|p|br|span|a|h[1-6]|section|meta"
    r"|title|table|ul|ol|li|script|style)\b",
    re.I,
)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def _paragraphs(text: str) -> str:
    """One paragraph per non-empty line, separated by a blank line, whitespace collapsed."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def _plain_text(text: str) -> str:
    """Paragraphs of a plain-text document: blank-line separated blocks when it has them
    (hard-wrapped lines inside a block are joined), otherwise one paragraph per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if re.search(r"\n[ \t]*\n", text):
        blocks = re.split(r"\n[ \t]*\n", text)
        return "\n\n".join(b for b in (" ".join(block.split()) for block in blocks) if b)
    return _paragraphs(text)


def _language(tree: etree._Element) -> str | None:
    """The page's declared language (<html lang>, Content-Language meta, og:locale)."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("http-equiv") or meta.get("property") or meta.get("name") or "").lower()
        if key in ("content-language", "og:locale", "language", "dc.language"):
            candidates.append(meta.get("content"))
    for value in candidates:
        value = (value or "").strip().split(",")[0].strip()
        if value and _LANG.match(value):
            return value.replace("_", "-").split("-")[0].lower()
    return None


def extract_main_text(html: str | bytes, url: str | None = None) -> ArticleText | None:
    """The main text of an article page: paragraphs separated by blank lines, the title from
    the page's metadata, the language the page declares. Plain text (not HTML) is accepted
    and only re-paragraphed. None when nothing usable comes out.
    """
    if isinstance(html, bytes):
        if not html.strip():
            return None
        html = decode_file(html)
    if not html or not html.strip():
        return None
    html = printable(html)  # a page's escape sequences never reach a terminal or the log
    if not _HTML_HINT.search(html[:65536]):
        text = _plain_text(html)
        return ArticleText(title="", text=text, source="page") if text else None

    tree = load_html(html)
    if tree is None:
        return None
    language = _language(tree)
    # fast: no fallback extractors (readability, justext) after trafilatura's own; the same
    # main text on every page measured (bench/article.py: 1,371 pages, real reporting in
    # three page shapes) for 0.8-0.93x the CPU. A page that yields too little still falls
    # back to the feed's text (MIN_TEXT_CHARS).
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=True,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        with_metadata=True,
        deduplicate=False,
    )
    if doc is None:
        return None
    text = _paragraphs(doc.text or "")
    if not text:
        return None
    title = " ".join((doc.title or "").split())
    return ArticleText(title=title, text=text, source="page", language=language or doc.language)
