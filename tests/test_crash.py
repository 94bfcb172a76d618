"""Crashes: the real daemon (`python -m watcher run`) and `watcher digest` killed with SIGKILL at
random moments, against loopback feeds that change all the time and a loopback SMTP server.

After every kill: `PRAGMA integrity_check` is ok and nothing is duplicated (articles by url,
snapshot versions and content per article, terms per snapshot, changes by key, digests by
Message-ID). At the end, after one clean poll and one clean digest run: nothing published
is missing, every change was delivered once, and the SMTP server saw exactly as many
distinct Message-IDs as there are sent digests (a resend after a crash reuses its
Message-ID). Meanwhile the sqlite-utils CLI queries the database in a loop and never fails.

Default run: a few kills (~20 s). `pytest -m slow`: 60 kills.
"""

from __future__ import annotations

import asyncio
import html
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from faults import LoopbackServer, closed_port, fault_zoo

VENV_BIN = Path(sys.executable).parent
CONFLICT_TEXT = [
    ("Kremlin offers {n}-day truce",
     "Russia proposed a {n}-day ceasefire in Ukraine on {day}, the Kremlin said. Moscow also "
     "demanded that Ukraine withdraw its troops from {city}. Kyiv rejected the offer, officials "
     "said, adding that any talks would need guarantees. Report number {i}."),
    ("Ukraine sets terms for talks",
     "Ukraine demanded the withdrawal of Russian troops from {city} as a precondition for peace "
     "talks, President Volodymyr Zelensky said on {day}. He also proposed a {n}-day ceasefire "
     "on energy infrastructure. Moscow has not responded. Report number {i}."),
]
CITIES = ["Kherson", "Kharkiv", "Odesa", "Zaporizhzhia", "Donetsk", "Luhansk", "Crimea"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


class NewsSite:
    """Feeds that gain a story every `every` seconds, each story with its own page."""

    def __init__(self, server: LoopbackServer, feeds: int = 3, seed: int = 0) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.items: dict[int, list[str]] = {f: [] for f in range(feeds)}
        self.published: list[str] = []  # article paths
        self.count = 0
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for f in range(feeds):
            self._render(f)

    def feed_urls(self) -> list[str]:
        return [self.server.url(f"/news/{f}.xml") for f in self.items]

    def publish(self) -> None:
        with self.lock:
            i, self.count = self.count, self.count + 1
            feed = self.rng.randrange(len(self.items))
            title, text = self.rng.choice(CONFLICT_TEXT)
            fill = {"n": self.rng.choice([10, 14, 30, 45, 60, 90]), "city": self.rng.choice(CITIES),
                    "day": self.rng.choice(DAYS), "i": i}
            title, text = title.format(**fill), text.format(**fill)
            path = f"/story/{i}.html"
            self.server.add(path, "<!doctype html><html><head><meta charset='utf-8'><title>"
                            f"{html.escape(title)}</title></head><body><nav><a href='/'>Home</a></nav>"
                            f"<article><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
                            f"<p>{html.escape(text.replace('Report', 'Background'))}</p></article>"
                            "<footer>© Loopback News</footer></body></html>", content_type="text/html")
            when = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(minutes=i)
            self.items[feed].append(
                f"<item><title>{html.escape(title)}</title><link>{self.server.url(path)}</link>"
                f"<guid isPermaLink='false'>story-{i}</guid><pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{html.escape(text)}</description></item>")
            self.published.append(path)
            self._render(feed)

    def _render(self, feed: int) -> None:
        items = "".join(reversed(self.items[feed]))
        self.server.add(f"/news/{feed}.xml", '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">'
                        f"<channel><title>Loopback News {feed}</title><link>{self.server.base_url}/</link>"
                        f"<description>x</description>{items}</channel></rss>")

    def start(self, every: float) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                self.publish()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)


@dataclass
class Mailbox:
    """What the loopback SMTP server accepted."""

    message_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds to sit on a message before answering 250 (widens the crash window)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        msg = message_from_bytes(envelope.content, policy=policy.default)
        if self.delay:
            await asyncio.sleep(random.uniform(0, self.delay))
        with self.lock:
            self.message_ids.append(str(msg["Message-ID"]))
        return "250 OK"


class Reader:
    """The sqlite-utils CLI querying the database in a loop; collects every failure."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.failures: list[str] = []
        self.runs = 0
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        sql = ("select (select count(*) from articles) as a, (select count(*) from snapshots) as s, "
               "(select count(*) from changes) as c, (select count(*) from polls) as p")
        while not self._stop.is_set():
            if not self.db.exists():
                time.sleep(0.1)
                continue
            t0 = time.monotonic()
            proc = subprocess.run([str(VENV_BIN / "sqlite-utils"), "query", str(self.db), sql],
                                  capture_output=True, text=True, timeout=60)
            self.slowest = max(self.slowest, time.monotonic() - t0)
            self.runs += 1
            if proc.returncode != 0:
                self.failures.append(proc.stderr.strip()[-500:])

    def start(self) -> Reader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)


def write_config(tmp: Path, site: NewsSite, smtp_port: int, bad: dict[str, str]) -> Path:
    feeds = "".join(f'\n[[feeds]]\nurl = "{u}"\nname = "news {i}"\n' for i, u in enumerate(site.feed_urls()))
    feeds += "".join(f'\n[[feeds]]\nurl = "{u}"\nname = "bad {n}"\n' for n, u in bad.items())
    path = tmp / "config.toml"
    path.write_text(f"""
[watcher]
database = "w.db"
interval = "1s"
allow_private = true
workers = 1
timeout = "2s"
max_backoff = "2s"

[digest]
channels = ["email"]
schedule = "* * * * *"

[email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "watcher@example.org"
to = ["desk@example.org"]
timeout = "10s"
{feeds}""", encoding="utf-8")
    return path


def stored_count(db: Path) -> int:
    """Articles stored with at least one version."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("select count(*) from articles where latest_version >= 1").fetchone()[0]
    finally:
        conn.close()


def check_db(db: Path) -> dict[str, int]:
    """The invariants that must hold after any crash; returns table counts."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        q = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
        assert q("pragma integrity_check") == [("ok",)]
        assert q("pragma foreign_key_check") == []
        assert q("select url from articles group by url having count(*) > 1") == []
        assert q("select feed_id, url from entries group by feed_id, url having count(*) > 1") == []
        assert q("select article_id, version from snapshots group by 1, 2 having count(*) > 1") == []
        # a version chain never stores the same content twice in a row
        assert q("select a.id from snapshots a join snapshots b on b.article_id = a.article_id "
                 "and b.version = a.version + 1 where a.content_hash = b.content_hash") == []
        # versions are 1..N without gaps and articles.latest_version says N
        assert q("select a.id from articles a left join (select article_id, count(*) n, max(version) m "
                 "from snapshots group by article_id) s on s.article_id = a.id "
                 "where coalesce(s.n, 0) != coalesce(s.m, 0) or a.latest_version != coalesce(s.m, 0)") == []
        assert q('select snapshot_id from terms group by snapshot_id, conflict, proposer, category, '
                 'stance, "values", quote, span_start, span_end having count(*) > 1') == []
        assert q("select key from changes group by key having count(*) > 1") == []
        assert q("select message_id from digests group by message_id having count(*) > 1") == []
        assert q("select channel, change_key from digest_changes group by 1, 2 having count(*) > 1") == []
        # every change was made from a stored snapshot with terms (nothing half-written)
        assert q("select c.id from changes c left join snapshots s on s.id = c.snapshot_id "
                 "where s.id is null") == []
        assert q("select c.id from changes c left join terms t on t.id = c.term_id "
                 "where c.term_id is not null and t.id is null") == []
        # a digest holds its changes from the moment it exists
        assert q("select d.id from digests d where d.change_count != "
                 "(select count(*) from digest_changes x where x.digest_id = d.id)") == []
        return {t: q(f"select count(*) from {t}")[0][0]
                for t in ("articles", "snapshots", "terms", "changes", "polls", "digests")}
    finally:
        conn.close()


def start(args: list[str], cwd: Path, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "watcher", *args], cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL; True when it was still running (a real crash, not a process that had ended)."""
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    return alive


def run_crash_loop(tmp_path: Path, kills: int, seed: int) -> dict:
    from aiosmtpd.controller import Controller

    rng = random.Random(seed)
    mailbox = Mailbox(delay=2.5)  # sends sit up to 2.5 s: kills land mid-send, on any machine
    smtp_port = closed_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    log_path = tmp_path / "daemon.log"
    stats: Counter = Counter()
    with LoopbackServer() as server, open(log_path, "ab") as log:
        site = NewsSite(server, seed=seed)
        for _ in range(3):
            site.publish()
        zoo = fault_zoo(server)
        bad = {k: zoo[k] for k in ("hang", "gzip_bomb", "reset", "html_page", "entity_expansion")}
        config = write_config(tmp_path, site, smtp_port, bad)
        db = tmp_path / "w.db"
        site.start(every=0.3)
        reader = Reader(db).start()
        try:
            for _ in range(kills):
                daemon = start(["run", "--config", str(config)], tmp_path, log)
                digest = None
                life = rng.uniform(0.8, 3.5)
                if rng.random() < 0.6:  # a digest run racing the daemon, killed too
                    time.sleep(rng.uniform(0.3, life))
                    digest = start(["digest", "--channel", "email", "--config", str(config)], tmp_path, log)
                    time.sleep(rng.uniform(0.4, 2.0))
                else:
                    time.sleep(life)
                stats["daemon_kills"] += kill(daemon)
                if digest is not None:
                    stats["digest_kills"] += kill(digest)
                    stats["digest_runs"] += 1
                if db.exists():
                    counts = check_db(db)
                    stats["checks"] += 1
                    stats["max_snapshots"] = max(stats["max_snapshots"], counts["snapshots"])
        finally:
            site.stop()
            reader.stop()
        # the end: clean polls of everything until no story waits (a poll reads at most
        # max_articles_per_poll pages a feed and leaves the rest for the next one: on a loaded
        # machine the killed daemons leave a backlog longer than that), one clean digest, then
        # the books must balance
        stored_before = -1
        for _ in range(30):
            final_poll = subprocess.run([sys.executable, "-m", "watcher", "poll", "--all", "--config", str(config)],
                                        cwd=tmp_path, capture_output=True, text=True, timeout=120)
            assert final_poll.returncode == 0, final_poll.stderr[-3000:]
            stored_now = stored_count(db)
            if stored_now == stored_before:
                break
            stored_before = stored_now
        mailbox.delay = 0.0
        final_digest = subprocess.run([sys.executable, "-m", "watcher", "digest", "--channel", "email",
                                       "--config", str(config)], cwd=tmp_path, capture_output=True,
                                      text=True, timeout=120)
        assert final_digest.returncode == 0, final_digest.stdout + final_digest.stderr
        published = list(site.published)
    controller.stop()
    counts = check_db(db)
    conn = sqlite3.connect(db)
    try:
        # nothing published was lost: every story is an article with at least one version
        stored = {r[0] for r in conn.execute("select url from articles where latest_version >= 1")}
        stored_paths = {urlsplit(u).path for u in stored}
        missing = [p for p in published if p not in stored_paths]
        assert not missing, f"{len(missing)} stories never stored: {missing[:5]}"
        # every change delivered, once
        undelivered = conn.execute(
            "select count(*) from changes c where not exists (select 1 from digest_changes d join digests g "
            "on g.id = d.digest_id where d.channel = 'email' and d.change_key = c.key and g.status = 'sent')"
        ).fetchone()[0]
        assert undelivered == 0
        assert conn.execute("select count(*) from digests where status != 'sent'").fetchone()[0] == 0
        sent_ids = [r[0] for r in conn.execute("select message_id from digests where status = 'sent'")]
    finally:
        conn.close()
    received = Counter(mailbox.message_ids)
    assert set(received) == set(sent_ids), "a digest sent but not recorded, or recorded but never sent"
    assert len(received) == len(sent_ids)  # distinct Message-IDs == digests sent
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text, text[text.index("Traceback") - 2000:][:4000]
    stats.update(counts)
    stats["messages"] = sum(received.values())
    stats["resent_same_id"] = sum(n - 1 for n in received.values())
    stats["digests_sent"] = len(sent_ids)
    stats["reader_runs"], stats["reader_failures"] = reader.runs, len(reader.failures)
    stats["reader_slowest_ms"] = round(reader.slowest * 1000)
    stats["published"] = len(published)
    assert not reader.failures, reader.failures[:3]
    print("\ncrash loop:", dict(stats))
    return dict(stats)


@pytest.mark.timeout(120)
def test_sigkill_daemon_and_digest_a_few_times(tmp_path: Path) -> None:
    stats = run_crash_loop(tmp_path, kills=4, seed=int(os.environ.get("CRASH_SEED", "6")))
    assert stats["daemon_kills"] >= 3  # it was running when killed
    assert stats["snapshots"] > 0 and stats["changes"] > 0 and stats["digests_sent"] > 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_sixty_times(tmp_path: Path) -> None:
    stats = run_crash_loop(tmp_path, kills=60, seed=int(os.environ.get("CRASH_SEED", "1906")))
    assert stats["daemon_kills"] >= 55
    assert stats["digest_kills"] >= 10
