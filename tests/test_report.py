# ruff: noqa: F811  (pytest fixtures imported from test_digest_support are redefined as arguments)
"""`watcher report`: the timeline page from a real demo database — every change once, feed
text escaped, no script, the same data as JSON — and the page in a real headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from browser import Browser, chromium, png_size
from click.testing import CliRunner
from lxml import html as lxml_html
from test_digest_support import HOSTILE_TITLE, add_hostile_change, demo_db, write_config  # noqa: F401

from watcher.cli.report import COMMANDS
from watcher.store import Store

pytestmark = pytest.mark.timeout(90)


def report(args: list[str]) -> click.testing.Result:
    group = click.Group("watcher", commands={c.name: c for c in COMMANDS})
    return CliRunner().invoke(group, ["report", *args], catch_exceptions=False)


def _changes(db: Path, where: str = "1") -> list[dict]:
    store = Store.open(db)
    try:
        return store.query(f"select * from changes where conflict = 'russia-ukraine' and {where} order by id")
    finally:
        store.close()


@pytest.fixture
def page(demo_db: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The report of the demo database plus a change whose article tries to inject markup."""
    add_hostile_change(demo_db)
    out = tmp_path / "report.html"
    result = report(["--config", str(write_config(tmp_path, demo_db)), "--conflict", "russia-ukraine",
                     "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    return out, demo_db


def test_every_change_appears_once_and_nothing_is_fetched(page: tuple[Path, Path]) -> None:
    out, db = page
    doc = lxml_html.fromstring(out.read_bytes())
    changes = _changes(db)
    assert len(changes) == 16
    for change in changes:
        rows = doc.xpath("//tr[@class='change-row'][@data-change-key=$k]", k=change["key"])
        marks = doc.xpath("//*[local-name()='a'][@class='change'][@data-change-key=$k]", k=change["key"])
        assert len(rows) == 1 and len(marks) == 1, change["key"]
        assert rows[0].get("id") == f"change-{change['id']}" and marks[0].get("href") == f"#change-{change['id']}"
    assert len(doc.xpath("//tr[@class='change-row']")) == len(changes)
    categories = {c["category"] for c in changes}
    assert len(doc.xpath("//section[@class='category']")) == len(categories)
    assert len(doc.xpath("//*[local-name()='svg'][@class='timeline']")) == len(categories)
    # every chart has the agreement's lane first, then the parties
    for svg in doc.xpath("//*[local-name()='svg'][@class='timeline']"):
        lanes = svg.xpath("./*[local-name()='g'][starts-with(@class, 'lane')]")
        assert lanes[0].get("data-holder") == "agreement" and len(lanes) >= 2
    # self-contained: no script, no external resource, a policy that forbids fetching
    assert doc.xpath("//script") == [] and doc.xpath("//*[@src]") == [] and doc.xpath("//link") == []
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp and csp[0].startswith("default-src 'none'")
    # feed text is text: the hostile title and quote are shown, never parsed as markup
    text = out.read_text()
    assert "<script>" not in text and "<img" not in text
    assert "javascript:" not in text  # a link that is not http(s) is dropped, not shown
    assert any(HOSTILE_TITLE in (el.text_content() or "") for el in doc.xpath("//td"))
    assert doc.xpath("//q[contains(., '<img src=x onerror=alert(3)>')]")
    # how many outlets reported a term: the widened withdrawal demand had two
    [tw] = doc.xpath("//section[@id='cat-troop_withdrawal']")
    assert "2 outlets" in tw.text_content()


def test_json_is_the_same_data(page: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = page
    result = report(["--config", str(write_config(tmp_path, db)), "--conflict", "russia-ukraine", "--json"])
    data = json.loads(result.stdout)
    changes = _changes(db)
    keys = [c["key"] for cat in data["categories"] for t in cat["tracks"] for c in t["changes"]]
    assert sorted(keys) == sorted(c["key"] for c in changes) and data["change_count"] == len(changes)
    assert {c["snapshot_id"] for c in changes} <= {r["snapshot_id"] for r in data["reports"]}
    assert [r["index"] for r in data["reports"]] == list(range(len(data["reports"])))
    [tw] = [c for c in data["categories"] if c["category"] == "troop_withdrawal"]
    russia = next(t for t in tw["tracks"] if t["holder"] == "russia")
    assert [c["kind"] for c in russia["changes"]] == ["new", "changed", "revised"]
    assert russia["outlet_count"] == 2 and russia["changes"][1]["label"] == "widened: places +kharkiv"
    assert "kharkiv" in russia["changes"][1]["after"]["values"]
    assert "kharkiv" not in russia["changes"][1]["before"]["values"]
    assert tw["tracks"][0]["holder"] == "agreement"


def test_since_keeps_later_changes_and_where_tracks_stood(page: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = page
    config = str(write_config(tmp_path, db))
    out = tmp_path / "since.json"
    result = report(["--config", config, "--conflict", "russia-ukraine", "--since", "2029-12-31", "--json",
                     "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["since"] == "2029-12-31 00:00:00" and data["change_count"] == 1
    [cat] = data["categories"]
    assert cat["category"] == "neutrality" and [t["holder"] for t in cat["tracks"]] == ["agreement", "ukraine"]


def test_unknown_conflict_and_missing_database(demo_db: Path, tmp_path: Path) -> None:
    config = str(write_config(tmp_path, demo_db))
    bad = report(["--config", config, "--conflict", "russia-ukrain"])
    assert bad.exit_code == 2 and "did you mean 'russia-ukraine'?" in bad.stderr
    missing = report(["--config", str(write_config(tmp_path, tmp_path / "none.db")), "--conflict", "sudan"])
    assert missing.exit_code == 1 and "no database" in missing.stderr


def test_demo_ends_with_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from watcher.cli.demo import run_demo

    out = tmp_path / "demo-report.html"
    run_demo(tmp_path / "demo.db", show_digest=False, report_path=out)
    printed = " ".join(capsys.readouterr().out.split())
    assert "Timeline report:" in printed and out.name in printed
    doc = lxml_html.fromstring(out.read_bytes())
    assert len(doc.xpath("//tr[@class='change-row']")) == len(_changes(tmp_path / "demo.db"))


# --- in a real browser ---------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(chromium() is None, reason="chromium is not installed "
                                    "(apt-get install chromium; .ci/run installs it)")


@needs_chromium
def test_the_page_in_headless_chromium(page: tuple[Path, Path], tmp_path: Path) -> None:
    out, db = page
    changes = _changes(db)
    categories = len({c["category"] for c in changes})
    counts = ("[document.querySelectorAll('svg.timeline').length, document.querySelectorAll('svg a.change').length,"
              " document.querySelectorAll('tr.change-row').length, document.scripts.length,"
              " document.querySelectorAll('svg .lane.agreement').length,"
              " document.documentElement.scrollWidth]")
    with Browser() as browser:
        browser.open(out, 1280, 900)
        assert browser.problems() == []
        assert browser.requests() == [out.resolve().as_uri()]  # the page itself, nothing else
        charts, marks, rows, scripts, agreement, width = browser.evaluate(counts)
        assert (charts, marks, rows, scripts, agreement) == (categories, len(changes), len(changes), 0, categories)
        assert width == 1280  # the charts fit the page; nothing overflows it
        shot = tmp_path / "desktop.png"
        w, h = browser.screenshot(shot)
        assert png_size(shot) == (w, h) and w == 1280 and 3000 < h < 20000
        assert shot.stat().st_size > 100_000  # drawn, not a blank page
        # a hover title carries before → after, the quote and the source
        title = browser.evaluate("document.querySelector('#cat-troop_withdrawal a.change[data-kind=changed] "
                                 "title').textContent")
        assert "before: demanded" in title and "kharkiv" in title and "Demo Wire" in title

        browser.open(out, 390, 844, mobile=True)  # a phone
        assert browser.problems() == []
        assert browser.evaluate("document.documentElement.scrollWidth") == 390  # charts scroll in their box
        assert browser.evaluate("getComputedStyle(document.querySelector('table.changes thead')).display") == "none"
        phone = tmp_path / "phone.png"
        pw, ph = browser.screenshot(phone)
        assert pw == 390 and ph > h  # narrower, so longer


def test_holders_are_named_for_people(demo_db: Path, tmp_path: Path) -> None:
    from test_subscriptions import add_sudan_change

    add_sudan_change(demo_db)
    out = tmp_path / "sudan.html"
    result = report(["--config", str(write_config(tmp_path, demo_db)), "--conflict", "sudan", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = lxml_html.fromstring(out.read_bytes())
    [lane] = doc.xpath("//*[local-name()='g'][@data-holder='rsf']")
    assert lane.xpath("string(./*[local-name()='text'][@class='holder'])") == "RSF"
    assert doc.xpath("//table[@class='overview']//th[.='RSF']") and doc.xpath("//th[.='Agreement']")
    assert len(doc.xpath("//tr[@class='change-row']")) == 1


def test_since_starts_each_track_where_the_ledger_had_it(demo_db: Path, tmp_path: Path) -> None:
    """The wire's widening and the edit moved to 2030: from 2030 on, Russia's withdrawal
    track starts at the demand as it stood before (without Kharkiv), then widens."""
    store = Store.open(demo_db)
    with store.transaction():
        later = [r["snapshot_id"] for r in store.query(
            "select distinct snapshot_id from changes where kind in ('changed', 'revised')")]
        marks = ",".join("?" * len(later))
        store.db.execute(f"update changes set detected_at = '2030-01-05 00:00:00' where snapshot_id in ({marks})", later)
        store.db.execute(f"update terms set observed_at = '2030-01-05 00:00:00' where snapshot_id in ({marks})", later)
        store.db.execute(f"update snapshots set fetched_at = '2030-01-05 00:00:00' where id in ({marks})", later)
    store.close()
    result = report(["--config", str(write_config(tmp_path, demo_db)), "--conflict", "russia-ukraine",
                     "--since", "2030-01-01", "--json"])
    data = json.loads(result.stdout)
    [tw] = [c for c in data["categories"] if c["category"] == "troop_withdrawal"]
    russia = next(t for t in tw["tracks"] if t["holder"] == "russia")
    assert [c["kind"] for c in russia["changes"]] == ["changed", "revised"]
    assert russia["start"]["stance"] == "demanded" and "kharkiv" not in russia["start"]["values"]
    assert "kharkiv" in russia["changes"][0]["after"]["values"]
    assert {r["snapshot_id"] for r in data["reports"]} == set(later)


def test_columns_follow_publication_as_history_does(demo_db: Path, tmp_path: Path) -> None:
    """Issue 13's time is the story's time: a story read last but published first (an old
    feed's first poll) is the first column, dated by its publication, in the order and with
    the outlet name `watcher history` gives; its change is drawn where it was published."""
    store = Store.open(demo_db)
    try:
        [late] = store.query(
            "select s.article_id, s.id from snapshots s where s.kind != 'edit' and s.id in "
            "(select snapshot_id from terms where conflict = 'russia-ukraine') order by s.fetched_at desc, s.id desc "
            "limit 1")
        with store.transaction():
            store.db.execute("update articles set published_at = '2001-02-03 04:05:06' where id = ?",
                             [late["article_id"]])
        history = store.term_history(conflict="russia-ukraine")
    finally:
        store.close()
    config = str(write_config(tmp_path, demo_db))
    result = report(["--config", config, "--conflict", "russia-ukraine", "--json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)["reports"]
    assert reports[0]["snapshot_id"] == late["id"] and reports[0]["reported_at"] == "2001-02-03 04:05:06"
    assert [r["reported_at"] for r in reports] == sorted(r["reported_at"] for r in reports)
    in_history = list(dict.fromkeys(h["snapshot_id"] for h in history))
    assert [r["snapshot_id"] for r in reports if r["snapshot_id"] in in_history] == in_history
    outlets = {h["snapshot_id"]: h["outlet"] for h in history}
    assert all(r["feed"] == outlets[r["snapshot_id"]] for r in reports if r["snapshot_id"] in outlets)
    out = tmp_path / "late.html"
    assert report(["--config", config, "--conflict", "russia-ukraine", "-o", str(out)]).exit_code == 0
    doc = lxml_html.fromstring(out.read_bytes())
    assert doc.xpath("//table[@class='reports']//tr[1]/td[2]")[0].text_content() == "3 Feb 2001"
    assert len(doc.xpath("//tr[@class='change-row']")) == len(_changes(demo_db))


def test_terminal_escapes_in_stored_text_reach_no_terminal(demo_db: Path, tmp_path: Path) -> None:
    """Issue 14.8 for the report: text stored before feeds were cleaned (or by another tool)
    may hold ESC/CSI/OSC and C1 controls; `-o -` and `--json` print to a terminal, so the
    page drops them and the JSON writes them as \\u escapes (the data is unchanged)."""
    evil = "Truce\x1b]0;pwned\x07\x1b[2J talks \x9b31m"
    store = Store.open(demo_db)
    try:
        with store.transaction():
            store.db.execute("update articles set title = ?", [evil])
            store.db.execute("update snapshots set title = ?", [evil])
            store.db.execute("update changes set quote = ?", [evil])
    finally:
        store.close()
    config = str(write_config(tmp_path, demo_db))
    page = report(["--config", config, "--conflict", "russia-ukraine", "-o", "-"])
    data = report(["--config", config, "--conflict", "russia-ukraine", "--json"])
    for out in (page, data):
        assert out.exit_code == 0, out.output
        assert not any(c in out.stdout for c in "\x1b\x9b\x07"), repr(out.stdout[:200])
    assert "Truce" in page.stdout and " talks " in page.stdout
    assert json.loads(data.stdout)["reports"][0]["title"] == evil


def test_a_malformed_stored_url_is_no_link_rather_than_a_crash() -> None:
    """The report's links go through the digest's safe_url: "http://[::1/x" (an unclosed IPv6
    bracket) made urlsplit raise inside `watcher report` before."""
    from watcher.report import html as report_html

    assert report_html.safe_url("http://[::1/x") is None
    assert report_html.safe_url(" https://news.example/a ") == "https://news.example/a"
    assert report_html.safe_url("javascript:alert(1)") is None
