"""The feed-stage relevance filter, held out: topic rules vs rules OR the learned model.

    python bench/relevance.py            # held-out table, real-feed let-through, cost per entry
    python bench/relevance.py --misses   # also list the relevant stories still dropped

Every item is what a news feed carries: the headline and the lede's first two sentences
(`watcher.relevance_train.feed_summary`, as ../shared/eval/chaineval serves them).
Held out: for each of the 5 folds of eval/folds.json (chains never split), a model — its
regularisation, threshold and weights — is fitted on the other four folds only (the
threshold by an inner cross-validation inside them), then scores that fold. Real-feed items
(../shared/corpus, parsed by the watcher) are folded by feed file the same way. Needs
scikit-learn (the `train` extra). The cost figures time `score_entries` over the same
items with the model on and off, as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher import relevance_train as rt  # noqa: E402

FOLDERS = [ROOT.parent / "shared" / "eval" / "dev", ROOT / "eval" / "corpus"]
FEEDS = ROOT.parent / "shared" / "corpus"


NEWS_FEEDS = ("guardian.rss", "reuters.xml", "huffpost.xml", "tpm.atom")  # general news in feeds/


@lru_cache(maxsize=1)
def labelled_items() -> list[rt.Item]:
    """The labelled stories and real feed items, read once: `heldout` and `cost` both use them."""
    return rt.load_items(FOLDERS, ROOT / "eval" / "folds.json", FEEDS if FEEDS.is_dir() else None)


def _count(items: list[rt.Item], passed: list[bool], kind: str, real: bool = False) -> tuple[int, int]:
    def chosen(i: rt.Item) -> bool:
        if kind == "news":
            return i.kind == "feed" and i.group.endswith(NEWS_FEEDS)
        return i.kind == kind and (not real or rt.real_feed(i))

    sel = [p for i, p in zip(items, passed, strict=True) if chosen(i)]
    return sum(sel), len(sel)


def _cell(n: int, d: int) -> str:
    return f"{n}/{d} ({n / d:.3f})" if d else "–"


def heldout(misses: bool = False) -> dict:
    """The held-out table; returns its figures."""
    items = labelled_items()
    probs, passed, settings = rt.heldout(items, rt.gazetteer_tables())
    rules = [i.rules for i in items]
    rows = [("relevant stories let through (recall)", "relevant", False),
            ("no-term stories let through", "no_terms", False),
            ("real-feed items let through (all)", "feed", False),
            ("real-feed items let through (feeds/: news, blogs)", "feed", True),
            ("  of which general-news feeds (Guardian, Reuters, HuffPost, TPM)", "news", True)]
    out: dict = {"settings": settings}
    print(f"{'held out, 5 folds by chain':52} {'rules':>18} {'rules + model':>18}")
    for label, kind, real in rows:
        a, b = _count(items, rules, kind, real), _count(items, passed, kind, real)
        out[label] = {"rules": a, "rules+model": b}
        print(f"{label:52} {_cell(*a):>18} {_cell(*b):>18}")
    print("per fold (chosen inside its training folds): " + "; ".join(
        f"{s['fold']}: C {s['c']}, background {s['background']}, prefixes {s['prefixes']}, "
        f"focus {s['focus']}, threshold {s['threshold']:.3f}" for s in settings))
    if misses:
        print("\nrelevant stories still dropped (held-out probability):")
        for i, p, ok in zip(items, probs, passed, strict=True):
            if i.kind == "relevant" and not ok:
                print(f"  {i.ident} {p:.3f} {i.title[:100]}")
        print("\nlet through by the model only (not relevant):")
        for i, p, ok in zip(items, probs, passed, strict=True):
            if i.kind != "relevant" and ok and not i.rules:
                print(f"  {i.kind:8} {p:.3f} {i.title[:100]}")
    out["items"] = len(items)
    return out


def cost(repeat: int = 5) -> dict:
    """µs per entry of score_entries with the model off and on (shipped model), and the ratio."""
    from watcher.relevance import default_topic, score_entries
    from watcher.relevance_model import load

    items = labelled_items()
    fields = [(i.title, i.summary, "") for i in items]
    t0 = time.perf_counter()
    load()
    load_ms = (time.perf_counter() - t0) * 1e3
    res = {}
    for name, topic in (("rules", default_topic(model=False)), ("rules+model", default_topic())):
        score_entries(fields[:10], [topic])  # compile and warm
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            score_entries(fields, [topic])
            best = min(best, time.perf_counter() - t)
        res[name] = best / len(fields) * 1e6
    negatives = sum(not i.rules for i in items)
    print(f"\ncost per entry over {len(fields)} items ({negatives} the rules drop, which the model "
          f"scores): rules {res['rules']:.1f} µs, rules + model {res['rules+model']:.1f} µs "
          f"(x{res['rules+model'] / res['rules']:.1f}); model load once per process {load_ms:.0f} ms")
    return {"us_per_entry": res, "load_ms": load_ms}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true")
    args = ap.parse_args(argv)
    heldout(args.misses)
    cost()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
