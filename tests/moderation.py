"""Moderation returns for the tests: an audit's moderation workbook with the moderator's answers filled in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from auditbook.returns.audit import APPLIES, Audit
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec.models import Spec
from auditbook.spec.moderation import AGREE, GRADE, REASON, SECTION, block_of
from auditbook.spec.roles import Role
from auditbook.workbook.moderation import AuditToModerate, build_moderation
from tests import returns

#: Who moderates in the tests, and when.
MODERATOR, MODERATED_ON = "Example Moderator", date(2026, 12, 1)


def moderator_answers(spec: Spec, audit: Audit, overall: str | None, *,
                      sections: Mapping[str, str] | None = None) -> dict[str, str | date]:
    """A moderator's answers: their overall grade (agreeing when it is the auditor's, else disagreeing with a reason),
    and each graded section's grade (the auditor's unless `sections` gives another)."""
    block = block_of(spec)
    out: dict[str, str | date] = {f"{SECTION}_{block.moderator}": MODERATOR,
                                  f"{SECTION}_{block.moderated_on}": MODERATED_ON}
    judged = [(s.id, s.grade, (sections or {}).get(s.id, s.grade)) for s in audit.sections if s.grade]
    if overall is not None:
        judged.append((SECTION, audit.text(Role.OVERALL_GRADE), overall))
    for where, theirs, ours in judged:
        assert ours is not None
        out[f"{where}_{GRADE}"] = ours
        out[f"{where}_{AGREE}"] = block.agree if ours == theirs else block.disagree
        if ours != theirs:
            out[f"{where}_{REASON}"] = f"Example reason: the record supports {ours}."
    return out


def moderation_return(path: Path, audit: Audit, answers: Mapping[str, str | date], *,
                      spec: Spec | None = None) -> Path:
    """The moderation workbook of an audit, with these moderator's answers in it (as a moderator returns it)."""
    counted = {a.name: a.value for a in audit.answers if a.applies == APPLIES}
    made = AuditToModerate(spec or returns.spec(), {**counted, **answers}, audit.provenance.instance_id,
                           audit.case_ref, audit.text(Role.ROUND) or audit.text(Role.AUDIT_MONTH),
                           audit.text(Role.TEAM))
    return build_moderation(made, out=path)


#: The scenarios the round's audits cycle through.
SCENARIOS = ("child_protection", "in_care_16_plus", "early_help")


def audit_round(folder: Path, grades: list[str], *, teams: list[str] | None = None) -> list[Audit]:
    """Valid audits (SYN-0001 ...) with these overall grades (and teams), written into `folder` as audit-NN.xlsx."""
    registry = SpecRegistry.of(returns.spec())
    overall = returns.layout().role_input(Role.OVERALL_GRADE)
    team = returns.layout().role_input(Role.TEAM)
    assert overall is not None and team is not None
    audits: list[Audit] = []
    for i, grade in enumerate(grades):
        answers = returns.answers(SCENARIOS[i % 3], seed=100 + i, index=i + 1)
        answers[overall.name] = grade
        if teams is not None:
            answers[team.name] = teams[i]
        path = returns.make_return(folder / f"audit-{i + 1:02d}.xlsx", answers)
        report = validate_file(path, registry=registry)
        assert report.valid and report.audit is not None, [p.render() for p in report.errors]
        audits.append(report.audit)
    return audits
