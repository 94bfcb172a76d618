"""Fixtures for the loopback HTTP server (a real server on 127.0.0.1, one per test), and
the hypothesis profile for CI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from watcher.loopback import LoopbackServer

# CI (CI=true) replays the same examples every run, so a submission lands or fails on its
# own merits; on a developer's machine hypothesis keeps exploring new inputs, and what it
# finds becomes a regression test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A running LoopbackServer, stopped after the test even if a client is still hanging."""
    with LoopbackServer() as server:
        yield server
