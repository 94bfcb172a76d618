"""``watcher init``: a commented starter config.toml, so the first hour starts from a file
that loads, names its keys and says where each is documented."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from watcher.cli.common import fail, global_options, note, options, say
from watcher.config import ConfigError, default_config_path, load_config


def starter_text() -> str:
    return resources.files("watcher").joinpath("data/config.starter.toml").read_text("utf-8")


@click.command("init")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a config file that is already there.")
@global_options
def init_command(path: Path | None, force: bool) -> None:
    """Write a commented starter config.toml (never over an existing one without --force).

    PATH defaults to --config, else $WATCHER_CONFIG, else ./config.toml."""
    from watcher.opml import atomic_write

    path = path or options().get("config") or default_config_path()
    if path.exists() and not force:
        fail(f"{path} exists; not overwritten (use --force to replace it)", 1)
    atomic_write(path, starter_text())
    try:
        load_config(path)
    except ConfigError as err:  # pragma: no cover - tests load the starter
        fail(f"the starter config does not load: {err}", 1)
    say(f"wrote {path}")
    note("next: `watcher feeds` lists its feeds, `watcher poll` reads them once, "
         "`watcher run` keeps watching")
