"""Imported by the fork server of a pool of several workers, after ``watcher.workwarm``: the
article stage warmed once there instead of once in each worker (see ``work.warm_modules``)."""

from __future__ import annotations

from watcher import workwarm

try:
    with workwarm.work.gc_paused():
        workwarm.warm_articles()
except Exception:  # only an optimisation
    pass
