"""The cells on the Lists sheet behind the Summary's two short lists: the actions table's used rows, and the checks
that fail, each given a number so the Summary shows the k-th of them in its k-th row.

A printed Summary has rows of fixed height (neither Excel nor LibreOffice refits a row when a formula's result
changes), so it cannot leave out what is not there: it lists what is, first, with INDEX and SMALL over these
cells. They use only functions Excel, LibreOffice and Gnumeric all compute (IF, COUNTA, INDEX, SMALL, COUNT,
IFERROR), no macros and no dynamic arrays. Each range has a defined name, so the Summary's formulas say
`summary_checks_failing`, never a cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from auditbook.spec.layout import LISTS_SHEET, Input, Layout, SectionLayout, cell_ref, quote_sheet, sheet_ref
from auditbook.spec.rules import Firing
from auditbook.workbook.checks import MAX_FORMULA, Check, fixed_cells, item_cells
from auditbook.workbook.context import Context
from auditbook.workbook.fit import snug_for
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.summary_grid import LINES, MESSAGE, RESULT, WHERE, fits, width
from auditbook.workbook.xlsx import FastWorksheet

#: The Summary's word for a failing check of each severity: Fix an error before sending, Check a warning with the
#: team manager.
FIX, CHECK = "Fix", "Check"
#: The longest text a check's Where shows (characters) before it is cut with an ellipsis: two lines on the Summary.
WHERE_LIMIT = fits(WHERE, LINES)

#: The defined names of the ranges (one cell a row) the Summary reads.
USED_ACTION_ROWS = "summary_action_rows"
CHECK_RESULT, CHECK_MESSAGE, CHECK_WHERE, CHECK_FAILING = (
    "summary_check_result", "summary_check_message", "summary_check_where", "summary_check_failing")


def word(check: Check) -> str:
    """What the Summary says of a failing check: Fix (an error) or Check (a warning)."""
    return FIX if check.rule.severity == "error" else CHECK


@dataclass(frozen=True)
class Shortlists:
    """Where the short lists' cells are on the Lists sheet: a column of the actions table's used rows, then a block
    of columns with a row per live check, in the order the Summary lists them (errors first, then warnings)."""

    layout: Layout
    checks: tuple[Check, ...]
    col: int

    @cached_property
    def wheres(self) -> dict[str, tuple[str, str]]:
        """Each live check's Where, by check name: its formula ("" for fixed text) and the longest text it shows
        (the text itself, when fixed)."""
        return {c.name: (found[0], found[2]) for c in self.checks if c.live
                for found in (where(self.layout, c, []),)}

    @cached_property
    def heights(self) -> dict[str, float]:
        """The height of a Summary row showing each live check failing, by check name."""
        return {c.name: check_height(c, self.wheres[c.name][1]) for c in self.checks if c.live}

    @cached_property
    def listed(self) -> tuple[Check, ...]:
        """The live checks, errors first, then each severity's tallest first: the Summary's k-th row can show any
        check from the k-th on, so it is as tall as the tallest of them, and this order keeps its rows short."""
        live = [c for c in self.checks if c.live]
        return tuple(sorted(live, key=lambda c: (c.rule.severity != "error", -self.heights[c.name])))

    def shown_where(self, check: Check, fired: list[Firing]) -> str:
        """The Where a failing check shows for these firings (fixed text, or the cells of those that fail)."""
        formula, text = self.wheres[check.name]
        return where(self.layout, check, fired)[1] if formula and fired else "" if formula else text

    @property
    def action_col(self) -> int:
        """The column numbering each used row of the actions table ("" for an empty one)."""
        return self.col + 1

    @property
    def check_col(self) -> int:
        """The first column of the checks' block: id, result, message, where, count, failing."""
        return self.col + 3

    def ranges(self) -> dict[str, str]:
        """Each defined name and the range it names."""
        out: dict[str, str] = {}
        actions = self.layout.actions
        if actions is not None:
            out[USED_ACTION_ROWS] = sheet_ref(LISTS_SHEET, 1, self.action_col, actions.section.rows, self.action_col)
        if self.listed:
            last = len(self.listed)
            for offset, name in ((1, CHECK_RESULT), (2, CHECK_MESSAGE), (3, CHECK_WHERE), (5, CHECK_FAILING)):
                col = self.check_col + offset
                out[name] = sheet_ref(LISTS_SHEET, 1, col, last, col)
        return out


def shortlists_of(layout: Layout, checks: tuple[Check, ...]) -> Shortlists:
    """The layout's short lists, in columns after the checks' (worked out once per layout)."""
    after = checks[0].col if checks else (layout.flags[-1].col if layout.flags else len(layout.lists) + 2)
    return layout.cached("shortlists", lambda: Shortlists(layout, checks, after + 2))


def write(ctx: Context, ws: FastWorksheet) -> None:
    """The short lists' cells on the Lists sheet, each with its value for the starting answers, and their names."""
    lists = shortlists_of(ctx.layout, ctx.checks)
    actions = ctx.layout.actions
    if actions is not None:
        ws.write_string(0, lists.col, "action rows used", ctx.fmt.bold)
        for r in range(1, actions.section.rows + 1):
            used = any(ctx.prefill.get(i.name) not in (None, "") for i in actions.inputs if i.row_index == r)
            ctx.formula(ws, r, lists.action_col, used_row_formula(actions, r), ctx.fmt.text, r if used else "")
    col = lists.check_col
    for c, head in enumerate(("check", "result", "what is wrong", "where", "fails", "failing")):
        ws.write_string(0, col + c, head, ctx.fmt.bold)
    for i, check in enumerate(lists.listed, start=1):
        fired = ctx.fired[check.name]
        ws.write_string(i, col, check.rule.id)
        ctx.formula(ws, i, col + 1, result_formula(check), ctx.fmt.text, result_text(check, len(fired)))
        ws.write_string(i, col + 2, check.rule.message)
        formula, text = lists.wheres[check.name]
        if formula:
            ctx.formula(ws, i, col + 3, formula, ctx.fmt.text, lists.shown_where(check, fired))
        else:
            ws.write_string(i, col + 3, text)
        ctx.formula(ws, i, col + 4, f"={check.name}", ctx.fmt.text, len(fired))
        ctx.formula(ws, i, col + 5, f'=IF({cell_ref(i, col + 4)}>0,{i},"")', ctx.fmt.text, i if fired else "")
    for name, ref in lists.ranges().items():
        ctx.define(name, ref)


def check_height(check: Check, longest_where: str) -> float:
    """The height of a Summary row showing this check failing: its message, where it looks (at its longest), Fix or
    Check (with how many times, for a check run on each section or row)."""
    return snug_for([(check.rule.message, width(MESSAGE)), (longest_where, width(WHERE)),
                     (result_text(check, 2 if check.rule.each else 1), width(RESULT))])


def used_row_formula(actions: SectionLayout, r: int) -> str:
    """The actions table's row number r when anything is entered in it, else "" (which SMALL passes over)."""
    cells = [i for i in actions.inputs if i.row_index == r]
    cols = sorted(i.col for i in cells)
    first, last = cell_ref(cells[0].row, cols[0], absolute=True), cell_ref(cells[0].row, cols[-1], absolute=True)
    return f'=IF(COUNTA({quote_sheet(actions.sheet)}!{first}:{last})>0,{r},"")'


def result_formula(check: Check) -> str:
    """The check's word, with how many times it fails when more than once: "Check (2)"."""
    n = check.name
    return f'=IF({n}>1,"{word(check)} ("&{n}&")","{word(check)}")'


def result_text(check: Check, fired: int) -> str:
    """What result_formula shows when the check fails `fired` times."""
    return f"{word(check)} ({fired})" if fired > 1 else word(check)


# -- where each check looks ------------------------------------------------------------------------


def where_text(cells: list[tuple[str, str]]) -> str:
    """Cells named as a person finds them, each sheet once: "Case profile C12, C19; Overall judgement C9"."""
    by_sheet: dict[str, list[str]] = {}
    for sheet, cell in cells:
        if cell not in by_sheet.setdefault(sheet, []):
            by_sheet[sheet].append(cell)
    return "; ".join(f"{sheet} {', '.join(found)}" for sheet, found in by_sheet.items())


def clip(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def where(layout: Layout, check: Check, fired: list[Firing]) -> tuple[str, str, str]:
    """Where the check looks, as sheet and cells ("Actions E9, E10; Case profile C27"): for a check run on each
    section or row, the cells of those that fail. Returns the formula (or "" for fixed text), the text it shows
    for these firings, and the longest text it can show."""
    fixed = [(i.sheet, i.cell) for i in fixed_cells(layout, check)]
    pieces = [(item, _cells(item_cells(layout, check, item))) for item in check.items]
    pieces = [(item, cells) for item, cells in pieces if cells]
    if check.rule.each is None or not pieces:
        text = clip(where_text(fixed), WHERE_LIMIT)
        return "", text, text
    one_sheet = len({sheet for _item, cells in pieces for sheet, _cell in cells}) == 1
    prefix = f"{pieces[0][1][0][0]} " if one_sheet else ""

    def piece(cells: list[tuple[str, str]]) -> str:
        return ", " + ", ".join(c for _s, c in cells) if one_sheet else "; " + where_text(cells)

    tail = "; " + where_text(fixed) if fixed else ""

    def shown_for(items: list[list[tuple[str, str]]]) -> str:
        joined = "".join(piece(cells) for cells in items)
        return "" if not joined else clip(prefix + joined[2:] + tail, WHERE_LIMIT)

    hit = [cells for item, cells in pieces if any(f.section == item.section and f.row == item.table_row
                                                      for f in fired)]
    joined = "&".join(f'IF({check.item_ref(item)}=1,{string_literal(piece(cells))},"")' for item, cells in pieces)
    text = f"{string_literal(prefix)}&MID({joined},3,{WHERE_LIMIT})&{string_literal(tail)}"
    formula = f'=IF(LEN({joined})=0,"",IF(LEN({text})>{WHERE_LIMIT},LEFT({text},{WHERE_LIMIT - 1})&"…",{text}))'
    if len(formula) > MAX_FORMULA:  # a check on every practice question has too many cells to join: its sheets
        sheets = clip(", ".join(dict.fromkeys(s for _item, cells in pieces for s, _cell in cells)), WHERE_LIMIT)
        return "", sheets, sheets
    return formula, shown_for(hit), shown_for([cells for _item, cells in pieces])


def _cells(inputs: list[Input]) -> list[tuple[str, str]]:
    return [(i.sheet, i.cell) for i in inputs]
