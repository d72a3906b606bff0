"""Roles: which field of a spec plays each part the tool relies on. Code asks for a role, never a field id.

A spec names its fields as it likes (`profile.case_ref`, `supervision.reference`, ...); the `roles:` block
says which of them is the case reference, the team, the overall grade, the actions table and so on. A
role left out switches off what needs it, and `auditbook spec check` says what (ROLE_EFFECTS).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from auditbook.spec.conditions import Condition, FieldRef

FieldId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Role(StrEnum):
    """Every role a spec can give a field. Values are the keys of the spec's `roles:` block."""

    CASE_REF = "case_ref"
    TEAM = "team"
    WORKER = "worker"
    TEAM_MANAGER = "team_manager"
    AUDITOR = "auditor"
    AUDIT_MONTH = "audit_month"
    ROUND = "round"
    COMPLETED = "completed"
    DUE_DATE = "due_date"
    PERIOD_FROM = "period_from"
    PERIOD_TO = "period_to"
    AGE = "age"
    GENDER = "gender"
    ETHNICITY = "ethnicity"
    LEGAL_STATUS = "legal_status"
    OVERALL_GRADE = "overall_grade"
    RECORD_REFLECTS_PRACTICE = "record_reflects_practice"
    IMPACT = "impact"
    FEEDBACK_TEAM_MANAGER = "feedback_team_manager"
    FEEDBACK_PRACTITIONER = "feedback_practitioner"
    URGENT_WHAT = "urgent_what"
    URGENT_WHEN = "urgent_when"
    URGENT_WITH_WHOM = "urgent_with_whom"
    URGENT_WITH_NAME = "urgent_with_name"
    URGENT_AGREED = "urgent_agreed"
    URGENT = "urgent"
    SECTION_GRADE = "section_grade"
    WORKING_WELL = "working_well"
    TO_IMPROVE = "to_improve"
    THEME_TAGS = "theme_tags"
    ACTIONS = "actions"
    ACTION_TEXT = "action_text"
    ACTION_SECTION = "action_section"
    ACTION_RESPONSIBLE = "action_responsible"
    ACTION_TIMESCALE = "action_timescale"
    ACTION_AGREED = "action_agreed"
    ACTION_AGREED_WITH = "action_agreed_with"
    ACTION_AGREED_ON = "action_agreed_on"
    ACTION_PRIORITY = "action_priority"


#: Roles naming one input of a form section ("section.field"): read into the audit's facts.
FIELD_ROLES: tuple[Role, ...] = (
    Role.CASE_REF, Role.TEAM, Role.WORKER, Role.TEAM_MANAGER, Role.AUDITOR, Role.AUDIT_MONTH, Role.ROUND,
    Role.COMPLETED, Role.DUE_DATE, Role.PERIOD_FROM, Role.PERIOD_TO, Role.AGE, Role.GENDER, Role.ETHNICITY,
    Role.LEGAL_STATUS, Role.OVERALL_GRADE, Role.RECORD_REFLECTS_PRACTICE, Role.IMPACT, Role.FEEDBACK_TEAM_MANAGER,
    Role.FEEDBACK_PRACTITIONER, Role.URGENT_WHAT, Role.URGENT_WHEN, Role.URGENT_WITH_WHOM, Role.URGENT_WITH_NAME,
    Role.URGENT_AGREED,
)
#: Roles naming a field id that every judged section has (from the judgement block or its own fields).
SECTION_ROLES: tuple[Role, ...] = (Role.SECTION_GRADE, Role.WORKING_WELL, Role.TO_IMPROVE)
#: Roles naming a column of the actions table.
ACTION_ROLES: tuple[Role, ...] = (
    Role.ACTION_TEXT, Role.ACTION_SECTION, Role.ACTION_RESPONSIBLE, Role.ACTION_TIMESCALE, Role.ACTION_AGREED,
    Role.ACTION_AGREED_WITH, Role.ACTION_AGREED_ON, Role.ACTION_PRIORITY,
)

#: What the tool does with each role, so a spec without it knows what is switched off.
ROLE_EFFECTS: dict[Role, str] = {
    Role.CASE_REF: "the case reference in file names, page footers, messages and the master; duplicate and "
                   "superseded returns are found by case and round",
    Role.TEAM: "teams in the master, themes and cohorts by team, the team in file names",
    Role.WORKER: "the allocated worker in the master and findings",
    Role.TEAM_MANAGER: "team manager packs, and the default responsible person of an action",
    Role.AUDITOR: "the auditor in the master and the allocation",
    Role.AUDIT_MONTH: "the due date, lateness, the audit period and the round when none is named",
    Role.ROUND: "named rounds (the audit month stands in for the round)",
    Role.COMPLETED: "lateness and the Returns tab's on time / late",
    Role.DUE_DATE: "the due date shown on the workbook",
    Role.PERIOD_FROM: "the start of the audit period shown on the workbook",
    Role.PERIOD_TO: "the end of the audit period shown on the workbook",
    Role.AGE: "cohorts by age band",
    Role.GENDER: "cohorts by gender",
    Role.ETHNICITY: "cohorts by ethnicity",
    Role.LEGAL_STATUS: "cohorts by legal status",
    Role.OVERALL_GRADE: "the overall grade in the master, its chart and trends",
    Role.RECORD_REFLECTS_PRACTICE: "whether the record reflects practice, in the master",
    Role.IMPACT: "the impact of the intervention, in the findings",
    Role.FEEDBACK_TEAM_MANAGER: "the date feedback was given to the team manager, in the master",
    Role.FEEDBACK_PRACTITIONER: "the date feedback was given to the practitioner, in the master",
    Role.URGENT_WHAT: "what an urgent concern was, with the urgent concerns the master lists",
    Role.URGENT_WHEN: "when an urgent concern was raised, in the master's Actions",
    Role.URGENT_WITH_WHOM: "with whom an urgent concern was raised (their role), in the master's Actions",
    Role.URGENT_WITH_NAME: "the name of the person an urgent concern was raised with, with the urgent concerns the "
                           "master lists",
    Role.URGENT_AGREED: "what was agreed about an urgent concern, with the urgent concerns the master lists",
    Role.URGENT: "urgent concerns at the top of the master's Actions and counted in its Summary",
    Role.SECTION_GRADE: "section grades in the workbook's Summary, the master, themes and trends",
    Role.WORKING_WELL: "what is working well, in the findings and packs",
    Role.TO_IMPROVE: "what needs to improve, in the findings and packs",
    Role.THEME_TAGS: "theme tags on the Summary and ranked themes in the master",
    Role.ACTIONS: "the actions table: the master's Actions tab, the workbook Summary's actions and packs",
    Role.ACTION_TEXT: "the text of each action",
    Role.ACTION_SECTION: "the section each action comes from",
    Role.ACTION_RESPONSIBLE: "who is responsible for each action (the team manager when blank)",
    Role.ACTION_TIMESCALE: "each action's timescale and whether it is overdue",
    Role.ACTION_AGREED: "whether each action was agreed at feedback",
    Role.ACTION_AGREED_WITH: "whom each action was agreed with (filled in on synthetic returns)",
    Role.ACTION_AGREED_ON: "the day each action was agreed (filled in on synthetic returns)",
    Role.ACTION_PRIORITY: "each action's priority",
}


def _describe_roles(schema: dict[str, Any]) -> None:
    """Give every key of the roles block its description in the JSON Schema, from ROLE_EFFECTS."""
    for role in Role:
        prop = schema.get("properties", {}).get(role.value)
        if prop is not None:
            kind = ("a condition that holds when" if role is Role.URGENT else
                    "the field id, in every judged section, of" if role in SECTION_ROLES or role is Role.THEME_TAGS
                    else "the id of the table section of" if role is Role.ACTIONS
                    else "the actions table's column for" if role in ACTION_ROLES else '"section.field" of')
            prop["description"] = f"{role.value}: {kind} this role. Used for {ROLE_EFFECTS[role]}."


class Roles(BaseModel):
    """The `roles:` block: which field of this spec plays each part the tool relies on."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_describe_roles)

    case_ref: FieldRef | None = None
    team: FieldRef | None = None
    worker: FieldRef | None = None
    team_manager: FieldRef | None = None
    auditor: FieldRef | None = None
    audit_month: FieldRef | None = None
    round: FieldRef | None = None
    completed: FieldRef | None = None
    due_date: FieldRef | None = None
    period_from: FieldRef | None = None
    period_to: FieldRef | None = None
    age: FieldRef | None = None
    gender: FieldRef | None = None
    ethnicity: FieldRef | None = None
    legal_status: FieldRef | None = None
    overall_grade: FieldRef | None = None
    record_reflects_practice: FieldRef | None = None
    impact: FieldRef | None = None
    feedback_team_manager: FieldRef | None = None
    feedback_practitioner: FieldRef | None = None
    urgent_what: FieldRef | None = None
    urgent_when: FieldRef | None = None
    urgent_with_whom: FieldRef | None = None
    urgent_with_name: FieldRef | None = None
    urgent_agreed: FieldRef | None = None
    urgent: Condition | None = None
    section_grade: FieldId | None = None
    working_well: FieldId | None = None
    to_improve: FieldId | None = None
    theme_tags: list[FieldId] = Field(default_factory=list)
    actions: FieldId | None = None
    action_text: FieldId | None = None
    action_section: FieldId | None = None
    action_responsible: FieldId | None = None
    action_timescale: FieldId | None = None
    action_agreed: FieldId | None = None
    action_agreed_with: FieldId | None = None
    action_agreed_on: FieldId | None = None
    action_priority: FieldId | None = None

    def field(self, role: Role) -> str | None:
        """The "section.field" a field role names, or None when the spec leaves it out."""
        assert role in FIELD_ROLES, role
        value = getattr(self, role.value)
        return value if isinstance(value, str) else None

    def field_roles(self) -> dict[Role, str]:
        """Every field role the spec gives, with its "section.field"."""
        return {r: ref for r in FIELD_ROLES if (ref := self.field(r)) is not None}

    def column(self, role: Role) -> str | None:
        """The actions table column id a column role names, or None."""
        assert role in ACTION_ROLES, role
        value = getattr(self, role.value)
        return value if isinstance(value, str) else None

    def section_field(self, role: Role) -> str | None:
        """The field id a per-section role names (grade, working well, to improve), or None."""
        assert role in SECTION_ROLES, role
        value = getattr(self, role.value)
        return value if isinstance(value, str) else None

    def missing(self) -> list[Role]:
        """Roles this spec leaves out, in catalogue order."""
        return [r for r in Role if getattr(self, r.value) in (None, [])]
