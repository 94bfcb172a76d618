"""Console tables (rich) for the commands that show things to a person."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watcher.ledger import responses_text, values_text

console = Console(soft_wrap=False)


def feeds_table(rows: list[dict]) -> None:
    table = Table(title=f"{len(rows)} feeds", show_lines=False)
    for col in ("id", "feed", "state", "last poll", "next poll", "errors", "last error"):
        table.add_column(col, overflow="fold", no_wrap=col in ("id", "state", "last poll", "next poll", "errors"))
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
            str(row["id"] or "-"),
            row["name"] or row["url"],
            state,
            row["last_polled_at"] or "never",
            row["next_poll_at"] or "now",
            str(row["consecutive_errors"]),
            row["disabled_reason"] or row["last_error"] or "",
        )
    console.print(table)


def print_terms(terms: list[dict], title: str) -> None:
    """Terms as cards: readable at any terminal width, unlike a seven-column table."""
    console.print(f"[bold]{escape(title)}[/]")
    if not terms:
        console.print("  (no terms)")
    for t in terms:
        stance = t["stance"] + (", precondition" if t.get("precondition") else "")
        console.print(f"  • [cyan]{t['conflict']}[/] · [bold]{t['proposer']}[/] · "
                      f"[magenta]{t['category']}[/] — {stance}")
        values = values_text(t.get("values") or {})
        if values:
            console.print(f"      {escape(values)}")
        responses = responses_text(t.get("responses") or [])
        if responses:
            console.print(f"      responses: {escape(responses)}")
        if t.get("quote"):
            console.print(f"      [dim]“{escape(t['quote'])}”[/]")


def extraction_table(payload: dict[str, Any]) -> None:
    title = f"{payload['input']}: {payload['title']}"
    if not payload["terms"]:
        reason = "not relevant" if not payload["relevant"] else "no terms found"
        if payload.get("language") not in (None, "en"):
            reason = f"language {payload['language']}: not extracted"
        console.print(f"[bold]{title}[/]\n  {reason}")
        return
    print_terms(payload["terms"], title)


def print_changes(changes: list[dict], title: str) -> None:
    console.print(f"[bold]{escape(title)}[/]")
    for c in changes:
        flag = " [dim](baseline)[/]" if c.get("baseline") else ""
        console.print(f"  [yellow]{c['kind']:<9}[/] {escape(c['summary'])}{flag}")
        if c.get("source"):
            console.print(f"            [dim]{escape(c['source'])} · {c['detected_at']}[/]")
