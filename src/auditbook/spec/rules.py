"""Rules: checks across fields that a spec declares (as REDCap's data quality rules, XLSForm's constraint).

A rule fires when its `when` holds and its `require` is known to be false: a rule about an answer not given
yet does not fire. A rule may run once per judged section (`each: sections`), per practice question of the
judged sections (`each: questions`: this.answer and this.evidence are the question's, any other this.field its
section's) or per used row of a table (`each: actions`), where `this.field` means that section's or row's field.
Validate reports each firing on its cells; the workbook shows the rules as live formulas in the Summary's Checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from auditbook.spec.conditions import ANSWER, EVIDENCE, EVIDENCE_SUFFIX, THIS, Condition, FieldRef, Ident
from auditbook.spec.fielddocs import describe_fields
from auditbook.spec.logic import Facts, truth

#: `each:` value meaning "once for every judged section".
EACH_SECTION = "sections"
#: `each:` value meaning "once for every practice question of the judged sections".
EACH_QUESTION = "questions"


class Rule(BaseModel):
    """One check across fields: when `when` holds, `require` must too; otherwise `message` and `fix` are shown."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=describe_fields)

    id: Ident
    """The rule's id, shown with every problem it reports (lower case, digits and _)."""
    severity: Literal["error", "warning"]
    """error: the return is not valid until it is fixed; warning: reported, the return still merges."""
    each: Ident | None = None
    """Run once per judged section ("sections"), per practice question ("questions": this.answer and
    this.evidence are the question's answer and evidence) or per used row of a table section (its id); this.FIELD
    then means that section's or row's field."""
    when: Condition | None = None
    """The rule is only checked when this holds (always, when left out)."""
    require: Condition
    """What must hold; the rule fires when it is known to be false."""
    message: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    """What is wrong, in a practice lead's words."""
    fix: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    """How to put it right."""
    cells: list[FieldRef] = Field(min_length=1)
    """The fields the problem points at, the first one first (this.FIELD for the section's or row's own)."""


def resolve_this(ref: str, section: str | None, question: str | None = None) -> str:
    """A "this.FIELD" reference as the "section.field" it means on a judged section, or on one of its practice
    questions (this.answer, this.evidence); any other reference, or "this." with neither, as it is."""
    head, _, name = ref.partition(".")
    if head != THIS or section is None:
        return ref
    if question is not None and name in (ANSWER, EVIDENCE):
        return question + (EVIDENCE_SUFFIX if name == EVIDENCE else "")
    return f"{section}.{name}"


class Firing(NamedTuple):
    """A rule that fired, and for which judged section, practice question or table row (None for a rule run once).

    A question's firing has its section, the question ("section.field") and, as `row`, its place among the
    section's practice questions (1 for the first): a section and row name one live check's cell either way.
    """

    rule: Rule
    section: str | None = None
    row: int | None = None
    question: str | None = None

    def cells(self) -> Iterator[str]:
        """The rule's cells with "this." resolved to the section or question ("section.field"), or kept for a row."""
        for ref in self.rule.cells:
            yield resolve_this(ref, self.section, self.question)


def fires(rule: Rule, facts: Facts) -> bool:
    """Whether the rule fires for these facts (its `when` holds and its `require` is known to be false)."""
    return truth(rule.when, facts) is True and truth(rule.require, facts) is False


def firings(rule: Rule, facts: Facts) -> list[Firing]:
    """Every firing of a rule for an audit's facts, per section or row when it runs on each."""
    if rule.each is None:
        return [Firing(rule)] if fires(rule, facts) else []
    if rule.each == EACH_SECTION:
        return [Firing(rule, section=s) for s in facts.sections if fires(rule, facts.on_section(s))]
    if rule.each == EACH_QUESTION:
        return [Firing(rule, section=s, row=n, question=q) for s in facts.sections
                for n, q in enumerate(facts.questions.get(s, ()), start=1)
                if facts.applies(q) and fires(rule, facts.on_question(s, q))]
    out = []
    for row in facts.tables.get(rule.each, ()):
        number = row.get("row")
        if fires(rule, facts.on_row(row)):
            out.append(Firing(rule, row=number if isinstance(number, int) else None))
    return out
