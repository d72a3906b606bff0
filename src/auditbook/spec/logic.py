"""Pure: a condition's value for an audit's answers, in three states: True, False, or None (not yet known).

An answer not given yet makes what depends on it unknown, so a section whose deciding answer is blank is
"waiting", not "does not apply", and a rule about a blank value does not fire. Filled and blank are always
known. The logic is Kleene's: all() is False as soon as one part is False, any() True as soon as one is True.
The workbook's formulas compute the same thing with 1, 0.5 and 0 (MIN for all, MAX for any, 1-x for not).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from auditbook.dates import add_months, month_end, month_start
from auditbook.spec.conditions import (
    ANSWER,
    EVIDENCE,
    EVIDENCE_SUFFIX,
    OPERATORS,
    THIS,
    All,
    AnswersOf,
    AnyOf,
    AnySection,
    Blank,
    Condition,
    DateCompare,
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
from auditbook.text import norm

Truth = bool | None
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Facts:
    """What a condition looks at: answers by "section.field", the judged sections, and the tables' used rows."""

    values: Mapping[str, object]
    #: Judged section ids, for any_section / every_section and rules run once per section.
    sections: Sequence[str] = ()
    #: Section titles by id: a table's section column holds titles.
    titles: Mapping[str, str] = field(default_factory=dict)
    #: Used rows of each table section, each a mapping of column id to answer.
    tables: Mapping[str, Sequence[Mapping[str, object]]] = field(default_factory=dict)
    #: The judged section "this" means, or None.
    this: str | None = None
    #: The table row "this" means, or None.
    row: Mapping[str, object] | None = None
    #: Each judged section's practice questions ("section.field"), in order, whether they apply or not.
    questions: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: The judged sections (by id) and inputs (by "section.field") that apply; None when everything does.
    applicable: frozenset[str] | None = None
    #: The practice question "this" means ("section.field"), or None.
    question: str | None = None
    #: What these facts, and the same facts with another "this" (which share it), work out once for every condition
    #: that asks: the facts on each judged section, each table column's values as norm() compares them.
    _known: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def get(self, ref: str) -> object:
        """The answer of a field ("this.field" resolved), None when blank."""
        section, dot, name = ref.partition(".")
        if section == THIS:
            if self.row is not None:
                return self.row.get(name)
            if self.question is not None and name in (ANSWER, EVIDENCE):
                return self.get(self.question + (EVIDENCE_SUFFIX if name == EVIDENCE else ""))
            ref = f"{self.this or ''}.{name}"
        elif not dot:
            ref += "."
        value = self.values.get(ref)
        return None if isinstance(value, str) and not value.strip() else value

    def applies(self, key: str) -> bool:
        """Whether a judged section (by id) or an input (by "section.field") applies."""
        return self.applicable is None or key in self.applicable

    def _with(self, **changes: object) -> Facts:
        # dataclasses.replace works out the fields on every call: rules make a Facts per section and per question
        # of every return, so the copy is made directly (frozen: the new one's fields are set before it is seen).
        new = object.__new__(Facts)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def on_section(self, section_id: str) -> Facts:
        """The same facts with "this" meaning a judged section."""
        found = self._known.get(section_id)
        if not isinstance(found, Facts):
            found = self._known[section_id] = self._with(this=section_id, row=None, question=None)
        return found

    def column(self, table: str, column: str) -> tuple[str, ...]:
        """A column of a table's used rows, each value as norm() compares it ("" when blank)."""
        key = (table, column)
        found = self._known.get(key)
        if not isinstance(found, tuple):
            found = self._known[key] = tuple(norm(str(row.get(column) or "")) for row in self.tables.get(table, ()))
        return found

    def on_question(self, section_id: str, question: str) -> Facts:
        """The same facts with "this" meaning a practice question ("section.field") of a judged section."""
        return self._with(this=section_id, row=None, question=question)

    def on_row(self, row: Mapping[str, object]) -> Facts:
        """The same facts with "this" meaning a table row."""
        return self._with(row=row)


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and (m := _ISO.match(value.strip())):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def _month_of(value: object) -> tuple[int, int] | None:
    d = _as_date(value)
    if d is not None:
        return d.year, d.month
    if isinstance(value, str) and (m := _MONTH.match(value.strip())) and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    return None


def shift(d: date, offset: str | None) -> date | None:
    """A date moved by an offset ("-2 years", "+3 months"), months first as EDATE does; None past the calendar."""
    months, days = parse_offset(offset)
    try:
        return add_months(d, months) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None


def date_value(op: DateOperand, facts: Facts) -> date | None:
    """The date an operand stands for, or None when its field is blank."""
    if isinstance(op, str):
        return _as_date(facts.get(op))
    if op.field is not None:
        base = _as_date(facts.get(op.field))
    else:
        month = _month_of(facts.get(op.ref))
        try:
            base = None if month is None else (month_start(*month) if op.start_of else month_end(*month))
        except ValueError:  # year 0: no such month
            base = None
    return None if base is None else shift(base, op.offset)


def rows_matching(rows: Rows, facts: Facts) -> int:
    """How many used rows of the table have the given values (`this` meaning the current section's title)."""
    wanted = [(facts.column(rows.rows, col), norm(facts.titles.get(facts.this or "", "") if v == THIS else v))
              for col, v in rows.where.items()]
    return sum(1 for i in range(len(facts.tables.get(rows.rows, ()))) if all(column[i] == v for column, v in wanted))


def number_value(op: NumberOperand, facts: Facts) -> int | None:
    """The number an operand stands for, or None when its field is blank or not a number."""
    if isinstance(op, bool):
        return None
    if isinstance(op, int):
        return op
    if isinstance(op, Rows):
        return rows_matching(op, facts)
    value = facts.get(op)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


#: Each comparison (conditions.OPERATORS) as Python makes it.
_COMPARE = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge, "=": operator.eq}


def _compare(op: str, left: date | int, right: date | int) -> bool:
    return bool(_COMPARE[OPERATORS[op]](left, right))


def choices(cond: Equals | In) -> list[str]:
    """The choices an equals or in condition accepts, as spelled in the spec."""
    return [cond.equals] if isinstance(cond, Equals) else cond.in_


def normed_choices(cond: Equals | In) -> frozenset[str]:
    """Those choices as norm() compares them."""
    return cond.normed


#: The kinds of condition on one answer's choice, and comparisons (as tuples: `A | B` would make a union each call).
_ANSWERED, _COMPARED = (Equals, In), (DateCompare, NumberCompare)


def truth(cond: Condition | None, facts: Facts) -> Truth:
    """The condition's value: True, False, or None while an answer it needs is blank. No condition is True."""
    # The conditions on one answer, the most common, are worked out here; comparisons and conditions made of
    # others have a function each.
    if cond is None:
        return True
    if isinstance(cond, _ANSWERED):
        value = facts.get(cond.field)
        return None if value is None else norm(str(value)) in cond.normed
    if isinstance(cond, Filled):
        return facts.get(cond.filled) is not None
    if isinstance(cond, Blank):
        return facts.get(cond.blank) is None
    if isinstance(cond, _COMPARED):
        return _compared(cond, facts)
    if isinstance(cond, ShareCompare):
        return _share(cond, facts)
    return _combined(cond, facts)


def _compared(cond: DateCompare | NumberCompare, facts: Facts) -> Truth:
    """Two dates or two numbers compared; not yet known while either is blank."""
    if isinstance(cond, DateCompare):
        left_d, right_d = date_value(cond.date, facts), date_value(cond.right, facts)
        return None if left_d is None or right_d is None else _compare(cond.op, left_d, right_d)
    left_n, right_n = number_value(cond.number, facts), number_value(cond.right, facts)
    return None if left_n is None or right_n is None else _compare(cond.op, left_n, right_n)


def share_counts(cond: ShareCompare, facts: Facts) -> tuple[int, int, int]:
    """What a share counts: (how many hold, how many are not yet known, how many there are)."""
    hits = unknown = total = 0
    if isinstance(cond.share, AnswersOf):
        section = facts.this if cond.share.answers == THIS else cond.share.answers
        wanted = cond.share.normed
        for ref in facts.questions.get(section or "", ()):
            if not facts.applies(ref):
                continue
            total += 1
            value = facts.get(ref)
            unknown += value is None
            hits += value is not None and norm(str(value)) in wanted
        return hits, unknown, total
    for s in facts.sections:
        if not facts.applies(s):
            continue
        value = truth(cond.share.sections, facts.on_section(s))
        total += 1
        unknown += value is None
        hits += value is True
    return hits, unknown, total


def _share(cond: ShareCompare, facts: Facts) -> Truth:
    """The share compared: known when the lowest it can become (the unknown ones not counting) and the highest
    (all of them counting) give the same answer; never known when there is nothing to count."""
    hits, unknown, total = share_counts(cond, facts)
    if total == 0:
        return None
    low = _compare(cond.op, 100 * hits, cond.percent * total)
    high = _compare(cond.op, 100 * (hits + unknown), cond.percent * total)
    return low if low == high else None


def _combined(cond: All | AnyOf | Not | AnySection | EverySection, facts: Facts) -> Truth:
    """Kleene's all / any / not of other conditions, and the quantifiers over the judged sections."""
    if isinstance(cond, AnySection):
        return any(truth(cond.any_section, facts.on_section(s)) is True for s in facts.sections)
    if isinstance(cond, EverySection):
        return all(truth(cond.every_section, facts.on_section(s)) is not False for s in facts.sections)
    if isinstance(cond, All):
        return all_of([truth(c, facts) for c in cond.all])
    if isinstance(cond, AnyOf):
        return any_of([truth(c, facts) for c in cond.any])
    return negated(truth(cond.not_, facts))


def all_of(parts: Sequence[Truth]) -> Truth:
    """Kleene's and: False as soon as one part is False, else not yet known while one is, else True."""
    return False if False in parts else None if None in parts else True


def any_of(parts: Sequence[Truth]) -> Truth:
    """Kleene's or: True as soon as one part is True, else not yet known while one is, else False."""
    return True if True in parts else None if None in parts else False


def negated(value: Truth) -> Truth:
    """Kleene's not: not yet known stays not yet known."""
    return None if value is None else not value


def holds(cond: Condition | None, values: Mapping[str, object]) -> bool:
    """Whether the condition is known to hold for these answers (a blank answer it needs makes it not hold)."""
    return truth(cond, Facts(values)) is True
