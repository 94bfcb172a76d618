"""The pipeline end to end against a real HTTP server on 127.0.0.1 and a real SQLite file.

Each failure test polls the good feeds together with one bad feed and checks that the good
feeds' results are exactly what they are when polled without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faults import LoopbackServer
from projection import STORIES, good_feeds, make_config, poll, projection, publish, publish_good

from watcher.demo import Story, article_page, edited, rss_feed
from watcher.pipeline import Pipeline

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def site(loopback: LoopbackServer) -> LoopbackServer:
    publish_good(loopback)  # the same stories in both feeds: whichever poll commits first stores both
    return loopback


@pytest.fixture
def baseline(site: LoopbackServer, tmp_path: Path) -> dict:
    store, reports = poll(make_config(tmp_path / "baseline.db", good_feeds(site)))
    assert all(r.error is None for r in reports)
    result = projection(store)
    store.close()
    return result


def poll_with_bad(site: LoopbackServer, tmp_path: Path, bad: dict, **watcher: object):
    config = make_config(tmp_path / "with-bad.db", [*good_feeds(site), bad], **watcher)
    store, reports = poll(config)
    by_name = {r.feed: r for r in reports}
    return store, by_name["bad"], by_name


# --- the happy path ----------------------------------------------------------------------


def test_first_poll_stores_articles_snapshots_terms(site: LoopbackServer, tmp_path: Path) -> None:
    store, reports = poll(make_config(tmp_path / "w.db", good_feeds(site)))
    assert {r.outcome for r in reports} == {"ok"}
    articles = store.query("select * from articles order by id")
    assert len(articles) == 2  # each story is in both feeds: one article each
    assert all("utm_" not in a["url"] for a in articles)
    assert store.db.execute("select count(*) from article_feeds").fetchone()[0] == 4
    snaps = store.query("select * from snapshots")
    assert len(snaps) == 2 and {s["text_source"] for s in snaps} == {"page"}
    assert all("Most read" not in s["text"] and "Privacy" not in s["text"] for s in snaps)
    assert store.db.execute("select count(*) from terms").fetchone()[0] > 0
    polls = store.query("select * from polls")
    assert len(polls) == 2 and all(p["http_status"] == 200 for p in polls)
    assert sum(p["entries_new"] for p in polls) == 4


def test_second_poll_is_304_and_stores_nothing(site: LoopbackServer, tmp_path: Path) -> None:
    config = make_config(tmp_path / "w.db", good_feeds(site))
    store, _ = poll(config)
    before = projection(store, with_polls=False)
    hits = site.hits("/world/000.html")
    store.close()
    store, reports = poll(config)
    assert {r.outcome for r in reports} == {"not_modified"}
    assert {r.http_status for r in reports} == {304}
    assert projection(store, with_polls=False) == before
    assert site.hits("/world/000.html") == hits  # no article refetched
    assert store.db.execute("select count(*) from polls").fetchone()[0] == 4


def test_poll_only_due_feeds(site: LoopbackServer, tmp_path: Path) -> None:
    config = make_config(tmp_path / "w.db", good_feeds(site))
    poll(config)
    _, reports = poll(config, all_feeds=False)
    assert reports == []  # both were just polled; next poll is 15 minutes away


def test_same_body_without_validators_is_not_parsed_again(loopback: LoopbackServer, tmp_path: Path) -> None:
    for s in STORIES:
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html")
    loopback.add("/plain.xml", rss_feed(STORIES, loopback.base_url), conditional=False)
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/plain.xml"), "name": "plain"}])
    poll(config)
    _, reports = poll(config)
    assert reports[0].outcome == "unchanged" and reports[0].http_status == 200


def test_edited_article_makes_version_2_with_diff(site: LoopbackServer, tmp_path: Path) -> None:
    config = make_config(tmp_path / "w.db", good_feeds(site))
    store, _ = poll(config)
    site.add("/world/004.html", article_page(edited(STORIES[1])), content_type="text/html")

    async def recheck() -> int:
        async with Pipeline(config, store) as pipeline:
            return await pipeline.check_articles(force=True)

    assert asyncio.run(recheck()) == 1
    v2 = store.query("select * from snapshots where version = 2")
    assert len(v2) == 1
    assert "+" in v2[0]["diff"] and "Kharkiv" in v2[0]["diff"]
    assert "--- v1" in v2[0]["diff"] and "+++ v2" in v2[0]["diff"]
    # a re-render with only whitespace and quote-style differences makes no version 3
    page = article_page(edited(STORIES[1])).replace("’", "'").replace("</p>", "  </p>")
    site.add("/world/004.html", page, content_type="text/html")
    assert asyncio.run(recheck()) == 0


# --- failures: the other feeds come out exactly as without the bad one ------------------


def test_429_with_retry_after(site, tmp_path, baseline) -> None:
    site.fault("/bad.xml", "retry_after", status=429, value=7200)
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "rate_limited" and bad.http_status == 429
    feed = store.query("select * from feeds where name = 'bad'")[0]
    assert feed["consecutive_errors"] == 0  # not an error
    assert feed["next_poll_at"] >= store.query("select datetime('now', '+7100 seconds') as t")[0]["t"]
    assert projection(store) == baseline


def test_500_backs_off_and_counts(site, tmp_path, baseline) -> None:
    site.add("/bad.xml", "oops", status=500, content_type="text/plain")
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "error" and "500" in bad.error
    feed = store.query("select * from feeds where name = 'bad'")[0]
    assert feed["consecutive_errors"] == 1 and feed["failing_since"] is not None
    poll_row = store.query("select * from polls where feed_id = ?", [feed["id"]])[0]
    assert "500" in poll_row["error"]
    assert projection(store) == baseline


def test_timeout(site, tmp_path, baseline) -> None:
    site.fault("/bad.xml", "hang")
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "error" and "timed out" in bad.error
    assert projection(store) == baseline


def test_redirect_loop(site, tmp_path, baseline) -> None:
    site.fault("/bad.xml", "redirect_loop")
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "error" and "redirect" in bad.error
    assert projection(store) == baseline


def test_301_updates_the_feed_url(site, tmp_path, baseline, caplog) -> None:
    site.add("/moved.xml", rss_feed([], site.base_url))
    site.redirect("/bad.xml", "/moved.xml", status=301)
    with caplog.at_level(logging.WARNING, logger="watcher"):
        store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "ok"
    feed = store.query("select * from feeds where name = 'bad'")[0]
    assert feed["url"] == site.url("/moved.xml") and feed["config_url"] == site.url("/bad.xml")
    assert "moved permanently" in caplog.text
    assert projection(store) == baseline


def test_410_disables_the_feed(site, tmp_path, baseline) -> None:
    site.add("/bad.xml", "gone", status=410, content_type="text/plain")
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    feed = store.query("select * from feeds where name = 'bad'")[0]
    assert "410 Gone" in feed["disabled_reason"]
    assert all(f["name"] != "bad" for f in store.enabled_feeds())
    assert projection(store) == baseline


def test_oversized_body(site, tmp_path, baseline) -> None:
    site.fault("/bad.xml", "huge", size=5_000_000)
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"}, max_bytes=1_000_000)
    assert bad.outcome == "error" and "1000000 bytes" in bad.error
    assert projection(store) == baseline


def test_gzip_bomb(site, tmp_path, baseline) -> None:
    site.fault("/bad.xml", "gzip_bomb", size=200_000_000)
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "error" and "bytes" in bad.error
    assert projection(store) == baseline


def test_malformed_xml_keeps_what_parsed(site, tmp_path, baseline) -> None:
    feed = rss_feed(STORIES[:1], site.base_url).replace("</channel></rss>", "<item><title>broken & <b></channel>")
    site.add("/bad.xml", feed)
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "malformed" and "malformed" in bad.error
    assert bad.entries_seen >= 1
    assert projection(store) == baseline  # its one story is also in the good feeds: still one article


def test_entity_expansion_feed(site, tmp_path, baseline) -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">' + lol + "]>"
        '<rss version="2.0"><channel><title>&lol9;</title><item><title>Ceasefire &lol9;</title>'
        "<link>http://127.0.0.1/x</link></item></channel></rss>"
    )
    site.add("/bad.xml", bomb)
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.error is None or "lol" not in bad.error
    titles = [r["title"] for r in store.query("select title from entries")]
    assert all(len(t or "") < 1000 for t in titles)
    assert projection(store) == baseline


def test_html_instead_of_feed(site, tmp_path, baseline) -> None:
    site.fault("/bad.xml", "wrong_type")
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": site.url("/bad.xml"), "name": "bad"})
    assert bad.outcome == "rejected" and "not a feed" in bad.error
    assert projection(store) == baseline


def test_article_link_to_private_address_is_refused(site: LoopbackServer, tmp_path: Path, caplog) -> None:
    config = make_config(tmp_path / "w.db", [{"url": site.url("/good1.xml"), "name": "good one"}], allow_private=False)
    with caplog.at_level(logging.INFO, logger="watcher"):
        store, reports = poll(config)
    assert reports[0].outcome == "ok"  # the feed itself is the user's choice and may be local
    assert site.hits("/world/000.html") == 0
    snaps = store.query("select * from snapshots")
    assert snaps and all(s["text_source"] == "feed" for s in snaps)
    assert all("refused" in s["note"] for s in snaps)
    assert "refused article link" in caplog.text and "offered by feed good one" in caplog.text


def test_dead_host(site, tmp_path, baseline) -> None:
    store, bad, _ = poll_with_bad(site, tmp_path, {"url": "http://feeds.invalid/rss", "name": "bad"})
    assert bad.outcome == "error" and "feeds.invalid" in bad.error
    assert projection(store) == baseline


def test_backoff_grows_and_success_resets(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.add("/f.xml", "no", status=500, content_type="text/plain")
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/f.xml"), "name": "f"}], interval="10m")
    delays = []
    for _ in range(3):
        store, _ = poll(config)
        row = store.query("select (julianday(next_poll_at) - julianday(last_polled_at)) * 86400 as d, "
                          "consecutive_errors from feeds")[0]
        delays.append(round(row["d"]))
        store.close()
    assert delays == [1200, 2400, 4800]  # 2x, 4x, 8x the interval
    publish(loopback, "/f.xml", STORIES[:1])
    store, reports = poll(config)
    assert reports[0].outcome == "ok"
    assert store.query("select consecutive_errors, failing_since from feeds")[0] == {
        "consecutive_errors": 0, "failing_since": None}


def test_ttl_lengthens_interval(loopback: LoopbackServer, tmp_path: Path) -> None:
    feed = rss_feed([], loopback.base_url).replace("<description>", "<ttl>120</ttl><description>")
    loopback.add("/f.xml", feed)
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/f.xml"), "name": "f"}], interval="15m")
    store, _ = poll(config)
    row = store.query("select (julianday(next_poll_at) - julianday(last_polled_at)) * 86400 as d from feeds")[0]
    assert round(row["d"]) == 7200


def test_terms_json_round_trip(site: LoopbackServer, tmp_path: Path) -> None:
    store, _ = poll(make_config(tmp_path / "w.db", good_feeds(site)))
    for row in store.query('select "values", responses, quote, span_start, span_end, snapshot_id from terms'):
        assert isinstance(json.loads(row["values"]), dict)
        text = store.query("select text from snapshots where id = ?", [row["snapshot_id"]])[0]["text"]
        assert text[row["span_start"]:row["span_end"]] == row["quote"]


def test_one_poll_folds_stories_oldest_first(loopback: LoopbackServer, tmp_path: Path) -> None:
    """The feed lists 004 (newer) before 000; 000's terms are the starting point and 004's
    rejection of them is a status change, as if they had arrived one by one."""
    publish(loopback, "/f.xml", STORIES)
    store, _ = poll(make_config(tmp_path / "w.db", [{"url": loopback.url("/f.xml"), "name": "f"}]))
    first = {r["category"]: r["kind"] for r in store.query(
        "select c.category, c.kind from changes c join articles a on a.id = c.article_id where a.url like '%/000%'")}
    assert first.get("line_freeze") == "new"
    later = store.query("select kind, category from changes c join articles a on a.id = c.article_id "
                        "where a.url like '%/004%' and kind = 'status'")
    assert later, "004's rejection should update terms first reported by 000"


# --- what a worker sends back --------------------------------------------------------------


def test_parse_for_poll_is_parse_and_score_without_unused_text(tmp_path: Path) -> None:
    """The poll's parse stage returns what parsing and scoring each entry return, except
    that entries travel once (in `scored`) and irrelevant entries come without summary,
    content and author (the store never reads them; a relevant entry's text stands in for
    its page)."""
    import sys

    from watcher.feeds.parse import parse_feed
    from watcher.pipeline import parse_for_poll
    from watcher.relevance import default_topic, score_entry

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import synth

    synth.generate(tmp_path, feeds=8)
    bodies, _ = synth.load(tmp_path, "http://127.0.0.1:1", 1)
    bodies = [*bodies.values(), rss_feed(STORIES, "http://127.0.0.1:1").encode()]
    topics = [default_topic()]
    relevant = 0
    for body in bodies:
        full = parse_feed(body, {}, "http://127.0.0.1:1/f.xml")
        full_scored = [(e, score_entry(e.title, e.summary, e.content, topics)) for e in full.entries]
        slim, slim_scored = parse_for_poll(body, {}, "http://127.0.0.1:1/f.xml", topics)
        assert slim.entries == [] and len(full.entries) == len(slim_scored)
        full.entries = []
        assert slim == full
        for (e1, r1), (e2, r2) in zip(full_scored, slim_scored, strict=True):
            assert r1 == r2
            if r1.relevant:
                relevant += 1
                assert e1 == e2
            else:
                assert (e2.summary, e2.content, e2.author) == ("", "", None)
                assert (e1.url, e1.link, e1.guid, e1.title, e1.published_at) == (
                    e2.url, e2.link, e2.guid, e2.title, e2.published_at)
    assert relevant >= len(STORIES)


def _truce_story(i: int, days: int) -> Story:
    text = (f"Kremlin spokesman Dmitry Peskov said on Monday that Russia proposed a {days}-day ceasefire in "
            f"Ukraine, as peace talks on the war continue. Russia wants the truce to last {days} days, the "
            "Kremlin said.")
    return Story(f"truce-{i}", f"Russia offers ceasefire in Ukraine ({i})", text,
                 datetime(2024, 6, 1, tzinfo=UTC) + timedelta(days=i))


def test_a_backlog_folds_oldest_first_across_polls_and_stays_baseline(loopback: LoopbackServer,
                                                                      tmp_path: Path) -> None:
    """Issue 14.2: five relevant stories, two read per poll. The older ones are read first,
    so the ledger ends on the newest story's 40 days, never going back in time; every one
    of them is the feed's first-poll backlog, so every change is baseline."""
    stories = [_truce_story(i, days) for i, days in enumerate([10, 15, 20, 30, 40])]
    url = publish(loopback, "/truce.xml", stories)
    config = make_config(tmp_path / "w.db", [{"url": url, "name": "truce"}], max_articles_per_poll=2)
    store = None
    for _ in range(3):
        store, [report] = poll(config, store)
        assert report.error is None
    read_order = [r["url"].rsplit("/", 1)[1] for r in store.query("select a.url from snapshots s "
                                                                 "join articles a on a.id = s.article_id order by s.id")]
    assert read_order == [f"truce-{i}.html" for i in range(5)]
    ceasefire = store.ledger_entry("russia-ukraine", "russia", "ceasefire")
    assert ceasefire["values"]["numbers"] == [{"value": 40, "unit": "days"}]
    changes = store.query("select kind, summary, baseline from changes where category = 'ceasefire' order by id")
    assert [c["baseline"] for c in changes] == [1] * len(changes) and len(changes) == 5
    assert store.feed(report.feed_id)["baseline_backlog"] == 0  # drained: the next story is news
    stories.append(_truce_story(5, 60))
    publish(loopback, "/truce.xml", stories)
    store, _ = poll(config, store)
    [last] = store.query("select baseline, summary from changes where category = 'ceasefire' order by id desc limit 1")
    assert last["baseline"] == 0 and "60" in last["summary"]


def _rotating_feed(base: str, sid: int, guid: bool) -> str:
    story = _truce_story(0, 30)
    link = f"{base}/world/truce-0.html?sid={sid}"
    guid_tag = '<guid isPermaLink="false">truce-0</guid>' if guid else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Rotating</title>'
            f"<link>{base}/</link><description>x</description><item><title>{story.title}</title>"
            f"<link>{link}</link>{guid_tag}<description>{story.text}</description></item></channel></rss>")


@pytest.mark.parametrize("guid", [True, False], ids=["by-guid", "by-content"])
def test_a_link_with_a_rotating_parameter_is_one_story(loopback: LoopbackServer, tmp_path: Path,
                                                       guid: bool) -> None:
    """Issue 14.4: `?sid=` changing at every poll made a new article and snapshot each time.
    The story is recognised by its guid (its page is not even read again) or, without a
    guid, by its text from the same feed."""
    loopback.add("/world/truce-0.html", article_page(_truce_story(0, 30)), content_type="text/html")
    config = make_config(tmp_path / "w.db", [{"url": loopback.url("/rot.xml"), "name": "rotating"}])
    store = None
    for sid in range(4):
        loopback.add("/rot.xml", _rotating_feed(loopback.base_url, sid, guid))
        store, [report] = poll(config, store)
        assert report.error is None
    assert store.db.execute("select count(*) from articles").fetchone()[0] == 1
    assert store.db.execute("select count(*) from snapshots").fetchone()[0] == 1
    if guid:
        assert store.db.execute("select count(*) from entries").fetchone()[0] == 1
        assert loopback.hits("/world/truce-0.html") == 1
