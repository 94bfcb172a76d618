# ruff: noqa: F811  (pytest fixtures imported from test_digest_support are redefined as arguments)
"""[[subscriptions]]: config checks, filtered previews, the outbox lanes, and delivery to a
real SMTP server on loopback (aiosmtpd) surviving a SIGKILL mid-send."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console
from test_digest_support import (  # noqa: F401
    RefusingSmtp,
    add_hostile_change,
    cli,
    demo_db,
    email_config,
    free_port,
    smtp_server,
    write_config,
)

from watcher.config import load_config
from watcher.digest.service import scheduled_jobs
from watcher.digest.subscriptions import Lane, deliver_lane, lanes, parse_lane
from watcher.store import Store

pytestmark = pytest.mark.timeout(60)


def _with_subs(config: Path, subs: list[dict]) -> Path:
    """Append [[subscriptions]] blocks to a config written by write_config."""
    text = config.read_text()
    for sub in subs:
        text += "\n[[subscriptions]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in sub.items())
    config.write_text(text)
    return config


def add_sudan_change(db: Path) -> str:
    """A status change in another conflict (Sudan), with its ledger row; returns its key."""
    store = Store.open(db)
    with store.transaction():
        article = store.db.execute(
            "insert into articles (url, title, source, first_seen_at) values (?,?,?,?)",
            ["https://wire.example/sudan-truce", "RSF accepts a humanitarian truce", "wire.example",
             "2030-01-02 00:00:00"]).lastrowid
        snap = store.db.execute(
            "insert into snapshots (article_id, version, fetched_at, content_hash, title, text, text_source) "
            "values (?,1,?,?,?,?, 'page')",
            [article, "2030-01-02 00:00:00", "h-sudan", "RSF accepts a humanitarian truce", "text"]).lastrowid
        key = f"{snap}:sudan:rsf:ceasefire:status"
        store.db.execute(
            "insert into changes (detected_at, conflict, proposer, category, kind, summary, before, after, quote, "
            "source, url, article_id, snapshot_id, baseline, key) values (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
            ["2030-01-02 00:00:00", "sudan", "rsf", "ceasefire", "status", "rsf: ceasefire proposed → accepted",
             '{"stance": "proposed", "values": {}, "responses": [], "precondition": false}',
             '{"stance": "accepted", "values": {}, "responses": [], "precondition": false}',
             "The RSF said it accepted the truce.", "wire.example", "https://wire.example/sudan-truce",
             article, snap, key])
        store.db.execute(
            "insert into ledger (conflict, proposer, category, stance, first_seen_at, last_seen_at, sources, "
            "source_count, observations) values ('sudan','rsf','ceasefire','accepted',?,?,'[\"wire.example\"]',1,1)",
            ["2030-01-02 00:00:00", "2030-01-02 00:00:00"])
    store.close()
    return key


# --- config ----------------------------------------------------------------------------


def test_subscription_defaults_come_from_digest(tmp_path: Path, demo_db: Path) -> None:
    config = write_config(tmp_path, demo_db, email=email_config(25),
                          digest={"schedule": "0 6 * * *", "timezone": "Europe/London",
                                  "alert_kinds": ["status:accepted"]})
    _with_subs(config, [{"name": "sudan-desk", "email": ["a@news.example"], "conflicts": ["sudan"]},
                        {"name": "weekly", "console": True, "schedule": "0 8 * * 1", "alert_kinds": []}])
    subs = load_config(config).subscriptions
    assert [(s.name, s.schedule, s.timezone, s.alert_kinds) for s in subs] == [
        ("sudan-desk", "0 6 * * *", "Europe/London", ["status:accepted"]),
        ("weekly", "0 8 * * 1", "Europe/London", []),
    ]
    assert [lane.key for lane in lanes(subs[0])] == ["email/sudan-desk/a@news.example"]
    assert parse_lane("email/sudan-desk/a@news.example") == ("email", "sudan-desk", "a@news.example")
    assert parse_lane("console/weekly") == ("console", "weekly", None)
    assert parse_lane("email") == ("email", None, None)


@pytest.mark.parametrize(("sub", "message"), [
    ({"conflicts": ["sudann"]}, "subscriptions[0].conflicts: 'sudann' is not a conflict; expected "),
    ({"conflicts": ["sudann"]}, "(did you mean 'sudan'?)"),
    ({"kinds": ["status:acepted"]}, "subscriptions[0].kinds: 'status:acepted' is not a change kind"),
    ({"kinds": ["status:acepted"]}, "(did you mean 'status:accepted'?)"),
    ({"kinds": ["widened"]}, "'widened' is not a change kind"),
    ({"proposers": ["russsia"]}, "'russsia' is not a proposer (an actor id)"),
    ({"proposers": ["russsia"]}, "(did you mean 'russia'?)"),
    ({"categories": ["troop_withdrawl"]}, "(did you mean 'troop_withdrawal'?)"),
    ({"alert_kinds": ["stauts"]}, "subscriptions[0].alert_kinds: 'stauts' is not a change kind"),
    ({"conflict": ["sudan"]}, "unknown key subscriptions[0].conflict: did you mean 'conflicts'?"),
    ({"min_outlets": 0}, "subscriptions[0].min_outlets = 0: expected a whole number of at least 1"),
    ({"schedule": "every day"}, "subscriptions[0].schedule = 'every day': expected a cron expression"),
    ({"name": "Sudan Desk"}, "subscriptions[0].name = 'Sudan Desk': expected lowercase words"),
    ({"console": False}, "subscriptions[0] (desk) has no recipients"),
    ({"email": ["a@news.example"]}, "subscriptions[0].email: sending email needs an [email] table"),
])
def test_bad_subscription_is_a_config_error(tmp_path: Path, demo_db: Path, sub: dict, message: str) -> None:
    config = _with_subs(write_config(tmp_path, demo_db), [{"name": "desk", "console": True, **sub}])
    result = cli(["digest", "--dry-run", "--config", str(config)])
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("address", ["a@news.example\r\nRCPT TO:<x@evil.example>", "Desk <a@news.example>",
                                     "a b@news.example", "news.example"])
def test_a_subscription_address_is_checked_like_email_to(tmp_path: Path, demo_db: Path, address: str) -> None:
    """Issue 14.12 for subscriptions: CR/LF in an address left a digest pending forever (and
    would sit in the lane key); like email.to, an address must be bare."""
    config = _with_subs(write_config(tmp_path, demo_db, email=email_config(25)),
                        [{"name": "desk", "email": [address]}])  # JSON's string escapes are TOML's
    result = cli(["digest", "--dry-run", "--config", str(config)])
    assert result.exit_code == 2
    assert "subscriptions[0].email" in result.stderr and "a bare email address" in result.stderr


def test_duplicate_subscription_names(tmp_path: Path, demo_db: Path) -> None:
    config = _with_subs(write_config(tmp_path, demo_db), [{"name": "desk", "console": True}] * 2)
    result = cli(["digests", "--config", str(config)])
    assert result.exit_code == 2 and "subscriptions[1].name = 'desk'" in result.stderr


# --- previews, the daemon's jobs, the lanes ---------------------------------------------------


def test_dry_run_filters_and_their_errors(tmp_path: Path, demo_db: Path) -> None:
    config = write_config(tmp_path, demo_db)
    result = cli(["digest", "--dry-run", "--format", "json", "--config", str(config),
                  "--conflict", "russia-ukraine", "--proposer", "russia", "--kind", "changed", "--kind", "revised"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(c["kind"] for c in data["changes"]) == ["changed", "revised"]
    assert {c["proposer"] for c in data["changes"]} == {"russia"} and data["baseline"] == []

    bad = cli(["digest", "--dry-run", "--config", str(config), "--kind", "status:acepted"])
    assert bad.exit_code == 2 and "did you mean 'status:accepted'?" in bad.stderr
    not_dry = cli(["digest", "--config", str(config), "--conflict", "russia-ukraine"])
    assert not_dry.exit_code == 2 and "narrow a --dry-run preview" in not_dry.stderr
    unknown = cli(["digest", "--config", str(config), "--subscription", "desk"])
    assert unknown.exit_code == 2 and "the config has no [[subscriptions]]" in unknown.stderr
    assert _rows(demo_db, "select * from digests") == []  # previews write nothing


def test_no_subscriptions_leave_the_daemon_jobs_as_they_were(tmp_path: Path, demo_db: Path) -> None:
    base = write_config(tmp_path, demo_db, channels=["console", "email"], email=email_config(25),
                        digest={"alert_kinds": ["status:accepted"]})
    store = Store.open(demo_db)
    try:
        assert [j[0] for j in scheduled_jobs(load_config(base), store)] == [
            "digest-console", "digest-alert-console", "digest-email", "digest-retry-email", "digest-alert-email"]
        _with_subs(base, [{"name": "desk", "email": ["a@news.example"], "console": True, "alert_kinds": []}])
        assert [j[0] for j in scheduled_jobs(load_config(base), store)][5:] == [
            "subscription-email/desk/a@news.example", "subscription-retry-email/desk/a@news.example",
            "subscription-console/desk"]
    finally:
        store.close()


def test_alerts_stay_within_the_filters_and_apprise_urls_are_not_stored(tmp_path: Path, demo_db: Path) -> None:
    sudan = add_sudan_change(demo_db)
    add_hostile_change(demo_db)  # russia-ukraine: ukraine neutrality, also status:accepted
    url = "json://127.0.0.1:9/hook?token=secret-token-123"
    config = load_config(_with_subs(write_config(tmp_path, demo_db), [
        {"name": "sudan-desk", "console": True, "apprise": [url], "conflicts": ["sudan"]}]))
    sub = config.subscriptions[0]
    console_lane, apprise_lane = Lane("sudan-desk", "console"), Lane("sudan-desk", "apprise", url)
    out = io.StringIO()
    store = Store.open(demo_db)
    try:
        result = deliver_lane(config, store, sub, console_lane, alert_kinds=["status:accepted"],
                              console=Console(file=out, width=120))
        assert result.ok and result.change_count == 1
        assert "sudan" in out.getvalue() and "russia-ukraine" not in out.getvalue()
        assert deliver_lane(config, store, sub, apprise_lane).failed  # no service there (or no apprise)
        rows = store.query("select d.channel, d.kind, d.status, d.body_text, d.payload, x.change_key "
                           "from digests d join digest_changes x on x.digest_id = d.id order by d.id")
    finally:
        store.close()
    assert [(r["channel"], r["kind"], r["status"], r["change_key"]) for r in rows] == [
        ("console/sudan-desk", "alert", "sent", sudan),
        (apprise_lane.key, "digest", "failed", sudan),
    ]
    assert apprise_lane.key.startswith("apprise/sudan-desk/json#")
    assert not any("secret-token" in json.dumps(r) for r in rows)


# --- delivery over real SMTP, killed mid-send -------------------------------------------------

SUBS = [
    {"name": "ukraine-news", "email": ["a@desk.example", "shared@desk.example"],
     "conflicts": ["russia-ukraine"], "kinds": ["new", "changed"]},
    {"name": "russia-corroborated", "email": ["b@desk.example", "shared@desk.example"],
     "proposers": ["russia"], "categories": ["troop_withdrawal", "negotiations", "line_freeze"], "min_outlets": 2},
    {"name": "sudan-desk", "email": ["c@desk.example"], "conflicts": ["sudan"]},
]


def _expected(db: Path) -> dict[str, set[str]]:
    """What each subscription should get, worked out here in SQL and Python, not by the filters."""
    rows = _rows(db, "select c.key, c.conflict, c.proposer, c.category, c.kind, coalesce(l.source_count, 0) as n "
                     "from changes c left join ledger l using (conflict, proposer, category)")
    return {
        "ukraine-news": {r["key"] for r in rows if r["conflict"] == "russia-ukraine" and r["kind"] in ("new", "changed")},
        "russia-corroborated": {r["key"] for r in rows if r["proposer"] == "russia" and r["n"] >= 2 and r["category"]
                                in ("troop_withdrawal", "negotiations", "line_freeze")},
        "sudan-desk": {r["key"] for r in rows if r["conflict"] == "sudan"},
    }


def _rows(db: Path, sql: str) -> list[dict]:
    store = Store.open(db)
    try:
        return store.query(sql)
    finally:
        store.close()


def test_overlapping_subscriptions_exactly_once_through_a_sigkill(tmp_path: Path, demo_db: Path) -> None:
    add_sudan_change(demo_db)
    expected = _expected(demo_db)
    assert expected["ukraine-news"] & expected["russia-corroborated"]  # the filters overlap
    assert all(expected.values()) and not expected["sudan-desk"] & expected["ukraine-news"]
    proc: dict = {}

    def kill_on_third() -> None:
        if len(server.messages) == 3:  # the server has it; the sender never hears the 250
            os.kill(proc["p"].pid, signal.SIGKILL)
            proc["p"].wait(10)

    with smtp_server() as (server, port):
        server.on_data = kill_on_third
        config = _with_subs(write_config(tmp_path, demo_db, email=email_config(port)), SUBS)
        config.write_text(config.read_text().replace('channels = ["console"]', "channels = []"))
        code = ("import click, sys; from watcher.cli.digest import COMMANDS; "
                "click.Group('watcher', commands={c.name: c for c in COMMANDS})(sys.argv[1:])")
        proc["p"] = subprocess.Popen([sys.executable, "-c", code, "digest", "--config", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert proc["p"].wait(30) == -signal.SIGKILL
        assert len(server.messages) == 3
        killed = server.messages[2].message["Message-ID"]
        assert [r["status"] for r in _rows(demo_db, "select status from digests order by id")] == [
            "sent", "sent", "pending"]

        server.on_data = None
        result = cli(["digest", "--config", str(config)])
        assert result.exit_code == 0, result.output
        again = cli(["digest", "--config", str(config)])
        assert again.exit_code == 0 and again.stderr.count("nothing new to deliver") == 5
        messages = list(server.messages)

    digests = _rows(demo_db, "select * from digests order by id")
    claimed = _rows(demo_db, "select d.channel, x.change_key from digest_changes x join digests d on d.id = x.digest_id")
    assert {d["status"] for d in digests} == {"sent"} and len(digests) == 5
    by_lane: dict[str, list[str]] = {}
    for row in claimed:
        by_lane.setdefault(row["channel"], []).append(row["change_key"])
    for sub in SUBS:
        for addr in sub["email"]:
            keys = by_lane.pop(f"email/{sub['name']}/{addr}")
            assert sorted(keys) == sorted(expected[sub["name"]]), (sub["name"], addr)  # each once, none else
    assert by_lane == {}

    # what the SMTP server saw: one recipient per message, each digest's Message-ID to its
    # recipient, and the one killed mid-send resent identically, nothing else twice
    assert all(len(m.rcpt_tos) == 1 for m in messages)
    ids = Counter(m.message["Message-ID"] for m in messages)
    assert [mid for mid, n in ids.items() if n > 1] == [killed] and ids[killed] == 2
    twice = [m.message for m in messages if m.message["Message-ID"] == killed]
    assert twice[0]["Subject"] == twice[1]["Subject"] and twice[0]["Date"] == twice[1]["Date"]
    assert [p.get_content() for p in twice[0].iter_parts()] == [p.get_content() for p in twice[1].iter_parts()]
    lane_of = {d["message_id"]: parse_lane(d["channel"]) for d in digests}
    for m in messages:
        channel, name, recipient = lane_of[m.message["Message-ID"]]
        assert (channel, [recipient]) == ("email", m.rcpt_tos)
        assert m.message["Subject"].startswith(f"ceasefire watcher [{name}]: ")
        body = m.message.get_body(("plain",)).get_content()
        assert ("sudan" in body) == (name == "sudan-desk") and ("russia-ukraine" in body) != (name == "sudan-desk")
    got = Counter(m.rcpt_tos[0] for m in messages)
    assert got == {"a@desk.example": 1, "b@desk.example": 2, "shared@desk.example": 2, "c@desk.example": 1}

    listing = cli(["digests", "--config", str(config), "--subscription", "russia-corroborated", "--nl"])
    listed = [json.loads(line) for line in listing.stdout.splitlines()]
    assert sorted((r["channel"], r["subscription"], r["recipient"]) for r in listed) == [
        ("email", "russia-corroborated", "b@desk.example"), ("email", "russia-corroborated", "shared@desk.example")]
    table = cli(["digests", "--config", str(config), "--channel", "email"])
    assert "sudan-desk" in table.stdout


def test_a_subscription_preview_narrowed_past_its_filters_is_empty(tmp_path: Path, demo_db: Path) -> None:
    from watcher.digest.filters import ChangeFilter

    add_sudan_change(demo_db)
    sub = ChangeFilter(conflicts=["sudan"], kinds=["status:accepted"])
    assert sub.where() == {"conflict": ["sudan"], "kind": ["status"]}
    assert sub.where(ChangeFilter(conflicts=["russia-ukraine"])) == {"conflict": [], "kind": ["status"]}
    config = _with_subs(write_config(tmp_path, demo_db), [
        {"name": "sudan-desk", "console": True, "conflicts": ["sudan"], "kinds": ["status:accepted"]}])
    both = cli(["digest", "--dry-run", "--config", str(config), "--subscription", "sudan-desk", "--format", "json"])
    assert "sudan-desk console: dry run over 1 undelivered change " in both.stderr
    assert [c["conflict"] for c in json.loads(both.stdout)["changes"]] == ["sudan"]
    none = cli(["digest", "--dry-run", "--config", str(config), "--subscription", "sudan-desk",
                "--conflict", "russia-ukraine"])
    assert none.exit_code == 0 and "sudan-desk console: dry run over 0 undelivered changes" in none.stderr


def test_the_daemons_subscription_jobs_deliver_alerts_then_the_rest(tmp_path: Path, demo_db: Path) -> None:
    """The jobs the daemon schedules, run as it runs them (a worker thread, its own connection)."""
    import asyncio

    sudan = add_sudan_change(demo_db)
    with smtp_server() as (server, port):
        config = _with_subs(write_config(tmp_path, demo_db, email=email_config(port)), [
            {"name": "desk", "email": ["a@desk.example"], "conflicts": ["sudan", "russia-ukraine"],
             "kinds": ["status", "changed"], "alert_kinds": ["status:accepted"]}])
        store = Store.open(demo_db)
        try:
            jobs = {name: job for name, _, job in scheduled_jobs(load_config(config), store)}
        finally:
            store.close()
        alert = asyncio.run(jobs["subscription-alert-email/desk/a@desk.example"]())
        assert alert.sent and [m.rcpt_tos for m in server.messages] == [["a@desk.example"]]
        assert "sudan" in server.messages[0].message["Subject"]
        scheduled = asyncio.run(jobs["subscription-email/desk/a@desk.example"]())
        assert scheduled.sent and len(server.messages) == 2
        assert asyncio.run(jobs["subscription-email/desk/a@desk.example"]()).created == []
    rows = _rows(demo_db, "select d.kind, x.change_key, c.kind as change_kind from digests d "
                          "join digest_changes x on x.digest_id = d.id join changes c on c.key = x.change_key")
    assert [(r["kind"], r["change_key"]) for r in rows if r["kind"] == "alert"] == [("alert", sudan)]
    later = [r for r in rows if r["kind"] == "digest"]
    assert later and {r["change_kind"] for r in later} == {"status", "changed"} and sudan not in {
        r["change_key"] for r in later}


# --- issue 14's outbox guarantees on subscription lanes -----------------------------------------


def _desk(tmp_path: Path, db: Path, port: int, emails: list[str]) -> Path:
    """One subscription with its own recipients; no [digest] channel, so only its lanes send."""
    config = _with_subs(write_config(tmp_path, db, email=email_config(port)), [
        {"name": "desk", "email": emails, "conflicts": ["russia-ukraine"]}])
    config.write_text(config.read_text().replace('channels = ["console"]', "channels = []"))
    return config


def test_a_lane_being_sent_is_not_sent_again_by_another_job(tmp_path: Path, demo_db: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14.5 on a subscription lane: a job that starts on the lane while another is
    sending its digest (a slow server) skips the claimed digest and makes no new one; the
    subscription's other lane is sent as usual."""
    config_path: Path | None = None
    other: dict = {}

    def second_job_meanwhile() -> None:  # runs while the server holds the first DATA
        if other:
            return
        other["started"] = True
        config = load_config(config_path)
        store = Store.open(demo_db)
        try:
            other["result"] = deliver_lane(config, store, config.subscriptions[0],
                                           Lane("desk", "email", "a@desk.example"), retry_all=False)
        finally:
            store.close()

    with smtp_server() as (server, port):
        server.on_data = second_job_meanwhile
        config_path = _desk(tmp_path, demo_db, port, ["a@desk.example", "b@desk.example"])
        result = cli(["digest", "--config", str(config_path)])
        assert result.exit_code == 0, result.output
        messages = list(server.messages)
    rows = _rows(demo_db, "select * from digests order by id")
    assert [(r["channel"], r["status"], r["attempts"], r["claimed_by"]) for r in rows] == [
        ("email/desk/a@desk.example", "sent", 1, None), ("email/desk/b@desk.example", "sent", 1, None)]
    assert other["result"].busy == [rows[0]["id"]] and not other["result"].sent and not other["result"].created
    assert [m.rcpt_tos for m in messages] == [["a@desk.example"], ["b@desk.example"]]
    from watcher.cli.digest import _report

    capsys.readouterr()
    assert _report("desk email → a@desk.example", other["result"], dry_run=False) is False
    said = capsys.readouterr().err
    assert f"digest #{rows[0]['id']} is being sent by another job or process" in said
    assert "nothing new" not in said


def test_a_refused_recipient_is_retried_alone_on_its_lane(tmp_path: Path, demo_db: Path) -> None:
    """Issue 14.6 on subscriptions: each recipient is its own lane, so a refused one fails only
    its lane (nothing recorded as delivered to it), the others are sent and marked sent, and
    the retry goes to the refused one alone, with the same Message-ID."""
    from aiosmtpd.controller import Controller

    handler = RefusingSmtp({"b@desk.example"})
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = _desk(tmp_path, demo_db, port, ["a@desk.example", "b@desk.example"])
        first = cli(["digest", "--config", str(config)])
        assert first.exit_code == 1 and "recipients refused: b@desk.example" in first.stderr
        rows = _rows(demo_db, "select * from digests order by id")
        assert [(r["channel"], r["status"], r["delivered_to"], r["claimed_by"]) for r in rows] == [
            ("email/desk/a@desk.example", "sent", "[]", None), ("email/desk/b@desk.example", "failed", "[]", None)]
        handler.refuse.clear()  # the mailbox is back
        second = cli(["digest", "--config", str(config)])
        assert second.exit_code == 0, second.output
        again = cli(["digest", "--config", str(config)])
        assert again.exit_code == 0 and again.stderr.count("nothing new to deliver") == 2
    finally:
        controller.stop()
    assert [rcpts for rcpts, _ in handler.messages] == [["a@desk.example"], ["b@desk.example"]]
    assert [mid for _, mid in handler.messages] == [r["message_id"] for r in rows]
    done = _rows(demo_db, "select status, attempts from digests order by id")
    assert [(r["status"], r["attempts"]) for r in done] == [("sent", 1), ("sent", 2)]


def test_a_subscription_job_on_a_deleted_database_stops_the_daemon(tmp_path: Path, demo_db: Path) -> None:
    """Issue 14.3 on subscription jobs: like the [digest] jobs, they check the file is still
    the daemon's and raise (the daemon stops) instead of creating an empty database."""
    import asyncio

    from watcher.store import DatabaseReplaced

    config = load_config(_with_subs(write_config(tmp_path, demo_db), [{"name": "desk", "console": True}]))
    store = Store.open(demo_db)
    try:
        jobs = {name: job for name, _, job in scheduled_jobs(config, store)}
    finally:
        store.close()
    demo_db.rename(tmp_path / "moved.db")
    with pytest.raises(DatabaseReplaced):
        asyncio.run(jobs["subscription-console/desk"]())
    assert not demo_db.exists()
