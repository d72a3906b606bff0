"""The hidden Lists sheet: the dropdowns' lists, the flags every live formula reads (whether a section or
question applies, waits or is required; how much of a section is filled in; its status), and the checks' cells.

Each gets a defined name, so formulas elsewhere say `applies_early_help` or `list_grade`, never a cell."""

from __future__ import annotations

from auditbook.spec.layout import LISTS_SHEET, cell_ref, sheet_ref
from auditbook.workbook import shortlists
from auditbook.workbook.context import Context
from auditbook.workbook.formulas import flag_formula
from auditbook.workbook.xlsx import FastWorksheet, ok


def write(ctx: Context, ws: FastWorksheet) -> None:
    """The lists, the flags, the checks, then the Summary's short lists, each in columns of their own."""
    _lists(ctx, ws)
    _flags(ctx, ws)
    _checks(ctx, ws)
    shortlists.write(ctx, ws)


def _lists(ctx: Context, ws: FastWorksheet) -> None:
    """Each choice list (and the one a question offers while it does not apply) in a column under its id."""
    ranges = list(ctx.layout.lists.values())
    if ctx.layout.na_list is not None:
        ranges.append(ctx.layout.na_list)
    for lr in ranges:
        ws.write_string(0, lr.col, lr.list_id, ctx.fmt.bold)
        ws.set_column(lr.col, lr.col, 24)
        for i, v in enumerate(lr.values, start=1):
            ws.write_string(i, lr.col, v)
        ctx.define(lr.name, lr.ref)


def _flags(ctx: Context, ws: FastWorksheet) -> None:
    """Each flag: its label, and its formula with the value it has for the starting answers."""
    layout = ctx.layout
    formulas: dict[str, str] = layout.caches.setdefault("flag formulas", {})  # every workbook repeats them
    for flag in layout.flags:
        ws.write_string(flag.row, flag.col - 1, flag.label)
        if flag.name not in formulas:
            formulas[flag.name] = flag_formula(layout, flag)
        ctx.formula(ws, flag.row, flag.col, formulas[flag.name], ctx.fmt.text, ctx.ev.value(flag.name))
        ctx.define(flag.name, sheet_ref(LISTS_SHEET, flag.row, flag.col))
    if layout.flags:
        col = layout.flags[0].col
        ws.write_string(0, col - 1, "flag", ctx.fmt.bold)
        ws.write_string(0, col, "value", ctx.fmt.bold)
        ws.set_column(col - 1, col - 1, 40)


def _checks(ctx: Context, ws: FastWorksheet) -> None:
    """Each check: a 0/1 cell for each section or row it runs on, and their total named check_<rule id>."""
    for check in ctx.checks:
        fired = ctx.fired[check.name]
        for item in check.items:
            hit = any(f.section == item.section and f.row == item.table_row for f in fired)
            ws.write_string(item.row, check.col - 1, f"{check.rule.id} {item.label}".strip())
            formula = item.formula if check.live else "0"
            # An array formula: Gnumeric, like Excel and LibreOffice, then takes TRIM or LEN of a range
            # inside SUMPRODUCT cell by cell (as a plain formula it gives #VALUE!).
            ok(ws.write_array_formula(item.row, check.col, item.row, check.col, "{=" + formula + "}",
                                      ctx.fmt.text, 1 if hit else 0), f"check {check.name}")
        first, last = check.items[0].row, check.items[-1].row
        ws.write_string(check.total_row, check.col - 1, check.name, ctx.fmt.bold)
        total = f"=SUM({cell_ref(first, check.col, absolute=True)}:{cell_ref(last, check.col, absolute=True)})"
        ctx.formula(ws, check.total_row, check.col, total, ctx.fmt.bold, len(fired) if check.live else 0)
        ctx.define(check.name, sheet_ref(LISTS_SHEET, check.total_row, check.col))
    if ctx.checks:
        ws.set_column(ctx.checks[0].col - 1, ctx.checks[0].col - 1, 40)
