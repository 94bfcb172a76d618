"""Extraction speed: articles per second on one core and milliseconds per 1,000 words.

    python bench/extraction_speed.py [DEV_DIR] [--rounds N] [--repeats R]

Runs over the labelled dev set (if present) and the seeds; the gazetteer is loaded once
before timing, as in the daemon.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus(dev: Path | None) -> list[str]:
    texts = [p.read_text() for p in sorted((ROOT / "seeds").glob("*.txt"))]
    if dev is not None and dev.is_dir():
        for p in sorted(dev.glob("*.json")):
            a = json.loads(p.read_text())
            texts.append(f"{a['title']}\n\n{a['text']}" if a.get("title") else a["text"])
    return texts


def main(argv: list[str] | None = None) -> int:
    from watcher.terms import extract, load_gazetteer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dev", nargs="?", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5,
                    help="time the rounds this many times; min and median are reported, since "
                         "other work on the machine makes single timings noisy")
    args = ap.parse_args(argv)
    texts = corpus(args.dev)
    load_gazetteer()
    for t in texts:  # warm caches (compiled lexicon)
        extract(t)
    words = sum(len(t.split()) for t in texts)
    secs: list[float] = []  # CPU seconds per round over the corpus
    for _ in range(max(1, args.repeats)):
        t0 = time.process_time()
        for _ in range(args.rounds):
            for t in texts:
                extract(t)
        secs.append((time.process_time() - t0) / args.rounds)
    best, med = min(secs), statistics.median(secs)
    n = len(texts)
    print(f"{n} articles, {words} words, {args.rounds} rounds x {len(secs)} repeats (min / median)")
    print(f"  articles/second/core  {n / best:8.1f} / {n / med:8.1f}")
    print(f"  ms per article        {1000 * best / n:8.2f} / {1000 * med / n:8.2f}")
    print(f"  ms per 1,000 words    {1000 * best / (words / 1000):8.2f} / {1000 * med / (words / 1000):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
