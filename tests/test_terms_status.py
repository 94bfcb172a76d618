"""Status sentences about an existing deal or proposal (TERMS.md stances `in_effect`,
`violated`, `accepted`, `rejected`, `withdrawn`).

A story that says a truce took effect, that one side broke it, that a party rejected or
dropped a proposal reports where a known term stands. Conventions (as in the dev set's
labels): the terms of a concluded deal belong to `agreement`; a named plan or truce ("the
Russian proposal", "Putin's Easter truce") to its owner; the speaker and the side that
accuses another of a violation are no proposers; the side said to have broken the deal is
the term's `party`; an answer to someone's plan is a response on the plan's term, which
keeps the owner's own stance.

Short wire-style sentences written for these tests (not taken from any article).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watcher.terms import extract

# the date these stories are read on: "the January 2025 ceasefire" is current then
READ_AT = datetime(2026, 11, 22, tzinfo=UTC)


def _terms(text: str):
    e = extract(text, title="", as_of=READ_AT)
    return e, [(t.conflict, t.category, t.proposer, t.stance) for t in e.terms]


def _one(text: str, conflict: str, category: str, proposer: str, stance: str, *, party=None,
         responses=None, places=None):
    e, got = _terms(text)
    hits = [t for t in e.terms if (t.conflict, t.category) == (conflict, category)]
    assert hits, f"no {conflict}/{category} in {got}"
    t = hits[0]
    assert (t.proposer, t.stance) == (proposer, stance), got
    assert t.values.get("party") == party, t.values
    if responses is not None:
        assert sorted(t.responses, key=lambda r: r["actor"]) == sorted(responses, key=lambda r: r["actor"]), \
            t.responses
    if places is not None:
        assert set(places) <= set(t.values["places"]), t.values["places"]
    return t


# ---- the deal was violated: `agreement`'s term, the violator as party, the accuser nowhere ----

@pytest.mark.parametrize(("text", "conflict", "category", "party", "places"), [
    ("Israel accused Hamas of violating the ceasefire in Gaza, the army said.",
     "israel-hamas", "ceasefire", "hamas", ["gaza"]),
    ("Hamas violated the ceasefire agreement, Israeli Prime Minister Benjamin Netanyahu said on Sunday.",
     "israel-hamas", "ceasefire", "hamas", None),
    # a deal named by a recent year is the one in force, not history
    ("Israel accused Hamas of violating the January 2025 ceasefire in Gaza.",
     "israel-hamas", "ceasefire", "hamas", ["gaza"]),
    ("The RSF breached the humanitarian truce within hours.",
     "sudan", "humanitarian_pause", "rsf", None),
    ("Azerbaijan said Armenian forces violated the ceasefire in Nagorno-Karabakh overnight.",
     "armenia-azerbaijan", "ceasefire", "armenia", ["nagorno-karabakh"]),
    ("Lebanon said Israel has repeatedly violated the ceasefire with Hezbollah.",
     "israel-hezbollah", "ceasefire", "israel", None),
    ("India accused Pakistan of breaching the ceasefire along the Line of Control.",
     "india-pakistan", "ceasefire", "pakistan", None),
    ("M23 rebels broke the truce and seized the town of Uvira, the Congolese army said.",
     "drc-rwanda", "ceasefire", "m23", None),
    ("Russian forces breached the energy truce by striking a power plant in Kharkiv, Zelensky said.",
     "russia-ukraine", "partial_scope", "russia", None),
    ("Kyiv reported violations of the Black Sea ceasefire by Russia.",
     "russia-ukraine", "partial_scope", "russia", ["black-sea"]),
    ("Russia accused Ukraine of breaking the energy truce, the Kremlin said.",
     "russia-ukraine", "partial_scope", "ukraine", None),
    ("Hamas said Israel was violating the truce by blocking aid to Gaza.",
     "israel-hamas", "ceasefire", "israel", None),
])
def test_violation_is_the_deals_term(text, conflict, category, party, places):
    t = _one(text, conflict, category, "agreement", "violated", party=party, places=places)
    assert t.responses == []  # the accuser does not answer the term


def test_collapse_is_a_violation_without_a_culprit():
    _one("The Houthis said the truce had collapsed.", "yemen", "ceasefire", "agreement", "violated")
    _one("Saudi Arabia and the US said the humanitarian truce in Sudan was violated by both sides.",
         "sudan", "humanitarian_pause", "agreement", "violated")


def test_an_owned_truce_stays_its_owners():
    _one("Ukraine accused Russia of violating Putin's Easter truce in Donetsk.",
         "russia-ukraine", "humanitarian_pause", "russia", "violated", party="russia")


@pytest.mark.parametrize("text", [
    "Israel denied violating the ceasefire in Gaza.",
    "Hamas has not violated the ceasefire, its spokesman said.",
])
def test_a_denied_violation_is_no_term_and_no_rejection(text):
    # no term at all, so no rejection response either
    assert _terms(text)[1] == []


# ---- the deal took effect ----

@pytest.mark.parametrize(("text", "conflict", "category"), [
    ("The ceasefire between Israel and Hamas took effect on Sunday morning, Qatar said.",
     "israel-hamas", "ceasefire"),
    ("The ceasefire between Israel and Hezbollah came into force at 4 a.m. on Wednesday.",
     "israel-hezbollah", "ceasefire"),
    ("The ceasefire agreement between Thailand and Cambodia entered into force at midnight.",
     "thailand-cambodia", "ceasefire"),
    ("The truce in Yemen has largely held since April, the UN envoy said.", "yemen", "ceasefire"),
    ("The ceasefire between Israel and Iran appeared to be holding on Wednesday.", "israel-iran", "ceasefire"),
    ("The Tigray truce has held for two years, the African Union said.", "ethiopia-tigray", "ceasefire"),
])
def test_took_effect(text, conflict, category):
    _one(text, conflict, category, "agreement", "in_effect")


def test_begun_withdrawing_puts_the_deals_terms_in_effect():
    text = ("Armenia and Azerbaijan agreed to a ceasefire in Nagorno-Karabakh. "
            "Both sides have begun withdrawing troops from the buffer zone.")
    _one(text, "armenia-azerbaijan", "troop_withdrawal", "agreement", "in_effect")
    _one(text, "armenia-azerbaijan", "buffer_zone", "agreement", "in_effect")
    _one(text, "armenia-azerbaijan", "ceasefire", "agreement", "accepted")
    _one("Israel began withdrawing troops from the Netzarim corridor under the deal.",
         "israel-hamas", "troop_withdrawal", "agreement", "in_effect", party="israel",
         places=["netzarim-corridor"])


def test_the_bare_sentence_names_no_conflict():
    # no side, no place: nothing ties the sentence to a war
    assert _terms("Both sides have begun withdrawing troops from the buffer zone.")[1] == []


@pytest.mark.parametrize("text", [
    "The ceasefire between Israel and Hamas is due to take effect at midnight, Qatar said.",
    "The ceasefire in Gaza has not taken effect yet, Qatar said.",
])
def test_a_set_start_is_a_concluded_deal_not_yet_in_effect(text):
    _one(text, "israel-hamas", "ceasefire", "agreement", "accepted")


def test_talks_that_began_are_no_truce_in_effect():
    assert all(s != "in_effect" for *_, s in _terms("The ceasefire talks began in Doha on Monday.")[1])


def test_story_reports_the_latest_status():
    text = ("Israel and Hamas agreed to a ceasefire in Gaza on Wednesday, Qatar said. The ceasefire took "
            "effect on Sunday morning. On Tuesday, Israel accused Hamas of violating the ceasefire.")
    e, got = _terms(text)
    assert [x for x in got if x[1] == "ceasefire"] == [("israel-hamas", "ceasefire", "agreement", "violated")]
    assert e.terms[0].values.get("party") == "hamas"


# ---- answers to someone's proposal: a response on the owner's term ----

@pytest.mark.parametrize(("text", "conflict", "proposer", "actor", "answer", "stance"), [
    ("Ukraine rejected the Russian proposal for a ceasefire.",
     "russia-ukraine", "russia", "ukraine", "rejected", "proposed"),
    ("Russia accepted the US plan for a 30-day truce.",
     "russia-ukraine", "united-states", "russia", "accepted", "proposed"),
    ("Ukraine turned down the Russian offer of a three-day truce.",
     "russia-ukraine", "russia", "ukraine", "rejected", "proposed"),
    ("Rwanda welcomed the US plan for a ceasefire in eastern Congo.",
     "drc-rwanda", "united-states", "rwanda", "accepted", "proposed"),
    ("Israel refused to accept the Hamas demand for a permanent ceasefire.",
     "israel-hamas", "hamas", "israel", "rejected", "demanded"),
    ("Hamas did not accept the Egyptian proposal for a truce in Gaza.",
     "israel-hamas", "egypt", "hamas", "rejected", "proposed"),
])
def test_answer_to_a_proposal(text, conflict, proposer, actor, answer, stance):
    _one(text, conflict, "ceasefire", proposer, stance, responses=[{"actor": actor, "stance": answer}])


def test_not_yet_accepted_is_no_answer():
    _one("Hamas has not yet accepted the Egyptian proposal for a truce in Gaza.",
         "israel-hamas", "ceasefire", "egypt", "proposed", responses=[])


def test_acceptance_of_a_proposal_named_earlier():
    text = ("Egypt proposed a 60-day truce in Gaza and the release of hostages. "
            "Hamas said it accepted the Egyptian proposal.")
    for category in ("ceasefire", "hostage_release"):
        _one(text, "israel-hamas", category, "egypt", "proposed",
             responses=[{"actor": "hamas", "stance": "accepted"}])


def test_acceptance_of_an_unnamed_proposal_gives_no_term():
    # the sentence names no term: it answers whatever Egypt proposed elsewhere in the story
    assert _terms("Hamas said it accepted the Egyptian proposal.")[1] == []


# ---- a demand dropped ----

def test_dropped_demand_is_withdrawn():
    _one("Moscow dropped its demand that Kyiv cede Kherson.",
         "russia-ukraine", "territorial_status", "russia", "withdrawn", party="ukraine", places=["kherson"])
    _one("The Kremlin no longer insists that Ukraine withdraw from Zaporizhzhia, Peskov said.",
         "russia-ukraine", "troop_withdrawal", "russia", "withdrawn", party="ukraine",
         places=["zaporizhzhia"])
    _one("Russia no longer demands that Ukraine cede Kherson, Peskov said.",
         "russia-ukraine", "territorial_status", "russia", "withdrawn", party="ukraine")


@pytest.mark.parametrize("text", [
    "Israel said Hamas would violate the ceasefire if it did not release the hostages.",
    "The ceasefire could collapse if Israel resumes strikes, Hamas warned.",
    "Israel threatened to resume fighting if Hamas breached the truce.",
    "Russia accused Ukraine of violating international law by attacking the Kursk region.",
    "Israel said it would withdraw troops from the Philadelphi corridor once the second phase began.",
])
def test_a_threat_or_hypothesis_is_no_status(text):
    assert all(s not in ("violated", "in_effect") for *_, s in _terms(text)[1])


def test_how_old_a_dated_deal_is_depends_on_when_the_story_was_read():
    """Reprocessing an old snapshot reads it as of its own date, not today's."""
    text = "Israel accused Hamas of violating the January 2025 ceasefire in Gaza."
    assert extract(text, title="", as_of=READ_AT).terms  # two years later: still in force
    assert not extract(text, title="", as_of=datetime(2030, 1, 1, tzinfo=UTC)).terms  # history


def test_a_running_deal_is_running_in_all_it_provides():
    """Where the story reports the truce itself in effect, its provisions the rules read as
    merely agreed are in effect too; a provision begun or a breach is not carried, and another
    conflict's deal keeps its stance."""
    from watcher.models import Term
    from watcher.terms.status import carry_running

    terms = [Term("sudan", "ceasefire", "agreement", "in_effect"),
             Term("sudan", "humanitarian_access", "agreement", "accepted"),
             Term("sudan", "troop_withdrawal", "rsf", "accepted"),
             Term("sudan", "prisoner_exchange", "agreement", "violated"),
             Term("yemen", "ceasefire", "agreement", "accepted")]
    got = [(t.category, t.conflict, t.stance) for t in carry_running(terms)]
    assert got == [("ceasefire", "sudan", "in_effect"), ("humanitarian_access", "sudan", "in_effect"),
                   ("troop_withdrawal", "sudan", "accepted"), ("prisoner_exchange", "sudan", "violated"),
                   ("ceasefire", "yemen", "accepted")]
    assert carry_running(terms[1:]) == terms[1:]
    begun = [Term("sudan", "troop_withdrawal", "agreement", "in_effect"), Term("sudan", "ceasefire", "agreement", "accepted")]
    assert carry_running(begun) == begun


def test_the_provisions_of_a_truce_that_took_effect_are_in_effect():
    _, got = _terms("The ceasefire between Sudan's army and the RSF took effect at midnight on Monday. "
                    "Under the deal, both sides agreed to open corridors for humanitarian aid.")
    assert ("sudan", "humanitarian_access", "agreement", "in_effect") in got
