"""URL canonicalisation: one spelling per article and feed URL.

Its own module (standard library only) so that reading the config, which checks feed URLs
for duplicates, does not import feedparser and lxml with the rest of ``watcher.feeds``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit, urlunsplit

TRACKING_PARAMS: frozenset[str] = frozenset(
    p.lower()
    for p in (
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "twclid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "ocid", "cmpid",
        "at_medium", "at_campaign", "at_link", "at_ptr_name", "at_format", "at_bbc_team",
        "CMP", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "smid", "smtyp", "taid", "xtor", "ito", "icid", "_ga", "_gl", "_hsenc", "_hsmi",
        "mkt_tok", "mbid", "s_kwcid", "s_cid", "wt.mc_id", "wt_mc_id", "oly_anon_id",
        "oly_enc_id", "rb_clickid", "vero_id", "guccounter", "guce_referrer",
        "guce_referrer_sig", "__twitter_impression", "sr_share", "cid_source", "dicbo",
        "spm", "ftag", "tpcc", "rss_source",
    )
)
_TRACKING_PREFIXES = ("utm_", "at_custom", "pk_", "mtm_", "hsa_")

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SAFE_PATH = _UNRESERVED | frozenset("!$&'()*+,;=:@/%")
_SAFE_QUERY = _SAFE_PATH | frozenset("?")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalise_pct(part: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape characters
    that may not appear raw (spaces, non-ASCII as UTF-8). A lone '%' is left alone."""

    def unescape(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    if "%" in part:
        part = _PCT.sub(unescape, part)
    if safe.issuperset(part):  # every character safe (a C loop, not a generator)
        return part
    out = []
    for c in part:
        if c in safe:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, so /a/./b/../c and /a/c are one URL."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for idx, seg in enumerate(segments):
        last = idx == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def _idna_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_PARAMS or k.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """One spelling per article URL, so the same story reached through two feeds, two
    campaigns or two encodings is stored once.

    Lower-cases scheme and host (IDNA-encoded), drops default ports, the fragment and
    tracking query parameters (utm_*, fbclid, ...; the rest keep their order), turns an
    empty path into "/", removes dot segments and normalises percent-escapes. Anything
    that is not an http(s) URL with a host comes back only stripped of whitespace.
    Idempotent.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        return url
    authority = _authority(scheme, parts.netloc)
    if authority is None:
        return url
    path = _remove_dot_segments(_normalise_pct(parts.path, _SAFE_PATH)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    query = ""
    if parts.query:
        kept = []
        for piece in parts.query.split("&"):
            if not piece:
                continue
            piece = _normalise_pct(piece, _SAFE_QUERY)
            if _is_tracking(piece.split("=", 1)[0]):
                continue
            kept.append(piece)
        query = "&".join(kept)
    return urlunsplit((scheme, authority, path, query, ""))


@lru_cache(maxsize=1024)
def _authority(scheme: str, netloc: str) -> str | None:
    """The canonical "userinfo@host:port" of a URL's netloc, or None when the URL has no
    host to canonicalise (it is then returned as it is). Cached: a feed's entries share a
    handful of hosts, and urllib's hostname and port properties re-parse the netloc."""
    probe = SplitResult(scheme, netloc, "", "", "")
    try:
        hostname = probe.hostname or ""
        port = probe.port
    except ValueError:
        return None
    if not hostname:  # "http://[::1]@[/": no host to canonicalise; leave it as it is
        return None
    userinfo = ""
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0] + "@"
    if netloc.rsplit("@", 1)[-1].startswith("["):
        host = "[" + hostname + "]"
    else:
        host = _idna_host(hostname)
    if not host:
        return None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return userinfo + host
