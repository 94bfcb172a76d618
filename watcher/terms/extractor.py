"""Term extraction: text in, proposal terms out (TERMS.md contract).

For each sentence of the story body, category triggers find candidate terms; the sentence's
roles (speakers, agents, owners of a plan, joint-deal wording) decide whose term it is; cue
words decide the stance and whether it gates talks or a truce. Terms are then merged per
(conflict, category, proposer) and responses are attached.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from watcher.models import Extraction, Term
from watcher.terms import values as V
from watcher.terms.gazetteer import Gazetteer, load_gazetteer
from watcher.terms.roles import Role, clauses, joint_spans, lexicon, mentions, roles
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
    return out


_MODAL = re.compile(
    r"\b(?:will|would|shall|should|must|could|can|may|might|to be|is to|are to|has to|have to|had to|"
    r"agree\w*|accept\w*|propos\w*|offer\w*|demand\w*|insist\w*|call\w* for|urg\w*|plans?|planned|deal|"
    r"agreement|accord|proposal|includ\w*|contain\w*|envisag\w*|foresee\w*|pledg\w*|promis\w*|commit\w*|"
    r"ready|want\w*|seek\w*|sought|condition\w*|if|unless|reject\w*|dismiss\w*|took effect|into (?:effect|force)|"
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
_WHOLE = re.compile(r"\b(?:general|complete|full|comprehensive|nationwide|countrywide|total|all[- ]out)\b", re.I)
_CF_WORD = re.compile(r"\b(?:cease-?fire|truce)s?\b", re.I)
_NAMED_CORRIDOR = re.compile(r"philadelph|netzarim|morag", re.I)
_PROPOSAL_OBJ = re.compile(
    r"\b(?:proposals?|plans?|offers?|initiatives?|formula|demands|conditions|terms|deal|agreement|truce|"
    r"cease-?fire|declaration|framework|idea|announcement|it|them|ultimatum|approach|step|pause|"
    r"halt|accord|documents?|talks)\b", re.I)
_MEDIATOR_KINDS = {"say"}


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


@dataclass
class _Resp:
    target: str | None  # proposer whose terms it answers; None = the story's main proposer
    actor: str
    stance: str
    category: str | None = None  # only that category's terms


def extract(text: str, title: str | None = None, *, gazetteer: Gazetteer | None = None) -> Extraction:
    """The proposal terms a story reports, with whose they are, their stance and values."""
    g = gazetteer or load_gazetteer()
    if title is None:
        title = title_of(text)
    lang = detect_language(text)
    if lang is not None and lang != "en":
        return Extraction(relevant=False, conflicts=[], terms=[], language=lang)
    sents = sentences(text, title)
    body = [s for s in sents if not s.furniture]
    memo: dict[tuple[str, str | None], list] = {}
    main, sent_conf = _conflicts(text, title, sents, g, memo)
    if main is None or not body:
        return Extraction(relevant=False, conflicts=[], terms=[], language=lang or "en")
    ctx = _Doc(text, title, sents, g, main, sent_conf, memo)
    cands, resps = ctx.run()
    terms = _merge(cands, resps, ctx)
    conflicts = sorted({t.conflict for t in terms}, key=lambda c: (c != main, c))
    return Extraction(relevant=bool(terms), conflicts=conflicts or [main], terms=terms, language="en")


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
    override where a sentence names only another conflict."""
    def score(s: str) -> dict[str, float]:
        sc: dict[str, float] = {}
        if g.conflict_re:
            for m in g.conflict_re.finditer(s):
                c = g.conflict_for(m.group(0))
                if c:
                    sc[c] = sc.get(c, 0) + 3
        for m in _mentions(memo, s, g, None):
            cs = g.actor_conflicts.get(m.actor) or set()
            for c in cs:
                sc[c] = sc.get(c, 0) + 1 / len(cs)
        if g.place_re:
            for m in g.place_re.finditer(s):
                pid = g.place_for(m.group(0))
                c = g.places.get(pid or "", {}).get("conflict")
                if c:
                    sc[c] = sc.get(c, 0) + 1
        return sc
    total: dict[str, float] = {}
    for c, v in score(title or "").items():
        total[c] = total.get(c, 0) + 2 * v
    per: list[dict[str, float]] = []
    for s in sents:
        sc = score(s.text)
        per.append(sc)
        if not s.furniture:
            for c, v in sc.items():
                total[c] = total.get(c, 0) + v
    if not total:
        return None, [None] * len(sents)
    main = max(total, key=total.get)
    out: list[str | None] = []
    for sc in per:
        other = max(sc, key=sc.get) if sc else None
        if other and other != main and sc.get(main, 0) == 0 and sc[other] >= 2:
            out.append(other)
        else:
            out.append(main)
    return main, out


class _Doc:
    def __init__(self, text: str, title: str, sents: list[Sentence], g: Gazetteer, main: str,
                 sent_conf: list[str | None], memo: dict) -> None:
        self.memo = memo
        self.text, self.title, self.sents, self.g, self.main = text, title, sents, g, main
        self.sent_conf = sent_conf
        self.starts = [s.start for s in sents]
        self.cues = _cues()
        self.parties = set(g.conflicts.get(main, {}).get("parties", []))
        self._cache: dict[int, tuple] = {}

    def _roles(self, t: str) -> list[Role]:
        key = ("roles", t)
        if key not in self.memo:
            self.memo[key] = roles(t, _mentions(self.memo, t, self.g, self.main), self.g)
        return self.memo[key]

    # ---- document-level context ----
    def _lead_roles(self) -> tuple[bool, str | None]:
        lead = [self.title] + [s.text for s in self.sents if not s.furniture][:3]
        deal = False
        for t in lead:
            rs = self._roles(t)
            if joint_spans(t) or any(r.kind == "joint" for r in rs):
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
        if self.default is None:
            # no proposer in the lead: the story's most frequent explicit one
            first = self._walk(hits, dry=True)[0]
            counts: dict[str, int] = {}
            for c in first:
                if c.explicit:
                    counts[c.proposer] = counts.get(c.proposer, 0) + 1
            self.default = max(counts, key=counts.get) if counts else None
        return self._walk(hits)

    def _walk(self, hits: list[_Hit], dry: bool = False) -> tuple[list[_Cand], list[_Resp]]:
        by_sent = self.by_sent
        cands: list[_Cand] = []
        resps: list[_Resp] = []
        carry: tuple[int, str] | None = None  # (sentence index, proposer)
        list_carry: str | None = None
        for i, s in enumerate(self.sents):
            if s.furniture:
                continue
            if i not in self._cache:
                ms = _mentions(self.memo, s.text, self.g, self.main)
                self._cache[i] = (ms, self._roles(s.text), joint_spans(s.text), clauses(s.text))
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
            _assign_places(s, here, self.g)
            cands.extend(here)
            own = self._sentence_proposer(rs, js)
            if own or explicit_here:
                carry = (i, own or explicit_here)
            if not s.list_item:
                # a list belongs to the sentence that introduces it, else to the story's proposer
                list_carry = own or explicit_here or self.default
        return cands, resps

    def _sentence_proposer(self, rs: list[Role], js: list) -> str | None:
        for kinds in (("own",), ("joint",), ("propose", "demand"), ("say",)):
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
        for cat in self.g.categories:
            spans = []
            found = list(cat.trigger.finditer(low) if same else cat.trigger_i.finditer(self.text))
            if cat.cased is not None:
                found += list(cat.cased.finditer(self.text))
            for m in found:
                i = bisect.bisect_right(self.starts, m.start()) - 1
                if i < 0 or self.sents[i].furniture or m.start() >= self.sents[i].end:
                    continue
                s = self.sents[i]
                if cat.context is not None and not cat.context.search(s.text):
                    continue
                if cat.exclude is not None and any(
                    x.start() + s.start < m.end() and m.start() < x.end() + s.start
                    for x in cat.exclude.finditer(s.text)
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

    # ---- per hit ----
    def _cand(self, h: _Hit, s: Sentence, ms, rs: list[Role], js, cls, carry, i: int,
              list_carry: str | None, resps: list[_Resp]) -> _Cand | None:
        p = h.start - s.start
        before = s.text[max(0, p - 30):p]
        if _NEGATION.search(before) and h.category not in _NEG_OK:
            return None
        ca, cb = next(((a, b) for a, b in cls if a <= p < b), (0, len(s.text)))
        clause = s.text[ca:cb]
        if _SPECULATION.search(s.text[ca:p]):
            return None
        if not s.list_item and not _MODAL.search(s.text) and not js:
            return None
        proposer, explicit = self._proposer(p, ca, cb, rs, js, carry, i, s, list_carry, h.category)
        if proposer is None:
            return None
        stance, pre = self._stance(s.text, ca, cb, p, proposer)
        if stance == "rejected":
            # a rejection answers someone else's term rather than stating one
            actor = next((r.actor for r in rs if r.kind in ("reject", "say", "propose", "demand")
                          and ca <= r.pos < cb), None) or (proposer if explicit else None)
            if actor and actor != AGREEMENT:
                resps.append(_Resp(None, actor, "rejected", h.category))
            return None
        conflict = self.sent_conf[i] or self.main
        c = _Cand(conflict, h.category, proposer, stance, pre, i, h.start, h.end, explicit)
        c.places = []
        theatre = self.g.conflicts.get(conflict, {}).get("theatre")
        if theatre and h.category == "ceasefire" and theatre not in c.places and re.search(
                re.escape(theatre), self.text, re.I):
            c.places = sorted({*c.places, theatre})
        c.numbers = V.numbers(clause, h.category) or V.numbers(s.text, h.category)
        c.party = V.party(s.text, (p, h.end - s.start), ms, proposer, h.category)
        if h.category in ("troop_withdrawal", "territorial_status"):
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
            demanding = bool(self.cues["demanded"].search(s.text, a, b))
            joint = any(a <= x < b for x, _ in js) or any(r.kind == "joint" for r in inside)
            for kinds in (("propose", "demand"), ("say",)):
                ag = [r for r in inside if r.kind in kinds and r.actor != AGREEMENT]
                if not ag:
                    continue
                before = [r for r in ag if r.pos <= p]
                r = before[-1] if before else ag[0]
                # a party's own demand inside a deal story stays its own
                if demanding and r.actor in self.parties | {r.actor for r in rs if r.kind == "demand"}:
                    return r.actor
                if joint:
                    return AGREEMENT
                if kinds == ("say",) and self.deal and category != "right_to_resume":
                    return AGREEMENT
                return r.actor
            if joint:
                return AGREEMENT
            return None
        who = pick(ca, cb) or pick(0, len(s.text))
        if who:
            return who, True
        if s.list_item and list_carry:
            return list_carry, False
        if carry and i - carry[0] <= 2 and self.sents[carry[0]].para >= s.para - 1:
            return carry[1], False
        return self.default, False

    def _stance(self, t: str, ca: int, cb: int, p: int, proposer: str) -> tuple[str, bool]:
        cue = self.cues
        clause = t[ca:cb]
        pre = False
        # a term inside a condition clause ("talks if Ukraine withdraws") is demanded, and a
        # precondition when the clause gates talks, a truce or a deal
        opens = [m for m in cue["cond_open"].finditer(t) if m.end() <= p + 1 and m.start() >= ca - 40]
        conditional = bool(opens) and bool(cue["cond_gated"].search(t))
        if re.search(r"\b(?:non-negotiable|precondition|red line)\b", t, re.I):
            conditional = True
        if proposer == AGREEMENT:
            if cue["in_effect"].search(clause):
                return "in_effect", False
            if cue["under_discussion"].search(clause):
                return "under_discussion", False
            return "accepted", False
        if cue["in_effect"].search(clause):
            return "in_effect", False
        if cue["rejected"].search(clause) and not re.search(r"\b(?:no|not)\b", clause[:5]):
            rj = cue["rejected"].search(clause)
            if rj and rj.start() + ca <= p + 40:
                return "rejected", False
        if cue["withdrawn"].search(clause):
            return "withdrawn", False
        if cue["reaffirmed"].search(clause):
            return "reaffirmed", False
        if conditional:
            pre = True
            return "demanded", pre
        if cue["demanded"].search(clause):
            return "demanded", pre
        if re.search(r"\bagreed to\b", clause, re.I):
            return "accepted", pre
        return "proposed", pre

    # ---- responses ----
    def _responses(self, s: Sentence, rs: list[Role], js, out: list[_Resp]) -> None:
        owners = [r.actor for r in rs if r.kind == "own"]
        for r in rs:
            if r.kind not in ("accept", "reject", "study"):
                continue
            if not _PROPOSAL_OBJ.search(s.text[r.pos:]):
                continue
            stance = {"accept": "accepted", "reject": "rejected", "study": "under_discussion"}[r.kind]
            target = next((o for o in owners if o != r.actor), None)
            if target is None and (js or self.deal):
                target = AGREEMENT
            out.append(_Resp(target, r.actor, stance))
        if self.cues["reaffirmed"].search(s.text):
            for o in owners:
                out.append(_Resp(o, o, "reaffirmed"))


def _merge(cands: list[_Cand], resps: list[_Resp], doc: _Doc) -> list[Term]:
    groups: dict[tuple[str, str, str], list[_Cand]] = {}
    for c in cands:
        groups.setdefault((c.conflict, c.category, c.proposer), []).append(c)
    terms: list[Term] = []
    for (conflict, category, proposer), cs in groups.items():
        best = next((c for c in cs if c.explicit), cs[0])
        places = sorted({p for c in cs for p in c.places})
        nums: list[dict] = []
        for c in cs:
            for n in c.numbers:
                if n not in nums:
                    nums.append(n)
        values: dict = {"places": places, "numbers": nums}
        party = next((c.party for c in cs if c.party), None)
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
            if r.actor == t.proposer and r.stance != "reaffirmed":
                continue
            item = {"actor": r.actor, "stance": r.stance}
            if item not in t.responses:
                t.responses.append(item)
    terms.sort(key=lambda t: t.span[0])
    return terms


def _assign_places(s: Sentence, here: list[_Cand], g: Gazetteer) -> None:
    """Each place named in a sentence belongs to the nearest term trigger (and to any other
    within a short reach): "talks if Ukraine withdrew from Donbass" puts Donbass on the
    withdrawal, not on the talks."""
    if not here or g.place_re is None:
        return
    for m in g.place_re.finditer(s.text):
        a = m.start() + s.start
        dist = [min(abs(a - c.end), abs(a - c.start)) for c in here]
        near = min(dist)
        for c, d in zip(here, dist, strict=True):
            if d <= near + 40:
                ids = V.places(m.group(0) if not g.places.get(g.place_for(m.group(0)) or "", {}).get("locative")
                               else s.text[max(0, m.start() - 25):m.end()], g, c.conflict, c.category)
                c.places = sorted({*c.places, *ids})
