"""Section sheets: title, banner, status, guidance, criteria, then the form's questions or the table's rows."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from auditbook.spec.conditions import Condition, describe_date, fields_in
from auditbook.workbook.inputs import InputSheet
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.layout import (
    CRITERIA_COL,
    CRITERIA_ROW,
    GUIDANCE_ROW,
    HEADER_ROW,
    LABEL_COL,
    NOTE_COL,
    NUM_COL,
    TABLE_FIRST_COL,
    Input,
    SectionLayout,
)


class SectionSheets(InputSheet):
    """Section sheets: title, banner, status, guidance, criteria, then the form's questions or the table's rows."""

    def _section_top(self, ws: Worksheet, sl: SectionLayout, last_col: int, width: int) -> None:
        s = sl.section
        self._top(ws, s.title, last_col)
        self._banner(ws, sl, last_col)
        self._status_line(ws, sl)
        if s.guidance:
            self._long_row(ws, GUIDANCE_ROW, s.guidance.strip(), last_col, self.fmt.text, width)
        if s.criteria:
            by_id = {c.id: c for c in self.spec.criteria}
            text = "Judged against the 'good' criteria: " + "; ".join(f"{c} {by_id[c].summary}" for c in s.criteria) \
                + f" (full text on the {self.spec.wording.criteria_sheet} sheet)."
            self._long_row(ws, CRITERIA_ROW, text, last_col, self.fmt.small, width)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.repeat_rows(HEADER_ROW)

    def _form_section(self, ws: Worksheet, sl: SectionLayout) -> None:
        judged = sl.section.kind == "judged"
        for col, width in enumerate((5, 55, 24, 60, 14)):
            ws.set_column(col, col, width)
        self._section_top(ws, sl, CRITERIA_COL, 150)
        heads = ("#", "Question", "Answer", "Evidence / comment", self.spec.wording.criteria_column) if judged else \
            ("", "Field", "Entry", "", "")
        for col, text in enumerate(heads):
            ws.write_string(HEADER_ROW, col, text, self.fmt.header)
        fields = {f.id: f for f in self.spec.fields_of(sl.section)}
        number = 0
        for inp in sl.inputs:
            if inp.col == NOTE_COL:
                self._input(ws, inp)
                continue
            f = fields[inp.field]
            if f.type == "question":
                number += 1
                ws.write_number(inp.row, NUM_COL, number, self.fmt.text)
            self._label(ws, sl, inp, f.applies_when)
            if f.criteria:
                ws.write_string(inp.row, CRITERIA_COL, ", ".join(f.criteria), self.fmt.small)
            long = f.type == "long_text"
            self._input(ws, inp, merge_to=NOTE_COL if long else None)
            ws.set_row(inp.row, 75 if long else (30 if len(inp.label) > 53 else None))

    def _label(self, ws: Worksheet, sl: SectionLayout, inp: Input, own: Condition | None) -> None:
        """The question's label: a star when required, and, as its own banner, why it does not apply or what
        it waits for; a part that is optional for this audit shows no star."""
        plain = inp.label
        label = plain + (" *" if inp.required else "")
        if inp.derived is not None:
            label = f"{plain} (worked out from {describe_date(inp.derived, self._label_of)})"
        formula, shown = string_literal(label), label
        if inp.required and sl.required_flag:
            formula, shown = f"IF({sl.required_flag},{formula},{string_literal(plain)})", (
                label if self.ev.flag(sl.required_flag) else plain)
        if own is not None and inp.applies_flag and inp.waiting_flag:
            off = f"{plain} (does not apply: {inp.not_applicable_because})"
            wait = f"{plain} ({self.waiting_text(list(fields_in(own)), 'it applies', here=sl.sheet)})"
            if sl.waiting_flag:  # while the section waits, its banner says what for
                wait_formula = f"IF({sl.waiting_flag},{string_literal(plain)},{string_literal(wait)})"
                wait_shown = plain if self.ev.value(sl.waiting_flag) else wait
            else:
                wait_formula, wait_shown = string_literal(wait), wait
            formula = f"IF({inp.waiting_flag},{wait_formula},IF({inp.applies_flag},{formula},{string_literal(off)}))"
            shown = wait_shown if self.ev.value(inp.waiting_flag) else shown if self.ev.flag(inp.applies_flag) \
                else off
        if formula.startswith('"') and formula == string_literal(shown):
            ws.write_string(inp.row, LABEL_COL, shown, self.fmt.text)
        else:
            self._formula(ws, inp.row, LABEL_COL, "=" + formula, self.fmt.text, shown)

    def _table_section(self, ws: Worksheet, sl: SectionLayout) -> None:
        fields = sl.section.fields
        last_col = TABLE_FIRST_COL + len(fields) - 1
        widths = {"long_text": 50, "choice": 24, "date": 13, "text": 24, "integer": 10, "month": 10}
        ws.set_column(0, 0, 5)
        for c, f in enumerate(fields):
            ws.set_column(TABLE_FIRST_COL + c, TABLE_FIRST_COL + c, widths[f.type if f.type != "question"
                                                                              else "choice"])
        self._section_top(ws, sl, last_col, 140)
        ws.write_string(HEADER_ROW, 0, "#", self.fmt.header)
        for c, f in enumerate(fields):
            label = f.label + (" *" if f.required else "")
            ws.write_string(HEADER_ROW, TABLE_FIRST_COL + c, label, self.fmt.header)
        for inp in sl.inputs:
            if inp.col == TABLE_FIRST_COL:
                ws.write_number(inp.row, 0, inp.row_index or 0, self.fmt.text)
                ws.set_row(inp.row, 45)
            self._input(ws, inp)
