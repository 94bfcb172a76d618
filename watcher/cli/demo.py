"""``watcher demo``'s output: runs the demo's rounds (``watcher.demo``) and prints what the
watcher stored, the change digest and where the timeline report went."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.cli.common import plural
from watcher.config import Config
from watcher.demo import build_demo_db

if TYPE_CHECKING:
    from watcher.store import Store


def run_demo(db_path: Path | None = None, *, show_digest: bool = True, report_path: Path | None = None) -> Path:
    """Run the demo and print what it stored; returns the database path (kept when given).

    With ``report_path``, ends by writing the timeline report of the run there."""
    from watcher.cli.tables import console
    from watcher.store import Store

    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="watcher-demo-")
        db_path = Path(tmp.name) / "demo.db"
    config, rounds = build_demo_db(db_path)

    store = Store.open(db_path)
    console.rule("[bold]ceasefire watcher demo[/]")
    console.print(f"Two loopback news sites: {config.feeds[0].url} and {config.feeds[1].url}; database {db_path}\n")
    for heading, reports, versions in rounds:
        console.print(f"[bold]{heading}[/]")
        for r in reports:
            console.print("  " + r.line())
        if versions is not None:
            console.print(f"  {plural(versions, 'new article version')} stored")
    show_store(store)
    if show_digest:
        show_demo_digest(config, store)
    if report_path is not None:
        write_demo_report(store, report_path)
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return db_path


def show_store(store: Store) -> None:
    from watcher.cli.tables import console, print_changes, print_terms

    articles = store.article_rows()
    console.print(f"\n[bold]Stored {plural(len(articles), 'article')}[/]")
    for a in articles:
        console.print(f"  #{a['id']} {a['title']} ({a['source']}), {plural(a['latest_version'], 'version')}")
        for snap in store.article_history(a["id"])["versions"]:
            terms = snap["terms"]
            print_terms(terms, f"article #{a['id']} version {snap['version']}: "
                               f"{plural(len(terms), 'term')} (text from the {snap['text_source']})")
            if snap["diff"]:
                console.print("[bold]diff from the previous version[/]")
                console.print(snap["diff"], markup=False, highlight=False)
    changes = store.changes_in_order()
    console.print()
    print_changes(changes, plural(len(changes), "term change"))


def write_demo_report(store: Store, path: Path) -> Path:
    """The timeline report of the demo's conflict, and where it is."""
    from watcher.cli.tables import console
    from watcher.report import write_report

    written = write_report(store, "russia-ukraine", path)
    console.print(f"\n[bold]Timeline report:[/] {written.resolve()} "
                  "(open it in a browser; `watcher report --conflict russia-ukraine` makes it from any database)")
    return written


def show_demo_digest(config: Config, store: Store) -> None:
    from watcher.digest.service import preview_console

    preview_console(config, store)
