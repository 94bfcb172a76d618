"""Write `eval/folds.json`: a fold for every labelled article, a chain never split.

    python eval/folds.py          # assign articles without a fold; assigned ones never move
    python eval/folds.py --check  # exit 1 when an article has no fold or a chain is split

See eval/dataset.py for the rule.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict

from dataset import FOLDS, DatasetError, K, assign, fold_key, load


def problems(arts: list[dict], folds: dict[str, dict]) -> list[str]:
    out = [f"{a['id']}: no fold" for a in arts if a["id"] not in folds]
    by_chain: dict[str, set] = defaultdict(set)
    for f in folds.values():
        by_chain[fold_key(f["chain"])].add((f["fold"], f["conflict"]))
    out += [f"chain {c} is split: {sorted(v)}" for c, v in by_chain.items() if len(v) > 1]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    try:
        arts = load()
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    existing = json.loads(FOLDS.read_text())["articles"] if FOLDS.exists() else {}
    if args.check:
        msgs = problems(arts, existing)
        print("\n".join(msgs) or f"{len(arts)} articles, every one in a fold, no chain split")
        return 1 if msgs else 0
    folds = assign(arts, existing)
    FOLDS.write_text(json.dumps({"k": K, "rule": "chains never split; see eval/dataset.py",
                                 "articles": dict(sorted(folds.items()))}, indent=1) + "\n")
    sizes = Counter(f["fold"] for f in folds.values())
    print(f"{len(folds)} articles in {K} folds: " + ", ".join(f"{k}: {sizes[k]}" for k in sorted(sizes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
