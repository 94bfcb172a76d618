"""Per-request CPU of HTTP clients on the same bytes over loopback, against a floor.

    python bench/fetch_client.py [--feeds 400] [--rounds 5] [--concurrency 16]

The synthetic feeds of `bench/synth.py` (~59 KB, gzipped, with ETags) are served by a
`LoopbackServer` in another process, so only the client's CPU is counted. Each round runs
every client once in rotated order over every URL, twice: a plain GET (200, gzip body) and
a conditional GET (304). Printed: CPU ms a request min / median / max over the rounds, and
the median ÷ the floor's median in the same run.

- `floor`: a bare asyncio client (streams, one request per connection, `Connection: close`,
  the body read to EOF and gunzipped): what fetching costs with no HTTP machinery at all.
- `Fetcher(httpcore)`: `watcher.fetch.Fetcher` on httpx's default transport (httpcore).
- `Fetcher(h11)`: `Fetcher` as it is now, on `watcher.transport.H11Transport`.
- `httpx+h11`, `httpx+httpcore`: a bare `httpx.AsyncClient` stream per request (no
  `Fetcher`: no slots, deadline, redirect loop, inflater), on each transport.
- `httpcore`: httpcore's pool used directly; `aiohttp`: aiohttp's session (if installed,
  `auto_decompress=False`, our inflater), both with the same headers and concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HEADERS = {"User-Agent": "bench", "Accept-Encoding": "gzip, deflate"}
URLs = list[tuple[str, str | None]]  # (feed URL, its ETag for the conditional GET, or None)
Client = Callable[[URLs, int], Awaitable[list[int]]]


def _serve(conn, feeds: int) -> None:  # the server process
    import synth

    from watcher.loopback import LoopbackServer

    srv = LoopbackServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        synth.generate(Path(tmp), feeds=feeds, stories=20)
        bodies, _pages = synth.load(Path(tmp), srv.url(""))
    urls = []
    for path, body in sorted(bodies.items()):
        if path.startswith("/feeds/"):
            srv.add(path, body, content_type="application/rss+xml", gzip=True)
            urls.append((srv.url(path), '"' + hashlib.sha256(body).hexdigest()[:20] + '"'))
    conn.send(urls)
    conn.recv()
    srv.stop()


async def _gather(jobs, concurrency: int) -> list:
    sem = asyncio.Semaphore(concurrency)

    async def one(job):
        async with sem:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


def _inflate(body: bytes, coding: str | None) -> bytes:
    return zlib.decompress(body, 16 + zlib.MAX_WBITS) if coding == "gzip" else body


# --- the clients: each returns the statuses it saw ----------------------------------------


async def floor(urls: URLs, concurrency: int) -> list[int]:
    async def get(url: str, etag: str | None) -> int:
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        extra = f"If-None-Match: {etag}\r\n" if etag else ""
        writer.write(f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nAccept-Encoding: gzip\r\n"
                     f"{extra}Connection: close\r\n\r\n".encode())
        data = await reader.read()
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head[9:12])
        if status == 200:
            _inflate(body, "gzip" if b"gzip" in head else None)
        return status

    return await _gather([lambda u=u, e=e: get(u, e) for u, e in urls], concurrency)


async def fetcher(urls: URLs, concurrency: int, transport: str) -> list[int]:
    import httpx

    from watcher.fetch import Fetcher

    f = Fetcher(concurrency=concurrency, per_host=concurrency, user_agent="bench")
    if transport == "httpcore":  # the client as it was before watcher/transport.py
        await f._client.aclose()
        f._client = httpx.AsyncClient(
            http1=True, http2=False, follow_redirects=False, timeout=httpx.Timeout(20.0),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers=HEADERS,
        )
    async with f:
        results = await asyncio.gather(*(f.get(u, etag=e) for u, e in urls))
    return [r.status or 0 for r in results]


async def bare_httpx(urls: URLs, concurrency: int, transport: str) -> list[int]:
    import httpx

    from watcher.transport import H11Transport

    kw = {"transport": H11Transport(max_keepalive=concurrency)} if transport == "h11" else {
        "limits": httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)}
    async with httpx.AsyncClient(headers=HEADERS, timeout=20.0, **kw) as client:
        async def get(url: str, etag: str | None) -> int:
            headers = {"If-None-Match": etag} if etag else None
            async with client.stream("GET", url, headers=headers) as r:
                body = b"".join([c async for c in r.aiter_raw()])
                _inflate(body, r.headers.get("content-encoding"))
                return r.status_code

        return await _gather([lambda u=u, e=e: get(u, e) for u, e in urls], concurrency)


async def bare_httpcore(urls: URLs, concurrency: int) -> list[int]:
    import httpcore

    async with httpcore.AsyncConnectionPool(max_connections=concurrency) as pool:
        async def get(url: str, etag: str | None) -> int:
            headers = dict(HEADERS, **({"If-None-Match": etag} if etag else {}))
            async with pool.stream("GET", url, headers=headers) as r:
                body = b"".join([c async for c in r.aiter_stream()])
                coding = dict(r.headers).get(b"Content-Encoding")
                _inflate(body, "gzip" if coding == b"gzip" else None)
                return r.status

        return await _gather([lambda u=u, e=e: get(u, e) for u, e in urls], concurrency)


async def bare_aiohttp(urls: URLs, concurrency: int) -> list[int]:
    import aiohttp

    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, auto_decompress=False, headers=HEADERS) as s:
        async def get(url: str, etag: str | None) -> int:
            headers = {"If-None-Match": etag} if etag else None
            async with s.get(url, headers=headers, allow_redirects=False) as r:
                body = await r.read()
                _inflate(body, r.headers.get("Content-Encoding"))
                return r.status

        return await _gather([lambda u=u, e=e: get(u, e) for u, e in urls], concurrency)


def clients() -> dict[str, Client]:
    """Every client to compare, by the name printed; aiohttp only if it is installed (the
    `bench` extra), so the bench still runs without it."""
    out = {
        "floor": floor,
        "Fetcher(httpcore)": lambda u, c: fetcher(u, c, "httpcore"),
        "Fetcher(h11)": lambda u, c: fetcher(u, c, "h11"),
        "httpx+httpcore": lambda u, c: bare_httpx(u, c, "httpcore"),
        "httpx+h11": lambda u, c: bare_httpx(u, c, "h11"),
        "httpcore": bare_httpcore,
    }
    try:
        import aiohttp  # noqa: F401

        out["aiohttp"] = bare_aiohttp
    except ImportError:
        print("aiohttp not installed: skipped", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args(argv)
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(there, args.feeds))
    server.start()
    table = clients()
    names = list(table)
    cpu = {(n, k): [] for n in names for k in ("200", "304")}
    try:
        urls = here.recv()
        plain = [(u, None) for u, _ in urls]
        for name in names:  # warm-up: imports, server threads
            asyncio.run(table[name](plain[:32], args.concurrency))
        for rnd in range(args.rounds):
            k = rnd % len(names)
            for name in names[k:] + names[:k]:
                for kind, batch in (("200", plain), ("304", urls)):
                    t0 = time.process_time()
                    statuses = asyncio.run(table[name](batch, args.concurrency))
                    cpu[(name, kind)].append((time.process_time() - t0) / len(batch) * 1000)
                    want = 200 if kind == "200" else 304
                    if any(s != want for s in statuses):
                        raise SystemExit(f"{name}: got {sorted(set(statuses))}, wanted {want}")
    finally:
        here.send("stop")
        server.join()
    print(f"{args.feeds} GETs a batch, concurrency {args.concurrency}, {args.rounds} rounds; "
          "CPU ms a request min / median / max, and median ÷ the floor's median:")
    for kind in ("200", "304"):
        base = statistics.median(cpu[("floor", kind)])
        print(f"  {'gzip 200' if kind == '200' else 'conditional 304'}:")
        for name in names:
            v = sorted(cpu[(name, kind)])
            med = statistics.median(v)
            print(f"    {name:<18} {v[0]:6.3f} / {med:6.3f} / {v[-1]:6.3f}   {med / base:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
