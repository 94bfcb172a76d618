"""OPML in and out. config.toml is the one feed list: import appends [[feeds]] blocks to it
(comments kept, duplicates skipped, validated, atomic); export writes OPML 2.0 of it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.config import ConfigError, load_config
from watcher.opml import OpmlError, export_opml, import_opml, parse_opml

CONFIG = """# my watcher
[watcher]
database = "watcher.db"   # next to this file
log_level = "WARNING"

[[feeds]]
url = "https://feeds.example.org/world.xml"
name = "Example World"

[digest]
channels = ["console"]
# the end: a comment that must survive
"""

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News">
      <outline text="World" title="World">
        <outline type="rss" text="Example again" xmlUrl="https://feeds.example.org/world.xml?utm_source=opml"/>
        <outline type="rss" text="Agency &quot;A&quot;" title="Agency &quot;A&quot;" xmlUrl="https://agency.example/rss"
                 htmlUrl="https://agency.example/"/>
      </outline>
    </outline>
    <outline type="rss" TEXT="Caps" XMLURL="https://caps.example/feed"/>
    <outline type="rss" text="Twice" xmlUrl="https://agency.example/rss"/>
    <outline type="rss" text="Gopher" xmlUrl="gopher://old.example/feed"/>
    <outline type="link" text="Just a page" url="https://page.example/"/>
  </body>
</opml>
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    path.chmod(0o640)
    return path


@pytest.fixture
def opml_path(tmp_path: Path) -> Path:
    path = tmp_path / "subscriptions.opml"
    path.write_text(OPML)
    return path


def invoke(config: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["feeds", "--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_parse_opml_walks_nested_outlines() -> None:
    found = parse_opml(OPML.encode())
    assert [f.url for f in found] == [
        "https://feeds.example.org/world.xml?utm_source=opml", "https://agency.example/rss",
        "https://caps.example/feed", "https://agency.example/rss", "gopher://old.example/feed",
    ]
    agency = found[1]
    assert (agency.title, agency.html_url, agency.category) == ('Agency "A"', "https://agency.example/", "News/World")
    assert found[2].title == "Caps"


@pytest.mark.parametrize("data, message", [
    (b"<rss><channel/></rss>", "not an OPML"),
    (b"<opml><body><outline", "not well-formed"),
    (b'<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', "entities"),
])
def test_parse_opml_refuses_bad_documents(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(data)


def test_import_appends_to_the_config_keeping_comments(config_path: Path, opml_path: Path) -> None:
    out = invoke(config_path, "import", str(opml_path))
    assert "added 2 feeds" in out
    assert "already in the config" in out and "not an http" in out
    text = config_path.read_text()
    assert text.startswith(CONFIG)  # nothing the user wrote moved or vanished
    assert "# News/World" in text and "subscriptions.opml" in text
    config = load_config(config_path)
    assert [(f.url, f.name) for f in config.feeds] == [
        ("https://feeds.example.org/world.xml", "Example World"),
        ("https://agency.example/rss", 'Agency "A"'),
        ("https://caps.example/feed", "Caps"),
    ]
    assert config.digest.channels == ["console"]
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o640
    assert not [p for p in config_path.parent.iterdir() if p.name.endswith(".tmp")]
    # importing again adds nothing and leaves the file alone
    assert "added 0 feeds" in invoke(config_path, "import", str(opml_path))
    assert config_path.read_text() == text


def test_import_dry_run_and_json(config_path: Path, opml_path: Path) -> None:
    import json

    report = json.loads(invoke(config_path, "import", str(opml_path), "--dry-run", "--json"))
    assert [f["url"] for f in report["added"]] == ["https://agency.example/rss", "https://caps.example/feed"]
    assert {s["reason"] for s in report["skipped"]} == {"already in the config", "not an http:// or https:// URL"}
    assert config_path.read_text() == CONFIG


def test_import_hostile_names_stay_valid_toml(tmp_path: Path, config_path: Path) -> None:
    opml = tmp_path / "x.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="a &quot;b&quot; \\ c&#10;[[feeds]]&#10;url = &quot;x&quot; \u0416"'
        ' xmlUrl="https://h.example/f?a=1&amp;b=2"/></body></opml>')
    invoke(config_path, "import", str(opml))
    [_, feed] = load_config(config_path).feeds
    assert feed.url == "https://h.example/f?a=1&b=2"
    assert feed.name == 'a "b" \\ c [[feeds]] url = "x" \u0416'


def test_import_refuses_a_config_it_cannot_extend(tmp_path: Path, opml_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = '[watcher]\ndatabase = "w.db"\nfeeds = [{url = "https://a.example/f"}]\n'
    path.write_text(original)
    with pytest.raises(ConfigError):
        load_config(path)  # not even valid as it stands: feeds belongs at the top level
    path.write_text('feeds = [{url = "https://a.example/f"}]\n[watcher]\ndatabase = "w.db"\n')
    before = path.read_text()
    out = invoke(path, "import", str(opml_path), code=1)
    assert "not imported" in out
    assert path.read_text() == before


def test_import_preserves_crlf_and_follows_symlinks(tmp_path: Path, opml_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_bytes(CONFIG.replace("\n", "\r\n").encode())
    link = tmp_path / "config.toml"
    os.symlink(real, link)
    import_opml(load_config(link), opml_path)
    assert link.is_symlink()
    data = real.read_bytes()
    assert b"\r\n[[feeds]]\r\n" in data and b"\n[[" not in data.replace(b"\r\n", b"")
    assert len(load_config(link).feeds) == 3


def test_export_is_opml_2_of_the_config_and_round_trips(config_path: Path, opml_path: Path) -> None:
    invoke(config_path, "import", str(opml_path))
    out = invoke(config_path, "export")
    assert out.startswith("<?xml") and 'version="2.0"' in out
    exported = parse_opml(out.encode())
    assert [f.url for f in exported] == [f.url for f in load_config(config_path).feeds]
    assert exported[1].title == 'Agency "A"'
    before = config_path.read_text()
    again = config_path.parent / "again.opml"
    again.write_text(out)
    assert "added 0 feeds" in invoke(config_path, "import", str(again))
    assert config_path.read_text() == before


def test_export_adds_what_polling_learnt(config_path: Path) -> None:
    config = load_config(config_path)
    details = {"https://feeds.example.org/world.xml": {"title": "Own title", "site_url": "https://example.org/"}}
    [feed] = parse_opml(export_opml(config, details))
    assert feed.html_url == "https://example.org/" and feed.title == "Example World"
