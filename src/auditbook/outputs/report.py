"""The round report: one self-contained HTML file for the Self-Assessment Group (`auditbook report`).

Inline CSS and SVG only: no script, no font, image or stylesheet to fetch, so it opens offline and sends
no request anywhere. It prints to PDF from a browser (A4, each section starting clear of page breaks,
the classification on every page). No child's free text (findings, impact, actions' wording) unless
`include_text` is set; case references, grades, themes and counts are always there.

This module works out what the report says as plain data (`Report`: strings, numbers, small NamedTuples); the
Jinja2 templates in templates/ lay it out, with autoescape on, so every text from a return, the master or the
spec is escaped where it is written and none of this code writes markup.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from markupsafe import Markup

from auditbook.analysis.actions import Action, State, completion
from auditbook.analysis.cohorts import suppressed, suppression_note
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.themes import Ranked
from auditbook.analysis.tracking import OUTSTANDING, OVERDUE, not_in_figures
from auditbook.analysis.trends import OVERALL, Change, compare, good_share, percent, section_share
from auditbook.analysis.urgent import open_concerns
from auditbook.atomic import replacing
from auditbook.outputs.reaudit_section import ReauditSection, reaudit_section
from auditbook.outputs.svg import (
    INK,
    LIGHT,
    Bar,
    ShareBars,
    StackedGrades,
    TrendLines,
    share_bars,
    stacked_grades,
    trend_lines,
)
from auditbook.spec.roles import Role
from auditbook.store.ours import temporary
from auditbook.store.readback import conflict_parties
from auditbook.text import norm, plural, shown, word

if TYPE_CHECKING:
    import jinja2

TOP = 10
#: The most actions the register lists (the master's Actions tab has them all).
ACTIONS_SHOWN = 200


class Span(NamedTuple):
    """Text in a styled span: a change for the better or worse (style "better", "worse": the words say which, the
    colour only adds to them), a flag ("flag": "Recurring", "Overdue"), or free text kept with its line breaks
    ("text")."""

    text: str
    style: str


#: What a table cell or a line of a headline figure holds: text, or text in a styled span.
Cell = str | Span


class Table(NamedTuple):
    """A table: its headers, its rows (a row "(none)" when there are none) and the columns, by index, of figures."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    numeric: Collection[int] = ()


class Figure(NamedTuple):
    """A headline figure: its value, what it counts, and the line under it."""

    value: str
    label: str
    note: Sequence[Cell] = ()


class GradeCharts(NamedTuple):
    """The round's grades by section: % good or better against the previous round, and each grade's share."""

    shares: ShareBars
    grades: StackedGrades


class Trend(NamedTuple):
    """% good or better overall across the rounds, as a chart and a table."""

    chart: TrendLines
    table: Table


class ThemeTables(NamedTuple):
    """The ranked concerns, strengths, sections needing action and practice questions answered short."""

    threshold: str
    answered_short: str
    #: What "recurring" means, in one sentence.
    definition: str
    concerns: Table
    strengths: Table
    sections: Table
    questions: Table


class Actions(NamedTuple):
    """The action register (oldest overdue first, at most ACTIONS_SHOWN of `total`), how far the actions have got by
    team and by round, and the SAG action plan."""

    overdue: int
    total: int
    register: Table
    plan: Table
    by_team: Table
    by_round: Table


class UrgentConcerns(NamedTuple):
    """Every urgent concern recorded in the folder, whatever became of its return, open ones first."""

    open: int
    table: Table


class Returns(NamedTuple):
    """The allocation's returns: how many of each status, and those still outstanding."""

    summary: str
    outstanding: Table


class Findings(NamedTuple):
    """The auditors' free text: each section's findings, and the impact of the intervention (None when none)."""

    sections: Table
    impact: Table | None


class Report(NamedTuple):
    """Everything the round report shows, as plain data: templates/report.html.j2 lays it out and escapes it."""

    classification: str
    title: str
    round: str | None
    made: str
    audits: str
    teams: Sequence[tuple[str, int]]
    previous: str | None
    include_text: bool
    headline: Sequence[Figure]
    grades: GradeCharts | None
    trend: Trend | None
    small: int
    #: Why some groups show no figures, and what was suppressed (a line per dimension).
    suppression: str
    suppressed: Sequence[str]
    cohorts: Sequence[tuple[str, ShareBars]]
    not_audited: Table | None
    themes: ThemeTables | None
    actions: Actions
    returns: Returns | None
    findings: Findings | None
    urgent: UrgentConcerns
    #: Every return rejected or not read and every allocated case not returned: the cases the figures leave out.
    missing: Table
    #: How many of the round's audits were moderated: their figures count the moderator's grades (0: none).
    moderated: int = 0
    reaudits: ReauditSection | None = None


def css_string(text: str) -> str:
    """Text as a CSS string literal: quotes, backslashes and "<" (which could end the style element) escaped."""
    out = "".join(f"\\{ord(ch):X} " if ch in '"\\<>' or ord(ch) < 0x20 else ch for ch in text)
    return f'"{out}"'


def _css_string(text: str) -> Markup:
    """The template filter `css_string`, for a string inside the page's <style> only.

    Markup, so autoescape leaves it alone: inside <style> (raw text) HTML escaping would not be undone (an "&"
    would print as "&amp;"), and css_string has escaped every character that could end the string or the element.
    The one place the report marks text safe.
    """
    return Markup(css_string(text))


def _coord(value: float) -> str:
    """The template filter `coord`: a chart coordinate to a tenth of a pixel."""
    return f"{value:.1f}"


def change(by: Change) -> Cell:
    """A change as the report shows it, in words with an arrow: "\u25b2 worse by 9 points", "\u25bc better by 8
    points" (styled better or worse), "no change", "too few to compare", or nothing without an earlier round."""
    better = by.better
    if better is None:
        return by.words()
    return Span(by.words(), "better" if better else "worse")


def _pct(x: float | None) -> str:
    return "\u2013" if x is None else f"{percent(x)}%"


def _shown(value: object) -> str:
    """A value from a return or the master as the report shows it: a date as dd/mm/yyyy, None as nothing, text with
    its control characters made visible (line breaks kept)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return shown(str(value), keep_lines=True)


def _headline(e: Evidence) -> list[Figure]:
    c = e.collation
    cur, prev = e.current, e.previous
    share, before = e.overall_share()
    graded = good_share(cur.overall, c.grades, c.good_or_better)[0] if cur else 0
    graded_before = good_share(prev.overall, c.grades, c.good_or_better)[0] if prev else 0
    sections = section_share(cur, c.grades, c.good_or_better) if cur else (0, None)
    sections_before_n, sections_before = section_share(prev, c.grades, c.good_or_better) if prev else (0, None)
    sections_change = compare(sections[1], sections[0], sections_before, sections_before_n if prev else None,
                              min_audits=c.min_audits, up_is_better=True)
    good = " or ".join(g for g in c.grades if g in c.good_or_better) or "good or better"
    since = f" since {prev.round}" if prev else ""
    audits = cur.audits if cur else 0
    late = sum(1 for m in e.in_round if m.audit.late)
    urgent = sum(1 for u in e.urgent if e.current is not None and norm(u.round) == norm(e.current.round))
    overdue = len(e.overdue())
    recurring = len(e.recurring())
    overall: list[Cell] = [f"n={graded}; ", change(e.overall_change()), f"{since} ({_pct(before)} of {graded_before})"
                           ] if prev else [f"n={graded}; no earlier round"]
    figures = [
        Figure(str(audits), f"{word(audits, 'audit')} this round"),
        Figure(_pct(share), f"judged {good} overall",
               [*overall, ". The auditor's judgement of the whole case, not an average of its sections."]),
        Figure(_pct(sections[1]), f"of section grades {good}",
               [f"{plural(sections[0], 'section grade')} this round",
                *(["; ", change(sections_change), f"{since} ({_pct(sections_before)} of {sections_before_n})"]
                  if prev else [])]),
        Figure(str(late), "returned late"),
        Figure(str(urgent), f"urgent {word(urgent, 'concern')} raised",
               [f"{len(open_concerns(e.urgent, e.states))} open in all rounds, returns not merged included: see the "
                "first section"]),
        Figure(str(overdue), f"{word(overdue, 'action')} overdue", [f"of {len(e.actions)} in the register"]),
        Figure(str(recurring), f"recurring {word(recurring, 'theme')}", [e.definition()]),
    ]
    if e.returns is not None:
        outstanding = sum(1 for r in e.returns if r.status in (OUTSTANDING, OVERDUE))
        past = sum(1 for r in e.returns if r.status == OVERDUE)
        figures.append(Figure(str(outstanding), f"{word(outstanding, 'return')} outstanding",
                              [f"{past} past {'its' if past == 1 else 'their'} due date"]))
    return figures


def _grades(e: Evidence) -> GradeCharts | None:
    if e.current is None:
        return None
    bars, stacked = [], []
    for r in e.by_scope():
        bars.append(Bar(r.scope, r.share, f"(n={r.graded})", r.before,
                        "low" if r.share is not None and r.share < 0.5 else ""))
        stacked.append((r.scope, [r.counts.get(g, 0) for g in e.collation.grades]))
    return GradeCharts(share_bars("% good or better by section", bars, item="Section"),
                       stacked_grades("Share of each grade, by section", stacked, e.collation.grades))


def _cohorts(e: Evidence) -> list[tuple[str, ShareBars]]:
    """A chart per dimension; a suppressed group is named with "fewer than N" (or "suppressed"): no bar, no share."""
    small = e.collation.small_group
    by_dimension: dict[str, list[Bar]] = {}
    for r in e.cohorts:
        if r.suppressed:
            shown = f"fewer than {small}" if r.suppressed == "small" else "suppressed"
            by_dimension.setdefault(r.dimension, []).append(Bar(r.group, None, shown=shown))
            continue
        by_dimension.setdefault(r.dimension, []).append(Bar(r.group, r.share, f"(n={r.audits})"))
    return [(dimension, share_bars(f"% good or better by {dimension}", bars, label_width=260))
            for dimension, bars in by_dimension.items()]


def _not_audited(e: Evidence) -> Table | None:
    if not e.not_audited:
        return None
    return Table(["Group of children", "Not audited"],
                 [[_shown(dim), _shown(", ".join(groups))] for dim, groups in e.not_audited.items()])


def _trend(e: Evidence) -> Trend | None:
    if len(e.rounds) < 2:
        return None
    by = {(t.round, t.scope): t.good for t in e.trends}
    names = [r.round for r in e.rounds]
    series = [(OVERALL, [by.get((n, OVERALL)) for n in names])]
    rows: list[list[Cell]] = [[_shown(t.round), _shown(t.scope), str(t.graded), _pct(t.good), change(t.changed)]
                              for t in e.trends if t.scope == OVERALL and t.graded]
    graded = {t.round: t.graded for t in e.trends if t.scope == OVERALL}
    labels = [f"{n} (n={graded.get(n, 0)})" for n in names]  # each round's point with the audits behind it
    return Trend(trend_lines("% good or better by round", labels, series),
                 Table(["Round", "Scope", "Audits graded (n)", "% good or better", "Change"], rows, (2, 3, 4)))


def _ranked(rows: Sequence[Ranked], *, item: str, recurring: bool = True, detail: str = "") -> Table:
    """A ranked table; `detail` heads a last column of each row's detail (a question's answers), left out if empty."""
    out: list[list[Cell]] = []
    for r in rows[:TOP]:
        what = f"{r.section}: {r.item}" if item == "Question" else r.section if item == "Section" else r.item
        flag = Span("Recurring, persistent" if r.persistent else "Recurring", "flag") if r.recurring else ""
        before = "" if r.previous is None else f"{_pct(r.previous)} of {r.previous_of}"
        out.append([_shown(what), f"{r.count} of {r.of}", _pct(r.share), before, change(r.changed),
                    *([flag] if recurring else []), *([_shown(r.detail)] if detail else [])])
    headers = [item, "Audits (of n)", "Share", "Previous round (of n)", "Change",
               *(["Recurring"] if recurring else []), *([detail] if detail else [])]
    return Table(headers, out, (1, 2, 3, 4))


def _themes(e: Evidence) -> ThemeTables | None:
    t = e.themes
    if t is None:
        return None
    return ThemeTables(
        f"{t.threshold:.0%}", e.collation.answered_short(), e.definition(), _ranked(t.concerns, item="Concern"),
        _ranked(t.strengths, item="Strength", recurring=False),
        _ranked([r for r in t.sections if r.count], item="Section"),
        _ranked(sorted(t.questions, key=lambda r: (-r.count, -r.share))[:TOP], item="Question", detail="Answers"))


def _actions(e: Evidence, include_text: bool) -> Actions:
    overdue = {a.id for a in e.overdue()}
    ordered = sorted(e.actions, key=lambda a: (a.id not in overdue, not a.urgent, a.timescale or date.max))
    rows: list[list[Cell]] = []
    for a in ordered[:ACTIONS_SHOWN]:
        st = e.states.get(a.id, State())
        conflict = st.conflict if include_text else conflict_parties(st.conflict)
        rows.append([_shown(a.id), _shown(a.case_ref), _shown(a.team), _shown(a.section),
                     *([Span(_shown(a.text), "text")] if include_text else []), _shown(a.responsible),
                     _shown(a.timescale), _shown(st.status or "Not started"),
                     Span("Overdue", "flag") if a.id in overdue else "",
                     Span(_shown(conflict), "flag text") if st.conflict else ""])
    headers = ["Action", "Case", "Team", "Section", *(["What"] if include_text else []), "Responsible", "Timescale",
               "Status", "Overdue", "Conflicting edits"]
    plan = [[_shown(p.id), _shown(p.theme), _shown(line.figures), _shown(line.first_seen), _shown(p.action),
             _shown(p.owner), _shown(p.due), _shown(p.status), _shown(p.linked)]
            for line in e.plan_lines() for p in (line.row,)]
    return Actions(len(overdue), len(e.actions), Table(headers, rows),
                   Table(["ID", "Theme", "Figures this round", "First recurred in", "Action", "Owner", "Due", "Status",
                          "Linked themes"], plan),
                   _completion(e, "Team", lambda a: a.team), _completion(e, "Round", lambda a: a.round))


def _of(n: int, total: int) -> str:
    """A count with what it is out of: "3 of 10 (30%)"."""
    return f"{n} of {total} ({percent(n / total)}%)" if total else "0"


def _completion(e: Evidence, group: str, by: Callable[[Action], str]) -> Table:
    """How far the actions have got, one row per team or round: done, open and overdue, each of its n."""
    rows: list[list[Cell]] = [[_shown(c.group), str(c.total), _of(c.done, c.total), _of(c.open, c.total),
                               Span(_of(c.overdue, c.total), "flag") if c.overdue else _of(c.overdue, c.total)]
                              for c in completion(e.actions, e.states, e.today, by)]
    return Table([group, "Actions (n)", "Done", "Open", "Overdue"], rows, (1, 2, 3, 4))


def _urgent(e: Evidence, include_text: bool) -> UrgentConcerns:
    """The urgent concerns, open ones first (then oldest raised first): what each was and what was agreed only with
    free text; the case reference, dates, role and status always."""
    rows: list[list[Cell]] = []
    ordered = sorted(e.urgent, key=lambda u: u.closed(e.states.get(u.id, State())))
    for u in ordered:
        c, st = u.concern, e.states.get(u.id, State())
        status = u.status(st)
        said: list[Cell] = [_shown(c.with_name), Span(_shown(c.what), "text"), Span(_shown(c.agreed), "text")]
        rows.append([_shown(c.case_ref), _shown(u.round), _shown(c.team), _shown(c.raised), _shown(c.with_whom),
                     *(said if include_text else []),
                     _shown(u.return_words() if include_text else f"return {u.outcome}"),
                     Span(status, "flag") if status == "Open" else status,
                     *([Span(_shown(st.notes), "text")] if include_text else [])])
    headers = ["Case", "Round", "Team", "Raised", "Raised with",
               *(["Name", "What the concern was", "What was agreed"] if include_text else []), "Return", "Status",
               *(["Notes"] if include_text else [])]
    return UrgentConcerns(len(open_concerns(e.urgent, e.states)), Table(headers, rows))


def _missing(e: Evidence, include_text: bool) -> Table:
    """The cases the figures leave out, by reference and reason (a rejected return's first problem in full only with
    free text: its words may quote what the return holds)."""
    rows: list[list[Cell]] = []
    for m in not_in_figures(e.collation, e.returns):
        p = m.problem
        first = "" if p is None else p.render() if include_text else " ".join(
            x for x in (f"{p.sheet}!{p.cell}" if p.sheet and p.cell else "", f"({p.code})") if x)
        rows.append([_shown(m.case_ref or "(not known)"), _shown(m.round), _shown(m.file), _shown(m.why),
                     _shown(first)])
    return Table(["Case", "Round", "File", "Why not counted", "First problem"], rows)


def _returns(e: Evidence) -> Returns | None:
    if e.returns is None:
        return None
    rows = [[_shown(r.case_ref), _shown(r.team), _shown(r.auditor), _shown(r.due), _shown(r.status)]
            for r in e.returns if r.status in (OUTSTANDING, OVERDUE)]
    counts = Counter(r.status for r in e.returns)
    return Returns(", ".join(f"{n} {s.lower()}" for s, n in counts.items()),
                   Table(["Case", "Team", "Auditor", "Due", "Status"], rows))


def _findings(e: Evidence) -> Findings:
    rows: list[list[Cell]] = []
    for m in e.in_round:
        for s in m.audit.sections:
            if s.applies and (s.working_well or s.to_improve):
                rows.append([_shown(m.audit.case_ref), _shown(s.title), _shown(s.grade),
                             Span(_shown(s.working_well), "text"), Span(_shown(s.to_improve), "text")])
    impact: list[list[Cell]] = [[_shown(m.audit.case_ref), _shown(m.audit.text(Role.OVERALL_GRADE)),
                                 Span(_shown(m.audit.text(Role.IMPACT)), "text")] for m in e.in_round
                                if m.audit.text(Role.IMPACT)]
    return Findings(Table(["Case", "Section", "Grade", "What is working well", "What needs to improve"], rows),
                    Table(["Case", "Overall grade", "Impact"], impact) if impact else None)


def report_of(e: Evidence, *, classification: str = "OFFICIAL-SENSITIVE", include_text: bool = False,
              generated_at: datetime | None = None) -> Report:
    """What the round report shows, worked out from the evidence (no markup)."""
    moment = generated_at or datetime.now()
    return Report(
        classification=classification, title=e.collation.title, round=e.current.round if e.current else None,
        made=f"{moment:%d/%m/%Y %H:%M}", audits=plural(len(e.in_round), "audit"), teams=sorted(e.teams().items()),
        previous=e.previous.round if e.previous else None, include_text=include_text, headline=_headline(e),
        grades=_grades(e), trend=_trend(e), small=e.collation.small_group,
        suppression=suppression_note(e.collation.small_group),
        suppressed=suppressed(e.cohorts, e.collation.small_group), cohorts=_cohorts(e), not_audited=_not_audited(e),
        themes=_themes(e), actions=_actions(e, include_text), returns=_returns(e),
        findings=_findings(e) if include_text else None, urgent=_urgent(e, include_text),
        missing=_missing(e, include_text), moderated=sum(1 for m in e.in_round if m.original is not None),
        reaudits=reaudit_section(e, e.collation.small_group))


#: A line break followed by indentation in a template's markup: the line goes on from the one before.
_CONTINUED = re.compile(r"\n[ \t]+")


def _template_source(name: str) -> tuple[str, str, Callable[[], bool]]:
    """A template's source from the package (an installed wheel too), for jinja2's FunctionLoader.

    In the .html.j2 templates an indented line continues the line before it: the line break and indentation are
    there to be read and are not written out (a space that falls there is written {{ ' ' }}), so the page has the
    compact markup it always had, with no whitespace added between table cells or inside a span of free text kept
    with its line breaks. A line break before an unindented line is written. This reads the template's source only,
    never the data.
    """
    path = resources.files("auditbook.outputs") / "templates" / name
    source = path.read_text(encoding="utf-8")
    if name.endswith(".html.j2"):
        source = _CONTINUED.sub("", source)
    return source, str(path), lambda: True


@functools.cache
def _template() -> jinja2.Template:
    """The report's template, compiled once a process."""
    # Imported here, not at the top: every command loads this module through the CLI, only `report` and `demo` need
    # jinja2, and importing it takes some 30 ms of CPU that the others would spend for nothing.
    import jinja2

    env = jinja2.Environment(loader=jinja2.FunctionLoader(_template_source), autoescape=True,
                             undefined=jinja2.StrictUndefined, auto_reload=False)
    env.filters.update(css_string=_css_string, coord=_coord)
    env.globals.update(INK=INK, LIGHT=LIGHT, ACTIONS_SHOWN=ACTIONS_SHOWN)
    return env.get_template("report.html.j2")


def render(e: Evidence, *, classification: str = "OFFICIAL-SENSITIVE", include_text: bool = False,
           generated_at: datetime | None = None) -> str:
    """The report as one HTML document."""
    report = report_of(e, classification=classification, include_text=include_text, generated_at=generated_at)
    return _template().render(r=report)


def write_report(e: Evidence, out: Path, *, classification: str = "OFFICIAL-SENSITIVE", include_text: bool = False,
                 generated_at: datetime | None = None) -> Path:
    """Write the report (whole or not at all)."""
    html = render(e, classification=classification, include_text=include_text, generated_at=generated_at)
    with replacing(out, prefix=temporary("report")) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return out
