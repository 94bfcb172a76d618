"""Faults on the wire: every misbehaviour of `faults.fault_zoo` (tests/faults.py), one per URL, polled
beside two good feeds on a real loopback server into a real SQLite file.

For each bad feed: the poll completes, its poll row says in words what went wrong, and the
good feeds' stored results are exactly what they are when polled without any bad feed.
The default run polls the whole zoo at once (one poll, ~4 s); the slow suite polls each
fault alone, twice, and measures the peak memory of one poll per fault in a subprocess.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from faults import FAULTS, LoopbackServer, fault_zoo
from projection import GOOD, poll, projection, publish_good
from projection import make_config as shared_make_config

from watcher.config import Config
from watcher.store import Store

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 2.0

# fault -> (outcome, words the poll row's error must contain; None: no error at all)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "hang": ("error", r"timed out after 2s waiting for a response from 127\.0\.0\.1"),
    "hang_body": ("error", r"timed out after 2s reading the body"),
    "trickle": ("error", r"timed out after 2s reading the body \(\d+ bytes received\)"),
    "reset": ("error", r"connection reset"),
    "close": ("error", r"connection closed early"),
    "garbage": ("error", r"connection closed early: illegal status line"),
    "redirect_loop": ("error", r"redirect loop: http://\S+ was already visited"),
    "redirect_chain": ("error", r"more than 10 redirects"),
    "huge_30mb_chunked": ("error", r"response body over 10000000 bytes"),
    "huge_30mb_declared": ("error", r"response body over 10000000 bytes"),
    "gzip_bomb": ("error", r"response body over 10000000 bytes"),
    "deflate_bomb": ("error", r"response body over 10000000 bytes"),
    "retry_after_429": ("rate_limited", r"HTTP 429: the server asks to wait 1h"),
    # the date is to the second: the wait is 1h59m and some seconds, or 2h at a second boundary
    "retry_after_503_date": ("rate_limited", r"HTTP 503: the server asks to wait (?:1h59m|2h)"),
    "html_page": ("rejected", r"an HTML page"),
    "empty": ("rejected", r"empty body"),
    "no_content_type": ("ok", None),
    "wrong_content_type": ("ok", None),
    "not_found": ("error", r"HTTP 404 Not Found"),
    "server_error": ("error", r"HTTP 500 Internal Server Error"),
    "invalid_utf8": ("ok", None),
    "lying_charset": ("ok", None),
    "utf16_declared_utf8": ("ok", None),
    "entity_expansion": ("rejected", r"refused: .*billion laughs"),
    "entity_quadratic": ("rejected", r"refused: .*entity of 50,000 bytes"),
    "xxe": ("malformed", r"malformed feed, kept what parsed: .*undefined entity"),
    "xxe_external_dtd": ("malformed", r"malformed feed, kept what parsed: .*undefined entity"),
    "entries_10000": ("ok", None),
    "duplicate_guids": ("ok", None),
    "odd_entries": ("ok", None),
    "unsupported_encoding": ("error", r"unsupported content-encoding 'br'"),
    "truncated_gzip": ("error", r"gzip body is truncated"),
    "short_body": ("error", r"connection closed early: .*received \d+ bytes, expected 100000"),
    "huge_headers": ("error", r"connection closed early"),
    "dns_invalid": ("error", r"cannot resolve host feeds\.invalid"),
    "connection_refused": ("error", r"connection refused by 127\.0\.0\.1"),
}


def make_config(db: Path, feeds: list[dict], **watcher: object) -> Config:
    return shared_make_config(db, feeds, **{"timeout": f"{TIMEOUT:g}s", "per_host": 64, "concurrency": 64,
                                            **watcher})


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def good(server: LoopbackServer) -> list[dict]:
    return publish_good(server)


@pytest.fixture(scope="module")
def zoo(server: LoopbackServer) -> dict[str, str]:
    return fault_zoo(server)


@pytest.fixture(scope="module")
def baseline(good: list[dict], tmp_path_factory: pytest.TempPathFactory) -> dict:
    store, reports = poll(make_config(tmp_path_factory.mktemp("base") / "w.db", good))
    assert [r.outcome for r in reports] == ["ok", "ok"]
    result = projection(store)
    store.close()
    return result


@pytest.fixture(scope="module")
def zoo_poll(good, zoo, baseline, tmp_path_factory):
    """The good feeds and every bad feed of the zoo, polled together once."""
    db = tmp_path_factory.mktemp("zoo") / "w.db"
    feeds = [*good, *({"url": url, "name": name} for name, url in zoo.items())]
    store, reports = poll(make_config(db, feeds))
    yield store, {r.feed: r for r in reports}, db
    store.close()


def test_the_zoo_is_covered(zoo: dict[str, str], server: LoopbackServer) -> None:
    assert set(zoo) == set(EXPECTED)
    served = [url for url in zoo.values() if url.startswith(server.base_url)]  # not the dead hosts
    kinds_used = {server._lookup(urlsplit(url).path)[1].fault for url in served} - {None}
    assert kinds_used == set(FAULTS)  # every fault kind the server knows is in the zoo


def test_good_feeds_are_exactly_as_without_the_bad_ones(zoo_poll, baseline) -> None:
    store, reports, _ = zoo_poll
    assert set(reports) == set(EXPECTED) | set(GOOD)
    assert projection(store) == baseline


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_poll_row_says_what_went_wrong(zoo_poll, fault: str) -> None:
    store, reports, _ = zoo_poll
    outcome, words = EXPECTED[fault]
    report = reports[fault]
    assert report.outcome == outcome, report.line()
    feed = store.query("select * from feeds where name = ?", [fault])[0]
    rows = store.query("select * from polls where feed_id = ?", [feed["id"]])
    assert len(rows) == 1 and rows[0]["outcome"] == outcome
    if words is None:
        assert rows[0]["error"] is None and feed["consecutive_errors"] == 0
    else:
        assert re.search(words, rows[0]["error"]), rows[0]["error"]
        assert rows[0]["error"] == report.error
        assert "Traceback" not in rows[0]["error"] and "internal error" not in rows[0]["error"]
    # a timeout costs the timeout, not more; nothing else waits for anything
    limit = 30.0 if fault == "entries_10000" else TIMEOUT + 1.5
    assert report.duration_ms < limit * 1000, report.line()


def test_failures_back_off_and_rate_limits_do_not_count(zoo_poll) -> None:
    store, _, _ = zoo_poll
    rows = {r["name"]: r for r in store.query(
        "select name, consecutive_errors, failing_since, last_error, "
        "(julianday(next_poll_at) - julianday(last_polled_at)) * 86400 as wait from feeds")}
    for name, (outcome, _) in EXPECTED.items():
        row = rows[name]
        if outcome in ("error", "rejected"):
            assert row["consecutive_errors"] == 1 and row["failing_since"] is not None, name
            assert row["last_error"], name
        else:
            assert row["consecutive_errors"] == 0 and row["failing_since"] is None, name
    assert rows["retry_after_429"]["wait"] >= 3590
    assert rows["retry_after_503_date"]["wait"] >= 7000


def test_hostile_xml_reads_nothing_local_or_remote(zoo_poll, server: LoopbackServer) -> None:
    store, _, db = zoo_poll
    assert server.hits("/zoo/secret.txt") == 0 and server.hits("/zoo/evil.dtd") == 0
    data = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith("w.db"))
    assert b"root:" not in data and b"TOP-SECRET-XXE-MARKER" not in data
    hostname = Path("/etc/hostname")
    if hostname.exists() and len(hostname.read_bytes().strip()) > 6:
        assert hostname.read_bytes().strip() not in data
    titles = [r["title"] or "" for r in store.query("select title from entries")]
    assert max(len(t) for t in titles) < 1000  # no entity was expanded


def entries_of(store: Store, name: str) -> list[dict]:
    return store.query("select e.* from entries e join feeds f on f.id = e.feed_id where f.name = ? "
                       "order by e.url", [name])


def test_ten_thousand_entries_all_stored_once(zoo_poll) -> None:
    store, reports, _ = zoo_poll
    assert reports["entries_10000"].entries_seen == 10_000
    assert reports["entries_10000"].entries_new == 10_000
    assert len({e["url"] for e in entries_of(store, "entries_10000")}) == 10_000


def test_duplicate_guids_and_links_kept_once(zoo_poll) -> None:
    store, _, _ = zoo_poll
    rows = entries_of(store, "duplicate_guids")
    assert [(urlsplit(r["url"]).path, r["guid"]) for r in rows] == [("/quiet/1.html", "same"),
                                                                  ("/quiet/4.html", "fourth")]


def test_entries_without_link_or_date_or_in_the_future(zoo_poll) -> None:
    store, _, _ = zoo_poll
    rows = {urlsplit(r["url"]).path: r for r in entries_of(store, "odd_entries")}
    # no link and a guid that is no URL: skipped; a javascript: link: skipped
    assert set(rows) == {"/quiet/guid-2.html", "/quiet/3.html", "/quiet/4.html", "/quiet/5.html"}
    assert rows["/quiet/guid-2.html"]["published_at"] == "2024-06-24 10:00:00"
    assert rows["/quiet/3.html"]["published_at"] is None  # no date: none invented
    assert rows["/quiet/4.html"]["published_at"] is None  # the year 2100: dropped, not clamped
    assert rows["/quiet/5.html"]["published_at"] is None  # unparseable


def test_skipped_entries_are_reported_on_the_poll_row(zoo_poll) -> None:
    store, _, _ = zoo_poll
    row = store.query("select p.* from polls p join feeds f on f.id = p.feed_id where f.name = 'odd_entries'")[0]
    assert "skipped" in ((row["error"] or "") + (row["note"] or ""))


def test_text_from_bad_encodings_is_valid_unicode(zoo_poll) -> None:
    store, _, _ = zoo_poll
    for name in ("invalid_utf8", "lying_charset", "utf16_declared_utf8"):
        (row,) = entries_of(store, name)
        title = row["title"]
        title.encode("utf-8")  # no lone surrogates survive into the database
        assert title.startswith(("Storm", "Pluie")), (name, title)
    assert entries_of(store, "lying_charset")[0]["title"] == "Pluie sur la côte, très forte"


def test_second_poll_of_the_zoo_changes_nothing_for_the_good(zoo_poll, good, zoo, baseline, tmp_path) -> None:
    """Polled again (304s for the good, failures again for the bad): still the same."""
    store, _, db = zoo_poll
    feeds = [*good, *({"url": url, "name": name} for name, url in zoo.items()
                      if name not in ("hang", "hang_body", "trickle"))]
    config = make_config(db, feeds)
    _, reports = poll(config, store)
    by_name = {r.feed: r for r in reports}
    assert {by_name[n].outcome for n in GOOD} == {"not_modified"}
    assert "failure 2 in a row" in by_name["server_error"].error
    after = projection(store)
    assert {k: v for k, v in after.items() if k != "polls"} == {k: v for k, v in baseline.items() if k != "polls"}


def test_zoo_poll_memory_stays_bounded(tmp_path: Path) -> None:
    """One subprocess polls the worst offenders; its peak RSS stays far below their sizes."""
    bench = _bench()
    with LoopbackServer() as srv:
        zoo = fault_zoo(srv)
        result = bench.measure(zoo["gzip_bomb"], tmp_path, "gzip_bomb")
    assert not result.get("crashed"), result
    assert result["outcome"] == "error"
    assert result["peak_kb"] < 250 * 1024, result  # a 500 MB bomb, inflated to 10 MB at most


def _bench():
    spec = importlib.util.spec_from_file_location("faults_memory", ROOT / "bench" / "faults_memory.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the slow suite --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_fault_alone_beside_the_good_feeds(fault, server, good, zoo, baseline, tmp_path) -> None:
    config = make_config(tmp_path / "w.db", [*good, {"url": zoo[fault], "name": fault}], per_host=2,
                         concurrency=16)
    store, reports = poll(config)
    by_name = {r.feed: r for r in reports}
    outcome, words = EXPECTED[fault]
    assert by_name[fault].outcome == outcome
    if words:
        assert re.search(words, by_name[fault].error)
    assert projection(store) == baseline


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_peak_memory_of_one_poll_per_fault() -> None:
    results = _bench().measure_all()
    crashed = [r for r in results if r.get("crashed")]
    assert not crashed, crashed
    worst = max(results, key=lambda r: r["peak_kb"])
    good = next(r for r in results if r["name"] == "(good feed)")
    print(f"\nworst peak RSS: {worst['peak_kb'] / 1024:.1f} MB ({worst['name']}); "
          f"good feed: {good['peak_kb'] / 1024:.1f} MB")
    assert worst["peak_kb"] < 300 * 1024
    for r in results:  # a body cap of 10 MB: nothing may cost more than a few times that
        if r["name"] not in ("entries_10000", "(good feed)"):
            assert r["peak_kb"] - r["before_kb"] < 60 * 1024, r
