"""The master's Summary tab: the round's headline figures and counts, then its charts, each on a page of its own.

Printed, it keeps every word: labels and headings wrap in rows as tall as their text, lists span the tab's
width (merged), and the charts come after the tables, below a page break, never under the repeated title rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from xlsxwriter.worksheet import Worksheet

from auditbook.analysis.actions import State
from auditbook.analysis.evidence import Evidence
from auditbook.analysis.tracking import RETURN_STATUSES
from auditbook.analysis.trends import OVERALL, good_share
from auditbook.analysis.urgent import open_concerns
from auditbook.outputs.sheets import Cell, Sheets
from auditbook.outputs.svg import GRADE_COLOURS, SEPARATOR
from auditbook.outputs.tidy import INT, WRAP, Column
from auditbook.text import plural

#: The Summary's columns: labels, then four of figures (wide enough for a grade's name over two lines).
WIDTHS = (44.0, 14.0, 14.0, 14.0, 14.0)
#: What the note under the title says about printing the master.
PRINTING = ("To print: this tab and Grades, Cohorts, Trends, Themes and Actions. Audits, Answers, Findings and "
            "Dictionary are tables to filter or read with Power Query; printed whole they run to hundreds of pages.")
#: Rows a chart takes on the sheet (20-pixel rows), to anchor the next one below it.
_CHART_ROWS = 26


def summary_tab(s: Sheets, e: Evidence, generated_at: datetime) -> None:
    """The Summary tab."""
    c = e.collation
    ws = s.sheet("Summary", WIDTHS)
    for i, width in enumerate(WIDTHS):
        ws.set_column(i, i, width)
    ws.write_string(0, 0, f"{c.title}: master collation", s.title)
    ws.write_string(1, 0, s.classification, s.red)
    ws.write_string(2, 0, f"Collected {generated_at:%d/%m/%Y %H:%M}", s.text)
    s.explain(ws, 3, PRINTING, WIDTHS)
    facts = _facts(e)
    ws.write_string(4, 0, "Counts", s.head)
    ws.write_string(4, 1, "", s.head)
    fmt = {"pct": s.pct, "change": s.change, "": s.text}
    for r, (label, value, kind) in enumerate(facts, start=5):
        ws.write_string(r, 0, label, s.wrap)
        s.write(ws, r, 1, value, fmt[kind])
        s.fit_row(ws, r, [label], WIDTHS[:1], [True])
    ws.freeze_panes(4, 0)
    ws.autofilter(4, 0, 4 + len(facts), 1)
    ws.repeat_rows(0, 1)
    row = 5 + len(facts) + 1
    row = s.block(ws, row, [Column("Audits this round by team", WIDTHS[0], WRAP), Column("Audits", WIDTHS[1], INT)],
                  sorted(e.teams().items()))
    row = s.spread(ws, row, ("Groups of children not audited this round", "Groups"), e.not_audited_rows(), WIDTHS)
    row = _register_notes(s, ws, e, row)
    sections_at = _overall_grades(s, ws, e, row)
    sections = [sc for sc in e.scopes if sc != OVERALL and e.current and sc in e.current.sections]
    end = _section_grades(s, ws, e, sections, sections_at)
    _charts(s, ws, e, sections, row, sections_at, end)


def _facts(e: Evidence) -> list[tuple[str, Cell, str]]:
    c = e.collation
    merged = c.merged
    rounds = [r.round for r in e.rounds if r.round in {m.round for m in merged}]
    due = [d for m in merged if isinstance(d := m.audit.due_date, date)]
    cur, prev = e.current, e.previous
    share, before = e.overall_share()
    changed = e.overall_change()
    facts: list[tuple[str, Cell, str]] = [
        ("This round", cur.round if cur else "(none)", ""),
        ("Audits this round", cur.audits if cur else 0, ""),
        ("Overall % Good or better this round", share, "pct"),
        ("Overall grades behind it this round (n)", good_share(cur.overall, c.grades, c.good_or_better)[0] if cur
         else 0, ""),
        (f"Overall % Good or better in {prev.round}" if prev else "Previous round", before if prev else "(none)",
         "pct"),
        *([(f"Overall grades behind it in {prev.round} (n)", good_share(prev.overall, c.grades, c.good_or_better)[0],
            "")] if prev else []),
        ("Change since the previous round (percentage points)", changed.points, "change"),
        ("Change since the previous round", changed.words() or "(no earlier round)", ""),
        (f"Recurring themes this round (see Themes). {e.definition()}", len(e.recurring()), ""),
        ("Actions overdue", len(e.overdue()), ""),
        ("Actions with conflicting edits", sum(1 for a in e.actions if e.states.get(a.id, State()).conflict), ""),
        ("Rounds covered", ", ".join(rounds) or "(none)", ""),
        ("Due dates from", min(due) if due else None, ""),
        ("Due dates to", max(due) if due else None, ""),
        ("Audits merged", len(merged), ""),
        ("Files rejected", c.count("rejected"), ""),
        ("Files superseded or duplicate", c.count("superseded") + c.count("duplicate"), ""),
        ("Late returns", sum(1 for m in merged if m.audit.late), ""),
        # Every return's, merged or not (the Urgent concerns tab lists them).
        ("Urgent concerns raised", len(e.urgent), ""),
        ("Urgent concerns open", len(open_concerns(e.urgent, e.states)), ""),
        ("Source files missing (kept from the ledger)", sum(1 for m in merged if m.source_missing), ""),
    ]
    if c.moderations:
        facts.append(("Audits moderated: their figures count the moderator's grades (see Moderation)",
                      sum(1 for m in merged if m.original is not None), ""))
    if e.returns is not None:
        statuses = Counter(r.status for r in e.returns)
        facts += [(f"Allocated: {st.lower()}", statuses.get(st, 0), "") for st in RETURN_STATUSES]
    return facts


def _register_notes(s: Sheets, ws: Worksheet, e: Evidence, row: int) -> int:
    """Edits to the action register that need a look, each across the tab's width."""
    notes = list(e.readback.problems)
    if e.readback.conflicts:
        notes.insert(0, f"{plural(e.readback.conflicts, 'action was', 'actions were')} changed differently in the "
                        "master and a pack: see Conflicting edits on the Actions tab.")
    if not notes:
        return row
    s.explain(ws, row, "Action register: edits that need a look", WIDTHS, s.head)
    for r, note in enumerate(notes, start=row + 1):
        s.explain(ws, r, note, WIDTHS, s.wrap)
    return row + len(notes) + 2


def _overall_grades(s: Sheets, ws: Worksheet, e: Evidence, row: int) -> int:
    """The round's overall grades (the auditors' judgement of each whole case); returns the next free row."""
    counts = e.current.overall if e.current else {}
    rows: list[list[Cell]] = [[grade, counts.get(grade, 0)] for grade in e.collation.grades]
    return s.block(ws, row, [Column("Overall grade this round", WIDTHS[0], WRAP), Column("Audits", WIDTHS[1], INT)],
                   rows)


def _section_grades(s: Sheets, ws: Worksheet, e: Evidence, sections: list[str], row: int) -> int:
    """Each graded section's grades this round; returns the next free row."""
    c = e.collation
    graded = e.current.sections if e.current else {}
    rows: list[list[Cell]] = [[title, *[graded[title].get(g, 0) for g in c.grades],
                               f"{title} (n={sum(graded[title].get(g, 0) for g in c.grades)})"] for title in sections]
    cols = [Column("Section grades this round", WIDTHS[0], WRAP),
            *[Column(g, WIDTHS[1 + i] if 1 + i < len(WIDTHS) else WIDTHS[-1], INT) for i, g in enumerate(c.grades)],
            Column("Chart label (n)", WIDTHS[0], WRAP)]
    return s.block(ws, row, cols, rows) if sections else row


def _charts(s: Sheets, ws: Worksheet, e: Evidence, sections: list[str], overall_row: int, sections_row: int,
            end: int) -> None:
    """The overall grades and the section grades as charts, each on a page of its own after the tables."""
    c = e.collation
    breaks = []
    if c.grades:
        chart = s.wb.add_chart({"type": "column"})
        first, last = overall_row + 1, overall_row + len(c.grades)
        chart.add_series({"name": "Audits", "categories": ["Summary", first, 0, last, 0],
                          "values": ["Summary", first, 1, last, 1], "fill": {"color": "#1F4E79"},
                          "data_labels": {"value": True}})
        total = sum(e.current.overall.get(g, 0) for g in c.grades) if e.current else 0
        chart.set_title({"name": f"Overall grades this round, n={total} (the auditor's judgement of the whole case)",
                         "name_font": {"size": 11}})
        chart.set_legend({"none": True})
        breaks.append(end)
        s.insert_chart(ws, end, 0, chart, about="Column chart: the overall grades this round, audits of each.",
                       figures=(overall_row, 0, last, 1), options={"x_scale": 1.5, "y_scale": 1.2})
        end += _CHART_ROWS
    if sections:
        chart = s.wb.add_chart({"type": "bar", "subtype": "stacked"})
        last = sections_row + len(sections)
        label = len(c.grades) + 1  # the column of each section's title with its n
        for col in range(1, len(c.grades) + 1):
            chart.add_series({"name": ["Summary", sections_row, col],
                              "categories": ["Summary", sections_row + 1, label, last, label],
                              "values": ["Summary", sections_row + 1, col, last, col],
                              "fill": {"color": GRADE_COLOURS[(col - 1) % len(GRADE_COLOURS)]},
                              "border": {"color": SEPARATOR}})
        chart.set_title({"name": "Grades by section this round (n: sections graded)"})
        # The labels with their n are in a hidden column (the printed table has the titles and counts already).
        ws.set_column(label, label, WIDTHS[0], None, {"hidden": True})
        chart.show_hidden_data()
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom"})
        breaks.append(end)
        s.insert_chart(ws, end, 0, chart, about="Stacked bar chart: the grades of each section this round.",
                       figures=(sections_row, 0, last, len(c.grades)), options={"x_scale": 1.5, "y_scale": 1.6})
    s.page_break(ws, breaks)
