"""A labelled folder as the chain harness can read it: four-digit ids renumbered.

`../shared/eval/chaineval/run.py` (read-only) takes only files named `NNN.json` and reads a
chain's order from `**NNN**` in `CHAINS-*.md`; the corpus's rounds 4–6 have four-digit ids
(10NN–13NN). `write_folder` copies a set's articles into a scratch folder with every id that
is not three digits renumbered to a three-digit id no article of the set uses and its CHAINS
files do not name (a fixed mapping: the set's ids and CHAINS files decide it), changing only
each JSON's `id` and its file name, and copies the `CHAINS-*.md` files with whole bold ids
(`**1105**`) rewritten by the same mapping. No label changes; `restore_ids` maps the
harness's JSON report back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

THREE = re.compile(r"\d{3}")
# any whole bold token, so an id like `042a` is rewritten with its file (run.py reads only
# `\*\*(\d{3})\*\*`); a token the mapping does not hold is left as it is
BOLD_ID = re.compile(r"\*\*([^*\s]+)\*\*")


class RenumberError(Exception):
    """More ids to renumber than free three-digit slots, or a folder that cannot be copied."""


def mapping(ids: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """Each id that is not three digits -> a three-digit id none of `ids` or `reserved` uses,
    in order (ids by length then value, slots ascending from 001), so the same set gives the
    same map. `reserved`: three-digit ids the CHAINS text names that are not the set's (an
    article of another set); given to a renumbered article, the harness would read that
    mention as the article's place in its chain."""
    ids = set(ids)
    used = {i for i in ids if THREE.fullmatch(i)} | {r for r in reserved if THREE.fullmatch(r)}
    todo = sorted(ids - used, key=lambda i: (len(i), i))
    free = [f"{n:03d}" for n in range(1, 1000) if f"{n:03d}" not in used]
    if len(todo) > len(free):
        raise RenumberError(f"{len(todo)} ids to renumber but only {len(free)} free three-digit ids")
    return dict(zip(todo, free[:len(todo)], strict=True))


def rewrite_md(text: str, ids: dict[str, str]) -> str:
    """CHAINS text with every whole bold id of the mapping rewritten; nothing else touched."""
    return BOLD_ID.sub(lambda m: f"**{ids[m.group(1)]}**" if m.group(1) in ids else m.group(0), text)


def write_folder(src: Path, dest: Path, keep: set[str] | None = None) -> dict[str, str]:
    """Copy `src`'s articles (those in `keep`, all when None) and CHAINS-*.md into `dest`,
    renumbered; returns the mapping (original -> three-digit id), fixed by all of `src`'s ids
    and the ids its CHAINS files name."""
    files = {p: json.loads(p.read_text(encoding="utf-8")) for p in sorted(src.glob("*.json"))}
    if not files:
        raise RenumberError(f"{src}: holds no labelled articles (*.json)")
    mds = {md: md.read_text(encoding="utf-8") for md in sorted(src.glob("CHAINS*.md"))}
    named = {m for text in mds.values() for m in BOLD_ID.findall(text)}
    try:
        ids = mapping((str(d.get("id") or p.stem) for p, d in files.items()), named)
    except RenumberError as err:
        raise RenumberError(f"{src}: {err}; the chain harness reads only NNN.json") from None
    dest.mkdir(parents=True, exist_ok=True)
    for p, d in files.items():
        orig = str(d.get("id") or p.stem)
        if keep is not None and orig not in keep:
            continue
        new = ids.get(orig, orig)
        out = dest / f"{new}.json"
        if out.exists():
            raise RenumberError(f"{src}: two articles would be written as {out.name}")
        out.write_text(json.dumps(d | {"id": new}, ensure_ascii=False, indent=1), encoding="utf-8")
    for md, text in mds.items():
        (dest / md.name).write_text(rewrite_md(text, ids), encoding="utf-8")
    return ids


def restore_ids(report: object, back: dict[str, str]) -> object:
    """The harness's JSON report with article ids (`article`, `label`, `order`) mapped back
    to the originals; free text (summaries, diagnostics) keeps the renumbered ids."""
    if isinstance(report, list):
        return [restore_ids(x, back) for x in report]
    if not isinstance(report, dict):
        return report
    out = {}
    for k, v in report.items():
        if k in ("article", "label") and isinstance(v, str):
            out[k] = back.get(v, v)
        elif k == "order" and isinstance(v, dict):
            out[k] = {c: [back.get(a, a) for a in arts] for c, arts in v.items()}
        else:
            out[k] = restore_ids(v, back)
    return out
