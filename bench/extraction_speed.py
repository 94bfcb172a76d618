"""Extraction speed: articles per second on one core and milliseconds per 1,000 words.

    python bench/extraction_speed.py [DEV_DIR] [--rounds N]

Runs over the labelled dev set (if present) and the seeds; the gazetteer is loaded once
before timing, as in the daemon.
"""

from __future__ import annotations

import argparse
import json
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
    args = ap.parse_args(argv)
    texts = corpus(args.dev)
    load_gazetteer()
    for t in texts:  # warm caches (compiled lexicon)
        extract(t)
    words = sum(len(t.split()) for t in texts)
    t0 = time.process_time()
    for _ in range(args.rounds):
        for t in texts:
            extract(t)
    cpu = time.process_time() - t0
    n = len(texts) * args.rounds
    print(f"{len(texts)} articles, {words} words, {args.rounds} rounds")
    print(f"  articles/second/core  {n / cpu:8.1f}")
    print(f"  ms per article        {1000 * cpu / n:8.2f}")
    print(f"  ms per 1,000 words    {1000 * cpu / (words * args.rounds / 1000):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
