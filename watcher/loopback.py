"""A real HTTP/1.1 server on 127.0.0.1 for tests, `watcher demo` and benchmarks.

Real sockets, real keep-alive, real misbehaviour: the fetcher is tested against the same
bytes a hostile or broken news site would send, not against a mocked transport. Stdlib only
(`http.server` with one daemon thread per connection), so it ships inside the package.

    with LoopbackServer() as srv:
        url = srv.add("/feed.xml", rss_bytes)           # ETag, Last-Modified, 304s for free
        srv.redirect("/old.xml", "/feed.xml", status=301)
        ...
        srv.hits("/feed.xml"), srv.requests, srv.max_concurrent

Routes can be added or replaced at any time from any thread. Stopping never hangs: routes
that wait wake up on stop, and every open connection is shut down. The misbehaviours
(hangs, trickles, resets, bombs) only tests and benchmarks use live in ``tests/faults.py``,
a subclass that adds one ``_fault_<kind>`` handler method per fault.
"""

from __future__ import annotations

import contextlib
import functools
import gzip as gzip_module
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urlsplit


class RequestRecord(NamedTuple):
    """One request as the server saw it; header names lower-cased."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class _Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    delay: float = 0.0
    conditional: bool = True
    etag: str = ""
    last_modified: int = 0  # whole seconds since the epoch: HTTP dates have no fractions
    fault: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def gzipped(self) -> bytes:
        return gzip_module.compress(self.body, mtime=0)


def _etag_matches(header: str, etags: tuple[str, ...]) -> bool:
    """If-None-Match uses weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or any(e.removeprefix("W/") in tags for e in etags)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "watcher-loopback/0.1"
    disable_nagle_algorithm = True  # headers and body are separate writes
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        owner = self.server.owner
        key, route = owner._lookup(self.path)
        owner._record(self.command, self.path, dict(self.headers.items()), key)
        self._head = head
        try:
            if route is None:
                self._send(404, b"not found\n", "text/plain")
            elif route.fault:  # a subclass's misbehaviour (tests/faults.py)
                getattr(self, f"_fault_{route.fault}")(route, urlsplit(self.path).query)
            else:
                self._static(route)
        except OSError:  # client went away, or the server is stopping
            self.close_connection = True
        finally:
            owner._leave()

    # -- plumbing ---------------------------------------------------------------------

    def _start(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        all_headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        all_headers.update(headers or {})
        self._start(status, all_headers)
        if not self._head and body:
            self.wfile.write(body)

    def _wait(self, seconds: float | None) -> bool:
        """Sleep, waking early when the server stops; True if it is stopping."""
        return self.server.owner._stopping.wait(seconds)

    # -- static routes ----------------------------------------------------------------

    def _static(self, route: _Route) -> None:
        if route.delay and self._wait(route.delay):
            return
        headers = dict(route.headers)
        body = route.body
        gzipped = route.gzip and "gzip" in self.headers.get("Accept-Encoding", "")
        etag = route.etag[:-1] + '-gz"' if gzipped else route.etag
        if route.conditional and route.status == 200:
            headers["ETag"] = etag
            headers["Last-Modified"] = formatdate(route.last_modified, usegmt=True)
            if self._not_modified(route):
                self._start(304, {"ETag": etag, "Last-Modified": headers["Last-Modified"]})
                return
        if route.gzip:
            headers["Vary"] = "Accept-Encoding"
        if gzipped:
            body = route.gzipped
            headers["Content-Encoding"] = "gzip"
        self._send(route.status, body, route.content_type, headers)

    def _not_modified(self, route: _Route) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-Modified-Since is ignored when this is present
            return _etag_matches(inm, (route.etag, route.etag[:-1] + '-gz"'))
        ims = self.headers.get("If-Modified-Since")
        if not ims:
            return False
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return route.last_modified <= since

class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() shuts connections down itself; never join handler threads
    request_queue_size = 1024  # listen backlog: benchmarks open many connections at once
    owner: LoopbackServer

    def __init__(self, address: tuple[str, int], owner: LoopbackServer) -> None:
        self.owner = owner
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.accepted = 0  # connections accepted so far
        super().__init__(address, owner.handler_class)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.open_connections.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-response is normal here

    def close_all(self) -> None:
        with self.connections_lock:
            connections = list(self.open_connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class LoopbackServer:
    """HTTP/1.1 on 127.0.0.1 (random port) in a background thread; see the module docstring."""

    handler_class: type[_Handler] = _Handler  # a subclass adds `_fault_<kind>` methods

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._requests: list[RequestRecord] = []
        self._hits: dict[str, int] = {}
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is None:
            self._stopping.clear()
            self._httpd = _HTTPServer(self._address, self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"loopback-http-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes hanging routes and shuts every open connection. Never blocks long."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_all()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("LoopbackServer is not running")
        return self._httpd.server_address[1]

    @property
    def host(self) -> str:
        """The address the server is bound to (127.0.0.1 unless told otherwise)."""
        if self._httpd is None:
            raise RuntimeError("LoopbackServer is not running")
        return self._httpd.server_address[0]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return self.base_url + path

    # -- routes -----------------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        content_type: str = "application/rss+xml",
        headers: dict[str, str] | None = None,
        status: int = 200,
        gzip: bool = False,
        delay: float = 0.0,
        conditional: bool = True,
    ) -> str:
        """Serve `body` at `path` (replacing whatever was there); returns its URL.

        With `conditional` (the default) a 200 route carries a strong ETag (hash of the body)
        and a Last-Modified that moves forward whenever the body changes, and answers
        If-None-Match / If-Modified-Since with 304. `gzip` compresses the body for clients
        that accept it. `delay` seconds pass before the answer (for concurrency tests).
        """
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        with self._lock:
            old = self._routes.get(path)
            last_modified = int(time.time())
            if old is not None and old.etag == etag:
                last_modified = old.last_modified
            elif old is not None and old.last_modified >= last_modified:
                last_modified = old.last_modified + 1  # changed within the same second
            self._routes[path] = _Route(
                status=status,
                body=data,
                content_type=content_type,
                headers=dict(headers or {}),
                gzip=gzip,
                delay=delay,
                conditional=conditional,
                etag=etag,
                last_modified=last_modified,
            )
        return self.url(path)

    def redirect(self, path: str, target: str, status: int = 301) -> str:
        """Answer `path` with `status` and Location `target` (a path or an absolute URL)."""
        return self.add(
            path,
            b"",
            content_type="text/plain",
            headers={"Location": target},
            status=status,
            conditional=False,
        )

    def _put(self, path: str, route: _Route) -> str:
        """Serve ``route`` at ``path`` (for subclasses that build their own routes)."""
        with self._lock:
            self._routes[path] = route
        return self.url(path)

    def remove(self, path: str) -> None:
        """Stop serving `path` (404 from now on)."""
        with self._lock:
            self._routes.pop(path, None)

    # -- what the server saw ----------------------------------------------------------

    def hits(self, path: str) -> int:
        """Requests for `path` so far (query strings ignored)."""
        with self._lock:
            return self._hits.get(path, 0)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def max_concurrent(self) -> int:
        """Most requests being answered at the same moment since start or `reset_stats()`."""
        with self._lock:
            return self._max_in_flight

    @property
    def connections(self) -> int:
        """TCP connections accepted since start: with keep-alive, fewer than requests."""
        return self._httpd.accepted if self._httpd is not None else 0

    def reset_stats(self) -> None:
        """Forget hits, requests and the concurrency high-water mark."""
        with self._lock:
            self._requests.clear()
            self._hits.clear()
            self._max_in_flight = self._in_flight

    # -- used by the handler ----------------------------------------------------------

    def _lookup(self, raw_path: str) -> tuple[str, _Route | None]:
        path = urlsplit(raw_path).path
        with self._lock:
            if raw_path in self._routes:
                return raw_path, self._routes[raw_path]
            return path, self._routes.get(path)

    def _record(self, method: str, raw_path: str, headers: dict[str, str], key: str) -> None:
        with self._lock:
            self._requests.append(
                RequestRecord(method, raw_path, {k.lower(): v for k, v in headers.items()})
            )
            self._hits[key] = self._hits.get(key, 0) + 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
