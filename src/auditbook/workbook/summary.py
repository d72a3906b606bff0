"""The Summary sheet: each section's applicability, status, grade and themes, the overall judgement, the actions."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from auditbook.spec.conditions import fields_in
from auditbook.spec.roles import Role
from auditbook.workbook.checks import ChecksBlock
from auditbook.workbook.layout import (
    SectionLayout,
)


class SummarySheet(ChecksBlock):
    """The Summary sheet: each section's applicability, status, grade and themes, the overall judgement, the actions."""

    def _summary(self, ws: Worksheet) -> None:
        for col, width in enumerate((50, 12, 22, 22, 60)):
            ws.set_column(col, col, width)
        ws.merge_range(0, 0, 0, 4, f"Summary: {self.spec.title}", self.fmt.title)
        self._top_class(ws)
        row = 4
        for col, text in enumerate(("Section", "Applies", "Status", "Grade", "Themes")):
            ws.write_string(row, col, text, self.fmt.header)
        for sl in self.layout.sections:
            row += 1
            self._summary_row(ws, row, sl)
        row += 2
        grade = self.layout.role_input(Role.OVERALL_GRADE)
        urgent = [self.layout.by_ref[ref] for ref in fields_in(self.spec.roles.urgent) if ref in self.layout.by_ref]
        for inp in [*([grade] if grade is not None else []), *urgent]:
            ws.write_string(row, 0, inp.label, self.fmt.bold)
            self._echo(ws, row, 2, inp, self.fmt.bold)
            row += 1
        row += 1
        row = self._checks_list(ws, row, self.checks, self.facts) + 1
        actions = self.layout.actions
        if actions is not None:
            self._summary_actions(ws, row, actions)
        ws.freeze_panes(5, 0)

    def _summary_row(self, ws: Worksheet, row: int, sl: SectionLayout) -> None:
        s = sl.section
        ws.write_string(row, 0, s.title, self.fmt.cell)
        if sl.applies_flag:
            applies = f'IF({sl.applies_flag},"Yes","No")'
            applies_value = "Yes" if self.ev.flag(sl.applies_flag) else "No"
            if sl.waiting_flag:
                applies = f'IF({sl.waiting_flag},"Waiting",{applies})'
                applies_value = "Waiting" if self.ev.value(sl.waiting_flag) else applies_value
        else:
            applies, applies_value = '"Yes"', "Yes"
        if sl.required_flag:
            applies = f'IF(NOT({sl.applies_flag or "TRUE()"}),"No",IF({sl.required_flag},"Yes","Optional"))'
            applies_value = "Yes" if self.ev.flag(sl.required_flag) else "Optional"
        self._formula(ws, row, 1, "=" + applies, self.fmt.cell, applies_value)
        self._formula(ws, row, 2, f"={sl.status_name}", self.fmt.cell, self.ev.value(sl.status_name))
        grade = self.layout.section_input(sl, Role.SECTION_GRADE)
        if grade is not None:
            na = f'IF(NOT({sl.applies_flag}),IF({sl.waiting_flag or "FALSE()"},"","n/a"),' if sl.applies_flag \
                else "("
            waits = sl.waiting_flag is not None and bool(self.ev.value(sl.waiting_flag))
            na_value = "n/a" if not self.ev.flag(sl.applies_flag) and not waits else ""
            self._formula(ws, row, 3, f'={na}IF({grade.name}="","",{grade.name}))', self.fmt.cell, na_value)
        else:
            ws.write_blank(row, 3, None, self.fmt.cell)
        themes = self.layout.theme_inputs(sl)
        if themes:
            parts = [f'IF({t.name}="","",{t.name}&"; ")' for t in themes]
            self._formula(ws, row, 4, "=" + "&".join(parts), self.fmt.cell, "")
        else:
            ws.write_blank(row, 4, None, self.fmt.cell)

    def _summary_actions(self, ws: Worksheet, row: int, sl: SectionLayout) -> None:
        ws.write_string(row, 0, "Actions", self.fmt.bold)
        row += 1
        fields = sl.section.fields
        ws.write_string(row, 0, "#", self.fmt.header)
        for c, f in enumerate(fields[:4], start=1):
            ws.write_string(row, c, f.label, self.fmt.header)
        for r in range(1, sl.section.rows + 1):
            row += 1
            ws.write_number(row, 0, r, self.fmt.cell)
            cells = [i for i in sl.inputs if i.row_index == r][:4]
            for c, inp in enumerate(cells, start=1):
                self._echo(ws, row, c, inp, self.fmt.cell_date if inp.type == "date" else self.fmt.cell)
