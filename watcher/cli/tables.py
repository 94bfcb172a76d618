"""Console tables (rich) for the commands that show things to a person."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from watcher.cli.common import plural
from watcher.ledger import responses_text, values_text
from watcher.safetext import printable

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

    cells = []
    for row in rows:
        line = [str(row["id"] or "-"), _feed_state(row)[0], str(row["consecutive_errors"]),
                _short_time(row["last_polled_at"]) or "never", _short_time(row["next_poll_at"]) or "now",
                " ".join(str(row["name"] or row["url"]).split())]
        problem = " ".join(str(row["disabled_reason"] or row["last_error"] or "").split())
        if problem:
            line[-1] += f" — {problem}"
        cells.append(line)
    head = ["id", "state", "errors", "last poll", "next poll", "feed"]
    widths = [max(len(c[i]) for c in [head, *cells]) for i in range(len(head) - 1)]
    click.echo(f"{plural(len(rows), 'feed')} (times UTC)")
    for line in [head, *cells]:
        padded = [c.rjust(w) if i in (0, 2) else c.ljust(w) for i, (c, w) in enumerate(zip(line[:-1], widths, strict=True))]
        click.echo("  ".join([*padded, line[-1]]))


def _two_lines(first: Text | str, second: str, style: str = "") -> Text:
    """A cell of a table's one flexible column: its name, and under it the long text (an
    error, a subject). The column truncates each line with an ellipsis to what the
    terminal leaves it, so the key columns beside it stay whole at 80 columns."""
    cell = first.copy() if isinstance(first, Text) else Text(first)
    if second:
        cell.append("\n")
        cell.append(" ".join(second.split()), style=style)
    return cell


def _table(title: str, key: dict[str, list], flexible: str, cells: list[Text]) -> Table:
    """A table whose key columns keep their full width (rich would squeeze every column to
    fit) and whose one flexible column, last, takes what the terminal leaves: each of its
    lines ends in "…" when it does not fit. ``key`` maps a header to its column's cells."""
    from rich import box

    table = Table(title=title, box=box.SIMPLE_HEAD)
    used = 0
    for header, values in key.items():
        width = max([len(header), *(max((len(x) for x in str(v).split("\n")), default=0) for v in values)])
        used += width + 3  # a cell's padding, and the box's space between columns
        table.add_column(header, no_wrap=True, min_width=width,
                         justify="right" if header in ("id", "errors", "changes") else "left")
    # rich squeezes no_wrap columns to nothing rather than shorten the long one: the
    # flexible column's lines are cut to what is left, with an ellipsis
    width = max(12, console.width - used - 5)  # the table's edges
    table.add_column(flexible, no_wrap=True)
    for i, cell in enumerate(cells):
        lines = cell.split("\n")
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        table.add_row(*[values[i] for values in key.values()], Text("\n").join(lines))
    return table


def feeds_table(rows: list[dict]) -> None:
    """Feeds as a table; every value from a feed or config is plain Text, never markup.

    The key columns (id, state, errors, times) stay whole; the feed's name and, under it,
    its last error share the one flexible column and end in "…" when the terminal is narrow.
    """
    if len(rows) > PLAIN_FEEDS_ABOVE:
        feeds_plain(rows)
        return
    key: dict[str, list] = {
        "id": [str(r["id"] or "-") for r in rows],
        "state": [Text(*_feed_state(r)) for r in rows],
        "errors": [str(r["consecutive_errors"]) for r in rows],
        "last poll": [_short_time(r["last_polled_at"]) or "never" for r in rows],
        "next poll": [_short_time(r["next_poll_at"]) or "now" for r in rows],
    }
    cells = [_two_lines(printable(str(r["name"] or r["url"])), printable(r["disabled_reason"] or r["last_error"] or ""),
                        "red") for r in rows]
    console.print(_table(f"{plural(len(rows), 'feed')} (times UTC)", key, "feed", cells))


def digests_table(rows: list[dict]) -> None:
    """The outbox as a table: id, created, status, changes whole; the lane (channel,
    subscription → recipient) and under it the subject or last error share the flexible
    column, ending in "…" when the terminal is narrow."""
    colour = {"sent": "green", "pending": "yellow", "failed": "red"}
    statuses, cells = [], []
    for r in rows:
        status = Text(r["status"] + (f" ×{r['attempts']}" if r["attempts"] != 1 else ""),
                      style=colour.get(r["status"], ""))
        if r["status"] != "sent":
            status.append("\n" + (f"next {_short_time(r['next_attempt_at'])[5:]}" if r["next_attempt_at"]
                                   else "gave up" if r["status"] == "failed" else ""), style="dim")
        statuses.append(status)
        lane = r["channel"] + ("" if r["kind"] == "digest" else f" {r['kind']}")
        if r["subscription"]:
            lane += f" · {r['subscription']}" + (f" → {r['recipient']}" if r["recipient"] else "")
        problem = r["error"] if r["status"] != "sent" and r["error"] else ""
        cells.append(_two_lines(printable(lane), printable(problem or r["subject"] or ""), "red" if problem else ""))
    key: dict[str, list] = {
        "id": [str(r["id"]) for r in rows],
        "created": [_short_time(r["created_at"]) for r in rows],
        "status": statuses,
        "changes": [str(r["change_count"]) for r in rows],
    }
    console.print(_table(f"{plural(len(rows), 'digest')} (times UTC)", key, "channel · subject", cells))


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
