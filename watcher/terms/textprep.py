"""Text preparation: the title, page furniture, sentences with offsets, and the language.

Extraction only reads sentences of the story body; page furniture (related headlines,
captions, share/support blocks, breadcrumbs) is marked so it cannot leak into the story's
conflict.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_BOILER = re.compile(
    r"^(?:share this|share$|recommended|read more|related|see also|more on this|print this page|log in|"
    r"rate this item|get our latest|follow us|subscribe|support us|for corrections|newsletter|"
    r"advertisement|video of the day|jump to (?:main )?content|all sections|explore$|more (?:\w+ )?news|"
    r"source:|sources?:|photo:|image:|caption|want more context|explain it like|sign up|cookie|"
    r"copyright|©|\(?\d+ (?:votes?|comments?)\)?|\d+ min(?:ute)? read|time to read|listen to|click here|"
    r"download|contents$|by [A-Z][\w\.]+(?: [A-Z][\w\.]+)*$|additional reporting|editing by|"
    r"reporting by|writing by|\d{2}:\d{2}$|trending|most read|latest news|top stories|also read|"
    r"watch:|live updates)",
    re.IGNORECASE,
)
_CREDIT = re.compile(r"(?:stock photo|photo:|/ reuters$|/ ap$|/ afp$|getty images|afp via|"
                     r"\bvia reuters\b|file photo|photograph:|\(@\w+\))", re.IGNORECASE)
_GLUED = re.compile(r"[a-z]{2}[A-Z][a-z]{2}")
_TERMINAL = re.compile(r"[.!?;:\"”’')…]\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-•*–·●▪])\s+")
_ABBREV = re.compile(
    r"(?:\b(?:U\.S|U\.N|U\.K|E\.U|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|Capt|St|No|Nos|Jan|Feb|Mar|Apr|Jun|Jul|"
    r"Aug|Sep|Sept|Oct|Nov|Dec|a\.m|p\.m|Jr|Sr|vs|etc|i\.e|e\.g|Gov|Sen|Rep|Prof|approx|Inc|Ltd|Co)"
    r"|\b[A-Z])\.$"
)
# "end. Next" or a glued "end.Next": both start by consuming one of .!? (the glued case
# checks its "." in a look-behind), so the pattern opens with a character set and the engine
# skips straight between punctuation marks instead of trying every position of the line
_BOUNDARY = re.compile(
    r"[.!?](?:[.!?]*[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])|(?<=[a-z]{2}\.)(?=[A-Z][a-z]))")
# one of these is in (the lower-cased, space-normalised) line whenever _CREDIT matches; they
# avoid i, s and k, whose case-insensitive matches include characters lower() keeps apart
_CREDIT_KEYS = ("photo", "reuter", "/ ap", "afp", "getty", "(@")


@dataclass
class Sentence:
    start: int
    end: int
    text: str
    para: int  # paragraph index
    list_item: bool = False
    furniture: bool = False


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        s = line.strip()
        if s:
            a = pos + line.index(s[0])
            out.append((a, a + len(s)))
        pos += len(line)
    return out


def _is_label(line: str) -> bool:
    s = line.strip()
    return (
        bool(_BOILER.match(s))
        or bool(_CREDIT.search(s))
        or s.endswith(("/", ">", "»", "|"))
        or " / " in s and len(s.split()) < 6
        or len(s.split()) < 3
        or bool(re.match(r"^(?:\w+ )?\d{1,2},? \w+ \d{4}|^\w+ \d{1,2}, \d{4}|^\d{4}-\d\d-\d\d", s))
    )


def title_of(text: str) -> str:
    """The headline: the first line that is not a section label, breadcrumb, date or credit."""
    for a, b in _lines(text)[:8]:
        line = text[a:b]
        if _is_label(line) or len(line.split()) > 40:
            continue
        return line.strip()
    first = _lines(text)
    return text[first[0][0]:first[0][1]].strip() if first else ""


def sentences(text: str, title: str | None = None) -> list[Sentence]:
    """Split into sentences with character offsets; furniture lines are flagged, not dropped."""
    out: list[Sentence] = []
    seen: set[str] = set()
    lines = _lines(text)
    # the body ends at the last long paragraph; short lines after it are related headlines
    long_idx = [i for i, (a, b) in enumerate(lines) if len(text[a:b].split()) >= 25]
    body_end = long_idx[-1] if long_idx else len(lines) - 1
    tnorm = " ".join(title.split()).lower() if title else None
    for i, (a, b) in enumerate(lines):
        line = text[a:b]
        split = line.split()
        norm = " ".join(split).lower()
        words = len(split)
        furniture = (
            norm in seen
            or norm == tnorm
            or bool(_BOILER.match(line))
            or (any(k in norm for k in _CREDIT_KEYS) and bool(_CREDIT.search(line)))
            or (not _TERMINAL.search(line) and not _LIST_ITEM.match(line) and words <= 20)
            or (not _TERMINAL.search(line) and bool(_GLUED.search(line)))
            # after the last long paragraph, short lines are related headlines, but only
            # when they read as headlines: a story's short closing sentence ends in a stop
            or (i > body_end and words < 25 and not _LIST_ITEM.match(line)
                and not _TERMINAL.search(line) and not _introduces_list(line, i, lines, text))
        )
        seen.add(norm)
        list_item = bool(_LIST_ITEM.match(line))
        start = 0
        for m in _BOUNDARY.finditer(line):
            glued = m.group(0) == "."
            cut = m.end() if glued else m.start() + len(m.group(0).rstrip())
            words = line[start:cut].split()
            if not glued and words and _ABBREV.search(words[-1]):
                continue
            _add(out, text, a + start, a + cut, i, list_item, furniture)
            start = cut
            while start < len(line) and line[start].isspace():
                start += 1
        _add(out, text, a + start, b, i, list_item, furniture)
    return out


def _introduces_list(line: str, i: int, lines: list[tuple[int, int]], text: str) -> bool:
    """A body sentence ending in a colon that a list follows ("...lifted, namely those:")."""
    if not line.rstrip().endswith(":") or i + 1 >= len(lines) or len(line.split()) < 8:
        return False
    a, b = lines[i + 1]
    return bool(_LIST_ITEM.match(text[a:b]))


def _add(out: list[Sentence], text: str, a: int, b: int, para: int, li: bool, furn: bool) -> None:
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append(Sentence(a, b, text[a:b], para, li, furn))


_STOP = {
    "en": "the of and to in is that for on with as was by it be are from at has have said an which will would not this their its were".split(),
    "fr": "le la les de des du et en un une est que qui pour dans sur par au aux pas avec ce il elle ont sont été".split(),
    "de": "der die das und den dem nicht ist mit sich des auf für von ein eine zu im sie wird wurde auch".split(),
    "es": "el la los las de del y en un una que por para con es se no su al lo como más fue".split(),
    "it": "il lo la gli le di del della e che per con non un una sono è nel alla anche".split(),
    "pt": "o a os as de do da e que em um uma para com não por se na no mais foi".split(),
    "nl": "de het een en van in is dat op te voor met zijn niet aan er ook".split(),
}
_STOPSETS = {k: set(v) for k, v in _STOP.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]")
_TWENTY_LETTERS = re.compile(r"(?:[\W\d_]*[^\W\d_]){20}")  # matches iff 20 letters or more (no list built)
_ANY_SCRIPT = re.compile("[\u0400-\u04ff\u0590-\u06ff\u4e00-\u9fff]")
_SCRIPTS = {"ru": re.compile("[\u0400-\u04ff]"), "ar": re.compile("[\u0600-\u06ff]"),
            "he": re.compile("[\u0590-\u05ff]"), "zh": re.compile("[\u4e00-\u9fff]")}


def detect_language(text: str) -> str | None:
    """ISO 639-1 code from script and stopword shares; None when there is too little text.

    Stopword counting is enough to tell English news from other languages and costs
    microseconds; it needs no model download, which keeps the extractor offline and fast.
    """
    sample = text[:2500]
    if not _TWENTY_LETTERS.match(sample, 0, 400) and not _TWENTY_LETTERS.match(sample):
        return None
    # ASCII text (and text with curly quotes only) has no Cyrillic, Hebrew, Arabic or CJK letters
    if not sample.isascii() and _ANY_SCRIPT.search(sample):
        letters = _LETTERS.findall(sample)
        scripts = {k: len(rx.findall(sample)) for k, rx in _SCRIPTS.items()}
        best = max(scripts, key=scripts.get)
        if scripts[best] > 0.4 * len(letters):
            if best == "ru" and re.search(r"[іїєґ]", sample):
                return "uk"
            return best
    words = _WORD.findall(sample.lower())
    if len(words) < 5:
        return "en"
    counts = Counter(words)  # counted in C: a per-word Python loop was a fifth of the time
    scores = {k: sum(counts[w] for w in s if w in counts) for k, s in _STOPSETS.items()}
    lang = max(scores, key=scores.get)
    if scores[lang] == 0:
        return "en"
    # English wins ties and near-ties: quotes of foreign names must not flip an English story
    return "en" if scores["en"] >= 0.8 * scores[lang] else lang
