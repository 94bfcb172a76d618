"""Score term extraction held out: k-fold by chain, leave-one-conflict-out, and the dev set.

    python bench/extraction.py                       # today's rules on dev + corpus
    python bench/extraction.py --extractor learned   # fitted on training folds only
    python bench/extraction.py --folder DIR --extractor shipped   # a new folder, as the package reads it
    python bench/extraction.py --agreement A B       # labels in B scored against labels in A
    python bench/extraction.py --relevance           # the feed-stage relevance filter
    options: --errors (list them), --json FILE, --sets dev,corpus, --cli (through `watcher extract`)

Each article is read as "title\\n\\ntext" and compared with its labels as sets per article,
micro-averaged (../shared/eval/dev/README.md): F1 on (conflict, category) pairs, strict F1
on (conflict, category, proposer) triples, proposer accuracy (labelled triples whose pair
was predicted: share with the right proposer), and on matched triples stance accuracy and
place F1. Also: the share of no-term articles given no term.

Held out: an extractor configuration that learns is fitted on the other folds of
`eval/folds.json` (a chain is never split) and scored on the held-out fold; for
leave-one-conflict-out, on every other conflict group. The "dev (in-sample)" column is the
configuration fitted on everything and scored on the dev set: the figure a tuned rule set
shows, to be read beside the held-out ones, never instead of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "eval"))
sys.path.insert(0, str(ROOT))

from dataset import DatasetError, article_input, id_matches, load, load_folder, load_folds  # noqa: E402

LOCO_MIN = 10  # a conflict group needs this many articles to be held out on its own


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _as_of(a: dict) -> dt.datetime | None:
    from watcher.terms.train import story_date

    return story_date(a)


# --- extractor configurations: fit on training articles, predict the others ---------------

class Rules:
    """The hand-written rules alone: nothing to fit."""

    def fit(self, arts: list[dict]) -> None:
        pass

    def predict(self, arts: list[dict]) -> list[list[dict]]:
        from watcher.terms import extract

        return [[t.to_json() for t in extract(article_input(a), as_of=_as_of(a), model=None).terms]
                for a in arts]


class Learned:
    """The extractor with its learned parts fitted on the given articles only."""

    def __init__(self) -> None:
        self.model = None

    def fit(self, arts: list[dict]) -> None:
        import os

        from watcher.terms.train import SHIPPED_PARTS, fit

        self.model = fit(arts)
        # the parts that decide: those that ship, or an ablation's (LEARNED_PARTS=holder,keep,...)
        self.model.parts = frozenset(os.environ.get("LEARNED_PARTS", ",".join(SHIPPED_PARTS)).split(","))
        print(f"fitted on {len(arts)}: add >= {self.model.add_threshold}, holder C {self.model.meta.get('holder_c')}",
              file=sys.stderr)

    def predict(self, arts: list[dict]) -> list[list[dict]]:
        from watcher.terms import extract

        return [[t.to_json() for t in extract(article_input(a), as_of=_as_of(a), model=self.model).terms]
                for a in arts]


class Shipped(Rules):
    """The extractor as it ships (the rules and the package's trained model); fitting nothing,
    so only for folders it was not trained on."""

    def predict(self, arts: list[dict]) -> list[list[dict]]:
        from watcher.terms import extract

        return [[t.to_json() for t in extract(article_input(a), as_of=_as_of(a)).terms] for a in arts]


class Cli(Rules):
    """The shipped extractor through `python -m watcher extract --json`, as a user runs it."""

    def predict(self, arts: list[dict]) -> list[list[dict]]:
        with tempfile.TemporaryDirectory() as d:
            files = []
            for a in arts:
                p = Path(d) / f"{a['id']}.txt"
                p.write_text(article_input(a))
                files.append(str(p))
            out = subprocess.run([sys.executable, "-m", "watcher", "extract", *files, "--json"],
                                 capture_output=True, text=True, check=False)
            rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
            by_input = {Path(r["input"]).stem: r.get("terms", []) for r in rows}
            return [by_input.get(a["id"], []) for a in arts]


EXTRACTORS: dict[str, Callable[[], object]] = {"rules": Rules, "learned": Learned, "shipped": Shipped, "cli": Cli}


# --- scoring ------------------------------------------------------------------------------

def score(arts: list[dict], preds: list[list[dict]]) -> tuple[dict, list[str]]:
    """The figures of predictions against labels, with one line per error."""
    c: Counter = Counter()
    cat: dict[str, Counter] = {}
    conf: dict[str, Counter] = {}
    errors: list[str] = []
    for a, pred in zip(arts, preds, strict=True):
        gold = a["expected"]["terms"]
        if not gold:
            c["noterm_n"] += 1
            c["noterm_ok"] += not pred
            if pred:
                errors.append(f"{a['id']} NOTERM got {sorted({t['category'] for t in pred})}")
        gp = {(t["conflict"], t["category"]) for t in gold}
        pp = {(t["conflict"], t["category"]) for t in pred}
        gt = {(t["conflict"], t["category"], t["proposer"]): t for t in gold}
        pt: dict = {}
        for t in pred:
            pt.setdefault((t["conflict"], t["category"], t["proposer"]), t)
        c["pair_tp"] += len(gp & pp)
        c["pair_fp"] += len(pp - gp)
        c["pair_fn"] += len(gp - pp)
        c["tri_tp"] += len(gt.keys() & pt.keys())
        c["tri_fp"] += len(pt.keys() - gt.keys())
        c["tri_fn"] += len(gt.keys() - pt.keys())
        for k in gp | pp:
            outcome = "tp" if k in gp and k in pp else "fp" if k in pp else "fn"
            cat.setdefault(k[1], Counter())[outcome] += 1
            conf.setdefault(k[0], Counter())[outcome] += 1
        for k in gt.keys() | pt.keys():
            outcome = "tp" if k in gt and k in pt else "fp" if k in pt else "fn"
            conf.setdefault(k[0], Counter())["s" + outcome] += 1
        for k in gt:
            if k[:2] in pp:
                c["prop_n"] += 1
                c["prop_ok"] += k in pt
                if k not in pt:
                    got = sorted(x[2] for x in pt if x[:2] == k[:2])
                    errors.append(f"{a['id']} PROPOSER {k[0]}/{k[1]}: gold {k[2]} got {got} || {gt[k].get('evidence')}")
            else:
                errors.append(f"{a['id']} MISS {k[0]}/{k[1]}/{k[2]} || {gt[k].get('evidence')}")
        for k in pt.keys() - gt.keys():
            if k[:2] not in gp:
                quote = pt[k].get("quote") or pt[k].get("evidence") or ""
                errors.append(f"{a['id']} EXTRA {k[0]}/{k[1]}/{k[2]} || {quote[:110]}")
        for k in gt.keys() & pt.keys():
            g, p = gt[k], pt[k]
            c["stance_n"] += 1
            c["stance_ok"] += g["stance"] == p["stance"]
            if g["stance"] != p["stance"]:
                errors.append(f"{a['id']} STANCE {k[1]}/{k[2]}: gold {g['stance']} got {p['stance']}")
            gpl = set(g.get("values", {}).get("places", []))
            ppl = set(p.get("values", {}).get("places", []))
            c["pl_tp"] += len(gpl & ppl)
            c["pl_fp"] += len(ppl - gpl)
            c["pl_fn"] += len(gpl - ppl)
            if gpl != ppl:
                errors.append(f"{a['id']} PLACES {k[1]}/{k[2]}: gold {sorted(gpl)} got {sorted(ppl)}")
    p, r, f = _f1(c["pair_tp"], c["pair_fp"], c["pair_fn"])
    figures = {
        "articles": len(arts),
        "f1": f,
        "pair_precision": p,
        "pair_recall": r,
        "strict_f1": _f1(c["tri_tp"], c["tri_fp"], c["tri_fn"])[2],
        "proposer_accuracy": c["prop_ok"] / c["prop_n"] if c["prop_n"] else 0.0,
        "stance_accuracy": c["stance_ok"] / c["stance_n"] if c["stance_n"] else 0.0,
        "place_f1": _f1(c["pl_tp"], c["pl_fp"], c["pl_fn"])[2],
        "no_term_clean": c["noterm_ok"] / c["noterm_n"] if c["noterm_n"] else None,
        "counts": dict(c),
        "categories": {k: dict(v) for k, v in sorted(cat.items())},
        "conflicts": {k: dict(v) for k, v in sorted(conf.items())},
    }
    return figures, errors


HEAD = ("pair_precision", "pair_recall", "f1", "strict_f1", "proposer_accuracy", "stance_accuracy", "place_f1", "no_term_clean")
SHORT = {"pair_precision": "P", "pair_recall": "R", "f1": "F1", "strict_f1": "strict", "proposer_accuracy": "proposer",
         "stance_accuracy": "stance", "place_f1": "place", "no_term_clean": "no-term"}


def _fmt(v: float | None) -> str:
    return "  —  " if v is None else f"{v:.3f}"


def print_summary(rows: list[tuple[str, dict]]) -> None:
    print(f"{'':<30}{'n':>5} " + " ".join(f"{SHORT[k]:>8}" for k in HEAD))
    for name, f in rows:
        print(f"{name:<30}{f['articles']:>5} " + " ".join(f"{_fmt(f[k]):>8}" for k in HEAD))


def print_breakdown(f: dict) -> None:
    print(f"\n  {'category':<28}{'tp':>4}{'fp':>4}{'fn':>4}{'f1':>7}")
    rows = []
    for k, d in f["categories"].items():
        tp, fp, fn = d.get("tp", 0), d.get("fp", 0), d.get("fn", 0)
        rows.append((_f1(tp, fp, fn)[2], k, tp, fp, fn))
    for f1, k, tp, fp, fn in sorted(rows):
        print(f"  {k:<28}{tp:>4}{fp:>4}{fn:>4}{f1:>7.2f}")
    print(f"\n  {'conflict':<28}{'pairs tp/fp/fn':>16}{'F1':>7}{'strict':>8}")
    for k, d in sorted(f["conflicts"].items(), key=lambda kv: -sum(kv[1].values())):
        g = d.get
        print(f"  {k:<28}{g('tp', 0):>6}/{g('fp', 0):>3}/{g('fn', 0):>3}"
              f"{_f1(g('tp', 0), g('fp', 0), g('fn', 0))[2]:>10.2f}"
              f"{_f1(g('stp', 0), g('sfp', 0), g('sfn', 0))[2]:>8.2f}")


# --- the evaluations ------------------------------------------------------------------------

def _fresh(name: str) -> object:
    return EXTRACTORS[name]()


def held_out(name: str, arts: list[dict], folds: dict[str, dict], key: str,
             groups: list) -> list[list[dict]]:
    """Predictions for every article from a configuration fitted without its group."""
    preds: dict[str, list[dict]] = {}
    for g in groups:
        test = [a for a in arts if folds[a["id"]][key] == g]
        if not test:
            continue
        train = [a for a in arts if folds[a["id"]][key] != g]
        ex = _fresh(name)
        ex.fit(train)
        for a, p in zip(test, ex.predict(test), strict=True):
            preds[a["id"]] = p
    return [preds[a["id"]] for a in arts if a["id"] in preds]


def benchmark(name: str, sets: tuple[str, ...], show_errors: bool, quick: bool = False,
              without: tuple[str, ...] = ()) -> dict:
    arts = [a for a in load(sets) if not id_matches(a["id"], without)]
    if not arts:
        raise DatasetError(f"no article of {','.join(sets)} is left once {' '.join(without)} is left out")
    folds = load_folds(arts)
    k = max(f["fold"] for f in folds.values())
    kfold = held_out(name, arts, folds, "fold", list(range(1, k + 1)))
    sizes = Counter(folds[a["id"]]["conflict"] for a in arts)
    loco_groups = [] if quick else sorted(g for g, n in sizes.items() if n >= LOCO_MIN and g != "none")
    loco_arts = [a for a in arts if folds[a["id"]]["conflict"] in loco_groups]
    loco = held_out(name, arts, folds, "conflict", loco_groups)
    full = _fresh(name)
    if not quick:
        full.fit(arts)
    rows: list[tuple[str, dict]] = []
    out: dict = {"extractor": name, "sets": list(sets)}
    figs, errors = score(arts, kfold)
    rows.append((f"held out, {k}-fold by chain", figs))
    out["kfold"] = figs
    for s in sets:
        sub = [(a, p) for a, p in zip(arts, kfold, strict=True) if a["_set"] == s]
        f, _ = score([a for a, _ in sub], [p for _, p in sub])
        rows.append((f"  of which {s}", f))
        out[f"kfold_{s}"] = f
    if loco_groups:
        f, _ = score(loco_arts, loco)
        rows.append(("held out, one conflict out", f))
        out["loco"] = f
    per_conflict = {}
    for g in loco_groups:
        sub = [(a, p) for a, p in zip(loco_arts, loco, strict=True) if folds[a["id"]]["conflict"] == g]
        per_conflict[g], _ = score([a for a, _ in sub], [p for _, p in sub])
    out["loco_per_conflict"] = per_conflict
    if "dev" in sets and not quick:
        dev = [a for a in arts if a["_set"] == "dev"]
        f, _ = score(dev, full.predict(dev))
        rows.append(("dev (in-sample)", f))
        out["dev_in_sample"] = f
    print(f"extractor: {name}; articles: " + ", ".join(
        f"{s} {sum(a['_set'] == s for a in arts)}" for s in sets))
    print_summary(rows)
    print("\nleave-one-conflict-out, per conflict group held out:")
    print_summary([(g, per_conflict[g]) for g in loco_groups])
    print(f"\nheld out ({k}-fold), per category and per conflict:")
    print_breakdown(figs)
    if show_errors:
        print("\n" + "\n".join(errors))
    return out


def relevance(sets: tuple[str, ...]) -> dict:
    """The feed-stage filter on the feed item alone: headline and a two-sentence summary;
    the topic rules here, then rules vs rules + the learned model held out (bench/relevance.py)."""
    from watcher.relevance import default_topic, score_entry
    from watcher.relevance_train import feed_summary

    arts = load(sets)
    topic = [default_topic(model=False)]
    c: Counter = Counter()
    dropped = []
    for a in arts:
        rel = score_entry(a.get("title") or "", feed_summary(a), "", topic).relevant
        kind = "relevant" if a["expected"]["terms"] else "no_terms"
        c[kind] += 1
        c[f"{kind}_through"] += rel
        if kind == "relevant" and not rel:
            dropped.append(f"{a['id']} {(a.get('title') or '')[:100]}")
    out = {k: c[f"{k}_through"] / c[k] if c[k] else None for k in ("relevant", "no_terms")}
    print(f"rules: relevant articles let through: {c['relevant_through']} of {c['relevant']}"
          f" ({_fmt(out['relevant'])}); no-term articles let through: "
          f"{c['no_terms_through']} of {c['no_terms']} ({_fmt(out['no_terms'])})")
    print("dropped by the rules:\n  " + "\n  ".join(dropped) + "\n")
    sys.path.insert(0, str(ROOT / "bench"))
    from relevance import heldout

    out["heldout"] = heldout()
    return out


def agreement(first: Path, second: Path) -> dict:
    """Labels of a second labeller scored against the first's, article by article."""
    a = {x["id"]: x for x in load_folder(first)}
    b = {x["id"]: x for x in load_folder(second)}
    common = sorted(a.keys() & b.keys())
    if not common:
        raise DatasetError(f"{first} and {second} share no article id")
    figs, errors = score([a[i] for i in common], [b[i]["expected"]["terms"] for i in common])
    print(f"agreement on {len(common)} articles ({second} scored against {first})")
    print_summary([("second vs first", figs)])
    print_breakdown(figs)
    return {"figures": figs, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extractor", choices=sorted(EXTRACTORS), default="rules")
    ap.add_argument("--sets", default="dev,corpus", help="which labelled sets (dev, corpus)")
    ap.add_argument("--folder", type=Path, help="score one folder as it is, no fitting")
    ap.add_argument("--agreement", nargs=2, type=Path, metavar=("FIRST", "SECOND"))
    ap.add_argument("--relevance", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list misses, extras and mismatches")
    ap.add_argument("--quick", action="store_true", help="k-fold only (no leave-one-conflict-out, no in-sample)")
    ap.add_argument("--cli", action="store_true", help="same as --extractor cli")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--without", metavar="GLOB", action="append", default=[],
                    help="leave out the articles whose id matches, from fitting and scoring (e.g. "
                         "'13??': round 6 of the corpus, kept as a never-seen test)")
    ap.add_argument("--only", metavar="GLOB", action="append", default=[],
                    help="score only the articles of --sets whose id matches, as they are, no "
                         "fitting (e.g. --extractor shipped --only '13??': the never-seen rounds)")
    args = ap.parse_args(argv)
    sets = tuple(s for s in args.sets.split(",") if s)
    name = "cli" if args.cli else args.extractor
    try:
        if args.agreement:
            out = agreement(*args.agreement)
            if args.errors:
                print("\n" + "\n".join(out["errors"]))
        elif args.relevance:
            out = relevance(sets)
        elif args.folder or args.only:
            if args.folder:
                arts, label = load_folder(args.folder), str(args.folder)
            else:
                if name == "learned":
                    raise DatasetError("--only scores as it is: use --extractor shipped, rules or cli")
                arts, label = [a for a in load(sets) if id_matches(a["id"], args.only)], " ".join(args.only)
                if not arts:
                    raise DatasetError(f"no article of {args.sets} has an id matching {label}")
                if args.without:  # `--only '1???' --without '13??'`: both hold
                    arts = [a for a in arts if not id_matches(a["id"], args.without)]
                    label += " without " + " ".join(args.without)
                    if not arts:
                        raise DatasetError(f"no article of {args.sets} matching {label} is left")
            out, errors = score(arts, _fresh(name).predict(arts))
            print_summary([(label, out)])
            print_breakdown(out)
            if args.errors:
                print("\n" + "\n".join(errors))
        else:
            out = benchmark(name, sets, args.errors, args.quick, tuple(args.without))
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
