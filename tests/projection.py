"""The stored result of the good feeds in the failure tests (test_pipeline, test_faults)."""

from __future__ import annotations

from urllib.parse import urlsplit

from watcher.store import Store

GOOD = ("good one", "good two")


def projection(store: Store, *, with_polls: bool = True) -> dict:
    """What the good feeds ("good one", "good two") produced, without ids, times or the
    server's port: a bad feed polled beside them must leave this exactly as it is."""

    def path(url: str) -> str:
        return urlsplit(url).path

    good = "where a.url like '%/world/%'"
    names = ",".join(f"'{n}'" for n in GOOD)
    return {
        "entries": sorted(
            (r["name"], path(r["url"]), r["title"], r["published_at"], r["relevant"])
            for r in store.query(f"select e.*, f.name from entries e join feeds f on f.id = e.feed_id "
                                 f"where f.name in ({names})")
        ),
        "polls": None if not with_polls else sorted(
            (r["name"], r["outcome"], r["http_status"], r["entries_seen"], r["entries_new"], r["error"])
            for r in store.query(f"select p.*, f.name from polls p join feeds f on f.id = p.feed_id "
                                 f"where f.name in ({names})")
        ),
        "articles": sorted(
            (path(r["url"]), r["title"], r["latest_version"])
            for r in store.query(f"select * from articles a {good}")
        ),
        "snapshots": sorted(
            (path(r["url"]), r["version"], r["content_hash"], r["text_source"])
            for r in store.query(f"select s.*, a.url from snapshots s join articles a on a.id = s.article_id {good}")
        ),
        "terms": sorted(
            (r["conflict"], r["proposer"], r["category"], r["stance"], r["values"], r["quote"])
            for r in store.query('select conflict, proposer, category, stance, "values", quote from terms')
        ),
        "changes": sorted(
            (r["kind"], r["conflict"], r["proposer"], r["category"], r["summary"])
            for r in store.query("select * from changes")
        ),
        "ledger": sorted(
            (r["conflict"], r["proposer"], r["category"], r["stance"], r["values"], r["source_count"])
            for r in store.query('select * from ledger')
        ),
    }
