"""Pure: every action the merged audits carry, each with a stable id, and what the register knows of it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from auditbook.analysis.collate import Merged
from auditbook.returns.audit import Audit, round_of
from auditbook.spec.roles import Role
from auditbook.text import norm

#: What a collator or team manager may say of an action.
ACTION_STATUSES = ("Not started", "In progress", "Done", "Not needed")
#: Statuses that close an action: a closed action is never overdue.
CLOSED = frozenset({"done", "not needed", "closed"})
URGENT_SECTION = "URGENT concern raised during the audit"


def action_id(case_ref: str, instance_id: str, row: int | str, *, case: str | None = None) -> str:
    """A stable id: the case and row a person can read, and a short hash of case, source workbook and row.

    A return sent again (the same workbook saved again) keeps its ids, so a status typed against it stays. The
    round is not part of it: a round is worked out (from the round calendar, the audit month, or how other
    returns spell it), and an action must keep its id whatever that gives. `case`: norm(case_ref), when the caller
    has it (worked out once for all of an audit's actions).
    """
    return _hashed(case_ref, f"{norm(case_ref) if case is None else case}|{instance_id}|{row}", row)


def _hashed(case_ref: str, text: str, row: int | str) -> str:
    """An id: the case and row, and a short hash of `text` (the case as norm() reads it, the workbook, the row)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{case_ref or 'NOREF'}-{_tag(row)}-{digest}"


def _tag(row: int | str) -> str:
    return f"A{row:02d}" if isinstance(row, int) else str(row)


def _legacy_id(case_ref: str, round_name: str, instance_id: str, row: int | str) -> str:
    # The id auditbook gave before it left the round out (a hash of case, round, workbook and row).
    return _hashed(case_ref, f"{_legacy_head(case_ref, round_name, instance_id)}{row}", row)


def _legacy_head(case_ref: str, round_name: str, instance_id: str) -> str:
    # What an earlier id hashes before its row: the same for every action of an audit.
    return f"{norm(case_ref)}|{norm(round_name)}|{instance_id}|"


def _rows(a: Audit) -> list[int | str]:
    return [*(["URGENT"] if a.urgent else []), *(act.row for act in a.actions)]


def ids_of(a: Audit) -> list[str]:
    """The ids of the actions an audit carries (its urgent concern first)."""
    return [action_id(a.case_ref, a.provenance.instance_id, row) for row in _rows(a)]


def legacy_ids(merged: list[Merged], actions: Sequence[Action]) -> dict[str, str]:
    """Earlier ids of these audits' actions (with the round in them), each with the id it has now.

    `actions`: `actions_of(merged)`, whose ids are taken as they are rather than worked out again.
    """
    ids = iter([a.id for a in actions])
    # actions_of gives every urgent concern first, in the audits' order, then each audit's action rows.
    urgent = [next(ids) if m.audit.urgent else None for m in merged]
    out: dict[str, str] = {}
    for m, first in zip(merged, urgent, strict=True):
        a = m.audit
        if first is None and not a.actions:
            continue
        now = [*([] if first is None else [first]), *(next(ids) for _ in a.actions)]
        # The case, workbook and rounds as the earlier ids hash them, worked out once per audit.
        ref, instance = a.case_ref, a.provenance.instance_id
        heads = [_legacy_head(ref, name, instance) for name in {m.round, round_of(a)}]
        for row, new in zip(_rows(a), now, strict=True):
            for head in heads:
                out[_hashed(ref, f"{head}{row}", row)] = new
    return out


@dataclass(frozen=True)
class State:
    """What the register holds for one action: typed by the collator or a team manager, kept across runs."""

    status: str = ""
    notes: str = ""
    closed: date | None = None
    #: Edits that disagreed (e.g. master and a pack), shown until someone settles them.
    conflict: str = ""
    updated_by: str = ""

    @property
    def is_closed(self) -> bool:
        """Done, Not needed or Closed, or given a date closed."""
        return norm(self.status) in CLOSED or self.closed is not None


@dataclass(frozen=True)
class Action:
    """One action of the register, as the audits give it."""

    id: str
    case_ref: str
    round: str
    team: str
    team_manager: str
    section: str
    text: str
    responsible: str
    timescale: date | None
    priority: str
    agreed: str
    file: str
    urgent: bool = False
    #: When an urgent concern was raised (its row has no timescale: the day it was raised is not a deadline).
    raised: date | None = None

    def overdue(self, state: State, today: date) -> bool:
        """Past its timescale and not closed."""
        return self.timescale is not None and self.timescale < today and not state.is_closed


def _d(value: object) -> date | None:
    return value if isinstance(value, date) else None


def actions_of(merged: list[Merged]) -> list[Action]:
    """Urgent concerns first (each is an action: check it was acted on, with no timescale, so never overdue), then every
    action row."""
    out: list[Action] = []
    for m in merged:
        a = m.audit
        if a.urgent:
            when = _d(a.fact(Role.URGENT_WHEN))
            said = f"{when:%d/%m/%Y}" if when else "(date not given)"
            out.append(Action(
                action_id(a.case_ref, a.provenance.instance_id, "URGENT"), a.case_ref, m.round,
                a.text(Role.TEAM), a.text(Role.TEAM_MANAGER), URGENT_SECTION,
                f"Raised on {said} with {a.text(Role.URGENT_WITH_WHOM) or '(not said)'}: check it has been acted on.",
                a.text(Role.TEAM_MANAGER), None, "Urgent", "", m.file, urgent=True, raised=when))
    for m in merged:
        a = m.audit
        if not a.actions:
            continue
        # The audit's case, team and manager, and what its ids hash, worked out once for all its actions.
        ref, instance = a.case_ref, a.provenance.instance_id
        team, manager = a.text(Role.TEAM), a.text(Role.TEAM_MANAGER)
        case = norm(ref)
        for act in a.actions:
            out.append(Action(
                action_id(ref, instance, act.row, case=case), ref, m.round, team, manager, act.section or "",
                act.text or "", act.responsible or "", act.timescale, act.priority or "", act.agreed or "", m.file))
    return out


@dataclass
class ReadBack:
    """What reading the master and packs back found: edits taken, conflicts, and cells that made no sense."""

    taken: int = 0
    conflicts: int = 0
    problems: list[str] = field(default_factory=list)
    #: Edits taken from the master (the rest came from packs).
    from_master: int = 0
    #: Things the collator should know about where edits came from, or about the ledger's own tables.
    warnings: list[str] = field(default_factory=list)
    #: The packs whose edits were read (a pack that could not be read is read again next time).
    packs_read: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Completion:
    """How far a group's actions have got: of `total`, how many are done (closed), open, and open past their
    timescale (overdue, counted in open too)."""

    group: str
    total: int
    done: int
    open: int
    overdue: int


def completion(actions: Sequence[Action], states: Mapping[str, State], today: date,
               by: Callable[[Action], str]) -> list[Completion]:
    """Each group's completion figures (the groups `by` gives, in name order), urgent concerns left out: they are
    checked as urgent concerns, not as actions with a timescale."""
    groups: dict[str, list[Action]] = {}
    for a in actions:
        if not a.urgent:
            groups.setdefault(by(a) or "(none)", []).append(a)
    out: list[Completion] = []
    for name, acts in sorted(groups.items()):
        st = [(a, states.get(a.id, State())) for a in acts]
        done = sum(1 for _, s in st if s.is_closed)
        overdue = sum(1 for a, s in st if a.overdue(s, today))
        out.append(Completion(name, len(acts), done, len(acts) - done, overdue))
    return out
