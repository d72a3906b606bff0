"""The audit spec's pydantic models: immutable, unknown keys refused. Loading and linting live beside them."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from auditbook.spec.conditions import Condition, DateOf, FieldRef
from auditbook.spec.fielddocs import describe_fields
from auditbook.spec.roles import Roles
from auditbook.spec.rules import Rule
from auditbook.text import norm

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
#: Each judged section's own themes are the derived list "theme_<section id>": a spec's list may not start so.
THEME_LIST_PREFIX = "theme_"
#: The longest entry a field takes when its spec gives no max_length: a line of text is a name, a role or a
#: reference; long text and evidence are paragraphs (what still prints whole on an A4 page).
DEFAULT_MAX_LENGTH: dict[str, int] = {"text": 255}
LONG_MAX_LENGTH = 4000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=describe_fields)


class FieldSpec(_Model):
    """One input: a profile field, a practice question, a table column."""

    id: Ident
    """The field's id, unique in its section (lower case, digits and _); "section.field" refers to it."""
    label: Label
    """The question or label shown beside the input."""
    type: FieldType = "text"
    """text, long_text, date, month (YYYY-MM), integer, choice (from a list) or question (an answer from the
    answer list plus an evidence comment)."""
    choices: Ident | None = None
    """The choice list a choice or question field uses (questions default to "answer")."""
    required: bool = True
    """Whether the input must be answered where it applies."""
    applies_when: Condition | None = None
    """The input applies only when this holds; it may only look at earlier fields."""
    not_applicable_because: Annotated[str, StringConstraints(max_length=200)] | None = None
    """Why it does not apply, shown in its label (needed with applies_when)."""
    help: Text | None = None
    """Guidance shown when the input is selected."""
    criteria: list[str] = Field(default_factory=list)
    """The criteria ids the question evidences."""
    min: int | None = None
    """The smallest whole number accepted (integer fields)."""
    max: int | None = None
    """The largest whole number accepted (integer fields)."""
    max_length: int = Field(default=LONG_MAX_LENGTH, ge=1, le=32000)
    """The longest text accepted (default: 255 for a line of text, 4,000 for long text and evidence)."""
    default: str | None = None
    """A starting value (a choice of its list for choice fields)."""
    derived: DateOf | None = None
    """A date worked out from an earlier field instead of typed, e.g. {end_of: profile.audit_month}: a locked
    formula in the workbook, worked out the same way by validate."""

    @property
    def limit(self) -> int:
        """The longest entry accepted: max_length when the spec gives it, else the default for the type."""
        if "max_length" in self.model_fields_set:
            return self.max_length
        return DEFAULT_MAX_LENGTH.get(self.type, self.max_length)


class Criterion(_Model):
    """A practice standard the work is judged against (for the Deep Dive, Ofsted's ESN criteria)."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    """The criterion's id, matching criteria_pattern (e.g. ESN 01)."""
    summary: Label
    """A one-line summary, shown beside each section's criteria."""
    text: Text
    """The criterion in full, on the criteria sheet."""


class GradeDescriptor(_Model):
    """What a grade means: in full on the start sheet, in brief beside every grade cell."""

    grade: Label
    """A grade of the grade list."""
    text: Text
    """What the grade means."""
    summary: Annotated[str, StringConstraints(max_length=120)] | None = None
    """One line, shown beside every grade cell and in its input prompt."""


class Theme(_Model):
    """A practice theme an auditor can tag a section with."""

    label: str = Field(min_length=1, max_length=80)
    """The theme as the dropdown offers it."""
    kind: Literal["strength", "concern"]
    """Whether the theme is a strength or a concern."""
    sections: list[Ident] = Field(default_factory=list)
    """The ids of the judged sections it belongs to: their theme dropdowns offer it, and validate refuses it on
    another section's. Left out, it belongs to every judged section."""

    def belongs_to(self, section_id: str) -> bool:
        """Whether a judged section's theme tags may take this theme."""
        return not self.sections or section_id in self.sections


class SectionSpec(_Model):
    """One section of the audit tool, on its own sheet."""

    id: Ident
    """The section's id (lower case, digits and _)."""
    title: Label
    """The section's title, as the Summary and the actions' section list show it."""
    sheet: Annotated[str, StringConstraints(min_length=1, max_length=31, pattern=SHEET_PATTERN)]
    """The sheet's name (at most 31 characters, none of [ ] : * ? / or backslash)."""
    kind: SectionKind = "judged"
    """form (fields only), judged (questions, then the judgement block) or table (rows of the same fields)."""
    guidance: Text = ""
    """Guidance shown at the top of the sheet."""
    criteria: list[str] = Field(default_factory=list)
    """The criteria ids the section is judged against."""
    applies_when: Condition | None = None
    """The section applies only when this holds (it may only look at earlier fields)."""
    not_applicable_because: Annotated[str, StringConstraints(max_length=200)] | None = None
    """Why it does not apply, shown in its banner (needed with applies_when)."""
    required_when: Condition | None = None
    """An applicable section is optional unless this holds."""
    fields: list[FieldSpec] = Field(min_length=1)
    """The section's fields (a table's columns)."""
    rows: int = Field(default=0, ge=0, le=200)
    """How many rows a table section offers."""


class Grading(_Model):
    """Which grades of the grade list count as good or better, and which call for an action."""

    good_or_better: list[str] = Field(default_factory=list)
    """Grades counted in "% good or better"."""
    needs_action: list[str] = Field(default_factory=list)
    """Grades that call for an action from the section."""
    shortfall: list[str] = Field(default_factory=lambda: ["No", "Partly"])
    """Answers to a practice question that say the practice fell short: the master and the round report rank the
    questions most often answered so (the Deep Dive's "No" and "Partly"; a Met / Partly met / Not met list's
    "Not met" and "Partly met")."""


SheetName = Annotated[str, StringConstraints(min_length=1, max_length=31, pattern=SHEET_PATTERN)]


class Wording(_Model):
    """The words the workbook uses for this spec's criteria and grades."""

    criteria_sheet: SheetName = "Criteria"
    """The name of the sheet listing the criteria."""
    criteria_heading: Label = "The criteria the sections are judged against"
    """The criteria sheet's title."""
    criteria_column: Annotated[str, StringConstraints(min_length=1, max_length=30)] = "Criteria"
    """The heading of the criteria ids' column, on the criteria sheet and each section sheet."""
    grades_heading: Annotated[str, StringConstraints(min_length=1, max_length=60)] = "Grades"
    """The heading of the grade descriptors on the Start sheet."""
    subject: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "this audit"
    """Who or what one audit is about, as "Does not apply to ..." and "Optional for ..." say it: "this child"."""


def _moderator_fields() -> list[FieldSpec]:
    return [FieldSpec(id="moderator", label="Moderated by", type="text"),
            FieldSpec(id="moderator_role", label="Moderator's role", type="text", required=False),
            FieldSpec(id="moderated_on", label="Date moderated", type="date")]


class ModerationSpec(_Model):
    """What a moderation records: per judged section and overall, the moderator's grade, whether they agree with the
    auditor's grade and why; and who moderated, when. A moderation workbook shows the audit's answers locked."""

    sheet: SheetName = "Moderation"
    """The sheet of the moderator's own details and their judgement of the overall grade (the last sheet)."""
    title: Label = "Moderation"
    """That sheet's title."""
    guidance: Text = ("Read the audit: its answers, grades and evidence are locked. At the end of each section, give "
                      "your own grade, say whether you agree with the auditor's grade and, where you do not, why. "
                      "Then give your judgement of the overall grade here, and who you are and when you moderated.")
    """Guidance at the top of the moderation sheet."""
    agree: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "Agree"
    """The answer that says the moderator agrees with the auditor's grade."""
    disagree: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "Disagree"
    """The answer that says they do not."""
    grade_label: Label = "Moderator's grade for this section"
    """The label of each judged section's moderator's grade."""
    agree_label: Label = "Do you agree with the auditor's grade?"
    """The label of each agree or disagree."""
    reason_label: Label = "Why you agree or disagree (required when you disagree)"
    """The label of each reason."""
    overall_label: Label = "Moderator's overall grade"
    """The label of the moderator's overall grade (when the spec has an overall grade)."""
    fields: list[FieldSpec] = Field(default_factory=_moderator_fields, min_length=1)
    """The moderator's own details on the moderation sheet (who, their role, when)."""
    moderator: Ident = "moderator"
    """The id of the field (of `fields`) naming who moderated."""
    moderated_on: Ident = "moderated_on"
    """The id of the date field (of `fields`) saying when."""

    @model_validator(mode="after")
    def _named_fields(self) -> ModerationSpec:
        ids = {f.id: f for f in self.fields}
        for key in ("moderator", "moderated_on"):
            if getattr(self, key) not in ids:
                raise ValueError(f"moderation.{key} names {getattr(self, key)!r}, which is not one of its fields "
                                 f"({', '.join(ids)})")
        if ids[self.moderated_on].type != "date":
            raise ValueError(f"moderation.moderated_on names {self.moderated_on!r}, which is not a date field")
        if self.agree == self.disagree:
            raise ValueError("moderation.agree and moderation.disagree are the same word")
        return self


class Spec(_Model):
    """A whole audit tool: lists, criteria, sections and the judgement block each judged section ends with."""

    id: Ident
    """The spec's id (lower case, digits and _): file names and returns carry it."""
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+(\.\d+)?$")]
    """Bump it whenever anything changes; keep the old file so returns made from it still validate."""
    title: Label
    """The audit's title."""
    classification: Annotated[str, StringConstraints(min_length=1, max_length=60)] = "OFFICIAL-SENSITIVE"
    """The protective marking printed on every page."""
    organisation: Label = "Children's Services"
    """Who the audit belongs to."""
    send_to: Text
    """Who the completed audit goes to, shown on the Start sheet."""
    instructions: list[Text] = Field(default_factory=list)
    """How to fill it in, one line each, on the Start sheet."""
    choice_lists: dict[Ident, list[Annotated[str, StringConstraints(max_length=255)]]]
    """The dropdown lists by id ("theme" and "section" are made by the generator)."""
    grade_list: Ident = "grade"
    """The choice list of grades."""
    grading: Grading = Field(default_factory=Grading)
    """Which grades count as good or better and which need an action."""
    criteria_pattern: Annotated[str, StringConstraints(min_length=1, max_length=200)] = r"^\S(.*\S)?$"
    """A regular expression every criterion id must match (the Deep Dive's is ESN and two digits)."""
    wording: Wording = Field(default_factory=Wording)
    """The words the workbook uses for the criteria and grades."""
    grade_descriptors: list[GradeDescriptor]
    """What each grade means, on the Start sheet."""
    criteria: list[Criterion]
    """The practice standards the sections are judged against."""
    themes: list[Theme]
    """The themes an auditor can tag a section with."""
    judgement_fields: list[FieldSpec]
    """Appended, in order, to the questions of every judged section."""
    sections: list[SectionSpec] = Field(min_length=1)
    """The sections, in order, each on its own sheet."""
    roles: Roles = Field(default_factory=Roles)
    """Which field plays each part the tool relies on."""
    rules: list[Rule] = Field(default_factory=list)
    """Checks across fields, reported by validate and shown live on the Summary."""
    examples: dict[Ident, dict[FieldRef, str | int]] = Field(default_factory=dict)
    """Consistent example case profiles ("section.field": value) that synthetic answers start from."""
    moderation: ModerationSpec | None = Field(default_factory=ModerationSpec)
    """What a moderation of an audit records (null: this spec's audits are not moderated)."""

    @cached_property
    def lists(self) -> dict[str, list[str]]:
        """Every choice list, including the ones derived from themes and section titles: "theme" (every theme),
        "section" (the judged sections' titles) and each judged section's own themes (theme_list_of)."""
        judged = [s for s in self.sections if s.kind == "judged"]
        derived = {
            "theme": [t.label for t in self.themes],
            "section": [s.title for s in judged],
            **{theme_list_of(s.id): [t.label for t in self.themes if t.belongs_to(s.id)] for s in judged},
        }
        return {**self.choice_lists, **derived}

    @cached_property
    def questions(self) -> dict[str, tuple[str, ...]]:
        """Each judged section's practice questions (fields of type question, as "section.field"), in order."""
        return {s.id: tuple(f"{s.id}.{f.id}" for f in self.fields_of(s) if f.type == "question")
                for s in self.sections if s.kind == "judged"}

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

    def field_at(self, ref: str) -> FieldSpec | None:
        """The field a "section.field" reference names, or None when there is none."""
        section_id, _, field_id = ref.partition(".")
        try:
            section = self.section(section_id)
        except KeyError:
            return None
        return next((f for f in self.fields_of(section) if f.id == field_id), None)




def theme_list_of(section_id: str) -> str:
    """The derived list of a judged section's own themes, which its theme tags' dropdowns offer."""
    return THEME_LIST_PREFIX + section_id


def themes_of(spec: Spec, label: str) -> list[str]:
    """The titles of the judged sections a theme (by its label, as normalised) belongs to, in order."""
    theme = next((t for t in spec.themes if norm(t.label) == norm(label)), None)
    if theme is None:
        return []
    return [s.title for s in judged_sections(spec) if theme.belongs_to(s.id)]


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

