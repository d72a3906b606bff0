"""The audit spec's pydantic models: immutable, unknown keys refused. Loading and linting live beside them."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from auditbook.spec.conditions import Condition, FieldRef
from auditbook.spec.roles import Roles

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=40)]
#: Any text the workbook shows: a cell holds at most 32,767 characters.
Text = Annotated[str, StringConstraints(max_length=32767)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
SHEET_PATTERN = r"^[^\[\]:*?/\\']([^\[\]:*?/\\]*[^\[\]:*?/\\'])?$"
FieldType = Literal["text", "long_text", "date", "month", "integer", "choice", "question"]
SectionKind = Literal["form", "judged", "table"]

#: Lists the generator derives from the spec itself, so a spec may not define them.
DERIVED_LISTS = ("theme", "section")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldSpec(_Model):
    """One input: a profile field, a practice question, a table column."""

    id: Ident
    label: Label
    type: FieldType = "text"
    choices: Ident | None = None
    required: bool = True
    applies_when: Condition | None = None
    not_applicable_because: Annotated[str, StringConstraints(max_length=200)] | None = None
    help: Text | None = None
    criteria: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    max_length: int = Field(default=4000, ge=1, le=32000)
    default: str | None = None


class Criterion(_Model):
    """A practice standard the work is judged against (for the Deep Dive, Ofsted's ESN criteria)."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    summary: Label
    text: Text


class GradeDescriptor(_Model):
    """What a grade means, shown on the start sheet."""

    grade: Label
    text: Text


class Theme(_Model):
    """A practice theme an auditor can tag a section with."""

    label: str = Field(min_length=1, max_length=80)
    kind: Literal["strength", "concern"]


class SectionSpec(_Model):
    """One section of the audit tool, on its own sheet."""

    id: Ident
    title: Label
    sheet: Annotated[str, StringConstraints(min_length=1, max_length=31, pattern=SHEET_PATTERN)]
    kind: SectionKind = "judged"
    guidance: Text = ""
    criteria: list[str] = Field(default_factory=list)
    applies_when: Condition | None = None
    not_applicable_because: Annotated[str, StringConstraints(max_length=200)] | None = None
    required_when: Condition | None = None
    fields: list[FieldSpec] = Field(min_length=1)
    rows: int = Field(default=0, ge=0, le=200)


class Grading(_Model):
    """Which grades of the grade list count as good or better, and which call for an action."""

    good_or_better: list[str] = Field(default_factory=list)
    needs_action: list[str] = Field(default_factory=list)


class Spec(_Model):
    """A whole audit tool: lists, criteria, sections and the judgement block each judged section ends with."""

    id: Ident
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+(\.\d+)?$")]
    title: Label
    classification: Annotated[str, StringConstraints(min_length=1, max_length=60)] = "OFFICIAL-SENSITIVE"
    organisation: Label = "Children's Services"
    send_to: Text
    instructions: list[Text] = Field(default_factory=list)
    choice_lists: dict[Ident, list[Annotated[str, StringConstraints(max_length=255)]]]
    grade_list: Ident = "grade"
    grading: Grading = Field(default_factory=Grading)
    #: Every criterion id must match this pattern (the Deep Dive's is ESN and two digits).
    criteria_pattern: Annotated[str, StringConstraints(min_length=1, max_length=200)] = r"^\S(.*\S)?$"
    grade_descriptors: list[GradeDescriptor]
    criteria: list[Criterion]
    themes: list[Theme]
    judgement_fields: list[FieldSpec]
    sections: list[SectionSpec] = Field(min_length=1)
    roles: Roles = Field(default_factory=Roles)
    #: Consistent example case profiles ("section.field": value) that synthetic answers start from.
    examples: dict[Ident, dict[FieldRef, str | int]] = Field(default_factory=dict)

    @cached_property
    def lists(self) -> dict[str, list[str]]:
        """Every choice list, including the ones derived from themes and section titles."""
        derived = {
            "theme": [t.label for t in self.themes],
            "section": [s.title for s in self.sections if s.kind == "judged"],
        }
        return {**self.choice_lists, **derived}

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON form: formatting and comments in the YAML do not change it.

        Keys left at their defaults are left out, so a later format that adds keys keeps older specs' hashes.
        """
        # sort_keys is safe: the mappings (choice_lists, examples) are laid out in key order, not file order.
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def section(self, section_id: str) -> SectionSpec:
        """The section with this id."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def fields_of(self, section: SectionSpec) -> list[FieldSpec]:
        """A section's fields, with the judgement block appended for judged sections."""
        if section.kind == "judged":
            return [*section.fields, *self.judgement_fields]
        return list(section.fields)




def input_name(section_id: str, field_id: str) -> str:
    """The defined name of a form input."""
    return f"{section_id}_{field_id}"


def choice_list_of(field: FieldSpec) -> str | None:
    """The list a field's dropdown uses (questions default to the "answer" list)."""
    if field.type == "question":
        return field.choices or "answer"
    return field.choices if field.type == "choice" else None


def judged_sections(spec: Spec) -> list[SectionSpec]:
    """The sections that are graded, in order."""
    return [s for s in spec.sections if s.kind == "judged"]
