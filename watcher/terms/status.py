"""Status of an existing deal or proposal: it took effect, holds, was violated, collapsed.

"The ceasefire took effect on Sunday", "Israel accused Hamas of violating the ceasefire",
"the RSF breached the humanitarian truce", "the truce had collapsed", "both sides have begun
withdrawing troops": such sentences state no new position, they report where a known term
stands (TERMS.md stances `in_effect` and `violated`). The status verb must govern the term's
trigger: right before it ("violating the ... ceasefire", "began withdrawing"), or after it
with the trigger as its subject ("the truce ... took effect", "the ceasefire was breached").

The shapes below are general phrasings of how news reports a deal's status, not any
article's wording.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from watcher.models import Term
from watcher.terms.roles import Mention
from watcher.terms.vocabulary import AGREEMENT

# a violation verb or noun governing the trigger that follows: "violating the January 2025
# ceasefire", "breached the humanitarian truce", "violations of the truce", "broke the truce"
_VIOLATE_BEFORE = re.compile(
    r"\b(?P<cue>violat(?:e|es|ed|ing)|breach(?:es|ed|ing)?|broke|breaking|flout(?:s|ed|ing)?|"
    r"infring(?:e|es|ed|ing)|(?:violations?|breach(?:es)?|infringements?) of|"
    r"(?:collapse|breakdown|unravell?ing) of)"
    r"\s+(?:(?:the|a|an|its|their|his|her|this|that|last|latest|fragile|existing|current|[\w’'.-]+(?:'s|’s)|"
    r"[A-Z][\w.-]*|\d{1,2}|\d{4}|[\w-]+-(?:brokered|mediated|backed|led|old|long|day|week|month)|"
    r"[a-z]+(?:ed|al|ary|an|ian|ese|ish))\s+){0,5}$")
# the trigger as the subject of a violation or a collapse: "the ceasefire was breached",
# "the truce had collapsed", "the deal broke down"; and "ceasefire violations"
_VIOLATE_AFTER = re.compile(
    r"^(?:s|es)?(?:\s+(?!(?:talks|negotiations|proposals?|plans?|offers?|demands?|said|says|once|when|after|until|if|before|unless|will|would|could)\b)[\w’'-]+){0,6}?,?\s+"
    r"(?:(?:has|have|had|was|were|is|are|been|being|also|again|repeatedly|reportedly|effectively|apparently|"
    r"largely|all but|now|already|quickly|soon)\s+)*"
    r"(?P<cue>violated|breached|broken|collapsed|broke down|broken down|fell apart|falls apart|crumbled|unravell?ed|"
    r"(?:is|was) in tatters)\b"
    r"|^(?:s|es)?\s+(?P<noun>violations?|breach(?:es)?|infringements?)\b", re.I)
# "took effect", "came into force", "is holding", "the truce began": the trigger is in effect
_EFFECT_AFTER = re.compile(
    r"^(?:s|es)?(?:\s+(?!(?:talks|negotiations|proposals?|plans?|offers?|demands?|said|says|that|once|when|after|until|if|before|unless|will|would|could)\b)[\w’'-]+){0,8}?,?\s+"
    r"(?:(?:has|have|had|also|finally|formally|officially|largely|broadly|mostly|still|now|appeared to|appears to|"
    r"seemed to|seems to)\s+)*"
    r"(?P<cue>took effect|taken effect|takes effect(?! (?:on|at|from|in|next|tomorrow))|went into (?:effect|force)|"
    r"came into (?:effect|force)|come into (?:effect|force)|entered into (?:force|effect)|entered its|took hold|"
    r"(?:began|begun|started|kicked in)(?! (?:talks|negotiations|to (?:discuss|negotiate)))|"
    r"(?:is|was|are|were|been|be|remained|remains)\s+(?:largely\s+|broadly\s+|mostly\s+|still\s+)?holding|"
    r"held(?! (?:talks|negotiations|a |an |the |by|in|on))|(?:is|was|has been|had been) in (?:effect|force|place) since|"
    r"(?:is|was|are|were|has been|had been|remains|remained) (?:largely |broadly |still )?(?:in effect|in force))\b",
    re.I)
# "have begun withdrawing troops", "started releasing hostages", "began implementing the deal":
# the step itself is under way
_EFFECT_BEFORE = re.compile(
    r"\b(?P<cue>(?:began|begun|begin|begins|started|starts|start|commenced|completed|finished)\s+(?:to\s+)?"
    r"(?:withdraw|pull|implement|releas|free|exchang|hand|return|reopen|open|dismantl|evacuat|swap|deliver)\w*|"
    r"(?:implementation|withdrawal|release|exchange|pullback|pull-out|pullout) (?:has |have |had )?(?:began|begun|started|commenced|got under way|is under way)|"
    r"(?:in effect|in force) since)\b[^,;:]{0,60}$", re.I)
# a start already set: "is due to take effect at midnight", "will come into force on Sunday"
_SCHEDULED = re.compile(
    r"^(?:s|es)?(?:\s+(?!(?:talks|negotiations|proposals?|plans?|offers?|demands?|said|says|that|once|when|after|"
    r"until|if|before|unless)\b)[\w’'-]+){0,8}?,?\s+"
    r"(?P<cue>(?:is|was|are|were)\s+(?:due|set|scheduled|expected|slated)\s+to|will|is to|was to)\s+"
    r"(?:take effect|come into (?:effect|force)|enter into (?:force|effect)|go into effect|begin|start|kick in)\b",
    re.I)
_NEG = re.compile(
    r"(?:\b(?:not|never|no|nor|without|yet to|denied|denies|deny|denying|rejected|rejects|dismissed|refuted|"
    r"false|failed to|fails to|avoid|avoided|prevent|refrain\w*|would|will|could|might|may|threat\w* to|"
    r"risk\w*|warned .{0,40}?(?:could|would|might)|if|unless|once|should|in case|in the event)\b|n't)"
    r"(?:\s+[\w’'-]+){0,4}\s*$", re.I)


_TRUCES = {"ceasefire", "partial_scope", "humanitarian_pause", "duration_phasing"}
_HOLD = re.compile(r"\w+\s+(?:\w+\s+)?holding|held", re.I)


_VIOL_KEYS = re.compile(r"violat|breach|broke|breaking|flout|infring|collaps|breakdown|unravel|fell apart|falls apart|"
                        r"crumbl|tatters")
_EFF_KEYS = re.compile(r"effect|force|took hold|beg[aiu]n|start|commenc|complet|finish|kick|holding|held")


@lru_cache(maxsize=4096)
def _keys(t: str) -> tuple[bool, bool]:
    """Whether a sentence holds any violation word, any start or effect word (one cheap scan
    per sentence spares the status patterns on most sentences)."""
    low = t.lower()
    return _VIOL_KEYS.search(low) is not None, _EFF_KEYS.search(low) is not None


def status(t: str, a: int, b: int, ca: int, cb: int, category: str) -> tuple[str | None, tuple[int, int] | None, bool]:
    """The status a sentence gives the term triggered at [a, b) within clause [ca, cb):
    (stance, the cue's span, negated): "in_effect", "violated", "scheduled" (a start is set:
    the deal is concluded, not yet in effect) or None."""
    viol, eff = _keys(t)
    if not viol and not eff:
        return None, None, False
    before = t[max(ca, a - 90):a]
    m = _VIOLATE_BEFORE.search(before) if viol else None
    if m:
        at = a - len(before) + m.start("cue")
        return "violated", (at, at + len(m.group("cue"))), _negated(t, at, ca)
    after = t[b:min(cb, b + 90)]
    m = _VIOLATE_AFTER.match(after) if viol else None
    if m:
        g = "cue" if m.group("cue") else "noun"
        at = b + m.start(g)
        return "violated", (at, b + m.end(g)), _negated(t, at, ca)
    if not eff:
        return None, None, False
    m = _EFFECT_AFTER.match(after)
    if m and (category in _TRUCES or not _HOLD.match(m.group("cue"))):
        at = b + m.start("cue")
        return "in_effect", (at, b + m.end("cue")), _negated(t, at, ca)
    m = _SCHEDULED.match(after)
    if m:
        at = b + m.start("cue")
        return "scheduled", (at, b + m.end("cue")), False
    m = _EFFECT_BEFORE.search(t[max(ca, a - 90):b])
    if m:
        at = max(ca, a - 90) + m.start("cue")
        return "in_effect", (at, at + len(m.group("cue"))), _negated(t, at, ca)
    return None, None, False


_DENY = re.compile(r"(?:\b(?:not|never|no|nor|denied|denies|deny|denying|refuted|false)\b|n't)"
                   r"(?:\s+[\w’'-]+){0,3}\s*$", re.I)


def denied(t: str, cue: tuple[int, int]) -> bool:
    """"has not violated", "denied violating": a denial, not a hypothesis ("if X breached")."""
    return _DENY.search(t[max(0, cue[0] - 40):cue[0]]) is not None


def _negated(t: str, at: int, ca: int) -> bool:
    """"has not violated", "denied violating", "has yet to take effect", "could collapse"."""
    return _NEG.search(t[max(ca, at - 40):at]) is not None


_ACCUSED = re.compile(
    r"\b(?:accus\w*|blam\w*|charg\w*|condemn\w*|fault\w*)\s+(?:the\s+)?(?P<who>[^,;]{1,60}?)\s+(?:of|for)\s+"
    r"(?:\w+\s+){0,2}$", re.I)
_BY = re.compile(r"^(?:s|es)?\s+(?:(?:\w+\s+){0,6}?)by\s+(?:the\s+)?$", re.I)
# what may stand between the violator and its verb: "Hamas has repeatedly violated",
# "Russian forces breached", "the RSF, which ..., breached" is too far
_AGENT_GAP = re.compile(
    r"^(?:'s|’s)?(?:\s+(?:forces|fighters|troops|army|militants|militias?|paramilitaries|soldiers|units|"
    r"government|side|military|has|have|had|also|again|repeatedly|allegedly|reportedly|openly|"
    r"blatantly|clearly|on \w+|already|itself|themselves))*\s+$", re.I)


def violator(t: str, cue: tuple[int, int], trig: tuple[int, int], ms: list[Mention]) -> str | None:
    """Who broke the deal: "accused X of violating", "X violated", "violations by X",
    "Russian violations of the truce"."""
    at = cue[0]
    head = t[max(0, at - 90):at]
    m = _ACCUSED.search(head)
    if m:
        a0 = at - len(head) + m.start("who")
        a1 = at - len(head) + m.end("who")
        who = [x for x in ms if a0 <= x.start < a1]
        if who:
            return who[0].actor
    for x in reversed(ms):
        if x.end <= at and _AGENT_GAP.match(t[x.end:at]):
            return x.actor
    # "violations by Russia", "the truce was violated by the RSF"
    for x in ms:
        if x.start >= cue[1] and x.start - cue[1] <= 60 and _BY.match(t[cue[1]:x.start]):
            return x.actor
    # "Russian violations of the ceasefire", "repeated Israeli breaches"
    for x in ms:
        if x.end <= at and at - x.end <= 12 and re.fullmatch(r"\s*(?:\w+\s+)?", t[x.end:at]):
            return x.actor
    return None


DEAL_ITSELF = frozenset(("ceasefire", "humanitarian_pause"))  # the terms that are the deal, not a provision


def carry_running(terms: list[Term]) -> list[Term]:
    """A deal the story reports running is running in all it provides: where an `agreement`
    term of a conflict is `in_effect`, its other provisions the story gives as merely agreed are
    `in_effect` too (LABELLING.md: "so are the provisions it states of that deal"). Only the
    truce itself running carries (a provision begun, "withdrawals have begun", does not put the
    whole deal in effect), and a breach is not carried: the other provisions keep their stance."""
    running = {t.conflict for t in terms if t.proposer == AGREEMENT and t.stance == "in_effect"
               and t.category in DEAL_ITSELF}
    if not running:
        return terms
    return [replace(t, stance="in_effect") if t.proposer == AGREEMENT and t.stance == "accepted"
            and t.conflict in running else t for t in terms]
