"""The audit workbook, written with xlsxwriter (the only module that imports it besides the master writer)."""

from __future__ import annotations

import math
import re
import uuid
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.atomic import replacing
from auditbook.conditions import describe
from auditbook.errors import WorkbookError
from auditbook.formulas import (
    CellValue,
    Evaluator,
    applies_expression,
    flag_formula,
    required_empty_formula,
)
from auditbook.layout import (
    BANNER_ROW,
    CLASS_ROW,
    CRITERIA_ROW,
    CRITERIA_SHEET,
    ESN_COL,
    GUIDANCE_ROW,
    HEADER_ROW,
    LABEL_COL,
    LISTS_SHEET,
    META_SHEET,
    NOTE_COL,
    NUM_COL,
    PROPERTY_NAMES,
    START_SHEET,
    STATUS_ROW,
    SUMMARY_SHEET,
    TABLE_FIRST_COL,
    TITLE_ROW,
    VALUE_COL,
    Input,
    SectionLayout,
    build_layout,
    cell_ref,
    meta_name,
    sheet_ref,
)
from auditbook.spec import Spec

Prefill = Mapping[str, str | int | date]

INPUT_FILL = "#FFF8DC"
NA_FILL = "#D9D9D9"
REQUIRED_FILL = "#FFC7A0"
DATE_FORMAT = "dd/mm/yyyy"
#: Dates outside this window are refused by data validation and by validate.
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Metadata:
    """What a workbook carries about where it came from (custom properties, metadata sheet, names)."""

    spec_id: str
    spec_version: str
    spec_sha256: str
    instance_id: str
    generated_at: str

    def items(self) -> list[tuple[str, str]]:
        """Key/value pairs in a fixed order."""
        return [
            ("spec_id", self.spec_id),
            ("spec_version", self.spec_version),
            ("spec_sha256", self.spec_sha256),
            ("instance_id", self.instance_id),
            ("generated_at", self.generated_at),
        ]


#: Never turn text into formulas, links or numbers: what an auditor typed stays text.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


@contextmanager
def strict() -> Iterator[None]:
    """Turn every xlsxwriter warning into a WorkbookError: it warns instead of raising for real mistakes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    refused = list(dict.fromkeys(str(w.message) for w in caught
                                 if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)))
    if refused:
        raise WorkbookError("xlsxwriter refused part of the workbook: " + "; ".join(refused))


def _ok(rc: object, what: str) -> None:
    if isinstance(rc, int) and rc < 0:
        raise WorkbookError(f"xlsxwriter refused {what} (return code {rc}).")


def _excel_date(d: date) -> str:
    return f"DATE({d.year},{d.month},{d.day})"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: What each input type adds to the input (or prefilled) cell format.
_BY_TYPE: dict[str, dict[str, Any]] = {
    "text": {"num_format": "@", "text_wrap": True},
    "long_text": {"num_format": "@", "text_wrap": True},
    "month": {"num_format": "@"},
    "date": {"num_format": DATE_FORMAT},
    "integer": {"num_format": "0"},
    "choice": {"text_wrap": True},
}


class _Formats:
    """Every cell format the audit workbook uses, made once."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
        inp = {**base, "locked": False, "bg_color": INPUT_FILL, "border": 1, "border_color": "#A6A6A6"}

        def f(**kw: Any) -> Format:
            return wb.add_format({**base, **kw})

        self.title = f(bold=True, font_size=14)
        self.classification = f(bold=True, font_color="#C00000")
        self.banner = f(bold=True, font_color="#9C0006", text_wrap=True)
        self.text = f(text_wrap=True)
        self.small = f(font_size=8, font_color="#595959", text_wrap=True)
        self.bold = f(bold=True, text_wrap=True)
        self.header = f(bold=True, bg_color="#1F4E79", font_color="#FFFFFF", text_wrap=True, border=1)
        self.cell = f(text_wrap=True, border=1, border_color="#BFBFBF")
        self.cell_date = f(num_format=DATE_FORMAT, border=1, border_color="#BFBFBF")
        locked = {**base, "locked": True, "bg_color": "#EDEDED", "border": 1, "border_color": "#A6A6A6"}
        self.inputs = {kind: wb.add_format({**inp, **extra}) for kind, extra in _BY_TYPE.items()}
        self.prefilled = {kind: wb.add_format({**locked, **extra}) for kind, extra in _BY_TYPE.items()}
        self.na = wb.add_format({"bg_color": NA_FILL, "font_color": "#7F7F7F", "pattern": 1})
        self.required = wb.add_format({"bg_color": REQUIRED_FILL, "pattern": 1})
        self.sample_input = f(bg_color=INPUT_FILL, border=1)
        self.sample_na = f(bg_color=NA_FILL, border=1, font_color="#7F7F7F")
        self.sample_required = f(bg_color=REQUIRED_FILL, border=1)


class _AuditWorkbook:
    """Writes one audit workbook for a spec."""

    def __init__(
        self, spec: Spec, wb: Workbook, *, prefill: dict[str, str | int | date], lock_prefill: bool,
        password: str, meta: Metadata,
    ) -> None:
        self.spec = spec
        self.layout = build_layout(spec)
        self.wb = wb
        self.fmt = _Formats(wb)
        self.prefill = prefill
        self.lock_prefill = lock_prefill
        self.password = password
        self.meta = meta
        answers = {name: _as_text(v) for name, v in prefill.items()}
        self.ev = Evaluator(self.layout, answers)
        case_ref = prefill.get("profile_case_ref")
        self.case_ref = str(case_ref) if case_ref else ""

    # -- whole workbook -------------------------------------------------------------------------

    def write(self) -> None:
        self._properties()
        start = self._sheet(START_SHEET)
        summary = self._sheet(SUMMARY_SHEET)
        section_sheets = [(sl, self._sheet(sl.sheet)) for sl in self.layout.sections]
        criteria = self._sheet(CRITERIA_SHEET)
        lists = self._sheet(LISTS_SHEET)
        meta = self._sheet(META_SHEET)
        self._lists(lists)
        for sl, ws in section_sheets:
            if sl.section.kind == "table":
                self._table_section(ws, sl)
            else:
                self._form_section(ws, sl)
        self._start(start)
        self._summary(summary)
        self._criteria(criteria)
        self._metadata(meta)
        lists.hide()
        meta.very_hidden()
        start.activate()

    def _sheet(self, name: str) -> Worksheet:
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
        ref = f"Case {self.case_ref}" if self.case_ref else "Case reference: see Case profile"
        ws.set_header(f"&C&\"Arial,Bold\"{self.spec.classification}")
        ws.set_footer(f"&L{_escape_header(ref)}&CPage &P of &N&R{self.spec.classification}")
        ws.protect(self.password, {"format_rows": True, "format_columns": True, "select_locked_cells": True,
                                   "select_unlocked_cells": True})
        ws.hide_gridlines(2)
        return ws

    def _properties(self) -> None:
        self.wb.set_properties({
            "title": self.spec.title,
            "subject": f"{self.spec.title} ({self.spec.classification})",
            "category": self.spec.classification,
            "keywords": f"{self.spec.classification}, audit, {self.spec.id}",
            "company": self.spec.organisation,
            "comments": f"Generated by auditbook from spec {self.spec.id} {self.spec.version}.",
        })
        for key, value in self.meta.items():
            _ok(self.wb.set_custom_property(PROPERTY_NAMES[key], value, "text"), f"property {key}")
            _ok(self.wb.define_name(meta_name(key), '="' + value.replace('"', '""') + '"'), f"name {key}")

    def _define(self, name: str, ref: str) -> None:
        _ok(self.wb.define_name(name, "=" + ref), f"the defined name {name}")

    # -- shared pieces --------------------------------------------------------------------------

    def _formula(self, ws: Worksheet, row: int, col: int, formula: str, fmt: Format, value: CellValue) -> None:
        _ok(ws.write_formula(row, col, formula, fmt, value), f"a formula at {ws.name}!{cell_ref(row, col)}")

    def _top(self, ws: Worksheet, title: str, last_col: int) -> None:
        ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, title, self.fmt.title)
        ws.set_row(TITLE_ROW, 24)
        ws.write_string(CLASS_ROW, 0, self.spec.classification, self.fmt.classification)
        case = self.layout.by_ref.get("profile.case_ref")
        if case is not None and ws.name != case.sheet:
            shown = f"Case reference: {self.case_ref}" if self.case_ref else "Case reference: "
            self._formula(ws, CLASS_ROW, VALUE_COL, f'="Case reference: "&{case.name}', self.fmt.bold, shown)

    def _banner(self, ws: Worksheet, sl: SectionLayout, last_col: int) -> None:
        s = sl.section
        if sl.applies_flag:
            text = f"This section does not apply because {s.not_applicable_because}. Leave it blank."
            value = "" if self.ev.flag(sl.applies_flag) else text
            formula = f'=IF({sl.applies_flag},"",{_str(text)})'
        elif sl.required_flag:
            cond = describe(s.required_when, self._label_of)
            text = f"Optional for this child: required only when {cond}. Complete it where it helps."
            value = "" if self.ev.flag(sl.required_flag) else text
            formula = f'=IF({sl.required_flag},"",{_str(text)})'
        else:
            ws.merge_range(BANNER_ROW, 0, BANNER_ROW, last_col, "", self.fmt.banner)
            return
        ws.merge_range(BANNER_ROW, 0, BANNER_ROW, last_col, "", self.fmt.banner)
        self._formula(ws, BANNER_ROW, 0, formula, self.fmt.banner, value)
        ws.set_row(BANNER_ROW, 28)

    def _label_of(self, ref: str) -> str:
        return self.layout.by_ref[ref].label

    def _status_line(self, ws: Worksheet, sl: SectionLayout) -> None:
        ws.write_string(STATUS_ROW, 0, "Status", self.fmt.bold)
        self._formula(ws, STATUS_ROW, LABEL_COL, f"={sl.status_name}", self.fmt.bold, self.ev.value(sl.status_name))

    def _long_row(self, ws: Worksheet, row: int, text: str, last_col: int, fmt: Format, width: int) -> None:
        ws.merge_range(row, 0, row, last_col, text, fmt)
        lines = sum(max(1, math.ceil(len(p) / width)) for p in text.split("\n"))
        ws.set_row(row, min(409, 13 * lines + 4))

    def _input(self, ws: Worksheet, inp: Input, *, merge_to: int | None = None) -> None:
        raw = self.prefill.get(inp.name)
        locked = raw is not None and self.lock_prefill
        fmt = (self.fmt.prefilled if locked else self.fmt.inputs)[inp.type]
        if merge_to is not None:
            ws.merge_range(inp.row, inp.col, inp.row, merge_to, "", fmt)
        if isinstance(raw, date):
            _ok(ws.write_datetime(inp.row, inp.col, datetime(raw.year, raw.month, raw.day), fmt), inp.name)
        elif isinstance(raw, int):
            _ok(ws.write_number(inp.row, inp.col, raw, fmt), inp.name)
        elif raw is not None:
            _ok(ws.write_string(inp.row, inp.col, raw, fmt), inp.name)
        else:
            _ok(ws.write_blank(inp.row, inp.col, None, fmt), inp.name)
        self._define(inp.name, sheet_ref(inp.sheet, inp.row, inp.col))
        if not locked:
            self._validation(ws, inp)
        last = merge_to if merge_to is not None else inp.col
        target = f"{cell_ref(inp.row, inp.col)}:{cell_ref(inp.row, last)}"
        expr = applies_expression(self.layout, inp)
        if expr:
            _ok(ws.conditional_format(target, {"type": "formula", "criteria": f"=NOT({expr})",
                                               "format": self.fmt.na, "stop_if_true": True}), inp.name)
        if inp.required:
            _ok(ws.conditional_format(target, {"type": "formula", "criteria": required_empty_formula(
                self.layout, inp), "format": self.fmt.required}), inp.name)

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
                  "error_message": _truncate(f"Choose one of: {', '.join(inp.choices)}.", 255)}
        elif inp.type == "date":
            rule = [*gate, f"ISNUMBER({here})", f"{here}>={_excel_date(MIN_DATE)}", f"{here}<={_excel_date(MAX_DATE)}"]
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
            dv["error_message"] = _truncate(
                f"{dv['error_message']} If nothing can be entered, this does not apply because "
                f"{inp.not_applicable_because}.", 255)
        dv["error_title"] = "Not accepted"
        if inp.help:
            dv["input_title"] = _truncate(inp.label, 32)
            dv["input_message"] = _truncate(inp.help, 255)
        _ok(ws.data_validation(inp.row, inp.col, inp.row, inp.col, dv), f"data validation for {inp.name}")

    # -- section sheets -------------------------------------------------------------------------

    def _section_top(self, ws: Worksheet, sl: SectionLayout, last_col: int, width: int) -> None:
        s = sl.section
        self._top(ws, s.title, last_col)
        self._banner(ws, sl, last_col)
        self._status_line(ws, sl)
        if s.guidance:
            self._long_row(ws, GUIDANCE_ROW, s.guidance.strip(), last_col, self.fmt.text, width)
        if s.criteria:
            by_id = {c.id: c for c in self.spec.criteria}
            text = "Judged against the 'good' criteria: " + "; ".join(
                f"{c} {by_id[c].summary}" for c in s.criteria) + " (full text on the ESN criteria sheet)."
            self._long_row(ws, CRITERIA_ROW, text, last_col, self.fmt.small, width)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        ws.repeat_rows(HEADER_ROW)

    def _form_section(self, ws: Worksheet, sl: SectionLayout) -> None:
        judged = sl.section.kind == "judged"
        for col, width in enumerate((5, 55, 24, 60, 14)):
            ws.set_column(col, col, width)
        self._section_top(ws, sl, ESN_COL, 150)
        heads = ("#", "Question", "Answer", "Evidence / comment", "ESN") if judged else \
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
            label = inp.label + (" *" if inp.required else "")
            if f.applies_when is not None and inp.applies_flag:
                # The question's own banner: its label says when and why it does not apply.
                off = f"{inp.label} (does not apply: {inp.not_applicable_because})"
                shown = label if self.ev.flag(inp.applies_flag) else off
                self._formula(ws, inp.row, LABEL_COL, f"=IF({inp.applies_flag},{_str(label)},{_str(off)})",
                              self.fmt.text, shown)
            else:
                ws.write_string(inp.row, LABEL_COL, label, self.fmt.text)
            if f.esn:
                ws.write_string(inp.row, ESN_COL, ", ".join(f.esn), self.fmt.small)
            long = f.type == "long_text"
            self._input(ws, inp, merge_to=NOTE_COL if long else None)
            ws.set_row(inp.row, 75 if long else (30 if len(label) > 55 else None))

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

    # -- other sheets ---------------------------------------------------------------------------

    def _lists(self, ws: Worksheet) -> None:
        ranges = list(self.layout.lists.values())
        if self.layout.na_list is not None:
            ranges.append(self.layout.na_list)
        for lr in ranges:
            ws.write_string(0, lr.col, lr.list_id, self.fmt.bold)
            ws.set_column(lr.col, lr.col, 24)
            for i, v in enumerate(lr.values, start=1):
                ws.write_string(i, lr.col, v)
            self._define(lr.name, lr.ref)
        for flag in self.layout.flags:
            ws.write_string(flag.row, flag.col - 1, flag.label)
            self._formula(ws, flag.row, flag.col, flag_formula(self.layout, flag), self.fmt.text,
                          self.ev.value(flag.name))
            self._define(flag.name, sheet_ref(LISTS_SHEET, flag.row, flag.col))
        if self.layout.flags:
            col = self.layout.flags[0].col
            ws.write_string(0, col - 1, "flag", self.fmt.bold)
            ws.write_string(0, col, "value", self.fmt.bold)
            ws.set_column(col - 1, col - 1, 40)

    def _metadata(self, ws: Worksheet) -> None:
        ws.write_string(0, 0, "key", self.fmt.bold)
        ws.write_string(0, 1, "value", self.fmt.bold)
        for row, (key, value) in enumerate(self.meta.items(), start=1):
            ws.write_string(row, 0, key)
            ws.write_string(row, 1, value)
        ws.set_column(0, 1, 40)

    def _start(self, ws: Worksheet) -> None:
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 110)
        ws.merge_range(0, 0, 0, 1, self.spec.title, self.fmt.title)
        ws.write_string(1, 0, self.spec.classification, self.fmt.classification)
        ws.write_string(1, 1, f"{self.spec.organisation}. This workbook holds sensitive information about a "
                              "child: store and send it only by secure means.", self.fmt.text)
        row = 3
        ws.write_string(row, 0, "How to fill it in", self.fmt.bold)
        for line in self.spec.instructions:
            ws.write_string(row, 1, line, self.fmt.text)
            row += 1
        row += 1
        ws.write_string(row, 0, "What the colours mean", self.fmt.bold)
        legend = (
            (self.fmt.sample_input, "An input: type or choose from the dropdown."),
            (self.fmt.sample_required, "Required and still empty."),
            (self.fmt.sample_na, "Does not apply to this child: leave it blank (entries are refused)."),
        )
        for fmt, text in legend:
            row += 1
            ws.write_string(row, 0, "", fmt)
            ws.write_string(row, 1, text, self.fmt.text)
        row += 2
        ws.write_string(row, 0, "Grades (Ofsted)", self.fmt.bold)
        for d in self.spec.grade_descriptors:
            row += 1
            ws.write_string(row, 0, d.grade, self.fmt.bold)
            ws.write_string(row, 1, " ".join(d.text.split()), self.fmt.text)
            ws.set_row(row, 13 * max(1, math.ceil(len(d.text) / 120)) + 4)
        row += 2
        ws.write_string(row, 0, "When it is complete", self.fmt.bold)
        ws.write_string(row, 1, self.spec.send_to, self.fmt.text)
        row += 2
        ws.write_string(row, 0, "Template", self.fmt.small)
        ws.write_string(row, 1, f"{self.spec.id} version {self.spec.version}; workbook "
                                f"{self.meta.instance_id}; generated {self.meta.generated_at}.", self.fmt.small)

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
        overall = [i for i in self.layout.inputs if i.section == "overall" and i.col == VALUE_COL]
        for inp in overall[:1] + [i for i in overall if i.field == "urgent_concern"]:
            ws.write_string(row, 0, inp.label, self.fmt.bold)
            self._echo(ws, row, 2, inp, self.fmt.bold)
            row += 1
        row += 1
        actions = next((sl for sl in self.layout.sections if sl.section.kind == "table"), None)
        if actions is not None:
            self._summary_actions(ws, row, actions)
        ws.freeze_panes(5, 0)

    def _top_class(self, ws: Worksheet) -> None:
        ws.write_string(1, 0, self.spec.classification, self.fmt.classification)
        case = self.layout.by_ref.get("profile.case_ref")
        if case is not None:
            self._formula(ws, 2, 0, f'="Case reference: "&{case.name}', self.fmt.bold,
                          f"Case reference: {self.case_ref}")

    def _echo(self, ws: Worksheet, row: int, col: int, inp: Input, fmt: Format) -> None:
        raw = self.prefill.get(inp.name)
        value: CellValue = "" if raw is None else _as_text(raw) or ""
        self._formula(ws, row, col, f'=IF({inp.name}="","",{inp.name})', fmt, value)

    def _summary_row(self, ws: Worksheet, row: int, sl: SectionLayout) -> None:
        s = sl.section
        ws.write_string(row, 0, s.title, self.fmt.cell)
        if sl.applies_flag:
            applies = f'IF({sl.applies_flag},"Yes","No")'
            applies_value = "Yes" if self.ev.flag(sl.applies_flag) else "No"
        else:
            applies, applies_value = '"Yes"', "Yes"
        if sl.required_flag:
            applies = f'IF(NOT({sl.applies_flag or "TRUE()"}),"No",IF({sl.required_flag},"Yes","Optional"))'
            applies_value = "Yes" if self.ev.flag(sl.required_flag) else "Optional"
        self._formula(ws, row, 1, "=" + applies, self.fmt.cell, applies_value)
        self._formula(ws, row, 2, f"={sl.status_name}", self.fmt.cell, self.ev.value(sl.status_name))
        by_field = {i.field: i for i in sl.inputs}
        grade = by_field.get("grade")
        if grade is not None:
            na = f'IF(NOT({sl.applies_flag}),"n/a",' if sl.applies_flag else "("
            na_value = "n/a" if not self.ev.flag(sl.applies_flag) else ""
            self._formula(ws, row, 3, f'={na}IF({grade.name}="","",{grade.name}))', self.fmt.cell, na_value)
        else:
            ws.write_blank(row, 3, None, self.fmt.cell)
        themes = [by_field[k] for k in sorted(by_field) if k.startswith("theme_")]
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

    def _criteria(self, ws: Worksheet) -> None:
        for col, width in enumerate((9, 40, 100, 40)):
            ws.set_column(col, col, width)
        ws.merge_range(0, 0, 0, 3, "Ofsted 'good' criteria (ESN) the sections are judged against", self.fmt.title)
        ws.write_string(1, 0, self.spec.classification, self.fmt.classification)
        for col, text in enumerate(("ESN", "Summary", "Criterion", "Used in")):
            ws.write_string(3, col, text, self.fmt.header)
        for row, c in enumerate(self.spec.criteria, start=4):
            used = [s.title for s in self.spec.sections if c.id in s.criteria]
            ws.write_string(row, 0, c.id, self.fmt.cell)
            ws.write_string(row, 1, c.summary, self.fmt.cell)
            text = " ".join(c.text.split())
            ws.write_string(row, 2, text, self.fmt.cell)
            ws.write_string(row, 3, "; ".join(used), self.fmt.cell)
            ws.set_row(row, 13 * max(1, math.ceil(len(text) / 110)) + 4)
        ws.freeze_panes(4, 0)
        ws.repeat_rows(3)


def _str(text: str) -> str:
    # A string constant in a formula may hold at most 255 characters: longer text is joined from pieces.
    pieces = [text[i : i + 250] for i in range(0, len(text), 250)] or [""]
    return "&".join('"' + p.replace('"', '""') + '"' for p in pieces)


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def _as_text(value: str | int | date) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def new_metadata(spec: Spec, *, now: datetime | None = None, instance_id: str | None = None) -> Metadata:
    """Fresh metadata for a workbook made from this spec now."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    return Metadata(spec.id, spec.version, spec.sha256, instance_id or str(uuid.uuid4()), at.isoformat())


def build_workbook(
    spec: Spec,
    *,
    out: Path,
    prefill: Prefill | None = None,
    lock_prefill: bool = False,
    password: str = "",
    meta: Metadata | None = None,
) -> Path:
    """Write the audit workbook for a spec to `out` (atomically) and return the path.

    `prefill` maps input defined names (e.g. "profile_case_ref") to starting values.
    """
    layout = build_layout(spec)
    values = dict(prefill or {})
    unknown = sorted(set(values) - set(layout.by_name))
    if unknown:
        raise WorkbookError(f"cannot prefill {', '.join(unknown)}: the spec has no such input.")
    meta = meta or new_metadata(spec)
    with replacing(out) as tmp, strict():
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        _AuditWorkbook(spec, wb, prefill=values, lock_prefill=lock_prefill, password=password, meta=meta).write()
        wb.close()
        lock_structure(tmp, password=password)
    return out


def _password_hash(password: str) -> str:
    """The legacy 16-bit hash Excel stores for sheet and workbook protection passwords (ECMA-376 Part 4)."""
    digest = 0
    for char in reversed(password):
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password) ^ 0xCE4B
    return f"{digest:X}"


def lock_structure(path: Path, *, password: str = "") -> None:
    """Protect the workbook's structure, so sheets cannot be unhidden, renamed, moved or deleted.

    xlsxwriter has no call for this, so the element is added to xl/workbook.xml afterwards.
    """
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    attrs = ' lockStructure="1"' + (f' workbookPassword="{_password_hash(password)}"' if password else "")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "xl/workbook.xml":
                data, n = re.subn(rb"(<workbookPr\b[^>]*/>)", rb"\1<workbookProtection" + attrs.encode() + b"/>",
                                  data, count=1)
                if n != 1:
                    raise WorkbookError("could not protect the workbook structure: xl/workbook.xml has no workbookPr.")
            zf.writestr(info, data)
