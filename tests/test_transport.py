"""watcher.transport under the Fetcher, against real loopback servers: what the transport
now owns (framing, keep-alive, a stale pooled connection, TLS, closing) that httpcore did."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from faults import LoopbackServer

from watcher.fetch import Fetcher
from watcher.models import FetchResult
from watcher.transport import H11Transport

pytestmark = pytest.mark.timeout(15)

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fetch_all(urls: list[str], **options: Any) -> list[FetchResult]:
    """GET each URL in turn through one Fetcher (one pool)."""

    async def go() -> list[FetchResult]:
        async with Fetcher(**options) as fetcher:
            return [await fetcher.get(u) for u in urls]

    return run(go())


def test_chunked_body(loopback: LoopbackServer) -> None:
    raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\n<rss>\r\n3\r\nabc\r\n6\r\n</rss>\r\n0\r\n\r\n")
    [result] = fetch_all([loopback.fault("/c", "raw", body=raw)])
    assert result.ok and result.body == b"<rss>abc</rss>"


def test_close_delimited_body(loopback: LoopbackServer) -> None:
    """No length, no chunking: the body is whatever comes before the server closes."""
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n" + RSS
    [result] = fetch_all([loopback.fault("/c", "raw", body=raw)])
    assert result.ok and result.body == RSS


def test_informational_answer_is_skipped(loopback: LoopbackServer) -> None:
    raw = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n<rss>"
    [result] = fetch_all([loopback.fault("/c", "raw", body=raw)])
    assert result.ok and result.body == b"<rss>"


def test_short_body_is_a_network_error_and_the_connection_is_not_reused(loopback: LoopbackServer) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + RSS
    url = loopback.add("/feed.xml", RSS)
    short, after = fetch_all([loopback.fault("/short", "raw", body=raw), url])
    assert short.error_kind == "network" and "connection closed early" in (short.error or "")
    assert "peer closed connection without sending complete message body" in (short.error or "")
    assert after.ok and after.body == RSS


def test_oversized_head_is_a_network_error(loopback: LoopbackServer) -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-Junk: " + b"j" * 200_000 + b"\r\nContent-Length: 2\r\n\r\nok"
    [result] = fetch_all([loopback.fault("/h", "raw", body=raw)])
    assert result.error_kind == "network" and result.status is None


def test_keepalive_expiry_and_bound(loopback: LoopbackServer) -> None:
    """Idle connections beyond `max_keepalive` are closed; expired ones are not reused."""
    url = loopback.add("/feed.xml", RSS, delay=0.05)

    async def go(transport: H11Transport, rounds: int, bound: int) -> None:
        import httpx

        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(rounds):
                responses = await asyncio.gather(*(client.get(url) for _ in range(4)))
                assert [r.status_code for r in responses] == [200] * 4
                assert transport._idle_count <= bound  # after every round

    loopback.reset_stats()
    before = loopback.connections
    run(go(H11Transport(max_keepalive=2), 2, bound=2))
    assert loopback.connections - before == 4 + 2  # 2 kept from round 1, 2 more opened in round 2
    before = loopback.connections
    run(go(H11Transport(keepalive_expiry=0.0), 2, bound=4))
    assert loopback.connections - before == 8  # nothing reused


class _ClosesIdleServer:
    """Answers the first request on a connection, then closes the connection when the next
    request on it arrives, without an answer: what a server that dropped an idle keep-alive
    connection looks like to a client that had not noticed yet."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.answered = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
            self.answered += 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(RSS), RSS))
            conn.recv(4096)  # the next request: dropped unanswered, the connection closed

    def close(self) -> None:
        self.sock.close()


def test_request_on_a_dropped_idle_connection_is_sent_again_on_a_new_one() -> None:
    server = _ClosesIdleServer()
    url = f"http://127.0.0.1:{server.port}/feed.xml"

    async def go() -> list[FetchResult]:
        async with Fetcher() as fetcher:
            first = await fetcher.get(url)
            # the pooled connection still looks alive: the server closes it only on the next request
            return [first, await fetcher.get(url), await fetcher.get(url)]

    try:
        results = run(go())
    finally:
        server.close()
    assert [r.status for r in results] == [200, 200, 200], [r.error for r in results]
    assert all(r.body == RSS for r in results)
    assert server.accepted == 3 and server.answered == 3


def test_a_fresh_connection_closed_without_answer_is_not_retried(loopback: LoopbackServer) -> None:
    [result] = fetch_all([loopback.fault("/x", "close")])
    assert result.error_kind == "network"
    assert result.error == "connection closed early: Server disconnected without sending a response."
    assert loopback.hits("/x") == 1


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A loopback server speaking TLS with a trustme certificate for 127.0.0.1; the CA is
    trusted through SSL_CERT_FILE (as httpx's own default context reads it)."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    server = LoopbackServer().start()
    server._httpd.socket = ctx.wrap_socket(server._httpd.socket, server_side=True)
    try:
        yield server, ca_file
    finally:
        server.stop()


def test_tls_with_a_trusted_ca_reuses_its_connection(tls_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server, ca_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    url = server.add("/feed.xml", RSS, gzip=True).replace("http://", "https://", 1)
    results = fetch_all([url, url])
    assert [r.status for r in results] == [200, 200] and results[1].body == RSS
    assert server.connections == 1


def test_tls_with_an_unknown_ca_is_refused(tls_server: Any) -> None:
    server, _ = tls_server
    url = server.add("/feed.xml", RSS).replace("http://", "https://", 1)
    [result] = fetch_all([url])
    assert result.error_kind == "network"
    assert (result.error or "").startswith("TLS certificate rejected for 127.0.0.1")


def test_bytes_past_the_declared_length_are_not_read_as_the_next_answer(loopback: LoopbackServer) -> None:
    """A server that sends more than its Content-Length: that connection is not reused."""
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n<rss>HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\njunk"
    url = loopback.add("/feed.xml", RSS)
    extra, after = fetch_all([loopback.fault("/x", "raw", body=raw), url])
    assert extra.ok and extra.body == b"<rss>"
    assert after.ok and after.body == RSS


def test_proxies_from_the_environment_are_still_used(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY (and NO_PROXY) as httpx honoured them before the transport came: httpx reads
    the environment only when given no transport of its own, so the Fetcher must mount them."""
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0])
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(RSS), RSS))
        await writer.drain()
        writer.close()

    direct = loopback.add("/feed.xml", b"<rss>direct</rss>")

    async def go() -> list[FetchResult]:
        server = await asyncio.start_server(proxy, "127.0.0.1", 0)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with server, Fetcher(timeout=5) as fetcher:
            return [await fetcher.get("http://feeds.example.invalid/rss"), await fetcher.get(direct)]

    proxied, unproxied = run(go())
    assert proxied.ok and proxied.body == RSS, proxied.error
    assert seen == [b"GET http://feeds.example.invalid/rss HTTP/1.1"]
    assert unproxied.ok and unproxied.body == b"<rss>direct</rss>"


@pytest.mark.parametrize("env", [
    {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "127.0.0.1,localhost,.example.org,example.net"},
    {"HTTPS_PROXY": "proxy:8443", "ALL_PROXY": "socks5://proxy:1080"},
    {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "*"},
    {},
])
def test_the_environment_is_read_as_httpx_reads_it_if_its_helper_moves(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Fetcher mounts the environment's proxies through a private httpx helper; should a
    later httpx move it, the stdlib reading that replaces it gives the same mounts."""
    from httpx._utils import get_environment_proxies

    from watcher.fetch import _stdlib_proxies

    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                "all_proxy", "no_proxy"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert _stdlib_proxies() == get_environment_proxies()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open descriptors in /proc")
def test_cancelled_polls_leave_no_socket_or_task_behind() -> None:
    """Polls cancelled while connecting, waiting for a head and mid-body: after `aclose()` the
    process holds the descriptors and tasks it held before (the server's side of a socket
    closes only once the client's has, so a leaked client socket shows as two)."""

    def open_fds() -> int:
        return len(list(Path("/proc/self/fd").iterdir()))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"/body" in head:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<rss>")
        await reader.read()  # until the client hangs up
        writer.close()

    async def go() -> tuple[int, int, int, int]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        fds, tasks = open_fds(), len(asyncio.all_tasks())
        fetcher = Fetcher(timeout=10, concurrency=40, per_host=40)
        for delay in (0.0, 0.001, 0.05):
            polls = [asyncio.create_task(fetcher.get(f"http://127.0.0.1:{port}/{kind}{i}"))
                     for i in range(10) for kind in ("body", "head")]
            await asyncio.sleep(delay)
            for poll in polls:
                poll.cancel()
            await asyncio.gather(*polls, return_exceptions=True)
        await fetcher.aclose()
        for _ in range(100):  # the server's handlers see the hang-ups and close their side
            if open_fds() <= fds and len(asyncio.all_tasks()) <= tasks:
                break
            await asyncio.sleep(0.02)
        after = open_fds(), len(asyncio.all_tasks())
        server.close()
        await server.wait_closed()
        return fds, after[0], tasks, after[1]

    fds, fds_after, tasks, tasks_after = run(go())
    assert fds_after == fds and tasks_after == tasks


def test_tls_sends_sni_checks_the_host_name_and_bounds_the_handshake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate for localhost: fetched as localhost it passes with that name sent as SNI;
    fetched as 127.0.0.1 (same server, same CA) it is refused; a server that accepts the TCP
    connection and never answers the handshake is a timeout, not a hang."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(ctx)
    names: list[str | None] = []
    ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(RSS), RSS))
        await writer.drain()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def go() -> list[FetchResult]:
        tls = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=ctx)
        mute = await asyncio.start_server(silent, "127.0.0.1", 0)
        tls_port, mute_port = (s.sockets[0].getsockname()[1] for s in (tls, mute))
        async with tls, mute, Fetcher(timeout=1) as fetcher:
            return [await fetcher.get(f"https://localhost:{tls_port}/feed.xml"),
                    await fetcher.get(f"https://127.0.0.1:{tls_port}/feed.xml"),
                    await fetcher.get(f"https://127.0.0.1:{mute_port}/feed.xml")]

    named, by_address, mute = run(go())
    assert named.ok and named.body == RSS and names[0] == "localhost", (named.error, names)
    assert by_address.error_kind == "network"
    assert (by_address.error or "").startswith("TLS certificate rejected for 127.0.0.1")
    assert mute.error_kind == "timeout" and mute.status is None
