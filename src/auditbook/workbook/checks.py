"""Pure: the spec's rules as live checks: one 0/1 cell per rule and section or row on the Lists sheet and a total
named check_<rule id> (lists.py writes them), which the Summary's "Checks" list shows (summary.py), the same in
Excel and LibreOffice."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from auditbook.spec.conditions import THIS
from auditbook.spec.layout import LISTS_SHEET, Input, Layout, sheet_ref
from auditbook.spec.models import judged_sections
from auditbook.spec.rules import EACH_QUESTION, EACH_SECTION, Rule, resolve_this
from auditbook.workbook.kleene import Scope, kleene

#: Excel's limit on a formula's length; a check longer than this is left to validate.
MAX_FORMULA = 8000


class CheckItem(NamedTuple):
    """One section, practice question, row or the whole audit a rule is checked for, and its cell on the Lists
    sheet. A question's item has its section, its place among the section's questions as `table_row` (as a
    firing's `row`), and the question itself."""

    label: str
    formula: str
    row: int
    section: str | None = None
    table_row: int | None = None
    question: str | None = None


@dataclass(frozen=True)
class Check:
    """A rule's live check: its items' cells and the cell (named check_<id>) that counts how many fire."""

    rule: Rule
    name: str
    items: tuple[CheckItem, ...]
    total_row: int
    col: int

    @cached_property  # asked for every item and Summary row; the checks are made once per layout
    def live(self) -> bool:
        """Whether every item's formula fits a spreadsheet (otherwise only validate checks the rule)."""
        return all(len(i.formula) <= MAX_FORMULA for i in self.items)

    def item_ref(self, item: CheckItem) -> str:
        """The item cell's absolute reference."""
        return sheet_ref(LISTS_SHEET, item.row, self.col)


def _fires(rule: Rule, scope: Scope) -> str:
    require = f"({kleene(rule.require, scope)})=0"
    return f"AND(({kleene(rule.when, scope)})=1,{require})*1" if rule.when is not None else f"({require})*1"


def _row_used(layout: Layout, table: str, row: int) -> str:
    """True when a table row has any entry: a rule run per row checks used rows only, as validate does."""
    cells = [i.name for i in layout.section(table).inputs if i.row_index == row]
    return "OR(" + ",".join(f"LEN(TRIM({c}))>0" for c in cells) + ")"


def build_checks(layout: Layout) -> list[Check]:
    """Where each rule's cells go on the Lists sheet (in a column after the flags) and their formulas."""
    col = (layout.flags[-1].col if layout.flags else len(layout.lists) + 2) + 3
    row = 1
    out: list[Check] = []
    base = Scope(layout, gated=True)
    for rule in layout.spec.rules:
        items: list[CheckItem] = []
        if rule.each is None:
            items.append(CheckItem("", _fires(rule, base), row))
        elif rule.each == EACH_SECTION:
            for s in judged_sections(layout.spec):
                items.append(CheckItem(s.title, _fires(rule, base.on_section(s.id)), row + len(items), section=s.id))
        elif rule.each == EACH_QUESTION:
            items += _question_items(layout, rule, base, row)
        else:
            for r in range(1, layout.section(rule.each).section.rows + 1):
                fires = f"({_row_used(layout, rule.each, r)})*({_fires(rule, base.on_row(rule.each, r))})"
                items.append(CheckItem(f"row {r}", fires, row + len(items), table_row=r))
        total_row = row + len(items)
        out.append(Check(rule, f"check_{rule.id}", tuple(items), total_row, col))
        row = total_row + 2
    return out


def _question_items(layout: Layout, rule: Rule, base: Scope, row: int) -> list[CheckItem]:
    """A rule's cells for each practice question: counted only while the question applies, as validate does."""
    items: list[CheckItem] = []
    for s in judged_sections(layout.spec):
        for n, ref in enumerate(layout.spec.questions.get(s.id, ()), start=1):
            flag = layout.by_ref[ref].applies_flag
            fires = _fires(rule, base.on_question(s.id, ref))
            items.append(CheckItem(f"{s.title} question {n}", f"({flag}*1)*({fires})" if flag else fires,
                                   row + len(items), section=s.id, table_row=n, question=ref))
    return items


def checks_of(layout: Layout) -> tuple[Check, ...]:
    """The layout's live checks, worked out once per layout (every workbook of a spec repeats them)."""
    return layout.cached("checks", lambda: tuple(build_checks(layout)))


def item_cells(layout: Layout, check: Check, item: CheckItem) -> list[Input]:
    """The inputs a check's item points at through `this.`."""
    out: list[Input] = []
    for ref in check.rule.cells:
        section, _, field = ref.partition(".")
        if section != THIS:
            continue
        if item.section is not None:
            found = layout.by_ref.get(resolve_this(ref, item.section, item.question))
        else:
            found = layout.row_input(check.rule.each or "", item.table_row, field)
        if found is not None:
            out.append(found)
    return out


def fixed_cells(layout: Layout, check: Check) -> list[Input]:
    """The cells a check names that are not reached through `this.` (all of them, for a rule run once)."""
    return [layout.by_ref[r] for r in check.rule.cells if r.partition(".")[0] != THIS and r in layout.by_ref]
