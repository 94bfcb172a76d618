"""Score the term extractor against a labelled folder in the dev-set format.

    python bench/extraction.py /work/shared/eval/dev [--json out.json] [--cli] [--errors]

Each article is fed as "title\\n\\ntext" (the text alone when it has no title), exactly as
../shared/eval/dev/README.md defines, and compared as sets per article, micro-averaged:
F1 on (conflict, category) pairs, strict F1 on (conflict, category, proposer) triples,
proposer accuracy (labelled triples whose pair was predicted, share with the right
proposer), and on matched triples stance accuracy and place F1 (micro over place ids).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def load(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def article_input(a: dict) -> str:
    return f"{a['title']}\n\n{a['text']}" if a.get("title") else a["text"]


def predict_library(arts: list[dict]) -> list[list[dict]]:
    from watcher.terms import extract

    return [[t.to_json() for t in extract(article_input(a)).terms] for a in arts]


def predict_cli(arts: list[dict]) -> list[list[dict]]:
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


def score(arts: list[dict], preds: list[list[dict]]) -> tuple[dict, list[str]]:
    c = Counter()
    cat = {}
    errors: list[str] = []
    for a, pred in zip(arts, preds, strict=True):
        gold = a["expected"]["terms"]
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
            d = cat.setdefault(k[1], Counter())
            d["tp" if k in gp and k in pp else "fp" if k in pp else "fn"] += 1
        for k in gt:
            if k[:2] in pp:
                c["prop_n"] += 1
                c["prop_ok"] += k in pt
                if k not in pt:
                    got = sorted(x[2] for x in pt if x[:2] == k[:2])
                    errors.append(f"{a['id']} PROPOSER {k[1]}: gold {k[2]} got {got}")
            else:
                errors.append(f"{a['id']} MISS {k[1]}/{k[2]} || {gt[k].get('evidence')}")
        for k in pt.keys() - gt.keys():
            if k[:2] not in gp:
                errors.append(f"{a['id']} EXTRA {k[1]}/{k[2]} || {pt[k]['quote'][:110]}")
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
    figures = {
        "articles": len(arts),
        "f1": _f1(c["pair_tp"], c["pair_fp"], c["pair_fn"])[2],
        "pair_precision": _f1(c["pair_tp"], c["pair_fp"], c["pair_fn"])[0],
        "pair_recall": _f1(c["pair_tp"], c["pair_fp"], c["pair_fn"])[1],
        "strict_f1": _f1(c["tri_tp"], c["tri_fp"], c["tri_fn"])[2],
        "proposer_accuracy": c["prop_ok"] / c["prop_n"] if c["prop_n"] else 0.0,
        "stance_accuracy": c["stance_ok"] / c["stance_n"] if c["stance_n"] else 0.0,
        "place_f1": _f1(c["pl_tp"], c["pl_fp"], c["pl_fn"])[2],
        "counts": dict(c),
        "categories": {k: dict(v) for k, v in sorted(cat.items())},
    }
    return figures, errors


def print_table(f: dict) -> None:
    print(f"articles {f['articles']}")
    for k in ("f1", "pair_precision", "pair_recall", "strict_f1", "proposer_accuracy",
              "stance_accuracy", "place_f1"):
        print(f"  {k:<18} {f[k]:.3f}")
    print(f"\n  {'category':<28}{'tp':>4}{'fp':>4}{'fn':>4}{'f1':>7}")
    rows = []
    for k, d in f["categories"].items():
        tp, fp, fn = d.get("tp", 0), d.get("fp", 0), d.get("fn", 0)
        rows.append((_f1(tp, fp, fn)[2], k, tp, fp, fn))
    for f1, k, tp, fp, fn in sorted(rows):
        print(f"  {k:<28}{tp:>4}{fp:>4}{fn:>4}{f1:>7.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--cli", action="store_true", help="run `python -m watcher extract --json`")
    ap.add_argument("--errors", action="store_true", help="list misses, extras and mismatches")
    args = ap.parse_args(argv)
    arts = load(args.folder)
    preds = predict_cli(arts) if args.cli else predict_library(arts)
    figures, errors = score(arts, preds)
    print_table(figures)
    if args.errors:
        print("\n" + "\n".join(errors))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
