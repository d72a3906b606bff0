"""The master's tabs of figures: Grades (this round by section), Cohorts, Trends, Themes and the SAG action plan."""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.worksheet import Worksheet

from auditbook.analysis.cohorts import CohortRow, suppression_note
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.plan import PLAN_COLUMNS, PLAN_STATUSES
from auditbook.analysis.themes import CONCERN, STRENGTH, Ranked
from auditbook.analysis.trends import OVERALL
from auditbook.outputs.sheets import Cell, Sheets
from auditbook.outputs.svg import GRADE_COLOURS, SEPARATOR
from auditbook.outputs.tidy import CHANGE, DATE, INT, PCT, WRAP, Column, Table
from auditbook.spec.layout import col_letter
from auditbook.store.register import PLAN_TAB
from auditbook.text import plural


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def grades_tab(s: Sheets, e: Evidence) -> None:
    """This round's grades per section: counts, shares, % good or better, and the change from the previous round
    (in points and in words, better or worse), each bar of its chart labelled with the audits behind it."""
    c = e.collation
    cols = [Column("Section", 34, WRAP), Column("Audits graded", 9, INT), *[Column(g, 11, INT) for g in c.grades],
            Column("% Good or better", 10, PCT), Column("Previous round", 10, PCT),
            Column("Change (points)", 9, CHANGE), Column("Change", 20, WRAP), Column("Chart label (n)", 30, WRAP)]
    printed = [col.width for col in cols[:-1]]  # the chart's labels are in a hidden last column
    ws = s.sheet("Grades", printed)
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    title = f"Grades in {e.current.round}" if e.current else "Grades (no audits merged)"
    ws.write_string(0, 0, title, s.title)
    if e.previous:
        s.explain(ws, 1, f"Compared with {e.previous.round}: the change is in percentage points. "
                  + CHANGES.format(n=c.min_audits), printed)
    rows: list[list[Cell]] = [[r.scope, r.graded, *[r.counts.get(g, 0) for g in c.grades], _pct(r.share),
                               _pct(r.before), r.change, r.changed.words(), f"{r.scope} (n={r.graded})"]
                              for r in e.by_scope()]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 1)
    ws.repeat_rows(3)
    if rows:
        label = len(cols) - 1
        chart = s.wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
        for i in range(len(c.grades)):
            chart.add_series({"name": ["Grades", 3, 2 + i], "categories": ["Grades", 4, label, 3 + len(rows), label],
                              "values": ["Grades", 4, 2 + i, 3 + len(rows), 2 + i],
                              "fill": {"color": GRADE_COLOURS[i % len(GRADE_COLOURS)]},
                              "border": {"color": SEPARATOR}})
        chart.set_title({"name": "Share of each grade by section (n: audits graded)"})
        # The labels with their n are in a hidden column (the printed table has the sections and n already).
        ws.set_column(label, label, cols[label].width, None, {"hidden": True})
        chart.show_hidden_data()
        chart.set_y_axis({"reverse": True})
        # Labels with their n leave the bars less room: a label every quarter, never crowded.
        chart.set_x_axis({"major_unit": 0.25})
        chart.set_legend({"position": "bottom"})
        # On a page of its own, under the repeated header row rather than through it.
        s.page_break(ws, [nxt])
        s.insert_chart(ws, nxt, 0, chart, about=f"Stacked bar chart: the share of each grade ({', '.join(c.grades)}) "
                       "by section this round.", figures=(3, 0, 3 + len(rows), 1 + len(c.grades)),
                       options={"x_scale": 2.0, "y_scale": 1.6})


#: How the master says when a change is shown.
CHANGES = ("A change is worked out from the unrounded shares, says whether it is better or worse, and is shown only "
           "when both rounds have at least {n} audits behind it.")


def cohorts_tab(s: Sheets, e: Evidence) -> None:
    """Overall grades and % good or better by group of children, with the audits behind each figure; a group under
    the small-group size (and one more where a total would give it away) shows "fewer than N" and no figures."""
    c = e.collation
    cols = [Column("Group of children", 14, WRAP), Column("Group", 26, WRAP), Column("Audits", 8, INT),
            *[Column(g, 11, INT) for g in c.grades], Column("% Good or better", 10, PCT), Column("Note", 30, WRAP)]
    widths = [col.width for col in cols]
    ws = s.sheet("Cohorts", widths)
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    ws.write_string(0, 0, f"Cohorts in {e.current.round if e.current else '(no round)'}", s.title)
    s.explain(ws, 1, suppression_note(c.small_group) + " The overall grade is the auditor's judgement of the whole "
              "case.", widths)
    rows: list[list[Cell]] = [[r.dimension, r.group, *cohort_figures(r, c.small_group)] for r in e.cohorts]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 2)
    ws.repeat_rows(3)
    if rows:
        ws.conditional_format(4, len(cols) - 1, 3 + len(rows), len(cols) - 1,
                              {"type": "text", "criteria": "begins with", "value": "Suppressed", "format": s.amber})
    s.explain(ws, nxt, "Groups of children not audited this round", widths, s.bold)
    s.spread(ws, nxt + 1, ("Group of children", "Not audited"), e.not_audited_rows(), widths)


def cohort_figures(r: CohortRow, small: int) -> list[Cell]:
    """A group's audits, grade counts, share and note, or what stands for them when it is suppressed."""
    if r.suppressed == "small":
        return [f"fewer than {small}", *[None] * len(r.grades), None, f"Suppressed: fewer than {small} audits"]
    if r.suppressed:
        return ["suppressed", *[None] * len(r.grades), None,
                "Suppressed too, so that a smaller group cannot be worked out from the total"]
    return [r.audits, *r.grades, _pct(r.share), ""]


def trends_tab(s: Sheets, e: Evidence) -> None:
    """Grade shares and % good or better per round, overall and per section, with a small chart for each.

    The table runs scope by scope, each scope's rounds oldest first next to each other (so a change reads
    against the row above it), and each chart draws its scope's rows of the table itself: there is no second
    table to print under the first one's repeated header row.
    """
    c = e.collation
    cols = [Column("Round", 16, WRAP), Column("Scope", 32, WRAP), Column("Audits graded", 9, INT),
            *[Column(g, 11, PCT) for g in c.grades], Column("% Good or better", 10, PCT),
            Column("Change from previous round (points)", 11, CHANGE), Column("Change", 20, WRAP),
            Column("Chart label (n)", 20, WRAP)]
    widths = [col.width for col in cols[:-1]]  # the charts' labels are in a hidden last column
    ws = s.sheet("Trends", widths, 2)
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    ws.write_string(0, 0, "Trends across rounds", s.title)
    s.explain(ws, 1, f"Every round the ledger has seen ({len(e.rounds)}), oldest first, scope by scope. Shares are "
              "of the audits graded in that round; changes are in percentage points. "
              + CHANGES.format(n=c.min_audits), widths)
    place = {scope: i for i, scope in enumerate(e.scopes)}
    graded = [t for t in e.trends if t.graded]
    ordered = sorted(graded, key=lambda t: place.get(t.scope, len(place)))  # stable: rounds keep their order
    rows: list[list[Cell]] = [[t.round, t.scope, t.graded, *[_pct(n / t.graded) for n in t.counts], _pct(t.good),
                               t.change, t.changed.words(), f"{t.round} (n={t.graded})"] for t in ordered]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 2)
    ws.repeat_rows(3)
    spans: dict[str, tuple[int, int]] = {}
    for r, t in enumerate(ordered, start=4):
        first, _ = spans.get(t.scope, (r, r))
        spans[t.scope] = (first, r)
    label = len(cols) - 1
    # Each point's round with its n labels the charts, from a hidden column (the printed table has both already).
    ws.set_column(label, label, cols[label].width, None, {"hidden": True})
    _trend_charts(s, ws, spans, nxt, good_col=3 + len(c.grades), label_col=label)


#: The small trend charts: how many across, their size in pixels, and the rows each takes (and how many per page).
_ACROSS, _CHART_W, _CHART_H, _CHART_ROWS, _PER_PAGE = 4, 215, 170, 9, 3


def _trend_charts(s: Sheets, ws: Worksheet, spans: dict[str, tuple[int, int]], row: int, good_col: int,
                  label_col: int = 0) -> None:
    """One small line chart per scope, from its rows of the table (rounds across, % good or better up): fifteen
    lines on one chart are unreadable, one chart each with the same 0-100 % scale compares at a glance."""
    breaks = []
    for k, (scope, (first, last)) in enumerate(spans.items()):
        chart = s.wb.add_chart({"type": "line"})
        heavy = scope == OVERALL
        chart.add_series({"name": scope, "categories": ["Trends", first, label_col, last, label_col],
                          "values": ["Trends", first, good_col, last, good_col],
                          "line": {"width": 2.5 if heavy else 1.75, "color": "#1F4E79" if heavy else "#2E75B6"},
                          "marker": {"type": "circle", "size": 5}})
        chart.set_title({"name": scope, "name_font": {"size": 9, "bold": heavy}})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1, "major_unit": 0.5, "num_font": {"size": 8}})
        chart.set_x_axis({"num_font": {"size": 8}})
        chart.set_legend({"none": True})
        chart.show_hidden_data()
        chart.set_size({"width": _CHART_W, "height": _CHART_H})
        band, across = divmod(k, _ACROSS)
        at_row = row + band * _CHART_ROWS
        if band % _PER_PAGE == 0 and across == 0:
            breaks.append(at_row)
        s.insert_chart(ws, at_row, 0, chart, about=f"Line chart: % good or better by round, {scope}.",
                       figures=(first, 0, last, good_col),
                       options={"x_offset": across * (_CHART_W + 10), "y_offset": 4, "object_position": 3})
    # Each page of charts starts clear of the table (the repeated header row still prints above them).
    s.page_break(ws, breaks)


THEME_COLUMNS = (Column("Measure", 18, WRAP), Column("Scope", 14, WRAP), Column("Section", 18, WRAP),
                 Column("Item", 28, WRAP), Column("Kind", 8), Column("Audits", 7, INT), Column("Out of", 7, INT),
                 Column("Share", 7, PCT), Column("Previous round", 8, PCT), Column("Change (points)", 7, CHANGE),
                 Column("Change", 14, WRAP), Column("Recurring", 9), Column("Persistent", 9),
                 Column("First recurred in", 11, WRAP), Column("Detail", 10, WRAP))
#: The Themes tab prints on one page's width (PAGE_WIDTH): every page has the measure and its flags.


def theme_rows(e: Evidence) -> list[tuple[str, Ranked]]:
    """(measure, row) in the order the Themes tab and report show them."""
    t = e.themes
    if t is None:
        return []
    return [*[("Concern (theme tag)", r) for r in t.concerns], *[("Strength (theme tag)", r) for r in t.strengths],
            *[("Section needing action", r) for r in t.sections],
            *[(f"Question {e.collation.answered_short()}", r) for r in t.questions],
            *[(f"{'Concern' if r.kind == CONCERN else 'Strength'} by team", r) for r in t.by_team]]


def _theme_row(measure: str, r: Ranked, small: int) -> tuple[Cell, ...]:
    if r.suppressed:
        return (measure, r.scope, r.section, r.item, r.kind, None, f"fewer than {small}", None, None, None,
                "suppressed", "", "", "", r.detail)
    return (measure, r.scope, r.section, r.item, r.kind, r.count, r.of, _pct(r.share), _pct(r.previous), r.change,
            r.changed.words(), "Recurring" if r.recurring else "", "Persistent" if r.persistent else "",
            r.first_seen, r.detail)


def themes_tab(s: Sheets, e: Evidence) -> None:
    """Concerns and strengths apart, ranked by count then share, against the previous round; recurring and persistent
    themes flagged, with the definition beside the table."""
    rows = theme_rows(e)
    small = e.collation.small_group
    table = Table("Themes", THEME_COLUMNS, [_theme_row(m, r, small) for m, r in rows], key_columns=1)
    ws = s.tidy(table)
    t = e.themes
    note = (f"{t.current}" + (f" compared with {t.previous}" if t.previous else " (no earlier round to compare)")
            + f". {e.definition()} Strengths are never recurring. {CHANGES.format(n=e.collation.min_audits)} "
            f"By team: a team with fewer than {small} audits shows no figures.") if t else ""
    ws.write_string(0, len(THEME_COLUMNS) + 1, note, s.bold)
    n = len(rows)
    # The note beside the table is for the screen: printed, it would shrink the table to a fraction of the page. The
    # definition prints on the Summary.
    ws.print_area(0, 0, max(n, 1), len(THEME_COLUMNS) - 1)
    if n:
        kind_col = col_letter(4)
        ws.conditional_format(1, 0, n, 4, {"type": "formula", "criteria": f'=${kind_col}2="{STRENGTH}"',
                                           "format": s.good})
        ws.conditional_format(1, 11, n, 12, {"type": "text", "criteria": "begins with", "value": "Recurring",
                                             "format": s.flag})
        ws.conditional_format(1, 12, n, 12, {"type": "text", "criteria": "begins with", "value": "Persistent",
                                             "format": s.flag})


def plan_tab(s: Sheets, e: Evidence, theme_labels: Sequence[str]) -> None:
    """The SAG's thematic actions: a row for each recurring theme (its figures and the round it first recurred in
    worked out on each collect), and what the SAG types (action, owner, due, status), kept by the ledger across
    collects and rounds. The instructions print under the table."""
    # One printed page wide (PAGE_WIDTH), so the instructions under the table print whole on the page.
    cols = (Column("ID", 9), Column("Theme", 22, WRAP), Column("Action", 34, WRAP), Column("Owner", 14, WRAP),
            Column("Due", 10, DATE), Column("Status", 11), Column("Linked themes", 16, WRAP), Column("Notes", 22, WRAP),
            Column("Figures this round", 24, WRAP), Column("First recurred in", 11, WRAP))
    assert tuple(c.header for c in cols[:len(PLAN_COLUMNS)]) == PLAN_COLUMNS
    rows = [(p.id, p.theme, p.action, p.owner, p.due, p.status, p.linked, p.notes, line.figures, line.first_seen)
            for line in e.plan_lines() for p in (line.row,)]
    blank = 15
    last = len(rows) + blank
    ws = _plan_table(s, cols, rows, last)
    s.print_heading(ws, PLAN_TAB, plural(len(rows), "row"))
    ws.data_validation(1, 5, last, 5, {"validate": "list", "source": list(PLAN_STATUSES)})
    if theme_labels:
        ws.data_validation(1, 1, last, 1, {"validate": "list", "source": "=Lists!$A$2:$A$" + str(len(theme_labels) + 1),
                                           "error_type": "information", "ignore_blank": True})
    s.explain(ws, last + 2, PLAN_HELP.format(definition=e.definition()), [c.width for c in cols], s.note)
    ws.print_area(0, 0, last + 2, len(cols) - 1)


def _plan_table(s: Sheets, cols: Sequence[Column], rows: Sequence[Sequence[Cell]], last: int) -> Worksheet:
    """The plan's Excel Table `SAGPlan` over rows 1..last, written by xlsxwriter itself (not FastRows, which puts its
    rows after every other row of the sheet): the instructions then print under it, rows in order."""
    widths = [c.width for c in cols]
    ws = s.sheet(PLAN_TAB, widths)
    formats = [s.by_kind.get(c.kind, s.text) for c in cols]
    for i, (c, fmt) in enumerate(zip(cols, formats, strict=True)):
        ws.set_column(i, i, c.width, fmt)
    ws.add_table(0, 0, last, len(cols) - 1, {
        "name": "SAGPlan", "style": "Table Style Light 9", "title": "SAGPlan",
        "description": f"SAGPlan: one row each, with the columns {', '.join(c.header for c in cols)}.",
        "columns": [{"header": c.header, "header_format": s.head} for c in cols]})
    s.fast.tables += 1  # FastRows numbers the tables after it in the order added
    s.fit_row(ws, 0, [c.header for c in cols], widths, [True] * len(cols))
    for r, values in enumerate(rows, start=1):
        for i, value in enumerate(values):
            s.write(ws, r, i, value, formats[i])
        s.fit_row(ws, r, values, widths, [c.kind == WRAP for c in cols])
    ws.freeze_panes(1, 0)
    ws.repeat_rows(0)
    return ws


#: What the SAG action plan tab says under its table, inside the printed area.
PLAN_HELP = ("A row is started for each theme recurring this round. {definition} Type the Self-Assessment Group's "
             "action, owner, due date and status into it, or a thematic action of your own into an empty row: the ID "
             "is given on the next collect, and the ledger keeps every row typed in for every later master. Figures "
             "this round and First recurred in are worked out on each collect.")


def lists_tab(s: Sheets, theme_labels: Sequence[str]) -> None:
    """A hidden tab of dropdown lists (theme labels)."""
    ws = s.wb.add_worksheet("Lists")
    ws.write_string(0, 0, "Theme", s.head)
    for i, label in enumerate(theme_labels, start=1):
        ws.write_string(i, 0, label, s.text)
    ws.hide()


__all__ = ["cohorts_tab", "grades_tab", "lists_tab", "plan_tab", "themes_tab", "trends_tab"]
