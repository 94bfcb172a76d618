"""Load and validate ``config.toml`` into typed settings.

Every mistake becomes one :class:`ConfigError` that names the key, the bad value and what
was expected, so ``watcher`` can print it and exit 2 before anything runs. Unknown keys are
errors too (a misspelt ``intreval`` would otherwise be silently ignored), with a
did-you-mean suggestion.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.errors import WatcherError
from watcher.models import CHANGE_KINDS, CHANNELS, Topic

DEFAULT_CONFIG_NAME = "config.toml"


class ConfigError(WatcherError):
    """A config problem, phrased for the user: where, what, and what was expected."""

    exit_code = 2

    def __init__(self, message: str, path: Path | None = None) -> None:
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + message)


# --- durations ---------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.I)
MAX_DURATION = 3650 * 86400.0  # ten years: beyond it a date computed from it cannot be held
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds from "90s", "15m", "2h", "1d", "1h30m", or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration like 90s, 15m, 2h or 1d")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value <= 0:
            raise ValueError("a positive duration")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration like 90s, 15m, 2h or 1d")
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        pos = match.end()
    if not text or pos != len(text) or total <= 0:
        raise ValueError("a duration like 90s, 15m, 2h or 1d")
    return total


def format_duration(seconds: float) -> str:
    """The inverse of parse_duration for display: 900 -> "15m", 5400 -> "1h30m"."""
    seconds = int(round(seconds))
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


# --- typed settings ----------------------------------------------------------------------


@dataclass
class WatcherSettings:
    database: Path
    interval: float = 900.0
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    user_agent: str = "ceasefire-watcher/0.1 (+https://example.org/contact)"
    fetch_articles: bool = True
    allow_private: bool = False
    max_redirects: int = 10
    max_backoff: float = 86400.0
    recheck_articles_for: float = 7 * 86400.0
    workers: int = 0  # processes for parsing and extraction; 0 = cores - 1 (in-process on one core)
    max_articles_per_poll: int = 50  # article pages read per poll of one feed; the rest wait
    cpu_timeout: float = 120.0  # one parse or article read in a worker; past it the pool restarts
    relevance_model: bool = True  # the learned feed-stage filter, for topics that use it
    log_level: str = "INFO"


@dataclass
class FeedConfig:
    url: str
    name: str | None = None
    interval: float | None = None  # None: the [watcher] default
    topics: list[str] | None = None  # None: every topic
    enabled: bool = True


@dataclass
class DigestSettings:
    channels: list[str] = field(default_factory=lambda: ["console"])
    schedule: str = "0 7 * * *"
    timezone: str = "UTC"
    schedules: dict[str, str] = field(default_factory=dict)  # per-channel cron override
    baseline_summary: bool = True  # the first poll's terms summarised, not listed as new
    alert_kinds: list[str] = field(default_factory=list)  # "status:accepted", "new", ...
    max_changes: int = 500
    retry_max: int = 10


@dataclass
class EmailSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None
    from_addr: str = "watcher@localhost"
    to: list[str] = field(default_factory=list)
    timeout: float = 30.0
    subject_prefix: str = "ceasefire watcher"

    def password(self) -> str | None:
        """Read from the environment at send time; never stored on disk or logged."""
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass
class AppriseSettings:
    urls: list[str] = field(default_factory=list)


@dataclass
class SubscriptionSettings:
    """One ``[[subscriptions]]`` entry: who gets which changes, on which schedule."""

    name: str
    email: list[str] = field(default_factory=list)  # recipients; the server is [email]'s
    apprise: list[str] = field(default_factory=list)  # Apprise URLs, each its own recipient
    console: bool = False
    conflicts: list[str] = field(default_factory=list)  # empty: any
    proposers: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # "new", "status:accepted", ...
    min_outlets: int = 1
    schedule: str = "0 7 * * *"  # digest.schedule unless set
    timezone: str = "UTC"  # digest.timezone unless set
    alert_kinds: list[str] = field(default_factory=list)  # digest.alert_kinds unless set


@dataclass
class Config:
    path: Path | None
    watcher: WatcherSettings
    topics: dict[str, Topic]
    feeds: list[FeedConfig]
    digest: DigestSettings
    email: EmailSettings | None = None
    apprise: AppriseSettings | None = None
    extension: dict[str, Any] = field(default_factory=dict)  # [gazetteer] and [triggers]
    subscriptions: list[SubscriptionSettings] = field(default_factory=list)  # [[subscriptions]]

    def topics_for(self, feed: FeedConfig) -> list[Topic]:
        if feed.topics is None:
            return list(self.topics.values())
        return [self.topics[name] for name in feed.topics]


# --- validation helpers ------------------------------------------------------------------


class _Checker:
    """Reads one table, checking each key's type, and reports leftovers as unknown keys."""

    def __init__(self, table: Any, where: str, path: Path | None) -> None:
        self.where = where
        self.path = path
        if not isinstance(table, dict):
            self.fail(where, table, "a table")
        self.table = dict(table)
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, key: str, value: Any, expected: str) -> None:
        raise ConfigError(f"{key} = {_show(value)}: expected {expected}", self.path)

    def get(self, name: str, kind: str, default: Any = None, *, required: bool = False) -> Any:
        self.seen.add(name)
        if name not in self.table:
            if required:
                raise ConfigError(f"{self.key(name)} is missing: expected {kind}", self.path)
            return default
        value = self.table[name]
        return _coerce(value, kind, self.key(name), self.path)

    def done(self, known: list[str] | None = None) -> None:
        known = known if known is not None else sorted(self.seen)
        for name in self.table:
            if name not in self.seen:
                raise ConfigError(_unknown(self.key(name), name, known), self.path)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _unknown(key: str, name: str, known: list[str]) -> str:
    message = f"unknown key {key}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        message += f": did you mean {close[0]!r}?"
    elif known:
        message += f" (known keys: {', '.join(known)})"
    return message


def _coerce(value: Any, kind: str, key: str, path: Path | None) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{key} = {_show(value)}: expected {expected}", path)

    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise bad("a non-empty string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in ("int", "posint"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        if kind == "posint" and value < 1:
            raise bad("a whole number of at least 1")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise bad("a finite number")
        return float(value)
    if kind == "port":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise bad("a port number from 1 to 65535")
        return value
    if kind in ("duration", "interval"):
        try:
            seconds = parse_duration(value)
        except ValueError as err:
            raise bad(str(err)) from None
        if kind == "interval" and seconds < 1:
            raise bad("a poll interval of at least 1s")
        if seconds > MAX_DURATION:
            raise bad(f"a duration of at most {format_duration(MAX_DURATION)}")
        return seconds
    if kind == "strlist":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad("a list of strings")
        return list(value)
    if kind == "url":
        problem = url_problem(value)
        if problem:
            raise bad(f"an http:// or https:// URL ({problem})")
        return value
    raise AssertionError(kind)


def url_problem(value: Any) -> str | None:
    """What keeps ``value`` from being a fetchable http(s) URL, or None."""
    if not isinstance(value, str):
        return "not a string"
    if value != value.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as err:  # an unclosed IPv6 bracket, a port out of range
        return str(err)
    if parts.scheme.lower() not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "no host"
    if port == 0:
        return "port 0"
    return None


def feed_key(url: str) -> str:
    """One spelling per feed, to find the same feed written twice (case, default port,
    tracking parameters, fragment): the pipeline's canonical URL."""
    from watcher.feeds.urls import canonical_url

    return canonical_url(url)


def _no_controls(value: str, key: str, path: Path | None) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{key} = {_show(value)}: expected no control characters (CR, LF, ...)", path)


# --- sections ----------------------------------------------------------------------------

_TOP_LEVEL = ["watcher", "topics", "feeds", "digest", "email", "apprise", "gazetteer", "triggers",
              "subscriptions"]


def _load_watcher(raw: Any, base: Path, path: Path | None) -> WatcherSettings:
    c = _Checker(raw if raw is not None else {}, "watcher", path)
    database = Path(c.get("database", "str", "watcher.db")).expanduser()
    if not database.is_absolute():
        database = base / database
    level = c.get("log_level", "str", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        c.fail("watcher.log_level", level, "one of DEBUG, INFO, WARNING, ERROR")
    settings = WatcherSettings(
        database=database,
        interval=c.get("interval", "interval", 900.0),
        concurrency=c.get("concurrency", "posint", 16),
        per_host=c.get("per_host", "posint", 2),
        timeout=c.get("timeout", "duration", 20.0),
        max_bytes=c.get("max_bytes", "posint", 10_000_000),
        user_agent=c.get("user_agent", "str", WatcherSettings.user_agent),
        fetch_articles=c.get("fetch_articles", "bool", True),
        allow_private=c.get("allow_private", "bool", False),
        max_redirects=c.get("max_redirects", "int", 10),
        max_backoff=c.get("max_backoff", "duration", 86400.0),
        recheck_articles_for=c.get("recheck_articles_for", "duration", 7 * 86400.0),
        workers=c.get("workers", "int", 0),
        max_articles_per_poll=c.get("max_articles_per_poll", "posint", 50),
        cpu_timeout=c.get("cpu_timeout", "duration", 120.0),
        relevance_model=c.get("relevance_model", "bool", True),
        log_level=level,
    )
    c.done()
    if settings.max_redirects < 0:
        c.fail("watcher.max_redirects", settings.max_redirects, "0 or more")
    if settings.workers < 0:
        c.fail("watcher.workers", settings.workers, "0 (one per core) or more")
    return settings


def _load_topics(raw: Any, path: Path | None) -> dict[str, Topic]:
    if raw is None:
        from watcher.relevance import default_topic

        return {"ceasefire": default_topic()}
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"topics = {_show(raw)}: expected tables like [topics.ceasefire]", path)
    topics = {}
    for name, table in raw.items():
        c = _Checker(table, f"topics.{name}", path)
        include = c.get("include", "strlist", required=True)
        if not include:
            c.fail(f"topics.{name}.include", include, "at least one phrase")
        topics[name] = Topic(
            name=name,
            include=include,
            exclude=c.get("exclude", "strlist", []),
            min_score=c.get("min_score", "number", 1.0),
            model=c.get("model", "bool", False),
        )
        c.done()
    return topics


def _load_feeds(raw: Any, topics: dict[str, Topic], path: Path | None) -> list[FeedConfig]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"feeds = {_show(raw)}: expected [[feeds]] entries", path)
    feeds, seen = [], {}
    for i, table in enumerate(raw):
        where = f"feeds[{i}]"
        c = _Checker(table, where, path)
        feed = FeedConfig(
            url=c.get("url", "url", required=True),
            name=c.get("name", "str"),
            interval=c.get("interval", "interval"),
            topics=c.get("topics", "strlist"),
            enabled=c.get("enabled", "bool", True),
        )
        c.done()
        for topic in feed.topics or []:
            if topic not in topics:
                close = difflib.get_close_matches(topic, list(topics), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"{where}.topics: {topic!r} is not a topic; expected one of "
                    f"{', '.join(sorted(topics))}{hint}",
                    path,
                )
        key = feed_key(feed.url)
        if key in seen:
            raise ConfigError(f"{where}.url = {feed.url!r}: the same feed as feeds[{seen[key]}]", path)
        seen[key] = i
        feeds.append(feed)
    return feeds


def _check_cron(expr: str, key: str, timezone: str, path: Path | None) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr, timezone=timezone)
    except ValueError as err:
        raise ConfigError(
            f"{key} = {expr!r}: expected a cron expression like '0 7 * * *' ({err})", path
        ) from None


def _load_digest(raw: Any, path: Path | None) -> DigestSettings:
    c = _Checker(raw if raw is not None else {}, "digest", path)
    settings = DigestSettings(
        channels=c.get("channels", "strlist", ["console"]),
        schedule=c.get("schedule", "str", "0 7 * * *"),
        timezone=c.get("timezone", "str", "UTC"),
        baseline_summary=c.get("baseline_summary", "bool", True),
        alert_kinds=c.get("alert_kinds", "strlist", []),
        max_changes=c.get("max_changes", "posint", 500),
        retry_max=c.get("retry_max", "posint", 10),
    )
    schedules = c.table.get("schedules", {})
    c.seen.add("schedules")
    c.done()
    for channel in settings.channels:
        if channel not in CHANNELS:
            c.fail("digest.channels", settings.channels, f"channels among {', '.join(CHANNELS)}")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.timezone)
    except Exception:
        c.fail("digest.timezone", settings.timezone, "an IANA time zone such as 'Europe/London'")
    _check_cron(settings.schedule, "digest.schedule", settings.timezone, path)
    sc = _Checker(schedules, "digest.schedules", path)
    for channel in CHANNELS:
        expr = sc.get(channel, "str")
        if expr:
            _check_cron(expr, f"digest.schedules.{channel}", settings.timezone, path)
            settings.schedules[channel] = expr
    sc.done(list(CHANNELS))
    from watcher.ledger import STANCE_CLASS

    stances = sorted(set(STANCE_CLASS) | set(STANCE_CLASS.values()))
    for kind in settings.alert_kinds:
        base, colon, stance = kind.partition(":")
        if base not in CHANGE_KINDS:
            close = difflib.get_close_matches(base, CHANGE_KINDS, n=1)
            hint = f"; did you mean {close[0] + colon + stance!r}?" if close else ""
            c.fail(
                "digest.alert_kinds",
                kind,
                f"change kinds among {', '.join(CHANGE_KINDS)}, optionally with :stance "
                f"(e.g. 'status:accepted'){hint}",
            )
        if colon and stance not in stances:
            close = difflib.get_close_matches(stance, stances, n=1)
            hint = f"; did you mean {base + ':' + close[0]!r}?" if close else ""
            c.fail("digest.alert_kinds", kind, f"a stance or stance class after ':' among {', '.join(stances)}{hint}")
    return settings


_BARE_ADDRESS = re.compile(r"[^\s@<>(),;:\"\[\]\\\x00-\x1f\x7f]+@[^\s@<>(),;:\"\[\]\\\x00-\x1f\x7f]+")


def _load_email(raw: Any, path: Path | None) -> EmailSettings | None:
    if raw is None:
        return None
    c = _Checker(raw, "email", path)
    security = c.get("security", "str", "starttls")
    if security not in ("starttls", "tls", "none"):
        c.fail("email.security", security, "one of starttls, tls, none")
    if "password" in c.table:
        raise ConfigError(
            "email.password: the password must not sit in the file; set password_env to the "
            "name of an environment variable that holds it",
            path,
        )
    settings = EmailSettings(
        host=c.get("host", "str", required=True),
        port=c.get("port", "port", 465 if security == "tls" else 587),
        security=security,
        username=c.get("username", "str"),
        password_env=c.get("password_env", "str"),
        from_addr=c.get("from", "str", required=True),
        to=c.get("to", "strlist", required=True),
        timeout=c.get("timeout", "duration", 30.0),
        subject_prefix=c.get("subject_prefix", "str", "ceasefire watcher"),
    )
    c.done()
    if not settings.to:
        c.fail("email.to", settings.to, "at least one address")
    for key, value in (("email.host", settings.host), ("email.from", settings.from_addr),
                       ("email.subject_prefix", settings.subject_prefix)):
        _no_controls(value, key, path)  # a CR/LF would split a header or an SMTP command
    if "@" not in settings.from_addr:
        c.fail("email.from", settings.from_addr, "an email address")
    for addr in settings.to:
        if not _BARE_ADDRESS.fullmatch(addr):
            c.fail("email.to", addr, "a bare email address like desk@example.org (no name, spaces or "
                   "control characters)")
    return settings


def _load_apprise(raw: Any, path: Path | None) -> AppriseSettings | None:
    if raw is None:
        return None
    c = _Checker(raw, "apprise", path)
    settings = AppriseSettings(urls=c.get("urls", "strlist", required=True))
    c.done()
    return settings


_SUBSCRIPTION_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _load_subscriptions(raw: Any, digest: DigestSettings, email: EmailSettings | None,
                        extension: dict[str, Any], path: Path | None) -> list[SubscriptionSettings]:
    """``[[subscriptions]]``: filters checked against the gazetteer's ids (did-you-mean)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"subscriptions = {_show(raw)}: expected [[subscriptions]] entries", path)
    from watcher.digest.filters import check_values, known_ids

    known = known_ids(extension)
    subs: list[SubscriptionSettings] = []
    for i, table in enumerate(raw):
        where = f"subscriptions[{i}]"
        c = _Checker(table, where, path)
        name = c.get("name", "str", required=True)
        sub = SubscriptionSettings(
            name=name,
            email=c.get("email", "strlist", []),
            apprise=c.get("apprise", "strlist", []),
            console=c.get("console", "bool", False),
            conflicts=c.get("conflicts", "strlist", []),
            proposers=c.get("proposers", "strlist", []),
            categories=c.get("categories", "strlist", []),
            kinds=c.get("kinds", "strlist", []),
            min_outlets=c.get("min_outlets", "posint", 1),
            schedule=c.get("schedule", "str", digest.schedule),
            timezone=c.get("timezone", "str", digest.timezone),
            alert_kinds=c.get("alert_kinds", "strlist", list(digest.alert_kinds)),
        )
        c.done()
        if not _SUBSCRIPTION_NAME.fullmatch(name):
            c.fail(f"{where}.name", name, "lowercase words joined by hyphens, like 'sudan-desk'")
        if any(s.name == name for s in subs):
            c.fail(f"{where}.name", name, "a name no other subscription has")
        if not (sub.email or sub.apprise or sub.console):
            raise ConfigError(f"{where} ({name}) has no recipients: expected email = [...], "
                              "apprise = [...] or console = true", path)
        if sub.email and email is None:
            raise ConfigError(f"{where}.email: sending email needs an [email] table (the server)", path)
        for addr in sub.email:  # as email.to: a CR/LF would split the RCPT command or the lane key
            if not _BARE_ADDRESS.fullmatch(addr):
                c.fail(f"{where}.email", addr, "a bare email address like desk@example.org (no name, spaces or "
                       "control characters)")
        for key in ("conflicts", "proposers", "categories", "kinds", "alert_kinds"):
            problem = check_values("kinds" if key == "alert_kinds" else key, getattr(sub, key), known)
            if problem:
                raise ConfigError(f"{where}.{key}: {problem}", path)
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(sub.timezone)
        except Exception:
            c.fail(f"{where}.timezone", sub.timezone, "an IANA time zone such as 'Europe/London'")
        _check_cron(sub.schedule, f"{where}.schedule", sub.timezone, path)
        subs.append(sub)
    return subs


def _load_extension(gazetteer: Any, triggers: Any, path: Path | None) -> dict[str, Any]:
    """User additions to the term gazetteer and trigger phrases, checked for shape only."""
    ext: dict[str, Any] = {}
    if gazetteer is not None:
        g = _Checker(gazetteer, "gazetteer", path)
        shapes = {
            "conflicts": {"names": "strlist", "parties": "strlist"},
            "actors": {"names": "strlist", "conflicts": "strlist"},
            "places": {"names": "strlist", "conflict": "str"},
        }
        out: dict[str, Any] = {}
        for section, keys in shapes.items():
            entries = g.table.get(section, {})
            g.seen.add(section)
            if not isinstance(entries, dict):
                g.fail(f"gazetteer.{section}", entries, f"tables like [gazetteer.{section}.some-id]")
            for ident, table in entries.items():
                if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", ident):
                    raise ConfigError(
                        f"gazetteer.{section}.{ident}: expected an id in lowercase words joined "
                        "by hyphens, like 'nagorno-karabakh'",
                        path,
                    )
                c = _Checker(table, f"gazetteer.{section}.{ident}", path)
                entry = {k: c.get(k, kind, required=(k == "names")) for k, kind in keys.items()}
                c.done(list(keys))
                out.setdefault(section, {})[ident] = {k: v for k, v in entry.items() if v is not None}
        g.done(list(shapes))
        ext["gazetteer"] = out
    if triggers is not None:
        from watcher.terms.vocabulary import CATEGORIES

        t = _Checker(triggers, "triggers", path)
        for category in list(t.table):
            if category not in CATEGORIES:
                raise ConfigError(_unknown(f"triggers.{category}", category, list(CATEGORIES)), path)
            t.get(category, "strlist")
        ext["triggers"] = {k: list(v) for k, v in t.table.items()}
    return ext


# --- entry points ------------------------------------------------------------------------


def parse_config(data: dict[str, Any], *, base: Path, path: Path | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    for name in data:
        if name not in _TOP_LEVEL:
            raise ConfigError(_unknown(name, name, _TOP_LEVEL), path)
    watcher = _load_watcher(data.get("watcher"), base, path)
    topics = _load_topics(data.get("topics"), path)
    if not watcher.relevance_model:  # the switch: topic rules alone, for every topic
        topics = {n: replace(t, model=False) for n, t in topics.items()}
    feeds = _load_feeds(data.get("feeds"), topics, path)
    digest = _load_digest(data.get("digest"), path)
    email = _load_email(data.get("email"), path)
    apprise = _load_apprise(data.get("apprise"), path)
    tables = {"email": email, "apprise": apprise}  # a channel named as a table needs it
    for name in digest.channels:
        if name in tables and tables[name] is None:
            raise ConfigError(f"digest.channels includes {name!r} but there is no [{name}] table", path)
    extension = _load_extension(data.get("gazetteer"), data.get("triggers"), path)
    subscriptions = _load_subscriptions(data.get("subscriptions"), digest, email, extension, path)
    return Config(path, watcher, topics, feeds, digest, email, apprise, extension, subscriptions)


def default_config_path() -> Path:
    return Path(os.environ.get("WATCHER_CONFIG") or DEFAULT_CONFIG_NAME)


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate a config file; raises ConfigError with a message for the user."""
    path = Path(path) if path is not None else default_config_path()
    return parse_config(_read_toml(path), base=path.resolve().parent, path=path)


def load_extension(path: Path | str | None = None) -> dict[str, Any]:
    """Only the file's gazetteer and trigger additions ([gazetteer], [triggers]), validated as
    load_config validates them: what `watcher extract` and `watcher vocabulary` use. The rest
    of the file is not checked here (the schedules' cron check alone imports the scheduler,
    ~0.08 s of a command that should start near Python's own start-up)."""
    path = Path(path) if path is not None else default_config_path()
    data = _read_toml(path)
    return _load_extension(data.get("gazetteer"), data.get("triggers"), path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", path) from None
    return data
