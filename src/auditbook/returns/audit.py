"""The typed value a returned workbook is read into: every answer, and what the collection needs found through the
spec's roles.

An audit's answers are one list (`Answer`: section, field, name, label, value, whether it applies) in the workbook's
order; the master's Answers tab, the export and the analysis are projections of it. Beside it are the views the
roles give, built from the same answers when the return was validated (returns/assemble.py): `facts` by role,
sections' grades, themes and findings, and actions. Nothing downstream of validate names a field of a particular spec.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, field_serializer

from auditbook.local import RoundCalendar
from auditbook.spec.roles import Role

Value = str | int | date | None
#: What validate decided of an answer: it applies (counted); it does not apply; whether it applies waits for a blank
#: answer. The master's Answers tab shows these words under "Applies".
APPLIES, NOT_APPLICABLE, NOT_YET_KNOWN = "Yes", "No", "Not yet known"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Answer(NamedTuple):
    """One answered input: its section and field ids, its name in the workbook, the question as the spec words it,
    the answer, whether it applies (APPLIES, NOT_APPLICABLE, NOT_YET_KNOWN) and, in a table, its 1-based row."""

    section: str
    field: str
    name: str
    label: str
    value: str | int | date
    applies: str = APPLIES
    row: int | None = None


class Provenance(_Model):
    """Where an audit came from: the file and the template it was made from."""

    file: str
    sha256: str
    spec_id: str
    spec_version: str
    spec_sha256: str
    instance_id: str
    generated_at: str | None = None
    #: "audit", or "moderation": then `audit_instance_id` names the audit it is a moderation of.
    kind: str = "audit"
    audit_instance_id: str | None = None
    #: A re-audit: the instance id of the audit it follows up, as its workbook's metadata says.
    follows_up: str | None = None


class SectionResult(_Model):
    """One judged section as validate decided it (applies, required, status) and as its roles read it (grade, themes,
    findings); its answers are the audit's answers of this section."""

    id: str
    title: str
    applies: bool
    required: bool
    status: str
    grade: str | None
    themes: list[str]
    working_well: str | None = None
    to_improve: str | None = None


class ActionItem(_Model):
    """One used row of the actions table, read through the action column roles."""

    row: int
    text: str | None = None
    section: str | None = None
    responsible: str | None = None
    timescale: date | None = None
    agreed: str | None = None
    agreed_with: str | None = None
    agreed_on: date | None = None
    priority: str | None = None


class Audit(_Model):
    """A whole audit as read from a return."""

    provenance: Provenance
    #: Every answered input, in the workbook's order: those counted, and those set aside (not applying, or not yet
    #: known) with why. Made only by returns/assemble.py (and read back by the ledger): not checked again here.
    answers: Annotated[list[Answer], SkipValidation] = Field(default_factory=list)
    #: The value of every field role the spec gives (Role value -> answer).
    facts: dict[str, Value] = Field(default_factory=dict)
    #: Whether an urgent concern was raised (False when the spec has no urgent role).
    urgent: bool = False
    sections: list[SectionResult] = Field(default_factory=list)
    actions: list[ActionItem] = Field(default_factory=list)
    due_date: date | None
    late: bool

    @field_serializer("answers", when_used="json")
    def _answers_json(self, answers: list[Answer]) -> list[dict[str, Any]]:
        # Each answer with its names (JSON would otherwise give a bare list of values).
        return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in a._asdict().items()} for a in answers]

    def answer(self, section: str, field: str) -> Value:
        """The counted answer of a form or judged section's field, or None (blank, set aside, or no such field)."""
        return next((a.value for a in self.answers
                     if a.field == field and a.section == section and a.row is None and a.applies == APPLIES), None)

    def answers_in(self, section: str) -> dict[str, Value]:
        """A form or judged section's counted answers, by field id."""
        return {a.field: a.value for a in self.answers if a.section == section and a.applies == APPLIES}

    @property
    def set_aside(self) -> list[Answer]:
        """Answers given where validate found the question did not apply (or could not yet say): not counted."""
        return [a for a in self.answers if a.applies != APPLIES]

    def fact(self, role: Role) -> Value:
        """The answer of the field that plays this role, or None."""
        return self.facts.get(role)  # a Role is its value (StrEnum): no lookup of .value on the hot path

    def text(self, role: Role) -> str:
        """The answer of the field that plays this role, as text ("" when blank or not in the spec)."""
        value = self.facts.get(role)
        return "" if value is None else str(value)

    @property
    def is_moderation(self) -> bool:
        """Whether this is a moderation of an audit rather than an audit."""
        return self.provenance.kind == "moderation"

    @property
    def case_ref(self) -> str:
        """The case reference (the one piece of personal data logs and messages may carry)."""
        return self.text(Role.CASE_REF)

    @property
    def completed(self) -> date | None:
        """The date the audit was completed."""
        value = self.facts.get(Role.COMPLETED.value)
        return value if isinstance(value, date) else None


def round_of(audit: Audit, rounds: RoundCalendar | None = None) -> str:
    """An audit's round: the round it names, else the one the round calendar gives its audit month, else that month.

    The one place an audit's round is worked out (merge then spells each round one way: `collate.spellings`); here,
    below allocation and analysis, so a moderation workbook names the round its audit is merged in.
    """
    named = audit.text(Role.ROUND).strip()
    if named:
        return named
    month = audit.text(Role.AUDIT_MONTH)
    derived = rounds.round_of(month) if rounds is not None and rounds.rounds and month else None
    return derived or month
