"""`watcher extract` (the JSON Lines contract) and `watcher reprocess` (same as live)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from watcher.demo import Story, article_page, seed_stories
from watcher.loopback import LoopbackServer
from watcher.reprocess import reprocess_all
from watcher.store import Store

ROOT = Path(__file__).resolve().parents[1]
SEED_004 = ROOT / "seeds" / "004_bf88e37bba94a288.txt"
FIELDS = {"conflict", "category", "proposer", "stance", "precondition", "values", "responses", "quote", "span"}


def run(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "watcher", "extract", *args],
        input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd,
    )


def test_json_lines_contract_on_seed_004(tmp_path: Path) -> None:
    result = run(str(SEED_004), "--nl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    payload = json.loads(line)
    assert payload["input"] == str(SEED_004)
    assert payload["title"].startswith("Putin’s Peace Proposal for Ukraine Stays on the Table")
    assert payload["relevant"] is True and payload["conflicts"] == ["russia-ukraine"]
    text = SEED_004.read_text(encoding="utf-8")
    withdrawal = [t for t in payload["terms"] if t["category"] == "troop_withdrawal" and t["proposer"] == "russia"]
    assert withdrawal, payload["terms"]
    term = withdrawal[0]
    assert set(term) == FIELDS
    assert term["values"]["party"] == "ukraine"
    assert term["values"]["places"] == ["donetsk", "kherson", "luhansk", "zaporizhzhia"]
    assert term["precondition"] is True and term["stance"] == "demanded"
    assert {"actor": "ukraine", "stance": "rejected"} in term["responses"]
    assert text[term["span"][0]:term["span"][1]] == term["quote"]
    assert term["span"] == [1141, 1328]


def test_html_file_stdin_and_unreadable_input(tmp_path: Path) -> None:
    story = seed_stories()[1]
    page = tmp_path / "page.html"
    page.write_text(article_page(story), encoding="utf-8")
    result = run(str(page), "-", str(tmp_path / "missing.txt"), "--nl", stdin=SEED_004.read_text(), cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "missing.txt" in result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["input"] for x in lines] == [str(page), "-"]
    html_terms = {(t["proposer"], t["category"]) for t in lines[0]["terms"]}
    assert ("russia", "troop_withdrawal") in html_terms
    assert "Most read" not in json.dumps(lines[0])


def test_url_input(tmp_path: Path) -> None:
    story: Story = seed_stories()[0]
    with LoopbackServer() as server:
        url = server.add("/a.html", article_page(story), content_type="text/html")
        result = run(url, "--nl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"line_freeze", "transit_corridor"} <= {t["category"] for t in payload["terms"]}


def test_table_output(tmp_path: Path) -> None:
    result = run(str(SEED_004), cwd=tmp_path)
    assert result.returncode == 0
    assert "troop_withdrawal" in result.stdout


def test_non_english_gives_no_terms(tmp_path: Path) -> None:
    text = (
        "Poutine propose un cessez-le-feu\n\nLe président russe a proposé jeudi un cessez-le-feu "
        "si l'Ukraine retire ses troupes des régions de Donetsk et de Louhansk, a déclaré le Kremlin."
    )
    result = run("-", "--nl", stdin=text, cwd=tmp_path)
    payload = json.loads(result.stdout)
    assert payload["language"] == "fr" and payload["terms"] == []


def _snapshot(store: Store) -> dict:
    return {
        "terms": sorted(
            tuple(r.values())
            for r in store.query(
                'select snapshot_id, conflict, proposer, category, stance, precondition, "values", '
                "responses, quote, span_start from terms"
            )
        ),
        "ledger": sorted(
            tuple(v for k, v in r.items() if k != "last_term_id") for r in store.query("select * from ledger")
        ),
        "changes": sorted(
            tuple(v for k, v in r.items() if k not in ("id", "term_id")) for r in store.query("select * from changes")
        ),
    }


def test_reprocess_equals_live_and_is_idempotent(seed_db: Path) -> None:
    store = Store.open(seed_db)
    live = _snapshot(store)
    assert live["changes"], "the demo should have produced changes"
    stats = reprocess_all(store)
    assert stats["snapshots"] == 4  # 000, 004, the wire follow-up, 004 edited
    assert _snapshot(store) == live
    reprocess_all(store)
    assert _snapshot(store) == live


def test_seed_changes_through_the_pipeline(seed_db: Path) -> None:
    """Issue 3's seed expectations, as stored by the real pipeline (000 then 004)."""
    store = Store.open(seed_db)
    rows = store.query("select c.*, s.version, a.url from changes c join snapshots s on s.id = c.snapshot_id "
                       "join articles a on a.id = c.article_id")
    from_000 = {(r["proposer"], r["category"]) for r in rows if "/000" in r["url"] and r["kind"] == "new"}
    assert {("russia", c) for c in ("ceasefire", "line_freeze", "territorial_status", "transit_corridor",
                                     "negotiations")} <= from_000
    assert all(r["baseline"] == 1 for r in rows if "/000" in r["url"])
    new_004 = {(r["proposer"], r["category"]) for r in rows
               if "/004" in r["url"] and r["kind"] == "new" and r["version"] == 1}
    assert {("russia", c) for c in ("troop_withdrawal", "neutrality", "military_limits", "identity_ideology",
                                     "sanctions_relief")} <= new_004
    assert ("ukraine", "troop_withdrawal") in new_004
    status = [r for r in rows if "/004" in r["url"] and r["kind"] == "status"]
    assert any("ukraine rejected" in r["summary"] for r in status)
    # nothing but russia-ukraine (the Hamas headline is page furniture)
    assert {r["conflict"] for r in rows} == {"russia-ukraine"}
    # round 3: a second outlet widens the withdrawal demand, a change against the ledger
    changed = [r for r in rows if r["kind"] == "changed"]
    assert [(r["category"], "+kharkiv" in r["summary"]) for r in changed] == [("troop_withdrawal", True)]
    # round 4: the first outlet edits its page the same way, a revision of that article
    revised = [r for r in rows if r["kind"] == "revised"]
    assert any(r["category"] == "troop_withdrawal" and "kharkiv" in r["summary"] for r in revised)
    withdrawal = store.ledger_entry("russia-ukraine", "russia", "troop_withdrawal")
    assert withdrawal["values"]["party"] == "ukraine" and withdrawal["precondition"] == 1


def test_config_teaches_the_extractor_a_place(tmp_path: Path) -> None:
    config = tmp_path / "teach.toml"
    config.write_text(
        '[gazetteer.places.chasiv-yar]\nnames = ["Chasiv Yar"]\nconflict = "russia-ukraine"\n',
        encoding="utf-8",
    )
    text = (
        "Kremlin demands pullout\n\nKremlin spokesman Dmitry Peskov said on Monday that Russia "
        "demands that Ukraine withdraw its troops from Chasiv Yar before any ceasefire talks."
    )
    without = json.loads(run("-", "--nl", stdin=text, cwd=tmp_path).stdout)
    with_config = json.loads(run("-", "--nl", "--config", str(config), stdin=text, cwd=tmp_path).stdout)
    places = {p for t in with_config["terms"] for p in t["values"].get("places", [])}
    assert "chasiv-yar" in places
    assert "chasiv-yar" not in {p for t in without["terms"] for p in t["values"].get("places", [])}


def test_reprocess_keeps_terms_of_pruned_snapshots(seed_db: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pruned.db"
    shutil.copy(seed_db, copy)
    store = Store.open(copy)
    before = _snapshot(store)
    store.db.execute("update snapshots set text = null where version = 1 and article_id = 2")
    reprocess_all(store)
    assert _snapshot(store) == before


def test_terms_command_groups_the_ledger(seed_db: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "terms", "--db", str(seed_db), "--config", str(ROOT / "config.toml")],
        capture_output=True, text=True, timeout=60, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2] == "russia-ukraine" and lines[3] == "  russia"
    withdrawal = next(x for x in lines if x.strip().startswith("troop_withdrawal") and "party ukraine" in x)
    assert "kharkiv" in withdrawal and "ukraine rejected" in withdrawal and "[2 outlets" in withdrawal
    assert "  ukraine" in lines


def test_reprocess_beside_a_poll_keeps_the_snapshots_stored_meanwhile(seed_db: Path, tmp_path: Path) -> None:
    """Issue 14.1: a snapshot the daemon stores while reprocess extracts keeps its terms and
    changes after the rebuild (it used to end with none)."""
    import shutil

    from watcher.record import record_check
    from watcher.reprocess import extract_snapshots, rebuild
    from watcher.store import SnapshotDraft, utcnow
    from watcher.terms import extract, load_gazetteer

    copy = tmp_path / "busy.db"
    shutil.copy(seed_db, copy)
    store = Store.open(copy)
    gazetteer = load_gazetteer()
    items = extract_snapshots(store, gazetteer)  # reprocess's slow part, no lock held
    # meanwhile the daemon (another connection) stores an edit of article 1 with new terms
    daemon = Store.open(copy)
    text = ("Russia demands that Ukraine withdraw its troops from Kherson and Zaporizhzhia, "
            "Kremlin spokesman Dmitry Peskov said, proposing a 60-day ceasefire.")
    terms = extract(text, title="Kremlin demands pullout", gazetteer=gazetteer, as_of=utcnow()).terms
    assert terms
    draft = SnapshotDraft(title="Kremlin demands pullout", text=text, content_hash="late-edit", text_source="page",
                          language="en", fetched_at=utcnow(), terms=terms)
    assert record_check(daemon, 1, draft, checked_at=utcnow(), next_check_at=None).snapshots_new == 1
    [late] = daemon.query("select id from snapshots where content_hash = 'late-edit'")
    daemon.close()
    rebuild(store, items, gazetteer)
    kept = store.query("select count(*) as n from terms where snapshot_id = ?", [late["id"]])[0]["n"]
    assert kept == len(terms)
    assert store.query("select count(*) as n from changes where snapshot_id = ?", [late["id"]])[0]["n"] > 0
    rebuilt = _snapshot(store)
    reprocess_all(store)  # from scratch, nothing running: the same result
    assert _snapshot(store) == rebuilt
