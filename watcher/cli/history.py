"""The commands that read the history: history, terms, show, search, export, prune,
datasette-metadata.

Thin wrappers over :class:`watcher.store.history.HistoryQueries` and :mod:`watcher.atom`.
Lists print as every command prints them (``--json`` an array, ``--nl`` one object a line,
``--csv``; :func:`watcher.cli.common.emit`); a single thing (``show``, ``prune``) as one
JSON object.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from watcher.cli.common import (
    _ago,
    check_ids,
    dumps,
    emit,
    fail,
    note,
    output_options,
    parse_when,
    plural,
    say,
    when_callback,
    with_config,
)
from watcher.config import Config, format_duration, parse_duration
from watcher.ledger import responses_text, values_text
from watcher.store import Store, StoreError, ts

# --- shared helpers ----------------------------------------------------------------------

MAX_ROWS = 2**63 - 1  # the largest LIMIT SQLite takes


def _open_existing(config: Config) -> Store:
    """The store, but only if the database exists: reading history must not create one."""
    path = Path(config.watcher.database)
    if not path.exists():
        fail(f"no database at {path}: nothing has been recorded yet (run `watcher poll` first)")
    try:
        return Store.open(path)
    except StoreError as err:
        fail(str(err))
        raise  # unreachable


def _end_of_day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A bare date in --as-of means the end of that day."""
    if value is None:
        return None
    moment = parse_when(value)
    if len(value.strip()) == 10 and moment.endswith("00:00:00"):
        moment = moment[:11] + "23:59:59"
    return moment


def _print(renderable: Any) -> None:
    from watcher.cli.tables import console

    console.print(renderable)


def _values(values: Any) -> str:
    return values_text(values or {})


def _stance(row: dict) -> str:
    return row["stance"] + (" (precondition)" if row.get("precondition") else "")


def _reported(row: dict) -> str:
    """When a report was made: the story's published time (``reported_at``), else when it
    was read."""
    return row.get("reported_at") or row["observed_at"]


def _seen(row: dict, key: str = "observed_at") -> str:
    """", seen 2026-12-07 10:02" when the watcher read the report at another time than it
    was published (an old feed's first poll, a late fetch); "" when they agree."""
    reported, seen = _reported(row)[:16], (row.get(key) or "")[:16]
    return f", seen {seen}" if seen and seen != reported else ""


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A rich table whose cells are plain text: article text is never read as markup."""
    table = Table(title=title, show_lines=True)
    for column in columns:
        table.add_column(column, overflow="fold", max_width=70 if column in ("quote", "snippet") else None)
    for row in rows:
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    return table


# --- history, terms ----------------------------------------------------------------------


@click.command()
@with_config
@click.option("--conflict", help="Only this conflict (e.g. russia-ukraine).")
@click.option("--proposer", help="Only terms this party holds (e.g. russia).")
@click.option("--category", help="Only this category (e.g. neutrality).")
@click.option("--since", callback=when_callback, help="From this date (2024-06-24) or time ago (7d).")
@click.option("--limit", type=click.IntRange(min=0, max=MAX_ROWS), default=200, show_default=True,
              help="Show the newest N observations (0: all).")
@output_options
def history(
    config: Config, conflict: str | None, proposer: str | None,
    category: str | None, since: str | None, limit: int, output: str | None,
) -> None:
    """The timeline of a position: every report of a term, oldest first by when it was
    published (and when it was read, where that differs), with its outlet (the feed's
    name), stance, values, the sentence and the article."""
    check_ids(config, [("--conflict", "conflicts", [conflict]), ("--proposer", "proposers", [proposer]),
                       ("--category", "categories", [category])])
    store = _open_existing(config)
    rows = store.term_history(conflict=conflict, proposer=proposer, category=category, since=since, limit=limit)
    if output:
        emit(rows, output, store.columns("term_timeline"))
        return
    if not rows:
        note("no term reports match")
        return
    _print(_history_text(rows, {"conflict": conflict, "proposer": proposer, "category": category}, limit))


def _history_text(rows: list[dict], filtered: dict[str, str | None], limit: int) -> Text:
    """The timeline as cards, one a report: when, what and how it stood, then the sentence
    and where it was read. A table of eight columns is unreadable below 200 columns."""
    from watcher.cli.tables import indented

    keys = [k for k, v in filtered.items() if not v]  # a filtered field says the same on every row
    title = plural(len(rows), "term report") + (f" (the newest {limit})" if limit and len(rows) == limit else "")
    if any(filtered.values()):
        title += ": " + " ".join(v for v in filtered.values() if v)
    out = Text(title, style="bold")
    out.append(" — oldest first by when they were published, times UTC", style="dim")
    for r in rows:
        head = Text(f"{_reported(r)[:16]}  ", style="dim")
        head.append(" · ".join(str(r[k]) for k in keys) if keys else "", style="magenta")
        head.append(f"{' — ' if keys else ''}{_stance(r)}")
        values = _values(r["values"])
        if values:
            head.append(f" — {values}")
        responses = responses_text(r.get("responses"))
        if responses:
            head.append(f"; {responses}")
        out.append("\n\n")
        out.append_text(indented(head, 0))
        if r.get("quote"):
            out.append("\n")
            out.append_text(indented(f"“{r['quote']}”", 4, style="italic"))
        out.append("\n")
        where = f"{r['outlet']}{_seen(r)} · article #{r['article_id']} version {r['version']} · {r['article_url']}"
        out.append_text(indented(where, 4, style="dim"))
    return out


@click.command()
@with_config
@click.option("--conflict", help="Only this conflict.")
@click.option("--proposer", help="Only this party's terms.")
@click.option("--as-of", "as_of", callback=_end_of_day,
              help="The latest report of each term on or before this date, instead of the ledger.")
@output_options
def terms(
    config: Config, conflict: str | None, proposer: str | None,
    as_of: str | None, output: str | None,
) -> None:
    """The current ledger: per conflict, proposer and category, the term as it stands, how
    many outlets reported it, and when its latest report was published (and read)."""
    check_ids(config, [("--conflict", "conflicts", [conflict]), ("--proposer", "proposers", [proposer])])
    store = _open_existing(config)
    if as_of:
        rows = store.terms_as_of(as_of, conflict=conflict, proposer=proposer)
    else:
        rows = store.ledger_rows(conflict=conflict, proposer=proposer)
    if output:
        emit(rows, output, store.columns("term_timeline" if as_of else "latest_terms"))
        return
    if not rows:
        note("no terms recorded" + (f" as of {as_of}" if as_of else ""))
        return
    if as_of:
        _print(_table(
            f"{plural(len(rows), 'term')} as last reported on or before {as_of} UTC",
            ["conflict", "proposer", "category", "stance", "values", "published", "outlet", "quote"],
            [[r["conflict"], r["proposer"], r["category"], _stance(r), _values(r["values"]),
              _reported(r) + _seen(r), r["outlet"], r["quote"]] for r in rows],
        ))
        return
    _print(_ledger_text(rows))


def _ledger_text(rows: list[dict]) -> Text:
    """The ledger grouped by conflict and proposer, one line a term: what a reader scans
    for ("what are Russia's terms now?"). Quotes are in `--json` and `watcher show`. One
    Text, not a table: a ledger of thousands of terms prints in a fraction of a second."""
    out = Text()
    out.append(f"{plural(len(rows), 'term')} in the ledger", style="bold")
    out.append(" as they stand now; dates UTC (published, and read where that differs)\n", style="dim")
    conflict = proposer = None
    for r in sorted(rows, key=lambda r: (r["conflict"], r["proposer"], r["category"])):
        if r["conflict"] != conflict:
            conflict, proposer = r["conflict"], None
            out.append(f"\n{conflict}\n", style="bold cyan")
        if r["proposer"] != proposer:
            proposer = r["proposer"]
            out.append(f"  {proposer}\n", style="bold")
        outlets = plural(r["source_count"], "outlet")
        body = Text(_stance(r))
        details = [t for t in (_values(r["values"]), responses_text(r["responses"])) if t]
        body.append(f" — {' · '.join(details)}" if details else "")
        reported = (r.get("last_reported_at") or r["last_seen_at"])[:10]
        seen = f", seen {r['last_seen_at'][:10]}" if r["last_seen_at"][:10] != reported else ""
        meta = Text(f"[{outlets}, last reported {reported}{seen}]", style="dim")
        out.append_text(_ledger_line(f"    {r['category']:<22} ", body, meta))
        out.append("\n")
    return out


def _ledger_line(head: str, body: Text, meta: Text) -> Text:
    """head + body + meta on one line when it fits; else the body wraps under its own
    column and the meta follows it, never split across lines."""
    from watcher.cli.tables import console, indented

    width, indent = console.width, len(head)
    if len(head) + body.cell_len + 2 + meta.cell_len <= width:
        return Text(head) + body + Text("  ") + meta
    wrapped = indented(body, indent, width=width)
    wrapped = Text(head) + wrapped[indent:]
    last = wrapped.plain.rsplit("\n", 1)[-1]
    if len(last) + 2 + meta.cell_len <= width:
        return wrapped + Text("  ") + meta
    return wrapped + Text("\n" + " " * indent) + meta


# --- show, search ------------------------------------------------------------------------


def _canonical(ref: str) -> str | None:
    """The URL as a feed gave it, in the form the store keeps (None: not a URL)."""
    from watcher.feeds.urls import canonical_url

    try:
        return canonical_url(ref.strip())
    except Exception:  # not a URL at all
        return None


@click.command()
@with_config
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="The article as one JSON object.")
def show(config: Config, article: str, as_json: bool) -> None:
    """One article: every stored version, the diff from the one before, the terms read
    from each, and the changes it caused. ARTICLE is its id or URL."""
    store = _open_existing(config)
    row = store.find_article(article, _canonical(article))
    if row is None:
        fail(f"no article with id or URL {article!r} (try `watcher search`)")
    detail = store.article_history(row["id"])
    if as_json:
        click.echo(dumps(detail))
        return
    a = detail["article"]
    header = Text()
    header.append(f"#{a['id']} {a['title'] or '(no title)'}\n", style="bold")
    header.append(f"{a['url']}\noutlet {a['source']}, first seen {a['first_seen_at']} UTC")
    if a["published_at"]:
        header.append(f", published {a['published_at']} UTC")
    if detail["article"]["feeds"]:
        header.append("\nin feeds: " + ", ".join(f["feed"] for f in a["feeds"]))
    _print(header)
    for v in detail["versions"]:
        state = "text pruned" if v["text_pruned"] else f"{v['chars']} characters"
        _print(Text(f"\nversion {v['version']}, fetched {v['fetched_at']} UTC ({state}, "
                    f"text from the {v['text_source']})", style="bold"))
        if v["diff"]:
            _print(Text(v["diff"]))
        if v["terms"]:
            from watcher.cli.tables import print_terms

            print_terms(v["terms"], f"{plural(len(v['terms']), 'term')} read from version {v['version']}")
    if detail["changes"]:
        from watcher.cli.tables import hanging

        out = Text(f"\n{plural(len(detail['changes']), 'term change')} from this article (times UTC)",
                   style="bold")
        for c in detail["changes"]:
            line = Text(f"  {c['detected_at'][:16]}  ", style="dim")
            line.append(f"{c['kind']:<9}", style="yellow")
            summary = c["summary"]
            if summary.startswith(f"{c['proposer']}: "):  # the proposer leads every summary
                summary = summary[len(c["proposer"]) + 2:]
            line.append(f" {c['proposer']} · {summary}")
            if c.get("baseline"):
                line.append(" (baseline: on record from the first poll)", style="dim")
            out.append("\n")
            out.append_text(hanging(line, 30))
        _print(out)


@click.command()
@with_config
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_ROWS), default=20, show_default=True)
@click.option("--raw", is_flag=True, help='QUERY is FTS5 syntax (AND, OR, NEAR, "a phrase", prefix*).')
@output_options
def search(config: Config, query: str, limit: int, raw: bool, output: str | None) -> None:
    """Full-text search over article versions (titles and text) and term quotes, with
    the matching words marked «like this»."""
    from watcher.store import BadQuery
    from watcher.store.history import SEARCH_COLUMNS

    if not raw and not any(ch.isalnum() for ch in query):
        fail(f"nothing to search for in {query!r}: give a word (or --raw for FTS5 syntax)", 2)
    store = _open_existing(config)
    try:
        rows = store.search(query, limit=limit, raw=raw)
    except BadQuery as err:
        fail(f"bad search query {query!r}: {err}", 2)
    for row in rows:  # a hit on one sentence read as several terms: lists, not "a,b"
        for column in ("proposer", "category"):
            row[column] = [x for x in (row[column] or "").split(",") if x]
    if output:
        emit(rows, output, list(SEARCH_COLUMNS))
        return
    if not rows:
        note("nothing matches")
        return
    from watcher.cli.tables import indented

    out = Text(f"{plural(len(rows), 'match', 'matches')} for “{query}”", style="bold")
    for r in rows:
        where = "in a term's quote" if r["hit"] == "term" else "in the article text"
        head = Text(f"#{r['article_id']} ", style="bold")
        head.append(f"{r['title'] or '(no title)'}", style="bold")
        head.append(f"  version {r['version']}, {where}", style="dim")
        out.append("\n\n")
        out.append_text(indented(head, 0))
        proposers, terms = ", ".join(r["proposer"]), ", ".join(r["category"])
        if proposers or terms:
            out.append("\n")
            out.append_text(indented(f"terms: {' · '.join(x for x in (proposers, terms) if x)}", 4,
                                     style="magenta"))
        out.append("\n")
        out.append_text(_snippet(r["snippet"] or "", 4))
        out.append("\n")
        out.append_text(indented(r["url"] or "", 4, style="dim"))
    _print(out)


def _snippet(snippet: str, indent: int) -> Text:
    """The snippet wrapped, the «matched words» in bold."""
    from watcher.cli.tables import indented

    text = indented(" ".join(snippet.split()), indent)
    text.highlight_regex(r"«[^»]*»", "bold yellow")
    return text


# --- datasette ---------------------------------------------------------------------------


def datasette_metadata_text(database_name: str = "watcher") -> str:
    """The shipped metadata, keyed by the database's name as Datasette derives it (the
    file name without .db), so the canned queries land on the right database."""
    data = json.loads(resources.files("watcher").joinpath("data/datasette-metadata.json").read_text("utf-8"))
    databases = data.get("databases", {})
    if database_name != "watcher" and "watcher" in databases:
        databases[database_name] = databases.pop("watcher")
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@click.command("datasette-metadata")
@with_config
def datasette_metadata(config: Config) -> None:
    """Print Datasette metadata (titles, descriptions, canned queries) for the database:

    watcher datasette-metadata > metadata.json && datasette watcher.db -m metadata.json
    """
    name = Path(config.watcher.database).name
    name = name[:-3] if name.endswith(".db") else Path(name).stem
    click.echo(datasette_metadata_text(name), nl=False)


# --- export ------------------------------------------------------------------------------


@click.group()
def export() -> None:
    """Export the history in formats other programs read."""


@export.command("atom")
@with_config
@click.option("--conflict", help="Only changes in this conflict.")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_ROWS), default=200, show_default=True,
              help="The newest N changes.")
@click.option("--self-url", help="Where the feed will be published (its rel=self link).")
def export_atom(config: Config, conflict: str | None, limit: int, self_url: str | None) -> None:
    """An Atom 1.0 feed of term changes on stdout, newest first; entry ids are stable
    across runs, so a feed reader shows each change once:

    watcher export atom --conflict russia-ukraine > changes.xml
    """
    from watcher.atom import changes_feed

    check_ids(config, [("--conflict", "conflicts", [conflict])])
    store = _open_existing(config)
    rows = store.change_rows(conflict=conflict, limit=limit)
    sys.stdout.buffer.write(changes_feed(rows, conflict=conflict, self_url=self_url))
    sys.stdout.flush()


# --- prune -------------------------------------------------------------------------------


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


@click.command()
@with_config
@click.option("--older-than", "older_than", required=True,
              help="Age past which to prune, e.g. 90d or 12w.")
@click.option("--vacuum", is_flag=True, help="Then VACUUM, giving the space back to the disk (rewrites the file).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="What was removed, as one JSON object.")
def prune(config: Config, older_than: str, vacuum: bool, dry_run: bool, as_json: bool) -> None:
    """Remove poll rows and the text of article versions older than --older-than. Every
    article's latest version, every diff, term and change stay."""
    try:
        age = parse_duration(older_than)
    except ValueError as err:
        raise click.BadParameter(f"{older_than!r}: expected {err}", param_hint="--older-than") from None
    try:
        cutoff = ts(_ago(older_than, age, datetime.now(UTC)))
    except click.BadParameter as err:
        err.param_hint = "--older-than"
        raise
    store = _open_existing(config)
    before = store.file_size()
    result = store.prune(cutoff, dry_run=dry_run)
    after = before
    if vacuum and not dry_run:
        store.vacuum()
        after = store.file_size()
    report = {"cutoff": cutoff, "dry_run": dry_run, **result, "vacuumed": vacuum and not dry_run,
              "bytes_before": before, "bytes_after": after}
    if as_json:
        click.echo(dumps(report))
        return
    verb = "would remove" if dry_run else "removed"
    say(
        f"{verb} {plural(result['polls'], 'poll row')} and the text of "
        f"{plural(result['texts'], 'old article version')} "
        f"({_megabytes(result['text_bytes'])} of text) from before {cutoff} UTC "
        f"({format_duration(age)} ago); kept every article's latest version, all diffs, terms and changes"
    )
    if report["vacuumed"]:
        say(f"vacuumed: {_megabytes(before)} -> {_megabytes(after)}")
    elif not dry_run and (result["polls"] or result["texts"]):
        say("the file keeps its size until --vacuum; SQLite reuses the freed pages")


COMMANDS: list[click.Command] = [history, terms, show, search, datasette_metadata, export, prune]
