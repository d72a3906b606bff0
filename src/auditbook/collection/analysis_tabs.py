"""The master's tabs of figures: Grades (this round by section), Cohorts, Trends, Themes and the SAG action plan."""

from __future__ import annotations

from collections.abc import Sequence

from auditbook.collection.cohorts import SMALL
from auditbook.collection.evidence import Evidence
from auditbook.collection.register import PLAN_COLUMNS, PLAN_TAB
from auditbook.collection.sheets import Cell, Sheets
from auditbook.collection.themes import CONCERN, STRENGTH, Ranked
from auditbook.collection.tidy import CHANGE, DATE, INT, PCT, WRAP, Column, Table
from auditbook.collection.trends import OVERALL, good_share, points
from auditbook.workbook.layout import col_letter

STATUSES_SAG = ("Not started", "In progress", "Done", "Withdrawn")
COLOURS = ("#2E75B6", "#70AD47", "#FFC000", "#C00000", "#7030A0", "#808080")


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def grades_tab(s: Sheets, e: Evidence) -> None:
    """This round's grades per section: counts, shares, % good or better, and the change from the previous round."""
    c = e.collation
    cols = [Column("Section", 34), Column("Audits graded", 9, INT), *[Column(g, 11, INT) for g in c.grades],
            Column("% Good or better", 10, PCT), Column("Previous round", 10, PCT),
            Column("Change (points)", 9, CHANGE)]
    ws = s.sheet("Grades", [col.width for col in cols])
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    title = f"Grades in {e.current.round}" if e.current else "Grades (no audits merged)"
    ws.write_string(0, 0, title, s.title)
    if e.previous:
        ws.write_string(1, 0, f"Compared with {e.previous.round}.", s.note)
    rows: list[list[Cell]] = []
    if e.current is not None:
        for scope in e.scopes:
            counts = e.current.scope(scope)
            graded, share = good_share(counts, c.grades, c.good_or_better)
            if not graded:
                continue
            before = good_share(e.previous.scope(scope), c.grades, c.good_or_better)[1] if e.previous else None
            rows.append([scope, graded, *[counts.get(g, 0) for g in c.grades], _pct(share), _pct(before),
                         points(share, before)])
    s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 1)
    ws.repeat_rows(3)
    if rows:
        chart = s.wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
        for i in range(len(c.grades)):
            chart.add_series({"name": ["Grades", 3, 2 + i], "categories": ["Grades", 4, 0, 3 + len(rows), 0],
                              "values": ["Grades", 4, 2 + i, 3 + len(rows), 2 + i],
                              "fill": {"color": COLOURS[i % len(COLOURS)]}})
        chart.set_title({"name": "Share of each grade by section"})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom"})
        ws.insert_chart(len(rows) + 6, 0, chart, {"x_scale": 2.0, "y_scale": 1.6})


def cohorts_tab(s: Sheets, e: Evidence) -> None:
    """Overall grades and % good or better by group of children, with the audits behind each figure."""
    c = e.collation
    cols = [Column("Group of children", 14), Column("Group", 26), Column("Audits", 8, INT),
            *[Column(g, 11, INT) for g in c.grades], Column("% Good or better", 10, PCT), Column("Note", 30, WRAP)]
    ws = s.sheet("Cohorts", [col.width for col in cols])
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    ws.write_string(0, 0, f"Cohorts in {e.current.round if e.current else '(no round)'}", s.title)
    ws.write_string(1, 0, f"A group with fewer than {SMALL} audits is marked small: its shares move a lot with one "
                          "audit. Groups are shown, never hidden.", s.note)
    rows: list[list[Cell]] = [
        [r.dimension, r.group, r.audits, *r.grades, _pct(r.share),
         f"Small cohort (fewer than {SMALL} audits): read with care" if r.small else ""] for r in e.cohorts]
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 2)
    ws.repeat_rows(3)
    if rows:
        ws.conditional_format(4, len(cols) - 1, 3 + len(rows), len(cols) - 1,
                              {"type": "text", "criteria": "begins with", "value": "Small", "format": s.amber})
    missing = [[dim, ", ".join(groups)] for dim, groups in e.not_audited.items()]
    ws.write_string(nxt, 0, "Groups of children not audited this round", s.bold)
    s.block(ws, nxt + 1, [Column("Group of children", 14), Column("Not audited", 80, WRAP)],
            missing or [["(none)", "every group the spec names had at least one audit"]])


def trends_tab(s: Sheets, e: Evidence) -> None:
    """Grade shares and % good or better per round, overall and per section, with a line chart."""
    c = e.collation
    cols = [Column("Round", 16), Column("Scope", 32), Column("Audits graded", 9, INT),
            *[Column(g, 11, PCT) for g in c.grades], Column("% Good or better", 10, PCT),
            Column("Change from previous round (points)", 11, CHANGE)]
    ws = s.sheet("Trends", [col.width for col in cols], 2)
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width)
    ws.write_string(0, 0, "Trends across rounds", s.title)
    ws.write_string(1, 0, f"Every round the ledger has seen ({len(e.rounds)}), oldest first. Shares are of the "
                          "audits graded in that round.", s.note)
    rows: list[list[Cell]] = []
    for t in e.trends:
        if not t.graded:
            continue
        rows.append([t.round, t.scope, t.graded, *[_pct(n / t.graded) for n in t.counts], _pct(t.good),
                     t.change])
    nxt = s.block(ws, 3, cols, rows)
    ws.freeze_panes(4, 2)
    ws.repeat_rows(3)
    # The chart reads a small grid: rounds down, scopes across, % good or better in the cells.
    ws.write_string(nxt, 0, "% Good or better by round (chart data)", s.bold)
    grid_row = nxt + 1
    ws.write_string(grid_row, 0, "Round", s.head)
    for j, scope in enumerate(e.scopes, start=1):
        ws.write_string(grid_row, j, scope, s.head)
    by = {(t.round, t.scope): t.good for t in e.trends}
    for i, r in enumerate(e.rounds, start=grid_row + 1):
        s.write(ws, i, 0, r.round, s.text)
        for j, scope in enumerate(e.scopes, start=1):
            s.write(ws, i, j, _pct(by.get((r.round, scope))), s.pct)
    if e.rounds:
        chart = s.wb.add_chart({"type": "line"})
        last = grid_row + len(e.rounds)
        for j, scope in enumerate(e.scopes, start=1):
            line = {"width": 3.0, "color": "#1F4E79"} if scope == OVERALL else {"width": 1.25}
            chart.add_series({"name": ["Trends", grid_row, j], "categories": ["Trends", grid_row + 1, 0, last, 0],
                              "values": ["Trends", grid_row + 1, j, last, j], "line": line,
                              "marker": {"type": "circle", "size": 5}})
        chart.set_title({"name": "% Good or better by round"})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"position": "right"})
        ws.insert_chart(3, len(cols) + 1, chart, {"x_scale": 1.8, "y_scale": 1.6})


THEME_COLUMNS = (Column("Measure", 20, WRAP), Column("Scope", 16, WRAP), Column("Section", 22, WRAP),
                 Column("Item", 34, WRAP), Column("Kind", 9), Column("Audits", 7, INT), Column("Out of", 7, INT),
                 Column("Share", 7, PCT), Column("Previous round", 9, PCT), Column("Change (points)", 9, CHANGE),
                 Column("Rounds at or above threshold", 10, INT), Column("Recurring", 10), Column("Detail", 12))


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
    if n:
        kind_col = col_letter(4)
        ws.conditional_format(1, 0, n, 4, {"type": "formula", "criteria": f'=${kind_col}2="{STRENGTH}"',
                                           "format": s.good})
        ws.conditional_format(1, 11, n, 11, {"type": "cell", "criteria": "==", "value": '"Recurring"',
                                             "format": s.flag})


def plan_tab(s: Sheets, e: Evidence, theme_labels: Sequence[str]) -> None:
    """The SAG's thematic actions, typed here by the collator and kept by the ledger across collects and rounds."""
    cols = (Column("ID", 9), Column("Theme", 26, WRAP), Column("Action", 45, WRAP), Column("Owner", 18),
            Column("Due", 11, DATE), Column("Status", 12), Column("Linked themes", 26, WRAP), Column("Notes", 30, WRAP))
    assert tuple(c.header for c in cols) == PLAN_COLUMNS
    rows = [(p.id, p.theme, p.action, p.owner, p.due, p.status, p.linked, p.notes) for p in e.plan]
    blank = 15
    ws = s.tidy(Table("SAGPlan", cols, list(rows)), sheet=PLAN_TAB, extra_rows=blank)
    last = len(rows) + blank
    ws.data_validation(1, 5, last, 5, {"validate": "list", "source": list(STATUSES_SAG)})
    if theme_labels:
        ws.data_validation(1, 1, last, 1, {"validate": "list", "source": "=Lists!$A$2:$A$" + str(len(theme_labels) + 1),
                                           "error_type": "information", "ignore_blank": True})
    ws.write_string(0, len(cols) + 1, "Type the Self-Assessment Group's thematic actions into the empty rows (the ID "
                    "is given on the next collect). They are kept by the ledger: every later master shows them.",
                    s.note)
    ws.set_column(len(cols) + 1, len(cols) + 1, 40)


def lists_tab(s: Sheets, theme_labels: Sequence[str]) -> None:
    """A hidden tab of dropdown lists (theme labels)."""
    ws = s.wb.add_worksheet("Lists")
    ws.write_string(0, 0, "Theme", s.head)
    for i, label in enumerate(theme_labels, start=1):
        ws.write_string(i, 0, label, s.text)
    ws.hide()


__all__ = ["cohorts_tab", "grades_tab", "lists_tab", "plan_tab", "themes_tab", "trends_tab"]
