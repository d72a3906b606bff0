"""The Summary's actions table: each action with its section, who is responsible, timescale, agreement, priority.

Laid on the Summary grid with its own columns (the action's text in a wide one), not the sections
table's. Who is responsible shows the team manager when the row names no one, as validate reads it.
Action text longer than two lines is cut with a pointer to the Actions sheet, where it is whole.
"""

from __future__ import annotations

from xlsxwriter.format import Format

from auditbook.spec.layout import Input, SectionLayout, cell_ref, quote_sheet
from auditbook.spec.roles import Role
from auditbook.workbook import summary_grid as grid
from auditbook.workbook.book import Book
from auditbook.workbook.fit import height_for
from auditbook.workbook.summary_grid import clip, clipped
from auditbook.workbook.xlsx import FastWorksheet

#: Lines each action row shows: enough for the gist, few enough that 15 rows fit a page.
ACTION_LINES = 2
MORE = " (in full on the Actions sheet)"
MORE_SHORT = " (see Actions)"

#: Where each action role goes on the grid (each headed by its field's label in the spec).
COLUMNS: tuple[tuple[Role, tuple[int, int]], ...] = (
    (Role.ACTION_TEXT, grid.ACTION),
    (Role.ACTION_PRIORITY, grid.PRIORITY),
    (Role.ACTION_SECTION, grid.ACTION_SECTION),
    (Role.ACTION_AGREED, grid.AGREED),
    (Role.ACTION_TIMESCALE, grid.TIMESCALE),
    (Role.ACTION_RESPONSIBLE, grid.RESPONSIBLE),
)


class SummaryActions(Book):
    """The Summary's actions table."""

    def _summary_actions(self, ws: FastWorksheet, row: int, sl: SectionLayout) -> None:
        labels = {f.id: f.label for f in sl.section.fields}
        columns = [(role, span, self.layout.action_column(role)) for role, span in COLUMNS]
        present = [(role, span, labels[col], col) for role, span, col in columns if col is not None and col in labels]
        if not any(role is Role.ACTION_TEXT for role, *_ in present):
            return  # without the action's text there is nothing a reader can act on
        ws.break_before(row)  # the actions print on a page of their own, headed as below
        ws.merge_range(row, 0, row, grid.LAST_COL, sl.section.title, self.fmt.bold)
        row += 1
        ws.write_string(row, grid.NUMBER[0], "#", self.fmt.header)
        self._spans(ws, row, [(span, head) for _role, span, head, _col in present], self.fmt.header)
        ws.set_row(row, height_for([(head, grid.width(span)) for _r, span, head, _c in present], bold=True))
        manager = self.layout.role_input(Role.TEAM_MANAGER)
        limit = grid.fits(grid.ACTION, ACTION_LINES)
        for r in range(1, sl.section.rows + 1):
            row += 1
            cells = {i.field: i for i in sl.inputs if i.row_index == r}
            ws.write_number(row, grid.NUMBER[0], r, self.fmt.cell)
            for role, span, _head, col in present:
                inp = cells[col]
                if span[0] != span[1]:
                    ws.merge_range(row, span[0], row, span[1], "", self.fmt.cell)
                if role is Role.ACTION_TEXT:
                    self._clipped(ws, row, span, inp, limit, MORE)
                elif role is Role.ACTION_RESPONSIBLE:
                    self._responsible(ws, row, span, inp, manager, list(cells.values()))
                else:
                    self._echo(ws, row, span[0], inp, self.fmt.cell_date if inp.type == "date" else self.fmt.cell)
            ws.set_row(row, height_for([("x" * limit, grid.width(grid.ACTION)),
                                        (self._longest_section(), grid.width(grid.ACTION_SECTION))]))
        ws.keep_together(row - 1, row)  # never one action alone on a page

    def _longest_section(self) -> str:
        return max(self.spec.lists.get("section", [""]), key=len, default="")

    def _clipped(self, ws: FastWorksheet, row: int, span: tuple[int, int], inp: Input, limit: int, more: str = "",
                 fmt: Format | None = None) -> None:
        """A text input echoed in a span, cut to `limit` characters (with `more` after the ellipsis)."""
        raw = self.prefill.get(inp.name)
        shown = clip("" if raw is None else str(raw), limit, more)
        self._formula(ws, row, span[0], "=" + clipped(inp.name, limit, more), fmt or self.fmt.cell, shown)

    def _responsible(self, ws: FastWorksheet, row: int, span: tuple[int, int], inp: Input, manager: Input | None,
                     cells: list[Input]) -> None:
        """Who is responsible: the person named, else the case's team manager once the row has any entry."""
        name = inp.name
        limit = grid.fits(span, ACTION_LINES)
        if manager is None:
            self._clipped(ws, row, span, inp, limit, MORE_SHORT)
            return
        cols = sorted(i.col for i in cells)
        used = f"COUNTA({quote_sheet(inp.sheet)}!{cell_ref(inp.row, cols[0], absolute=True)}:" \
               f"{cell_ref(inp.row, cols[-1], absolute=True)})>0"
        fallback = f'IF(AND({used},{manager.name}<>""),{manager.name}&" (team manager)","")'
        formula = f'=IF({name}<>"",{clipped(name, limit, MORE_SHORT)},{fallback})'
        raw, boss = self.prefill.get(name), self.prefill.get(manager.name)
        any_entry = any(self.prefill.get(i.name) not in (None, "") for i in cells)
        shown = clip(str(raw), limit, MORE_SHORT) if raw else (
            f"{boss} (team manager)" if boss and any_entry else "")
        self._formula(ws, row, span[0], formula, self.fmt.cell, shown)
