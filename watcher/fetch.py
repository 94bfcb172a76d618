"""The HTTP client: one GET in, one `FetchResult` out, whatever the network does.

Everything that can go wrong on the wire (timeouts, resets, redirect loops, gzip bombs,
429s, private addresses) comes back as a `FetchResult` with `error` in plain words and
`error_kind` in timeout|too_large|redirects|http|network|blocked|decode, so the pipeline
records it and moves on instead of wrapping every call in try/except.

Why the hand-rolled parts:
- redirects are followed here, not by httpx, so every hop can pass the address guard,
  loops are named, and we know whether the whole chain was permanent;
- bodies are read raw and inflated here with a bounded `max_length`, because httpx only
  checks the size of each decompressed chunk and a 500 KB gzip body can inflate to 500 MB;
- an overall deadline wraps each request, because httpx's read timeout restarts on every
  byte and a server trickling one byte a second would never time out.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from types import TracebackType

import httpx

from watcher import netguard
from watcher.models import FetchResult
from watcher.safetext import printable
from watcher.transport import PUBLIC_ONLY, H11Transport

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})
_STEP = 64 * 1024  # most bytes one inflate call may produce
_DRAIN_MAX = 64 * 1024  # leftover bodies up to this size are read to keep the connection


class _Failure(Exception):
    """Internal: stop this fetch and report `message` under `kind`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


MAX_RETRY_AFTER = 10 * 365 * 86400.0  # seconds; more is the same as "not for a very long time"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():  # a 400-digit value is a very long wait, not a crash
        return float(min(int(value), MAX_RETRY_AFTER)) if len(value) < 20 else MAX_RETRY_AFTER
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _coding(header: str | None) -> str:
    """The single content-coding to undo: identity, gzip or deflate; anything else is a decode error."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    raise _Failure("decode", f"unsupported content-encoding {header!r}")


class _Inflater:
    """Streaming, size-bounded decoder for one content-coding.

    Never produces more than `limit + 1` bytes in total: each zlib call is given a
    `max_length`, so a bomb stops after about `limit` bytes of output, never allocated whole.
    Handles gzip (including several members), deflate with a zlib header or raw, and identity.
    """

    def __init__(self, coding: str, limit: int) -> None:
        self.coding = coding
        self.limit = limit
        self.total = 0  # decoded bytes produced
        self.raw = 0  # encoded bytes received
        self._z: zlib._Decompress | None = None
        self._pending = b""  # bytes held back until a stream header can be sniffed
        self._members = 0  # compressed streams finished
        self._done = False  # trailing bytes after the last stream are ignored

    def feed(self, data: bytes, out: bytearray) -> None:
        self.raw += len(data)
        if self.coding == "identity":
            self._emit(data, out)
            return
        data, self._pending = self._pending + data, b""
        while data and not self._done:
            if self._z is None:
                if len(data) < 2:
                    self._pending = data
                    return
                if not self._start(data):
                    self._done = True
                    return
            data = self._inflate(data, out)

    def finish(self) -> None:
        """Raise a decode failure when a compressed body stopped mid-stream."""
        if self.coding == "identity" or self.raw == 0:
            return
        if self._z is not None or (self._members == 0 and not self._done):
            raise _Failure("decode", f"{self.coding} body is truncated")

    def _start(self, data: bytes) -> bool:
        """Open the decompressor for the stream starting at `data`; False for trailing junk."""
        if self.coding == "gzip":
            if data[:2] != b"\x1f\x8b":
                if self._members:
                    return False
                raise _Failure("decode", "body says gzip but is not gzip data")
            wbits = 16 + zlib.MAX_WBITS
        else:
            if self._members:
                return False
            zlib_header = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits)
        return True

    def _inflate(self, data: bytes, out: bytearray) -> bytes:
        """Inflate `data` in bounded steps; return what follows the stream's end, if it ended."""
        z = self._z
        assert z is not None
        while True:
            step = min(_STEP, self.limit - self.total + 1)
            try:
                piece = z.decompress(data, step)
            except zlib.error as exc:
                raise _Failure("decode", f"cannot decode {self.coding} body: {exc}") from exc
            self._emit(piece, out)
            data = z.unconsumed_tail
            if z.eof:
                self._z = None
                self._members += 1
                return z.unused_data
            if not data and len(piece) < step:
                return b""

    def _emit(self, piece: bytes, out: bytearray) -> None:
        self.total += len(piece)
        if self.total > self.limit:
            raise _Failure("too_large", f"response body over {self.limit} bytes")
        out += piece


class _HostSlots:
    """Per-host semaphores, created on demand and dropped when nobody holds or waits on them."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        sem, users = self._slots.setdefault(host, (asyncio.Semaphore(self._per_host), [0]))
        users[0] += 1
        try:
            async with sem:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _describe_transport_error(exc: Exception, host: str) -> str:
    """Plain words for an httpx transport failure, from the OS error underneath when there is one."""
    for cause in _exception_chain(exc):
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve host {host}: {cause.strerror or cause}"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {host}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected for {host}: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error with {host}: {cause.reason or cause}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed early: {exc}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {exc}"
    return f"network error: {str(exc) or type(exc).__name__}"


async def _drain(response: httpx.Response) -> None:
    """Read a small leftover body (304, redirect, error page) so the connection can be reused.

    httpcore only returns a connection to the pool once the response was read to the end;
    without this every 304 would cost a new TCP (and TLS) handshake. Bodies that are not
    declared small are left unread: the connection is simply closed.
    """
    length = response.headers.get("content-length", "")
    if response.status_code not in (204, 304) and not (
        length.isdigit() and int(length) <= _DRAIN_MAX
    ):
        return
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(1.0):
            async for _ in response.aiter_raw():
                pass


def _header_bytes(value: str) -> bytes:
    """Validators echo whatever the server sent; latin-1 round-trips what httpx decoded."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _environment_proxies(concurrency: int) -> dict[str, httpx.AsyncBaseTransport | None]:
    """HTTP(S)_PROXY, ALL_PROXY and NO_PROXY as httpx reads them (a proxied URL goes through
    httpx's own transport; None sends a NO_PROXY host to ours). httpx skips the environment
    when it is given a transport, so without this a proxy the host requires was ignored."""
    try:
        from httpx._utils import (
            get_environment_proxies,  # httpx's own reading, NO_PROXY rules included
        )
    except ImportError:  # a private helper a later httpx may move: read the environment ourselves
        get_environment_proxies = _stdlib_proxies

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return {
        pattern: None if url is None else httpx.AsyncHTTPTransport(proxy=url, limits=limits)
        for pattern, url in get_environment_proxies().items()
    }


def _stdlib_proxies() -> dict[str, str | None]:
    """The environment's proxies as httpx's mount patterns, read with urllib the way httpx
    reads them: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY; a NO_PROXY address or "localhost" exactly,
    a domain with its subdomains ("*example.org"), "*" turning every proxy off."""
    import ipaddress
    import urllib.request

    env = urllib.request.getproxies()
    out: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = env.get(scheme)
        if url:
            out[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (h.strip() for h in env.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        try:
            ipaddress.ip_address(host.strip("[]"))
            exact = True
        except ValueError:
            exact = host.lower() == "localhost"
        out[f"all://{host}" if exact else f"all://*{host}"] = None
    return out


class Fetcher:
    """Polite, bounded HTTP GETs that never raise for network or HTTP problems.

    One `httpx.AsyncClient` on an `H11Transport` (HTTP/1.1, up to `concurrency` idle
    connections kept alive) is shared by every call.
    At most `concurrency` requests are in flight overall and `per_host` per host name.
    `timeout` bounds connect, each read, and also the whole request including redirects,
    DNS and body, counting only time spent holding a slot (not time queued behind the
    limits). Create one Fetcher per event loop and close it with `aclose()` or `async with`.
    """

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
        user_agent: str = "ceasefire-watcher/0.1",
        concurrency: int = 16,
        per_host: int = 2,
        max_redirects: int = 10,
    ) -> None:
        if timeout <= 0 or max_bytes < 0 or concurrency < 1 or per_host < 1 or max_redirects < 0:
            raise ValueError("Fetcher limits must be positive")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts = _HostSlots(per_host)
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            transport=H11Transport(max_keepalive=concurrency),
            mounts=_environment_proxies(concurrency),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool = True,
    ) -> FetchResult:
        """GET `url`, following redirects; never raises for network or HTTP trouble.

        `etag` / `last_modified` are the validators from the previous fetch; a 304 comes back
        as `not_modified=True` with no body. `allow_private=False` refuses (error_kind
        "blocked") any hop whose host resolves to a non-public address; use it for links
        taken from feed content.

        `permanent_redirect` is set only when every hop was a 301/308 and the chain ended in
        a 2xx or 304, so the caller can adopt it as the feed's new URL. `elapsed_ms` is time
        spent on the network for this call; time queued behind the concurrency limits is
        not counted (in it or in the `timeout` budget).
        """
        result = FetchResult(url=url, final_url=url)
        headers: dict[str, bytes] = {}
        if etag:
            headers["If-None-Match"] = _header_bytes(etag)
        if last_modified:
            headers["If-Modified-Since"] = _header_bytes(last_modified)
        budget = [self.timeout]  # seconds of network time left, shared by all hops
        try:
            await self._follow(result, headers, allow_private, budget)
        except _Failure as failure:
            self._fail(result, failure.kind, failure.message)
        except (TimeoutError, httpx.TimeoutException):
            self._fail(result, "timeout", self._timeout_words(result))
        except netguard.Refused as exc:
            self._fail(result, "blocked", exc.reason)
        except netguard.UnresolvableHost as exc:
            self._fail(result, "network", str(exc))
        except httpx.InvalidURL as exc:
            self._fail(result, "network", f"invalid URL {result.final_url!r}: {exc}")
        except httpx.HTTPError as exc:
            host = _host_of(result.final_url)
            self._fail(result, "network", _describe_transport_error(exc, host))
        except OSError as exc:
            self._fail(result, "network", f"network error: {exc}")
        result.elapsed_ms = round((self.timeout - budget[0]) * 1000)
        log.debug("GET %s -> %s %s", url, result.status, result.error or "ok")
        return result

    async def _follow(
        self,
        result: FetchResult,
        headers: dict[str, bytes],
        allow_private: bool,
        budget: list[float],
    ) -> None:
        """Request hop after hop until a non-redirect answer, filling `result`.

        Each hop's URL is parsed once (`httpx.URL`) and that object serves the host slot, the
        request and the next redirect's join: httpx's URL parser is a good share of a GET's CPU.
        """
        target = httpx.URL(result.url)
        url = str(target)
        visited = {url}
        permanent = True
        for hops in range(self.max_redirects + 1):
            location = await self._timed_hop(target, url, headers, allow_private, result, budget)
            if location is None:
                if hops and permanent:
                    result.permanent_redirect = result.final_url
                return
            permanent = permanent and result.status in PERMANENT_STATUSES
            target = self._next_url(target, location, visited)
            url = str(target)
        raise _Failure("redirects", f"more than {self.max_redirects} redirects")

    @staticmethod
    def _next_url(current: httpx.URL, location: str, visited: set[str]) -> httpx.URL:
        try:
            target = current.join(location.strip())
        except httpx.InvalidURL as exc:
            raise _Failure("redirects", f"redirect to an invalid URL {location!r}") from exc
        if target.scheme not in ("http", "https"):
            raise _Failure("redirects", f"redirect to unsupported URL {location!r}")
        target = target.copy_with(fragment=None)
        url = str(target)
        if url in visited:
            raise _Failure("redirects", f"redirect loop: {url} was already visited")
        visited.add(url)
        return target

    async def _timed_hop(
        self,
        target: httpx.URL,
        url: str,
        headers: dict[str, bytes],
        allow_private: bool,
        result: FetchResult,
        budget: list[float],
    ) -> str | None:
        """One hop inside its host and global slots, charged to the request's time budget."""
        async with self._hosts.hold(target.host or url), self._slots:
            started = time.monotonic()
            try:
                async with asyncio.timeout(max(budget[0], 0.0)):
                    return await self._hop(target, url, headers, allow_private, result)
            finally:
                budget[0] -= time.monotonic() - started

    async def _hop(
        self,
        target: httpx.URL,
        url: str,
        headers: dict[str, bytes],
        allow_private: bool,
        result: FetchResult,
    ) -> str | None:
        """GET one URL; return the Location to follow, or None when `result` is final."""
        result.final_url, result.status, result.headers = url, None, {}
        result.bytes_read = 0
        if not allow_private:
            reason = await netguard.check_url(url)
            if reason:
                raise _Failure("blocked", reason)
        extensions = None if allow_private else {PUBLIC_ONLY: True}  # the transport checks too
        request = self._client.build_request("GET", target, headers=headers, extensions=extensions)
        response = await self._client.send(request, stream=True)
        try:
            result.status = response.status_code
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            if 200 <= response.status_code < 300 and response.status_code != 204:
                result.body = await self._read_body(response, result)
                return None
            await _drain(response)
            if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                return response.headers["location"]
            if response.status_code == 304:
                result.not_modified = True
            elif response.status_code == 204:
                result.body = b""
            else:
                self._http_error(response, result)
            return None
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response, result: FetchResult) -> bytes:
        """Read the raw stream and inflate it ourselves, stopping as soon as it passes max_bytes."""
        inflater = _Inflater(_coding(response.headers.get("content-encoding")), self.max_bytes)
        declared = response.headers.get("content-length", "")
        if inflater.coding == "identity" and declared.isdigit() and int(declared) > self.max_bytes:
            raise _Failure("too_large", f"response body over {self.max_bytes} bytes")
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                inflater.feed(chunk, body)
                result.bytes_read = inflater.total
                if inflater.raw > self.max_bytes:  # compressed data that never inflates
                    raise _Failure("too_large", f"response body over {self.max_bytes} bytes")
        finally:
            result.bytes_read = inflater.total
        inflater.finish()
        return bytes(body)

    @staticmethod
    def _http_error(response: httpx.Response, result: FetchResult) -> None:
        status = response.status_code
        reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
        if status in (429, 503):
            result.retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise _Failure("http", f"HTTP {status} {reason}".strip())

    def _timeout_words(self, result: FetchResult) -> str:
        words = f"timed out after {self.timeout:g}s"
        if result.status is None:
            return f"{words} waiting for a response from {_host_of(result.final_url)}"
        return f"{words} reading the body ({result.bytes_read} bytes received)"

    @staticmethod
    def _fail(result: FetchResult, kind: str, message: str) -> None:
        result.error, result.error_kind = printable(message), kind  # reason phrases are the server's
        result.body = None
        result.not_modified = False


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url
