"""The master's Cases tab: each case's audits across rounds, with their grades, the actions still open from earlier
audits, and whether the case is due for re-audit."""

from __future__ import annotations

from collections.abc import Sequence

from auditbook.analysis.evidence import Evidence
from auditbook.analysis.reaudit import CaseAudit, CaseHistory, grade_scales, histories
from auditbook.outputs.sheets import Sheets
from auditbook.outputs.tidy import DATE, INT, WRAP, Column, Table, Value, section_columns
from auditbook.text import norm

CASES_TAB = "Cases"
#: Whether the audit was moderated, and the auditor's overall grade when it was.
MODERATION = "Moderation"


def case_histories(e: Evidence) -> list[CaseHistory]:
    """Every case's history from the evidence: all rounds the ledger holds, in the rounds' order."""
    c = e.collation
    return histories(c.merged, grade_scales(c.specs), rounds=[r.round for r in e.rounds], actions=e.actions,
                     states=e.states)


def _row(h: CaseHistory, i: int, a: CaseAudit, sections: Sequence[str]) -> tuple[Value, ...]:
    latest = i == len(h.audits) - 1
    grades = {norm(t): g for t, g in a.sections.items()}
    open_ = "; ".join(f"{x.id} ({x.round}): {x.text}" for x in h.outstanding) if latest else ""
    due = ("Yes: " + ", ".join(h.due_for)) if latest and h.due else ("No" if latest else "")
    return (h.case_ref, a.round, i + 1, a.completed, a.team, a.overall or "",
            *[grades.get(key) or "" for key in sections], a.instance_id, a.follows_up, open_, due, a.moderation, a.file)


def cases_table(e: Evidence) -> Table:
    """One row per audit, grouped by case and oldest first: its grades, and on the case's latest audit the actions
    still open from earlier audits and whether the case is due for re-audit."""
    fixed = (Column("Case reference", 16, WRAP), Column("Round", 16, WRAP), Column("Audit of the case", 8, INT),
             Column("Date completed", 11, DATE), Column("Team", 16, WRAP), Column("Overall grade", 14, WRAP))
    after = (Column("Workbook id", 20, WRAP), Column("Follows up (workbook id)", 20, WRAP),
             Column("Open actions from earlier audits", 50, WRAP), Column("Due for re-audit", 18, WRAP),
             Column(MODERATION, 18, WRAP), Column("File", 30, WRAP))
    # Headed as on the Audits tab: a section titled like another column ("Team") gets "Team (grade)".
    sections = section_columns(e.collation.merged, [c.header for c in (*fixed, *after)])
    cols = (*fixed, *[Column(header, 14, WRAP) for _, header in sections], *after)
    columns = [key for key, _ in sections]
    rows = [_row(h, i, a, columns) for h in case_histories(e) for i, a in enumerate(h.audits)]
    return Table(CASES_TAB, cols, rows)


def cases_tab(s: Sheets, e: Evidence) -> None:
    """The Cases tab, as an Excel Table of the same name."""
    table = cases_table(e)
    ws = s.tidy(table)
    due = [c.header for c in table.columns].index("Due for re-audit")
    if table.rows:
        ws.conditional_format(1, due, len(table.rows), due, {"type": "text", "criteria": "begins with",
                                                             "value": "Yes", "format": s.flag})
