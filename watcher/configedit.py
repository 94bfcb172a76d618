"""Editing config.toml's feed list as text: add, remove, pause and resume one feed.

config.toml is the one feed list (see :mod:`watcher.opml`, whose import appends to it the
same way and whose :func:`~watcher.opml.atomic_write` this uses). Edits are made on the
text, so the user's comments and layout stay; every result is loaded with the real config
loader and compared with what was meant (the same feeds, less one, or one more; nothing
else changed) before the file is replaced atomically. A file the text edit cannot handle
safely (feeds written as an inline array, say) is left alone with a message.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.config import Config, ConfigError, feed_key, parse_config, parse_duration, url_problem
from watcher.opml import atomic_write, editing, toml_string

_FEEDS_HEADER = re.compile(r"^\s*\[\[\s*feeds\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_ENABLED = re.compile(r"^\s*enabled\s*=")
_ENABLED_VALUE = re.compile(r"^(\s*enabled\s*=\s*)(?:true|false)\b")
_ADDED_NOTE = "# Added by `watcher feeds add`"


@dataclass
class Edit:
    """What an edit did: the feed (its [[feeds]] table), the new text, and a verb for the user."""

    feed: dict[str, Any]
    text: str
    done: str  # "added", "removed", "paused", "resumed", or "already paused" (text unchanged)


def _lines(text: str) -> tuple[list[str], str]:
    newline = "\r\n" if "\r\n" in text else "\n"
    return text.splitlines(), newline


def _join(lines: list[str], newline: str) -> str:
    return newline.join(lines) + newline if lines else ""


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line index of each [[feeds]] block: its header to its last key line
    (comments and blank lines after it belong to what follows)."""
    out = []
    i = 0
    while i < len(lines):
        if not _FEEDS_HEADER.match(lines[i]):
            i += 1
            continue
        start, j, last = i, i + 1, i
        while j < len(lines) and not _ANY_HEADER.match(lines[j]):
            stripped = lines[j].strip()
            if stripped and not stripped.startswith("#"):
                last = j
            j += 1
        out.append((start, last))
        i = j
    return out


def _block(lines: list[str], index: int, feeds: list[dict], path: Path | None) -> tuple[int, int]:
    """The lines of feeds[index]'s [[feeds]] block; a ConfigError when the text's blocks are
    not the feeds the loader sees (an inline array, a header in a multi-line string)."""
    blocks = _blocks(lines)
    if len(blocks) != len(feeds):
        raise ConfigError("the feeds are not written as one [[feeds]] block each, which this edit "
                          "needs; edit it by hand", path)
    return blocks[index]


def _feeds_of(text: str) -> tuple[dict[str, Any], list[dict]]:
    data = tomllib.loads(text)
    feeds = data.get("feeds", [])
    return data, feeds if isinstance(feeds, list) else []


class BadRequest(ConfigError):
    """What the caller asked for cannot be done (a URL the poller cannot fetch, an interval
    that is no duration, a feed name that is not there): the caller's mistake, not the
    file's (the command exits 2, a usage error)."""


class UnknownFeed(BadRequest):
    """No feed, or several, answer to the name given."""


def find(config_text: str, which: str, path: Path | None = None) -> int:
    """The index in [[feeds]] of the feed named by URL (as written or in canonical form) or
    by name; a ConfigError that says what is there when none or several match."""
    _, feeds = _feeds_of(config_text)
    key = feed_key(which) if "://" in which else None
    hits = [i for i, f in enumerate(feeds) if isinstance(f, dict) and (
        f.get("url") == which or (key is not None and feed_key(str(f.get("url", ""))) == key)
        or str(f.get("name", "")).casefold() == which.casefold())]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UnknownFeed(f"{which!r} names {len(hits)} feeds; give the URL", path)
    names = [str(f.get("name") or f.get("url")) for f in feeds if isinstance(f, dict)]
    from difflib import get_close_matches

    close = get_close_matches(which, names + [str(f.get("url")) for f in feeds if isinstance(f, dict)], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownFeed(f"no feed {which!r} in the config{hint}; `watcher feeds` lists them", path)


def _checked(config: Config, new_text: str, expected: list[dict]) -> str:
    """``new_text`` if it loads as a config whose feeds are ``expected`` and whose other
    tables are as before; else a ConfigError and nothing is written."""
    path = Path(config.path) if config.path else None
    old_text = _read(config)
    try:
        old, _ = _feeds_of(old_text)
        new, feeds = _feeds_of(new_text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"the edit would not be valid TOML ({err}); edit the file by hand", path) from None
    old.pop("feeds", None)
    new.pop("feeds", None)
    if feeds != expected or old != new:
        raise ConfigError("the file's layout is not one this edit can change safely (are the feeds "
                          "written as [[feeds]] blocks?); edit it by hand", path)
    base = path.resolve().parent if path else Path.cwd()
    parse_config(tomllib.loads(new_text), base=base, path=path)  # the loader's own checks
    return new_text


def _read(config: Config) -> str:
    if config.path is None:
        raise ConfigError("this config was not read from a file (give --config, or run `watcher init`)")
    return Path(config.path).read_bytes().decode("utf-8")  # CRLF line ends stay as they are


def add(config: Config, url: str, *, name: str | None = None, interval: str | None = None) -> Edit:
    """Append a [[feeds]] block for ``url``."""
    text = _read(config)
    path = Path(config.path) if config.path else None
    problem = url_problem(url)
    if problem:
        raise BadRequest(f"{url!r}: {problem}", path)
    if interval is not None:
        try:
            parse_duration(interval)
        except ValueError as err:
            raise BadRequest(f"interval {interval!r}: expected {err}", path) from None
    _, feeds = _feeds_of(text)
    for i, feed in enumerate(feeds):
        if isinstance(feed, dict) and feed_key(str(feed.get("url", ""))) == feed_key(url):
            raise ConfigError(f"{url} is in the config already (feeds[{i}])", path)
    table: dict[str, Any] = {"url": url}
    lines = ["", f"{_ADDED_NOTE} on {datetime.now(UTC):%Y-%m-%d}.", "[[feeds]]",
             f"url = {toml_string(url)}"]
    if name:
        table["name"] = name
        lines.append(f"name = {toml_string(name)}")
    if interval:
        table["interval"] = interval
        lines.append(f"interval = {toml_string(interval)}")
    old_lines, newline = _lines(text)
    new_text = _join(old_lines + lines, newline)
    return Edit(table, _checked(config, new_text, [*feeds, table]), "added")


def remove(config: Config, which: str) -> Edit:
    """Take the feed's [[feeds]] block out (and the blank line before it)."""
    text = _read(config)
    index = find(text, which, config.path)
    _, feeds = _feeds_of(text)
    lines, newline = _lines(text)
    start, last = _block(lines, index, feeds, config.path)
    if start > 0 and lines[start - 1].startswith(_ADDED_NOTE):  # add's own note goes with it
        start -= 1
    if start > 0 and not lines[start - 1].strip():
        start -= 1
    new_text = _join(lines[:start] + lines[last + 1:], newline)
    return Edit(feeds[index], _checked(config, new_text, feeds[:index] + feeds[index + 1:]), "removed")


def set_enabled(config: Config, which: str, enabled: bool) -> Edit:
    """Pause (``enabled = false`` in the block) or resume (that line taken out) a feed."""
    text = _read(config)
    index = find(text, which, config.path)
    _, feeds = _feeds_of(text)
    feed = dict(feeds[index])
    if feed.get("enabled", True) == enabled:
        return Edit(feed, text, "already running" if enabled else "already paused")
    lines, newline = _lines(text)
    start, last = _block(lines, index, feeds, config.path)
    body = [i for i in range(start + 1, last + 1) if _ENABLED.match(lines[i])]
    if enabled:
        lines = [line for i, line in enumerate(lines) if i not in body]
        feed.pop("enabled", None)
    elif body:
        # the value only: the line's indent and comment stay (the result is checked below)
        lines[body[0]] = _ENABLED_VALUE.sub(r"\1false", lines[body[0]], count=1)
        feed["enabled"] = False
    else:
        lines.insert(last + 1, "enabled = false")
        feed["enabled"] = False
    expected = feeds[:index] + [feed] + feeds[index + 1:]
    return Edit(feed, _checked(config, _join(lines, newline), expected), "resumed" if enabled else "paused")


def write(config: Config, edit: Edit) -> None:
    """Replace the config file with the edit's text (atomically; a symlink stays one)."""
    if config.path is not None and edit.text != _read(config):
        atomic_write(Path(config.path), edit.text)


def apply(config: Config, action: Callable[..., Edit], *args: Any, **kwargs: Any) -> Edit:
    """Run an edit (add, remove, set_enabled) and write it under the config's edit lock, so
    an edit made at the same time by another process is read, not overwritten."""
    if config.path is None:
        return action(config, *args, **kwargs)  # raises: nothing to edit
    with editing(Path(config.path)):
        edit = action(config, *args, **kwargs)
        write(config, edit)
    return edit
