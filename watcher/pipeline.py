"""One poll of one feed, stage after stage: fetch, parse, score, read articles, extract
terms, store.

Network waits run on the event loop; parsing and extraction are CPU work and run in an
executor (a process pool by default) so many feeds can be in flight at once. Everything a
poll learns is written by :func:`watcher.record.record_poll` in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import re
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from watcher.config import Config, format_duration
from watcher.fetch import Fetcher
from watcher.models import (
    REJECTED,
    Entry,
    EntryRecord,
    FeedState,
    FetchResult,
    PollRecord,
    PollSummary,
    Relevance,
    Topic,
    story_time,
)
from watcher.pipeline_writer import StoreWriter
from watcher.record import oldest_first, record_check, record_poll
from watcher.store import DatabaseReplaced, Store, is_disk_full, parse_ts, utcnow

log = logging.getLogger("watcher")


@dataclass
class PollReport:
    """What one poll did, for the log line, `watcher poll` and tests."""

    feed_id: int
    feed: str  # name or URL
    outcome: str
    http_status: int | None
    duration_ms: int
    entries_seen: int = 0
    entries_new: int = 0
    articles_new: int = 0
    snapshots_new: int = 0
    changes_new: int = 0
    error: str | None = None

    def line(self) -> str:
        """One log line: what the poll stored, or why it stored nothing."""
        status = f"HTTP {self.http_status}" if self.http_status is not None else "no response"
        head = f"{self.feed}: {self.outcome} ({status}, {self.duration_ms} ms)"
        if self.outcome in ("ok", "malformed"):
            counts = [
                _count(self.entries_new, "new entry", "new entries"),
                _count(self.articles_new, "new article", "new articles"),
                _count(self.snapshots_new, "snapshot", "snapshots"),
                _count(self.changes_new, "term change", "term changes"),
            ]
            head += " " + ", ".join(counts)
        return head + (f" — {self.error}" if self.error else "")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --- CPU stages: in watcher.work, which a pool worker imports without httpx, asyncio or
# SQLite; re-exported here, where callers have always found them ---------------------------

from watcher.work import (  # noqa: E402, F401
    exit_with_parent,
    parse_for_poll,
    read_article,
    warm_modules,
)

# --- scheduling arithmetic ------------------------------------------------------------------

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.I)


def backoff_delay(consecutive_errors: int, interval: float, cap: float) -> float:
    """Exponential backoff from the feed's interval: 2x, 4x, 8x ... capped."""
    return min(cap, interval * (2 ** max(0, consecutive_errors)))


def next_check_delay(age: timedelta, recheck_for: float) -> float | None:
    """How soon to look at an article again for edits: often while it is new, then less,
    then never (None) once it is older than ``recheck_for``."""
    seconds = age.total_seconds()
    if seconds >= recheck_for:
        return None
    if seconds < 6 * 3600:
        return 15 * 60
    if seconds < 48 * 3600:
        return 3600
    return 86400


def server_interval(res: FetchResult, ttl_seconds: int | None) -> float:
    """What the server asks for (RSS ttl, Cache-Control max-age); may lengthen, never shorten,
    the configured interval."""
    hints = [ttl_seconds or 0]
    match = _MAX_AGE.search(res.headers.get("cache-control", ""))
    if match:
        hints.append(int(match.group(1)))
    return float(min(max(hints), 86400))


def source_of(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host[4:] if host.startswith("www.") else host


# --- the pipeline ---------------------------------------------------------------------------


SWEEP_BUDGET = 60.0  # seconds an article re-check sweep may take; the rest waits for the next


class StageTimeout(Exception):
    """A parse or article read ran past `watcher.cpu_timeout`; its worker was stopped."""


class DiskFull:
    """One episode of a full disk: polling pauses and backs off, and one poll at a time
    probes whether writes succeed again. Logged once when it starts and once when it ends."""

    FIRST_PAUSE = 60.0  # seconds; doubles at every failed probe
    MAX_PAUSE = 1800.0

    def __init__(self, error: str) -> None:
        self.error = error
        self.pause = self.FIRST_PAUSE
        self.failed_at = time.monotonic()
        self.probing = False

    def failed_again(self) -> None:
        self.pause = min(self.pause * 2, self.MAX_PAUSE)
        self.failed_at = time.monotonic()
        self.probing = False

    def may_probe(self, scale: float = 1.0) -> bool:
        """Whether one poll may try now (``scale`` shortens the pause, for the tests)."""
        if self.probing or time.monotonic() - self.failed_at < self.pause * scale:
            return False
        self.probing = True
        return True


class Pipeline:
    """Polls feeds and re-checks articles into one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        fetcher: Fetcher | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.store = store
        w = config.watcher
        self.fetcher = fetcher or Fetcher(
            timeout=w.timeout,
            max_bytes=w.max_bytes,
            user_agent=w.user_agent,
            concurrency=w.concurrency,
            per_host=w.per_host,
            max_redirects=w.max_redirects,
        )
        self._own_executor = executor is None
        self.executor = executor or make_executor(w.workers)
        import json

        self._extension_key = json.dumps(config.extension, sort_keys=True)
        self._feeds_by_url = {f.url: f for f in config.feeds}
        # Article reads in flight, by canonical URL: a wire story carried by many feeds is
        # fetched and read once, not once per feed polled in the same moment. An entry stays
        # until the poll that started the read has stored it (then `known_articles` sees it).
        self._reads: dict[str, asyncio.Future] = {}
        self._reads_owned: dict[int, list[tuple[str, asyncio.Future]]] = {}
        self.disk_full: DiskFull | None = None  # while the database cannot be written
        self.disk_full_pause_scale = 1.0  # the backoff's scale (tests shorten it)
        self.store.sync_feeds(config.feeds, w.interval)
        self.store.defer_index_maintenance()  # merged and checkpointed in maintain()
        self.writer = StoreWriter(store)  # every write of a poll or re-check: off the event loop
        self._stored = 0  # polls stored, for the checkpoints within a cycle
        self._checkpointing: asyncio.Future | None = None

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await asyncio.to_thread(self.writer.close)  # the writes queued: carried out
        if self._checkpointing is not None:
            await self._checkpointing
        if self._own_executor:  # joining workers blocks: not on the event loop
            await asyncio.to_thread(self.executor.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _cpu(self, fn: Any, *args: Any) -> Any:
        """Run a CPU stage in the executor.

        A worker process that died (killed for memory, say) breaks a process pool for good:
        the first task to notice replaces the pool, and every task that was in it runs once
        more in the new one. A task that runs past `cpu_timeout` (a feed that makes the
        parser backtrack for minutes) cannot be cancelled inside its worker: the pool's
        processes are stopped, the task fails with StageTimeout, and the other tasks that
        were in that pool run again in a new one.
        """
        executor = self.executor
        try:
            return await self._run_in(executor, fn, args)
        except BrokenProcessPool:
            if not self._own_executor:
                raise
            if self.executor is executor:
                log.error("a worker process died; starting a new pool")
                self._replace_pool(executor)
            return await self._run_in(self.executor, fn, args)

    async def _run_in(self, executor: Executor, fn: Any, args: tuple) -> Any:
        future = asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        deadline = self.config.watcher.cpu_timeout
        if not (self._own_executor and isinstance(executor, ProcessPoolExecutor)):
            return await future  # a thread cannot be stopped: no deadline in-process
        try:
            return await asyncio.wait_for(future, deadline)
        except TimeoutError:
            stage = getattr(fn, "__name__", "a CPU stage")
            if self.executor is executor:
                log.error("%s ran over %s; stopping its worker pool", stage, format_duration(deadline))
                self._replace_pool(executor, stop_workers=True)
            raise StageTimeout(
                f"{stage} took longer than {format_duration(deadline)} (watcher.cpu_timeout); "
                "its worker was stopped"
            ) from None

    def _replace_pool(self, old: Executor, *, stop_workers: bool = False) -> None:
        self.executor = make_executor(self.config.watcher.workers)
        if stop_workers:
            # no public way to stop a busy worker before Python 3.14's kill_workers()
            for process in list(getattr(old, "_processes", {}).values()):
                process.kill()
        old.shutdown(wait=False, cancel_futures=True)

    # -- polling ------------------------------------------------------------------------

    async def poll(self, *, all_feeds: bool = False) -> list[PollReport]:
        """Poll every due feed (or every enabled one) once, concurrently."""
        now = utcnow()
        feeds = self.store.enabled_feeds() if all_feeds else self.store.due_feeds(now)
        # A bounded number of polls in flight: the fetcher already limits requests, but
        # without this every fetched body (and its parse) would wait in memory for a CPU
        # worker; twice the request limit keeps both the network and the workers busy.
        slots = asyncio.Semaphore(max(2 * self.config.watcher.concurrency, 4))

        async def one(feed: dict) -> PollReport:
            async with slots:
                return await self.poll_feed(feed)

        reports = list(await asyncio.gather(*(one(f) for f in feeds)))
        self.maintain()
        return reports

    CHECKPOINT_EVERY = 20  # stored polls between WAL checkpoints during a busy cycle

    def _checkpoint_now_and_then(self) -> None:
        """Within a long cycle, the WAL is checkpointed in a thread (its own connection), off
        the event loop, every CHECKPOINT_EVERY stored polls, so it stays small."""
        self._stored += 1
        running = self._checkpointing
        if self._stored % self.CHECKPOINT_EVERY or (running is not None and not running.done()):
            return
        self._checkpointing = asyncio.get_running_loop().run_in_executor(None, self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            self.store.checkpoint()
        except Exception as err:  # the next one, or maintain(), tries again
            log.info("database %s: checkpoint skipped: %s", self.store.path, err)

    def maintain(self) -> None:
        """Between polls: the full-text merging and WAL checkpoint kept out of each poll's
        write (``Store.maintain``), queued behind the writes in the writer thread (it is a
        write, and can take a while). A failure loses nothing and is tried again next time."""
        if self.disk_full is not None:
            return
        self.writer.submit(_maintain)

    def _storage_blocked(self) -> bool:
        """While the disk is full, nothing is fetched that could not be stored; one poll at
        a time probes, after a pause that doubles."""
        return self.disk_full is not None and not self.disk_full.may_probe(self.disk_full_pause_scale)

    def _storage_failed(self, err: BaseException) -> None:
        if self.disk_full is not None:
            if self.disk_full.probing:  # polls that were in flight when it filled say nothing new
                self.disk_full.failed_again()
            return
        self.disk_full = DiskFull(str(err))
        log.error("database %s: the disk is full (%s); nothing is fetched until writes succeed "
                  "again (tried again in %s, then less often)", self.store.path, err,
                  format_duration(self.disk_full.pause))

    def _storage_ok(self) -> None:
        if self.disk_full is not None:
            log.warning("database %s: writes succeed again; polling resumes", self.store.path)
            self.disk_full = None

    async def poll_feed(self, feed: dict) -> PollReport:
        started, t0 = utcnow(), time.monotonic()
        label = feed["name"] or feed["url"]
        if self._storage_blocked():
            return PollReport(feed_id=feed["id"], feed=label, outcome="skipped", http_status=None,
                              duration_ms=0, error="not polled: the disk is full")
        try:
            record = await self._poll(feed, started, t0)
        except StageTimeout as err:  # an input that keeps the parser busy: this feed fails
            log.error("feed %s: %s", label, err)
            record = self._failure(feed, started, t0, None, str(err))
        except Exception as err:  # a bug or an unforeseen input must not stop other feeds
            log.exception("feed %s: poll failed: %s", label, err)
            record = self._failure(feed, started, t0, None, f"internal error: {type(err).__name__}: {err}")
        try:
            summary = await self.writer.write(record_poll, record, next_check_at=started + timedelta(minutes=15))
            self._storage_ok()
            self._checkpoint_now_and_then()
        except DatabaseReplaced:
            raise  # nothing can be stored any more: the daemon stops
        except Exception as err:
            if is_disk_full(err):  # logged once per episode; the failure cannot be stored either
                self._storage_failed(err)
                return PollReport(feed_id=feed["id"], feed=label, outcome="error", http_status=record.http_status,
                                  duration_ms=record.duration_ms, error=f"could not store the poll: {err}")
            if self.disk_full is not None:
                self.disk_full.failed_again()  # a probe that failed otherwise: keep backing off
            # the poll's transaction rolled back; record the failure on its own so the feed
            # backs off and `watcher feeds` shows why, instead of retrying at every tick
            log.exception("feed %s: could not store the poll: %s", label, err)
            record = self._failure(feed, started, t0, None, f"could not store the poll: {type(err).__name__}: {err}")
            try:
                summary = await self.writer.write(record_poll, record)
            except Exception:
                log.exception("feed %s: could not store the failure either", label)
                summary = PollSummary()
        finally:
            for url, future in self._reads_owned.pop(feed["id"], ()):
                if self._reads.get(url) is future:
                    del self._reads[url]
        report = PollReport(
            feed_id=feed["id"], feed=label, outcome=record.outcome, http_status=record.http_status,
            duration_ms=record.duration_ms, entries_seen=record.entries_seen,
            entries_new=summary.entries_new, articles_new=summary.articles_new,
            snapshots_new=summary.snapshots_new, changes_new=summary.changes_new, error=record.error,
        )
        (log.warning if record.error else log.info)("%s", report.line())
        return report

    def _interval(self, feed: dict) -> float:
        return float(feed["interval_seconds"])

    def _state(self, feed: dict) -> FeedState:
        return FeedState(
            url=feed["url"], etag=feed["etag"], last_modified=feed["last_modified"],
            body_hash=feed["last_body_hash"], consecutive_errors=feed["consecutive_errors"],
            next_poll_at=utcnow(), last_status=None, last_error=None,
        )

    def _next(self, started: datetime, seconds: float) -> datetime:
        return started + timedelta(seconds=seconds)

    def _failure(
        self, feed: dict, started: datetime, t0: float, res: FetchResult | None, error: str
    ) -> PollRecord:
        state = self._state(feed)
        state.consecutive_errors += 1
        delay = backoff_delay(state.consecutive_errors, self._interval(feed), self.config.watcher.max_backoff)
        state.next_poll_at = self._next(started, max(delay, self._interval(feed)))
        state.last_status = res.status if res else None
        state.last_error = error
        if state.consecutive_errors > 1:
            error = f"{error} (failure {state.consecutive_errors} in a row; next try in {format_duration(delay)})"
        return PollRecord(
            feed_id=feed["id"], started_at=started, duration_ms=_ms(t0), outcome="error",
            http_status=state.last_status, bytes=res.bytes_read if res else 0, error=error, state=state,
        )

    async def _poll(self, feed: dict, started: datetime, t0: float) -> PollRecord:
        res = await self.fetcher.get(
            feed["url"], etag=feed["etag"], last_modified=feed["last_modified"], allow_private=True
        )
        interval = self._interval(feed)
        label = feed["name"] or feed["url"]
        state = self._state(feed)
        state.last_status = res.status
        if res.permanent_redirect and res.permanent_redirect != feed["url"] and res.ok:
            log.warning("feed %s moved permanently to %s; polling the new address from now on",
                        label, res.permanent_redirect)
            state.url = res.permanent_redirect

        def record(outcome: str, **kw: Any) -> PollRecord:
            return PollRecord(
                feed_id=feed["id"], started_at=started, duration_ms=_ms(t0), outcome=outcome,
                http_status=res.status, bytes=res.bytes_read, state=state, **kw,
            )

        if res.not_modified:
            if _was_rejected(feed):  # the body we could not read, unchanged: not read again
                return self._rejected_again(feed, started, t0, res, state)
            state.consecutive_errors, state.success = 0, True
            state.next_poll_at = self._next(started, max(interval, server_interval(res, None)))
            return record("not_modified", error=None)
        if res.status == 410:
            state.disabled_reason = f"410 Gone on {started:%Y-%m-%d %H:%M} UTC: the server says the feed is gone"
            state.last_error = state.disabled_reason
            return record("error", error=state.disabled_reason)
        if res.status in (429, 503):
            wait = max(interval, res.retry_after or 0.0)
            state.next_poll_at = self._next(started, min(wait, self.config.watcher.max_backoff))
            reason = f"HTTP {res.status}: the server asks to wait {format_duration(wait)}"
            state.last_error = reason
            return record("rate_limited", error=reason)
        if not res.ok:
            return self._failure(feed, started, t0, res, res.error or f"HTTP {res.status}")

        body = res.body or b""
        state.etag = res.headers.get("etag") or None
        state.last_modified = res.headers.get("last-modified") or None
        state.body_hash = hashlib.sha256(body).hexdigest()
        if state.body_hash == feed["last_body_hash"]:
            state.consecutive_errors, state.success = 0, True
            state.next_poll_at = self._next(started, max(interval, server_interval(res, None)))
            return record("unchanged", error=None, note="same body as last time; not parsed again")
        if _was_rejected(feed) and feed["last_body_hash"] == REJECTED + state.body_hash:
            return self._rejected_again(feed, started, t0, res, state)

        topics = self._topics(feed)
        parsed, scored = await self._cpu(parse_for_poll, body, res.headers, res.final_url, topics)
        if parsed.rejected:
            failure = self._failure(feed, started, t0, res, parsed.problem or "not a feed")
            failure.outcome = "rejected"
            # keep what identifies this body, marked as rejected: the same body again (a
            # 304, or a 200 with the same hash) is rejected again without a parse
            failure.state.etag, failure.state.last_modified = state.etag, state.last_modified
            failure.state.body_hash = REJECTED + state.body_hash
            return failure
        state.consecutive_errors, state.success = 0, True
        state.title, state.site_url = parsed.title, parsed.link
        state.next_poll_at = self._next(started, max(interval, server_interval(res, parsed.ttl_seconds)))
        entries, deferred = await self._read_entries(feed, scored, started)
        # a first poll's backlog stays baseline until later polls have read all of it
        baseline = feed["last_success_at"] is None or bool(feed["baseline_backlog"])
        state.baseline_backlog = baseline and deferred > 0
        outcome = "malformed" if parsed.malformed else "ok"
        error = f"malformed feed, kept what parsed: {parsed.problem}" if parsed.malformed else None
        note = None if parsed.malformed else parsed.problem  # e.g. entries skipped, a charset guessed
        if deferred:
            # parse this body again next time: the deferred entries are read then
            state.body_hash = state.etag = state.last_modified = None
            later = f"{deferred} relevant entries left for the next poll (max_articles_per_poll)"
            log.info("feed %s: %s", label, later)
            note = f"{note}; {later}" if note else later
        return record(
            outcome, error=error, entries=entries, entries_seen=len(scored), baseline=baseline, note=note,
        )

    def _rejected_again(
        self, feed: dict, started: datetime, t0: float, res: FetchResult, state: FeedState
    ) -> PollRecord:
        """The body last rejected came back unchanged: the same failure (backing off as
        before), its validators and marked hash kept, nothing parsed or scored."""
        failure = self._failure(feed, started, t0, res, feed["last_error"] or "not a feed")
        failure.outcome = "rejected"
        if not res.not_modified:
            failure.state.etag, failure.state.last_modified = state.etag, state.last_modified
        failure.state.body_hash = feed["last_body_hash"]
        failure.note = "same body as last time; not parsed again"
        return failure

    def _topics(self, feed: dict) -> list[Topic]:
        configured = self._feeds_by_url.get(feed["config_url"])
        if configured is None:
            return list(self.config.topics.values())
        return self.config.topics_for(configured)

    async def _read_entries(
        self, feed: dict, scored: list[tuple[Entry, Relevance]], started: datetime
    ) -> tuple[list[EntryRecord], int]:
        """Fetch and read the relevant entries this database has not stored yet, at most
        ``max_articles_per_poll``: a feed of 10,000 relevant entries must not hold every
        fetch slot for hours. The oldest are read first and the newest wait, so stories are
        folded in publication order across polls and the ledger never goes back in time.
        Returns the records and how many were deferred."""
        relevant_urls = [e.url for e, r in scored if r.relevant]
        known = self.store.known_articles(relevant_urls) if relevant_urls else {}
        self._same_story_by_guid(feed, scored, known)
        budget = self.config.watcher.max_articles_per_poll
        unread = [pair for pair in scored if pair[1].relevant and pair[0].url not in known]
        now_read = {id(entry) for entry, _ in oldest_first(unread, lambda pair: pair[0])[:budget]}
        records, tasks, deferred = [], [], 0
        for entry, relevance in scored:
            to_read = relevance.relevant and entry.url not in known
            if to_read and id(entry) not in now_read:
                deferred += 1
                continue  # not recorded at all: the next poll sees it as new
            # the outlet is stored with relevant entries only (articles, terms)
            item = EntryRecord(entry, relevance, source=source_of(entry.url) if relevance.relevant else None)
            records.append(item)
            if to_read:
                tasks.append(self._shared_snapshot(item, feed, started))
        if tasks:
            await asyncio.gather(*tasks)
        return records, deferred

    def _same_story_by_guid(self, feed: dict, scored: list[tuple[Entry, Relevance]], known: dict) -> None:
        """An entry whose link is new but whose guid this feed already carried is that story
        (a link with a parameter that changes at every poll): it takes the stored article's
        URL, so no new article, entry or snapshot is made and its page is not read again."""
        guids = [e.guid for e, r in scored if r.relevant and e.guid and e.url not in known]
        if not guids:
            return
        stored = self.store.articles_by_guid(feed["id"], guids)
        for entry, relevance in scored:
            row = stored.get(entry.guid or "")
            if relevance.relevant and row is not None and entry.url not in known:
                entry.url = row["url"]
                known[entry.url] = row

    async def _shared_snapshot(self, item: EntryRecord, feed: dict, started: datetime) -> None:
        """Read the entry's article, or wait for the read another poll already started.

        Both polls then carry the same draft; the store keeps one version (same content
        hash), where two separate reads racing could have stored the second as an edit."""
        url = item.entry.url
        pending = self._reads.get(url)
        if pending is not None:
            try:
                item.snapshot = await asyncio.shield(pending)
                return
            except RuntimeError:  # the poll reading it was cancelled: read it ourselves
                pass
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._reads[url] = future
        self._reads_owned.setdefault(feed["id"], []).append((url, future))
        try:
            await self._snapshot_for(item, feed, started)  # never raises but for cancellation
        except BaseException:
            future.set_exception(RuntimeError("the read was cancelled"))
            future.exception()  # retrieved: nobody need wait on it
            raise
        future.set_result(item.snapshot)

    async def _snapshot_for(self, item: EntryRecord, feed: dict, started: datetime) -> None:
        """Read one article. A failure here (a page that breaks the extractor, a dead worker)
        costs this article its first version, not the whole feed its poll: the article is
        stored without text and its re-check in 15 minutes reads it again."""
        entry = item.entry
        html, note = None, None
        try:
            if self.config.watcher.fetch_articles:
                html, note = await self._fetch_article(entry.link, feed)
            feed_text = entry.content or entry.summary
            now = utcnow()
            item.snapshot = await self._cpu(
                read_article, html, entry.link, entry.title, feed_text, note, self._extension_key, now,
                story_time(entry.published_at, now),
            )
        except StageTimeout as err:  # remembered: no re-check will stop the pool for it again
            log.error("article %s offered by feed %s: %s; it will not be re-checked",
                      entry.link, feed["name"] or feed["url"], err)
            item.snapshot, item.too_costly = None, str(err)
        except Exception:
            log.exception("article %s offered by feed %s could not be read", entry.link, feed["name"] or feed["url"])
            item.snapshot = None

    async def _fetch_article(self, url: str, feed: dict | None) -> tuple[bytes | None, str | None]:
        res = await self.fetcher.get(url, allow_private=self.config.watcher.allow_private)
        if res.ok and res.body:
            return res.body, None
        offered = f" offered by feed {feed['name'] or feed['url']}" if feed else ""
        if res.error_kind == "blocked":
            log.warning("refused article link %s%s: %s", url, offered, res.error)
        else:
            log.info("article %s%s could not be fetched: %s", url, offered, res.error)
        return None, f"article page not fetched ({res.error}); using the feed's text"

    # -- article re-checks ----------------------------------------------------------------

    async def check_articles(self, *, limit: int = 200, force: bool = False,
                             budget: float = SWEEP_BUDGET) -> int:
        """Look at due articles again for edits; returns how many new versions were stored.

        ``force`` checks every article still in its re-check window, due or not. ``budget``
        (seconds) bounds the sweep like a poll: when it runs out, checks not yet done are
        cancelled and stay due for the next sweep (after a long pause thousands are due, and
        a name lookup per page must not hold `watcher poll` for minutes).
        """
        if self.disk_full is not None:
            return 0  # no page is fetched that could not be stored; polls probe the disk
        now = utcnow()
        due = self.store.articles_due_for_check(now + timedelta(days=3650) if force else now, limit)
        if not due:
            return 0
        deadline = time.monotonic() + budget
        slots = asyncio.Semaphore(max(2 * self.config.watcher.concurrency, 4))

        async def one(article: dict) -> int:
            async with slots:
                if time.monotonic() >= deadline:
                    return 0
                return await self._check_article(article, now)

        tasks = [asyncio.create_task(one(a)) for a in due]
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.info("article re-checks: %d of %d left for the next sweep (time budget %s used up)",
                     len(pending), len(due), format_duration(budget))
        return sum(task.result() for task in tasks if task in done)

    async def _check_article(self, article: dict, now: datetime) -> int:
        first_seen = parse_ts(article["first_seen_at"]) or now
        delay = next_check_delay(now - first_seen, self.config.watcher.recheck_articles_for)
        next_at = now + timedelta(seconds=delay * random.uniform(0.9, 1.1)) if delay else None
        draft, error, page = None, None, None
        known = article.get("page_hash") is not None  # validators are stored with the hash
        try:
            res = await self.fetcher.get(
                article["url"], etag=article.get("page_etag") if known else None,
                last_modified=article.get("page_last_modified") if known else None,
                allow_private=self.config.watcher.allow_private,
            )
            body_hash = hashlib.sha256(res.body).hexdigest() if res.ok and res.body else None
            if res.not_modified or (known and body_hash == article["page_hash"]):
                pass  # the very page read last time: nothing to read or extract again
            elif res.ok and res.body:
                latest = self.store.latest_snapshot(article["id"])
                draft = await self._cpu(
                    read_article, res.body, article["url"], (latest or {}).get("title") or article["title"] or "",
                    "", None, self._extension_key, now, story_time(article["published_at"], now),
                )
                page = (res.headers.get("etag") or None, res.headers.get("last-modified") or None, body_hash)
                if draft is not None and draft.text_source != "page":
                    draft = None  # the page yields too little now: not an edit
                elif draft is not None and latest is not None and latest["text_source"] == "feed":
                    draft.note = "the page's full text replaces the feed's text (not an edit)"
            else:
                error = res.error
        except StageTimeout as err:  # it would stop the pool again at every re-check: no more
            log.error("article %s: %s; it will not be re-checked", article["url"], err)
            error, next_at = str(err), None
        except Exception as err:
            log.exception("article %s: re-check failed", article["url"])
            error = f"internal error: {type(err).__name__}: {err}"
        try:
            summary = await self.writer.write(
                record_check, article["id"], draft, checked_at=now, next_check_at=next_at, error=error,
                source=article["source"], page=page,
            )
        except Exception as err:
            if not is_disk_full(err):
                raise
            self._storage_failed(err)  # checked again when writes succeed
            return 0
        if summary.snapshots_new:
            log.info("article %s edited: new version, %d term changes", article["url"], summary.changes_new)
        return summary.snapshots_new


def _maintain(store: Store) -> None:
    try:
        store.maintain()
    except Exception as err:
        log.warning("database %s: index maintenance failed (tried again later): %s", store.path, err)


def make_executor(workers: int) -> Executor:
    """The executor of the CPU stages. ``workers=1`` keeps them in-process (one thread);
    ``workers=0`` (the default) is what won on the machine (bench/poll.py, 400 feeds, pinned
    with taskset; docs/performance.md): on one core the thread (lower CPU and wall time than
    a pool); on more, a pool of one worker fewer than the cores, the event loop keeping one
    (on two shared cores one worker won CPU and wall time; with both cores free a second
    shortens a first cycle by about a fifth: set ``workers = 2`` on a dedicated host)."""
    cores = usable_cores()
    if workers == 1 or (workers == 0 and cores == 1):
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="watcher-cpu")
    return make_process_pool(workers or cores - 1)


def usable_cores() -> int:
    """The cores this process may run on (taskset, cgroups' cpusets), not the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def make_process_pool(count: int) -> ProcessPoolExecutor:
    """Workers forked from a fork server that imported and warmed the parse stage once (and
    the article stage for several workers: ``work.warm_modules``): a worker starts in
    milliseconds with it, where a spawned one paid 0.6-1.0 CPU-s. The server starts
    with the first pool, lives as long as this process, and serves replaced pools too. Each
    worker starts when a task first finds no idle one, so a cycle with nothing to parse
    starts none; workers end with their parent (``exit_with_parent``)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(os.getpid(),))
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", *warm_modules(count)])
    return ProcessPoolExecutor(max_workers=count, mp_context=ctx,
                               initializer=exit_with_parent, initargs=(os.getpid(),))


def _was_rejected(feed: dict) -> bool:
    return (feed["last_body_hash"] or "").startswith(REJECTED)


def _ms(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)
