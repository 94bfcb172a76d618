"""Text from outside (feeds, pages, servers) made safe to print and log.

A feed title with ``ESC ] 0 ; … BEL`` retitles the reader's terminal window, ``ESC [ 2 J``
clears the screen, an OSC 8 sequence shows link text that lies about its target. Every
string a feed or server supplies passes through :func:`printable` before it is stored,
printed or logged: escape sequences are removed whole, and the remaining C0 and C1
control characters (all but tab and newline) and the bidirectional overrides are dropped.
"""

from __future__ import annotations

import re

# ESC or CSI (U+009B) sequences: CSI ... final byte; OSC/DCS/PM/APC/SOS ... BEL or ST;
# any other two-character escape
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
# C0 and C1 controls but tab and newline; and the bidirectional embeddings, overrides and
# isolates (U+202A-202E, U+2066-2069), which make a terminal show text in an order other
# than the bytes' ("Trojan Source"): a title could show a different URL or amount.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab and newline
    stay)."""
    # Every escape sequence starts with a character _CONTROL matches (ESC, CSI or another
    # C1 control), so a text without one is returned as it is: one scan instead of two
    # substitutions (a feed summary holds line breaks, which isprintable() refuses).
    if not text or text.isprintable() or _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


# JSON escapes C0 controls (ESC is written \u001b) but not C1 ones (U+009B is CSI to many
# terminals): written as \u escapes, the strings a JSON reader gets are the same.
_C1_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x80, 0xA0)}


def json_printable(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) safe to print: its C1 control
    characters as ``\\u`` escapes (they occur only inside strings, where that is valid)."""
    return text.translate(_C1_ESCAPES)
