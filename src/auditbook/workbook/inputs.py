"""Input cells: value, defined name, grey-when-not-applicable and amber-when-required formats, data validation.

Inputs that share a rule (the same validation, the same grey-when-not-applicable condition) share one
validation or conditional format over all their cells, its formula relative to the first of them, as Excel
and LibreOffice read it: fewer rules in the file, and a fraction of the time to write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any

from xlsxwriter.worksheet import Worksheet

from auditbook.dates import MAX_DATE, MIN_DATE, serial
from auditbook.spec.evaluate import CellValue
from auditbook.spec.layout import (
    Input,
    cell_ref,
    sheet_ref,
)
from auditbook.workbook.book import Book
from auditbook.workbook.formulas import applies_expression, required_empty_formula
from auditbook.workbook.kleene import Scope, date_expression
from auditbook.workbook.xlsx import excel_date, ok, truncate

_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?)([0-9]+)(?![0-9A-Za-z_(])")
_STRING = re.compile(r'"(?:[^"]|"")*"')
#: The longest error message of a data validation Excel takes: 224 characters, not the 255 of its prompt
#: (MS-OI29500 2.1.613; xlsxwriter checks 255).
ERROR_MESSAGE_CHARS = 224


@lru_cache(maxsize=65536)  # every workbook of a spec asks for the same ones
def relative_form(text: str, row: int, col: int) -> str:
    """A formula with its relative cell references written as offsets from (row, col): equal for two cells
    exactly when one rule, relative to its first cell, serves both."""
    def offset(m: re.Match[str]) -> str:
        c = "$" + m.group(2) if m.group(1) else f"C[{col_index(m.group(2)) - col}]"
        r = "$" + m.group(4) if m.group(3) else f"R[{int(m.group(4)) - 1 - row}]"
        return c + r
    pieces = _STRING.split(text)
    strings = _STRING.findall(text)
    out = [_REF.sub(offset, p) for p in pieces]
    return "".join(p + (strings[i] if i < len(strings) else "") for i, p in enumerate(out))


def col_index(letters: str) -> int:
    """0-based column index of spreadsheet column letters."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


@dataclass
class _Rule:
    """One validation or conditional format and the cells it covers (its formulas are the first cell's)."""

    kind: str  # "validation", "waiting", "not applicable", "required"
    options: dict[str, Any]
    cells: list[tuple[int, int]] = field(default_factory=list)


#: A rule an input is under: its kind, the key of its form (equal for inputs that can share it), its options.
RuleOf = tuple[str, tuple[Any, ...], dict[str, Any]]


class InputSheet(Book):
    """Input cells: value, defined name, grey-when-not-applicable and amber-when-required formats, data validation."""

    def _rules_of(self, inp: Input, locked: bool) -> list[RuleOf]:
        """The input's validation and conditional formats, worked out once per layout (every workbook repeats them)."""
        cache: dict[tuple[str, bool], list[RuleOf]] = self.layout.caches.setdefault("rules", {})
        found = cache.get((inp.name, locked))
        if found is not None:
            return found
        rules: list[tuple[str, dict[str, Any]]] = []
        if not locked:
            rules.append(("validation", self._validation(inp)))
        expr = applies_expression(self.layout, inp)
        if inp.waiting_flag:
            rules.append(("waiting", {"type": "formula", "criteria": f"={inp.waiting_flag}", "stop_if_true": True}))
        if expr:
            # Not while it waits (its own colour then): the two never both hold, whichever a client applies first.
            grey = f"=AND(NOT({expr}),NOT({inp.waiting_flag}))" if inp.waiting_flag else f"=NOT({expr})"
            rules.append(("not applicable", {"type": "formula", "criteria": grey, "stop_if_true": True}))
        if inp.required:
            rules.append(("required", {"type": "formula", "criteria": required_empty_formula(self.layout, inp)}))
        found = cache[(inp.name, locked)] = [
            (kind, tuple(sorted((k, relative_form(v, inp.row, inp.col) if isinstance(v, str) else v)
                                for k, v in options.items())), options)
            for kind, options in rules]
        return found

    @cached_property
    def _pending_rules(self) -> dict[str, dict[tuple[Any, ...], _Rule]]:
        """Each sheet's validations and conditional formats, gathered by kind and form until the sheet is done."""
        return {}

    def _rule(self, ws: Worksheet, rule: RuleOf, row: int, col: int) -> None:
        """Add a cell to the sheet's rule of this kind and form, or start one."""
        kind, key, options = rule
        rules = self._pending_rules.setdefault(ws.name, {})
        # One column per rule, filled top down: its first cell is then the top-left of all its cells, which is
        # where LibreOffice anchors a rule's relative references (Excel anchors them at the first cell).
        rules.setdefault((kind, col, *key), _Rule(kind, options)).cells.append((row, col))

    def _flush_rules(self, ws: Worksheet) -> None:
        """Write the sheet's rules: validations, then waiting (blue), does not apply (grey), required (amber)."""
        rules = list(self._pending_rules.pop(ws.name, {}).values())
        order = {"validation": 0, "waiting": 1, "not applicable": 2, "required": 3}
        formats = {"waiting": self.fmt.waiting, "not applicable": self.fmt.na, "required": self.fmt.required}
        for rule in sorted(rules, key=lambda r: order[r.kind]):
            rule.cells.sort()
            (row, col), *more = rule.cells
            options = dict(rule.options)
            if more:
                options["multi_range"] = " ".join(cell_ref(r, c) for r, c in rule.cells)
            if rule.kind == "validation":
                ok(ws.data_validation(row, col, row, col, options), f"data validation at {cell_ref(row, col)}")
            else:
                options["format"] = formats[rule.kind]
                ok(ws.conditional_format(row, col, row, col, options), f"a conditional format at {cell_ref(row, col)}")

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
        for rule in self._rules_of(inp, locked):
            self._rule(ws, rule, inp.row, inp.col)

    def _derived(self, ws: Worksheet, inp: Input) -> None:
        """A value worked out from earlier answers: a locked formula cell with the input's name."""
        assert inp.derived is not None
        expr = date_expression(inp.derived, Scope(self.layout))
        value = self.ev.by_ref.get(inp.ref)
        cached: CellValue = serial(value) if isinstance(value, date) else ""
        self._formula(ws, inp.row, inp.col, f'=IFERROR({expr},"")', self.fmt.prefilled["date"], cached)
        self._define(inp.name, sheet_ref(inp.sheet, inp.row, inp.col))

    def _validation(self, inp: Input) -> dict[str, Any]:
        """The input's data validation: what it accepts, why not, and its prompt."""
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
                  "error_message": truncate(f"Choose one of: {', '.join(inp.choices)}.", ERROR_MESSAGE_CHARS)}
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
                f"{inp.not_applicable_because}.", ERROR_MESSAGE_CHARS)
        dv["error_title"] = "Not accepted"
        prompt = self.help_of(inp)
        title = inp.label
        if inp.type == "long_text":
            if prompt is None and inp.label_row is not None and inp.field.endswith("_evidence"):
                title = "Evidence / comment"  # the question is beside it; one prompt serves every evidence box
            prompt = (prompt + "\n" if prompt else "") + (
                f"Up to {inp.max_length:,} characters: the row grows as you type, and prints whole.")
        if prompt:
            dv["input_title"] = truncate(title, 32)
            dv["input_message"] = truncate(prompt, 255)
        return dv
