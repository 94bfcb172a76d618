"""How the learned extractor's held-out figures grow with the labelled articles it learns
from: would more labels help?

    python bench/learning_curve.py                 # fractions 0.25 0.5 0.75 1 of the training chains
    python bench/learning_curve.py --fractions 0.5 1 --json curve.json

For every fold of `eval/folds.json` the model is fitted on a fraction of the *other* folds'
chains (whole chains, drawn by a fixed hash of the chain id, so a smaller fraction's chains
are inside every larger one's) and scored on the held-out fold, as `bench/extraction.py
--extractor learned` does with all of them. The held-out articles are the same at every
fraction; only what the model learns from shrinks. The rules alone are the floor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from extraction import Learned, Rules, load, load_folds, print_summary, score  # noqa: E402


def _share(chain: str) -> float:
    """A fixed number in [0, 1) for a chain: the order in which chains join the training set."""
    return int(hashlib.sha256(chain.encode()).hexdigest()[:8], 16) / 16**8


def curve(fractions: list[float], sets: tuple[str, ...] = ("dev", "corpus")) -> dict:
    arts = load(sets)
    folds = load_folds(arts)
    k = max(f["fold"] for f in folds.values())
    rows, out = [], {}
    rules = Rules()
    figs, _ = score(arts, rules.predict(arts))
    rows.append(("rules alone (no learning)", figs))
    out["rules"] = figs
    for frac in fractions:
        preds: dict[str, list[dict]] = {}
        trained = []
        for fold in range(1, k + 1):
            test = [a for a in arts if folds[a["id"]]["fold"] == fold]
            train = [a for a in arts if folds[a["id"]]["fold"] != fold
                     and _share(folds[a["id"]]["chain"]) < frac]
            trained.append(len(train))
            ex = Learned()
            ex.fit(train)
            for a, p in zip(test, ex.predict(test), strict=True):
                preds[a["id"]] = p
        figs, _ = score(arts, [preds[a["id"]] for a in arts])
        label = f"learned on {frac:.0%} of training chains (~{sum(trained) // len(trained)} articles)"
        rows.append((label, figs))
        out[str(frac)] = {**figs, "train_articles": trained}
    print(f"held out, {k}-fold by chain, {len(arts)} articles ({', '.join(sets)})")
    print_summary(rows)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    out = curve(args.fractions)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
