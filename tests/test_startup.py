"""Fixed costs kept fixed: what a command and a pool worker import (never how long it takes:
speed is measured in bench/startup.py). Real processes, real imports."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

from watcher.cli import LAZY_COMMANDS, LAZY_FEEDS_SUBCOMMANDS, cli
from watcher.work import exit_with_parent

HEAVY = ("watcher.store", "sqlite_utils", "sqlite3", "asyncio", "httpx", "rich", "watcher.digest",
         "watcher.cli.history", "feedparser", "trafilatura", "apscheduler")


def modules_after(argv: list[str], cwd: Path) -> set[str]:
    """The modules a `watcher` command imported by the time it exited."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: sys.__stderr__.write('MODULES' + json.dumps(sorted(sys.modules))))\n"
        f"sys.argv = ['watcher', *{argv!r}]\n"
        "from watcher.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60)
    return set(json.loads(proc.stderr.split("MODULES", 1)[1]))


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    loaded = modules_after(["--help"], tmp_path)
    assert not [m for m in HEAVY if m in loaded]


def test_extract_of_a_text_file_imports_no_store_network_or_parser(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Russia demanded that Ukraine withdraw from Zaporizhzhia before a ceasefire.\n")
    loaded = modules_after(["extract", "--json", str(text)], tmp_path)
    assert "watcher.terms" in loaded
    assert not [m for m in ("watcher.store", "sqlite_utils", "asyncio", "httpx", "feedparser",
                            "trafilatura", "watcher.digest") if m in loaded]


def test_lazy_commands_are_listed_with_their_own_help() -> None:
    """The help lines recorded for lazy commands are the commands' own (no drift)."""
    for group, table in ((cli, LAZY_COMMANDS), (cli.commands["feeds"], LAZY_FEEDS_SUBCOMMANDS)):
        ctx = click.Context(group)
        for name, (_, short_help) in table.items():
            command = group.get_command(ctx, name)
            assert command is not None and command.name == name
            assert command.get_short_help_str(10_000) == short_help, name


def test_every_command_still_runs_its_help(tmp_path: Path) -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    for name in [*LAZY_COMMANDS, "run", "poll", "extract", "feeds", "reprocess", "demo"]:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
    for name in LAZY_FEEDS_SUBCOMMANDS:
        assert runner.invoke(cli, ["feeds", name, "--help"]).exit_code == 0


_POOL_MODULES = r"""
import json, sys
from watcher.pipeline import make_process_pool, parse_for_poll, read_article
from watcher.relevance import default_topic
from datetime import UTC, datetime
data = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>Ceasefire"
        b" talks</title><link>http://a.example/1</link></item></channel></rss>")
pool = make_process_pool(int(sys.argv[1]))
listing = "sorted(__import__('sys').modules)"
try:
    parsed, scored = pool.submit(parse_for_poll, data, {}, "http://a.example/f.xml",
                                 [default_topic()]).result(timeout=60)
    assert scored
    first = pool.submit(eval, listing).result(timeout=60)
    text = "Russia and Ukraine agreed a 30-day ceasefire in Geneva on Monday. " * 4
    draft = pool.submit(read_article, None, "http://a.example/1", "t", text, None, "{}",
                        datetime.now(UTC)).result(timeout=60)
    assert draft is not None and draft.text_source == "feed"
    feed_text = pool.submit(eval, listing).result(timeout=60)
    page = b"<html><body><article><p>" + b"Russia and Ukraine agreed a 30-day ceasefire. " * 8 + b"</p></article></body></html>"
    draft = pool.submit(read_article, page, "http://a.example/1", "t", "", None, "{}",
                        datetime.now(UTC)).result(timeout=60)
    assert draft is not None and draft.text_source == "page"
    after = pool.submit(eval, listing).result(timeout=60)
finally:
    pool.shutdown()
print(json.dumps([first, feed_text, after]))
"""


def _pool_modules(workers: int) -> tuple[set[str], set[str], set[str]]:
    """The modules a worker of a new process's pool has after a parse, after a snapshot of
    a feed's text and after a page read (the fork server is one per process: each case
    needs a process of its own)."""
    out = subprocess.run([sys.executable, "-c", _POOL_MODULES, str(workers)], capture_output=True,
                         text=True, timeout=120, check=True)
    return tuple(set(names) for names in json.loads(out.stdout.splitlines()[-1]))


def test_a_pool_worker_imports_only_parsing_and_then_extraction_when_it_reads() -> None:
    """A worker of the pipeline's own pool of one (forked from a fork server that warmed
    ``watcher.workwarm``) has the parser and not the article stage until it reads a page;
    never the network, the event loop or the database. With several workers the fork
    server warms the article stage too (once, not once per worker)."""
    first, feed_text, after = _pool_modules(1)
    assert {"watcher.feeds", "watcher.feeds.fastxml", "watcher.relevance", "watcher.workwarm"} <= first
    assert not [m for m in ("watcher.article", "watcher.terms", "trafilatura") if m in first]
    assert "watcher.terms" in feed_text  # the extractor, for the feed's own text ...
    assert not [m for m in ("watcher.article", "trafilatura") if m in feed_text]  # ... no page reader
    assert {"watcher.article", "watcher.terms", "trafilatura"} <= after
    for loaded in (first, feed_text, after):
        assert not [m for m in ("watcher.store", "sqlite_utils", "sqlite3", "asyncio", "httpx",
                                "watcher.pipeline", "watcher.fetch") if m in loaded]
    first, _, _ = _pool_modules(2)
    assert {"watcher.article", "watcher.terms", "trafilatura", "watcher.workwarm_articles"} <= first


def test_a_spawned_worker_imports_only_the_slim_entry() -> None:
    """Where there is no fork server: a spawned worker unpickling a stage imports
    ``watcher.work`` and what the stage needs, not the pipeline."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent, initargs=(os.getpid(),))
    try:
        loaded = set(pool.submit(eval, "sorted(__import__('sys').modules)").result(timeout=60))
    finally:
        pool.shutdown()
    assert "watcher.work" in loaded
    assert not [m for m in ("watcher.store", "sqlite_utils", "sqlite3", "asyncio", "httpx",
                            "watcher.pipeline", "watcher.fetch", "click") if m in loaded]


_STORE_AN_EDIT = r"""
import sys
from watcher.record import record_check
from watcher.store import SnapshotDraft, Store, utcnow
store = Store.open(sys.argv[1])
draft = SnapshotDraft(title="Edited", text="Kyiv and Moscow agreed a ceasefire, officials said.",
                      content_hash="an-edit", text_source="page", language="en", fetched_at=utcnow(), terms=[])
assert record_check(store, 1, draft, checked_at=utcnow(), next_check_at=None).snapshots_new == 1
print("trafilatura" in sys.modules, "watcher.article" in sys.modules)
"""


def test_storing_a_snapshot_does_not_import_the_page_reader(seed_db: Path, tmp_path: Path) -> None:
    """The event loop stores snapshots and their diffs; the diff is textnorm's: storing the
    first edit used to import watcher.article and with it trafilatura (~0.15 CPU-s)."""
    import shutil

    copy = tmp_path / "edit.db"
    shutil.copy(seed_db, copy)
    out = subprocess.run([sys.executable, "-c", _STORE_AN_EDIT, str(copy)], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_fork_servers_article_warm_up_extracts_and_loads_the_model() -> None:
    """``watcher.workwarm_articles`` (a pool of several workers) warms the whole article
    stage once: its page is below trafilatura's minimum, so the feed's text it passes is
    extracted, and the extractor's model is loaded there, not in each worker."""
    code = ("import watcher.workwarm_articles\n"
            "from watcher.terms.learned import shipped\n"
            "print(shipped.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split()[-1] == "1"
