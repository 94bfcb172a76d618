"""Other channels (Slack, Telegram, Matrix, ntfy, ...) through Apprise, an optional extra.

Apprise reports only success or failure for the whole set of URLs, so with several URLs a
retry after a partial failure resends to the ones that had accepted; configure one URL per
service you cannot afford a duplicate on (docs/digests.md).
"""

from __future__ import annotations

from watcher.config import AppriseSettings
from watcher.digest.email import DeliveryError


def available() -> bool:
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True


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
