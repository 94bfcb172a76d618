"""Imported once by the pool's fork server: the parse stage imported and warmed (feedxml,
feedparser, the relevance scorer), so each worker forked from it starts with it instead of
importing it again. Starting a spawned worker cost 0.6-1.0 CPU-s.

Only the parse stage (~0.07 CPU-s): every cycle with a new feed body needs it. The article
stage (trafilatura, the extractor, its gazetteer: ~0.38 CPU-s) is warmed here only for a
pool of several workers (``watcher.workwarm_articles``, see ``work.warm_modules``), where
one import in the server beats one in each worker; a single worker imports it when it
first reads an article, so a cycle with no article to read never pays for it."""

from __future__ import annotations

from watcher import work
from watcher.gcpause import gc_paused

_FEED = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>warm</title><link>http://a.example/"
         b"</link><item><title>Ceasefire talks resume</title><link>http://a.example/1</link><description>"
         b"Russia and Ukraine agreed a 30-day ceasefire.</description></item></channel></rss>")
_PAGE = (b"<html><head><title>Ceasefire</title></head><body><article><h1>Ceasefire talks</h1>"
         + b"<p>Russia demanded that Ukraine withdraw its troops from Zaporizhzhia before a 30-day "
           b"ceasefire, the Kremlin said. Kyiv rejected the demand.</p>" * 4
         + b"</article></body></html>")


def warm() -> None:
    """One feed parsed: every lazy import and cache of the parse stage filled."""
    from watcher.relevance import default_topic
    from watcher.relevance_model import load

    load()  # the learned feed filter's table: read once here, not in every worker

    work.parse_for_poll(_FEED, {"content-type": "application/rss+xml"}, "http://a.example/feed",
                        [default_topic()])


def warm_articles() -> None:
    """One page read and the whole default gazetteer compiled (what the page did not need).
    The page is too short for trafilatura's minimum, so the feed's text stands in and is
    extracted: the extractor's model is loaded here too (~0.04 CPU-s), not in each worker."""
    from datetime import UTC, datetime

    text = "Russia demanded that Ukraine withdraw its troops from Zaporizhzhia before a 30-day ceasefire."
    work.read_article(_PAGE, "http://a.example/1", "Ceasefire", text, None, "{}", datetime.now(UTC))
    gazetteer = work._gazetteer("{}")
    for category in gazetteer.categories:
        for rx in (category.trigger, category.context, category.exclude, category.trigger_i, category.cased):
            if rx is not None:
                rx.search("")
    names = [gazetteer.place_re, gazetteer.conflict_re,
             *(rx for rx, _ in gazetteer.context_res.values())]
    for rx in names:  # indexed at first use too
        if rx is not None:
            list(rx.finditer(""))


try:
    with gc_paused():
        warm()
except Exception:  # a warm-up is only an optimisation: a worker does whatever is left
    pass
