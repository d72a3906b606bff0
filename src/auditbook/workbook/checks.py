"""The spec's rules as live checks: one 0/1 cell per rule and section or row on the Lists sheet, a total named
check_<rule id>, and the Summary's "Checks" list that shows them (the same in Excel and LibreOffice)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from auditbook.spec.conditions import THIS
from auditbook.spec.evaluate import audit_facts
from auditbook.spec.layout import LISTS_SHEET, Input, Layout, cell_ref, sheet_ref
from auditbook.spec.logic import Facts
from auditbook.spec.models import judged_sections
from auditbook.spec.rules import EACH_SECTION, Firing, Rule, firings
from auditbook.workbook import summary_grid as grid
from auditbook.workbook.book import Book
from auditbook.workbook.fit import height_for
from auditbook.workbook.kleene import Scope, kleene, string_literal
from auditbook.workbook.summary_grid import clip
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

    @cached_property
    def fired(self) -> dict[str, list[Firing]]:
        """Where each check fails on the starting answers (the first values of its formulas), by check name."""
        return {c.name: firings(c.rule, self.facts) for c in self.checks}

    def _check_cells(self, ws: Worksheet) -> None:
        checks = self.checks
        for check in checks:
            fired = self.fired[check.name]
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

    def _checks_count(self, ws: Worksheet, row: int) -> None:
        """One line near the top of the Summary: how many checks need fixing and how many to look at."""
        live = [c for c in self.checks if c.live]
        if not self.checks:
            return
        fired = {c.name: len(self.fired[c.name]) for c in live}
        fix = [c.name for c in live if c.rule.severity == "error"]
        look = [c.name for c in live if c.rule.severity != "error"]
        n_fix, n_look = "+".join(fix) or "0", "+".join(look) or "0"
        formula = (f'=IF(({n_fix})+({n_look})=0,{string_literal(NOTHING_TO_FIX)},'
                   f'"Checks: "&({n_fix})&" to fix, "&({n_look})&" to check (listed under the sections below)")')
        self._span_formula(ws, row, (0, grid.LAST_COL), formula,
                           count_line(sum(fired[n] for n in fix), sum(fired[n] for n in look)), self.fmt.bold)
        # Shaded as the checks below: red while any needs fixing, else amber while any is to look at.
        for test, shade in ((n_fix, self.fmt.fix_row), (n_look, self.fmt.check_row)):
            ok(ws.conditional_format(row, 0, row, grid.LAST_COL, {"type": "formula", "criteria": f"=({test})>0",
                                                                  "format": shade, "stop_if_true": True}),
               "the checks' count")

    def _checks_list(self, ws: Worksheet, row: int) -> int:
        """The Summary's Checks, from `row`, on the Summary's grid; returns the row after them.

        A row whose check fails is shaded (red for Fix, amber for Check), so the ones to act on stand out.
        """
        checks = self.checks
        if not checks:
            return row
        ws.merge_range(row, 0, row, grid.LAST_COL, "Checks: answers that contradict each other (Fix before sending; "
                                                   "Check with the team manager)", self.fmt.bold)
        ws.keep_together(row, row + 2)  # the heading and the table's header with its first check
        row += 1
        self._spans(ws, row, [(CHECK, "Check"), (SEVERITY, "Severity"), (RESULT, "Result"), (WHERE, "Where"),
                              (FIX, "How to fix")], self.fmt.header)
        for check in checks:
            row += 1
            rule = check.rule
            fired = self.fired[check.name] if check.live else []
            self._spans(ws, row, [(CHECK, rule.message), (SEVERITY, rule.severity.capitalize()),
                                  (FIX, rule.fix)], self.fmt.cell)
            word = "Fix" if rule.severity == "error" else "Check"
            if check.live:
                n = check.name
                formula = f'=IF({n}=0,"OK",IF({n}=1,"{word}","{word} ("&{n}&")"))'
                shown = "OK" if not fired else word if len(fired) == 1 else f"{word} ({len(fired)})"
                self._span_formula(ws, row, RESULT, formula, shown, self.fmt.cell)
                failing = self.fmt.fix_row if rule.severity == "error" else self.fmt.check_row
                ok(ws.conditional_format(row, 0, row, grid.LAST_COL, {"type": "formula", "criteria": f"={n}>0",
                                                                      "format": failing}), f"check {n}")
            else:
                self._spans(ws, row, [(RESULT, "Checked by validate")], self.fmt.cell)
            longest = self._where(ws, row, check, fired)
            # Fixed text and a formula: sized for the longest each can show.
            ws.set_row(row, height_for([(rule.message, grid.width(CHECK)), (rule.fix, grid.width(FIX)),
                                        (longest, grid.width(WHERE))]))
        ws.keep_together(row - 1, row)  # never one check alone on the last page
        return row + 1

    def _where(self, ws: Worksheet, row: int, check: Check, fired: list[Firing]) -> str:
        """Where the check looks, as sheet and cells ("Actions E9, E10; Case profile C27"): for a check run
        on each section or row, the cells of those that fail. Returns the longest text it can show."""
        fixed = [self._at(i) for i in self._fixed_cells(check)]
        pieces = [(item, [self._at(i) for i in self._item_cells(check, item)]) for item in check.items]
        pieces = [(item, cells) for item, cells in pieces if cells]
        if check.rule.each is None or not check.live or not pieces:
            text = where_text(fixed)
            self._spans(ws, row, [(WHERE, text)], self.fmt.cell)
            return text
        one_sheet = len({sheet for _item, cells in pieces for sheet, _cell in cells}) == 1
        prefix = f"{pieces[0][1][0][0]} " if one_sheet else ""

        def piece(cells: list[tuple[str, str]]) -> str:
            return ", " + ", ".join(c for _s, c in cells) if one_sheet else "; " + where_text(cells)

        tail = "; " + where_text(fixed) if fixed else ""
        limit = grid.fits(WHERE, WHERE_LINES)

        def shown_for(items: list[list[tuple[str, str]]]) -> str:
            joined = "".join(piece(cells) for cells in items)
            return "" if not joined else clip(prefix + joined[2:] + tail, limit)

        hit = [cells for item, cells in pieces if any(f.section == item.section and f.row == item.table_row
                                                          for f in fired)]
        joined = "&".join(f'IF({check.item_ref(item)}=1,{string_literal(piece(cells))},"")' for item, cells in pieces)
        text = f"{string_literal(prefix)}&MID({joined},3,{limit})&{string_literal(tail)}"
        formula = f'=IF(LEN({joined})=0,"",IF(LEN({text})>{limit},LEFT({text},{limit - 1})&"…",{text}))'
        self._span_formula(ws, row, WHERE, formula, shown_for(hit), self.fmt.cell)
        return shown_for([cells for _item, cells in pieces])

    def _at(self, inp: Input) -> tuple[str, str]:
        return inp.sheet, inp.cell

    def _item_cells(self, check: Check, item: CheckItem) -> list[Input]:
        """The inputs a check's item points at through `this.`."""
        out: list[Input] = []
        for ref in check.rule.cells:
            section, _, field = ref.partition(".")
            if section != THIS:
                continue
            if item.section is not None:
                found = self.layout.by_ref.get(f"{item.section}.{field}")
            else:
                found = self.layout.row_input(check.rule.each or "", item.table_row, field)
            if found is not None:
                out.append(found)
        return out

    def _fixed_cells(self, check: Check) -> list[Input]:
        """The cells a check names that are not reached through `this.` (all of them, for a rule run once)."""
        return [self.layout.by_ref[r] for r in check.rule.cells
                if r.partition(".")[0] != THIS and r in self.layout.by_ref]


def where_text(cells: list[tuple[str, str]]) -> str:
    """Cells named as a person finds them, each sheet once: "Case profile C12, C19; Overall judgement C9"."""
    by_sheet: dict[str, list[str]] = {}
    for sheet, cell in cells:
        if cell not in by_sheet.setdefault(sheet, []):
            by_sheet[sheet].append(cell)
    return "; ".join(f"{sheet} {', '.join(found)}" for sheet, found in by_sheet.items())


#: What the Summary's count line says when every check passes.
NOTHING_TO_FIX = "Checks: nothing to fix or check"


def count_line(fix: int, look: int) -> str:
    """The Summary's count of failing checks: "Checks: 2 to fix, 3 to check (listed under the sections below)"."""
    if fix + look == 0:
        return NOTHING_TO_FIX
    return f"Checks: {fix} to fix, {look} to check (listed under the sections below)"


#: The Checks' columns on the Summary grid, and how many lines Where shows before it is cut.
CHECK, SEVERITY, RESULT, WHERE, FIX = (0, 1), (2, 2), (3, 3), (4, 7), (8, 8)
WHERE_LINES = 3



