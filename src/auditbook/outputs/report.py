"""The round report: one self-contained HTML file for the Self-Assessment Group (`auditbook report`).

Inline CSS and SVG only: no script, no font, image or stylesheet to fetch, so it opens offline and sends
no request anywhere. It prints to PDF from a browser (A4, each section starting clear of page breaks,
the classification on every page). No child's free text (findings, impact, actions' wording) unless
`include_text` is set; case references, grades, themes and counts are always there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path

from auditbook.analysis.actions import State
from auditbook.analysis.cohorts import SMALL
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.themes import Ranked
from auditbook.analysis.tracking import OUTSTANDING, OVERDUE
from auditbook.analysis.trends import OVERALL, percent, points, section_share
from auditbook.atomic import replacing
from auditbook.outputs.svg import Bar, share_bars, stacked_grades, trend_lines
from auditbook.spec.roles import Role
from auditbook.store.ours import temporary
from auditbook.store.readback import conflict_parties
from auditbook.text import plural, shown, word

TOP = 10
CSS = """
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; color: #1f1f1f; margin: 0 auto; max-width: 190mm;
       padding: 12mm 0; }
h1 { font-size: 20pt; margin: 4mm 0 1mm; color: #1F4E79; }
h2 { font-size: 14pt; margin: 8mm 0 2mm; color: #1F4E79; border-bottom: 1px solid #1F4E79; padding-bottom: 1mm;
     break-after: avoid; }
h3 { font-size: 12pt; margin: 5mm 0 2mm; break-after: avoid; }
p.note { color: #595959; font-size: 9.5pt; margin: 1mm 0 3mm; }
.classification { color: #C00000; font-weight: bold; text-align: center; letter-spacing: 0.08em; }
.banner { position: fixed; left: 0; right: 0; font-size: 9pt; background: #fff; }
.banner.top { top: 0; } .banner.bottom { bottom: 0; }
.headline { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin: 4mm 0; }
.figure { border: 1px solid #BFBFBF; border-radius: 2mm; padding: 3mm; break-inside: avoid; }
.figure .value { font-size: 20pt; font-weight: bold; color: #1F4E79; }
.figure .label { font-size: 9.5pt; color: #404040; }
.figure .change { font-size: 9.5pt; }
.up { color: #006100; } .down { color: #9C0006; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: 2mm 0 4mm; }
thead { display: table-header-group; }
th { background: #1F4E79; color: #fff; text-align: left; padding: 1.5mm; }
td { border-bottom: 1px solid #D9D9D9; padding: 1.2mm 1.5mm; vertical-align: top; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
.flag { color: #9C0006; font-weight: bold; }
.small { color: #9C5700; }
section { break-inside: auto; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 2mm 0 4mm; break-inside: avoid; }
.text { white-space: pre-wrap; }
@media print { body { padding: 0; max-width: none; } .screen-only, .banner { display: none; } }
"""
#: Printed, the classification and page number go in the page's own margins (as a header and footer), where a table's
#: header row repeated at the top of a page cannot run under them (a fixed banner sat on it).
PAGE_CSS = """
@page { size: A4; margin: 18mm 14mm 18mm 14mm;
  @top-center { content: %(label)s; color: #C00000; font: bold 9pt Arial, Helvetica, sans-serif;
                letter-spacing: 0.08em; }
  @bottom-center { content: %(label)s "  \\00B7  page " counter(page) " of " counter(pages); color: #C00000;
                   font: 9pt Arial, Helvetica, sans-serif; } }
"""


def css_string(text: str) -> str:
    """Text as a CSS string literal: quotes, backslashes and "<" (which could end the style element) escaped."""
    out = "".join(f"\\{ord(ch):X} " if ch in '"\\<>' or ord(ch) < 0x20 else ch for ch in text)
    return f'"{out}"'


def _pct(x: float | None) -> str:
    return "\u2013" if x is None else f"{percent(x)}%"


def _change(change: int | None) -> str:
    """A change in percentage points: "+8 points", "-1 point", "no change"."""
    if change is None:
        return ""
    if change == 0:
        return "no change"
    cls = "up" if change > 0 else "down"
    return f'<span class="{cls}">{change:+d} point{"" if abs(change) == 1 else "s"}</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (),
           cls: str = "") -> str:
    """A table; cells are HTML already escaped by the caller."""
    head = "".join(f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">(none)</td></tr>'
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _e(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return escape(shown(str(value), keep_lines=True))


def _headline(e: Evidence) -> str:
    c = e.collation
    cur, prev = e.current, e.previous
    share, before = e.overall_share()
    sections = section_share(cur, c.grades, c.good_or_better) if cur else (0, None)
    sections_before = section_share(prev, c.grades, c.good_or_better)[1] if prev else None
    good = " or ".join(g for g in c.grades if g in c.good_or_better) or "good or better"
    since = f" since {escape(prev.round)}" if prev else ""
    audits = cur.audits if cur else 0
    late = sum(1 for m in e.in_round if m.audit.late)
    urgent = sum(1 for m in e.in_round if m.audit.urgent)
    overdue = len(e.overdue())
    recurring = len(e.recurring())
    figures = [
        (str(audits), f"{word(audits, 'audit')} this round", ""),
        (_pct(share), f"judged {good} overall",
         ((_change(points(share, before)) + f"{since} ({_pct(before)})") if prev else "no earlier round")
         + ". The auditor's judgement of the whole case, not an average of its sections."),
        (_pct(sections[1]), f"of section grades {good}",
         f"{plural(sections[0], 'section grade')} this round"
         + (f"; {_change(points(sections[1], sections_before))}{since} ({_pct(sections_before)})" if prev else "")),
        (str(late), "returned late", ""),
        (str(urgent), f"urgent {word(urgent, 'concern')} raised", ""),
        (str(overdue), f"{word(overdue, 'action')} overdue", f"of {len(e.actions)} in the register"),
        (str(recurring), f"recurring {word(recurring, 'concern')}",
         f"theme tags and sections needing action at or above {c.threshold:.0%} this round and in an earlier "
         "round"),
    ]
    if e.returns is not None:
        outstanding = sum(1 for r in e.returns if r.status in (OUTSTANDING, OVERDUE))
        past = sum(1 for r in e.returns if r.status == OVERDUE)
        figures.append((str(outstanding), f"{word(outstanding, 'return')} outstanding",
                        f"{past} past {'its' if past == 1 else 'their'} due date"))
    cells = "".join(f'<div class="figure"><div class="value">{v}</div><div class="label">{escape(label)}</div>'
                    f'<div class="change">{extra}</div></div>' for v, label, extra in figures)
    return f'<div class="headline">{cells}</div>'


def _sections(e: Evidence) -> str:
    c = e.collation
    if e.current is None:
        return "<p>No audits were merged.</p>"
    bars, stacked = [], []
    for r in e.by_scope():
        bars.append(Bar(r.scope, r.share, f"(n={r.graded})", r.before,
                        "low" if r.share is not None and r.share < 0.5 else ""))
        stacked.append((r.scope, [r.counts.get(g, 0) for g in c.grades]))
    out = ['<h3>% judged good or better, by section</h3>',
           '<p class="note">Bars: this round. Dashed tick: the previous round. Red: under half good or better. '
           'n: audits graded.</p>',
           share_bars("% good or better by section", bars),
           "<h3>Share of each grade, by section</h3>",
           stacked_grades("Share of each grade, by section", stacked, c.grades)]
    return "".join(out)


def _teams_and_cohorts(e: Evidence) -> str:
    out = []
    by_dimension: dict[str, list[Bar]] = {}
    for r in e.cohorts:
        note = f"(n={r.audits}{', small' if r.small else ''})"
        by_dimension.setdefault(r.dimension, []).append(Bar(r.group, r.share, note, mark="small" if r.small else ""))
    for dimension, bars in by_dimension.items():
        out.append(f"<h3>% good or better by {escape(dimension.lower())}</h3>")
        out.append(share_bars(f"% good or better by {dimension}", bars, label_width=260))
    out.insert(0, f'<p class="note">Overall judgement. A group with fewer than {SMALL} audits is a small cohort '
                  "(amber, marked small): one audit moves its share a lot. Groups are shown, never hidden.</p>")
    if e.not_audited:
        rows = [[_e(dim), _e(", ".join(groups))] for dim, groups in e.not_audited.items()]
        out.append("<h3>Groups of children not audited this round</h3>")
        out.append(_table(["Group of children", "Not audited"], rows))
    return "".join(out)


def _trends(e: Evidence) -> str:
    if len(e.rounds) < 2:
        return '<p class="note">Only one round has been collected so far: trends start with the next round.</p>'
    by = {(t.round, t.scope): t.good for t in e.trends}
    names = [r.round for r in e.rounds]
    series = [(OVERALL, [by.get((n, OVERALL)) for n in names])]
    chart = trend_lines("% good or better by round", names, series)
    rows = [[_e(t.round), _e(t.scope), str(t.graded), _pct(t.good), _change(t.change)]
            for t in e.trends if t.scope == OVERALL and t.graded]
    return chart + _table(["Round", "Scope", "Audits graded", "% good or better", "Change (points)"], rows, (2, 3, 4))


def _ranked(rows: Sequence[Ranked], *, item: str, recurring: bool = True, detail: str = "") -> str:
    """A ranked table; `detail` heads a last column of each row's detail (a question's answers), left out if empty."""
    out = []
    for r in rows[:TOP]:
        what = f"{r.section}: {r.item}" if item == "Question" else r.section if item == "Section" else r.item
        flag = '<span class="flag">Recurring</span>' if r.recurring else ""
        out.append([_e(what), f"{r.count} of {r.of}", _pct(r.share), _pct(r.previous), _change(r.change),
                    *([flag] if recurring else []), *([_e(r.detail)] if detail else [])])
    headers = [item, "Audits", "Share", "Previous round", "Change (points)", *(["Recurring"] if recurring else []),
               *([detail] if detail else [])]
    return _table(headers, out, (1, 2, 3, 4))


def _themes(e: Evidence) -> str:
    t = e.themes
    if t is None:
        return ""
    return "".join([
        f'<p class="note">Share: of the audits each could apply to this round. Recurring: a concern at or above '
        f"{t.threshold:.0%} this round and in at least one earlier round.</p>",
        "<h3>Top concerns</h3>", _ranked(t.concerns, item="Concern"),
        "<h3>Top strengths</h3>", _ranked(t.strengths, item="Strength", recurring=False),
        "<h3>Sections most often needing action</h3>",
        _ranked([r for r in t.sections if r.count], item="Section"),
        f"<h3>Practice questions most often {escape(e.collation.answered_short())}</h3>",
        _ranked(sorted(t.questions, key=lambda r: (-r.share, -r.count))[:TOP], item="Question", recurring=False,
                detail="Answers"),
    ])


def _actions(e: Evidence, include_text: bool) -> str:
    overdue = {a.id for a in e.overdue()}
    ordered = sorted(e.actions, key=lambda a: (a.id not in overdue, not a.urgent, a.timescale or date.max))
    rows = []
    for a in ordered[:200]:
        st = e.states.get(a.id, State())
        rows.append([_e(a.id), _e(a.case_ref), _e(a.team), _e(a.section),
                     *([f'<span class="text">{_e(a.text)}</span>'] if include_text else []), _e(a.responsible),
                     _e(a.timescale), _e(st.status or "Not started"),
                     '<span class="flag">Overdue</span>' if a.id in overdue else "",
                     f'<span class="flag text">{_e(st.conflict if include_text else conflict_parties(st.conflict))}'
                     "</span>" if st.conflict else ""])
    headers = ["Action", "Case", "Team", "Section", *(["What"] if include_text else []), "Responsible", "Timescale",
               "Status", "Overdue", "Conflicting edits"]
    more = f'<p class="note">The first 200 of {len(e.actions)}: the master\'s Actions tab has them all.</p>' \
        if len(e.actions) > 200 else ""
    plan = [[_e(p.id), _e(p.theme), _e(p.action), _e(p.owner), _e(p.due), _e(p.status), _e(p.linked)]
            for p in e.plan]
    return (f'<p class="note">{len(overdue)} overdue (past their timescale and not done), listed first.</p>'
            + _table(headers, rows) + more + "<h3>SAG action plan</h3>"
            + _table(["ID", "Theme", "Action", "Owner", "Due", "Status", "Linked themes"], plan))


def _returns(e: Evidence) -> str:
    if e.returns is None:
        return '<p class="note">No allocation list was given, so returns outstanding cannot be known.</p>'
    rows = [[_e(r.case_ref), _e(r.team), _e(r.auditor), _e(r.due), _e(r.status)] for r in e.returns
            if r.status in (OUTSTANDING, OVERDUE)]
    counts = Counter(r.status for r in e.returns)
    summary = ", ".join(f"{n} {s.lower()}" for s, n in counts.items())
    return f'<p class="note">{escape(summary)}.</p>' + _table(["Case", "Team", "Auditor", "Due", "Status"], rows)


def _findings(e: Evidence) -> str:
    rows = []
    for m in e.in_round:
        for s in m.audit.sections:
            if s.applies and (s.working_well or s.to_improve):
                rows.append([_e(m.audit.case_ref), _e(s.title), _e(s.grade), f'<span class="text">{_e(s.working_well)}'
                             "</span>", f'<span class="text">{_e(s.to_improve)}</span>'])
    impact = [[_e(m.audit.case_ref), _e(m.audit.text(Role.OVERALL_GRADE)),
               f'<span class="text">{_e(m.audit.text(Role.IMPACT))}</span>'] for m in e.in_round
              if m.audit.text(Role.IMPACT)]
    return (_table(["Case", "Section", "Grade", "What is working well", "What needs to improve"], rows)
            + ("<h3>Impact of the intervention</h3>" + _table(["Case", "Overall grade", "Impact"], impact)
               if impact else ""))


def render(e: Evidence, *, classification: str = "OFFICIAL-SENSITIVE", include_text: bool = False,
           generated_at: datetime | None = None) -> str:
    """The report as one HTML document."""
    c = e.collation
    moment = generated_at or datetime.now()
    label = escape(classification)
    round_name = escape(e.current.round) if e.current else "(no round)"
    teams = e.teams()
    parts = [
        "<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{escape(c.title)}: {round_name} ({label})</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may be fetched: the page allows no source at all beyond its own inline styles.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        f"<style>{CSS}{PAGE_CSS % {'label': css_string(classification)}}</style></head><body>",
        f'<div class="banner top classification">{label}</div>',
        f'<div class="banner bottom classification">{label}</div>',
        f'<p class="classification">{label}</p>',
        f"<h1>{escape(c.title)}: {round_name}</h1>",
        f'<p class="note">Round report for the Self-Assessment Group, made by auditbook on {moment:%d/%m/%Y %H:%M} '
        f"from {plural(len(e.in_round), 'audit')} ({', '.join(f'{escape(t)} {n}' for t, n in sorted(teams.items()))})"
        + (f", compared with {escape(e.previous.round)}" if e.previous else "") + ". "
        + ("It includes auditors' free text about children." if include_text else
           "It holds no free text about children: case references, grades, themes and counts only.") + "</p>",
        "<section><h2>Headline figures</h2>", _headline(e), "</section>",
        "<section><h2>Grades by section</h2>", _sections(e), "</section>",
        "<section><h2>Trend across rounds</h2>", _trends(e), "</section>",
        "<section><h2>Teams and groups of children</h2>", _teams_and_cohorts(e), "</section>",
        "<section><h2>Themes</h2>", _themes(e), "</section>",
        "<section><h2>Action register</h2>", _actions(e, include_text), "</section>",
        "<section><h2>Returns outstanding</h2>", _returns(e), "</section>",
    ]
    if include_text:
        parts += ["<section><h2>Findings (free text)</h2>", _findings(e), "</section>"]
    parts += [f'<p class="classification">{label}</p>', "</body></html>"]
    return "\n".join(parts)


def write_report(e: Evidence, out: Path, *, classification: str = "OFFICIAL-SENSITIVE", include_text: bool = False,
                 generated_at: datetime | None = None) -> Path:
    """Write the report (whole or not at all)."""
    html = render(e, classification=classification, include_text=include_text, generated_at=generated_at)
    with replacing(out, prefix=temporary("report")) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out
