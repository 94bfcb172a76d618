"""Console tables (rich) for the commands that show things to a person."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=False)


def _values_text(values: dict[str, Any] | str) -> str:
    if isinstance(values, str):
        values = json.loads(values or "{}")
    bits = []
    if values.get("party"):
        bits.append(f"party {values['party']}")
    if values.get("places"):
        bits.append(", ".join(values["places"]))
    if values.get("numbers"):
        bits.append(", ".join(f"{n['value']} {n['unit']}" for n in values["numbers"]))
    if values.get("text"):
        bits.append(values["text"])
    return "; ".join(bits)


def _responses_text(responses: list[dict] | str) -> str:
    if isinstance(responses, str):
        responses = json.loads(responses or "[]")
    return ", ".join(f"{r['actor']} {r['stance']}" for r in responses)


def feeds_table(rows: list[dict]) -> None:
    table = Table(title=f"{len(rows)} feeds", show_lines=False)
    for col in ("id", "feed", "state", "last poll", "next poll", "errors", "last error"):
        table.add_column(col, overflow="fold")
    for row in rows:
        if row["disabled_reason"]:
            state = "[red]disabled[/]"
        elif not row["enabled"]:
            state = "off"
        elif row["consecutive_errors"]:
            state = "[yellow]failing[/]"
        elif row["last_polled_at"] is None:
            state = "new"
        else:
            state = "[green]ok[/]"
        table.add_row(
            str(row["id"]),
            row["name"] or row["url"],
            state,
            row["last_polled_at"] or "never",
            row["next_poll_at"] or "now",
            str(row["consecutive_errors"]),
            row["disabled_reason"] or row["last_error"] or "",
        )
    console.print(table)


def terms_table(terms: list[dict], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for col in ("conflict", "proposer", "category", "stance", "values", "responses", "quote"):
        table.add_column(col, overflow="fold", max_width=60 if col == "quote" else None)
    for t in terms:
        stance = t["stance"] + (" (precondition)" if t.get("precondition") else "")
        table.add_row(
            t["conflict"], t["proposer"], t["category"], stance,
            _values_text(t.get("values") or {}), _responses_text(t.get("responses") or []),
            t.get("quote") or "",
        )
    return table


def extraction_table(payload: dict[str, Any]) -> None:
    title = f"{payload['input']}: {payload['title']}"
    if not payload["terms"]:
        reason = "not relevant" if not payload["relevant"] else "no terms found"
        if payload.get("language") not in (None, "en"):
            reason = f"language {payload['language']}: not extracted"
        console.print(f"[bold]{title}[/]\n  {reason}")
        return
    console.print(terms_table(payload["terms"], title))


def changes_table(changes: list[dict], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for col in ("kind", "conflict", "proposer", "category", "what changed", "source"):
        table.add_column(col, overflow="fold")
    for c in changes:
        table.add_row(c["kind"], c["conflict"], c["proposer"], c["category"], c["summary"], c["source"] or "")
    return table
