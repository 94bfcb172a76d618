"""Shared fixtures: the loopback HTTP server (a real server on 127.0.0.1, one per test), the
demo database built once per session, and the hypothesis profile for CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import LoopbackServer
from hypothesis import settings

# CI (CI=true) replays the same examples every run, so a submission lands or fails on its
# own merits; on a developer's machine hypothesis keeps exploring new inputs, and what it
# finds becomes a regression test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's database, built once per session by the real pipeline: Demo News' baseline
    poll (seed 000), seed 004, Demo Wire's follow-up widening Russia's withdrawal demand,
    then Demo News' edit of seed 004. Tests use copies, never this file."""
    from watcher.demo import build_demo_db

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo_db(path)  # closed on return: no -wal file, a plain copy is complete
    return path


@pytest.fixture(scope="module")
def seed_db(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo database for one test module (its tests may write to it)."""
    path = tmp_path_factory.mktemp("seed") / "watcher.db"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A running LoopbackServer, stopped after the test even if a client is still hanging."""
    with LoopbackServer() as server:
        yield server
