"""Other channels (Slack, Telegram, Matrix, ntfy, ...) through Apprise, an optional extra.

Apprise reports only success or failure for the whole set of URLs, so with several URLs a
retry after a partial failure resends to the ones that had accepted; configure one URL per
service you cannot afford a duplicate on (docs/digests.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from watcher.config import AppriseSettings, Config
from watcher.digest.channels import Channel, DeliveryError, Sender


def send(settings: AppriseSettings, title: str, body_markdown: str) -> None:
    """Notify every configured URL; raises :class:`DeliveryError` unless all accepted."""
    try:
        import apprise
    except ImportError:
        raise DeliveryError("the apprise channel needs the optional extra: pip install 'ceasefire-watcher[apprise]'") from None
    notifier = apprise.Apprise()
    for url in settings.urls:
        if not notifier.add(url):
            raise DeliveryError("apprise: a URL in apprise.urls is not one Apprise understands")
    ok = notifier.notify(title=title, body=body_markdown, body_format=apprise.NotifyFormat.MARKDOWN)
    if not ok:
        raise DeliveryError("apprise: not every service accepted the notification (see the log)")


def _sender(config: Config, recipient: str | None, fmt: str, console: Any) -> Sender:
    """The [digest] lane notifies every ``apprise.urls``; a subscription lane its one URL."""
    from watcher.digest.collect import Digest
    from watcher.digest.render import render_markdown

    if recipient is None and config.apprise is None:
        raise DeliveryError("the apprise channel needs an [apprise] table with urls")
    settings = config.apprise if recipient is None else AppriseSettings(urls=[recipient])

    def send_apprise(row: dict) -> None:
        send(settings, row["subject"], render_markdown(Digest.from_json(row["payload"])))
    return send_apprise


def label(url: str) -> str:
    """An Apprise URL as stored and shown: its scheme and a hash (the URL holds secrets)."""
    scheme = url.partition("://")[0] or "apprise"
    return f"{scheme}#{hashlib.sha256(url.encode()).hexdigest()[:10]}"


CHANNEL = Channel("apprise", _sender, label=label)
