"""Digest channels, by name: a channel is one module of this package.

Each module defines ``CHANNEL = Channel(...)``: its name, whether its sends can fail (then
the daemon runs a retry sweep for it), how it makes a sender for the ``[digest]`` lane or
for one subscription recipient, and how a recipient is shown. :data:`NAMES` is
``models.CHANNELS``, the one list of channel names (config validation, the command's
choices and the daemon's jobs read it); adding a channel is adding its module and its name
there. Modules are imported when a channel is used, so nothing loads smtplib, apprise or
rich before a digest is sent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from watcher.errors import WatcherError
from watcher.models import CHANNELS

if TYPE_CHECKING:
    from watcher.config import Config

NAMES: tuple[str, ...] = CHANNELS

Sender = Callable[[dict], None]  # sends one outbox row; raises DeliveryError


class DeliveryError(WatcherError):
    """A send failed; the message is safe to store and log (no secrets). ``delivered``: the
    recipients the server accepted all the same (a partial refusal)."""

    def __init__(self, message: str, delivered: list[str] | None = None) -> None:
        super().__init__(message)
        self.delivered = delivered or []


@dataclass(frozen=True)
class Channel:
    """What the digest machinery knows of a channel."""

    name: str
    # (config, recipient, fmt, console) -> Sender; recipient None: the [digest] lane
    make_sender: Callable[[Config, str | None, str, Any], Sender]
    retried: bool = True  # a send can fail: a retry sweep runs for it
    sender_address: Callable[[Config], str | None] = lambda config: None  # for Message-IDs
    label: Callable[[str], str] = lambda recipient: recipient  # a recipient as stored and shown

    def sender(self, config: Config, recipient: str | None = None, *, fmt: str = "text",
               console: Any = None) -> Sender:
        """The function that hands one outbox row to this channel; raises DeliveryError."""
        return self.make_sender(config, recipient, fmt, console)

    def new_message_id(self, config: Config) -> str:
        """A Message-ID, made once and stored with the digest before its first send."""
        return message_id_from(self.sender_address(config))


def get(name: str) -> Channel:
    """The channel called ``name``; DeliveryError when there is none."""
    if name not in NAMES:
        raise DeliveryError(f"unknown channel {name!r}; expected one of {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").CHANNEL


def domain_of(address: str) -> str:
    domain = address.rpartition("@")[2].strip(" >")
    return domain or "localhost"


def message_id_from(address: str | None) -> str:
    """A Message-ID in the sender's domain (a placeholder domain without one)."""
    return make_msgid("digest", domain=domain_of(address) if address else "ceasefire-watcher.invalid")
