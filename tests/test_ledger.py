"""The ledger fold: which reports are changes, and which are not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from watcher.ledger import Observation, fold, merged_values, normalise_values, value_differences
from watcher.models import Term

KEY = ("russia-ukraine", "russia", "troop_withdrawal")


def term(stance: str = "demanded", *, places: list[str] | None = None, numbers: list | None = None,
         party: str | None = None, responses: list | None = None, precondition: bool = False,
         category: str = "troop_withdrawal", proposer: str = "russia") -> Term:
    values: dict = {"places": places or [], "numbers": numbers or []}
    if party:
        values["party"] = party
    return Term("russia-ukraine", category, proposer, stance, precondition, values, responses or [], "q", (0, 1))


def obs(source: str = "a.example", *, version: int = 1, previous: list | None = None, at: str = "2024-06-24 10:00:00") -> Observation:
    return Observation(1, 10, version, "https://a.example/x", source, at, previous)


def row_after(result, key=KEY) -> dict:
    return next(r for r in result.ledger if (r["conflict"], r["proposer"], r["category"]) == key)


def apply(ledger: dict, t: Term, o: Observation):
    key = (t.conflict, t.proposer, t.category)
    result = fold({key: ledger.get(key)}, [(1, t)], o)
    for r in result.ledger:
        ledger[(r["conflict"], r["proposer"], r["category"])] = r
    return result


def test_first_report_is_new() -> None:
    result = fold({KEY: None}, [(7, term(places=["donetsk"]))], obs())
    assert [c.kind for c in result.changes] == ["new"]
    assert result.changes[0].term_id == 7
    assert row_after(result)["sources"] == ["a.example"]


def test_same_term_from_second_outlet_raises_source_count_only() -> None:
    ledger: dict = {}
    apply(ledger, term(places=["donetsk", "luhansk"]), obs("a.example"))
    result = apply(ledger, term(places=["donetsk", "luhansk"]), obs("b.example"))
    assert result.changes == []
    assert ledger[KEY]["sources"] == ["a.example", "b.example"]
    assert ledger[KEY]["observations"] == 2


def test_widened_places_is_changed_with_before_and_after() -> None:
    ledger: dict = {}
    apply(ledger, term(places=["donetsk", "luhansk"]), obs())
    result = apply(ledger, term(places=["donetsk", "kharkiv", "luhansk"]), obs("b.example"))
    (change,) = result.changes
    assert change.kind == "changed"
    assert "widened" in change.summary and "+kharkiv" in change.summary
    assert change.before["values"]["places"] == ["donetsk", "luhansk"]
    assert change.after["values"]["places"] == ["donetsk", "kharkiv", "luhansk"]


def test_partial_mention_is_not_a_narrowing() -> None:
    ledger: dict = {}
    apply(ledger, term(places=["donetsk", "kherson", "luhansk", "zaporizhzhia"]), obs())
    result = apply(ledger, term(places=["donetsk"]), obs("b.example"))
    assert result.changes == []
    assert ledger[KEY]["values"]["places"] == ["donetsk", "kherson", "luhansk", "zaporizhzhia"]


def test_duration_change() -> None:
    ledger: dict = {}
    t30 = term("proposed", numbers=[{"value": 30, "unit": "days"}], category="duration_phasing", proposer="united-states")
    t60 = term("proposed", numbers=[{"value": 60, "unit": "days"}], category="duration_phasing", proposer="united-states")
    apply(ledger, t30, obs())
    (change,) = apply(ledger, t60, obs("b.example")).changes
    assert change.kind == "changed" and "30 days → 60 days" in change.summary


def test_reaffirmation_is_no_change() -> None:
    ledger: dict = {}
    apply(ledger, term("proposed"), obs())
    assert apply(ledger, term("reaffirmed"), obs("b.example")).changes == []
    assert ledger[KEY]["stance"] == "proposed"


def test_proposed_then_demanded_is_no_change() -> None:
    ledger: dict = {}
    apply(ledger, term("proposed"), obs())
    assert apply(ledger, term("demanded"), obs("b.example")).changes == []


def test_rejection_is_a_status_change() -> None:
    ledger: dict = {}
    apply(ledger, term("proposed"), obs())
    (change,) = apply(ledger, term("proposed", responses=[{"actor": "ukraine", "stance": "rejected"}]), obs("b")).changes
    assert change.kind == "status" and "ukraine rejected" in change.summary


def test_withdrawn() -> None:
    ledger: dict = {}
    apply(ledger, term("demanded"), obs())
    (change,) = apply(ledger, term("withdrawn"), obs("b")).changes
    assert change.kind == "withdrawn"


def test_precondition_becoming_true_is_status() -> None:
    ledger: dict = {}
    apply(ledger, term("demanded"), obs())
    (change,) = apply(ledger, term("demanded", precondition=True), obs("b")).changes
    assert change.kind == "status" and "precondition" in change.summary


def test_edit_of_same_article_is_revised_and_removal_is_reported() -> None:
    previous = [
        {"conflict": "russia-ukraine", "proposer": "russia", "category": "troop_withdrawal", "stance": "demanded",
         "precondition": 1, "values": {"places": ["donetsk"]}, "responses": [], "quote": "old"},
        {"conflict": "russia-ukraine", "proposer": "russia", "category": "neutrality", "stance": "demanded",
         "precondition": 0, "values": {}, "responses": [], "quote": "old2"},
    ]
    current = {KEY: {**previous[0], "first_seen_at": "x", "last_seen_at": "x", "sources": ["a"], "observations": 1}}
    result = fold(current, [(3, term(places=["donetsk", "kharkiv"], precondition=True))], obs(version=2, previous=previous))
    kinds = sorted((c.category, c.kind) for c in result.changes)
    assert kinds == [("neutrality", "revised"), ("troop_withdrawal", "revised")]


def test_two_sentences_one_term_are_merged() -> None:
    result = fold({KEY: None}, [(1, term("proposed", places=["donetsk"])), (2, term("demanded", places=["kherson"]))], obs())
    (change,) = result.changes
    assert change.after["values"]["places"] == ["donetsk", "kherson"]
    assert change.after["stance"] == "demanded"


place_lists = st.lists(st.sampled_from(["donetsk", "luhansk", "kherson", "crimea", "gaza"]), max_size=5)


@given(place_lists, place_lists)
def test_value_comparison_properties(a: list[str], b: list[str]) -> None:
    va, vb = {"places": a}, {"places": b}
    assert value_differences(va, va) == []  # nothing differs from itself
    assert normalise_values(normalise_values(va)) == normalise_values(va)
    merged = merged_values(va, vb)
    # a report never loses places the ledger knew unless it names a different set
    if set(b) <= set(a):
        assert set(merged.get("places", [])) == set(a)
    if set(b) - set(a):
        assert value_differences(va, vb)


def test_second_outlet_naming_one_of_two_durations_is_no_change() -> None:
    ledger: dict = {}
    both = term("proposed", numbers=[{"value": 30, "unit": "days"}, {"value": 60, "unit": "days"}],
                category="duration_phasing")
    apply(ledger, both, obs())
    one = term("proposed", numbers=[{"value": 30, "unit": "days"}], category="duration_phasing")
    key = ("russia-ukraine", "russia", "duration_phasing")
    assert apply(ledger, one, obs("b.example")).changes == []
    assert len(ledger[key]["values"]["numbers"]) == 2


def test_equivalent_durations_are_no_change() -> None:
    ledger: dict = {}
    apply(ledger, term("proposed", numbers=[{"value": 30, "unit": "days"}], category="duration_phasing"), obs())
    same = term("proposed", numbers=[{"value": 1, "unit": "months"}], category="duration_phasing")
    assert apply(ledger, same, obs("b.example")).changes == []
    longer = term("proposed", numbers=[{"value": 2, "unit": "months"}], category="duration_phasing")
    (change,) = apply(ledger, longer, obs("c.example")).changes
    assert "30 days → 2 months" in change.summary


def _prev_row(**kw: object) -> dict:
    row = {"conflict": "russia-ukraine", "proposer": "russia", "category": "troop_withdrawal",
           "stance": "demanded", "precondition": 0, "values": {}, "responses": [], "quote": "q"}
    row.update(kw)
    return row


def test_edit_elsewhere_in_article_is_no_revision_of_a_term_stated_twice() -> None:
    previous = [_prev_row(stance="proposed"), _prev_row(values={"places": ["donetsk"]})]
    current = {KEY: {**_prev_row(values={"places": ["donetsk"]}), "first_seen_at": "x", "last_seen_at": "x",
                     "sources": ["a"], "observations": 1}}
    terms = [(1, term("proposed")), (2, term("demanded", places=["donetsk"]))]
    assert fold(current, terms, obs(version=2, previous=previous)).changes == []


def test_unchanged_revision_does_not_move_the_ledger() -> None:
    """An old article edited elsewhere still says 30 days; the ledger (60 days, from another
    outlet) must stay at 60 and no change is recorded."""
    prev = [_prev_row(category="duration_phasing", stance="proposed",
                      values={"numbers": [{"value": 30, "unit": "days"}]})]
    key = ("russia-ukraine", "russia", "duration_phasing")
    ledger_row = {**prev[0], "values": {"numbers": [{"value": 60, "unit": "days"}]}, "first_seen_at": "x",
                  "last_seen_at": "x", "sources": ["a", "b"], "observations": 2}
    t30 = term("proposed", numbers=[{"value": 30, "unit": "days"}], category="duration_phasing")
    result = fold({key: ledger_row}, [(5, t30)], obs(version=2, previous=prev))
    assert result.changes == []
    assert row_after(result, key)["values"]["numbers"] == [{"value": 60, "unit": "days"}]
    assert row_after(result, key)["observations"] == 3


def test_after_is_the_term_as_it_now_stands() -> None:
    ledger: dict = {}
    apply(ledger, term(places=["donetsk"], responses=[{"actor": "ukraine", "stance": "rejected"}]), obs())
    (change,) = apply(ledger, term(places=["donetsk", "kharkiv"]), obs("b.example")).changes
    assert change.after["responses"] == [{"actor": "ukraine", "stance": "rejected"}]
    assert change.after["values"]["places"] == ["donetsk", "kharkiv"]


def test_restating_a_deal_after_it_took_effect_is_no_step_back() -> None:
    key = ("russia-ukraine", "agreement", "ceasefire")
    ledger: dict = {}
    apply(ledger, term("in_effect", category="ceasefire", proposer="agreement"), obs())
    assert apply(ledger, term("accepted", category="ceasefire", proposer="agreement"), obs("b")).changes == []
    assert ledger[key]["stance"] == "in_effect"
    (change,) = apply(ledger, term("violated", party="russia", category="ceasefire", proposer="agreement"),
                      obs("c")).changes
    assert change.kind == "status" and "in_effect → violated by russia" in change.summary
    # holding again after a violation is news
    (again,) = apply(ledger, term("in_effect", category="ceasefire", proposer="agreement"), obs("d")).changes
    assert again.kind == "status"


def test_violation_party_does_not_overwrite_the_deals_party() -> None:
    key = ("russia-ukraine", "agreement", "troop_withdrawal")
    ledger: dict = {}
    apply(ledger, term("accepted", party="russia", category="troop_withdrawal", proposer="agreement"), obs())
    (change,) = apply(ledger, term("violated", party="ukraine", category="troop_withdrawal",
                                   proposer="agreement"), obs("b")).changes
    assert change.kind == "status" and "violated by ukraine" in change.summary
    assert ledger[key]["values"]["party"] == "russia"
    assert ledger[key]["values"]["violated_by"] == "ukraine"


# --- issue 13: a first figure is news; one report delivers every part; flip-flops ---------


def test_first_figure_on_a_known_term_is_a_change_from_not_stated() -> None:
    """Phased (no figure), then 60 days, then 90: the 60 reaches the reader, so the later
    '60 days → 90 days' never quotes a figure no change carried."""
    key = ("russia-ukraine", "hamas", "duration_phasing")
    ledger: dict = {}
    phased = term("demanded", category="duration_phasing", proposer="hamas")
    assert [c.kind for c in apply(ledger, phased, obs()).changes] == ["new"]
    (sixty,) = apply(ledger, term("demanded", numbers=[{"value": 60, "unit": "days"}], category="duration_phasing",
                                  proposer="hamas"), obs("b")).changes
    assert sixty.kind == "changed" and sixty.summary == "hamas: duration_phasing changed: not stated → 60 days"
    assert sixty.before["values"] == {} and sixty.after["values"]["numbers"] == [{"value": 60, "unit": "days"}]
    (ninety,) = apply(ledger, term("demanded", numbers=[{"value": 90, "unit": "days"}], category="duration_phasing",
                                   proposer="hamas"), obs("c")).changes
    assert "60 days → 90 days" in ninety.summary
    assert ledger[key]["values"]["numbers"] == [{"value": 90, "unit": "days"}]


def test_first_party_place_list_and_troop_figure_are_changes() -> None:
    ledger: dict = {}
    apply(ledger, term("demanded"), obs())
    (party,) = apply(ledger, term("demanded", party="ukraine"), obs("b")).changes
    assert party.kind == "changed" and "party not stated → ukraine" in party.summary
    (places,) = apply(ledger, term("demanded", party="ukraine", places=["donetsk", "luhansk"]), obs("c")).changes
    assert places.kind == "changed" and "places not stated → donetsk, luhansk" in places.summary
    key = ("russia-ukraine", "eu", "monitoring_peacekeeping")
    troops = [{"value": 1000, "unit": "troops"}, {"value": 2000, "unit": "troops"}]
    apply(ledger, term("proposed", category=key[2], proposer=key[1]), obs())
    (first,) = apply(ledger, term("proposed", numbers=troops, category=key[2], proposer=key[1]), obs("b")).changes
    assert "not stated → 1000 troops/2000 troops" in first.summary
    (later,) = apply(ledger, term("proposed", numbers=[{"value": 6000, "unit": "troops"}], category=key[2],
                                  proposer=key[1]), obs("c")).changes
    assert "1000 troops/2000 troops → 6000 troops" in later.summary


def test_a_report_that_widens_and_says_it_took_effect_delivers_both() -> None:
    key = ("russia-ukraine", "agreement", "troop_withdrawal")
    ledger: dict = {}
    apply(ledger, term("accepted", places=["donetsk"], category=key[2], proposer=key[1]), obs())
    changes = apply(ledger, term("in_effect", places=["donetsk", "kherson"], category=key[2], proposer=key[1]),
                    obs("b")).changes
    assert [(c.kind, c.summary) for c in changes] == [
        ("changed", "agreement: troop_withdrawal widened: places +kherson"),
        ("status", "agreement: troop_withdrawal accepted → in_effect"),
    ]
    # both carry the term as it now stands
    assert all(c.after["stance"] == "in_effect" and c.after["values"]["places"] == ["donetsk", "kherson"]
               for c in changes)


def test_added_places_and_a_rejection_and_a_precondition_in_one_report() -> None:
    ledger: dict = {}
    apply(ledger, term("demanded", places=["donetsk"], responses=[{"actor": "eu", "stance": "rejected"}]), obs())
    report = term("demanded", places=["donetsk", "kharkiv"], precondition=True,
                  responses=[{"actor": "ukraine", "stance": "rejected"}, {"actor": "eu", "stance": "accepted"}])
    changed, status = apply(ledger, report, obs("b")).changes
    assert changed.kind == "changed" and "+kharkiv" in changed.summary
    assert status.kind == "status"
    assert status.summary == "russia: troop_withdrawal now a precondition; ukraine rejected; eu accepted (was rejected)"


def test_a_reaffirmation_confirms_the_stance_but_delivers_a_new_response() -> None:
    ledger: dict = {}
    apply(ledger, term("proposed"), obs())
    (change,) = apply(ledger, term("reaffirmed", responses=[{"actor": "ukraine", "stance": "rejected"}]),
                      obs("b")).changes
    assert change.kind == "status" and change.summary == "russia: troop_withdrawal ukraine rejected"
    assert ledger[KEY]["stance"] == "proposed"


def test_withdrawal_with_responses_is_one_withdrawn_change_naming_them() -> None:
    ledger: dict = {}
    apply(ledger, term("demanded"), obs())
    (change,) = apply(ledger, term("withdrawn", responses=[{"actor": "ukraine", "stance": "accepted"}]),
                      obs("b")).changes
    assert change.kind == "withdrawn"
    assert change.summary == "russia: troop_withdrawal withdrawn (demanded before); ukraine accepted"


def test_flip_flop_from_another_outlet_is_one_correction() -> None:
    """hamas → israel (one outlet) → hamas (the next report, another outlet): the second
    change is a correction of the first, and the ledger is back where it was."""
    key = ("russia-ukraine", "agreement", "hostage_release")
    ledger: dict = {}

    def report(party: str, source: str) -> list:
        return apply(ledger, term("accepted", party=party, category=key[2], proposer=key[1]), obs(source)).changes

    report("hamas", "a.example")
    (flip,) = report("israel", "b.example")
    assert flip.summary == "agreement: hostage_release changed: party hamas → israel"
    (back,) = report("hamas", "c.example")
    assert back.kind == "changed"
    assert back.summary == ("agreement: hostage_release changed: party israel → hamas; "
                            "correction: party israel was reported by b.example only")
    assert ledger[key]["values"]["party"] == "hamas"


def test_stance_flip_flop_is_one_correction() -> None:
    key = ("russia-ukraine", "agreement", "ceasefire")
    ledger: dict = {}
    apply(ledger, term("in_effect", category=key[2], proposer=key[1]), obs("a"))
    apply(ledger, term("violated", category=key[2], proposer=key[1]), obs("b"))
    (back,) = apply(ledger, term("in_effect", category=key[2], proposer=key[1]), obs("c")).changes
    assert back.summary == "agreement: ceasefire violated → in_effect; correction: violated was reported by b only"


def test_a_first_response_answered_otherwise_next_is_no_correction() -> None:
    """The latest change added a responder (nothing to restore it to); the next report from
    another outlet gives that responder another stance: an ordinary status change. (It
    raised KeyError when the corpus's labelled chains were folded through the ledger.)"""
    key = ("russia-ukraine", "agreement", "ceasefire")
    ledger: dict = {}
    apply(ledger, term("accepted", category=key[2], proposer=key[1]), obs("a"))
    apply(ledger, term("accepted", category=key[2], proposer=key[1],
                       responses=[{"actor": "m23", "stance": "rejected"}]), obs("b"))
    (nxt,) = apply(ledger, term("accepted", category=key[2], proposer=key[1],
                                responses=[{"actor": "m23", "stance": "accepted"}]), obs("c")).changes
    assert nxt.kind == "status" and "correction" not in nxt.summary


def test_what_is_not_a_flip_flop() -> None:
    key = ("russia-ukraine", "agreement", "hostage_release")

    def chain(*reports: tuple) -> list:
        ledger: dict = {}
        out = []
        for party, source, *places in reports:
            t = term("accepted", party=party, places=places or None, category=key[2], proposer=key[1])
            out = apply(ledger, t, obs(source)).changes
        return [c.summary for c in out]

    # the same outlet changing its mind again is news in its own right
    assert not any("correction" in s for s in chain(("hamas", "a"), ("israel", "b"), ("hamas", "b")))
    # another report came between (the contradiction was confirmed, or restated)
    assert not any("correction" in s for s in chain(("hamas", "a"), ("israel", "b"), ("israel", "c"), ("hamas", "d")))
    # the contradicting report moved two points: a real revision, not a flip
    assert not any("correction" in s for s in chain(("hamas", "a"), ("israel", "b", "gaza"), ("hamas", "c")))
    # the restoring report moves something else as well
    assert not any("correction" in s for s in chain(("hamas", "a"), ("israel", "b"), ("hamas", "c", "rafah")))


def test_the_store_reads_the_flip_flop_rule_from_the_changes_table(tmp_path) -> None:
    """The store rebuilds the latest change from the changes table (live and reprocess);
    the result must equal the pure fold's, which carries it in the ledger row."""
    from watcher.record import replay
    from watcher.store import Store

    key = ("russia-ukraine", "agreement", "hostage_release")
    reports = [("hamas", "a.example"), ("israel", "b.example"), ("hamas", "c.example"), ("israel", "b.example")]
    terms = [term("accepted", party=p, category=key[2], proposer=key[1]) for p, _ in reports]
    ledger: dict = {}
    pure = [c.summary for t, (_, source) in zip(terms, reports, strict=True) for c in apply(ledger, t, obs(source)).changes]

    store = Store.open(tmp_path / "w.db")
    items = []
    for i, (_, source) in enumerate(reports, start=1):
        store.db.execute("insert into articles (id, url, source, first_seen_at) values (?, ?, ?, ?)",
                         [i, f"https://{source}/{i}", source, "2024-06-24 10:00:00"])
        store.db.execute("insert into snapshots (id, article_id, version, fetched_at, content_hash, text_source) "
                         "values (?, ?, 1, ?, ?, 'page')", [i, i, f"2024-06-2{i} 10:00:00", f"h{i}"])
        snap = store.query("select s.*, a.source as article_source from snapshots s join articles a "
                           "on a.id = s.article_id where s.id = ?", [i])[0]
        items.append((snap, [terms[i - 1]]))
    store.db.conn.commit()
    replay(store, items)
    stored = [r["summary"] for r in store.query("select summary from changes order by id")]
    store.close()
    assert stored == pure
    assert sum("correction" in s for s in stored) == 1
