"""Fetcher against a real HTTP server on 127.0.0.1 (watcher.loopback), plus the address guard."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, TypeVar

import pytest
from faults import LoopbackServer

from watcher import netguard
from watcher.fetch import Fetcher, parse_retry_after
from watcher.models import FetchResult

pytestmark = pytest.mark.timeout(15)

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fetch(url: str, **options: Any) -> FetchResult:
    """One GET with a fresh Fetcher; options go to Fetcher() or get() as they belong."""
    get_keys = {"etag", "last_modified", "allow_private"}
    get_opts = {k: v for k, v in options.items() if k in get_keys}
    init_opts = {k: v for k, v in options.items() if k not in get_keys}

    async def go() -> FetchResult:
        async with Fetcher(**init_opts) as fetcher:
            return await fetcher.get(url, **get_opts)

    return run(go())


# -- plain success --------------------------------------------------------------------------


def test_200_body_headers_and_request(loopback: LoopbackServer) -> None:
    url = loopback.add("/feed.xml", RSS, headers={"X-Custom": "yes"})
    result = fetch(url)
    assert result.ok and result.error is None and result.error_kind is None
    assert (result.status, result.body, result.bytes_read) == (200, RSS, len(RSS))
    assert result.final_url == url and result.permanent_redirect is None
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.headers["x-custom"] == "yes"
    assert all(name == name.lower() for name in result.headers)
    assert result.elapsed_ms >= 0
    sent = loopback.requests[0].headers
    assert sent["user-agent"] == "ceasefire-watcher/0.1"
    assert sent["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_empty_200_is_ok_with_empty_body(loopback: LoopbackServer) -> None:
    result = fetch(loopback.fault("/empty", "empty"))
    assert result.ok and result.body == b"" and result.bytes_read == 0


def test_gzip_body_is_decoded(loopback: LoopbackServer) -> None:
    body = RSS * 200
    result = fetch(loopback.add("/gz.xml", body, gzip=True))
    assert result.ok and result.body == body and result.bytes_read == len(body)
    assert result.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_with_and_without_zlib_header(loopback: LoopbackServer, wbits: int) -> None:
    body = RSS * 50
    comp = zlib.compressobj(6, zlib.DEFLATED, wbits)
    encoded = comp.compress(body) + comp.flush()
    url = loopback.add("/d.xml", encoded, headers={"Content-Encoding": "deflate"})
    result = fetch(url)
    assert result.ok and result.body == body


def test_concatenated_gzip_members(loopback: LoopbackServer) -> None:
    url = loopback.add(
        "/m.xml",
        gzip.compress(b"<rss>") + gzip.compress(b"</rss>"),
        headers={"Content-Encoding": "gzip"},
    )
    assert fetch(url).body == b"<rss></rss>"


@pytest.mark.parametrize(
    ("encoding", "body", "words"),
    [
        ("br", b"\x0b\x02\x80hello\x03", "unsupported content-encoding 'br'"),
        ("gzip", b"this is not gzip at all", "not gzip"),
        ("gzip", gzip.compress(RSS * 100)[:60], "truncated"),
    ],
    ids=["unknown", "not-gzip", "truncated"],
)
def test_undecodable_body(loopback: LoopbackServer, encoding: str, body: bytes, words: str) -> None:
    result = fetch(loopback.add("/bad", body, headers={"Content-Encoding": encoding}))
    assert result.error_kind == "decode" and words in (result.error or "")
    assert result.body is None and not result.ok


# -- conditional GET ------------------------------------------------------------------------


def test_etag_gives_304_without_body(loopback: LoopbackServer) -> None:
    url = loopback.add("/feed.xml", RSS)
    first = fetch(url)
    etag = first.headers["etag"]
    second = fetch(url, etag=etag)
    assert second.status == 304 and second.not_modified and second.error is None
    assert second.body is None and second.bytes_read == 0
    assert loopback.requests[-1].headers["if-none-match"] == etag


def test_last_modified_gives_304_then_200_after_change(loopback: LoopbackServer) -> None:
    url = loopback.add("/feed.xml", RSS)
    stamp = fetch(url).headers["last-modified"]
    unchanged = fetch(url, last_modified=stamp)
    assert unchanged.not_modified and unchanged.status == 304
    assert loopback.requests[-1].headers["if-modified-since"] == stamp
    loopback.add("/feed.xml", RSS + b"<!-- edited -->")  # same second: Last-Modified still moves
    changed = fetch(url, last_modified=stamp)
    assert changed.status == 200 and not changed.not_modified
    assert changed.body is not None and changed.body.endswith(b"edited -->")


def test_stale_etag_gets_full_body(loopback: LoopbackServer) -> None:
    result = fetch(loopback.add("/feed.xml", RSS), etag='"not-the-current-one"')
    assert result.status == 200 and result.body == RSS and not result.not_modified


# -- HTTP errors and Retry-After ------------------------------------------------------------


def test_429_with_seconds(loopback: LoopbackServer) -> None:
    result = fetch(loopback.fault("/busy", "retry_after", status=429, value=120))
    assert result.status == 429 and result.error_kind == "http"
    assert result.error == "HTTP 429 Too Many Requests"
    assert result.retry_after == 120.0 and result.body is None


def test_503_with_http_date(loopback: LoopbackServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    result = fetch(loopback.fault("/down", "retry_after", status=503, value=when))
    assert result.status == 503 and result.error_kind == "http"
    assert result.error == "HTTP 503 Service Unavailable"
    assert result.retry_after is not None and 85 <= result.retry_after <= 91


def test_500_is_an_http_error(loopback: LoopbackServer) -> None:
    result = fetch(loopback.add("/boom", b"oops", status=500, conditional=False))
    assert (result.status, result.error_kind) == (500, "http")
    assert result.error == "HTTP 500 Internal Server Error"
    assert result.retry_after is None and not result.ok


def test_404(loopback: LoopbackServer) -> None:
    result = fetch(loopback.url("/missing"))
    assert (result.status, result.error_kind, result.error) == (404, "http", "HTTP 404 Not Found")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        (" 42 ", 42.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_future_date() -> None:
    now = datetime(2024, 6, 24, 10, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 24 Jun 2024 10:02:00 GMT", now=now) == 120.0


# -- timeouts -------------------------------------------------------------------------------


@pytest.mark.timeout(8)
def test_hang_before_headers_times_out(loopback: LoopbackServer) -> None:
    started = time.monotonic()
    result = fetch(loopback.fault("/hang", "hang"), timeout=1.0)
    took = time.monotonic() - started
    assert result.error_kind == "timeout" and result.status is None
    assert (result.error or "").startswith("timed out after 1s")
    assert 0.9 <= took < 2.5
    assert 900 <= result.elapsed_ms < 2500


@pytest.mark.timeout(8)
def test_trickle_stops_at_overall_deadline(loopback: LoopbackServer) -> None:
    """httpx's read timeout never fires on a byte every 0.3 s; the overall deadline must."""
    url = loopback.fault("/slow", "trickle", size=100, interval=0.3)
    started = time.monotonic()
    result = fetch(url, timeout=1.5)
    took = time.monotonic() - started
    assert result.error_kind == "timeout" and result.status == 200
    assert (result.error or "").startswith("timed out after 1.5s reading the body")
    assert 1 <= result.bytes_read <= 6 and result.body is None
    assert 1.4 <= took < 3.0


@pytest.mark.timeout(8)
def test_deadline_covers_all_redirect_hops(loopback: LoopbackServer) -> None:
    loopback.add(
        "/slow-hop", b"", status=302, headers={"Location": "/hang"}, delay=0.6, conditional=False
    )
    loopback.fault("/hang", "hang")
    started = time.monotonic()
    result = fetch(loopback.url("/slow-hop"), timeout=1.0)
    assert result.error_kind == "timeout" and result.final_url == loopback.url("/hang")
    assert time.monotonic() - started < 2.0


# -- broken connections ---------------------------------------------------------------------


def test_reset_mid_body_is_a_network_error(loopback: LoopbackServer) -> None:
    result = fetch(loopback.fault("/reset", "reset", after=2000))
    assert result.error_kind == "network" and result.error == "connection reset"
    assert result.body is None


@pytest.mark.parametrize("kind", ["close", "garbage"])
def test_no_valid_response_is_a_network_error(loopback: LoopbackServer, kind: str) -> None:
    result = fetch(loopback.fault("/x", kind))
    assert result.error_kind == "network" and result.status is None
    assert "connection closed early" in (result.error or "")


def test_connection_refused() -> None:
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert result.error_kind == "network" and result.error == "connection refused by 127.0.0.1"


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/feed", "http://exa mple.org/"])
def test_bad_urls_do_not_raise(url: str) -> None:
    result = fetch(url)
    assert result.error_kind == "network" and result.error and result.status is None


def _resolves_locally_to_nxdomain(host: str) -> bool:
    started = time.monotonic()
    try:
        socket.getaddrinfo(host, 80)
    except socket.gaierror:
        return time.monotonic() - started < 2.0
    return False


@pytest.mark.parametrize("allow_private", [True, False])
def test_unresolvable_host(allow_private: bool) -> None:
    host = "no-such-feed.invalid"  # RFC 2606: never resolves
    if not _resolves_locally_to_nxdomain(host):
        pytest.skip("the resolver does not answer .invalid quickly and locally")
    result = fetch(f"http://{host}/rss", allow_private=allow_private)
    assert result.error_kind == "network"
    assert (result.error or "").startswith(f"cannot resolve host {host}")


# -- redirects ------------------------------------------------------------------------------


def test_redirect_loop(loopback: LoopbackServer) -> None:
    result = fetch(loopback.fault("/loop", "redirect_loop"))
    assert result.error_kind == "redirects" and "redirect loop" in (result.error or "")
    assert loopback.hits("/loop") == 2


def test_too_many_redirects(loopback: LoopbackServer) -> None:
    result = fetch(loopback.fault("/chain", "redirect_chain", hops=20), max_redirects=10)
    assert result.error_kind == "redirects" and result.error == "more than 10 redirects"
    assert loopback.hits("/chain") == 11  # the first request and ten redirects


def test_exactly_max_redirects_is_fine(loopback: LoopbackServer) -> None:
    url = loopback.fault("/chain", "redirect_chain", hops=3, body=RSS)
    result = fetch(url, max_redirects=3)
    assert result.ok and result.body == RSS
    assert result.final_url == loopback.url("/chain?hop=3")


def test_permanent_chain_sets_permanent_redirect(loopback: LoopbackServer) -> None:
    loopback.redirect("/old.xml", "/moved/feed.xml", status=301)
    loopback.redirect("/moved/feed.xml", "new.xml", status=308)  # relative to /moved/
    loopback.add("/moved/new.xml", RSS)
    result = fetch(loopback.url("/old.xml"))
    assert result.ok and result.body == RSS
    assert result.final_url == loopback.url("/moved/new.xml")
    assert result.permanent_redirect == loopback.url("/moved/new.xml")


@pytest.mark.parametrize("statuses", [(302,), (301, 302), (307, 308)])
def test_any_temporary_hop_means_no_permanent_redirect(
    loopback: LoopbackServer, statuses: tuple[int, ...]
) -> None:
    paths = [f"/hop{i}" for i in range(len(statuses))] + ["/end"]
    for status, here, there in zip(statuses, paths, paths[1:], strict=False):
        loopback.redirect(here, there, status=status)
    loopback.add("/end", RSS)
    result = fetch(loopback.url("/hop0"))
    assert result.ok and result.final_url == loopback.url("/end")
    assert result.permanent_redirect is None


def test_conditional_headers_follow_redirects(loopback: LoopbackServer) -> None:
    loopback.add("/feed.xml", RSS)
    etag = fetch(loopback.url("/feed.xml")).headers["etag"]
    loopback.redirect("/old.xml", "/feed.xml", status=302)
    result = fetch(loopback.url("/old.xml"), etag=etag)
    assert result.not_modified and result.status == 304 and result.error is None


# -- size caps ------------------------------------------------------------------------------


def _peak_memory(work: Coroutine[Any, Any, T]) -> tuple[T, int]:
    tracemalloc.start()
    try:
        result = run(work)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def _get_once(url: str, **options: Any) -> FetchResult:
    async with Fetcher(**options) as fetcher:
        return await fetcher.get(url)


def test_declared_oversized_body_is_refused_before_reading(loopback: LoopbackServer) -> None:
    url = loopback.fault("/huge", "huge", size=50_000_000, chunked=False)
    result = fetch(url, max_bytes=1_000_000)
    assert result.error_kind == "too_large" and result.error == "response body over 1000000 bytes"
    assert result.body is None and result.bytes_read == 0


def test_streamed_oversized_body_stops_at_cap_with_bounded_memory(
    loopback: LoopbackServer,
) -> None:
    url = loopback.fault("/huge", "huge", size=50_000_000)  # chunked: no length to check first
    result, peak = _peak_memory(_get_once(url, max_bytes=2_000_000))
    assert result.error_kind == "too_large" and result.error == "response body over 2000000 bytes"
    assert result.body is None and 2_000_000 < result.bytes_read < 2_200_000
    assert peak < 8_000_000, f"peak {peak} bytes"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_gzip_bomb_stops_at_cap_with_bounded_memory(
    loopback: LoopbackServer, encoding: str
) -> None:
    """500 MB of zeros in ~0.5 MB: inflating must stop at 10 MB without ever holding more."""
    url = loopback.fault("/bomb", "gzip_bomb", size=500_000_000, encoding=encoding)
    result, peak = _peak_memory(_get_once(url, max_bytes=10_000_000))
    print(f"gzip bomb ({encoding}) peak traced memory: {peak / 1e6:.1f} MB")
    assert result.error_kind == "too_large" and result.error == "response body over 10000000 bytes"
    assert result.body is None and result.bytes_read == 10_000_001
    assert peak < 25_000_000, f"peak {peak} bytes"


# -- address guard --------------------------------------------------------------------------


def test_allow_private_false_refuses_loopback(loopback: LoopbackServer) -> None:
    url = loopback.add("/feed.xml", RSS)
    assert fetch(url).ok  # the default allows it (configured feeds may be local)
    result = fetch(url, allow_private=False)
    assert result.error_kind == "blocked" and result.status is None
    assert result.error == "refused: 127.0.0.1 is a loopback address"
    assert loopback.hits("/feed.xml") == 1  # the refused request never reached the server


def test_allow_private_false_refuses_names_resolving_privately(loopback: LoopbackServer) -> None:
    result = fetch(f"http://localhost:{loopback.port}/feed.xml", allow_private=False)
    assert result.error_kind == "blocked"
    assert (result.error or "").startswith("refused: localhost resolves to loopback address")


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://10.0.0.1/admin", "10.0.0.1 is a private address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254 is a cloud metadata address"),
    ],
)
def test_redirect_into_private_network_is_refused_before_connecting(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, target: str, shown: str
) -> None:
    """Loopback is all a test has, so let 127.0.0.1 pass the guard and check the redirect hop."""
    real = netguard.classify_address
    monkeypatch.setattr(
        netguard, "classify_address", lambda ip: None if ip == "127.0.0.1" else real(ip)
    )
    url = loopback.redirect("/go", target, status=302)
    sent: list[str] = []

    async def go() -> FetchResult:
        async with Fetcher(timeout=5) as fetcher:
            original = fetcher._client.send

            async def spy(request: Any, **kw: Any) -> Any:
                sent.append(str(request.url))
                return await original(request, **kw)

            fetcher._client.send = spy  # type: ignore[method-assign]
            return await fetcher.get(url, allow_private=False)

    result = run(go())
    assert result.error_kind == "blocked" and result.error == f"refused: {shown}"
    assert sent == [url]  # the private target was never requested
    assert result.elapsed_ms < 1000


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fd00:ec2::254",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "2002:a00:1::1",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_non_public_addresses(ip: str) -> None:
    assert not netguard.is_public_address(ip)


@pytest.mark.parametrize(
    "ip", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses(ip: str) -> None:
    assert netguard.is_public_address(ip)


def test_check_url_literals() -> None:
    assert run(netguard.check_url("http://8.8.8.8/feed")) is None
    assert run(netguard.check_url("http://169.254.169.254/")) == (
        "refused: 169.254.169.254 is a cloud metadata address"
    )
    assert run(netguard.check_url("file:///etc/passwd")) is not None


# -- politeness -----------------------------------------------------------------------------


async def _many(urls: list[str], **options: Any) -> list[FetchResult]:
    async with Fetcher(**options) as fetcher:
        return await asyncio.gather(*(fetcher.get(u) for u in urls))


def test_per_host_limit(loopback: LoopbackServer) -> None:
    loopback.add("/slow.xml", RSS, delay=0.2)
    results = run(_many([loopback.url("/slow.xml")] * 6, per_host=2, concurrency=16))
    assert all(r.ok for r in results)
    assert loopback.max_concurrent == 2


def test_per_host_limit_is_per_host(loopback: LoopbackServer) -> None:
    loopback.add("/slow.xml", RSS, delay=0.3)
    by_ip = [loopback.url("/slow.xml")] * 3
    by_name = [f"http://localhost:{loopback.port}/slow.xml"] * 3
    results = run(_many(by_ip + by_name, per_host=2, concurrency=16))
    assert all(r.ok for r in results)
    assert loopback.max_concurrent == 4


def test_global_concurrency_limit(loopback: LoopbackServer) -> None:
    loopback.add("/slow.xml", RSS, delay=0.2)
    results = run(_many([loopback.url("/slow.xml")] * 8, per_host=8, concurrency=3))
    assert all(r.ok for r in results)
    assert loopback.max_concurrent == 3


def test_queue_time_is_not_charged_to_the_deadline(loopback: LoopbackServer) -> None:
    """Four 0.3 s requests through one slot take 1.2 s; none may time out at timeout=0.8."""
    loopback.add("/slow.xml", RSS, delay=0.3)
    results = run(_many([loopback.url("/slow.xml")] * 4, per_host=1, timeout=0.8))
    assert all(r.ok for r in results), [r.error for r in results]
    assert all(r.elapsed_ms < 800 for r in results)


def test_one_client_reuses_connections(loopback: LoopbackServer) -> None:
    """Keep-alive must survive 304s, redirects and small error pages, not only 200s."""
    url = loopback.add("/feed.xml", RSS)
    loopback.redirect("/old.xml", "/feed.xml", status=302)
    loopback.fault("/busy", "retry_after")

    async def go() -> list[FetchResult]:
        async with Fetcher() as fetcher:
            first = await fetcher.get(url)
            etag = first.headers["etag"]
            return [first] + [
                await fetcher.get(u, etag=etag)
                for u in (url, url, loopback.url("/old.xml"), loopback.url("/busy"), url)
            ]

    results = run(go())
    assert [r.status for r in results] == [200, 304, 304, 304, 429, 304]
    assert len(loopback.requests) == 7 and loopback.connections == 1
