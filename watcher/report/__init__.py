"""The timeline report of one conflict: ``timeline`` gathers the data (also ``--json``),
``html`` draws it as one self-contained page (inline CSS and SVG, no script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def gazetteer_names(conflict: str, extension: dict | None = None) -> tuple[list[str], dict[str, str]]:
    """The conflict's parties as the gazetteer lists them (the order of the tracks), and a
    short name per actor for people: its first name of at most 16 characters
    ("Russia", "RSF", "DR Congo"), else its id."""
    from watcher.terms.gazetteer import load_gazetteer

    gazetteer = load_gazetteer(extension)
    parties = list(gazetteer.conflicts.get(conflict, {}).get("parties", []))
    labels = {}
    for actor, spec in gazetteer.actors.items():
        short = [n for n in spec.get("names", []) if len(n) <= 16]
        if short:
            labels[actor] = short[0]
    return parties, labels


def build(store: Any, conflict: str, *, since: str | None = None, extension: dict | None = None) -> Any:
    """The conflict's :class:`~watcher.report.timeline.Timeline`, generated now."""
    from watcher.report.timeline import build_timeline
    from watcher.store import ts, utcnow

    parties, labels = gazetteer_names(conflict, extension)
    return build_timeline(store, conflict, since=since, now=ts(utcnow()), parties=parties, labels=labels)


def write_report(store: Any, conflict: str, path: Path, *, since: str | None = None,
                 extension: dict | None = None, as_json: bool = False) -> Path:
    """Write the report (HTML, or JSON) atomically: a reader never sees half a page."""
    from watcher.report.html import render_html

    timeline = build(store, conflict, since=since, extension=extension)
    text = timeline.to_json() if as_json else render_html(timeline)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
