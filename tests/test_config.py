"""Config loading: the example file works, and each kind of mistake gets one clear message
naming the key, the value and what was expected, with exit code 2 from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watcher.config import ConfigError, format_duration, load_config, parse_duration

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
[watcher]
database = "w.db"

[[feeds]]
url = "https://example.org/feed.xml"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config.toml")
    assert len(config.feeds) >= 8
    assert "ceasefire" in config.topics
    assert config.watcher.database == ROOT / "watcher.db"
    assert config.watcher.per_host == 2


def test_defaults_and_relative_database(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.watcher.database == tmp_path / "w.db"
    assert config.watcher.interval == 900
    assert config.feeds[0].enabled is True
    assert config.topics["ceasefire"].include  # a default topic exists
    assert config.feeds[0].interval is None  # the feed takes [watcher].interval


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL.replace('database = "w.db"', 'database = "w.db"\nintreval = "5m"'))
    assert "unknown key watcher.intreval" in message
    assert "did you mean 'interval'?" in message


def test_unknown_top_level_table(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + "\n[watchr]\nx = 1\n")
    assert "unknown key watchr" in message and "'watcher'" in message


def test_unknown_feed_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + 'nmae = "x"\n')
    assert "feeds[0].nmae" in message and "did you mean 'name'?" in message


def test_bad_duration(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL.replace('database = "w.db"', 'database = "w.db"\ninterval = "fortnight"'))
    assert "watcher.interval = 'fortnight'" in message
    assert "a duration like 90s, 15m, 2h or 1d" in message


def test_wrong_type(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL.replace('database = "w.db"', 'database = "w.db"\nconcurrency = "lots"'))
    assert "watcher.concurrency = 'lots': expected a whole number" in message


def test_zero_per_host(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL.replace('database = "w.db"', 'database = "w.db"\nper_host = 0'))
    assert "watcher.per_host = 0: expected a whole number of at least 1" in message


def test_feed_url_must_be_http(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL.replace("https://example.org/feed.xml", "ftp://example.org/f"))
    assert "feeds[0].url = 'ftp://example.org/f': expected an http:// or https:// URL" in message


def test_feed_missing_url(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[feeds]]\nname = "x"\n')
    assert "feeds[0].url is missing" in message


def test_duplicate_feed(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + '\n[[feeds]]\nurl = "https://example.org/feed.xml"\n')
    assert "feeds[1].url" in message and "the same feed as feeds[0]" in message


def test_feed_names_unknown_topic(tmp_path: Path) -> None:
    text = MINIMAL + 'topics = ["ceasfire"]\n'
    message = error_of(tmp_path, text)
    assert "feeds[0].topics: 'ceasfire' is not a topic" in message and "did you mean 'ceasefire'" in message


def test_topic_needs_include(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + "\n[topics.war]\nexclude = []\n")
    assert "topics.war.include is missing" in message


def test_invalid_toml(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[watcher\n")
    assert "not valid TOML" in message and "config.toml" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_bad_cron(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + '\n[digest]\nschedule = "every morning"\n')
    assert "digest.schedule = 'every morning': expected a cron expression" in message


def test_bad_timezone(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + '\n[digest]\ntimezone = "Mars/Olympus"\n')
    assert "digest.timezone = 'Mars/Olympus'" in message and "IANA time zone" in message


def test_email_channel_needs_email_table(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + '\n[digest]\nchannels = ["console", "email"]\n')
    assert "no [email] table" in message


def test_password_in_file_refused(tmp_path: Path) -> None:
    text = MINIMAL + '\n[email]\nhost = "smtp.x"\nfrom = "a@x"\nto = ["b@x"]\npassword = "hunter2"\n'
    message = error_of(tmp_path, text)
    assert "password_env" in message and "hunter2" not in message


def test_bad_email_security(tmp_path: Path) -> None:
    text = MINIMAL + '\n[email]\nhost = "smtp.x"\nfrom = "a@x"\nto = ["b@x"]\nsecurity = "ssl"\n'
    assert "email.security = 'ssl': expected one of starttls, tls, none" in error_of(tmp_path, text)


def test_gazetteer_extension_shape(tmp_path: Path) -> None:
    good = MINIMAL + '\n[gazetteer.places.bakhmut]\nnames = ["Bakhmut", "Artemivsk"]\nconflict = "russia-ukraine"\n'
    config = load_config(write(tmp_path, good))
    assert config.extension["gazetteer"]["places"]["bakhmut"]["names"] == ["Bakhmut", "Artemivsk"]
    bad = MINIMAL + '\n[gazetteer.places.Bakhmut]\nnames = ["Bakhmut"]\n'
    assert "lowercase words joined by hyphens" in error_of(tmp_path, bad)
    bad_key = MINIMAL + '\n[gazetteer.places.bakhmut]\nnames = ["Bakhmut"]\nconflcit = "x"\n'
    assert "did you mean 'conflict'" in error_of(tmp_path, bad_key)


def test_triggers_need_known_categories(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + '\n[triggers]\nceasfire = ["quiet period"]\n')
    assert "unknown key triggers.ceasfire" in message and "'ceasefire'" in message


def test_cli_exits_2_and_runs_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('database = "w.db"', 'database = "w.db"\nintreval = "5m"'))
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "poll", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "unknown key watcher.intreval" in result.stderr
    assert not (tmp_path / "w.db").exists()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), (45, 45), ("500ms", 0.5)],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "15", "15 minutes", "-5m", 0, True, "1x"])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**8))
def test_duration_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.integers() | st.text(max_size=8), max_size=4))
def test_config_loader_never_crashes(table: dict) -> None:
    """Any [watcher] table gives a config or a ConfigError — never another exception."""
    from watcher.config import parse_config

    try:
        parse_config({"watcher": table}, base=Path("/tmp"))
    except ConfigError:
        pass


def test_interval_has_a_floor(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + 'interval = "100ms"\n')
    assert "feeds[0].interval = '100ms': expected a poll interval of at least 1s" in message


def test_feeds_listing_syncs_from_the_config_and_reset_clears_a_disabled_feed(tmp_path: Path) -> None:
    """docs/database.md: every command syncs the feeds table from the config, `watcher feeds` too."""
    from watcher.store import Store

    path = write(tmp_path, MINIMAL)
    watcher = [sys.executable, "-m", "watcher"]
    listing = subprocess.run([*watcher, "feeds", "--config", str(path), "--json"], capture_output=True, text=True,
                             timeout=60)
    assert listing.returncode == 0 and '"state"' not in listing.stdout and "example.org" in listing.stdout
    [listed] = json.loads(listing.stdout)
    store = Store.open(tmp_path / "w.db")
    [row] = store.feeds()  # the listing synced the config's feed into the table
    assert listed["id"] == row["id"] == 1 and row["config_url"] == load_config(path).feeds[0].url
    store.db.execute("update feeds set disabled_reason = '410 Gone', consecutive_errors = 3")
    reset = subprocess.run([*watcher, "feeds", "--config", str(path), "reset", "1"], capture_output=True,
                           text=True, timeout=60)
    assert reset.returncode == 0, reset.stderr
    row = store.feeds()[0]
    assert row["disabled_reason"] is None and row["consecutive_errors"] == 0


@pytest.mark.parametrize("second", [
    "HTTPS://EXAMPLE.ORG/feed.xml",
    "https://example.org:443/feed.xml",
    "https://example.org/feed.xml?utm_source=newsletter",
    "https://example.org/feed.xml#top",
    "https://Example.org:443/feed.xml?utm_medium=x#y",
], ids=["case", "default-port", "tracking", "fragment", "all"])
def test_the_same_feed_spelt_another_way_is_a_duplicate(tmp_path: Path, second: str) -> None:
    """Issue 14.14: each spelling was accepted as another feed (and polled again)."""
    message = error_of(tmp_path, MINIMAL + f'\n[[feeds]]\nurl = "{second}"\n')
    assert "feeds[1].url" in message and "the same feed as feeds[0]" in message


@pytest.mark.parametrize("text, needles", [
    ('[[feeds]]\nurl = "https://example.org:99999/feed.xml"\n', ["feeds[1].url", "Port out of range"]),
    ('[[feeds]]\nurl = "https://example.org/my feed.xml"\n', ["feeds[1].url", "spaces"]),
    ('[[feeds]]\nurl = "https://:8080/feed.xml"\n', ["feeds[1].url", "no host"]),
    ('[digest]\nalert_kinds = ["status:acceptd"]\n', ["digest.alert_kinds", "did you mean 'status:accepted'?"]),
    ('[digest]\nalert_kinds = ["stauts:accepted"]\n', ["digest.alert_kinds", "did you mean 'status:accepted'?"]),
    ('[email]\nhost = "smtp.example.org"\nport = 70000\nfrom = "w@example.org"\nto = ["d@example.org"]\n',
     ["email.port = 70000", "1 to 65535"]),
    ('[topics.ceasefire]\ninclude = ["ceasefire"]\nmin_score = nan\n', ["topics.ceasefire.min_score", "finite"]),
], ids=["port-99999", "space", "empty-host", "stance-typo", "kind-typo", "email-port", "nan-score"])
def test_values_that_failed_only_later_are_config_errors(tmp_path: Path, text: str, needles: list[str]) -> None:
    message = error_of(tmp_path, MINIMAL + "\n" + text)
    for needle in needles:
        assert needle in message, message


def test_run_without_an_enabled_feed_is_a_config_error(tmp_path: Path) -> None:
    """Issue 14.14: `watcher run` with an empty feed list ran silently, watching nothing."""
    path = write(tmp_path, '[watcher]\ndatabase = "w.db"\n\n[[feeds]]\nurl = "https://example.org/a.xml"\n'
                           'enabled = false\n')
    result = subprocess.run([sys.executable, "-m", "watcher", "run", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert "feeds: no enabled feed to watch" in result.stderr and "Traceback" not in result.stderr
