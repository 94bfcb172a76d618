# ruff: noqa: F811  (pytest fixtures imported from test_digest_support are redefined as arguments)
"""Email digests against a real SMTP server on loopback (aiosmtpd), and the outbox's promises."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_digest_support import (  # noqa: F401
    HOSTILE_TITLE,
    RefusingSmtp,
    add_hostile_change,
    cli,
    demo_db,
    email_config,
    free_port,
    smtp_server,
    tls_contexts,
    write_config,
)

from watcher.config import load_config
from watcher.store import Store, utcnow

pytestmark = pytest.mark.timeout(30)

PASSWORD = "correct-horse-battery-staple"


def _parts(msg) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in msg.iter_parts()}


def _digests(db: Path) -> list[dict]:
    store = Store.open(db)
    rows = store.query("select * from digests order by id")
    store.close()
    return rows


def test_email_digest_sent_once_with_both_parts(demo_db: Path, tmp_path: Path) -> None:
    add_hostile_change(demo_db)
    with smtp_server() as (server, port):
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port))
        result = cli(["digest", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 1
        got = server.messages[0]
        assert got.mail_from == "watcher@news.example"
        assert got.rcpt_tos == ["desk@news.example", "editor@news.example"]
        msg = got.message
        assert msg.get_content_type() == "multipart/alternative"
        assert msg["To"] == "desk@news.example, editor@news.example"
        assert msg["Subject"].startswith("ceasefire watcher: 11 term changes, 5 terms on record · russia-ukraine:")
        assert "troop_withdrawal widened" in msg["Subject"]
        parts = _parts(msg)
        assert set(parts) == {"text/plain", "text/html"}
        assert "5 terms on record" in parts["text/plain"] and HOSTILE_TITLE in parts["text/plain"]
        html = parts["text/html"]
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="javascript' not in html and '<a href="http://127.0.0.1' in html
        row = _digests(demo_db)[0]
        assert row["status"] == "sent" and row["attempts"] == 1
        assert msg["Message-ID"] == row["message_id"] and row["message_id"].endswith("@news.example>")

        again = cli(["digest", "--config", str(config)])
        assert again.exit_code == 0 and "nothing new" in again.stderr
        assert len(server.messages) == 1


def test_server_down_then_delivered_by_the_next_run(demo_db: Path, tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port))
    down = cli(["digest", "--config", str(config)])
    assert down.exit_code == 1 and "not sent" in down.stderr
    [row] = _digests(demo_db)
    assert row["status"] == "failed" and row["attempts"] == 1 and "ConnectionRefused" in row["error"]
    assert row["next_attempt_at"] is not None
    store = Store.open(demo_db)
    assert not store.delivered_change_keys("email")
    store.close()
    listing = cli(["digests", "--config", str(config), "--json"])
    assert '"status": "failed"' in listing.stdout
    assert "WARNING digest #1 on email not sent (attempt 1)" in down.stderr  # the log line
    add_hostile_change(demo_db)  # arrives while the digest waits

    with smtp_server(port) as (server, _):
        up = cli(["digest", "--config", str(config)])
        assert up.exit_code == 0, up.output
        # the failed digest first, same Message-ID; then a new one with what came later
        assert [m.message["Message-ID"] for m in server.messages][0] == row["message_id"]
        assert len(server.messages) == 2
        assert HOSTILE_TITLE not in _parts(server.messages[0].message)["text/plain"]
        assert HOSTILE_TITLE in _parts(server.messages[1].message)["text/plain"]
    rows = _digests(demo_db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2), ("sent", 1)]
    store = Store.open(demo_db)
    assert len(store.delivered_change_keys("email")) == store.query("select count(*) as n from changes")[0]["n"]
    store.close()


def test_schedule_respects_backoff_and_gives_up(demo_db: Path, tmp_path: Path) -> None:
    from watcher.digest.service import deliver

    port = free_port()
    config = load_config(write_config(tmp_path, demo_db, channels=["email"], email=email_config(port),
                                      digest={"retry_max": 2}))
    store = Store.open(demo_db)
    now = utcnow()
    first = deliver(config, store, "email", retry_all=False, now=now)
    assert first.failed and first.created
    soon = deliver(config, store, "email", retry_all=False, now=now + timedelta(seconds=30))
    assert soon.waiting == first.created and not soon.failed and not soon.created  # backoff: 60 s
    later = deliver(config, store, "email", retry_all=False, now=now + timedelta(seconds=61))
    assert later.failed and not later.created
    row = store.digest(first.created[0])
    assert row["attempts"] == 2 and row["status"] == "failed" and row["next_attempt_at"] is None  # gave up
    with smtp_server(port) as (server, _):
        skipped = deliver(config, store, "email", retry_all=False, now=now + timedelta(days=1))
        assert skipped.given_up == first.created and not server.messages
        manual = deliver(config, store, "email", now=now + timedelta(days=1))  # `watcher digest`
        assert manual.sent == first.created and len(server.messages) == 1
    store.close()


def test_starttls_and_login_with_password_from_env(demo_db: Path, tmp_path: Path, monkeypatch) -> None:
    from aiosmtpd.smtp import AuthResult

    server_ctx, ca_file = tls_contexts(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == b"watcher" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    with smtp_server(tls_context=server_ctx, require_starttls=True, authenticator=authenticator,
                     auth_required=True) as (server, port):
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(
            port, security="starttls", username="watcher", password_env="TEST_SMTP_PASSWORD"))
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong-" + PASSWORD)
        refused = cli(["digest", "--config", str(config)])  # stderr holds the log too
        assert refused.exit_code == 1 and "SMTPAuthenticationError" in refused.stderr
        assert PASSWORD not in refused.output
        monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
        ok = cli(["digest", "--config", str(config)])
        assert ok.exit_code == 0, ok.output
        assert len(server.messages) == 1 and logins[-1] == (b"watcher", PASSWORD.encode())
    rows = _digests(demo_db)
    assert [r["status"] for r in rows] == ["sent"]
    assert PASSWORD.encode() not in demo_db.read_bytes()


def test_implicit_tls(demo_db: Path, tmp_path: Path, monkeypatch) -> None:
    server_ctx, ca_file = tls_contexts(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with smtp_server(ssl_context=server_ctx) as (server, port):
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port, security="tls"))
        result = cli(["digest", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 1


def test_untrusted_certificate_is_refused(demo_db: Path, tmp_path: Path) -> None:
    server_ctx, _ = tls_contexts(tmp_path)  # SSL_CERT_FILE not set: the CA is unknown
    with smtp_server(tls_context=server_ctx, require_starttls=True) as (server, port):
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port, security="starttls"))
        result = cli(["digest", "--config", str(config)])
        assert result.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in result.stderr
        assert not server.messages


def test_crash_after_the_server_accepted_resends_the_same_message(demo_db: Path, tmp_path: Path) -> None:
    """SIGKILL the sending process when the server has the message, before it is marked."""
    proc: dict = {}

    def kill() -> None:
        os.kill(proc["p"].pid, signal.SIGKILL)
        proc["p"].wait(5)

    with smtp_server() as (server, port):
        server.on_data = kill
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port))
        code = ("import click, sys; from watcher.cli.digest import COMMANDS; "
                "click.Group('watcher', commands={c.name: c for c in COMMANDS})(sys.argv[1:])")
        proc["p"] = subprocess.Popen([sys.executable, "-c", code, "digest", "--config", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert proc["p"].wait(15) == -signal.SIGKILL
        assert len(server.messages) == 1
        [row] = _digests(demo_db)
        assert row["status"] == "pending" and row["attempts"] == 1  # the server has it; we don't know

        server.on_data = None
        result = cli(["digest", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 2
        first, second = (m.message for m in server.messages)
        assert first["Message-ID"] == second["Message-ID"] == row["message_id"]
        assert first["Subject"] == second["Subject"] and _parts(first) == _parts(second)
    rows = _digests(demo_db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)]  # no second, different digest


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_apprise_channel_through_a_json_webhook(demo_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("apprise")
    import json

    _Hook.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"json://127.0.0.1:{httpd.server_address[1]}/hook"
        config = write_config(tmp_path, demo_db, channels=["apprise"], apprise={"urls": [url]})
        result = cli(["digest", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert len(_Hook.received) == 1
        payload = json.loads(_Hook.received[0])
        assert payload["title"].startswith("ceasefire watcher: 10 term changes")
        assert "## russia-ukraine" in payload["message"]
        assert cli(["digest", "--config", str(config)]).exit_code == 0
        assert len(_Hook.received) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
    # the service is gone: the digest waits in the outbox
    add_hostile_change(demo_db)
    failed = cli(["digest", "--config", str(config)])
    assert failed.exit_code == 1
    assert [r["status"] for r in _digests(demo_db)] == ["sent", "failed"]


def test_a_digest_being_sent_is_not_sent_again_by_another_job(demo_db: Path, tmp_path: Path) -> None:
    """Issue 14.5: a job that starts while another is sending the same digest (a slow server)
    used to send it again. The sender holds a claim; the other job skips it."""
    from watcher.digest.service import deliver

    config_path = None
    other: dict = {}

    def second_job_meanwhile() -> None:  # runs while the server holds the first DATA
        store = Store.open(demo_db)
        try:
            other["result"] = deliver(load_config(config_path), store, "email", retry_all=False)
        finally:
            store.close()

    with smtp_server() as (server, port):
        server.on_data = second_job_meanwhile
        config_path = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port))
        result = cli(["digest", "--config", str(config_path)])
        assert result.exit_code == 0, result.output
    assert len(server.messages) == 1
    [row] = _digests(demo_db)
    assert other["result"].busy == [row["id"]] and not other["result"].sent and not other["result"].failed
    assert (row["status"], row["attempts"], row["claimed_by"]) == ("sent", 1, None)


def test_a_refused_recipient_does_not_make_the_others_receive_it_again(demo_db: Path, tmp_path: Path) -> None:
    """Issue 14.6: the server accepted the digest for desk@ and refused editor@; the retry
    goes to editor@ only, and desk@ receives it once."""
    from aiosmtpd.controller import Controller

    handler = RefusingSmtp({"editor@news.example"})
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port))
        first = cli(["digest", "--config", str(config)])
        assert first.exit_code == 1 and "recipients refused: editor@news.example" in first.stderr
        [row] = _digests(demo_db)
        assert row["status"] == "failed" and row["delivered_to"] == '["desk@news.example"]'
        handler.refuse.clear()  # the mailbox is back
        second = cli(["digest", "--config", str(config)])
        assert second.exit_code == 0, second.output
    finally:
        controller.stop()
    assert [rcpts for rcpts, _ in handler.messages] == [["desk@news.example"], ["editor@news.example"]]
    assert handler.messages[0][1] == handler.messages[1][1] == row["message_id"]
    assert [r["status"] for r in _digests(demo_db)] == ["sent"]


def test_a_timeout_after_the_server_stored_it_resends_the_same_message_id(demo_db: Path, tmp_path: Path) -> None:
    """Issue 14.7: the client gives up (email.timeout) while the server is still storing the
    message; the retry sends it again, with the same Message-ID, so clients fold the two."""
    release = threading.Event()
    with smtp_server() as (server, port):
        server.on_data = lambda: release.wait(30)  # the 250 comes only after the client gave up
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port, timeout="1s"))
        first = cli(["digest", "--config", str(config)])
        release.set()
        assert first.exit_code == 1 and "timed out" in first.stderr
        server.on_data = None
        second = cli(["digest", "--config", str(config)])
        assert second.exit_code == 0, second.output
    assert len(server.messages) == 2
    assert server.messages[0].message["Message-ID"] == server.messages[1].message["Message-ID"]
    [row] = _digests(demo_db)
    assert (row["status"], row["attempts"]) == ("sent", 2)
