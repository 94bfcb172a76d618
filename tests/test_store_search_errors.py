"""Search errors through the store (real SQLite): only a query the full-text index cannot
read is the user's bad query (exit 2); the database failing under it is the store's error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from watcher.store import BadQuery, Store, StoreError


def test_a_bad_raw_query_is_a_bad_query(seed_db: Path, tmp_path: Path) -> None:
    shutil.copy(seed_db, tmp_path / "w.db")
    store = Store.open(tmp_path / "w.db")
    with pytest.raises(BadQuery) as err:
        store.search("AND AND", raw=True)
    assert err.value.exit_code == 2 and "syntax error" in str(err.value)
    store.close()


def test_a_read_the_database_breaks_off_is_not_the_users_query(seed_db: Path, tmp_path: Path) -> None:
    """An interrupted read (as a lock, an I/O error or a corrupt index would break it off)
    must not tell the user their query was bad and exit 2."""
    shutil.copy(seed_db, tmp_path / "w.db")
    store = Store.open(tmp_path / "w.db")
    store.db.conn.set_progress_handler(lambda: 1, 1)  # SQLite interrupts every statement
    for raw in (False, True):
        with pytest.raises(StoreError) as err:
            store.search("ceasefire", raw=raw)
        assert not isinstance(err.value, BadQuery) and err.value.exit_code == 1
        assert "interrupted" in str(err.value)
    store.db.conn.set_progress_handler(None, 1)
    store.close()
