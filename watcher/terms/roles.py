"""Who holds a position in a sentence: actor mentions, speakers and agents, owners of a
proposal ("X's plan", "proposed by X"), and joint-deal wording.

News states positions in a few recurring shapes (attribution verbs, reported speech,
possessive plans, "put forward by", "the deal brokered by"); these regexes encode those
shapes, not any article's wording.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from watcher.terms.gazetteer import Gazetteer, by_first_char, regrouped


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    actor: str
    # the name is that of a source, not of a holder: "Russian state media", "a UN press
    # release", "Israel's Channel 12"; it still shows the conflict, but holds no term
    source: bool = False


# what makes an actor's name the name of a source: a medium or a document right after it
SOURCE_AFTER = re.compile(
    r"(?:'s|’s)?\s+(?:(?:state|state-run|state-owned|state-backed|state-affiliated|official|semi-official|public|"
    r"government|government-run|pro-government|local|national|army|military|opposition|independent)\s+)?"
    r"(?:media|press\s+(?:release|office|service|agency|reports?)|press(?=\s+(?:reported|said|says|quoted|cited))|"
    r"news(?:\s+(?:agency|agencies|outlets?|sites?|channels?|media|reports?|service))?|newspapers?|"
    r"broadcasters?|television|TV|radio|channel\s+\d+|outlets?|report|dailies|daily|tabloids?|wire|"
    r"websites?|journalists?|reporters?)\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Role:
    actor: str
    kind: str  # say | propose | demand | accept | reject | study | own | joint
    pos: int  # offset in the sentence
    head: int = -1  # for a coordinated subject ("the UK, Germany and Jordan called"), the
    # offset of the mention that carries the verb


def _alt(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def lexicon() -> dict:
    raw = resources.files("watcher.terms").joinpath("data").joinpath("stances.toml").read_bytes()
    return tomllib.loads(raw.decode())


@lru_cache(maxsize=1)
def _agent_re() -> re.Pattern[str]:
    """Mention, then titles/names/appositive/auxiliaries, then a classed verb."""
    verbs = lexicon()["verbs"]
    groups = "|".join(f"(?P<{k}>{_alt(v)})" for k, v in verbs.items())
    return re.compile(_GAP + rf"\s*,?\s+(?:{groups})\b", re.IGNORECASE)


# what may stand between an actor mention and its verb: titles, names, an appositive, auxiliaries
_TITLE_WORDS = (
    r"president|prime minister|foreign minister|minister|spokes(?:man|woman|person)|envoy|officials?|"
    r"delegation|negotiators?|chief negotiator|government|office|ministry|army|military|leader(?:ship)?|"
    r"forces|statement|side|team|administration|deputy|defen[cs]e|foreign|secretary of state|secretary|"
    r"adviser|advisor|broadcaster|media|sources?|chief of staff|chief|senior|special|national|security|"
    r"council|staff|group|movement|authorities|cabinet|parliament|representative|ambassador|general|"
    r"commander|vice|head|of|the|state|his|her|its|a|an|also|top|prime|former|acting|envoys|diplomats?|"
    r"presidency|presidential|paramilitary|rebels?|militants?|fighters|officer|source|agency|channel|"
    r"outlet|spokesperson"
)
_GAP = (
    rf"^(?:'s|’s)?(?:\s+(?:(?:{_TITLE_WORDS})\b|(?-i:[A-Z])[\w\.\-’']*)){{0,7}}"
    r"(?:\s*,\s*[^,;]{1,90}?,)?(?:\s+and\s+(?:its|their|his)\s+(?:\w+\s+)?(?:allies|partners|backers))?"
    r"(?:\s+(?:has|have|had|is|was|are|were|will|would|also|then|once more|again|later|earlier|"
    r"on \w+|\w+ly|reportedly|publicly|repeatedly|now|already|further|formally|officially|finally|in turn|"
    r"however|meanwhile|last week|late on \w+|in a statement|in a \w+ statement|for (?:its|his|her|their) part|"
    r",|too|likewise|first|at first|swiftly|quickly|was swift to|be|been|not|never|did|does|do|cannot|could|can|didn't|doesn't|don't|won't|wouldn't|hasn't|haven't|in|response|said\s+(?:it|he|she|they))"
    r"){0,5}"
)
_INVERTED = re.compile(
    r"(?:said|says|told|according to|stated|added|wrote|reported|cited by|quoting)\s+(?:[^\s,.;]+\s+){0,5}$|"
    r"(?:sources?|officials?|people|someone|diplomats?) close to (?:the\s+)?(?:[^\s,.;]+\s+){0,2}$",
    re.IGNORECASE,
)
_PROPOSAL_NOUN = (
    r"(?:peace |ceasefire |truce |new |latest |own |\d+-point |ten-point |draft |initial |revised |counter-?)*"
    r"(?:proposals?|plans?|offers?|initiatives?|formula|demands?|conditions|terms|draft|framework|road ?map|"
    r"ultimatum|position|red line|idea|vision|blueprint|requests?|document|statement|counterproposal|"
    r"message|call|ceasefire|truce|preconditions?|declaration|announcement)"
)
_OWN_BEFORE = re.compile(rf"^(?:'s|’s|'|’)?\s+{_PROPOSAL_NOUN}\b", re.IGNORECASE)
_OWN_BY = re.compile(
    rf"\b{_PROPOSAL_NOUN}\s+(?:\w+\s+){{0,3}}?(?:put forward|proposed|presented|unveiled|offered|drafted|written|"
    r"made|floated|tabled|backed|announced|suggested|submitted|issued|released|set out|prepared)?\s*(?:by|from)\s+"
    r"(?!(?:midnight|noon|dawn|dusk|today|tomorrow|tonight|next|early|late|mid-?\w+|\d|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|"
    r"october|november|december)\b)(?:[^\s.;]+\s+){0,8}$",
    re.IGNORECASE,
)
_OWN_PASSIVE = re.compile(
    r"(?:proposed|put forward|offered|drafted|suggested|floated|presented|tabled|unveiled|written|led|"
    r"backed|supported|drawn up|authored|sponsored)\s+by\s+(?:the\s+|a\s+)?(?:[^\s.;]+\s+){0,8}$",
    re.IGNORECASE,
)
_BROKERED_BY = re.compile(r"\b(?:brokered|mediated|facilitated|hosted)\s*,?\s+by\s+(?:[^\s.;]+\s+){0,8}$", re.I)
_OWN_ADJ = re.compile(r"^-(?:proposed|drafted|authored|led|backed|sponsored|written)\b", re.IGNORECASE)
_DEAL_NOUN = r"(?:deal|agreement|accord|declaration|arrangement|pact|truce deal|ceasefire deal|understanding|deals|agreements)"
JOINT = re.compile(
    r"\b(?:(?:the|both|two|all|warring|rival|three|Yemeni)\s+(?:[\w’']+\s+)?(?:sides|parties|delegations|negotiators|countries|leaders)|each side|"
    r"each party|both(?= have| had| agreed| signed)|they)\s+(?:have\s+|had\s+|has\s+|also\s+|further\s+|both\s+|each\s+|"
    r"now\s+|finally\s+|reportedly\s+|at last\s+|once more\s+)*(?:agreed|consented|signed|settled|reached|struck|approved|committed|answered|accepted)\b"
    rf"|\b(?:reached|struck|signed|sealed|concluded|clinched|finali[sz]ed|settled on|agreed on|agreed to)\s+(?:a|an|the|their)\s+(?:\w+\s+){{0,3}}{_DEAL_NOUN}"
    rf"|\b{_DEAL_NOUN}\s+(?:was|were|has been|had been|have been|is|been)?\s*(?:reached|struck|agreed|signed|sealed|concluded|approved)"
    rf"|\b(?:under|in|per|as part of|according to|within)\s+the\s+(?:\w+[- ]){{0,3}}?(?:{_DEAL_NOUN}|truce|ceasefire|cease-fire|terms|text|declaration)\b(?!\s+(?:proposal|plan|offer|initiative|framework|demands|proposed))"
    rf"|\b(?:the|this|that|its|their)\s+(?:\w+[- ]){{0,3}}?(?:{_DEAL_NOUN}|text|truce|ceasefire|cease-fire|accord)\s+(?:also\s+|further\s+|itself\s+)?"
    r"(?:provides|provided|includes|included|contains|foresees|envisages|envisions|sets out|calls for|allows|permits|"
    r"stipulates|rests on|deals with|will|would|is to|has|had|covers|halts|requires|gives|grants|commits|points|"
    r"mandates|is built|was due|is scheduled|is expected|takes|took|came|entered)\b"
    r"|\b(?:have|had|has)\s+(?:both\s+)?agreed\b"
    rf"|\b{_DEAL_NOUN}\s+(?:brokered|mediated|negotiated)\b|\b(?:brokered|mediated)\s+{_DEAL_NOUN}"
    r"|\b(?:had been|has been|were|was|been)\s+agreed\b|\bagreed\s+(?:that|by both|by the)\b"
    r"|\b(?:among|one of)\s+(?:its|the deal's|the agreement's)\s+(?:terms|provisions)"
    r"|\b(?:produced|yielded)\s+agreements?\b|\b(?:has|have|had)\s+been\s+(?:signed|agreed|reached|struck|concluded|sealed)\b|\bphase (?:one|two|three|1|2|3)\b|\b(?:first|second|third|final) (?:phase|stage)\b",
    re.IGNORECASE,
)
# the parties discussing a point together (a joint item, under discussion), and a truce brokered
# by a mediator (the parties' deal; the broker is no proposer): scanned only when the words occur
_JOINT_MORE = re.compile(
    r"\b(?:the|both|two)\s+(?:[\w’']+\s+)?(?:sides|parties|delegations|negotiators)\s+(?:also\s+|further\s+|have\s+|had\s+)*(?:discussed|talked about|talked|addressed)\b"
    r"|\b(?:truce|cease-?fire|deal|agreement|accord)s?\b[^.;]{0,30}?\b(?:brokered|mediated)\b|-(?:brokered|mediated)\s+(?:truce|cease-?fire|deal|agreement)", re.IGNORECASE)
_JOINT_MORE_KEYS = ("discuss", "talked", "addressed", "brokered", "mediated")
_JOINT_KEYS = ("agree", "consent", "sign", "settl", "reach", "struck", "approv", "commit", "answer", "accept",
               "deal", "accord", "declaration", "arrangement", "pact", "understanding", "truce", "cease",
               "terms", "text", "phase", "stage", "provision", "yield", "produced", "brokered", "mediated",
               "conclu", "sealed", "clinch", "finali")
_AND_AGREE = re.compile(r"\band\s+$", re.IGNORECASE)
_AND_AGREE_WIDE = re.compile(r"\band\s+(?:the\s+)?(?:[\w’'-]+\s+){0,2}$", re.IGNORECASE)
_AGREE_AFTER = re.compile(
    r"^\s+(?:have\s+|had\s+|has\s+|both\s+|also\s+|each\s+|finally\s+|on \w+\s+)*(?:agreed|consented|signed|settled|settle|reached|struck|agree|sign|strike)\b",
    re.IGNORECASE,
)
_CLAUSE_SPLIT = re.compile(
    r";|\s+but\s+|,\s*while\s+|,\s*whereas\s+|,\s*with\s+(?=(?:\w+\s+){0,5}\w+ing\b)|,\s*although\s+|,\s*though\s+|"
    r"\s+whereas\s+|\s+[–—]\s+|,\s*however,|\.\s+",
    re.IGNORECASE,
)


def clauses(text: str) -> list[tuple[int, int]]:
    """Clause spans of a sentence: contrastive joints separate positions of different actors."""
    out, start = [], 0
    for m in _CLAUSE_SPLIT.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [(a, b) for a, b in out if b > a]


def mentions(text: str, g: Gazetteer, conflict: str | None, actors: list[Mention] | None = None) -> list[Mention]:
    """Actor mentions in text, with the conflict's context names ("the army" in Sudan).
    `actors`: the text's plain actor-name mentions when already found (mentions(text, g, None))."""
    out: list[Mention] = []
    if actors is not None:
        out = list(actors)
    elif g.actor_re is not None:
        for m in g.actor_re.finditer(text):
            aid = g.actor_for(m.group(0))  # None: a non-actor name ("Air India")
            if aid:
                e = m.end()
                out.append(Mention(m.start(), e, aid, SOURCE_AFTER.match(text, e) is not None))
    if conflict and conflict in g.context_res:
        rx, names = g.context_res[conflict]
        for m in rx.finditer(text):
            aid = names.get(" ".join(m.group(0).split()).lower())
            if aid and not any(x.start <= m.start() < x.end for x in out):
                out.append(Mention(m.start(), m.end(), aid))
    out.sort(key=lambda x: x.start)
    return out


def roles(text: str, ms: list[Mention], g: Gazetteer) -> list[Role]:
    """Agents (mention + verb), inverted speakers ("said X", "according to X") and owners."""
    out: list[Role] = []
    agent_re = _agent_re()
    for m in ms:
        if m.source:  # "according to a UN press release": the UN holds nothing here
            continue
        after = text[m.end:m.end + 160]
        before = text[max(0, m.start - 120):m.start]
        own = _OWN_BEFORE.match(after)
        adj = _OWN_ADJ.match(after)
        if adj and _led_body(text, ms, m):
            adj = None  # "the US-led Quad": the body it leads is the one that acts
        if own or adj:
            out.append(Role(m.actor, "own", m.start))
        if (" by " in before or " from " in before) and (_OWN_BY.search(before) or _OWN_PASSIVE.search(before)) \
                and not _BROKERED_BY.search(before):
            out.append(Role(_body_of(m.actor, ms, g), "own", m.start))
        # "X and Y agreed" -> joint
        if _AGREE_AFTER.match(after) and _AND_AGREE.search(before[-40:]):
            out.append(Role("agreement", "joint", m.start))
        vm = agent_re.match(after)
        if vm is not None:
            kind = next(k for k, v in vm.groupdict().items() if v)
            verb = vm.group(kind)
            if kind in ("accept", "reject") and _NOT.search(vm.group(0), 0, vm.start(kind)):
                # "did not accept" rejects; "did not reject" answers nothing
                if kind == "reject":
                    continue
                kind = "reject"
            # "X and Y agreed": a joint decision, not X's own
            if kind in ("propose", "demand") and _RELATIVE_END.search(before):
                out.append(Role(m.actor, "own", m.start))
                continue
            agreeish = _AGREEISH.match(verb)
            if agreeish and (_AND_AGREE.search(before[-40:]) and _prev_is_actor(before, ms, m)
                             or _AND_AGREE_WIDE.search(before[-40:]) and _prev_in_phrase(text, ms, m)):
                out.append(Role("agreement", "joint", m.start))
            else:
                out.append(Role(m.actor, kind, m.start))
                if kind in ("say", "propose", "demand"):
                    # coordinated subjects share the verb: "the UK, Germany and Jordan called for"
                    for prev in _coordinated(text, ms, m):
                        out.append(Role(prev.actor, kind, prev.start, m.start))
        elif _has_inv_key(before) and _INVERTED.search(before):
            out.append(Role(m.actor, "say", m.start))
    return out


def _led_body(text: str, ms: list[Mention], m: Mention) -> bool:
    """"X-led group of mediators called Y", "X-backed Y": an actor named right after the
    adjective, in the same phrase, is the acting body."""
    for x in ms:
        if x.start > m.end:
            gap = text[m.end:x.start]
            return len(gap) <= 60 and not re.search(r"[,.;:()]|\b(?:and|but|which|that)\b", gap[3:])
    return False


def _coordinated(text: str, ms: list[Mention], m: Mention) -> list[Mention]:
    out, cur = [], m
    for x in reversed([x for x in ms if x.end <= m.start]):
        gap = text[x.end:cur.start]
        if re.fullmatch(r"\s*(?:,|and|, and)\s*(?:the\s+)?", gap):
            out.append(x)
            cur = x
        else:
            break
    return out


def _prev_in_phrase(text: str, ms: list[Mention], m: Mention) -> bool:
    """"Turkey-backed Syrian factions and the Kurdish-led SDF agreed": the first of two
    coordinated sides is named a few words before the "and", with no break between."""
    return any(0 < m.start - x.end <= 45 and not re.search(r"[,;.:()]", text[x.end:m.start])
               for x in ms)


def _prev_is_actor(before: str, ms: list[Mention], m: Mention) -> bool:
    return any(0 < m.start - x.end <= 8 for x in ms)


def _body_of(actor: str, ms: list[Mention], g: Gazetteer) -> str:
    """A group named with one of its members, or two or more members listed together, own
    the plan as the group ("mediators led by the US and called the Quad" -> quad)."""
    named = {x.actor for x in ms}
    for x in ms:
        if actor in g.actors.get(x.actor, {}).get("members", []):
            return x.actor
    for bid, b in g.actors.items():
        members = set(b.get("members", []))
        if actor in members and len(members & named) >= 3:
            return bid
    return actor


_JOINT_LOW = re.compile(regrouped(JOINT.pattern.lower()))  # same matches, grouped by first char
_INV_KEYS = ("said", "says", "told", "according", "stated", "added", "wrote", "reported", "cited",
             "quoting", "close to")
_NOT = re.compile(r"\b(?:not|never|cannot)\b|n't", re.IGNORECASE)
_RELATIVE_END = re.compile(r"(?:that|which|the kind|of the kind|kind)\s+$")
_AGREEISH = re.compile(r"(?:agree|sign|consent|settle|reach|struck|strike)", re.I)


# the pre-check keys as one literal alternation: one C-level scan that stops at the first key,
# instead of a Python loop of substring tests
_INV_KEY_RE = re.compile(by_first_char([re.escape(k) for k in _INV_KEYS]))
_JOINT_KEY_RE = re.compile(by_first_char([re.escape(k) for k in (*_JOINT_KEYS, *_JOINT_MORE_KEYS)]))


def _has_inv_key(before: str) -> bool:
    """Cheap pre-check for `_INVERTED`: a reporting word occurs at all (lower-cased once)."""
    return _INV_KEY_RE.search(before.lower()) is not None


def joint_spans(text: str) -> list[tuple[int, int]]:
    low = text.lower()
    rx = _JOINT_LOW if len(low) == len(text) else JOINT
    if _JOINT_KEY_RE.search(low) is None:  # no key of JOINT or _JOINT_MORE occurs
        return []
    out = [(m.start(), m.end()) for m in rx.finditer(low if rx is _JOINT_LOW else text)]
    if any(k in low for k in _JOINT_MORE_KEYS):
        out += [(m.start(), m.end()) for m in _JOINT_MORE.finditer(text)]
        out.sort()
    return out
