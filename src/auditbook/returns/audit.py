"""The typed value a returned workbook is read into: what the collection needs, found through the spec's roles.

Nothing downstream of validate names a field of a particular spec: it reads `facts` by role, sections'
grades, themes and findings, and actions, all filled in from the roles when the return was validated.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from auditbook.spec.roles import Role

Value = str | int | date | None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(_Model):
    """Where an audit came from: the file and the template it was made from."""

    file: str
    sha256: str
    spec_id: str
    spec_version: str
    spec_sha256: str
    instance_id: str
    generated_at: str | None = None


class SectionResult(_Model):
    """One judged section's applicability, status, grade, themes, findings and answers."""

    id: str
    title: str
    applies: bool
    required: bool
    status: str
    grade: str | None
    themes: list[str]
    answers: dict[str, Value]
    working_well: str | None = None
    to_improve: str | None = None


class SetAside(_Model):
    """An answer validate did not count, and why: listed with the answers (the master's Answers tab), never counted."""

    section: str
    field: str
    value: Value
    #: "No" (it does not apply to this audit) or "Not yet known" (an answer that decides it is blank).
    applies: str


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
    #: The value of every field role the spec gives (Role value -> answer).
    facts: dict[str, Value] = Field(default_factory=dict)
    #: Whether an urgent concern was raised (False when the spec has no urgent role).
    urgent: bool = False
    #: Every form section's answers by field id (the case profile, the overall judgement, ...).
    forms: dict[str, dict[str, Value]]
    sections: list[SectionResult]
    #: Used rows of each table section, each with its 1-based row number under "row".
    tables: dict[str, list[dict[str, Value]]]
    actions: list[ActionItem] = Field(default_factory=list)
    #: Answers given where validate found the question did not apply (or could not yet say): not counted.
    set_aside: list[SetAside] = Field(default_factory=list)
    due_date: date | None
    late: bool

    def fact(self, role: Role) -> Value:
        """The answer of the field that plays this role, or None."""
        return self.facts.get(role)  # a Role is its value (StrEnum): no lookup of .value on the hot path

    def text(self, role: Role) -> str:
        """The answer of the field that plays this role, as text ("" when blank or not in the spec)."""
        value = self.facts.get(role)
        return "" if value is None else str(value)

    @property
    def case_ref(self) -> str:
        """The case reference (the one piece of personal data logs and messages may carry)."""
        return self.text(Role.CASE_REF)

    @property
    def round(self) -> str:
        """The audit round: the round named, else the audit month."""
        return self.text(Role.ROUND) or self.text(Role.AUDIT_MONTH)

    @property
    def completed(self) -> date | None:
        """The date the audit was completed."""
        value = self.facts.get(Role.COMPLETED.value)
        return value if isinstance(value, date) else None
