"""The learned parts of the extractor: which story is relevant, which terms stand, whose they
are, and their stance — linear models over features of the rules' candidates and their context.

The hand rules find candidate terms well (a trigger, a sentence, values) but decide holder and
stance by wording lists that did not carry over to unseen reporting (ATTRIBUTION.md: tuned
rules 0.98 on dev, 0.58 unseen). Here those decisions are made by four small logistic
regressions fitted on labelled reporting (`watcher.terms.train`, training folds only):

- `relevant`: does the story state any term (a passing mention of a truce does not);
- `keep`: is a candidate (conflict, category) really a term of the story;
- `holder`: for each kept pair, which candidate holds it — the actors of its sentence, the
  sentence before, the lead and the headline, the rules' choices, and `agreement`;
- `stance`: the holder's stance, with negation and hypotheticals as features;
- `category`: per sentence, which categories it states (its words, the rules' triggers and
  kept terms, negation and hypothetical cues): a category the rules missed is added when a
  sentence is likely enough (`add_threshold`, chosen on the training folds).

Features are strings (sparse, binary); a model is a dict of weights per feature, so applying
it is a few dictionary look-ups and runs without scikit-learn or numpy. The shipped weights
are `data/model.json.gz`, written by `python -m watcher.terms.train`.
"""

from __future__ import annotations

import bisect
import gzip
import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from watcher.gcpause import gc_paused
from watcher.linear import Linear
from watcher.models import Term
from watcher.terms.gazetteer import Gazetteer
from watcher.terms.roles import Mention, mentions, roles
from watcher.terms.status import carry_running
from watcher.terms.textprep import Sentence
from watcher.terms.vocabulary import AGREEMENT

MODEL_FILE = "model.json.gz"
PARTS = ("relevant", "keep", "holder", "stance", "category")
PARTS_ON = ("relevant", "keep", "holder", "stance", "add")


@dataclass
class Model:
    """The four fitted parts, with the thresholds they are applied at."""

    relevant: Linear
    keep: Linear
    holder: Linear
    stance: Linear
    category: Linear  # one-vs-rest: a sigmoid per category over a sentence's words
    meta: dict = field(default_factory=dict)
    keep_threshold: float = 0.5
    relevant_threshold: float = 0.5
    extra_holder: float = 0.5  # a second holder of the same pair needs this probability
    rule_holder: float = 0.25  # ... or this, when the rules chose it too
    add_threshold: float = 0.3  # a sentence this likely to state a category makes a candidate
    parts: frozenset[str] = frozenset(("relevant", "keep", "holder", "stance", "add"))  # the parts that decide

    def to_json(self) -> dict:
        return {"meta": self.meta, "keep_threshold": self.keep_threshold,
                "relevant_threshold": self.relevant_threshold, "extra_holder": self.extra_holder,
                "rule_holder": self.rule_holder, "add_threshold": self.add_threshold,
                "parts": sorted(self.parts),
                **{k: getattr(self, k).to_json() for k in PARTS}}

    @classmethod
    def from_json(cls, d: dict) -> Model:
        return cls(**{k: Linear.from_json(d[k]) for k in PARTS},
                   meta=d.get("meta", {}), keep_threshold=d["keep_threshold"],
                   relevant_threshold=d["relevant_threshold"], extra_holder=d["extra_holder"],
                   rule_holder=d["rule_holder"], add_threshold=d["add_threshold"],
                   parts=frozenset(d.get("parts", PARTS_ON)))

    def save(self, path) -> None:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
            json.dump(self.to_json(), f, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=1)
def shipped() -> Model | None:
    """The model extraction uses by default: the package's, or the file named by
    $WATCHER_TERMS_MODEL (one you trained; "none" for the rules alone)."""
    chosen = os.environ.get("WATCHER_TERMS_MODEL")
    if chosen is not None:
        return None if chosen.lower() in ("", "none") else load_model(chosen)
    res = resources.files("watcher.terms").joinpath("data").joinpath(MODEL_FILE)
    if not res.is_file():
        return None
    return _decoded(res.read_bytes())


def load_model(path: str | os.PathLike) -> Model:
    """A model written by `python -m watcher.terms.train -o PATH`."""
    with open(path, "rb") as f:
        return _decoded(f.read())


def _decoded(raw: bytes) -> Model:
    """The model from its gzipped JSON, with the cyclic GC paused: the JSON is ~40,000 small
    lists, and the collections their allocation sets off cost more than decoding them
    (0.065 -> 0.035 CPU-s); nothing in it is a cycle."""
    with gc_paused():
        return Model.from_json(json.loads(gzip.decompress(raw).decode("utf-8")))


# ---- the story as the features see it ------------------------------------------------------

_WORD = re.compile(r"[a-z][a-z'’-]*|\d+")
_NEG = re.compile(r"\b(?:not|never|no|nor|without|refus\w*|reject\w*|den(?:y|ies|ied)|n't)\b", re.I)
_HYPO = re.compile(r"\b(?:if|should|would|could|might|whether|unless|may|possible|possibly|potential)\b", re.I)
_DEAL = re.compile(r"\b(?:signed|signing|reached|struck|concluded|sealed|clinched|brokered|agreed|"
                   r"agreement|accord|deal|took effect|into (?:force|effect)|in effect|both sides|"
                   r"the two sides|the parties|began|begun|holding|violat\w*|breach\w*|collaps\w*)\b", re.I)
_SETTLED = frozenset(("signed", "signing", "reached", "struck", "concluded", "sealed", "clinched", "agreed",
                      "took effect", "into force", "into effect", "in effect"))
_OFFER = re.compile(r"\b(?:propos\w*|plan|offer\w*|draft|put forward|unveil\w*|present\w*|"
                    r"suggest\w*|initiative|framework|on the table|call\w* for|urg\w*|demand\w*|"
                    r"insist\w*|want\w*|seek\w*|condition\w*|respon\w*|counter\w*)\b", re.I)
_STOP = frozenset("the a an of to in and on for at by with from as that this is are was were be "
                  "it its has have had will would said says".split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


_SUFFIX = re.compile(r"(?:ations?|ments?|ing|ions?|ed|es|s)$")


@lru_cache(maxsize=8192)
def _stem(w: str) -> str:
    """A crude stem: common suffixes cut where four letters stay."""
    m = _SUFFIX.search(w)
    return w[:m.start()] if m is not None and m.start() >= 4 else w


def _bucket(n: int, edges: tuple[int, ...] = (0, 1, 2, 3, 5, 8, 13)) -> str:
    for e in edges:
        if n <= e:
            return str(e)
    return f">{edges[-1]}"


@dataclass
class Story:
    """What the features read of one story: sentences, actor mentions, the rules' terms."""

    text: str
    title: str
    sents: list[Sentence]
    terms: list[Term]
    g: Gazetteer
    conflict: str | None
    ments: list[Mention] = field(default_factory=list)
    plain: list[Mention] | None = None  # the text's plain actor mentions, when already found
    hits: dict[int, frozenset[str]] = field(default_factory=dict)  # sentence -> categories triggered

    def __post_init__(self) -> None:
        if self.conflict is not None:
            self.ments = mentions(self.text, self.g, self.conflict, self.plain)
        self.starts = [x.start for x in self.sents]
        self._by_sent: dict[int, list[Mention]] = {}
        for m in self.ments:
            i = bisect.bisect_right(self.starts, m.start) - 1
            if i >= 0 and m.end <= self.sents[i].end:
                self._by_sent.setdefault(i, []).append(m)
        self._sent_roles: dict[int, list] = {}
        self.body = [i for i, s in enumerate(self.sents) if not s.furniture]
        self.lead = set(self.body[:2])
        self.title_actors = {m.actor for m in mentions(self.title, self.g, self.conflict)} if self.title else set()
        self.counts = Counter(m.actor for m in self.ments)
        self.first = {}
        for m in self.ments:
            self.first.setdefault(m.actor, len(self.first))
        self.parties = set(self.g.conflicts.get(self.conflict or "", {}).get("parties", []))
        self._roles: Counter | None = None
        self._categories = {c.id: c for c in self.g.categories}
        self._words_at: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self.rule_cats: dict[int, set[str]] = {}
        for t in self.terms:
            self.rule_cats.setdefault(self.sent_of(t.span[0]), set()).add(t.category)

    def roles_in(self, i: int) -> list:
        """The roles (who proposes, answers, speaks) of sentence i, read once."""
        if i not in self._sent_roles:
            s = self.sents[i]
            ms = [Mention(m.start - s.start, m.end - s.start, m.actor) for m in self.in_sent(i)]
            self._sent_roles[i] = roles(s.text, ms, self.g) if ms else []
        return self._sent_roles[i]

    def role_table(self) -> Counter:
        """(actor, role kind, where) over the story: who proposes, owns, answers, speaks —
        in the headline, the lead, or further down — the discourse a plan's owner shows in."""
        if self._roles is None:
            table: Counter = Counter()
            if self.title:
                tm = mentions(self.title, self.g, self.conflict)
                for r in roles(self.title, tm, self.g):
                    table[(r.actor, r.kind, "title")] += 1
            for i in self.body:
                where = "lead" if i in self.lead else "body"
                for r in self.roles_in(i):
                    table[(r.actor, r.kind, where)] += 1
            self._roles = table
        return self._roles

    def trigger_at(self, term: Term) -> int:
        """Where in the text the term's category is named in its quote (its trigger), or the
        quote's start: the anchor the holder's position is read against."""
        cat = self._categories.get(term.category)
        if cat is not None and term.quote:
            low = term.quote.lower()
            m = cat.trigger.search(low) if len(low) == len(term.quote) else None
            if m is not None:
                return term.span[0] + m.start()
        return term.span[0]

    def deal_offer(self) -> tuple[int, int]:
        """How many body sentences speak of a deal reached or in force, and of a plan on offer.
        (A violation is no sign of whose the deal is: "violating Putin's Easter truce".)"""
        if not hasattr(self, "_deal_offer"):
            both = [self.deal_words(i) for i in self.body]
            self._deal_offer = (sum(bool(d & _SETTLED) for d, _ in both), sum(bool(o) for _, o in both))
        return self._deal_offer

    def deal_words(self, i: int) -> tuple[frozenset[str], frozenset[str]]:
        """The deal words (signed, took effect) and offer words (proposal, demands) of sentence
        i, lower-cased, read once."""
        got = self._words_at.get(i)
        if got is None:
            t = self.sents[i].text
            got = self._words_at[i] = (frozenset(m.group(0).lower() for m in _DEAL.finditer(t)),
                                       frozenset(m.group(0).lower() for m in _OFFER.finditer(t)))
        return got

    def sent_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.starts, pos) - 1)

    def in_sent(self, i: int) -> list[Mention]:
        return self._by_sent.get(i, [])


def _pbucket(p: float) -> str:
    return str(min(9, int(p * 10)))


def story_features(st: Story, probs: dict[str, tuple[float, int]]) -> list[str]:
    """Features of the whole story, for `relevant`."""
    top = max((p for p, _ in probs.values()), default=0.0)
    f = ["bias_story", f"maxcatp={_pbucket(top)}", f"nterms={_bucket(len(st.terms))}",
         f"ncats={_bucket(len({t.category for t in st.terms}))}",
         f"nactors={_bucket(len(st.counts))}", f"conflict_known={st.conflict is not None}"]
    f += [f"cat={c}" for c in {t.category for t in st.terms}]
    f += [f"stance={s}" for s in {t.stance for t in st.terms}]
    f += [f"tw={w}" for w in set(_words(st.title)) - _STOP]
    lead = " ".join(st.sents[i].text for i in sorted(st.lead))
    f += [f"lw={w}" for w in set(_words(lead)) - _STOP]
    return f


def sentence_features(st: Story, i: int) -> list[str]:
    """Features of one sentence, for `category`: its words and word pairs, the categories the
    rules' triggers fire on in it (and in the sentence before) and the terms the rules kept
    there, negation and hypothetical cues, how many actors it names."""
    text = st.sents[i].text
    ws = [w for w in _words(text) if w not in _STOP]
    f = [f"w={w}" for w in ws] + [f"b={a}_{b}" for a, b in zip(ws, ws[1:], strict=False)]
    # word stems and stem pairs a word apart: "disarm", "disarming", "disarmament"; "stop ...
    # attacks", "halt the bombing" — the forms news varies, the model sees as one
    ss = [_stem(w) for w in ws]
    f += [f"s={a}" for a in ss if a not in ws]
    if i in st.lead:
        f.append("lead")
    trig = st.hits.get(i, frozenset())
    kept = st.rule_cats.get(i, set())
    neg = _NEG.search(text) is not None
    hypo = _HYPO.search(text) is not None
    f += [f"trig={c}" for c in trig] + [f"rule={c}" for c in kept]
    f += [f"ptrig={c}" for c in st.hits.get(i - 1, ())]
    f += [f"trig={c}&dropped" for c in trig - kept]
    if neg:
        f += ["neg"] + [f"trig={c}&neg" for c in trig]
    if hypo:
        f += ["hypo"] + [f"trig={c}&hypo" for c in trig]
    f.append(f"nact={_bucket(len({m.actor for m in st.in_sent(i)}), (0, 1, 2, 3))}")
    f.append(f"ntrig={_bucket(len(trig), (0, 1, 2, 3))}")
    return sorted(set(f))


def pair_features(st: Story, cand: Candidate) -> list[str]:
    """Features of a candidate (conflict, category) of the story, for `keep`."""
    group = cand.group
    t0 = group[0]
    idx = [st.sent_of(t.span[0]) for t in group]
    cat = t0.category
    f = [f"cat={cat}", f"n={_bucket(len(group))}", f"first={_bucket(min(idx))}",
         f"inlead={any(i in st.lead for i in idx)}", f"cat={cat}&ncats={_bucket(len({t.category for t in st.terms}))}",
         f"main={t0.conflict == st.conflict}"]
    f += [f"catp={_pbucket(cand.prob)}", f"rules={cand.rules}", f"cat={cat}&rules={cand.rules}",
          f"catp={_pbucket(cand.prob)}&rules={cand.rules}"]
    f += [f"stance={t.stance}" for t in group]
    f += [f"prop={'agreement' if t.proposer == AGREEMENT else 'party' if t.proposer in st.parties else 'other'}"
          for t in group]
    for t in group:
        q = t.quote.lower()
        ws = [w for w in _words(q) if w not in _STOP]
        f += [f"qw={w}" for w in ws]
        f += [f"{cat}&qw={w}" for w in ws]
        if _NEG.search(q):
            f.append("neg")
        if _HYPO.search(q):
            f.append("hypo")
        if t.values.get("numbers"):
            f.append("has_number")
    f += [f"tw={w}" for w in set(_words(st.title)) - _STOP]
    return sorted(set(f))


def _around(sent: str, a: int, b: int) -> list[str]:
    left = _words(sent[max(0, a - 40):a])[-3:]
    right = _words(sent[b:b + 40])[:3]
    f = [f"L1={left[-1]}" if left else "L1=^", f"R1={right[0]}" if right else "R1=$"]
    if len(left) > 1:
        f.append(f"L2={left[-2]}_{left[-1]}")
    if len(right) > 1:
        f.append(f"R2={right[0]}_{right[1]}")
    f += [f"Lw={w}" for w in left] + [f"Rw={w}" for w in right]
    if sent[b:b + 2] in ("'s", "’s") or sent[b:b + 1] in ("'", "’"):
        f.append("possessive")
    return f


def _relative(text: str, m: Mention, trig: int) -> list[str]:
    """The mention against the term's trigger: which side, how far, the words between —
    "X proposed a truce", "a truce, X said", "the truce X rejected"."""
    if m.end <= trig:
        between = _words(text[m.end:trig])
        side = "before"
    else:
        between = _words(text[trig:m.start])
        side = "after"
    f = [f"side={side}", f"gap={side}{_bucket(len(between), (0, 1, 2, 4, 8, 16))}"]
    if len(between) <= 8:
        f += [f"btw={side}:{w}" for w in between if w not in _STOP]
    return f


def holder_candidates(st: Story, group: list[Term]) -> list[str]:
    """Who may hold a pair: the rules' choices, the actors around its sentences, agreement."""
    cands: dict[str, None] = {t.proposer: None for t in group}
    for t in group:
        i = st.sent_of(t.span[0])
        for j in (i, i - 1, i + 1):
            for m in st.in_sent(j):
                cands.setdefault(m.actor, None)
    for a in st.title_actors:
        cands.setdefault(a, None)
    for i in sorted(st.lead):
        for m in st.in_sent(i):
            cands.setdefault(m.actor, None)
    cands.setdefault(AGREEMENT, None)
    return list(cands)


def holder_features(st: Story, group: list[Term], cand: str) -> list[str]:
    """Features of one candidate holder of a pair, for `holder`."""
    cat = group[0].category
    agr = cand == AGREEMENT
    kind = "agreement" if agr else "party" if cand in st.parties else "other"
    f = [f"kind={kind}", f"kind={kind}&cat={cat}",
         f"rules={any(t.proposer == cand for t in group)}",
         f"rules={any(t.proposer == cand for t in group)}&kind={kind}",
         f"rules_n={_bucket(len({t.proposer for t in group}))}",
         f"title={cand in st.title_actors}", f"count={_bucket(st.counts.get(cand, 0))}",
         f"firstrank={_bucket(st.first.get(cand, 99))}&kind={kind}"]
    if not agr:
        f.append(f"id={cand}")
        if st.g.actors.get(cand, {}).get("broker"):
            f.append("broker")
        table = st.role_table()
        for actor, rkind, where in table:
            if actor == cand:
                f.append(f"story_role={rkind}@{where}")
                f.append(f"story_role={rkind}@{where}&kind={kind}")
    else:
        f += [f"agr_tw={m.group(0).lower()}" for m in _DEAL.finditer(st.title)]
        f += [f"agr_tw={m.group(0).lower()}" for m in _OFFER.finditer(st.title)]
        joint = sum(n for (a, k, _w), n in st.role_table().items() if k == "joint")
        f.append(f"agr_joint={_bucket(joint, (0, 1, 2))}")
        # the story as a whole: a deal reached or in force, or a plan on offer
        deal, offer = st.deal_offer()
        f += [f"agr_story_deal={_bucket(deal, (0, 1, 3))}", f"agr_story_offer={_bucket(offer, (0, 1, 3))}",
              f"agr_story={'deal' if deal > offer else 'offer' if offer > deal else 'even'}"]
        for i in st.lead:
            d, o = st.deal_words(i)
            f += [f"agr_lead_deal={w}" for w in d] + [f"agr_lead_offer={w}" for w in o]
    for t in group:
        i = st.sent_of(t.span[0])
        s = st.sents[i]
        stext = s.text
        low = stext.lower()
        deal, offer = st.deal_words(i)
        if agr:
            f += [f"agr_deal={w}" for w in deal] + [f"agr_offer={w}" for w in offer]
            f.append(f"agr_title_deal={bool(_DEAL.search(st.title))}")
            f.append(f"agr_title_offer={bool(_OFFER.search(st.title))}")
            f.append(f"agr_stance={t.stance}")
            continue
        for j, where in ((i, "same"), (i - 1, "prev"), (i + 1, "next")):
            for m in st.in_sent(j):
                if m.actor != cand:
                    continue
                f.append(f"in={where}")
                if where == "same":
                    a, b = m.start - s.start, m.end - s.start
                    trig = st.trigger_at(t)
                    f += _relative(st.text, m, trig)
                    others = sorted({abs((o.end if o.end <= trig else o.start) - trig)
                                     for o in st.in_sent(i) if o.actor != cand})
                    mine = abs((m.end if m.end <= trig else m.start) - trig)
                    f.append(f"nearest={sum(d < mine for d in others) if others else 0}")
                    f += _around(stext, a, b)
        if offer and cand in {m.actor for m in st.in_sent(i)}:
            f += [f"offer_in_sent={w}" for w in offer]
        if "both" in low or "two sides" in low:
            f.append("both_sides_sentence")
    if not agr:
        for r in _roles_for(st, group, cand):
            f.append(f"role={r}")
            f.append(f"role={r}&cat={cat}")
    f += _owner_features(st, group, cand, kind)
    return sorted(set(f))


_PROVISION = re.compile(r"\b(?:would|will|was to|were to|is to|are to|is due to|are due to|under the|under a|"
                        r"under an|calls for|called for|envisages|envisaged|provides for|includes|included|"
                        r"sets out|set out|would have to|has to|have to|must)\b", re.I)


def _provisions(st: Story, i: int) -> frozenset[str]:
    """A provision's wording in sentence i, read once per story."""
    memo = st.__dict__.setdefault("_prov", {})
    got = memo.get(i)
    if got is None:
        got = memo[i] = frozenset(m.group(0).lower() for m in _PROVISION.finditer(st.sents[i].text))
    return got


def _owner_features(st: Story, group: list[Term], cand: str, kind: str) -> list[str]:
    """Whether anyone else owns the pair: the roles the other actors of its sentences take
    (a plan someone proposes or brokers is theirs, not a deal), a provision's wording ("under the
    plan Israel would…"), and the story's deal-or-offer reading joined with the candidate's kind
    (a mediator in a story of an offer, a party in a story of a deal)."""
    deal, offer = st.deal_offer()
    story = "deal" if deal > offer else "offer" if offer > deal else "even"
    # (`agreement` reads the story's deal and offer words itself: agr_story)
    f = [] if kind == "agreement" else [f"kind={kind}&story={story}"]
    if st.g.actors.get(cand, {}).get("broker") and cand not in st.parties:  # mediating here
        f.append(f"broker&story={story}")
    if kind != "agreement" and any(_owns_trigger(st, t, cand) for t in group):
        f.append("possessive_of_term")  # "Putin's Easter truce", "Kyiv's peace plan"
    roles_of, prov = _group_context(st, group)
    f += [f"prov={w}&kind={kind}" for w in prov]
    f += [f"other_role={k}&kind={kind}" for k in {k for a, k in roles_of if a != cand}]
    if kind == "agreement":
        for (actor, rkind, where), _n in st.role_table().items():
            if st.g.actors.get(actor, {}).get("broker"):
                f.append(f"agr_broker_role={rkind}@{where}")
    return f


_POSS = re.compile(r"(?:'s|’s|')\s+(?:[\w-]+\s+){0,2}$")


def _owns_trigger(st: Story, t: Term, cand: str) -> bool:
    """The candidate's name in the possessive right before the term's trigger."""
    return cand in _possessors(st, t)


def _possessors(st: Story, t: Term) -> frozenset[str]:
    """The actors named in the possessive right before the term's trigger, read once per term
    (every candidate holder of its pair asks, and `apply` again)."""
    memo = st.__dict__.setdefault("_poss", {})
    key = (t.span, t.category, t.quote)  # what `trigger_at` reads
    got = memo.get(key)
    if got is None:
        trig = st.trigger_at(t)
        got = memo[key] = frozenset(m.actor for m in st.in_sent(st.sent_of(t.span[0]))
                                    if m.end <= trig and _POSS.match(st.text, m.end, trig) is not None)
    return got


def _group_context(st: Story, group: list[Term]) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """The (actor, role) pairs and the provision wording of a pair's sentences, read once per
    pair (every candidate holder of it asks)."""
    memo = st.__dict__.setdefault("_group_ctx", {})
    key = tuple(t.span for t in group)
    got = memo.get(key)
    if got is None:
        idx = {st.sent_of(t.span[0]) for t in group}
        got = memo[key] = (frozenset((r.actor, r.kind) for i in idx for r in st.roles_in(i)),
                           frozenset(w for i in idx for w in _provisions(st, i)))
    return got


def _roles_for(st: Story, group: list[Term], cand: str) -> set[str]:
    return {r.kind for t in group for r in st.roles_in(st.sent_of(t.span[0])) if r.actor == cand}


def stance_features(st: Story, term: Term, holder: str) -> list[str]:
    """Features of a kept term for `stance`."""
    q = term.quote
    low = q.lower()
    f = [f"rule={term.stance}", f"cat={term.category}", f"agr={holder == AGREEMENT}",
         f"rule={term.stance}&agr={holder == AGREEMENT}", f"pre={term.precondition}"]
    f += [f"w={w}" for w in set(_words(low)) - _STOP]
    if _NEG.search(q):
        f.append("neg")
    if _HYPO.search(q):
        f.append("hypo")
    f += [f"deal={m.group(0).lower()}" for m in _DEAL.finditer(q)]
    if term.responses:
        f += [f"resp={r['stance']}" for r in term.responses]
    return sorted(set(f))


# ---- applying a model -----------------------------------------------------------------------

def pairs(terms: list[Term]) -> dict[tuple[str, str], list[Term]]:
    out: dict[tuple[str, str], list[Term]] = {}
    for t in terms:
        out.setdefault((t.conflict, t.category), []).append(t)
    return out


def category_probs(model: Model, st: Story) -> dict[str, tuple[float, int]]:
    """Per category, the highest probability a sentence of the story states it, and where."""
    best: dict[str, tuple[float, int]] = {}
    cls = model.category.classes
    for i in st.body:
        z = model.category.scores(sentence_features(st, i))
        for j, v in enumerate(z):
            if v > best.get(cls[j], (-99.0, 0))[0]:
                best[cls[j]] = (v, i)
    return {c: (1 / (1 + math.exp(-min(30.0, v))), i) for c, (v, i) in best.items()}


@dataclass
class Candidate:
    """A (conflict, category) the story may state: the rules' terms of it, or a sentence the
    category model reads it in."""

    group: list[Term]
    prob: float  # the category model's best sentence probability
    rules: bool


def candidates(st: Story, probs: dict[str, tuple[float, int]], floor: float) -> dict[tuple[str, str], Candidate]:
    """The rules' pairs, and a pair for each category they lack that a sentence is at least
    `floor` likely to state. Only in a story the rules found a term in: added alone, the pair F1
    of the training folds rises a little but a passing mention gets terms (held out, no terms
    on 81 % of the no-term stories instead of 84 %)."""
    out = {key: Candidate(group, probs.get(key[1], (1.0, 0))[0], True)
           for key, group in pairs(st.terms).items()}
    if st.conflict is None or not st.terms:
        return out
    for cat, (p, i) in probs.items():
        if p < floor or (st.conflict, cat) in out:
            continue
        s = st.sents[i]
        places = sorted({pid for m in st.g.place_re.finditer(s.text) if (pid := st.g.place_for(m.group(0)))}) \
            if st.g.place_re is not None else []
        term = Term(conflict=st.conflict, category=cat, proposer="", stance="",
                    values={"places": places, "numbers": []}, responses=[], quote=s.text,
                    span=(s.start, s.end))
        out[(st.conflict, cat)] = Candidate([term], p, False)
    return out


def apply(model: Model, st: Story) -> list[Term]:
    """The story's terms as the model decides them from the rules' and its own candidates."""
    on = model.parts
    probs = category_probs(model, st)
    cands = candidates(st, probs, model.add_threshold if "add" in on else 2.0)
    if not cands or ("relevant" in on and model.relevant.prob(story_features(st, probs)) < model.relevant_threshold):
        return []
    out: list[Term] = []
    for cand in cands.values():
        group = cand.group
        if "keep" in on and model.keep.prob(pair_features(st, cand)) < model.keep_threshold:
            continue
        if "holder" in on or not cand.rules:
            scored = sorted(((model.holder.prob(holder_features(st, group, c)), c)
                             for c in holder_candidates(st, group) if c), reverse=True)
            if not scored:
                continue
            chosen = choose_holders(scored, {t.proposer for t in group}, model.extra_holder, model.rule_holder)
            owner = next((t.proposer for t in group if t.proposer and t.proposer != AGREEMENT
                          and _owns_trigger(st, t, t.proposer)), None)
            if owner is not None:
                # "Putin's Easter truce": the name that owns the term's very words holds it, and
                # an owned plan is no deal of both sides
                chosen = [owner] + [c for c in chosen if c not in (owner, AGREEMENT)]
            deal, offer = st.deal_offer()
            if AGREEMENT in chosen and not deal and offer and all(t.proposer != AGREEMENT for t in group):
                # a story that speaks of proposals and demands and of no deal reached or in force
                # has no deal to hold the term ("Israel refused to accept the Hamas demand")
                chosen = [c for c in chosen if c != AGREEMENT] or [c for _, c in scored if c != AGREEMENT][:1]
                if not chosen:
                    continue
        else:
            chosen = list(dict.fromkeys(t.proposer for t in group))
        for holder in chosen:
            base = next((t for t in group if t.proposer == holder), group[0])
            # the rules' stance where they gave this holder; where the model chose a new one, the
            # status the rules read of the deal (took effect, violated) or else the model's stance
            status = next((t.stance for t in group if t.stance in STATUS), None)
            stance = base.stance if base.proposer == holder and base.stance else \
                status if status and holder == AGREEMENT else model.stance.best(stance_features(st, base, holder))
            responses = [r for r in base.responses if r["actor"] != holder]
            values = base.values
            if values.get("party") == holder and holder != base.proposer:
                values = {k: v for k, v in values.items() if k != "party"}
            out.append(replace(base, proposer=holder, stance=stance, responses=responses, values=values))
    return carry_running(out)


def choose_holders(scored: list[tuple[float, str]], ruled: set[str], extra: float, rule: float) -> list[str]:
    """The likeliest holder, and any other at least `extra` likely (`rule`, when the rules chose
    it too): a term several actors hold. `scored` is (probability, actor), best first."""
    return [scored[0][1]] + [c for p, c in scored[1:] if p >= extra or (c in ruled and p >= rule)]


STATUS = frozenset(("in_effect", "violated"))  # stances that report a deal's state, not a position
