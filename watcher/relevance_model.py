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
(microseconds), with no scikit-learn or numpy.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import repeat
from pathlib import Path

from watcher.linear import Linear

MODEL_FILE = "relevance.json.gz"
PREFIX = 5  # letters of a long word kept as its stem feature (``p=``)
SUMMARY_CHARS = 600  # the model was fitted on two-sentence summaries: a long one is cut

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

    def probability(self, title: str, summary: str) -> float:
        """P(the item is about a term) from the title and the summary."""
        from watcher.relevance import _words

        summary = summary[:SUMMARY_CHARS]
        t_cased, s_cased = _words(title), _words(summary)
        t = [w.lower() for w in t_cased]
        s = [w.lower() for w in s_cased]
        kinds = self._by_kind
        t_set = set(t)
        pairs = set(zip(t, t[1:], strict=False))
        pairs.update(zip(s, s[1:], strict=False))
        z = self.linear.bias[0]
        z += sum(map(kinds["t"].get, t_set, repeat(0.0)))
        z += sum(map(kinds["w"].get, t_set.union(s), repeat(0.0)))
        z += sum(map(kinds["b"].get, pairs, repeat(0.0)))
        if self.prefixes:
            z += sum(map(kinds["p"].get, {w[:PREFIX] for w in t_set.union(s) if len(w) > PREFIX},
                         repeat(0.0)))
        other = kinds["other"]
        z += sum(map(other.get, _other_features(title, summary, t, s, t_cased, s_cased, self),
                     repeat(0.0)))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def passes(self, title: str, summary: str) -> tuple[bool, float]:
        p = self.probability(title, summary)
        return p >= self.threshold, p

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


def _hits(words: list[str], index: _Index) -> set[str]:
    found: set[str] = set()
    if index.keys().isdisjoint(words):
        return found
    n = len(words)
    for i, w in enumerate(words):
        for rest, ident in index.get(w, ()):
            k = len(rest)
            if k == 0 or (i + k < n and tuple(words[i + 1 : i + 1 + k]) == rest):
                found.add(ident)
    return found


def _band(score: float) -> str:
    if score <= 0:
        return "rs=0"
    return "rs=low" if score < 1.0 else "rs=pass"


def features(title: str, summary: str, model: RelevanceModel | None = None) -> list[str]:
    """The item's features (strings) for training; `model` supplies the gazetteer tables."""
    from watcher.relevance import _words

    summary = summary[:SUMMARY_CHARS]
    t_cased, s_cased = _words(title), _words(summary)
    t = [w.lower() for w in t_cased]
    s = [w.lower() for w in s_cased]
    out = set(_other_features(title, summary, t, s, t_cased, s_cased, model))
    out.update("t=" + w for w in t)
    out.update("w=" + w for w in t)
    out.update("w=" + w for w in s)
    for words in (t, s):
        out.update(f"b={a}_{b}" for a, b in zip(words, words[1:], strict=False))
    if model is None or model.prefixes:
        out.update("p=" + w[:PREFIX] for w in (*t, *s) if len(w) > PREFIX)
    return list(out)


def _other_features(title: str, summary: str, t: list[str], s: list[str], t_cased: list[str],
                    s_cased: list[str], model: RelevanceModel | None) -> set[str]:
    """The features that are not words: the rules' verdict and the gazetteer hits."""
    from watcher.relevance import default_scores

    rel = default_scores(title, summary)
    out = {"bias", _band(rel.score)}
    for m in rel.matched:
        out.add("r=" + m.split(":", 1)[1])
    if model is not None:
        actors = _hits(t_cased, model.actors)
        actors_t = len(actors)
        actors |= _hits(s_cased, model.actors)
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
        if _hits(t, model.conflicts) or _hits(s, model.conflicts):
            out.add("g=conflict")
    return out


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
