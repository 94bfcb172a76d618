"""``watcher feeds`` and its subcommands: list, add, remove, pause, resume, reset, and OPML
import/export. config.toml is the feed list: the editing commands change it as text
(:mod:`watcher.configedit`, :mod:`watcher.opml`), the database only keeps each feed's state.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from watcher.cli.common import (
    dumps,
    emit,
    fail,
    note,
    open_store,
    plural,
    say,
    unwritable,
    with_config,
)
from watcher.config import Config, ConfigError


def list_feeds(config: Config, output: str | None) -> None:
    """The configured feeds with their state. The feeds table is synced from the config
    first, as every command that opens the database for writing does; a database this
    user cannot write is only read (feeds it has not seen yet are listed as new)."""
    from watcher.store import Store

    path = Path(config.watcher.database)
    if config.path is not None and unwritable(path) is None:  # no config file: nothing to sync from
        store = open_store(config)
        store.sync_feeds(config.feeds, config.watcher.interval)
    elif path.exists():
        store = Store.open(path)
    else:
        fail(f"no database at {path}" + (f", and {unwritable(path)}" if config.path else ""))
        return
    rows = store.feeds()
    columns = store.columns("feeds")
    store.close()
    known = {r["config_url"] for r in rows}
    for feed in config.feeds:  # only when the database could not be written
        if feed.url not in known:
            rows.append({
                "id": None, "config_url": feed.url, "url": feed.url, "name": feed.name,
                "enabled": int(feed.enabled), "disabled_reason": None, "consecutive_errors": 0,
                "last_polled_at": None, "next_poll_at": None, "last_error": None,
            })
    if output:
        emit(rows, output, columns)
        return
    from watcher.cli.tables import feeds_table

    feeds_table(rows)


def _edit(config: Config, action, *args, **kwargs) -> None:
    from watcher import configedit

    try:
        edit = configedit.apply(config, action, *args, **kwargs)
    except configedit.BadRequest as err:  # a name that is not there, a bad URL: exit 2, as unknown ids
        fail(str(err), 2)
    except ConfigError as err:
        fail(str(err), 1)
    label = edit.feed.get("url", "")
    if edit.feed.get("name"):
        label += f" ({edit.feed['name']})"
    say(f"{edit.done}: {label} in {config.path}")
    if not edit.done.startswith("already"):
        note("a running `watcher run` picks this up when restarted")


def _feed_in_config(config: Config, feed: str) -> str:
    """FEED as the config spells it: an id from `watcher feeds` is looked up in the database."""
    if feed.isdigit() and Path(config.watcher.database).exists():
        from watcher.store import Store

        store = Store.open(Path(config.watcher.database))
        row = store.feed(int(feed))
        store.close()
        if row is not None:
            return row["config_url"]
    return feed


@click.command("add")
@click.argument("url")
@click.option("--name", help="What digests and `watcher feeds` call it [default: the feed's own title].")
@click.option("--interval", help="Poll this often, e.g. 10m [default: [watcher].interval].")
@with_config
def feeds_add(config: Config, url: str, name: str | None, interval: str | None) -> None:
    """Add a feed to config.toml (a [[feeds]] block appended; your comments stay)."""
    from watcher import configedit

    _edit(config, configedit.add, url, name=name, interval=interval)


@click.command("remove")
@click.argument("feed")
@with_config
def feeds_remove(config: Config, feed: str) -> None:
    """Remove a feed from config.toml; its history stays in the database.

    FEED is its URL, its name, or its id from `watcher feeds`."""
    from watcher import configedit

    _edit(config, configedit.remove, _feed_in_config(config, feed))


def _switch(name: str, enabled: bool, summary: str) -> click.Command:
    """`feeds pause` and `feeds resume`: the same command but for the value written."""

    @click.command(name, help=f"{summary}\n\nFEED is its URL, its name, or its id from `watcher feeds`.")
    @click.argument("feed")
    @with_config
    def command(config: Config, feed: str) -> None:
        from watcher import configedit

        _edit(config, configedit.set_enabled, _feed_in_config(config, feed), enabled)

    return command


feeds_pause = _switch("pause", False, "Stop polling a feed: enabled = false in its [[feeds]] block.")
feeds_resume = _switch("resume", True, "Poll a paused feed again: its enabled = false removed.")


@click.command("reset")
@click.argument("feed")
@with_config
def feeds_reset(config: Config, feed: str) -> None:
    """Clear a feed's errors and disabling (e.g. after a 410) so it is polled again.

    FEED is the feed's id from `watcher feeds`, or its URL.
    """
    store = open_store(config)
    match = [r for r in store.feeds() if str(r["id"]) == feed or feed in (r["url"], r["config_url"])]
    if not match:
        fail(f"no feed {feed!r}; `watcher feeds` lists them", 1)
    store.reset_feed(match[0]["id"])
    say(f"feed {match[0]['name'] or match[0]['url']}: errors cleared, will be polled at the next chance")


@click.command("import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say which feeds would be added; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="What was added and skipped, as one JSON object.")
@with_config
def feeds_import(config: Config, opml_file: Path, dry_run: bool, as_json: bool) -> None:
    """Add the feeds of an OPML file to config.toml (appended as [[feeds]] blocks; your
    comments stay; feeds already there are skipped). The config stays the one feed list."""
    from watcher.opml import OpmlError, import_opml

    try:
        plan = import_opml(config, opml_file, dry_run=dry_run)
    except (OpmlError, ConfigError) as err:
        fail(f"{opml_file}: {err}" if isinstance(err, OpmlError) else f"not imported: {err}", 1)
    if as_json:
        click.echo(dumps({
            "config": str(config.path), "dry_run": dry_run,
            "added": [{"url": f.url, "name": f.title} for f in plan.added],
            "skipped": [{"url": url, "reason": why} for url, why in plan.skipped],
        }))
        return
    verb = "would add" if dry_run else "added"
    say(f"{verb} {plural(len(plan.added), 'feed')} to {config.path}")
    for feed in plan.added:
        say(f"  + {feed.url}" + (f"  ({feed.title})" if feed.title else ""))
    for url, why in plan.skipped:
        say(f"  skipped {url}: {why}")
    if plan.added and not dry_run:
        note("a running `watcher run` picks them up when restarted")


@click.command("export")
@with_config
def feeds_export(config: Config) -> None:
    """Write the configured feeds as OPML 2.0 to stdout (for any feed reader)."""
    from watcher.opml import export_opml
    from watcher.store import Store

    details: dict[str, dict] = {}
    if Path(config.watcher.database).exists():
        store = Store.open(Path(config.watcher.database))
        details = store.feed_details()
        store.close()
    sys.stdout.buffer.write(export_opml(config, details))
    sys.stdout.flush()


FEEDS_SUBCOMMANDS: list[click.Command] = [feeds_add, feeds_remove, feeds_pause, feeds_resume, feeds_reset,
                                          feeds_import, feeds_export]
