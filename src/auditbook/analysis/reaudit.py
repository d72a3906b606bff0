"""Pure: each case's audits across rounds, which cases are due for re-audit, and how re-audited cases moved.

A case is due for re-audit when its latest audit has the lowest grade of the scale (the Deep Dive's Inadequate)
overall or in any section. A case re-audited later leaves the list when that later audit has no such grade, and
stays on it (due again) when it has. A re-audit is a later audit of a case whose audit before it was due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from auditbook.analysis.actions import CLOSED, Action, State
from auditbook.analysis.collate import Merged
from auditbook.spec.roles import Role
from auditbook.text import norm

BETTER, SAME, WORSE, NOT_COMPARED = "better", "same", "worse", "not compared"


@dataclass(frozen=True)
class CaseAudit:
    """One audit in a case's history: its round and grades, overall and by section title."""

    case_ref: str
    round: str
    file: str
    instance_id: str
    team: str
    completed: date | None
    overall: str | None
    sections: Mapping[str, str | None]
    #: The instance id of the audit this one follows up, as its workbook says ("" when it names none).
    follows_up: str = ""
    worker: str = ""
    team_manager: str = ""

    def worst_in(self, worst: str) -> list[str]:
        """Where this audit gave the lowest grade: "Overall" and/or section titles."""
        out = ["Overall"] if self.overall == worst else []
        return out + [title for title, grade in self.sections.items() if grade == worst]


@dataclass(frozen=True)
class CaseHistory:
    """A case's audits, oldest first, and what follows from them."""

    case_ref: str
    audits: tuple[CaseAudit, ...]
    #: Where the latest audit gave the lowest grade (empty: not due for re-audit).
    due_for: tuple[str, ...]
    #: Actions of earlier audits (before the latest) not yet closed.
    outstanding: tuple[Action, ...] = ()

    @property
    def due(self) -> bool:
        """Whether the case is due for re-audit in a later round."""
        return bool(self.due_for)

    @property
    def latest(self) -> CaseAudit:
        """The case's latest audit."""
        return self.audits[-1]


@dataclass(frozen=True)
class Reaudited:
    """A re-audit in a round: the audit it follows and which way the overall grade moved."""

    before: CaseAudit
    after: CaseAudit
    change: str


def case_audit(m: Merged) -> CaseAudit:
    """One merged audit as a case's history shows it."""
    a = m.audit
    overall = a.text(Role.OVERALL_GRADE) or None
    sections = {s.title: s.grade for s in a.sections if s.applies}
    return CaseAudit(a.case_ref, m.round, m.file, a.provenance.instance_id, a.text(Role.TEAM), a.completed, overall,
                     sections, a.provenance.follows_up or "", a.text(Role.WORKER), a.text(Role.TEAM_MANAGER))


def histories(merged: Sequence[Merged], grades: Sequence[str], *, rounds: Sequence[str] = (),
              actions: Sequence[Action] = (), states: Mapping[str, State] | None = None) -> list[CaseHistory]:
    """Every case's audits in round order (`rounds`, then date completed), by case reference.

    `grades` is the scale, best first: its last grade is the one that brings a case back for re-audit.
    """
    worst = grades[-1] if grades else None
    order = {norm(r): i for i, r in enumerate(rounds)}
    by_case: dict[str, list[CaseAudit]] = {}
    for m in merged:
        if m.audit.case_ref:
            by_case.setdefault(norm(m.audit.case_ref), []).append(case_audit(m))
    still_open: dict[str, list[Action]] = {}
    for act in actions:
        state = (states or {}).get(act.id, State())
        if norm(state.status) not in CLOSED and state.closed is None:
            still_open.setdefault(act.file, []).append(act)
    out = []
    for key in sorted(by_case):
        audits = sorted(by_case[key], key=lambda c: (order.get(norm(c.round), len(order)), c.completed or date.min,
                                                     c.round, c.file))
        open_ = tuple(act for c in audits[:-1] for act in still_open.get(c.file, ()))
        due = tuple(audits[-1].worst_in(worst)) if worst else ()
        out.append(CaseHistory(audits[-1].case_ref, tuple(audits), due, open_))
    return out


def due_for_reaudit(merged: Sequence[Merged], grades: Sequence[str], *,
                    rounds: Sequence[str] = ()) -> list[CaseHistory]:
    """The cases to re-audit in a later round: those whose latest audit gave the lowest grade anywhere."""
    return [h for h in histories(merged, grades, rounds=rounds) if h.due]


def allocation_rows(cases: Sequence[CaseHistory]) -> list[dict[str, str]]:
    """The cases due for re-audit as rows of an allocation list (by column key): the case, its team, worker and team
    manager as the latest audit gives them, and that audit's instance id to follow up. The auditor and month are
    left for the collator to fill in."""
    return [{"case_ref": h.case_ref, "team": h.latest.team, "worker": h.latest.worker,
             "team_manager": h.latest.team_manager, "follows_up": h.latest.instance_id} for h in cases if h.due]


def _move(before: str | None, after: str | None, grades: Sequence[str]) -> str:
    if before not in grades or after not in grades:
        return NOT_COMPARED
    b, a = grades.index(before), grades.index(after)
    return SAME if a == b else BETTER if a < b else WORSE


def reaudited(cases: Sequence[CaseHistory], grades: Sequence[str], round_name: str) -> list[Reaudited]:
    """The re-audits of this round: each case audited in it whose audit before was due for re-audit, with how the
    overall grade moved (better, same, worse, or not compared when either has no overall grade)."""
    worst = grades[-1] if grades else None
    out = []
    for h in cases:
        for before, after in zip(h.audits, h.audits[1:], strict=False):
            if norm(after.round) == norm(round_name) and worst and before.worst_in(worst):
                out.append(Reaudited(before, after, _move(before.overall, after.overall, grades)))
    return out
