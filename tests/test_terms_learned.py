"""The learned layer: training is reproducible, a model survives saving, and it only ever
changes what the rules found through its own decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.terms import extract
from watcher.terms.learned import Linear, Model, shipped

CORPUS = Path(__file__).resolve().parent.parent / "eval" / "corpus"


def _articles(n: int) -> list[dict]:
    files = sorted(CORPUS.glob("*.json"))[::7][:n]
    return [json.loads(p.read_text()) for p in files]


def test_a_linear_model_scores_its_features():
    m = Linear(["true"], [-1.0], {"a": [(0, 2.0)], "b": [(0, -0.5)]})
    assert m.scores(["a", "b", "unknown"]) == [0.5]
    assert 0.6 < m.prob(["a", "b"]) < 0.63
    multi = Linear(["x", "y"], [0.0, 0.1], {"f": [(0, 1.0), (1, -1.0)]})
    assert multi.best(["f"]) == "x" and multi.best([]) == "y"


def test_training_is_reproducible_and_a_model_survives_saving(tmp_path):
    pytest.importorskip("sklearn")
    from watcher.terms.train import fit

    arts = _articles(40)
    a, b = fit(arts), fit(arts)
    assert a.to_json() == b.to_json()
    path = tmp_path / "model.json.gz"
    a.save(path)
    import gzip

    back = Model.from_json(json.loads(gzip.decompress(path.read_bytes())))
    assert back.to_json() == a.to_json()
    story = arts[0]
    text = f"{story['title']}\n\n{story['text']}"
    assert [t.to_json() for t in extract(text, model=a).terms] == [t.to_json() for t in extract(text, model=back).terms]


def test_the_shipped_model_keeps_the_extract_contract_of_seed_004():
    """The package's model is used by default and reads seed 004 as TERMS.md documents it;
    model=None is the rules alone."""
    text = (CORPUS.parent.parent / "seeds" / "004_bf88e37bba94a288.txt").read_text()
    assert shipped() is not None
    for e in (extract(text), extract(text, model=None)):
        (tw,) = [t for t in e.terms if t.category == "troop_withdrawal" and t.proposer == "russia"]
        assert (tw.stance, tw.precondition, tw.values["party"]) == ("demanded", True, "ukraine")
        assert tw.values["places"] == ["donetsk", "kherson", "luhansk", "zaporizhzhia"]
        assert {"actor": "ukraine", "stance": "rejected"} in tw.responses


def _story(text: str):
    from watcher.terms.extractor import read

    st = read(text)
    assert not hasattr(st, "relevant"), "the story names a conflict"
    return st


def test_sentence_features_carry_the_rules_triggers_and_negation():
    """The category model sees which categories the rules' triggers fire on in a sentence
    (and the one before), which the rules kept, and negation in scope."""
    from watcher.terms.learned import sentence_features

    st = _story("Kyiv rejects truce offer\n\nUkraine said on Tuesday it would not accept a ceasefire "
                "along the current front line. Russia has demanded a withdrawal from four regions.")
    i = next(i for i in st.body if "would not accept" in st.sents[i].text)
    f = sentence_features(st, i)
    assert "trig=ceasefire" in f and "neg" in f and "trig=ceasefire&neg" in f
    j = next(i for i in st.body if "demanded" in st.sents[i].text)
    g = sentence_features(st, j)
    assert "trig=troop_withdrawal" in g and "ptrig=ceasefire" in g and "neg" not in g


def test_the_add_threshold_decides_the_candidates():
    """A category no rule found is added at the add threshold, never to a story the rules
    found no term in."""
    from watcher.terms.learned import candidates

    st = _story("Talks on prisoners\n\nUkraine and Russia agreed a ceasefire on Friday, "
                "officials in Kyiv said. Both sides will meet again in Geneva next week.")
    rules = set(candidates(st, {}, 2.0))
    assert ("russia-ukraine", "ceasefire") in rules
    probs = {"negotiations": (0.4, st.body[-1]), "ceasefire": (0.01, st.body[0])}
    assert set(candidates(st, probs, 0.35)) == rules | {("russia-ukraine", "negotiations")}
    assert set(candidates(st, probs, 0.45)) == rules
    st.terms = []
    assert set(candidates(st, probs, 0.35)) == set()


def test_the_add_threshold_is_chosen_on_the_training_articles():
    """choose_floor picks from its grid by the training articles' pair F1 alone."""
    pytest.importorskip("sklearn")
    from watcher.terms.train import ADD_GRID, _out_of_fold_probs, _story, choose_floor, floor_f1

    arts = _articles(30)
    stories = [_story(a) for a in arts]
    probs = _out_of_fold_probs(arts, stories)
    chosen = choose_floor(arts, stories, probs)
    assert chosen in ADD_GRID
    scores = {f: floor_f1(arts, stories, probs, f) for f in ADD_GRID}
    # the best F1 on these articles, the grid's first on a tie
    assert chosen == next(f for f in ADD_GRID if scores[f] == max(scores.values()))


def test_a_second_holder_needs_its_threshold():
    from watcher.terms.learned import choose_holders

    scored = [(0.9, "israel"), (0.55, "hamas"), (0.3, "qatar")]
    assert choose_holders(scored, set(), 0.6, 0.25) == ["israel"]
    assert choose_holders(scored, {"qatar"}, 0.6, 0.25) == ["israel", "qatar"]
    assert choose_holders(scored, {"qatar"}, 0.5, 1.1) == ["israel", "hamas"]


def test_the_agreement_holder_reads_whether_the_story_tells_of_a_deal_or_an_offer():
    """A story of a deal signed and in force and one of a plan on offer give the `agreement`
    candidate different story-level features."""
    from watcher.terms.learned import holder_features

    deal = _story("Truce takes effect\n\nSudan's army and the RSF signed a truce in Jeddah on Monday. "
                  "The truce took effect at midnight, both sides said.")
    offer = _story("Washington floats a plan\n\nThe United States put forward a proposal for a truce "
                   "between Sudan's army and the RSF. Its draft calls for a week-long pause.")
    fd = holder_features(deal, deal.terms[:1], "agreement")
    fo = holder_features(offer, offer.terms[:1], "agreement")
    assert "agr_story=deal" in fd and "agr_story=offer" in fo
    assert any(f.startswith("agr_lead_deal=") for f in fd)
    assert any(f.startswith("agr_lead_offer=") for f in fo)
