"""Subscriptions: ``[[subscriptions]]`` route the changes their filters match to their own
recipients, on their own schedule, through the same outbox as ``[digest]``.

Each (subscription, channel, recipient) is one *lane* of the outbox: the lane's key is what
``digests.channel`` and ``digest_changes.channel`` hold, so ``UNIQUE(channel, change_key)``
makes delivery exactly-once per subscription and recipient without a new table, and a
recipient that fails (refused, unreachable) is retried alone while the others' lanes go on.
Each lane's digests go through :mod:`watcher.digest.outbox` like any channel's: a digest is
claimed (``claimed_by``/``claimed_until``) before it is sent, so the lane's digest, alert and
retry jobs and a `watcher digest` beside the daemon never send it twice at once, and
``delivered_to`` records a recipient the server accepted. Lane keys:

- ``email/<subscription>/<address>``
- ``apprise/<subscription>/<scheme>#<hash>`` (the URL holds secrets: only its hash is stored)
- ``console/<subscription>``

The plain ``console``/``email``/``apprise`` lanes of ``[digest]`` are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from watcher.config import Config, SubscriptionSettings
from watcher.digest import channels
from watcher.digest.channels import DeliveryError
from watcher.digest.filters import ChangeFilter
from watcher.digest.outbox import DeliveryResult, Selection
from watcher.digest.service import ALERT_CRON, RETRY_CRON, delivery_job, run_lane
from watcher.store import Store, utcnow


@dataclass(frozen=True)
class Lane:
    """One recipient of one subscription on one channel."""

    subscription: str
    channel: str  # console | email | apprise
    recipient: str | None = None  # the address, or the Apprise URL (never stored)

    @property
    def label(self) -> str | None:
        """The recipient as stored and shown: an address, or an Apprise URL's scheme and hash."""
        if self.recipient is None:
            return None
        return channels.get(self.channel).label(self.recipient)

    @property
    def key(self) -> str:
        return "/".join(p for p in (self.channel, self.subscription, self.label) if p)


def parse_lane(key: str) -> tuple[str, str | None, str | None]:
    """``digests.channel`` → (channel, subscription, recipient label); plain channels have
    neither subscription nor recipient."""
    channel, _, rest = key.partition("/")
    if not rest:
        return channel, None, None
    name, _, recipient = rest.partition("/")
    return channel, name, recipient or None


def lanes(sub: SubscriptionSettings, channels: list[str] | None = None) -> list[Lane]:
    """The subscription's recipients, optionally only on ``channels``."""
    out = [Lane(sub.name, "email", a) for a in sub.email]
    out += [Lane(sub.name, "apprise", u) for u in sub.apprise]
    if sub.console:
        out.append(Lane(sub.name, "console"))
    return [lane for lane in out if channels is None or lane.channel in channels]


def change_filter(sub: SubscriptionSettings) -> ChangeFilter:
    return ChangeFilter(conflicts=list(sub.conflicts), proposers=list(sub.proposers),
                        categories=list(sub.categories), kinds=list(sub.kinds), min_outlets=sub.min_outlets)


def find(config: Config, name: str) -> SubscriptionSettings | None:
    return next((s for s in config.subscriptions if s.name == name), None)


def _subject_prefix(config: Config, sub: SubscriptionSettings) -> str:
    prefix = config.email.subject_prefix if config.email else "ceasefire watcher"
    return f"{prefix} [{sub.name}]"


def deliver_lane(
    config: Config,
    store: Store,
    sub: SubscriptionSettings,
    lane: Lane,
    *,
    dry_run: bool = False,
    since: str | None = None,
    fmt: str = "text",
    console: Any = None,
    now: datetime | None = None,
    retry_all: bool = True,
    alert_kinds: list[str] | None = None,
    build_new: bool = True,
    narrow: ChangeFilter | None = None,
) -> DeliveryResult:
    """Retry the lane's unsent digests, then send one of the matching changes it has not had.

    Like :func:`watcher.digest.service.deliver`, but the changes are those the
    subscription's filters match (``narrow`` narrows a dry run further), and no feed
    notices: feed health belongs to the ``[digest]`` channels.
    """
    now = now or utcnow()
    filt = change_filter(sub)
    sel = Selection(
        kind="alert" if alert_kinds is not None else "lookback" if since else "digest",
        since=since, alert_kinds=alert_kinds, baseline_summary=config.digest.baseline_summary,
        max_changes=config.digest.max_changes, include_feeds=False,
        match=filt.narrowed(narrow) if narrow is not None else filt.matches, where=filt.where(narrow),
    )
    return run_lane(config, store, lane.key, lane.channel, sel, prefix=_subject_prefix(config, sub),
                    recipient=lane.recipient, dry_run=dry_run, fmt=fmt, console=console, now=now,
                    retry_all=retry_all, build_new=build_new)


def deliver_subscription(config: Config, store: Store, sub: SubscriptionSettings, *,
                         channels: list[str] | None = None, **kwargs: Any) -> list[tuple[Lane, DeliveryResult]]:
    """Every lane of the subscription (or those on ``channels``), one after the other.

    A failing lane does not stop the others: each recipient has its own outbox lane.
    """
    out = []
    for lane in lanes(sub, channels):
        try:
            out.append((lane, deliver_lane(config, store, sub, lane, **kwargs)))
        except DeliveryError as err:
            result = DeliveryResult(lane.key)
            result.failed.append((0, str(err)))
            out.append((lane, result))
    return out


# --- the daemon --------------------------------------------------------------------------


def _job(config: Config, store: Store, sub: SubscriptionSettings, lane: Lane,
         **kwargs: Any) -> Callable[[], Awaitable[Any]]:
    return delivery_job(config, store, f"subscription {sub.name} on {lane.key}",
                        f"watcher digest --subscription {sub.name}",
                        lambda own: deliver_lane(config, own, sub, lane, retry_all=False, **kwargs))


def subscription_jobs(config: Config, store: Store) -> list[tuple[str, CronTrigger, Callable[[], Awaitable[Any]]]]:
    """Per lane: a digest on the subscription's cron, a retry sweep (email, apprise), and
    immediate alerts of its ``alert_kinds`` (still within its filters). None without
    ``[[subscriptions]]``."""
    jobs = []
    for sub in config.subscriptions:
        tz = sub.timezone
        for lane in lanes(sub):
            jobs.append((f"subscription-{lane.key}", CronTrigger.from_crontab(sub.schedule, timezone=tz),
                         _job(config, store, sub, lane)))
            if channels.get(lane.channel).retried:
                jobs.append((f"subscription-retry-{lane.key}", CronTrigger.from_crontab(RETRY_CRON, timezone=tz),
                             _job(config, store, sub, lane, build_new=False)))
            if sub.alert_kinds:
                jobs.append((f"subscription-alert-{lane.key}", CronTrigger.from_crontab(ALERT_CRON, timezone=tz),
                             _job(config, store, sub, lane, alert_kinds=list(sub.alert_kinds))))
    return jobs
