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
from dataclasses import asdict, dataclass, field
from itertools import groupby
from urllib.parse import urlsplit

from watcher.digest.collect import ChangeItem, Digest
from watcher.ledger import values_text

FORMATS = ("text", "markdown", "html", "json")


# --- words ---------------------------------------------------------------------------------

# A state in words as segments: (text, is_new). Plain formats join the text; HTML marks
# what is new against the other side of the change.
Segments = list[tuple[str, bool]]


def _values_dict(values: object) -> dict:
    if isinstance(values, str):
        try:
            values = json.loads(values or "{}")
        except ValueError:
            return {}
    return values if isinstance(values, dict) else {}


def state_segments(state: dict | None, compare: dict | None = None) -> Segments:
    """A term's state (stance, values, responses) in one line; with ``compare`` (the other
    side of a change), the bits not in it are flagged new. Same words as :func:`state_text`."""
    if not state:
        return [("not reported", False)]
    diff = compare is not None  # only then is anything new
    other = compare or {}
    cv = _values_dict(other.get("values"))
    v = _values_dict(state.get("values"))
    stance = str(state.get("stance", "?"))
    out: Segments = [(stance, diff and other.get("stance") != stance)]
    if state.get("precondition"):
        out += [(" (", False), ("precondition", diff and not other.get("precondition")), (")", False)]
    groups: list[Segments] = []
    if v.get("party"):
        groups.append([(f"party {v['party']}", diff and cv.get("party") != v["party"])])
    if v.get("places"):
        known = set(cv.get("places") or [])
        groups.append(_joined([(str(p), diff and p not in known) for p in v["places"]]))
    if v.get("numbers"):
        def num(n: dict) -> str:
            return f"{n['value']} {n.get('unit') or ''}".strip()
        known = {num(n) for n in cv.get("numbers") or []}
        groups.append(_joined([(num(n), diff and num(n) not in known) for n in v["numbers"]]))
    if v.get("text"):
        groups.append([(str(v["text"]), diff and cv.get("text") != v["text"])])
    if groups:
        out.append((" — ", False))
        for i, group in enumerate(groups):
            out += ([("; ", False)] if i else []) + group
    responses = state.get("responses") or []
    if responses:
        known = {(r["actor"], r["stance"]) for r in other.get("responses") or []}
        out.append(("; ", False))
        out += _joined([(f"{r['actor']} {r['stance']}", diff and (r["actor"], r["stance"]) not in known)
                        for r in responses])
    return out


def _joined(items: list[tuple[str, bool]], sep: str = ", ") -> Segments:
    """Segments of `items` with an unmarked separator between them."""
    out: Segments = []
    for i, item in enumerate(items):
        if i:
            out.append((sep, False))
        out.append(item)
    return out


def _plain(segments: Segments) -> str:
    return "".join(text for text, _ in segments)


def _detail(item: ChangeItem) -> str:
    """The summary without its leading "proposer: "."""
    prefix = f"{item.proposer}: "
    return item.summary[len(prefix):] if item.summary.startswith(prefix) else item.summary


def _what(item: ChangeItem) -> str:
    """The summary without "proposer: category ": "widened: places +kharkiv"."""
    detail = _detail(item)
    prefix = f"{item.category} "
    return detail[len(prefix):] if detail.startswith(prefix) else detail


@dataclass
class Described:
    headline: str
    # the lines under the headline as (label, segments): ("before", …), ("after", …), ("was", …)
    # or ("", …) for a state alone; formats that can mark what is new use the segments
    parts: list[tuple[str, Segments]] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """The parts as plain text: "before: …", "after: …", "was …", or the state alone."""
        out = []
        for label, segments in self.parts:
            text = _plain(segments)
            out.append(f"{label} {text}" if label == "was" else f"{label}: {text}" if label else text)
        return out


def _status_segments(before: dict, after: dict) -> Segments:
    """A status change in words: the stance (changed or not), then what is new about it."""
    old, new = before.get("stance", "?"), after.get("stance", "?")
    out: Segments = [("now ", False), (new, True), (f" (was {old})", False)] if old != new else [(f"still {new}", False)]
    if after.get("precondition") and not before.get("precondition"):
        out += [("; ", False), ("now a precondition", True)]
    known = {(r["actor"], r["stance"]) for r in before.get("responses") or []}
    fresh = [f"{r['actor']} {r['stance']}" for r in after.get("responses") or []
             if (r["actor"], r["stance"]) not in known and r["stance"] != "reaffirmed"]
    if fresh:
        out.append((f"; new response{'s' if len(fresh) != 1 else ''}: ", False))
        out += _joined([(text, True) for text in fresh])
    values = values_text(after.get("values"))
    if values:
        out.append((f" — {values}", False))
    return out


def describe(item: ChangeItem) -> Described:
    before, after = item.before or {}, item.after or {}
    if item.kind == "new":
        return Described(f"new: {item.category}", [("", state_segments(after))])
    if item.kind == "withdrawn":
        return Described(f"withdrawn: {item.category}", [("was", state_segments(before))] if before else [])
    if item.kind == "status":
        return Described(f"status: {item.category} — {_what(item)}", [("", _status_segments(before, after))])
    parts = []
    if before:
        parts.append(("before", state_segments(before)))
    if after:
        parts.append(("after", state_segments(after, before if before else None)))
    return Described(f"{item.kind}: {_detail(item)}", parts)


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


# Within one term, the order a reader follows its story in.
_LIFECYCLE = ("new", "status", "changed", "revised", "withdrawn")


def _by_term(items: list[ChangeItem]) -> list[ChangeItem]:
    """Keep a proposer's items in digest order (most decisive first), but pull the changes
    to one term together, oldest first: "new troop_withdrawal", then "widened", then the
    article's revision, instead of the widening listed before the term appears."""
    order: dict[str, list[ChangeItem]] = {}
    for item in items:
        order.setdefault(item.category, []).append(item)
    life = {k: i for i, k in enumerate(_LIFECYCLE)}
    out = []
    for same in order.values():
        out += sorted(same, key=lambda c: (c.detected_at, life.get(c.kind, len(life))))
    return out


def _groups(digest: Digest):
    """(conflict, [(proposer, [items])]) in digest order."""
    for conflict, items in groupby(digest.changes, key=lambda c: c.conflict):
        yield conflict, [(p, _by_term(list(mine))) for p, mine in groupby(items, key=lambda c: c.proposer)]


BASELINE_HEADING = "Already on record (baseline)"
BASELINE_NOTE = ("Terms the stories already carried when their feeds were first polled: "
                 "the starting point changes are measured against, not news. "
                 "`watcher terms` lists them.")


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
        out.append(Line(BASELINE_HEADING, "bold"))
        out.append(Line(BASELINE_NOTE, "dim", 2))
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

    console = console or Console()
    for ln in lines(digest):
        # wrap each line to the terminal so it continues under its own indent instead of
        # at column 0 (a quote or a title is often wider than the terminal)
        width = max(console.width - ln.indent, 20)
        for part in Text(ln.text, style=ln.style).wrap(console, width) or [Text("")]:
            part.rstrip()
            console.print(Text(" " * ln.indent) + part, highlight=False, soft_wrap=True)


# --- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links: a feed could carry javascript: or data: URLs."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/x": a malformed address is no link
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
        out += [f"## {md(BASELINE_HEADING)}", "", f"_{md(BASELINE_NOTE)}_", ""]
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
_HTML_KIND_LABEL = {"new": "new term", "withdrawn": "withdrawn", "status": "status", "changed": "changed", "revised": "article edited"}

_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif"
_MUTED = "#57606a"
_NEW_MARK = "background:#dafbe1;color:#116329;font-weight:600;padding:0 2px;border-radius:2px"


def _segments_html(segments: Segments) -> str:
    """Segments escaped, the new ones marked (and bold, for a reader without colour)."""
    return "".join(f'<b style="{_NEW_MARK}">{e(t)}</b>' if new else e(t) for t, new in segments)


def _category(category: str) -> str:
    return category.replace("_", " ")


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def _word_diff_html(old: str, new: str) -> str:
    """One edited line as the new text with deletions struck and insertions marked."""
    import difflib

    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    ops = []
    for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        # a word or two left "equal" between two edits reads as noise ("Kherson, Zaporozhye
        # and ~~Zaporozhye~~ Kharkiv"): fold it into one replaced phrase
        if ops and op[0] != "equal" and len(ops) >= 2 and ops[-1][0] == "equal" and ops[-2][0] != "equal" \
                and ops[-1][2] - ops[-1][1] <= 3:
            ops.pop()
            prev = ops.pop()
            op = ("replace", prev[1], op[2], prev[3], op[4])
        elif ops and op[0] != "equal" and ops[-1][0] != "equal":
            prev = ops.pop()
            op = ("replace", prev[1], op[2], prev[3], op[4])
        ops.append(op)
    out = []
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            out.append(e("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f'<del style="background:#ffebe9;color:#82071e">{e("".join(a[i1:i2]))}</del>')
        if j2 > j1:
            out.append(f'<ins style="{_NEW_MARK};text-decoration:none">{e("".join(b[j1:j2]))}</ins>')
    return "".join(out)


def _diff_html(diff: str) -> str:
    """A trimmed diff as edited sentences: pairs of -/+ lines shown word by word."""
    lines_ = diff.splitlines()
    out, i = [], 0
    row = '<div style="margin:0 0 4px">{}</div>'
    while i < len(lines_):
        if not lines_[i].startswith(("-", "+")):
            out.append(row.format(f'<span style="color:{_MUTED}">{e(lines_[i])}</span>'))
            i += 1
            continue
        minus, plus = [], []
        while i < len(lines_) and lines_[i].startswith("-"):
            minus.append(lines_[i][1:])
            i += 1
        while i < len(lines_) and lines_[i].startswith("+"):
            plus.append(lines_[i][1:])
            i += 1
        for k in range(max(len(minus), len(plus))):
            if k < len(minus) and k < len(plus):
                out.append(row.format(_word_diff_html(minus[k], plus[k])))
            elif k < len(minus):
                out.append(row.format(f'<del style="background:#ffebe9;color:#82071e">{e(minus[k])}</del>'))
            else:
                out.append(row.format(f'<ins style="{_NEW_MARK};text-decoration:none">{e(plus[k])}</ins>'))
    return "".join(out)


def _summary_line(digest: Digest) -> str:
    n = len(digest.changes)
    conflicts = list(dict.fromkeys(c.conflict for c in digest.changes))
    bits = []
    if n:
        bits.append(f"{n} term change{'s' if n != 1 else ''} in {len(conflicts)} conflict{'s' if len(conflicts) != 1 else ''}")
    if digest.baseline_count:
        bits.append(f"{digest.baseline_count} term{'s' if digest.baseline_count != 1 else ''} already on record (baseline)")
    failing = sum(1 for f in digest.feeds if f.state == "failing")
    if failing:
        bits.append(f"{failing} feed{'s' if failing != 1 else ''} failing")
    if len(digest.feeds) - failing:
        bits.append(f"{len(digest.feeds) - failing} feed{'s' if len(digest.feeds) - failing != 1 else ''} recovered")
    bits.append("times in UTC")
    return " · ".join(bits)


def _counts_by_kind(items: list[ChangeItem]) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    words = {"new": ("new term", "new terms"), "status": ("status change", "status changes"),
             "withdrawn": ("withdrawal", "withdrawals"), "changed": ("changed", "changed"),
             "revised": ("article edit", "article edits")}
    total = len(items)
    return f"{total} change{'s' if total != 1 else ''}: " + ", ".join(
        f"{n} {words.get(k, (k, k))[n != 1]}" for k, n in counts.items())


def _item_html(item: ChangeItem) -> list[str]:
    d = describe(item)
    colour = _HTML_KIND_COLOUR.get(item.kind, "#1f2328")
    label = _HTML_KIND_LABEL.get(item.kind, item.kind)
    what = "" if item.kind in ("new", "withdrawn") else _what(item)
    if item.kind == "revised" and what.startswith("revised in the article"):
        what = what[len("revised in the article"):].lstrip(": ")
    out = [f'<div style="margin:0 0 18px;padding:2px 0 2px 12px;border-left:4px solid {colour}">']
    head = (f'<span style="display:inline-block;font-size:11px;font-weight:bold;text-transform:uppercase;'
            f'letter-spacing:.04em;color:#ffffff;background:{colour};border-radius:3px;padding:1px 6px;'
            f'vertical-align:2px">{e(label)}</span> '
            f'<strong style="font-size:16px">{e(_category(item.category))}</strong>')
    if what:
        head += f' <span style="color:{colour};font-weight:600">{e(what)}</span>'
    out.append(f'<div style="margin:0 0 4px">{head}</div>')
    if any(label_ for label_, _ in d.parts):
        out.append('<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
                   'style="border-collapse:collapse;margin:2px 0 6px;font-size:14px">')
        for label_, segs in d.parts:
            out.append(f'<tr><td style="color:{_MUTED};padding:1px 10px 1px 0;vertical-align:top;white-space:nowrap">'
                       f'{e(label_)}</td><td style="padding:1px 0">{_segments_html(segs)}</td></tr>')
        out.append("</table>")
    else:
        out += [f'<div style="margin:0 0 6px;font-size:14px">{_segments_html(segs)}</div>' for _, segs in d.parts]
    if item.quote:
        out.append(f'<blockquote style="margin:6px 0;padding:0 0 0 10px;border-left:3px solid #d0d7de;'
                   f'color:#424a53;font-family:Georgia,\'Times New Roman\',serif;font-size:15px">“{e(item.quote)}”</blockquote>')
    if item.diff:
        out.append(f'<div style="margin:6px 0;padding:6px 8px;background:#f6f8fa;border-radius:4px;font-size:13px">'
                   f'<div style="color:{_MUTED};font-size:12px;margin:0 0 4px">What the edit changed in the text</div>'
                   f'{_diff_html(item.diff)}</div>')
    url = safe_url(item.url)
    if url:
        link = f'<a href="{e(url)}" style="color:#0969da">{e(item.title or url)}</a>'
    else:
        link = e(item.title) if item.title else ""
    meta = f'<div style="font-size:12px;color:{_MUTED}">{e(provenance(item))}</div>'
    if link:
        out.append(f'<div style="font-size:13px;margin:4px 0 0">{link}</div>')
    out.append(meta)
    out.append("</div>")
    return out


def render_html(digest: Digest, subject_line: str | None = None) -> str:
    """A self-contained HTML email, every value escaped (emails have no other defence).

    Inline styles only and a 640px table layout: mail clients drop <style> blocks and
    ignore max-width on divs; nothing depends on images or colour alone."""
    title = e(subject_line or _heading(digest))
    text = f"font-family:{_FONT};font-size:15px;line-height:1.45;color:#1f2328"
    h2 = "margin:26px 0 10px;padding:0 0 4px;font-size:19px;border-bottom:2px solid #1f2328"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title></head>",
        '<body style="margin:0;padding:0;background:#f6f8fa">',
        f'<div style="display:none;max-height:0;overflow:hidden">{e(_summary_line(digest))}</div>',
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f6f8fa">'
        '<tr><td align="center" style="padding:16px 8px">',
        '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" '
        'style="width:100%;max-width:640px;background:#ffffff;border:1px solid #d0d7de;border-radius:6px">',
        f'<tr><td style="padding:20px 24px;{text}">',
        f'<div style="font-size:12px;color:{_MUTED};text-transform:uppercase;letter-spacing:.06em">ceasefire watcher</div>',
        f'<h1 style="margin:2px 0 4px;font-size:22px">{e(_heading(digest))}</h1>',
        f'<div style="color:{_MUTED};font-size:14px">{e(_summary_line(digest))}</div>',
    ]
    if digest.empty:
        out.append("<p>Nothing new.</p>")
    for conflict, proposers in _groups(digest):
        out.append(f'<h2 style="{h2}">{e(conflict)}</h2>')
        for proposer, items in proposers:
            out.append(f'<h3 style="margin:16px 0 10px;font-size:15px;color:#1f2328">{e(proposer)}'
                       f'<span style="font-weight:normal;color:{_MUTED};font-size:13px"> — '
                       f'{e(_counts_by_kind(items))}</span></h3>')
            for item in items:
                out += _item_html(item)
    if digest.baseline:
        out.append(f'<h2 style="{h2}">{e(BASELINE_HEADING)}</h2>')
        note = e(BASELINE_NOTE).replace("`watcher terms`", "<code>watcher terms</code>")
        out.append(f'<p style="margin:0 0 8px;color:{_MUTED};font-size:13px">{note}</p><ul style="margin:0;padding-left:20px">')
        out += [f"<li>{e(baseline_line(b.conflict, b.proposer, [_category(c) for c in b.categories]))}</li>"
                for b in digest.baseline]
        out.append("</ul>")
    if digest.feeds:
        out.append(f'<h2 style="{h2}">Feeds</h2><ul style="margin:0;padding-left:20px">')
        out += [f'<li style="color:{"#9a6700" if f.state == "failing" else "#1a7f37"}">{e(_feed_line(f))}</li>'
                for f in digest.feeds]
        out.append("</ul>")
    out.append(f'<p style="margin:24px 0 0;padding:10px 0 0;border-top:1px solid #d0d7de;font-size:12px;color:{_MUTED}">'
               "Terms are read from news text by machine: check the quote and the article before citing. "
               "All times UTC.</p>")
    out.append("</td></tr></table></td></tr></table></body></html>")
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
