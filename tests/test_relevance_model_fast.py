"""The feed filter's fast decision is the feature table's decision: the gate that skips the
gazetteer, the words and rule verdict shared with the topic rules, the name look-up by last
word and the prefix memo change its cost, never what it lets through. Checked on every
labelled article (as the feed item its training sees), every entry of the shared corpus's
feeds, and long texts that take the cut at SUMMARY_CHARS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher import relevance_model as rm
from watcher.feeds.parse import parse_feed
from watcher.relevance import (
    DEFAULT_CEASEFIRE_EXCLUDES,
    DEFAULT_CEASEFIRE_PHRASES,
    _words,
    default_topic,
    score_entries,
)
from watcher.relevance_model import SUMMARY_CHARS, features, load

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"


def _labelled() -> list[tuple[str, str, str]]:
    from watcher.relevance_train import feed_summary

    out = []
    for folder in (SHARED / "eval" / "dev", ROOT / "eval" / "corpus"):
        for p in sorted(folder.glob("*.json")):
            a = json.loads(p.read_text())
            out.append((a.get("title") or "", feed_summary(a), ""))
            out.append((a.get("title") or "", a["text"][:2000], ""))  # long: cut at SUMMARY_CHARS
    return out


def _feed_entries() -> list[tuple[str, str, str]]:
    out = []
    for p in sorted((SHARED / "corpus" / "feeds").glob("*.*")):
        if p.suffix == ".tsv" or p.name == "LICENSES":
            continue
        parsed = parse_feed(p.read_bytes(), {}, "http://feeds.example/")
        out += [(e.title, e.summary, e.content) for e in parsed.entries]
    return out


def _seeds() -> list[tuple[str, str, str]]:
    out = []
    for p in sorted(SEEDS.glob("*.txt")):
        lines = [line for line in p.read_text().splitlines() if line.strip()]
        body = "\n\n".join(lines[3:])
        out += [(lines[2], "", body), ("Markets", body, ""), (lines[2], body[::-1], "")]
    return out


def _synthetic(tmp: Path) -> list[tuple[str, str, str]]:
    """Entries of the benchmark's generated feeds (bench/synth.py), the shape bench/poll.py
    measures: ordinary news, wire stories from the seeds, many names of the gazetteer."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import synth

    synth.generate(tmp, feeds=16, stories=30)
    bodies, _ = synth.load(tmp, "http://127.0.0.1:1", 1)
    out = []
    for body in bodies.values():
        parsed = parse_feed(body, {"content-type": "application/rss+xml"}, "http://127.0.0.1:1/")
        out += [(e.title, e.summary, e.content) for e in parsed.entries]
    return out


def _reference(title: str, summary: str, text: str) -> tuple[bool, float]:
    """The slow, plain path: the feature strings, the weight table, the threshold."""
    m = load()
    p = m.linear.prob(features(title, (summary or text)[:SUMMARY_CHARS], m))
    return p >= m.threshold, p


@pytest.mark.skipif(not (SHARED / "eval" / "dev").is_dir() or not (SHARED / "corpus" / "feeds").is_dir(),
                    reason="shared data absent")
def test_decisions_equal_the_feature_table_on_real_items() -> None:
    items = _labelled() + _feed_entries() + _seeds()
    rules = score_entries(items, [default_topic(model=False)])
    got = score_entries(items, [default_topic()])
    passed_by_model = 0
    for item, r, g in zip(items, rules, got, strict=True):
        if r.relevant or (not r.topic and r.matched):  # the rules decided, or vetoed
            assert g == r
            continue
        want, p = _reference(*item)
        assert g.relevant == want, item[:2]
        if want:
            passed_by_model += 1
            assert g.matched == [*r.matched, f"model:{p:.2f}"] and g.score == r.score
        else:
            assert g == r
    assert passed_by_model > 20  # the check reached the model's side of the threshold


def test_decisions_equal_the_feature_table_on_synthetic_feeds(tmp_path: Path) -> None:
    items = _synthetic(tmp_path)
    assert len(items) >= 700
    m = load()
    for item, r, g in zip(items, score_entries(items, [default_topic(model=False)]),
                          score_entries(items, [default_topic()]), strict=True):
        if r.relevant or (not r.topic and r.matched):
            assert g == r
            continue
        want, p = _reference(*item)
        assert g.relevant == want, item[:2]
        cut = (item[1] or item[2])[:SUMMARY_CHARS]
        assert m.passes(item[0], cut)[1] >= p - 1e-12  # the gate's bound is an upper bound


def test_gate_bound_holds_where_names_are_found() -> None:
    """Items made of the gazetteer's names (whole, cut, several, in the title or not): the
    gate's bound is never below the exact probability, and the candidate names it counts
    include every name the look-up finds."""
    m = load()
    actors = [" ".join(w) for items in m._actor_names.values() for w, _ in items]
    conflicts = [" ".join(w) for items in m._conflict_names.values() for w, _ in items]
    for i in range(0, len(actors), 3):
        names = actors[i : i + 3]
        for title, summary in ((names[0], " and ".join(names[1:]) + " agreed"),
                               ("Talks", " said ".join(names) + " " + conflicts[i % len(conflicts)]),
                               (names[-1] + " " + names[0].split(" ")[-1], "")):
            exact = m.probability(title, summary)
            passes, bound = m.passes(title, summary)
            assert passes == (exact >= m.threshold) and bound >= exact - 1e-12, (title, summary)
            ws = set(rm._lower(_words(title))) | set(rm._lower(_words(summary)))  # as `_z` has them
            found = rm._hits(_words(title), m._actor_names) | rm._hits(_words(summary), m._actor_names)
            assert found <= rm._candidates(ws, m._actor_lasts)


def _hits_by_scan(words: list[str], index: rm._Index) -> set[str]:
    """Every position, every name starting there (the look-up before it went by last word)."""
    found = set()
    for i, w in enumerate(words):
        for rest, ident in index.get(w, ()):
            if tuple(words[i + 1 : i + 1 + len(rest)]) == rest:
                found.add(ident)
    return found


def test_name_hits_equal_a_scan_of_every_position() -> None:
    m = load()
    texts = [t for item in _seeds() for t in item[:2]] + [
        "the Taliban and the Taliban", "Vladimir Putin", "Putin Vladimir", "United Nations United",
        "the", "", "Islamic Republic of Iran and the Islamic State", "al Shabaab al"]
    for text in texts:
        cased = _words(text)
        assert rm._hits(cased, m._actor_names) == _hits_by_scan(cased, m.actors)
        lower = _words(text.lower())
        assert rm._hits(lower, m._conflict_names) == _hits_by_scan(lower, m.conflicts)
    # names repeat a word or end where another starts
    index = rm._index({"a b a": "x", "b": "y", "a a": "z", "c d": "w"})
    names = rm._by_last(index)
    for words in (["a", "b", "a"], ["a", "a"], ["b", "a", "a", "b"], ["c"], ["d", "c", "d"], []):
        assert rm._hits(words, names) == _hits_by_scan(words, index)


def test_gate_declines_only_below_the_threshold() -> None:
    """An item the gate declines has an upper bound below the threshold, and the exact
    probability is below it too; the prefix memo gives the same sum full or cleared."""
    m = load()
    for title, summary, text in _seeds():
        cut = (summary or text)[:SUMMARY_CHARS]
        passes, bound = m.passes(title, cut)
        exact = m.probability(title, cut)
        assert passes == (exact >= m.threshold)
        assert bound >= exact - 1e-12
    m._prefix_of.clear()
    words = set(_words(_seeds()[0][2].lower()))
    first = m._prefix_score(words)
    assert m._prefix_score(words) == first
    want = sum(m._by_kind["p"].get(k, 0.0) for k in {w[:rm.PREFIX] for w in words if len(w) > rm.PREFIX})
    assert first == pytest.approx(want, abs=1e-12)


def test_prefix_memo_starts_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    m = load()
    monkeypatch.setattr(m, "_prefix_of", {})
    monkeypatch.setattr(rm, "_MEMO_WORDS", 5)
    seen: set[str] = set()
    for _title, summary, text in _seeds()[:6]:
        words = set(_words((summary or text)[:SUMMARY_CHARS].lower()))
        seen |= words
        want = sum(m._by_kind["p"].get(k, 0.0) for k in {w[:rm.PREFIX] for w in words if len(w) > rm.PREFIX})
        assert m._prefix_score(words) == pytest.approx(want, abs=1e-12)
    assert len(m._prefix_of) < len(seen)  # started again at least once


# Property: on made-up items too, of the built-in phrases, the gazetteer's names (whole,
# in parts, in capitals), long summaries that take the cut, and characters whose lower case
# changes a word's length or turns ASCII (the Kelvin sign, dotted İ, final sigma, ligatures),
# the fast decision is the feature table's, for the built-in phrase lists at any min_score.
def _vocabulary() -> list[str]:
    m = load()
    names = [" ".join(w) for items in m._actor_names.values() for w, _ in items]
    conflicts = [" ".join(w) for items in m._conflict_names.values() for w, _ in items]
    return [*DEFAULT_CEASEFIRE_PHRASES, *DEFAULT_CEASEFIRE_EXCLUDES, *names[::7], *conflicts,
            "the", "talks", "Gaza", "said", "ΟΔΟΣ", "Σ", "\u212a", "İstanbul", "straße", "ﬁre", "ǅ", "ʰ",
            "\u0307", "’", "—", "«", "'s", "2026", "withdrawal", "CEASEFIRE", "Truce"]


_piece = st.one_of(st.sampled_from(_vocabulary()), st.text(max_size=5))
_sep = st.sampled_from([" ", ", ", "-", "\n", "", ". ", "’"])


def _text(pieces: int) -> st.SearchStrategy[str]:
    return st.lists(st.tuples(_piece, _sep), max_size=pieces).map(lambda xs: "".join(a + b for a, b in xs))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_text(10), _text(30), _text(30), st.integers(0, 120), st.sampled_from([0.5, 1.0, 2.0]))
def test_decisions_equal_the_feature_table_on_made_up_items(title: str, summary: str, text: str,
                                                            filler: int, min_score: float) -> None:
    if summary:
        summary += " filler" * filler  # past SUMMARY_CHARS: the cut
    item = (title, summary, text)
    [r] = score_entries([item], [default_topic(min_score=min_score, model=False)])
    [g] = score_entries([item], [default_topic(min_score=min_score)])
    if r.relevant or (not r.topic and r.matched):
        assert g == r
        return
    want, p = _reference(*item)
    assert g.relevant == want
    assert g == r if not want else g.matched == [*r.matched, f"model:{p:.2f}"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab Z9-_.'\u2019é\u0130\n"), max_size=40), st.integers(1, 30))
def test_words_and_the_cut_from_one_pass(text: str, cut: int) -> None:
    """The summary's words and its cut's words, from one tokenisation: what two gave."""
    from watcher.relevance import _words_cut

    words, head = _words_cut(text, cut)
    assert words == _words(text.lower())
    if head is not None:
        assert head == _words(text[:cut].lower())
    else:
        assert len(text) <= cut or not text.isascii()


def test_gate_bound_holds_for_an_actor_listed_twice_in_one_conflict() -> None:
    """``g=two_parties`` is set when a conflict is seen twice among the actors' conflicts, so
    by one actor whose parties list holds it twice (a model file written by hand or by another
    trainer): the gate's bound must count it for a single candidate actor too."""
    from watcher.linear import Linear

    m = rm.RelevanceModel(Linear(["relevant"], [-2.0], {"g=two_parties": [(0, 3.0)]}), threshold=0.5,
                          actors={"Zed": [((), "zed")]}, parties={"zed": ["north", "north"]})
    exact = m.probability("Zed talks", "")
    assert exact > 0.5
    assert m.passes("Zed talks", "") == (True, exact)
