"""Contracts of the term extractor (watcher.terms), checked on the two seeds and small texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.models import Extraction
from watcher.terms import CATEGORIES, STANCES, extract, load_gazetteer, title_of

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED0 = "000_*.txt"
SEED4 = "004_*.txt"


def _seed(pattern: str) -> str:
    path = next(iter(sorted((ROOT / "seeds").glob(pattern))), None)
    if path is None:
        pytest.skip("seed missing")
    return path.read_text()


def _terms(e: Extraction, proposer: str | None = None, conflict: str = "russia-ukraine") -> dict:
    return {t.category: t for t in e.terms
            if t.conflict == conflict and (proposer is None or t.proposer == proposer)}


def test_vocabulary_ids():
    assert len(CATEGORIES) == 31 and CATEGORIES[0] == "ceasefire" and CATEGORIES[-1] == "right_to_resume"
    assert len(STANCES) == 9 and "reaffirmed" in STANCES


def test_spans_and_ids_are_valid():
    for text in (_seed(SEED0), _seed(SEED4)):
        e = extract(text)
        for t in e.terms:
            assert text[t.span[0]:t.span[1]] == t.quote
            assert t.category in CATEGORIES and t.stance in STANCES
            assert all(r["stance"] in STANCES for r in t.responses)
            assert t.values["places"] == sorted(t.values["places"])
            json.dumps(t.to_json())


def test_titles():
    assert title_of(_seed(SEED0)) == "Putin Offers Ceasefire Deal To End Ukraine War"
    assert title_of(_seed(SEED4)).startswith("Putin’s Peace Proposal for Ukraine Stays on the Table")


def test_seed_000():
    e = extract(_seed(SEED0))
    assert e.relevant and e.conflicts == ["russia-ukraine"]
    ru = _terms(e, "russia")
    for cat in ("ceasefire", "line_freeze", "territorial_status", "transit_corridor", "negotiations"):
        assert cat in ru, cat
    assert ru["transit_corridor"].values["places"] == ["crimea"]


def test_seed_004():
    e = extract(_seed(SEED4))
    ru = _terms(e, "russia")
    tw = ru["troop_withdrawal"]
    assert tw.values["party"] == "ukraine"
    assert tw.values["places"] == ["donetsk", "kherson", "luhansk", "zaporizhzhia"]
    assert tw.stance == "demanded" and tw.precondition
    assert {"actor": "ukraine", "stance": "rejected"} in tw.responses
    # "remains valid and unchanged" reaffirms Russia's terms, but the proposer is never its own
    # responder (TERMS.md keeps the roles apart); a reaffirmation is no change
    assert all(r["actor"] != "russia" for t in ru.values() for r in t.responses)
    # places belong to the trigger they are named with: the talks are gated, not located
    assert ru["negotiations"].values["places"] == []
    for cat in ("neutrality", "military_limits", "identity_ideology", "sanctions_relief"):
        assert cat in ru, cat
    ua = _terms(e, "ukraine")["troop_withdrawal"]
    assert ua.values["party"] == "russia" and ua.stance == "demanded" and ua.precondition
    assert "1991" in ua.values.get("text", "")
    # "not an ultimatum" creates nothing: no term is quoted from that sentence alone as a demand
    assert not any("ultimatum" in t.quote and t.stance == "demanded" for t in e.terms)


def test_seeds_stay_in_their_conflict():
    for text in (_seed(SEED0), _seed(SEED4)):
        e = extract(text)
        assert {t.conflict for t in e.terms} <= {"russia-ukraine", "israel-hamas"}
        assert not any(t.conflict == "russia-ukraine" and "Netanyahu" in t.quote for t in e.terms)


def test_non_english_gives_no_terms():
    fr = ("Le président a déclaré que Moscou était prêt à ouvrir des pourparlers de paix, mais que "
          "ceux-ci devaient se fonder sur les accords conclus à Istanbul et sur les réalités actuelles.")
    e = extract(fr)
    assert e.language == "fr" and not e.relevant and e.terms == []


def test_stance_negation_and_reaffirmation():
    e = extract("Russia rejects truce\n\nThe Kremlin said on Monday that a ceasefire along the current "
                "front lines will never happen. Ukraine proposed a 30-day ceasefire.")
    ua = _terms(e, "ukraine")
    assert ua["ceasefire"].stance == "proposed"
    assert {"actor": "russia", "stance": "rejected"} in ua["ceasefire"].responses
    assert ua["duration_phasing"].values["numbers"] == [{"value": 30, "unit": "days"}]


def test_agreement_proposer():
    e = extract("Israel and Hamas agree truce\n\nIsrael and Hamas have agreed to a four-day truce in Gaza. "
                "Under the deal, Hamas will release 50 hostages in exchange for 150 Palestinian prisoners.")
    got = {(t.category, t.proposer) for t in e.terms}
    assert ("ceasefire", "agreement") in got and ("hostage_release", "agreement") in got
    assert ("prisoner_exchange", "agreement") in got
    assert _terms(e, conflict="israel-hamas")["ceasefire"].values["places"] == ["gaza"]


def test_mediator_plan_belongs_to_mediator():
    e = extract("Sudan's army studies US plan\n\nSudan's army said it is studying a truce proposed by the "
                "United States, which would begin with a humanitarian truce of three months.")
    t = _terms(e, conflict="sudan")["humanitarian_pause"]
    assert t.proposer == "united-states"


def test_config_extension():
    g = load_gazetteer({
        "gazetteer": {
            "conflicts": {"atlantis-lemuria": {"names": ["Atlantis war"], "parties": ["atlantis", "lemuria"]}},
            "actors": {"atlantis": {"names": ["Atlantis", "Poseidonis"]}, "lemuria": {"names": ["Lemuria"]},
                       "russia": {"names": ["Rossiya"]}},
            "places": {"coral-gate": {"names": ["Coral Gate"], "conflict": "atlantis-lemuria"}},
        },
        "triggers": {"ceasefire": ["quiet period"]},
    })
    assert g.actor_for("Rossiya") == "russia" and g.actor_for("Kremlin") == "russia"
    e = extract("Atlantis offers quiet period\n\nAtlantis proposed a quiet period at Coral Gate, "
                "Poseidonis said.", gazetteer=g)
    t = _terms(e, conflict="atlantis-lemuria")["ceasefire"]
    assert t.proposer == "atlantis" and t.values["places"] == ["coral-gate"]
    # the cached default is untouched
    assert load_gazetteer().actor_for("Poseidonis") is None


def test_unknown_trigger_category_is_an_error():
    with pytest.raises(ValueError):
        load_gazetteer({"triggers": {"not_a_category": ["x"]}})


@pytest.mark.skipif(not (SHARED / "eval" / "dev").is_dir(), reason="../shared is absent")
def test_dev_set_floor():
    """A regression floor well under the current figures, so small rule edits stay safe."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    arts = mod.load_folder(SHARED / "eval" / "dev")  # load() now takes set names
    figures, _ = mod.score(arts, mod.Rules().predict(arts))
    assert figures["f1"] >= 0.85 and figures["strict_f1"] >= 0.70
    assert figures["proposer_accuracy"] >= 0.80 and figures["place_f1"] >= 0.80


def test_brokered_truce_is_the_parties_deal():
    text = ("Yemen truce holds\n\nA truce of two months, brokered by the UN envoy Hans Grundberg, "
            "took effect on Saturday across Yemen.")
    cease = [t for t in extract(text).terms if t.category == "ceasefire"]
    assert cease and all(t.proposer == "agreement" for t in cease)
    assert cease[0].stance == "in_effect"


def test_party_own_step_in_a_deal_story_stays_its_own():
    text = ("Gaza deal reached\n\nUnder the deal, Israel and Hamas agreed to a six-week ceasefire and the "
            "release of 33 hostages in exchange for Palestinian prisoners. Separately, Hamas said it "
            "would reopen the airport and resume exports once the truce begins.")
    by = {(t.category, t.proposer) for t in extract(text).terms if t.conflict == "israel-hamas"}
    assert ("ceasefire", "agreement") in by
    assert ("economic_measures", "hamas") in by


def test_member_envoy_speaks_for_the_group_plan():
    text = ("Sudan truce plan\n\nThe Quad proposed a humanitarian truce of three months in Sudan. "
            "A US envoy said the plan led by the United States would begin with the truce and be "
            "followed by a political process of nine months toward civilian rule.")
    by = {(t.category, t.proposer) for t in extract(text, gazetteer=load_gazetteer()).terms}
    assert ("elections_transition", "quad") in by
    assert not any(p == "united-states" for _, p in by)


def test_joint_discussion_is_found_without_an_agreement_word():
    """joint_spans' pre-check covers _JOINT_MORE's own words ("discussed", "brokered"...)."""
    from watcher.terms.roles import joint_spans

    assert joint_spans("The two sides discussed prisoner swaps.") == [(0, 23)]
