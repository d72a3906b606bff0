"""Lint the roles block: each role names a field of the right kind; and say what a missing role switches off."""

from __future__ import annotations

from auditbook.spec.conditions import fields_in
from auditbook.spec.lint_conditions import suggest
from auditbook.spec.models import FieldSpec, Spec, choice_list_of, judged_sections
from auditbook.spec.roles import ACTION_ROLES, FIELD_ROLES, ROLE_EFFECTS, SECTION_ROLES, Role

#: The field types a role's field may have (roles not listed take any type).
_TYPES: dict[Role, tuple[str, ...]] = {
    Role.AUDIT_MONTH: ("month",),
    Role.COMPLETED: ("date",), Role.DUE_DATE: ("date",), Role.PERIOD_FROM: ("date",), Role.PERIOD_TO: ("date",),
    Role.FEEDBACK_TEAM_MANAGER: ("date",), Role.FEEDBACK_PRACTITIONER: ("date",), Role.URGENT_WHEN: ("date",),
    Role.ACTION_TIMESCALE: ("date",),
    Role.AGE: ("integer",),
    Role.GENDER: ("choice",), Role.ETHNICITY: ("choice",), Role.LEGAL_STATUS: ("choice",),
    Role.OVERALL_GRADE: ("choice",), Role.SECTION_GRADE: ("choice",),
    Role.RECORD_REFLECTS_PRACTICE: ("choice", "question"),
    Role.CASE_REF: ("text",), Role.TEAM: ("text", "choice"), Role.WORKER: ("text", "choice"),
    Role.TEAM_MANAGER: ("text", "choice"), Role.AUDITOR: ("text", "choice"), Role.ROUND: ("text", "choice"),
    Role.WORKING_WELL: ("text", "long_text"), Role.TO_IMPROVE: ("text", "long_text"),
    Role.IMPACT: ("text", "long_text"), Role.ACTION_TEXT: ("text", "long_text"),
}
_GRADED = (Role.OVERALL_GRADE, Role.SECTION_GRADE)


def _kind(role: Role, field: FieldSpec, spec: Spec, where: str) -> list[str]:
    out: list[str] = []
    allowed = _TYPES.get(role)
    if allowed and field.type not in allowed:
        out.append(f'{where}: the {role.value} must be a {" or ".join(allowed)} field, not {field.type}. Point the '
                   "role at another field or change the field's type.")
    elif role in _GRADED and choice_list_of(field) != spec.grade_list:
        out.append(f"{where}: the {role.value} must use the grade list ({spec.grade_list}), not "
                   f"{choice_list_of(field)}.")
    return out


def lint_roles(spec: Spec) -> list[str]:
    """Every role that names a field that is not there or not of the right kind."""
    roles = spec.roles
    forms = {s.id: {f.id: f for f in spec.fields_of(s)} for s in spec.sections if s.kind != "table"}
    out: list[str] = []
    for role in FIELD_ROLES:
        ref = roles.field(role)
        if ref is None:
            continue
        section, _, field_id = ref.partition(".")
        field = forms.get(section, {}).get(field_id)
        where = f"roles.{role.value}"
        if field is None:
            refs = [f"{s}.{f}" for s, fs in forms.items() for f in fs]
            out.append(f'{where}: no form field "{ref}".{suggest(ref, refs)} Name a field of a form or judged section '
                       'as "section.field".')
        else:
            out += _kind(role, field, spec, where)
    for ref in fields_in(roles.urgent):
        section, _, field_id = ref.partition(".")
        if field_id not in forms.get(section, {}):
            out.append(f'roles.urgent: no form field "{ref}" for the condition. Use "section.field".')
    judged = judged_sections(spec)
    per_section = [r for r in SECTION_ROLES if roles.section_field(r)]
    per_section += [Role.THEME_TAGS] if roles.theme_tags else []
    for role in per_section:
        ids = roles.theme_tags if role is Role.THEME_TAGS else [roles.section_field(role) or ""]
        for s in judged:
            for field_id in ids:
                field = forms[s.id].get(field_id)
                if field is None:
                    out.append(f'roles.{role.value}: section {s.id} has no field "{field_id}". Add it to the '
                               "judgement block (judgement_fields) or to the section.")
                elif role is not Role.THEME_TAGS:
                    out += _kind(role, field, spec, f"roles.{role.value} ({s.id}.{field_id})")
                elif choice_list_of(field) != "theme":
                    out.append(f'roles.theme_tags ({s.id}.{field_id}): a theme tag must be a choice from the "theme" '
                               "list.")
    if roles.actions is not None:
        table = next((s for s in spec.sections if s.id == roles.actions), None)
        if table is None or table.kind != "table":
            out.append(f'roles.actions: "{roles.actions}" is not a table section. Name the actions table\'s id.')
        else:
            columns = {f.id: f for f in table.fields}
            for role in ACTION_ROLES:
                col = roles.column(role)
                if col is not None and col not in columns:
                    out.append(f'roles.{role.value}: the actions table has no column "{col}".')
                elif col is not None:
                    out += _kind(role, columns[col], spec, f"roles.{role.value}")
    elif any(roles.column(r) for r in ACTION_ROLES):
        out.append("roles: action columns are named but roles.actions (the table section) is not.")
    return out


def missing_roles(spec: Spec) -> list[str]:
    """One line per role the spec leaves out, saying what that switches off."""
    return [f"{r.value}: switches off {ROLE_EFFECTS[r]}" for r in spec.roles.missing()]
