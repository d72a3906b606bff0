"""Pure: which allocated audits have come back, on time, late, rejected, or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from auditbook.allocation.lists import MODERATION_KIND, Allocated
from auditbook.analysis.collate import Collation, Merged, NotMerged
from auditbook.dates import uk
from auditbook.problems import Problem
from auditbook.spec.due import due_date
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm

ON_TIME, LATE, REJECTED = "Returned on time", "Returned late", "Returned but rejected"
OUTSTANDING, OVERDUE, NOT_ALLOCATED = "Outstanding", "Outstanding (overdue)", "Returned, not allocated"
REJECTED_NOT_ALLOCATED = "Rejected, not allocated"
#: The detail of an allocated moderation not yet returned (its audit, returned or not, has a row of its own).
MODERATION_OUTSTANDING = "moderation"
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


def _merged_row(a: Allocated, m: Merged, due: date | None) -> ReturnRow:
    completed = m.audit.completed
    due = m.audit.due_date or due  # worked out by validate from the return's own spec
    status = LATE if completed is not None and due is not None and completed > due else ON_TIME
    detail = [f"completed {uk(completed)}"] if completed is not None else []
    differ = [f"{what} {theirs} (allocated: {ours})" for what, theirs, ours in (
        ("team", m.audit.text(Role.TEAM), a.team), ("auditor", m.audit.text(Role.AUDITOR), a.auditor),
        ("team manager", m.audit.text(Role.TEAM_MANAGER), a.team_manager))
        if theirs and ours and norm(theirs) != norm(ours)]
    if differ:
        detail.append("check, the return differs from the allocation: " + "; ".join(differ))
    return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, due, status, "; ".join(detail),
                     m.file)


def allocated_due(a: Allocated, specs: Sequence[Spec]) -> date | None:
    """When an allocated audit is due, by the rule of the specs in use (the first that can say)."""
    return next((d for spec in specs if (d := due_date(spec, a.month)) is not None), None)


def returns_status(allocated: list[Allocated], collation: Collation, *, today: date) -> list[ReturnRow]:
    """The status of every allocated case, then every return of the allocation's rounds that matches no allocation.

    A return's team, auditor and team manager that differ from its allocation's are named in its detail.
    """
    used: set[str] = set()
    # Each case's returns and rejected files, in the collation's order: an allocated case looks at its own only.
    merged_by_case: dict[str, list[Merged]] = {}
    for m in collation.merged:
        merged_by_case.setdefault(norm(m.audit.case_ref), []).append(m)
    rejected_by_case: dict[str, list[NotMerged]] = {}
    for n in collation.not_merged:
        if n.status == "rejected" and n.case_ref and not n.moderation:
            rejected_by_case.setdefault(norm(n.case_ref), []).append(n)
    rows = [moderation_row(a, collation, used) if a.kind == MODERATION_KIND else
            _allocated_row(a, allocated_due(a, collation.specs), merged_by_case.get(norm(a.case_ref), []),
                           rejected_by_case.get(norm(a.case_ref), []), used, today) for a in allocated]
    audits = [a for a in allocated if a.kind != MODERATION_KIND]
    rounds = {norm(a.round_key) for a in audits} | {a.month for a in audits if not a.round}
    return rows + _not_allocated(collation, used, rounds)


def _allocated_row(a: Allocated, due: date | None, merged: list[Merged], rejected: list[NotMerged], used: set[str],
                   today: date) -> ReturnRow:
    """An allocated case's row: its return (marked used), else its rejected file, else outstanding."""
    m = next((m for m in merged if m.file not in used and _matches(
        a, m.audit.case_ref, m.round, m.audit.text(Role.AUDIT_MONTH))), None)
    if m is not None:
        used.add(m.file)
        return _merged_row(a, m, due)
    n = next((n for n in rejected if n.file not in used and _matches(a, n.case_ref or "", n.round, n.audit_month)),
             None)
    if n is not None:
        used.add(n.file)
        return _rejected_row(a, n, due)
    status = OVERDUE if due is not None and today > due else OUTSTANDING
    return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, due, status, "", "")


def _not_allocated(collation: Collation, used: set[str], rounds: set[str]) -> list[ReturnRow]:
    """Returns (merged or rejected) of the allocation's rounds that no allocated case took. Returns of rounds the
    allocation does not cover (an earlier round still in the folder) are not its business."""
    rows: list[ReturnRow] = []
    for m in collation.merged:
        if m.file not in used and (norm(m.round) in rounds or m.audit.text(Role.AUDIT_MONTH) in rounds):
            au = m.audit
            rows.append(ReturnRow(au.case_ref, au.text(Role.TEAM), au.text(Role.AUDITOR),
                                  au.text(Role.TEAM_MANAGER), m.round, au.due_date, NOT_ALLOCATED,
                                  "no row of the allocation list matches this case and round", m.file))
    for n in collation.not_merged:
        if n.status == "rejected" and n.file not in used and (norm(n.round) in rounds or n.audit_month in rounds):
            first = n.problems[0].render() if n.problems else n.reason
            rows.append(ReturnRow(n.case_ref or "", "", "", "", n.round, None, REJECTED_NOT_ALLOCATED,
                                  f"{n.reason}: {first}", n.file))
    return rows


def _rejected_row(a: Allocated, n: NotMerged, due: date | None) -> ReturnRow:
    first = n.problems[0].render() if n.problems else n.reason
    return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, due, REJECTED,
                     f"{n.reason}: {first}", n.file)


class Missing(NamedTuple):
    """A case or file the round's figures do not count, and why: a return rejected or not read, or an allocated
    case not returned."""

    case_ref: str
    round: str
    file: str
    why: str
    #: The first problem of a return rejected (its words may quote what the return holds), else None.
    problem: Problem | None = None


def not_in_figures(collation: Collation, returns: Sequence[ReturnRow] | None) -> list[Missing]:
    """Every return rejected or not read and every allocated case not returned, each once: the cases behind the
    figures, accounted for. A moderation is not: its audit is counted, or accounted for, on its own."""
    out: list[Missing] = []
    for n in collation.not_merged:
        if n.status in ("rejected", "not read") and not n.moderation:
            why = f"return {n.status}: {n.reason}"
            out.append(Missing(n.case_ref or "", n.round, n.file, why, n.problems[0] if n.problems else None))
    for r in returns or ():
        if r.status in (OUTSTANDING, OVERDUE) and r.detail != MODERATION_OUTSTANDING:
            due = f", due {uk(r.due)}" if r.due is not None else ""
            out.append(Missing(r.case_ref, r.round, "", f"not returned{' (overdue)' if r.status == OVERDUE else ''}"
                                                        f"{due}"))
    return out


def moderation_row(a: Allocated, collation: Collation, used: set[str]) -> ReturnRow:
    """An allocated moderation's row: its moderation paired with the audit (returned), else one not paired (rejected,
    with why), else outstanding. A moderation has no due date of its own."""
    p = next((p for p in collation.moderations if p.file not in used and _matches(
        a, p.audit.case_ref, p.round, p.audit.text(Role.AUDIT_MONTH))), None)
    if p is not None:
        used.add(p.file)
        when = f" on {uk(p.moderated_on)}" if p.moderated_on else ""
        return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, None, ON_TIME,
                         f"moderation returned: moderated by {p.moderator or 'the moderator'}{when}", p.file)
    n = next((n for n in collation.not_merged if n.moderation and n.status != "superseded" and n.file not in used
              and _matches(a, n.case_ref or "", n.round, n.audit_month)), None)
    if n is not None:
        used.add(n.file)
        first = n.problems[0].render() if n.problems else n.reason
        return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, None, REJECTED,
                         f"moderation {n.status}: {first}", n.file)
    return ReturnRow(a.case_ref, a.team, a.auditor, a.team_manager, a.round_key, None, OUTSTANDING,
                     MODERATION_OUTSTANDING, "")
