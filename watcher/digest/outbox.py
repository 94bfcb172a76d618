"""The outbox: every digest is a row before it is sent, and sent at most once per accept.

1. In one transaction: choose the changes the channel has not had, write the digest
   (status pending, a fresh Message-ID, subject, bodies, JSON payload) and claim its
   changes in ``digest_changes`` and its feed states in ``feed_reports``.
2. Claim it (a lease in the row: ``claimed_by``, ``claimed_until``) and count the attempt,
   committed, then send. A row another job or process has claimed is skipped, so the
   daemon's digest, alert and retry jobs and a manual `watcher digest` never send one
   digest at the same time; a claim whose process died, or whose lease ran out, is taken
   over. A partial refusal records the recipients that had it (``delivered_to``); the
   retry goes only to the others.
3. Only after the server accepted: status sent. A failure: status failed, the error, and
   ``next_attempt_at`` with exponential backoff (NULL once ``digest.retry_max`` is reached).

A run first retries unsent digests, oldest first, with their stored Message-ID and body;
it builds a new digest only when none is left waiting. A crash between 2 and 3 leaves the
digest pending, so the next run resends the same message, never a different one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.digest.channels import DeliveryError
from watcher.digest.collect import Digest, FeedNotice, build_digest, feed_notices, matches_alert
from watcher.digest.render import render_html, render_text, subject
from watcher.store import Store, ts

log = logging.getLogger("watcher")

RETRY_BASE = 60.0  # seconds before the first retry; doubles per attempt
RETRY_CAP = 6 * 3600.0
LEASE = 15 * 60.0  # a claim on a digest being sent; a holder that died is overtaken sooner


def _owner() -> str:
    """Who claims a digest: host, process and thread (jobs of one daemon are threads)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def holder_gone(owner: str) -> bool:
    """True when the process that claimed a digest is known to be dead (same host, no such
    pid): its send was cut short (a crash), so the digest need not wait for the lease."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def retry_delay(attempts: int) -> float:
    return min(RETRY_CAP, RETRY_BASE * 2 ** max(0, attempts - 1))


@dataclass
class DeliveryResult:
    channel: str
    dry_run: bool = False
    created: list[int] = field(default_factory=list)  # digests written this run
    sent: list[int] = field(default_factory=list)  # digests the channel accepted this run
    failed: list[tuple[int, str]] = field(default_factory=list)  # (digest id, error)
    waiting: list[int] = field(default_factory=list)  # unsent, backoff not over yet
    busy: list[int] = field(default_factory=list)  # being sent by another job or process
    given_up: list[int] = field(default_factory=list)  # unsent after retry_max attempts
    change_count: int = 0  # changes in the digests sent this run (or previewed)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class Selection:
    """What a new digest should take."""

    kind: str = "digest"  # digest | alert | lookback
    since: str | None = None
    alert_kinds: list[str] | None = None
    baseline_summary: bool = True
    max_changes: int = 500
    include_feeds: bool = True
    match: Callable[[dict], bool] | None = None  # a subscription's filters (watcher.digest.filters)
    where: dict[str, list[str]] | None = None  # the same, as column values the query can use


Sender = Callable[[dict], None]  # sends one outbox row; raises DeliveryError


def collect(store: Store, channel: str, sel: Selection, created_at: str) -> Digest:
    """Read what a new digest would carry (call inside a transaction to claim it)."""
    rows = (store.changes_since(sel.since, where=sel.where) if sel.since
            else store.undelivered_changes(channel, where=sel.where))
    if sel.alert_kinds is not None:
        rows = [r for r in rows if matches_alert(r, sel.alert_kinds)]
    if sel.match is not None:
        rows = [r for r in rows if sel.match(r)]
    listed = 0
    chosen = []
    for row in rows:  # a summarised baseline costs one line, not max_changes
        if row["baseline"] and sel.baseline_summary:
            chosen.append(row)
        elif listed < sel.max_changes:
            listed += 1
            chosen.append(row)
    feeds: list[FeedNotice] = feed_notices(store, channel) if sel.include_feeds else []
    return build_digest(channel, chosen, feeds, created_at=created_at, kind=sel.kind, since=sel.since,
                        baseline_summary=sel.baseline_summary)


def create(store: Store, channel: str, sel: Selection, *, message_id: str, now: datetime,
           subject_prefix: str) -> tuple[int, Digest] | None:
    """Write a pending digest of what the channel has not had; None when there is nothing."""
    created_at = ts(now)
    with store.transaction():
        digest = collect(store, channel, sel, created_at)
        if digest.empty:
            return None
        subj = subject(digest, subject_prefix)
        digest_id = store.insert_digest(
            channel=channel, kind=digest.kind, message_id=message_id, created_at=created_at,
            subject=subj, body_text=render_text(digest), body_html=render_html(digest, subj),
            payload=digest.to_json(), change_keys=digest.change_keys,
            feed_reports=[(f.feed_id, f.state, f.since) for f in digest.feeds],
        )
    log.info("digest #%d for %s: %d changes, %d feed notices", digest_id, channel,
             len(digest.change_keys), len(digest.feeds))
    return digest_id, digest


def attempt(store: Store, row: dict, send: Sender, *, now: datetime, retry_max: int,
            result: DeliveryResult) -> bool:
    """Claim one outbox row, send it, and mark it sent only after the channel accepted it.

    A row another job or process is sending (its claim holds) is skipped, not sent twice."""
    claimed = store.claim_digest(row["id"], _owner(), ts(now), ts(now + timedelta(seconds=LEASE)), holder_gone)
    if claimed is None:
        log.info("digest #%d on %s is being sent elsewhere (or was sent); skipped", row["id"], row["channel"])
        result.busy.append(row["id"])
        return True
    row = claimed
    attempts = row["attempts"]
    try:
        send(row)
    except DeliveryError as err:
        if err.delivered:
            store.add_delivered(row["id"], err.delivered)
        error = str(err)
        next_at = None if attempts >= retry_max else ts(now + timedelta(seconds=retry_delay(attempts)))
        store.mark_failed(row["id"], error, next_at)
        result.failed.append((row["id"], error))
        if next_at:
            log.warning("digest #%d on %s not sent (attempt %d): %s; next try after %s UTC",
                        row["id"], row["channel"], attempts, error, next_at)
        else:
            log.error("digest #%d on %s not sent after %d attempts: %s; giving up until "
                      "`watcher digest --channel %s` is run", row["id"], row["channel"], attempts, error,
                      row["channel"])
        return False
    store.mark_sent(row["id"], ts(now))
    result.sent.append(row["id"])
    result.change_count += row["change_count"]
    log.info("digest #%d sent on %s (attempt %d)", row["id"], row["channel"], attempts)
    return True


def run(store: Store, channel: str, send: Sender, sel: Selection | None, *, now: datetime, retry_all: bool,
        retry_max: int, message_id: Callable[[], str], subject_prefix: str) -> DeliveryResult:
    """Retry what is unsent, then send a new digest if nothing is left waiting.

    ``retry_all`` (an explicit `watcher digest`) retries every unsent digest now; the
    daemon's jobs only those whose backoff is over, and never given-up ones. ``sel`` None:
    only retry (the daemon's retry sweep).
    """
    result = DeliveryResult(channel)
    for row in store.unsent_digests(channel):
        due = row["status"] == "pending" or (
            row["next_attempt_at"] is not None and row["next_attempt_at"] <= ts(now))
        if not retry_all and not due:
            (result.waiting if row["next_attempt_at"] else result.given_up).append(row["id"])
            continue
        if not attempt(store, row, send, now=now, retry_max=retry_max, result=result):
            return result  # the channel is down: a new digest would only queue behind it
    if result.waiting or result.busy or sel is None:
        return result
    made = create(store, channel, sel, message_id=message_id(), now=now, subject_prefix=subject_prefix)
    if made is None:
        return result
    digest_id, _ = made
    result.created.append(digest_id)
    attempt(store, store.digest(digest_id), send, now=now, retry_max=retry_max, result=result)
    return result
