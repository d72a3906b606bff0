"""The spec's rules as live checks: one 0/1 cell per rule and section or row on the Lists sheet, a total named
check_<rule id>, and the Summary's "Checks" list that shows them (the same in Excel and LibreOffice)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from xlsxwriter.format import Format

from auditbook.spec.logic import Facts
from auditbook.spec.models import judged_sections
from auditbook.spec.rules import EACH_SECTION, Firing, Rule, firings
from auditbook.workbook import summary_grid as grid
from auditbook.workbook.book import Book
from auditbook.workbook.fit import CHARS_PER_UNIT, height_for
from auditbook.workbook.formulas import audit_facts
from auditbook.workbook.kleene import Scope, kleene, string_literal
from auditbook.workbook.layout import LISTS_SHEET, Layout, cell_ref, sheet_ref
from auditbook.workbook.xlsx import FastWorksheet as Worksheet
from auditbook.workbook.xlsx import ok

#: Excel's limit on a formula's length; a check longer than this is left to validate.
MAX_FORMULA = 8000


@dataclass(frozen=True)
class CheckItem:
    """One section, row or the whole audit a rule is checked for, and its cell on the Lists sheet."""

    label: str
    formula: str
    row: int
    section: str | None = None
    table_row: int | None = None


@dataclass(frozen=True)
class Check:
    """A rule's live check: its items' cells and the cell (named check_<id>) that counts how many fire."""

    rule: Rule
    name: str
    items: tuple[CheckItem, ...]
    total_row: int
    col: int

    @property
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
        else:
            for r in range(1, layout.section(rule.each).section.rows + 1):
                fires = f"({_row_used(layout, rule.each, r)})*({_fires(rule, base.on_row(rule.each, r))})"
                items.append(CheckItem(f"row {r}", fires, row + len(items), table_row=r))
        total_row = row + len(items)
        out.append(Check(rule, f"check_{rule.id}", tuple(items), total_row, col))
        row = total_row + 2
    return out


class ChecksBlock(Book):
    """Writes the checks' cells on the Lists sheet and the Checks list on the Summary."""

    @cached_property
    def checks(self) -> list[Check]:
        """The spec's rules as live checks (worked out once per layout: every workbook repeats them)."""
        if "checks" not in self.layout.caches:
            self.layout.caches["checks"] = build_checks(self.layout)
        found: list[Check] = self.layout.caches["checks"]
        return found

    @cached_property
    def facts(self) -> Facts:
        """The starting answers as the rules see them (for the formulas' first values)."""
        return audit_facts(self.layout, self.prefill, self.ev)

    def _check_cells(self, ws: Worksheet, checks: list[Check], facts: Facts) -> None:
        for check in checks:
            fired = firings(check.rule, facts)
            for item in check.items:
                hit = any(f.section == item.section and f.row == item.table_row for f in fired)
                ws.write_string(item.row, check.col - 1, f"{check.rule.id} {item.label}".strip())
                formula = item.formula if check.live else "0"
                # An array formula: Gnumeric, like Excel and LibreOffice, then takes TRIM or LEN of a range
                # inside SUMPRODUCT cell by cell (as a plain formula it gives #VALUE!).
                ok(ws.write_array_formula(item.row, check.col, item.row, check.col, "{=" + formula + "}",
                                          self.fmt.text, 1 if hit else 0), f"check {check.name}")
            first, last = check.items[0].row, check.items[-1].row
            ws.write_string(check.total_row, check.col - 1, check.name, self.fmt.bold)
            total = f"=SUM({cell_ref(first, check.col, absolute=True)}:{cell_ref(last, check.col, absolute=True)})"
            self._formula(ws, check.total_row, check.col, total, self.fmt.bold, len(fired) if check.live else 0)
            self._define(check.name, sheet_ref(LISTS_SHEET, check.total_row, check.col))
        if checks:
            ws.set_column(checks[0].col - 1, checks[0].col - 1, 40)

    def _checks_list(self, ws: Worksheet, row: int, checks: list[Check], facts: Facts) -> int:
        """The Summary's Checks, from `row`, on the Summary's grid; returns the row after them."""
        if not checks:
            return row
        ws.merge_range(row, 0, row, grid.LAST_COL, "Checks: answers that contradict each other (Fix before sending; "
                                                   "Check with the team manager)", self.fmt.bold)
        row += 1
        self._grid_cells(ws, row, [(CHECK, "Check"), (SEVERITY, "Severity"), (RESULT, "Result"), (WHERE, "Where"),
                                   (FIX, "How to fix")], self.fmt.header)
        for check in checks:
            row += 1
            rule = check.rule
            fired = firings(rule, facts) if check.live else []
            self._grid_cells(ws, row, [(CHECK, rule.message), (SEVERITY, rule.severity.capitalize()),
                                       (FIX, rule.fix)], self.fmt.cell)
            word = "Fix" if rule.severity == "error" else "Check"
            if check.live:
                n = check.name
                formula = f'=IF({n}=0,"OK",IF({n}=1,"{word}","{word} ("&{n}&")"))'
                shown = "OK" if not fired else word if len(fired) == 1 else f"{word} ({len(fired)})"
                self._grid_formula(ws, row, RESULT, formula, shown)
            else:
                self._grid_cells(ws, row, [(RESULT, "Checked by validate")], self.fmt.cell)
            self._where(ws, row, check, fired)
            # Fixed text and a formula: sized for the longest each can show (Where is cut to WHERE_LINES).
            ws.set_row(row, height_for([(rule.message, grid.width(CHECK)), (rule.fix, grid.width(FIX)),
                                        ("x" * _where_limit(), grid.width(WHERE))]))
        return row + 1

    def _grid_cells(self, ws: Worksheet, row: int, cells: list[tuple[tuple[int, int], str]], fmt: Format) -> None:
        for (first, last), text in cells:
            if first == last:
                ws.write_string(row, first, text, fmt)
            else:
                ws.merge_range(row, first, row, last, text, fmt)

    def _grid_formula(self, ws: Worksheet, row: int, span: tuple[int, int], formula: str, shown: str) -> None:
        if span[0] != span[1]:
            ws.merge_range(row, span[0], row, span[1], "", self.fmt.cell)
        self._formula(ws, row, span[0], formula, self.fmt.cell, shown)

    def _where(self, ws: Worksheet, row: int, check: Check, fired: list[Firing]) -> None:
        if check.rule.each is None or not check.live:
            cells = [self.layout.by_ref[r] for r in check.rule.cells if r in self.layout.by_ref]
            self._grid_cells(ws, row, [(WHERE, ", ".join(f"{i.sheet} {i.cell}" for i in cells))], self.fmt.cell)
            return
        parts = [f'IF({check.item_ref(i)}=1,{string_literal(i.label + "; ")},"")' for i in check.items]
        shown = "".join(f"{i.label}; " for i in check.items
                        if any(f.section == i.section and f.row == i.table_row for f in fired))
        limit = _where_limit()
        joined = "&".join(parts)
        formula = f'=IF(LEN({joined})>{limit},LEFT({joined},{limit - 1})&"…",{joined})'
        self._grid_formula(ws, row, WHERE, formula, shown if len(shown) <= limit else shown[: limit - 1] + "…")


#: The Checks' columns on the Summary grid, and how many lines Where shows before it is cut.
CHECK, SEVERITY, RESULT, WHERE, FIX = (0, 1), (2, 2), (3, 3), (4, 7), (8, 8)
WHERE_LINES = 3


def _where_limit() -> int:
    return int(grid.width(WHERE) * CHARS_PER_UNIT * WHERE_LINES * 0.9)
