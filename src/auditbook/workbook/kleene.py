"""Pure: a condition as a spreadsheet formula with three values, 1 (true), 0 (false) and 0.5 (not yet known).

The same logic as `spec.logic.truth`, in functions Excel and LibreOffice both have: MIN for all, MAX for any,
1-x for not, EDATE for month offsets, SUMPRODUCT to count table rows. A blank answer makes a comparison 0.5,
so a flag or check that needs it waits. Text compares case-insensitively with "=" in both clients.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from auditbook.spec.conditions import (
    OPERATORS,
    THIS,
    All,
    AnyOf,
    AnySection,
    Blank,
    Condition,
    DateCompare,
    DateOf,
    DateOperand,
    Equals,
    EverySection,
    Filled,
    In,
    Not,
    NumberCompare,
    NumberOperand,
    Rows,
    parse_offset,
)
from auditbook.spec.layout import Input, Layout, col_letter, quote_sheet
from auditbook.spec.logic import choices
from auditbook.spec.models import judged_sections


@lru_cache(maxsize=16384)  # every workbook of a spec writes the same labels and messages
def string_literal(text: str) -> str:
    """Text as a formula string: a constant may hold at most 255 characters, so longer text is joined from pieces."""
    pieces = [text[i : i + 250] for i in range(0, len(text), 250)] or [""]
    return "&".join('"' + p.replace('"', '""') + '"' for p in pieces)


@dataclass(frozen=True)
class Scope:
    """Where a condition's formula is written: which section or table row "this" means, and whether answers
    that do not apply read as blank (as validate, which does not count them, sees them)."""

    layout: Layout
    this: str | None = None
    table: str | None = None
    row: int | None = None
    gated: bool = False

    def input(self, ref: str) -> Input:
        """The input a reference names ("this.field" resolved)."""
        section, _, field = ref.partition(".")
        if section == THIS and self.table is not None:
            found = self.layout.row_input(self.table, self.row, field)
            if found is None:
                raise KeyError(ref)  # lint makes sure every rule's `this.` field is in its table
            return found
        if section == THIS:
            section = self.this or ""
        return self.layout.by_ref[f"{section}.{field}"]

    def value(self, ref: str) -> str:
        """The answer's expression: its defined name, or blank where it does not apply when gated."""
        inp = self.input(ref)
        flag = inp.applies_flag or self.layout.section(inp.section).applies_flag
        return f'IF({flag},{inp.name},"")' if self.gated and flag else inp.name

    def on_section(self, section_id: str) -> Scope:
        """This scope with "this" meaning a judged section."""
        return replace(self, this=section_id, table=None, row=None)

    def on_row(self, table: str, row: int) -> Scope:
        """This scope with "this" meaning a row of a table section."""
        return replace(self, this=None, table=table, row=row)


def date_expression(op: DateOperand, scope: Scope) -> str:
    """The expression for an operand's date: a serial number, or "" / an error while it is not known."""
    if isinstance(op, str):
        return scope.value(op)
    v = scope.value(op.ref)
    if op.field is not None:
        base = v
    else:
        inp = scope.input(op.ref)
        if inp.type == "date":
            year, month = f"YEAR({v})", f"MONTH({v})"
            ok = f"ISNUMBER({v})"
        else:  # a month input holds text YYYY-MM (its validation sees to that)
            year, month = f"VALUE(LEFT({v},4))", f"VALUE(RIGHT({v},2))"
            ok = f"LEN({v})=7"
        base = (f"IF({ok},DATE({year},{month},1),\"\")" if op.start_of else
                f"IF({ok},DATE({year},{month}+1,0),\"\")")
    return _shifted(base, op)


def _shifted(base: str, op: DateOf) -> str:
    months, days = parse_offset(op.offset)
    out = f"EDATE({base},{months})" if months else base
    return f"({out}+{days})" if days else out


def _rows_expression(rows: Rows, scope: Scope) -> str:
    sl = scope.layout.section(rows.rows)
    by_col = {i.field: i for i in sl.inputs if i.row_index == 1}
    last = sl.section.rows

    def column(field: str) -> str:
        first = by_col[field]
        return f"{quote_sheet(sl.sheet)}!${col_letter(first.col)}${first.row + 1}:" \
               f"${col_letter(first.col)}${first.row + last}"

    if rows.where:
        terms = []
        for field, value in rows.where.items():
            wanted = scope.layout.spec.section(scope.this or "").title if value == THIS else value
            terms.append(f"(TRIM({column(field)})={string_literal(wanted)})")
        return "SUMPRODUCT(" + "*".join(terms) + "*1)"
    used = "+".join(f"(LEN({column(f.id)})>0)" for f in sl.section.fields)
    return f"SUMPRODUCT((({used})>0)*1)"


def number_expression(op: NumberOperand, scope: Scope) -> str:
    """The expression for an operand's number."""
    if isinstance(op, int):
        return str(op)
    if isinstance(op, Rows):
        return _rows_expression(op, scope)
    return scope.value(op)


def _compare(left: str, right: str, op: str, known: list[str]) -> str:
    test = f"(({left}){OPERATORS[op]}({right}))*1"
    if not known:
        return test
    return f"IF(AND({','.join(f'ISNUMBER({k})' for k in known)}),{test},0.5)"


def kleene(cond: Condition | None, scope: Scope) -> str:
    """The condition as a formula whose value is 1, 0 or 0.5 (no leading "=")."""
    if cond is None:
        return "1"
    if isinstance(cond, Equals | In):
        v = scope.value(cond.field)
        wanted = choices(cond)
        test = "OR(" + ",".join(f"TRIM({v})={string_literal(w)}" for w in wanted) + ")" if len(wanted) > 1 \
            else f"TRIM({v})={string_literal(wanted[0])}"
        return f"IF(LEN({v})=0,0.5,({test})*1)"
    if isinstance(cond, Filled):
        return f"(LEN({scope.value(cond.filled)})>0)*1"
    if isinstance(cond, Blank):
        return f"(LEN({scope.value(cond.blank)})=0)*1"
    if isinstance(cond, DateCompare):
        left, right = date_expression(cond.date, scope), date_expression(cond.right, scope)
        return _compare(left, right, cond.op, [left, right])
    if isinstance(cond, NumberCompare):
        left, right = number_expression(cond.number, scope), number_expression(cond.right, scope)
        known = [e for op, e in ((cond.number, left), (cond.right, right)) if isinstance(op, str)]
        return _compare(left, right, cond.op, known)
    if isinstance(cond, AnySection | EverySection):
        inner = cond.any_section if isinstance(cond, AnySection) else cond.every_section
        test = "=1" if isinstance(cond, AnySection) else "<>0"
        terms = [f"(({kleene(inner, scope.on_section(s.id))}){test})*1" for s in judged_sections(scope.layout.spec)]
        return ("MAX(" if isinstance(cond, AnySection) else "MIN(") + ",".join(terms) + ")"
    if isinstance(cond, All):
        return "MIN(" + ",".join(kleene(c, scope) for c in cond.all) + ")"
    if isinstance(cond, AnyOf):
        return "MAX(" + ",".join(kleene(c, scope) for c in cond.any) + ")"
    assert isinstance(cond, Not)
    return f"(1-{kleene(cond.not_, scope)})"
