"""The master collation workbook, written with xlsxwriter. Every auditor's text goes in as literal text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.atomic import replacing
from auditbook.collection.collate import Collation, Merged
from auditbook.collection.tracking import RETURN_STATUSES, ReturnRow
from auditbook.dates import EXCEL_DATE_FORMAT as DATE_FORMAT
from auditbook.errors import CollectError
from auditbook.spec.roles import Role
from auditbook.text import shown
from auditbook.workbook.xlsx import WORKBOOK_OPTIONS, strict

ACTION_STATUSES = ("Not started", "In progress", "Done")
Cell = str | int | float | date | None


@dataclass(frozen=True)
class Column:
    """A column of a master tab: header and width."""

    header: str
    width: int = 16


class _Master:
    def __init__(self, wb: Workbook, collation: Collation, *, classification: str, generated_at: datetime,
                 returns: Sequence[ReturnRow] | None = None) -> None:
        self.wb = wb
        self.c = collation
        self.returns_rows = returns
        self.classification = classification
        self.generated_at = generated_at
        base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.date = wb.add_format({**base, "num_format": DATE_FORMAT})
        self.pct = wb.add_format({**base, "num_format": "0%"})
        self.head = wb.add_format({**base, "bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF",
                                   "text_wrap": True, "border": 1})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.bold = wb.add_format({**base, "bold": True})
        self.red = wb.add_format({**base, "bold": True, "font_color": "#C00000"})
        self.flag = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.sections = _section_titles(collation.merged)

    def _sheet(self, name: str) -> Worksheet:
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&C&\"Arial,Bold\"{self.classification}")
        ws.set_footer(f"&L{name}&CPage &P of &N&R{self.classification}")
        return ws

    def write(self, row: int, col: int, ws: Worksheet, value: Cell, fmt: Any = None) -> None:
        if value is None or value == "":
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            ws.write_string(row, col, "Yes" if value else "No", fmt)
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), self.date)
        elif isinstance(value, int | float):
            ws.write_number(row, col, value, fmt)
        else:
            # write_string, never write(): an auditor's "=HYPERLINK(...)" must stay those characters; control
            # characters and bidi overrides are shown escaped.
            ws.write_string(row, col, shown(value, keep_lines=True), fmt)

    def table(self, ws: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *,
              first_row: int = 0) -> None:
        for col, c in enumerate(columns):
            ws.write_string(first_row, col, c.header, self.head)
            ws.set_column(col, col, c.width)
        for r, values in enumerate(rows, start=first_row + 1):
            for col, value in enumerate(values):
                self.write(r, col, ws, value, self.wrap if columns[col].width >= 30 else self.text)
        ws.freeze_panes(first_row + 1, 0)
        ws.autofilter(first_row, 0, first_row + max(len(rows), 1), len(columns) - 1)
        ws.repeat_rows(first_row)

    # -- tabs -------------------------------------------------------------------------------------

    def summary(self) -> None:
        ws = self._sheet("Summary")
        merged = self.c.merged
        ws.set_column(0, 0, 40)
        ws.set_column(1, 6, 14)
        ws.write_string(0, 0, f"{self.c.title}: master collation", self.title)
        ws.write_string(1, 0, self.classification, self.red)
        ws.write_string(2, 0, f"Collected {self.generated_at:%d/%m/%Y %H:%M}", self.text)
        rounds = sorted({m.round for m in merged if m.round})
        due = [d for m in merged if isinstance(d := m.audit.due_date, date)]
        facts: list[tuple[str, Cell]] = [
            ("Rounds covered", ", ".join(rounds) or "(none)"),
            ("Due dates from", min(due) if due else None),
            ("Due dates to", max(due) if due else None),
            ("Audits merged", len(merged)),
            ("Files rejected", self.c.count("rejected")),
            ("Files superseded or duplicate", self.c.count("superseded") + self.c.count("duplicate")),
            ("Late returns", sum(1 for m in merged if m.audit.late)),
            ("Urgent concerns raised", sum(1 for m in merged if m.audit.urgent)),
            ("Source files missing (kept from the ledger)", sum(1 for m in merged if m.source_missing)),
        ]
        if self.returns_rows is not None:
            statuses = Counter(r.status for r in self.returns_rows)
            facts += [(f"Allocated: {s.lower()}", statuses.get(s, 0)) for s in RETURN_STATUSES]
        ws.write_string(4, 0, "Counts", self.head)
        ws.write_string(4, 1, "", self.head)
        for r, (label, value) in enumerate(facts, start=5):
            ws.write_string(r, 0, label, self.text)
            self.write(r, 1, ws, value, self.text)
        ws.freeze_panes(4, 0)
        ws.autofilter(4, 0, 4 + len(facts), 1)
        ws.repeat_rows(0, 1)
        row = 5 + len(facts) + 1
        teams = Counter(m.audit.text(Role.TEAM) or "(none)" for m in merged)
        ws.write_string(row, 0, "Audits by team", self.head)
        ws.write_string(row, 1, "Audits", self.head)
        for r, (team, n) in enumerate(sorted(teams.items()), start=row + 1):
            ws.write_string(r, 0, team, self.text)
            ws.write_number(r, 1, n, self.text)
        row += len(teams) + 2
        row = self._overall_grades(ws, row)
        self._section_grades(ws, row)

    def _overall_grades(self, ws: Worksheet, row: int) -> int:
        counts = Counter(m.audit.text(Role.OVERALL_GRADE) for m in self.c.merged)
        ws.write_string(row, 0, "Overall grade", self.head)
        ws.write_string(row, 1, "Audits", self.head)
        for r, grade in enumerate(self.c.grades, start=row + 1):
            ws.write_string(r, 0, grade, self.text)
            ws.write_number(r, 1, counts.get(grade, 0), self.text)
        chart = self.wb.add_chart({"type": "column"})
        chart.add_series({"name": "Audits", "categories": ["Summary", row + 1, 0, row + len(self.c.grades), 0],
                          "values": ["Summary", row + 1, 1, row + len(self.c.grades), 1], "fill": {"color": "#1F4E79"}})
        chart.set_title({"name": "Overall grades"})
        chart.set_legend({"none": True})
        ws.insert_chart(4, 6, chart, {"x_scale": 1.2, "y_scale": 1.0})
        return row + len(self.c.grades) + 2

    def _section_grades(self, ws: Worksheet, row: int) -> None:
        ws.write_string(row, 0, "Section grades", self.head)
        for c, grade in enumerate(self.c.grades, start=1):
            ws.write_string(row, c, grade, self.head)
        for r, (sid, title) in enumerate(self.sections, start=row + 1):
            counts = Counter(s.grade for m in self.c.merged for s in m.audit.sections if s.id == sid and s.grade)
            ws.write_string(r, 0, title, self.text)
            for c, grade in enumerate(self.c.grades, start=1):
                ws.write_number(r, c, counts.get(grade, 0), self.text)
        if not self.sections:
            return
        chart = self.wb.add_chart({"type": "bar", "subtype": "stacked"})
        colours = ("#2E75B6", "#70AD47", "#FFC000", "#C00000")
        last = row + len(self.sections)
        for c in range(1, len(self.c.grades) + 1):
            chart.add_series({"name": ["Summary", row, c], "categories": ["Summary", row + 1, 0, last, 0],
                              "values": ["Summary", row + 1, c, last, c], "fill": {"color": colours[c - 1]}})
        chart.set_title({"name": "Grades by section"})
        chart.set_y_axis({"reverse": True})
        ws.insert_chart(20, 6, chart, {"x_scale": 1.6, "y_scale": 1.6})

    def audits(self) -> None:
        ws = self._sheet("Audits")
        cols = [Column("Case reference", 16), Column("Team"), Column("Allocated worker", 20),
                Column("Team manager", 20), Column("Auditor", 18), Column("Round"), Column("Audit month", 11),
                Column("Due date", 11), Column("Completed", 11), Column("Late", 7), Column("Overall grade", 18),
                *[Column(title, 14) for _, title in self.sections], Column("Urgent concern", 10),
                Column("Source file", 30), Column("Source file missing", 10), Column("Spec version", 10),
                Column("Warnings", 9)]
        rows: list[list[Cell]] = []
        for m in self.c.merged:
            a = m.audit
            grades = {s.id: (s.grade or "") if s.applies else "n/a" for s in a.sections}
            rows.append([a.case_ref, a.text(Role.TEAM), a.text(Role.WORKER), a.text(Role.TEAM_MANAGER),
                         a.text(Role.AUDITOR), m.round, a.text(Role.AUDIT_MONTH), a.due_date,
                         a.completed, "Yes" if a.late else "No", a.text(Role.OVERALL_GRADE),
                         *[grades.get(sid, "") for sid, _ in self.sections], "Yes" if a.urgent else "No",
                         m.file, "Yes" if m.source_missing else "", a.provenance.spec_version, len(m.warnings)])
        self.table(ws, cols, rows)
        if rows:
            col = len(cols) - 3
            ws.conditional_format(1, col, len(rows), col, {"type": "cell", "criteria": "==", "value": '"Yes"',
                                                           "format": self.flag})

    def grades(self) -> None:
        ws = self._sheet("Grades")
        cols = [Column("Case reference", 16), Column("Team"), Column("Round"), Column("Section", 40),
                Column("Grade", 20), Column("Status", 18), Column("Theme tags", 60)]
        rows: list[list[Cell]] = []
        for m in self.c.merged:
            for s in m.audit.sections:
                if s.applies:
                    rows.append([m.audit.case_ref, m.audit.text(Role.TEAM), m.round, s.title,
                                 s.grade or "", s.status, "; ".join(s.themes)])
        self.table(ws, cols, rows)

    def themes(self) -> None:
        ws = self._sheet("Themes")
        cols = [Column("Measure", 30), Column("Scope", 24), Column("Section", 36), Column("Item", 50),
                Column("Kind", 10), Column("Audits", 8), Column("Out of", 8), Column("Share", 8),
                Column("Recurring", 10)]
        measures = (("Section graded RI or Inadequate", self.c.section_concerns),
                    ("Theme tag", self.c.theme_ranks), ("Practice question answered No", self.c.question_noes))
        rows: list[list[Cell]] = []
        shares: list[float] = []
        for measure, items in measures:
            for t in items:
                rows.append([measure, t.scope, t.section, t.item, t.kind, t.count, t.of, t.share,
                             "Recurring" if self.c.recurring(t) else ""])
                shares.append(t.share)
        self.table(ws, cols, rows)
        if rows:
            for r, share in enumerate(shares, start=1):
                ws.write_number(r, 7, share, self.pct)
            ws.conditional_format(1, 8, len(rows), 8, {"type": "cell", "criteria": "==", "value": '"Recurring"',
                                                       "format": self.flag})
        ws.write_string(0, 10, f"Recurring: at least {self.c.threshold:.0%} of the audits it could apply to.",
                        self.bold)

    def actions(self) -> None:
        ws = self._sheet("Actions")
        cols = [Column("Case reference", 16), Column("Team"), Column("Section", 30), Column("Action", 60),
                Column("Responsible", 20), Column("Timescale", 11), Column("Priority", 9), Column("Agreed", 8),
                Column("Status", 12), Column("Overdue", 10), Column("Source file", 30)]
        rows: list[list[Cell]] = []
        for m in self.c.merged:
            au = m.audit
            if au.urgent:
                rows.append([au.case_ref, au.text(Role.TEAM), "URGENT concern raised during the audit",
                             f"Raised on {_fmt(au.fact(Role.URGENT_WHEN))} with "
                             f"{au.text(Role.URGENT_WITH_WHOM) or '(not said)'}: check it has been acted on.",
                             au.text(Role.TEAM_MANAGER), _d(au.fact(Role.URGENT_WHEN)), "Urgent", "", "", "", m.file])
        for m in self.c.merged:
            for act in m.audit.actions:
                rows.append([m.audit.case_ref, m.audit.text(Role.TEAM), act.section or "", act.text or "",
                             act.responsible or "", act.timescale, act.priority or "", act.agreed or "", "", "",
                             m.file])
        self.table(ws, cols, rows)
        for r in range(1, len(rows) + 1):
            ws.write_formula(r, 9, f'=IF(AND(F{r + 1}<>"",I{r + 1}<>"Done",F{r + 1}<TODAY()),"Overdue","")',
                             self.text, "")
        if rows:
            ws.data_validation(1, 8, len(rows), 8, {"validate": "list", "source": list(ACTION_STATUSES)})
            ws.conditional_format(1, 9, len(rows), 9, {"type": "cell", "criteria": "==", "value": '"Overdue"',
                                                       "format": self.flag})

    def findings(self) -> None:
        ws = self._sheet("Findings")
        cols = [Column("Case reference", 16), Column("Team"), Column("Allocated worker", 20), Column("Round"),
                Column("Section", 36), Column("Grade", 18), Column("What is working well", 60),
                Column("What needs to improve", 60)]
        rows: list[list[Cell]] = []
        for m in self.c.merged:
            a = m.audit
            rows.append([a.case_ref, a.text(Role.TEAM), a.text(Role.WORKER), m.round, "Overall judgement",
                         a.text(Role.OVERALL_GRADE), "", ""])
            for sec in m.audit.sections:
                if sec.applies:
                    rows.append([a.case_ref, a.text(Role.TEAM), a.text(Role.WORKER), m.round, sec.title,
                                 sec.grade or "", sec.working_well or "", sec.to_improve or ""])
        self.table(ws, cols, rows)

    def returns(self) -> None:
        ws = self._sheet("Returns")
        cols = [Column("Case reference", 16), Column("Team"), Column("Auditor", 18), Column("Team manager", 20),
                Column("Round"), Column("Due date", 11), Column("Status", 22), Column("Detail", 60),
                Column("File", 30)]
        rows: list[list[Cell]] = [[r.case_ref, r.team, r.auditor, r.team_manager, r.round, r.due, r.status,
                                   r.detail, r.file] for r in self.returns_rows or ()]
        self.table(ws, cols, rows)
        if rows:
            ws.conditional_format(1, 6, len(rows), 6, {"type": "text", "criteria": "begins with",
                                                       "value": "Outstanding (overdue)", "format": self.flag})
            ws.conditional_format(1, 6, len(rows), 6, {"type": "text", "criteria": "begins with",
                                                       "value": "Returned but", "format": self.flag})

    def rejected(self) -> None:
        ws = self._sheet("Rejected")
        cols = [Column("File", 36), Column("Status", 11), Column("Reason", 40), Column("Severity", 9),
                Column("Code", 20), Column("Sheet", 20), Column("Cell", 7), Column("Message", 80)]
        rows: list[list[Cell]] = []
        for n in sorted(self.c.not_merged, key=lambda n: (n.status != "rejected", n.file)):
            if not n.problems:
                rows.append([n.file, n.status, n.reason, "", "", "", "", ""])
            for p in n.problems:
                rows.append([n.file, n.status, n.reason, p.severity, p.code, p.sheet, p.cell, p.message])
        self.table(ws, cols, rows)


def _section_titles(merged: list[Merged]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for m in merged:
        for s in m.audit.sections:
            seen.setdefault(s.id, s.title)
    return list(seen.items())


def _d(value: object) -> date | None:
    return value if isinstance(value, date) else None


def _fmt(value: object) -> str:
    return f"{value:%d/%m/%Y}" if isinstance(value, date) else "(date not given)"


def write_master(collation: Collation, *, out: Path, classification: str = "OFFICIAL-SENSITIVE",
                 generated_at: datetime | None = None, returns: Sequence[ReturnRow] | None = None) -> Path:
    """Write the master workbook to a temporary file, then move it into place: a crash leaves the old one."""
    for lock, program in ((out.with_name("~$" + out.name), "Excel"),
                          (out.with_name(f".~lock.{out.name}#"), "LibreOffice")):
        if lock.exists():
            raise CollectError(f"{out.name} is open in {program} (its lock file {lock.name} is there). Close it and "
                               "run collect again.")
    try:
        with replacing(out, prefix=".auditbook-master-") as tmp, strict():
            wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
            wb.set_properties({"title": f"{collation.title}: master collation", "category": classification,
                               "keywords": classification})
            m = _Master(wb, collation, classification=classification,
                        generated_at=generated_at or datetime.now(), returns=returns)
            m.summary()
            m.audits()
            m.grades()
            m.themes()
            m.actions()
            m.rejected()
            if returns is not None:
                m.returns()
            wb.close()
    except PermissionError:
        raise CollectError(f"cannot replace {out}: it is open in another program or read-only. Close it and "
                           "run collect again.") from None
    return out


def write_pack(manager: str, merged: Sequence[Merged], *, out: Path,
               classification: str = "OFFICIAL-SENSITIVE") -> Path:
    """One team manager's pack: their cases' findings and their actions, with a Status column."""
    with replacing(out, prefix=".auditbook-pack-") as tmp, strict():
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        wb.set_properties({"title": f"Deep Dive audits for {manager}", "category": classification})
        m = _Master(wb, Collation(merged=list(merged)), classification=classification, generated_at=datetime.now())
        m.findings()
        m.actions()
        wb.close()
    return out
