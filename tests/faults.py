"""The misbehaving news site: every fault and bomb the tests and benchmarks serve, on the
package's real loopback server (``watcher.loopback``).

    with LoopbackServer() as srv:                      # this module's subclass
        srv.fault("/slow.xml", "trickle", size=30)     # one byte a second
        zoo = fault_zoo(srv)                           # one bad feed per misbehaviour

Importable by tests (pytest puts tests/ on the path) and by bench/ scripts (they add it).
"""

from __future__ import annotations

import functools
import gzip as gzip_module
import select
import socket
import struct
import time
import zlib
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from watcher import loopback
from watcher.loopback import _Route, closed_port

FAULTS: dict[str, str] = {
    "hang": "accept the request, never answer (until the server stops)",
    "hang_body": "send headers and no body (until the server stops)",
    "trickle": "200 with Content-Length `size` (60), one byte every `interval` (1.0) seconds",
    "reset": "200 promising 1 MB, send `after` (1000) bytes, then a TCP reset",
    "close": "close the connection without answering",
    "garbage": "answer with bytes that are not HTTP",
    "redirect_loop": "302 to the same path with ?loop, which 302s back",
    "redirect_chain": "`hops` (20) redirects with `status` (302) before a 200",
    "huge": "200 with `size` (50 MB) bytes; chunked unless `chunked=False`; `hold` s before the body",
    "gzip_bomb": "`size` (500 MB) of zeros gzipped (`encoding`='deflate' for zlib) to ~0.1%",
    "retry_after": "`status` (429) with Retry-After `value` (120)",
    "wrong_type": "200 text/html page where a feed was expected",
    "empty": "200 with an empty body",
    "no_type": "200 with the route's `body` and no Content-Type header at all",
    "raw": "write `body` verbatim as the whole response (status line, headers and all), then close",
}

_CHUNK = 64 * 1024
_BOMB_BLOCK = 1 << 20


@functools.lru_cache(maxsize=4)
def bomb_bytes(size: int, encoding: str = "gzip") -> bytes:
    """`size` zero bytes compressed (gzip or zlib), built in ~0.1 s without compressing them all.

    A full flush resets deflate's state, so every flushed megabyte of zeros compresses to the
    same ~1 KB block: compress one block, repeat it, and compute the checksum by streaming.
    """
    whole, rest = divmod(size, _BOMB_BLOCK)

    def flushed(n: int) -> bytes:
        comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        return comp.compress(bytes(n)) + comp.flush(zlib.Z_FULL_FLUSH)

    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    deflate = flushed(_BOMB_BLOCK) * whole + (flushed(rest) if rest else b"") + final
    zeros = bytes(_BOMB_BLOCK)
    if encoding == "gzip":
        crc = 0
        for _ in range(whole):
            crc = zlib.crc32(zeros, crc)
        crc = zlib.crc32(bytes(rest), crc)
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
        return header + deflate + struct.pack("<II", crc, size & 0xFFFFFFFF)
    if encoding == "deflate":
        adler = 1
        for _ in range(whole):
            adler = zlib.adler32(zeros, adler)
        adler = zlib.adler32(bytes(rest), adler)
        return b"\x78\xda" + deflate + struct.pack(">I", adler)
    raise ValueError(f"unknown bomb encoding {encoding!r}")


class FaultHandler(loopback._Handler):
    """The package's handler with one method per kind in FAULTS."""

    def _hold(self) -> None:
        """Keep the connection open, answering nothing, until the server stops or the client leaves."""
        while not self._wait(0.1):
            if self._client_left():
                return

    def _client_left(self) -> bool:
        """Whether the client has closed its end (EOF or a reset waiting to be read)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    # -- faults (one method per kind in FAULTS) ---------------------------------------

    def _fault_hang(self, route: _Route, query: str) -> None:
        self._hold()
        self.close_connection = True

    def _fault_hang_body(self, route: _Route, query: str) -> None:
        self._start(200, {"Content-Type": route.content_type, "Content-Length": "1000"})
        self._hold()
        self.close_connection = True

    def _fault_trickle(self, route: _Route, query: str) -> None:
        size, interval = route.options.get("size", 60), route.options.get("interval", 1.0)
        self._start(200, {"Content-Type": route.content_type, "Content-Length": str(size)})
        for _ in range(size):
            if self._wait(interval):
                break
            self.wfile.write(b"x")
        self.close_connection = True

    def _fault_reset(self, route: _Route, query: str) -> None:
        self._start(200, {"Content-Type": route.content_type, "Content-Length": "1000000"})
        self.wfile.write(b"<" * route.options.get("after", 1000))
        time.sleep(0.05)  # let the client read the first bytes before the reset
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()  # linger 0: RST, not FIN
        self.close_connection = True

    def _fault_close(self, route: _Route, query: str) -> None:
        self.close_connection = True

    def _fault_garbage(self, route: _Route, query: str) -> None:
        self.wfile.write(b"SPAM SPAM SPAM\r\n\r\n")
        self.close_connection = True

    def _fault_redirect_loop(self, route: _Route, query: str) -> None:
        path = urlsplit(self.path).path
        target = path if query == "loop" else f"{path}?loop"
        self._send(302, b"", "text/plain", {"Location": target})

    def _fault_redirect_chain(self, route: _Route, query: str) -> None:
        hops, status = route.options.get("hops", 20), route.options.get("status", 302)
        hop = int(query.removeprefix("hop=")) if query.startswith("hop=") else 0
        if hop >= hops:
            self._send(200, route.body or b"end of chain\n", route.content_type)
            return
        path = urlsplit(self.path).path
        self._send(status, b"", "text/plain", {"Location": f"{path}?hop={hop + 1}"})

    def _fault_huge(self, route: _Route, query: str) -> None:
        size, chunked = route.options.get("size", 50_000_000), route.options.get("chunked", True)
        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
        self._start(200, {"Content-Type": route.content_type, **framing})
        hold = route.options.get("hold")
        if hold:
            # the client has this request open until its body comes: while held, the count of
            # held requests is exactly how many the client has open (a finished handler still
            # unwinding after the client left is not counted, as it is in max_concurrent)
            self.wfile.flush()
            owner = self.server.owner
            owner._wait_for_body(1)
            try:
                self._wait(hold)
            finally:
                owner._wait_for_body(-1)
        block = b"a" * _CHUNK
        sent = 0
        while sent < size and not self.server.owner._stopping.is_set():
            if self._client_left():
                # a client that stopped reading at its size cap has left: the request is over
                # (else the server would count it in flight until a write failed, and overlap
                # the client's next request: test_one_feed_cannot_make_unbounded_requests)
                self.close_connection = True
                return
            piece = block[: min(_CHUNK, size - sent)]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _fault_gzip_bomb(self, route: _Route, query: str) -> None:
        encoding = route.options.get("encoding", "gzip")
        body = bomb_bytes(route.options.get("size", 500_000_000), encoding)
        self._send(200, body, route.content_type, {"Content-Encoding": encoding})

    def _fault_retry_after(self, route: _Route, query: str) -> None:
        status, value = route.options.get("status", 429), route.options.get("value", 120)
        self._send(status, b"slow down\n", "text/plain", {"Retry-After": str(value)})

    def _fault_wrong_type(self, route: _Route, query: str) -> None:
        page = route.body or b"<!doctype html><html><body><p>Not a feed.</p></body></html>\n"
        self._send(200, page, "text/html; charset=utf-8")

    def _fault_empty(self, route: _Route, query: str) -> None:
        self._send(200, b"", route.content_type)

    def _fault_no_type(self, route: _Route, query: str) -> None:
        self._start(200, {"Content-Length": str(len(route.body))})
        if not self._head:
            self.wfile.write(route.body)

    def _fault_raw(self, route: _Route, query: str) -> None:
        self.wfile.write(route.body)
        self.wfile.flush()
        self.close_connection = True


class LoopbackServer(loopback.LoopbackServer):
    """The loopback server that can also misbehave: :meth:`fault`."""

    handler_class = FaultHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting = 0  # requests held before their body (`huge` with `hold`)
        self.max_waiting = 0  # their high-water mark: what the client has open at once, exactly

    def _wait_for_body(self, delta: int) -> None:
        with self._lock:
            self._waiting += delta
            self.max_waiting = max(self.max_waiting, self._waiting)

    def fault(self, path: str, kind: str, **options: Any) -> str:
        """Make `path` misbehave; `kind` is one of FAULTS (options listed there). Returns its URL."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULTS)}")
        body = options.pop("body", b"")
        if kind == "gzip_bomb":  # build once now, not inside a timed request
            bomb_bytes(options.get("size", 500_000_000), options.get("encoding", "gzip"))
        route = _Route(
            body=body.encode() if isinstance(body, str) else body,
            content_type=options.pop("content_type", "application/rss+xml"),
            fault=kind,
            options=options,
        )
        return self._put(path, route)


# --- a zoo of bad feeds, shared by the fault tests and the memory benchmark ------------------


def quiet_rss(items: list[str], title: str = "Weather and markets") -> bytes:
    """An RSS 2.0 document around raw `<item>` strings (callers escape their own values)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://quiet.example/</link>"
        f"<description>nothing about ceasefires</description>{''.join(items)}</channel></rss>"
    ).encode()


def quiet_item(i: int, base: str, *, guid: str | None = None, link: str | None = None,
               date: str | None = "Mon, 24 Jun 2024 10:00:00 GMT", title: str | None = None) -> str:
    """One entry no topic finds relevant (so a bad feed adds no terms or changes)."""
    parts = [f"<title>{title or f'Storm warning for the coast, update {i}'}</title>"]
    if link != "":
        parts.append(f"<link>{link or f'{base}/quiet/{i}.html'}</link>")
    if guid:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(f"<description>Rain and wind expected, item {i}.</description>")
    return "<item>" + "".join(parts) + "</item>"


def _raw_response(status: str, headers: dict[str, str], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"Connection: close\r\n\r\n" + body


def fault_zoo(server: LoopbackServer) -> dict[str, str]:
    """Install one bad feed per misbehaviour on `server`; returns {fault name: feed URL}.

    Every entry these feeds carry is about the weather, never relevant, so a bad feed adds
    no articles, terms or changes: whatever the good feeds beside it store must be exactly
    what they store alone.
    """
    base = server.base_url
    zoo: dict[str, str] = {}

    def fault(name: str, kind: str, **options: Any) -> None:
        zoo[name] = server.fault(f"/zoo/{name}.xml", kind, **options)

    def static(name: str, body: bytes | str, **kw: Any) -> None:
        zoo[name] = server.add(f"/zoo/{name}.xml", body, **kw)

    def raw(name: str, data: bytes) -> None:
        fault(name, "raw", body=data)

    fault("hang", "hang")
    fault("hang_body", "hang_body")
    fault("trickle", "trickle", size=600, interval=0.2)
    fault("reset", "reset")
    fault("close", "close")
    fault("garbage", "garbage")
    fault("redirect_loop", "redirect_loop")
    fault("redirect_chain", "redirect_chain", hops=20)
    fault("huge_30mb_chunked", "huge", size=30_000_000)
    fault("huge_30mb_declared", "huge", size=30_000_000, chunked=False)
    fault("gzip_bomb", "gzip_bomb", size=500_000_000)
    fault("deflate_bomb", "gzip_bomb", size=200_000_000, encoding="deflate")
    fault("retry_after_429", "retry_after", status=429, value=3600)
    http_date = formatdate(time.time() + 7200, usegmt=True)
    fault("retry_after_503_date", "retry_after", status=503, value=http_date)
    fault("html_page", "wrong_type")
    fault("empty", "empty")
    fault("no_content_type", "no_type", body=quiet_rss([quiet_item(1, base)]))
    static("wrong_content_type", quiet_rss([quiet_item(1, base)]), content_type="image/png")
    static("not_found", "gone fishing", status=404, content_type="text/plain")
    static("server_error", "oops", status=500, content_type="text/plain")
    # encodings
    bad_utf8 = quiet_rss([quiet_item(1, base, title="Storm \xff\xfe\xfd warning")]).replace(
        "Storm \xff\xfe\xfd".encode(), b"Storm \xff\xfe\xc3\x28 \xed\xa0\x80 warning")
    static("invalid_utf8", bad_utf8, content_type="application/rss+xml; charset=utf-8")
    lying = quiet_rss([quiet_item(1, base, title="Pluie sur la côte, très forte")]).decode()
    lying = lying.replace('encoding="UTF-8"', 'encoding="windows-1252"').encode("cp1252")
    static("lying_charset", lying, content_type="text/xml; charset=utf-8")
    utf16_lie = quiet_rss([quiet_item(1, base)]).decode().encode("utf-16-le")
    static("utf16_declared_utf8", utf16_lie, content_type="application/xml; charset=utf-8")
    # hostile XML
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    static("entity_expansion", (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">' + lol + "]>"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>Storm &lol9;</title>'
        f"<link>{base}/quiet/lol.html</link></item></channel></rss>"))
    static("entity_quadratic", (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + "x" * 50_000 + '">]>'
        '<rss version="2.0"><channel><title>Storms</title><item><title>' + "&big;" * 2000
        + f"</title><link>{base}/quiet/big.html</link></item></channel></rss>"))
    server.add("/zoo/secret.txt", "TOP-SECRET-XXE-MARKER", content_type="text/plain")
    server.add("/zoo/evil.dtd", '<!ENTITY % all "<!ENTITY leak SYSTEM \'file:///etc/hostname\'>">%all;',
               content_type="application/xml-dtd")
    static("xxe", (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        '  <!ENTITY passwd SYSTEM "file:///etc/passwd">\n'
        f'  <!ENTITY remote SYSTEM "{base}/zoo/secret.txt">\n'
        f'  <!ENTITY % dtd SYSTEM "{base}/zoo/evil.dtd"> %dtd;\n'
        ']>\n<rss version="2.0"><channel><title>Storm &passwd; &remote; &leak;</title>'
        f"<item><title>Storm &passwd;</title><link>{base}/quiet/xxe.html</link>"
        "<description>&remote;</description></item></channel></rss>"))
    static("xxe_external_dtd", (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{base}/zoo/evil.dtd">\n'
        '<rss version="2.0"><channel><title>Storm &leak;</title>'
        f"<item><title>Storm</title><link>{base}/quiet/dtd.html</link></item></channel></rss>"))
    # entries
    static("entries_10000", quiet_rss([quiet_item(i, base) for i in range(10_000)]))
    static("duplicate_guids", quiet_rss([
        quiet_item(1, base, guid="same"),
        quiet_item(2, base, guid="same"),                      # same guid, other link: dropped
        quiet_item(3, base, guid="other", link=f"{base}/quiet/1.html"),  # same link: dropped
        quiet_item(4, base, guid="fourth"),
    ]))
    static("odd_entries", quiet_rss([
        quiet_item(1, base, link="", guid="not-a-url"),              # no link at all: skipped
        quiet_item(2, base, link="", guid=f"{base}/quiet/guid-2.html"),  # guid stands in
        quiet_item(3, base, date=None),                              # no date
        quiet_item(4, base, date="Fri, 01 Jan 2100 00:00:00 GMT"),   # the future
        quiet_item(5, base, date="not a date at all"),
        quiet_item(6, base, link="javascript:alert(1)"),             # not http(s): skipped
    ]))
    # broken HTTP framing and encodings
    feed = quiet_rss([quiet_item(1, base)])
    raw("unsupported_encoding", _raw_response(
        "200 OK", {"Content-Type": "application/rss+xml", "Content-Encoding": "br",
                   "Content-Length": str(len(feed))}, feed))
    gz = gzip_module.compress(feed)
    raw("truncated_gzip", _raw_response(
        "200 OK", {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip",
                   "Content-Length": str(len(gz) // 2)}, gz[: len(gz) // 2]))
    raw("short_body", _raw_response(
        "200 OK", {"Content-Type": "application/rss+xml", "Content-Length": "100000"}, feed))
    raw("huge_headers", _raw_response(
        "200 OK", {"Content-Type": "application/rss+xml", "X-Junk": "j" * 2_000_000}, feed))
    zoo["dns_invalid"] = "http://feeds.invalid/rss"
    zoo["connection_refused"] = f"http://127.0.0.1:{closed_port()}/rss"
    return zoo
