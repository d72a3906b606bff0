"""The criteria sheet: each 'good' criterion a section is judged against, in full, and where it is used."""

from __future__ import annotations

from auditbook.workbook.context import Context
from auditbook.workbook.fit import height_for
from auditbook.workbook.xlsx import FastWorksheet

WIDTHS = (9, 40, 100, 40)


def write(ctx: Context, ws: FastWorksheet) -> None:
    """A row per criterion: its reference, summary, full text and the sections judged against it."""
    spec, fmt = ctx.spec, ctx.fmt
    ws.set_widths(WIDTHS)
    ctx.print_nothing(ws, len(WIDTHS))  # the same on every return: each section prints its criteria in brief
    ws.merge_range(0, 0, 0, 3, spec.wording.criteria_heading, fmt.title)
    ws.write_string(1, 0, spec.classification, fmt.classification)
    for col, text in enumerate((spec.wording.criteria_column, "Summary", "Criterion", "Used in")):
        ws.write_string(3, col, text, fmt.header)
    for row, c in enumerate(spec.criteria, start=4):
        used = [s.title for s in spec.sections if c.id in s.criteria]
        ws.write_string(row, 0, c.id, fmt.cell)
        ws.write_string(row, 1, c.summary, fmt.cell)
        text = " ".join(c.text.split())
        ws.write_string(row, 2, text, fmt.cell)
        ws.write_string(row, 3, "; ".join(used), fmt.cell)
        ws.set_row(row, height_for([(c.summary, WIDTHS[1]), (text, WIDTHS[2]), ("; ".join(used), WIDTHS[3])]))
    ws.keep_together(3 + len(spec.criteria) - 1, 3 + len(spec.criteria))  # never one row alone
    ws.freeze_panes(4, 0)
    ws.repeat_rows(3)
