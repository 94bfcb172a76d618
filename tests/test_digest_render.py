# ruff: noqa: F811  (pytest fixtures imported from test_digest_support are redefined as arguments)
"""Collecting and rendering digests from the demo database (no delivery)."""

from __future__ import annotations

import json
from pathlib import Path

from test_digest_support import (  # noqa: F401
    HOSTILE_TITLE,
    add_hostile_change,
    add_revised_change,
    demo_db,
    wire_host,
)

from watcher.digest.collect import Digest, matches_alert, trim_diff
from watcher.digest.outbox import Selection, collect
from watcher.digest.render import render, render_html, render_markdown, render_text, subject
from watcher.store import Store


def _digest(db: Path, **sel) -> Digest:
    store = Store.open(db)
    try:
        return collect(store, "email", Selection(**sel), "2030-01-02 07:00:00")
    finally:
        store.close()


def test_grouped_by_conflict_proposer_then_kind(demo_db: Path) -> None:
    digest = _digest(demo_db)
    order = [(c.conflict, c.proposer, c.kind) for c in digest.changes]
    assert order == sorted(order, key=lambda t: (t[0], t[1], ["withdrawn", "status", "changed", "new", "revised"].index(t[2])))
    assert {c.proposer for c in digest.changes} == {"russia", "ukraine"}
    text = render_text(digest)
    assert text.index("  russia\n") < text.index("  ukraine\n")
    # before -> after for a changed value, the quote, source, when, outlets, link: Demo Wire's
    # follow-up widened Russia's withdrawal demand (set by seed 004 on Demo News) to Kharkiv
    assert [c.summary for c in digest.changes if c.kind == "changed"] == [
        "russia: troop_withdrawal widened: places +kharkiv"]
    assert "negotiations widened" not in text  # negotiations carry no places
    start = text.index("    • changed: troop_withdrawal widened: places +kharkiv\n")
    changed = text[start : text.index("    • ", start + 1)]
    before = "demanded (precondition) — party ukraine; donetsk, kherson, luhansk, zaporizhzhia; ukraine rejected"
    # after: the term as it now stands; Kyiv's earlier rejection is still on record
    after = "demanded (precondition) — party ukraine; donetsk, kharkiv, kherson, luhansk, zaporizhzhia; ukraine rejected"
    assert f"      before: {before}\n      after: {after}\n" in changed
    assert "“Russia now wants Ukrainian forces to leave the Kharkiv region as well" in changed
    outlets = "2 outlets" if wire_host() != "127.0.0.1" else "1 outlet"  # seed 004's and the wire's
    # the outlet is named by its feed, not its host (issue 13)
    assert "      Demo Wire · seen " in changed and f" · {outlets} reported it\n" in changed
    assert "Kremlin widens its withdrawal demand to the Kharkiv region — http://" in changed
    assert changed.rstrip().endswith("/wire/wire-kharkiv.html")
    assert "“Earlier this month, Putin said" in text
    assert "1 outlet reported it" in text and "seen " in text
    assert "/world/004.html" in text


def test_baseline_summarised_in_one_line_per_conflict_and_proposer(demo_db: Path) -> None:
    digest = _digest(demo_db)
    assert all(not c.baseline for c in digest.changes)
    text = render_text(digest)
    assert "russia-ukraine · russia: 5 terms on record — ceasefire, line_freeze, negotiations" in text
    assert "new: transit_corridor" not in text
    # every change is carried (and so marked delivered), summarised or listed
    store = Store.open(demo_db)
    assert len(digest.change_keys) == store.query("select count(*) as n from changes")[0]["n"]
    store.close()


def test_baseline_summary_off_lists_everything(demo_db: Path) -> None:
    digest = _digest(demo_db, baseline_summary=False)
    assert not digest.baseline
    assert "new: transit_corridor" in render_text(digest)


def test_revised_shows_trimmed_diff_once_per_snapshot(demo_db: Path) -> None:
    # the demo's edit of seed 004 revises one term; a second revised change on the same
    # snapshot (as when an edit changes two terms) must not repeat the diff
    assert [c.key for c in _digest(demo_db).changes if c.kind == "revised"] == [
        "4:russia-ukraine:russia:troop_withdrawal:revised"]
    second = add_revised_change(demo_db)
    digest = _digest(demo_db)
    revised = [c for c in digest.changes if c.kind == "revised"]
    assert len(revised) == 2 and second in [c.key for c in revised]
    assert [bool(c.diff) for c in revised].count(True) == 1
    # on the snapshot's first recorded change, and on no other kind of change
    assert [c.key for c in digest.changes if c.diff] == ["4:russia-ukraine:russia:troop_withdrawal:revised"]
    diff = next(c.diff for c in revised if c.diff)
    assert diff.startswith("-") and "+Earlier this month" in diff and "Kharkiv" in diff
    assert "@@" not in diff and "+++" not in diff


def test_trim_diff_caps_lines() -> None:
    diff = "--- v1\n+++ v2\n@@ -1 +1 @@\n" + "\n".join(f"+line {i}" for i in range(30))
    trimmed = trim_diff(diff, lines=5)
    assert trimmed.splitlines()[:5] == [f"+line {i}" for i in range(5)]
    assert trimmed.endswith("… 25 more changed lines")
    assert trim_diff(None) is None


def test_subject_says_what_changed(demo_db: Path) -> None:
    digest = _digest(demo_db)
    text = subject(digest)
    assert text.startswith("ceasefire watcher: 10 term changes, 5 terms on record · russia-ukraine: russia ")
    assert "line_freeze ukraine rejected" in text and "troop_withdrawal widened" in text
    assert "+identity_ideology" in text and "more" in text
    assert len(text) <= 200 and "\n" not in text


def test_html_escapes_everything_from_feeds(demo_db: Path) -> None:
    add_hostile_change(demo_db)
    digest = _digest(demo_db)
    page = render_html(digest, subject(digest))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(3)&gt;" in page
    assert 'href="javascript' not in page  # not a link: only http(s) URLs are linked
    assert 'href="http://127.0.0.1' in page
    md = render_markdown(digest)
    assert "<script>" not in md and "\\<script\\>" in md
    assert "](<javascript" not in md


def test_console_never_reads_values_as_markup(demo_db: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from watcher.digest.render import print_console

    add_hostile_change(demo_db)
    store = Store.open(demo_db)
    store.db.execute("update articles set title = '[bold red]x[/] [link=http://evil]y' where source = 'evil.example'")
    store.close()
    out = StringIO()
    print_console(_digest(demo_db), Console(file=out, width=300, color_system=None))
    assert "[bold red]x[/] [link=http://evil]y" in out.getvalue()


def test_json_and_payload_round_trip(demo_db: Path) -> None:
    digest = _digest(demo_db)
    again = Digest.from_json(digest.to_json())
    assert render_text(again) == render_text(digest)
    data = json.loads(render(digest, "json"))
    assert data["subject"] == subject(digest)
    assert len(data["changes"]) == len(digest.changes) and data["baseline"][0]["proposer"] == "russia"


def test_alert_kinds_match_new_stance_or_class() -> None:
    status = {"kind": "status", "baseline": 0, "after": json.dumps({"stance": "accepted"})}
    assert matches_alert(status, ["status:accepted"])
    assert matches_alert(status, ["status"])
    assert not matches_alert(status, ["status:rejected", "new"])
    held = {"kind": "status", "baseline": 0, "after": json.dumps({"stance": "demanded"})}
    assert matches_alert(held, ["status:held"])
    assert not matches_alert({"kind": "new", "baseline": 1, "after": None}, ["new"])
