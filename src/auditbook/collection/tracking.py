"""Pure: which allocated audits have come back, on time, late, rejected, or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auditbook.collection.allocation import Allocated
from auditbook.collection.collate import Collation, Merged, NotMerged
from auditbook.dates import uk
from auditbook.spec.roles import Role
from auditbook.text import norm

ON_TIME, LATE, REJECTED = "Returned on time", "Returned late", "Returned but rejected"
OUTSTANDING, OVERDUE, NOT_ALLOCATED = "Outstanding", "Outstanding (overdue)", "Returned, not allocated"
REJECTED_NOT_ALLOCATED = "Rejected, not allocated"
RETURN_STATUSES = (ON_TIME, LATE, REJECTED, OUTSTANDING, OVERDUE, NOT_ALLOCATED, REJECTED_NOT_ALLOCATED)


@dataclass(frozen=True)
class ReturnRow:
    """One line of the Returns tab."""

    case_ref: str
    team: str
    auditor: str
    team_manager: str
    round: str
    due: date | None
    status: str
    detail: str
    file: str


def _matches(a: Allocated, case_ref: str, round_name: str, month: str) -> bool:
    if norm(a.case_ref) != norm(case_ref):
        return False
    return norm(a.round_key) == norm(round_name) or a.month == month


def _merged_row(a: Allocated, m: Merged) -> ReturnRow:
    completed = m.audit.completed
    status = LATE if completed is not None and completed > a.due else ON_TIME
    detail = f"completed {uk(completed)}" if completed is not None else ""
    return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, a.due, status, detail, m.file)


def returns_status(allocated: list[Allocated], collation: Collation, *, today: date) -> list[ReturnRow]:
    """The status of every allocated case, then every merged return that matches no allocation."""
    rows: list[ReturnRow] = []
    used: set[str] = set()
    for a in allocated:
        merged = next((m for m in collation.merged if m.file not in used and _matches(
            a, m.audit.case_ref, m.round, m.audit.text(Role.AUDIT_MONTH))), None)
        if merged is not None:
            used.add(merged.file)
            rows.append(_merged_row(a, merged))
            continue
        rejected = next((n for n in collation.not_merged if n.status == "rejected" and n.case_ref
                         and n.file not in used and _matches(a, n.case_ref, n.round, n.audit_month)), None)
        if rejected is not None:
            used.add(rejected.file)
            rows.append(_rejected_row(a, rejected))
            continue
        status = OVERDUE if today > a.due else OUTSTANDING
        rows.append(ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, a.due, status, "", ""))
    for m in collation.merged:
        if m.file not in used:
            au = m.audit
            rows.append(ReturnRow(au.case_ref, au.text(Role.TEAM), au.text(Role.AUDITOR),
                                  au.text(Role.TEAM_MANAGER), m.round, au.due_date, NOT_ALLOCATED,
                                  "no row of the allocation list matches this case and round", m.file))
    for n in collation.not_merged:
        if n.status == "rejected" and n.file not in used:
            first = n.problems[0].render() if n.problems else n.reason
            rows.append(ReturnRow(n.case_ref or "", "", "", "", n.round, None, REJECTED_NOT_ALLOCATED,
                                  f"{n.reason}: {first}", n.file))
    return rows


def _rejected_row(a: Allocated, n: NotMerged) -> ReturnRow:
    first = n.problems[0].render() if n.problems else n.reason
    return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, a.due, REJECTED,
                     f"{n.reason}: {first}", n.file)
