"""The HTTP pool's keep-alive size against event-loop CPU: N GETs through `Fetcher`.

    python bench/fetch_pool.py [--feeds 400] [--hosts 1] [--per-host 16] [--tls] [--rounds 8]

The bodies (60 KB, gzipped) are served by `LoopbackServer`s in another process, one per
loopback address 127.0.0.1 ... 127.0.0.H, so only the client's CPU is counted. With `--tls`
they are served over TLS with a trustme CA (a handshake per new connection, as on the
internet). Each round runs every keep-alive size once, in rotated order; printed: CPU s
min / median / max per size. Measures only; `watcher/fetch.py` is not changed by it (it
swaps the `Fetcher`'s client for one with the size under test).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _serve(conn, feeds: int, hosts: int, pems: tuple[bytes, bytes] | None) -> None:  # server process
    from watcher.loopback import LoopbackServer

    ctx = None
    if pems is not None:
        folder = tempfile.mkdtemp()
        cert, key = os.path.join(folder, "c.pem"), os.path.join(folder, "k.pem")
        Path(cert).write_bytes(pems[0])
        Path(key).write_bytes(pems[1])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    servers = []
    for h in range(hosts):
        srv = LoopbackServer(host=f"127.0.0.{h + 1}").start()
        if ctx is not None:  # the listening socket wrapped: every accepted connection is TLS
            srv._httpd.socket = ctx.wrap_socket(srv._httpd.socket, server_side=True)
        servers.append(srv)
    body = b"<rss>" + b"x" * 60000 + b"</rss>"
    urls = []
    for i in range(feeds):
        srv = servers[i % hosts]
        srv.add(f"/f/{i}.xml", body, content_type="application/rss+xml", gzip=True)
        url = srv.url(f"/f/{i}.xml")
        urls.append(url.replace("http://", "https://", 1) if ctx is not None else url)
    conn.send(urls)
    conn.recv()
    for srv in servers:
        srv.stop()


async def _run(urls: list[str], keep: int, per_host: int, verify: ssl.SSLContext | bool) -> float:
    import httpx

    from watcher.fetch import Fetcher

    fetcher = Fetcher(concurrency=16, per_host=per_host)
    await fetcher._client.aclose()
    fetcher._client = httpx.AsyncClient(
        http1=True, follow_redirects=False, timeout=httpx.Timeout(20.0), verify=verify,
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=keep),
        headers={"User-Agent": "bench", "Accept-Encoding": "gzip, deflate"},
    )
    t0 = time.process_time()
    results = await asyncio.gather(*(fetcher.get(u) for u in urls))
    cpu = time.process_time() - t0
    await fetcher.aclose()
    bad = [r for r in results if r.status != 200]
    if bad:
        raise SystemExit(f"{len(bad)} fetches failed: {bad[0].error_kind} {bad[0].error}")
    return cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=400)
    ap.add_argument("--hosts", type=int, default=1)
    ap.add_argument("--per-host", type=int, default=16)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--sizes", default="16,8,4,1", help="keep-alive sizes to compare")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    verify: ssl.SSLContext | bool = True
    pems = None
    if args.tls:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert(*[f"127.0.0.{h + 1}" for h in range(args.hosts)])
        pems = (cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes())
        verify = ssl.create_default_context()
        ca.configure_trust(verify)
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(there, args.feeds, args.hosts, pems))
    server.start()
    try:
        urls = here.recv()
        asyncio.run(_run(urls, sizes[0], args.per_host, verify))  # warm-up: imports, server threads
        cpu: dict[int, list[float]] = {s: [] for s in sizes}
        for rnd in range(args.rounds):
            k = rnd % len(sizes)
            for size in sizes[k:] + sizes[:k]:
                cpu[size].append(asyncio.run(_run(urls, size, args.per_host, verify)))
    finally:
        here.send("stop")
        server.join()
    print(f"{args.feeds} GETs, {args.hosts} host(s), per_host {args.per_host}, {'TLS' if args.tls else 'plain'}:")
    for size, values in cpu.items():
        print(f"  keep-alive {size:>3}: CPU s {min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
