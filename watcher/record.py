"""The pipeline's write stage: what one poll, one re-check or one replay writes, and in
what order, in ONE transaction.

The decisions live here, not in the store: stories are folded oldest first; a text that
differs from version N becomes version N+1 with its sentence diff (``first``, ``edit``, or
``full_text`` when the page's text replaced the feed's); a snapshot's terms are folded
into the ledger by :func:`watcher.ledger.fold`, which decides what is a change. The store
only writes and reads the rows (as ``digest/outbox.py`` does for digests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from watcher import ledger
from watcher.models import Entry, EntryRecord, PollRecord, PollSummary, SnapshotDraft, Term
from watcher.store import Store, ts
from watcher.textnorm import text_diff


def oldest_first(items: list, entry_of: Callable[[Any], Entry]) -> list:
    """``items`` in publication order: by ``published_at``, undated ones last, and feed
    order reversed among equals (feeds list the newest first), so a later report is
    compared with an earlier one and not the reverse."""
    return sorted(reversed(items), key=lambda item: entry_of(item).published_at or "9999")


def record_poll(store: Store, record: PollRecord, *, next_check_at: datetime | None = None) -> PollSummary:
    """Everything one poll learned, in one transaction."""
    summary = PollSummary()
    with store.transaction():
        now = ts(record.started_at)
        ordered = oldest_first(record.entries, lambda r: r.entry)
        seen = store.seen_entry_urls(record.feed_id, [r.entry.url for r in record.entries])
        new = []
        for item in ordered:
            if item.entry.url not in seen:
                seen.add(item.entry.url)
                new.append((item.entry, item.relevance))
        if new:
            summary.entries_new = len(new)
            store.insert_entries(record.feed_id, new, now)
        for item in ordered:
            if not item.relevance.relevant:
                continue
            article_id, created = _article_of(store, item, record.feed_id, now, next_check_at)
            summary.articles_new += int(created)
            if item.snapshot is not None:
                snap = add_snapshot(store, article_id, item.snapshot, baseline=record.baseline)
                if snap is not None:
                    summary.snapshots_new += 1
                    summary.changes_new += record_terms(store, article_id, snap, item.snapshot.terms, item.source)
        store.write_feed_state(record.feed_id, record.state, now)
        store.insert_poll(record, summary, now)
    return summary


def record_check(
    store: Store,
    article_id: int,
    draft: SnapshotDraft | None,
    *,
    checked_at: datetime,
    next_check_at: datetime | None,
    error: str | None = None,
    source: str | None = None,
    page: tuple[str | None, str | None, str] | None = None,
) -> PollSummary:
    """One re-check of an article page for edits, in one transaction. ``page``: the
    ETag, Last-Modified and body hash of the page read (None: keep what is stored)."""
    summary = PollSummary()
    with store.transaction():
        if draft is not None:
            snap = add_snapshot(store, article_id, draft)
            if snap is not None:
                summary.snapshots_new = 1
                summary.changes_new = record_terms(store, article_id, snap, draft.terms, source)
        store.mark_checked(article_id, checked_at=checked_at, next_check_at=next_check_at, error=error, page=page)
    return summary


def _article_of(
    store: Store, item: EntryRecord, feed_id: int, now: str, next_check_at: datetime | None
) -> tuple[int, bool]:
    """The entry's article id, and whether it is new."""
    if item.too_costly:
        next_check_at = None  # it would only stop the worker pool again at every re-check
    article_id = store.article_id_by_url(item.entry.url)
    if article_id is None and item.snapshot is not None:
        # no guid to go by: the same text from the same feed under another link is the
        # same story (a link with a parameter that changes at every poll)
        article_id = store.article_id_by_text(feed_id, item.snapshot.content_hash)
    created = article_id is None
    if article_id is None:
        article_id = store.insert_article(item, feed_id, now, next_check_at)
    store.link_article_feed(article_id, feed_id, now)
    return article_id, created


def add_snapshot(store: Store, article_id: int, draft: SnapshotDraft, *, baseline: bool = False) -> dict | None:
    """Store the draft as version N+1 unless it matches version N. Returns the row."""
    latest = store.latest_snapshot(article_id)
    if latest is not None and latest["content_hash"] == draft.content_hash:
        return None
    version = (latest["version"] if latest else 0) + 1
    kind = "first"
    if latest is not None:
        upgrade = latest["text_source"] == "feed" and draft.text_source == "page"
        kind = "full_text" if upgrade else "edit"
        baseline = bool(latest["baseline"]) if upgrade else baseline
    diff = None
    if latest is not None and latest["text"] is not None:
        diff = text_diff(latest["text"], draft.text, f"v{latest['version']}", f"v{version}")
    return store.insert_snapshot(article_id, version, draft, diff=diff, baseline=baseline, kind=kind)


def record_terms(store: Store, article_id: int, snap: dict, terms: list[Term] | None, source: str | None) -> int:
    """Store the snapshot's terms and fold them into the ledger; returns changes made.

    ``snap`` carries id, version, fetched_at, kind and baseline. Only an edit is judged
    against the article's previous version (changes of kind ``revised``)."""
    if terms is None:
        return 0
    article = store.article_ref(article_id)
    source = source or article["source"]
    observation = ledger.Observation(
        article_id=article_id,
        snapshot_id=snap["id"],
        version=snap["version"],
        url=article["url"],
        source=source,
        observed_at=snap["fetched_at"],
        previous_terms=store.snapshot_terms(article_id, snap["version"] - 1) if snap["kind"] == "edit" else None,
    )
    term_ids = store.insert_terms(snap, article_id, source, terms)
    current = store.ledger_entries({(t.conflict, t.proposer, t.category) for t in terms})
    for row in current.values():
        if row is not None:
            row["last_change"] = _last_change(row.pop("last_change_rows"))
    result = ledger.fold(current, list(zip(term_ids, terms, strict=True)), observation)
    for entry in result.ledger:
        store.write_ledger(entry)
    for change in result.changes:
        store.insert_change(change, snap, article_id, source, article["url"])
    return len(result.changes)


def _last_change(rows: list[dict]) -> dict | None:
    """The term's latest change as the ledger's flip-flop rule reads it, rebuilt from the
    change rows its latest report wrote (see ``ledger.last_change``)."""
    if not rows:
        return None
    first = rows[0]
    return ledger.last_change([r["kind"] for r in rows], first["summary"], first["term_id"], first["source"],
                              first["before"], first["after"])


def replay(
    store: Store,
    items: Iterable[tuple[dict, list[Term]]],
    late: Callable[[int], Iterable[tuple[dict, list[Term]]]] | None = None,
) -> int:
    """Forget every term, ledger row and change and fold ``(snapshot, terms)`` again, in
    one transaction: a crash or a concurrent poll never sees a half-rebuilt ledger.
    ``late(last_id)`` gives, under the write lock, the snapshots stored after the last
    of ``items`` (a daemon's polls meanwhile), folded too so none is left without terms.
    Returns the number of changes."""
    changes = 0
    with store.transaction():
        store.clear_ledger()
        last_id = 0
        for snap, terms in items:
            last_id = snap["id"]
            changes += record_terms(store, snap["article_id"], snap, terms, snap["article_source"])
        for snap, terms in late(last_id) if late is not None else ():
            changes += record_terms(store, snap["article_id"], snap, terms, snap["article_source"])
    return changes

