"""The fixed sheets: Start, the criteria, the hidden lists and flags, and the very hidden metadata."""

from __future__ import annotations

from datetime import datetime

from xlsxwriter.format import Format

from auditbook.dates import uk
from auditbook.spec.conditions import fields_in
from auditbook.spec.evaluate import waiting_words
from auditbook.spec.layout import (
    LISTS_SHEET,
    sheet_ref,
)
from auditbook.workbook.book import Book
from auditbook.workbook.fit import height_for
from auditbook.workbook.formulas import flag_formula
from auditbook.workbook.xlsx import FastWorksheet

START_WIDTHS = (28, 110)
CRITERIA_WIDTHS = (9, 40, 100, 40)


class FixedSheets(Book):
    """The fixed sheets: Start, the criteria, the hidden lists and flags, and the very hidden metadata."""

    def _lists(self, ws: FastWorksheet) -> None:
        ranges = list(self.layout.lists.values())
        if self.layout.na_list is not None:
            ranges.append(self.layout.na_list)
        for lr in ranges:
            ws.write_string(0, lr.col, lr.list_id, self.fmt.bold)
            ws.set_column(lr.col, lr.col, 24)
            for i, v in enumerate(lr.values, start=1):
                ws.write_string(i, lr.col, v)
            self._define(lr.name, lr.ref)
        formulas: dict[str, str] = self.layout.caches.setdefault("flag formulas", {})
        for flag in self.layout.flags:
            ws.write_string(flag.row, flag.col - 1, flag.label)
            if flag.name not in formulas:
                formulas[flag.name] = flag_formula(self.layout, flag)
            self._formula(ws, flag.row, flag.col, formulas[flag.name], self.fmt.text,
                          self.ev.value(flag.name))
            self._define(flag.name, sheet_ref(LISTS_SHEET, flag.row, flag.col))
        if self.layout.flags:
            col = self.layout.flags[0].col
            ws.write_string(0, col - 1, "flag", self.fmt.bold)
            ws.write_string(0, col, "value", self.fmt.bold)
            ws.set_column(col - 1, col - 1, 40)

    def _metadata(self, ws: FastWorksheet) -> None:
        ws.write_string(0, 0, "key", self.fmt.bold)
        ws.write_string(0, 1, "value", self.fmt.bold)
        for row, (key, value) in enumerate(self.meta.items(), start=1):
            ws.write_string(row, 0, key)
            ws.write_string(row, 1, value)
        ws.set_column(0, 1, 40)

    def _start(self, ws: FastWorksheet) -> None:
        ws.set_widths(START_WIDTHS)
        ws.merge_range(0, 0, 0, 1, self.spec.title, self.fmt.title)
        ws.set_row(0, 24)
        ws.write_string(1, 0, self.spec.classification, self.fmt.classification)
        authority = self.local.authority or self.spec.organisation
        self._line(ws, 1, f"{authority}. This workbook holds sensitive personal information: store and send it "
                          "only by secure means.")
        row = 3
        ws.write_string(row, 0, "How to fill it in", self.fmt.bold)
        for line in self.spec.instructions:
            self._line(ws, row, " ".join(line.split()))
            row += 1
        row += 1
        heading = row
        self._heading(ws, row, "What the colours mean")
        legend = (
            (self.fmt.sample_input, "An input: type or choose from the dropdown."),
            (self.fmt.sample_required, "Required and still empty."),
            (self.fmt.sample_na, f"Does not apply to {self.spec.wording.subject}: leave it blank (entries are "
                                 "refused)."),
            (self.fmt.sample_waiting, f"Waiting for the answer that decides whether it applies (on the "
                                      f"{self._deciding_sheets()}, or a question above it): answer that first."),
            (self.fmt.sample_locked, "Filled in for you, or worked out from other answers: locked. If a detail filled "
                                     "in for you is wrong (the case, team, worker, team manager or auditor), do not "
                                     "work round it: ask whoever sent you this workbook (the team that allocates the "
                                     "audits) to correct the allocation and send you a corrected workbook."),
        )
        for fmt, text in legend:
            row += 1
            ws.write_string(row, 0, "", fmt)
            self._line(ws, row, text)
        ws.keep_together(heading, row)  # a heading prints with what follows it
        row += 2
        self._heading(ws, row, self.spec.wording.grades_heading)
        ws.keep_together(row, row + 1)
        for d in self.spec.grade_descriptors:
            row += 1
            ws.write_string(row, 0, d.grade, self.fmt.bold)
            self._line(ws, row, " ".join(d.text.split()))
        row += 2
        heading = row
        ws.write_string(row, 0, "When it is complete", self.fmt.bold)
        for line in self.local.send_to or (" ".join(self.spec.send_to.split()),):
            self._line(ws, row, line)
            row += 1
        if self.local.save_to:
            ws.write_string(row, 0, "Save it in", self.fmt.bold)
            self._line(ws, row, self.local.save_to)
            row += 1
        ws.keep_together(heading, row - 1)
        if self.local.rounds.rounds:
            row += 1
            heading = row
            ws.write_string(row, 0, "Audit rounds", self.fmt.bold)
            for line in self.local.rounds.describe():
                self._line(ws, row, line)
                row += 1
            ws.keep_together(heading, row - 1)
        row += 1
        ws.write_string(row, 0, "Template", self.fmt.small)
        self._line(ws, row, f"{self.spec.id} version {self.spec.version}; workbook {self.meta.instance_id}; "
                            f"generated {shown_time(self.meta.generated_at)}.", self.fmt.small)

    def _deciding_sheets(self) -> str:
        """Where the answers that decide which sections apply are: "Case profile" for the Deep Dive."""
        refs = [r for sl in self.layout.sections for r in fields_in(sl.section.applies_when)]
        return waiting_words(self.layout, refs)

    def _heading(self, ws: FastWorksheet, row: int, text: str) -> None:
        """A heading on a row of its own in the Start sheet's narrow column, the row as tall as it wraps to."""
        ws.write_string(row, 0, text, self.fmt.bold)
        ws.set_row(row, height_for([(text, ws.widths[0])], bold=True))

    def _line(self, ws: FastWorksheet, row: int, text: str, fmt: Format | None = None) -> None:
        """Fixed text in the Start sheet's wide column, in a row as tall as it needs."""
        ws.write_string(row, 1, text, fmt or self.fmt.text)
        ws.set_row(row, height_for([(text, ws.widths[1])]))

    def _criteria(self, ws: FastWorksheet) -> None:
        ws.set_widths(CRITERIA_WIDTHS)
        ws.merge_range(0, 0, 0, 3, self.spec.wording.criteria_heading, self.fmt.title)
        ws.write_string(1, 0, self.spec.classification, self.fmt.classification)
        for col, text in enumerate((self.spec.wording.criteria_column, "Summary", "Criterion", "Used in")):
            ws.write_string(3, col, text, self.fmt.header)
        for row, c in enumerate(self.spec.criteria, start=4):
            used = [s.title for s in self.spec.sections if c.id in s.criteria]
            ws.write_string(row, 0, c.id, self.fmt.cell)
            ws.write_string(row, 1, c.summary, self.fmt.cell)
            text = " ".join(c.text.split())
            ws.write_string(row, 2, text, self.fmt.cell)
            ws.write_string(row, 3, "; ".join(used), self.fmt.cell)
            ws.set_row(row, height_for([(c.summary, CRITERIA_WIDTHS[1]), (text, CRITERIA_WIDTHS[2]),
                                        ("; ".join(used), CRITERIA_WIDTHS[3])]))
        ws.keep_together(3 + len(self.spec.criteria) - 1, 3 + len(self.spec.criteria))  # never one row alone
        ws.freeze_panes(4, 0)
        ws.repeat_rows(3)


def shown_time(stamp: str) -> str:
    """An ISO timestamp as a person reads it: dd/mm/yyyy hh:mm (UTC when it says so)."""
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    zone = " UTC" if at.utcoffset() is not None and not at.utcoffset() else ""
    return f"{uk(at.date())} {at:%H:%M}{zone}"
