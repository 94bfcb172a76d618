# ruff: noqa: F811  (pytest fixtures imported from test_digest_support are redefined as arguments)
"""`watcher digest` on the console, `watcher digests`, feed health, the daemon's jobs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from test_digest_support import add_hostile_change, cli, demo_db, write_config  # noqa: F401

from watcher.config import load_config
from watcher.store import Store


def _delivered(db: Path, channel: str = "console") -> int:
    store = Store.open(db)
    n = len(store.delivered_change_keys(channel))
    store.close()
    return n


def _count_changes(db: Path) -> int:
    store = Store.open(db)
    n = store.query("select count(*) as n from changes")[0]["n"]
    store.close()
    return n


def test_console_digest_delivers_once(demo_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_db)
    first = cli(["digest", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "russia-ukraine" in first.stdout and "5 terms on record" in first.stdout
    assert "sent digest #1" in first.stderr
    assert _delivered(demo_db) == _count_changes(demo_db)

    second = cli(["digest", "--config", str(config)])
    assert second.exit_code == 0
    assert "russia-ukraine" not in second.stdout
    assert "nothing new to deliver" in second.stderr

    listing = cli(["digests", "--config", str(config), "--nl"])
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [(r["id"], r["channel"], r["status"], r["attempts"]) for r in rows] == [(1, "console", "sent", 1)]
    table = cli(["digests", "--config", str(config)])
    assert "sent" in table.stdout and "console" in table.stdout


def test_dry_run_marks_nothing_and_formats(demo_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_db)
    for fmt in ("text", "markdown", "html", "json"):
        result = cli(["digest", "--config", str(config), "--dry-run", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "russia-ukraine" in result.stdout
    assert cli(["digest", "--config", str(config), "--dry-run", "--format", "html"]).stdout.lstrip().startswith("<!DOCTYPE html>")
    data = json.loads(cli(["digest", "--config", str(config), "--dry-run", "--format", "json"]).stdout)
    assert data["subject"].startswith("ceasefire watcher: 10 term changes")
    assert "## russia-ukraine" in cli(["digest", "--config", str(config), "--dry-run", "--format", "markdown"]).stdout
    assert _delivered(demo_db) == 0
    store = Store.open(demo_db)
    assert store.list_digests() == []
    store.close()


def test_since_looks_back_over_delivered_changes(demo_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_db)
    cli(["digest", "--config", str(config)])
    again = cli(["digest", "--config", str(config), "--since", "2000-01-01"])
    assert again.exit_code == 0
    assert "Changes since 2000-01-01 00:00:00" in again.stdout and "widened" in again.stdout
    nothing = cli(["digest", "--config", str(config), "--since", "2100-01-01T00:00"])
    assert "widened" not in nothing.stdout
    bad = cli(["digest", "--config", str(config), "--since", "yesterday"])
    assert bad.exit_code == 2 and "expected a date" in bad.output


def test_new_changes_after_a_digest_go_into_the_next(demo_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_db)
    cli(["digest", "--config", str(config)])
    add_hostile_change(demo_db)
    result = cli(["digest", "--config", str(config)])
    assert "neutrality" in result.stdout and "now accepted (was proposed)" in result.stdout
    assert "widened" not in result.stdout  # already delivered
    assert "<script>alert(1)</script>" in result.stdout  # the console shows it as text


def test_failing_feed_reported_once_then_recovery(demo_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_db)
    cli(["digest", "--config", str(config)])
    store = Store.open(demo_db)  # the demo has two feeds: Demo News fails, Demo Wire stays ok
    [news] = store.query("select id from feeds where name = 'Demo News'")
    store.db.execute("update feeds set consecutive_errors = 4, failing_since = '2030-01-01 00:00:00', "
                     "last_error = 'HTTP 503 Service Unavailable' where id = ?", [news["id"]])
    store.close()
    first = cli(["digest", "--config", str(config)])
    assert "failing since 2030-01-01 00:00:00 UTC (4 errors): Demo News — HTTP 503" in first.stdout
    assert "Demo Wire" not in first.stdout
    assert "failing" not in cli(["digest", "--config", str(config)]).stdout  # once per episode
    store = Store.open(demo_db)
    store.db.execute("update feeds set consecutive_errors = 0, failing_since = null, last_error = null "
                     "where id = ?", [news["id"]])
    store.close()
    recovered = cli(["digest", "--config", str(config)])
    assert "recovered: Demo News (failing since 2030-01-01 00:00:00 UTC)" in recovered.stdout
    assert "Demo Wire" not in recovered.stdout
    assert "recovered" not in cli(["digest", "--config", str(config)]).stdout
    # the other channel has its own reports
    store = Store.open(demo_db)
    assert sorted((r["channel"], r["feed_id"], r["state"]) for r in store.query("select * from feed_reports")) == [
        ("console", news["id"], "failing"), ("console", news["id"], "recovered")]
    store.close()


def test_preview_console_for_the_demo(demo_db: Path, tmp_path: Path, capsys) -> None:
    from watcher.digest.service import preview_console

    config = load_config(write_config(tmp_path, demo_db))
    store = Store.open(demo_db)
    preview_console(config, store)
    assert "russia · russia" not in capsys.readouterr().out  # (sanity: grouped, not joined)
    preview_console(config, store)
    assert "5 terms on record" in capsys.readouterr().out
    assert store.list_digests() == [] and not store.delivered_change_keys("console")
    store.close()


def test_scheduled_jobs_per_channel_and_alerts(demo_db: Path, tmp_path: Path, capsys) -> None:
    from watcher.digest.service import scheduled_jobs

    path = write_config(tmp_path, demo_db, digest={
        "schedule": "0 7 * * *", "timezone": "Europe/London", "alert_kinds": ["status:accepted"]})
    with path.open("a") as f:
        f.write('\n[digest.schedules]\nconsole = "30 6 * * 1-5"\n')
    config = load_config(path)
    store = Store.open(demo_db)
    jobs = {job_id: (trigger, func) for job_id, trigger, func in scheduled_jobs(config, store)}
    assert set(jobs) == {"digest-console", "digest-alert-console"}
    trigger = jobs["digest-console"][0]
    assert str(trigger.timezone) == "Europe/London"
    assert "hour='6'" in str(trigger) and "minute='30'" in str(trigger)

    add_hostile_change(demo_db)  # a status change to accepted
    result = asyncio.run(jobs["digest-alert-console"][1]())
    out = capsys.readouterr().out
    assert result.sent and "Alert" in out and "neutrality" in out and "widened" not in out
    assert store.digest(result.sent[0])["kind"] == "alert"
    result = asyncio.run(jobs["digest-console"][1]())  # the daily digest: the rest, not the alert again
    out = capsys.readouterr().out
    assert "widened" in out and "now accepted" not in out
    store.close()
