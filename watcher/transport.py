"""HTTP/1.1 for `httpx.AsyncClient`: h11 over asyncio streams, a plain keep-alive pool.

Why not httpx's own transport (httpcore): per request, httpcore's pool re-checks every
connection it holds (`has_expired`, a socket `getpeername` and anyio's typed-attribute
look-ups each time) and goes through anyio's stream layer, which measured at about half of
the event loop's CPU in a first cycle (`bench/fetch_client.py`, docs/performance.md). The
`Fetcher` already bounds how many requests are in flight, follows redirects, inflates bodies
and keeps the overall deadline, so the pool here only has to hand out an idle connection
for an origin or open a new one. h11 (httpcore's own HTTP/1.1 parser) reads the bytes, so the
framing rules (chunked, Content-Length, close-delimited, keep-alive) are the same as before.

httpx stays the typed layer above: requests, responses, headers, URL joining, cookies and
proxy mounts from the environment (`fetch._environment_proxies`: a proxied URL goes through
httpx's own transport).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator

import h11
import httpx

from watcher import netguard

_READ = 64 * 1024
_MAX_HEADERS = 100 * 1024  # the most a response head may take (httpcore's limit)
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]
# request extension: connect only to public addresses (the `Fetcher`'s allow_private=False)
PUBLIC_ONLY = "watcher.public_only"


class _Connection:
    """One TCP (or TLS) connection and its h11 state."""

    __slots__ = ("origin", "reader", "writer", "h11", "idle_since", "public")

    def __init__(self, origin: Origin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEADERS)
        self.idle_since = 0.0
        peer = writer.get_extra_info("peername")
        self.public = bool(peer) and netguard.is_public_address(str(peer[0]))  # the address reached

    def usable(self, now: float, expiry: float) -> bool:
        """An idle connection the server has not closed, sent nothing on, nor kept too long."""
        return (
            now - self.idle_since < expiry
            and not self.writer.transport.is_closing()
            and not self.reader.at_eof()
            and not self.reader._buffer  # unsolicited bytes: not reusable
        )

    def close(self) -> None:
        self.writer.transport.abort()  # no graceful TLS close-notify wait: nothing is owed

    async def aclose(self) -> None:
        """Close now, not at the loop's next turn: the server sees the hang-up before this
        host's next request is sent (a `per_host` limit holds as the server counts it too)."""
        with contextlib.suppress(OSError, RuntimeError):
            self.writer.transport.write_eof()
        self.writer.transport.abort()
        await asyncio.sleep(0)  # runs the transport's connection_lost: the socket is closed


class H11Transport(httpx.AsyncBaseTransport):
    """GETs over HTTP/1.1 with connections kept alive per origin (scheme, host, port).

    `max_keepalive` bounds idle connections in total (the oldest is closed first); a
    connection idle for more than `keepalive_expiry` seconds is not reused. There is no
    limit on connections in use: the `Fetcher`'s slots are that limit. A request that fails
    on a reused connection before its response head (the server dropped the idle connection
    meanwhile) is sent once more on a new one; GETs are safe to repeat. (httpcore did not:
    such a poll failed with "Server disconnected without sending a response".)
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        max_keepalive: int = 16,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None  # made at the first https request
        self._max_keepalive = max_keepalive
        self._expiry = keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        if not url.host:
            raise httpx.UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
        # the ASCII (IDNA 2008) name, as in the Host header: `url.host` is Unicode, which the
        # socket and ssl modules would encode by IDNA 2003 (faß.de -> fass.de, another name)
        origin = (scheme, url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", {})
        public_only = bool(request.extensions.get(PUBLIC_ONLY))
        head = h11.Request(method=request.method, target=url.raw_path, headers=request.headers.raw)
        while True:
            conn = self._checkout(origin, public_only)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(origin, timeouts.get("connect"), public_only)
            try:
                status, headers, reason = await self._exchange(conn, head, timeouts.get("read"))
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                conn.close()
                if reused:
                    continue  # the server closed the idle connection under us: once more, fresh
                raise
            except BaseException:
                conn.close()
                raise
            return httpx.Response(
                status,
                headers=headers,
                stream=_Body(self, conn, timeouts.get("read")),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
            )

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        self._idle_count = 0

    # --- the pool --------------------------------------------------------------------------

    def _checkout(self, origin: Origin, public_only: bool) -> _Connection | None:
        conns = self._idle.get(origin)
        now = time.monotonic()
        while conns:
            conn = conns.pop()  # the most recently used: the least likely to be stale
            self._idle_count -= 1
            if conn.usable(now, self._expiry) and (conn.public or not public_only):
                return conn
            conn.close()
        return None

    def _release(self, conn: _Connection) -> None:
        """Back to the pool if both sides finished the exchange cleanly; closed otherwise."""
        ours, theirs = conn.h11.our_state, conn.h11.their_state
        if self._closed or ours is not h11.DONE or theirs is not h11.DONE or conn.h11.trailing_data[0]:
            conn.close()  # bytes past the end of the answer: the next one would start mid-stream
            return
        try:
            conn.h11.start_next_cycle()
        except h11.LocalProtocolError:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._idle_count += 1
        if self._idle_count > self._max_keepalive:
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        oldest_origin, oldest = None, None
        for origin, conns in self._idle.items():
            if conns and (oldest is None or conns[0].idle_since < oldest.idle_since):
                oldest_origin, oldest = origin, conns[0]
        if oldest is None or oldest_origin is None:
            return
        self._idle[oldest_origin].pop(0)
        if not self._idle[oldest_origin]:
            del self._idle[oldest_origin]
        self._idle_count -= 1
        oldest.close()

    async def _connect(self, origin: Origin, timeout: float | None, public_only: bool) -> _Connection:
        """A new connection; with `public_only`, to an address the guard passed in this very
        look-up (not a second one a rebinding DNS server could answer differently)."""
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(verify=self._verify)
            context = self._ssl
        try:
            async with asyncio.timeout(timeout):
                addresses = await netguard.public_addresses(host, port) if public_only else [host]
                for i, address in enumerate(addresses):
                    try:
                        reader, writer = await asyncio.open_connection(
                            address, port, ssl=context, server_hostname=host if context else None,
                        )
                        break
                    except OSError:
                        if i == len(addresses) - 1:
                            raise
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
        except OSError as exc:  # refused, unreachable, DNS (socket.gaierror), TLS (ssl.SSLError)
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(origin, reader, writer)

    # --- one exchange ----------------------------------------------------------------------

    async def _exchange(
        self, conn: _Connection, head: h11.Request, timeout: float | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send the request head and read the response head (1xx answers skipped)."""
        try:
            data = conn.h11.send(head) + conn.h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        try:
            conn.writer.write(data)
            await conn.writer.drain()
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc
        while True:
            event = await _next_event(conn, timeout)
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                return event.status_code, list(event.headers.raw_items()), event.reason
            raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} before a response")


async def _next_event(conn: _Connection, timeout: float | None) -> h11.Event:
    """The next h11 event, reading from the socket as h11 needs; errors as httpx's."""
    h = conn.h11
    while True:
        try:
            event = h.next_event()
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        if event is not h11.NEED_DATA:
            if event is h11.PAUSED:  # cannot happen for a client mid-response; treat as broken
                raise httpx.RemoteProtocolError("connection paused unexpectedly")
            return event
        try:
            async with asyncio.timeout(timeout):
                data = await conn.reader.read(_READ)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out reading from the server") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        if not data and h.their_state is h11.SEND_RESPONSE:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        try:
            h.receive_data(data)
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives; the connection goes back to the pool at its end."""

    def __init__(self, transport: H11Transport, conn: _Connection, timeout: float | None) -> None:
        self._transport = transport
        self._conn: _Connection | None = conn
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            return
        try:
            while True:
                event = await _next_event(conn, self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    self._conn = None
                    self._transport._release(conn)  # the pool's own stream
                    return
        except BaseException:
            if self._conn is not None:
                self._conn = None
                conn.close()
            raise

    async def aclose(self) -> None:
        """A body left unread closes its connection: what is left of it would block the next."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.aclose()
