"""Console tables (rich) for the commands that show things to a person."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from watcher.ledger import responses_text, values_text

console = Console(soft_wrap=False)


PLAIN_FEEDS_ABOVE = 1000  # rich measures every cell of a table: 100,000 feeds took 45 s


def _feed_state(row: dict) -> tuple[str, str]:
    """(state, style) of a feed row."""
    if row["disabled_reason"]:
        return "disabled", "red"
    if not row["enabled"]:
        return "off", ""
    if row["consecutive_errors"]:
        return "failing", "yellow"
    if row["last_polled_at"] is None:
        return "new", ""
    return "ok", "green"


def feeds_plain(rows: list[dict]) -> None:
    """The same columns as plain aligned lines, in time linear in the number of feeds."""
    import click

    errors = any(row["disabled_reason"] or row["last_error"] for row in rows)
    cells = []
    for row in rows:
        line = [str(row["id"] or "-"), " ".join(str(row["name"] or row["url"]).split()), _feed_state(row)[0],
                _short_time(row["last_polled_at"]) or "never", _short_time(row["next_poll_at"]) or "now",
                str(row["consecutive_errors"])]
        if errors:
            line.append(" ".join(str(row["disabled_reason"] or row["last_error"] or "").split()))
        cells.append(line)
    head = ["id", "feed", "state", "last poll", "next poll", "errors"] + (["last error"] if errors else [])
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(len(head) - 1)]
    click.echo(f"{len(rows)} feeds (times UTC)")
    for line in [head, *cells]:
        padded = [c.rjust(w) if i in (0, 5) else c.ljust(w) for i, (c, w) in enumerate(zip(line[:-1], widths, strict=True))]
        click.echo("  ".join([*padded, line[-1]]))


def feeds_table(rows: list[dict]) -> None:
    """Feeds as a table; every value from a feed or config is plain Text, never markup."""
    from rich import box

    if len(rows) > PLAIN_FEEDS_ABOVE:
        feeds_plain(rows)
        return
    errors = any(row["disabled_reason"] or row["last_error"] for row in rows)
    table = Table(title=f"{len(rows)} feeds (times UTC)", box=box.SIMPLE_HEAD, show_lines=False)
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("feed", min_width=10, overflow="fold", ratio=2)
    table.add_column("state", no_wrap=True)
    table.add_column("last poll", no_wrap=True)
    table.add_column("next poll", no_wrap=True)
    table.add_column("errors", no_wrap=True, justify="right")
    if errors:  # an empty column costs a fifth of an 80-column terminal
        table.add_column("last error", overflow="fold", ratio=2, min_width=12)
    for row in rows:
        state = Text(*_feed_state(row))
        cells = [
            str(row["id"] or "-"),
            Text(row["name"] or row["url"]),
            state,
            _short_time(row["last_polled_at"]) or "never",
            _short_time(row["next_poll_at"]) or "now",
            str(row["consecutive_errors"]),
        ]
        if errors:
            cells.append(Text(row["disabled_reason"] or row["last_error"] or ""))
        table.add_row(*cells)
    console.print(table)


def _short_time(value: str | None) -> str:
    """'2026-11-22 04:26:56' as '2026-11-22 04:26': seconds are noise in a poll schedule."""
    return value[:16] if value else ""


def _term_head(t: dict) -> Text:
    stance = t["stance"] + (", precondition" if t.get("precondition") else "")
    head = Text("• ")
    head.append(str(t["conflict"]), style="cyan")
    head.append(" · ")
    head.append(str(t["proposer"]), style="bold")
    head.append(" · ")
    head.append(str(t["category"]), style="magenta")
    head.append(f" — {stance}")
    return head


def print_terms(terms: list[dict], title: str) -> None:
    """Terms as cards: readable at any terminal width, unlike a seven-column table."""
    console.print(Text(title, style="bold"))
    if not terms:
        console.print("  (no terms)")
    for t in terms:
        console.print(indented(_term_head(t), 2))
        values = values_text(t.get("values") or {})
        if values:
            console.print(indented(values, 6))
        responses = responses_text(t.get("responses") or [])
        if responses:
            console.print(indented(f"responses: {responses}", 6))
        if t.get("quote"):
            console.print(indented(f"“{t['quote']}”", 6, style="dim"))


def extraction_table(payload: dict[str, Any]) -> None:
    title = f"{payload['input']}: {payload['title']}"
    if not payload["terms"]:
        reason = "not relevant" if not payload["relevant"] else "no terms found"
        if payload.get("language") not in (None, "en"):
            reason = f"language {payload['language']}: not extracted"
        console.print(Text(title, style="bold"))
        console.print(f"  {escape(reason)}")
        return
    print_terms(payload["terms"], title)


def print_changes(changes: list[dict], title: str) -> None:
    console.print(Text(title + " (times UTC)", style="bold"))
    baseline = False
    for c in changes:
        line = Text("  ")
        line.append(f"{c['kind']:<9}", style="yellow")
        line.append(" ")
        line.append(str(c["summary"]))
        if c.get("baseline"):
            baseline = True
            line.append(" (baseline)", style="dim")
        console.print(hanging(line, 12))
        if c.get("source"):
            console.print(indented(f"{c['source']} · {c['detected_at']} UTC", 12, style="dim"))
    if baseline:
        console.print(indented("(baseline): on record from a feed's first poll — the starting point later "
                               "changes are measured against, so digests summarise it rather than report it as news",
                               2, style="dim"))


def hanging(text: Text, indent: int) -> Text:
    """``text`` wrapped to the terminal, its continuation lines indented by ``indent``."""
    width = max(console.width, indent + 20)
    lines = text.wrap(console, width)
    if len(lines) <= 1:
        return text
    first = lines[0]
    rest = Text(" ".join(x.plain for x in lines[1:]))  # re-wrap the remainder narrower
    out = Text()
    out.append_text(first)
    out.append("\n")
    out.append_text(indented(rest, indent))
    return out


def indented(text: Text | str, indent: int = 0, style: str = "", width: int | None = None) -> Text:
    """``text`` wrapped to the terminal with every line under ``indent`` (a hanging indent),
    instead of a long line continuing at column 0. Plain ``str`` is never read as markup."""
    if isinstance(text, str):
        text = Text(text, style=style)
    width = max((width or console.width) - indent, 20)
    out = Text()
    for i, part in enumerate(text.wrap(console, width) or [Text("")]):
        part.rstrip()
        out.append(("\n" if i else "") + " " * indent)
        out.append_text(part)
    return out
