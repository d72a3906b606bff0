"""The typed value a returned workbook is read into."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

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
    """One section's applicability, status, grade, themes and answers."""

    id: str
    title: str
    applies: bool
    required: bool
    status: str
    grade: str | None
    themes: list[str]
    answers: dict[str, Value]


class ActionItem(_Model):
    """One used row of the actions table (a table section with id "actions")."""

    row: int
    action: str | None = None
    section: str | None = None
    responsible: str | None = None
    timescale: date | None = None
    agreed: str | None = None
    priority: str | None = None


class Audit(_Model):
    """A whole audit as read from a return: forms (case profile, overall judgement), sections, actions."""

    provenance: Provenance
    forms: dict[str, dict[str, Value]]
    sections: list[SectionResult]
    #: Used rows of each table section, each with its 1-based row number under "row".
    tables: dict[str, list[dict[str, Value]]]
    due_date: date | None
    late: bool

    @property
    def profile(self) -> dict[str, Value]:
        """The case profile answers."""
        return self.forms.get("profile", {})

    @property
    def overall(self) -> dict[str, Value]:
        """The overall judgement answers."""
        return self.forms.get("overall", {})

    @property
    def actions(self) -> list[ActionItem]:
        """The actions table's used rows, typed (fields the spec does not have are None)."""
        known = set(ActionItem.model_fields)
        return [ActionItem(**{k: v for k, v in row.items() if k in known}) for row in self.tables.get("actions", [])]

    @property
    def case_ref(self) -> str:
        """The case reference (the one piece of personal data logs and messages may carry)."""
        return str(self.profile.get("case_ref") or "")
