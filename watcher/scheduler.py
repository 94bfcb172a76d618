"""The daemon: APScheduler 3.x jobs over the pipeline, stopped cleanly by SIGTERM/SIGINT.

One interval job per enabled feed. APScheduler's own ``jitter`` re-randomises every run and
so drifts; instead each feed gets a fixed phase (from a hash of its URL) inside its
interval, so a thousand feeds spread out and each keeps a steady rhythm. The job polls only
when the feed is due by the database's ``next_poll_at``, which carries backoff,
Retry-After and server hints (RSS ttl, Cache-Control max-age) across restarts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config import Config
from watcher.pipeline import Pipeline
from watcher.store import DatabaseReplaced, Store, parse_ts, utcnow

log = logging.getLogger("watcher")

ARTICLE_CHECK_EVERY = 300.0  # seconds between sweeps for articles due a re-check
DATABASE_CHECK_EVERY = 10.0  # seconds between checks that the database file is still ours


def feed_phase(url: str, interval: float) -> float:
    """A stable offset for a feed's first run: spreads feeds without drifting them."""
    spread = min(interval * 0.1, 30.0)
    fraction = int(hashlib.sha1(url.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return fraction * spread


class Daemon:
    """Owns the scheduler; everything it schedules is a call into the pipeline."""

    def __init__(
        self,
        config: Config,
        store: Store,
        pipeline: Pipeline,
        *,
        extra_jobs: list[tuple[str, CronTrigger, Callable[[], Awaitable[object]]]] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.pipeline = pipeline
        self.extra_jobs = extra_jobs or []
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.stopping = asyncio.Event()
        self.fatal: str | None = None  # why the daemon stopped itself (exit 1), if it did
        self._in_flight: set[asyncio.Task] = set()

    def _add_feed_jobs(self) -> None:
        now = utcnow()
        for feed in self.store.configured_feeds():  # a disabled one waits for `feeds reset`
            interval = float(feed["interval_seconds"])
            start = now + timedelta(seconds=feed_phase(feed["config_url"], interval))
            self.scheduler.add_job(
                self._poll_feed,
                IntervalTrigger(seconds=interval, start_date=start, timezone="UTC"),
                args=[feed["id"]],
                id=f"feed-{feed['id']}",
                name=feed["name"] or feed["url"],
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(interval),
                next_run_time=start,
            )
        log.info("watching %d feeds", len(self.scheduler.get_jobs()))

    async def _poll_feed(self, feed_id: int) -> None:
        feed = self.store.feed(feed_id)
        if feed is None or feed["disabled_reason"] or not feed["enabled"] or feed["removed_at"]:
            return
        due = parse_ts(feed["next_poll_at"])
        # next_poll_at is this tick's time plus the interval, to the second; a tick that
        # fires a moment early must not skip a whole interval
        slack = timedelta(seconds=min(60.0, 0.1 * float(feed["interval_seconds"])))
        if due is not None and due > utcnow() + slack:
            return  # backing off, rate limited, or the server asked for a longer interval
        await self._tracked(self.pipeline.poll_feed(feed))

    async def _tracked(self, work: Awaitable[object]) -> None:
        """Run a job's work so that a stop can cancel it: a cancelled poll writes nothing
        (its transaction never began), which is right; a half-cut one would record
        failures that are only the shutdown's."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await work
        except asyncio.CancelledError:
            raise
        except DatabaseReplaced as err:
            self._stop_fatal(str(err))
        except Exception:
            log.exception("a scheduled job failed")
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _check_articles(self) -> None:
        await self._tracked(self.pipeline.check_articles())
        self.pipeline.maintain()  # every few minutes, between polls: index merging, checkpoint

    async def _run_extra(self, func: Callable[[], Awaitable[object]]) -> None:
        await self._tracked(func())

    async def _check_database(self) -> None:
        """A database deleted or replaced under the daemon would take every later write
        with it: stop instead."""
        try:
            self.store.check_identity()
        except DatabaseReplaced as err:
            self._stop_fatal(str(err))

    def _stop_fatal(self, message: str) -> None:
        if self.fatal is None:
            log.error("%s", message)
            self.fatal = message
        self.stopping.set()

    async def run(self) -> None:
        """Run until SIGTERM or SIGINT; then stop the jobs and close connections."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop, sig)
        self._add_feed_jobs()
        for func, every, job_id, name in (
            (self._check_articles, ARTICLE_CHECK_EVERY, "article-checks", "article re-checks"),
            (self._check_database, DATABASE_CHECK_EVERY, "database-check", "database file check"),
        ):
            self.scheduler.add_job(func, IntervalTrigger(seconds=every, timezone="UTC"), id=job_id,
                                   name=name, coalesce=True, max_instances=1)
        for job_id, trigger, func in self.extra_jobs:
            self.scheduler.add_job(self._run_extra, trigger, args=[func], id=job_id, name=job_id, coalesce=True,
                                   max_instances=1, misfire_grace_time=3600)
        self.scheduler.start()
        log.info("daemon started; database %s", self.store.path)
        try:
            await self.stopping.wait()
        finally:
            self.scheduler.shutdown(wait=False)
            for task in list(self._in_flight):
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            await self.pipeline.aclose()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            log.info("daemon stopped")

    def _request_stop(self, sig: signal.Signals) -> None:
        log.info("received %s; stopping", sig.name)
        self.stopping.set()
