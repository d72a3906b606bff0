"""Input cells: value, defined name, grey-when-not-applicable and amber-when-required formats, data validation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from xlsxwriter.worksheet import Worksheet

from auditbook.dates import MAX_DATE, MIN_DATE
from auditbook.workbook.book import Book
from auditbook.workbook.formulas import (
    CellValue,
    applies_expression,
    required_empty_formula,
)
from auditbook.workbook.kleene import Scope, date_expression
from auditbook.workbook.layout import (
    Input,
    cell_ref,
    sheet_ref,
)
from auditbook.workbook.xlsx import excel_date, ok, truncate


class InputSheet(Book):
    """Input cells: value, defined name, grey-when-not-applicable and amber-when-required formats, data validation."""

    def _input(self, ws: Worksheet, inp: Input) -> None:
        if inp.derived is not None:
            self._derived(ws, inp)
            return
        raw = self.prefill.get(inp.name)
        locked = raw is not None and self.lock_prefill
        fmt = (self.fmt.prefilled if locked else self.fmt.inputs)[inp.type]
        if isinstance(raw, date):
            ok(ws.write_datetime(inp.row, inp.col, datetime(raw.year, raw.month, raw.day), fmt), inp.name)
        elif isinstance(raw, int):
            ok(ws.write_number(inp.row, inp.col, raw, fmt), inp.name)
        elif raw is not None:
            ok(ws.write_string(inp.row, inp.col, raw, fmt), inp.name)
        else:
            ok(ws.write_blank(inp.row, inp.col, None, fmt), inp.name)
        self._define(inp.name, sheet_ref(inp.sheet, inp.row, inp.col))
        if not locked:
            self._validation(ws, inp)
        target = cell_ref(inp.row, inp.col)
        expr = applies_expression(self.layout, inp)
        if expr:
            ok(ws.conditional_format(target, {"type": "formula", "criteria": f"=NOT({expr})",
                                               "format": self.fmt.na, "stop_if_true": True}), inp.name)
        if inp.required:
            ok(ws.conditional_format(target, {"type": "formula", "criteria": required_empty_formula(
                self.layout, inp), "format": self.fmt.required}), inp.name)

    def _derived(self, ws: Worksheet, inp: Input) -> None:
        """A value worked out from earlier answers: a locked formula cell with the input's name."""
        assert inp.derived is not None
        expr = date_expression(inp.derived, Scope(self.layout))
        value = self.ev.by_ref.get(inp.ref)
        cached: CellValue = (value - date(1899, 12, 30)).days if isinstance(value, date) else ""
        self._formula(ws, inp.row, inp.col, f'=IFERROR({expr},"")', self.fmt.prefilled["date"], cached)
        self._define(inp.name, sheet_ref(inp.sheet, inp.row, inp.col))

    def _validation(self, ws: Worksheet, inp: Input) -> None:
        here = cell_ref(inp.row, inp.col)
        expr = applies_expression(self.layout, inp)
        gate = [expr] if expr else []
        dv: dict[str, Any]
        if inp.type == "choice":
            lst = self.layout.lists[inp.list_id or ""]
            na = self.layout.na_list
            assert na is not None
            source = f"=IF({expr},{lst.name},{na.name})" if expr else f"={lst.name}"
            dv = {"validate": "list", "source": source,
                  "error_message": truncate(f"Choose one of: {', '.join(inp.choices)}.", 255)}
        elif inp.type == "date":
            rule = [*gate, f"ISNUMBER({here})", f"{here}>={excel_date(MIN_DATE)}", f"{here}<={excel_date(MAX_DATE)}"]
            dv = {"validate": "custom", "value": "=AND(" + ",".join(rule) + ")",
                  "error_message": "Enter a date as dd/mm/yyyy, for example 31/12/2026."}
        elif inp.type == "integer":
            rule = [*gate, f"ISNUMBER({here})", f"{here}=INT({here})"]
            if inp.min is not None:
                rule.append(f"{here}>={inp.min}")
            if inp.max is not None:
                rule.append(f"{here}<={inp.max}")
            rng = f" from {inp.min} to {inp.max}" if inp.min is not None and inp.max is not None else ""
            dv = {"validate": "custom", "value": "=AND(" + ",".join(rule) + ")",
                  "error_message": f"Enter a whole number{rng}."}
        elif inp.type == "month":
            rule = [*gate, f"LEN({here})=7", f'MID({here},5,1)="-"', f"ISNUMBER(VALUE(LEFT({here},4)))",
                    f"VALUE(RIGHT({here},2))>=1", f"VALUE(RIGHT({here},2))<=12"]
            dv = {"validate": "custom", "value": "=AND(" + ",".join(rule) + ")",
                  "error_message": "Enter the month as YYYY-MM, for example 2026-11."}
        else:
            rule = [*gate, f"LEN({here})<={inp.max_length}"]
            dv = {"validate": "custom", "value": "=AND(" + ",".join(rule) + ")",
                  "error_message": f"Keep this to {inp.max_length} characters."}
        if expr and inp.not_applicable_because:
            dv["error_message"] = truncate(
                f"{dv['error_message']} If nothing can be entered, this does not apply because "
                f"{inp.not_applicable_because}.", 255)
        dv["error_title"] = "Not accepted"
        prompt = self.help_of(inp)
        if inp.type == "long_text":
            prompt = (prompt + "\n" if prompt else "") + (
                f"Up to {inp.max_length:,} characters: the row grows as you type, and prints whole.")
        if prompt:
            dv["input_title"] = truncate(inp.label, 32)
            dv["input_message"] = truncate(prompt, 255)
        ok(ws.data_validation(inp.row, inp.col, inp.row, inp.col, dv), f"data validation for {inp.name}")
