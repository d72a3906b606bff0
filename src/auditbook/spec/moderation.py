"""A moderation, as a spec of its own: the audit's spec with the moderator's judgement added, made from its
`moderation:` block.

A moderation workbook is the audit's workbook with every answer of the audit filled in and locked, and the
moderator's inputs beside them: at the end of each judged section, their grade, whether they agree with the
auditor's grade and why; on the moderation sheet (the last), who moderated, when, and their judgement of the
overall grade. The audit's own rules are left out (the audit passed them when it was collected); the moderation's
rules ask for a reason where the moderator disagrees and warn where agreeing and the grades given do not match.
The moderation spec is made from the audit's spec alone, so a moderation return names the audit's spec (by its
SHA-256) and says it is a moderation (metadata kind); nothing of it is written in a spec file.
"""

from __future__ import annotations

from typing import Any

from auditbook.spec.conditions import THIS
from auditbook.spec.models import FieldSpec, ModerationSpec, SectionSpec, Spec, input_name
from auditbook.spec.roles import Role
from auditbook.spec.rules import EACH_SECTION, Rule

#: The moderation sheet's section id, and the ids of the moderator's grade, agreement and reason: in every judged
#: section (after its judgement block) and, for the overall grade, on the moderation sheet.
SECTION = "moderation"
GRADE, AGREE, REASON = "moderation_grade", "moderation_agree", "moderation_reason"
#: The choice list of the agree / disagree answers.
AGREE_LIST = "moderation_agree"
#: What the metadata's kind says of a workbook (an audit when it says nothing).
AUDIT, MODERATION = "audit", "moderation"

_made: dict[str, Spec] = {}


def moderation_spec(spec: Spec) -> Spec:
    """The spec of a moderation of this spec's audits (made once per spec); ValueError when it has no moderation."""
    made = _made.get(spec.sha256)
    if made is None:
        made = _made[spec.sha256] = _derive(spec)
    return made


def block_of(spec: Spec) -> ModerationSpec:
    """The spec's moderation block; ValueError when the spec says its audits are not moderated."""
    if spec.moderation is None:
        raise ValueError(f"the spec {spec.id} {spec.version} says its audits are not moderated (moderation: null)")
    return spec.moderation


def overall_ref(spec: Spec) -> str | None:
    """The moderator's overall grade ("moderation.moderation_grade"), when the spec has an overall grade."""
    return f"{SECTION}.{GRADE}" if spec.roles.field(Role.OVERALL_GRADE) else None


def _derive(spec: Spec) -> Spec:
    m = block_of(spec)
    judged_extra = [
        FieldSpec(id=GRADE, label=m.grade_label, type="choice", choices=spec.grade_list),
        FieldSpec(id=AGREE, label=m.agree_label, type="choice", choices=AGREE_LIST),
        FieldSpec(id=REASON, label=m.reason_label, type="long_text", required=False),
    ]
    own = list(m.fields)
    if overall_ref(spec):
        own += [
            FieldSpec(id=GRADE, label=m.overall_label, type="choice", choices=spec.grade_list),
            FieldSpec(id=AGREE, label=m.agree_label.replace("grade", "overall grade", 1), type="choice",
                      choices=AGREE_LIST),
            FieldSpec(id=REASON, label=m.reason_label, type="long_text", required=False),
        ]
    sheet = SectionSpec(id=SECTION, title=m.title, sheet=m.sheet, kind="form", guidance=m.guidance, fields=own)
    values: dict[str, Any] = {name: getattr(spec, name) for name in Spec.model_fields}
    values.update(
        title=f"{m.title}: {spec.title}"[:1000],
        choice_lists={**spec.choice_lists, AGREE_LIST: [m.agree, m.disagree]},
        judgement_fields=[*spec.judgement_fields, *judged_extra],
        sections=[*spec.sections, sheet],
        rules=_rules(spec, m),
        moderation=None,
        instructions=[m.guidance, *spec.instructions],
    )
    return Spec.model_validate(values)


def _rules(spec: Spec, m: ModerationSpec) -> list[Rule]:
    """A reason where the moderator disagrees (an error); agreeing with a different grade, or disagreeing with the
    same one (warnings). Once per judged section, and once for the overall grade."""
    section_grade = spec.roles.section_grade
    overall = spec.roles.field(Role.OVERALL_GRADE)
    places: list[tuple[str | None, str, str, str | None]] = []
    if section_grade:
        places.append((EACH_SECTION, f"{THIS}.", "this section", f"{THIS}.{section_grade}"))
    if overall:
        places.append((None, f"{SECTION}.", "the overall grade", overall))
    grades = spec.lists.get(spec.grade_list, [])
    rules: list[dict[str, Any]] = []
    for each, at, what, theirs in places:
        suffix = "_overall" if each is None else ""
        agree, grade, reason = at + AGREE, at + GRADE, at + REASON
        rules.append({
            "id": f"moderation_reason{suffix}", "severity": "error", "each": each,
            "when": {"field": agree, "equals": m.disagree}, "require": {"filled": reason},
            "message": f"You disagree with the auditor about {what} but have not said why.",
            "fix": "Say why you disagree: the Self-Assessment Group reads the reasons.", "cells": [reason, agree]})
        if theirs is None or not grades:
            continue
        same = {"any": [{"all": [{"field": theirs, "equals": g}, {"field": grade, "equals": g}]} for g in grades]}
        rules.append({
            "id": f"moderation_agree_grade{suffix}", "severity": "warning", "each": each,
            "when": {"field": agree, "equals": m.agree}, "require": same,
            "message": f"You agree with the auditor about {what}, but your grade is not theirs.",
            "fix": f"Give the auditor's grade, or answer {m.disagree} and say why.", "cells": [grade, agree]})
        rules.append({
            "id": f"moderation_disagree_grade{suffix}", "severity": "warning", "each": each,
            "when": {"field": agree, "equals": m.disagree}, "require": {"not": same},
            "message": f"You disagree with the auditor about {what}, but your grade is theirs.",
            "fix": f"Give the grade you would give, or answer {m.agree}.", "cells": [grade, agree]})
    return [Rule.model_validate(r) for r in rules]


def moderation_inputs(spec: Spec, section_id: str) -> tuple[str, str, str]:
    """The input names of a judged section's moderator's grade, agreement and reason (or, for SECTION, the
    overall's)."""
    return input_name(section_id, GRADE), input_name(section_id, AGREE), input_name(section_id, REASON)
