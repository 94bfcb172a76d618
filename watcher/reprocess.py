"""Rebuild terms, ledger and changes from stored snapshots with the current extractor.

Snapshots are replayed in the order they were first fetched, through the same store code
live polling uses, so the result equals what live processing would have produced. The
rebuild runs snapshot by snapshot; a snapshot whose text was pruned (`watcher prune`) cannot
be read again, so its stored terms are replayed as they are.
"""

from __future__ import annotations

from typing import Any

from watcher.store import Store
from watcher.terms import extract, load_gazetteer


def reprocess_all(store: Store, extension: dict[str, Any] | None = None) -> dict[str, int]:
    gazetteer = load_gazetteer(extension or None)
    snaps = list(store.snapshots_in_order())
    pruned = {s["id"]: store.stored_terms(s["id"]) for s in snaps if s["text"] is None}
    store.clear_terms()
    snapshots = changes = 0
    for snap in snaps:
        if snap["text"] is None:
            terms = pruned[snap["id"]]
        else:
            terms = extract(snap["text"], title=snap["title"], gazetteer=gazetteer).terms
        changes += store.replay_snapshot(snap, terms)
        snapshots += 1
    count = store.db.execute
    return {
        "snapshots": snapshots,
        "terms": count("select count(*) from terms").fetchone()[0],
        "ledger": count("select count(*) from ledger").fetchone()[0],
        "changes": changes,
    }
