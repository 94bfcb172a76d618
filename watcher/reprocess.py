"""Rebuild terms, ledger and changes from stored snapshots with the current extractor.

Snapshots are replayed in the order live processing folded them (snapshot id order),
through the same store code live polling uses, so the result equals what live processing
would have produced. A snapshot whose text was pruned (`watcher prune`) cannot be read
again, so its stored terms are replayed as they are.
"""

from __future__ import annotations

from typing import Any

from watcher.models import story_time
from watcher.store import Store, parse_ts
from watcher.terms import extract, load_gazetteer


def reprocess_all(store: Store, extension: dict[str, Any] | None = None) -> dict[str, int]:
    """Extract every snapshot again (reading texts one at a time), then rebuild terms,
    ledger and changes in one transaction. Stop the daemon first, or its polls wait."""
    gazetteer = load_gazetteer(extension or None)
    published = {r["id"]: r["published_at"] for r in store.query("select id, published_at from articles")}
    items = []
    for snap in store.snapshots_in_order():
        if snap["text"] is None:
            terms = store.stored_terms(snap["id"])
        else:
            # as live processing read it: as of the story's time (models.story_time), not today
            read_at = story_time(published.get(snap["article_id"]), parse_ts(snap["fetched_at"]))
            terms = extract(snap["text"], title=snap["title"], gazetteer=gazetteer, as_of=read_at).terms
        items.append(({k: v for k, v in snap.items() if k != "text"}, terms))
    changes = store.replay(items)
    count = store.db.execute
    return {
        "snapshots": len(items),
        "terms": count("select count(*) from terms").fetchone()[0],
        "ledger": count("select count(*) from ledger").fetchone()[0],
        "changes": changes,
    }
