"""Pure: the live formulas of a workbook (flags, statuses, banners, required-and-empty shading).

Each formula is written with the value it has for the answers the workbook starts with (spec/evaluate.py
works those out), so a client that shows cached results before recalculating (LibreOffice's default for
.xlsx) is right from the start.
"""

from __future__ import annotations

from auditbook.spec.evaluate import counted, waiting_status
from auditbook.spec.layout import Flag, Input, Layout, SectionLayout, cell_ref, col_letter, quote_sheet
from auditbook.workbook.kleene import Scope, kleene, string_literal


def _bool(name: str) -> str:
    # Multiplying by 1 turns TRUE/FALSE into 1/0 the same way in Excel and LibreOffice.
    return f"({name}*1)"


def flag_formula(layout: Layout, flag: Flag) -> str:
    """The formula (with leading "=") of a flag cell."""
    if flag.formula_kind in ("applies", "required"):
        expr = f"({kleene(flag.condition, Scope(layout))})=1"
        return f"=AND({flag.parent},{expr})" if flag.parent else f"={expr}"
    if flag.formula_kind == "waiting":
        expr = f"({kleene(flag.condition, Scope(layout))})=0.5"
        own = f"AND({flag.parent},{expr})" if flag.parent else expr
        return f"=OR({flag.parent_waiting},{own})" if flag.parent_waiting else f"={own}"
    sl = layout.section(flag.target)
    if flag.formula_kind == "filled":
        if sl.section.kind == "table":
            # Qualified with the sheet: this formula lives on the lists sheet, not beside the table.
            return "=" + "+".join(f"(COUNTA({_row_range(sl, r, qualified=True)})>0)*1" for r in _table_rows(sl))
        terms = [
            f"(LEN({i.name})>0)*{_bool(i.applies_flag)}" if i.applies_flag else f"(LEN({i.name})>0)*1"
            for i in counted(sl)
        ]
        return "=" + ("+".join(terms) or "0")
    if flag.formula_kind == "needed":
        fixed = sum(1 for i in counted(sl) if not i.applies_flag)
        conditional = [_bool(i.applies_flag) for i in counted(sl) if i.applies_flag]
        return "=" + "+".join([str(fixed), *conditional])
    return "=" + _status_formula(layout, sl)


def _table_rows(sl: SectionLayout) -> list[int]:
    return sorted({i.row for i in sl.inputs})


def _row_range(sl: SectionLayout, row: int, *, qualified: bool = False) -> str:
    cols = [i.col for i in sl.inputs if i.row == row]
    ref = f"${col_letter(min(cols))}${row + 1}:${col_letter(max(cols))}${row + 1}"
    return f"{quote_sheet(sl.sheet)}!{ref}" if qualified else ref


def _status_formula(sl_layout: Layout, sl: SectionLayout) -> str:
    f, n = sl.filled_name, sl.needed_name
    if sl.section.kind == "table":
        return f'IF({f}=0,"No actions",IF({f}=1,"1 action",{f}&" actions"))'
    body = f'IF({f}=0,"Not started",IF({f}>={n},"Complete",{f}&" of "&{n}&" answered"))'
    if sl.required_flag:
        body = f'IF(AND(NOT({sl.required_flag}),{f}=0),"Optional",{body})'
    if sl.applies_flag:
        body = f'IF(NOT({sl.applies_flag}),"Not applicable",{body})'
    if sl.waiting_flag:
        body = f"IF({sl.waiting_flag},{string_literal(waiting_status(sl_layout, sl))},{body})"
    return body


def required_empty_formula(layout: Layout, inp: Input) -> str:
    """Conditional-format formula: TRUE when the input is required, applies and is still empty."""
    here = cell_ref(inp.row, inp.col)
    if inp.row_index is not None:
        sl = layout.section(inp.section)
        return f"=AND(COUNTA({_row_range(sl, inp.row)})>0,LEN({here})=0)"
    sl = layout.section(inp.section)
    parts = list(dict.fromkeys(p for p in (sl.required_flag or sl.applies_flag, inp.applies_flag) if p))
    return "=AND(" + ",".join([*parts, f"LEN({here})=0"]) + ")"


def applies_expression(layout: Layout, inp: Input) -> str | None:
    """Expression that is TRUE when the input applies, or None when it always does."""
    return inp.applies_flag or layout.section(inp.section).applies_flag
