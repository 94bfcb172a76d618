"""`watcher digest` (deliver or preview) and `watcher digests` (the outbox, listed)."""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from pathlib import Path

import click

from watcher.cli.common import db_option, fail, open_store, with_config
from watcher.config import Config, SubscriptionSettings
from watcher.digest.channels import NAMES as CHANNELS
from watcher.digest.filters import ChangeFilter
from watcher.digest.outbox import DeliveryResult
from watcher.digest.render import FORMATS
from watcher.safetext import json_printable, printable


def parse_since(text: str) -> str:
    """'2024-06-20' or an ISO date-time (UTC unless it says otherwise) as stored text."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected a date like 2024-06-20 or 2024-06-20T07:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _subscription(config: Config, name: str) -> SubscriptionSettings:
    """The named subscription, or a usage error (exit 2) with a did-you-mean."""
    from watcher.digest.subscriptions import find

    sub = find(config, name)
    if sub is None:
        names = [s.name for s in config.subscriptions]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = f"; configured: {', '.join(names)}" if names else "; the config has no [[subscriptions]]"
        raise click.BadParameter(f"no subscription {name!r}{hint}{known}", param_hint="--subscription")
    return sub


def _narrow(config: Config, conflicts: tuple[str, ...], proposers: tuple[str, ...],
            kinds: tuple[str, ...]) -> ChangeFilter | None:
    """--conflict/--proposer/--kind as a filter, each value checked like a config value."""
    if not (conflicts or proposers or kinds):
        return None
    from watcher.digest.filters import check_values, known_ids

    known = known_ids(config.extension)
    for option, name, values in (("--conflict", "conflicts", conflicts), ("--proposer", "proposers", proposers),
                                 ("--kind", "kinds", kinds)):
        problem = check_values(name, list(values), known)
        if problem:
            raise click.BadParameter(problem, param_hint=option)
    return ChangeFilter(conflicts=list(conflicts), proposers=list(proposers), kinds=list(kinds))


def _report(label: str, result: DeliveryResult, dry_run: bool) -> bool:
    """One line per lane on stderr; True when a send failed."""
    if dry_run:
        click.echo(f"{label}: dry run over {result.change_count} undelivered changes (a first poll's are "
                   "summarised as baseline); nothing marked delivered", err=True)
        return False
    for digest_id, error in result.failed:
        what = f"digest #{digest_id} not sent" if digest_id else "not sent"
        click.echo(f"error: {label}: {what}: {printable(error)} (it will be retried)", err=True)  # a server's words
    if result.busy:  # claimed by another job or process (issue 14's lease): it sends them
        ids = ", ".join(f"#{i}" for i in result.busy)
        click.echo(f"{label}: digest {ids} is being sent by another job or process; left to it", err=True)
    if result.sent:
        ids = ", ".join(f"#{i}" for i in result.sent)
        click.echo(f"{label}: sent digest {ids} ({result.change_count} changes)", err=True)
    elif result.ok and not result.waiting and not result.busy:
        click.echo(f"{label}: nothing new to deliver", err=True)
    return not result.ok


@click.command("digest")
@with_config
@db_option
@click.option("--channel", type=click.Choice(CHANNELS), multiple=True,
              help="Deliver on this channel (repeatable) [default: digest.channels].")
@click.option("--subscription", "subscriptions", metavar="NAME", multiple=True,
              help="Deliver this [[subscriptions]] entry only (repeatable) [default: digest.channels, "
                   "then every subscription].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How the console channel and --dry-run print the digest.")
@click.option("--dry-run", is_flag=True, help="Print what would be delivered; mark nothing delivered.")
@click.option("--since", "since", metavar="DATE",
              help="Look back: report every change from DATE (UTC) on, delivered or not.")
@click.option("--conflict", "conflicts", metavar="ID", multiple=True, help="With --dry-run: only this conflict.")
@click.option("--proposer", "proposers", metavar="ID", multiple=True, help="With --dry-run: only this proposer.")
@click.option("--kind", "kinds", metavar="KIND", multiple=True,
              help="With --dry-run: only this change kind (new, changed, status, withdrawn, revised; "
                   "status:accepted ...).")
def digest_command(config: Config, db_path: Path | None, channel: tuple[str, ...],
                   subscriptions: tuple[str, ...], fmt: str, dry_run: bool, since: str | None,
                   conflicts: tuple[str, ...], proposers: tuple[str, ...], kinds: tuple[str, ...]) -> None:
    """Deliver the changes not yet delivered: unsent digests are retried first (same
    Message-ID), then one new digest per channel, and per subscription and recipient.
    Exits 1 if a send failed."""
    from watcher.digest.channels import DeliveryError
    from watcher.digest.service import deliver
    from watcher.digest.subscriptions import deliver_subscription

    since_ts = parse_since(since) if since else None
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
@db_option
@click.option("--channel", type=click.Choice(CHANNELS), default=None, help="Only this channel.")
@click.option("--subscription", metavar="NAME", default=None, help="Only this subscription's digests.")
@click.option("--limit", type=click.IntRange(min=1, max=2**63 - 1), default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
def digests_command(config: Config, db_path: Path | None, channel: str | None, subscription: str | None,
                    limit: int, as_json: bool) -> None:
    """List digests: status (pending, sent, failed) with ×attempts when not 1, next retry, last error,
    and the subscription and recipient of subscription digests."""
    from watcher.digest.subscriptions import parse_lane

    store = open_store(config)
    rows = store.list_digests(channel=channel, limit=limit, subscription=subscription)
    store.close()
    for row in rows:
        row["channel"], row["subscription"], row["recipient"] = parse_lane(row["channel"])
    if as_json:
        for row in rows:
            click.echo(json_printable(json.dumps(row, ensure_ascii=False)))
        return
    if not rows:
        click.echo("no digests yet: `watcher digest` delivers what changed", err=True)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rows)} digests (times UTC)", box=box.SIMPLE_HEAD)
    columns = ["id", "channel", "created", "status", "changes", "sent / next try"]
    with_subs = any(r["subscription"] for r in rows)
    if with_subs:
        columns.insert(2, "subscription")
    for col in columns:
        table.add_column(col, no_wrap=True)
    table.add_column("subject / error", overflow="fold", min_width=12)
    colour = {"sent": "green", "pending": "yellow", "failed": "red"}
    for r in rows:
        when = r["sent_at"] or (f"next {r['next_attempt_at']}" if r["next_attempt_at"] else
                                ("gave up" if r["status"] == "failed" else ""))
        status = r["status"] + (f" ×{r['attempts']}" if r["attempts"] != 1 else "")
        channel = r["channel"] + ("" if r["kind"] == "digest" else f" {r['kind']}")
        cells = [str(r["id"]), channel, r["created_at"][:16], Text(status, style=colour.get(r["status"], "")),
                 str(r["change_count"]), when[:21], Text(printable(r["error"] or r["subject"] or ""))]
        if with_subs:
            who = (r["subscription"] or "—") + (f" → {r['recipient']}" if r["recipient"] else "")
            cells.insert(2, Text(who))
        table.add_row(*cells)
    Console().print(table)


COMMANDS: list[click.Command] = [digest_command, digests_command]
