"""A sparse linear model applied as a plain weight table: the form every learned part ships in.

Fitted with scikit-learn at training time only (`watcher.terms.train`,
`watcher.relevance_train`); at run time a prediction is a few dictionary look-ups, so neither
the feed stage nor the extractor needs numpy or scikit-learn. It lives outside `watcher.terms`
so that the feed-stage filter can use it without loading the extractor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field


def sigmoid(z: float) -> float:
    """The logistic function, its argument clamped to +-30 (no overflow; 1e-13 is zero here)."""
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class Linear:
    """A binary (one row) or multi-class (a row per class) linear model over string features.

    Weights are sparse: a feature maps to (class index, weight) pairs, only those that
    matter (training drops the near-zero ones), so the shipped tables stay small and load
    fast."""

    classes: list[str]
    bias: list[float]
    weights: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def scores(self, feats: Iterable[str]) -> list[float]:
        s = list(self.bias)
        get = self.weights.get
        for f in feats:
            for i, v in get(f, ()):
                s[i] += v
        return s

    def prob(self, feats: Iterable[str]) -> float:
        """P(positive) of a binary model."""
        return sigmoid(self.scores(feats)[0])

    def best(self, feats: Iterable[str]) -> str:
        s = self.scores(feats)
        return self.classes[max(range(len(s)), key=s.__getitem__)]

    def to_json(self) -> dict:
        return {"classes": self.classes, "bias": [round(b, 5) for b in self.bias],
                "weights": {k: [[i, round(w, 4)] for i, w in v] for k, v in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, d: dict) -> Linear:
        return cls(d["classes"], d["bias"], d["weights"])  # [index, weight] lists serve as pairs
