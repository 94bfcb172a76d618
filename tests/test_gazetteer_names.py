"""The gazetteer's name sets find, through their `NameIndex`, exactly the spans their one big
regex finds: over every labelled article and over texts built to trip the matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.terms import load_gazetteer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _sets():
    g = load_gazetteer()
    out = {"places": g.place_re, "conflict names": g.conflict_re, "conflict names, lower": g.conflict_low_re}
    out |= {f"context names of {c}": rx for c, (rx, _) in g.context_res.items()}
    return {k: v for k, v in out.items() if v is not None}


def _texts() -> list[str]:
    paths = sorted((ROOT / "eval" / "corpus").glob("*.json")) + sorted((SHARED / "eval" / "dev").glob("*.json"))
    out = []
    for p in paths:
        a = json.loads(p.read_text())
        if isinstance(a, dict) and "text" in a:
            out += [a.get("title") or "", a["text"], a["text"].lower(), a["text"].upper()]
    return out


def _spans(it) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in it]


@pytest.fixture(scope="module")
def sets():
    return _sets()


def test_index_finds_what_the_regex_finds_in_the_labelled_reporting(sets):
    texts = _texts()
    assert len(texts) > 1000
    for name, names in sets.items():
        for t in texts:
            assert _spans(names.finditer(t)) == _spans(names.finditer_regex(t)), (name, t[:80])


ODD = [
    "", " ", "Gaza", "gaza", "GAZA", "Gazan", "xGaza", "_Gaza", "/Gaza", "Gaza/Rafah", "Rafah\n\ncrossing",
    "the Gaza  Strip and  the West\tBank", "al-Fashir and El Fasher, xal-Fashir", "Donetsk-Luhansk",
    "İstanbul talks on the Black Sea", "Zaporizhzhia's plant", "Kursk.", "(Kherson)", "«Donbas»",
    "the Sudan war", "THE RUSSIA-UKRAINE WAR", "Israel–Hamas war", "Ukraine war’s end",
]


def test_index_finds_what_the_regex_finds_in_odd_texts(sets):
    for name, names in sets.items():
        for t in ODD:
            for s in (t, t.lower(), t.upper(), f"x{t}y", f" {t} "):
                assert _spans(names.finditer(s)) == _spans(names.finditer_regex(s)), (name, s)
                assert _spans(names.finditer(s, 1, len(s) - 1)) == _spans(names.finditer_regex(s, 1, len(s) - 1)), (name, s)
