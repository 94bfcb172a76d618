"""The learned feed-stage relevance filter: is a feed item (headline and summary) worth
fetching and reading, when the topic rules say no?

The rules (`watcher.relevance`) list phrases; news states proposals in words no list holds
("grain deal", "moratorium", "disarmament plan"), and a story the feed stage drops is never
fetched, so it is lost for good. This model scores what the rules let drop: a logistic
regression over sparse binary features of the item —

- words of the headline (``t=``) and of headline and summary (``w=``), word pairs (``b=``),
  and when the training chose it, a long word's first letters (``p=``: "disar", "morat");
- the built-in ceasefire topic's matched phrases (``r=``) and its score band (``rs=``);
- gazetteer hits: how many actors are named, whether two parties of one conflict are
  (``g=``), a conflict's name (``g=conflict``), from a name table taken from
  `watcher.terms.gazetteer` at training time (the gazetteer itself is not loaded here).

An entry is relevant when the rules say so OR the model's probability reaches the shipped
threshold (chosen inside the training folds, see `watcher.relevance_train`). The weights
are a plain table (`watcher.linear.Linear`) in ``data/relevance.json.gz``, loaded
once per process; applying it is a tokenisation and a few dozen dictionary look-ups
(microseconds), with no scikit-learn or numpy. The feed stage applies it to every entry
the rules reject, so `RelevanceModel.passes` takes what the rules computed (the words, the
built-in topic's verdict) and skips the gazetteer look-up for an item that cannot reach the
threshold whatever it finds: the same decisions as the feature table, a fraction of the
cost (``tests/test_relevance_model_fast.py``).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import pairwise, repeat
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.linear import Linear, sigmoid
from watcher.relevance import SUMMARY_CHARS

if TYPE_CHECKING:
    from watcher.models import Relevance

MODEL_FILE = "relevance.json.gz"
PREFIX = 5  # letters of a long word kept as its stem feature (``p=``)
# the model was fitted on two-sentence summaries: a long one is cut at SUMMARY_CHARS (600)

_Index = dict[str, list[tuple[tuple[str, ...], str]]]


@dataclass
class RelevanceModel:
    """The weight table, its threshold and the name tables its gazetteer features use."""

    linear: Linear
    threshold: float
    actors: _Index = field(default_factory=dict)  # first word (as cased) -> [(rest, actor id)]
    conflicts: _Index = field(default_factory=dict)  # first word (lower) -> [(rest, conflict id)]
    parties: dict[str, list[str]] = field(default_factory=dict)  # actor id -> its conflicts
    meta: dict = field(default_factory=dict)
    prefixes: bool = True  # also a word's first PREFIX letters ("disarm" of "disarmament")

    def __post_init__(self) -> None:
        # the weights split by feature kind and keyed by the raw word (or word pair), so
        # scoring an item builds no feature strings: `probability` equals
        # `linear.prob(features(...))`, about five times faster
        self._by_kind: dict[str, dict] = {"t": {}, "w": {}, "b": {}, "p": {}, "other": {}}
        for name, row in self.linear.weights.items():
            w = sum(v for i, v in row if i == 0)
            kind, _, key = name.partition("=")
            if kind == "b":
                a, _, b = key.partition("_")
                self._by_kind["b"][(a, b)] = w
            elif kind in ("t", "w", "p"):
                self._by_kind[kind][key] = w
            else:
                self._by_kind["other"][name] = w
        self._actor_names = _by_last(self.actors)
        self._conflict_names = _by_last(self.conflicts)
        # the gate's name tables: by the lowered last word, each name's lowered words as a set
        # (a cased name found in the cased words has every lowered word among the lowered words)
        self._actor_lasts = _lowered_by_last(self._actor_names)
        self._conflict_lasts = _lowered_by_last(self._conflict_names)
        self._prefix_of: dict[str, str] = {}  # word -> its weighted prefix, or ""
        # The gate: the most the gazetteer features (g=) can add to the linear score, and the
        # score an item must reach. An item whose other features, plus that, stay below it
        # cannot pass, so its gazetteer hits need not be looked for. "The most they can add"
        # is taken from the names whose every word is among the item's words (a superset of
        # those `_hits` finds): a name's last word alone ("a" of "Rada'a", "groups") would
        # let most items through.
        other = self._by_kind["other"]
        pos = lambda f: max(0.0, other.get(f, 0.0))  # noqa: E731
        self._g_actor, self._g_title, self._g_two = pos("g=actor"), pos("g=actor_title"), pos("g=two_parties")
        self._g_count = (pos("g=actors1"), max(pos("g=actors1"), pos("g=actors2")),
                         max(pos("g=actors1"), pos("g=actors2"), pos("g=actors3+")))
        self._conflict_max = pos("g=conflict")
        self._g_most = self._g_actor + self._g_title + self._g_two + self._g_count[2] + self._conflict_max
        t = self.threshold
        self._z_needed = math.inf if t >= 1 else -math.inf if t <= 0 else math.log(t / (1 - t))

    def probability(self, title: str, summary: str) -> float:
        """P(the item is about a term) from the title and the summary."""
        return sigmoid(self._z(title, summary, None, gate=False))

    def passes(self, title: str, summary: str, rules: Relevance | None = None,
               words: tuple[list[str], list[str]] | None = None) -> tuple[bool, float]:
        """Whether the item reaches the threshold, and its probability: the same decision as
        ``probability(...) >= threshold``, cheaper. What the caller has computed already can
        be given: ``rules``, the built-in topic's verdict on this title and summary
        (``default_scores``), and ``words``, the title's and the summary's words as the
        rules read them (``_words(text.lower())``, of the summary cut at SUMMARY_CHARS).
        An item that provably cannot reach the threshold without its gazetteer features is
        decided without them; the probability returned for it is then only an upper bound."""
        z = self._z(title, summary, rules, gate=True, words=words)
        p = sigmoid(z)
        return p >= self.threshold, p

    def _z(self, title: str, summary: str, rules: Relevance | None, gate: bool,
           words: tuple[list[str], list[str]] | None = None) -> float:
        """The linear score. With ``gate``, an upper bound when it cannot reach the threshold."""
        from watcher.relevance import _words

        summary = summary[:SUMMARY_CHARS]
        t_cased = s_cased = None
        if title.isascii() and summary.isascii():
            # the words of the lowered text are the lowered words (ASCII: lower() maps
            # letters to letters), as the rules tokenised them; the cased ones only if the
            # gazetteer is looked up
            t, s = words or (_words(title.lower()), _words(summary.lower()))
        else:
            t_cased, s_cased = _words(title), _words(summary)
            t, s = _lower(t_cased), _lower(s_cased)
        kinds = self._by_kind
        ws = set(t).union(s)
        # each feature kind: the weighted keys present (a set: each once), then their sum
        tk, wk, bk = kinds["t"], kinds["w"], kinds["b"]
        pairs = bk.keys() & pairwise(s)
        pairs.update(bk.keys() & pairwise(t))
        z = self.linear.bias[0]
        z += sum(map(tk.__getitem__, tk.keys() & t))
        z += sum(map(wk.__getitem__, wk.keys() & ws))
        z += sum(map(bk.__getitem__, pairs))
        if self.prefixes:
            z += self._prefix_score(ws)
        other = kinds["other"]
        feats = _rule_features(rules if rules is not None else _default_scores(title, summary))
        if gate:
            # a cased name's last word, lowered, is among the lowered words where it occurs
            bound = z + sum(map(other.get, feats, repeat(0.0)))
            if bound + self._g_most + _SLACK < self._z_needed:  # short of it whatever names
                return bound + self._g_most
            if not self._actor_lasts.keys().isdisjoint(ws):
                bound += self._actor_bound(ws, t)
            if not self._conflict_lasts.keys().isdisjoint(ws) and _candidates(ws, self._conflict_lasts):
                bound += self._conflict_max
            if bound + _SLACK < self._z_needed:
                return bound
        if t_cased is None or s_cased is None:
            t_cased, s_cased = _words(title), _words(summary)
        feats |= _gazetteer_features(t, s, t_cased, s_cased, self)
        return z + sum(map(other.get, feats, repeat(0.0)))

    def _actor_bound(self, ws: set[str], t: list[str]) -> float:
        """The most the actor features can add to an item with lowered words ``ws`` (title's:
        ``t``): each feature only if some set of the candidate actors can produce it."""
        ids = _candidates(ws, self._actor_lasts)
        if not ids:
            return 0.0
        bound = self._g_actor + self._g_count[min(len(ids), 3) - 1]
        if self._g_title and _candidates(set(t), self._actor_lasts):
            bound += self._g_title
        if self._g_two:  # one actor may list a conflict twice: no test of len(ids) > 1
            seen: set[str] = set()
            for a in ids:  # as `_gazetteer_features` tests it, on a superset of the actors found
                for c in self.parties.get(a, ()):
                    if c in seen:
                        return bound + self._g_two
                    seen.add(c)
        return bound

    def _prefix_score(self, ws: set[str]) -> float:
        """The ``p=`` features' sum: each distinct weighted prefix of a word longer than
        PREFIX letters, once. A word's prefix key is remembered ("" when it has no weight),
        so a word seen before costs one look-up (news repeats its words)."""
        memo = self._prefix_of
        new = ws.difference(memo)
        if new:
            if len(memo) > _MEMO_WORDS:  # a new table, not cleared: another thread may read the old
                memo = self._prefix_of = {}
                new = ws
            weights = self._by_kind["p"]
            for w in new:
                memo[w] = w[:PREFIX] if len(w) > PREFIX and w[:PREFIX] in weights else ""
        keys = set(map(memo.__getitem__, ws))
        keys.discard("")
        return sum(map(self._by_kind["p"].__getitem__, keys))

    def to_json(self) -> dict:
        return {
            "linear": self.linear.to_json(),
            "threshold": round(self.threshold, 5),
            "actors": _flat(self.actors),
            "conflicts": _flat(self.conflicts),
            "parties": self.parties,
            "meta": self.meta,
            "prefixes": self.prefixes,
        }

    @classmethod
    def from_json(cls, d: dict) -> RelevanceModel:
        return cls(
            Linear.from_json(d["linear"]),
            float(d["threshold"]),
            _index(d["actors"]),
            _index(d["conflicts"]),
            d["parties"],
            d.get("meta", {}),
            bool(d.get("prefixes", False)),
        )


def name_index(names: dict[str, str], lower: bool) -> _Index:
    """Names (e.g. "Vladimir Putin" -> russia) indexed by first word, as `features` scans."""
    from watcher.relevance import _words

    index: _Index = {}
    for name, ident in sorted(names.items()):
        words = _words(name.lower() if lower else name)
        if words:
            index.setdefault(words[0], []).append((tuple(words[1:]), ident))
    return index


def _flat(index: _Index) -> dict[str, str]:
    return {" ".join((first, *rest)): ident for first, items in index.items() for rest, ident in items}


def _index(flat: dict[str, str]) -> _Index:
    index: _Index = {}
    for name, ident in flat.items():
        words = name.split(" ")
        index.setdefault(words[0], []).append((tuple(words[1:]), ident))
    return index


_Names = dict[str, list[tuple[tuple[str, ...], str]]]  # last word -> [(all words, id)]


def _by_last(index: _Index) -> _Names:
    """The names of a first-word index keyed by their last word instead: "the" starts many
    names and nearly every item, a last word ("Taliban") few items, so the common case, no
    name present, is one set test."""
    out: _Names = {}
    for first, items in index.items():
        for rest, ident in items:
            words = (first, *rest)
            out.setdefault(words[-1], []).append((words, ident))
    return out


_Lowered = dict[str, list[tuple[frozenset[str], str]]]  # lowered last word -> [(lowered words, id)]


def _lowered_by_last(names: _Names) -> _Lowered:
    out: _Lowered = {}
    for items in names.values():
        for words, ident in items:
            lowered = _lower(list(words))
            out.setdefault(lowered[-1], []).append((frozenset(lowered), ident))
    return out


def _candidates(ws: set[str], names: _Lowered) -> set[str]:
    """The ids of the names whose every lowered word is in ``ws``: a superset of what
    ``_hits`` finds in the words ``ws`` was made of (or of their cased forms)."""
    return {ident for last in names.keys() & ws for lowered, ident in names[last] if lowered <= ws}


def _hits(words: list[str], names: _Names) -> set[str]:
    """The ids of the names that occur in `words` as a run of whole words."""
    found: set[str] = set()
    if names.keys().isdisjoint(words):
        return found
    for last in names.keys() & set(words):
        for name, ident in names[last]:
            if ident in found:
                continue
            k = len(name) - 1
            if k == 0:
                found.add(ident)
                continue
            j = k - 1
            while True:  # each place the last word stands with k words before it
                try:
                    j = words.index(last, j + 1)
                except ValueError:
                    break
                if tuple(words[j - k : j + 1]) == name:
                    found.add(ident)
                    break
    return found


def _band(score: float) -> str:
    if score <= 0:
        return "rs=0"
    return "rs=low" if score < 1.0 else "rs=pass"


_MEMO_WORDS = 200_000  # distinct words remembered for their prefix (~20 MB at most)
_SLACK = 1e-9  # the gate's margin for rounding: it declines only what falls short by more


def _lower(words: list[str]) -> list[str]:
    """``[w.lower() for w in words]`` in one call: a word holds no space and lower() makes
    none, and a space ends a word for lower()'s final-sigma rule as the end of a string does."""
    return " ".join(words).lower().split(" ") if words else []


def _default_scores(title: str, summary: str) -> Relevance:
    from watcher.relevance import default_scores

    return default_scores(title, summary)


def _rule_features(rel: Relevance) -> set[str]:
    """The built-in topic's verdict as features: its score band and its matched phrases."""
    out = {"bias", _band(rel.score)}
    for m in rel.matched:
        out.add("r=" + m.split(":", 1)[1])
    return out


def _gazetteer_features(t: list[str], s: list[str], t_cased: list[str], s_cased: list[str],
                        model: RelevanceModel) -> set[str]:
    """Actors named (how many, in the title, two parties of one conflict), a conflict named."""
    out: set[str] = set()
    actors = _hits(t_cased, model._actor_names)
    actors_t = len(actors)
    actors |= _hits(s_cased, model._actor_names)
    if actors:
        out.add("g=actor")
        out.add("g=actors" + (str(len(actors)) if len(actors) < 3 else "3+"))
        if actors_t:
            out.add("g=actor_title")
        seen: set[str] = set()
        for a in actors:
            for c in model.parties.get(a, ()):
                if c in seen:
                    out.add("g=two_parties")
                seen.add(c)
    if _hits(t, model._conflict_names) or _hits(s, model._conflict_names):
        out.add("g=conflict")
    return out


def features(title: str, summary: str, model: RelevanceModel | None = None) -> list[str]:
    """The item's features (strings) for training; `model` supplies the gazetteer tables."""
    from watcher.relevance import _words

    summary = summary[:SUMMARY_CHARS]
    t_cased, s_cased = _words(title), _words(summary)
    t = [w.lower() for w in t_cased]
    s = [w.lower() for w in s_cased]
    out = _rule_features(_default_scores(title, summary))
    if model is not None:
        out |= _gazetteer_features(t, s, t_cased, s_cased, model)
    out.update("t=" + w for w in t)
    out.update("w=" + w for w in t)
    out.update("w=" + w for w in s)
    for words in (t, s):
        out.update(f"b={a}_{b}" for a, b in zip(words, words[1:], strict=False))
    if model is None or model.prefixes:
        out.update("p=" + w[:PREFIX] for w in (*t, *s) if len(w) > PREFIX)
    return list(out)


@lru_cache(maxsize=1)
def load() -> RelevanceModel:
    """The model the feed stage uses, read once per process (never the network): the
    package's, or the file named by $WATCHER_RELEVANCE_MODEL (one `relevance_train -o`
    wrote; "none": the rules alone). The shipped one was fitted on every labelled article,
    so a held-out run of the pipeline over them names one fitted without the scored fold."""
    chosen = os.environ.get("WATCHER_RELEVANCE_MODEL")
    if chosen is not None and chosen.lower() in ("", "none"):
        return RelevanceModel(Linear(["relevant"], [0.0]), threshold=math.inf)  # passes nothing
    if chosen is not None:
        raw = Path(chosen).read_bytes()
    else:
        raw = resources.files("watcher").joinpath("data", MODEL_FILE).read_bytes()
    return RelevanceModel.from_json(json.loads(gzip.decompress(raw)))
