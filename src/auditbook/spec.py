"""The audit spec: pydantic models and load_spec(). The only module that imports yaml."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from auditbook.errors import SpecError

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=40)]
#: Any text the workbook shows: a cell holds at most 32,767 characters.
Text = Annotated[str, StringConstraints(max_length=32767)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
SHEET_PATTERN = r"^[^\[\]:*?/\\']([^\[\]:*?/\\]*[^\[\]:*?/\\'])?$"
FieldRef = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
FieldType = Literal["text", "long_text", "date", "month", "integer", "choice", "question"]
SectionKind = Literal["form", "judged", "table"]

#: Lists the generator derives from the spec itself, so a spec may not define them.
DERIVED_LISTS = ("theme", "section")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Equals(_Model):
    """True when the field's value equals the given choice."""

    field: FieldRef
    equals: str


class In(_Model):
    """True when the field's value is one of the given choices."""

    field: FieldRef
    in_: list[str] = Field(alias="in", min_length=1)


class All(_Model):
    """True when every sub-condition is true."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_Model):
    """True when at least one sub-condition is true."""

    any: list[Condition] = Field(min_length=1)


class Not(_Model):
    """True when the sub-condition is false."""

    not_: Condition = Field(alias="not")


Condition = Union[Equals, In, All, AnyOf, Not]  # noqa: UP007 - recursive alias needs Union


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
    esn: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    max_length: int = Field(default=4000, ge=1, le=32000)
    default: str | None = None


class Criterion(_Model):
    """An Ofsted evaluation schedule criterion (ESN) for a good service."""

    id: Annotated[str, StringConstraints(pattern=r"^ESN \d{2}$")]
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
    grade_descriptors: list[GradeDescriptor]
    criteria: list[Criterion]
    themes: list[Theme]
    judgement_fields: list[FieldSpec]
    sections: list[SectionSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _lint(self) -> Spec:
        from auditbook.speclint import lint

        problems = lint(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

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
        """SHA-256 of the canonical JSON form: formatting and comments in the YAML do not change it."""
        # sort_keys is safe: the only mappings (choice_lists) are laid out in id order, not file order.
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
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


for _m in (All, AnyOf, Not, FieldSpec, SectionSpec, Spec):
    _m.model_rebuild()


def _format_validation_error(path: Path, err: ValidationError) -> str:
    lines: list[str] = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        for part in msg.split("\n"):
            lines.append(f"  {loc}: {part}" if loc != "(top level)" else f"  {part}")
    return "\n".join([f"{path}: the spec is not valid ({len(lines)} problem(s)):", *lines])


def parse_spec(data: object, *, source: Path) -> Spec:
    """Validate already-parsed YAML data into a Spec, raising SpecError with every problem."""
    try:
        return Spec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_format_validation_error(source, err)) from None


def load_spec(path: Path) -> Spec:
    """Read and validate a YAML spec file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{path}: cannot read the spec ({err.strerror}). Check the path.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise SpecError(f"{path}: not valid YAML{at}. Fix the indentation or quoting there.") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec must be a YAML mapping with keys id, version, sections, ...")
    return parse_spec(data, source=path)


def specs_dir() -> Path:
    """The folder of bundled specs (workbook_specs/ in a checkout, installed alongside the package)."""
    return Path(__file__).resolve().parent / "specs"


def default_spec_path() -> Path:
    """The bundled Deep Dive spec."""
    return specs_dir() / "deep_dive.yaml"


def known_specs(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Spec]:
    """Every loadable spec in the bundled folder (and any extra folders), keyed by its SHA-256."""
    found: dict[str, Spec] = {}
    for place in (specs_dir(), *extra_dirs):
        paths = [place] if place.is_file() else sorted([*place.glob("*.yaml"), *place.glob("*.yml")])
        for path in paths:
            try:
                spec = load_spec(path)
            except SpecError:
                continue
            found[spec.sha256] = spec
    return found


def json_schema() -> dict[str, object]:
    """The JSON Schema of the spec format, for editors."""
    return Spec.model_json_schema(by_alias=True)


def slug(text: str) -> str:
    """A file-name-safe lower-case slug."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
