"""The gazetteer's name sets find, through their `NameIndex`, exactly the spans one big trie
regex of their names finds (what each set was before the index): over every labelled article
and over texts built to trip the matcher."""

from __future__ import annotations

import json
import re
import sys
import weakref
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.terms import load_gazetteer
from watcher.terms.gazetteer import NameIndex, _Names, _names_regex, _trie

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _sets():
    g = load_gazetteer()
    out = {"places": g.place_re, "conflict names": g.conflict_re}
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


_REGEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _regex(names: _Names, text: str, pos: int = 0, endpos: int = sys.maxsize) -> list[tuple[int, int, str]]:
    """The reference: the set's names as one trie regex, longest first, not inside a word."""
    rx = _REGEX.get(names)
    if rx is None:
        flags = re.IGNORECASE if names._fold else 0
        rx = _REGEX[names] = re.compile(rf"(?:{_trie(names._names, names=True)})(?![\w])", flags)
    return [(m.start(), m.end(), m.group(0)) for m in rx.finditer(text, pos, endpos)
            if not (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_/"))]


@pytest.fixture(scope="module")
def sets():
    return _sets()


def test_index_finds_what_the_regex_finds_in_the_labelled_reporting(sets):
    texts = _texts()
    assert len(texts) > 1000
    for name, names in sets.items():
        for t in texts:
            assert _spans(names.finditer(t)) == _regex(names, t), (name, t[:80])


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
                assert _spans(names.finditer(s)) == _regex(names, s), (name, s)
                assert _spans(names.finditer(s, 1, len(s) - 1)) == _regex(names, s, 1, len(s) - 1), (name, s)


def _both(names: list[str], flags: int, text: str, pos: int = 0, endpos: int = sys.maxsize):
    rx = _names_regex(names, flags)
    return _spans(rx.finditer(text, pos, endpos)), _regex(rx, text, pos, endpos)


@pytest.mark.parametrize("names, text", [
    (["S"], "ſ"), (["Donbas"], "DONBAſ"), (["Idlib"], "ıdlib"), (["Diyarbakır"], "DIYARBAKIR"),
    (["Kursk"], "\u212aursk"), (["İzmir"], "izmir İZMİR"), (["Σσ"], "σς"), (["Aι"], "a\u0345"),
])
def test_case_insensitive_names_fold_as_re_does(names, text):
    # re.IGNORECASE takes "ſ" for "s" and "ı" for "i"; str.lower does not
    index, regex = _both(names, re.IGNORECASE, text)
    assert index == regex and regex


def test_a_letter_folded_to_a_mark_still_ends_a_word():
    # "ι" folds to U+0345, no letter: the word checks read the text, not its folding
    assert _both(["a"], re.IGNORECASE, "ιa ι a") == ([(5, 6, "a")], [(5, 6, "a")])


def test_case_variants_of_names_give_the_longest_name():
    # one trie branch per spelling took "a" where "a b" fits; the longest name wins
    index, regex = _both(["A", "a b"], re.IGNORECASE, "x a b")
    assert index == regex == [(2, 5, "a b")]


def test_a_long_whitespace_run_after_a_one_letter_word():
    text = "A" + "\t" * 12 + "B"
    for flags in (0, re.IGNORECASE):
        index, regex = _both(["A B"], flags, text)
        assert index == regex == [(0, len(text), text)]


_ALPHA = "aAbBiIıİsSſkK\u212aßσςΣµμ\u0345 -_/.é"
_WS = " \t\n\xa0\u2028\x1c"
_name = st.text(_ALPHA, min_size=1, max_size=6).filter(str.strip)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_name, min_size=1, max_size=6), st.data(), st.sampled_from([0, re.IGNORECASE]))
def test_index_finds_what_the_regex_finds_for_any_names(names, data, flags):
    pieces = st.one_of(st.sampled_from(names), _name, st.text(_WS, min_size=1, max_size=14), st.text(_ALPHA + _WS, max_size=3))
    cased = pieces.map(lambda s: data.draw(st.sampled_from([s, s.lower(), s.upper(), s.swapcase()])))
    text = "".join(data.draw(st.lists(cased, max_size=8)))
    pos, cut = data.draw(st.integers(0, 5)), data.draw(st.integers(0, 5))
    index, regex = _both(names, flags, text)
    assert index == regex
    index, regex = _both(names, flags, text, pos, max(len(text) - cut, 0))
    assert index == regex


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_gazetteers_sets_match_the_regex_on_texts_of_their_names(sets, data):
    name = data.draw(st.sampled_from(sorted(sets)))
    names = sets[name]
    words = st.sampled_from(names._names[:400])
    seps = st.sampled_from([" ", "  ", "\n", "\xa0", "\t", "/", "_", "-", "x", ". ", "'s "])
    parts = data.draw(st.lists(st.tuples(words, seps), max_size=6))
    text = "".join(w + s for w, s in parts)
    text = data.draw(st.sampled_from([text, text.upper(), text.lower(), text.swapcase()]))
    assert _spans(names.finditer(text)) == _regex(names, text), (name, text)


def test_a_name_inside_a_word_hides_the_names_within_it_for_actors_too():
    # one rule for every index (the actors' too), the regex's: "Nagorno-Karabakh" after "/" is
    # inside a word, and "Karabakh" within it is not found on its own
    idx = NameIndex(["Nagorno-Karabakh", "Karabakh"])
    assert _spans(idx.finditer("Artsakh/Nagorno-Karabakh")) == []
    assert _spans(idx.finditer("Artsakh, Nagorno-Karabakh")) == [(9, 25, "Nagorno-Karabakh")]
