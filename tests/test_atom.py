"""`watcher export atom`: a valid Atom 1.0 feed of term changes with stable entry ids,
and every value escaped, including hostile ones."""

from __future__ import annotations

import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from watcher.atom import ATOM_NS, changes_feed, entry_id, rfc3339
from watcher.cli import cli
from watcher.cli.history import COMMANDS

for _command in COMMANDS:
    cli.add_command(_command)

A = f"{{{ATOM_NS}}}"


def config_for(folder: Path, db: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "{db}"\nlog_level = "WARNING"\n')
    return config


def export(config: Path, *args: str) -> bytes:
    result = CliRunner().invoke(cli, ["export", "atom", "--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def check_atom(document: bytes) -> ET.Element:
    """The Atom 1.0 rules a reader relies on (RFC 4287 section 4)."""
    root = ET.fromstring(document)
    assert root.tag == A + "feed"
    for tag in ("id", "title", "updated"):
        assert len(root.findall(A + tag)) == 1, tag
    assert root.find(f"{A}author/{A}name").text
    ids = []
    for entry in root.findall(A + "entry"):
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(A + tag)) == 1, tag
        assert entry.find(A + "content").get("type") == "text"
        ids.append(entry.find(A + "id").text)
        assert ids[-1].startswith("tag:ceasefire-watcher,2024:change/")
        assert entry.find(A + "updated").text.endswith("Z")
    assert len(ids) == len(set(ids))
    return root


def test_export_atom_of_the_seed_changes(tmp_path: Path, seed_db: Path) -> None:
    config = config_for(tmp_path, seed_db)
    first = export(config)
    root = check_atom(first)
    entries = root.findall(A + "entry")
    with sqlite3.connect(seed_db) as conn:
        assert len(entries) == conn.execute("select count(*) from changes").fetchone()[0]
        newest = conn.execute("select max(detected_at) from changes").fetchone()[0]
    assert root.find(A + "updated").text == rfc3339(newest)
    revised = [e for e in entries if e.find(A + "title").text and "revised" in e.find(A + "title").text]
    assert revised and "Kharkiv" in revised[0].find(A + "content").text
    assert revised[0].find(A + "link").get("href").endswith("/world/004.html")
    assert export(config) == first  # same database, same bytes: ids and dates are stable
    assert len(check_atom(export(config, "--limit", "2")).findall(A + "entry")) == 2
    one = check_atom(export(config, "--conflict", "russia-ukraine", "--self-url", "https://x.example/c.xml"))
    assert one.find(A + "id").text.endswith("/russia-ukraine") and one.find(A + "link").get("rel") == "self"
    assert check_atom(export(config, "--conflict", "sudan")).findall(A + "entry") == []
    # an unknown id is a usage error with a did-you-mean (issue 15), not an empty feed: tests/test_cli_manners.py


def test_entry_ids_survive_reprocess(tmp_path: Path, seed_db: Path) -> None:
    """Ids come from changes.key, which `watcher reprocess` rebuilds identically."""
    db = tmp_path / "copy.db"
    shutil.copy(seed_db, db)
    config = config_for(tmp_path, db)
    before = {e.find(A + "id").text for e in check_atom(export(config)).findall(A + "entry")}
    with sqlite3.connect(db) as conn:  # the rows renumbered, as a rebuild would
        conn.execute("update changes set id = id + 1000")
    after = {e.find(A + "id").text for e in check_atom(export(config)).findall(A + "entry")}
    assert before == after


def test_hostile_values_are_escaped() -> None:
    hostile = {
        "key": "7:c:p <x>:cat&:new",
        "summary": "<script>alert(1)</script> ]]> & \"quotes\" \x00\x1bend",
        "quote": "]]><!-- --><![CDATA[ boom ]]>",
        "detected_at": "2024-06-24 10:00:00",
        "conflict": "a&b", "proposer": "<p>", "category": "c\"", "kind": "new",
        "outlet": "evil.example", "article_title": "</content><entry>",
        "article_url": "https://evil.example/?a=1&b=<2>\"", "baseline": 0,
    }
    document = changes_feed([hostile], conflict="<c>")
    assert b"<script>" not in document and b"</content><entry>" not in document
    root = check_atom(document)
    [entry] = root.findall(A + "entry")
    assert entry.find(A + "title").text == "<script>alert(1)</script> ]]> & \"quotes\" end"
    assert entry.find(A + "summary").text == hostile["quote"]
    assert entry.find(A + "link").get("href") == hostile["article_url"]
    assert hostile["article_title"] in entry.find(A + "content").text
    assert entry.find(A + "id").text == entry_id(hostile["key"]) and " " not in entry.find(A + "id").text
    assert "<" not in root.find(A + "id").text


def test_empty_feed_is_still_valid() -> None:
    root = check_atom(changes_feed([]))
    assert root.find(A + "updated").text.endswith("Z") and root.findall(A + "entry") == []
