"""Values of a term: places (canonical ids), numbers with units, who must act, free text."""

from __future__ import annotations

import re

from watcher.terms.gazetteer import Gazetteer
from watcher.terms.roles import Mention

_WORDNUM = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100, "a hundred": 100,
}
_UNIT_WORDS = {
    "day": "days", "days": "days", "hour": "hours", "hours": "hours", "week": "weeks", "weeks": "weeks",
    "month": "months", "months": "months", "year": "years", "years": "years", "phases": "phases",
    "phase": "phases", "stages": "phases", "km": "km", "kilometers": "km", "kilometres": "km",
    "km2": "km2", "meters": "meters", "metres": "meters", "m": "meters", "miles": "miles",
    "troops": "troops", "soldiers": "troops", "hostages": "hostages", "captives": "hostages",
    "israelis": "hostages", "israeli hostages": "hostages", "prisoners": "prisoners",
    "palestinians": "prisoners", "palestinian prisoners": "prisoners", "inmates": "prisoners",
    "detainees": "detainees", "remains": "remains", "bodies": "remains", "trucks": "trucks",
    "truckloads": "trucks", "percent": "percent", "%": "percent", "per cent": "percent",
}
_NUMBER = re.compile(
    r"(?<![\w.])(?P<n>\d{1,3}(?:[ ,]\d{3})+|\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|a hundred)"
    r"(?:[- ](?:to|or)[- ]\w+)?[- ]?(?:(?:more|further|additional|of the|of them|of|Palestinian|Israeli|"
    r"Ukrainian|Russian|humanitarian|aid|fuel|female|male|civilian|political|\w+-\w+)\s+){0,2}"
    r"(?P<u>per cent|percent|%|days?|hours?|weeks?|months?|years?|phases?|stages|km2|km|kilometers|"
    r"kilometres|meters|metres|miles|troops|soldiers|hostages|captives|israelis|prisoners|palestinians|"
    r"inmates|detainees|remains|bodies|trucks|truckloads)\b",
    re.IGNORECASE,
)
_CAT_UNITS = {
    "duration_phasing": {"days", "weeks", "months", "hours", "years", "phases"},
    "humanitarian_pause": {"days", "weeks", "months", "hours"},
    "partial_scope": {"days", "weeks", "months", "hours"},
    "hostage_release": {"hostages", "remains"},
    "prisoner_exchange": {"prisoners", "detainees"},
    "humanitarian_access": {"trucks", "percent"},
    "troop_withdrawal": {"meters", "km", "days", "troops"},
    "buffer_zone": {"km", "meters", "miles", "km2"},
    "territorial_status": {"years"},
    "reconstruction_reparations": {"years", "usd"},
    "elections_transition": {"months", "days", "years"},
    "military_limits": {"troops"},
}
_BORDERS = re.compile(
    r"\b(?:(?:pre-?)?\d{4} borders|borders (?:of|as of|as they stood (?:before|in)) \d{4}|"
    r"borders recogni[sz]ed internationally[^.;,]{0,60}?\d{4})",
    re.IGNORECASE,
)
_LOCATIVE = re.compile(r"(?:near|around|towards?|outside|in|into|from|directions? of)\s+$", re.I)
# categories whose terms apply somewhere; a hostage count or a sanctions list has no place
PLACE_CATS = {
    "ceasefire", "partial_scope", "humanitarian_pause", "prohibited_acts", "line_freeze",
    "troop_withdrawal", "buffer_zone", "territorial_status", "border_delimitation", "transit_corridor",
    "monitoring_peacekeeping", "humanitarian_access", "return_displaced", "economic_measures",
    "reconstruction_reparations", "negotiations", "constitutional_status",
}


def numbers(text: str, category: str, memo: dict | None = None) -> list[dict]:
    """Numbers with a unit the category takes ("a 60-day truce" -> 60 days), in text order.

    `memo`: a per-story dict; a sentence is asked once per term it holds (and once per
    clause), for different categories, and the scan does not depend on the category, so it
    runs once per text there and only the cheap unit filter runs per call.
    """
    allowed = _CAT_UNITS.get(category)
    out: list[dict] = []
    if memo is None:
        found = _quantities(text)
    else:
        key = ("quantities", text, None)  # a 3-tuple: never one of the memo's sentence keys
        found = memo.get(key)
        if found is None:
            found = memo[key] = _quantities(text)
    for unit, value in found:
        if allowed is not None and unit not in allowed:
            continue
        if category == "duration_phasing" and unit == "years" and value > 100:
            continue
        item = {"value": int(value) if value == int(value) else value, "unit": unit}
        if item not in out:
            out.append(item)
    return out


def _quantities(text: str) -> tuple[tuple[str, float], ...]:
    """Every (unit, value) `_NUMBER` finds in text, whatever the category."""
    out: list[tuple[str, float]] = []
    for m in _NUMBER.finditer(text):
        unit = _UNIT_WORDS.get(m.group("u").lower())
        if unit is None:
            continue
        raw = m.group("n").lower()
        if raw in _WORDNUM:
            value: float = _WORDNUM[raw]
        else:
            try:
                value = float(re.sub(r"[ ,]", "", raw))
            except ValueError:
                continue
        out.append((unit, value))
    return tuple(out)


def places(text: str, g: Gazetteer, conflict: str, category: str) -> list[str]:
    """Canonical place ids named in `text` that belong to `conflict` (or to none).

    A country counts only for territorial terms (a nationwide truce names no place); a place
    that is also a metonym (Kyiv) counts only after a locative preposition.
    """
    found: set[str] = set()
    if g.place_re is None or category not in PLACE_CATS:
        return []
    for m in g.place_re.finditer(text):
        pid = g.place_for(m.group(0))
        if pid is None:
            continue
        p = g.places.get(pid, {})
        if p.get("conflict") not in (None, conflict):
            continue
        if p.get("country") and category not in ("territorial_status", "constitutional_status"):
            continue
        if p.get("locative") and not _LOCATIVE.search(text[max(0, m.start() - 20):m.start()]):
            continue
        found.update(p.get("expands") or [pid])
    return sorted(found)


def border_text(text: str) -> str | None:
    m = _BORDERS.search(text)
    return m.group(0) if m else None


_PARTY_CATS = {
    "troop_withdrawal", "military_limits", "prohibited_acts", "hostage_release", "prisoner_exchange",
    "return_displaced", "humanitarian_access", "neutrality", "territorial_status", "sanctions_relief",
    "external_military_support", "reconstruction_reparations", "partial_scope", "buffer_zone",
}
_FORCES = r"(?:'s|’s)?\s+(?:\w+\s+)?(?:troops|forces|army|military|soldiers|fighters|units|presence)"


def party(text: str, hit: tuple[int, int], ms: list[Mention], proposer: str, category: str) -> str | None:
    """Who must act: the actor whose forces are named at the trigger, or the subject nearest
    before it ("Ukraine withdrew", "withdrawal of Russian troops", "freed by Hamas")."""
    if category not in _PARTY_CATS:
        return None
    a, b = hit
    best, dist = None, 10**9
    for m in ms:
        if m.source:  # "Russian state media": a source, no party
            continue
        if m.actor == proposer and proposer != "agreement" and category not in ("neutrality", "military_limits"):
            continue
        seg_after = text[m.end:m.end + 40]
        if m.end <= a:
            d = a - m.end
            if re.match(_FORCES, seg_after) and d < 60:
                d = 0
        elif m.start >= b:
            d = m.start - b + 5
            if re.match(r"^\s*(?:of|by)\s+(?:the\s+|all\s+)?$", text[b:m.start]) or re.match(_FORCES, seg_after):
                d = 1
        else:
            d = 0
        if d < dist and d < 80:
            best, dist = m.actor, d
    return best
