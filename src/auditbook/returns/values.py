"""Read every input's value from a returned workbook through its defined names, with the structure problems met."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditbook.problems import Code, Problem
from auditbook.returns.coerce import Bad, Coerced, coerce
from auditbook.returns.reader import RawWorkbook, parse_ref
from auditbook.spec.layout import Input, Layout, SectionLayout


@dataclass
class ReadValues:
    """Values read from a workbook, with where each was found."""

    values: dict[str, Coerced] = field(default_factory=dict)
    where: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Inputs already reported (unreadable, bad value): not reported again as missing.
    reported: set[str] = field(default_factory=set)

    def place(self, inp: Input) -> tuple[str, str]:
        """The sheet and cell an input was read from (or where it should be)."""
        return self.where.get(inp.name, (inp.sheet, inp.cell))

    def problem(self, inp: Input, code: Code, /, case: str | None = None, **values: Any) -> Problem:
        """A problem on the cell an input was read from (or where it should be), in the catalogue's words; its
        label is a value they may name."""
        sheet, cell = self.place(inp)
        return Problem.of(code, case=case, sheet=sheet, cell=cell, field=inp.ref, label=inp.label, **values)


def quoted(label: str) -> str:
    """A label as messages quote it (many end in "?")."""
    return f'"{label}"'


def read_values(raw: RawWorkbook, layout: Layout) -> ReadValues:
    """Every input's coerced value, where it was read, and what stopped an input being read."""
    out = ReadValues()
    missing_sheets, renamed = _check_sheets(raw, layout, out)
    for inp in layout.inputs:
        if inp.derived is not None:
            continue  # a locked formula: validate works the value out itself
        if inp.sheet in missing_sheets:
            out.reported.add(inp.name)
            continue
        _read_input(raw, inp, renamed.get(inp.sheet, inp.sheet), out)
    return out


def _check_sheets(raw: RawWorkbook, layout: Layout, out: ReadValues) -> tuple[set[str], dict[str, str]]:
    """The section sheets deleted, and those renamed (to their new names), with a problem for each and for every
    sheet whose protection was removed."""
    missing_sheets: set[str] = set()
    renamed: dict[str, str] = {}
    for sl in layout.sections:
        sheet = raw.sheets.get(sl.sheet)
        if sl.sheet not in raw.sheet_states:
            renamed_to = _renamed(raw, sl)
            if renamed_to is None:
                missing_sheets.add(sl.sheet)
                out.problems.append(Problem.of(Code.SHEET_MISSING, sheet=sl.sheet, section=sl.section.title))
                continue
            renamed[sl.sheet] = renamed_to
            sheet = raw.sheets.get(renamed_to)
            out.problems.append(Problem.of(Code.SHEET_RENAMED, sheet=renamed_to, expected=sl.sheet))
        if sheet is not None and not sheet.protected:
            out.problems.append(Problem.of(Code.SHEET_UNPROTECTED, sheet=sheet.name))
    return missing_sheets, renamed


def _read_input(raw: RawWorkbook, inp: Input, sheet_now: str, out: ReadValues) -> None:
    """One input's value through its defined name (its sheet called `sheet_now`), or the problem that stops it."""
    text = raw.names.get(inp.name)
    ref = None if text is None else parse_ref(text)
    if ref is None or ref[0] not in raw.sheets:
        out.reported.add(inp.name)
        out.problems.append(out.problem(inp, Code.NAME_MISSING if text is None else Code.NAME_BROKEN, name=inp.name))
        return
    sheet_name, cell = out.where[inp.name] = ref
    if (sheet_name, cell) != (sheet_now, inp.cell):
        out.problems.append(out.problem(inp, Code.NAME_MOVED, expected=f"{inp.sheet}!{inp.cell}"))
    raw_cell = raw.sheets[sheet_name].cell(cell)
    if raw_cell is not None and raw_cell.formula is not None:
        out.problems.append(out.problem(inp, Code.FORMULA_IN_INPUT))
        out.reported.add(inp.name)
        return
    value = coerce(inp, raw_cell, date1904=raw.date1904)
    if isinstance(value, Bad):
        # Named by its label: 'Child's age at audit: "twelve" is not a whole number.'
        out.problems.append(out.problem(inp, value.code, case=value.case, **value.values))
        out.reported.add(inp.name)
        return
    if value is not None:
        out.values[inp.name] = value


def _renamed(raw: RawWorkbook, sl: SectionLayout) -> str | None:
    """The sheet a missing section sheet's names all point to now (Excel renames them with the sheet)."""
    targets = {ref[0] for i in sl.inputs if (text := raw.names.get(i.name)) and (ref := parse_ref(text))}
    if len(targets) == 1:
        target = targets.pop()
        if target in raw.sheets:
            return target
    return None


