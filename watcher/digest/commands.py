"""`watcher digest` (deliver or preview) and `watcher digests` (the outbox, listed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from watcher.cliutil import db_option, fail, open_store, with_config
from watcher.config import Config
from watcher.digest.render import FORMATS
from watcher.digest.service import CHANNELS


def parse_since(text: str) -> str:
    """'2024-06-20' or an ISO date-time (UTC unless it says otherwise) as stored text."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected a date like 2024-06-20 or 2024-06-20T07:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.command("digest")
@with_config
@db_option
@click.option("--channel", type=click.Choice(CHANNELS), multiple=True,
              help="Deliver on this channel (repeatable) [default: digest.channels].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How the console channel and --dry-run print the digest.")
@click.option("--dry-run", is_flag=True, help="Print what would be delivered; mark nothing delivered.")
@click.option("--since", "since", metavar="DATE",
              help="Look back: report every change from DATE (UTC) on, delivered or not.")
def digest_command(config: Config, db_path: Path | None, channel: tuple[str, ...], fmt: str,
                   dry_run: bool, since: str | None) -> None:
    """Deliver the changes not yet delivered: unsent digests are retried first (same
    Message-ID), then one new digest per channel. Exits 1 if a send failed."""
    from watcher.digest.email import DeliveryError
    from watcher.digest.service import deliver

    since_ts = parse_since(since) if since else None
    channels = list(channel) or config.digest.channels
    store = open_store(config)
    failed = False
    for ch in channels:
        try:
            result = deliver(config, store, ch, dry_run=dry_run, since=since_ts, fmt=fmt)
        except DeliveryError as err:
            click.echo(f"error: {ch}: {err}", err=True)
            failed = True
            continue
        if dry_run:
            click.echo(f"{ch}: dry run over {result.change_count} undelivered changes (a first poll's are "
                       "summarised as baseline); nothing marked delivered", err=True)
            continue
        for digest_id, error in result.failed:
            click.echo(f"error: {ch}: digest #{digest_id} not sent: {error} (it will be retried)", err=True)
        failed = failed or not result.ok
        if result.sent:
            ids = ", ".join(f"#{i}" for i in result.sent)
            click.echo(f"{ch}: sent digest {ids} ({result.change_count} changes)", err=True)
        elif result.ok and not result.waiting:
            click.echo(f"{ch}: nothing new to deliver", err=True)
    store.close()
    if failed:
        fail("some digests were not delivered; see `watcher digests`")


@click.command("digests")
@with_config
@db_option
@click.option("--channel", type=click.Choice(CHANNELS), default=None, help="Only this channel.")
@click.option("--limit", type=click.IntRange(min=1, max=2**63 - 1), default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
def digests_command(config: Config, db_path: Path | None, channel: str | None, limit: int, as_json: bool) -> None:
    """List digests: status (pending, sent, failed) with ×attempts when not 1, next retry, last error."""
    store = open_store(config)
    rows = store.list_digests(channel=channel, limit=limit)
    store.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("no digests yet: `watcher digest` delivers what changed", err=True)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rows)} digests (times UTC)", box=box.SIMPLE_HEAD)
    for col in ("id", "channel", "created", "status", "changes", "sent / next try"):
        table.add_column(col, no_wrap=True)
    table.add_column("subject / error", overflow="fold", min_width=12)
    colour = {"sent": "green", "pending": "yellow", "failed": "red"}
    for r in rows:
        when = r["sent_at"] or (f"next {r['next_attempt_at']}" if r["next_attempt_at"] else
                                ("gave up" if r["status"] == "failed" else ""))
        status = r["status"] + (f" ×{r['attempts']}" if r["attempts"] != 1 else "")
        channel = r["channel"] + ("" if r["kind"] == "digest" else f" {r['kind']}")
        table.add_row(str(r["id"]), channel, r["created_at"][:16], Text(status, style=colour.get(r["status"], "")),
                      str(r["change_count"]), when[:21], Text(r["error"] or r["subject"] or ""))
    Console().print(table)


COMMANDS: list[click.Command] = [digest_command, digests_command]
