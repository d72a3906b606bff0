"""Pure: the live formulas of a workbook (flags, statuses, banners) and their values for given answers.

Each formula is written with the value it has for the answers the workbook starts with, so a client
that shows cached results before recalculating (LibreOffice's default for .xlsx) is right from the start;
the same functions give validate its view of which sections and questions apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from auditbook.spec.conditions import All, AnyOf, Condition, Equals, In, evaluate
from auditbook.workbook.layout import Flag, Input, Layout, SectionLayout, cell_ref, col_letter, quote_sheet

Values = Mapping[str, str | None]
CellValue = bool | int | str


def string_literal(text: str) -> str:
    """Text as a formula string: a constant may hold at most 255 characters, so longer text is joined from pieces."""
    pieces = [text[i : i + 250] for i in range(0, len(text), 250)] or [""]
    return "&".join('"' + p.replace('"', '""') + '"' for p in pieces)


def to_formula(cond: Condition | None, name_of: Callable[[str], str]) -> str:
    """The condition as a spreadsheet expression (no leading '='), referring to inputs by defined name.

    Comparison with "=" is case-insensitive in both Excel and LibreOffice, as evaluate() is.
    """
    if cond is None:
        return "TRUE()"
    if isinstance(cond, Equals):
        return f"TRIM({name_of(cond.field)})={string_literal(cond.equals)}"
    if isinstance(cond, In):
        ref = f"TRIM({name_of(cond.field)})"
        return "OR(" + ",".join(f"{ref}={string_literal(v)}" for v in cond.in_) + ")"
    if isinstance(cond, All):
        return "AND(" + ",".join(to_formula(c, name_of) for c in cond.all) + ")"
    if isinstance(cond, AnyOf):
        return "OR(" + ",".join(to_formula(c, name_of) for c in cond.any) + ")"
    return f"NOT({to_formula(cond.not_, name_of)})"




def _is_filled(value: str | None) -> bool:
    return bool(value and value.strip())


def refs_to_values(layout: Layout, by_name: Values) -> dict[str, str | None]:
    """Answers keyed by defined name, re-keyed by "section.field" for condition evaluation."""
    return {i.ref: by_name.get(i.name) for i in layout.inputs if i.row_index is None}


class Evaluator:
    """Computes every flag for one set of answers (keyed by defined name)."""

    def __init__(self, layout: Layout, answers: Values) -> None:
        self.layout = layout
        self.answers = answers
        self.by_ref = refs_to_values(layout, answers)
        self._flags = {f.name: f for f in layout.flags}
        self._cache: dict[str, CellValue] = {}

    def flag(self, name: str | None) -> bool:
        """A boolean flag's value; None (no flag) is always TRUE."""
        return True if name is None else bool(self.value(name))

    def value(self, name: str) -> CellValue:
        """The value of the named flag cell."""
        if name not in self._cache:
            self._cache[name] = self._compute(self._flags[name])
        return self._cache[name]

    def input_applies(self, inp: Input) -> bool:
        """Whether the input's section and its own condition both hold."""
        return self.flag(self.layout.section(inp.section).applies_flag) and self.flag(inp.applies_flag)

    def input_required(self, inp: Input) -> bool:
        """Whether the input must be answered (section required, input applies, field required)."""
        sl = self.layout.section(inp.section)
        return inp.required and self.flag(sl.required_flag or sl.applies_flag) and self.flag(inp.applies_flag)

    def _rows_used(self, sl: SectionLayout) -> int:
        rows = {i.row_index for i in sl.inputs if _is_filled(self.answers.get(i.name))}
        return len(rows)

    def _compute(self, flag: Flag) -> CellValue:
        if flag.formula_kind in ("applies", "required"):
            return self.flag(flag.parent) and evaluate(flag.condition, self.by_ref)
        sl = self.layout.section(flag.target)
        if flag.formula_kind == "filled":
            if sl.section.kind == "table":
                return self._rows_used(sl)
            return sum(1 for i in counted(sl) if self.flag(i.applies_flag) and _is_filled(self.answers.get(i.name)))
        if flag.formula_kind == "needed":
            return sum(1 for i in counted(sl) if self.flag(i.applies_flag))
        return self._status(sl)

    def _status(self, sl: SectionLayout) -> str:
        filled = int(self.value(sl.filled_name))
        if sl.section.kind == "table":
            return status_text_table(filled)
        if not self.flag(sl.applies_flag):
            return "Not applicable"
        needed = int(self.value(sl.needed_name))
        if not self.flag(sl.required_flag) and filled == 0:
            return "Optional"
        if filled == 0:
            return "Not started"
        if filled >= needed:
            return "Complete"
        return f"{filled} of {needed} answered"


def status_text_table(rows: int) -> str:
    """Status of a table section with this many rows used."""
    return "No actions" if rows == 0 else f"{rows} action(s)"


def counted(sl: SectionLayout) -> list[Input]:
    """The inputs a section's "n of m answered" counts: its required ones."""
    return [i for i in sl.inputs if i.required and i.row_index is None]


def _bool(name: str) -> str:
    # Multiplying by 1 turns TRUE/FALSE into 1/0 the same way in Excel and LibreOffice.
    return f"({name}*1)"


def flag_formula(layout: Layout, flag: Flag) -> str:
    """The formula (with leading "=") of a flag cell."""
    if flag.formula_kind in ("applies", "required"):
        expr = to_formula(flag.condition, layout.name_of)
        return f"=AND({flag.parent},{expr})" if flag.parent else f"={expr}"
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
    return "=" + _status_formula(sl)


def _table_rows(sl: SectionLayout) -> list[int]:
    return sorted({i.row for i in sl.inputs})


def _row_range(sl: SectionLayout, row: int, *, qualified: bool = False) -> str:
    cols = [i.col for i in sl.inputs if i.row == row]
    ref = f"${col_letter(min(cols))}${row + 1}:${col_letter(max(cols))}${row + 1}"
    return f"{quote_sheet(sl.sheet)}!{ref}" if qualified else ref


def _status_formula(sl: SectionLayout) -> str:
    f, n = sl.filled_name, sl.needed_name
    if sl.section.kind == "table":
        return f'IF({f}=0,"No actions",{f}&" action(s)")'
    body = f'IF({f}=0,"Not started",IF({f}>={n},"Complete",{f}&" of "&{n}&" answered"))'
    if sl.required_flag:
        body = f'IF(AND(NOT({sl.required_flag}),{f}=0),"Optional",{body})'
    if sl.applies_flag:
        body = f'IF(NOT({sl.applies_flag}),"Not applicable",{body})'
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


def flag_values(layout: Layout, answers: Values) -> dict[str, CellValue]:
    """Every flag's value for these answers."""
    ev = Evaluator(layout, answers)
    return {f.name: ev.value(f.name) for f in layout.flags}
