"""The real daemon (`watcher run`) in a subprocess against loopback feeds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from watcher.demo import article_page, rss_feed, seed_stories
from watcher.loopback import LoopbackServer
from watcher.scheduler import feed_phase

pytestmark = pytest.mark.timeout(90)
VENV_BIN = Path(sys.executable).parent


def write_config(tmp_path: Path, server: LoopbackServer, interval: str = "3s") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[watcher]
database = "w.db"
interval = "{interval}"
allow_private = true
workers = 1
timeout = "5s"

[[feeds]]
url = "{server.url('/feed.xml')}"
name = "loopback news"
""",
        encoding="utf-8",
    )
    return path


def count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(f"select count(*) from {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_daemon_polls_on_schedule_and_stops_cleanly(loopback: LoopbackServer, tmp_path: Path) -> None:
    stories = seed_stories()
    for s in stories:
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html")
    loopback.add("/feed.xml", rss_feed(stories, loopback.base_url))
    config = write_config(tmp_path, loopback)
    db = tmp_path / "w.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher", "run", "--config", str(config)],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        assert wait_for(lambda: count(db, "snapshots") == 2), "the daemon stored no snapshots"
        assert wait_for(lambda: count(db, "polls") >= 2), "the daemon did not poll again"
        # a reader while the daemon writes: the sqlite-utils CLI
        reader = subprocess.run(
            [str(VENV_BIN / "sqlite-utils"), "tables", str(db), "--counts"],
            capture_output=True, text=True, timeout=30,
        )
        assert reader.returncode == 0, reader.stderr
        assert '"table": "snapshots", "count": 2' in reader.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "loopback news: ok (HTTP 200, " in stderr and "2 new entries, 2 new articles, 2 snapshots" in stderr
    assert "loopback news: not_modified (HTTP 304, " in stderr
    assert "daemon stopped" in stderr
    assert count(db, "snapshots") == 2  # the 304s stored nothing new


def test_sigint_also_stops(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.add("/feed.xml", rss_feed([], loopback.base_url))
    config = write_config(tmp_path, loopback, interval="1h")
    proc = subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: count(tmp_path / "w.db", "polls") >= 1, seconds=45)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr


def test_feed_phase_is_stable_and_spread() -> None:
    urls = [f"https://example.org/{i}.xml" for i in range(200)]
    phases = [feed_phase(u, 900) for u in urls]
    assert phases == [feed_phase(u, 900) for u in urls]
    assert all(0 <= p <= 30 for p in phases)
    assert len({round(p, 1) for p in phases}) > 100  # spread, not bunched


def _start(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True)


def test_database_deleted_under_the_daemon_stops_it_with_an_error(loopback: LoopbackServer,
                                                                  tmp_path: Path) -> None:
    """Issue 14.3: polls written into an unlinked file are lost; the daemon notices the file
    is gone, says so and exits 1 instead of carrying on (or creating an empty one)."""
    loopback.add("/feed.xml", rss_feed([], loopback.base_url))
    config = write_config(tmp_path, loopback, interval="1s")
    db = tmp_path / "w.db"
    proc = _start(config)
    try:
        assert wait_for(lambda: count(db, "polls") >= 1, seconds=45)
        moved = tmp_path / "moved.db"
        db.rename(moved)  # what `mv`, a restore script or a cleanup job does
        assert proc.wait(timeout=45) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.stderr.read()
    assert f"error: database {db} was deleted or replaced" in stderr
    assert "Traceback" not in stderr
    assert not db.exists()  # no empty database made in its place


def test_a_second_daemon_on_the_same_database_refuses_to_start(loopback: LoopbackServer, tmp_path: Path) -> None:
    """Issue 14.11: two daemons doubled every poll; the second now exits with a clear message,
    and `watcher poll` beside the daemon stays allowed."""
    loopback.add("/feed.xml", rss_feed([], loopback.base_url))
    config = write_config(tmp_path, loopback, interval="1h")
    first = _start(config)
    try:
        assert wait_for(lambda: count(tmp_path / "w.db", "polls") >= 1, seconds=45)
        second = subprocess.run([sys.executable, "-m", "watcher", "run", "--config", str(config)],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert f"another `watcher run` (pid {first.pid}) is already running on database" in second.stderr
        assert "Traceback" not in second.stderr
        beside = subprocess.run([sys.executable, "-m", "watcher", "poll", "--all", "--config", str(config)],
                                capture_output=True, text=True, timeout=60)
        assert beside.returncode == 0, beside.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=30)
    assert first.returncode == 0, stderr
    assert count(tmp_path / "w.db", "polls") == 2  # the daemon's and the manual poll; no third


def _descendants(pid: int) -> set[int]:
    """Every live process under ``pid``, from /proc (workers, the resource tracker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigkill_of_the_daemon_leaves_no_worker_running(loopback: LoopbackServer, tmp_path: Path) -> None:
    """Issue 14.9: SIGKILL of `watcher run` left its pool workers and the resource tracker
    running forever. They now exit when their parent dies."""
    stories = seed_stories()
    for s in stories:
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html")
    loopback.add("/feed.xml", rss_feed(stories, loopback.base_url))
    config = write_config(tmp_path, loopback, interval="1h")
    config.write_text(config.read_text().replace("workers = 1", "workers = 2"))
    proc = _start(config)
    try:
        assert wait_for(lambda: count(tmp_path / "w.db", "snapshots") == 2, seconds=60)
        workers = _descendants(proc.pid)
        assert workers, "the daemon should have started its pool"
    finally:
        proc.kill()
        proc.wait(10)
    try:
        assert wait_for(lambda: not any(_alive(p) for p in workers), seconds=30), \
            f"still running after the daemon's SIGKILL: {sorted(p for p in workers if _alive(p))}"
    finally:
        for pid in workers:  # a failing run must not leave them behind either
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_feeds_reset_reaches_a_daemon_started_while_the_feed_was_disabled(loopback: LoopbackServer,
                                                                          tmp_path: Path) -> None:
    """Issue 14.15: a feed disabled (410) before the daemon started was never scheduled, so
    `watcher feeds reset` promised a poll that came only after a restart."""
    loopback.add("/feed.xml", "gone", status=410, content_type="text/plain")
    config = write_config(tmp_path, loopback, interval="1s")
    db = tmp_path / "w.db"
    first = subprocess.run([sys.executable, "-m", "watcher", "poll", "--config", str(config)],
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and "410 Gone" in first.stderr
    loopback.add("/feed.xml", rss_feed([], loopback.base_url))  # the feed is back
    proc = _start(config)
    try:
        assert wait_for(lambda: "watching" in (proc.stderr.readline() or "x"), seconds=45)
        reset = subprocess.run([sys.executable, "-m", "watcher", "feeds", "--config", str(config), "reset", "1"],
                               capture_output=True, text=True, timeout=60)
        assert reset.returncode == 0 and "will be polled at the next chance" in reset.stdout
        assert wait_for(lambda: count(db, "polls") >= 2, seconds=45), "the reset feed was never polled"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    with sqlite3.connect(db) as conn:
        outcome = conn.execute("select outcome from polls order by id desc limit 1").fetchone()[0]
    assert outcome == "ok"
