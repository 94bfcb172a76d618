"""Refuse to fetch URLs that point into private networks (SSRF guard for article links).

Feeds are configured by the user, but the article links inside them are written by whoever
publishes the feed. Following such a link from a server must not let a feed make us talk
to 127.0.0.1, the LAN, or a cloud metadata endpoint (169.254.169.254, which hands out
credentials), so `Fetcher.get(..., allow_private=False)` calls `check_url` before every hop.

DNS rebinding: `check_url` resolves the host, and the connection would resolve it again; a
hostile DNS server can answer a public address to the first look-up and a private one to the
second (TTL 0). So a guarded request also tells the transport (`transport.PUBLIC_ONLY`), which
connects only to addresses from its own look-up that `public_addresses` passed, and never
reuses a pooled connection whose peer is not public. Through a proxy from the environment
(httpx's own transport) only `check_url` applies: the proxy makes the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

# Cloud instance metadata endpoints (AWS, GCP, Azure, OpenStack, ... all use the IPv4 one;
# AWS also answers on the IPv6 one). Named separately so refusals say what they are.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# Shared address space (carrier-grade NAT, RFC 6598): neither private nor global in the stdlib.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnresolvableHost(OSError):
    """The host name does not resolve; raised by `check_url` (a network error, not a refusal)."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"cannot resolve host {host}: {detail}")
        self.host = host


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv6 one (mapped, 6to4, NAT64), which is what gets reached."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify_address(ip: str) -> str | None:
    """Why `ip` is not a public address ("loopback", "private", ...), or None when it is."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone id ("fe80::1%eth0")
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_ipv4(addr)
        if inner is not None:
            return classify_address(str(inner))
    checks = (
        (addr in METADATA_ADDRESSES, "cloud metadata"),
        (addr.is_unspecified, "unspecified"),
        (addr.is_loopback, "loopback"),
        (addr.is_link_local, "link-local"),
        (addr.is_multicast, "multicast"),
        (addr.version == 4 and addr in _SHARED, "shared (carrier-grade NAT)"),
        (addr.is_reserved, "reserved"),
        (addr.is_private, "private"),
        (not addr.is_global, "non-global"),
    )
    return next((label for hit, label in checks if hit), None)


def is_public_address(ip: str) -> bool:
    """True only for globally routable unicast addresses; False for anything we must not reach."""
    return classify_address(ip) is None


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, the way the connection will resolve it (getaddrinfo)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnresolvableHost(host, exc.strerror or str(exc)) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Refused(Exception):
    """A connection the guard will not make; `reason` is in `check_url`'s words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refusal(host: str, addresses: list[str]) -> str | None:
    for address in addresses:
        label = classify_address(address)
        if label:
            return f"refused: {host} resolves to {label} address {address}"
    return None


async def public_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, all public (one look-up, used as it is, so a
    second answer cannot differ). Raises `Refused` if any is not public, `UnresolvableHost`."""
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        addresses = await resolve(host, port)
    else:
        label = classify_address(str(literal))
        if label:
            raise Refused(f"refused: {host} is a {label} address")
        return [host]
    reason = _refusal(host, addresses)
    if reason:
        raise Refused(reason)
    return addresses


async def check_url(url: str) -> str | None:
    """Refusal reason for `url` ("refused: feed.example resolves to private address 10.0.0.5"),
    or None when every address its host resolves to is public.

    Literal IP hosts are checked without DNS. Raises `UnresolvableHost` when the name does not
    resolve, so the caller can report a network error rather than a refusal.
    """
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")  # the name the connection looks up (IDNA 2008)
    if parsed.scheme not in ("http", "https") or not host:
        return f"refused: {url} is not an http(s) URL"
    try:
        await public_addresses(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except Refused as exc:
        return exc.reason
    return None
