"""`watcher digest` (deliver or preview) and `watcher digests` (the outbox, listed)."""

from __future__ import annotations

import click

from watcher.cli.common import (
    check_ids,
    did_you_mean,
    emit,
    fail,
    note,
    open_store,
    output_options,
    plural,
    when_callback,
    with_config,
)
from watcher.config import Config, SubscriptionSettings
from watcher.digest.channels import NAMES as CHANNELS
from watcher.digest.filters import ChangeFilter
from watcher.digest.outbox import DeliveryResult
from watcher.digest.render import FORMATS
from watcher.safetext import printable


def _subscription(config: Config, name: str) -> SubscriptionSettings:
    """The named subscription, or a usage error (exit 2) with a did-you-mean."""
    from watcher.digest.subscriptions import find

    sub = find(config, name)
    if sub is None:
        names = [s.name for s in config.subscriptions]
        hint = did_you_mean(name, names)
        known = f"; configured: {', '.join(names)}" if names else "; the config has no [[subscriptions]]"
        raise click.BadParameter(f"no subscription {name!r}{hint}{known}", param_hint="--subscription")
    return sub


def _narrow(config: Config, conflicts: tuple[str, ...], proposers: tuple[str, ...],
            kinds: tuple[str, ...]) -> ChangeFilter | None:
    """--conflict/--proposer/--kind as a filter, each value checked like a config value."""
    if not (conflicts or proposers or kinds):
        return None
    check_ids(config, [("--conflict", "conflicts", conflicts), ("--proposer", "proposers", proposers),
                       ("--kind", "kinds", kinds)])
    return ChangeFilter(conflicts=list(conflicts), proposers=list(proposers), kinds=list(kinds))


def _report(label: str, result: DeliveryResult, dry_run: bool) -> bool:
    """One line per lane on stderr; True when a send failed."""
    if dry_run:
        note(f"{label}: dry run over {plural(result.change_count, 'undelivered change')} (a first poll's "
             "are summarised as baseline); nothing marked delivered")
        return False
    for digest_id, error in result.failed:
        what = f"digest #{digest_id} not sent" if digest_id else "not sent"
        click.echo(f"error: {label}: {what}: {printable(error)} (it will be retried)", err=True)  # a server's words
    if result.busy:  # claimed by another job or process (issue 14's lease): it sends them
        ids = ", ".join(f"#{i}" for i in result.busy)
        note(f"{label}: digest {ids} is being sent by another job or process; left to it")
    if result.sent:
        ids = ", ".join(f"#{i}" for i in result.sent)
        note(f"{label}: sent digest {ids} ({plural(result.change_count, 'change')})")
    elif result.ok and not result.waiting and not result.busy:
        note(f"{label}: nothing new to deliver")
    return not result.ok


@click.command("digest")
@with_config
@click.option("--channel", type=click.Choice(CHANNELS), multiple=True,
              help="Deliver on this channel (repeatable) [default: digest.channels].")
@click.option("--subscription", "subscriptions", metavar="NAME", multiple=True,
              help="Deliver this [[subscriptions]] entry only (repeatable) [default: digest.channels, "
                   "then every subscription].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How the console channel and --dry-run print the digest.")
@click.option("--dry-run", is_flag=True, help="Print what would be delivered; mark nothing delivered.")
@click.option("--since", "since", metavar="WHEN", callback=when_callback,
              help="Look back: report every change from WHEN on, delivered or not: a date "
                   "(2024-06-20, UTC), a date and time, or a time ago (7d, 12h).")
@click.option("--test", "test", metavar="[CHANNEL]", is_flag=False, flag_value="*", default=None,
              help="Send a test message through CHANNEL (or every channel of digest.channels) and "
                   "stop; nothing is marked delivered.")
@click.option("--conflict", "conflicts", metavar="ID", multiple=True, help="With --dry-run: only this conflict.")
@click.option("--proposer", "proposers", metavar="ID", multiple=True, help="With --dry-run: only this proposer.")
@click.option("--kind", "kinds", metavar="KIND", multiple=True,
              help="With --dry-run: only this change kind (new, changed, status, withdrawn, revised; "
                   "status:accepted ...).")
def digest_command(config: Config, channel: tuple[str, ...],
                   subscriptions: tuple[str, ...], fmt: str, dry_run: bool, since: str | None, test: str | None,
                   conflicts: tuple[str, ...], proposers: tuple[str, ...], kinds: tuple[str, ...]) -> None:
    """Deliver the changes not yet delivered: unsent digests are retried first (same
    Message-ID), then one new digest per channel, and per subscription and recipient.
    Exits 1 if a send failed."""
    from watcher.digest.channels import DeliveryError
    from watcher.digest.service import deliver
    from watcher.digest.subscriptions import deliver_subscription

    if test is not None:
        send_tests(config, [test] if test != "*" else list(channel) or config.digest.channels)
        return
    since_ts = since
    chosen = [_subscription(config, name) for name in subscriptions]
    narrow = _narrow(config, conflicts, proposers, kinds)
    if narrow is not None and not dry_run:
        raise click.UsageError("--conflict, --proposer and --kind narrow a --dry-run preview; to deliver "
                               "only some changes, add a [[subscriptions]] entry with those filters")
    channels = [] if chosen else (list(channel) or config.digest.channels)
    if not chosen and not channel:
        chosen = list(config.subscriptions)
    store = open_store(config)
    failed = False
    for ch in channels:
        try:
            result = deliver(config, store, ch, dry_run=dry_run, since=since_ts, fmt=fmt,
                             match=narrow.matches if narrow else None, where=narrow.where() if narrow else None)
        except DeliveryError as err:
            click.echo(f"error: {ch}: {printable(str(err))}", err=True)
            failed = True
            continue
        failed = _report(ch, result, dry_run) or failed
    for sub in chosen:
        lanes = deliver_subscription(config, store, sub, channels=list(channel) or None, dry_run=dry_run,
                                     since=since_ts, fmt=fmt, narrow=narrow)
        if not lanes:
            click.echo(f"{sub.name}: no recipients on {', '.join(channel)}", err=True)
        for lane, result in lanes:
            label = f"{sub.name} {lane.channel}" + (f" → {lane.label}" if lane.label else "")
            failed = _report(label, result, dry_run) or failed
    store.close()
    if failed:
        fail("some digests were not delivered; see `watcher digests`")


@click.command("digests")
@with_config
@click.option("--channel", type=click.Choice(CHANNELS), default=None, help="Only this channel.")
@click.option("--subscription", metavar="NAME", default=None, help="Only this subscription's digests.")
@click.option("--limit", type=click.IntRange(min=1, max=2**63 - 1), default=50, show_default=True, help="How many, newest first.")
@output_options
def digests_command(config: Config, channel: str | None, subscription: str | None,
                    limit: int, output: str | None) -> None:
    """List digests: status (pending, sent, failed) with ×attempts when not 1, next retry, last error,
    and the subscription and recipient of subscription digests."""
    from watcher.digest.subscriptions import parse_lane
    from watcher.store.digests import DIGEST_LIST_COLUMNS

    store = open_store(config)
    rows = store.list_digests(channel=channel, limit=limit, subscription=subscription)
    store.close()
    for row in rows:
        row["channel"], row["subscription"], row["recipient"] = parse_lane(row["channel"])
    if output:
        emit(rows, output, [*DIGEST_LIST_COLUMNS, "subscription", "recipient"])
        return
    if not rows:
        note("no digests yet: `watcher digest` delivers what changed")
        return
    from watcher.cli.tables import digests_table

    digests_table(rows)


def send_tests(config: Config, channels: list[str]) -> None:
    """`watcher digest --test`: one test message per channel; exit 1 if one failed."""
    from watcher.digest.channels import DeliveryError
    from watcher.digest.testmessage import send_test

    failed = False
    for ch in channels:
        if ch not in CHANNELS:
            raise click.BadParameter(f"{ch!r} is not a channel; expected one of {', '.join(CHANNELS)}"
                                     f"{did_you_mean(ch, list(CHANNELS))}", param_hint="--test")
        try:
            send_test(config, ch)
        except DeliveryError as err:
            click.echo(f"error: {ch}: test message not sent: {printable(str(err))}", err=True)
            failed = True
            continue
        note(f"{ch}: test message sent")
    if failed:
        fail("a test message was not sent; check the channel's settings", 1)


COMMANDS: list[click.Command] = [digest_command, digests_command]
