"""Which changes a subscription (or a filtered preview) takes: conflicts, proposers,
categories, change kinds and a minimum number of outlets.

Kept free of SQLite and of the CLI so the config loader can check filter values (an
unknown conflict id is a config error with a did-you-mean) and the outbox can apply them
to the change rows it reads.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from watcher.digest.collect import kind_matches
from watcher.ledger import STANCE_CLASS
from watcher.models import CHANGE_KINDS
from watcher.terms.vocabulary import AGREEMENT, CATEGORIES, STANCES


@dataclass
class ChangeFilter:
    """Empty lists match anything; every non-empty list must match (AND across fields)."""

    conflicts: list[str] = field(default_factory=list)
    proposers: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # "new", "status:accepted", "status:held"
    min_outlets: int = 1

    @property
    def empty(self) -> bool:
        return not (self.conflicts or self.proposers or self.categories or self.kinds) and self.min_outlets <= 1

    def matches(self, row: dict[str, Any]) -> bool:
        """Does a change row (as the outbox reads it: key, conflict, ..., source_count) match?

        ``min_outlets`` compares the ledger's current ``source_count``: a change waits,
        undelivered, until enough outlets have reported its term.
        """
        if self.conflicts and row["conflict"] not in self.conflicts:
            return False
        if self.proposers and row["proposer"] not in self.proposers:
            return False
        if self.categories and row["category"] not in self.categories:
            return False
        if self.kinds and not kind_matches(row["kind"], row.get("after"), self.kinds):  # baselines may match
            return False
        return self.min_outlets <= 1 or int(row.get("source_count") or 0) >= self.min_outlets

    def narrowed(self, other: ChangeFilter) -> Callable[[dict], bool]:
        """Both filters at once (a subscription previewed with --conflict and friends)."""
        return lambda row: self.matches(row) and other.matches(row)

    def where(self, other: ChangeFilter | None = None) -> dict[str, list[str]]:
        """The columns the database can narrow on (a kind spec's stance and min_outlets are
        checked on the rows): {"conflict": [...], "kind": ["status"], ...}. With ``other``,
        what both filters allow (an empty list: nothing)."""
        out: dict[str, list[str]] = {}
        for f in (self, other) if other is not None else (self,):
            for column, values in (("conflict", f.conflicts), ("proposer", f.proposers),
                                   ("category", f.categories),
                                   ("kind", sorted({k.partition(":")[0] for k in f.kinds}))):
                if values:
                    out[column] = [v for v in out[column] if v in values] if column in out else list(values)
        return out

    def describe(self) -> str:
        parts = [f"{name} {', '.join(values)}" for name, values in (
            ("conflicts", self.conflicts), ("proposers", self.proposers),
            ("categories", self.categories), ("kinds", self.kinds)) if values]
        if self.min_outlets > 1:
            parts.append(f"at least {self.min_outlets} outlets")
        return "; ".join(parts) or "every change"


# --- the ids a filter may name -------------------------------------------------------------


def known_ids(extension: dict | None = None) -> dict[str, list[str]]:
    """Conflict and actor ids of the shipped gazetteer plus the config's [gazetteer] additions.

    Read from the data file, not the compiled gazetteer: checking a config must stay cheap.
    """
    data = json.loads((resources.files("watcher.terms") / "data" / "gazetteer.json").read_bytes())
    extra = (extension or {}).get("gazetteer") or {}
    conflicts = set(data["conflicts"]) | set(extra.get("conflicts") or {})
    actors = set(data["actors"]) | set(extra.get("actors") or {}) | {AGREEMENT}
    for spec in [*data["conflicts"].values(), *(extra.get("conflicts") or {}).values()]:
        actors.update(spec.get("parties", []))
    kinds = [*CHANGE_KINDS]
    stances = sorted(set(STANCES) | set(STANCE_CLASS.values()))
    kinds += [f"{k}:{s}" for k in CHANGE_KINDS for s in stances]
    return {
        "conflicts": sorted(conflicts),
        "proposers": sorted(actors),
        "categories": list(CATEGORIES),
        "kinds": kinds,
    }


_WHAT = {"conflicts": "a conflict", "proposers": "a proposer (an actor id)", "categories": "a category",
         "kinds": "a change kind"}


def check_values(field_name: str, values: list[str], known: dict[str, list[str]]) -> str | None:
    """None when every value is known; else one message naming the bad value, what was
    expected and the closest known value."""
    choices = known[field_name]
    for value in values:
        if value in choices:
            continue
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if field_name == "kinds":
            expected = (f"one of {', '.join(CHANGE_KINDS)}, optionally with :stance or :class "
                        "(e.g. 'status:accepted', 'status:held')")
        elif len(choices) <= 40:
            expected = f"one of {', '.join(choices)}"
        else:
            expected = "an id of the gazetteer (see docs/terms.md) or of [gazetteer] in the config"
        return f"{value!r} is not {_WHAT[field_name]}; expected {expected}{hint}"
    return None
