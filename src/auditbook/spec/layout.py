"""Pure: where every input, list and flag of a spec's workbook lives. Writer and reader both use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from auditbook.spec.conditions import EVIDENCE_SUFFIX, Condition, DateOf, combine
from auditbook.spec.models import FieldSpec, SectionSpec, Spec, choice_list_of, input_name, theme_list_of
from auditbook.spec.roles import Role

_T = TypeVar("_T")

LISTS_SHEET = "Lists"
META_SHEET = "Metadata"
START_SHEET = "Start"
SUMMARY_SHEET = "Summary"

#: Rows of a section sheet (0-based): title, classification line, banner, status, guidance, criteria.
TITLE_ROW, CLASS_ROW, BANNER_ROW, STATUS_ROW, GUIDANCE_ROW, CRITERIA_ROW, HEADER_ROW = 0, 1, 2, 3, 4, 5, 7
FIRST_INPUT_ROW = HEADER_ROW + 1
#: Columns of a form or judged sheet: number, label (and, on the row below it, any long entry: evidence,
#: long text), answer, criteria references.
NUM_COL, LABEL_COL, VALUE_COL, CRITERIA_COL = 0, 1, 2, 3
#: Long entries sit in the wide label column, on their own row under their label, unmerged: a merged cell
#: does not grow with its text in Excel or LibreOffice, and a narrow one cannot print 4,000 characters.
TEXT_COL = LABEL_COL
#: Table sheets put each field in its own column from here.
TABLE_FIRST_COL = 1


#: The text a dropdown offers when its question does not apply; read back as blank.
NOT_APPLICABLE_CHOICE = "(does not apply)"


#: Spreadsheet column letters for a 0-based column index ("A" for 0): xlsxwriter.utility's, a pure function.
col_letter: Callable[[int], str] = xl_col_to_name


def cell_ref(row: int, col: int, *, absolute: bool = False) -> str:
    """A1-style reference for 0-based row and column ($-anchored when absolute), as xlsxwriter.utility makes it."""
    ref: str = xl_rowcol_to_cell(row, col, absolute, absolute)
    return ref


def quote_sheet(sheet: str) -> str:
    """A sheet name as it must appear in a formula: always quoted.

    Not xlsxwriter.utility.quote_sheetname, which leaves a name bare when Excel does not need the quotes ("Lists",
    "Actions"): quoted, every reference the workbook writes has one shape whatever the spec names a sheet, and
    making it takes no regular expression (quote_sheetname runs three, for each of some 550 references a workbook).
    """
    return "'" + sheet.replace("'", "''") + "'"


def sheet_ref(sheet: str, row: int, col: int, last_row: int | None = None, last_col: int | None = None) -> str:
    """Absolute reference to a cell or range on a sheet, e.g. 'Case profile'!$C$9."""
    ref = cell_ref(row, col, absolute=True)
    if last_row is not None:
        ref += ":" + cell_ref(last_row, col if last_col is None else last_col, absolute=True)
    return f"{quote_sheet(sheet)}!{ref}"


@dataclass(frozen=True)
class Input:
    """One input cell: its defined name, where it is and what it takes."""

    name: str
    sheet: str
    row: int
    col: int
    section: str
    field: str
    label: str
    type: str
    #: The list its dropdown offers (a judged section's theme tags: that section's own themes).
    list_id: str | None
    #: The choices validate reads back: its list's (every theme, for a theme tag).
    choices: tuple[str, ...]
    required: bool
    #: The input's own condition (section conditions live on the SectionLayout).
    condition: Condition | None
    #: Defined name of the flag that is TRUE when this input applies, or None when it always does.
    applies_flag: str | None
    max_length: int
    min: int | None = None
    max: int | None = None
    row_index: int | None = None
    help: str | None = None
    not_applicable_because: str | None = None
    #: Defined name of the flag that is TRUE while whether it applies waits for a blank answer, or None.
    waiting_flag: str | None = None
    #: How the value is worked out from earlier fields, for a derived (locked formula) cell; None for an input.
    derived: DateOf | None = None
    #: The row the field's label is on, when not the input's own (a long entry sits under its label).
    label_row: int | None = None

    @cached_property
    def label_at(self) -> int:
        """The row of the input's label: its own row, or the one above a long entry."""
        return self.row if self.label_row is None else self.label_row

    @cached_property
    def cell(self) -> str:
        """The input's A1 address."""
        return cell_ref(self.row, self.col)

    @cached_property
    def ref(self) -> str:
        """The spec's reference for the field, "section.field"."""
        return f"{self.section}.{self.field}"


@dataclass(frozen=True)
class Flag:
    """A computed cell on the lists sheet, with a defined name, that formulas elsewhere refer to."""

    name: str
    label: str
    formula_kind: str  # "applies", "waiting", "required", "filled", "needed", "status"
    row: int
    col: int
    target: str  # the section id, or the input name for input-level flags
    condition: Condition | None = None
    #: A flag that must also be TRUE (an input's section flag).
    parent: str | None = None
    #: For a waiting flag, the parent's waiting flag: waiting there means waiting here.
    parent_waiting: str | None = None


@dataclass(frozen=True)
class SectionLayout:
    """A section's sheet and inputs, and the names of its flags."""

    section: SectionSpec
    inputs: tuple[Input, ...]
    applies_flag: str | None
    required_flag: str | None
    #: TRUE while whether the section applies waits for a blank answer (None when it always applies).
    waiting_flag: str | None
    status_name: str
    filled_name: str
    needed_name: str

    @property
    def sheet(self) -> str:
        """The sheet the section is on."""
        return self.section.sheet

    @property
    def last_row(self) -> int:
        """The last row any input of the section uses."""
        return max(i.row for i in self.inputs)


@dataclass(frozen=True)
class ListRange:
    """Where a choice list's values live on the lists sheet."""

    list_id: str
    name: str
    col: int
    values: tuple[str, ...]

    @property
    def ref(self) -> str:
        """Absolute range reference."""
        return sheet_ref(LISTS_SHEET, 1, self.col, len(self.values), self.col)


@dataclass
class Layout:
    """Where everything in a spec's workbook lives."""

    spec: Spec
    sections: list[SectionLayout] = field(default_factory=list)
    lists: dict[str, ListRange] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    na_list: ListRange | None = None
    #: What the writer works out once per layout and every workbook repeats (formulas, rules).
    caches: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def cached(self, key: str, make: Callable[[], _T]) -> _T:
        """What `make` works out from this layout alone, made once and kept in its caches under `key`."""
        if key not in self.caches:
            self.caches[key] = make()
        found: _T = self.caches[key]
        return found

    @cached_property
    def inputs(self) -> list[Input]:
        """Every input, in sheet order."""
        return [i for s in self.sections for i in s.inputs]

    @cached_property
    def by_name(self) -> dict[str, Input]:
        """Inputs by defined name."""
        return {i.name: i for i in self.inputs}

    @cached_property
    def by_ref(self) -> dict[str, Input]:
        """Form inputs by "section.field" (table rows are not here)."""
        return {i.ref: i for i in self.inputs if i.row_index is None}

    @cached_property
    def flags_by_name(self) -> dict[str, Flag]:
        """Every flag by its cell's name (each Evaluator of this layout looks its flags up here)."""
        return {f.name: f for f in self.flags}

    @cached_property
    def _sections_by_id(self) -> dict[str, SectionLayout]:
        return {s.section.id: s for s in self.sections}

    def section(self, section_id: str) -> SectionLayout:
        """The layout of one section."""
        return self._sections_by_id[section_id]

    def row_input(self, table: str, row: int | None, field: str) -> Input | None:
        """The input of one field in one row of a table section, or None."""
        return next((i for i in self.section(table).inputs if i.row_index == row and i.field == field), None)

    def role_input(self, role: Role) -> Input | None:
        """The input that plays a field role (case reference, team, overall grade, ...), or None."""
        ref = self.spec.roles.field(role)
        return self.by_ref.get(ref) if ref is not None else None

    def section_input(self, sl: SectionLayout, role: Role) -> Input | None:
        """A judged section's input for a per-section role (grade, working well, to improve), or None."""
        field_id = self.spec.roles.section_field(role)
        return next((i for i in sl.inputs if i.field == field_id and i.row_index is None), None)

    def theme_inputs(self, sl: SectionLayout) -> list[Input]:
        """A judged section's theme tag inputs, in the order the roles list them."""
        by_field = {i.field: i for i in sl.inputs if i.row_index is None}
        return [by_field[f] for f in self.spec.roles.theme_tags if f in by_field]

    @cached_property
    def actions(self) -> SectionLayout | None:
        """The actions table, or None when the spec has no actions role."""
        table = self.spec.roles.actions
        return self._sections_by_id.get(table) if table is not None else None

    def action_column(self, role: Role) -> str | None:
        """The actions table's column id for an action role, or None."""
        return self.spec.roles.column(role) if self.actions is not None else None


def rows_of(f: FieldSpec) -> int:
    """Rows a form field takes: one, or two for a question (answer, then evidence) and for long text."""
    return 2 if f.type in ("question", "long_text") else 1


def _field_inputs(
    spec: Spec, section: SectionSpec, f: FieldSpec, row: int, section_flag: str | None,
    section_waiting: str | None, flags: _FlagMaker,
) -> list[Input]:
    lst = choice_list_of(f)
    choices = tuple(spec.lists[lst]) if lst else ()
    if lst == "theme" and theme_list_of(section.id) in spec.lists:
        # A judged section's dropdown offers its own themes; any theme is read back, so validate can say whose
        # a tag from another section is.
        lst = theme_list_of(section.id)
    name = input_name(section.id, f.id)
    flag, waiting = section_flag, section_waiting
    if f.applies_when is not None:
        flag, waiting = flags.input_flags(name, f, section_flag, section_waiting)
    kind = "choice" if f.type == "question" else f.type
    long = f.type == "long_text"
    main = Input(
        name=name, sheet=section.sheet, row=row + 1 if long else row, col=TEXT_COL if long else VALUE_COL,
        section=section.id, field=f.id, label=f.label, type=kind, list_id=lst, choices=choices,
        required=f.required and f.derived is None, condition=f.applies_when, applies_flag=flag, max_length=f.limit,
        min=f.min, max=f.max, help=f.help,
        not_applicable_because=f.not_applicable_because or section.not_applicable_because,
        waiting_flag=waiting, derived=f.derived, label_row=row if long else None,
    )
    if f.type != "question":
        return [main]
    note = Input(
        name=name + EVIDENCE_SUFFIX, sheet=section.sheet, row=row + 1, col=TEXT_COL, section=section.id,
        field=f.id + EVIDENCE_SUFFIX, label=f"{f.label} (evidence)", type="long_text", list_id=None, choices=(),
        required=False, condition=f.applies_when, applies_flag=flag, max_length=f.limit,
        not_applicable_because=main.not_applicable_because, waiting_flag=waiting, label_row=row,
    )
    return [main, note]


def _table_inputs(spec: Spec, section: SectionSpec) -> list[Input]:
    out: list[Input] = []
    for r in range(1, section.rows + 1):
        for c, f in enumerate(section.fields):
            lst = choice_list_of(f)
            out.append(Input(
                name=f"{section.id}_r{r:02d}_{f.id}", sheet=section.sheet, row=FIRST_INPUT_ROW + r - 1,
                col=TABLE_FIRST_COL + c, section=section.id, field=f.id, label=f"{f.label} (row {r})",
                type="choice" if f.type == "question" else f.type, list_id=lst,
                choices=tuple(spec.lists[lst]) if lst else (), required=f.required, condition=None,
                applies_flag=None, max_length=f.limit, min=f.min, max=f.max, row_index=r, help=f.help,
            ))
    return out


class _FlagMaker:
    """Hands out flag cells on the lists sheet, one row each, in a column after the lists."""

    def __init__(self, col: int) -> None:
        self.col = col
        self.flags: list[Flag] = []

    def add(
        self, name: str, label: str, kind: str, target: str,
        condition: Condition | None = None, parent: str | None = None, parent_waiting: str | None = None,
    ) -> str:
        self.flags.append(Flag(name, label, kind, len(self.flags) + 1, self.col + 1, target, condition, parent,
                               parent_waiting))
        return name

    def input_flags(self, name: str, f: FieldSpec, section_flag: str | None,
                    section_waiting: str | None) -> tuple[str, str]:
        applies = self.add(f"applies_{name}", f"{f.label} applies", "applies", name, f.applies_when, section_flag)
        waiting = self.add(f"waiting_{name}", f"{f.label} waits for an answer", "waiting", name, f.applies_when,
                           section_flag, section_waiting)
        return applies, waiting


#: Layouts already built, by spec object: a spec's layout is the same for every workbook made from it.
_BUILT: dict[int, tuple[Spec, Layout]] = {}
_BUILT_MAX = 32


def build_layout(spec: Spec) -> Layout:
    """Place every list, flag and input of the spec (once per spec object: the layout is never changed)."""
    hit = _BUILT.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    layout = _place(spec)
    if len(_BUILT) >= _BUILT_MAX:
        _BUILT.pop(next(iter(_BUILT)))
    _BUILT[id(spec)] = (spec, layout)  # the spec is kept alive with it, so its id is never reused meanwhile
    return layout


def _place(spec: Spec) -> Layout:
    layout = Layout(spec=spec)
    for col, (list_id, values) in enumerate(sorted(spec.lists.items())):
        layout.lists[list_id] = ListRange(list_id, f"list_{list_id}", col, tuple(values))
    na_col = len(layout.lists)
    layout.na_list = ListRange("not_applicable", "list_not_applicable", na_col, (NOT_APPLICABLE_CHOICE,))
    flags = _FlagMaker(na_col + 2)
    for section in spec.sections:
        sid = section.id
        applies = waiting = None
        if section.applies_when is not None:
            applies = flags.add(f"applies_{sid}", f"{section.title} applies", "applies", sid, section.applies_when)
            waiting = flags.add(f"waiting_{sid}", f"{section.title} waits for an answer", "waiting", sid,
                                section.applies_when)
        required = None
        if section.required_when is not None:
            required = flags.add(
                f"required_{sid}", f"{section.title} required", "required", sid,
                combine(section.applies_when, section.required_when),
            )
        if section.kind == "table":
            inputs = _table_inputs(spec, section)
        else:
            inputs = []
            row = FIRST_INPUT_ROW
            for f in spec.fields_of(section):
                inputs += _field_inputs(spec, section, f, row, applies, waiting, flags)
                row += rows_of(f)
        layout.sections.append(SectionLayout(
            section=section, inputs=tuple(inputs), applies_flag=applies, required_flag=required,
            waiting_flag=waiting,
            filled_name=flags.add(f"filled_{sid}", f"{section.title}: answered", "filled", sid),
            needed_name=flags.add(f"needed_{sid}", f"{section.title}: to answer", "needed", sid),
            status_name=flags.add(f"status_{sid}", f"{section.title}: status", "status", sid),
        ))
    layout.flags = flags.flags
    return layout
