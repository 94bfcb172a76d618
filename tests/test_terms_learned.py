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
