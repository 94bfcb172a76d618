"""What every command shares: the options every command takes (before or after its name),
config loading, logging and quietness, machine output, the store, failing cleanly."""

from __future__ import annotations

import csv
import difflib
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from watcher.config import (
    Config,
    ConfigError,
    default_config_path,
    load_config,
    parse_config,
    parse_duration,
)
from watcher.safetext import json_printable, printable

if TYPE_CHECKING:  # imported when a command opens the store, not by every command
    from watcher.store import Store

log = logging.getLogger("watcher")
current_database: Path | None = None  # the command's database, for error messages


class PrintableFormatter(logging.Formatter):
    """Log lines carry feed titles, URLs and server messages: no escape sequence in them
    reaches the terminal or the journal."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("watcher")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 feed', '2 feeds', '0 matches' (``many`` when adding an s is wrong)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


# --- the options every command takes, before or after its name ----------------------------
#
# `watcher --config c.toml poll` and `watcher poll --config c.toml` are the same command: the
# group and every command declare the same options, each remembered in the context's meta
# (shared by the group's context and the command's), the command's own value winning.

_META = "watcher.options"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value is not False:
        ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def global_options(func: Callable) -> Callable:
    """``--config``, ``--db``, ``-q/--quiet`` and ``-v/--verbose``, not passed to ``func``:
    read them with :func:`options`."""
    path = click.Path(dir_okay=False, path_type=Path)
    for option in reversed([
        click.option("--config", "config", type=path, default=None, expose_value=False, callback=_remember,
                     help="Config file [default: ./config.toml, or $WATCHER_CONFIG]."),
        click.option("--db", "db", type=path, default=None, expose_value=False, callback=_remember,
                     help="Database file, overriding [watcher].database."),
        click.option("-q", "--quiet", "quiet", is_flag=True, expose_value=False, callback=_remember,
                     help="Print nothing on success; warnings and errors still go to stderr (for cron)."),
        click.option("-v", "--verbose", "verbose", is_flag=True, expose_value=False, callback=_remember,
                     help="Log every step (DEBUG)."),
    ]):
        func = option(func)
    return func


def options(ctx: click.Context | None = None) -> dict[str, Any]:
    """The global options given anywhere on the command line: config, db, quiet, verbose."""
    ctx = ctx or click.get_current_context()
    return dict(ctx.meta.get(_META, {}))


def quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and options(ctx).get("quiet"))


def say(message: str) -> None:
    """What a command that changes something did (stdout). Silent with -q: cron mails only
    what went wrong."""
    if not quiet():
        click.echo(printable(message))  # names a config or an OPML file gave (feeds add/import)


def note(message: str) -> None:
    """A line for the person at the terminal (stderr): what was done. Silent with -q."""
    if not quiet():
        click.echo(printable(message), err=True)


def log_level(config_level: str = "INFO") -> str:
    """-q logs warnings and errors only (a feed that failed is a warning: not all is well),
    -v everything; else [watcher].log_level."""
    opts = options()
    if opts.get("quiet") and opts.get("verbose"):
        raise click.UsageError("-q/--quiet and -v/--verbose contradict each other")
    if opts.get("quiet"):
        return "ERROR" if config_level == "ERROR" else "WARNING"
    return "DEBUG" if opts.get("verbose") else config_level


def load(ctx: click.Context | None = None) -> Config:
    """The command's config: --config, else $WATCHER_CONFIG or ./config.toml; with --db and
    no config file at all, the defaults around that database (so `watcher demo --db demo.db`
    then `watcher terms --db demo.db` needs no config). A bad config exits 2."""
    global current_database
    opts = options(ctx)
    path = opts.get("config")
    db = opts.get("db")
    try:
        if path is None and db is not None and not os.environ.get("WATCHER_CONFIG") \
                and not default_config_path().exists():
            config = parse_config({"watcher": {"database": str(Path(db).resolve())}}, base=Path.cwd())
        else:
            config = load_config(path or default_config_path())
    except ConfigError as err:
        fail(str(err), 2)
    if db is not None:
        config.watcher.database = db
    current_database = Path(config.watcher.database)
    setup_logging(log_level(config.watcher.log_level))
    return config


def with_config(func: Callable) -> Callable:
    """The command takes the global options and gets the loaded config as its first argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(load(), *args, **kwargs)

    return global_options(wrapper)


# --- machine output: one convention, as sqlite-utils has it -----------------------------------
#
# --json: one JSON array; --nl: one JSON object a line; --csv: the rows as CSV. Strings are
# UTF-8 as they are (ensure_ascii=False), C1 controls escaped; lists stay lists (in CSV a
# list or object cell is its JSON text). See docs/commands.md.


def output_options(func: Callable | None = None, *, csv_too: bool = True) -> Callable:
    """``--json`` / ``--nl`` (/ ``--csv``) as one parameter ``output``: None for the table."""

    def decorate(f: Callable) -> Callable:
        opts = [click.option("--json", "output", flag_value="json", help="One JSON array."),
                click.option("--nl", "output", flag_value="nl", help="Newline-delimited JSON: one object a line.")]
        if csv_too:
            opts.append(click.option("--csv", "output", flag_value="csv", help="CSV with a header row."))
        for option in reversed(opts):
            f = option(f)
        return f

    return decorate(func) if func is not None else decorate


def dumps(value: Any) -> str:
    """JSON as every command writes it: UTF-8 text, C1 controls escaped, dates as text."""
    return json_printable(json.dumps(value, ensure_ascii=False, default=str))


def emit(rows: Iterable[dict], output: str, columns: list[str] | None = None) -> None:
    """Rows in the chosen machine format on stdout. ``columns``: the CSV header's order, and
    the header printed when no row came back (a reader of an empty result still gets its
    fields); a row's key not among them is added after them, never dropped."""
    rows = list(rows)
    if output == "nl":
        for row in rows:
            click.echo(dumps(row))
    elif output == "json":
        click.echo("[" + ",\n ".join(dumps(row) for row in rows) + "]")
    elif output == "csv":
        columns = list(dict.fromkeys([*(columns or []), *(key for row in rows for key in row)]))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        sys.stdout.flush()
    else:  # pragma: no cover - callers pass one of the three
        raise ValueError(output)


# A spreadsheet runs a cell that starts with one of these as a formula (a feed's title
# "=HYPERLINK(…)" would become a link the reader did not ask for): such text gets a leading
# apostrophe, as OWASP advises. Numbers are written as they are.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return dumps(value)
    if isinstance(value, str):
        text = printable(value)
        return "'" + text if text.startswith(_FORMULA_STARTS) and not _is_number(text) else text
    return printable(str(value))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- values given on the command line ------------------------------------------------------


def _ago(value: str, seconds: float, now: datetime) -> datetime:
    """``now`` minus ``seconds``; a BadParameter (not an OverflowError) before year 1."""
    try:
        return now - timedelta(seconds=seconds)
    except OverflowError:
        raise click.BadParameter(f"{value!r}: that is before the year 1; give a shorter time ago") from None


def parse_when(value: str, *, now: datetime | None = None) -> str:
    """A moment as stored ('YYYY-MM-DD HH:MM:SS' UTC) from '7d' / '12h' (that long ago),
    '2024-06-24', or an ISO datetime (UTC unless it says otherwise)."""
    from watcher.store import ts

    now = now or datetime.now(UTC)
    text = value.strip()
    try:
        seconds = parse_duration(text)
    except ValueError:
        pass
    else:
        return ts(_ago(value, seconds, now))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected a date (2024-06-24), a date and time (2024-06-24T10:00), "
            "or a time ago (7d, 12h)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ts(moment)


def when_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else parse_when(value)


def check_ids(config: Config, checks: list[tuple[str, str, Iterable[str | None]]]) -> None:
    """Each (option, field, values): an id the vocabulary does not know is a usage error
    (exit 2) with a did-you-mean, not a filter that silently matches nothing. The digest
    filters' own check (:func:`watcher.digest.filters.check_values`) decides."""
    values = [(option, name, [v for v in given if v]) for option, name, given in checks]
    if not any(given for _, _, given in values):
        return
    from watcher.digest.filters import check_values, known_ids

    known = known_ids(config.extension)
    for option, name, given in values:
        problem = check_values(name, given, known)
        if problem:
            raise click.BadParameter(problem, param_hint=option)


def did_you_mean(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- the store ------------------------------------------------------------------------------


def open_store(config: Config, *, write: bool = True) -> Store:
    """The store of a command; one that writes fails first, with a clear message, when
    this user cannot write the database (or create its -wal file beside it)."""
    from watcher.store import Store, StoreError

    path = Path(config.watcher.database)
    if write:
        problem = unwritable(path)
        if problem:
            fail(problem, 1)
    try:
        return Store.open(path)
    except StoreError as err:
        fail(str(err), 1)
        raise  # unreachable


def unwritable(path: Path) -> str | None:
    """Why this user cannot write the database at ``path``, or None."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.exists() and not os.access(path, os.W_OK):
        return f"database {path} is read-only for this user; check its owner and permissions"
    if folder.exists() and not os.access(folder, os.W_OK) and not Path(f"{path}-wal").exists():
        return (f"cannot write in {folder}: SQLite keeps {path.name}-wal and {path.name}-shm "
                "beside the database; check the folder's owner and permissions")
    return None


def database_error(err: Exception, path: Path | None) -> str:
    """One line for an SQLite error that reached the command: what and where."""
    where = f"database {path}" if path else "the database"
    text = str(err)
    if "malformed" in text or "not a database" in text:
        return f"{where} is damaged ({text}); restore it from a backup, or try `sqlite3 {path} .recover`"
    if "readonly" in text:
        return f"{where} is read-only for this user ({text}); check its owner and permissions"
    if "full" in text:
        return f"{where}: the disk is full ({text}); free space and run it again"
    return f"{where}: {text}"
