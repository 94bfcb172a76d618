"""The gazetteer: conflicts, actors, places and category triggers, shipped as package data
and extensible from config.toml. Compiled once into a few large regexes so extraction never
compiles per sentence."""

from __future__ import annotations

import json
import re
import sys
import tomllib

try:  # the regex parser, to find the literals a trigger cannot match without
    from re import _constants as _C
    from re import _parser as _P
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _C  # type: ignore[no-redef]
    import sre_parse as _P  # type: ignore[no-redef]
import _sre  # its simple lower case: the one `re.IGNORECASE` compares
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from re._casefix import _EXTRA_CASES  # the cases `re.IGNORECASE` adds to `lower` ("ſ" ~ "s")

from watcher.terms.vocabulary import CATEGORIES

NUM = (
    r"(?:\d[\d,\.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|ninety|a hundred|hundred)"
)


def _data(name: str) -> bytes:
    return resources.files("watcher.terms").joinpath("data").joinpath(name).read_bytes()


class _Names:
    """Finds the gazetteer's names in a text — longest name at a position, not inside a word,
    any whitespace run where a name has a space — with a `NameIndex`: a small regex of the
    names' first characters, then the names that share them tried longest first. The sets
    (places, conflict names, per conflict the names that mean an actor only inside it) were
    each one big trie regex, ~0.07 CPU-s together to compile in every process that reads an
    article; the index is built in a few milliseconds, at first use, and finds the same spans
    (tests/test_gazetteer_names.py holds it to that regex). Case-insensitive sets are matched
    on the text folded the way `re.IGNORECASE` compares characters (`_fold`), which also
    serves the lower-cased text a second, lower-case set used to be kept for."""

    def __init__(self, names: list[str], flags: int = 0) -> None:
        self._fold = bool(flags & re.IGNORECASE)
        if self._fold:  # one trie branch for "A" and "a": else the first one taken, not the longest
            names = sorted({_fold(n) for n in names}, key=len, reverse=True)
        self._names = names  # longest first
        self._index: NameIndex | None = None

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize):
        if self._index is None:
            self._index = NameIndex(self._names)
        if not self._fold:
            yield from self._index.finditer(text, pos, endpos)
            return
        # folded as `re.IGNORECASE` compares ("ſ" is "s", "ı" is "i"), one char for one, so
        # positions hold; the word checks at a name's ends stay on the text itself
        for m in self._index.finditer(_fold(text), pos, endpos, shown=text):
            a, b = m.start(), m.end()
            yield _Span(a, b, text[a:b])


class _Span:
    """A match found by `NameIndex` (the part of `re.Match` the callers use)."""

    __slots__ = ("_a", "_b", "_s")

    def __init__(self, a: int, b: int, s: str) -> None:
        self._a, self._b, self._s = a, b, s

    def start(self) -> int:
        return self._a

    def end(self) -> int:
        return self._b

    def group(self, i: int = 0) -> str:
        return self._s


_WORD_CHAR = re.compile(r"\w")


class NameIndex:
    """Finds case-sensitive names the way `_names_regex` does (longest name at a position,
    not inside a word, any whitespace run where a name has a space) for thousands of names
    at a fraction of a big regex's compile time: one small regex of the names' first three
    characters finds where a name may start; the names that share those characters are then
    tried longest first. Built in a few milliseconds, where the actors' full trie took
    around 80."""

    def __init__(self, names: list[str]) -> None:
        by_key: dict[str, list[tuple[str, ...]]] = {}
        for n in {" ".join(n.split()) for n in names if n.strip()}:
            by_key.setdefault(n[:3], []).append(tuple(n.split(" ")))
        for parts in by_key.values():  # longest first: the longest name that fits wins
            parts.sort(key=lambda p: sum(map(len, p)) + len(p), reverse=True)
        self.by_key = by_key
        # where a name may start: a key (its trailing space dropped; a space: any whitespace)
        self.rx = re.compile(_trie(sorted({k.rstrip() for k in by_key}), names=True))

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize, shown: str | None = None):
        """`shown`: the text `text` was folded from, whose characters decide what is a word
        at a name's ends (folding can turn a mark into a letter: U+0345 into "ι")."""
        search, longest = self.rx.search, self._longest
        if shown is None:
            shown = text
        n = min(len(text), endpos)
        while True:
            m = search(text, pos, n)
            if m is None:
                return
            a = m.start()
            pos = a + 1
            if a and (shown[a - 1].isalnum() or shown[a - 1] in "_/"):
                # a name inside a word hides the names that start within it, as a regex's
                # finditer resumes after each match ("Artsakh/Nagorno-Karabakh": no "Karabakh")
                if (b := longest(text, a, n, shown)) >= 0:
                    pos = b
                continue
            b = longest(text, a, n, shown)
            if b >= 0:
                yield _Span(a, b, text[a:b])
                pos = b

    def _longest(self, text: str, a: int, n: int, shown: str) -> int:
        """The end of the longest name at `a` that does not run into a word, or -1."""
        key = text[a:a + 3]
        if " " in key or not key.isprintable():  # whitespace as in the names: one space
            key = _key(text, a)
        for k in (key, key[:2], key[:1]):
            for parts in self.by_key.get(k, ()):  # a name shorter than three characters is its own key
                b = _match_parts(text, a, n, parts)
                if b >= 0 and (b == n or not _WORD_CHAR.match(shown, b)):
                    return b
        return -1


def _key(text: str, a: int) -> str:
    """The first three characters at `a` with each whitespace run as one space, however long
    the run ("A" and a dozen tabs, then "B", has the key "A B")."""
    out, i = [], a
    while len(out) < 3 and i < len(text):
        m = _WS_RUN.match(text, i)
        out.append(" " if m else text[i])
        i = m.end() if m else i + 1
    return "".join(out)


_WS_RUN = re.compile(r"\s+")


def _fold(text: str) -> str:
    """`text` with each character replaced by one that stands for every character
    `re.IGNORECASE` takes for it: its simple lower case ("İ" -> "i", where `str.lower` gives
    two), then the least of the extra cases `re` adds ("ſ" -> "s", "ı" -> "i", Kelvin "K" ->
    "k"). Same length, so a folded text's positions are the text's."""
    if text.isascii():
        return text.lower()  # in ASCII the extra cases' least member is the lower case itself
    return text.translate(_FOLD)


class _FoldTable(dict):
    """Code point -> its folded code point, filled as characters are met."""

    def __missing__(self, c: int) -> int:
        lo = _sre.unicode_tolower(c)
        self[c] = f = min((lo, *_EXTRA_CASES.get(lo, ())))
        return f


_FOLD = _FoldTable()


def _match_parts(text: str, a: int, n: int, parts: tuple[str, ...]) -> int:
    """End of the name made of `parts` (words joined by any whitespace run) at `a`, or -1."""
    q = a
    for i, part in enumerate(parts):
        if i:
            e = q
            while e < n and text[e].isspace():
                e += 1
            if e == q:
                return -1
            q = e
        if not text.startswith(part, q) or q + len(part) > n:
            return -1
        q += len(part)
    return q


def _names_regex(names: list[str], flags: int = 0) -> _Names | None:
    """One alternation, longest name first, bounded so "Israel" never matches in "Israeli"."""
    uniq = sorted({n for n in names if n}, key=len, reverse=True)
    if not uniq:
        return None
    return _Names(uniq, flags)


@dataclass
class Category:
    """Compiled triggers of one category."""

    id: str
    trigger: re.Pattern[str]  # matched on lower-cased text: case-folding per char is 3x slower
    context: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    trigger_i: re.Pattern[str] | None = None  # fallback when lower() changes the length
    cased: re.Pattern[str] | None = None  # patterns that need capitals, on the original text
    # speed: a trigger can only match where one of these literals occurs (lower-cased); a
    # category none of whose literals is in the text is skipped, and the others are run only
    # over the sentences that hold one. None = no usable literal, always run everywhere.
    gate: frozenset[str] | None = None


class LiteralIndex:
    """Finds, in one pass, which gate literals occur in a lower-cased text and where; a regex
    whose gate has no literal in a span cannot match there and need not be run."""

    def __init__(self, gates: dict[str, frozenset[str] | None], also: frozenset[str] = frozenset()) -> None:
        self.gates = gates
        # `also`: further literals to find in the same pass (another index's), so one scan of
        # the text serves several indexes; a literal's positions do not depend on the others
        lits = sorted({x for g in gates.values() if g for x in g} | also)
        self.literals = frozenset(lits)
        self.rx = re.compile("(?=(" + _trie(lits) + "))") if lits else None
        # a literal found at a position also stands for every shorter literal it starts with
        # (its own prefixes that are literals, shortest first: the order `lits` sorts them in)
        have = self.literals
        self.prefixes = {x: tuple(x[:k] for k in range(1, len(x) + 1) if x[:k] in have) for x in lits}

    def scan(self, low: str) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        if self.rx is None:
            return out
        pre = self.prefixes
        for m in self.rx.finditer(low):
            a = m.start()
            for x in pre[m.group(1)]:
                out.setdefault(x, []).append(a)
        return out

    def positions(self, low: str, found: dict[str, list[int]] | None = None) -> dict[str, list[int] | None]:
        """Per gated name, the sorted positions where one of its literals starts (None: the
        name has no gate, it may match anywhere). `found`: a scan of `low` by an index that
        holds all of this one's literals, to reuse instead of scanning again."""
        if found is None:
            found = self.scan(low)
        return {k: (sorted(a for x in g if x in found for a in found[x]) if g is not None else None)
                for k, g in self.gates.items()}


@dataclass
class Gazetteer:
    conflicts: dict[str, dict]
    actors: dict[str, dict]
    places: dict[str, dict]
    triggers: dict[str, dict]
    # names that hold an actor's name but are no actor: organisations ("Air India", "Bank of
    # Israel"), outlets ("Times of Israel", "Russia Today") and treaties or seas ("Oslo
    # Accords", "South China Sea"), by kind; a mention inside one gives no actor
    non_actors: dict[str, list[str]] = field(default_factory=dict)
    # compiled lookups
    actor_re: NameIndex | None = None
    actor_of: dict[str, str] = field(default_factory=dict)  # exact name -> actor id
    context_res: dict[str, tuple[_Names, dict[str, str]]] = field(default_factory=dict)
    place_re: _Names | None = None
    place_of: dict[str, str] = field(default_factory=dict)
    conflict_re: _Names | None = None
    conflict_of: dict[str, str] = field(default_factory=dict)  # lower-cased name -> id
    # lower-cased conflict signal -> its weight (a conflict's own name 3, a demonym or country 1)
    conflict_weight: dict[str, int] = field(default_factory=dict)
    # actors that often broker, host or back other conflicts (Russia, Iran): their mentions
    # count for their own conflicts only when the story shows that conflict otherwise
    brokers: frozenset[str] = frozenset()
    actor_conflicts: dict[str, set[str]] = field(default_factory=dict)
    # conflicts ("both_parties": true) that one side's mention does not show: South Korea,
    # Cyprus or Colombia are in the news for much else; two of its sides, or its name, must be
    # in the story
    both_parties: dict[str, frozenset[str]] = field(default_factory=dict)
    categories: list[Category] = field(default_factory=list)
    literals: LiteralIndex | None = None  # the categories' gate literals
    # indexes that also find other literals (the extractor's cue words) in the same pass,
    # by the frozenset of those literals; built on first use
    merged_literals: dict[frozenset[str], LiteralIndex] = field(default_factory=dict, repr=False)

    def compile(self) -> Gazetteer:
        names: list[str] = []
        self.actor_of = {}
        for aid, a in self.actors.items():
            for n in a.get("names", []):
                names.append(n)
                self.actor_of[_norm(n)] = aid
        # a non-actor name joins the actor regex only when an actor's name occurs inside it:
        # being the longer match there, it hides that name; it maps to no actor
        names += [n for ns in self.non_actors.values() for n in ns
                  if _norm(n) not in self.actor_of and _holds_name(_norm(n), self.actor_of)]
        self.actor_re = NameIndex(names) if names else None
        # names that only mean an actor inside one of its conflicts ("the army" in Sudan)
        by_conflict: dict[str, dict[str, str]] = {}
        self.actor_conflicts = {aid: set(a.get("conflicts", [])) for aid, a in self.actors.items()}
        for cid, c in self.conflicts.items():
            for p in c.get("parties", []):
                self.actor_conflicts.setdefault(p, set()).add(cid)
        self.both_parties = {cid: frozenset(c["parties"]) for cid, c in self.conflicts.items()
                             if c.get("both_parties")}
        for aid, a in self.actors.items():
            for n in a.get("context_names", []):
                for cid in self.actor_conflicts.get(aid, ()):
                    # keyed lower-cased: `roles.mentions` looks a match up lower-cased
                    by_conflict.setdefault(cid, {})[_norm(n).lower()] = aid
        self.context_res = {}
        for cid, m in by_conflict.items():
            rx = _names_regex(list(m), re.IGNORECASE)
            if rx is not None:
                self.context_res[cid] = (rx, m)
        self.place_of = {}
        pnames = []
        for pid, p in self.places.items():
            for n in p.get("names", []):
                pnames.append(n)
                self.place_of[_norm(n)] = pid
        self.place_re = _names_regex(pnames)
        self.conflict_of = {}
        cnames = []
        self.conflict_weight = {}
        for cid, c in self.conflicts.items():
            for n in c.get("names", []):
                cnames.append(n)
                self.conflict_of[_norm(n).lower()] = cid
            for n in c.get("signals", []):  # demonyms, the country's name: a weaker signal
                cnames.append(n)
                self.conflict_of[_norm(n).lower()] = cid
                self.conflict_weight[_norm(n).lower()] = 1
        self.brokers = frozenset(aid for aid, a in self.actors.items() if a.get("broker"))
        self.conflict_re = _names_regex(cnames, re.IGNORECASE)
        self.categories = [_compile_category(cat, self.triggers.get(cat, {})) for cat in CATEGORIES]
        self.literals = LiteralIndex({c.id: c.gate for c in self.categories})
        self.merged_literals = {}
        return self

    def literals_with(self, also: frozenset[str]) -> LiteralIndex:
        """The categories' literal index extended by `also`: one scan finds both sets."""
        idx = self.merged_literals.get(also)
        if idx is None:
            idx = self.merged_literals[also] = LiteralIndex(self.literals.gates, also)
        return idx


    def actor_for(self, name: str) -> str | None:
        return self.actor_of.get(_norm(name))

    def place_for(self, name: str) -> str | None:
        return self.place_of.get(_norm(name))

    def conflict_signal(self, name: str) -> tuple[str | None, int]:
        """The conflict a conflict name or signal points to, and its weight."""
        key = _norm(name).lower()
        return self.conflict_of.get(key), self.conflict_weight.get(key, 3)


def _norm(s: str) -> str:
    return " ".join(s.split())


_WORD_EDGES = re.compile(r"\b")


def _holds_name(name: str, known: dict[str, str]) -> bool:
    """Whether a key of `known` occurs in `name` between word edges ("Israel" in "Bank of
    Israel", "Russia" in "Russia Today")."""
    edges = sorted({m.start() for m in _WORD_EDGES.finditer(name)})
    return any(name[a:b] in known for i, a in enumerate(edges) for b in edges[i + 1:])


def _required(items) -> set[str] | None:
    """Literals of which a parsed regex sequence must contain at least one (None if unknown)."""
    cands: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is _C.LITERAL:
            run += chr(av)
            continue
        if run:
            cands.append({run})
            run = ""
        r: set[str] | None = None
        if op is _C.SUBPATTERN:
            r = _required(av[-1])
        elif op is _C.BRANCH:
            r = set()
            for b in av[1]:
                rb = _required(b)
                if not rb:
                    r = None
                    break
                r |= rb
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT) and av[0] >= 1:
            r = _required(av[2])
        if r:
            cands.append(r)
    if run:
        cands.append({run})
    if not cands:
        return None
    return max(cands, key=lambda s: (min(len(x) for x in s), -len(s)))


def gate(pats: list[str]) -> frozenset[str] | None:
    """The lower-cased literals of which any match of one of `pats` holds at least one (None
    when some pattern has no literal of three characters or more)."""
    return _gate(pats)


def _gate(pats: list[str]) -> frozenset[str] | None:
    out: set[str] = set()
    for p in pats:
        try:
            r = _required(_P.parse(p.lower()))
        except Exception:  # noqa: BLE001 - an odd pattern only loses the speed-up
            return None
        if not r or min(len(x) for x in r) < 3:
            return None
        out |= {x.lower() for x in r}
    return frozenset(out)


def _trie(words: list[str], names: bool = False) -> str:
    """An alternation of `words` factored as a trie: the engine follows one branch per char
    (in `names`, a space stands for any run of whitespace); the longest word that fits wins."""
    root: dict = {}
    for w in words:
        if names:
            w = " ".join(w.split())
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [(r"\s+" if ch == " " and names else re.escape(ch)) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    # longest first at each node: a greedy optional tail keeps the longest literal
    return emit(root)


def _compile_category(cat: str, spec: dict) -> Category:
    pats = [p.replace("{NUM}", NUM) for p in spec.get("patterns", [])]
    pats += [re.escape(p).replace(r"\ ", r"\s+") for p in spec.get("phrases", [])]
    gate = _gate(pats + list(spec.get("cased_patterns") or [])) if pats else None
    if not pats:
        pats = [r"(?!x)x"]
    body = r"\b(?:" + "|".join(pats) + r")"
    # the same matches as `body`, found faster; an odd pattern only loses the speed-up
    trig = _LazyPattern(regrouped(body.lower()), fallback=body.lower())
    cased = spec.get("cased_patterns") or []
    cased_re = _LazyPattern(r"\b(?:" + "|".join(cased) + r")") if cased else None
    ctx = _LazyPattern(r"\b(?:" + spec["context"] + ")", re.IGNORECASE) if spec.get("context") else None
    exc = spec.get("exclude") or []
    exc_re = _LazyPattern(r"\b(?:" + "|".join(exc) + r")", re.IGNORECASE) if exc else None
    return Category(cat, trig, ctx, exc_re, _LazyPattern(body, re.IGNORECASE), cased_re, gate)


class _LazyPattern:
    """A category's regex, compiled at its first use (then it is the compiled pattern's own
    methods that are called). Compiling all 31 categories costs ~0.1 s, most of a small
    `watcher extract`; a text only needs the categories whose gate literals it holds."""

    def __init__(self, pattern: str, flags: int = 0, fallback: str | None = None) -> None:
        self.pattern = pattern
        self._flags = flags
        self._fallback = fallback

    def __getattr__(self, name: str):
        if name.startswith("__"):  # copy and pickle probe for hooks before __dict__ is set
            raise AttributeError(name)
        try:
            rx = re.compile(self.pattern, self._flags)
        except re.error:
            if self._fallback is None:
                raise
            rx = re.compile(self._fallback, self._flags)
        self.pattern = rx.pattern
        for method in ("finditer", "search", "match", "fullmatch", "findall", "sub", "split"):
            setattr(self, method, getattr(rx, method))
        return getattr(rx, name)


# ---- trigger alternations regrouped by first character (speed only: same matches) ----
#
# A trigger is `\b(?:alt1|alt2|...)`; at each word start the engine enters every alternative
# in turn. Grouped by the character they start with, `\b(?:(?:a..|a..)|(?:b..)|...)`, the
# parser factors that character out of each group and the engine passes over a group after
# one comparison. Python's alternation takes the first alternative that matches, not the
# longest, so the regrouping keeps the original order inside each group; alternatives that
# start with different characters can never both match at one position, so the order
# between groups does not matter.

_SPECIAL = set("\\.^$*+?{}[]|()")


def _structure(s: str, i: int = 0):
    """The indexes and characters of `s` from `i` on, escapes and character classes skipped
    whole: what gives the pattern its shape ("(", ")", "|", ...). An unclosed class yields
    (its index, None) and ends the walk."""
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            j = _class_end(s, i)
            if j < 0:
                yield i, None
                return
            i = j + 1
            continue
        yield i, ch
        i += 1


def _split_top(s: str) -> list[str] | None:
    """`s` split at its top-level "|" (None when its brackets do not balance)."""
    out, depth, start = [], 0, 0
    for i, ch in _structure(s):
        if ch is None:
            return None
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(s[start:i])
            start = i + 1
    if depth != 0:
        return None
    out.append(s[start:])
    return out


def _class_end(s: str, i: int) -> int:
    """Index of the "]" closing the character class opened at s[i] (-1 if none)."""
    j = i + 1
    if j < len(s) and s[j] == "^":
        j += 1
    if j < len(s) and s[j] == "]":
        j += 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s[j] == "]":
            return j
        j += 1
    return -1


def _group_end(s: str, i: int) -> int:
    """Index of the ")" closing the group opened at s[i] (-1 if none)."""
    depth = 0
    for j, ch in _structure(s, i):
        if ch is None:
            return -1
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _distribute(alt: str) -> list[str]:
    """`(?:x|y)R` as `xR`, `yR` and `(?:x|y)?R` as `xR`, `yR`, `R`: the same tries in the same
    order, so the same first match; anything else is returned whole."""
    if alt.startswith("\\b"):  # right after the pattern's own \b: always true
        return [alt[2:]]
    if alt[:1] and alt[0] not in _SPECIAL and alt[1:2] == "?" and alt[2:3] not in ("?", "+"):
        return [alt[0] + alt[2:], alt[2:]]  # "c?R": c then R, else R
    if not alt.startswith("(?:"):
        return [alt]
    j = _group_end(alt, 0)
    if j < 0:
        return [alt]
    inner = _split_top(alt[3:j])
    if inner is None:
        return [alt]
    rest = alt[j + 1:]
    if rest[:1] == "?" and rest[1:2] not in ("?", "+"):
        return [x + rest[1:] for x in inner] + [rest[1:]]
    if rest[:1] in ("*", "+", "?", "{"):
        return [alt]
    return [x + rest for x in inner]


def _lead(alt: str) -> tuple[str, str | None]:
    """How an alternative starts: ("lit", c), ("class", regex of its first char) or ("any", None)."""
    if not alt:
        return "any", None
    if alt[0] == "\\":
        c = alt[1:2]
        if not (c in ("d", "w", "s") or c and not c.isalnum()) or alt[2:3] in ("?", "*") \
                or alt[2:4] in ("{0", "{,"):
            return "any", None
        if not c.isalnum():  # an escaped punctuation mark: a literal
            return "lit", c
        return "class", alt[:2]
    if alt[0] == "[":
        j = _class_end(alt, 0)
        if j < 0 or alt[j + 1:j + 2] in ("?", "*") or alt[j + 1:j + 3] in ("{0", "{,"):
            return "any", None
        return "class", alt[:j + 1]
    if alt[0] in _SPECIAL or alt[1:2] in ("?", "*", "{"):
        return "any", None
    return "lit", alt[0]


def by_first_char(alts: list[str]) -> str | None:
    """The alternation `alts` regrouped by first character, same matches, faster to try.

    At a position, only the alternatives that can start with its character can match; put
    in one group per first character (order kept inside it), the parser factors the
    character out of the group and the engine skips a group on one comparison instead of
    entering every alternative. None when the pattern is not understood (use it as is).

    For patterns compiled without IGNORECASE ("a" and "A" would fall in different groups).
    An alternative's own leading \\b is dropped: the alternation must sit right after a \\b
    (the triggers' and cues' shape) or have no alternative starting with one.
    """
    flat: list[str] = []
    todo = list(alts)
    while todo:
        a = todo.pop(0)
        parts = _distribute(a)
        if parts == [a]:
            flat.append(a)
        else:
            todo[:0] = parts
        if len(flat) + len(todo) > 2000:
            return None
    leads = [_lead(a) for a in flat]
    if any(k == "any" for k, _ in leads):
        return None  # it would join every group and undo the gain
    chars = sorted({c for k, c in leads if k == "lit"})
    groups = []
    for c in chars:
        members = [a for a, (k, x) in zip(flat, leads, strict=True)
                   if k == "lit" and x == c or k == "class" and re.fullmatch(x, c)]
        groups.append("(?:" + "|".join(members) + ")")
    rest = [a for a, (k, _) in zip(flat, leads, strict=True) if k != "lit"]
    if rest:
        groups.append("(?:" + "|".join(rest) + ")")
    return "(?:" + "|".join(groups) + ")"


def _merge_named(base: dict[str, dict], extra: dict[str, dict], list_keys: tuple[str, ...]) -> None:
    """Extending an existing id adds aliases; a new id is added whole."""
    for key, spec in (extra or {}).items():
        cur = base.setdefault(key, {})
        for k, v in (spec or {}).items():
            if k in list_keys:
                cur[k] = list(dict.fromkeys([*cur.get(k, []), *v]))
            else:
                cur[k] = v
        cur.setdefault("names", [])


def load_gazetteer(extra: dict | None = None) -> Gazetteer:
    """The shipped gazetteer, extended by the `[gazetteer]` and `[triggers]` tables of config.toml.

    `extra` is the parsed config shape: {"gazetteer": {"conflicts": {...}, "actors": {...},
    "places": {...}}, "triggers": {"ceasefire": ["quiet period"]}}; any part may be missing.
    Trigger phrases are plain text (escaped), not regexes.
    """
    if not extra:
        return _default()
    base = json.loads(_data("gazetteer.json"))
    triggers = tomllib.loads(_data("triggers.toml").decode())
    gz = extra.get("gazetteer") or {}
    _merge_named(base["conflicts"], gz.get("conflicts") or {}, ("names", "parties", "signals"))
    _merge_named(base["actors"], gz.get("actors") or {}, ("names", "conflicts", "context_names"))
    _merge_named(base["places"], gz.get("places") or {}, ("names",))
    for cat, phrases in (extra.get("triggers") or {}).items():
        if cat not in CATEGORIES:
            raise ValueError(f"unknown category {cat!r} in [triggers]; use one of TERMS.md's ids")
        spec = triggers.setdefault(cat, {})
        spec["phrases"] = [*spec.get("phrases", []), *phrases]
    return Gazetteer(base["conflicts"], base["actors"], base["places"], triggers,
                     base.get("non_actors", {})).compile()


@lru_cache(maxsize=1)
def _default() -> Gazetteer:
    base = json.loads(_data("gazetteer.json"))
    triggers = tomllib.loads(_data("triggers.toml").decode())
    return Gazetteer(base["conflicts"], base["actors"], base["places"], triggers,
                     base.get("non_actors", {})).compile()


def regrouped(pattern: str) -> str:
    """`\\b(?:alt1|alt2|...)rest` (or `\\balt1|\\balt2|...`) with its alternation grouped by
    first character: the same matches. Any other shape is returned as it is. Only for
    patterns compiled without IGNORECASE ("a" and "A" would fall in different groups)."""
    if not pattern.startswith(r"\b(?:"):
        alts = _split_top(pattern)
        if not alts or len(alts) < 2 or not all(a.startswith(r"\b") for a in alts):
            return pattern
        # every alternative opens with \b at the same position: \b(?:a|b) is \ba|\bb
        pattern = r"\b(?:" + "|".join(a[2:] for a in alts) + ")"
    j = _group_end(pattern, 2)
    inner = _split_top(pattern[5:j]) if j > 0 else None
    grouped = by_first_char(inner) if inner else None
    return r"\b" + grouped + pattern[j + 1:] if grouped else pattern
