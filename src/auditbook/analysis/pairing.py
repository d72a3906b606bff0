"""Pure: pair each moderation with the audit it was made from, and the audit as moderated.

A moderation names its audit by the audit's instance id (its metadata); the case reference and round it shows (the
audit's own answers, locked) must be the audit's, else the moderation was altered and is not paired: a problem on
the cell that differs. Both are kept: the audit is never superseded by its moderation, nor the moderation by the
audit. Of two moderations of one audit, the later counts (as a later return of a case does).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from auditbook.problems import Code, Problem
from auditbook.returns.audit import Audit
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.layout import Layout
from auditbook.spec.moderation import AGREE, GRADE, MODERATION, REASON, SECTION, block_of
from auditbook.spec.roles import Role
from auditbook.text import norm

#: The scope of the overall grade's judgement (a section's is its id).
OVERALL = "overall"


class Judgement(NamedTuple):
    """One grade judged twice: the auditor's and the moderator's, whether the moderator agreed, and why."""

    scope: str
    title: str
    auditor: str | None
    moderator: str | None
    agreed: bool | None
    reason: str | None


class Pair(NamedTuple):
    """A moderation and the audit it is of (the audit as returned, its grades the auditor's)."""

    file: str
    moderation: Audit
    audit_file: str
    audit: Audit
    round: str
    moderator: str
    moderated_on: date | None
    judgements: tuple[Judgement, ...]
    warnings: tuple[Problem, ...] = ()
    source_missing: bool = False

    @property
    def overall(self) -> Judgement | None:
        """The judgement of the overall grade, when the spec has one."""
        return next((j for j in self.judgements if j.scope == OVERALL), None)


class Unpaired(NamedTuple):
    """A moderation that is not paired: its audit is not collected, or it does not match it; or a later one counts."""

    file: str
    status: str
    reason: str
    problems: tuple[Problem, ...]
    case_ref: str
    round: str


class ToPair(NamedTuple):
    """A valid moderation as collate found it: its file, its audit, its round (as merged) and whether it is still in
    the folder."""

    file: str
    moderation: Audit
    round: str
    present: bool = True
    warnings: tuple[Problem, ...] = ()


def pair(moderations: Sequence[ToPair], audits: Sequence[tuple[str, Audit, str]],
         registry: SpecRegistry) -> tuple[list[Pair], list[Unpaired]]:
    """Pair each moderation with its audit among `audits` (file, audit, round as merged)."""
    by_instance: dict[str, list[tuple[str, Audit, str]]] = {}
    for entry in audits:
        by_instance.setdefault(entry[1].provenance.instance_id, []).append(entry)
    pairs: dict[str, Pair] = {}
    unpaired: list[Unpaired] = []
    made = [_match(c, by_instance.get(c.moderation.provenance.audit_instance_id or "", []), registry)
            for c in moderations]
    for found in made:
        if isinstance(found, Unpaired):
            unpaired.append(found)
    # Moderations in the order they were made: of two of one audit, the later counts.
    for found in sorted((f for f in made if isinstance(f, Pair)), key=_order):
        earlier = pairs.get(found.audit_file)
        if earlier is not None:
            unpaired.append(Unpaired(earlier.file, "superseded", f"a later moderation of case {found.audit.case_ref} "
                                     f"is {found.file}", (), earlier.audit.case_ref, earlier.round))
        pairs[found.audit_file] = found
    return sorted(pairs.values(), key=lambda p: (norm(p.round), norm(p.audit.case_ref), p.file)), unpaired


def _order(p: Pair) -> tuple[date, str, str]:
    return (p.moderated_on or date.min, p.moderation.provenance.generated_at or "", p.file)


def _match(c: ToPair, audits: list[tuple[str, Audit, str]], registry: SpecRegistry) -> Pair | Unpaired:
    """The pair a moderation makes with the audit of its instance id, or why it makes none."""
    m = c.moderation
    spec = registry.by_sha[m.provenance.spec_sha256]
    layout = registry.layout_of(spec, MODERATION)
    same_case = [a for a in audits if norm(a[1].case_ref) == norm(m.case_ref)]
    if not audits:
        sheet, cell = _where(layout, Role.CASE_REF)
        problem = Problem.of(Code.MODERATION_NO_AUDIT, sheet=sheet, cell=cell, round=c.round, case_ref=m.case_ref)
        return Unpaired(c.file, "unpaired", "its audit is not collected", (problem,), m.case_ref, c.round)
    if not same_case:
        sheet, cell = _where(layout, Role.CASE_REF)
        problem = Problem.of(Code.MODERATION_MISMATCH, sheet=sheet, cell=cell, what="case reference",
                             theirs=m.case_ref, ours=audits[0][1].case_ref)
        return Unpaired(c.file, "rejected", "not its audit's case", (problem,), m.case_ref, c.round)
    file, audit, merged_round = same_case[0]
    if norm(merged_round) != norm(c.round):
        sheet, cell = _where(layout, Role.ROUND)
        problem = Problem.of(Code.MODERATION_MISMATCH, sheet=sheet, cell=cell, what="round", theirs=c.round,
                             ours=merged_round)
        return Unpaired(c.file, "rejected", "not its audit's round", (problem,), m.case_ref, c.round)
    block = block_of(spec)
    on = m.answer(SECTION, block.moderated_on)
    found = judgements(spec.roles.field(Role.OVERALL_GRADE) is not None, audit, m, block.agree, block.disagree)
    return Pair(c.file, m, file, audit, merged_round, _text(m.answer(SECTION, block.moderator)) or "",
                on if isinstance(on, date) else None, found, c.warnings, not c.present)


def _where(layout: Layout, role: Role) -> tuple[str | None, str | None]:
    """The sheet and cell of the moderation's input playing a role (the case reference, the round)."""
    inp = layout.role_input(role)
    return (None, None) if inp is None else (inp.sheet, inp.cell)


def judgements(has_overall: bool, audit: Audit, m: Audit, agree: str, disagree: str) -> tuple[Judgement, ...]:
    """Each judged section the auditor graded, then the overall grade: the auditor's grade and the moderator's."""
    out: list[Judgement] = []
    for s in audit.sections:
        if s.grade is None and m.answer(s.id, GRADE) is None:
            continue
        out.append(Judgement(s.id, s.title, s.grade, _text(m.answer(s.id, GRADE)),
                             _agreed(m.answer(s.id, AGREE), agree, disagree), _text(m.answer(s.id, REASON))))
    if has_overall:
        out.append(Judgement(OVERALL, "Overall", _text(audit.fact(Role.OVERALL_GRADE)), _text(m.answer(SECTION, GRADE)),
                             _agreed(m.answer(SECTION, AGREE), agree, disagree), _text(m.answer(SECTION, REASON))))
    return tuple(out)


def _agreed(value: object, agree: str, disagree: str) -> bool | None:
    if value is None:
        return None
    said = norm(str(value))
    return True if said == norm(agree) else False if said == norm(disagree) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def moderated(audit: Audit, p: Pair) -> Audit:
    """The audit with the moderator's grades where they gave one: what the round's figures count."""
    by_scope = {j.scope: j.moderator for j in p.judgements if j.moderator}
    sections = [s.model_copy(update={"grade": by_scope[s.id]}) if s.id in by_scope else s for s in audit.sections]
    facts = dict(audit.facts)
    if OVERALL in by_scope:
        facts[Role.OVERALL_GRADE.value] = by_scope[OVERALL]
    return audit.model_copy(update={"sections": sections, "facts": facts})
