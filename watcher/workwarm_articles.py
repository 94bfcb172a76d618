"""Imported by the fork server of a pool of several workers, after ``watcher.workwarm``: the
article stage warmed once there instead of once in each worker (see ``work.warm_modules``)."""

from __future__ import annotations

from watcher import workwarm
from watcher.gcpause import gc_paused

try:
    with gc_paused():
        workwarm.warm_articles()
except Exception:  # only an optimisation
    pass
