"""The console channel: a digest printed on standard output.

Rich styles it when rich is installed; without rich (a script using the library alone)
the plain-text rendering is written as it is. rich is imported only when printing.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from watcher.digest.channels import Channel, Sender

if TYPE_CHECKING:  # imported when printing: validating a config loads no digest machinery
    from watcher.config import Config
    from watcher.digest.collect import Digest


def default_console() -> Any:
    """A rich console, or None without rich (then digests print as plain text)."""
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(soft_wrap=True)


def print_digest(digest: Digest, fmt: str, console: Any, subject: str | None = None) -> None:
    """A digest on a console: rich text, or the markdown/plain rendering as it is."""
    from watcher.digest.render import render

    if console is None:
        console = default_console()
    if console is None:
        sys.stdout.write(render(digest, fmt, subject))
    elif fmt == "text":
        from watcher.digest.render import print_console

        print_console(digest, console)
    else:
        console.print(render(digest, fmt, subject), markup=False, highlight=False, soft_wrap=True, end="")


def _sender(config: Config, recipient: str | None, fmt: str, console: Any) -> Sender:
    from watcher.digest.collect import Digest

    def send_console(row: dict) -> None:
        print_digest(Digest.from_json(row["payload"]), fmt, console, row["subject"])
    return send_console


CHANNEL = Channel("console", _sender, retried=False)
