"""XML safety for feed bytes: the DOCTYPE internal subset is stripped before any parser
sees the body, entity bombs are refused, UTF-16/32 is transcoded to UTF-8 (see
``watcher.feeds.parse`` for why)."""

from __future__ import annotations

import re

__all__ = ["entity_bomb", "strip_internal_subset", "transcode_wide"]

_WS = b" \t\r\n"
_DOCTYPE = b"<!doctype"
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")

# (BOM or first bytes of "<?" / "<"), codec used to decode, codec + BOM used to re-encode
_WIDE_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
    (b"\x00\x3c", "utf-16-be"),
    (b"\x3c\x00", "utf-16-le"),
]
_WIDE_CHARSETS = {
    "utf-16": "utf-16", "ucs-2": "utf-16", "utf-16le": "utf-16-le", "utf-16-le": "utf-16-le",
    "utf-16be": "utf-16-be", "utf-16-be": "utf-16-be", "utf-32": "utf-32", "ucs-4": "utf-32",
    "utf-32le": "utf-32-le", "utf-32-le": "utf-32-le", "utf-32be": "utf-32-be",
    "utf-32-be": "utf-32-be",
}
_BOMS = {
    "utf-32-be": b"\x00\x00\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-16-be": b"\xfe\xff",
    "utf-16-le": b"\xff\xfe",
}


def _skip_quoted_or_markup(data: bytes, i: int) -> int | None:
    """If a quoted literal, comment or PI starts at i, return the index after it (None when
    unterminated); return i when nothing of the kind starts there."""
    c = data[i : i + 1]
    if c in (b'"', b"'"):
        j = data.find(c, i + 1)
        return None if j < 0 else j + 1
    if data.startswith(b"<!--", i):
        j = data.find(b"-->", i + 4)
        return None if j < 0 else j + 3
    if data.startswith(b"<?", i):
        j = data.find(b"?>", i + 2)
        return None if j < 0 else j + 2
    return i


def _strip_subset_ascii(data: bytes) -> tuple[bytes, bytes | None]:
    """The work of `strip_internal_subset` for ASCII-compatible bytes; also returns the
    internal subset removed (None when there was none)."""
    if b"<!" not in data[:4096] and _DOCTYPE not in data[:65536].lower():
        return data, None
    n = len(data)
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    # Walk the prolog: whitespace, PIs, comments, until a DOCTYPE or anything else.
    while True:
        while i < n and data[i] in _WS:
            i += 1
        if data.startswith(b"<?", i) or data.startswith(b"<!--", i):
            j = _skip_quoted_or_markup(data, i)
            if j is None:
                return data, None
            i = j
            continue
        break
    if data[i : i + len(_DOCTYPE)].lower() != _DOCTYPE:
        return data, None
    doctype_start = i
    i += len(_DOCTYPE)
    # Up to '[' (internal subset) or '>' (none), skipping PUBLIC/SYSTEM literals.
    while i < n:
        c = data[i : i + 1]
        if c == b">":
            return data, None
        if c == b"[":
            break
        if c in (b'"', b"'"):
            j = _skip_quoted_or_markup(data, i)
            if j is None:
                break
            i = j
            continue
        i += 1
    else:
        return data, None
    subset_start = i
    i += 1
    end = None
    while i < n:
        c = data[i : i + 1]
        if c == b"]":
            k = i + 1
            while k < n and data[k] in _WS:
                k += 1
            if data[k : k + 1] == b">":
                end = (i, k + 1)
                break
            i += 1
            continue
        j = _skip_quoted_or_markup(data, i)
        if j is None:
            break
        i = j if j != i else i + 1
    if end is None:
        # Unterminated subset: the document is broken anyway. Drop everything up to the
        # first element so no declaration survives for the lenient parser.
        m = _FIRST_ELEMENT.search(data, subset_start)
        rest = data[m.start() :] if m else b""
        return data[:doctype_start] + rest, data[subset_start + 1 : m.start() if m else None]
    head = data[doctype_start:subset_start].rstrip()
    return data[:doctype_start] + head + b">" + data[end[1] :], data[subset_start + 1 : end[0]]


def _wide_codec(body: bytes, charset: str | None) -> str | None:
    """The UTF-16/32 codec of `body`, from its BOM, its first bytes or the HTTP charset."""
    for sig, codec in _WIDE_SIGNATURES:
        if body.startswith(sig):
            return codec
    cs = (charset or "").lower().replace("_", "-")
    if cs in _WIDE_CHARSETS:
        codec = _WIDE_CHARSETS[cs]
        if codec in ("utf-16", "utf-32"):  # no BOM: guess the byte order from "<"
            codec += "-be" if body[:1] == b"\x00" else "-le"
        return codec
    return None


def strip_internal_subset(body: bytes) -> bytes:
    """Remove a DOCTYPE's internal subset from a feed body: `<!DOCTYPE rss [ ... ]>` becomes
    `<!DOCTYPE rss>`, taking every entity declaration (internal and SYSTEM) with it.

    Works on the bytes of any ASCII-compatible encoding (UTF-8, Latin-1, cp1251, ...);
    `transcode_wide` turns UTF-16/32 into UTF-8 first. Returns `body` itself when there is
    nothing to strip.
    """
    return _strip_subset_ascii(body)[0]


_ENTITY_VALUE = re.compile(rb"""<!ENTITY\s+(?:%\s+)?[^\s"'<>]+\s+(["'])(.*?)\1""", re.S)
_ENTITY_REF = re.compile(rb"[&%][A-Za-z_:]")
MAX_ENTITY_VALUE = 4096


def entity_bomb(subset: bytes) -> str | None:
    """Why an internal subset looks like an entity-expansion attack, or None.

    Entities defined through other entities (the "billion laughs" chain) and very large
    entity values have no honest use in a feed; such a feed is refused outright rather
    than parsed with its entities left undefined.
    """
    for m in _ENTITY_VALUE.finditer(subset):
        value = m.group(2)
        if _ENTITY_REF.search(value):
            return "the DOCTYPE defines entities through other entities (billion laughs)"
        if len(value) > MAX_ENTITY_VALUE:
            return f"the DOCTYPE defines an entity of {len(value):,} bytes (entity expansion)"
    return None


_XML_DECL_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def transcode_wide(body: bytes, charset: str | None = None) -> bytes | None:
    """UTF-8 bytes of a UTF-16/32 body (told by a BOM, its first bytes or `charset`), with
    the XML declaration saying so; None when the body is not UTF-16/32 or does not decode.

    Besides letting the subset stripping work on bytes, this fixes feedparser rejecting a
    UTF-16 feed that has a BOM but no encoding in its XML declaration.
    """
    codec = _wide_codec(body, charset)
    if codec is None:
        return None
    bom = _BOMS[codec]
    start = len(bom) if body.startswith(bom) else 0
    try:
        text = body[start:].decode(codec)
    except UnicodeDecodeError:
        return None
    out = text.encode("utf-8", "surrogatepass")
    return _XML_DECL_ENCODING.sub(rb"\1\2utf-8\2", out, count=1)
