"""Fit the learned feed-stage relevance filter (`watcher.relevance_model`).

    python -m watcher.relevance_train ../shared/eval/dev eval/corpus \\
        --folds eval/folds.json --feeds ../shared/corpus            # writes the shipped model
    python -m watcher.relevance_train DIR... --folds F --feeds D -o relevance.json.gz

What it learns from, one row per feed item (headline + the lede's first two sentences, as a
news feed's description carries them and as `../shared/eval/chaineval` serves them):

- labelled articles: positive when the story states a term (`expected.terms`), negative
  when it does not (passing mentions: airlines, markets, sport, tariff truces, war news
  with no proposal);
- real feeds' items (`--feeds`, the feed corpus): weak negatives, weight BACKGROUND_WEIGHTS,
  all labelled "not about a term" except those the rules already let through (the model
  never decides those). Each feed file is one group and gets a fold from its path's hash.

The threshold is chosen inside the training data only: out-of-fold probabilities from an
inner cross-validation grouped by chain (the folds of `--folds`; a feed file's own fold),
then the threshold that lets through the most relevant stories while the no-term stories
let through stay at most NO_TERM_FACTOR x the rules' share and the real-feed items
let through grow by at most FEED_BUDGET of all items. The regularisation C is picked the
same way (inner recall at the chosen threshold), with the other settings of `SETTINGS`. Deterministic: same data, same weights.
Needs scikit-learn (`pip install -e '.[train]'`); applying the model does not.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from watcher.linear import Linear
from watcher.relevance_model import MODEL_FILE, RelevanceModel, features, name_index

PREFIXES = (False, True)  # with or without the ``p=`` stem features (chosen inside)
BACKGROUND_WEIGHTS = (0.5, 2.0)
FOCUS = (False, True)  # fit on every item, or on those the rules drop only (chosen inside)  # a real-feed item's weight as a negative (chosen inside)
NO_TERM_FACTOR = 2.0  # no-term stories let through: at most this times the rules' share
FEED_BUDGET = 0.02  # real-feed items let through: at most this share more than the rules
C_GRID = (0.3, 1.0, 3.0)
PRUNE = 0.01  # smaller weights are dropped from the shipped table
MIN_COUNT = 2  # a feature seen in fewer training rows is not used
K = 5


@dataclass
class Item:
    """One feed item as the filter sees it, with what we know of it."""

    title: str
    summary: str
    kind: str  # "relevant", "no_terms" (labelled) or "feed" (real-feed background)
    group: str  # chain (fold key) or feed file
    fold: int
    rules: bool  # the built-in topic rules let it through
    ident: str = ""

    @property
    def label(self) -> bool:
        return self.kind == "relevant"


def feed_summary(a: dict, limit: int = 300) -> str:
    """What a news feed's description carries: the lede's first two sentences.

    The lede is the first paragraph of 12 words or more that ends a sentence; labelled
    texts start with page furniture ("Skip to content", "22:45") no feed carries."""
    paras = [" ".join(p.split()) for p in a["text"].splitlines() if p.strip()]
    title = " ".join((a.get("title") or "").split()).lower()
    paras = [p for p in paras if p.lower() != title]
    lede = next((p for p in paras if len(p.split()) >= 12 and re.search(r"[.!?][\"'”’)]*$", p)),
                paras[0] if paras else "")
    text = " ".join(re.split(r"(?<=[.!?])\s+", lede)[:2])
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _rules(title: str, summary: str) -> bool:
    from watcher.relevance import default_scores

    return default_scores(title, summary).relevant


def labelled_items(arts: list[dict], folds: dict[str, dict]) -> list[Item]:
    """The labelled articles as feed items (title as the feed gives it, lede as summary)."""
    out = []
    for a in arts:
        f = folds[a["id"]]
        title, summary = a.get("title") or "", feed_summary(a)
        out.append(Item(title, summary, "relevant" if a["expected"]["terms"] else "no_terms",
                        f["chain"], int(f["fold"]), _rules(title, summary), a["id"]))
    return out


def feed_fold(name: str, k: int = K) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % k + 1


def feed_items(root: Path, k: int = K) -> list[Item]:
    """Every titled item of every feed under `root` that parses (duplicates by title and
    summary kept once), grouped by feed file."""
    from watcher.feeds import parse_feed

    out, seen = [], set()
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix in (".md", ".tsv", ".txt") or p.name.startswith(("LICENSE", "SOURCE")):
            continue
        try:
            parsed = parse_feed(p.read_bytes(), {}, "http://feeds.example/")
        except Exception:  # a feed the watcher cannot parse gives it no items either
            continue
        name = str(p.relative_to(root))
        for e in parsed.entries:
            key = (e.title.strip(), e.summary.strip()[:300])
            if not key[0] or key in seen:
                continue
            seen.add(key)
            out.append(Item(e.title, e.summary, "feed", name, feed_fold(name, k),
                            _rules(e.title, e.summary), name))
    return out


def gazetteer_tables() -> tuple[dict, dict, dict]:
    """Actor and conflict names from the shipped gazetteer, for the model's `g=` features."""
    from watcher.terms.gazetteer import load_gazetteer

    g = load_gazetteer()
    actors = {n: aid for aid, a in g.actors.items() for n in a.get("names", [])}
    conflicts = {n.lower(): cid for cid, c in g.conflicts.items() for n in c.get("names", [])}
    parties = {aid: sorted(cs) for aid, cs in sorted(g.actor_conflicts.items()) if cs}
    return (name_index(actors, lower=False), name_index(conflicts, lower=True), parties)


def _shell(tables: tuple[dict, dict, dict]) -> RelevanceModel:
    return RelevanceModel(Linear(["true"], [0.0], {}), 1.0, *tables, prefixes=True)


def _feats(items: list[Item], shell: RelevanceModel) -> list[list[str]]:
    return [features(i.title, i.summary, shell) for i in items]


def _without_prefixes(feats: list[list[str]]) -> list[list[str]]:
    return [[f for f in row if not f.startswith("p=")] for row in feats]


class Setting(NamedTuple):
    """What the inner cross-validation chooses besides the threshold."""

    prefixes: bool  # with the ``p=`` stem features
    c: float  # inverse L2 strength
    background: float  # a real-feed item's weight as a negative
    focus: bool  # fit on the items the rules drop only (the only ones the model decides)


SETTINGS = [Setting(p, c, bg, f) for p in PREFIXES for c in C_GRID for bg in BACKGROUND_WEIGHTS
            for f in FOCUS]


def _trainable(i: Item, focus: bool) -> bool:
    if focus:
        return not i.rules
    return not (i.kind == "feed" and i.rules)  # a feed item the rules pass: label unknown


def fit_linear(feats: list[list[str]], items: list[Item], setting: Setting) -> Linear:
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [(f, i) for f, i in zip(feats, items, strict=True) if _trainable(i, setting.focus)]
    counts: dict[str, int] = {}
    for f, _ in rows:
        for x in f:
            counts[x] = counts.get(x, 0) + 1
    keep = {x for x, n in counts.items() if n >= MIN_COUNT}
    vec = DictVectorizer(sort=True)
    x = vec.fit_transform([dict.fromkeys(sorted(set(f) & keep), 1) for f, _ in rows]).tocsr()
    y = np.array([i.label for _, i in rows])
    w = np.array([setting.background if i.kind == "feed" else 1.0 for _, i in rows])
    clf = LogisticRegression(C=setting.c, solver="lbfgs", max_iter=5000)
    clf.fit(x, y, sample_weight=w)
    names = vec.get_feature_names_out()
    weights = {str(n): [(0, float(v))] for n, v in zip(names, clf.coef_[0], strict=True) if abs(v) > PRUNE}
    return Linear(["true"], [float(clf.intercept_[0])], weights)


def real_feed(i: Item) -> bool:
    """An item of a real feed (`feeds/` of the corpus: news sites, blogs, podcasts), not of
    a parser's test fixture: the fetch budget is counted on these."""
    return i.kind == "feed" and i.group.startswith("feeds/")


_KINDS = (("relevant", lambda i: i.kind == "relevant"), ("no_terms", lambda i: i.kind == "no_terms"),
          ("feed", real_feed))  # the let-through rates measured, and the items each is over


def _rates(items: list[Item], passed: list[bool]) -> dict[str, float]:
    out = {}
    for kind, sel in _KINDS:
        got = [p for i, p in zip(items, passed, strict=True) if sel(i)]
        out[kind] = sum(got) / len(got) if got else 0.0
    return out


def choose_threshold(items: list[Item], probs: list[float]) -> tuple[float, dict]:
    """The threshold (from out-of-fold probabilities) with the best recall of relevant
    items under the let-through budgets; among equals, the highest (fewest fetches)."""
    base = _rates(items, [i.rules for i in items])
    cap_nt = NO_TERM_FACTOR * max(base["no_terms"], 1 / max(1, sum(i.kind == "no_terms" for i in items)))
    cap_feed = base["feed"] + FEED_BUDGET
    # the thresholds swept from the top: the items the model lets through at one are those of the
    # one before and the next ones in descending probability, counted in, not recounted
    kinds = [[k for k, sel in _KINDS if sel(i)] for i in items]
    totals = Counter(k for ks in kinds for k in ks)
    through = Counter(k for i, ks in zip(items, kinds, strict=True) if i.rules for k in ks)
    rest = sorted(((p, ks) for i, p, ks in zip(items, probs, kinds, strict=True) if not i.rules),
                  key=lambda x: -x[0])
    j = 0
    best: tuple[float, float, dict] | None = None
    for t in sorted({round(p, 4) for p in probs} | {1.0}, reverse=True):
        while j < len(rest) and rest[j][0] >= t:
            through.update(rest[j][1])
            j += 1
        r = {k: through[k] / totals[k] if totals[k] else 0.0 for k, _ in _KINDS}
        if r["no_terms"] > cap_nt or r["feed"] > cap_feed:
            continue
        if best is None or r["relevant"] > best[1]:
            best = (t, r["relevant"], r)
    assert best is not None  # t = 1.0 adds nothing to the rules, so it always qualifies
    return best[0], best[2]


def out_of_fold(items: list[Item], feats: list[list[str]], setting: Setting) -> list[float]:
    """Each item's probability from a model fitted on the other folds of `items`."""
    probs = [0.0] * len(items)
    for k in sorted({i.fold for i in items}):
        train = [j for j, i in enumerate(items) if i.fold != k]
        lin = fit_linear([feats[j] for j in train], [items[j] for j in train], setting)
        for j, i in enumerate(items):
            if i.fold == k:
                probs[j] = lin.prob(feats[j])
    return probs


def fit(items: list[Item], tables: tuple[dict, dict, dict]) -> RelevanceModel:
    """Setting and threshold by inner cross-validation over the folds of `items`, then the
    weights on all of `items`."""
    with_prefixes = _feats(items, _shell(tables))
    by_prefix = {True: with_prefixes, False: _without_prefixes(with_prefixes)}
    best = None
    for setting in SETTINGS:
        t, rates = choose_threshold(items, out_of_fold(items, by_prefix[setting.prefixes], setting))
        key = (rates["relevant"], -rates["feed"], -rates["no_terms"])
        if best is None or key > best[0]:
            best = (key, setting, t, rates)
    _, setting, t, rates = best
    model = RelevanceModel(fit_linear(by_prefix[setting.prefixes], items, setting), t, *tables,
                           prefixes=setting.prefixes)
    model.meta = {**setting._asdict(), "inner": {k: round(v, 4) for k, v in rates.items()},
                  "rows": {k: sum(i.kind == k for i in items) for k in ("relevant", "no_terms", "feed")}}
    return model


def heldout(items: list[Item], tables: tuple[dict, dict, dict]) -> tuple[list[float], list[bool], list[dict]]:
    """Outer cross-validation: for each fold, a model (C, threshold, weights) fitted on the
    other folds only; returns each item's held-out probability and decision (rules OR
    model) and each fold's chosen settings."""
    probs = [0.0] * len(items)
    passed = [False] * len(items)
    settings = []
    for k in sorted({i.fold for i in items}):
        train = [i for i in items if i.fold != k]
        model = fit(train, tables)
        settings.append({"fold": k, "threshold": model.threshold,
                         **{x: model.meta[x] for x in Setting._fields}})
        for j, i in enumerate(items):
            if i.fold == k:
                probs[j] = model.probability(i.title, i.summary)
                passed[j] = i.rules or probs[j] >= model.threshold
    return probs, passed, settings


def load_items(folders: list[Path], folds_file: Path, feeds: Path | None) -> list[Item]:
    arts = []
    for folder in folders:
        arts += [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    folds = json.loads(folds_file.read_text())["articles"]
    missing = [a["id"] for a in arts if a["id"] not in folds]
    if missing:
        raise SystemExit(f"{len(missing)} articles have no fold in {folds_file}: {missing[:5]}")
    items = labelled_items(arts, folds)
    return items + (feed_items(feeds) if feeds is not None else [])


def save(model: RelevanceModel, path: Path) -> None:
    data = json.dumps(model.to_json(), sort_keys=True, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(data, mtime=0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path, help="folders of labelled articles")
    ap.add_argument("--folds", type=Path, required=True, help="eval/folds.json")
    ap.add_argument("--feeds", type=Path, help="the real-feed corpus (background items)")
    ap.add_argument("-o", "--out", type=Path,
                    default=Path(str(resources.files("watcher").joinpath("data", MODEL_FILE))))
    args = ap.parse_args(argv)
    items = load_items(args.folders, args.folds, args.feeds)
    model = fit(items, gazetteer_tables())
    save(model, args.out)
    chosen = ", ".join(f"{k} {model.meta[k]}" for k in Setting._fields)
    print(f"fitted on {model.meta['rows']}: {chosen}, threshold {model.threshold:.4f}, "
          f"inner {model.meta['inner']}, {len(model.linear.weights)} weights -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
