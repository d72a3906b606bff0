"""The Start sheet: what the workbook is, how to fill it in, what its colours mean, the grades, where it goes
when it is complete, the audit rounds, and which template and workbook it is."""

from __future__ import annotations

from datetime import datetime

from xlsxwriter.format import Format

from auditbook.dates import uk
from auditbook.spec.conditions import fields_in
from auditbook.spec.evaluate import waiting_words
from auditbook.spec.layout import Layout
from auditbook.workbook.context import Context
from auditbook.workbook.fit import height_for
from auditbook.workbook.xlsx import FastWorksheet

WIDTHS = (28, 110)


def write(ctx: Context, ws: FastWorksheet) -> None:
    """The Start sheet, block by block down its two columns (a heading on the left, its text on the right)."""
    ws.set_widths(WIDTHS)
    ctx.print_nothing(ws, len(WIDTHS))  # read on screen; a printed return starts at the Summary
    ctx.title(ws, ctx.spec.title, 1)
    authority = ctx.local.authority or ctx.spec.organisation
    _line(ctx, ws, 1, f"{authority}. This workbook holds sensitive personal information: store and send it "
                      "only by secure means.")
    row = 3
    ws.write_string(row, 0, "How to fill it in", ctx.fmt.bold)
    for line in ctx.spec.instructions:
        _line(ctx, ws, row, " ".join(line.split()))
        row += 1
    row = _colours(ctx, ws, row + 1) + 2
    row = _grades(ctx, ws, row) + 2
    row = _when_complete(ctx, ws, row)
    if ctx.local.rounds.rounds:
        row = _rounds(ctx, ws, row + 1)
    row += 1
    ws.write_string(row, 0, "Template", ctx.fmt.small)
    _line(ctx, ws, row, f"{ctx.spec.id} version {ctx.spec.version}; workbook {ctx.meta.instance_id}; "
                        f"generated {shown_time(ctx.meta.generated_at)}.", ctx.fmt.small)


def _colours(ctx: Context, ws: FastWorksheet, row: int) -> int:
    """What each colour of cell means, each beside a sample. Returns the last row."""
    fmt, subject = ctx.fmt, ctx.spec.wording.subject
    heading = row
    _heading(ctx, ws, row, "What the colours mean")
    legend = (
        (fmt.sample_input, "An input: type or choose from the dropdown."),
        (fmt.sample_required, "Required and still empty."),
        (fmt.sample_na, f"Does not apply to {subject}: leave it blank (entries are refused)."),
        (fmt.sample_waiting, f"Waiting for the answer that decides whether it applies (on the "
                             f"{_deciding_sheets(ctx.layout)}, or a question above it): answer that first."),
        (fmt.sample_locked, "Filled in for you, or worked out from other answers: locked. If a detail filled "
                            "in for you is wrong (the case, team, worker, team manager or auditor), do not "
                            "work round it: ask whoever sent you this workbook (the team that allocates the "
                            "audits) to correct the allocation and send you a corrected workbook."),
    )
    for sample, text in legend:
        row += 1
        ws.write_string(row, 0, "", sample)
        _line(ctx, ws, row, text)
    ws.keep_together(heading, row)  # a heading prints with what follows it
    return row


def _grades(ctx: Context, ws: FastWorksheet, row: int) -> int:
    """The grades and what each means. Returns the last row."""
    _heading(ctx, ws, row, ctx.spec.wording.grades_heading)
    ws.keep_together(row, row + 1)
    for d in ctx.spec.grade_descriptors:
        row += 1
        ws.write_string(row, 0, d.grade, ctx.fmt.bold)
        _line(ctx, ws, row, " ".join(d.text.split()))
    return row


def _when_complete(ctx: Context, ws: FastWorksheet, row: int) -> int:
    """Whom to send the completed workbook to, and where to save it. Returns the next row."""
    heading = row
    ws.write_string(row, 0, "When it is complete", ctx.fmt.bold)
    for line in ctx.local.send_to or (" ".join(ctx.spec.send_to.split()),):
        _line(ctx, ws, row, line)
        row += 1
    if ctx.local.save_to:
        ws.write_string(row, 0, "Save it in", ctx.fmt.bold)
        _line(ctx, ws, row, ctx.local.save_to)
        row += 1
    ws.keep_together(heading, row - 1)
    return row


def _rounds(ctx: Context, ws: FastWorksheet, row: int) -> int:
    """The authority's audit rounds and their months. Returns the next row."""
    heading = row
    ws.write_string(row, 0, "Audit rounds", ctx.fmt.bold)
    for line in ctx.local.rounds.describe():
        _line(ctx, ws, row, line)
        row += 1
    ws.keep_together(heading, row - 1)
    return row


def _deciding_sheets(layout: Layout) -> str:
    """Where the answers that decide which sections apply are: "Case profile" for the Deep Dive."""
    refs = [r for sl in layout.sections for r in fields_in(sl.section.applies_when)]
    return waiting_words(layout, refs)


def _heading(ctx: Context, ws: FastWorksheet, row: int, text: str) -> None:
    """A heading on a row of its own in the narrow column, the row as tall as it wraps to."""
    ws.write_string(row, 0, text, ctx.fmt.bold)
    ws.set_row(row, height_for([(text, ws.widths[0])], bold=True))


def _line(ctx: Context, ws: FastWorksheet, row: int, text: str, fmt: Format | None = None) -> None:
    """Fixed text in the wide column, in a row as tall as it needs."""
    ws.write_string(row, 1, text, fmt or ctx.fmt.text)
    ws.set_row(row, height_for([(text, ws.widths[1])]))


def shown_time(stamp: str) -> str:
    """An ISO timestamp as a person reads it: dd/mm/yyyy hh:mm (UTC when it says so)."""
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    zone = " UTC" if at.utcoffset() is not None and not at.utcoffset() else ""
    return f"{uk(at.date())} {at:%H:%M}{zone}"
