# ruff: noqa: F811  (pytest fixtures imported from test_digest_support are redefined as arguments)
"""The command line's manners (issue 15): options anywhere, one machine-output convention,
filters that name an unknown id, cron quietness, tables at 80 columns, consistency, and
the commands people expect. Real config files, real SQLite files, CliRunner or a real
process; email through a real SMTP server on loopback."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_digest_support import demo_db, email_config, free_port, smtp_server, write_config  # noqa: F401

from watcher.cli import cli
from watcher.config import load_config
from watcher.demo import rss_feed, seed_stories
from watcher.loopback import LoopbackServer
from watcher.store import Store

pytestmark = pytest.mark.timeout(120)

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
<outline type="rss" text="Agency" xmlUrl="https://agency.example/rss"/></body></opml>"""


def invoke(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, (args, result.output)
    return result


def watcher(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """A real `watcher` process, its output piped (not a terminal)."""
    env = {**os.environ, **(env or {})}
    env.pop("WATCHER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "watcher", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=90, env=env)


@pytest.fixture
def setup(demo_db: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A config (with one feed, comments) around a copy of the demo's database, and an OPML file."""
    config = write_config(tmp_path, demo_db)
    config.write_text("# my desk's watcher\n" + config.read_text()
                      + '\n# the one feed\n[[feeds]]\nurl = "https://example.org/feed.xml"\nname = "Example"\n')
    (tmp_path / "list.opml").write_text(OPML)
    return config, demo_db


# --- --config and --db before or after the command --------------------------------------------

COMMANDS = [
    ["feeds"], ["feeds", "export"], ["feeds", "import", "{opml}", "--dry-run"], ["feeds", "reset", "1"],
    ["history", "--json"], ["terms", "--json"], ["search", "neutral", "--json"], ["show", "1", "--json"],
    ["digests", "--json"], ["digest", "--dry-run"], ["report", "--conflict", "russia-ukraine", "--json"],
    ["export", "atom"], ["prune", "--older-than", "3650d", "--dry-run", "--json"], ["datasette-metadata"],
    ["reprocess"], ["vocabulary", "--json"], ["extract", "{seed}", "--json"],
]


def _untimed(out: str) -> str:
    """The output without the clock's time stamps (a dry-run digest and an OPML export are
    dated now, and two runs can fall either side of a second)."""
    out = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d", "<time>", out)
    # and the RFC 822 times of an OPML export's dateCreated (failed across a second, too)
    return re.sub(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \w+", "<time>", out)


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_config_and_db_before_or_after_every_command(setup: tuple[Path, Path], tmp_path: Path,
                                                     command: list[str]) -> None:
    config, db = setup
    seed = next((Path(__file__).parent.parent / "seeds").glob("004_*.txt"))
    command = [c.format(opml=tmp_path / "list.opml", seed=seed) for c in command]
    before = invoke("--config", str(config), *command)
    after = invoke(*command, "--config", str(config))
    assert _untimed(before.stdout) == _untimed(after.stdout)
    # --db overrides the config's database, before or after; a config naming another file
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(config.read_text().replace(str(db), str(tmp_path / "missing.db")))
    for args in (["--config", str(elsewhere), "--db", str(db), *command],
                 [*command, "--config", str(elsewhere), "--db", str(db)]):
        assert _untimed(invoke(*args).stdout.replace(str(elsewhere), str(config))) == _untimed(before.stdout)


def test_run_demo_and_init_take_them_before_or_after_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.toml"
    empty.write_text('[watcher]\ndatabase = "w.db"\n')
    for args in (["--config", str(empty), "run"], ["run", "--config", str(empty)]):
        assert "no enabled feed" in invoke(*args, code=2).output  # the config was read
    invoke("--db", "before.db", "demo", "--no-digest")
    invoke("demo", "--no-digest", "--db", "after.db")
    assert invoke("-q", "demo", "--no-digest", "--db", "quiet.db").stdout == ""  # printed it all before
    assert (tmp_path / "before.db").stat().st_size > 0 and (tmp_path / "after.db").stat().st_size > 0
    invoke("--config", "a.toml", "init")
    invoke("init", "--config", "b.toml")
    assert load_config(tmp_path / "a.toml").feeds and load_config(tmp_path / "b.toml").feeds


def test_subcommand_options_after_the_group_options(setup: tuple[Path, Path]) -> None:
    """`feeds --config c import x` and `feeds import x --config c`: the group's and the
    subcommand's place both work (feeds import/export/reset took it only before)."""
    config, _ = setup
    opml = str(config.parent / "list.opml")
    assert "would add 1 feed " in invoke("feeds", "--config", str(config), "import", opml, "--dry-run").stdout
    assert "would add 1 feed " in invoke("feeds", "import", opml, "--dry-run", "--config", str(config)).stdout


# --- machine output: one convention ------------------------------------------------------------

LISTS = [["feeds"], ["history"], ["terms"], ["terms", "--as-of", "2999-01-01"], ["search", "neutral"],
         ["digests"], ["vocabulary"], ["extract", "-"]]


@pytest.mark.parametrize("command", LISTS, ids=[" ".join(c) for c in LISTS])
def test_json_is_an_array_nl_is_one_object_a_line_csv_a_table(setup: tuple[Path, Path],
                                                                command: list[str]) -> None:
    config, _ = setup
    invoke("digest", "--config", str(config))  # one digest in the outbox
    stdin = "Russia’s Lavrov said Moscow demanded that Ukraine stay neutral, a ceasefire first.\n"

    def run(*fmt: str) -> str:
        result = CliRunner().invoke(cli, [*command, *fmt, "--config", str(config)], input=stdin,
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    rows = json.loads(run("--json"))
    assert isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows)
    assert [json.loads(line) for line in run("--nl").splitlines()] == rows
    text = run("--json")
    assert "\\u2019" not in text and "\\u00" not in text  # non-ASCII as UTF-8, the same in every command
    if command[0] != "extract":  # extract's rows nest terms: JSON only
        table = list(csv.DictReader(io.StringIO(run("--csv"))))
        assert len(table) == len(rows) and set(table[0]) >= {k for k in rows[0] if rows[0][k] is not None}


def test_search_json_gives_lists_as_lists(setup: tuple[Path, Path]) -> None:
    config, _ = setup
    rows = json.loads(invoke("search", "neutral status", "--json", "--config", str(config)).stdout)
    term = next(r for r in rows if r["hit"] == "term")
    assert isinstance(term["category"], list) and "neutrality" in term["category"]
    assert isinstance(term["proposer"], list) and term["proposer"] == ["russia"]
    assert "Putin’s" in json.dumps(rows, ensure_ascii=False)


def test_json_output_names_are_unchanged(setup: tuple[Path, Path]) -> None:
    """The JSON field names are contracts: the convention changed the framing only."""
    config, _ = setup
    [feed] = [r for r in json.loads(invoke("feeds", "--json", "--config", str(config)).stdout)
              if r["config_url"] == "https://example.org/feed.xml"]
    assert {"id", "config_url", "url", "name", "enabled", "disabled_reason", "consecutive_errors",
            "last_polled_at", "next_poll_at", "last_error"} <= set(feed)
    history = json.loads(invoke("history", "--json", "--config", str(config)).stdout)
    assert {"observed_at", "outlet", "article_url", "article_title", "stance", "quote", "version"} <= set(history[0])


# --- unknown ids: exit 2 with a did-you-mean ---------------------------------------------------


@pytest.mark.parametrize(("args", "hint"), [
    (["terms", "--conflict", "israel-hamass"], "did you mean 'israel-hamas'?"),
    (["history", "--category", "troop-withdrawal"], "did you mean 'troop_withdrawal'?"),
    (["history", "--proposer", "rusia"], "did you mean 'russia'?"),
    (["terms", "--proposer", "ukriane"], "did you mean 'ukraine'?"),
    (["export", "atom", "--conflict", "sudann"], "did you mean 'sudan'?"),
    (["digest", "--dry-run", "--conflict", "sudann"], "did you mean 'sudan'?"),
])
def test_an_unknown_id_is_a_usage_error_with_a_did_you_mean(setup: tuple[Path, Path], args: list[str],
                                                            hint: str) -> None:
    config, _ = setup
    result = invoke(*args, "--config", str(config), code=2)
    assert hint in result.output and "no terms recorded" not in result.output


def test_a_known_id_with_nothing_recorded_is_still_an_empty_answer(setup: tuple[Path, Path]) -> None:
    config, _ = setup
    assert json.loads(invoke("terms", "--conflict", "sudan", "--json", "--config", str(config)).stdout) == []
    assert "no terms recorded" in invoke("terms", "--conflict", "sudan", "--config", str(config)).stderr


def test_vocabulary_lists_every_kind_of_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml here: the shipped vocabulary
    rows = json.loads(invoke("vocabulary", "--json").stdout)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"conflict", "actor", "place", "category", "stance"}
    ids = {(r["kind"], r["id"]) for r in rows}
    assert {("conflict", "israel-hamas"), ("actor", "russia"), ("category", "troop_withdrawal"),
            ("stance", "rejected")} <= ids
    assert any(r["kind"] == "place" for r in rows)
    nl = [json.loads(line) for line in invoke("vocabulary", "--kind", "stance", "--nl").stdout.splitlines()]
    assert nl and {r["kind"] for r in nl} == {"stance"}
    text = invoke("vocabulary").stdout
    assert "conflicts:" in text and "israel-hamas" in text and "stances:" in text


def test_vocabulary_includes_the_configs_gazetteer(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[gazetteer.conflicts.nagorno]\nnames = ["Nagorno war"]\nparties = ["armenia", "azerbaijan"]\n')
    rows = json.loads(invoke("vocabulary", "--kind", "conflict", "--json", "--config", str(config)).stdout)
    assert "nagorno" in {r["id"] for r in rows}


def test_extract_and_vocabulary_read_only_the_configs_gazetteer(tmp_path: Path) -> None:
    """`watcher extract` and `watcher vocabulary` use the config's [gazetteer] and [triggers]
    alone: a schedule they never run does not stop them (nor costs the scheduler's import),
    while a bad addition they would use is still one clear error naming it (exit 2)."""
    config = tmp_path / "config.toml"
    config.write_text('[digest]\nschedule = "not a cron line"\n\n'
                      '[gazetteer.conflicts.nagorno]\nnames = ["Nagorno war"]\nparties = ["armenia", "azerbaijan"]\n')
    story = tmp_path / "story.txt"
    story.write_text("Nagorno war: truce holds\n\nArmenia and Azerbaijan agreed a ceasefire on Friday, "
                     "officials in Yerevan said.\n")
    out = invoke("extract", str(story), "--json", "--config", str(config))
    assert json.loads(out.stdout)[0]["input"] == str(story)
    rows = json.loads(invoke("vocabulary", "--kind", "conflict", "--json", "--config", str(config)).stdout)
    assert "nagorno" in {r["id"] for r in rows}
    assert "digest.schedule" in invoke("poll", "--config", str(config), code=2).stderr  # where it runs, it counts
    config.write_text('[gazetteer.conflicts.nagorno]\nnames = "Nagorno war"\n')
    for args in (("extract", str(story)), ("vocabulary",)):
        bad = invoke(*args, "--config", str(config), code=2)
        assert "gazetteer" in bad.stderr and "Traceback" not in bad.output


# --- cron: -q / -v -----------------------------------------------------------------------------


def _poll_config(tmp_path: Path, server: LoopbackServer, path: str = "/feed.xml") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "w.db"\nallow_private = true\nworkers = 1\ntimeout = "5s"\n'
                      f'fetch_articles = false\n\n[[feeds]]\nurl = "{server.url(path)}"\nname = "loopback news"\n')
    return config


def test_poll_quiet_prints_nothing_when_all_is_well(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.add("/feed.xml", rss_feed(seed_stories(), loopback.base_url))
    config = _poll_config(tmp_path, loopback)
    quiet = watcher("poll", "-q", "--config", str(config), cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    loud = watcher("--config", str(config), "poll", "--all", cwd=tmp_path)
    assert loud.returncode == 0 and "polled 1 feed: 1 ok, 0 with problems" in loud.stderr
    verbose = watcher("poll", "--all", "-v", "--config", str(config), cwd=tmp_path)
    assert " DEBUG GET " in verbose.stderr and " DEBUG " not in loud.stderr  # every request, only with -v


def test_poll_quiet_still_reports_a_failed_feed(loopback: LoopbackServer, tmp_path: Path) -> None:
    config = _poll_config(tmp_path, loopback, "/gone.xml")  # 404
    quiet = watcher("-q", "poll", "--config", str(config), cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert "loopback news" in quiet.stderr and "404" in quiet.stderr and "polled" not in quiet.stderr


def test_quiet_commands_that_change_things_print_nothing(setup: tuple[Path, Path]) -> None:
    config, _ = setup
    for args in (["feeds", "add", "https://agency.example/rss"], ["feeds", "pause", "Example"],
                 ["feeds", "import", str(config.parent / "list.opml")], ["reprocess"],
                 ["prune", "--older-than", "3650d"], ["feeds", "reset", "1"]):
        result = invoke(*args, "-q", "--config", str(config))
        assert result.stdout == "" and result.stderr == "", args
    assert [f.enabled for f in load_config(config).feeds] == [False, True]  # and they did it


def test_quiet_and_verbose_together_is_a_usage_error(setup: tuple[Path, Path]) -> None:
    config, _ = setup
    assert "contradict" in invoke("terms", "-q", "-v", "--config", str(config), code=2).output


def test_quiet_digest_says_nothing_on_stderr(setup: tuple[Path, Path]) -> None:
    config, _ = setup
    invoke("digest", "--config", str(config))
    again = invoke("digest", "-q", "--config", str(config))
    assert again.stderr == "" and again.stdout == ""


# --- tables at 80 columns and piped ------------------------------------------------------------

LONG_NAME = "The Extremely Long Name of a Regional News Service — World and Politics Section"
LONG_ERROR = "HTTP 503 Service Unavailable: the upstream proxy refused the connection " * 3


def _visible(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("columns", ["80", None], ids=["COLUMNS=80", "piped"])
def test_feeds_table_keeps_key_columns_whole_at_80(setup: tuple[Path, Path], tmp_path: Path,
                                                   columns: str | None) -> None:
    config, db = setup
    config.write_text(config.read_text().replace('name = "Example"', f'name = "{LONG_NAME}"'))
    invoke("feeds", "--config", str(config))  # synced
    store = Store.open(db)
    store.db.execute("update feeds set consecutive_errors = 12, last_error = ?, last_polled_at = "
                     "'2026-12-07 10:00:00', next_poll_at = '2026-12-07 11:00:00' where config_url = ?",
                     [LONG_ERROR, "https://example.org/feed.xml"])
    store.close()
    env = {"COLUMNS": columns} if columns else {}
    if not columns:
        env["COLUMNS"] = ""
    out = watcher("feeds", "--config", str(config), cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    lines = _visible(out.stdout)
    assert max(len(line) for line in lines) <= 80
    row = next(line for line in lines if "The Extrem" in line)
    assert re.search(r"\bfailing\s+12\s+2026-12-07 10:00\s+2026-12-07 11:00\s+The Extrem", row)
    assert row.rstrip().endswith("…")
    error = lines[lines.index(row) + 1]
    assert "HTTP 503 Ser" in error and error.rstrip().endswith("…")
    assert "1 feed (times UTC)" in out.stdout


@pytest.mark.parametrize("columns", ["80", None], ids=["COLUMNS=80", "piped"])
def test_digests_table_keeps_key_columns_whole_at_80(setup: tuple[Path, Path], tmp_path: Path,
                                                     columns: str | None) -> None:
    config, db = setup
    invoke("digest", "--config", str(config))
    store = Store.open(db)
    store.db.execute("update digests set status = 'failed', attempts = 3, error = ?", [LONG_ERROR])
    store.close()
    out = watcher("digests", "--config", str(config), cwd=tmp_path, env={"COLUMNS": columns or ""})
    assert out.returncode == 0, out.stderr
    lines = _visible(out.stdout)
    assert max(len(line) for line in lines) <= 80
    assert "1 digest (times UTC)" in out.stdout
    row = next(line for line in lines if "failed" in line)
    assert re.search(r"\s1\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+failed ×3\s+\d+\s+console", row)
    error = lines[lines.index(row) + 1]
    assert "HTTP 503" in error and error.rstrip().endswith("…")


# --- consistency -------------------------------------------------------------------------------


def test_digest_since_takes_a_time_ago_as_history_does(setup: tuple[Path, Path]) -> None:
    config, _ = setup
    week = invoke("digest", "--dry-run", "--since", "7d", "--channel", "console", "--config", str(config))
    assert "russia-ukraine" in week.stdout
    assert "russia-ukraine" in invoke("history", "--since", "7d", "--config", str(config)).stdout
    assert "russia-ukraine" not in invoke("digest", "--dry-run", "--since", "2999-01-01",
                                          "--config", str(config)).stdout
    assert "time ago (7d, 12h)" in invoke("digest", "--since", "last week", "--config", str(config), code=2).output


def test_feeds_syncs_from_the_config(setup: tuple[Path, Path]) -> None:
    config, db = setup
    invoke("feeds", "--config", str(config))
    store = Store.open(db)
    live = {r["config_url"] for r in store.feeds()}
    store.close()
    assert "https://example.org/feed.xml" in live  # the config's feed got its row
    assert not any("127.0.0" in url for url in live)  # the demo's feeds are not in this config: removed


def test_the_demo_database_opens_afterwards_without_a_config(tmp_path: Path) -> None:
    demo = watcher("demo", "--db", "demo.db", "--no-digest", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert not (tmp_path / "config.toml").exists()
    terms = watcher("terms", "--db", "demo.db", cwd=tmp_path)
    assert terms.returncode == 0, terms.stderr
    assert "terms in the ledger" in terms.stdout and "russia-ukraine" in terms.stdout
    assert watcher("--db", "demo.db", "history", "--json", cwd=tmp_path).returncode == 0
    listing = watcher("feeds", "--db", "demo.db", "--json", cwd=tmp_path)  # no config: nothing to sync from
    assert len(json.loads(listing.stdout)) == 2
    poll = watcher("poll", "--db", "demo.db", cwd=tmp_path)
    assert poll.returncode == 2 and "no config file" in poll.stderr


def test_counts_say_1_feed_not_1_feeds(setup: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = setup
    one = tmp_path / "one.toml"
    one.write_text(config.read_text())
    out = watcher("feeds", "--config", str(one), cwd=tmp_path, env={"COLUMNS": "100"}).stdout
    assert "1 feed (times UTC)" in out
    assert "1 feed to" in invoke("feeds", "import", str(tmp_path / "list.opml"), "--config", str(one)).stdout
    invoke("digest", "--config", str(one))
    assert "1 digest " in watcher("digests", "--config", str(one), cwd=tmp_path).stdout
    found = invoke("search", "Sevastopol", "--limit", "1", "--config", str(one)).stdout
    assert "1 match for" in found


def test_email_subject_has_no_empty_encoded_word_and_text_wraps_at_78(demo_db: Path, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    raw: list[bytes] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            raw.append(envelope.original_content)
            return "250 OK"

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = write_config(tmp_path, demo_db, channels=["email"], email=email_config(port))
        result = invoke("digest", "--config", str(config))
    finally:
        controller.stop()
    assert result.exit_code == 0 and len(raw) == 1
    head, _, _ = raw[0].partition(b"\r\n\r\n")
    assert not re.search(rb"=\?[^?]+\?[qQbB]\?\?=", head)  # no =?utf-8?q??=
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw[0], policy=policy.default)
    assert msg["Subject"].startswith("ceasefire watcher: ") and "·" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    long_lines = [line for line in text.splitlines() if len(line) > 78]
    assert all(len(line.split()) == 1 for line in long_lines), long_lines  # only a URL too long to break
    assert any(line.startswith("      ") for line in text.splitlines())  # continuations keep their indent


# --- the commands people expect ----------------------------------------------------------------


def test_init_writes_a_commented_starter_config_and_never_overwrites(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    out = invoke("init")
    path = tmp_path / "config.toml"
    assert "wrote config.toml" in out.stdout
    text = path.read_text()
    assert text.count("\n#") > 10 and "docs/configuration.md" in text
    config = load_config(path)
    assert config.feeds and config.digest.channels == ["console"]
    path.write_text(text + "# mine\n")
    refused = invoke("init", code=1)
    assert "exists" in refused.output and path.read_text().endswith("# mine\n")
    invoke("init", "--force")
    assert path.read_text() == text
    other = tmp_path / "other.toml"
    invoke("init", "--config", str(other))
    assert load_config(other).feeds


def test_feeds_add_remove_pause_resume_edit_the_config_keeping_comments(setup: tuple[Path, Path]) -> None:
    config, db = setup
    c = str(config)
    added = invoke("feeds", "add", "https://agency.example/rss", "--name", "Agency", "--interval", "10m", "--config", c)
    assert "added: https://agency.example/rss (Agency)" in added.stdout
    loaded = load_config(config)
    assert [(f.url, f.name, f.interval) for f in loaded.feeds][-1] == ("https://agency.example/rss", "Agency", 600)
    assert invoke("feeds", "add", "https://AGENCY.example/rss?utm_source=x", "--config", c, code=1)
    # a URL or interval that cannot be used is a usage error: exit 2, as an unknown id (was 1)
    assert "scheme must be http or https" in invoke("feeds", "add", "ftp://x.example/feed", "--config", c,
                                                    code=2).output
    assert "duration like" in invoke("feeds", "add", "https://b.example/rss", "--interval", "3q", "--config", c,
                                     code=2).output

    invoke("feeds", "pause", "Agency", "--config", c)
    assert [f.enabled for f in load_config(config).feeds] == [True, False]
    assert "already paused" in invoke("feeds", "pause", "https://agency.example/rss", "--config", c).stdout
    invoke("feeds", "--config", c, "resume", "agency")
    assert [f.enabled for f in load_config(config).feeds] == [True, True]
    assert "enabled" not in config.read_text()

    missing = invoke("feeds", "remove", "Agncy", "--config", c, code=2)
    assert "did you mean 'Agency'?" in missing.output
    invoke("feeds", "remove", "https://agency.example/rss", "--config", c)
    text = config.read_text()
    assert [f.url for f in load_config(config).feeds] == ["https://example.org/feed.xml"]
    assert text.startswith("# my desk's watcher\n") and "# the one feed\n" in text  # comments kept
    assert "Added by" not in text  # the note feeds add wrote went with its block
    # by the id `watcher feeds` shows
    invoke("feeds", "--config", c)
    store = Store.open(db)
    feed_id = next(r["id"] for r in store.feeds() if r["config_url"] == "https://example.org/feed.xml")
    store.close()
    invoke("feeds", "pause", str(feed_id), "--config", c)
    assert load_config(config).feeds[0].enabled is False


def test_feeds_edits_are_atomic_and_keep_a_symlink(setup: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = setup
    real = tmp_path / "real.toml"
    shutil.move(config, real)
    config.symlink_to(real)
    invoke("feeds", "add", "https://agency.example/rss", "--config", str(config))
    assert config.is_symlink() and "agency.example" in real.read_text()
    assert not list(tmp_path.glob(".real.toml.*.tmp"))  # no temporary file left behind


def test_feeds_edits_at_the_same_time_all_land(tmp_path: Path) -> None:
    # each edit read the old text and renamed its own result over the file: of eight
    # `feeds add` run at once, five feeds were lost, every one reported "added"
    config = tmp_path / "config.toml"
    config.write_text('[watcher]\ndatabase = "w.db"\n')
    env = {**os.environ}
    env.pop("WATCHER_CONFIG", None)
    adds = [subprocess.Popen([sys.executable, "-m", "watcher", "-q", "--config", str(config), "feeds", "add",
                              f"https://n{i}.example/rss"], cwd=tmp_path, env=env) for i in range(6)]
    assert [p.wait(timeout=90) for p in adds] == [0] * 6
    assert sorted(f.url for f in load_config(config).feeds) == [f"https://n{i}.example/rss" for i in range(6)]


def test_feeds_edits_say_names_without_their_escapes(tmp_path: Path) -> None:
    # an OPML outline's title (here a C1 CSI) became the feed's name, and the lines saying
    # what import and pause did printed it to the terminal as it was
    config = tmp_path / "config.toml"
    config.write_text('[watcher]\ndatabase = "w.db"\n\n[[feeds]]\nurl = "https://a.example/rss"\n'
                      'name = "A\\u001b]0;retitled\\u0007B"\n')
    opml = tmp_path / "list.opml"
    opml.write_text('<?xml version="1.0"?>\n<opml version="2.0"><body><outline type="rss" '
                    'text="Evil&#x9b;31m red" xmlUrl="https://b.example/rss"/></body></opml>\n')
    outputs = [invoke("feeds", "import", str(opml), "--config", str(config)),
               invoke("feeds", "pause", "https://a.example/rss", "--config", str(config)),
               invoke("feeds", "pause", "https://b.example/rss", "--config", str(config))]
    assert [f.enabled for f in load_config(config).feeds] == [False, False]
    for out in outputs:
        assert not re.search("[\x1b\x07\x9b]", out.stdout + out.stderr), out.stdout
    assert "(AB)" in outputs[1].stdout and "Evil" in outputs[0].stdout


def test_feeds_pause_keeps_the_comment_on_an_enabled_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[watcher]\ndatabase = "w.db"\n\n[[feeds]]\nurl = "https://a.example/rss"\n'
                      "  enabled = true  # on during the talks\n")
    invoke("feeds", "pause", "https://a.example/rss", "--config", str(config))
    assert "  enabled = false  # on during the talks\n" in config.read_text()  # was "enabled = false"
    assert load_config(config).feeds[0].enabled is False


def test_feeds_edits_refuse_a_layout_they_cannot_edit_safely(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('feeds = [{url = "https://a.example/rss"}]\n\n[watcher]\ndatabase = "w.db"\n')
    before = config.read_text()
    out = invoke("feeds", "pause", "https://a.example/rss", "--config", str(config), code=1)
    assert "edit it by hand" in out.output and config.read_text() == before


def test_digest_test_sends_a_test_message_through_email(demo_db: Path, tmp_path: Path) -> None:
    with smtp_server() as (server, port):
        config = write_config(tmp_path, demo_db, channels=["console"], email=email_config(port))
        result = invoke("digest", "--test", "email", "--config", str(config))
        assert len(server.messages) == 1
        msg = server.messages[0].message
        assert msg["Subject"] == "ceasefire watcher: test message"
        assert "the email channel works" in msg.get_body(("plain",)).get_content()
        assert server.messages[0].rcpt_tos == ["desk@news.example", "editor@news.example"]
    assert "email: test message sent" in result.stderr
    store = Store.open(demo_db)
    assert store.query("select count(*) as n from digests")[0]["n"] == 0  # the outbox untouched
    store.close()
    console = invoke("digest", "--config", str(config), "--test")  # digest.channels: the console
    assert "Nothing new." in console.stdout and "console: test message sent" in console.stderr


def test_digest_test_fails_clearly_when_the_server_is_down(demo_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_db, email=email_config(free_port()))
    result = invoke("digest", "--test", "email", "--config", str(config), code=1)
    assert "email: test message not sent" in result.output
    assert "'emial' is not a channel" in invoke("digest", "--test", "emial", "--config", str(config), code=2).output


def test_digest_test_through_apprise_to_a_loopback_webhook(demo_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("apprise")
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"json://127.0.0.1:{httpd.server_address[1]}/hook"
        config = write_config(tmp_path, demo_db, channels=["apprise"], apprise={"urls": [url]})
        result = invoke("digest", "--test", "--config", str(config))  # digest.channels: apprise
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "apprise: test message sent" in result.stderr
    [body] = received
    assert json.loads(body)["title"] == "ceasefire watcher: test message"


# --- CSV a spreadsheet can open safely, and read when empty -------------------------------------

CSV_LISTS = [["feeds"], ["history"], ["terms"], ["terms", "--as-of", "2999-01-01"], ["search", "neutral"],
             ["digests"]]


@pytest.mark.parametrize("command", CSV_LISTS, ids=[" ".join(c) for c in CSV_LISTS])
def test_csv_of_no_rows_still_has_its_header(setup: tuple[Path, Path], tmp_path: Path,
                                             command: list[str]) -> None:
    """An empty result was an empty file: a CSV reader found no fields at all. The header is
    the one a full result has."""
    config, _ = setup
    invoke("digest", "--config", str(config))  # one digest in the outbox
    full = invoke(*command, "--csv", "--config", str(config)).stdout
    empty_config = tmp_path / "empty.toml"  # no feeds, a new database
    empty_config.write_text(f'[watcher]\ndatabase = "{tmp_path / "empty.db"}"\n')
    Store.open(tmp_path / "empty.db").close()
    empty = invoke(*command, "--csv", "--config", str(empty_config)).stdout
    header = full.splitlines()[0]
    assert empty == header + "\n" and len(full.splitlines()) > 1
    assert header == ",".join(json.loads(invoke(*command, "--json", "--config", str(config)).stdout)[0])


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(setup: tuple[Path, Path]) -> None:
    """A feed's name or title "=HYPERLINK(…)" was written as it is: a spreadsheet opening the
    CSV runs it as a formula. Text starting with = + - @ gets a leading apostrophe; numbers
    (-3) stay as they are."""
    config, db = setup
    invoke("feeds", "--config", str(config))  # the config's feed in the database
    store = Store.open(db)
    store.db.execute("update feeds set title = ?, consecutive_errors = -3 where config_url = ?",
                     ['=HYPERLINK("https://evil.example","x")', "https://example.org/feed.xml"])
    store.db.conn.commit()
    store.close()
    rows = list(csv.DictReader(io.StringIO(invoke("feeds", "--csv", "--config", str(config)).stdout)))
    row = next(r for r in rows if r["title"].startswith("'="))
    assert row["title"] == '\'=HYPERLINK("https://evil.example","x")'
    assert row["consecutive_errors"] == "-3"
    as_json = json.loads(invoke("feeds", "--json", "--config", str(config)).stdout)
    assert any(r["title"] == '=HYPERLINK("https://evil.example","x")' for r in as_json)  # JSON as stored
