"""Rebuild terms, ledger and changes from stored snapshots with the current extractor.

Snapshots are replayed in the order live processing folded them (snapshot id order),
through the same write stage (``watcher.record``) live polling uses, so the result equals what live processing
would have produced. A snapshot whose text was pruned (`watcher prune`) cannot be read
again, so its stored terms are replayed as they are.

Safe beside a running daemon: the slow part (extraction) runs without a lock; the rebuild
then takes the write lock and, inside it, also extracts every snapshot stored since, so a
poll that committed meanwhile is part of the result instead of losing its terms.
"""

from __future__ import annotations

from typing import Any

from watcher.models import Term, story_time
from watcher.record import replay
from watcher.store import Store, parse_ts
from watcher.terms import extract, load_gazetteer

Item = tuple[dict, list[Term]]
CATCH_UP_ROUNDS = 3  # extraction passes outside the lock before the final one inside it


def extract_snapshots(store: Store, gazetteer: Any, after_id: int = 0) -> list[Item]:
    """Every snapshot with an id above ``after_id`` and its terms as the current extractor
    reads them (reading texts one at a time)."""
    items = []
    for snap in store.snapshots_in_order(after_id):
        if snap["text"] is None:
            terms = store.stored_terms(snap["id"])
        else:
            # as live processing read it: as of the story's time (models.story_time), not today
            read_at = story_time(snap["article_published_at"], parse_ts(snap["fetched_at"]))
            terms = extract(snap["text"], title=snap["title"], gazetteer=gazetteer, as_of=read_at).terms
        items.append(({k: v for k, v in snap.items() if k != "text"}, terms))
    return items


def rebuild(store: Store, items: list[Item], gazetteer: Any) -> int:
    """Fold ``items`` and, under the same write lock, every snapshot stored after them;
    returns the number of changes."""
    return replay(store, items, late=lambda after_id: extract_snapshots(store, gazetteer, after_id))


def reprocess_all(store: Store, extension: dict[str, Any] | None = None) -> dict[str, int]:
    """Extract every snapshot again, catch up with snapshots stored meanwhile, then rebuild
    terms, ledger and changes in one transaction."""
    gazetteer = load_gazetteer(extension or None)
    items = extract_snapshots(store, gazetteer)
    for _ in range(CATCH_UP_ROUNDS):
        more = extract_snapshots(store, gazetteer, items[-1][0]["id"] if items else 0)
        if not more:
            break
        items += more
    changes = rebuild(store, items, gazetteer)
    return {**store.counts("snapshots", "terms", "ledger"), "changes": changes}
