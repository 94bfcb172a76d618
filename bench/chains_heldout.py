"""Changes along chains, held out: for each fold, fit the learned layer and the feed-stage
relevance filter on the other folds, then run the chain harness
(`../shared/eval/chaineval/run.py`, the user path through `watcher poll`) on that fold's
chains with those models ($WATCHER_TERMS_MODEL, $WATCHER_RELEVANCE_MODEL: the shipped
filter was fitted on every labelled article, the scored ones too).

    python bench/chains_heldout.py                  # dev and corpus chains, 5 folds
    python bench/chains_heldout.py --sets corpus --jobs 2

Prints per fold and, micro-averaged over all folds, change key F1 and kind F1 (literal gold)
for the `empty` variant (every labelled article arrives as news), beside the same harness
with the rules alone ($WATCHER_TERMS_MODEL=none) when --rules is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "eval"))
sys.path.insert(0, str(ROOT))

from dataset import FOLDS, DatasetError, folder, load, load_folds  # noqa: E402

RUN = ROOT.parent / "shared" / "eval" / "chaineval" / "run.py"
FEED_CORPUS = ROOT.parent / "shared" / "corpus"  # the real feeds the relevance filter learns background from
WATCHER = Path(sys.executable).parent / "watcher"


def chain_run(set_name: str, chains: list[str], model: str, jobs: int, out: Path, relevance: str) -> dict:
    """The harness on some chains of one set with a model file ("none": the rules) and a
    feed filter fitted without them."""
    env = dict(os.environ, WATCHER_TERMS_MODEL=model, WATCHER_RELEVANCE_MODEL=relevance)
    cmd = [sys.executable, str(RUN), str(folder(set_name)), "--watcher", str(WATCHER),
           "--variants", "empty", "--chains", ",".join(chains), "--jobs", str(jobs), "--json", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if not out.exists():
        raise DatasetError(f"chaineval failed on {set_name}: {done.stderr[-500:]}")
    return json.loads(out.read_text())["variants"]["empty"]["figures"]


def _f1(tp: int, pred: int, gold: int) -> float:
    p, r = (tp / pred if pred else 0.0), (tp / gold if gold else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="dev,corpus")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rules", action="store_true", help="also run the rules alone on the same chains")
    args = ap.parse_args(argv)
    if not RUN.exists():
        print(f"error: {RUN} is missing", file=sys.stderr)
        return 2
    from watcher import relevance_train
    from watcher.terms.train import SHIPPED_PARTS, fit

    sets = tuple(s for s in args.sets.split(",") if s)
    arts = load(("dev", "corpus"))
    folds = load_folds(arts)
    feed_items = relevance_train.load_items([folder("dev"), folder("corpus")], FOLDS,
                                            FEED_CORPUS if FEED_CORPUS.is_dir() else None)
    tables = relevance_train.gazetteer_tables()  # the same for every fold
    total: dict[str, Counter] = {"learned": Counter(), "rules": Counter()}
    with tempfile.TemporaryDirectory() as tmp:
        for k in sorted({f["fold"] for f in folds.values()}):
            model = fit([a for a in arts if folds[a["id"]]["fold"] != k])
            model.parts = frozenset(SHIPPED_PARTS)
            path = Path(tmp) / f"model-{k}.json.gz"
            model.save(path)
            relevance = Path(tmp) / f"relevance-{k}.json.gz"
            relevance_train.save(relevance_train.fit([i for i in feed_items if i.fold != k], tables), relevance)
            for s in sets:
                # the harness reads NNN.json only: the corpus's four-digit rounds (10NN-12NN) are
                # outside it, and a chain of theirs alone is unknown to it
                chains = sorted({a["chain"] for a in arts if a["_set"] == s and folds[a["id"]]["fold"] == k
                                 and len(a["id"]) == 3})
                if not chains:
                    continue
                runs = {"learned": str(path)} | ({"rules": "none"} if args.rules else {})
                for name, m in runs.items():
                    fig = chain_run(s, chains, m, args.jobs, Path(tmp) / f"{name}-{s}-{k}.json", str(relevance))
                    for key in ("key_tp", "key_pred", "key_gold", "kind_tp", "kind_pred", "kind_gold"):
                        total[name][key] += fig[key]
                    print(f"fold {k} {s:<7} {name:<8} key F1 {fig['key_f1']:.2f}  kind F1 {fig['kind_f1']:.2f}"
                          f"  ({len(chains)} chains)", flush=True)
    for name, c in total.items():
        if c:
            print(f"held out, {name}: change key F1 {_f1(c['key_tp'], c['key_pred'], c['key_gold']):.3f}, "
                  f"kind F1 {_f1(c['kind_tp'], c['kind_pred'], c['kind_gold']):.3f} "
                  f"on {c['kind_gold']} gold changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
