"""Check that labelled articles are well-formed: the fields of the format, ids from the
vocabulary, every evidence string in its text, unique ids and urls.

    python eval/validate.py                       # every file of eval/corpus/
    python eval/validate.py eval/corpus/a0*.json  # some files

Prints one line per problem (file: what) and exits 1 when there is any.
Conflict, actor and place ids are checked for form only (lowercase, hyphen-joined): the
corpus may name ids the gazetteer does not know yet (LABELLING.md, section 6).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
sys.path.insert(0, str(HERE.parent))

from watcher.terms.vocabulary import CATEGORIES, STANCES, UNITS  # noqa: E402

GENRES = {"news", "live", "roundup", "oped", "analysis", "explainer", "press"}
TAGS = {
    "no_terms", "passing_mention", "rejection", "counter_proposal", "deal", "in_effect",
    "violated", "collapsed", "hypothetical", "negation",
}
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^20(?:2[2-6])-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?$")


def problems(art: dict) -> Iterable[str]:
    """What is wrong with one article (nothing when it is well-formed)."""
    for key, kind in (("id", str), ("chain", str), ("date", str), ("source", str), ("url", str),
                      ("title", str), ("text", str), ("expected", dict), ("genre", str),
                      ("tags", list)):
        if not isinstance(art.get(key), kind):
            yield f"field {key!r} missing or not a {kind.__name__}"
            return
    if not _DATE.match(art["date"]):
        yield f"date {art['date']!r} is not YYYY-MM-DD or YYYY-MM in 2022-2026"
    if not art["url"].startswith(("http://", "https://")):
        yield f"url {art['url']!r} is not an http(s) address"
    if art["genre"] not in GENRES:
        yield f"genre {art['genre']!r} is not one of {sorted(GENRES)}"
    for t in art["tags"]:
        if t not in TAGS:
            yield f"tag {t!r} is not one of {sorted(TAGS)}"
    exp = art["expected"]
    terms = exp.get("terms")
    if not isinstance(terms, list) or not isinstance(exp.get("conflicts"), list):
        yield "expected needs 'conflicts' and 'terms' lists"
        return
    if exp.get("relevant") is not bool(terms):
        yield f"relevant is {exp.get('relevant')!r} with {len(terms)} terms"
    if ("no_terms" in art["tags"]) != (not terms):
        yield "tag 'no_terms' must be set exactly when there are no terms"
    for c in exp["conflicts"]:
        if not _ID.match(c):
            yield f"conflict id {c!r} is not lowercase and hyphen-joined"
    seen = set()
    for i, t in enumerate(terms):
        where = f"term {i} ({t.get('category')})"
        if t.get("category") not in CATEGORIES:
            yield f"{where}: category {t.get('category')!r} is not in the vocabulary"
        if t.get("stance") not in STANCES:
            yield f"{where}: stance {t.get('stance')!r} is not in the vocabulary"
        if t.get("conflict") not in exp["conflicts"]:
            yield f"{where}: conflict {t.get('conflict')!r} is not in expected.conflicts"
        if not isinstance(t.get("proposer"), str) or not _ID.match(t["proposer"]):
            yield f"{where}: proposer {t.get('proposer')!r} is not an id"
        if not isinstance(t.get("precondition"), bool):
            yield f"{where}: precondition must be true or false"
        key = (t.get("conflict"), t.get("category"), t.get("proposer"))
        if key in seen:
            yield f"{where}: the same (conflict, category, proposer) twice"
        seen.add(key)
        ev = t.get("evidence")
        if not isinstance(ev, str) or not ev.strip() or ev not in art["text"] and ev not in art["title"]:
            yield f"{where}: evidence {ev!r} is not in the text"
        vals = t.get("values")
        if not isinstance(vals, dict):
            yield f"{where}: values must be an object"
            continue
        for p in vals.get("places", []):
            if not isinstance(p, str) or not _ID.match(p):
                yield f"{where}: place {p!r} is not an id"
        party = vals.get("party")
        if party is not None and (not isinstance(party, str) or not _ID.match(party)):
            yield f"{where}: party {party!r} is not an id"
        for n in vals.get("numbers", []):
            if not isinstance(n, dict) or not isinstance(n.get("value"), int | float) or n.get("unit") not in UNITS:
                yield f"{where}: number {n!r} needs a numeric value and a unit of {sorted(UNITS)}"
        for r in t.get("responses", []):
            if not isinstance(r, dict) or not _ID.match(str(r.get("actor"))) or r.get("stance") not in STANCES:
                yield f"{where}: response {r!r} needs an actor id and a stance"


def check(paths: list[Path]) -> list[str]:
    """Every problem of these files, and ids or urls used twice."""
    out: list[str] = []
    ids: dict[str, str] = {}
    urls: dict[str, str] = {}
    for p in paths:
        try:
            art = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            out.append(f"{p.name}: cannot be read as JSON: {exc}")
            continue
        out += [f"{p.name}: {msg}" for msg in problems(art)]
        if isinstance(art, dict):
            if art.get("id") != p.stem:
                out.append(f"{p.name}: id {art.get('id')!r} is not the file's name")
            for seen, key in ((ids, "id"), (urls, "url")):
                v = art.get(key)
                if v in seen:
                    out.append(f"{p.name}: {key} {v!r} is used by {seen[v]} too")
                seen[v] = p.name
    return out


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.json") if p.name != "shingles.json")


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or corpus_files()
    msgs = check(paths)
    for m in msgs:
        print(m)
    print(f"{len(paths)} files, {len(msgs)} problems")
    return 1 if msgs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
