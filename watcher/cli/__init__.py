"""The ``watcher`` command: thin click wrappers over the library.

Exit codes: 0 done; 1 something failed that the user must look at; 2 bad usage or a bad
config (nothing ran).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from watcher import __version__
from watcher.cli.common import (
    fail,
    global_options,
    load,
    log_level,
    note,
    open_store,
    options,
    output_options,
    plural,
    quiet,
    setup_logging,
    with_config,
)
from watcher.config import Config, ConfigError, default_config_path, load_extension
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
    "init": ("watcher.cli.init:init_command",
             "Write a commented starter config.toml (never over an existing one without --force)."),
    "vocabulary": ("watcher.cli.vocabulary:vocabulary_command",
                   "The ids filters take: conflicts, actors, places, categories and stances."),
    "report": ("watcher.cli.report:report_command",
               "A conflict's timeline: per term, each holder's position report by report, the "
               "agreement's beside them, every change marked with before → after, quote and source."),
}
LAZY_FEEDS_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "add": ("watcher.cli.feeds:feeds_add",
            "Add a feed to config.toml (a [[feeds]] block appended; your comments stay)."),
    "remove": ("watcher.cli.feeds:feeds_remove",
               "Remove a feed from config.toml; its history stays in the database."),
    "pause": ("watcher.cli.feeds:feeds_pause",
              "Stop polling a feed: enabled = false in its [[feeds]] block."),
    "resume": ("watcher.cli.feeds:feeds_resume",
               "Poll a paused feed again: its enabled = false removed."),
    "reset": ("watcher.cli.feeds:feeds_reset",
              "Clear a feed's errors and disabling (e.g. after a 410) so it is polled again."),
    "import": ("watcher.cli.feeds:feeds_import",
               "Add the feeds of an OPML file to config.toml (appended as [[feeds]] blocks; your "
               "comments stay; feeds already there are skipped)."),
    "export": ("watcher.cli.feeds:feeds_export",
               "Write the configured feeds as OPML 2.0 to stdout (for any feed reader)."),
}


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watcher")
@global_options
def cli() -> None:
    """Ceasefire watcher: watch news feeds for ceasefire and peace-proposal stories and
    track how the terms on the table change.

    --config, --db, -q and -v may come before or after the command's name."""


@cli.command()
@with_config
def run(config: Config) -> None:
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
@click.option("--all", "all_feeds", is_flag=True, help="Poll every enabled feed, due or not.")
@click.option("--articles/--no-articles", default=True, help="Also re-check due articles for edits.")
def poll(config: Config, all_feeds: bool, articles: bool) -> None:
    """Poll every due feed once, then exit (for cron).

    Exits non-zero only when nothing could be done, not because a feed failed. With -q it
    prints nothing unless something went wrong (a feed that failed is one line on stderr).
    """
    import asyncio

    from watcher.pipeline import Pipeline

    if config.path is None:  # --db without a config file: no feed list to poll (or to sync)
        fail("no config file: `watcher poll` reads its feeds from one (--config, or `watcher init`)", 2)
    store = open_store(config)

    async def main() -> list:
        async with Pipeline(config, store) as pipeline:
            reports = await pipeline.poll(all_feeds=all_feeds)
            if articles:
                await pipeline.check_articles()
            return reports

    reports = asyncio.run(main())
    if not reports:
        note("no feed was due (use --all to poll every feed now)")
    failed = [r for r in reports if r.error]
    note(f"polled {plural(len(reports), 'feed')}: {len(reports) - len(failed)} ok, {len(failed)} with problems")


@cli.group(cls=LazyGroup, lazy=LAZY_FEEDS_SUBCOMMANDS, invoke_without_command=True)
@click.pass_context
@global_options
@output_options
def feeds(ctx: click.Context, output: str | None) -> None:
    """List the feeds: state, last and next poll, errors. The list is config.toml's: the
    database is brought in step with it first. Subcommands add, remove, pause and resume
    a feed, reset one's errors, import and export OPML."""
    if ctx.invoked_subcommand is not None:
        return  # the subcommand loads the config: its own --config may come after its name
    from watcher.cli.feeds import list_feeds

    list_feeds(load(ctx), output)


@cli.command()
@global_options
@click.option("--no-digest", is_flag=True, help="Do not print the digest at the end.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the timeline report here [default: beside --db, else ./watcher-demo-report.html].")
def demo(no_digest: bool, report_path: Path | None) -> None:
    """Run the whole pipeline on the built-in seeds over loopback; needs no network.

    With --db the demo's database is kept there, to open afterwards with any command
    (`watcher terms --db demo.db`); without it, a temporary file. It reads no config."""
    from watcher.cli.demo import run_demo

    setup_logging(log_level("WARNING"))
    db_path = options().get("db")
    if report_path is None:
        report_path = (db_path.parent if db_path else Path.cwd()) / "watcher-demo-report.html"
    from watcher.cli.tables import console

    was, console.quiet = console.quiet, console.quiet or quiet()  # -q: nothing on stdout, as everywhere
    try:
        run_demo(db_path, show_digest=not no_digest, report_path=report_path)
    finally:
        console.quiet = was


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@output_options(csv_too=False)
@global_options
def extract(inputs: tuple[str, ...], output: str | None) -> None:
    """Extract proposal terms from text files, HTML files, URLs or - (stdin).

    Uses the gazetteer additions of the config file when one is found.
    """
    from watcher.cli.extract import run_extract

    extension: dict = {}
    config_path = options().get("config")
    path = config_path or default_config_path()
    if config_path is not None or path.exists():
        try:
            extension = load_extension(path)
        except ConfigError as err:
            fail(str(err), 2)
    setup_logging(log_level("WARNING"))
    sys.exit(run_extract(list(inputs), output=output, extension=extension))


@cli.command()
@with_config
def reprocess(config: Config) -> None:
    """Rebuild terms, ledger and changes from the stored snapshots, oldest first.

    Gives the same result as live processing, so a better extractor can be applied to
    history. Running it twice changes nothing.
    """
    from watcher.reprocess import reprocess_all

    store = open_store(config)
    stats = reprocess_all(store, config.extension)
    note(
        f"reprocessed {plural(stats['snapshots'], 'snapshot')}: {plural(stats['terms'], 'term')}, "
        f"{plural(stats['ledger'], 'ledger row')}, {plural(stats['changes'], 'change')}"
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
