"""The ``watcher`` command: thin click wrappers over the library.

Exit codes: 0 done; 1 something failed that the user must look at; 2 bad usage or a bad
config (nothing ran).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from watcher import __version__
from watcher.cli.common import (
    config_option,
    db_option,
    fail,
    open_store,
    setup_logging,
    with_config,
)
from watcher.config import Config, ConfigError, default_config_path, load_config
from watcher.errors import WatcherError


class LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when one of them runs.

    `lazy` maps a command's name to ``"module:attribute"`` and its one-line help, so
    ``watcher --help`` lists every command without importing rich, asyncio, the store and
    the digest machinery it never uses (``tests/test_startup.py`` keeps each line equal to
    the command's own). Eager ``add_command`` still works and wins over a lazy entry.
    """

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None and command.hidden:
                continue
            rows.append((name, command, self.lazy.get(name, ("", ""))[1]))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([
                (name, command.get_short_help_str(limit) if command is not None
                 else click.utils.make_default_short_help(text, limit))
                for name, command, text in rows
            ])


# Commands that live beside the code they drive: name -> ("module:attribute", short help).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "digest": ("watcher.cli.digest:digest_command",
               "Deliver the changes not yet delivered: unsent digests are retried first (same "
               "Message-ID), then one new digest per channel, and per subscription and recipient."),
    "digests": ("watcher.cli.digest:digests_command",
                "List digests: status (pending, sent, failed) with ×attempts when not 1, next "
                "retry, last error, and the subscription and recipient of subscription digests."),
    "history": ("watcher.cli.history:history",
                "The timeline of a position: every report of a term, oldest first by when it was "
                "published (and when it was read, where that differs), with its outlet (the "
                "feed's name), stance, values, the sentence and the article."),
    "terms": ("watcher.cli.history:terms",
              "The current ledger: per conflict, proposer and category, the term as it stands, "
              "how many outlets reported it, and when its latest report was published (and read)."),
    "show": ("watcher.cli.history:show",
             "One article: every stored version, the diff from the one before, the terms read "
             "from each, and the changes it caused."),
    "search": ("watcher.cli.history:search",
               "Full-text search over article versions (titles and text) and term quotes, with "
               "the matching words marked «like this»."),
    "datasette-metadata": ("watcher.cli.history:datasette_metadata",
                           "Print Datasette metadata (titles, descriptions, canned queries) for "
                           "the database:"),
    "export": ("watcher.cli.history:export", "Export the history in formats other programs read."),
    "prune": ("watcher.cli.history:prune",
              "Remove poll rows and the text of article versions older than --older-than."),
    "report": ("watcher.cli.report:report_command",
               "A conflict's timeline: per term, each holder's position report by report, the "
               "agreement's beside them, every change marked with before → after, quote and source."),
}
LAZY_FEEDS_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "import": ("watcher.cli.history:feeds_import",
               "Add the feeds of an OPML file to config.toml (appended as [[feeds]] blocks; your "
               "comments stay; feeds already there are skipped)."),
    "export": ("watcher.cli.history:feeds_export",
               "Write the configured feeds as OPML 2.0 to stdout (for any feed reader)."),
}


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watcher")
def cli() -> None:
    """Ceasefire watcher: watch news feeds for ceasefire and peace-proposal stories and
    track how the terms on the table change."""


@cli.command()
@with_config
@db_option
def run(config: Config, db_path: Path | None) -> None:
    """Run the daemon: poll every feed on its schedule until SIGTERM or SIGINT."""
    import asyncio

    from watcher.daemonlock import DaemonLock, DaemonRunning
    from watcher.digest.service import scheduled_jobs
    from watcher.pipeline import Pipeline
    from watcher.scheduler import Daemon

    if not any(feed.enabled for feed in config.feeds):
        where = f"{config.path}: " if config.path else ""
        fail(f"{where}feeds: no enabled feed to watch; add [[feeds]] entries with url = \"...\" "
             "(or `watcher feeds import list.opml`)", 2)
    store = open_store(config)
    lock = DaemonLock(config.watcher.database)
    try:
        lock.acquire()
    except DaemonRunning as err:
        fail(str(err), 1)
    except OSError as err:
        fail(f"cannot take the daemon lock {lock.path}: {err.strerror}", 1)

    async def main() -> Daemon:
        pipeline = Pipeline(config, store)
        daemon = Daemon(config, store, pipeline, extra_jobs=scheduled_jobs(config, store))
        await daemon.run()
        return daemon

    daemon = asyncio.run(main())
    lock.release()
    if daemon.fatal:
        fail(daemon.fatal, 1)


@cli.command()
@with_config
@db_option
@click.option("--all", "all_feeds", is_flag=True, help="Poll every enabled feed, due or not.")
@click.option("--articles/--no-articles", default=True, help="Also re-check due articles for edits.")
def poll(config: Config, db_path: Path | None, all_feeds: bool, articles: bool) -> None:
    """Poll every due feed once, then exit (for cron).

    Exits non-zero only when nothing could be done, not because a feed failed.
    """
    import asyncio

    from watcher.pipeline import Pipeline

    store = open_store(config)

    async def main() -> list:
        async with Pipeline(config, store) as pipeline:
            reports = await pipeline.poll(all_feeds=all_feeds)
            if articles:
                await pipeline.check_articles()
            return reports

    reports = asyncio.run(main())
    if not reports:
        click.echo("no feed was due (use --all to poll every feed now)", err=True)
    failed = sum(1 for r in reports if r.error)
    click.echo(f"polled {len(reports)} feeds: {len(reports) - failed} ok, {failed} with problems", err=True)


@cli.group(cls=LazyGroup, lazy=LAZY_FEEDS_SUBCOMMANDS, invoke_without_command=True)
@click.pass_context
@with_config
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def feeds(config: Config, ctx: click.Context, db_path: Path | None, as_json: bool) -> None:
    """List the feeds: state, last and next poll, errors. Subcommands import/export OPML."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = config
        return
    store = open_store(config, write=False)
    rows = store.feeds()
    # feeds in config.toml the daemon has not seen yet: listed, not written (this is a read)
    known = {r["config_url"] for r in rows}
    for feed in config.feeds:
        if feed.url not in known:
            rows.append({
                "id": None, "config_url": feed.url, "url": feed.url, "name": feed.name,
                "enabled": int(feed.enabled), "disabled_reason": None, "consecutive_errors": 0,
                "last_polled_at": None, "next_poll_at": None, "last_error": None,
            })
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    from watcher.cli.tables import feeds_table

    feeds_table(rows)


@feeds.command("reset")
@click.argument("feed")
@click.pass_obj
def feeds_reset(config: Config, feed: str) -> None:
    """Clear a feed's errors and disabling (e.g. after a 410) so it is polled again.

    FEED is the feed's id from `watcher feeds`, or its URL.
    """
    store = open_store(config)
    match = [r for r in store.feeds() if str(r["id"]) == feed or feed in (r["url"], r["config_url"])]
    if not match:
        fail(f"no feed {feed!r}; `watcher feeds` lists them", 1)
    store.reset_feed(match[0]["id"])
    click.echo(f"feed {match[0]['name'] or match[0]['url']}: errors cleared, will be polled at the next chance")


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the demo database here instead of a temporary file.")
@click.option("--no-digest", is_flag=True, help="Do not print the digest at the end.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the timeline report here [default: beside --db, else ./watcher-demo-report.html].")
def demo(db_path: Path | None, no_digest: bool, report_path: Path | None) -> None:
    """Run the whole pipeline on the built-in seeds over loopback; needs no network."""
    from watcher.cli.demo import run_demo

    setup_logging("WARNING")
    if report_path is None:
        report_path = (db_path.parent if db_path else Path.cwd()) / "watcher-demo-report.html"
    run_demo(db_path, show_digest=not no_digest, report_path=report_path)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one object per input.")
@config_option
def extract(inputs: tuple[str, ...], as_json: bool, config_path: Path | None) -> None:
    """Extract proposal terms from text files, HTML files, URLs or - (stdin).

    Uses the gazetteer additions of the config file when one is found.
    """
    from watcher.cli.extract import run_extract

    extension: dict = {}
    path = config_path or default_config_path()
    if config_path is not None or path.exists():
        try:
            extension = load_config(path).extension
        except ConfigError as err:
            fail(str(err), 2)
    setup_logging("WARNING")
    sys.exit(run_extract(list(inputs), as_json=as_json, extension=extension))


@cli.command()
@with_config
@db_option
def reprocess(config: Config, db_path: Path | None) -> None:
    """Rebuild terms, ledger and changes from the stored snapshots, oldest first.

    Gives the same result as live processing, so a better extractor can be applied to
    history. Running it twice changes nothing.
    """
    from watcher.reprocess import reprocess_all

    store = open_store(config)
    stats = reprocess_all(store, config.extension)
    click.echo(
        f"reprocessed {stats['snapshots']} snapshots: {stats['terms']} terms, "
        f"{stats['ledger']} ledger rows, {stats['changes']} changes"
    )


def main() -> None:
    """The `watcher` command. An error that reached this far (the library's
    :class:`~watcher.errors.WatcherError`, a damaged or read-only database, a full disk) is
    one `error:` line and exit 1 (2 for bad input), never a traceback.

    sqlite3 is looked up only when an error came: a command that never opened the
    database (``--help``, ``extract``) does not pay for importing it."""
    from watcher.cli import common

    try:
        cli(prog_name="watcher")
    except WatcherError as err:
        fail(err.message, err.exit_code)
    except Exception as err:
        sqlite3 = sys.modules.get("sqlite3")
        if sqlite3 is not None and isinstance(err, sqlite3.Error):
            fail(common.database_error(err, common.current_database), 1)
        if isinstance(err, OSError):
            where = f" ({err.filename})" if err.filename else ""
            fail(f"{err.strerror or err}{where}", 1)
        raise
