"""Section sheets: title, banner, status, guidance, criteria, then the form's questions or the table's rows.

Every entry a person types prints whole: long entries (evidence, long text) sit on their own row under
their label in the wide column, unmerged, in rows that start at a useful height and grow as they are
typed in (FastWorksheet.fit_row). Only rows of fixed text get a fixed height.
"""

from __future__ import annotations

from auditbook.spec.conditions import Condition, derived_words, fields_in
from auditbook.spec.layout import (
    CRITERIA_COL,
    CRITERIA_ROW,
    GUIDANCE_ROW,
    HEADER_ROW,
    LABEL_COL,
    NUM_COL,
    TABLE_FIRST_COL,
    Input,
    SectionLayout,
)
from auditbook.spec.roles import Role
from auditbook.workbook.fit import height_for, row_points
from auditbook.workbook.inputs import InputSheet
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.xlsx import FastWorksheet

#: Column widths of a form or judged sheet: number, label (and long entries under it), answer, criteria.
#: The label column is wide enough for a 4,000-character entry to stay within Excel's tallest row (409 points)
#: and a printed page; the sheet prints at about 90 % on A4 landscape.
FORM_WIDTHS = (4, 118, 26, 11)
#: Starting heights, in lines, of the rows an auditor types long entries in; they grow with the entry.
EVIDENCE_LINES, LONG_TEXT_LINES, TABLE_ROW_LINES = 2, 3, 2
#: Table column widths by field type.
TABLE_WIDTHS = {"long_text": 56, "choice": 24, "date": 13, "text": 24, "integer": 10, "month": 10}


class SectionSheets(InputSheet):
    """Section sheets: title, banner, status, guidance, criteria, then the form's questions or the table's rows."""

    def _section_top(self, ws: FastWorksheet, sl: SectionLayout, last_col: int) -> None:
        s = sl.section
        self._top(ws, s.title, last_col)
        self._banner(ws, sl, last_col)
        self._status_line(ws, sl)
        if s.guidance:
            self._long_row(ws, GUIDANCE_ROW, s.guidance.strip(), last_col, self.fmt.text)
        if s.criteria:
            by_id = {c.id: c for c in self.spec.criteria}
            text = "Judged against the 'good' criteria: " + "; ".join(f"{c} {by_id[c].summary}" for c in s.criteria) \
                + f" (full text on the {self.spec.wording.criteria_sheet} sheet)."
            self._long_row(ws, CRITERIA_ROW, text, last_col, self.fmt.criteria)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.repeat_rows(HEADER_ROW)

    def _form_section(self, ws: FastWorksheet, sl: SectionLayout) -> None:
        judged = sl.section.kind == "judged"
        ws.set_widths(FORM_WIDTHS)
        self._section_top(ws, sl, CRITERIA_COL)
        heads = ("#", "Question (the evidence goes in the box under it)", "Answer",
                 self.spec.wording.criteria_column) if judged else \
            ("", "Field (long entries go in the box under their label)", "Entry", "")
        for col, text in enumerate(heads):
            ws.write_string(HEADER_ROW, col, text, self.fmt.header)
        fields = {f.id: f for f in self.spec.fields_of(sl.section)}
        number = 0
        for inp in sl.inputs:
            self._input(ws, inp)
            f = fields.get(inp.field)
            if f is None:  # a question's evidence, in the box under its answer
                ws.fit_row(inp.row, row_points(EVIDENCE_LINES))
                continue
            if f.type == "question":
                number += 1
                ws.write_number(inp.label_at, NUM_COL, number, self.fmt.text)
            if f.criteria:
                ws.write_string(inp.label_at, CRITERIA_COL, ", ".join(f.criteria), self.fmt.refs)
            self._label(ws, sl, inp, f.applies_when)
            if inp.label_row is not None:
                ws.fit_row(inp.row, row_points(LONG_TEXT_LINES))
        for inp in sl.inputs:  # a label prints with the box under it
            if inp.label_row is not None:
                ws.keep_together(inp.label_row, inp.row)
        if judged:
            self._keep_judgement(ws, sl)

    def _keep_judgement(self, ws: FastWorksheet, sl: SectionLayout) -> None:
        """The section's grade and theme tags print together, with what needs to improve before them."""
        grade = self.layout.section_input(sl, Role.SECTION_GRADE)
        if grade is None:
            return
        improve = self.layout.section_input(sl, Role.TO_IMPROVE)
        block = [grade, *self.layout.theme_inputs(sl), *([improve] if improve is not None else [])]
        ws.keep_together(min(i.label_at for i in block), max(i.row for i in block))

    def _label(self, ws: FastWorksheet, sl: SectionLayout, inp: Input, own: Condition | None) -> None:
        """The question's label: a star when it must be answered, and, as its own banner, why it does not apply or
        what it waits for. No star while the section does not apply, waits for an answer or is optional for this
        audit; in a section that does not apply, a question with a condition of its own gives the section's reason
        (its own condition is beside the point). Its help is on the lines under it, and its row is as tall as the
        longest thing it can say."""
        plain = inp.label
        label = plain + (" *" if inp.required else "")
        if inp.derived is not None:
            label = f"{plain} ({derived_words(inp.derived, self._label_of)})"
        formula, shown = string_literal(label), label
        texts = [label]
        gate = sl.required_flag or sl.applies_flag
        if inp.required and gate:
            formula, shown = f"IF({gate},{formula},{string_literal(plain)})", label if self.ev.flag(gate) else plain
            texts.append(plain)
        if own is not None and inp.applies_flag and inp.waiting_flag:
            off = f"{plain} (does not apply: {inp.not_applicable_because})"
            off_formula, off_shown = string_literal(off), off
            if sl.applies_flag and sl.section.not_applicable_because:
                section_off = f"{plain} (does not apply: {sl.section.not_applicable_because})"
                off_formula = f"IF({sl.applies_flag},{off_formula},{string_literal(section_off)})"
                off_shown = off if self.ev.flag(sl.applies_flag) else section_off
                texts.append(section_off)
            wait = f"{plain} ({self.waiting_text(list(fields_in(own)), 'it applies', here=sl.sheet)})"
            if sl.waiting_flag:  # while the section waits, its banner says what for
                wait_formula = f"IF({sl.waiting_flag},{string_literal(plain)},{string_literal(wait)})"
                wait_shown = plain if self.ev.value(sl.waiting_flag) else wait
            else:
                wait_formula, wait_shown = string_literal(wait), wait
            formula = f"IF({inp.waiting_flag},{wait_formula},IF({inp.applies_flag},{formula},{off_formula}))"
            shown = wait_shown if self.ev.value(inp.waiting_flag) else shown if self.ev.flag(inp.applies_flag) \
                else off_shown
            texts += [off, wait]
        help_text = self.help_of(inp)
        row, width = inp.label_at, ws.widths[LABEL_COL]
        below = "\n" + help_text if help_text else ""
        if formula.startswith('"') and formula == string_literal(shown):
            if help_text:
                ws.write_rich_string(row, LABEL_COL, shown + "\n", self.fmt.help_run, help_text, self.fmt.text)
            else:
                ws.write_string(row, LABEL_COL, shown, self.fmt.text)
            ws.fit_row(row, height_for([(shown + below, width)]))
            return
        if help_text:
            formula += f"&CHAR(10)&{string_literal(help_text)}"
            shown += below
        self._formula(ws, row, LABEL_COL, "=" + formula, self.fmt.text, shown)
        # A formula's text: neither program refits the row when it changes, so it is sized for the longest.
        ws.set_row(row, height_for([(t + below, width) for t in texts]))

    def _table_section(self, ws: FastWorksheet, sl: SectionLayout) -> None:
        fields = sl.section.fields
        last_col = TABLE_FIRST_COL + len(fields) - 1
        ws.set_widths([4, *(TABLE_WIDTHS["choice" if f.type == "question" else f.type] for f in fields)])
        self._section_top(ws, sl, last_col)
        ws.write_string(HEADER_ROW, 0, "#", self.fmt.header)
        for c, f in enumerate(fields):
            label = f.label + (" *" if f.required else "")
            ws.write_string(HEADER_ROW, TABLE_FIRST_COL + c, label, self.fmt.header)
        ws.set_row(HEADER_ROW, height_for([(f.label + " *", ws.widths[TABLE_FIRST_COL + c])
                                           for c, f in enumerate(fields)], bold=True))
        for inp in sl.inputs:
            if inp.col == TABLE_FIRST_COL:
                ws.write_number(inp.row, 0, inp.row_index or 0, self.fmt.text)
                ws.fit_row(inp.row, row_points(TABLE_ROW_LINES))
            self._input(ws, inp)
        ws.keep_together(sl.last_row - 1, sl.last_row)  # never one row alone on the last page
