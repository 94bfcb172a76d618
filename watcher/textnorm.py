"""Snapshot text: what counts as a new version (normalise_for_hash, content_hash) and how a
revision is shown (text_diff).

A page re-rendered with curly instead of straight quotes, a non-breaking space, a soft
hyphen, or a fresh "Updated 10:32 GMT" line has not been edited, and must not become a new
snapshot version. `normalise_for_hash` removes exactly those differences:

- zero-width characters, soft hyphens (U+00AD) and BOMs are deleted;
- curly/low/prime quotes and apostrophes become ' and ", dash variants (hyphen, en, em,
  minus, ...) become -, the ellipsis character becomes ...;
- Unicode NFC;
- every whitespace run (NBSP and other Unicode spaces included) inside a line becomes one
  space, lines are stripped and blank lines dropped (line breaks themselves still count:
  a paragraph split is an edit);
- lines that are only a date/time, optionally after "Updated", "Published:",
  "Last modified on", "Posted" and the like ("Updated 10:32 GMT, 24 June 2024",
  "3 hours ago", "2024-06-24T10:32Z") are removed wherever they appear.

The function is idempotent: every step works line by line and maps a normalised line to
itself.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata

__all__ = ["content_hash", "is_date_line", "normalise_for_hash", "split_sentences", "text_diff"]

_DELETE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e\u200e\u200f"), None)
_MAP = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\uff07"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\uff02"), '"'),
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"), "-"),
    ord("\u2026"): "...",
}
_TABLE = {**_DELETE, **_MAP}

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?"
_TZ = (
    r"(?:gmt|utc|bst|cet|cest|eet|eest|wet|west|msk|est|edt|cst|cdt|mst|mdt|pst|pdt|et|pt|ist"
    r"|aest|aedt|jst|kst|hkt|sgt|ast|z)(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?"
)
_TIME = r"\d{1,2}[:.h]\d{2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?"
_ISO = r"\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
_NUMERIC = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
_RELATIVE = (
    r"(?:a|an|just|now|today|yesterday|ago|hours?|hrs?|minutes?|mins?|seconds?|secs?|days?"
    r"|weeks?|months?)"
)
_FILLER = r"(?:at|on|of|the|by)"
_PIECE = re.compile(
    rf"\s*(?:(?P<signal>{_ISO}|{_NUMERIC}|{_TIME}|{_MONTH}|{_WEEKDAY})(?![^\W\d_])"
    rf"|(?P<num>\d{{1,4}}(?:st|nd|rd|th)?)(?![^\W\d_])"
    rf"|(?P<tz>{_TZ})(?![^\W\d_])|(?P<rel>{_RELATIVE})(?![^\W\d_])|{_FILLER}(?![^\W\d_])"
    r"|[,|/()\-\u00b7\u2022])"
)
_LEAD = re.compile(
    r"^(?:(?:last|first|originally)\s+)?"
    r"(?:updated|published|modified|posted|edited|created|date|dated)"
    r"(?:\s+(?:on|at))?\s*:?\s*"
)


def is_date_line(line: str) -> bool:
    """A line that only says when (optionally after "Updated", "Published:", ...)."""
    text = line.strip().lower()
    if not text or len(text) > 100:
        return False
    lead = _LEAD.match(text)
    pos = lead.end() if lead else 0
    if pos == len(text):
        return False
    signal = ago = False
    digits = any(c.isdigit() for c in text[pos:])
    while pos < len(text):
        m = _PIECE.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].isspace():
                break
            return False
        signal = signal or m.group("signal") is not None or m.group("tz") is not None
        ago = ago or (m.group("rel") is not None and m.group("rel") in ("ago", "yesterday"))
        pos = m.end()
    return ago or (digits and (signal or lead is not None))


def _normalise_line(line: str) -> str:
    return " ".join(line.split())


def normalise_for_hash(text: str) -> str:
    """The text with every difference that is not an edit removed (see module docstring)."""
    text = text.translate(_TABLE)
    text = unicodedata.normalize("NFC", text).translate(_TABLE)
    lines = (_normalise_line(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line and not is_date_line(line))


def content_hash(text: str) -> str:
    """sha256 hex of the normalised text: equal hashes mean "same version"."""
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()


_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019\u00bb)\]]*\s+")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st gen col lt sgt maj capt gov sen rep prof jr sr vs etc inc ltd co corp"
    " jan feb mar apr jun jul aug sep sept oct nov dec approx est fig".split()
)
_OPENERS = "\"'\u201c\u2018\u00ab(["


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph at sentence ends (., !, ? then space then a capital or digit),
    not after common abbreviations or initials."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(paragraph):
        nxt = paragraph[m.end() : m.end() + 2].lstrip(_OPENERS)[:1]
        if not nxt or not (nxt.isupper() or nxt.isdigit()):
            continue
        before = paragraph[start : m.start()].rsplit(None, 1)
        word = before[-1].lower().lstrip(_OPENERS) if before else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or (
            "." in word and len(word) <= 5  # U.S., e.g., a.m.
        ):
            continue
        out.append(paragraph[start : m.end()].strip())
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def _units(text: str) -> list[str]:
    units: list[str] = []
    for line in text.splitlines():
        line = _normalise_line(line)
        if line:
            units.extend(split_sentences(line))
    return units


def text_diff(old: str, new: str, old_label: str = "v1", new_label: str = "v2") -> str:
    """Unified diff (context 1) of two article texts, one sentence per line, so a one-word
    edit in a long paragraph shows as one changed sentence. "" when nothing differs."""
    diff = difflib.unified_diff(
        _units(old), _units(new), fromfile=old_label, tofile=new_label, n=1, lineterm=""
    )
    return "\n".join(diff)
