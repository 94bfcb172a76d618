"""Security: what a hostile feed can and cannot make the watcher do.

- Article links to private, loopback, link-local and metadata addresses are refused unless
  `allow_private`, also after redirects and for names that resolve there (localhost), and
  the refusal is logged with the feed that offered the link.
- Everything from feeds and articles is escaped in HTML output (digest HTML, Atom export).
- The database is created 0600; the SMTP password never reaches logs, the database or
  error messages.
- A hostile feed cannot write outside the database, fetch without limit or run anything.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults import LoopbackServer, closed_port
from projection import poll

from watcher import netguard
from watcher.config import Config, parse_config
from watcher.fetch import Fetcher
from watcher.store import Store

pytestmark = pytest.mark.timeout(60)

SECRET = "hunter2-Sm7p-PA55-do-not-leak"
RELEVANT = ("Russia proposed a 30-day ceasefire in Ukraine on Monday, the Kremlin said. Moscow also "
            "demanded that Ukraine withdraw its troops from Kherson. Kyiv rejected the offer.")


def fetch(url: str, *, allow_private: bool = False, **kw: object):
    async def go():
        async with Fetcher(timeout=3, **kw) as fetcher:
            return await fetcher.get(url, allow_private=allow_private)

    return asyncio.run(go())


# --- the address guard ---------------------------------------------------------------------


PRIVATE_URLS = [  # (url, words the refusal gives; "{port}": the loopback server's)
    ("http://127.0.0.1:{port}/secret", "loopback"),
    ("http://localhost:{port}/secret", "resolves to loopback address 127.0.0.1"),
    ("http://LOCALHOST.:{port}/secret", None),  # refused, or unresolvable where hosts has no "localhost."
    ("http://[::1]:{port}/secret", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/secret", "loopback"),
    ("http://127.1:{port}/secret", "loopback"),
    ("http://2130706433:{port}/secret", "loopback"),  # 127.0.0.1 as one decimal number
    ("http://0x7f000001:{port}/secret", "loopback"),
    ("http://0.0.0.0:{port}/secret", "unspecified"),
    ("http://169.254.169.254/latest/meta-data/iam/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://169.254.10.10/", "link-local"),
    ("http://10.1.2.3/", "private"),
    ("http://192.168.0.1/admin", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://100.64.0.1/", "shared"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "private"),
]


@pytest.mark.parametrize(("url", "words"), PRIVATE_URLS)
def test_private_article_links_are_refused(loopback: LoopbackServer, url: str, words: str | None) -> None:
    loopback.add("/secret", "internal admin page", content_type="text/plain")
    url = url.format(port=loopback.port)
    res = fetch(url)
    if words is None and res.error_kind == "network":
        assert "cannot resolve" in res.error
    else:
        assert res.error_kind == "blocked", (url, res.error)
        assert res.error.startswith("refused:") and (words or "loopback") in res.error, res.error
    assert res.body is None and res.status is None
    assert loopback.hits("/secret") == 0


def test_allowed_when_the_config_says_so(loopback: LoopbackServer) -> None:
    loopback.add("/secret", "internal admin page", content_type="text/plain")
    res = fetch(f"http://localhost:{loopback.port}/secret", allow_private=True)
    assert res.ok and res.body == b"internal admin page"


@pytest.fixture
def public_looking(monkeypatch: pytest.MonkeyPatch):
    """A second loopback server on 127.0.0.2 that the guard is told is a public address,
    standing in for an outside site that redirects inwards."""
    real = netguard.classify_address
    monkeypatch.setattr(netguard, "classify_address", lambda ip: None if ip == "127.0.0.2" else real(ip))
    try:
        server = LoopbackServer(host="127.0.0.2").start()
    except OSError:
        pytest.skip("cannot bind 127.0.0.2")
    yield server
    server.stop()


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret", "http://localhost:{port}/secret",
                                    "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/secret"])
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_into_private_space_are_refused(loopback, public_looking, target, status) -> None:
    loopback.add("/secret", "internal admin page", content_type="text/plain")
    inner = target.format(port=loopback.port)
    public_looking.redirect("/story.html", inner, status=status)
    public_looking.add("/fine.html", "<p>public</p>", content_type="text/html")
    assert fetch(public_looking.url("/fine.html")).ok  # the stand-in really counts as public
    res = fetch(public_looking.url("/story.html"))
    assert res.error_kind == "blocked", res.error
    assert public_looking.hits("/story.html") == 1 and loopback.hits("/secret") == 0


def test_multi_hop_redirect_refused_at_the_private_hop(loopback, public_looking) -> None:
    loopback.add("/secret", "x", content_type="text/plain")
    public_looking.redirect("/a", "/b", status=302)
    public_looking.redirect("/b", f"http://localhost:{loopback.port}/secret", status=302)
    res = fetch(public_looking.url("/a"))
    assert res.error_kind == "blocked" and "localhost resolves to loopback" in res.error
    assert loopback.hits("/secret") == 0


class FakeDNS:
    """Test names answered in turn from a script (a rebinding DNS server with TTL 0); every
    other name goes to the real resolver. `asked` lists the names looked up, as the wire sees
    them (a Unicode name is IDNA-encoded by the socket module, as the real call does)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self._real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        name = host.encode("idna").decode("ascii") if isinstance(host, str) and not host.isascii() else host
        name = name.decode("ascii") if isinstance(name, bytes) else name
        if not name.endswith(".test"):
            return self._real(host, port, *args, **kw)
        self.asked.append(name)
        script = self.answers.get(name)
        if not script:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = script.pop(0) if len(script) > 1 else script[0]
        return self._real(address, port, *args, **kw)


def test_dns_rebinding_between_the_check_and_the_connection_is_refused(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolves to a public address when checked and to loopback a moment later:
    the connection is made only to an address that was checked."""
    real = netguard.classify_address
    monkeypatch.setattr(netguard, "classify_address", lambda ip: None if ip == "127.0.0.2" else real(ip))
    loopback.add("/secret", "internal admin page", content_type="text/plain")
    FakeDNS(monkeypatch, {"rebind.test": ["127.0.0.2", "127.0.0.1"]})
    res = fetch(f"http://rebind.test:{loopback.port}/secret")
    assert res.error_kind == "blocked", (res.error_kind, res.error)
    assert res.error == "refused: rebind.test resolves to loopback address 127.0.0.1"
    assert res.body is None and loopback.hits("/secret") == 0


def test_a_pooled_connection_to_a_private_address_is_not_reused_for_a_guarded_request(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed fetch (private allowed) leaves a connection to 127.0.0.1 in the pool; the name
    then resolves to a public address, so the guard's check passes, but the pooled connection
    still leads to loopback and must not carry an article link's request."""
    real = netguard.classify_address
    monkeypatch.setattr(netguard, "classify_address", lambda ip: None if ip == "127.0.0.2" else real(ip))
    loopback.add("/feed.xml", "<rss/>", content_type="application/rss+xml")
    loopback.add("/secret", "internal admin page", content_type="text/plain")
    FakeDNS(monkeypatch, {"pool.test": ["127.0.0.1", "127.0.0.2"]})

    async def go() -> tuple[Any, Any]:
        async with Fetcher(timeout=3) as fetcher:
            feed = await fetcher.get(f"http://pool.test:{loopback.port}/feed.xml", allow_private=True)
            return feed, await fetcher.get(f"http://pool.test:{loopback.port}/secret", allow_private=False)

    feed, res = asyncio.run(go())
    assert feed.ok
    assert not res.ok and res.body is None, (res.status, res.error)
    assert loopback.hits("/secret") == 0


def test_an_international_name_is_connected_to_as_its_idna_2008_form(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """faß.test is xn--fa-hia.test (IDNA 2008, what httpx puts in the Host header and what
    httpcore connected to); the socket module's own IDNA 2003 codec would make it fass.test,
    another name, possibly another owner's host and certificate."""
    loopback.add("/feed.xml", "<rss/>", content_type="application/rss+xml")
    dns = FakeDNS(monkeypatch, {"xn--fa-hia.test": ["127.0.0.1"], "fass.test": ["127.0.0.3"]})
    url = f"http://faß.test:{loopback.port}/feed.xml"
    assert fetch(url, allow_private=True).ok
    real = netguard.classify_address  # and through the guard, with 127.0.0.1 standing in as public
    monkeypatch.setattr(netguard, "classify_address", lambda ip: None if ip == "127.0.0.1" else real(ip))
    res = fetch(url, allow_private=False)
    assert res.ok, res.error
    assert "fass.test" not in dns.asked and "xn--fa-hia.test" in dns.asked


def make_config(tmp_path: Path, feeds: list[dict], **watcher: object) -> Config:
    settings = {"database": str(tmp_path / "w.db"), "workers": 1, "timeout": "3s"}
    settings.update(watcher)
    return parse_config({"watcher": settings, "feeds": feeds}, base=tmp_path)


def item(title: str, link: str, description: str = RELEVANT, guid: str | None = None) -> str:
    g = f"<guid isPermaLink='false'>{guid}</guid>" if guid else ""
    return (f"<item><title>{title}</title><link>{link}</link>{g}"
            f"<pubDate>Mon, 24 Jun 2024 10:00:00 GMT</pubDate><description>{description}</description></item>")


def rss(items: list[str], title: str = "Hostile Wire") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title><link>http://hostile.example/</link><description>x</description>"
            + "".join(items) + "</channel></rss>")


def test_refusal_is_logged_with_the_feed_that_offered_the_link(loopback, tmp_path, caplog) -> None:
    loopback.add("/inside.html", "<html><body><p>" + RELEVANT * 3 + "</p></body></html>", content_type="text/html")
    loopback.add("/feed.xml", rss([
        item("Kremlin offers truce", f"http://localhost:{loopback.port}/inside.html"),
        item("Metadata", "http://169.254.169.254/latest/meta-data/", guid="m"),
    ]))
    config = make_config(tmp_path, [{"url": loopback.url("/feed.xml"), "name": "Hostile Wire"}])
    with caplog.at_level(logging.INFO, logger="watcher"):
        store, reports = poll(config)
    assert reports[0].outcome == "ok"  # the feed itself is the user's choice and may be local
    assert loopback.hits("/inside.html") == 0
    refusals = [r for r in caplog.records if "refused article link" in r.getMessage()]
    assert len(refusals) == 2 and all(r.levelno == logging.WARNING for r in refusals)
    assert all("offered by feed Hostile Wire" in r.getMessage() for r in refusals)
    assert any("localhost resolves to loopback" in r.getMessage() for r in refusals)
    assert any("cloud metadata" in r.getMessage() for r in refusals)
    notes = [r["note"] for r in store.query("select note from snapshots")]
    assert notes and all("refused" in n for n in notes)  # the feed's own text stood in


# --- escaping in HTML output ---------------------------------------------------------------

# escaped twice: the XML carries "&lt;script&gt;" and the feed's HTML text is "<script>" as text
HOSTILE = "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;&amp;lt;img src=x onerror=alert(2)&amp;gt;"


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A database filled from a feed whose titles, text and links carry markup."""
    with LoopbackServer() as loopback:
        yield _hostile_db(loopback, tmp_path_factory.mktemp("hostile"))


def _hostile_db(loopback: LoopbackServer, tmp_path: Path) -> tuple[Path, Path]:
    desc = RELEVANT.replace("Kremlin said.", f"Kremlin said {HOSTILE}.") + " " + HOSTILE
    loopback.add("/feed.xml", rss([
        item(f"{HOSTILE} Kremlin offers truce", loopback.url("/a.html?x=%22%3E%3Cscript%3E"), desc),
        item(f"Second {HOSTILE}", loopback.url("/b.html") + "#&quot;onmouseover=alert(3)", desc.replace("30", "45")),
    ], title=f"Wire {HOSTILE}"))
    config_path = tmp_path / "config.toml"
    config_path.write_text(f"""
[watcher]
database = "w.db"
workers = 1
fetch_articles = false
allow_private = true

[digest]
baseline_summary = false

[[feeds]]
url = "{loopback.url('/feed.xml')}"
name = "Hostile <b>Wire</b>"
""")
    proc = subprocess.run([sys.executable, "-m", "watcher", "poll", "--all", "--config", str(config_path)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    db = tmp_path / "w.db"
    store = Store.open(db)
    assert store.query("select count(*) as n from changes")[0]["n"] > 0
    assert any("<script>" in (r["title"] or "") for r in store.query("select title from articles"))
    store.close()
    return config_path, db


def test_digest_html_escapes_everything_from_feeds(hostile_db) -> None:
    config_path, _ = hostile_db
    proc = subprocess.run([sys.executable, "-m", "watcher", "digest", "--channel", "console", "--format", "html",
                           "--dry-run", "--since", "2000-01-01", "--config", str(config_path)],
                          capture_output=True, text=True, timeout=60, cwd=config_path.parent)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "&lt;script&gt;" in out  # the hostile text is there, as text
    lowered = out.lower()
    assert "<script" not in lowered and "<img" not in lowered and "onerror=alert" not in lowered.replace(
        "onerror=alert(2)&gt;", "")
    assert 'href="javascript:' not in lowered and "onmouseover=alert" not in lowered.replace("&quot;onmouseover", "")


def test_outbox_html_of_an_email_digest_is_escaped(hostile_db) -> None:
    _, db = hostile_db
    from watcher.digest.outbox import Selection, collect
    from watcher.digest.render import render_html

    store = Store.open(db)
    digest = collect(store, "email", Selection(), "2030-01-01 00:00:00")
    page = render_html(digest, "subject <script>")
    store.close()
    assert "<script" not in page.lower() and "&lt;script&gt;" in page


def test_atom_export_escapes_everything_from_feeds(hostile_db) -> None:
    config_path, _ = hostile_db
    proc = subprocess.run([sys.executable, "-m", "watcher", "export", "atom", "--config", str(config_path)],
                          capture_output=True, timeout=60, cwd=config_path.parent)
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(proc.stdout)  # well-formed XML
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert tags <= {"feed", "id", "title", "updated", "generator", "link", "entry", "author", "name",
                    "summary", "content", "category", "published", "subtitle"}, tags
    assert b"<script" not in proc.stdout and b"&lt;script&gt;" in proc.stdout
    for el in root.iter():
        assert el.get("type") in (None, "text"), (el.tag, el.get("type"))  # never html/xhtml
        href = el.get("href")
        assert href is None or href.startswith(("http://", "https://", "tag:")), href


# --- files, secrets ------------------------------------------------------------------------


def test_database_and_its_wal_are_created_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = Store.open(tmp_path / "sub" / "w.db")
        with store.transaction():
            store.db.execute("insert into feeds (config_url, url, interval_seconds, created_at) "
                             "values ('u', 'u', 60, '2024-01-01 00:00:00')")
        files = sorted(tmp_path.joinpath("sub").iterdir())
        assert {p.name for p in files} >= {"w.db", "w.db-wal", "w.db-shm"}
        for p in files:
            assert p.stat().st_mode & 0o777 == 0o600, (p.name, oct(p.stat().st_mode))
        store.close()
    finally:
        os.umask(old)


def test_cli_creates_the_database_0600(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.add("/feed.xml", rss([]))
    (tmp_path / "config.toml").write_text(f'[watcher]\ndatabase = "w.db"\nworkers = 1\n\n'
                                          f'[[feeds]]\nurl = "{loopback.url("/feed.xml")}"\n')
    proc = subprocess.run([sys.executable, "-m", "watcher", "poll", "--all", "--config", "config.toml"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          preexec_fn=lambda: os.umask(0o002))
    assert proc.returncode == 0, proc.stderr
    for p in tmp_path.glob("w.db*"):
        assert p.stat().st_mode & 0o777 == 0o600, (p.name, oct(p.stat().st_mode))


def secret_forms() -> list[bytes]:
    plain = SECRET.encode()
    return [plain, base64.b64encode(b"\0user\0" + plain), base64.b64encode(plain), plain.hex().encode()]


def write_email_config(tmp_path: Path, port: int) -> Path:
    from watcher.demo import build_demo_db

    db = tmp_path / "w.db"
    if not db.exists():
        build_demo_db(db)
    path = tmp_path / "config.toml"
    path.write_text(f"""
[watcher]
database = "w.db"

[digest]
channels = ["email"]

[email]
host = "127.0.0.1"
port = {port}
security = "none"
username = "user"
password_env = "WATCHER_TEST_SMTP_PASSWORD"
from = "watcher@example.org"
to = ["desk@example.org"]
timeout = "5s"
""")
    return path


def assert_no_secret(*blobs: bytes) -> None:
    for blob in blobs:
        for form in secret_forms():
            assert form not in blob, form


def db_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("w.db*"))


@pytest.mark.parametrize("server_says", ["reject", "accept", "down"])
def test_smtp_password_never_reaches_logs_db_or_errors(tmp_path: Path, server_says: str) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    seen: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append(auth_data.password)
        return AuthResult(success=server_says == "accept")

    port = closed_port()
    controller = None
    if server_says != "down":
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                                auth_require_tls=False)
        controller.start()
    try:
        config = write_email_config(tmp_path, port)
        env = {**os.environ, "WATCHER_TEST_SMTP_PASSWORD": SECRET}
        runs = [subprocess.run([sys.executable, "-m", "watcher", *args, "--config", str(config)],
                               capture_output=True, timeout=60, cwd=tmp_path, env=env)
                for args in (["digest", "--channel", "email"], ["digests", "--json"])]
    finally:
        if controller:
            controller.stop()
    if server_says != "down":
        assert seen and seen[0] == SECRET.encode()  # the password really was used
    store = Store.open(tmp_path / "w.db")
    rows = store.query("select status, error from digests")
    store.close()
    if server_says == "accept":
        assert runs[0].returncode == 0 and rows[0]["status"] == "sent"
    else:
        assert runs[0].returncode != 0 and rows[0]["status"] == "failed" and rows[0]["error"]
    assert_no_secret(db_bytes(tmp_path), *(r.stdout + r.stderr for r in runs))


# --- what a hostile feed cannot do ---------------------------------------------------------


def test_hostile_links_and_titles_write_nothing_and_run_nothing(loopback, tmp_path) -> None:
    canary = tmp_path / "pwned"
    outside = tmp_path / "outside"
    outside.mkdir()
    evil = [
        item("Kremlin offers truce $(touch " + str(canary) + ")", "file:///etc/passwd"),
        item("`touch " + str(canary) + "`; ceasefire", f"../../../../{outside}/x.db", guid="g1"),
        item("Truce; rm -rf /", f"{loopback.url('/')}../../../../etc/passwd", guid="g2"),
        item("Truce | touch pwned", "ftp://127.0.0.1/x", guid="g3"),
        item("Truce", "data:text/html,<script>alert(1)</script>", guid="g4"),
        item("Truce", "gopher://127.0.0.1:6379/_FLUSHALL", guid="g5"),
        item("Truce", f"http://127.0.0.1:{closed_port()}/%2e%2e/%2e%2e/w.db", guid="g6"),
    ]
    loopback.add("/feed.xml", rss(evil, title="../../../tmp/feed $(id)"))
    work = tmp_path / "work"
    work.mkdir()
    config = make_config(work, [{"url": loopback.url("/feed.xml"), "name": "Evil ../ $(id)"}], allow_private=True)
    store, reports = poll(config)
    assert reports[0].outcome == "ok", reports[0].line()
    store.close()
    assert not canary.exists()
    assert {p.name for p in work.iterdir()} <= {"w.db", "w.db-shm", "w.db-wal"}
    assert list(outside.iterdir()) == []
    store = Store.open(config.watcher.database)
    urls = [r["url"] for r in store.query("select url from entries")]
    assert all(u.startswith("http://") for u in urls), urls  # file:, ftp:, data:, gopher: never stored
    # a relative link is resolved against the feed's site, never the local file system
    assert any(u.startswith("http://hostile.example/") for u in urls), urls
    for req in loopback.requests:
        assert ".." not in req.path.split("?")[0].split("/"), req.path


def test_one_feed_cannot_make_unbounded_requests(loopback: LoopbackServer, tmp_path: Path) -> None:
    """Per-host concurrency stays at per_host, every request is bounded by max_bytes and the
    timeout. (How many article links one poll follows is not capped: see the issue note.)"""
    for i in range(40):
        loopback.fault(f"/big/{i}.html", "huge", size=50_000_000, hold=0.05)
    loopback.add("/feed.xml", rss([item(f"Kremlin offers truce {i}", loopback.url(f"/big/{i}.html"),
                                        RELEVANT.replace("30", str(i + 1)), guid=f"g{i}") for i in range(40)]))
    config = make_config(tmp_path, [{"url": loopback.url("/feed.xml"), "name": "Greedy"}], allow_private=True,
                         max_bytes=200_000, per_host=2)
    loopback.reset_stats()
    store, reports = poll(config)
    assert reports[0].outcome == "ok"
    # requests held before their body are open at the client, so their count is exact: the
    # server's own in-flight count also holds handlers still unwinding after the client left
    # (that made this test flaky: 4 seen where the client never had more than 2 open)
    assert 1 <= loopback.max_waiting <= 2
    notes = [r["note"] for r in store.query("select note from snapshots")]
    assert len(notes) == 40 and all("over 200000 bytes" in n for n in notes)


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b]8;;https://evil.example/\x1b\\bank\x1b]8;;\x1b\\\x9b31m\x07"
# bidirectional overrides and isolates reorder what a terminal shows ("Trojan Source")
BIDI = "\u202eexe.\u202c\u2067x\u2069"
FORBIDDEN = "\x1b\x9b\x07\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_terminal_escapes_from_a_feed_or_server_reach_no_output(loopback: LoopbackServer, tmp_path: Path) -> None:
    """Issue 14.8: ESC/CSI/OSC and C1 controls in a feed title, an entry title and an HTTP
    reason phrase are removed before anything is stored, printed or logged."""
    hostile_feed = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Evil{ESCAPES}{BIDI} News</title><link>{loopback.base_url}/</link><description>x</description>"
        f"<item><title>Truce{ESCAPES}{BIDI} talks</title><link>{loopback.base_url}/world/t.html</link>"
        f"<description>{RELEVANT}</description></item></channel></rss>"
    ).encode()
    loopback.add("/evil.xml", hostile_feed)
    loopback.fault("/reason.xml", "raw", body=f"HTTP/1.1 500 Oops{ESCAPES}\r\nContent-Length: 0\r\n\r\n".encode("latin-1"))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[watcher]\ndatabase = "w.db"\nallow_private = true\nworkers = 1\nfetch_articles = false\n\n'
        f'[[feeds]]\nurl = "{loopback.url("/evil.xml")}"\n\n[[feeds]]\nurl = "{loopback.url("/reason.xml")}"\n'
        '\n[digest]\nchannels = ["console"]\n'
    )

    def watcher(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "watcher", *args, "--config", str(config)],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path,
                              env={**os.environ, "COLUMNS": "200"})

    outputs = [watcher("poll")]
    store = Store.open(tmp_path / "w.db")
    [article] = store.query("select * from articles")
    titles = [article["title"], *(f["title"] or "" for f in store.feeds())]
    assert article["title"].startswith("Truce") and article["title"].endswith(" talks")
    assert not any(c in t for t in titles for c in FORBIDDEN)  # (a link's text, "bank", may stay)
    assert "Oops" in store.query("select last_error from feeds where last_error is not null")[0]["last_error"]
    store.close()
    outputs += [watcher("feeds"), watcher("search", "Kherson"), watcher("show", str(article["id"])),
                watcher("digest", "--dry-run", "--format", "markdown"), watcher("digest", "--dry-run"),
                watcher("feeds", "--csv")]
    for out in outputs:
        assert out.returncode == 0, out.stderr
        for stream in (out.stdout, out.stderr):
            assert not any(c in stream for c in FORBIDDEN), repr(stream)
    assert "Oops" in outputs[0].stderr and "Kherson" in outputs[2].stdout
