"""The library's one error base: a problem the user can act on, phrased for them.

Every error the library raises on purpose derives from :class:`WatcherError`; its text is
the whole message (what, where, what to do), so the command line prints it as one
``error: <message>`` line and exits with ``exit_code`` (2: bad input or config, nothing
ran; 1: something failed). A script using the library catches ``WatcherError`` alone.
"""

from __future__ import annotations


class WatcherError(Exception):
    """A problem the user can act on; ``str(err)`` is the message they see."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)
