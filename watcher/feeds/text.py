"""Feed HTML to plain text: a fast path for simple fragments, lxml for the rest; script,
style and embeds dropped, paragraphs kept as blank lines."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

__all__ = ["html_to_text"]

_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre tr table section article header "
    "footer figure figcaption dd dt dl hr aside".split()
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed")
_MARKUP_HINT = re.compile(r"<[A-Za-z/!]|&[#A-Za-z]")
_SPACES = re.compile(r"[^\S\n]+")


def _collapse(text: str) -> str:
    return " ".join(text.split())


# The fast path: most feed summaries are a few <p>s with inline tags (<a>, <b>, <em> ...)
# and entities. For those, the lxml tree's text is the text between the tags with the
# entities decoded, and a paragraph break wherever a block tag opens or closes. It only
# applies while the fragment is simple enough that the HTML parser cannot restructure it:
# known tags only, properly nested (a close tag matches the last open one), blocks only
# where no implicit close can happen (not inside <p>, a heading or an inline element; <li>
# only in <ul>/<ol>), no comments, doctype, CDATA or processing instructions, no control
# characters, and every "&" either a complete reference ("&name;", "&#123;", "&#x7b;") or
# not followed by a letter, digit or "#". Anything else goes to lxml. Both paths give the
# same text: tests/test_feeds.py compares them on generated fragments and real feeds.
_FAST_INLINE = frozenset(
    "a abbr b cite code del em i ins mark q s small span strike strong sub sup time u".split()
)
_FAST_CONTAINERS = frozenset("div blockquote li".split())  # may hold blocks and inline
_FAST_PHRASING = frozenset("p h1 h2 h3 h4 h5 h6".split())  # hold inline only
_FAST_LISTS = frozenset(("ul", "ol"))  # hold <li> (and whitespace) only
_FAST_VOID = frozenset(("br", "img", "hr"))
_FAST_TAG = re.compile(
    r"""<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[^\s"'>/=<`]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(/?)>"""
)
_FAST_REJECT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_FAST_MARKUP_DECL = re.compile(r"<[!?]")
_FAST_BAD_AMP = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]{0,31};|#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|[^A-Za-z0-9#]|$))")


def _fast_text(value: str, paragraphs: bool) -> str | None:
    """The text html_to_text would give, for simple fragments; None for anything else."""
    # isprintable() is False for every character _FAST_REJECT names (controls, surrogates,
    # BOM, non-characters), so a printable fragment needs no scan for them
    if (
        (not value.isprintable() and _FAST_REJECT.search(value))
        or _FAST_MARKUP_DECL.search(value)
        or _FAST_BAD_AMP.search(value)
    ):
        return None
    if paragraphs and _PLAIN_PARAGRAPHS.fullmatch(value):
        plain = _plain_paragraphs(value)
        if plain is not None:
            return plain
    parts: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _FAST_TAG.finditer(value):
        start = m.start()
        if start > pos:
            text = value[pos:start]
            if "<" in text or (stack and stack[-1] in _FAST_LISTS and not text.isspace()):
                return None
            parts.append(html.unescape(text) if "&" in text else text)
        pos = m.end()
        close, name, _, slash = m.groups()
        name = name.lower()
        parent = stack[-1] if stack else None
        if close:
            if slash or parent != name:
                return None
            stack.pop()
        elif slash and name not in _FAST_VOID:
            return None  # "<p/>": the slash is ignored and the element stays open
        elif parent in _FAST_LISTS and name != "li":
            return None
        elif name in _FAST_INLINE or name in ("br", "img"):
            if name == "a" and "a" in stack:
                return None  # an <a> inside an <a> closes the first one
            if name not in _FAST_VOID:
                stack.append(name)
        elif name == "li":
            if parent not in _FAST_LISTS:
                return None
            stack.append(name)
        elif name in _FAST_CONTAINERS or name in _FAST_PHRASING or name in _FAST_LISTS or name == "hr":
            # a block start inside <p>, a heading or an inline element closes it implicitly
            if parent is not None and parent not in _FAST_CONTAINERS:
                return None
            if name != "hr":
                stack.append(name)
        else:
            return None
        if paragraphs and name in _BLOCK_TAGS:
            parts.append("\x00")  # a paragraph break; never in the text (_FAST_REJECT, unescape)
    rest = value[pos:]
    if rest:
        if "<" in rest:
            return None
        parts.append(html.unescape(rest) if "&" in rest else rest)
    text = "".join(parts)
    if not paragraphs:
        return _collapse(text)
    if "\n" in text or "\r" in text:
        return _paragraphs(text.replace("\x00", "\n\n"))
    # No line break but the paragraph breaks: what _paragraphs gives, without its regex
    # split (each piece collapsed, empty ones dropped)
    return "\n\n".join(filter(None, [" ".join(piece.split()) for piece in text.split("\x00")]))


# The commonest summary of all: <p>s of text only ("<p>One.</p>\n<p>Two &amp; three.</p>").
# Each <p> is a paragraph and what lies between them is whitespace, so the text is each
# paragraph's words, entities decoded, blank-line separated: what the loop above gives,
# without it. A line break inside a paragraph (kept by _paragraphs) goes the long way.
_PLAIN_PARAGRAPHS = re.compile(r"(?:\s*<p>[^<\n\r]*</p>)+\s*")
_PARAGRAPH_TEXT = re.compile(r"<p>([^<]*)</p>")


def _plain_paragraphs(value: str) -> str | None:
    out = []
    for text in _PARAGRAPH_TEXT.findall(value):
        if "&" in text:
            text = html.unescape(text)
            if "\n" in text or "\r" in text:  # "&#10;": the loop's way
                return None
        text = " ".join(text.split())
        if text:
            out.append(text)
    return "\n\n".join(out)


def html_to_text(value: str, paragraphs: bool = True) -> str:
    """Plain text of an HTML fragment: tags removed, entities decoded, whitespace collapsed.

    With `paragraphs`, block elements become paragraphs separated by a blank line (the
    shape article texts are stored and diffed in); otherwise everything is one line.
    """
    if not value:
        return ""
    if not _MARKUP_HINT.search(value):
        return _collapse(value) if not paragraphs else _paragraphs(value)
    fast = _fast_text(value, paragraphs)
    if fast is not None:
        return fast
    return _lxml_text(value, paragraphs)


_ANY_TAG = re.compile(r"<[^>]*>?")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_legal(text: str | None) -> str:
    """A text node lxml will take back: a reference ("&#12;") decodes to a character XML
    forbids, and setting such a text raises (one summary failed its whole feed). A form
    feed is whitespace, as the fast path's str.split() reads it; the rest are dropped, as
    html.unescape drops them."""
    if not text:
        return ""
    return _XML_ILLEGAL.sub("", text.replace("\x0c", " ")) if _XML_ILLEGAL.search(text) else text


def _lxml_text(value: str, paragraphs: bool) -> str:
    """html_to_text through an lxml tree: any fragment, however broken. Characters XML
    forbids (form feeds, NULs) are dropped first: lxml refuses strings that hold them."""
    value = _XML_ILLEGAL.sub("", value)
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError, AssertionError):
        # lxml asserts on some fragments ("<!doctype html><script>": "too many bodies"):
        # no tree, so strip what looks like a tag and keep the words
        text = html.unescape(_ANY_TAG.sub(" ", value))
        return _paragraphs(text) if paragraphs else _collapse(text)
    etree.strip_elements(root, *_DROP_TAGS, etree.Comment, with_tail=False)
    if paragraphs:
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
                el.tail = "\n\n" + _xml_legal(el.tail)
                if el.tag.lower() != "br":
                    el.text = "\n\n" + _xml_legal(el.text)
    text = root.text_content()
    return _paragraphs(text) if paragraphs else _collapse(text)


# _paragraphs cuts the text at every whitespace run holding two or more line breaks
# ("\n\s*\n" from the run's first to its last line break; what is left of the run sits at
# the ends of the pieces and is stripped) and collapses each piece with str.split(), which
# is many times faster than substituting every space with a regex. The result is the
# same as the two regex substitutions it replaced (tests/test_feeds.py keeps them as the
# reference; re's \s and str.split() agree on what whitespace is).
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _paragraphs(text: str) -> str:
    """Whitespace runs become one space, runs holding two or more line breaks a blank line
    (a paragraph break); a single line break stays; the ends are stripped."""
    if "\r" in text:
        text = text.replace("\r", "\n")
    if "\n" not in text:
        return " ".join(text.split())
    out = []
    for piece in _PARAGRAPH_BREAK.split(text):
        piece = " ".join(piece.split()) if "\n" not in piece else _SPACES.sub(" ", piece).strip()
        if piece:
            out.append(piece)
    return "\n\n".join(out)
