"""Lint the roles block: each role names a field of the right kind; and say what a missing role switches off."""

from __future__ import annotations

from auditbook.problems import Code, Key, KeyProblem
from auditbook.spec.conditions import fields_in
from auditbook.spec.models import FieldSpec, Spec, choice_list_of, judged_sections
from auditbook.spec.roles import ACTION_ROLES, FIELD_ROLES, ROLE_EFFECTS, SECTION_ROLES, Role
from auditbook.text import suggest

#: The field types a role's field may have (roles not listed take any type).
_TYPES: dict[Role, tuple[str, ...]] = {
    Role.AUDIT_MONTH: ("month",),
    Role.COMPLETED: ("date",), Role.DUE_DATE: ("date",), Role.PERIOD_FROM: ("date",), Role.PERIOD_TO: ("date",),
    Role.FEEDBACK_TEAM_MANAGER: ("date",), Role.FEEDBACK_PRACTITIONER: ("date",), Role.URGENT_WHEN: ("date",),
    Role.ACTION_TIMESCALE: ("date",), Role.ACTION_AGREED_ON: ("date",),
    Role.AGE: ("integer",),
    Role.GENDER: ("choice",), Role.ETHNICITY: ("choice",), Role.LEGAL_STATUS: ("choice",),
    Role.OVERALL_GRADE: ("choice",), Role.SECTION_GRADE: ("choice",),
    Role.RECORD_REFLECTS_PRACTICE: ("choice", "question"),
    Role.CASE_REF: ("text",), Role.TEAM: ("text", "choice"), Role.WORKER: ("text", "choice"),
    Role.TEAM_MANAGER: ("text", "choice"), Role.AUDITOR: ("text", "choice"), Role.ROUND: ("text", "choice"),
    Role.WORKING_WELL: ("text", "long_text"), Role.TO_IMPROVE: ("text", "long_text"),
    Role.IMPACT: ("text", "long_text"), Role.ACTION_TEXT: ("text", "long_text"),
    Role.URGENT_WHAT: ("text", "long_text"), Role.URGENT_AGREED: ("text", "long_text"),
    Role.URGENT_WITH_NAME: ("text", "choice"),
}
_GRADED = (Role.OVERALL_GRADE, Role.SECTION_GRADE)


def _kind(role: Role, f: FieldSpec, spec: Spec, key: Key) -> list[KeyProblem]:
    allowed = _TYPES.get(role)
    if allowed and f.type not in allowed:
        return [KeyProblem.of(Code.SPEC_ROLE_TYPE, key, role=role.value, types=" or ".join(allowed), type=f.type)]
    if role in _GRADED and choice_list_of(f) != spec.grade_list:
        return [KeyProblem.of(Code.SPEC_ROLE_GRADE_LIST, key, role=role.value, grade_list=spec.grade_list,
                              name=choice_list_of(f))]
    return []


def lint_roles(spec: Spec) -> list[KeyProblem]:
    """Every role that names a field that is not there or not of the right kind."""
    forms = {s.id: {f.id: f for f in spec.fields_of(s)} for s in spec.sections if s.kind != "table"}
    return [*_field_roles(spec, forms), *_urgent(spec, forms), *_section_roles(spec, forms), *_action_roles(spec)]


def _field_roles(spec: Spec, forms: dict[str, dict[str, FieldSpec]]) -> list[KeyProblem]:
    """Roles that name one field of a form or judged section ("section.field")."""
    out: list[KeyProblem] = []
    for role in FIELD_ROLES:
        ref = spec.roles.field(role)
        if ref is None:
            continue
        section, _, field_id = ref.partition(".")
        found = forms.get(section, {}).get(field_id)
        key = Key.of("roles", role.value)
        if found is None:
            refs = [f"{s}.{f}" for s, fs in forms.items() for f in fs]
            out.append(KeyProblem.of(Code.SPEC_ROLE_NO_FIELD, key, ref=ref, suggestion=suggest(ref, refs)))
        else:
            out += _kind(role, found, spec, key)
    return out


def _urgent(spec: Spec, forms: dict[str, dict[str, FieldSpec]]) -> list[KeyProblem]:
    """The fields the urgent-concern condition looks at."""
    refs = [f"{s}.{f}" for s, fs in forms.items() for f in fs]
    return [KeyProblem.of(Code.SPEC_UNKNOWN_FIELD, Key.of("roles", "urgent"), ref=ref, suggestion=suggest(ref, refs))
            for ref in fields_in(spec.roles.urgent) if ref not in refs]


def _section_roles(spec: Spec, forms: dict[str, dict[str, FieldSpec]]) -> list[KeyProblem]:
    """Roles that name a field every judged section has (its grade, its theme tags ...)."""
    roles = spec.roles
    per_section = [r for r in SECTION_ROLES if roles.section_field(r)]
    per_section += [Role.THEME_TAGS] if roles.theme_tags else []
    out: list[KeyProblem] = []
    for role in per_section:
        ids = roles.theme_tags if role is Role.THEME_TAGS else [roles.section_field(role) or ""]
        for s in judged_sections(spec):
            for field_id in ids:
                found = forms[s.id].get(field_id)
                key = Key.of("roles").key(role.value, f"{s.id}.{field_id}")
                if found is None:
                    out.append(KeyProblem.of(Code.SPEC_ROLE_SECTION_FIELD, Key.of("roles", role.value),
                                             section=s.id, field_id=field_id))
                elif role is not Role.THEME_TAGS:
                    out += _kind(role, found, spec, key)
                elif choice_list_of(found) != "theme":
                    out.append(KeyProblem.of(Code.SPEC_THEME_TAG_LIST, key))
    return out


def _action_roles(spec: Spec) -> list[KeyProblem]:
    """The actions table and the roles of its columns."""
    roles = spec.roles
    if roles.actions is None:
        named = any(roles.column(r) for r in ACTION_ROLES)
        return [KeyProblem.of(Code.SPEC_ACTIONS_NOT_NAMED, Key.of("roles"))] if named else []
    table = next((s for s in spec.sections if s.id == roles.actions), None)
    if table is None or table.kind != "table":
        return [KeyProblem.of(Code.SPEC_ACTIONS_NOT_A_TABLE, Key.of("roles", "actions"), name=roles.actions)]
    columns = {f.id: f for f in table.fields}
    out: list[KeyProblem] = []
    for role in ACTION_ROLES:
        col = roles.column(role)
        if col is not None and col not in columns:
            out.append(KeyProblem.of(Code.SPEC_UNKNOWN_COLUMN, Key.of("roles", role.value), table=table.id,
                                     column=col, suggestion=suggest(col, columns)))
        elif col is not None:
            out += _kind(role, columns[col], spec, Key.of("roles", role.value))
    return out


def missing_roles(spec: Spec) -> list[str]:
    """One line per role the spec leaves out, saying what that switches off."""
    return [f"{r.value}: switches off {ROLE_EFFECTS[r]}" for r in spec.roles.missing()]
