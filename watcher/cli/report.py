"""`watcher report`: a conflict's negotiation timeline as one self-contained HTML file, or
its data as JSON. A thin wrapper over :mod:`watcher.report`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from watcher.cli.common import did_you_mean, note, parse_when, with_config
from watcher.cli.history import _open_existing
from watcher.config import Config


@click.command("report")
@with_config
@click.option("--conflict", required=True, metavar="ID", help="The conflict, e.g. russia-ukraine.")
@click.option("--since", metavar="DATE", help="Only reports and changes from DATE on (2024-01-01, 30d); "
                                              "each track starts where it stood before.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here [default: <conflict>-timeline.html, or stdout with --json]; - for stdout.")
@click.option("--json", "as_json", is_flag=True, help="The same data as JSON, to plot elsewhere.")
def report_command(config: Config, conflict: str, since: str | None,
                   output: Path | None, as_json: bool) -> None:
    """A conflict's timeline: per term, each holder's position report by report, the
    agreement's beside them, every change marked with before → after, quote and source."""
    from watcher.report import build, write_report
    from watcher.report.html import render_html

    since_ts = parse_when(since) if since else None
    store = _open_existing(config)
    try:
        known = store.timeline_conflicts()
        if conflict not in known:
            hint = did_you_mean(conflict, known)
            on_record = f"; on record: {', '.join(known)}" if known else "; nothing is on record yet"
            raise click.BadParameter(f"{conflict!r} has no terms on record{hint}{on_record}",
                                     param_hint="--conflict")
        if output is None and as_json or str(output) == "-":
            timeline = build(store, conflict, since=since_ts, extension=config.extension)
            sys.stdout.write(timeline.to_json() + "\n" if as_json else render_html(timeline))
            return
        target = output or Path(f"{conflict}-timeline.html")
        write_report(store, conflict, target, since=since_ts, extension=config.extension, as_json=as_json)
    finally:
        store.close()
    note(f"wrote {target} — open it in a browser (it needs no network)")


COMMANDS: list[click.Command] = [report_command]
