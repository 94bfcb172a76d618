"""The gazetteer: conflicts, actors, places and category triggers, shipped as package data
and extensible from config.toml. Compiled once into a few large regexes so extraction never
compiles per sentence."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from watcher.terms.vocabulary import CATEGORIES

NUM = (
    r"(?:\d[\d,\.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|ninety|a hundred|hundred)"
)


def _data(name: str) -> bytes:
    return resources.files("watcher.terms").joinpath("data").joinpath(name).read_bytes()


def _names_regex(names: list[str], flags: int = 0) -> re.Pattern[str] | None:
    """One alternation, longest name first, bounded so "Israel" never matches in "Israeli"."""
    uniq = sorted({n for n in names if n}, key=len, reverse=True)
    if not uniq:
        return None
    body = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in uniq)
    return re.compile(rf"(?<![\w/])(?:{body})(?![\w])", flags)


@dataclass
class Category:
    """Compiled triggers of one category."""

    id: str
    trigger: re.Pattern[str]  # matched on lower-cased text: case-folding per char is 3x slower
    context: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    trigger_i: re.Pattern[str] | None = None  # fallback when lower() changes the length
    cased: re.Pattern[str] | None = None  # patterns that need capitals, on the original text


@dataclass
class Gazetteer:
    conflicts: dict[str, dict]
    actors: dict[str, dict]
    places: dict[str, dict]
    triggers: dict[str, dict]
    # compiled lookups
    actor_re: re.Pattern[str] | None = None
    actor_of: dict[str, str] = field(default_factory=dict)  # exact name -> actor id
    context_res: dict[str, tuple[re.Pattern[str], dict[str, str]]] = field(default_factory=dict)
    place_re: re.Pattern[str] | None = None
    place_of: dict[str, str] = field(default_factory=dict)
    conflict_re: re.Pattern[str] | None = None
    conflict_of: dict[str, str] = field(default_factory=dict)  # lower-cased name -> id
    actor_conflicts: dict[str, set[str]] = field(default_factory=dict)
    categories: list[Category] = field(default_factory=list)

    def compile(self) -> Gazetteer:
        names: list[str] = []
        self.actor_of = {}
        for aid, a in self.actors.items():
            for n in a.get("names", []):
                names.append(n)
                self.actor_of[_norm(n)] = aid
        self.actor_re = _names_regex(names)
        # names that only mean an actor inside one of its conflicts ("the army" in Sudan)
        by_conflict: dict[str, dict[str, str]] = {}
        self.actor_conflicts = {aid: set(a.get("conflicts", [])) for aid, a in self.actors.items()}
        for cid, c in self.conflicts.items():
            for p in c.get("parties", []):
                self.actor_conflicts.setdefault(p, set()).add(cid)
        for aid, a in self.actors.items():
            for n in a.get("context_names", []):
                for cid in self.actor_conflicts.get(aid, ()):
                    by_conflict.setdefault(cid, {})[_norm(n)] = aid
        self.context_res = {}
        for cid, m in by_conflict.items():
            rx = _names_regex(list(m), re.IGNORECASE)
            if rx is not None:
                self.context_res[cid] = (rx, m)
        self.place_of = {}
        pnames = []
        for pid, p in self.places.items():
            for n in p.get("names", []):
                pnames.append(n)
                self.place_of[_norm(n)] = pid
        self.place_re = _names_regex(pnames)
        self.conflict_of = {}
        cnames = []
        for cid, c in self.conflicts.items():
            for n in c.get("names", []):
                cnames.append(n)
                self.conflict_of[_norm(n).lower()] = cid
        self.conflict_re = _names_regex(cnames, re.IGNORECASE)
        self.categories = [_compile_category(cat, self.triggers.get(cat, {})) for cat in CATEGORIES]
        return self

    def actor_for(self, name: str) -> str | None:
        return self.actor_of.get(_norm(name))

    def place_for(self, name: str) -> str | None:
        return self.place_of.get(_norm(name))

    def conflict_for(self, name: str) -> str | None:
        return self.conflict_of.get(_norm(name).lower())


def _norm(s: str) -> str:
    return " ".join(s.split())


def _compile_category(cat: str, spec: dict) -> Category:
    pats = [p.replace("{NUM}", NUM) for p in spec.get("patterns", [])]
    pats += [re.escape(p).replace(r"\ ", r"\s+") for p in spec.get("phrases", [])]
    if not pats:
        pats = [r"(?!x)x"]
    body = r"\b(?:" + "|".join(pats) + r")"
    trig = re.compile(body.lower().replace(r"\b", r"\b"))
    cased = spec.get("cased_patterns") or []
    cased_re = re.compile(r"\b(?:" + "|".join(cased) + r")") if cased else None
    ctx = re.compile(r"\b(?:" + spec["context"] + ")", re.IGNORECASE) if spec.get("context") else None
    exc = spec.get("exclude") or []
    exc_re = re.compile(r"\b(?:" + "|".join(exc) + r")", re.IGNORECASE) if exc else None
    return Category(cat, trig, ctx, exc_re, re.compile(body, re.IGNORECASE), cased_re)


def _merge_named(base: dict[str, dict], extra: dict[str, dict], list_keys: tuple[str, ...]) -> None:
    """Extending an existing id adds aliases; a new id is added whole."""
    for key, spec in (extra or {}).items():
        cur = base.setdefault(key, {})
        for k, v in (spec or {}).items():
            if k in list_keys:
                cur[k] = list(dict.fromkeys([*cur.get(k, []), *v]))
            else:
                cur[k] = v
        cur.setdefault("names", [])


def load_gazetteer(extra: dict | None = None) -> Gazetteer:
    """The shipped gazetteer, extended by the `[gazetteer]` and `[triggers]` tables of config.toml.

    `extra` is the parsed config shape: {"gazetteer": {"conflicts": {...}, "actors": {...},
    "places": {...}}, "triggers": {"ceasefire": ["quiet period"]}}; any part may be missing.
    Trigger phrases are plain text (escaped), not regexes.
    """
    if not extra:
        return _default()
    base = json.loads(_data("gazetteer.json"))
    triggers = tomllib.loads(_data("triggers.toml").decode())
    gz = extra.get("gazetteer") or {}
    _merge_named(base["conflicts"], gz.get("conflicts") or {}, ("names", "parties"))
    _merge_named(base["actors"], gz.get("actors") or {}, ("names", "conflicts", "context_names"))
    _merge_named(base["places"], gz.get("places") or {}, ("names",))
    for cat, phrases in (extra.get("triggers") or {}).items():
        if cat not in CATEGORIES:
            raise ValueError(f"unknown category {cat!r} in [triggers]; use one of TERMS.md's ids")
        spec = triggers.setdefault(cat, {})
        spec["phrases"] = [*spec.get("phrases", []), *phrases]
    return Gazetteer(base["conflicts"], base["actors"], base["places"], triggers).compile()


@lru_cache(maxsize=1)
def _default() -> Gazetteer:
    base = json.loads(_data("gazetteer.json"))
    triggers = tomllib.loads(_data("triggers.toml").decode())
    return Gazetteer(base["conflicts"], base["actors"], base["places"], triggers).compile()


def copy_gazetteer(g: Gazetteer) -> Gazetteer:
    """A deep copy (tests extend without touching the cached default)."""
    return Gazetteer(copy.deepcopy(g.conflicts), copy.deepcopy(g.actors), copy.deepcopy(g.places),
                     copy.deepcopy(g.triggers)).compile()
