"""What every command shares: config loading, logging, the store, failing cleanly."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from watcher.config import Config, ConfigError, default_config_path, load_config
from watcher.safetext import printable

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


def config_option(func: Callable) -> Callable:
    """``--config PATH``: every command takes it (default ./config.toml or $WATCHER_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file [default: ./config.toml, or $WATCHER_CONFIG].",
    )(func)


def db_option(func: Callable) -> Callable:
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="Database file, overriding [watcher].database.",
    )(func)


def with_config(func: Callable) -> Callable:
    """Load and validate the config before the command runs; a bad one exits 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, config_path: Path | None = None, **kwargs: Any) -> Any:
        try:
            config = load_config(config_path or default_config_path())
        except ConfigError as err:
            fail(str(err), 2)
        if kwargs.get("db_path"):
            config.watcher.database = kwargs["db_path"]
        global current_database
        current_database = Path(config.watcher.database)
        setup_logging(config.watcher.log_level)
        return func(config, *args, **kwargs)

    return config_option(wrapper)


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
