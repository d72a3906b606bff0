"""The Summary sheet: each section's applicability, status, grade and themes, the overall judgement, the actions.

What a team manager reads first, on A4 landscape. Every value here is a formula echoing the sheets behind
it, and neither Excel nor LibreOffice refits a row when a formula's result changes: so each row is as tall
as the longest value it can show (the spec bounds them: titles, grades, theme labels), and free text is
cut to what fits with a pointer to where it is whole.
"""

from __future__ import annotations

from auditbook.spec.conditions import fields_in
from auditbook.spec.layout import Input, SectionLayout
from auditbook.spec.roles import Role
from auditbook.workbook import summary_grid as grid
from auditbook.workbook.checks import ChecksBlock
from auditbook.workbook.fit import height_for
from auditbook.workbook.formulas import applies_expression
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.summary_actions import SummaryActions
from auditbook.workbook.summary_grid import clip, clipped
from auditbook.workbook.xlsx import FastWorksheet

#: The case's details, two to a row from DETAILS_ROW, then the sections table's header.
DETAILS_ROW = 2
DETAILS: tuple[Role, ...] = (Role.CASE_REF, Role.TEAM, Role.WORKER, Role.TEAM_MANAGER, Role.AUDITOR, Role.COMPLETED)
#: Where a detail's label and value go: (label span, value span) for the left and right of a row.
_DETAIL_SPANS = (((0, 1), (2, 3)), ((4, 5), (6, 8)))
#: A section's status when it is optional for this audit and not started (formulas.Evaluator._status).
OPTIONAL, NOT_STARTED = "Optional", "Not started"
#: The longest line shown for an echoed judgement value (the urgent concern's "with whom" and the like).
ECHO_LIMIT = 160


class SummarySheet(SummaryActions, ChecksBlock):
    """The Summary sheet: each section's applicability, status, grade and themes, the overall judgement, the actions."""

    def _summary(self, ws: FastWorksheet) -> None:
        ws.set_widths(grid.WIDTHS)
        ws.merge_range(0, 0, 0, grid.LAST_COL, f"Summary: {self.spec.title}", self.fmt.title)
        ws.set_row(0, 24)
        ws.merge_range(1, 0, 1, grid.LAST_COL, self.spec.classification, self.fmt.classification)
        row = self._details(ws) + 1
        # The overall judgement first: what a manager looks for before anything else.
        grade = self.layout.role_input(Role.OVERALL_GRADE)
        urgent = [self.layout.by_ref[ref] for ref in fields_in(self.spec.roles.urgent) if ref in self.layout.by_ref]
        when, whom = self.layout.role_input(Role.URGENT_WHEN), self.layout.role_input(Role.URGENT_WITH_WHOM)
        for inp in [i for i in (grade, *urgent, when, whom) if i is not None]:
            self._judgement_line(ws, row, inp)
            row += 1
        if self.checks:
            self._checks_count(ws, row)
            row += 1
        row += 1
        header = row
        self._spans(ws, row, [(grid.SECTION, "Section"), (grid.APPLIES, "Applies"), (grid.STATUS, "Status"),
                              (grid.GRADE, "Grade"), (grid.THEMES, "Themes")], self.fmt.header)
        for sl in self.layout.sections:
            row += 1
            self._summary_row(ws, row, sl)
        ws.keep_together(header, header + 1)
        ws.keep_together(row - 1, row)
        row += 2
        row = self._checks_list(ws, row) + 1
        actions = self.layout.actions
        if actions is not None:
            self._summary_actions(ws, row, actions)
        ws.freeze_panes(header + 1, 0)

    def _details(self, ws: FastWorksheet) -> int:
        """Who and what the audit is about, as a manager looks for it first: case, team, people, completion.

        Returns the next free row.
        """
        shown = [inp for inp in (self.layout.role_input(r) for r in DETAILS) if inp is not None]
        for i, inp in enumerate(shown):
            row = DETAILS_ROW + i // 2
            (label_span, value_span) = _DETAIL_SPANS[i % 2]
            ws.merge_range(row, label_span[0], row, label_span[1], inp.label, self.fmt.bold)
            fmt = self.fmt.value_date if inp.type == "date" else self.fmt.value
            ws.merge_range(row, value_span[0], row, value_span[1], "", fmt)
            if inp.type in ("text", "long_text"):
                self._clipped(ws, row, value_span, inp, int(grid.width(value_span) * 1.0), fmt=fmt)  # one line
            else:
                self._echo(ws, row, value_span[0], inp, fmt)
        return DETAILS_ROW + (len(shown) + 1) // 2

    def _summary_row(self, ws: FastWorksheet, row: int, sl: SectionLayout) -> None:
        s = sl.section
        self._spans(ws, row, [(grid.SECTION, s.title)], self.fmt.cell)
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
        self._span_formula(ws, row, grid.APPLIES, "=" + applies, applies_value, self.fmt.cell)
        status, status_value = f"={sl.status_name}", str(self.ev.value(sl.status_name))
        if sl.required_flag:
            # Applies already says "Optional": the status says how far it got ("Not started", not "Optional" again).
            status = f'=IF({sl.status_name}="{OPTIONAL}","{NOT_STARTED}",{sl.status_name})'
            status_value = NOT_STARTED if status_value == OPTIONAL else status_value
        self._span_formula(ws, row, grid.STATUS, status, status_value, self.fmt.cell)
        grade = self.layout.section_input(sl, Role.SECTION_GRADE)
        if grade is not None:
            na = f'IF(NOT({sl.applies_flag}),IF({sl.waiting_flag or "FALSE()"},"","n/a"),' if sl.applies_flag \
                else "("
            waits = sl.waiting_flag is not None and bool(self.ev.value(sl.waiting_flag))
            na_value = "n/a" if not self.ev.flag(sl.applies_flag) and not waits else ""
            self._span_formula(ws, row, grid.GRADE, f'={na}IF({grade.name}="","",{grade.name}))', na_value,
                               self.fmt.cell)
        else:
            self._spans(ws, row, [(grid.GRADE, "")], self.fmt.cell)
        themes = self.layout.theme_inputs(sl)
        if themes:
            # "a; b; c" without a trailing separator: each tag after the first brings its own "; ".
            parts = [f'IF({t.name}="","",{t.name})' if i == 0 else
                     f'IF({t.name}="","",IF(LEN({"&".join(x.name for x in themes[:i])})>0,"; ","")&{t.name})'
                     for i, t in enumerate(themes)]
            self._span_formula(ws, row, grid.THEMES, "=" + "&".join(parts), "", self.fmt.cell)
        else:
            self._spans(ws, row, [(grid.THEMES, "")], self.fmt.cell)
        # The tallest this row can be: the title, and the longest tags the spec allows.
        longest_tags = "; ".join(sorted((t.label for t in self.spec.themes), key=len)[-len(themes):]) \
            if themes else ""
        ws.set_row(row, height_for([(s.title, grid.width(grid.SECTION)), (longest_tags, grid.width(grid.THEMES)),
                                    ("Requires improvement", grid.width(grid.GRADE))]))

    def _judgement_line(self, ws: FastWorksheet, row: int, inp: Input) -> None:
        """An overall judgement value: its label, then its echo (dates as dd/mm/yyyy, text cut to a line or two).

        A value that applies only sometimes (when the urgent concern was raised) shows nothing, label included,
        while it does not apply.
        """
        flag = applies_expression(self.layout, inp)
        applies = self.ev.input_applies(inp)
        first, last = grid.VALUE
        fmt = self.fmt.bold_date if inp.type == "date" else self.fmt.bold
        heights = [(inp.label, grid.width(grid.LABEL))]
        if flag is None:
            ws.merge_range(row, grid.LABEL[0], row, grid.LABEL[1], inp.label, self.fmt.bold)
        else:
            self._span_formula(ws, row, grid.LABEL, f'=IF({flag},{string_literal(inp.label)},"")',
                               inp.label if applies else "", self.fmt.bold)
        ws.merge_range(row, first, row, last, "", fmt)
        if inp.type in ("text", "long_text"):
            raw = self.prefill.get(inp.name)
            shown = "" if raw is None or not applies else str(raw)
            echo = clipped(inp.name, ECHO_LIMIT)
            self._formula(ws, row, first, f'=IF({flag},{echo},"")' if flag else f"={echo}", fmt,
                          clip(shown, ECHO_LIMIT))
            heights.append(("x" * min(inp.max_length, ECHO_LIMIT), grid.width(grid.VALUE)))
        else:
            self._echo(ws, row, first, inp, fmt, gate=flag)
        ws.set_row(row, height_for(heights, bold=True))
