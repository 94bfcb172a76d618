"""A digest in words: subject line, plain text, rich console text, Markdown, HTML, JSON.

Every format is built from the same :func:`describe` so they say the same thing. Values
that came from feeds and articles (titles, quotes, URLs, errors) are untrusted: HTML
escapes them and links only http(s) URLs; Markdown escapes its markup characters; the
console prints them as plain ``rich.text.Text``, never as markup.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass
from itertools import groupby
from urllib.parse import urlsplit

from watcher.digest.collect import ChangeItem, Digest
from watcher.ledger import values_text

FORMATS = ("text", "markdown", "html", "json")


# --- words ---------------------------------------------------------------------------------


def state_text(state: dict | None) -> str:
    """A term's state (stance, values, responses) in one line."""
    if not state:
        return "not reported"
    text = state.get("stance", "?") + (" (precondition)" if state.get("precondition") else "")
    values = values_text(state.get("values"))
    if values:
        text += f" — {values}"
    responses = state.get("responses") or []
    if responses:
        text += "; " + ", ".join(f"{r['actor']} {r['stance']}" for r in responses)
    return text


def _detail(item: ChangeItem) -> str:
    """The summary without its leading "proposer: "."""
    prefix = f"{item.proposer}: "
    return item.summary[len(prefix):] if item.summary.startswith(prefix) else item.summary


@dataclass
class Described:
    headline: str
    lines: list[str]  # before → after, new stance


def describe(item: ChangeItem) -> Described:
    before, after = item.before or {}, item.after or {}
    if item.kind == "new":
        return Described(f"new: {item.category}", [state_text(after)])
    if item.kind == "withdrawn":
        return Described(f"withdrawn: {item.category}", [f"was {state_text(before)}"] if before else [])
    if item.kind == "status":
        old, new = before.get("stance", "?"), after.get("stance", "?")
        lines = [f"now {new} (was {old})" if old != new else f"now {state_text(after)}"]
        return Described(f"status: {_detail(item)}", lines)
    lines = []
    if before:
        lines.append(f"before: {state_text(before)}")
    if after:
        lines.append(f"after: {state_text(after)}")
    return Described(f"{item.kind}: {_detail(item)}", lines)


def provenance(item: ChangeItem) -> str:
    bits = [item.source or "unknown source", f"seen {item.detected_at} UTC"]
    if item.source_count:
        bits.append(f"{item.source_count} outlet{'s' if item.source_count != 1 else ''} reported it")
    if item.version and item.version > 1:
        bits.append(f"article version {item.version}")
    return " · ".join(bits)


def _subject_token(item: ChangeItem) -> str:
    if item.kind == "new":
        return f"+{item.category}"
    if item.kind == "withdrawn":
        return f"−{item.category}"
    if item.kind == "status":
        old, new = (item.before or {}).get("stance"), (item.after or {}).get("stance")
        return f"{item.category} {new}" if new and old != new else _detail(item)
    if item.kind == "changed":
        return f"{item.category} {'widened' if ' widened:' in item.summary else 'changed'}"
    return f"{item.category} revised"


def subject(digest: Digest, prefix: str = "ceasefire watcher", limit: int = 200) -> str:
    """Says what changed: "ceasefire watcher: 4 term changes · russia-ukraine: russia +neutrality, …"."""
    parts = []
    n = len(digest.changes)
    label = prefix + (" alert" if digest.kind == "alert" else "")
    if n:
        parts.append(f"{n} term change{'s' if n != 1 else ''}")
    if digest.baseline_count:
        parts.append(f"{digest.baseline_count} terms on record")
    failing = sum(1 for f in digest.feeds if f.state == "failing")
    recovered = len(digest.feeds) - failing
    if failing:
        parts.append(f"{failing} feed{'s' if failing != 1 else ''} failing")
    if recovered:
        parts.append(f"{recovered} feed{'s' if recovered != 1 else ''} recovered")
    head = f"{label}: " + (", ".join(parts) or "nothing new")
    details = []
    for conflict, items in groupby(digest.changes, key=lambda c: c.conflict):
        per_proposer = []
        for proposer, mine in groupby(items, key=lambda c: c.proposer):
            tokens = list(dict.fromkeys(_subject_token(c) for c in mine))
            if len(tokens) > 4:
                tokens = tokens[:4] + [f"{len(tokens) - 4} more"]
            per_proposer.append(f"{proposer} " + ", ".join(tokens))
        details.append(f"{conflict}: " + "; ".join(per_proposer))
    text = " · ".join([head, *details])
    text = re.sub(r"\s+", " ", text)  # no header injection from a value with a newline
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _heading(digest: Digest) -> str:
    if digest.kind == "alert":
        return f"Alert — {digest.created_at} UTC"
    if digest.kind == "lookback":
        return f"Changes since {digest.since} — {digest.created_at} UTC"
    return f"Digest — {digest.created_at} UTC"


def _groups(digest: Digest):
    """(conflict, [(proposer, [items])]) in digest order."""
    for conflict, items in groupby(digest.changes, key=lambda c: c.conflict):
        yield conflict, [(p, list(mine)) for p, mine in groupby(items, key=lambda c: c.proposer)]


def baseline_line(conflict: str, proposer: str, categories: list[str], shown: int = 6) -> str:
    names = ", ".join(categories[:shown]) + (", …" if len(categories) > shown else "")
    n = len(categories)
    return f"{conflict} · {proposer}: {n} term{'s' if n != 1 else ''} on record — {names}"


def _feed_line(f) -> str:
    if f.state == "failing":
        return f"failing since {f.since} UTC ({f.errors} errors): {f.name} — {f.last_error or 'unknown error'}"
    return f"recovered: {f.name} (failing since {f.since} UTC)"


# --- plain text and console ------------------------------------------------------------------


@dataclass
class Line:
    text: str
    style: str = ""
    indent: int = 0


def lines(digest: Digest) -> list[Line]:
    """The digest as styled lines: plain text joins them, the console styles them."""
    out = [Line(_heading(digest), "bold")]
    if digest.empty:
        out.append(Line("Nothing new."))
    for conflict, proposers in _groups(digest):
        out.append(Line(""))
        out.append(Line(conflict, "bold underline"))
        for proposer, items in proposers:
            out.append(Line(proposer, "bold cyan", 2))
            for item in items:
                d = describe(item)
                out.append(Line("• " + d.headline, _KIND_STYLE.get(item.kind, ""), 4))
                out.extend(Line(text, "", 6) for text in d.lines)
                if item.quote:
                    out.append(Line(f"“{item.quote}”", "italic", 6))
                out.append(Line(provenance(item), "dim", 6))
                if item.title or item.url:
                    out.append(Line(" — ".join(x for x in (item.title, item.url) if x), "dim", 6))
                if item.diff:
                    out.append(Line("text changes:", "dim", 6))
                    for dl in item.diff.splitlines():
                        out.append(Line(dl, "green" if dl.startswith("+") else "red" if dl.startswith("-") else "dim", 8))
    if digest.baseline:
        out.append(Line(""))
        out.append(Line("On record from the first poll (baseline)", "bold"))
        out.extend(Line(baseline_line(b.conflict, b.proposer, b.categories), "", 2) for b in digest.baseline)
    if digest.feeds:
        out.append(Line(""))
        out.append(Line("Feeds", "bold"))
        out.extend(Line(_feed_line(f), "yellow" if f.state == "failing" else "green", 2) for f in digest.feeds)
    return out


_KIND_STYLE = {"new": "green", "withdrawn": "red", "status": "magenta", "changed": "yellow", "revised": "blue"}


def render_text(digest: Digest) -> str:
    return "\n".join(" " * ln.indent + ln.text for ln in lines(digest)) + "\n"


def print_console(digest: Digest, console=None) -> None:
    """Print with rich styles; values are Text, never parsed as markup."""
    from rich.console import Console
    from rich.text import Text

    console = console or Console(soft_wrap=True)
    for ln in lines(digest):
        console.print(Text(" " * ln.indent + ln.text, style=ln.style), highlight=False)


# --- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links: a feed could carry javascript: or data: URLs."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def render_markdown(digest: Digest) -> str:
    out = [f"# {md(_heading(digest))}", ""]
    if digest.empty:
        out.append("Nothing new.")
    for conflict, proposers in _groups(digest):
        out += [f"## {md(conflict)}", ""]
        for proposer, items in proposers:
            out += [f"### {md(proposer)}", ""]
            for item in items:
                d = describe(item)
                out.append(f"- **{md(d.headline)}**")
                out += [f"  {md(t)}" for t in d.lines]
                if item.quote:
                    out.append(f"  > {md(item.quote)}")
                out.append(f"  _{md(provenance(item))}_")
                url = safe_url(item.url)
                if url:
                    out.append(f"  [{md(item.title or url)}](<{url.replace('>', '%3E')}>)")
                elif item.title:
                    out.append(f"  {md(item.title)}")
                if item.diff:
                    out += ["", "  ```diff", *[f"  {dl.replace('```', '` ` `')}" for dl in item.diff.splitlines()], "  ```"]
            out.append("")
    if digest.baseline:
        out += ["## On record from the first poll (baseline)", ""]
        out += [f"- {md(baseline_line(b.conflict, b.proposer, b.categories))}" for b in digest.baseline]
        out.append("")
    if digest.feeds:
        out += ["## Feeds", ""]
        out += [f"- {md(_feed_line(f))}" for f in digest.feeds]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- HTML ----------------------------------------------------------------------------------------


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


_HTML_KIND_COLOUR = {"new": "#1a7f37", "withdrawn": "#cf222e", "status": "#8250df", "changed": "#9a6700", "revised": "#0969da"}


def render_html(digest: Digest, subject_line: str | None = None) -> str:
    """A self-contained HTML document, every value escaped (emails have no other defence)."""
    title = e(subject_line or _heading(digest))
    out = [
        "<!DOCTYPE html>",
        f'<html><head><meta charset="utf-8"><title>{title}</title></head>',
        '<body style="font-family:sans-serif;line-height:1.4;max-width:50em">',
        f"<h1 style=\"font-size:1.3em\">{e(_heading(digest))}</h1>",
    ]
    if digest.empty:
        out.append("<p>Nothing new.</p>")
    for conflict, proposers in _groups(digest):
        out.append(f"<h2 style=\"font-size:1.15em\">{e(conflict)}</h2>")
        for proposer, items in proposers:
            out.append(f"<h3 style=\"font-size:1em\">{e(proposer)}</h3><ul>")
            for item in items:
                d = describe(item)
                colour = _HTML_KIND_COLOUR.get(item.kind, "#000")
                out.append(f'<li style="margin-bottom:.8em"><strong style="color:{colour}">{e(d.headline)}</strong>')
                out += [f"<br>{e(t)}" for t in d.lines]
                if item.quote:
                    out.append(f'<blockquote style="margin:.3em 0 .3em 1em;color:#444">“{e(item.quote)}”</blockquote>')
                out.append(f'<br><small style="color:#666">{e(provenance(item))}</small>')
                url = safe_url(item.url)
                if url:
                    out.append(f'<br><a href="{e(url)}">{e(item.title or url)}</a>')
                elif item.title:
                    out.append(f"<br>{e(item.title)}")
                if item.diff:
                    out.append(f'<pre style="background:#f6f8fa;padding:.5em;white-space:pre-wrap">{e(item.diff)}</pre>')
                out.append("</li>")
            out.append("</ul>")
    if digest.baseline:
        out.append('<h2 style="font-size:1.15em">On record from the first poll (baseline)</h2><ul>')
        out += [f"<li>{e(baseline_line(b.conflict, b.proposer, b.categories))}</li>" for b in digest.baseline]
        out.append("</ul>")
    if digest.feeds:
        out.append('<h2 style="font-size:1.15em">Feeds</h2><ul>')
        out += [f"<li>{e(_feed_line(f))}</li>" for f in digest.feeds]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render_json(digest: Digest, subject_line: str | None = None) -> str:
    data = asdict(digest)
    data["subject"] = subject_line or subject(digest)
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def render(digest: Digest, fmt: str, subject_line: str | None = None) -> str:
    if fmt == "text":
        return render_text(digest)
    if fmt == "markdown":
        return render_markdown(digest)
    if fmt == "html":
        return render_html(digest, subject_line)
    if fmt == "json":
        return render_json(digest, subject_line)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
