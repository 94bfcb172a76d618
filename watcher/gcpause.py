"""The cyclic garbage collector paused for a stretch of one-off loading.

Imports, the gazetteer's compiles and the extractor's model allocate several hundred thousand
objects that live as long as the process, and the collections they set off (each walking
everything made so far) cost as much again as the loading itself; nothing loaded there forms
garbage cycles worth collecting sooner. Its own module so that the worker stage (`watcher.work`)
and the extractor (`watcher.terms`) share it without importing each other.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The GC off inside the block, and back as it was after it, on any exit."""
    paused = gc.isenabled()
    try:  # disabled inside it: a Ctrl-C right after disable() is undone too
        gc.disable()
        yield
    finally:
        if paused:
            gc.enable()
