"""One conflict's negotiation timeline as plain data: the reports (article versions) in the
order they were published (as ``watcher history`` orders them), and per category a track
per holder (the agreement first) with each report of the term, each change, and how many
outlets reported it.

The same :class:`Timeline` renders to HTML (:mod:`watcher.report.html`) and to JSON for
anyone who wants to plot it elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from watcher.ledger import STANCE_CLASS, responses_text, values_text
from watcher.safetext import json_printable
from watcher.terms.vocabulary import AGREEMENT, CATEGORIES


@dataclass
class Report:
    """One column: an article version that reported the conflict."""

    index: int
    snapshot_id: int
    article_id: int
    version: int
    read_at: str  # when the watcher read it (UTC)
    published_at: str | None
    outlet: str | None  # the host name, as stored with terms and changes
    feed: str | None  # the feed that carried it first: its name in config.toml, else its title
    title: str | None
    url: str | None
    baseline: bool
    edit: bool  # a later version of an article (the page changed)
    # when it was reported, as `watcher history` dates and orders reports: the published
    # time (never after read_at), or read_at for an edit and an undated story (the store's
    # reported_sql)
    reported_at: str

    @property
    def source(self) -> str:
        """The outlet as a reader knows it: the feed's name, else the host."""
        return self.feed or self.outlet or "?"


@dataclass
class State:
    """A term as it stands: the stance, its class (the colour), values and reactions in words."""

    stance: str
    stance_class: str
    precondition: bool = False
    values: str = ""
    responses: str = ""
    response_class: str | None = None  # the latest reaction of another party: rejected, accepted ...

    @classmethod
    def of(cls, data: dict | None) -> State | None:
        if not data:
            return None
        stance = data.get("stance") or "proposed"
        reactions = [r for r in data.get("responses") or [] if r.get("stance") != "reaffirmed"]
        return cls(stance=stance, stance_class=STANCE_CLASS.get(stance, "held"),
                   precondition=bool(data.get("precondition")), values=values_text(data.get("values")),
                   responses=responses_text(data.get("responses")),
                   response_class=STANCE_CLASS.get(reactions[-1].get("stance", "")) if reactions else None)

    def words(self) -> str:
        head = self.stance.replace("_", " ") + (", precondition" if self.precondition else "")
        rest = " · ".join(t for t in (self.values, self.responses) if t)
        return f"{head} — {rest}" if rest else head


@dataclass
class Observation:
    """One report of the term (a mark on its track)."""

    report: int  # Report.index
    term_id: int
    state: State
    outlet: str | None
    quote: str | None


@dataclass
class ChangeMark:
    """One change of the term, labelled before → after, with its provenance."""

    id: int
    key: str
    kind: str
    report: int  # Report.index
    detected_at: str
    summary: str
    label: str  # the summary without the holder and category: "widened: places +kharkiv"
    before: State | None
    after: State | None
    quote: str | None
    outlet: str | None
    url: str | None
    title: str | None
    baseline: bool


@dataclass
class Track:
    """One holder's term in one category, report by report."""

    holder: str
    agreement: bool
    label: str = ""  # the holder as a reader knows it: "Russia", "RSF", "Agreement"
    start: State | None = None  # as it stood before --since
    observations: list[Observation] = field(default_factory=list)
    changes: list[ChangeMark] = field(default_factory=list)
    now: State | None = None  # the ledger's current state
    outlets: list[str] = field(default_factory=list)  # outlets that reported it (the ledger's)
    outlet_count: int = 0


@dataclass
class CategoryTimeline:
    category: str
    tracks: list[Track] = field(default_factory=list)  # the agreement first, then the parties

    @property
    def change_count(self) -> int:
        return sum(len(t.changes) for t in self.tracks)


@dataclass
class Timeline:
    conflict: str
    since: str | None
    generated_at: str
    reports: list[Report] = field(default_factory=list)
    categories: list[CategoryTimeline] = field(default_factory=list)

    @property
    def changes(self) -> list[ChangeMark]:
        return sorted((c for cat in self.categories for t in cat.tracks for c in t.changes), key=lambda c: c.id)

    @property
    def outlets(self) -> list[str]:
        return sorted({r.outlet for r in self.reports if r.outlet})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["change_count"] = len(self.changes)
        data["outlets"] = self.outlets
        return data

    def to_json(self) -> str:
        return json_printable(json.dumps(self.to_dict(), ensure_ascii=False, indent=1))  # may go to a terminal


def _loads(text: str | None, default: Any = None) -> Any:
    return json.loads(text) if text else default


def holder_label(holder: str, labels: dict[str, str]) -> str:
    if holder == AGREEMENT:
        return "Agreement"
    return labels.get(holder) or holder


def change_label(row: dict) -> str:
    """The summary without "holder: " and the category: what changed, in a few words."""
    text = row["summary"]
    prefix = f"{row['proposer']}: "
    if text.startswith(prefix):
        text = text[len(prefix):]
    return " ".join(text.replace(row["category"], "", 1).split()) or row["kind"]


def build_timeline(store: Any, conflict: str, *, since: str | None = None, now: str = "",
                   parties: list[str] | None = None, labels: dict[str, str] | None = None) -> Timeline:
    """Gather the conflict's timeline from the store (``since``: 'YYYY-MM-DD HH:MM:SS' UTC).

    ``parties`` orders the holders' tracks (the conflict's parties first, as the gazetteer
    lists them); others follow alphabetically. ``labels`` names holders for people.
    """
    labels = labels or {}
    timeline = Timeline(conflict=conflict, since=since, generated_at=now)
    column: dict[int, int] = {}
    for i, row in enumerate(store.timeline_reports(conflict, since)):
        column[row["snapshot_id"]] = i
        timeline.reports.append(Report(
            index=i, snapshot_id=row["snapshot_id"], article_id=row["article_id"], version=row["version"],
            read_at=row["fetched_at"], published_at=row["published_at"], outlet=row["outlet"], feed=row["feed"],
            title=row["title"], url=row["url"], baseline=bool(row["baseline"]), edit=row["kind"] == "edit",
            reported_at=row["reported_at"],
        ))
    tracks: dict[tuple[str, str], Track] = {}

    def track(category: str, holder: str) -> Track:
        key = (category, holder)
        if key not in tracks:
            tracks[key] = Track(holder=holder, agreement=holder == AGREEMENT, label=holder_label(holder, labels))
        return tracks[key]

    for row in store.timeline_terms(conflict, since):
        state = State.of({"stance": row["stance"], "precondition": row["precondition"],
                          "values": _loads(row["values"], {}), "responses": _loads(row["responses"], [])})
        track(row["category"], row["proposer"]).observations.append(Observation(
            report=column[row["snapshot_id"]], term_id=row["id"], state=state, outlet=row["source"],
            quote=row["quote"]))
    for row in store.timeline_changes(conflict, since):
        track(row["category"], row["proposer"]).changes.append(ChangeMark(
            id=row["id"], key=row["key"], kind=row["kind"], report=column[row["snapshot_id"]],
            detected_at=row["detected_at"], summary=row["summary"], label=change_label(row),
            before=State.of(_loads(row["before"])), after=State.of(_loads(row["after"])), quote=row["quote"],
            outlet=row["source"], url=row["url"], title=row["title"], baseline=bool(row["baseline"])))
    if since:
        for row in store.timeline_state_before(conflict, since):
            key = (row["category"], row["proposer"])
            if key in tracks:
                tracks[key].start = State.of(_loads(row["after"]))
    for row in store.timeline_ledger(conflict):
        key = (row["category"], row["proposer"])
        if key in tracks:
            t = tracks[key]
            t.now = State.of({"stance": row["stance"], "precondition": row["precondition"],
                              "values": _loads(row["values"], {}), "responses": _loads(row["responses"], [])})
            t.outlets = sorted(_loads(row["sources"], []))
            t.outlet_count = int(row["source_count"] or len(t.outlets))
    order = {p: i for i, p in enumerate(parties or [])}
    # what moved most comes first; then the vocabulary's order (ceasefire, withdrawal, ...)
    moved = {c: sum(len(t.changes) for (cc, _), t in tracks.items() if cc == c) for c, _ in tracks}
    categories = sorted(moved, key=lambda c: (-moved[c], CATEGORIES.index(c) if c in CATEGORIES else 99, c))
    for category in categories:
        cat = CategoryTimeline(category)
        holders = sorted({h for c, h in tracks if c == category} - {AGREEMENT},
                         key=lambda h: (order.get(h, len(order)), h))
        # the agreement's track is always drawn, empty or not: "no deal on this yet" is news too
        cat.tracks = [tracks.get((category, AGREEMENT)) or Track(AGREEMENT, True, holder_label(AGREEMENT, labels))]
        cat.tracks += [tracks[(category, h)] for h in holders]
        timeline.categories.append(cat)
    return timeline
