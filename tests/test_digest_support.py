"""Shared helpers for the digest tests: a real demo database, configs, a loopback SMTP server."""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from watcher.cli.digest import COMMANDS
from watcher.store import Store

HOSTILE_TITLE = "<script>alert(1)</script>"


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the session's demo database (conftest) for one test."""
    path = tmp_path / "watcher.db"
    shutil.copy(demo_template, path)
    return path


def write_config(tmp_path: Path, db: Path, *, channels: list[str] | None = None, email: dict | None = None,
                 digest: dict | None = None, apprise: dict | None = None) -> Path:
    """A config.toml for the test; ``email`` keys go into [email] verbatim."""
    lines = ["[watcher]", f'database = "{db}"', "", "[digest]",
             f"channels = {_toml_list(channels or ['console'])}"]
    for key, value in (digest or {}).items():
        lines.append(f"{key} = {_toml(value)}")
    for table, values in (("email", email), ("apprise", apprise)):
        if values is not None:
            lines += ["", f"[{table}]"] + [f"{k} = {_toml(v)}" for k, v in values.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return _toml_list(value)
    if isinstance(value, int | float):
        return str(value)
    return f'"{value}"'


def _toml_list(values: list) -> str:
    return "[" + ", ".join(_toml(v) for v in values) + "]"


def cli(args: list[str]) -> click.testing.Result:
    """Run a digest command through click, as `watcher <args>` would."""
    group = click.Group("watcher", commands={c.name: c for c in COMMANDS})
    return CliRunner().invoke(group, args, catch_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wire_host() -> str:
    """Where the demo puts its second outlet (Demo Wire): 127.0.0.2, so it counts as another
    source, or 127.0.0.1 on systems where only that loopback address is configured."""
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
    except OSError:
        return "127.0.0.1"
    return "127.0.0.2"


def add_revised_change(db: Path, category: str = "negotiations") -> str:
    """A second `revised` change on the snapshot of the demo's one revised change (the edit of
    seed 004), as when an edit changes two terms at once; returns its key."""
    store = Store.open(db)
    with store.transaction():
        [row] = store.query("select * from changes where kind = 'revised'")
        key = f"{row['snapshot_id']}:{row['conflict']}:{row['proposer']}:{category}:revised"
        store.db.execute(
            "insert into changes (detected_at, conflict, proposer, category, kind, summary, before, after, "
            "quote, source, url, article_id, snapshot_id, baseline, key) "
            "values (?,?,?,?,'revised',?,?,?,?,?,?,?,?,0,?)",
            [row["detected_at"], row["conflict"], row["proposer"], category,
             f"{row['proposer']}: {category} revised in the article: places +kharkiv", row["before"],
             row["after"], row["quote"], row["source"], row["url"], row["article_id"], row["snapshot_id"], key],
        )
    store.close()
    return key


def add_hostile_change(db: Path, detected_at: str = "2030-01-01 00:00:00") -> str:
    """An article whose title, quote and URL try to inject markup; returns its change key."""
    store = Store.open(db)
    with store.transaction():
        cur = store.db.execute(
            "insert into articles (url, title, source, first_seen_at) values (?,?,?,?)",
            ["javascript:alert(2)", HOSTILE_TITLE, "evil.example", detected_at],
        )
        article_id = cur.lastrowid
        cur = store.db.execute(
            "insert into snapshots (article_id, version, fetched_at, content_hash, title, text, text_source) "
            "values (?,1,?,?,?,?, 'page')",
            [article_id, detected_at, "h-evil", HOSTILE_TITLE, "text"],
        )
        key = f"{cur.lastrowid}:russia-ukraine:ukraine:neutrality:status"
        store.db.execute(
            "insert into changes (detected_at, conflict, proposer, category, kind, summary, before, after, "
            "quote, source, url, article_id, snapshot_id, baseline, key) values (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
            [detected_at, "russia-ukraine", "ukraine", "neutrality", "status",
             "ukraine: neutrality proposed → accepted",
             '{"stance": "proposed", "values": {}, "responses": [], "precondition": false}',
             '{"stance": "accepted", "values": {}, "responses": [], "precondition": false}',
             '"<img src=x onerror=alert(3)>" & more', "evil.example", "javascript:alert(2)", article_id,
             cur.lastrowid, key],
        )
    store.close()
    return key


# --- a loopback SMTP server ------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every message; ``on_data`` runs before the 250 reply."""

    messages: list[Received] = field(default_factory=list)
    on_data: Callable[[], None] | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        if self.on_data is not None:
            self.on_data()
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(port: int | None = None, **kwargs) -> Iterator[tuple[Recorder, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd); kwargs go to aiosmtpd's SMTP."""
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    port = port or free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for 127.0.0.1 from a throwaway CA, and the CA's
    PEM file (for SSL_CERT_FILE, which ssl.create_default_context trusts)."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(server)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server, ca_file


def email_config(port: int, **extra) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "none", "from": "watcher@news.example",
            "to": ["desk@news.example", "editor@news.example"], "timeout": "5s", **extra}


def test_support_demo_db_has_changes(demo_db: Path) -> None:
    store = Store.open(demo_db)
    kinds = {r["kind"] for r in store.query("select kind from changes")}
    baseline = store.query("select count(*) as n from changes where baseline = 1")[0]["n"]
    store.close()
    assert {"new", "changed", "status", "revised"} <= kinds
    assert baseline >= 1


class RefusingSmtp:
    """aiosmtpd handler: refuses the listed recipients at RCPT, accepts the rest."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.messages: list[tuple[list[str], str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        from email import message_from_bytes, policy

        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg["Message-ID"]))
        return "250 OK"
