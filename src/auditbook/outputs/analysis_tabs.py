"""The master's tabs of figures: Grades (this round by section), Cohorts, Trends, Themes and the SAG action plan."""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.worksheet import Worksheet

from auditbook.analysis.cohorts import SMALL
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
    """This round's grades per section: counts, shares, % good or better, and the change from the previous round."""
    c = e.collation
    cols = [Column("Section", 34, WRAP), Column("Audits graded", 9, INT), *[Column(g, 11, INT) for g in c.grades],
            Column("% Good or better", 10, PCT), Column("Previous round", 10, PCT),
            Column("Change (points)", 9, CHANGE)]
    ws = s.sheet("Grades", [col.width for col in cols])
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    title = f"Grades in {e.current.round}" if e.current else "Grades (no audits merged)"
    ws.write_string(0, 0, title, s.title)
    if e.previous:
        s.explain(ws, 1, f"Compared with {e.previous.round}: the change is in percentage points.",
                  [col.width for col in cols])
    rows: list[list[Cell]] = [[r.scope, r.graded, *[r.counts.get(g, 0) for g in c.grades], _pct(r.share),
                               _pct(r.before), r.change] for r in e.by_scope()]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 1)
    ws.repeat_rows(3)
    if rows:
        chart = s.wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
        for i in range(len(c.grades)):
            chart.add_series({"name": ["Grades", 3, 2 + i], "categories": ["Grades", 4, 0, 3 + len(rows), 0],
                              "values": ["Grades", 4, 2 + i, 3 + len(rows), 2 + i],
                              "fill": {"color": GRADE_COLOURS[i % len(GRADE_COLOURS)]}, "border": {"color": SEPARATOR}})
        chart.set_title({"name": "Share of each grade by section"})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom"})
        # On a page of its own, under the repeated header row rather than through it.
        s.page_break(ws, [nxt])
        s.insert_chart(ws, nxt, 0, chart, about=f"Stacked bar chart: the share of each grade ({', '.join(c.grades)}) "
                       "by section this round.", figures=(3, 0, 3 + len(rows), 1 + len(c.grades)),
                       options={"x_scale": 2.0, "y_scale": 1.6})


def cohorts_tab(s: Sheets, e: Evidence) -> None:
    """Overall grades and % good or better by group of children, with the audits behind each figure."""
    c = e.collation
    cols = [Column("Group of children", 14, WRAP), Column("Group", 26, WRAP), Column("Audits", 8, INT),
            *[Column(g, 11, INT) for g in c.grades], Column("% Good or better", 10, PCT), Column("Note", 30, WRAP)]
    widths = [col.width for col in cols]
    ws = s.sheet("Cohorts", widths)
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    ws.write_string(0, 0, f"Cohorts in {e.current.round if e.current else '(no round)'}", s.title)
    s.explain(ws, 1, f"A group with fewer than {SMALL} audits is marked small: its shares move a lot with one audit. "
              "Groups are shown, never hidden. The overall grade is the auditor's judgement of the whole case.",
              widths)
    rows: list[list[Cell]] = [
        [r.dimension, r.group, r.audits, *r.grades, _pct(r.share),
         f"Small cohort (fewer than {SMALL} audits): read with care" if r.small else ""] for r in e.cohorts]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 2)
    ws.repeat_rows(3)
    if rows:
        ws.conditional_format(4, len(cols) - 1, 3 + len(rows), len(cols) - 1,
                              {"type": "text", "criteria": "begins with", "value": "Small", "format": s.amber})
    s.explain(ws, nxt, "Groups of children not audited this round", widths, s.bold)
    s.spread(ws, nxt + 1, ("Group of children", "Not audited"), e.not_audited_rows(), widths)


def trends_tab(s: Sheets, e: Evidence) -> None:
    """Grade shares and % good or better per round, overall and per section, with a small chart for each.

    The table runs scope by scope, each scope's rounds oldest first next to each other (so a change reads
    against the row above it), and each chart draws its scope's rows of the table itself: there is no second
    table to print under the first one's repeated header row.
    """
    c = e.collation
    cols = [Column("Round", 16, WRAP), Column("Scope", 32, WRAP), Column("Audits graded", 9, INT),
            *[Column(g, 11, PCT) for g in c.grades], Column("% Good or better", 10, PCT),
            Column("Change from previous round (points)", 11, CHANGE)]
    widths = [col.width for col in cols]
    ws = s.sheet("Trends", widths, 2)
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    ws.write_string(0, 0, "Trends across rounds", s.title)
    s.explain(ws, 1, f"Every round the ledger has seen ({len(e.rounds)}), oldest first, scope by scope. Shares are "
              "of the audits graded in that round; changes are in percentage points.", widths)
    place = {scope: i for i, scope in enumerate(e.scopes)}
    graded = [t for t in e.trends if t.graded]
    ordered = sorted(graded, key=lambda t: place.get(t.scope, len(place)))  # stable: rounds keep their order
    rows: list[list[Cell]] = [[t.round, t.scope, t.graded, *[_pct(n / t.graded) for n in t.counts], _pct(t.good),
                               t.change] for t in ordered]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 2)
    ws.repeat_rows(3)
    spans: dict[str, tuple[int, int]] = {}
    for r, t in enumerate(ordered, start=4):
        first, _ = spans.get(t.scope, (r, r))
        spans[t.scope] = (first, r)
    _trend_charts(s, ws, spans, nxt, good_col=3 + len(c.grades))


#: The small trend charts: how many across, their size in pixels, and the rows each takes (and how many per page).
_ACROSS, _CHART_W, _CHART_H, _CHART_ROWS, _PER_PAGE = 4, 215, 170, 9, 3


def _trend_charts(s: Sheets, ws: Worksheet, spans: dict[str, tuple[int, int]], row: int, good_col: int) -> None:
    """One small line chart per scope, from its rows of the table (rounds across, % good or better up): fifteen
    lines on one chart are unreadable, one chart each with the same 0-100 % scale compares at a glance."""
    breaks = []
    for k, (scope, (first, last)) in enumerate(spans.items()):
        chart = s.wb.add_chart({"type": "line"})
        heavy = scope == OVERALL
        chart.add_series({"name": scope, "categories": ["Trends", first, 0, last, 0],
                          "values": ["Trends", first, good_col, last, good_col],
                          "line": {"width": 2.5 if heavy else 1.75, "color": "#1F4E79" if heavy else "#2E75B6"},
                          "marker": {"type": "circle", "size": 5}})
        chart.set_title({"name": scope, "name_font": {"size": 9, "bold": heavy}})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1, "major_unit": 0.5, "num_font": {"size": 8}})
        chart.set_x_axis({"num_font": {"size": 8}})
        chart.set_legend({"none": True})
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


THEME_COLUMNS = (Column("Measure", 20, WRAP), Column("Scope", 16, WRAP), Column("Section", 22, WRAP),
                 Column("Item", 34, WRAP), Column("Kind", 9), Column("Audits", 7, INT), Column("Out of", 7, INT),
                 Column("Share", 7, PCT), Column("Previous round", 9, PCT), Column("Change (points)", 9, CHANGE),
                 Column("Rounds at or above threshold", 10, INT), Column("Recurring", 10), Column("Detail", 14, WRAP))


def theme_rows(e: Evidence) -> list[tuple[str, Ranked]]:
    """(measure, row) in the order the Themes tab and report show them."""
    t = e.themes
    if t is None:
        return []
    return [*[("Concern (theme tag)", r) for r in t.concerns], *[("Strength (theme tag)", r) for r in t.strengths],
            *[("Section needing action", r) for r in t.sections],
            *[(f"Question {e.collation.answered_short()}", r) for r in t.questions],
            *[(f"{'Concern' if r.kind == CONCERN else 'Strength'} by team", r) for r in t.by_team]]


def themes_tab(s: Sheets, e: Evidence) -> None:
    """Concerns and strengths apart, ranked by share, against the previous round; recurring concerns flagged."""
    rows = theme_rows(e)
    table = Table("Themes", THEME_COLUMNS, [
        (m, r.scope, r.section, r.item, r.kind, r.count, r.of, _pct(r.share), _pct(r.previous), r.change,
         r.rounds_high if r.kind in (CONCERN, "section") else None, "Recurring" if r.recurring else "", r.detail)
        for m, r in rows], key_columns=1)
    ws = s.tidy(table)
    t = e.themes
    note = (f"{t.current}" + (f" compared with {t.previous}" if t.previous else " (no earlier round to compare)")
            + f". Recurring: a concern at or above {e.collation.threshold:.0%} of the audits it could apply to in "
            "this round and in at least one earlier round. Strengths are never recurring.") if t else ""
    ws.write_string(0, len(THEME_COLUMNS) + 1, note, s.bold)
    n = len(rows)
    # The note beside the table is for the screen: printed, it would shrink the table to a fraction of the page.
    ws.print_area(0, 0, max(n, 1), len(THEME_COLUMNS) - 1)
    if n:
        kind_col = col_letter(4)
        ws.conditional_format(1, 0, n, 4, {"type": "formula", "criteria": f'=${kind_col}2="{STRENGTH}"',
                                           "format": s.good})
        ws.conditional_format(1, 11, n, 11, {"type": "cell", "criteria": "==", "value": '"Recurring"',
                                             "format": s.flag})


#: What the SAG action plan tab asks of the collator, beside its table and in its printed page header.
PLAN_NOTE = ("Type the SAG's thematic actions into the empty rows: the next collect gives each an ID, and the ledger "
             "keeps them for every later master.")


def plan_tab(s: Sheets, e: Evidence, theme_labels: Sequence[str]) -> None:
    """The SAG's thematic actions, typed here by the collator and kept by the ledger across collects and rounds."""
    cols = (Column("ID", 9), Column("Theme", 26, WRAP), Column("Action", 45, WRAP), Column("Owner", 18),
            Column("Due", 11, DATE), Column("Status", 12), Column("Linked themes", 26, WRAP), Column("Notes", 28, WRAP))
    assert tuple(c.header for c in cols) == PLAN_COLUMNS
    rows = [(p.id, p.theme, p.action, p.owner, p.due, p.status, p.linked, p.notes) for p in e.plan]
    blank = 15
    ws = s.tidy(Table("SAGPlan", cols, list(rows)), sheet=PLAN_TAB, extra_rows=blank)
    last = len(rows) + blank
    ws.data_validation(1, 5, last, 5, {"validate": "list", "source": list(PLAN_STATUSES)})
    if theme_labels:
        ws.data_validation(1, 1, last, 1, {"validate": "list", "source": "=Lists!$A$2:$A$" + str(len(theme_labels) + 1),
                                           "error_type": "information", "ignore_blank": True})
    ws.write_string(0, len(cols) + 1, PLAN_NOTE, s.note)
    # Printed, the note is in the page header of every page, and the table alone fills the page's width.
    s.print_heading(ws, PLAN_TAB, plural(len(rows), "action"), note=PLAN_NOTE)
    ws.print_area(0, 0, last, len(cols) - 1)
    ws.set_column(len(cols) + 1, len(cols) + 1, 40)


def lists_tab(s: Sheets, theme_labels: Sequence[str]) -> None:
    """A hidden tab of dropdown lists (theme labels)."""
    ws = s.wb.add_worksheet("Lists")
    ws.write_string(0, 0, "Theme", s.head)
    for i, label in enumerate(theme_labels, start=1):
        ws.write_string(i, 0, label, s.text)
    ws.hide()


__all__ = ["cohorts_tab", "grades_tab", "lists_tab", "plan_tab", "themes_tab", "trends_tab"]
