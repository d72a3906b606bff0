"""Read every input's value from a returned workbook through its defined names, with the structure problems met, and
what the workbook shows instead where that is not the value read (shown.py)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from auditbook.problems import Code, Problem
from auditbook.returns.coerce import Bad, Coerced, as_text, coerce, quote
from auditbook.returns.reader import RawCell, RawSheet, RawWorkbook, parse_ref, split_cell
from auditbook.returns.shown import seen_otherwise, shown_value, shows_as_read, want
from auditbook.spec.layout import Input, Layout, SectionLayout
from auditbook.spec.roles import Role
from auditbook.text import look_alikes, skeleton

#: The roles whose answers say which child and which team an audit is about: read as a person reads them, so text
#: that looks the same is the same (a non-breaking hyphen in a case reference is one child, not two).
IDENTITY = (Role.CASE_REF, Role.TEAM)


@dataclass
class ReadValues:
    """Values read from a workbook, with where each was found."""

    values: dict[str, Coerced] = field(default_factory=dict)
    where: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Inputs already reported (unreadable, bad value): not reported again as missing.
    reported: set[str] = field(default_factory=set)
    #: Hidden sheets already reported.
    hidden: set[str] = field(default_factory=set)

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
    for inp, fold in _answered(layout):
        if inp.sheet in missing_sheets:
            out.reported.add(inp.name)
            continue
        _read_input(raw, inp, renamed.get(inp.sheet, inp.sheet), out, fold=fold)
    return out


def _answered(layout: Layout) -> tuple[tuple[Input, bool], ...]:
    """The inputs a person answers, each with whether it is read as a person reads it (IDENTITY): worked out once per
    layout, as every return of a spec has the same. Derived inputs are locked formulas: validate works them out."""
    def make() -> tuple[tuple[Input, bool], ...]:
        identity = {i.name for role in IDENTITY if (i := layout.role_input(role)) is not None}
        return tuple((inp, inp.name in identity) for inp in layout.inputs if inp.derived is None)

    return layout.cached("answered", make)


def _check_sheets(raw: RawWorkbook, layout: Layout, out: ReadValues) -> tuple[set[str], dict[str, str]]:
    """The section sheets deleted or hidden (none of their answers is read), and those renamed (to their new names),
    with a problem for each, for every sheet whose protection was removed, and for a sheet named like one of them."""
    missing_sheets: set[str] = set()
    renamed: dict[str, str] = {}
    looks: dict[str, list[str]] = {}
    for name in raw.sheet_states:
        looks.setdefault(skeleton(name), []).append(name)
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
        _look_alike(looks, renamed.get(sl.sheet, sl.sheet), out)
        if sheet is not None and _hidden_sheet(sheet, out):
            missing_sheets.add(sl.sheet)
        elif sheet is not None and not sheet.protected:
            out.problems.append(Problem.of(Code.SHEET_UNPROTECTED, sheet=sheet.name))
    return missing_sheets, renamed


def _hidden_sheet(sheet: RawSheet, out: ReadValues) -> bool:
    """Whether answers are read from a sheet nobody sees (hidden or very hidden): an error, said once per sheet."""
    if sheet.state == "visible":
        return False
    if sheet.name not in out.hidden:
        out.hidden.add(sheet.name)
        how = {"hidden": "hidden", "veryHidden": "very hidden (Excel offers no way to show it)"}.get(
            sheet.state, f"not shown (state {quote(sheet.state)})")
        out.problems.append(Problem.of(Code.SHEET_HIDDEN, sheet=sheet.name, how=how))
    return True


def _look_alike(looks: dict[str, list[str]], name: str, out: ReadValues) -> None:
    """A warning for each other sheet whose name looks like this one's (`looks`: the sheets by what they look like)."""
    for other in looks.get(skeleton(name), ()):
        if other != name:
            what = ", ".join(look_alikes(other) or look_alikes(name)) or "letters from another alphabet"
            out.problems.append(Problem.of(Code.SHEET_LOOK_ALIKE, sheet=name, other=other, what=what))


def _read_input(raw: RawWorkbook, inp: Input, sheet_now: str, out: ReadValues, *, fold: bool = False) -> None:
    """One input's value through its defined name (its sheet called `sheet_now`), or the problem that stops it;
    with `fold`, read as a person reads it (IDENTITY)."""
    name = inp.name
    text = raw.names.get(name)
    ref = None if text is None else parse_ref(text)
    if ref is None or (sheet := raw.sheets.get(ref[0])) is None:
        out.reported.add(name)
        out.problems.append(out.problem(inp, Code.NAME_MISSING if text is None else Code.NAME_BROKEN, name=name))
        return
    sheet_name, cell = out.where[name] = ref
    place = split_cell(cell)
    if sheet.state != "visible" and _hidden_sheet(sheet, out):
        out.reported.add(name)
        return
    raw_cell = sheet.cells.get(place)
    if cell != inp.cell or sheet_name != sheet_now:
        out.problems.append(_moved(raw, inp, sheet, place, raw_cell, sheet_now, out))
    if raw_cell is None:
        return  # empty: no answer, and nothing shown in its place
    if raw_cell.formula is not None:
        out.problems.append(out.problem(inp, Code.FORMULA_IN_INPUT))
        out.reported.add(name)
        return
    value = coerce(inp, raw_cell, date1904=raw.date1904, fold=fold)
    if isinstance(value, Bad):
        # Named by its label: 'Child's age at audit: "twelve" is not a whole number.'
        out.problems.append(out.problem(inp, value.code, case=value.case, **value.values))
        out.reported.add(name)
        return
    if value is not None:
        out.values[name] = value
    _seen(raw, inp, sheet, place, raw_cell, out, fold=fold)


def _moved(raw: RawWorkbook, inp: Input, sheet: RawSheet, place: tuple[int, int], cell: RawCell | None,
           sheet_now: str, out: ReadValues) -> Problem:
    """The warning on an input whose name points elsewhere than its place: saying what its place holds when the cell
    it is read from is hidden."""
    expected = f"{inp.sheet}!{inp.cell}"
    if not sheet.hidden(place):
        return out.problem(inp, Code.NAME_MOVED, expected=expected)
    home = raw.sheets.get(sheet_now)
    there = home.fetch(split_cell(inp.cell)) if home is not None else None
    wanted = want(inp.type)
    return out.problem(inp, Code.NAME_MOVED, case="hidden", expected=expected,
                       there="nothing" if there is None else shown_value(raw, there, wanted),
                       value="nothing" if cell is None else shown_value(raw, cell, wanted))


def _seen(raw: RawWorkbook, inp: Input, sheet: RawSheet, place: tuple[int, int], cell: RawCell, out: ReadValues,
          *, fold: bool) -> None:
    """Warnings where the workbook shows a person something else than the value read."""
    wanted = want(inp.type)
    if not shows_as_read(raw, sheet, place, cell, wanted):
        out.problems += seen_otherwise(raw, sheet, place, cell, wanted, functools.partial(out.problem, inp))
    what = look_alikes(as_text(cell)) if fold and isinstance(cell.value, str) else []
    if what:
        value = out.values.get(inp.name)
        out.problems.append(out.problem(inp, Code.LOOK_ALIKE, written=quote(as_text(cell)), what=", ".join(what),
                                        read=quote(str(value))))


def _renamed(raw: RawWorkbook, sl: SectionLayout) -> str | None:
    """The sheet a missing section sheet's names all point to now (Excel renames them with the sheet)."""
    targets = {ref[0] for i in sl.inputs if (text := raw.names.get(i.name)) and (ref := parse_ref(text))}
    if len(targets) == 1:
        target = targets.pop()
        if target in raw.sheets:
            return target
    return None


