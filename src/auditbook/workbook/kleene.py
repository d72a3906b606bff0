"""Pure: a condition as a spreadsheet formula with three values, 1 (true), 0 (false) and 0.5 (not yet known).

The same logic as `spec.logic.truth`, in functions Excel and LibreOffice both have: MIN for all, MAX for any,
1-x for not, EDATE for month offsets, SUMPRODUCT to count table rows, sums of 0/1 terms for a share. A blank
answer makes a comparison 0.5, so a flag or check that needs it waits. Text compares case-insensitively with "="
in both clients.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from auditbook.spec.conditions import (
    OPERATORS,
    THIS,
    All,
    AnswersOf,
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
    ShareCompare,
    parse_offset,
)
from auditbook.spec.layout import Input, Layout, col_letter, quote_sheet
from auditbook.spec.logic import choices
from auditbook.spec.models import judged_sections
from auditbook.spec.rules import resolve_this


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
    #: The practice question "this" means ("section.field"), in a rule run on each question.
    question: str | None = None

    def input(self, ref: str) -> Input:
        """The input a reference names ("this.field" resolved)."""
        section, _, field = ref.partition(".")
        if section == THIS and self.table is not None:
            found = self.layout.row_input(self.table, self.row, field)
            if found is None:
                raise KeyError(ref)  # lint makes sure every rule's `this.` field is in its table
            return found
        return self.layout.by_ref[resolve_this(ref, self.this or "", self.question)]

    def value(self, ref: str) -> str:
        """The answer's expression: its defined name, or blank where it does not apply when gated."""
        inp = self.input(ref)
        flag = inp.applies_flag or self.layout.section(inp.section).applies_flag
        return f'IF({flag},{inp.name},"")' if self.gated and flag else inp.name

    def on_section(self, section_id: str) -> Scope:
        """This scope with "this" meaning a judged section."""
        return replace(self, this=section_id, table=None, row=None, question=None)

    def on_question(self, section_id: str, question: str) -> Scope:
        """This scope with "this" meaning a practice question ("section.field") of a judged section."""
        return replace(self, this=section_id, table=None, row=None, question=question)

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


def _times(flag: str | None, term: str) -> str:
    """A 0/1 term counted only where its flag (TRUE/FALSE) holds; 1*TRUE is 1 in Excel and LibreOffice alike."""
    return f"{term}*{flag}" if flag else term


def _share_terms(cond: ShareCompare, scope: Scope) -> tuple[list[str], list[str], list[str]]:
    """Each counted item's terms: 1 when it holds, 1 when it holds or is not yet known, 1 when it is counted."""
    hits: list[str] = []
    maybe: list[str] = []
    counted: list[str] = []
    layout = scope.layout
    if isinstance(cond.share, AnswersOf):
        section = scope.this if cond.share.answers == THIS else cond.share.answers
        for ref in layout.spec.questions.get(section or "", ()):
            inp = layout.by_ref[ref]
            test = "OR(" + ",".join(f"TRIM({inp.name})={string_literal(w)}" for w in cond.share.in_) + ")"
            hits.append(_times(inp.applies_flag, f"({test}*1)"))
            maybe.append(_times(inp.applies_flag, f"(OR({test},LEN({inp.name})=0)*1)"))
            counted.append(f"({inp.applies_flag}*1)" if inp.applies_flag else "1")
        return hits, maybe, counted
    for s in judged_sections(layout.spec):
        flag = layout.section(s.id).applies_flag
        value = kleene(cond.share.sections, scope.on_section(s.id))
        hits.append(_times(flag, f"INT({value})"))
        maybe.append(_times(flag, f"ROUNDUP({value},0)"))
        counted.append(f"({flag}*1)" if flag else "1")
    return hits, maybe, counted


def _share(cond: ShareCompare, scope: Scope) -> str:
    """A share compared: 1 when both the lowest and the highest share it can become pass, 0 when neither does,
    0.5 between; 0.5 when nothing is counted."""
    hits, maybe, counted = _share_terms(cond, scope)
    if not counted:
        return "0.5"
    total = "(" + "+".join(counted) + ")"
    op, right = OPERATORS[cond.op], f"{cond.percent}*{total}"
    low = f"((100*({'+'.join(hits)})){op}({right}))"
    high = f"((100*({'+'.join(maybe)})){op}({right}))"
    return f"IF({total}=0,0.5,({low}+{high})/2)"


def _compared(cond: DateCompare | NumberCompare | ShareCompare, scope: Scope) -> str:
    """Two dates, two numbers or a share and a percentage compared."""
    if isinstance(cond, ShareCompare):
        return _share(cond, scope)
    if isinstance(cond, DateCompare):
        left, right = date_expression(cond.date, scope), date_expression(cond.right, scope)
        return _compare(left, right, cond.op, [left, right])
    left, right = number_expression(cond.number, scope), number_expression(cond.right, scope)
    known = [e for op, e in ((cond.number, left), (cond.right, right)) if isinstance(op, str)]
    return _compare(left, right, cond.op, known)


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
    if isinstance(cond, DateCompare | NumberCompare | ShareCompare):
        return _compared(cond, scope)
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
