"""Storing one article at scale: ``watcher.record.record_poll`` of one relevant article (snapshot,
terms, ledger, changes) into a database of ~1M term rows, beside the same into an empty one.

    python bench/scale.py --db /tmp/watcher-scale/scale.db     # builds the big database once
    python bench/store_scale.py --db /tmp/watcher-scale/scale.db [--per-block 40] [--rounds 3]

The big database is copied (the original is not written). Articles are stored in blocks,
rotating the settings compared, so a slow moment of the shared machine does not fall on one
setting only:

- ``sqlite defaults``: FTS5 ``automerge = 4``, ``crisismerge = 16`` and WAL auto-checkpoint
  every 1,000 pages: index merging and checkpoints happen inside the poll's write;
- no auto-checkpoint; no FTS automerge (``crisismerge = 64``); neither: the deferred work
  (FTS ``merge`` steps and a passive checkpoint) done between polls, timed on its own;
- the empty database with SQLite's defaults (the floor).

Per setting: wall per store, mean / p90 / p99 / max, and the ratio of the mean to the empty
database's (the issue's target: <= 1.5x, p99 under 50 ms).

Benchmarks print figures; nothing here fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def drafts() -> list:
    from watcher.demo import article_page, seed_stories
    from watcher.work import read_article

    now = datetime.now(UTC)
    out = []
    for s in seed_stories():
        d = read_article(article_page(s).encode(), f"http://news.example/{s.slug}", s.title, "", None, "{}", now)
        out.append(d)
    return out


def record(i: int, draft, tag: str):
    from watcher.models import Entry, EntryRecord, FeedState, PollRecord, Relevance

    now = datetime.now(UTC)
    url = f"http://news.example/{tag}/{i}"
    state = FeedState(url="http://f.example/", etag=None, last_modified=None, body_hash=None,
                      consecutive_errors=0, next_poll_at=now, last_status=200, last_error=None)
    entry = Entry(url=url, link=url, guid=None, title=draft.title, summary="", content="", published_at=None)
    # each store a distinct text: a new article, a new snapshot, its terms into the index
    draft = type(draft)(**{**draft.__dict__, "text": draft.text + f"\n\nUpdate {tag} {i}.",
                           "content_hash": f"{tag}-{i}"})
    item = EntryRecord(entry, Relevance(True, 1.0, "ceasefire", []), snapshot=draft, source="news.example")
    return PollRecord(feed_id=1, started_at=now, duration_ms=1, outcome="ok", http_status=200, bytes=1,
                      error=None, state=state, entries=[item])


VARIANTS = {  # name: (FTS5 automerge, crisismerge, PRAGMA wal_autocheckpoint)
    "sqlite defaults": (4, 16, 1000),
    "no checkpoint in the write": (4, 16, 0),
    "no FTS merge in the write": (0, 64, 1000),
    "neither (merge + checkpoint between polls)": (0, 64, 0),
}


def apply(store, automerge: int, crisismerge: int, autocheckpoint: int) -> None:
    from watcher.store.views import FTS_TABLES

    for table in FTS_TABLES:
        fts = f"{table}_fts"
        store.db.execute(f"insert into [{fts}]([{fts}], rank) values ('automerge', ?)", [automerge])
        store.db.execute(f"insert into [{fts}]([{fts}], rank) values ('crisismerge', ?)", [crisismerge])
    store.db.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")


def between_polls(store, pages: int = 500) -> None:
    """The deferred work: FTS merge steps and a passive checkpoint."""
    from watcher.store.views import FTS_TABLES

    for table in FTS_TABLES:
        fts = f"{table}_fts"
        store.db.execute(f"insert into [{fts}]([{fts}], rank) values ('merge', ?)", [pages])
    store.db.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]  # noqa: E731
    return {"n": len(xs), "mean_ms": round(1000 * statistics.mean(xs), 2), "p90_ms": round(1000 * q(0.9), 2),
            "p99_ms": round(1000 * q(0.99), 2), "max_ms": round(1000 * xs[-1], 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/watcher-scale/scale.db"))
    ap.add_argument("--per-block", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from watcher.record import record_poll
    from watcher.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="watcher-store-scale-", dir=args.db.parent))
    big = tmp / "big.db"
    src = Store.open(args.db)  # folds its WAL in, so one file is copied
    src.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    terms = src.db.execute("select count(*) from terms").fetchone()[0]
    src.close()
    shutil.copyfile(args.db, big)
    stores = {"big": Store.open(big), "empty": Store.open(tmp / "empty.db")}
    for s in stores.values():
        if not s.db.execute("select 1 from feeds where id = 1").fetchone():
            s.db.execute("insert into feeds (id, config_url, url, interval_seconds, created_at) "
                         "values (1, 'f', 'http://f.example/', 900, '2024-01-01 00:00:00')")
    ds = drafts()
    times: dict[str, list[float]] = {name: [] for name in [*VARIANTS, "empty database (sqlite defaults)"]}
    deferred: dict[str, list[float]] = {}
    n = 0
    for _ in range(args.rounds):
        for name in times:
            store = stores["empty" if name.startswith("empty") else "big"]
            apply(store, *VARIANTS.get(name, VARIANTS["sqlite defaults"]))
            for _ in range(args.per_block):
                rec = record(n, ds[n % len(ds)], str(n))
                n += 1
                t0 = time.perf_counter()
                record_poll(store, rec)
                times[name].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            between_polls(store)  # every setting ends its block clean; timed for those that defer
            deferred.setdefault(name, []).append(time.perf_counter() - t0)
    out = {"terms_rows": terms, "settings": {k: _stats(v) for k, v in times.items()},
           "between_polls": {k: _stats(v) for k, v in deferred.items()}}
    floor = out["settings"]["empty database (sqlite defaults)"]["mean_ms"]
    print(f"storing one article (snapshot + terms + ledger), {terms:,} term rows vs an empty database; "
          f"wall ms, {args.rounds} rounds of {args.per_block} per setting, rotated")
    for name, st in out["settings"].items():
        bp = out["between_polls"][name]
        print(f"  {name:44s} mean {st['mean_ms']:6.2f}  p90 {st['p90_ms']:6.2f}  p99 {st['p99_ms']:7.2f}  "
              f"max {st['max_ms']:7.2f}  mean/empty {st['mean_ms'] / floor:.2f}x; "
              f"then merge+checkpoint {bp['mean_ms']:.0f} ms (max {bp['max_ms']:.0f})")
    for s in stores.values():
        s.close()
    shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
