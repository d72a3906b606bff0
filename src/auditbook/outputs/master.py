"""The master collation workbook and the team managers' packs, written with xlsxwriter.

Every auditor's text goes in as literal text. The tidy tabs (Audits, Answers, Findings, Actions,
Rejected, Dictionary, SAG action plan) are Excel Tables of the same names, for Power Query and Power BI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from auditbook.analysis.actions import ACTION_STATUSES, Action, State
from auditbook.analysis.collate import Collation
from auditbook.analysis.evidence import Evidence
from auditbook.errors import CollectError
from auditbook.outputs.analysis_tabs import cohorts_tab, grades_tab, lists_tab, plan_tab, themes_tab, trends_tab
from auditbook.outputs.cases_tab import cases_tab
from auditbook.outputs.edits_tab import edits_tab
from auditbook.outputs.moderation_tab import moderation_tabs
from auditbook.outputs.pack_guide import STATUS_PROMPT, write_guide
from auditbook.outputs.sheets import Sheets, output_workbook
from auditbook.outputs.sheetxml import Formula
from auditbook.outputs.summary_tab import summary_tab
from auditbook.outputs.tidy import (
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
from auditbook.spec.layout import col_letter
from auditbook.store.editlog import LoggedEdit
from auditbook.store.readback import MAX_TEXT, conflict_parties
from auditbook.text import plural

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
    ws.data_validation(1, status, n, status, {"validate": "list", "source": list(ACTION_STATUSES),
                                              "input_title": "Status", "input_message": STATUS_PROMPT})
    ws.conditional_format(1, overdue, n, overdue, {"type": "cell", "criteria": "==", "value": '"Overdue"',
                                                   "format": s.flag})
    conflict = overdue + 1
    ws.conditional_format(1, conflict, n, conflict, {"type": "no_blanks", "format": s.flag})


def _returns_tab(s: Sheets, e: Evidence) -> None:
    cols = (Column("Case reference", 16, WRAP), Column("Team", 16, WRAP), Column("Auditor", 18, WRAP),
            Column("Team manager", 20, WRAP), Column("Round", 16, WRAP), Column("Due date", 11, DATE),
            Column("Status", 22, WRAP), Column("Detail", 60, WRAP),
            Column("File", 30, WRAP))
    rows = [(r.case_ref, r.team, r.auditor, r.team_manager, r.round, r.due, r.status, r.detail, r.file)
            for r in e.returns or ()]
    ws = s.tidy(Table("Returns", cols, list(rows)))
    if rows:
        for value in ("Outstanding (overdue)", "Returned but"):
            ws.conditional_format(1, 6, len(rows), 6, {"type": "text", "criteria": "begins with", "value": value,
                                                       "format": s.flag})


def _print_headings(s: Sheets, e: Evidence) -> None:
    """The tabs of figures print their round and n at the top of every page (the tidy tabs print their rows)."""
    current = e.current.round if e.current else "(no round)"
    audits = plural(e.current.audits if e.current else 0, "audit")
    headings = {name: (f"{name}: {current}", f"n = {audits}") for name in ("Summary", "Grades", "Cohorts", "Themes")}
    headings["Trends"] = ("Trends across rounds", plural(len(e.rounds), "round"))
    for name, (title, n) in headings.items():
        ws = s.wb.get_worksheet_by_name(name)
        if ws is not None:
            s.print_heading(ws, title, n)


def write_master(e: Evidence, *, out: Path, classification: str = "OFFICIAL-SENSITIVE",
                 generated_at: datetime | None = None, edits: Sequence[LoggedEdit] = ()) -> Path:
    """Write the master workbook to a temporary file, then move it into place: a crash leaves the old one."""
    check_not_open(out)
    c = e.collation
    themes = list(dict.fromkeys(t.label for spec in c.specs for t in spec.themes))
    try:
        with output_workbook(out, kind="master", title=f"{c.title}: master collation",
                             classification=classification) as s:
            summary_tab(s, e, generated_at or datetime.now())
            s.tidy(audits_table(c))
            cases_tab(s, e)
            grades_tab(s, e)
            moderation_tabs(s, e)
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
            edits_tab(s, edits)
            lists_tab(s, themes)
            _print_headings(s, e)
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
    with output_workbook(out, kind="pack", title=f"Audits for {manager}", classification=classification,
                         shared=False) as s:
        write_guide(s, manager, len(merged), len(actions), MAX_TEXT)
        s.tidy(findings_table(sub))
        # A conflict's first line only: who changed what, not what the collator typed into the master.
        states = {a.id: replace(st, conflict=conflict_parties(st.conflict)) if st.conflict else st
                  for a in actions if (st := e.states.get(a.id)) is not None}
        _actions_tab(s, actions, states, e.today)
    return [a.id for a in actions]
