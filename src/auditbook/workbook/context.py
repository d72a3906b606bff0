"""What every sheet writer is handed: the spec, its layout, the formats, the starting answers and what they make
of the workbook's formulas, and the few pieces every sheet shares (page setup, the title lines, formulas, names).

Each kind of sheet has a module of its own (start, summary, sections, criteria, lists, metadata) with a
`write(ctx, ws)`; none calls into another's private names. The context is built once per workbook and never
changed: what a sheet gathers while it is written (its shared rules, its rows) stays with that sheet's writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from auditbook.local import LocalDetails
from auditbook.spec.evaluate import CellValue, Evaluator, audit_facts
from auditbook.spec.layout import CLASS_ROW, TITLE_ROW, Input, Layout, build_layout, cell_ref
from auditbook.spec.metadata import Metadata
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.spec.rules import Firing, firings
from auditbook.workbook.checks import Check, checks_of
from auditbook.workbook.formats import Formats
from auditbook.workbook.paging import DEFAULT_ROW_POINTS
from auditbook.workbook.xlsx import FastWorksheet, escape_header, ok

#: The height of a sheet's title row: one line of Arial 14 bold.
TITLE_POINTS = 19.5
#: A starting value: text, a whole number or a date.
Answer = str | int | date


@dataclass(frozen=True)
class Context:
    """One audit workbook being written: what it is made from, and the pieces every sheet shares."""

    spec: Spec
    layout: Layout
    wb: Workbook
    fmt: Formats
    #: Starting values by input name, and whether they are locked.
    prefill: Mapping[str, Answer]
    lock_prefill: bool
    password: str
    meta: Metadata
    local: LocalDetails
    #: The formulas' values for the starting answers (written with each formula, so a client is right before it
    #: recalculates).
    ev: Evaluator
    #: The spec's rules as live checks, and where each fails on the starting answers, by check name.
    checks: tuple[Check, ...]
    fired: Mapping[str, list[Firing]]
    #: The case reference's input, its starting value, and the spec's word for it ("Case reference").
    case_input: Input | None
    case_ref: str
    case_word: str

    def sheet(self, name: str) -> FastWorksheet:
        """Add a sheet set up as every sheet of the workbook is: A4 landscape, one page wide, marked, protected."""
        ws = self.wb.add_worksheet(name, worksheet_class=FastWorksheet)
        assert isinstance(ws, FastWorksheet)
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_default_row(DEFAULT_ROW_POINTS)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.55, bottom=0.55)
        where = self.case_input.sheet if self.case_input is not None else self.spec.title
        ref = f"{self.case_word}: {self.case_ref}" if self.case_ref else f"{self.case_word}: see {where}"
        marking = escape_header(self.spec.classification)
        ws.set_header(f"&C&\"Arial,Bold\"{marking}", {"margin": 0.25})
        ws.set_footer(f"&L{escape_header(ref)}&CPage &P of &N&R{marking}", {"margin": 0.25})
        ws.protect(self.password, {"format_rows": True, "format_columns": True, "select_locked_cells": True,
                                   "select_unlocked_cells": True})
        ws.hide_gridlines(2)
        return ws

    def title(self, ws: FastWorksheet, text: str, last_col: int) -> None:
        """The sheet's title across its columns, and the classification under it."""
        ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, text, self.fmt.title)
        ws.set_row(TITLE_ROW, TITLE_POINTS)
        ws.write_string(CLASS_ROW, 0, self.spec.classification, self.fmt.classification)

    def formula(self, ws: FastWorksheet, row: int, col: int, formula: str, fmt: Format, value: CellValue) -> None:
        """A formula with its value for the starting answers."""
        ok(ws.write_formula(row, col, formula, fmt, value), f"a formula at {ws.name}!{cell_ref(row, col)}")

    def print_nothing(self, ws: FastWorksheet, col: int) -> None:
        """Leave the sheet out of a printed workbook: its print area is one empty, unformatted cell (row 1 of
        `col`, a column the sheet never uses), and LibreOffice, like Excel, prints no page that holds nothing.

        Someone who wants the sheet on paper selects its cells and prints the selection.
        """
        ok(ws.print_area(0, col, 0, col), f"the print area of {ws.name}")

    def print_area_formula(self, ws: FastWorksheet, formula: str) -> None:
        """A print area worked out by a formula (no "="), as a sheet-level _xlnm.Print_Area name.

        Excel works such a name out when it prints (so what it prints can follow the answers); LibreOffice (7.4,
        tested) takes a print area only when it is a plain range, prints the whole sheet instead, and keeps the name
        when it saves the workbook.
        """
        self.wb.defined_names.append(["_xlnm.Print_Area", ws.index, formula, False])

    def define(self, name: str, ref: str) -> None:
        """A workbook-level defined name."""
        ok(self.wb.define_name(name, "=" + ref), f"the defined name {name}")


def new_context(spec: Spec, wb: Workbook, *, prefill: Mapping[str, Answer], lock_prefill: bool, password: str,
                meta: Metadata, local: LocalDetails | None = None) -> Context:
    """The context for writing one workbook of a spec with these starting values into `wb`."""
    layout = build_layout(spec)
    ev = Evaluator(layout, {name: as_text(v) for name, v in prefill.items()})
    checks = checks_of(layout)
    case_input = layout.role_input(Role.CASE_REF)
    case_ref = prefill.get(case_input.name) if case_input is not None else None
    # The spec's word for it ("Case reference", "Practitioner reference"), short enough for a page footer.
    label = case_input.label if case_input is not None else ""
    return Context(
        spec=spec, layout=layout, wb=wb, fmt=Formats(wb), prefill=prefill, lock_prefill=lock_prefill,
        password=password, meta=meta, local=local or LocalDetails(), ev=ev, checks=checks,
        fired=_fired(layout, checks, prefill, ev), case_input=case_input,
        case_ref=str(case_ref) if case_ref else "", case_word=label if 0 < len(label) <= 40 else "Reference",
    )


def _fired(layout: Layout, checks: tuple[Check, ...], prefill: Mapping[str, Answer],
           ev: Evaluator) -> dict[str, list[Firing]]:
    """Where each check fails on the starting answers (the first values of its formulas), by check name."""
    if not checks:
        return {}
    facts = audit_facts(layout, prefill, ev)
    return {c.name: firings(c.rule, facts) for c in checks}


def as_text(value: Answer) -> str:
    """A prefilled value as the text conditions compare against."""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
