"""Does an entry concern a ceasefire or a peace proposal? Topic rules with a score.

Scoring (per topic; the entry's three fields are matched independently):

- A phrase matches case-insensitively on whole words. Words are runs of letters and digits,
  so hyphens, apostrophes and punctuation separate words: "cease-fire", "cease fire" and
  "cease‑fire" are the same two words. A hyphenated phrase also matches its closed form
  ("cease-fire" matches "ceasefire"), and phrases that differ only in hyphens or spaces are
  one phrase (listed once in `matched`, under the spelling given first). Every word also
  matches its plural ("truce" -> "truces", "talk" -> "talks", "party" -> "parties").
- Field weights: title 2.0, summary 1.0, body text 0.5. A phrase counts once per field, so
  a phrase in title and summary gives 3.0 x its weight. The body's total is capped at
  BODY_CAP (1.0): a long article that mentions a truce in passing cannot become relevant
  by repetition, but two distinct phrases in the body are enough on their own.
- Phrase syntax in topic lists:
    "ceasefire"       weight 1.0
    "talks^0.5"       weight 0.5; a phrase weighing less than 1 is *generic* and counts only
                      when the entry also has a full-weight phrase or a context term
                      anywhere ("budget talks" alone scores 0, "talks" + "war" scores)
    "~war"            context term: scores nothing, only admits generic phrases
- Exclude phrases veto the topic (score 0, "excluded:<phrase>") when they appear in the
  title or the summary. Not in the body: article pages mention everything in their
  sidebars and related links.
- The entry is relevant when some topic reaches its `min_score`; the reported topic is the
  best-scoring one among those that pass (else the best-scoring one overall).

- The learned filter: a topic with `model` set (the built-in topic has it) is also
  relevant when its rules say no but `watcher.relevance_model` gives the title and summary
  a probability at or above its threshold ("model:0.62" in `matched`, the score stays the
  rules'). Rules OR model: the rules' recall is never lost; a vetoed topic stays vetoed.

Cost: topic lists are compiled once (cached by their phrases) into a dictionary keyed by a
phrase's first word; each field is tokenised once with one regex and looked up word by
word, so a title and summary take a few microseconds whatever the number of phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from watcher.models import Relevance, Topic

__all__ = [
    "BODY_CAP",
    "DEFAULT_CEASEFIRE_CONTEXT",
    "DEFAULT_CEASEFIRE_EXCLUDES",
    "DEFAULT_CEASEFIRE_PHRASES",
    "FIELD_WEIGHTS",
    "default_scores",
    "default_topic",
    "score_entries",
    "score_entry",
]

FIELD_WEIGHTS: dict[str, float] = {"title": 2.0, "summary": 1.0, "text": 0.5}
BODY_CAP = 1.0
SUMMARY_CHARS = 600  # what the learned filter reads of a summary (watcher.relevance_model)

DEFAULT_CEASEFIRE_CONTEXT: list[str] = [
    "~war", "~conflict", "~fighting", "~hostilities", "~troops", "~military", "~army",
    "~militants", "~militia", "~rebels", "~insurgents", "~invasion", "~offensive",
    "~shelling", "~airstrike", "~air strike", "~missile", "~drone strike", "~front line",
    "~frontline", "~battlefield", "~combat", "~occupation", "~occupied territories",
    "~hostage", "~bombardment", "~siege", "~warring", "~belligerents", "~armed forces",
]

DEFAULT_CEASEFIRE_PHRASES: list[str] = [
    # full weight: these words are about ending or pausing a war on their own
    "ceasefire", "cease-fire", "truce", "armistice",
    "peace plan", "peace proposal", "peace deal", "peace talks", "peace initiative",
    "peace agreement", "peace accord", "peace treaty", "peace process",
    "peace negotiations", "peace framework", "peace roadmap", "peace summit",
    "peace conference", "peace offer", "peace terms", "peace formula", "peace settlement",
    "peace envoy", "peacekeeping force",
    "cessation of hostilities", "humanitarian pause", "humanitarian corridor",
    "hostage deal", "hostage-release deal", "prisoner exchange",
    "prisoner swap", "exchange of prisoners", "negotiated settlement", "land for peace",
    "de-escalation agreement",
    # generic: need a full-weight phrase or a war word next to them
    "talks^0.5", "negotiations^0.5", "negotiators^0.5", "mediation^0.5", "mediators^0.5",
    "end the war^0.5", "end to the war^0.5", "end the fighting^0.5", "stop the fighting^0.5",
    "de-escalation^0.5", "diplomatic solution^0.5", "troop withdrawal^0.5",
    "withdrawal of troops^0.5", "buffer zone^0.5", "demilitarized zone^0.5",
    "demilitarised zone^0.5", "security guarantees^0.5", "peace^0.3",
    *DEFAULT_CEASEFIRE_CONTEXT,
]

DEFAULT_CEASEFIRE_EXCLUDES: list[str] = [
    "armistice day", "remembrance day", "remembrance sunday", "veterans day",
]


def default_topic(name: str = "ceasefire", min_score: float = 1.0, model: bool = True) -> Topic:
    """The built-in ceasefire / peace-proposal topic, for configs that name no phrases; with
    `model`, the learned filter also passes what its phrases miss."""
    return Topic(
        name=name,
        include=list(DEFAULT_CEASEFIRE_PHRASES),
        exclude=list(DEFAULT_CEASEFIRE_EXCLUDES),
        min_score=min_score,
        model=model,
    )


_WORD = re.compile(r"[^\W_]+")
_WEIGHT = re.compile(r"\^\s*([0-9]*\.?[0-9]+)\s*$")


def _forms(word: str) -> frozenset[str]:
    forms = {word, word + "s", word + "es"}
    if word.endswith("y") and len(word) > 2:
        forms.add(word[:-1] + "ies")
    return frozenset(forms)


@dataclass(frozen=True)
class _Phrase:
    label: str  # as the user wrote it (first spelling), without ^weight or ~
    weight: float  # 0 for context terms
    context: bool


@dataclass
class _Compiled:
    # first word form -> [(forms of the following words, phrase id)]
    index: dict[str, list[tuple[tuple[frozenset[str], ...], int]]]
    phrases: list[_Phrase]
    topics: list[tuple[Topic, frozenset[int], list[int]]]  # topic, include ids, exclude ids
    default_phrases: bool = False  # one topic with the built-in lists: the same phrase ids


def _parse_phrase(raw: str) -> tuple[str, float, bool]:
    text = raw.strip()
    context = text.startswith("~")
    if context:
        text = text[1:].strip()
    weight = 0.0 if context else 1.0
    m = _WEIGHT.search(text)
    if m:
        text = text[: m.start()].strip()
        if not context:
            weight = float(m.group(1))
    return text, weight, context


def _variants(text: str) -> list[tuple[str, ...]]:
    """Word sequences a phrase matches: as written, and closed up across hyphens."""
    lowered = text.lower()
    words = tuple(_WORD.findall(lowered))
    out = [words] if words else []
    if "-" in lowered:
        closed = tuple(_WORD.findall(re.sub(r"(?<=\w)[-\u2010\u2011](?=\w)", "", lowered)))
        if closed and closed not in out:
            out.append(closed)
    return out


@lru_cache(maxsize=64)
def _compile(key: tuple[tuple[str, tuple[str, ...], tuple[str, ...], float, bool], ...]) -> _Compiled:
    index: dict[str, list[tuple[tuple[frozenset[str], ...], int]]] = {}
    phrases: list[_Phrase] = []
    by_key: dict[tuple[str, bool, bool], int] = {}  # (closed words, context, exclude) -> id
    seen_variants: set[tuple[tuple[str, ...], int]] = set()

    def add(raw: str, exclude: bool) -> int | None:
        text, weight, context = _parse_phrase(raw)
        variants = _variants(text)
        if not variants:
            return None
        dedup_key = ("".join(variants[0]), context, exclude)
        pid = by_key.get(dedup_key)
        if pid is None:
            pid = len(phrases)
            by_key[dedup_key] = pid
            phrases.append(_Phrase(text, weight, context))
        for words in variants:
            if (words, pid) in seen_variants:
                continue
            seen_variants.add((words, pid))
            rest = tuple(_forms(w) for w in words[1:])
            for first in _forms(words[0]):
                index.setdefault(first, []).append((rest, pid))
        return pid

    topics = []
    for name, include, exclude, min_score, model in key:
        inc = [pid for raw in include if (pid := add(raw, False)) is not None]
        exc = [pid for raw in exclude if (pid := add(raw, True)) is not None]
        topic = Topic(name=name, include=list(include), exclude=list(exclude), min_score=min_score,
                      model=model)
        topics.append((topic, frozenset(inc), list(dict.fromkeys(exc))))
    default_phrases = len(key) == 1 and key[0][1:3] == (tuple(DEFAULT_CEASEFIRE_PHRASES),
                                                        tuple(DEFAULT_CEASEFIRE_EXCLUDES))
    return _Compiled(index, phrases, topics, default_phrases)


# ASCII characters that are not letters or digits (what _WORD does not match), as spaces.
_ASCII_NON_WORD = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})
_ASCII_NON_WORD_BYTES = bytes(i if chr(i).isalnum() else 32 for i in range(256))


def _words(text: str) -> list[str]:
    """``_WORD.findall(text)``, three times faster: ASCII punctuation becomes spaces and
    str.split() cuts at those and at whitespace (never a letter or digit); a piece that
    still holds a non-ASCII non-word character (’, —, «) is cut by the regex."""
    if text.isascii():  # bytes.translate: a table look-up per byte, no dictionary
        return text.encode("ascii").translate(_ASCII_NON_WORD_BYTES).decode("ascii").split()
    words = text.translate(_ASCII_NON_WORD).split()
    out: list[str] = []
    for w in words:
        if w.isalnum():  # what [^\W_] matches is exactly str.isalnum()
            out.append(w)
        else:
            out.extend(_WORD.findall(w))
    return out


def _find(words: list[str], index: dict[str, list[tuple[tuple[frozenset[str], ...], int]]]) -> set[int]:
    """The phrases (ids) found in a field's lowered words (``_words(text.lower())``)."""
    if not words or index.keys().isdisjoint(words):  # most fields: no phrase starts here (C speed)
        return set()
    found: set[int] = set()
    n = len(words)
    get = index.get
    for i, word in enumerate(words):
        candidates = get(word)
        if candidates is None:
            continue
        for rest, pid in candidates:
            if pid in found:
                continue
            k = len(rest)
            if k == 0:
                found.add(pid)
            elif i + k < n and all(words[i + 1 + j] in rest[j] for j in range(k)):
                found.add(pid)
    return found


def _compiled(topics: list[Topic]) -> _Compiled:
    return _compile(
        tuple((t.name, tuple(t.include), tuple(t.exclude), float(t.min_score), bool(t.model))
              for t in topics)
    )


def score_entry(title: str, summary: str, text: str, topics: list[Topic]) -> Relevance:
    """Score an entry against every topic; see the module docstring for the rules."""
    if not topics:
        return Relevance(relevant=False, score=0.0, topic=None, matched=[])
    return _score(_compiled(topics), title, summary, text)


@lru_cache(maxsize=1)
def _default_compiled() -> _Compiled:
    return _compiled([default_topic(model=False)])


def default_scores(title: str, summary: str) -> Relevance:
    """The built-in ceasefire topic's verdict on a title and summary (the learned model's
    rule features: fixed, whatever topics the config lists)."""
    return _score(_default_compiled(), title, summary, "")


def score_entries(fields: list[tuple[str, str, str]], topics: list[Topic]) -> list[Relevance]:
    """score_entry for many (title, summary, text) triples against the same topics: the
    topic lists are looked up once, not once per entry."""
    if not topics:
        return [score_entry("", "", "", topics) for _ in fields]
    compiled = _compiled(topics)
    return [_score(compiled, title, summary, text) for title, summary, text in fields]


_Fields = tuple[tuple[str, set[int]], ...]
_Ranked = tuple[float, Topic, list[str]] | None


def _words_cut(text: str, cut: int) -> tuple[list[str], list[str] | None]:
    """``_words(text.lower())`` and, for an ASCII text longer than ``cut``, the words of its
    first ``cut`` characters (``_words(text[:cut].lower())``, what the learned filter reads)
    from the same pass: the two halves are tokenised apart and a word the cut splits is
    joined again. ASCII only: lower() keeps an ASCII text's length, so the cut falls at the
    same place in the lowered text."""
    low = text.lower()
    if len(low) <= cut or not text.isascii():
        return _words(low), None
    head, tail = _words(low[:cut]), _words(low[cut:])
    if head and tail and low[cut - 1].isalnum() and low[cut].isalnum():
        return [*head[:-1], head[-1] + tail[0], *tail[1:]], head
    return head + tail, head


def _score(compiled: _Compiled, title: str, summary: str, text: str) -> Relevance:
    head = None  # the words of the model's cut, when the same pass gave them
    words = [_words(title.lower()) if title else [], [], []]
    if summary:
        words[1], head = _words_cut(summary, SUMMARY_CHARS)
    if text:
        words[2], text_head = _words_cut(text, SUMMARY_CHARS)
        if not summary:
            head = text_head
    fields = (
        ("title", _find(words[0], compiled.index)),
        ("summary", _find(words[1], compiled.index)),
        ("text", _find(words[2], compiled.index)),
    )
    best, best_passing, best_model, vetoes = _rank(compiled, fields)
    if best_passing is None and best_model is not None:
        from watcher.relevance_model import load

        # the model reads the title and the summary (else the body) cut at SUMMARY_CHARS,
        # and the built-in topic's verdict on them: the words and, for the built-in
        # phrases, the phrases found are the ones just found, unless the cut cuts
        i = 1 if summary else 2
        cut = (summary or text)[:SUMMARY_CHARS]
        whole = len(cut) == len(summary or text)
        cut_words = words[i] if whole else head if head is not None else _words(cut.lower())
        rules = None
        if compiled.default_phrases:
            found = fields[i][1] if whole else _find(cut_words, compiled.index)
            d_best, d_passing, _, d_vetoes = _rank(_default_compiled(),
                                                   (fields[0], ("summary", found), ("text", set())))
            rules = _verdict(d_best, d_passing, d_vetoes)
        passes, p = load().passes(title, cut, rules, (words[0], cut_words))
        if passes:
            score, topic, matched = best_model
            return Relevance(relevant=True, score=score, topic=topic.name,
                             matched=[*matched, f"model:{p:.2f}"])
    return _verdict(best, best_passing, vetoes)


def _verdict(best: _Ranked, best_passing: _Ranked, vetoes: list[str]) -> Relevance:
    chosen = best_passing or best
    if chosen is None or chosen[0] <= 0:
        return Relevance(relevant=False, score=0.0, topic=None, matched=vetoes)
    score, topic, matched = chosen
    return Relevance(
        relevant=best_passing is not None, score=score, topic=topic.name, matched=matched
    )


def _rank(compiled: _Compiled, fields: _Fields) -> tuple[_Ranked, _Ranked, _Ranked, list[str]]:
    """Each topic's score on the phrases found: the best, the best that passes, the best
    of those the model may pass, and the vetoes."""
    anywhere = fields[0][1] | fields[1][1] | fields[2][1]
    phrases = compiled.phrases

    best: _Ranked = None
    best_passing: _Ranked = None
    best_model: _Ranked = None  # the model may pass this one
    vetoes: list[str] = []
    for topic, include, exclude in compiled.topics:
        hits = [pid for pid in exclude if pid in fields[0][1] or pid in fields[1][1]]
        if hits:
            vetoes.extend(f"excluded:{phrases[pid].label}" for pid in hits)
            continue
        present = anywhere & include
        if not present:
            result = (0.0, topic, [])
            if best is None:
                best = result
            if topic.model and best_model is None:
                best_model = result
            continue
        context = sorted(pid for pid in present if phrases[pid].context)
        has_context = bool(context) or any(phrases[pid].weight >= 1.0 for pid in present)
        score = 0.0
        matched: list[str] = []
        used_generic = False
        for field, found in fields:
            field_score = 0.0
            for pid in sorted(found & include):  # ids follow the order phrases were listed
                phrase = phrases[pid]
                if phrase.context or (phrase.weight < 1.0 and not has_context):
                    continue
                used_generic |= phrase.weight < 1.0
                field_score += FIELD_WEIGHTS[field] * phrase.weight
                matched.append(f"{field}:{phrase.label}")
            score += min(field_score, BODY_CAP) if field == "text" else field_score
        if used_generic:
            matched.extend(f"context:{phrases[pid].label}" for pid in context)
        score = round(score, 3)
        result = (score, topic, matched)
        if best is None or score > best[0]:
            best = result
        if topic.model and (best_model is None or score > best_model[0]):
            best_model = result
        if score > 0 and score >= topic.min_score and (
            best_passing is None or score > best_passing[0]
        ):
            best_passing = result

    return best, best_passing, best_model, vetoes
