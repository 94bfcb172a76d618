"""The labelled articles and their fixed folds: what every held-out figure is computed over.

Two sets: `dev` (`../shared/eval/dev/`, the 45 articles the rules were written against) and
`corpus` (`eval/corpus/`, this project's labelled reporting). `eval/folds.json` fixes, for
every article of both, a fold (1..K) such that a chain is never split, and a conflict group
for leave-one-conflict-out. `python eval/folds.py` assigns folds to articles that have none
and never moves an assigned one, so figures stay comparable as the corpus grows.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus"
DEV = ROOT.parent / "shared" / "eval" / "dev"
FOLDS = HERE / "folds.json"
K = 5
SETS = ("dev", "corpus")


# Chains of the corpus that report the same negotiation as a dev chain under another name:
# they share a fold with it, so no held-out figure is scored on a story whose twin it trained on.
SAME_STORY = {
    "DRC-doha-2025": "DRC-M23-doha-2025",
    "YE-un-truce-renewal-2022": "YE-un-truce-apr-2022",
    "YE-un-expanded-truce-oct-2022": "YE-un-truce-apr-2022",
    "RU-UA-energy-truce-2025": "RU-UA-black-sea-2025",
    "IL-HAMAS-witkoff-2025": "IL-HAMAS-witkoff-may-2025",
}


def fold_key(chain: str) -> str:
    """What a fold is assigned to: the chain, across both sets (the same chain id in dev
    and corpus is one negotiation), with SAME_STORY's twins joined."""
    return SAME_STORY.get(chain, chain)


class DatasetError(Exception):
    """A labelled folder is missing or empty, or the folds do not cover it."""


def folder(name: str) -> Path:
    return {"dev": DEV, "corpus": CORPUS}[name]


def load_folder(path: Path) -> list[dict]:
    """Every labelled article of a folder (NNN.json / any .json but the fingerprints)."""
    if not path.is_dir():
        raise DatasetError(f"{path}: no such folder of labelled articles")
    arts = [json.loads(p.read_text()) for p in sorted(path.glob("*.json"))]
    if not arts:
        raise DatasetError(f"{path}: holds no labelled articles (*.json)")
    return arts


def load(sets: tuple[str, ...] = SETS) -> list[dict]:
    """The articles of the named sets, each with `_set` saying which."""
    out = []
    for s in sets:
        for a in load_folder(folder(s)):
            a["_set"] = s
            out.append(a)
    return out


def primary_conflict(a: dict) -> str:
    """The conflict an article is about, for leave-one-conflict-out: its first labelled
    term's conflict, else its first listed conflict, else 'none'."""
    terms = a["expected"]["terms"]
    if terms:
        return Counter(t["conflict"] for t in terms).most_common(1)[0][0]
    return (a["expected"].get("conflicts") or ["none"])[0]


def assign(arts: list[dict], existing: dict[str, dict] | None = None, k: int = K) -> dict[str, dict]:
    """Folds for every article: kept where assigned, new chains to the emptiest fold.

    A fold key (`fold_key`) is never split; a chain's conflict group is its articles' most common primary conflict, so a chain is
    never split by either split."""
    existing = dict(existing or {})
    chains: dict[str, list[dict]] = defaultdict(list)
    for a in arts:
        chains[fold_key(a["chain"])].append(a)
    size = Counter()
    chain_fold: dict[str, int] = {}
    for key, members in chains.items():
        folds = {existing[a["id"]]["fold"] for a in members if a["id"] in existing}
        if folds:
            chain_fold[key] = min(folds)
            size[chain_fold[key]] += len(members)
    new = sorted((k_ for k_ in chains if k_ not in chain_fold),
                 key=lambda c: (-len(chains[c]), hashlib.sha1(c.encode()).hexdigest()))
    for key in new:
        fold = min(range(1, k + 1), key=lambda f: (size[f], f))
        chain_fold[key] = fold
        size[fold] += len(chains[key])
    out = {}
    for key, members in chains.items():
        group = Counter(primary_conflict(a) for a in members).most_common(1)[0][0]
        for a in members:
            out[a["id"]] = {"set": a["_set"], "chain": a["chain"], "fold": chain_fold[key],
                            "conflict": group}
    return out


def load_folds(arts: list[dict]) -> dict[str, dict]:
    """The fixed folds, checked to cover these articles."""
    if not FOLDS.exists():
        raise DatasetError(f"{FOLDS} is missing: run python eval/folds.py")
    folds = json.loads(FOLDS.read_text())["articles"]
    missing = [a["id"] for a in arts if a["id"] not in folds]
    if missing:
        raise DatasetError(f"{len(missing)} articles have no fold ({', '.join(missing[:5])}…): "
                           "run python eval/folds.py")
    return folds


def id_matches(ident: str, globs: Iterable[str]) -> bool:
    """Whether an article id matches any of the shell globs (`'13??'`: round 6): how the
    benches' --only and --without name a round by its ids."""
    return any(fnmatch.fnmatchcase(ident, g) for g in globs)


def article_input(a: dict) -> str:
    """What an extractor reads: the headline, a blank line, the text (dev README)."""
    return f"{a['title']}\n\n{a['text']}" if a.get("title") else a["text"]
