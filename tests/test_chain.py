"""A story told over several reports, through the real user path: `watcher poll` (a separate
process) on an RSS feed served by a real loopback HTTP server, into a real SQLite file.

The chain is issue 13's: Hamas demands a phased ceasefire with no figure, a later story says
60 days, a third says 90 and that Israel rejected it. The 60 must reach the reader (it used
to be folded into the ledger silently, and the next digest quoted a 60 no digest carried),
the third report must deliver both the new figure and the rejection, and `watcher
reprocess` must rebuild exactly what the polls wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watcher.demo import Story, article_page, rss_feed
from watcher.loopback import LoopbackServer
from watcher.models import story_time
from watcher.store import Store

FILLER = (
    "Mediators have shuttled between the two delegations for weeks, and diplomats said the "
    "talks would resume after the weekend.\n\n"
    "Aid agencies warned that conditions in the territory were worsening by the day and that "
    "food, water and medicine were running short in every district they could still reach."
)
DAY = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
CHAIN = [
    Story("phased", "Hamas sets out its ceasefire demand",
          "Hamas demanded a phased ceasefire in Gaza, a senior official said on Monday.\n\n" + FILLER, DAY),
    Story("sixty", "Hamas wants a 60-day truce",
          "Hamas demanded a 60-day ceasefire in Gaza, a senior official said on Tuesday.\n\n" + FILLER,
          DAY + timedelta(days=1)),
    Story("ninety", "Hamas raises its ceasefire demand to 90 days",
          "Hamas now demands a 90-day ceasefire in Gaza, a senior official said on Thursday. "
          "Israel rejected the proposal on Friday.\n\n" + FILLER, DAY + timedelta(days=3)),
]
KEY = ("israel-hamas", "hamas", "duration_phasing")


def watcher(config: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "watcher", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=config.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def setup(loopback: LoopbackServer, tmp_path: Path, name: str = "Gaza Desk") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "{tmp_path / "w.db"}"\nallow_private = true\nworkers = 1\n\n'
                      f'[[feeds]]\nurl = "{loopback.url("/feed.xml")}"\nname = "{name}"\n')
    return config


def publish(loopback: LoopbackServer, stories: list[Story]) -> None:
    for s in stories:
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html; charset=utf-8")
    loopback.add("/feed.xml", rss_feed(stories, loopback.base_url))


def changes(db: Path) -> list[dict]:
    store = Store.open(db)
    try:
        rows = store.query("select c.*, a.url from changes c join articles a on a.id = c.article_id order by c.id")
    finally:
        store.close()
    return [{**r, "story": r["url"].rsplit("/", 1)[-1].split(".")[0]} for r in rows]


def test_first_figure_then_new_figure_and_rejection_through_watcher_poll(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    config = setup(loopback, tmp_path)
    db = tmp_path / "w.db"
    publish(loopback, [])
    watcher(config, "poll", "--all")  # the feed's first poll: its baseline, nothing in it yet
    for i in range(len(CHAIN)):
        publish(loopback, CHAIN[: i + 1])
        watcher(config, "poll", "--all")

    rows = [r for r in changes(db) if (r["conflict"], r["proposer"], r["category"]) == KEY]
    by_story = {}
    for r in rows:
        by_story.setdefault(r["story"], []).append(r)
    assert [r["kind"] for r in by_story["phased"]] == ["new"]
    (sixty,) = by_story["sixty"]  # the first figure on a known term is news
    assert sixty["kind"] == "changed" and "not stated → 60 days" in sixty["summary"]
    assert json.loads(sixty["after"])["values"]["numbers"] == [{"value": 60, "unit": "days"}]
    # one report, every part that moved: the new figure and the rejection
    ninety = {r["kind"]: r for r in by_story["ninety"]}
    assert set(ninety) == {"changed", "status"}
    assert "60 days → 90 days" in ninety["changed"]["summary"]
    assert ninety["status"]["summary"] == "hamas: duration_phasing israel rejected"
    assert all(r["baseline"] == 0 for r in rows)

    # the digest and the Atom export carry every one of them
    digest = watcher(config, "digest", "--dry-run").stdout
    assert "not stated → 60 days" in digest and "60 days → 90 days" in digest and "israel rejected" in digest
    atom = watcher(config, "export", "atom").stdout
    for r in rows:
        assert f"change/{r['key']}" in atom

    # the timeline is the stories' own: published times, the feed's name as the outlet
    history = [json.loads(line) for line in
               watcher(config, "history", "--conflict", KEY[0], "--category", KEY[2], "--nl").stdout.splitlines()]
    assert [h["published_at"][:10] for h in history] == ["2024-05-06", "2024-05-07", "2024-05-09"]
    assert {h["outlet"] for h in history} == {"Gaza Desk"}
    text = watcher(config, "history", "--conflict", KEY[0], "--category", KEY[2]).stdout
    assert "2024-05-07" in text and "Gaza Desk" in text and "seen " in text

    # the terms on a date are the ones published by then, though all were read in one go later
    as_of = [json.loads(line) for line in watcher(config, "terms", "--as-of", "2024-05-08", "--nl").stdout.splitlines()]
    (on_8th,) = [r for r in as_of if (r["conflict"], r["proposer"], r["category"]) == KEY]
    assert on_8th["values"]["numbers"] == [{"value": 60, "unit": "days"}]
    store = Store.open(db)
    try:
        for moment in ("2024-05-05 00:00:00", "2024-05-06 09:00:00", "2024-05-08 12:00:00", "2030-01-01 00:00:00"):
            brute: dict = {}
            for row in store.query("select * from term_timeline where reported_at <= ? order by reported_at, term_id",
                                   [moment]):
                brute[(row["conflict"], row["proposer"], row["category"])] = row["term_id"]
            got = {(r["conflict"], r["proposer"], r["category"]): r["term_id"] for r in store.terms_as_of(moment)}
            assert got == brute, moment
    finally:
        store.close()

    # reprocess applies the same rules and rebuilds exactly what the polls wrote
    def projection() -> list[tuple]:
        return [(r["story"], r["kind"], r["conflict"], r["proposer"], r["category"], r["summary"], r["before"],
                 r["after"], r["key"]) for r in changes(db)]

    live = projection()
    watcher(config, "reprocess")
    assert projection() == live


def test_an_old_feeds_first_poll_reads_its_stories_as_of_their_publication(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    """A 2021 story read years later: "the May 2021 ceasefire" was current when it was
    published, so its violation is a term (the clock would have made it history)."""
    story = Story("old", "Israel and Hamas trade blame",
                  "Israel accused Hamas of violating the May 2021 ceasefire in Gaza.\n\n" + FILLER,
                  datetime(2021, 6, 1, 9, 0, tzinfo=UTC))
    config = setup(loopback, tmp_path)
    publish(loopback, [story])
    watcher(config, "poll", "--all")
    store = Store.open(tmp_path / "w.db")
    try:
        read = {(t["proposer"], t["category"], t["stance"]) for t in store.query("select * from terms")}
    finally:
        store.close()
    assert ("agreement", "ceasefire", "violated") in read
    watcher(config, "reprocess")  # and reprocess reads it the same way
    store = Store.open(tmp_path / "w.db")
    try:
        again = {(t["proposer"], t["category"], t["stance"]) for t in store.query("select * from terms")}
    finally:
        store.close()
    assert again == read


def test_history_orders_by_publication_not_by_when_the_watcher_read_it(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    """The 90-day story is read first, the 60-day one (published two days earlier) later:
    the timeline still tells them in the order they were published."""
    config = setup(loopback, tmp_path, name="Late Wire")
    publish(loopback, [CHAIN[2]])
    watcher(config, "poll", "--all")
    publish(loopback, [CHAIN[1], CHAIN[2]])
    watcher(config, "poll", "--all")
    rows = [json.loads(line) for line in watcher(config, "history", "--conflict", KEY[0], "--category", KEY[2],
                                                 "--nl").stdout.splitlines()]
    assert [r["values"]["numbers"][0]["value"] for r in rows] == [60, 90]
    # read in the other order (seen times have one-second resolution: both polls can share one)
    assert rows[0]["observed_at"] >= rows[1]["observed_at"]
    assert [r["outlet"] for r in rows] == ["Late Wire", "Late Wire"]
    assert all(r["host"] == "127.0.0.1" for r in rows)


def test_story_time_is_the_publication_never_the_future() -> None:
    read = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert story_time("2021-06-01T09:00:00+00:00", read) == datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    assert story_time("2021-06-01 09:00:00", read) == datetime(2021, 6, 1, 9, 0, tzinfo=UTC)  # as stored
    assert story_time("2027-01-01T00:00:00Z", read) == read  # a date in the future is not "now"
    assert story_time(None, read) == read and story_time("not a date", read) == read
