"""Pure: every flag of a spec's workbook (which sections and questions apply, wait, are required; each
section's status) and the facts its rules read, for one set of answers.

The workbook's live formulas (workbook/formulas.py) compute the same values in the spreadsheet; this is how
validate, the synthetic answers and the writer's starting values know them without one.
"""

from __future__ import annotations

from collections.abc import Mapping

from auditbook.spec.conditions import fields_in
from auditbook.spec.layout import Flag, Input, Layout, SectionLayout
from auditbook.spec.logic import Facts, date_value, truth
from auditbook.spec.models import judged_sections
from auditbook.text import plural

Values = Mapping[str, str | None]
CellValue = bool | int | str


def _is_filled(value: str | None) -> bool:
    return bool(value and value.strip())


def refs_to_values(layout: Layout, by_name: Values) -> dict[str, object]:
    """Answers keyed by defined name, re-keyed by "section.field", with derived values worked out."""
    out: dict[str, object] = {}
    for ref, i in layout.by_ref.items():  # the form inputs, in sheet order: a derived value reads those before it
        out[ref] = by_name.get(i.name) if i.derived is None else date_value(i.derived, Facts(out))
    return out


def waiting_words(layout: Layout, refs: list[str]) -> str:
    """Where the answers something waits for are: "Case profile", or "Case profile and 2 Child's Voice"."""
    sheets = list(dict.fromkeys(layout.by_ref[r].sheet for r in refs if r in layout.by_ref))
    return " and ".join(sheets) or "an earlier answer"


class Evaluator:
    """Computes every flag for one set of answers (keyed by defined name)."""

    def __init__(self, layout: Layout, answers: Values) -> None:
        self.layout = layout
        self.answers = answers
        self.by_ref = refs_to_values(layout, answers)
        #: The answers as conditions read them (made once: every flag's condition reads the same).
        self.facts = Facts(self.by_ref)
        self._flags = layout.flags_by_name
        self._cache: dict[str, CellValue] = {}
        self._section_flags = _section_flags(layout)

    def with_rows(self, answers: Values) -> Evaluator:
        """An Evaluator of other answers that give every form input the same value as these, and may differ only in
        the tables' rows (validate's answers kept, when none was set aside): every flag but the tables' counts and
        statuses is the same, so those worked out already are carried over rather than worked out again."""
        new = Evaluator.__new__(Evaluator)
        new.layout, new.answers, new.by_ref, new.facts, new._flags = (self.layout, answers, self.by_ref, self.facts,
                                                                      self._flags)
        new._section_flags = self._section_flags
        by_rows = _by_rows(self.layout)
        new._cache = {name: value for name, value in self._cache.items() if name not in by_rows}
        return new

    def flag(self, name: str | None) -> bool:
        """A boolean flag's value; None (no flag) is always TRUE."""
        return True if name is None else bool(self.value(name))

    def value(self, name: str) -> CellValue:
        """The value of the named flag cell."""
        try:
            return self._cache[name]
        except KeyError:
            computed = self._cache[name] = self._compute(self._flags[name])
            return computed

    def input_waiting(self, inp: Input) -> bool:
        """Whether it cannot yet be said if the input applies: an answer deciding it is blank."""
        return inp.waiting_flag is not None and bool(self.value(inp.waiting_flag))

    def input_applies(self, inp: Input) -> bool:
        """Whether the input's section and its own condition both hold."""
        return self.flag(self._section_flags[inp.section]) and self.flag(inp.applies_flag)

    def input_required(self, inp: Input) -> bool:
        """Whether the input must be answered (section required, input applies, field required)."""
        if not inp.required:
            return False
        sl = self.layout.section(inp.section)
        return self.flag(sl.required_flag or sl.applies_flag) and self.flag(inp.applies_flag)

    def _rows_used(self, sl: SectionLayout) -> int:
        rows = {i.row_index for i in sl.inputs if _is_filled(self.answers.get(i.name))}
        return len(rows)

    def _compute(self, flag: Flag) -> CellValue:
        if flag.formula_kind in ("applies", "required"):
            return self.flag(flag.parent) and truth(flag.condition, self.facts) is True
        if flag.formula_kind == "waiting":
            parent_waits = flag.parent_waiting is not None and bool(self.value(flag.parent_waiting))
            return parent_waits or (self.flag(flag.parent) and truth(flag.condition, self.facts) is None)
        sl = self.layout.section(flag.target)
        if flag.formula_kind == "filled":
            if sl.section.kind == "table":
                return self._rows_used(sl)
            return sum(1 for applies, names in _counted_by_flag(self.layout, sl) if self.flag(applies)
                       for name in names if _is_filled(self.answers.get(name)))
        if flag.formula_kind == "needed":
            return sum(len(names) for applies, names in _counted_by_flag(self.layout, sl) if self.flag(applies))
        return self._status(sl)

    def _status(self, sl: SectionLayout) -> str:
        filled = int(self.value(sl.filled_name))
        if sl.section.kind == "table":
            return status_text_table(filled)
        if sl.waiting_flag is not None and self.value(sl.waiting_flag):
            return waiting_status(self.layout, sl)
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


def _section_flags(layout: Layout) -> dict[str, str | None]:
    """Each section's applies flag by its id (None when it always applies), worked out once per layout."""
    return layout.cached("section flags", lambda: {sl.section.id: sl.applies_flag for sl in layout.sections})


def _by_rows(layout: Layout) -> frozenset[str]:
    """The flags a table's used rows decide (its count of rows and its status), worked out once per layout."""
    return layout.cached("flags by rows", lambda: frozenset(
        name for sl in layout.sections if sl.section.kind == "table" for name in (sl.filled_name, sl.status_name)))


def waiting_status(layout: Layout, sl: SectionLayout) -> str:
    """A section's status while whether it applies waits for an answer."""
    return f"Waiting for {waiting_words(layout, list(fields_in(sl.section.applies_when)))}"


def status_text_table(rows: int) -> str:
    """Status of a table section with this many rows used."""
    return "No actions" if rows == 0 else plural(rows, "action")


def counted(sl: SectionLayout) -> list[Input]:
    """The inputs a section's "n of m answered" counts: its required ones."""
    return [i for i in sl.inputs if i.required and i.row_index is None]


def _counted_by_flag(layout: Layout, sl: SectionLayout) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
    """The names of the inputs a section's "n of m answered" counts, by the flag that says whether each applies (a
    flag is asked once for all its inputs): worked out once per layout."""
    sections: dict[str, tuple[tuple[str | None, tuple[str, ...]], ...]] = layout.caches.setdefault("counted", {})
    found = sections.get(sl.section.id)
    if found is None:
        by_flag: dict[str | None, list[str]] = {}
        for i in counted(sl):
            by_flag.setdefault(i.applies_flag, []).append(i.name)
        found = sections[sl.section.id] = tuple((applies, tuple(names)) for applies, names in by_flag.items())
    return found


def audit_facts(layout: Layout, answers: Mapping[str, object], ev: Evaluator) -> Facts:
    """The facts rules are evaluated over, read as the formulas read them: answers that apply (by `ev`),
    derived values, each table's used rows, and which judged sections and inputs apply."""
    values: dict[str, object] = {}
    applicable: set[str] = set()
    for ref, inp in layout.by_ref.items():
        if inp.derived is not None:
            values[ref] = ev.by_ref.get(ref)
        elif ev.input_applies(inp):
            values[ref] = answers.get(inp.name)
            applicable.add(ref)
    tables: dict[str, list[dict[str, object]]] = {}
    for sl in layout.sections:
        if sl.section.kind != "table":
            continue
        rows: dict[int, dict[str, object]] = {}
        for inp in sl.inputs:
            value = answers.get(inp.name)
            if value is not None and str(value).strip() and inp.row_index is not None:
                rows.setdefault(inp.row_index, {"row": inp.row_index})[inp.field] = value
        tables[sl.section.id] = [rows[r] for r in sorted(rows)]
    judged = judged_sections(layout.spec)
    applicable.update(s.id for s in judged if ev.flag(layout.section(s.id).applies_flag))
    return Facts(values, sections=tuple(s.id for s in judged), titles={s.id: s.title for s in judged},
                 tables=tables, questions=layout.spec.questions, applicable=frozenset(applicable))
