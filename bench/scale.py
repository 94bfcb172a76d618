"""Scale benchmark: a database with 10,000 feeds' worth of history, and the read commands on it.

    python bench/scale.py [--db PATH] [--terms 1000000] [--feeds 10000] [--reuse] [--json FILE]

Synthesises, with the real schema (``Store.open`` creates it) and plain ``executemany``:

- 10,000 feeds; 90 days of history; ~125,000 relevant articles, each carried by 1-4 feeds
  (``entries``, ``article_feeds``), 20 % of them edited once (a second snapshot with a diff);
- ~1,000,000 term observations (``terms``) over 14 conflicts, their proposers and the 31
  categories, Zipf-like (Russia-Ukraine and Israel-Hamas dominate, a few categories carry
  most reports), observations denser in recent weeks;
- the ledger folded from them, ~5 % of observations as ``changes`` (new / changed / status /
  withdrawn / revised), all but the last day's already delivered (``digests`` +
  ``digest_changes``), as a daemon that sends a daily digest leaves them;
- one day of polls (96 per feed would be 1M rows; we keep 24 per feed);
- snapshot text: the last 14 days keep it (~2 KB each); older versions are pruned
  (``watcher prune`` sets text NULL), as the retention settings recommend.

Full-text triggers are dropped during the bulk insert and rebuilt by the next
``Store.open`` (``views.ensure`` restores missing triggers and rebuilds the index).

Then times, via the real CLI in a subprocess (what a user waits for, interpreter start
included) and as the bare store query in-process:

- ``watcher digest --dry-run``, ``watcher history --conflict russia-ukraine``,
  ``watcher terms``.

Also reports database size and growth per 1,000 articles, and ``EXPLAIN QUERY PLAN`` of
each query, so a missing index shows as a table ``SCAN``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFLICTS = [  # (id, weight, proposers)
    ("russia-ukraine", 40, ["russia", "ukraine", "united-states", "eu", "china", "turkey", "vatican", "nato"]),
    ("israel-hamas", 28, ["israel", "hamas", "qatar", "egypt", "united-states", "united-nations"]),
    ("israel-hezbollah", 6, ["israel", "hezbollah", "lebanon", "united-states", "france"]),
    ("sudan", 5, ["saf", "rsf", "saudi-arabia", "united-states"]),
    ("yemen", 4, ["houthis", "yemen-government", "saudi-led-coalition", "united-nations"]),
    ("drc-rwanda", 3, ["drc", "rwanda", "m23", "qatar", "united-states"]),
    ("armenia-azerbaijan", 3, ["armenia", "azerbaijan", "russia", "eu"]),
    ("israel-iran", 3, ["israel", "iran", "united-states"]),
    ("ethiopia-tigray", 2, ["ethiopia", "tplf"]),
    ("myanmar", 2, ["myanmar-military", "china"]),
    ("syria", 1.5, ["syria", "turkey", "russia"]),
    ("libya", 1, ["lna", "gnu", "united-nations"]),
    ("india-pakistan", 1, ["india", "pakistan", "united-states"]),
    ("thailand-cambodia", 0.5, ["thailand", "cambodia", "malaysia"]),
]
STANCE_WEIGHTS = {"proposed": 30, "demanded": 20, "under_discussion": 15, "rejected": 12,
                  "accepted": 8, "reaffirmed": 8, "in_effect": 4, "violated": 2, "withdrawn": 1}
KINDS = {"new": 35, "changed": 25, "status": 25, "withdrawn": 3, "revised": 12}
PLACES = ["Donetsk", "Luhansk", "Zaporizhzhia", "Kherson", "Crimea", "Gaza", "Rafah", "Khan Younis",
          "Beirut", "Litani", "El Fasher", "Hodeidah", "Goma", "Lachin", "Kursk"]
OUTLETS = [f"outlet{i}.example.com" for i in range(400)]
DAYS = 90
SENTENCE = ("{p} said it was {s} a {c} arrangement for {pl}, officials told reporters, adding that "
            "talks would resume next week if conditions were met.")


def _zipf(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def synthesise(db_path: Path, n_feeds: int, n_terms: int, seed: int = 11) -> dict:
    from watcher.store import Store
    from watcher.terms import CATEGORIES

    rng = random.Random(seed)
    store = Store.open(db_path)
    store.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    triggers = conn.execute("select name, sql from sqlite_master where type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"drop trigger [{name}]")
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=DAYS)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def when() -> datetime:  # denser in recent weeks: sqrt skews towards now
        return start + timedelta(seconds=DAYS * 86400 * (rng.random() ** 0.6))

    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "insert into feeds (config_url, url, name, enabled, interval_seconds, created_at, last_polled_at, "
        "last_success_at, next_poll_at, last_status, etag, last_body_hash) values (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(f"https://{OUTLETS[i % 400]}/feed{i}.xml", f"https://{OUTLETS[i % 400]}/feed{i}.xml", None, 1, 900,
          stamp(start), stamp(now), stamp(now), stamp(now + timedelta(minutes=15)), 200,
          f'"etag{i}"', f"{i:064x}") for i in range(n_feeds)],
    )
    terms_per_snapshot = 8
    n_snapshots = n_terms // terms_per_snapshot
    n_articles = int(n_snapshots / 1.2)
    articles, entries, article_feeds = [], [], []
    for a in range(1, n_articles + 1):
        seen = when()
        outlet = rng.choice(OUTLETS)
        url = f"https://{outlet}/world/{seen:%Y/%m/%d}/story-{a}"
        first_feed = rng.randrange(n_feeds) + 1
        articles.append((a, url, f"guid-{a}", f"Ceasefire story {a}", outlet, stamp(seen), stamp(seen),
                         first_feed, "ceasefire", round(rng.uniform(1, 6), 1), '["title:ceasefire"]', "en", 1,
                         stamp(seen) if seen > now - timedelta(days=7) else None))
        for f in {first_feed, *(rng.randrange(n_feeds) + 1 for _ in range(rng.choice([0, 0, 1, 1, 2, 3])))}:
            entries.append((f, url, f"guid-{a}", f"Ceasefire story {a}", stamp(seen), stamp(seen), 2.5, 1))
            article_feeds.append((a, f, stamp(seen)))
    conn.executemany(
        "insert into articles (id, url, guid, title, source, published_at, first_seen_at, first_feed_id, "
        "relevance_topic, relevance_score, relevance_matched, language, latest_version, next_check_at) "
        "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", articles)
    conn.executemany(
        "insert or ignore into entries (feed_id, url, guid, title, published_at, first_seen_at, relevance_score, "
        "relevant) values (?,?,?,?,?,?,?,?)", entries)
    conn.executemany("insert or ignore into article_feeds (article_id, feed_id, first_seen_at) values (?,?,?)",
                     article_feeds)
    # snapshots: every article v1, 20 % a v2; text kept for the last 14 days
    body = ("Negotiators met again on Tuesday. " * 60).strip()
    snapshots = []
    keep_after = stamp(now - timedelta(days=14))
    sid = 0
    snap_of_article: list[tuple[int, int, str, str]] = []
    for art in articles:
        a, seen = art[0], art[6]
        versions = 2 if rng.random() < 0.2 else 1
        for v in range(1, versions + 1):
            sid += 1
            fetched = seen if v == 1 else stamp(datetime.fromisoformat(seen) + timedelta(hours=rng.randint(1, 30)))
            text = body if fetched >= keep_after else None
            diff = "--- v1\n+++ v2\n-Old sentence.\n+New sentence." if v == 2 else None
            snapshots.append((sid, a, v, fetched, f"{sid:064x}", art[3], text, "page", None, diff, 0))
            snap_of_article.append((sid, a, fetched, art[4]))
        if versions == 2:
            conn.execute("update articles set latest_version = 2 where id = ?", [a])  # few: fine
    conn.executemany(
        "insert into snapshots (id, article_id, version, fetched_at, content_hash, title, text, text_source, "
        "note, diff, baseline) values (?,?,?,?,?,?,?,?,?,?,?)", snapshots)
    conn.execute("COMMIT")
    # terms, in batches
    cw = [c[1] for c in CONFLICTS]
    cat_w = _zipf(len(CATEGORIES), 1.0)
    stances, sw = list(STANCE_WEIGHTS), list(STANCE_WEIGHTS.values())
    ledger: dict[tuple[str, str, str], dict] = {}
    changes = []
    term_id = 0
    batch = []
    conn.execute("BEGIN")
    kinds, kw = list(KINDS), list(KINDS.values())
    for sid_, a, fetched, outlet in snap_of_article:
        conflict, _, proposers = rng.choices(CONFLICTS, cw)[0]
        for _ in range(rng.choice([5, 6, 7, 8, 9, 10, 11])):
            term_id += 1
            proposer = proposers[min(int(rng.expovariate(0.8)), len(proposers) - 1)]
            category = rng.choices(CATEGORIES, cat_w)[0]
            stance = rng.choices(stances, sw)[0]
            places = rng.sample(PLACES, rng.choice([0, 0, 1, 2]))
            values = json.dumps({"numbers": [], "places": places} if places else {}, sort_keys=True)
            quote = SENTENCE.format(p=proposer.title(), s=stance.replace("_", " "), c=category.replace("_", " "),
                                    pl=", ".join(places) or "the front")
            batch.append((term_id, sid_, a, outlet, fetched, conflict, proposer, category, stance,
                          int(rng.random() < 0.05), values, "[]", quote, 100, 100 + len(quote)))
            key = (conflict, proposer, category)
            led = ledger.get(key)
            if led is None:
                led = ledger[key] = {"first": fetched, "last": fetched, "sources": set(), "n": 0,
                                     "stance": stance, "values": values, "term": term_id, "quote": quote}
            led["first"], led["last"] = min(led["first"], fetched), max(led["last"], fetched)
            led["sources"].add(outlet)
            led["n"] += 1
            if fetched >= led["last"]:
                led.update(stance=stance, values=values, term=term_id, quote=quote)
            if rng.random() < 0.05:
                kind = rng.choices(kinds, kw)[0]
                changes.append((fetched, conflict, proposer, category, kind,
                                f"{proposer}: {kind} {category} ({stance})", None,
                                json.dumps({"stance": stance, "values": json.loads(values)}), quote, outlet,
                                f"https://{outlet}/story-{a}", a, sid_, term_id, 0,
                                f"{sid_}:{conflict}:{proposer}:{category}:{kind}"))
        if len(batch) >= 50_000:
            conn.executemany(_TERM_SQL, batch)
            batch.clear()
        if term_id >= n_terms:
            break
    conn.executemany(_TERM_SQL, batch)
    conn.executemany(
        'insert into ledger (conflict, proposer, category, stance, precondition, "values", responses, '
        "first_seen_at, last_seen_at, sources, source_count, observations, last_term_id, last_quote) "
        "values (?,?,?,?,0,?,'[]',?,?,?,?,?,?,?)",
        [(*k, v["stance"], v["values"], v["first"], v["last"], json.dumps(sorted(v["sources"])[:50]),
          len(v["sources"]), v["n"], v["term"], v["quote"]) for k, v in ledger.items()])
    conn.executemany(
        "insert or ignore into changes (detected_at, conflict, proposer, category, kind, summary, before, after, "
        "quote, source, url, article_id, snapshot_id, term_id, baseline, key) "
        "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", changes)
    # daily digests on the console channel: everything but the last day delivered
    cutoff = stamp(now - timedelta(days=1))
    day_keys: dict[str, list[str]] = {}
    delivered: set[str] = set()
    for ch in changes:
        if ch[0] < cutoff and ch[-1] not in delivered:
            delivered.add(ch[-1])
            day_keys.setdefault(ch[0][:10], []).append(ch[-1])
    for n, (day, keys) in enumerate(sorted(day_keys.items()), start=1):
        conn.execute(
            "insert into digests (id, channel, kind, message_id, created_at, status, attempts, sent_at, "
            "subject, change_count) values (?,?,?,?,?,?,?,?,?,?)",
            [n, "console", "digest", f"<digest-{n}@bench>", day + " 07:00:00", "sent", 1, day + " 07:00:01",
             f"{len(keys)} changes", len(keys)])
        conn.executemany("insert into digest_changes (digest_id, channel, change_key) values (?,?,?)",
                         [(n, "console", k) for k in keys])
    polls = []
    for f in range(1, n_feeds + 1):
        for h in range(24):
            polls.append((f, stamp(now - timedelta(hours=h)), rng.randint(20, 400),
                          "not_modified" if h % 4 else "ok", 304 if h % 4 else 200, 0 if h % 4 else 60000,
                          0 if h % 4 else 50, 0 if h % 4 else rng.randint(0, 5)))
    conn.executemany("insert into polls (feed_id, started_at, duration_ms, outcome, http_status, bytes, "
                     "entries_seen, entries_new) values (?,?,?,?,?,?,?,?)", polls)
    conn.execute("COMMIT")
    insert_s = time.perf_counter() - t0
    conn.close()
    t1 = time.perf_counter()
    store = Store.open(db_path)  # views.ensure: triggers back, full-text indexes rebuilt
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {t: store.db.execute(f"select count(*) from [{t}]").fetchone()[0]
              for t in ("feeds", "articles", "snapshots", "terms", "ledger", "changes", "entries", "polls",
                        "digest_changes")}
    store.db.execute("ANALYZE")
    store.close()
    return {"insert_s": round(insert_s, 1), "fts_rebuild_s": round(time.perf_counter() - t1, 1),
            "counts": counts}


_TERM_SQL = (
    'insert into terms (id, snapshot_id, article_id, source, observed_at, conflict, proposer, category, stance, '
    'precondition, "values", responses, quote, span_start, span_end) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)'
)


def _time_cli(args: list[str], db: Path, config: Path, repeat: int = 3) -> dict:
    exe = [sys.executable, "-m", "watcher"]
    walls = []
    proc = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([*exe, *args, "--config", str(config), "--db", str(db)],
                              capture_output=True, text=True, timeout=600, cwd=db.parent,
                              env={**os.environ, "COLUMNS": "200"})
        walls.append(time.perf_counter() - t0)
    assert proc is not None
    return {"command": "watcher " + " ".join(args), "wall_s": round(min(walls), 3),
            "wall_s_runs": [round(w, 3) for w in walls], "exit": proc.returncode,
            "output_lines": proc.stdout.count("\n"), "stderr": proc.stderr[-300:] if proc.returncode else ""}


def _startup() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "watcher", "--help"], capture_output=True, timeout=60)
    return round(time.perf_counter() - t0, 3)


def _time_queries(db: Path) -> dict:
    """The store queries behind the commands, in-process, with their query plans."""
    from watcher.store import Store

    store = Store.open(db)
    out = {}

    def timed(name: str, fn, plan_sql: str | None = None, params: list | None = None) -> None:
        fn()  # warm the page cache
        t0 = time.perf_counter()
        rows = fn()
        out[name] = {"s": round(time.perf_counter() - t0, 4), "rows": len(rows)}
        if plan_sql:
            plan = store.db.execute("explain query plan " + plan_sql, params or []).fetchall()
            out[name]["plan"] = [p[-1] for p in plan]

    timed("undelivered_changes(console)", lambda: store.undelivered_changes("console"))
    timed("term_history(russia-ukraine, limit 200)",
          lambda: store.term_history(conflict="russia-ukraine", limit=200),
          "select * from term_timeline where conflict = ? order by observed_at desc, term_id desc limit 200",
          ["russia-ukraine"])
    timed("term_history(russia-ukraine, all)", lambda: store.term_history(conflict="russia-ukraine"))
    timed("ledger_rows()", lambda: store.ledger_rows(), "select * from latest_terms")
    timed("terms_as_of(30 days ago)",
          lambda: store.terms_as_of((datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")))
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/watcher-scale/scale.db"))
    ap.add_argument("--feeds", type=int, default=10_000)
    ap.add_argument("--terms", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="time an existing database instead of building one")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    db = args.db
    db.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    if not (args.reuse and db.exists()):
        for p in db.parent.glob(db.name + "*"):
            p.unlink()
        print(f"synthesising {args.feeds} feeds, ~{args.terms} terms into {db} ...", flush=True)
        result["synth"] = synthesise(db, args.feeds, args.terms)
        print(f"  {result['synth']}", flush=True)
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    con = sqlite3.connect(db)
    counts = {t: con.execute(f"select count(*) from [{t}]").fetchone()[0] for t in ("articles", "terms")}
    con.close()
    result["db_mb"] = round(size / 1e6, 1)
    result["counts"] = counts
    result["bytes_per_1000_articles"] = round(size / counts["articles"] * 1000)
    config = db.parent / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "{db}"\n\n[[feeds]]\nurl = "https://example.org/feed.xml"\n\n'
                      '[digest]\nchannels = ["console"]\n')
    result["cli_startup_s"] = _startup()
    result["cli"] = [
        _time_cli(["digest", "--dry-run"], db, config),
        _time_cli(["history", "--conflict", "russia-ukraine"], db, config),
        _time_cli(["terms"], db, config),
    ]
    result["queries"] = _time_queries(db)
    print(f"\ndatabase {db}: {result['db_mb']} MB, {counts['articles']} articles, {counts['terms']} terms; "
          f"{result['bytes_per_1000_articles'] / 1e6:.1f} MB per 1,000 articles (history incl. terms, FTS)")
    print(f"CLI start-up (watcher --help): {result['cli_startup_s']:.2f} s")
    for c in result["cli"]:
        flag = "" if c["exit"] == 0 else f"  exit {c['exit']}: {c['stderr']}"
        print(f"  {c['command']:45s} {c['wall_s']:6.2f} s (best of {len(c['wall_s_runs'])}), "
              f"{c['output_lines']} lines{flag}")
    print("store queries (in-process, warm):")
    for name, q in result["queries"].items():
        print(f"  {name:45s} {q['s']:7.3f} s  {q['rows']} rows")
        for step in q.get("plan", []):
            print(f"      plan: {step}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
