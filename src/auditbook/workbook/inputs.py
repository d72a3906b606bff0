"""Input cells: value, defined name, grey-when-not-applicable and amber-when-required formats, data validation.

Inputs that share a rule (the same validation, the same grey-when-not-applicable condition) share one
validation or conditional format over all their cells, its formula relative to the first of them, as Excel
and LibreOffice read it: fewer rules in the file, and a fraction of the time to write them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from xlsxwriter.utility import xl_cell_to_rowcol

from auditbook.dates import MAX_DATE, MIN_DATE, serial
from auditbook.spec.evaluate import CellValue
from auditbook.spec.layout import Input, Layout, cell_ref, sheet_ref
from auditbook.spec.models import Spec
from auditbook.workbook.context import Context
from auditbook.workbook.formulas import applies_expression, required_empty_formula
from auditbook.workbook.kleene import Scope, date_expression
from auditbook.workbook.xlsx import FastWorksheet, excel_date, ok, truncate

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
        c = "$" + m.group(2) if m.group(1) else f"C[{xl_cell_to_rowcol(m.group(2) + '1')[1] - col}]"
        r = "$" + m.group(4) if m.group(3) else f"R[{int(m.group(4)) - 1 - row}]"
        return c + r
    pieces = _STRING.split(text)
    strings = _STRING.findall(text)
    out = [_REF.sub(offset, p) for p in pieces]
    return "".join(p + (strings[i] if i < len(strings) else "") for i, p in enumerate(out))


@dataclass
class _Rule:
    """One validation or conditional format and the cells it covers (its formulas are the first cell's)."""

    kind: str  # "validation", "waiting", "not applicable", "required"
    options: dict[str, Any]
    cells: list[tuple[int, int]] = field(default_factory=list)


#: A rule an input is under: its kind, the key of its form (equal for inputs that can share it), its options.
RuleOf = tuple[str, tuple[Any, ...], dict[str, Any]]


#: The order a sheet's rules are written in: validations, then waiting (blue), does not apply (grey), required (amber).
_ORDER = {"validation": 0, "waiting": 1, "not applicable": 2, "required": 3}


class InputCells:
    """One sheet's input cells: each written with its value and name, under rules it shares with the sheet's other
    inputs; close() writes the rules once every input of the sheet is in."""

    def __init__(self, ctx: Context, ws: FastWorksheet) -> None:
        self.ctx = ctx
        self.ws = ws
        #: The sheet's validations and conditional formats, gathered by kind and form until the sheet is done.
        self.rules: dict[tuple[Any, ...], _Rule] = {}

    def write(self, inp: Input) -> None:
        """The input's cell (its starting value, if any), its defined name, and its place under its rules."""
        ctx, ws = self.ctx, self.ws
        if inp.derived is not None:
            self._derived(inp)
            return
        raw = ctx.prefill.get(inp.name)
        locked = raw is not None and ctx.lock_prefill
        fmt = (ctx.fmt.prefilled if locked else ctx.fmt.inputs)[inp.type]
        if isinstance(raw, date):
            ok(ws.write_datetime(inp.row, inp.col, datetime(raw.year, raw.month, raw.day), fmt), inp.name)
        elif isinstance(raw, int):
            ok(ws.write_number(inp.row, inp.col, raw, fmt), inp.name)
        elif raw is not None:
            ok(ws.write_string(inp.row, inp.col, raw, fmt), inp.name)
        else:
            ok(ws.write_blank(inp.row, inp.col, None, fmt), inp.name)
        ctx.define(inp.name, sheet_ref(inp.sheet, inp.row, inp.col))
        for kind, key, options in input_rules(ctx.layout, inp, locked=locked):
            # One column per rule, filled top down: its first cell is then the top-left of all its cells, which is
            # where LibreOffice anchors a rule's relative references (Excel anchors them at the first cell).
            self.rules.setdefault((kind, inp.col, *key), _Rule(kind, options)).cells.append((inp.row, inp.col))

    def _derived(self, inp: Input) -> None:
        """A value worked out from earlier answers: a locked formula cell with the input's name."""
        ctx = self.ctx
        assert inp.derived is not None
        expr = date_expression(inp.derived, Scope(ctx.layout))
        value = ctx.ev.by_ref.get(inp.ref)
        cached: CellValue = serial(value) if isinstance(value, date) else ""
        ctx.formula(self.ws, inp.row, inp.col, f'=IFERROR({expr},"")', ctx.fmt.prefilled["date"], cached)
        ctx.define(inp.name, sheet_ref(inp.sheet, inp.row, inp.col))

    def close(self) -> None:
        """Write the sheet's rules: validations, then waiting (blue), does not apply (grey), required (amber)."""
        ws, fmt = self.ws, self.ctx.fmt
        formats = {"waiting": fmt.waiting, "not applicable": fmt.na, "required": fmt.required}
        for rule in sorted(self.rules.values(), key=lambda r: _ORDER[r.kind]):
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
        self.rules = {}


def input_rules(layout: Layout, inp: Input, *, locked: bool) -> list[RuleOf]:
    """The input's validation and conditional formats, worked out once per layout (every workbook repeats them)."""
    cache: dict[tuple[str, bool], list[RuleOf]] = layout.caches.setdefault("rules", {})
    found = cache.get((inp.name, locked))
    if found is not None:
        return found
    rules: list[tuple[str, dict[str, Any]]] = []
    if not locked:
        rules.append(("validation", validation(layout, inp)))
    expr = applies_expression(layout, inp)
    if inp.waiting_flag:
        rules.append(("waiting", {"type": "formula", "criteria": f"={inp.waiting_flag}", "stop_if_true": True}))
    if expr:
        # Not while it waits (its own colour then): the two never both hold, whichever a client applies first.
        grey = f"=AND(NOT({expr}),NOT({inp.waiting_flag}))" if inp.waiting_flag else f"=NOT({expr})"
        rules.append(("not applicable", {"type": "formula", "criteria": grey, "stop_if_true": True}))
    if inp.required:
        rules.append(("required", {"type": "formula", "criteria": required_empty_formula(layout, inp)}))
    found = cache[(inp.name, locked)] = [
        (kind, tuple(sorted((k, relative_form(v, inp.row, inp.col) if isinstance(v, str) else v)
                            for k, v in options.items())), options)
        for kind, options in rules]
    return found


def validation(layout: Layout, inp: Input) -> dict[str, Any]:
    """The input's data validation: what it accepts, why not, and its prompt."""
    expr = applies_expression(layout, inp)
    dv = _ACCEPTS.get(inp.type, _text)(layout, inp, expr)
    if expr and inp.not_applicable_because:
        dv["error_message"] = truncate(
            f"{dv['error_message']} If nothing can be entered, this does not apply because "
            f"{inp.not_applicable_because}.", ERROR_MESSAGE_CHARS)
    dv["error_title"] = "Not accepted"
    dv.update(_prompt(layout.spec, inp))
    return dv


def _custom(rule: list[str], message: str) -> dict[str, Any]:
    """A validation that accepts what makes every part of `rule` true, and says `message` when it refuses."""
    return {"validate": "custom", "value": "=AND(" + ",".join(rule) + ")", "error_message": message}


def _choice(layout: Layout, inp: Input, expr: str | None) -> dict[str, Any]:
    """One of the input's list; only the not-applicable choice while it does not apply."""
    lst = layout.lists[inp.list_id or ""]
    na = layout.na_list
    assert na is not None
    source = f"=IF({expr},{lst.name},{na.name})" if expr else f"={lst.name}"
    return {"validate": "list", "source": source,
            "error_message": truncate(f"Choose one of: {', '.join(lst.values)}.", ERROR_MESSAGE_CHARS)}


def _date(layout: Layout, inp: Input, expr: str | None) -> dict[str, Any]:
    """A date within the range the workbook reads."""
    here = cell_ref(inp.row, inp.col)
    rule = [*_gate(expr), f"ISNUMBER({here})", f"{here}>={excel_date(MIN_DATE)}", f"{here}<={excel_date(MAX_DATE)}"]
    return _custom(rule, "Enter a date as dd/mm/yyyy, for example 31/12/2026.")


def _integer(layout: Layout, inp: Input, expr: str | None) -> dict[str, Any]:
    """A whole number, within the input's bounds."""
    here = cell_ref(inp.row, inp.col)
    rule = [*_gate(expr), f"ISNUMBER({here})", f"{here}=INT({here})"]
    if inp.min is not None:
        rule.append(f"{here}>={inp.min}")
    if inp.max is not None:
        rule.append(f"{here}<={inp.max}")
    rng = f" from {inp.min} to {inp.max}" if inp.min is not None and inp.max is not None else ""
    return _custom(rule, f"Enter a whole number{rng}.")


def _month(layout: Layout, inp: Input, expr: str | None) -> dict[str, Any]:
    """A month written YYYY-MM."""
    here = cell_ref(inp.row, inp.col)
    rule = [*_gate(expr), f"LEN({here})=7", f'MID({here},5,1)="-"', f"ISNUMBER(VALUE(LEFT({here},4)))",
            f"VALUE(RIGHT({here},2))>=1", f"VALUE(RIGHT({here},2))<=12"]
    return _custom(rule, "Enter the month as YYYY-MM, for example 2026-11.")


def _text(layout: Layout, inp: Input, expr: str | None) -> dict[str, Any]:
    """Text no longer than the input allows."""
    here = cell_ref(inp.row, inp.col)
    return _custom([*_gate(expr), f"LEN({here})<={inp.max_length}"], f"Keep this to {inp.max_length} characters.")


def _gate(expr: str | None) -> list[str]:
    """Nothing is accepted while the input does not apply."""
    return [expr] if expr else []


#: What each type of input accepts and what it says when it refuses (any other type is text).
_ACCEPTS: dict[str, Callable[[Layout, Input, str | None], dict[str, Any]]] = {
    "choice": _choice, "date": _date, "integer": _integer, "month": _month,
}


def _prompt(spec: Spec, inp: Input) -> dict[str, Any]:
    """The prompt shown when the input is selected: its help, and for long text how much it takes."""
    prompt = help_of(spec, inp)
    title = inp.label
    if inp.type == "long_text":
        if prompt is None and inp.label_row is not None and inp.field.endswith("_evidence"):
            title = "Evidence / comment"  # the question is beside it; one prompt serves every evidence box
        prompt = (prompt + "\n" if prompt else "") + (
            f"Up to {inp.max_length:,} characters: the row grows as you type, and prints whole.")
    if not prompt:
        return {}
    return {"input_title": truncate(title, 32), "input_message": truncate(prompt, 255)}


def help_of(spec: Spec, inp: Input) -> str | None:
    """What to show beside an input: the grade descriptors for a grade, then the field's own help."""
    parts = []
    if inp.list_id == spec.grade_list and inp.row_index is None:
        parts += [f"{d.grade}: {d.summary}" for d in spec.grade_descriptors if d.summary]
    if inp.help:
        parts.append(" ".join(inp.help.split()))
    return "\n".join(parts) or None
