"""Pure: each case's audits across rounds, which cases are due for re-audit, and how re-audited cases moved.

A case is due for re-audit when its latest audit has the lowest grade of its spec's scale (the Deep Dive's
Inadequate, the supervision audit's Weak) overall or in any section that applies. A case re-audited later leaves
the list when that later audit has no such grade, and stays on it (due again) when it has. A re-audit is a later
audit of a case whose audit before it was due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from auditbook.analysis.actions import CLOSED, Action, State
from auditbook.analysis.collate import Merged
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm

BETTER, SAME, WORSE, NOT_COMPARED = "better", "same", "worse", "not compared"


class CaseAudit(NamedTuple):
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
    #: The grade scale of the spec the audit was made from, best first (empty when the spec is not known).
    scale: tuple[str, ...] = ()
    #: When the audit was moderated: its grades are the moderator's, and this says the auditor's overall grade.
    moderation: str = ""

    def lowest(self) -> list[str]:
        """Where this audit gave the lowest grade of its scale: "Overall" and/or section titles."""
        if not self.scale:
            return []
        worst = self.scale[-1]
        out = ["Overall"] if self.overall == worst else []
        return out + [title for title, grade in self.sections.items() if grade == worst]


class CaseHistory(NamedTuple):
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


class Reaudited(NamedTuple):
    """A re-audit in a round: the audit it follows and which way the overall grade moved."""

    before: CaseAudit
    after: CaseAudit
    change: str


def grade_scales(specs: Iterable[Spec]) -> dict[str, tuple[str, ...]]:
    """Each spec's grade scale, best first, by the spec's SHA-256 (as an audit's provenance names it)."""
    return {s.sha256: tuple(s.lists.get(s.grade_list, [])) for s in specs}


def case_audit(m: Merged, scales: Mapping[str, tuple[str, ...]]) -> CaseAudit:
    """One merged audit as a case's history shows it."""
    a = m.audit
    overall = a.text(Role.OVERALL_GRADE) or None
    sections = {s.title: s.grade for s in a.sections if s.applies}
    moderation = "" if m.original is None else (
        f"Moderated: the grades shown are the moderator's; the auditor's overall grade was "
        f"{m.original.text(Role.OVERALL_GRADE) or '(none)'}")
    return CaseAudit(a.case_ref, m.round, m.file, a.provenance.instance_id, a.text(Role.TEAM), a.completed, overall,
                     sections, a.provenance.follows_up or "", a.text(Role.WORKER), a.text(Role.TEAM_MANAGER),
                     scales.get(a.provenance.spec_sha256, ()), moderation)


def histories(merged: Sequence[Merged], scales: Mapping[str, tuple[str, ...]], *, rounds: Sequence[str] = (),
              actions: Sequence[Action] = (), states: Mapping[str, State] | None = None) -> list[CaseHistory]:
    """Every case's audits in round order (`rounds`, then date completed), by case reference.

    `scales` gives each spec's grade scale (`grade_scales`): its last grade brings a case back for re-audit.
    """
    order = {norm(r): i for i, r in enumerate(rounds)}
    by_case: dict[str, list[CaseAudit]] = {}
    for m in merged:
        if m.audit.case_ref:
            by_case.setdefault(norm(m.audit.case_ref), []).append(case_audit(m, scales))
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
        out.append(CaseHistory(audits[-1].case_ref, tuple(audits), tuple(audits[-1].lowest()), open_))
    return out


def due_for_reaudit(merged: Sequence[Merged], scales: Mapping[str, tuple[str, ...]], *,
                    rounds: Sequence[str] = ()) -> list[CaseHistory]:
    """The cases to re-audit in a later round: those whose latest audit gave the lowest grade anywhere."""
    return [h for h in histories(merged, scales, rounds=rounds) if h.due]


def allocation_rows(cases: Sequence[CaseHistory]) -> list[dict[str, str]]:
    """The cases due for re-audit as rows of an allocation list (by column key): the case, its team, worker and team
    manager as the latest audit gives them, and that audit's instance id to follow up. The auditor and month are
    left for the collator to fill in."""
    return [{"case_ref": h.case_ref, "team": h.latest.team, "worker": h.latest.worker,
             "team_manager": h.latest.team_manager, "follows_up": h.latest.instance_id} for h in cases if h.due]


def _move(before: CaseAudit, after: CaseAudit) -> str:
    scale = before.scale
    if before.overall not in scale or after.overall not in scale:
        return NOT_COMPARED  # a grade missing, or the re-audit made from a spec with another scale
    b, a = scale.index(before.overall), scale.index(after.overall)
    return SAME if a == b else BETTER if a < b else WORSE


def reaudited(cases: Sequence[CaseHistory], round_name: str) -> list[Reaudited]:
    """The re-audits of this round: each case audited in it whose audit before was due for re-audit, with how the
    overall grade moved (better, same, worse, or not compared when either has no overall grade on one scale)."""
    return [Reaudited(before, after, _move(before, after)) for h in cases
            for before, after in zip(h.audits, h.audits[1:], strict=False)
            if norm(after.round) == norm(round_name) and before.lowest()]
