"""The master collation workbook and the team managers' packs, written with xlsxwriter.

Every auditor's text goes in as literal text. The tidy tabs (Audits, Answers, Findings, Actions,
Rejected, Dictionary, SAG action plan) are Excel Tables of the same names, for Power Query and Power BI.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from auditbook.atomic import replacing
from auditbook.collection.actions import ACTION_STATUSES, Action, State
from auditbook.collection.analysis_tabs import cohorts_tab, grades_tab, lists_tab, plan_tab, themes_tab, trends_tab
from auditbook.collection.collate import Collation
from auditbook.collection.evidence import Evidence
from auditbook.collection.sheets import BASE_FORMAT, Cell, Sheets
from auditbook.collection.sheetxml import Formula, row_height
from auditbook.collection.tidy import (
    ACTION_COLUMNS,
    ANSWER_COLUMNS,
    DATE,
    WRAP,
    Column,
    Table,
    actions_table,
    answer_groups,
    audits_table,
    dictionary_table,
    findings_table,
    rejected_table,
)
from auditbook.collection.tracking import RETURN_STATUSES
from auditbook.collection.trends import OVERALL, good_share, points
from auditbook.errors import CollectError
from auditbook.spec.roles import Role
from auditbook.text import plural
from auditbook.workbook.layout import col_letter
from auditbook.workbook.xlsx import WORKBOOK_OPTIONS, strict

#: Parts are zipped from memory (no temporary file per part) and plain cells need no format of their own.
FAST_OPTIONS = {"in_memory": True, "default_format_properties": BASE_FORMAT}
_COL = {c.header: col_letter(i) for i, c in enumerate(ACTION_COLUMNS)}
_CLOSED = ",".join(f'{_COL["Status"]}{{r}}<>"{s}"' for s in ("Done", "Not needed"))
OVERDUE_FORMULA = (f'=IF(AND({_COL["Timescale"]}{{r}}<>"",{_CLOSED},{_COL["Date closed"]}{{r}}="",'
                   f'{_COL["Timescale"]}{{r}}<TODAY()),"Overdue","")')


def check_not_open(out: Path) -> None:
    """Refuse to replace a master someone has open (Excel and LibreOffice leave a lock file beside it)."""
    for lock, program in ((out.with_name("~$" + out.name), "Excel"),
                          (out.with_name(f".~lock.{out.name}#"), "LibreOffice")):
        if lock.exists():
            raise CollectError(f"{out.name} is open in {program} (its lock file {lock.name} is there). Close it and "
                               "run collect again.")


def _actions_tab(s: Sheets, actions: Sequence[Action], states: Mapping[str, State], today: date) -> None:
    table = actions_table(actions, states, today)
    overdue = [c.header for c in ACTION_COLUMNS].index("Overdue")
    rows = [(*r[:overdue], Formula(OVERDUE_FORMULA.format(r=i), str(r[overdue] or "")), *r[overdue + 1:])
            for i, r in enumerate(table.rows, start=2)]
    ws = s.tidy(table, rows=rows)
    n = max(len(rows), 1)
    status = [c.header for c in ACTION_COLUMNS].index("Status")
    ws.data_validation(1, status, n, status, {"validate": "list", "source": list(ACTION_STATUSES)})
    ws.conditional_format(1, overdue, n, overdue, {"type": "cell", "criteria": "==", "value": '"Overdue"',
                                                   "format": s.flag})
    conflict = overdue + 1
    ws.conditional_format(1, conflict, n, conflict, {"type": "no_blanks", "format": s.flag})


def _summary(s: Sheets, e: Evidence, generated_at: datetime) -> None:
    c = e.collation
    ws = s.sheet("Summary", [40, 14, 14, 14, 14])
    ws.set_column(0, 0, 44)
    ws.set_column(1, 4, 14)
    ws.write_string(0, 0, f"{c.title}: master collation", s.title)
    ws.write_string(1, 0, s.classification, s.red)
    ws.write_string(2, 0, f"Collected {generated_at:%d/%m/%Y %H:%M}", s.text)
    merged = c.merged
    rounds = [r.round for r in e.rounds if r.round in {m.round for m in merged}]
    due = [d for m in merged if isinstance(d := m.audit.due_date, date)]
    cur, prev = e.current, e.previous
    share = good_share(cur.overall, c.grades, c.good_or_better)[1] if cur else None
    before = good_share(prev.overall, c.grades, c.good_or_better)[1] if prev else None
    recurring = [t for t in (e.themes.concerns + e.themes.sections if e.themes else []) if t.recurring]
    facts: list[tuple[str, Cell, str]] = [
        ("This round", cur.round if cur else "(none)", ""),
        ("Audits this round", cur.audits if cur else 0, ""),
        ("Overall % Good or better this round", share, "pct"),
        (f"Overall % Good or better in {prev.round}" if prev else "Previous round", before if prev else "(none)",
         "pct"),
        ("Change since the previous round (percentage points)", points(share, before), "change"),
        ("Recurring concerns", len(recurring), ""),
        ("Actions overdue", len(e.overdue()), ""),
        ("Actions with conflicting edits", sum(1 for a in e.actions if e.states.get(a.id, State()).conflict), ""),
        ("Rounds covered", ", ".join(rounds) or "(none)", ""),
        ("Due dates from", min(due) if due else None, ""),
        ("Due dates to", max(due) if due else None, ""),
        ("Audits merged", len(merged), ""),
        ("Files rejected", c.count("rejected"), ""),
        ("Files superseded or duplicate", c.count("superseded") + c.count("duplicate"), ""),
        ("Late returns", sum(1 for m in merged if m.audit.late), ""),
        ("Urgent concerns raised", sum(1 for m in merged if m.audit.urgent), ""),
        ("Source files missing (kept from the ledger)", sum(1 for m in merged if m.source_missing), ""),
    ]
    if e.returns is not None:
        statuses = Counter(r.status for r in e.returns)
        facts += [(f"Allocated: {st.lower()}", statuses.get(st, 0), "") for st in RETURN_STATUSES]
    ws.write_string(4, 0, "Counts", s.head)
    ws.write_string(4, 1, "", s.head)
    fmt = {"pct": s.pct, "change": s.change, "": s.text}
    for r, (label, value, kind) in enumerate(facts, start=5):
        ws.write_string(r, 0, label, s.text)
        s.write(ws, r, 1, value, fmt[kind])
    ws.freeze_panes(4, 0)
    ws.autofilter(4, 0, 4 + len(facts), 1)
    ws.repeat_rows(0, 1)
    row = 5 + len(facts) + 1
    teams = Counter(m.audit.text(Role.TEAM) or "(none)" for m in e.in_round)
    row = s.block(ws, row, [Column("Audits this round by team", 44), Column("Audits", 14)], sorted(teams.items()))
    ws.write_string(row, 0, "Groups of children not audited this round", s.head)
    ws.merge_range(row, 1, row, 4, "Groups", s.head)
    missing = [(dim, ", ".join(groups)) for dim, groups in e.not_audited.items()] or [
        ("(none)", "every group the spec names had at least one audit")]
    for r, (dim, groups) in enumerate(missing, start=row + 1):
        ws.write_string(r, 0, dim, s.text)
        ws.merge_range(r, 1, r, 4, groups, s.wrap)  # B:E together are wide enough to read the list
        ws.set_row(r, row_height([groups], [56], [True]))
    row += len(missing) + 2
    notes = [[p] for p in e.readback.problems]
    if e.readback.conflicts:
        notes.insert(0, [f"{plural(e.readback.conflicts, 'action was', 'actions were')} changed differently in the "
                         "master and a pack: see Conflicting edits on the Actions tab."])
    if notes:
        row = s.block(ws, row, [Column("Action register: edits that need a look", 100, "wrap")], notes)
    row = _overall_grades(s, ws, e, row)
    _section_chart(s, ws, e, row)


def _overall_grades(s: Sheets, ws: xlsxwriter.worksheet.Worksheet, e: Evidence, row: int) -> int:
    c = e.collation
    counts = e.current.overall if e.current else {}
    ws.write_string(row, 0, "Overall grade this round", s.head)
    ws.write_string(row, 1, "Audits", s.head)
    for r, grade in enumerate(c.grades, start=row + 1):
        ws.write_string(r, 0, grade, s.text)
        ws.write_number(r, 1, counts.get(grade, 0), s.text)
    if c.grades:
        chart = s.wb.add_chart({"type": "column"})
        chart.add_series({"name": "Audits", "categories": ["Summary", row + 1, 0, row + len(c.grades), 0],
                          "values": ["Summary", row + 1, 1, row + len(c.grades), 1], "fill": {"color": "#1F4E79"}})
        chart.set_title({"name": "Overall grades this round"})
        chart.set_legend({"none": True})
        ws.insert_chart(4, 6, chart, {"x_scale": 1.2, "y_scale": 1.0})
    return row + len(c.grades) + 2


def _section_chart(s: Sheets, ws: xlsxwriter.worksheet.Worksheet, e: Evidence, row: int) -> None:
    c = e.collation
    sections = [sc for sc in e.scopes if sc != OVERALL and e.current and sc in e.current.sections]
    ws.write_string(row, 0, "Section grades this round", s.head)
    for col, grade in enumerate(c.grades, start=1):
        ws.write_string(row, col, grade, s.head)
    for r, title in enumerate(sections, start=row + 1):
        counts = e.current.sections[title] if e.current else {}
        ws.write_string(r, 0, title, s.text)
        for col, grade in enumerate(c.grades, start=1):
            ws.write_number(r, col, counts.get(grade, 0), s.text)
    if not sections:
        return
    chart = s.wb.add_chart({"type": "bar", "subtype": "stacked"})
    colours = ("#2E75B6", "#70AD47", "#FFC000", "#C00000", "#7030A0", "#808080")
    last = row + len(sections)
    for col in range(1, len(c.grades) + 1):
        chart.add_series({"name": ["Summary", row, col], "categories": ["Summary", row + 1, 0, last, 0],
                          "values": ["Summary", row + 1, col, last, col], "fill": {"color": colours[(col - 1) % 6]}})
    chart.set_title({"name": "Grades by section this round"})
    chart.set_y_axis({"reverse": True})
    ws.insert_chart(20, 6, chart, {"x_scale": 1.6, "y_scale": 1.6})


def _returns_tab(s: Sheets, e: Evidence) -> None:
    cols = (Column("Case reference", 16), Column("Team"), Column("Auditor", 18), Column("Team manager", 20),
            Column("Round"), Column("Due date", 11, DATE), Column("Status", 22), Column("Detail", 60, WRAP),
            Column("File", 30, WRAP))
    rows = [(r.case_ref, r.team, r.auditor, r.team_manager, r.round, r.due, r.status, r.detail, r.file)
            for r in e.returns or ()]
    ws = s.tidy(Table("Returns", cols, list(rows)))
    if rows:
        for value in ("Outstanding (overdue)", "Returned but"):
            ws.conditional_format(1, 6, len(rows), 6, {"type": "text", "criteria": "begins with", "value": value,
                                                       "format": s.flag})


def write_master(e: Evidence, *, out: Path, classification: str = "OFFICIAL-SENSITIVE",
                 generated_at: datetime | None = None) -> Path:
    """Write the master workbook to a temporary file, then move it into place: a crash leaves the old one."""
    check_not_open(out)
    c = e.collation
    themes = list(dict.fromkeys(t.label for spec in c.specs for t in spec.themes))
    try:
        with replacing(out, prefix=".auditbook-master-") as tmp, strict():
            buffer = io.BytesIO()
            wb = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, **FAST_OPTIONS})
            wb.set_properties({"title": f"{c.title}: master collation", "category": classification,
                               "keywords": classification, "comments": f"{classification}: do not share further."})
            wb.set_custom_property("Classification", classification)
            s = Sheets(wb, classification)
            _summary(s, e, generated_at or datetime.now())
            s.tidy(audits_table(c))
            grades_tab(s, e)
            cohorts_tab(s, e)
            trends_tab(s, e)
            themes_tab(s, e)
            _actions_tab(s, e.actions, e.states, e.today)
            plan_tab(s, e, themes)
            s.tidy(findings_table(c))
            s.grouped("Answers", ANSWER_COLUMNS, answer_groups(c, e.registry), (3, 3, 1, 1), key_columns=2)
            if e.returns is not None:
                _returns_tab(s, e)
            s.tidy(rejected_table(c))
            s.tidy(dictionary_table(c.specs, e.registry))
            lists_tab(s, themes)
            wb.close()
            s.fast.finish(buffer.getvalue(), tmp)
    except PermissionError:
        raise CollectError(f"cannot replace {out}: it is open in another program or read-only. Close it and "
                           "run collect again.") from None
    return out


def write_pack(manager: str, e: Evidence, cases: set[str], *, out: Path,
               classification: str = "OFFICIAL-SENSITIVE") -> list[str]:
    """One team manager's pack: their cases' findings and actions, with Status, Notes and Date closed to fill in.

    Returns the action ids it holds (what the pack now says of them is remembered, to tell later edits apart).
    """
    merged = [m for m in e.collation.merged if m.file in cases]
    sub = Collation(merged=merged, specs=e.collation.specs, grades=e.collation.grades)
    actions = [a for a in e.actions if a.file in cases]
    with replacing(out, prefix=".auditbook-pack-") as tmp, strict():
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, **FAST_OPTIONS})
        wb.set_properties({"title": f"Audits for {manager}", "category": classification, "keywords": classification})
        s = Sheets(wb, classification)
        s.tidy(findings_table(sub))
        _actions_tab(s, actions, e.states, e.today)
        wb.close()
        s.fast.finish(buffer.getvalue(), tmp)
    return [a.id for a in actions]
