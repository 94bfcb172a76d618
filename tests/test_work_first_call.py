"""`work.read_article` behind `_first_call_paused`: still the function the process pool
pickles by name, with its signature, and the GC given back on every exit of its first call."""

from __future__ import annotations

import gc
import inspect
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest

from watcher import work


def test_read_article_pickles_as_itself_with_its_signature():
    assert pickle.loads(pickle.dumps(work.read_article)) is work.read_article
    assert list(inspect.signature(work.read_article).parameters)[-1] == "as_of"
    assert work.read_article.__wrapped__.__name__ == "read_article"


def test_a_failing_first_call_gives_the_gc_back_and_the_next_call_is_paused_again():
    seen: list[bool] = []

    @work._first_call_paused
    def load(fail: bool) -> int:
        seen.append(gc.isenabled())
        if fail:
            raise RuntimeError("the stage did not load")
        return 1

    with pytest.raises(RuntimeError):
        load(True)
    assert gc.isenabled()
    assert load(False) == 1 and load(False) == 1
    assert seen == [False, False, True] and gc.isenabled()


def test_a_first_call_with_the_gc_off_leaves_it_off():
    @work._first_call_paused
    def load() -> bool:
        return gc.isenabled()

    gc.disable()
    try:
        assert load() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.slow
def test_a_spawned_worker_reads_an_article():
    # spawn (where there is no fork server) pickles the function by name into a fresh process
    text = "Russia and Ukraine agreed a 30-day ceasefire in Geneva on Monday. " * 4
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        draft = pool.submit(work.read_article, None, "http://a.example/1", "t", text, None, "{}",
                            datetime.now(UTC)).result(timeout=120)
    assert draft is not None and draft.text_source == "feed" and draft.terms
