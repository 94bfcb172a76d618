"""Delivering digests: what the `watcher digest` command, the demo and the daemon share.

:func:`deliver` picks the channel's sender and runs the outbox (:mod:`watcher.digest.outbox`);
:func:`scheduled_jobs` gives the daemon one cron job per channel, a retry sweep for
channels that can fail, and the immediate alerts of ``digest.alert_kinds``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from watcher.config import Config
from watcher.digest import channels, outbox
from watcher.digest.channels import DeliveryError
from watcher.digest.channels.console import default_console, print_digest
from watcher.digest.collect import Digest
from watcher.digest.outbox import DeliveryResult, Selection
from watcher.store import DatabaseReplaced, Store, utcnow

log = logging.getLogger("watcher")

ALERT_CRON = "* * * * *"  # immediate alerts: checked every minute
RETRY_CRON = "*/5 * * * *"  # failed digests: retried when their backoff is over


def sender(config: Config, channel: str, *, fmt: str = "text", console: Any = None) -> Callable[[dict], None]:
    """The function that hands one outbox row to the channel; raises DeliveryError."""
    return channels.get(channel).sender(config, fmt=fmt, console=console)


def _subject_prefix(config: Config) -> str:
    return config.email.subject_prefix if config.email else "ceasefire watcher"


def deliver(
    config: Config,
    store: Store,
    channel: str,
    *,
    dry_run: bool = False,
    since: str | None = None,
    fmt: str = "text",
    console: Any = None,
    now: datetime | None = None,
    retry_all: bool = True,
    alert_kinds: list[str] | None = None,
    build_new: bool = True,
    match: Callable[[dict], bool] | None = None,
    where: dict[str, list[str]] | None = None,
) -> DeliveryResult:
    """Retry the channel's unsent digests, then send one of what it has not had yet.

    ``since`` ('YYYY-MM-DD HH:MM:SS' UTC) re-reports every change from then on, delivered
    or not. ``dry_run`` prints what would be sent (to ``console``) and writes nothing.
    ``alert_kinds`` narrows the new digest to matching changes (the daemon's alerts);
    ``match`` to the changes a filter takes (`watcher digest --dry-run --conflict ...`), with
    ``where`` its column values for the query.
    """
    now = now or utcnow()
    kind = "alert" if alert_kinds is not None else "lookback" if since else "digest"
    sel = Selection(
        kind=kind, since=since, alert_kinds=alert_kinds,
        baseline_summary=config.digest.baseline_summary, max_changes=config.digest.max_changes,
        include_feeds=alert_kinds is None, match=match, where=where,
    )
    return run_lane(config, store, channel, channel, sel, prefix=_subject_prefix(config), dry_run=dry_run,
                    fmt=fmt, console=console, now=now, retry_all=retry_all, build_new=build_new)


def run_lane(config: Config, store: Store, key: str, channel: str, sel: Selection, *, prefix: str,
             recipient: str | None = None, dry_run: bool = False, fmt: str = "text", console: Any = None,
             now: datetime, retry_all: bool = True, build_new: bool = True) -> DeliveryResult:
    """One outbox lane (``key``: a channel, or a subscription's channel and recipient): a dry
    run previews it; otherwise its unsent digests are retried and ``sel``'s one is sent."""
    if dry_run:
        return preview(store, key, sel, fmt, console or default_console(), now, prefix)
    ch = channels.get(channel)
    send = ch.sender(config, recipient, fmt=fmt, console=console)
    return outbox.run(
        store, key, send, sel if build_new else None, now=now, retry_all=retry_all,
        retry_max=config.digest.retry_max, message_id=lambda: ch.new_message_id(config), subject_prefix=prefix,
    )


def preview(store: Store, channel: str, sel: Selection, fmt: str, console: Any, now: datetime,
            prefix: str) -> DeliveryResult:
    """What a dry run shows of an outbox lane: its unsent digests, then the one it would build."""
    from watcher.digest.render import subject
    from watcher.store import ts

    result = DeliveryResult(channel, dry_run=True)
    for row in store.unsent_digests(channel):
        print_digest(Digest.from_json(row["payload"]), fmt, console, row["subject"])
        result.waiting.append(row["id"])
        result.change_count += row["change_count"]
    digest = outbox.collect(store, channel, sel, ts(now))
    if not digest.empty or not result.waiting:
        print_digest(digest, fmt, console, subject(digest, prefix))
    result.change_count += len(digest.change_keys)
    return result


def preview_console(config: Config, store: Store) -> None:
    """Print the console digest as `watcher digest --dry-run` would; marks nothing."""
    deliver(config, store, "console", dry_run=True)


# --- the daemon --------------------------------------------------------------------------------


def delivery_job(config: Config, store: Store, label: str, retry_command: str,
                 deliver_on: Callable[[Store], DeliveryResult | None]) -> Callable[[], Awaitable[Any]]:
    """A daemon job: ``deliver_on`` runs in a thread on its own connection (SMTP may block for
    email.timeout, and the daemon's connection belongs to the event loop's thread). The file
    must still be the daemon's: a deleted database stops the daemon instead of being created
    again, empty. A failed delivery is logged with ``label``; digests given up name
    ``retry_command``."""
    path, identity = Path(store.path), store.identity

    def run() -> DeliveryResult | None:
        own = Store.open(path, identity=identity)
        try:
            result = deliver_on(own)
        except DeliveryError as err:
            log.error("%s: %s", label, err)
            return None
        except DatabaseReplaced:
            raise  # the daemon stops
        except Exception:
            log.exception("%s failed", label)
            return None
        finally:
            own.close()
        if result is not None and result.given_up:
            log.error("%s: digests %s were given up after %d attempts; run `%s` to retry them",
                      result.channel, ", ".join(f"#{i}" for i in result.given_up), config.digest.retry_max,
                      retry_command)
        return result

    async def job() -> DeliveryResult | None:
        return await asyncio.to_thread(run)

    return job


def _job(config: Config, store: Store, channel: str, **kwargs: Any) -> Callable[[], Awaitable[Any]]:
    return delivery_job(config, store, f"digest on {channel}", f"watcher digest --channel {channel}",
                        lambda own: deliver(config, own, channel, retry_all=False, **kwargs))


def scheduled_jobs(config: Config, store: Store) -> list[tuple[str, CronTrigger, Callable[[], Awaitable[Any]]]]:
    """For the daemon: per channel a digest on its cron (``digest.schedules.<channel>`` or
    ``digest.schedule``, in ``digest.timezone``), a retry sweep, and immediate alerts; then
    the same per subscription lane (:func:`watcher.digest.subscriptions.subscription_jobs`)."""
    tz = config.digest.timezone
    jobs = []
    for channel in config.digest.channels:
        expr = config.digest.schedules.get(channel, config.digest.schedule)
        jobs.append((f"digest-{channel}", CronTrigger.from_crontab(expr, timezone=tz), _job(config, store, channel)))
        if channels.get(channel).retried:
            jobs.append((f"digest-retry-{channel}", CronTrigger.from_crontab(RETRY_CRON, timezone=tz),
                         _job(config, store, channel, build_new=False)))
        if config.digest.alert_kinds:
            jobs.append((f"digest-alert-{channel}", CronTrigger.from_crontab(ALERT_CRON, timezone=tz),
                         _job(config, store, channel, alert_kinds=list(config.digest.alert_kinds))))
    from watcher.digest.subscriptions import subscription_jobs

    return jobs + subscription_jobs(config, store)
