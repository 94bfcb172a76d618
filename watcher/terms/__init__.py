"""Term extraction: which proposal terms a story reports, whose they are, and their stance.

Public API: `extract(text, title=None, *, gazetteer=None, as_of=None) -> Extraction`, `title_of(text)`,
`load_gazetteer(extra=None)`, and the `CATEGORIES` / `STANCES` ids.
"""

from watcher.terms.extractor import extract
from watcher.terms.gazetteer import Gazetteer, load_gazetteer
from watcher.terms.textprep import detect_language, title_of
from watcher.terms.vocabulary import CATEGORIES, STANCES

__all__ = ["CATEGORIES", "STANCES", "Gazetteer", "detect_language", "extract", "load_gazetteer", "title_of"]
