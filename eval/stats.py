"""Count what the corpus holds, as eval/corpus/README.md reports it.

    python eval/stats.py          # markdown tables on stdout
"""

from __future__ import annotations

from collections import Counter

from dataset import CORPUS, load_folder, primary_conflict


def main() -> int:
    arts = load_folder(CORPUS)
    n = len(arts)
    conflicts = Counter(primary_conflict(a) for a in arts)
    years = Counter(a["date"][:4] for a in arts)
    genres = Counter(a["genre"] for a in arts)
    tags = Counter(t for a in arts for t in set(a["tags"]))
    chains = Counter(a["chain"] for a in arts)
    long_chains = sorted(c for c, k in chains.items() if k >= 3)
    terms = [t for a in arts for t in a["expected"]["terms"]]
    outside = sum(1 for a in arts if primary_conflict(a) not in ("russia-ukraine", "israel-hamas"))
    stances = Counter(t["stance"] for t in terms)
    status = sum(1 for a in arts if {"deal", "in_effect", "violated", "collapsed"} & set(a["tags"])
                 or any(t["proposer"] == "agreement" or t["stance"] in ("in_effect", "violated")
                        for t in a["expected"]["terms"]))
    rejections = sum(1 for a in arts if {"rejection", "counter_proposal"} & set(a["tags"])
                     or any(r["stance"] == "rejected" for t in a["expected"]["terms"] for r in t["responses"])
                     or any(t["stance"] == "rejected" for t in a["expected"]["terms"]))
    print(f"| articles | {n} |\n|---|---|")
    print(f"| terms | {len(terms)} |")
    print(f"| conflicts (primary) | {len([c for c in conflicts if c != 'none'])} |")
    print(f"| articles outside russia-ukraine and israel-hamas | {outside} |")
    print(f"| chains of 3 or more articles | {len(long_chains)} ({sum(chains[c] for c in long_chains)} articles) |")
    print(f"| no-term articles | {sum(1 for a in arts if not a['expected']['terms'])} |")
    print(f"| live blogs, round-ups, op-eds, analysis | {sum(genres[g] for g in ('live', 'roundup', 'oped', 'analysis'))} |")
    print(f"| with a rejection or counter-proposal | {rejections} |")
    print(f"| with a deal concluded, in effect, violated or collapsed | {status} |")
    print(f"| with a hypothetical | {tags['hypothetical']} |")
    print(f"| passing mentions (airlines, markets, sport, trade 'truces') | {tags['passing_mention']} |")
    print("\n| conflict | articles |\n|---|---|")
    for c, k in conflicts.most_common():
        print(f"| {c} | {k} |")
    print("\n| year | articles |\n|---|---|")
    for y in sorted(years):
        print(f"| {y} | {years[y]} |")
    print("\n| genre | articles |\n|---|---|")
    for g, k in genres.most_common():
        print(f"| {g} | {k} |")
    print("\n| stance | terms |\n|---|---|")
    for s, k in stances.most_common():
        print(f"| {s} | {k} |")
    print("\n| proposer | terms |\n|---|---|")
    for p, k in Counter(t["proposer"] for t in terms).most_common(12):
        print(f"| {p} | {k} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
