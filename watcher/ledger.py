"""Fold a snapshot's terms into the ledger and say what changed.

The ledger keeps, per (conflict, proposer, category), the latest values and stance of a
term. Comparing a report with it follows how a reader judges news, not how a text diff
does:

* An article rarely repeats every term, so *not mentioned is not dropped*: absent terms,
  and a report that names only some of the places already known, change nothing.
* A reaffirmation ("remains on the table") confirms, it does not change.
* The same term from another outlet raises the source count, not a change.
* Stances are compared by what they mean for the term's life (held, accepted, rejected,
  withdrawn, ...), so "proposed" in one outlet and "demanded" in the next is no change.
* An edit of the same article that changes its terms is ``revised``, judged against the
  article's previous version rather than the ledger.

Pure functions over plain dicts: the store reads the ledger rows, calls :func:`fold` and
writes what it returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from watcher.models import Term

# What a stance means for the life of a term; a change of class is a status change.
STANCE_CLASS = {
    "proposed": "held",
    "demanded": "held",
    "reaffirmed": "held",
    "under_discussion": "under_discussion",
    "accepted": "accepted",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
    "in_effect": "in_effect",
    "violated": "violated",
}
# Where a deal is in its life: a report restating an earlier stage ("under the deal, Hamas
# will...", accepted) after it took effect or was violated confirms; it does not move it back.
_LIFECYCLE = {"held": 0, "under_discussion": 0, "accepted": 1, "in_effect": 2, "violated": 2}


def _restates_earlier(old: str, new: str) -> bool:
    old_stage = _LIFECYCLE.get(STANCE_CLASS.get(old, ""))
    new_stage = _LIFECYCLE.get(STANCE_CLASS.get(new, ""))
    return old_stage is not None and new_stage is not None and new_stage < old_stage


# When one report states the same term twice, the more decisive stance wins.
_STANCE_WEIGHT = {
    "withdrawn": 9,
    "violated": 8,
    "in_effect": 7,
    "rejected": 6,
    "accepted": 5,
    "demanded": 4,
    "proposed": 3,
    "under_discussion": 2,
    "reaffirmed": 1,
}


@dataclass
class Observation:
    """Where a set of terms was read."""

    article_id: int
    snapshot_id: int
    version: int
    url: str
    source: str | None
    observed_at: str
    previous_terms: list[dict] | None = None  # the article's previous version's terms


@dataclass
class Change:
    conflict: str
    proposer: str
    category: str
    kind: str  # new | changed | status | withdrawn | revised
    summary: str
    before: dict | None
    after: dict | None
    quote: str
    term_id: int | None


@dataclass
class FoldResult:
    ledger: list[dict] = field(default_factory=list)  # rows to write
    changes: list[Change] = field(default_factory=list)


# --- value comparison --------------------------------------------------------------------


def normalise_values(values: dict[str, Any] | None) -> dict[str, Any]:
    """Canonical form for comparison: sorted unique places, numbers as (value, unit)."""
    values = values or {}
    out: dict[str, Any] = {}
    places = sorted({p for p in values.get("places") or [] if p})
    if places:
        out["places"] = places
    numbers = sorted(
        {(float(n["value"]), str(n.get("unit") or "")) for n in values.get("numbers") or [] if "value" in n},
        key=lambda n: (n[1], n[0]),
    )
    if numbers:
        out["numbers"] = [{"value": _num(v), "unit": u} for v, u in numbers]
    if values.get("party"):
        out["party"] = values["party"]
    if values.get("text"):
        out["text"] = values["text"]
    if values.get("violated_by"):
        out["violated_by"] = values["violated_by"]
    return out


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# How a change names a field the ledger did not know yet.
NOT_STATED = "not stated"

_DAYS = {"hours": 1 / 24, "days": 1, "weeks": 7, "months": 30, "years": 365}


def _numbers_by_dimension(values: dict) -> dict[str, dict[float, dict]]:
    """Numbers grouped by what they measure, keyed by a comparable size: durations in days
    (so 30 days and 1 month are the same term), anything else by its unit."""
    out: dict[str, dict[float, dict]] = {}
    for n in values.get("numbers", []):
        unit = n.get("unit") or ""
        dimension = "duration" if unit in _DAYS else unit
        size = round(float(n["value"]) * _DAYS.get(unit, 1), 6)
        out.setdefault(dimension, {})[size] = n
    return out


def _fmt_numbers(numbers: dict[float, dict]) -> str:
    return "/".join(f"{_num(n['value'])} {n.get('unit') or ''}".strip() for _, n in sorted(numbers.items()))


def value_differences(old: dict, new: dict) -> list[str]:
    """What a report changes in a term's values, in words; [] when nothing does.

    Only fields the new report states are compared; places named in a report that are a
    subset of the known ones are a partial mention, not a narrowing. A field stated for the
    first time on a known term (a first figure, party or place list) is a change from
    "not stated": the reader must see the 60 days before a later "60 days → 90 days".
    """
    old, new = normalise_values(old), normalise_values(new)
    diffs = []
    old_places, new_places = set(old.get("places", [])), set(new.get("places", []))
    added = new_places - old_places
    if new_places and not old_places:
        # a first place list on a known term is news ("not stated" before)
        diffs.append(f"places {NOT_STATED} → " + ", ".join(sorted(new_places)))
    elif new_places and added:
        removed = old_places - new_places if not new_places <= old_places else set()
        text = "places +" + ", +".join(sorted(added))
        if removed and not (old_places <= new_places):
            text += "; no longer named: " + ", ".join(sorted(removed))
        diffs.append(text)
    old_nums, new_nums = _numbers_by_dimension(old), _numbers_by_dimension(new)
    for dimension, numbers in sorted(new_nums.items()):
        before = old_nums.get(dimension)
        # a report naming some of the known figures is a partial mention, not a change;
        # a first figure of its kind (no duration, no troop count known yet) is news
        if not before or not set(numbers) <= set(before):
            diffs.append(f"{_fmt_numbers(before) if before else NOT_STATED} → {_fmt_numbers(numbers)}")
    if new.get("party") and new["party"] != old.get("party"):
        diffs.append(f"party {old.get('party') or NOT_STATED} → {new['party']}")
    return diffs


def merged_values(old: dict, new: dict) -> dict:
    """The ledger's values after a report: fields the report states replace the old ones,
    except that a partial list of places keeps the fuller known list."""
    old, new = normalise_values(old), normalise_values(new)
    merged = dict(old)
    for key, value in new.items():
        if key == "places" and set(value) <= set(old.get("places", [])):
            continue
        if key == "numbers":
            value = _merged_numbers(old, new)
        merged[key] = value
    return merged


def _merged_numbers(old: dict, new: dict) -> list[dict]:
    """Per dimension, a report's figures replace the known ones unless they are a subset."""
    known, stated = _numbers_by_dimension(old), _numbers_by_dimension(new)
    for dimension, numbers in stated.items():
        if not set(numbers) <= set(known.get(dimension, {})):
            known[dimension] = numbers
    return normalise_values({"numbers": [n for d in known.values() for n in d.values()]}).get("numbers", [])


# --- merging one report's duplicates -----------------------------------------------------


def _merge_same_key(terms: list[tuple[int, Term]]) -> tuple[int, Term]:
    """One report may state a term in several sentences; read them as one statement."""
    if len(terms) == 1:
        return terms[0]
    best_id, best = max(terms, key=lambda it: _STANCE_WEIGHT.get(it[1].stance, 0))
    places: set[str] = set()
    numbers: list[dict] = []
    responses: dict[str, str] = {}
    party = text = None
    for _, term in terms:
        v = term.values or {}
        places.update(v.get("places") or [])
        numbers.extend(n for n in v.get("numbers") or [] if n not in numbers)
        party = party or v.get("party")
        text = text or v.get("text")
        for r in term.responses:
            responses[r["actor"]] = r["stance"]
    values = {"places": sorted(places), "numbers": numbers}
    if party:
        values["party"] = party
    if text:
        values["text"] = text
    merged = Term(
        conflict=best.conflict,
        category=best.category,
        proposer=best.proposer,
        stance=best.stance,
        precondition=any(t.precondition for _, t in terms),
        values=values,
        responses=[{"actor": a, "stance": s} for a, s in sorted(responses.items())],
        quote=best.quote,
        span=best.span,
    )
    return best_id, merged


def _violation_as_value(term: Term) -> Term:
    """A violation report's party is the side accused of breaking the deal, not the side the
    deal obliges: keep it as ``violated_by`` so it neither reads as a changed party nor
    overwrites the deal's own."""
    party = (term.values or {}).get("party")
    if term.stance != "violated" or not party:
        return term
    values = {k: v for k, v in term.values.items() if k != "party"}
    values["violated_by"] = party
    return replace(term, values=values)


def _row_state(row: dict) -> dict:
    """A term's state as changes record it (before/after), from a ledger or terms row."""
    return {
        "stance": row["stance"],
        "precondition": bool(row["precondition"]),
        "values": normalise_values(row["values"]),
        "responses": sorted(row["responses"], key=lambda r: r["actor"]),
    }


def _term_state(term: Term) -> dict:
    return _row_state(vars(term))


def values_text(values: dict[str, Any] | str | None) -> str:
    """A term's values in words: "party ukraine; donetsk, luhansk; 30 days; 1991 borders"."""
    if isinstance(values, str):
        values = json.loads(values or "{}")
    values = values or {}
    bits = []
    if values.get("party"):
        bits.append(f"party {values['party']}")
    if values.get("places"):
        bits.append(", ".join(values["places"]))
    if values.get("numbers"):
        bits.append(", ".join(f"{n['value']} {n.get('unit') or ''}".strip() for n in values["numbers"]))
    if values.get("text"):
        bits.append(str(values["text"]))
    if values.get("violated_by"):
        bits.append(f"violated by {values['violated_by']}")
    return "; ".join(bits)


def responses_text(responses: list[dict] | str | None) -> str:
    """Other actors' reactions in words: "ukraine rejected, eu rejected"."""
    if isinstance(responses, str):
        responses = json.loads(responses or "[]")
    return ", ".join(f"{r['actor']} {r['stance']}" for r in responses or [])


def _describe(term: Term) -> str:
    head = term.stance + (", precondition" if term.precondition else "")
    rest = [t for t in (values_text(normalise_values(term.values)), responses_text(term.responses)) if t]
    return f"{head} — {' · '.join(rest)}" if rest else head


def _response_changes(old: list[dict], new: list[dict]) -> list[str]:
    before = {r["actor"]: r["stance"] for r in old}
    out = []
    for r in new:
        prior = before.get(r["actor"])
        if r["stance"] == "reaffirmed" or prior == r["stance"]:
            continue
        out.append(f"{r['actor']} {r['stance']}" + (f" (was {prior})" if prior else ""))
    return out


def _merge_responses(old: list[dict], new: list[dict]) -> list[dict]:
    merged = {r["actor"]: r["stance"] for r in old}
    for r in new:
        if r["stance"] != "reaffirmed":
            merged[r["actor"]] = r["stance"]
    return [{"actor": a, "stance": s} for a, s in sorted(merged.items())]


# --- the fold ----------------------------------------------------------------------------


def fold(
    current: dict[tuple[str, str, str], dict | None],
    terms: list[tuple[int, Term]],
    obs: Observation,
) -> FoldResult:
    """Compare one snapshot's terms with the ledger; return new ledger rows and changes.

    ``current`` maps each (conflict, proposer, category) the snapshot mentions to its ledger
    row (or None); ``terms`` pairs each stored term id with its term.
    """
    result = FoldResult()
    grouped: dict[tuple[str, str, str], list[tuple[int, Term]]] = {}
    for term_id, term in terms:
        grouped.setdefault((term.conflict, term.proposer, term.category), []).append((term_id, term))

    previous = None
    if obs.previous_terms is not None:
        previous = {}
        for row in obs.previous_terms:
            previous.setdefault((row["conflict"], row["proposer"], row["category"]), []).append(row)

    for key in sorted(grouped):
        term_id, term = _merge_same_key(grouped[key])
        term = _violation_as_value(term)
        row = current.get(key)
        revised = previous is not None and key in previous
        if revised:
            changes = [c for c in [_revision(key, term_id, term, previous[key])] if c is not None]
        elif row is None:
            kind = "withdrawn" if term.stance == "withdrawn" else "new"
            changes = [Change(*key, kind, f"{key[1]}: {kind} {key[2]} ({_describe(term)})",
                              None, _term_state(term), term.quote, term_id)]
        else:
            changes = _against_ledger(key, term_id, term, row)
        if revised and not changes and row is not None:
            # the edit left this term as it was: it confirms, it must not move the ledger
            new_row = _confirmed_row(row, term_id, obs)
        else:
            new_row = _updated_row(key, term_id, term, row, obs)
        if not revised and row is not None and changes:
            correction = _flip_flop(row, new_row, obs)
            for change in changes:
                # after: the term as it now stands on the table (this report folded into
                # what was known), so a report that omits a known response does not
                # read as if the response were gone
                change.after = _row_state(new_row)
                if correction:
                    change.summary += f"; {correction}"
        if changes:
            new_row["last_change"] = _last_change(changes, obs)
        result.changes.extend(changes)
        result.ledger.append(new_row)

    if previous is not None:
        for key, rows in sorted(previous.items()):
            if key not in grouped:
                before = _row_state(rows[0])
                result.changes.append(Change(
                    *key, "revised", f"{key[1]}: {key[2]} no longer reported in the edited article",
                    before, None, rows[0].get("quote") or "", None,
                ))
    return result


# --- flip-flops ---------------------------------------------------------------------------
#
# Extraction along a chain sometimes alternates a term's party or stance (hamas → israel →
# hamas). The rule: when the latest change of a term moved exactly one point (its stance
# class, party, places, figures, or one responder's stance) on the word of one outlet, and
# the very next report of the term comes from another outlet and puts that point back as it
# was, moving nothing else, the second change is a *correction* of the first, not news of
# its own: its summary ends "correction: <the point> was reported by <outlet> only". So a
# flip-flop reaches the reader as one change and at most one correction, never as two
# developments; the ledger returns to the restored value. A correction is not itself
# corrected: outlets that keep contradicting each other get plain changes after it.


CORRECTION = "correction: "


def _points(state: dict) -> dict[str, Any]:
    """The parts of a term's state a change can move, each comparable on its own."""
    values = normalise_values(state.get("values"))
    points: dict[str, Any] = {
        "stance": STANCE_CLASS.get(state.get("stance", ""), state.get("stance")),
        "party": values.get("party"),
        "places": tuple(values.get("places", [])),
        "numbers": tuple(sorted((d, tuple(sorted(n))) for d, n in _numbers_by_dimension(values).items())),
        "precondition": bool(state.get("precondition")),
    }
    for r in state.get("responses") or []:
        points[f"response {r['actor']}"] = r["stance"]
    return points


def _moved(before: dict, after: dict) -> list[str]:
    old, new = _points(before), _points(after)
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _point_text(state: dict, point: str) -> str:
    if point == "stance":
        return str(state.get("stance"))
    if point.startswith("response "):
        actor = point.split(" ", 1)[1]
        return next(f"{actor} {r['stance']}" for r in state.get("responses") or [] if r["actor"] == actor)
    if point == "party":
        return f"party {normalise_values(state.get('values')).get('party')}"
    return values_text({point: normalise_values(state.get("values")).get(point)})


def last_change(kinds: list[str], summary: str, term_id: int | None, source: str | None,
                before: dict | None, after: dict | None) -> dict:
    """What the flip-flop rule keeps of a term's latest change, from the change rows one
    report wrote for it: the fold carries it in the ledger row it returns, the write stage
    rebuilds it from the ``changes`` table, so both read the same. Only a report that
    changed the term against the ledger can be flipped back, and a correction is not
    corrected again (a ping-pong of outlets gets one correction, not one per report)."""
    flippable = set(kinds) <= {"changed", "status"} and f"; {CORRECTION}" not in summary
    return {"term_id": term_id, "source": source,
            "before": before if flippable else None, "after": after if flippable else None}


def _last_change(changes: list[Change], obs: Observation) -> dict:
    first = changes[0]
    return last_change([c.kind for c in changes], first.summary, first.term_id, obs.source, first.before, first.after)


def _flip_flop(row: dict, new_row: dict, obs: Observation) -> str | None:
    """The correction note when this report undoes the term's latest change (see above)."""
    last = row.get("last_change")
    if not last or last.get("before") is None or last.get("after") is None:
        return None
    if last["term_id"] != row.get("last_term_id"):
        return None  # another report came between: not the very next report
    if not obs.source or not last.get("source") or last["source"] == obs.source:
        return None  # the same outlet changing its mind is news in its own right
    moved = _moved(last["before"], last["after"])
    if len(moved) != 1:
        return None
    now = _row_state(new_row)
    # a point the latest change added (a first response) has nothing to be restored to
    if _moved(_row_state(row), now) != moved or _points(now).get(moved[0]) != _points(last["before"]).get(moved[0]):
        return None
    return f"{CORRECTION}{_point_text(last['after'], moved[0])} was reported by {last['source']} only"


def _row_term(row: dict) -> Term:
    return Term(row["conflict"], row["category"], row["proposer"], row["stance"], bool(row["precondition"]),
                row["values"], row["responses"], row.get("quote") or "", (0, 0))


def _revision(key: tuple[str, str, str], term_id: int, term: Term, rows: list[dict]) -> Change | None:
    """Compare with the previous version's statement of the same term, read as one (like
    the current version's, several sentences merge)."""
    _, previous = _merge_same_key([(0, _row_term(r)) for r in rows])
    before = _term_state(previous)
    after = _term_state(term)
    diffs = value_differences(before["values"], after["values"])
    if STANCE_CLASS.get(before["stance"]) != STANCE_CLASS.get(term.stance) and term.stance != "reaffirmed":
        diffs.append(f"{before['stance']} → {term.stance}")
    diffs += _response_changes(before["responses"], term.responses)
    if not diffs:
        return None
    return Change(*key, "revised", f"{key[1]}: {key[2]} revised in the article: " + "; ".join(diffs),
                  before, after, term.quote, term_id)


def _against_ledger(key: tuple[str, str, str], term_id: int, term: Term, row: dict) -> list[Change]:
    """Every part of the term this report moves, none dropped: the values in a ``changed``
    change; the stance, the precondition and each responder's stance in one ``status``
    change (``withdrawn`` when the report drops the term). A story that widens a withdrawal
    and says it took effect delivers both."""
    before = _row_state(row)
    after = _term_state(term)
    changes = []
    diffs = value_differences(before["values"], after["values"])
    if diffs:
        verb = "widened" if diffs[0].startswith("places +") else "changed"
        changes.append(Change(*key, "changed", f"{key[1]}: {key[2]} {verb}: " + "; ".join(diffs),
                              before, after, term.quote, term_id))
    status = []
    withdrawn = term.stance == "withdrawn" and row["stance"] != "withdrawn"
    if withdrawn:
        status.append(f"withdrawn ({row['stance']} before)")
    elif (term.stance != "reaffirmed" and STANCE_CLASS.get(row["stance"]) != STANCE_CLASS.get(term.stance)
          and not _restates_earlier(row["stance"], term.stance)):
        by = (term.values or {}).get("violated_by")
        status.append(f"{row['stance']} → {term.stance}" + (f" by {by}" if by else ""))
    if term.precondition and not row["precondition"]:
        status.append("now a precondition")
    status += _response_changes(row["responses"], term.responses)
    if status:
        kind = "withdrawn" if withdrawn else "status"
        summary = f"{key[1]}: {key[2]} " + "; ".join(status)
        changes.append(Change(*key, kind, summary, before, after, term.quote, term_id))
    return changes


def _updated_row(
    key: tuple[str, str, str], term_id: int, term: Term, row: dict | None, obs: Observation
) -> dict:
    sources = _sources_after(row, obs)
    if row is None:
        return {
            "conflict": key[0], "proposer": key[1], "category": key[2],
            "stance": term.stance, "precondition": bool(term.precondition),
            "values": normalise_values(term.values),
            "responses": _merge_responses([], term.responses),
            "first_seen_at": obs.observed_at, "last_seen_at": obs.observed_at,
            "sources": sources, "observations": 1,
            "last_term_id": term_id, "last_quote": term.quote,
        }
    reaffirmed = term.stance == "reaffirmed"
    return {
        "conflict": key[0], "proposer": key[1], "category": key[2],
        "stance": row["stance"] if reaffirmed else _ledger_stance(row["stance"], term.stance),
        "precondition": bool(row["precondition"]) or bool(term.precondition),
        "values": merged_values(row["values"], term.values),
        "responses": _merge_responses(row["responses"], term.responses),
        "first_seen_at": row["first_seen_at"],
        "last_seen_at": max(row["last_seen_at"], obs.observed_at),
        "sources": sources, "observations": row["observations"] + 1,
        "last_term_id": term_id, "last_quote": term.quote,
    }


def _sources_after(row: dict | None, obs: Observation) -> list[str]:
    """The outlets that reported a term, this report's included (each once)."""
    sources = list(row["sources"]) if row else []
    if obs.source and obs.source not in sources:
        sources.append(obs.source)
    return sources


def _confirmed_row(row: dict, term_id: int, obs: Observation) -> dict:
    """The ledger row seen again, unchanged: only when, where and how often."""
    return {**row, "sources": _sources_after(row, obs), "observations": row["observations"] + 1,
            "last_seen_at": max(row["last_seen_at"], obs.observed_at), "last_term_id": term_id}


def _ledger_stance(old: str, new: str) -> str:
    """Within the same class keep the firmer wording (a demand stays a demand); a restated
    earlier stage does not move a deal back."""
    if _restates_earlier(old, new):
        return old
    if STANCE_CLASS.get(old) == STANCE_CLASS.get(new):
        return old if _STANCE_WEIGHT.get(old, 0) >= _STANCE_WEIGHT.get(new, 0) else new
    return new
