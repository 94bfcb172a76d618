"""Odd inputs (issue 14.16): binary and huge files given to `watcher extract`, an empty
search, a feed link that is only a scheme, a foreign SQLite file, a very long feed list."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from projection import make_config

from watcher.loopback import LoopbackServer
from watcher.pipeline import Pipeline
from watcher.store import Store

pytestmark = pytest.mark.timeout(120)


def watcher(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "watcher", *args], input=stdin, capture_output=True,
                          timeout=90, cwd=cwd)


def test_extract_refuses_a_binary_file(tmp_path: Path) -> None:
    blob = tmp_path / "photo.jpg"
    blob.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 20)
    result = watcher("extract", str(blob), cwd=tmp_path)
    assert result.returncode == 1
    assert b"\x00" not in result.stdout and result.stdout == b""
    assert f"error: cannot read {blob}: a binary file, not text or HTML".encode() in result.stderr


def test_extract_refuses_a_huge_file_and_titles_a_long_line_briefly(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"word " * 2_100_000)  # 10.5 MB
    result = watcher("extract", str(huge), cwd=tmp_path)
    assert result.returncode == 1 and b"over 10,000,000 bytes" in result.stderr
    line = ("Russia proposes a ceasefire in Ukraine and " * 2000).encode()  # 86 KB, one line
    result = watcher("extract", "-", "--nl", cwd=tmp_path, stdin=line)
    assert result.returncode == 0, result.stderr
    import json

    title = json.loads(result.stdout)["title"]
    assert len(title) <= 201 and title.endswith("…")


def test_a_search_with_no_words_is_a_usage_error(seed_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "{seed_db}"\n')
    result = watcher("search", '""', "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert b"nothing to search for" in result.stderr and b"fts5" not in result.stderr


def test_a_feed_link_that_is_only_a_scheme_is_no_article(loopback: LoopbackServer, tmp_path: Path) -> None:
    """`<link>http://</link>` resolved to the channel's home page, stored as an article."""
    text = ("Russia proposed a 30-day ceasefire in Ukraine on Monday, the Kremlin said. Kyiv rejected it, "
            "saying Russian troops must withdraw first.")
    loopback.add("/", "<html><body><p>Home page</p></body></html>", content_type="text/html")
    loopback.add("/feed.xml", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        f"<link>{loopback.base_url}/</link><description>x</description>"
        f"<item><title>Truce</title><link>http://</link><description>{text}</description></item>"
        "</channel></rss>"))
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/feed.xml"), "name": "x"}])
    store = Store.open(config.watcher.database)

    async def run() -> list:
        async with Pipeline(config, store) as pipeline:
            return await pipeline.poll(all_feeds=True)

    [report] = asyncio.run(run())
    assert report.outcome == "ok"
    assert store.query("select url from articles") == []
    assert loopback.hits("/") == 0


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("create table notes (body text)")
    conn.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "{foreign}"\n\n[[feeds]]\nurl = "http://127.0.0.1:9/x.xml"\n')
    result = watcher("poll", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert f"{foreign} is not a watcher database".encode() in result.stderr
    with sqlite3.connect(foreign) as conn:
        assert [r[0] for r in conn.execute("select name from sqlite_master")] == ["notes"]
        assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    conn.close()


def test_a_long_feed_list_prints_as_plain_lines(tmp_path: Path) -> None:
    """A rich table measures every cell (100,000 feeds took 45 s); past 1,000 feeds the
    list is plain aligned lines, one per feed."""
    lines = ['[watcher]\ndatabase = "w.db"\n']
    lines += [f'[[feeds]]\nurl = "https://example.org/{i}.xml"\nname = "Feed {i}"\n' for i in range(1500)]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines))
    result = watcher("feeds", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().splitlines()
    assert out[0] == "1500 feeds (times UTC)" and out[1].split()[:3] == ["id", "state", "errors"]
    assert len(out) == 1502 and out[-1].split()[-2:] == ["Feed", "1499"]
    assert not any(c in result.stdout.decode() for c in "─━│")
