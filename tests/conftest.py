"""Fixtures for the loopback HTTP server (a real server on 127.0.0.1, one per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from watcher.loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A running LoopbackServer, stopped after the test even if a client is still hanging."""
    with LoopbackServer() as server:
        yield server
