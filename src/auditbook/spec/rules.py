"""Rules: checks across fields that a spec declares (as REDCap's data quality rules, XLSForm's constraint).

A rule fires when its `when` holds and its `require` is known to be false: a rule about an answer not given
yet does not fire. A rule may run once per judged section (`each: sections`) or per used row of a table
(`each: actions`), where `this.field` means that section's or row's field. Validate reports each firing on
its cells; the workbook shows the rules as live formulas in the Summary's Checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from auditbook.spec.conditions import THIS, Condition, FieldRef, Ident
from auditbook.spec.logic import Facts, truth

#: `each:` value meaning "once for every judged section".
EACH_SECTION = "sections"


class Rule(BaseModel):
    """One check across fields: when `when` holds, `require` must too; otherwise `message` and `fix` are shown."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    id: Ident
    """The rule's id, shown with every problem it reports (lower case, digits and _)."""
    severity: Literal["error", "warning"]
    """error: the return is not valid until it is fixed; warning: reported, the return still merges."""
    each: Ident | None = None
    """Run once per judged section ("sections") or per used row of a table section (its id); this.FIELD then
    means that section's or row's field."""
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


@dataclass(frozen=True)
class Firing:
    """A rule that fired, and for which judged section or table row (None for a rule run once)."""

    rule: Rule
    section: str | None = None
    row: int | None = None

    def cells(self) -> Iterator[str]:
        """The rule's cells with "this." resolved to the section ("section.field"), or kept for a row."""
        for ref in self.rule.cells:
            if ref.startswith(f"{THIS}.") and self.section is not None:
                yield f"{self.section}.{ref.partition('.')[2]}"
            else:
                yield ref


def fires(rule: Rule, facts: Facts) -> bool:
    """Whether the rule fires for these facts (its `when` holds and its `require` is known to be false)."""
    return truth(rule.when, facts) is True and truth(rule.require, facts) is False


def firings(rule: Rule, facts: Facts) -> list[Firing]:
    """Every firing of a rule for an audit's facts, per section or row when it runs on each."""
    if rule.each is None:
        return [Firing(rule)] if fires(rule, facts) else []
    if rule.each == EACH_SECTION:
        return [Firing(rule, section=s) for s in facts.sections if fires(rule, facts.on_section(s))]
    out = []
    for row in facts.tables.get(rule.each, ()):
        number = row.get("row")
        if fires(rule, facts.on_row(row)):
            out.append(Firing(rule, row=number if isinstance(number, int) else None))
    return out
