"""Plain records passed between the pipeline's stages.

Each stage takes and returns these dataclasses, so every stage can be tested alone and the
whole pipeline can run once without the scheduler. Nothing here touches the network or the
database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class FetchResult:
    """What one HTTP GET produced, success or failure, in words a log line can use."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None = None  # HTTP status; None when no response arrived
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes | None = None  # decompressed, capped at max_bytes
    elapsed_ms: int = 0
    bytes_read: int = 0  # decompressed bytes received
    not_modified: bool = False  # a 304 answered a conditional GET
    permanent_redirect: str | None = None  # where a 301/308 chain ended, if any
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    error: str | None = None  # human words: "timed out after 20s", "body over 10000000 bytes"
    error_kind: str | None = None  # timeout|too_large|redirects|http|network|blocked|decode

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass
class Entry:
    """One feed entry, normalised."""

    url: str  # canonical URL (no fragment, no tracking parameters)
    link: str  # the link exactly as the feed gave it (absolute)
    guid: str | None
    title: str
    summary: str  # plain text
    content: str  # plain text of the feed's own full content, "" if none
    published_at: str | None  # ISO 8601 UTC, "2024-06-24T10:00:00+00:00"
    author: str | None = None


@dataclass
class ParsedFeed:
    title: str | None
    link: str | None
    entries: list[Entry]
    ttl_seconds: int | None = None  # RSS <ttl>, in seconds
    malformed: bool = False  # feedparser's bozo flag
    problem: str | None = None  # why it is malformed, in words
    rejected: bool = False  # not a feed at all (HTML page, empty body): nothing kept


@dataclass
class Topic:
    name: str
    include: list[str]
    exclude: list[str] = field(default_factory=list)
    min_score: float = 1.0
    model: bool = False  # the learned filter (watcher.relevance_model) may also pass an entry


@dataclass
class Relevance:
    relevant: bool
    score: float
    topic: str | None  # the best-scoring topic
    matched: list[str]  # "title:ceasefire", "summary:peace plan", "excluded:football"


@dataclass
class ArticleText:
    """The main text of an article page (or of the feed entry, when the page failed)."""

    title: str
    text: str
    source: str  # "page" | "feed"
    language: str | None = None
    note: str | None = None  # why the feed's text was used, when it was


@dataclass
class Term:
    """One proposal term as a report states it (the `watcher extract` JSON shape)."""

    conflict: str
    category: str
    proposer: str
    stance: str
    precondition: bool = False
    values: dict = field(default_factory=dict)  # party, places, numbers, text
    responses: list[dict] = field(default_factory=list)  # {"actor":..., "stance":...}
    quote: str = ""
    span: tuple[int, int] = (0, 0)

    def to_json(self) -> dict:
        return {
            "conflict": self.conflict,
            "category": self.category,
            "proposer": self.proposer,
            "stance": self.stance,
            "precondition": self.precondition,
            "values": self.values,
            "responses": self.responses,
            "quote": self.quote,
            "span": list(self.span),
        }


@dataclass
class Extraction:
    relevant: bool
    conflicts: list[str]
    terms: list[Term]
    language: str | None = "en"


def parse_ts(text: str | None) -> datetime | None:
    """A stored ISO time (UTC unless it says otherwise); None for none."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def story_time(published_at: str | None, read_at: datetime) -> datetime:
    """The extractor's "now" for a story: when it was published, not when the watcher read
    it, so a 2022 story read in 2026 (a first poll of an old feed, a reprocess) still counts
    "the 2022 deal" as current. Unknown, unparseable or future dates fall back to ``read_at``."""
    try:
        moment = parse_ts(published_at.strip() if published_at else None)
    except ValueError:
        return read_at
    return read_at if moment is None else min(moment, read_at)


@dataclass
class SnapshotDraft:
    """A version of an article's text, not yet known to be new. Here, not in the store, so
    a pool worker that makes one does not import SQLite and sqlite-utils to send it back."""

    title: str
    text: str
    content_hash: str
    text_source: str  # page | feed
    language: str | None
    fetched_at: datetime
    note: str | None = None
    terms: list[Term] | None = None  # None: extraction did not run


# the kinds of a `changes` row (docs/database.md); config and the digest filters check against them
CHANGE_KINDS: tuple[str, ...] = ("new", "changed", "status", "withdrawn", "revised")
# digest channels: each is a module of watcher/digest/channels/ by this name; a channel
# whose name is also a config table ([email], [apprise]) needs that table
CHANNELS: tuple[str, ...] = ("console", "email", "apprise")


@dataclass
class FeedState:
    """A feed's fetch state after a poll, as the pipeline computed it."""

    url: str  # the URL to fetch next time (changed by a permanent redirect)
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    consecutive_errors: int
    next_poll_at: datetime
    last_status: int | None
    last_error: str | None
    disabled_reason: str | None = None
    title: str | None = None
    site_url: str | None = None
    success: bool = False
    baseline_backlog: bool | None = None  # None: leave as it is


@dataclass
class EntryRecord:
    entry: Entry
    relevance: Relevance
    snapshot: SnapshotDraft | None = None  # only for relevant entries whose text was read
    source: str | None = None  # the outlet (host of the article URL)
    too_costly: str | None = None  # reading it ran past cpu_timeout: why it is not re-checked


@dataclass
class PollRecord:
    feed_id: int
    started_at: datetime
    duration_ms: int
    outcome: str  # ok | not_modified | unchanged | malformed | rejected | error | rate_limited | blocked
    http_status: int | None
    bytes: int
    error: str | None
    state: FeedState
    entries: list[EntryRecord] = field(default_factory=list)
    entries_seen: int = 0
    note: str | None = None
    baseline: bool = False  # the feed's first successful poll: its terms are the starting point


@dataclass
class PollSummary:
    """What record_poll wrote, for the log line and tests."""

    entries_new: int = 0
    articles_new: int = 0
    snapshots_new: int = 0
    changes_new: int = 0


REJECTED = "rejected:"  # feeds.last_body_hash of a body that was not a feed: "rejected:<sha256>"
