"""Imported once by the pool's fork server: everything a worker uses, imported and warmed
(parser, trafilatura, the extractor, its model and the default gazetteer compiled), so each
worker forked from it starts with all of it instead of importing and compiling it again.
Starting a spawned worker cost 0.6-1.0 CPU-s, most of it this."""

from __future__ import annotations

from datetime import UTC, datetime

from watcher import work

_FEED = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>warm</title><link>http://a.example/"
         b"</link><item><title>Ceasefire talks resume</title><link>http://a.example/1</link><description>"
         b"Russia and Ukraine agreed a 30-day ceasefire.</description></item></channel></rss>")
_PAGE = (b"<html><head><title>Ceasefire</title></head><body><article><h1>Ceasefire talks</h1>"
         + b"<p>Russia demanded that Ukraine withdraw its troops from Zaporizhzhia before a 30-day "
           b"ceasefire, the Kremlin said. Kyiv rejected the demand.</p>" * 4
         + b"</article></body></html>")


def warm() -> None:
    """One feed parsed and one page read: every lazy import and cache filled."""
    from watcher.relevance import default_topic
    from watcher.relevance_model import load

    load()  # the learned feed filter's table: read once here, not in every worker

    work.parse_for_poll(_FEED, {"content-type": "application/rss+xml"}, "http://a.example/feed",
                        [default_topic()])
    now = datetime.now(UTC)
    work.read_article(_PAGE, "http://a.example/1", "Ceasefire", "", None, "{}", now)
    gazetteer = work._gazetteer("{}")
    for category in gazetteer.categories:  # compile what the warm-up text did not need
        for rx in (category.trigger, category.context, category.exclude, category.trigger_i, category.cased):
            if rx is not None:
                rx.search("")


try:
    warm()
except Exception:  # a warm-up is only an optimisation: a worker does whatever is left
    pass
