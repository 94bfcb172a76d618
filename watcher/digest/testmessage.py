"""A test message through a digest channel (``watcher digest --test``), as urlwatch's
``--test-reporter``: proves the server, password and recipients work before a real digest
depends on them. Sent through the channel's own sender; the outbox is not touched.
"""

from __future__ import annotations

from watcher.config import Config
from watcher.digest import channels
from watcher.digest.collect import Digest
from watcher.store import ts, utcnow

TEST_TEXT = ("This is a test message from `watcher digest --test`: the {channel} channel works. "
             "Nothing was marked delivered; the next digest is sent as usual.\n")


def test_row(config: Config, channel: str) -> dict:
    """An outbox-shaped row (subject, bodies, payload, Message-ID) saying it is a test."""
    now = ts(utcnow())
    prefix = config.email.subject_prefix if config.email else "ceasefire watcher"
    text = TEST_TEXT.format(channel=channel)
    html = f"<!doctype html><html><body><p>{text.strip().replace('`', '')}</p></body></html>"
    return {
        "subject": f"{prefix}: test message", "created_at": now, "body_text": text, "body_html": html,
        "payload": Digest(channel=channel, created_at=now).to_json(), "delivered_to": "[]",
        "message_id": channels.get(channel).new_message_id(config),
    }


def send_test(config: Config, channel: str) -> None:
    """Hand the test message to the channel; raises DeliveryError when it cannot."""
    from watcher.digest.service import sender

    sender(config, channel)(test_row(config, channel))
