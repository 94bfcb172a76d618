"""What goes into a digest: the changes a channel has not had yet, and feed health.

The result is a plain :class:`Digest` that renders to every format and round-trips through
JSON (``digests.payload``), so a retry re-renders exactly what was collected the first time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from watcher.ledger import STANCE_CLASS

# Consecutive errors before a feed counts as failing: one timeout is not news.
FAILING_AFTER_ERRORS = 3
# Lines of a revision's text diff shown in a digest.
DIFF_LINES = 12
# The order kinds are listed in under a proposer: the most decisive first.
KIND_ORDER = ("withdrawn", "status", "changed", "new", "revised")


@dataclass
class ChangeItem:
    key: str
    kind: str
    conflict: str
    proposer: str
    category: str
    summary: str
    detected_at: str
    before: dict | None = None
    after: dict | None = None
    quote: str | None = None
    source: str | None = None
    url: str | None = None
    title: str | None = None
    source_count: int = 0
    baseline: bool = False
    version: int | None = None
    diff: str | None = None  # trimmed text diff, on the first change of each revised snapshot


@dataclass
class BaselineLine:
    """The terms a feed's first poll put on record for one conflict and proposer."""

    conflict: str
    proposer: str
    categories: list[str]


@dataclass
class FeedNotice:
    feed_id: int
    name: str
    url: str
    state: str  # failing | recovered
    since: str  # the failing episode's start
    errors: int = 0
    last_error: str | None = None


@dataclass
class Digest:
    channel: str
    created_at: str
    kind: str = "digest"  # digest | alert | lookback
    since: str | None = None
    changes: list[ChangeItem] = field(default_factory=list)  # listed one by one
    baseline: list[BaselineLine] = field(default_factory=list)
    feeds: list[FeedNotice] = field(default_factory=list)
    change_keys: list[str] = field(default_factory=list)  # every change it carries, summarised or not

    @property
    def empty(self) -> bool:
        return not self.change_keys and not self.feeds

    @property
    def baseline_count(self) -> int:
        return sum(len(b.categories) for b in self.baseline)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Digest:
        data = json.loads(text)
        return cls(
            channel=data["channel"],
            created_at=data["created_at"],
            kind=data.get("kind", "digest"),
            since=data.get("since"),
            changes=[ChangeItem(**c) for c in data.get("changes", [])],
            baseline=[BaselineLine(**b) for b in data.get("baseline", [])],
            feeds=[FeedNotice(**f) for f in data.get("feeds", [])],
            change_keys=list(data.get("change_keys", [])),
        )


def _loads(text: str | None) -> dict | None:
    return json.loads(text) if text else None


def trim_diff(diff: str | None, lines: int = DIFF_LINES) -> str | None:
    """The changed lines of a unified diff, without headers, at most ``lines`` of them."""
    if not diff:
        return None
    body = [
        line for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    if not body:
        return None
    if len(body) > lines:
        body = body[:lines] + [f"… {len(body) - lines} more changed lines"]
    return "\n".join(body)


def change_item(row: dict[str, Any]) -> ChangeItem:
    return ChangeItem(
        key=row["key"], kind=row["kind"], conflict=row["conflict"], proposer=row["proposer"],
        category=row["category"], summary=row["summary"], detected_at=row["detected_at"],
        before=_loads(row["before"]), after=_loads(row["after"]), quote=row["quote"],
        source=row["source"], url=row["url"], title=row["title"],
        source_count=int(row["source_count"] or 0), baseline=bool(row["baseline"]),
        version=row["version"],
    )


def build_digest(
    channel: str,
    rows: list[dict],
    feeds: list[FeedNotice],
    *,
    created_at: str,
    kind: str = "digest",
    since: str | None = None,
    baseline_summary: bool = True,
) -> Digest:
    """Turn change rows into a digest: baseline changes summarised, diffs attached once."""
    digest = Digest(channel=channel, created_at=created_at, kind=kind, since=since, feeds=feeds)
    summary: dict[tuple[str, str], list[str]] = {}
    diffs_shown: set[int] = set()
    for row in rows:
        digest.change_keys.append(row["key"])
        if row["baseline"] and baseline_summary:
            cats = summary.setdefault((row["conflict"], row["proposer"]), [])
            if row["category"] not in cats:
                cats.append(row["category"])
            continue
        item = change_item(row)
        if item.kind == "revised" and row["snapshot_id"] not in diffs_shown:
            diffs_shown.add(row["snapshot_id"])
            item.diff = trim_diff(row["diff"])
        digest.changes.append(item)
    digest.baseline = [BaselineLine(c, p, sorted(cats)) for (c, p), cats in sorted(summary.items())]
    digest.changes.sort(key=sort_key)
    return digest


def sort_key(item: ChangeItem) -> tuple:
    """Conflict, then proposer, then kind (decisive first), then when."""
    kind = KIND_ORDER.index(item.kind) if item.kind in KIND_ORDER else len(KIND_ORDER)
    return (item.conflict, item.proposer, kind, item.detected_at, item.category)


def feed_notices(store: Any, channel: str, min_errors: int = FAILING_AFTER_ERRORS) -> list[FeedNotice]:
    """Failing episodes this channel has not reported, and reported ones that have ended."""
    notices = []
    for row in store.failing_feeds_unreported(channel, min_errors):
        notices.append(FeedNotice(
            feed_id=row["id"], name=row["name"] or row["title"] or row["url"], url=row["url"],
            state="failing", since=row["failing_since"], errors=row["consecutive_errors"],
            last_error=row["disabled_reason"] or row["last_error"],
        ))
    for row in store.recovered_feeds_unreported(channel):
        notices.append(FeedNotice(
            feed_id=row["id"], name=row["name"] or row["title"] or row["url"], url=row["url"],
            state="recovered", since=row["episode_since"],
        ))
    return notices


def matches_alert(item: dict | ChangeItem, alert_kinds: list[str]) -> bool:
    """Does a change match ``digest.alert_kinds`` ("status", "status:accepted", "new", ...)?

    The stance part matches the change's new stance or its class (so "status:held" matches
    proposed and demanded alike). Baseline changes never alert: they are not news.
    """
    get = item.get if isinstance(item, dict) else lambda k: getattr(item, k)
    return not get("baseline") and kind_matches(get("kind"), get("after"), alert_kinds)


def kind_matches(kind: str, after: dict | str | None, specs: list[str]) -> bool:
    """A kind spec is a change kind, optionally with the new stance or its class
    ("status:accepted", "status:held" matches proposed and demanded alike)."""
    if isinstance(after, str):
        after = _loads(after)
    stance = (after or {}).get("stance")
    for spec in specs:
        want_kind, _, want = spec.partition(":")
        if want_kind == kind and (not want or want == stance or want == STANCE_CLASS.get(stance or "")):
            return True
    return False
