"""Changes along chains, held out: for each fold, fit the learned layer and the feed-stage
relevance filter on the other folds, then run the chain harness
(`../shared/eval/chaineval/run.py`, the user path through `watcher poll`) on that fold's
chains with those models ($WATCHER_TERMS_MODEL, $WATCHER_RELEVANCE_MODEL: the shipped
filter was fitted on every labelled article, the scored ones too).

    python bench/chains_heldout.py                  # dev and corpus chains, 5 folds
    python bench/chains_heldout.py --sets corpus --jobs 2
    python bench/chains_heldout.py --sets corpus --chains RU-UA-african-mission-2023 --per-article
    python bench/chains_heldout.py --without '13??'  # round 6 out of fitting and scoring

The harness reads only `NNN.json` and `**NNN**`: each set is copied to a scratch folder with
its four-digit ids renumbered into free three-digit ones (`eval/renumber.py`; labels
untouched), so every chain is scored; per-article rows and kept reports use the original ids.
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

from dataset import FOLDS, DatasetError, folder, id_matches, load, load_folds  # noqa: E402
from renumber import RenumberError, restore_ids, write_folder  # noqa: E402

RUN = ROOT.parent / "shared" / "eval" / "chaineval" / "run.py"
FEED_CORPUS = ROOT.parent / "shared" / "corpus"  # the real feeds the relevance filter learns background from
WATCHER = Path(sys.executable).parent / "watcher"
FIGURES = ("key_tp", "key_pred", "key_gold", "kind_tp", "kind_pred", "kind_gold")


def chain_run(labelled: Path, chains: list[str], model: str, jobs: int, out: Path, relevance: str) -> dict:
    """The harness on some chains of one (renumbered) folder with a model file ("none": the
    rules) and a feed filter fitted without them; its whole JSON report."""
    env = dict(os.environ, WATCHER_TERMS_MODEL=model, WATCHER_RELEVANCE_MODEL=relevance)
    cmd = [sys.executable, str(RUN), str(labelled), "--watcher", str(WATCHER),
           "--variants", "empty", "--chains", ",".join(chains), "--jobs", str(jobs), "--json", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if not out.exists():
        raise DatasetError(f"chaineval failed on {labelled}: {(done.stderr or done.stdout)[-500:]}")
    return json.loads(out.read_text())


def _f1(tp: int, pred: int, gold: int) -> float:
    p, r = (tp / pred if pred else 0.0), (tp / gold if gold else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="dev,corpus")
    ap.add_argument("--chains", help="comma-separated chain ids: only these (and only their folds are fitted)")
    ap.add_argument("--without", metavar="GLOB", action="append", default=[],
                    help="leave out the articles whose id matches, from fitting and scoring (repeatable)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rules", action="store_true", help="also run the rules alone on the same chains")
    ap.add_argument("--per-article", action="store_true", help="print the harness's per-article rows (original ids)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep each run's harness report here (original ids)")
    args = ap.parse_args(argv)
    if not RUN.exists():
        print(f"error: {RUN} is missing", file=sys.stderr)
        return 2
    sets = tuple(s for s in args.sets.split(",") if s)
    want = {c.strip() for c in (args.chains or "").split(",") if c.strip()}
    arts = [a for a in load(("dev", "corpus")) if not id_matches(a["id"], args.without)]
    if not any(a["_set"] in sets for a in arts):
        print(f"error: no article of {', '.join(sets)} is left once {' '.join(args.without)} is left out",
              file=sys.stderr)
        return 2
    folds = load_folds(arts)
    unknown = want - {a["chain"] for a in arts if a["_set"] in sets}
    if unknown:
        print(f"error: --chains: no such chain in {', '.join(sets)}: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        labelled, back = {}, {}
        for s in sets:
            labelled[s] = Path(tmp) / f"set-{s}"
            try:
                ids = write_folder(folder(s), labelled[s], {a["id"] for a in arts if a["_set"] == s})
            except RenumberError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            back[s] = {v: k for k, v in ids.items()}
            print(f"{s}: {len(ids)} four-digit ids renumbered to free three-digit ids for the harness", flush=True)
        return _run_folds(args, sets, want, arts, folds, labelled, back, Path(tmp))


def _run_folds(args: argparse.Namespace, sets: tuple[str, ...], want: set[str], arts: list[dict],
               folds: dict[str, dict], labelled: dict[str, Path], back: dict[str, dict[str, str]], tmp: Path) -> int:
    from watcher import relevance_train
    from watcher.terms.train import SHIPPED_PARTS, fit

    feed_items = [i for i in relevance_train.load_items([folder("dev"), folder("corpus")], FOLDS,
                                                        FEED_CORPUS if FEED_CORPUS.is_dir() else None)
                  if i.kind == "feed" or not id_matches(i.ident, args.without)]
    tables = relevance_train.gazetteer_tables()  # the same for every fold
    total: dict[str, Counter] = {"learned": Counter(), "rules": Counter()}
    for k in sorted({f["fold"] for f in folds.values()}):
        chains = {s: sorted({a["chain"] for a in arts if a["_set"] == s and folds[a["id"]]["fold"] == k
                             and (not want or a["chain"] in want)}) for s in sets}
        if not any(chains.values()):
            continue
        model = fit([a for a in arts if folds[a["id"]]["fold"] != k])
        model.parts = frozenset(SHIPPED_PARTS)
        path = tmp / f"model-{k}.json.gz"
        model.save(path)
        relevance = tmp / f"relevance-{k}.json.gz"
        relevance_train.save(relevance_train.fit([i for i in feed_items if i.fold != k], tables), relevance)
        for s in sets:
            if not chains[s]:
                continue
            runs = {"learned": str(path)} | ({"rules": "none"} if args.rules else {})
            for name, m in runs.items():
                report = restore_ids(chain_run(labelled[s], chains[s], m, args.jobs, tmp / f"{name}-{s}-{k}.json",
                                               str(relevance)), back[s])
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    (args.keep / f"{name}-{s}-fold{k}.json").write_text(json.dumps(report, indent=1))
                run = report["variants"]["empty"]
                fig = run["figures"]
                for key in FIGURES:
                    total[name][key] += fig[key]
                print(f"fold {k} {s:<7} {name:<8} key F1 {fig['key_f1']:.2f}  kind F1 {fig['kind_f1']:.2f}"
                      f"  ({len(chains[s])} chains, {fig['gold_changes']} gold changes)", flush=True)
                if args.per_article:
                    for x in run["per_article"]:
                        print(f"    {x['chain']:<34} {x['article']:>5} pos {x['position']:>2}  gold {x['gold']:>2}"
                              f"  gold keys {x['gold_keys']:>2}  project {x['project']:>2}  terms {x['terms']:>2}")
    for name, c in total.items():
        if c:
            print(f"held out, {name}: change key F1 {_f1(c['key_tp'], c['key_pred'], c['key_gold']):.3f}, "
                  f"kind F1 {_f1(c['kind_tp'], c['kind_pred'], c['kind_gold']):.3f} "
                  f"on {c['kind_gold']} gold changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
