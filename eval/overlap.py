"""Check that corpus articles are rewritten, not copied: no run of more than 8 words shared
with the original, except runs made of names, titles, dates and numbers.

The originals are not kept in the repository (their sentences are not ours); what is kept is
a fingerprint of each: the hashes of every 9-word window of the original
(`eval/shingles.json`). A window of the rewrite whose hash is among them is a shared
run of 9 words. It is allowed when most of its words are names, titles, dates or numbers
(capitalised or numeric in the rewrite), or when it lies in the headline, which is kept as
published, as in `../shared/eval/dev/`.

    python eval/overlap.py check eval/corpus/a001.json --original /path/a001.txt
    python eval/overlap.py build /path/to/originals/          # writes eval/shingles.json
    python eval/overlap.py check-all                          # every article against shingles.json

Exit 1 when a shared run is found (each printed), 2 on bad input.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import struct
import sys
import unicodedata
from pathlib import Path

N = 9  # a shared run of more than 8 words
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SHINGLES = HERE / "shingles.json"

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> list[tuple[str, str]]:
    """(normalised, as written) for every word of the text."""
    text = unicodedata.normalize("NFKC", text)
    return [(m.group().lower().replace("’", "'"), m.group()) for m in _WORD.finditer(text)]


def _hash(window: list[str]) -> int:
    return struct.unpack(">I", hashlib.blake2b(" ".join(window).encode(), digest_size=4).digest())[0]


def fingerprint(original: str) -> set[int]:
    """The hashes of every N-word window of a text."""
    w = [n for n, _ in words(original)]
    return {_hash(w[i : i + N]) for i in range(len(w) - N + 1)}


def _exempt(raw: list[str]) -> bool:
    """A run made mostly of names, titles, dates and numbers may be shared."""
    named = sum(1 for r in raw if r[0].isupper() or r[0].isdigit())
    return named * 2 > len(raw)


def shared_runs(article: dict, prints: set[int]) -> list[str]:
    """The rewrite's runs of more than 8 words that the original has too (merged, as text)."""
    body = article["text"]
    title = article.get("title") or ""
    # the headline is kept as published; a text that repeats it as its first line likewise
    if title and body.startswith(title):
        body = body[len(title) :]
    w = words(body)
    norm = [n for n, _ in w]
    hits = [
        i
        for i in range(len(norm) - N + 1)
        if _hash(norm[i : i + N]) in prints and not _exempt([r for _, r in w[i : i + N]])
    ]
    runs: list[tuple[int, int]] = []
    for i in hits:
        if runs and i <= runs[-1][1]:
            runs[-1] = (runs[-1][0], i + N)
        else:
            runs.append((i, i + N))
    return [" ".join(r for _, r in w[a:b]) for a, b in runs]


def _load_prints() -> dict[str, set[int]]:
    if not SHINGLES.exists():
        raise SystemExit(f"error: {SHINGLES} is missing (run: python eval/overlap.py build DIR)")
    raw = json.loads(SHINGLES.read_text())
    return {k: set(struct.unpack(f">{len(b) // 4}I", b)) for k, v in raw.items() for b in [base64.b64decode(v)]}


def _report(path: Path, article: dict, prints: set[int]) -> int:
    runs = shared_runs(article, prints)
    for r in runs:
        print(f"{path.name}: shares {len(r.split())} words with the original: {r}")
    return 1 if runs else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="one article against its original text")
    c.add_argument("article", type=Path)
    c.add_argument("--original", type=Path, required=True)
    b = sub.add_parser("build", help="fingerprint a folder of originals (ID.txt) into shingles.json")
    b.add_argument("folder", type=Path)
    sub.add_parser("check-all", help="every corpus article against shingles.json")
    a = ap.parse_args(argv)
    if a.cmd == "check":
        article = json.loads(a.article.read_text())
        return _report(a.article, article, fingerprint(a.original.read_text()))
    if a.cmd == "build":
        out = {}
        for f in sorted(a.folder.glob("*.txt")):
            hashes = sorted(fingerprint(f.read_text()))
            out[f.stem] = base64.b64encode(struct.pack(f">{len(hashes)}I", *hashes)).decode()
        SHINGLES.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
        print(f"{len(out)} originals fingerprinted into {SHINGLES}")
        return 0
    prints = _load_prints()
    bad = missing = 0
    for f in sorted(CORPUS.glob("*.json")):
        if f.name == SHINGLES.name:
            continue
        art = json.loads(f.read_text())
        if art["id"] not in prints:
            print(f"{f.name}: no fingerprint of its original")
            missing += 1
            continue
        bad += _report(f, art, prints[art["id"]])
    print(f"{bad} articles share runs of more than {N - 1} words; {missing} without a fingerprint")
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
