"""The timeline as one self-contained HTML page: inline CSS and SVG, no script, no fonts or
images fetched, so it opens offline, on a phone, and prints.

Per category, a swimlane per holder (the agreement's lane first) across the reports in
the order they were published (as `watcher history` orders them): a bar coloured by the
term's stance as it stood, a dot per report, a lettered mark per change labelled with what
changed. A mark's tooltip (SVG ``<title>``) has before → after, the quote, the outlet and
the link; clicking it jumps to its row in the table below. Everything that came from a
feed is escaped, and only http(s) links are kept.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from watcher.digest.render import safe_url
from watcher.models import CHANGE_KINDS
from watcher.report.timeline import CategoryTimeline, ChangeMark, Report, State, Timeline, Track
from watcher.safetext import printable

# Colours of a stance's class (watcher.ledger.STANCE_CLASS), and of change kinds.
STANCE_COLOURS = {
    "held": "#2f6db5",
    "under_discussion": "#b7791f",
    "accepted": "#2f855a",
    "in_effect": "#1c5d3d",
    "rejected": "#c53030",
    "withdrawn": "#8a94a3",
    "violated": "#dd6b20",
}
STANCE_WORDS = {
    "held": "proposed / demanded",
    "under_discussion": "under discussion",
    "accepted": "accepted",
    "in_effect": "in effect",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
    "violated": "violated",
}
KIND_LETTERS = {kind: kind[0].upper() for kind in CHANGE_KINDS}  # N C S W R
KIND_COLOURS = dict(zip(CHANGE_KINDS, ("#2f6db5", "#6b46c1", "#c05621", "#4a5568", "#b83280"), strict=True))

LEFT = 128  # the holders' names
RIGHT = 230  # where each term stands now, and its outlets
AXIS = 46  # the reports' dates
LANE = 66


def _e(text: object) -> str:
    """Escaped for HTML, and without control characters: they have no place in a page, and
    ``-o -`` writes it to a terminal."""
    return escape(printable("" if text is None else str(text)), quote=True)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"


def _date(value: str | None, *, year: bool = False) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:10]
    return moment.strftime("%d %b %Y" if year else "%d %b").lstrip("0")




def _holder(track: Track) -> str:
    return track.label or track.holder


def category_title(category: str) -> str:
    return category.replace("_", " ").capitalize()


# --- the chart ---------------------------------------------------------------------------------


WIDE = 1144  # the page's width for charts: few reports spread to fill it


def _column_width(n: int) -> int:
    if n * 64 <= WIDE - LEFT - RIGHT:
        return min(200, (WIDE - LEFT - RIGHT) // n)
    return 64 if n <= 16 else 44 if n <= 40 else 30


def _segments(track: Track) -> list[tuple[int, State]]:
    """(first column, state) steps of the track: where it stood before --since, then the
    state after each change; a track whose changes fell before --since starts at its first report."""
    steps: list[tuple[int, State]] = []
    if track.start is not None:
        steps.append((0, track.start))
    # columns follow publication and changes the ledger's order; they differ only for a story
    # read after a later-published one (an old feed's first poll): drawn where it was published
    for change in sorted(track.changes, key=lambda c: c.report):
        if change.after is not None:
            steps.append((change.report, change.after))
    if not steps and track.observations:
        steps.append((track.observations[0].report, track.observations[0].state))
    return steps


def _change_title(change: ChangeMark, track: Track, category: str, report: Report) -> str:
    lines = [f"{change.kind.upper()} · {_holder(track)} · {category_title(category)}", change.summary]
    if change.before is not None or change.after is not None:
        before = change.before.words() if change.before else "—"
        after = change.after.words() if change.after else "—"
        lines.append(f"before: {before}")
        lines.append(f"after: {after}")
    if change.quote:
        lines.append(f"“{change.quote}”")
    lines.append(f"{report.source} · {_date(report.reported_at, year=True)} · read {change.detected_at} UTC")
    if change.title:
        lines.append(change.title)
    if safe_url(change.url):
        lines.append(str(change.url))
    lines.append("click: details below")
    return "\n".join(lines)


def render_chart(cat: CategoryTimeline, reports: list[Report]) -> str:
    """One category's swimlanes as an inline SVG."""
    n = max(1, len(reports))
    col = _column_width(n)
    width = LEFT + n * col + RIGHT
    height = AXIS + len(cat.tracks) * LANE + 6
    label_chars = max(8, int(col * 1.9 / 6.2))

    def cx(index: int) -> float:
        return LEFT + index * col + col / 2

    out = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(category_title(cat.category))}: '
           f'{len(cat.tracks)} tracks, {cat.change_count} changes">']
    # the axis: one column per report, dated; the year where it changes
    last_year = None
    for r in reports:
        when = r.reported_at
        year = when[:4]
        x = cx(r.index)
        out.append(f'<line class="grid" x1="{x}" y1="{AXIS - 8}" x2="{x}" y2="{height - 4}"/>')
        label = _date(when, year=year != last_year)
        last_year = year
        tip = f"report {r.index + 1}: {r.source} · {r.title or ''}" + (f" (version {r.version})" if r.version > 1 else "")
        out.append(f'<g class="tick"><title>{_e(tip)}</title>'
                   f'<text x="{x}" y="{AXIS - 28}" text-anchor="middle">{_e(label)}</text>'
                   f'<text class="sub" x="{x}" y="{AXIS - 14}" text-anchor="middle">'
                   f'{_e(_short(r.source, label_chars - 2) if col >= 60 else "")}'
                   f'{"" if col >= 60 else r.index + 1}{" v" + str(r.version) if r.edit else ""}</text></g>')
    for lane, track in enumerate(cat.tracks):
        y = AXIS + lane * LANE
        mid = y + 22
        klass = "lane agreement" if track.agreement else "lane"
        out.append(f'<g class="{klass}" data-holder="{_e(track.holder)}">')
        out.append(f'<rect class="band" x="0" y="{y}" width="{width}" height="{LANE}"/>')
        out.append(f'<text class="holder" x="10" y="{mid + 4}">{_e(_short(_holder(track), 17))}</text>')
        out.append(f'<line class="rail" x1="{LEFT}" y1="{mid}" x2="{LEFT + n * col}" y2="{mid}"/>')
        steps = _segments(track)
        for i, (start, state) in enumerate(steps):
            end = steps[i + 1][0] if i + 1 < len(steps) else n
            x1 = LEFT if start == 0 and track.start is not None and i == 0 else cx(start)
            x2 = cx(end) if i + 1 < len(steps) else LEFT + n * col - 4
            if x2 <= x1:
                continue
            colour = STANCE_COLOURS.get(state.stance_class, "#2f6db5")
            dash = ' stroke-dasharray="5 3"' if state.stance_class == "withdrawn" else ""
            out.append(f'<rect class="step" x="{x1:.1f}" y="{mid - 7}" width="{x2 - x1:.1f}" height="14" rx="3" '
                       f'fill="{colour}"{dash}><title>{_e(state.words())}</title></rect>')
            if state.precondition:
                out.append(f'<rect class="precondition" x="{x1:.1f}" y="{mid - 7}" width="{x2 - x1:.1f}" '
                           f'height="3" rx="1"/>')
            if state.response_class:
                reaction = STANCE_COLOURS.get(state.response_class, "#8a94a3")
                out.append(f'<rect class="reaction" x="{x1:.1f}" y="{mid + 8}" width="{x2 - x1:.1f}" height="4" '
                           f'rx="1" fill="{reaction}"><title>{_e(state.responses)}</title></rect>')
        if not track.observations and not track.changes and track.start is None:
            out.append(f'<text class="none" x="{LEFT + 8}" y="{mid + 4}">no agreement reported</text>')
        for obs in track.observations:
            report = reports[obs.report]
            tip = (f"{_holder(track)}: {obs.state.words()}\n{report.source} · {_date(report.reported_at, year=True)}"
                   + (f"\n“{obs.quote}”" if obs.quote else ""))
            out.append(f'<circle class="report" cx="{cx(obs.report) - col * 0.28:.1f}" cy="{mid}" r="3.2">'
                       f'<title>{_e(tip)}</title></circle>')
        placed: dict[int, int] = {}
        for k, change in enumerate(track.changes):
            nth = placed.get(change.report, 0)
            placed[change.report] = nth + 1
            x = cx(change.report) + nth * 20
            report = reports[change.report]
            colour = KIND_COLOURS.get(change.kind, "#333")
            out.append(f'<a class="change" href="#change-{change.id}" data-change-key="{_e(change.key)}" '
                       f'data-kind="{_e(change.kind)}"><title>{_e(_change_title(change, track, cat.category, report))}</title>'
                       f'<circle cx="{x}" cy="{mid}" r="9.5" fill="#fff" stroke="{colour}" stroke-width="2.6"/>'
                       f'<text class="letter" x="{x}" y="{mid + 4}" text-anchor="middle" fill="{colour}">'
                       f'{KIND_LETTERS.get(change.kind, "?")}</text>'
                       f'<text class="label" x="{x}" y="{mid + 24 + (k % 2) * 12}" text-anchor="middle">'
                       f'{_e(_short(change.label, label_chars))}</text></a>')
        now = track.now or (steps[-1][1] if steps else None)
        rx = LEFT + n * col + 12
        if now is not None:
            words = now.stance.replace("_", " ") + (" · " + now.values if now.values else "")
            out.append(f'<g class="now"><title>{_e("now: " + now.words())}'
                       f'{_e(chr(10) + "reported by " + ", ".join(track.outlets)) if track.outlets else ""}</title>'
                       f'<text x="{rx}" y="{mid - 2}">{_e(_short(words, 34))}</text>'
                       f'<text class="outlets" x="{rx}" y="{mid + 13}">{track.outlet_count} outlet'
                       f'{"" if track.outlet_count == 1 else "s"}'
                       f'{_e(" · " + now.responses) if now.responses else ""}</text></g>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


# --- the tables ----------------------------------------------------------------------------------


def _chip(state: State | None) -> str:
    if state is None:
        return '<span class="muted">—</span>'
    colour = STANCE_COLOURS.get(state.stance_class, "#2f6db5")
    return f'<span class="chip" style="background:{colour}">{_e(state.stance.replace("_", " "))}</span>'


def _link(url: str | None, text: str) -> str:
    safe = safe_url(url)
    return f'<a href="{_e(safe)}" rel="noopener noreferrer">{_e(text)}</a>' if safe else _e(text)


def _change_rows(cat: CategoryTimeline, reports: list[Report]) -> str:
    rows = []
    changes = sorted(((c, t) for t in cat.tracks for c in t.changes), key=lambda ct: ct[0].id)
    for change, track in changes:
        report = reports[change.report]
        before = _chip(change.before) + (f' <span class="vals">{_e(change.before.words().split(" — ", 1)[-1])}</span>'
                                         if change.before and " — " in change.before.words() else "")
        after = _chip(change.after) + (f' <span class="vals">{_e(change.after.words().split(" — ", 1)[-1])}</span>'
                                       if change.after and " — " in change.after.words() else "")
        source = _link(change.url, report.source)
        quote = f'<q>{_e(change.quote)}</q>' if change.quote else ""
        baseline = ' <span class="muted">(first poll)</span>' if change.baseline else ""
        rows.append(
            f'<tr class="change-row" id="change-{change.id}" data-change-key="{_e(change.key)}">'
            f'<td class="when" data-label="When">{_e(_date(report.reported_at, year=True))}'
            f'<span class="muted"> · #{report.index + 1}</span></td>'
            f'<td data-label="Holder">{_e(_holder(track))}</td>'
            f'<td data-label="Change"><span class="kind k-{_e(change.kind)}">{_e(change.kind)}</span> '
            f'{_e(change.label)}{baseline}</td>'
            f'<td class="ba" data-label="Before → after">{before} <span class="arrow">→</span> {after}</td>'
            f'<td class="src" data-label="Source">{quote}<span class="outlet">{source}'
            f'{" · " + _e(change.title) if change.title else ""}</span></td></tr>')
    if not rows:
        return ""
    return ('<table class="changes"><thead><tr><th>When</th><th>Holder</th><th>Change</th>'
            '<th>Before → after</th><th>Quote and source</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _overview(timeline: Timeline) -> str:
    """Where each term stands now: categories down, holders across (the agreement first)."""
    holders: dict[str, str] = {}
    for cat in timeline.categories:
        for t in cat.tracks:
            holders.setdefault(t.holder, _holder(t))
    head = "".join(f"<th>{_e(label)}</th>" for label in holders.values())
    rows = []
    for cat in timeline.categories:
        cells = []
        by_holder = {t.holder: t for t in cat.tracks}
        for h in holders:
            t = by_holder.get(h)
            state = (t.now or (_segments(t)[-1][1] if _segments(t) else None)) if t else None
            if state is None:
                cells.append('<td class="muted">—</td>')
                continue
            detail = " · ".join(x for x in (state.values, state.responses) if x)
            cells.append(f'<td>{_chip(state)}<span class="vals">{_e(_short(detail, 60))}</span>'
                         f'<span class="muted">{t.outlet_count} outlet{"" if t.outlet_count == 1 else "s"}</span></td>')
        rows.append(f'<tr><th scope="row"><a href="#cat-{_e(cat.category)}">{_e(category_title(cat.category))}</a>'
                    f'</th>{"".join(cells)}</tr>')
    return (f'<div class="scroll"><table class="overview"><thead><tr><th>Term</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _legend() -> str:
    stances = "".join(f'<span class="chip" style="background:{c}">{_e(STANCE_WORDS[k])}</span>'
                      for k, c in STANCE_COLOURS.items())
    kinds = "".join(f'<span class="mark" style="border-color:{KIND_COLOURS[k]};color:{KIND_COLOURS[k]}">'
                    f'{KIND_LETTERS[k]}</span> {k} ' for k in KIND_LETTERS)
    return (f'<p class="legend">{stances}</p><p class="legend">{kinds}'
            '<span class="dot"></span> a report · <span class="pre"></span> precondition · '
            '<span class="react"></span> the other side\'s reaction (its colour)</p>')


def _reports_table(reports: list[Report]) -> str:
    rows = "".join(
        f'<tr><td>#{r.index + 1}</td><td>{_e(_date(r.reported_at, year=True))}</td><td>{_e(r.source)}</td>'
        f'<td>{_link(r.url, r.title or r.url or "(untitled)")}'
        f'{f" <span class=muted>(version {r.version}, read {_e(r.read_at)} UTC)</span>" if r.version > 1 else ""}'
        f'{" <span class=muted>(first poll)</span>" if r.baseline else ""}</td></tr>'
        for r in reports)
    return (f'<div class="scroll"><table class="reports"><thead><tr><th>#</th><th>Date</th><th>Outlet</th>'
            f'<th>Article</th></tr></thead><tbody>{rows}</tbody></table></div>')


CSS = """
:root{--ink:#1a202c;--muted:#5a6578;--line:#d9dee7;--band:#f6f8fb;--accent:#2f6db5}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:#fff}
main{max-width:1180px;margin:0 auto;padding:18px 16px 40px}
header h1{font-size:1.55rem;margin:0 0 4px}
header .meta{color:var(--muted);margin:0}
.stats{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0 4px;padding:0;list-style:none}
.stats li{background:var(--band);border:1px solid var(--line);border-radius:8px;padding:6px 12px}
.stats b{font-size:1.15rem;margin-right:4px}
h2{font-size:1.15rem;margin:28px 0 6px;border-bottom:2px solid var(--line);padding-bottom:4px}
h2 .count{color:var(--muted);font-weight:normal;font-size:.9rem;margin-left:8px}
.legend{margin:4px 0;font-size:.85rem;color:var(--muted)}
.chip{display:inline-block;color:#fff;border-radius:10px;padding:0 8px;font-size:.8rem;line-height:1.5;
margin-right:4px;white-space:nowrap}
.mark{display:inline-block;width:18px;height:18px;border:2px solid;border-radius:50%;text-align:center;
font:bold 11px/14px system-ui,sans-serif;background:#fff}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;border:1.5px solid #1a202c;background:#fff;
margin-left:6px}
.pre{display:inline-block;width:18px;height:4px;background:#1a202c;vertical-align:middle;margin-left:6px}
.react{display:inline-block;width:18px;height:4px;background:#c53030;vertical-align:middle;margin-left:6px}
.scroll,.chart{overflow-x:auto;-webkit-overflow-scrolling:touch}
.chart{border:1px solid var(--line);border-radius:8px;background:#fff}
svg.timeline{display:block;font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .band{fill:#fff}
svg .lane:nth-of-type(even) .band{fill:var(--band)}
svg .agreement .band{fill:#eef7f1}
svg .holder{font-weight:600;font-size:13px;fill:var(--ink)}
svg .agreement .holder{fill:#1c5d3d;font-style:italic}
svg .grid{stroke:#e6e9ef;stroke-width:1}
svg .rail{stroke:#c3cad6;stroke-width:1.5;stroke-dasharray:2 3}
svg .tick text{font-size:11.5px;fill:var(--ink)}
svg .tick .sub{font-size:10px;fill:var(--muted)}
svg .report{fill:#fff;stroke:#1a202c;stroke-width:1.4}
svg .precondition{fill:#1a202c;opacity:.55}
svg .letter{font:bold 11px system-ui,sans-serif}
svg .label{font-size:10.5px;fill:#2d3748}
svg .now text{font-size:12px;fill:var(--ink)}
svg .now .outlets{font-size:10.5px;fill:var(--muted)}
svg .none{font-size:11px;fill:var(--muted);font-style:italic}
svg a.change:hover circle,svg a.change:focus circle{fill:#fff7d6}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin-top:8px}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
thead th{background:var(--band);font-weight:600}
table.overview th[scope=row] a{color:var(--ink)}
.vals{display:block;color:var(--muted);font-size:.8rem}
table.overview td .vals{display:inline}
table.overview td .muted{display:block;font-size:.75rem}
.muted{color:var(--muted)}
.kind{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-size:.78rem}
.k-new{background:#2f6db5}.k-changed{background:#6b46c1}.k-status{background:#c05621}
.k-withdrawn{background:#4a5568}.k-revised{background:#b83280}
.ba .chip{margin-right:2px}.ba .vals{display:inline;margin-right:4px}
.arrow{color:var(--muted);margin:0 2px}
.src q{display:block;font-style:italic;color:#2d3748;margin-bottom:2px}
.outlet{color:var(--muted);font-size:.8rem}
tr.change-row:target{background:#fff7d6}
a{color:var(--accent)}
footer{margin-top:32px;color:var(--muted);font-size:.8rem}
@media (max-width:700px){
 body{font-size:14px} main{padding:12px 10px 28px}
 table.changes thead{display:none}
 table.changes tr{display:block;border-bottom:1px solid var(--line);padding:6px 0}
 table.changes td{display:block;border:0;padding:2px 4px}
 table.changes td::before{content:attr(data-label) ": ";color:var(--muted);font-size:.78rem}
}
@media print{
 body{font-size:10pt} main{max-width:none;padding:0}
 .chart,.scroll{overflow:visible;border:0}
 svg.timeline{width:100%;height:auto}
 section.category{break-inside:avoid-page}
 a{color:inherit;text-decoration:none}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def render_html(timeline: Timeline) -> str:
    """The whole page. No script: every detail is in SVG titles, anchors and tables."""
    reports = timeline.reports
    changes = timeline.changes
    kinds: dict[str, int] = {}
    for c in changes:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    holders = sorted({t.holder for cat in timeline.categories for t in cat.tracks if not t.agreement})
    span = (f"{_date(reports[0].reported_at, year=True)} – {_date(reports[-1].reported_at, year=True)}" if reports else "no reports")
    since = f" · since {_e(timeline.since)} UTC" if timeline.since else ""
    stats = "".join(f"<li><b>{n}</b>{_e(label)}</li>" for n, label in (
        (len(reports), "reports"), (len(timeline.outlets), "outlets"), (len(timeline.categories), "terms"),
        (len(holders), "parties"), (len(changes), "changes")))
    stats += "".join(f'<li><span class="kind k-{_e(k)}">{_e(k)}</span> {n}</li>' for k, n in sorted(kinds.items()))
    sections = []
    for cat in timeline.categories:
        sections.append(
            f'<section class="category" id="cat-{_e(cat.category)}">'
            f'<h2>{_e(category_title(cat.category))}<span class="count">{len(cat.tracks) - 1} '
            f'part{"y" if len(cat.tracks) == 2 else "ies"} · {cat.change_count} '
            f'change{"" if cat.change_count == 1 else "s"}</span></h2>'
            f'<div class="chart">{render_chart(cat, reports)}</div>{_change_rows(cat, reports)}</section>')
    body = "".join(sections) or '<p class="muted">Nothing on record for this conflict yet.</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>{_e(timeline.conflict)} — negotiation timeline</title>
<style>{CSS}</style></head>
<body><main>
<header><h1>Negotiation timeline: {_e(timeline.conflict)}</h1>
<p class="meta">{span}{since} · each column is one report, in the order they were published · times UTC</p>
<ul class="stats">{stats}</ul></header>
<section class="overview-section"><h2>Where each term stands</h2>{_legend()}{_overview(timeline)}</section>
{body}
<section><h2>Reports</h2>{_reports_table(reports)}</section>
<footer>ceasefire watcher · generated {_e(timeline.generated_at)} UTC · hover a mark for before → after,
the quote and the source; click it for its row.</footer>
</main></body></html>
"""
