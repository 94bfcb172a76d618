"""Term extraction: text in, proposal terms out (TERMS.md contract).

For each sentence of the story body, category triggers find candidate terms; the sentence's
roles (speakers, agents, owners of a plan, joint-deal wording) decide whose term it is; cue
words decide the stance and whether it gates talks or a truce. Terms are then merged per
(conflict, category, proposer) and responses are attached.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache

from watcher.models import Extraction, Term
from watcher.terms import values as V
from watcher.terms.gazetteer import Gazetteer, LiteralIndex, gate, load_gazetteer, regrouped
from watcher.terms.learned import Model, Story, apply, shipped
from watcher.terms.roles import Mention, Role, clauses, joint_spans, lexicon, mentions, roles
from watcher.terms.status import carry_running, denied, status, violator
from watcher.terms.textprep import Sentence, detect_language, sentences, title_of
from watcher.terms.vocabulary import AGREEMENT


def _rx(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _cues() -> dict[str, re.Pattern[str]]:
    lex = lexicon()
    out = {k: _rx(v) for k, v in lex["cues"].items()}
    out["cond_open"] = _rx(lex["condition"]["open"])
    out["cond_gated"] = _rx(lex["condition"]["gated"])
    out["modal"] = _MODAL
    out["gate_words"] = re.compile(r"\b(?:non-negotiable|precondition|red line)\b", re.I)
    out["agreed_to"] = re.compile(r"\bagreed to\b", re.I)
    return out


@lru_cache(maxsize=1)
def _cues_low() -> dict[str, re.Pattern[str]]:
    """The cue regexes for lower-cased text (all cue patterns are lower-case words)."""
    return {k: re.compile(regrouped(v.pattern.lower()), v.flags & ~re.IGNORECASE) for k, v in _cues().items()}


@lru_cache(maxsize=1)
def _cue_index() -> LiteralIndex:
    lex = lexicon()
    pats = {k: v for k, v in lex["cues"].items()}
    pats["cond_open"] = lex["condition"]["open"]
    pats["cond_gated"] = lex["condition"]["gated"]
    pats["modal"] = [_MODAL.pattern]
    pats["gate_words"] = ["non-negotiable", "precondition", "red line"]
    pats["agreed_to"] = ["agreed to"]
    return LiteralIndex({k: gate(v) for k, v in pats.items()})


_MODAL = re.compile(
    r"\b(?:will|would|shall|should|must|could|can|may|might|to be|is to|are to|has to|have to|had to|"
    r"agree\w*|accept\w*|propos\w*|offer\w*|demand\w*|insist\w*|call\w* for|urg\w*|plans?|planned|deal|"
    r"agreement|accord|proposal|includ\w*|contain\w*|envisag\w*|foresee\w*|pledg\w*|promis\w*|commit\w*|"
    r"ready|open to|willing|prepared to|provided|ordered|put forward|put forth|tabled|floated|unveil\w*|suggest\w*|as long as|on condition|in exchange|in return|want\w*|seek\w*|sought|condition\w*|if|unless|reject\w*|dismiss\w*|took effect|into (?:effect|force)|"
    r"under the|terms|provisions|framework|initiative|formula|declaration|principles|asked|requir\w*|"
    r"expected|set to|due to|aim\w*|intend\w*|hope\w*|welcom\w*|decided|studying|consider\w*|review\w*|"
    r"envoy|truce|cease-?fire|arrangement|red line|non-negotiable|only|mean\w*|allow\w*|permit\w*|let|"
    r"restat\w*|reiterat\w*|reaffirm\w*|remains|insisting|wants|vowed|ensure|guarantee\w*|secure|phase|stage)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|never|no longer|without|nor|no such)\b(?:\s+\w+){0,2}\s*$|n't(?:\s+\w+){0,2}\s*$", re.IGNORECASE)
_NEG_OK = {"neutrality", "military_limits", "prohibited_acts", "right_to_resume", "buffer_zone",
           "ceasefire", "territorial_status"}
_SPECULATION = re.compile(r"\b(?:whether|open question|it is unclear|it remains unclear|speculat\w*)\b", re.I)
# a dated mention of an earlier deal: "ended with the 1994 ceasefire", "the truce of 2020"
_HISTORY_BEFORE = re.compile(r"\b(?:the|a|an|its|their)\s+(?:\w+\s+)?(?P<year>1[89]\d\d|20[0-2]\d)(?:s|-\d{2,4})?\s+(?:[\w-]+\s+)?$", re.I)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d")
_HISTORY_AFTER = re.compile(r"s?\s+(?:(?:signed|agreed|reached|brokered|declared)\s+)?(?:of|in)\s+(?P<year>1[89]\d\d|20[0-2]\d)\b", re.I)
# A deal named by a recent year ("violated the January 2025 ceasefire") is often the one in
# force; only years this far back mark history rather than a term.
_HISTORY_YEARS = 3


def _historic(match: re.Match | None, year: int) -> bool:
    """A deal named by a year at least _HISTORY_YEARS before `year` (the story's) is history."""
    return match is not None and int(match.group("year")) <= year - _HISTORY_YEARS
_WHOLE = re.compile(r"\b(?:general|complete|full|comprehensive|nationwide|countrywide|total|all[- ]out)\b", re.I)
_CF_WORD = re.compile(r"\b(?:cease-?fire|truce)s?\b", re.I)
_NAMED_CORRIDOR = re.compile(r"philadelph|netzarim|morag", re.I)
_PROPOSAL_OBJ = re.compile(
    r"\b(?:proposals?|plans?|offers?|initiatives?|formula|demands|conditions|terms|deal|agreement|truce|"
    r"cease-?fire|declaration|framework|idea|announcement|it|them|ultimatum|approach|step|pause|"
    r"halt|accord|documents?|talks)\b", re.I)
_MEDIATOR_KINDS = {"say"}
_BACKGROUND = re.compile(r"(?:,\s*|\b)(?:after|since|following|amid|because|when)\b", re.I)
_PLAN_NOUN = re.compile(
    r"\b(?:plan|formula|proposals?|initiative|demands|conditions|terms|points|framework|road ?map|"
    r"blueprint|draft|ultimatum|position|vision)\b", re.I)


@dataclass
class _Hit:
    category: str
    sent: int
    start: int  # offsets in the text
    end: int


@dataclass
class _Cand:
    conflict: str
    category: str
    proposer: str
    stance: str
    precondition: bool
    sent: int
    start: int
    end: int
    explicit: bool
    places: list[str] = field(default_factory=list)
    numbers: list[dict] = field(default_factory=list)
    party: str | None = None
    text: str | None = None
    status: bool = False  # the sentence reports the term's status (took effect, violated)


@dataclass
class _Resp:
    target: str | None  # proposer whose terms it answers; None = the story's main proposer
    actor: str
    stance: str
    category: str | None = None  # only that category's terms


def extract(
    text: str, title: str | None = None, *, gazetteer: Gazetteer | None = None,
    as_of: datetime | None = None, model: Model | None | str = "shipped",
) -> Extraction:
    """The proposal terms a story reports, with whose they are, their stance and values.

    `as_of` is when the story was read (default: now): "the 2015 agreement" is history and
    "the January 2025 ceasefire" the one in force, relative to it, so a story extracted
    again later (`watcher reprocess`) reads as it did the first time.

    `model`: the learned parts that decide relevance, which candidate terms stand, their
    holder and stance (`watcher.terms.learned`); "shipped" is the package's, None the hand
    rules alone."""
    if model == "shipped":
        model = shipped()
    st = read(text, title, gazetteer=gazetteer, as_of=as_of)
    if isinstance(st, Extraction):
        return st
    terms = apply(model, st) if model is not None else st.terms
    conflicts = sorted({t.conflict for t in terms}, key=lambda c: (c != st.conflict, c))
    return Extraction(relevant=bool(terms), conflicts=conflicts or [st.conflict], terms=terms, language="en")


def read(text: str, title: str | None = None, *, gazetteer: Gazetteer | None = None,
         as_of: datetime | None = None) -> Story | Extraction:
    """The rules' reading of a story (their terms, with the sentences and trigger hits the
    learned parts read), or the empty Extraction of a story with no conflict or not in English."""
    g = gazetteer or load_gazetteer()
    if title is None:
        title = title_of(text)
    lang = detect_language(text)
    if lang is not None and lang != "en":
        return Extraction(relevant=False, conflicts=[], terms=[], language=lang)
    sents = _capped(sentences(text, title))
    body = [s for s in sents if not s.furniture]
    memo: dict[tuple, object] = {}  # per story: (sentence, conflict) -> mentions, and tagged tuples
    _prefill(memo, text, sents, g, None)
    main, sent_conf = _conflicts(text, title, sents, g, memo)
    if main is None or not body:
        return Extraction(relevant=False, conflicts=[], terms=[], language=lang or "en")
    if _not_war(text):
        return Extraction(relevant=False, conflicts=[], terms=[], language=lang or "en")
    if main in g.context_res:
        _prefill(memo, text, sents, g, main)
    ctx = _Doc(text, title, sents, g, main, sent_conf, memo, (as_of or datetime.now(UTC)).year)
    cands, resps = ctx.run()
    terms = _merge(cands, resps, ctx)
    hits = {i: frozenset(h.category for h in hs) for i, hs in ctx.by_sent.items()}
    return Story(text, title, sents, terms, g, main, plain=memo.get(_ACTORS), hits=hits)


MAX_SENTENCE = 2000  # characters; a longer "sentence" is read in pieces of at most this


def _capped(sents: list[Sentence]) -> list[Sentence]:
    """Sentences, any longer than MAX_SENTENCE cut into pieces at spaces.

    Reading one sentence costs more than linear time in its length (each trigger is
    weighed against every party named in it); news sentences stay far below the cap, so
    what it changes is only the cost of text without full stops (a 150 KB run-on once took
    a minute and the pool's CPU deadline)."""
    if all(s.end - s.start <= MAX_SENTENCE for s in sents):
        return sents
    out: list[Sentence] = []
    for s in sents:
        a = 0
        while len(s.text) - a > MAX_SENTENCE:
            cut = s.text.rfind(" ", a + MAX_SENTENCE // 2, a + MAX_SENTENCE)
            b = cut if cut > a else a + MAX_SENTENCE
            out.append(replace(s, start=s.start + a, end=s.start + b, text=s.text[a:b]))
            a = b + 1 if cut > a else b
        out.append(replace(s, start=s.start + a, text=s.text[a:]))
    return out


# a "truce" in sport, trade or business: such a story names no fighting at all
_OTHER_DOMAIN = re.compile(
    r"\b(?:football|soccer|club|clubs|league|tournament|players?|coach|transfer window|tariffs?|trade war|"
    r"price war|shareholders?|merger|labou?r union|strike action|lawsuit|copyright)\b", re.I)
_WAR_WORDS = re.compile(
    r"\b(?:(?<!trade )(?<!price )(?<!tariff )(?<!turf )war(?! of words)s?|wartime|troops|fighting|military|army|armed|"
    r"soldiers|shelling|strikes|airstrikes?|attacks?|killed|hostilities|invasion|occupation|front ?lines?|"
    r"missiles?|drones?|rebels?|militants?|militias?|combat|offensive|bombing|weapons|hostages?|prisoners|"
    r"peacekeep\w*|casualties|gunmen|clashes|insurgen\w*)\b", re.I)


def _not_war(text: str) -> bool:
    """Whether the story is about a dispute that is no war (a club row, a tariff truce)."""
    low = text.lower()
    if any(w in low for w in _COMMON_WAR):  # fast path: most stories name fighting plainly
        return False
    return _OTHER_DOMAIN.search(text) is not None and _WAR_WORDS.search(text) is None


_COMMON_WAR = ("military", "troops", "fighting", "hostilities", "killed", "attack", "army", "soldiers",
               "invasion", "hostage", "missile", "drone")


def _by_sentence(matches, sents: list[Sentence], starts: list[int]) -> list[list]:
    """Whole-text regex matches (objects with .start()/.end() or (start, end, x) tuples)
    bucketed by the sentence that holds them entirely."""
    out: list[list] = [[] for _ in sents]
    for m in matches:
        a, b = (m.start(), m.end()) if hasattr(m, "start") and callable(m.start) else (m.start, m.end)
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and b <= sents[i].end:
            out[i].append(m)
    return out


def _prefill(memo: dict, text: str, sents: list[Sentence], g: Gazetteer, conflict: str | None) -> None:
    """Actor mentions of every sentence from one pass over the whole text (one regex run
    instead of one per sentence); offsets are made sentence-relative."""
    starts = [s.start for s in sents]
    if conflict is None:
        found = memo[_ACTORS] = mentions(text, g, None)
    else:  # the plain names were found in the first pass: add the conflict's context names
        found = mentions(text, g, conflict, memo.get(_ACTORS))
    per = _by_sentence(found, sents, starts)
    for s, ms in zip(sents, per, strict=True):
        key = (s.text, conflict)
        if key not in memo:
            memo[key] = [Mention(m.start - s.start, m.end - s.start, m.actor, m.source) for m in ms]
    if conflict is None:
        memo[_PLACES] = _by_sentence(g.place_re.finditer(text) if g.place_re else (), sents, starts)
        memo[_CNAMES] = _by_sentence(g.conflict_re.finditer(text) if g.conflict_re else (), sents, starts)


_PLACES, _CNAMES = ("places", None), ("conflict names", None)  # memo keys of per-sentence lists
# memo key of the whole text's plain actor mentions (a 1-tuple: never a (sentence, conflict) key)
_ACTORS = ("actor mentions",)


def _mentions(memo: dict, s: str, g: Gazetteer, conflict: str | None) -> list:
    key = (s, conflict)
    if key not in memo:
        base = memo.get((s, None))
        if base is None or (conflict is not None and conflict in g.context_res):
            memo[key] = mentions(s, g, conflict)
        else:
            memo[key] = base
    return memo[key]


def _conflicts(text: str, title: str, sents: list[Sentence], g: Gazetteer,
               memo: dict) -> tuple[str | None, list[str | None]]:
    """The story's conflict (gazetteer signals, headline counted twice) and a per-sentence
    override where a sentence names only another conflict.

    Not every name is evidence: an actor that backs, brokers or hosts ("Russia-backed talks",
    "a deal brokered by Moscow") and a venue ("talks in Doha", "the Black Sea resort of
    Sochi") say where or by whom, not which war; and a broker power's mentions (Russia, Iran)
    count for its own war only when the story shows that war by other signs too.

    A story about two sides the gazetteer lists no conflict for is not filed under a listed
    conflict that shares one of them: see `_unlisted_pair`."""
    brokers = g.brokers
    actors: dict[str, float] = {}  # actor -> its mentions' weight (not as sponsor or venue)
    named: dict[str, float] = {}  # conflict -> the weight of its names and places
    unshown = _unshown(g, [title or "", *(s.text for s in sents)], memo)

    def score(s: str, cms, pms, weight: float = 1) -> tuple[dict[str, float], dict[str, float]]:
        sc: dict[str, float] = {}
        br: dict[str, float] = {}
        for m in cms:
            c, w = g.conflict_signal(m.group(0))
            if c:
                sc[c] = sc.get(c, 0) + w
                named[c] = named.get(c, 0) + weight * w
        for m in _mentions(memo, s, g, None):
            if _sponsor(s, m.start, m.end) or _venue(s, m.start, m.end):
                continue
            if weight:
                actors[m.actor] = actors.get(m.actor, 0) + weight
            cs = g.actor_conflicts.get(m.actor)
            if cs and unshown:
                cs = cs - unshown
            if not cs:
                continue
            d = br if m.actor in brokers else sc
            for c in cs:
                d[c] = d.get(c, 0) + 1 / len(cs)
        for m in pms:
            pid = g.place_for(m.group(0))
            c = g.places.get(pid or "", {}).get("conflict")
            if c and not _venue(s, m.start(), m.end()):
                sc[c] = sc.get(c, 0) + 1
                named[c] = named.get(c, 0) + weight
        return sc, br
    total: dict[str, float] = {}
    btotal: dict[str, float] = {}
    t = title or ""
    tsc, tbr = score(t, g.conflict_re.finditer(t) if g.conflict_re else (),
                     g.place_re.finditer(t) if g.place_re else (), 2)
    _add_scores(total, tsc, 2)
    _add_scores(btotal, tbr, 2)
    per: list[tuple[dict[str, float], dict[str, float]]] = []
    for s, cms, pms in zip(sents, memo[_CNAMES], memo[_PLACES], strict=True):
        sc, br = score(s.text, cms, pms, 0 if s.furniture else 1)
        per.append((sc, br))
        if not s.furniture:
            _add_scores(total, sc)
            _add_scores(btotal, br)
    # a broker's mentions count where the story shows its war otherwise (or nothing else)
    shown = set(total) or set(btotal)
    _add_scores(total, btotal, only=shown)
    main = max(total, key=total.get) if total else None
    pair = _unlisted_pair(g, main, actors, named)
    if pair is not None and _HOSTILE.search(text) is None:
        # no fighting between anyone: two states agreeing to meet, or a security pact with an
        # ally ("Germany and Ukraine sign security pact"), is no conflict of the two
        pair = None
    if pair is not None:
        memo[_PAIR] = pair
        renamed = "-".join(pair)
        if main is None:
            return renamed, [renamed] * len(sents)
    if main is None:
        return None, [None] * len(sents)
    out: list[str | None] = []
    for sc, br in per:
        if br:
            sc = dict(sc)
            _add_scores(sc, br, only=shown)
        other = max(sc, key=sc.get) if sc else None
        if other and other != main and sc.get(main, 0) == 0 and sc[other] >= 2:
            out.append(other)
        else:
            out.append(main)
    if pair is not None:
        return renamed, [renamed if c == main else c for c in out]
    return main, out


def _unshown(g: Gazetteer, texts: list[str], memo: dict) -> set[str]:
    """The `both_parties` conflicts of which the story names fewer than two sides: a side's
    mention does not count for them (their names and places still do)."""
    if not g.both_parties:
        return set()
    present = {m.actor for s in texts for m in _mentions(memo, s, g, None)}
    return {c for c, sides in g.both_parties.items() if len(sides & present) < 2}


# words of fighting between sides: an unlisted pair is a conflict only in a story that has one
_HOSTILE = re.compile(
    r"\b(?:cease-?fires?|truces?|armistice|clash(?:es|ed)?|fighting|fought|hostilities|skirmish\w*|"
    r"shelling|air ?strikes?|strikes|attack(?:s|ed)?|offensive|invasion|invaded|wars?|insurgen\w*|rebels?)\b",
    re.IGNORECASE)
# memo key of the sides of a conflict the gazetteer does not list (a 1-tuple, like _ACTORS)
_PAIR = ("unlisted pair",)
_PAIR_MIN = 2  # each side named at least twice (a headline mention counts twice)


def _unlisted_pair(g: Gazetteer, main: str | None, actors: dict[str, float],
                   named: dict[str, float]) -> tuple[str, str] | None:
    """The story's two strongest sides, sorted, when no listed conflict has both as parties
    and the story is not shown to be about `main` otherwise: `main` (if any) names none of
    its other parties more than once ("Putin offers to mediate between Israel and Iran"
    stays israel-iran) and is not named by its own names and places (a conflict name, or
    three places, keeps it). A mediator (a `broker` actor that is party to no listed
    conflict: the US, Qatar, the UN) and `agreement` are never sides. Such a story is filed
    under the pair's ids, alphabetical ("afghanistan-pakistan"), not under a listed conflict
    that shares one of them."""
    sides = sorted((w, a) for a, w in actors.items() if w >= _PAIR_MIN and a != AGREEMENT
                   and (a not in g.brokers or g.actor_conflicts.get(a)))
    if len(sides) < 2:
        return None
    (w2, a2), (w1, a1) = sides[-2:]
    if len(sides) > 2 and sides[-3][0] == w2:
        return None  # no clear second side
    pair = {a1, a2}
    if g.actor_conflicts.get(a1, set()) & g.actor_conflicts.get(a2, set()):
        return None  # a listed conflict of both
    if main is not None:
        others = set(g.conflicts.get(main, {}).get("parties", [])) - pair
        if named.get(main, 0) >= min(w2, 3) or any(actors.get(x, 0) >= _PAIR_MIN for x in others):
            return None
    return (a1, a2) if a1 < a2 else (a2, a1)


def _add_scores(into: dict[str, float], scores: dict[str, float], weight: float = 1,
                only: set[str] | None = None) -> None:
    """Adds `scores` (times `weight`) into `into`, for the conflicts in `only` when given."""
    for c, v in scores.items():
        if only is None or c in only:
            into[c] = into.get(c, 0) + weight * v


# "Russia-backed talks", "a US-brokered deal", "Iran-aligned militias": the actor sponsors
_SPONSOR_AFTER = re.compile(
    r"(?:-|\s+)(?:backed|brokered|mediated|hosted|sponsored|supported|chaired|organi[sz]ed|funded|"
    r"armed|aligned|allied)\b", re.I)
# "a deal brokered by Moscow", "a conference put together by Vladimir Putin"
_SPONSOR_BEFORE = re.compile(
    r"\b(?:backed|brokered|mediated|hosted|sponsored|supported|organi[sz]ed|put together|convened|chaired|"
    r"funded|armed)\s*,?\s+by\s+(?:the\s+)?(?:[\w.'’-]+\s+){0,3}$", re.I)
# where talks meet is no place of the war: "talks in Istanbul", "met on Friday in Jeddah"
_VENUE_BEFORE = re.compile(
    r"\b(?i:talks|negotiations|conference|summit|meeting|met|meets|ceremony|signed|initial+ed|forum|"
    r"gathering|hosting)(?:\s+(?i:held|hosted|convened|on \w+day|this week|last week|earlier|later))?"
    r"\s+(?i:in|at)\s+(?:the\s+)?(?:[A-Z][\w'’.-]*\s+){0,3}"
    r"(?:(?:resort|city|town|port|capital)\s+of\s+)?$")
# a place naming where a town lies, "the Black Sea resort of Sochi": the town is meant
_DESCRIPTOR_AFTER = re.compile(r"\s+(?:resort|port|city|town|coastal city|port city|seaside town)\s+of\s+[A-Z]")


def _sponsor(s: str, a: int, b: int) -> bool:
    return bool(_SPONSOR_AFTER.match(s, b)) or (" by" in s[max(0, a - 60):a]
                                                 and bool(_SPONSOR_BEFORE.search(s[max(0, a - 60):a])))


def _venue(s: str, a: int, b: int) -> bool:
    if _DESCRIPTOR_AFTER.match(s, b):
        return True
    tail = s[max(0, a - 90):a]
    return (" in " in tail or " at " in tail) and _VENUE_BEFORE.search(tail) is not None


class _Doc:
    def __init__(self, text: str, title: str, sents: list[Sentence], g: Gazetteer, main: str,
                 sent_conf: list[str | None], memo: dict, year: int) -> None:
        self.memo = memo
        self.year = year
        self.text, self.title, self.sents, self.g, self.main = text, title, sents, g, main
        self.sent_conf = sent_conf
        self.starts = [s.start for s in sents]
        self.cues = _cues()
        # the parties of a listed conflict, or the two sides of one it does not list
        self.parties = set(g.conflicts.get(main, {}).get("parties", [])) or set(memo.get(_PAIR, ()))
        self._cache: dict[int, tuple] = {}
        self._cue_memo: dict[str, dict[str, list[tuple[int, int]]]] = {}  # sentence -> cue -> spans
        low = text.lower()
        if len(low) == len(text):
            # one pass over the text finds both the categories' and the cues' literals
            cue_index = _cue_index()
            self.found = g.literals_with(cue_index.literals).scan(low)
            self.cue_pos = cue_index.positions(low, self.found)
        else:
            self.found, self.cue_pos = {}, {}
        self.sent_at = {s.text: s.start for s in reversed(sents)}

    def _roles(self, t: str) -> list[Role]:
        key = ("roles", t)
        if key not in self.memo:
            self.memo[key] = roles(t, _mentions(self.memo, t, self.g, self.main), self.g)
        return self.memo[key]

    def _has_year(self, t: str) -> bool:
        key = ("year", t, None)  # 3-tuple: never a (sentence, conflict) key
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = _YEAR.search(t) is not None
        return got

    def _joint(self, t: str) -> list[tuple[int, int]]:
        """Joint-deal spans of a sentence, once per text (the lead sentences are read twice)."""
        key = ("joint spans", t, None)  # 3-tuple: never a (sentence, conflict) key
        if key not in self.memo:
            self.memo[key] = joint_spans(t)
        return self.memo[key]

    # ---- document-level context ----
    def _lead_roles(self) -> tuple[bool, str | None]:
        lead = [self.title] + [s.text for s in self.sents if not s.furniture][:3]
        deal = False
        for t in lead:
            rs = self._roles(t)
            if self._joint(t) or any(r.kind == "joint" for r in rs):
                deal = True
        for t in lead:
            rs = self._roles(t)
            for kinds in (("own",), ("propose", "demand"), ("say",)):
                for r in rs:
                    if r.kind in kinds and r.actor != AGREEMENT:
                        if kinds == ("say",) and r.actor not in self.parties:
                            continue
                        return deal, r.actor
        return deal, None

    def run(self) -> tuple[list[_Cand], list[_Resp]]:
        self.deal, lead_proposer = self._lead_roles()
        hits = self._hits()
        self.by_sent: dict[int, list[_Hit]] = {}
        for h in hits:
            self.by_sent.setdefault(h.sent, []).append(h)
        self.default = AGREEMENT if self.deal else lead_proposer
        self.members: set[str] = set()
        if self.default is None:
            # no proposer in the lead: the story's most frequent explicit one
            first = self._walk(hits, dry=True)[0]
            counts: dict[str, int] = {}
            for c in first:
                if c.explicit:
                    counts[c.proposer] = counts.get(c.proposer, 0) + 1
            self.default = max(counts, key=counts.get) if counts else None
        self.members = set(self.g.actors.get(self.default or "", {}).get("members", []))
        return self._walk(hits)

    def _walk(self, hits: list[_Hit], dry: bool = False) -> tuple[list[_Cand], list[_Resp]]:
        by_sent = self.by_sent
        cands: list[_Cand] = []
        resps: list[_Resp] = []
        carry: tuple[int, str] | None = None  # (sentence index, proposer)
        list_carry: str | None = None
        # the stance the story gives a plan as a whole ("has to be carried out in its entirety",
        # "its demands include:", "remains on the table"): its listed points inherit it
        plan_stance: str | None = None
        list_stance: str | None = None
        for i, s in enumerate(self.sents):
            if s.furniture:
                continue
            if i not in self._cache:
                ms = _mentions(self.memo, s.text, self.g, self.main)
                self._cache[i] = (ms, self._roles(s.text), self._joint(s.text), clauses(s.text))
            ms, rs, js, cls = self._cache[i]
            self._responses(s, rs, js, resps)
            explicit_here: str | None = None
            here: list[_Cand] = []
            for h in by_sent.get(i, []):
                c = self._cand(h, s, ms, rs, js, cls, carry, i, list_carry, resps)
                if c is not None:
                    here.append(c)
                    if c.explicit:
                        explicit_here = c.proposer
                        # "the UK, Germany and Jordan called for a ceasefire": each of them
                        heads = {r.head if r.head >= 0 else r.pos for r in rs if r.actor == c.proposer
                                 and r.kind in ("say", "propose", "demand")}
                        for r in rs:
                            if (r.head in heads or r.head < 0 and r.pos in heads) and \
                                    r.kind in ("say", "propose", "demand") and \
                                    r.actor not in (c.proposer, AGREEMENT) and \
                                    (heads & {r.pos} or r.head >= 0):
                                here.append(replace(c, proposer=r.actor, places=list(c.places)))
            if here:
                cuts = [b for _, b in cls[:-1]] + [m[0] for m in self._cues_in(s.text, "cond_open")]
                bg = [m.start() for m in _BACKGROUND.finditer(s.text)]
                _assign_places(s, here, self.g, cuts + bg, set(bg), self.memo)
            if s.list_item and list_stance:
                for c in here:
                    if c.stance == "proposed" and c.proposer != AGREEMENT:
                        c.stance = list_stance
            cands.extend(here)
            own = self._sentence_proposer(rs, js)
            if own or explicit_here:
                carry = (i, own or explicit_here)
            if not s.list_item:
                # a list belongs to the sentence that introduces it, else to the story's proposer
                list_carry = own or explicit_here or self.default
                # per clause: "X promotes a plan, but Moscow says Kyiv has to accept..." gives
                # the plan no demand
                cue = None
                for a, b in cls:
                    cue = self._plan_cue(s.text, a, b)
                    if cue and _PLAN_NOUN.search(s.text, a, b):
                        plan_stance = cue
                list_stance = cue or plan_stance  # the introducing (last) clause first
        return cands, resps

    def _plan_cue(self, t: str, a: int, b: int) -> str | None:
        """A stance a clause gives to what it introduces or describes: demanded (demands,
        conditions, must) or reaffirmed; None when it only reports or rejects."""
        if self._cues_in(t, "rejected", a, b):
            return None
        if self._cues_in(t, "demanded", a, b):
            return "demanded"
        if self._cues_in(t, "reaffirmed", a, b):
            return "reaffirmed"
        return None

    def _sentence_proposer(self, rs: list[Role], js: list) -> str | None:
        for kinds in (("own",), ("joint",), ("propose", "demand", "withdraw"), ("say",)):
            for r in rs:
                if r.kind in kinds:
                    if kinds == ("say",) and self.deal and r.actor not in self.parties:
                        return AGREEMENT  # a mediator announcing the deal
                    return r.actor
        return AGREEMENT if js else None

    def _hits(self) -> list[_Hit]:
        out: list[_Hit] = []
        spans_of: dict[str, list[tuple[int, int]]] = {}
        low = self.text.lower()
        same = len(low) == len(self.text)
        present = self.found if same else {}
        sents = self.sents
        sents_of: dict[str, set[int]] = {}  # literal -> indexes of the sentences holding it
        for cat in self.g.categories:
            spans = []
            if same and cat.gate is not None:
                # only sentences holding one of the category's literals can match
                idx = sorted(set().union(*[self._sents_with(x, present, sents_of)
                                           for x in cat.gate & present.keys()]))
                if not idx:
                    spans_of[cat.id] = spans
                    continue
                found = []
                for a, b in _ranges(idx, sents):
                    found += cat.trigger.finditer(low, a, b)
                    if cat.cased is not None:
                        found += cat.cased.finditer(self.text, a, b)
            else:
                found = list(cat.trigger.finditer(low) if same else cat.trigger_i.finditer(self.text))
                if cat.cased is not None:
                    found += list(cat.cased.finditer(self.text))
            for m in found:
                i = bisect.bisect_right(self.starts, m.start()) - 1
                if i < 0 or self.sents[i].furniture or m.start() >= self.sents[i].end:
                    continue
                s = self.sents[i]
                if cat.context is not None and not self._in_context(cat, i):
                    continue
                if cat.exclude is not None and any(
                    xa + s.start < m.end() and m.start() < xb + s.start
                    for xa, xb in self._excluded(cat, i)
                ):
                    continue
                spans.append((m.start(), m.end()))
                out.append(_Hit(cat.id, i, m.start(), m.end()))
            spans_of[cat.id] = spans
        # a truce the story scopes (Black Sea, energy, local) is partial_scope when bare
        # "truce" mentions mostly refer back to it
        scoped = len(spans_of.get("partial_scope", []))
        bare = [h for h in out if h.category == "ceasefire" and _CF_WORD.match(self.text, h.start)]
        title_scoped = bool(re.search(r"black sea|energy|maritime|at sea|partial", self.title or "", re.I))
        if scoped and (title_scoped or scoped >= len(bare)):
            for h in bare:
                if not _WHOLE.search(self.sents[h.sent].text):
                    h.category = "partial_scope"
        # a named corridor inside a withdrawal sentence is the withdrawal's place, not a corridor term
        wd = {h.sent for h in out if h.category == "troop_withdrawal"}
        out = [h for h in out if not (h.category == "transit_corridor" and h.sent in wd
                                      and _NAMED_CORRIDOR.match(self.text, h.start))]
        # "withdraw to the 1991 borders" is one withdrawal term, not also a territorial one
        out = [h for h in out if not (h.category == "territorial_status" and h.sent in wd
                                      and re.search(r"borders", self.text[h.start:h.end], re.I))]
        return out

    def _in_context(self, cat, i: int) -> bool:
        """Whether sentence i holds the category's context words (asked once per sentence,
        not once per trigger match in it)."""
        key = ("context", cat.id, i)
        if key not in self.memo:
            self.memo[key] = cat.context.search(self.sents[i].text) is not None
        return self.memo[key]

    def _excluded(self, cat, i: int) -> list[tuple[int, int]]:
        """Spans of the category's exclusions in sentence i, found once per sentence."""
        key = ("exclude", cat.id, i)
        if key not in self.memo:
            self.memo[key] = [x.span() for x in cat.exclude.finditer(self.sents[i].text)]
        return self.memo[key]

    def _sents_with(self, lit: str, present: dict[str, list[int]], memo: dict[str, set[int]]) -> set[int]:
        """Indexes of the sentences in which `lit` starts (categories share literals: each
        literal's positions are mapped to sentences once)."""
        out = memo.get(lit)
        if out is None:
            starts = self.starts
            out = memo[lit] = {bisect.bisect_right(starts, a) - 1 for a in present[lit]}
        return out

    # ---- per hit ----
    def _cand(self, h: _Hit, s: Sentence, ms, rs: list[Role], js, cls, carry, i: int,
              list_carry: str | None, resps: list[_Resp]) -> _Cand | None:
        p = h.start - s.start
        before = s.text[max(0, p - 30):p]
        if _NEGATION.search(before) and h.category not in _NEG_OK:
            return None
        ca, cb = next(((a, b) for a, b in cls if a <= p < b), (0, len(s.text)))
        if _SPECULATION.search(s.text[ca:p]):
            return None
        if self._has_year(s.text) and (
                _historic(_HISTORY_BEFORE.search(s.text, max(0, p - 30), p), self.year)
                or _historic(_HISTORY_AFTER.match(s.text, h.end - s.start), self.year)):
            return None  # "the 1994 ceasefire", "a truce signed in 2020": history, not a term
        st, cue, neg = status(s.text, p, h.end - s.start, ca, cb, h.category)
        if st == "violated" and neg and denied(s.text, cue):
            return None  # "denied violating the truce": no status, no term
        if st == "scheduled" or st == "in_effect" and neg:
            # "is due to take effect at midnight", "has not taken effect yet": a concluded deal
            # not (yet) in force, unless a party states it as its own offer
            if any(r.kind in ("propose", "demand", "withdraw") for r in rs if ca <= r.pos < cb):
                st = None
            else:
                return self._status_cand(h, s, ms, rs, ca, cb, i, "accepted", cue)
        if st is not None and not neg:
            return self._status_cand(h, s, ms, rs, ca, cb, i, st, cue)
        if not s.list_item and not js and not self._cues_in(s.text, "modal"):
            return None
        proposer, explicit = self._proposer(p, ca, cb, rs, js, carry, i, s, list_carry, h.category)
        if proposer is None:
            return None
        stance, pre = self._stance(s.text, ca, cb, p, proposer)
        if stance == "rejected" and explicit and any(
                r.kind == "own" and r.actor == proposer for r in rs if ca <= r.pos < cb) and any(
                r.kind == "reject" and r.actor != proposer for r in rs if ca <= r.pos < cb):
            # "Ukraine rejected the Russian proposal for a ceasefire": the owner's term stands,
            # with the rejection as a response to it (added with the sentence's responses)
            stance, pre = self._stance(s.text, ca, cb, p, proposer, answered=True)
        if stance == "rejected":
            # a rejection answers someone else's term rather than stating one
            actor = next((r.actor for r in rs if r.kind in ("reject", "say", "propose", "demand")
                          and ca <= r.pos < cb), None) or (proposer if explicit else None)
            if actor and actor != AGREEMENT:
                resps.append(_Resp(None, actor, "rejected", h.category))
            return None
        conflict = self.sent_conf[i] or self.main
        c = _Cand(conflict, h.category, proposer, stance, pre, i, h.start, h.end, explicit)
        return self._with_values(c, s, ca, cb, V.party(s.text, (p, h.end - s.start), ms, proposer, h.category))

    def _status_cand(self, h: _Hit, s: Sentence, ms, rs: list[Role], ca: int, cb: int, i: int,
                     st: str, cue: tuple[int, int]) -> _Cand:
        """A term whose status the sentence reports (in effect, violated). It is the term of the
        deal the parties concluded unless the sentence names whose plan or truce it is ("Russia's
        Easter truce"): the speaker, and the side that accuses another of breaking it, are no
        proposers; the side said to have broken it is the term's party."""
        p = h.start - s.start
        t = s.text
        # whose plan or truce, named at the trigger: "Putin's Easter truce", "the Russian
        # proposal for a ceasefire", "the truce declared by the RSF"
        own = [r.actor for r in rs if r.kind == "own" and r.actor != AGREEMENT and ca <= r.pos < cb and (
            r.pos <= p and p - r.pos <= 50 and not re.search(r"[,;]", t[r.pos:p])
            or r.pos >= h.end - s.start and _OWNER_AFTER.fullmatch(t, h.end - s.start, r.pos))]
        own += [m.actor for m in ms if m.end <= p and m.actor != AGREEMENT and _POSSESSIVE.fullmatch(t, m.end, p)]
        proposer = own[-1] if own else AGREEMENT
        conflict = self.sent_conf[i] or self.main
        c = _Cand(conflict, h.category, proposer, st, False, i, h.start, h.end, True, status=True)
        party = (violator(t, cue, (p, h.end - s.start), ms) if st == "violated"
                 else V.party(t, (p, h.end - s.start), ms, proposer, h.category))
        return self._with_values(c, s, ca, cb, party)

    def _with_values(self, c: _Cand, s: Sentence, ca: int, cb: int, party: str | None) -> _Cand:
        """A candidate with its values: the conflict's theatre on a ceasefire when the story
        names it, the numbers of its clause [ca, cb) (else of its sentence), its party and the
        border wording. (Places named in the sentence are added later, by _assign_places.)"""
        theatre = self.g.conflicts.get(c.conflict, {}).get("theatre")
        if theatre and c.category == "ceasefire" and re.search(re.escape(theatre), self.text, re.I):
            c.places = [theatre]
        c.numbers = (V.numbers(s.text[ca:cb], c.category, self.memo)
                     or V.numbers(s.text, c.category, self.memo))
        c.party = party
        if c.category in ("troop_withdrawal", "territorial_status"):
            c.text = V.border_text(s.text)
        return c

    def _proposer(self, p: int, ca: int, cb: int, rs: list[Role], js, carry, i: int, s: Sentence,
                  list_carry: str | None, category: str) -> tuple[str | None, bool]:
        def pick(a: int, b: int) -> str | None:
            inside = [r for r in rs if a <= r.pos < b]
            own = [r for r in inside if r.kind == "own"]
            if own:
                before = [r for r in own if r.pos <= p]
                return (before[-1] if before else own[0]).actor
            demanding = bool(self._cues_in(s.text, "demanded", a, b))
            jpos = [x for x, _ in js if a <= x < b] + [r.pos for r in inside if r.kind == "joint"]
            for kinds in (("propose", "demand", "withdraw"), ("say",)):
                ag = [r for r in inside if r.kind in kinds and r.actor != AGREEMENT]
                if not ag:
                    continue
                before = [r for r in ag if r.pos <= p]
                r = before[-1] if before else ag[0]
                # a party's own demand inside a deal story stays its own
                if demanding and r.actor in self.parties | {r.actor for r in rs if r.kind == "demand"}:
                    return r.actor
                # joint wording governs the term when it comes before it, or when no agent does:
                # "Washington agreed to X, and the two sides discussed Y" gives X to Washington
                if jpos and (min(jpos) <= p or not before):
                    return AGREEMENT
                if kinds == ("say",) and self.deal and category != "right_to_resume":
                    # a party saying what it will do itself states its own step, not the deal's
                    # (restraint during the truce, "said it would halt all attacks", is how the
                    # deal binds that party: it stays the deal's term)
                    if r.actor in self.parties and category not in _RESTRAINT and any(_self_commit(
                            s.text, x, _mentions(self.memo, s.text, self.g, self.main))
                            for x in before or ag if x.actor == r.actor):
                        return r.actor
                    return AGREEMENT
                return r.actor
            if jpos:
                return AGREEMENT
            return None
        who = pick(ca, cb) or pick(0, len(s.text))
        if who:
            # the story is about a group's plan: a member's envoy or "the plan led by the US"
            # speaks for the group, unless the member owns a plan of its own ("a US proposal")
            if who in self.members and not any(r.kind == "own" and r.actor == who and
                                               not _LED_BY.search(s.text, max(0, r.pos - 12), r.pos)
                                               for r in rs):
                return self.default, True
            return who, True
        if s.list_item and list_carry:
            return list_carry, False
        if carry and i - carry[0] <= 2 and self.sents[carry[0]].para >= s.para - 1:
            return carry[1], False
        return self.default, False

    def _stance(self, t: str, ca: int, cb: int, p: int, proposer: str,
                answered: bool = False) -> tuple[str, bool]:
        clause = t[ca:cb]
        pre = False
        # a term inside a condition clause ("talks if Ukraine withdraws") is demanded, and a
        # precondition when the clause gates talks, a truce or a deal
        cin = self._cues_in
        opens = [m for m in cin(t, "cond_open") if m[1] <= p + 1 and m[0] >= ca - 40]
        conditional = bool(opens) and bool(cin(t, "cond_gated"))
        if cin(t, "gate_words"):
            conditional = True
        if proposer == AGREEMENT:
            if cin(t, "in_effect", ca, cb):
                return "in_effect", False
            if cin(t, "under_discussion", ca, cb):
                return "under_discussion", False
            return "accepted", False
        if cin(t, "in_effect", ca, cb):
            return "in_effect", False
        rj = [] if answered else cin(t, "rejected", ca, cb)
        if rj and not re.search(r"\b(?:no|not)\b", clause[:5]):
            if rj[0][0] <= p + 40:
                return "rejected", False
        if cin(t, "withdrawn", ca, cb):
            return "withdrawn", False
        if cin(t, "reaffirmed", ca, cb):
            return "reaffirmed", False
        if conditional:
            pre = True
            return "demanded", pre
        # a condition stated after the term gates it, it does not make it a demand:
        # "open to talks provided Kiev recognizes..." offers the talks
        opens_after = [m for m in cin(t, "cond_open", ca, cb) if m[0] > p]
        if any(not any(o[0] <= d[0] < o[1] or d[0] <= o[0] < d[1] for o in opens_after)
               for d in cin(t, "demanded", ca, cb)):
            return "demanded", pre
        if cin(t, "agreed_to", ca, cb):
            return "accepted", pre
        return "proposed", pre

    def _cues_in(self, t: str, name: str, a: int = 0, b: int | None = None) -> list[tuple[int, int]]:
        """Spans of a cue in sentence `t` (computed once per sentence) lying within [a, b).

        Called a hundred times or more per story, so kept lean: a dict per sentence instead of
        a tuple key per call, and the (read-only) memo list itself when nothing is cut away.
        """
        per = self._cue_memo.get(t)
        if per is None:
            per = self._cue_memo[t] = {}
        spans = per.get(name)
        if spans is None:
            spans = per[name] = self._find_cue(t, name)
        n = len(t)
        if not spans or a == 0 and (b is None or b >= n):
            return spans
        if b is None:
            b = n
        return [x for x in spans if x[0] >= a and x[1] <= b]

    def _find_cue(self, t: str, name: str) -> list[tuple[int, int]]:
        at = self.sent_at.get(t)
        pos = self.cue_pos.get(name)
        if at is not None and pos is not None:
            j = bisect.bisect_left(pos, at)
            if j == len(pos) or pos[j] >= at + len(t):  # none of the cue's literals here
                return []
        low = t.lower()
        if len(low) == len(t):  # case-folded scan without IGNORECASE: several times faster
            found = _cues_low()[name].finditer(low)
        else:
            found = self.cues[name].finditer(t)
        return [(m.start(), m.end()) for m in found]

    # ---- responses ----
    def _responses(self, s: Sentence, rs: list[Role], js, out: list[_Resp]) -> None:
        owners = [r.actor for r in rs if r.kind == "own"]
        for r in rs:
            if r.kind not in ("accept", "reject", "study"):
                continue
            if not _PROPOSAL_OBJ.search(s.text[r.pos:]):
                continue
            if r.kind == "reject" and _DENIAL.match(s.text, r.pos):
                continue  # "Israel denied violating the truce": a denial, no answer to a term
            stance = {"accept": "accepted", "reject": "rejected", "study": "under_discussion"}[r.kind]
            target = next((o for o in owners if o != r.actor), None)
            if target is None and (js or self.deal):
                target = AGREEMENT
            out.append(_Resp(target, r.actor, stance))
        # a proposer restating its own plan ("remains on the table") is not a response: the
        # three roles stay apart, and a reaffirmation is no change


def _merge(cands: list[_Cand], resps: list[_Resp], doc: _Doc) -> list[Term]:
    groups: dict[tuple[str, str, str], list[_Cand]] = {}
    for c in cands:
        groups.setdefault((c.conflict, c.category, c.proposer), []).append(c)
    terms: list[Term] = []
    for (conflict, category, proposer), cs in groups.items():
        best = next((c for c in cs if c.explicit), cs[0])
        # a story that reports a term's status (it took effect, it was violated) says where the
        # term now stands: that statement leads, a violation before a start
        status = [c for c in cs if c.status and c.stance in _STATUS_RANK]
        if status:
            best = max(status, key=lambda c: _STATUS_RANK[c.stance])
        places = sorted({p for c in cs for p in c.places})
        nums: list[dict] = []
        for c in cs:
            for n in c.numbers:
                if n not in nums:
                    nums.append(n)
        values: dict = {"places": places, "numbers": nums}
        party = best.party or next((c.party for c in cs if c.party), None)
        if party:
            values["party"] = party
        text = next((c.text for c in cs if c.text), None)
        if text:
            values["text"] = text
        quote = doc.sents[best.sent].text
        terms.append(Term(conflict=conflict, category=category, proposer=proposer, stance=best.stance,
                          precondition=any(c.precondition for c in cs), values=values, responses=[],
                          quote=quote, span=(doc.sents[best.sent].start, doc.sents[best.sent].end)))
    main_prop = doc.default
    for r in resps:
        for t in terms:
            target = r.target or main_prop
            if r.category is not None:
                if t.category != r.category or t.proposer == r.actor:
                    continue
            elif t.proposer != target:
                continue
            if r.actor == t.proposer:
                continue  # nobody responds to their own term
            item = {"actor": r.actor, "stance": r.stance}
            if item not in t.responses:
                t.responses.append(item)
    terms.sort(key=lambda t: t.span[0])
    return carry_running(terms)


# a rejection of a charge rather than of a term: "denied violating the truce", "dismissed the
# accusations"
_DENIAL = re.compile(
    r"[^,;]{0,80}?\b(?:deni\w*|dismiss\w*|reject\w*|refut\w*|disputed?)\s+(?:\w+\s+){0,4}?"
    r"(?:violat\w*|breach\w*|broke|break\w*|accusations?|allegations?|claims?|charges?|reports?|responsibility)\b",
    re.I)
_OWNER_AFTER = re.compile(
    r"\s+(?:[\w-]+\s+)?(?:proposed|declared|offered|announced|put forward|suggested|drafted|floated|unveiled|"
    r"ordered)\s+by\s+(?:the\s+)?", re.I)
_POSSESSIVE = re.compile(r"(?:'s|’s|')\s+(?:[\w-]+\s+){0,2}", re.I)
_STATUS_RANK = {"violated": 2, "in_effect": 1}
_LED_BY = re.compile(r"\bled by\s+(?:the\s+)?$", re.I)
_RESTRAINT = {"ceasefire", "prohibited_acts", "duration_phasing", "partial_scope", "line_freeze"}
_SELF_COMMIT = re.compile(
    r"[^,;]{0,60}?\b(?:said|says|announced|stated|declared)\s+(?:on \w+\s+)?(?:that\s+)?"
    r"(?:(?P<pron>(?:it|they|he|she|we)\s+(?:would|will|was going to|is going to|planned to|plans to|intends to|"
    r"had ordered|has ordered|ordered|had decided|has decided|decided))|"
    r"(?P<named>(?:[A-Z][\w.-]+\s+){1,6})(?:had ordered|has ordered|ordered|had decided|has decided|decided))\b")


def _self_commit(t: str, r: Role, ms: list[Mention]) -> bool:
    """"X said it would free prisoners", "X said its president had ordered the steps": the
    speaker announces a step it takes itself (a unilateral offer, not the deal's term)."""
    m = _SELF_COMMIT.match(t, r.pos)
    if m is None:
        return False
    if m.group("pron") is not None:
        return True
    # a named person after the verb must be one of the speaker's own people
    a, b = m.span("named")
    return any(x.actor == r.actor and a <= x.start < b for x in ms)


def _ranges(idx: list[int], sents: list[Sentence]) -> list[tuple[int, int]]:
    """Text ranges covering the given sentences, runs of neighbours merged (the furniture and
    body both count: a range is only where to look)."""
    out: list[tuple[int, int]] = []
    for i in idx:
        if i < 0:
            continue
        a, b = sents[i].start, sents[i].end
        if out and out[-1][1] >= a - 3:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _assign_places(s: Sentence, here: list[_Cand], g: Gazetteer, cuts: list[int] | None,
                   background: set[int] | None, memo: dict) -> None:
    """Each place named in a sentence belongs to the term whose trigger is nearest, in the same
    stretch of the sentence (clauses and condition clauses are separate stretches): "talks if
    Ukraine withdrew from Donbass" puts Donbass on the withdrawal, not on the talks. Other
    triggers of the same stretch within a short reach share it ("a truce and a pullout in X")."""
    if not here or g.place_re is None:
        return
    cuts = sorted(cuts or [])

    def seg(pos: int) -> int:
        return bisect.bisect_right(cuts, pos)

    for m in g.place_re.finditer(s.text):
        a = m.start() + s.start
        dist = [min(abs(a - c.end), abs(a - c.start)) for c in here]
        ps = seg(m.start())
        same = [d for c, d in zip(here, dist, strict=True) if seg(c.start - s.start) == ps]
        if not same and ps and background and cuts[ps - 1] in background:
            continue  # "...after the RSF took the last Darfur city": background, not a term's place
        if not same and background:
            # "a tanker docked at Hudaydah, the first since a truce took effect": the term sits in
            # a background clause of a sentence about something else
            x = here[min(range(len(here)), key=dist.__getitem__)].start - s.start
            lo, hi = sorted((m.start(), x))
            if any(lo < bg < hi for bg in background):
                continue
        near = min(same) if same else min(dist)
        # a locative-only name (Kyiv) is read with the words before it
        where = (m.group(0) if not g.places.get(g.place_for(m.group(0)) or "", {}).get("locative")
                 else s.text[max(0, m.start() - 25):m.end()])
        # a place that is itself a trigger ("along the Lachin corridor") also locates the other
        # terms of its stretch ("peacekeepers will be deployed along the Lachin corridor")
        named = any(c.start <= a < c.end for c in here)
        for c, d in zip(here, dist, strict=True):
            in_seg = seg(c.start - s.start) == ps
            if d == near and (in_seg or not same) or (in_seg and (d <= near + 40 or named)):
                key = ("place ids", where, c.conflict, c.category)
                ids = memo.get(key)
                if ids is None:
                    ids = memo[key] = V.places(where, g, c.conflict, c.category)
                c.places = sorted({*c.places, *ids})
