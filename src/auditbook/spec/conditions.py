"""Conditions: the one language for when a section or question applies and for what a rule checks.

A condition is structured data, never a string to parse: equality and choice membership, filled or blank,
comparisons of dates (with offsets such as "-2 years" or "+3 months") and of numbers (counts of table rows
included), quantifiers over the judged sections, and all / any / not. Its models, the fields it looks at
and its words live here; its value for an audit's answers is in `logic`, its formula in the workbook layer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, model_validator

from auditbook.problems import Code, ValueProblem, words
from auditbook.spec.fielddocs import describe_fields
from auditbook.text import norm, running

FieldRef = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
#: "this.field" in a rule that runs once per judged section or table row means that section's or row's field.
THIS = "this"
#: In a rule run once per practice question (`each: questions`), this.answer and this.evidence are that question's
#: answer and evidence; any other this.FIELD is its section's field.
ANSWER, EVIDENCE = "answer", "evidence"
#: A practice question's evidence comment is the field "<question id>_evidence" of its section.
EVIDENCE_SUFFIX = "_evidence"

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "eleven": 11, "twelve": 12}
_UNIT = r"(day|days|week|weeks|month|months|year|years)"
_TERM = rf"([+-])\s*(\d{{1,3}})\s+{_UNIT}"
_SIGNED = re.compile(rf"^{_TERM}(?:\s+{_TERM})?$")
_WORDED = re.compile(rf"^(\d{{1,3}}|{'|'.join(_NUMBERS)})\s+{_UNIT}\s+(before|after)$")
#: An offset: "+3 months", "-2 years", "+14 days", "-2 years +1 day" (months first, as EDATE, then days), or
#: "two years before", "1 month after".
OFFSET_PATTERN = (rf"^(?:[+-]\s*\d{{1,3}}\s+{_UNIT}(?:\s+[+-]\s*\d{{1,3}}\s+{_UNIT})?|"
                  rf"(?:\d{{1,3}}|{'|'.join(_NUMBERS)})\s+{_UNIT}\s+(?:before|after))$")
Offset = Annotated[str, StringConstraints(pattern=OFFSET_PATTERN)]


@functools.lru_cache(maxsize=256)  # a spec names few offsets, worked out for every date they move in every return
def parse_offset(text: str | None) -> tuple[int, int]:
    """An offset as (months, days): "-2 years" is (-24, 0), "+14 days" is (0, 14), "one week after" is (0, 7),
    "-2 years +1 day" is (-24, 1)."""
    if not text:
        return 0, 0
    t = text.strip().lower()
    m = _SIGNED.match(t)
    if m:
        terms = [(m.group(i), m.group(i + 1), m.group(i + 2)) for i in (1, 4) if m.group(i)]
    else:
        w = _WORDED.match(t)
        if w is None:
            raise ValueError(f"not an offset: {text!r}")
        count = w.group(1) if w.group(1).isdigit() else str(_NUMBERS[w.group(1)])
        terms = [("-" if w.group(3) == "before" else "+", count, w.group(2))]
    months = days = 0
    for sign, count_text, unit_text in terms:
        count, unit = (-1 if sign == "-" else 1) * int(count_text), unit_text.rstrip("s")
        months += {"year": 12 * count, "month": count}.get(unit, 0)
        days += {"week": 7 * count, "day": count}.get(unit, 0)
    return months, days


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, json_schema_extra=describe_fields)


class Equals(_Model):
    """True when the field's answer is this choice; not yet known while the field is blank."""

    field: FieldRef
    """The field, as "section.field"."""
    equals: str
    """The choice, spelled as in the field's list."""

    @functools.cached_property  # a condition is frozen: worked out once, not for every answer compared
    def normed(self) -> frozenset[str]:
        """The choice as norm() compares answers with it."""
        return frozenset({norm(self.equals)})


class In(_Model):
    """True when the field's answer is one of these choices; not yet known while the field is blank."""

    field: FieldRef
    """The field, as "section.field"."""
    in_: list[str] = Field(alias="in", min_length=1)
    """The choices, spelled as in the field's list."""

    @functools.cached_property
    def normed(self) -> frozenset[str]:
        """The choices as norm() compares answers with them."""
        return frozenset(norm(c) for c in self.in_)


class Filled(_Model):
    """True when the field has an answer (always known)."""

    filled: FieldRef
    """The field, as "section.field"."""


class Blank(_Model):
    """True when the field has no answer (always known)."""

    blank: FieldRef
    """The field, as "section.field"."""


def _exactly_one(model: BaseModel, keys: tuple[str, ...], what: str) -> None:
    given = [k for k in keys if getattr(model, k) is not None]
    if len(given) != 1:
        raise ValueProblem(Code.SPEC_ONE_OF, what=what, keys=", ".join(keys), given=", ".join(given) or "none")


class DateOf(_Model):
    """A date worked out from a field: the field's date, or the first or last day of its month, moved by an offset."""

    field: FieldRef | None = None
    """A date field."""
    start_of: FieldRef | None = None
    """The first day of this month (or date) field's month."""
    end_of: FieldRef | None = None
    """The last day of this month (or date) field's month."""
    offset: Offset | None = None
    """Moved by this much: "+3 months", "-2 years", "+14 days", "two years before", "one month after"."""

    @model_validator(mode="after")
    def _one_source(self) -> DateOf:
        _exactly_one(self, ("field", "start_of", "end_of"), "a date")
        return self

    @property
    def ref(self) -> str:
        """The field the date is worked out from."""
        return self.field or self.start_of or self.end_of or ""


DateOperand = FieldRef | DateOf


class Rows(_Model):
    """The number of used rows of a table section, or of those whose columns hold the given values."""

    rows: Ident
    """The table section's id, e.g. actions."""
    where: dict[Ident, str] = Field(default_factory=dict)
    """Column id and value each counted row must have; the value `this` means the judged section a rule is on."""


NumberOperand = int | FieldRef | Rows
DATE_OPS = ("before", "after", "on_or_before", "on_or_after")
NUMBER_OPS = ("less_than", "more_than", "at_most", "at_least", "equal_to")
#: What each comparison tests, as a spreadsheet formula writes it.
OPERATORS = {"before": "<", "less_than": "<", "after": ">", "more_than": ">", "on_or_before": "<=", "at_most": "<=",
             "on_or_after": ">=", "at_least": ">=", "equal_to": "="}


class DateCompare(_Model):
    """Compares two dates; not yet known while either is blank."""

    date: DateOperand
    """The date on the left: a date field, or {field|start_of|end_of: ..., offset: ...}."""
    before: DateOperand | None = None
    """True when the left date is before this one."""
    after: DateOperand | None = None
    """True when the left date is after this one."""
    on_or_before: DateOperand | None = None
    """True when the left date is on or before this one."""
    on_or_after: DateOperand | None = None
    """True when the left date is on or after this one."""

    @model_validator(mode="after")
    def _one_op(self) -> DateCompare:
        _exactly_one(self, DATE_OPS, "a date comparison")
        return self

    @functools.cached_property  # a condition is frozen: its comparison is worked out once, not per evaluation
    def op(self) -> str:
        """The comparison's key."""
        return next(k for k in DATE_OPS if getattr(self, k) is not None)

    @functools.cached_property
    def right(self) -> DateOperand:
        """The date compared against."""
        value: DateOperand = getattr(self, self.op)
        return value


class NumberCompare(_Model):
    """Compares two numbers (a field, a whole number or a count of rows); not yet known while a field is blank."""

    number: NumberOperand
    """The number on the left: an integer field, a whole number or {rows: TABLE, where: {...}}."""
    less_than: NumberOperand | None = None
    """True when the left number is less than this one."""
    more_than: NumberOperand | None = None
    """True when the left number is more than this one."""
    at_most: NumberOperand | None = None
    """True when the left number is at most this one."""
    at_least: NumberOperand | None = None
    """True when the left number is at least this one."""
    equal_to: NumberOperand | None = None
    """True when the left number equals this one."""

    @model_validator(mode="after")
    def _one_op(self) -> NumberCompare:
        _exactly_one(self, NUMBER_OPS, "a number comparison")
        return self

    @functools.cached_property
    def op(self) -> str:
        """The comparison's key."""
        return next(k for k in NUMBER_OPS if getattr(self, k) is not None)

    @functools.cached_property
    def right(self) -> NumberOperand:
        """The number compared against."""
        value: NumberOperand = getattr(self, self.op)
        return value


Percent = Annotated[int, Field(ge=0, le=100)]
#: The comparisons a share takes: each one holds for every share above (or below) a point, so a share still
#: uncertain while answers are blank is known as soon as the lowest and highest it can become agree.
SHARE_OPS = ("less_than", "more_than", "at_most", "at_least")


class AnswersOf(_Model):
    """A section's practice questions that apply, counted by their answers: those answered one of `in`."""

    answers: Ident
    """The judged section's id, or `this` (the section a rule run on each section or question is on)."""
    in_: list[str] = Field(alias="in", min_length=1)
    """The answers counted, spelled as in the questions' list (e.g. ["No"], or [Not met, Partly met])."""

    @functools.cached_property
    def normed(self) -> frozenset[str]:
        """The answers counted as norm() compares answers with them."""
        return frozenset(norm(c) for c in self.in_)


class SectionsWhere(_Model):
    """The judged sections that apply, counted by whether a condition holds for them."""

    sections: Condition
    """A condition using this.FIELD for each judged section's field (e.g. {field: this.grade, in: [...]})."""


class ShareCompare(_Model):
    """Compares a share, as a percentage, with a whole number from 0 to 100: the share of a section's practice
    questions that apply answered one of some answers, or of the judged sections that apply for which a condition
    holds. While some of them are blank it is not yet known, unless it is either way; it is never known when none
    apply."""

    share: AnswersOf | SectionsWhere
    """What is counted: {answers: SECTION or this, in: [...]} or {sections: CONDITION}."""
    less_than: Percent | None = None
    """True when the share is less than this percentage."""
    more_than: Percent | None = None
    """True when the share is more than this percentage (50: most of them)."""
    at_most: Percent | None = None
    """True when the share is at most this percentage."""
    at_least: Percent | None = None
    """True when the share is at least this percentage (100: all of them)."""

    @model_validator(mode="after")
    def _one_op(self) -> ShareCompare:
        _exactly_one(self, SHARE_OPS, "a share")
        return self

    @functools.cached_property
    def op(self) -> str:
        """The comparison's key."""
        return next(k for k in SHARE_OPS if getattr(self, k) is not None)

    @functools.cached_property
    def percent(self) -> int:
        """The percentage compared against."""
        value: int = getattr(self, self.op)
        return value


class AnySection(_Model):
    """True when the condition holds for at least one judged section (its `this.field` answers)."""

    any_section: Condition
    """A condition using this.FIELD for each judged section's field."""


class EverySection(_Model):
    """True when the condition holds for every judged section where it is known (blank sections are skipped)."""

    every_section: Condition
    """A condition using this.FIELD for each judged section's field."""


class All(_Model):
    """True when every sub-condition is true."""

    all: list[Condition] = Field(min_length=1)
    """The conditions that must all hold."""


class AnyOf(_Model):
    """True when at least one sub-condition is true."""

    any: list[Condition] = Field(min_length=1)
    """The conditions of which one must hold."""


class Not(_Model):
    """True when the sub-condition is false."""

    not_: Condition = Field(alias="not")
    """The condition that must not hold."""


#: The key that tells each kind of condition apart, in the order they are tried.
KINDS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("equals", Equals), ("in", In), ("filled", Filled), ("blank", Blank), ("date", DateCompare),
    ("number", NumberCompare), ("share", ShareCompare), ("any_section", AnySection), ("every_section", EverySection),
    ("all", All), ("any", AnyOf), ("not", Not),
)


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((key for key, _ in KINDS if key in value), None)
    return next((key for key, cls in KINDS if isinstance(value, cls)), None)


Condition = Annotated[
    Union[  # noqa: UP007 - a recursive, discriminated alias needs Union
        Annotated[Equals, Tag("equals")], Annotated[In, Tag("in")], Annotated[Filled, Tag("filled")],
        Annotated[Blank, Tag("blank")], Annotated[DateCompare, Tag("date")],
        Annotated[NumberCompare, Tag("number")], Annotated[ShareCompare, Tag("share")],
        Annotated[AnySection, Tag("any_section")],
        Annotated[EverySection, Tag("every_section")], Annotated[All, Tag("all")], Annotated[AnyOf, Tag("any")],
        Annotated[Not, Tag("not")],
    ],
    Discriminator(_kind, custom_error_type=str(Code.SPEC_NOT_A_CONDITION),
                  custom_error_message=words(Code.SPEC_NOT_A_CONDITION, suggestion="")),
]


def children(cond: Condition) -> list[Condition]:
    """A compound condition's sub-conditions (none for a simple one)."""
    if isinstance(cond, All):
        return list(cond.all)
    if isinstance(cond, AnyOf):
        return list(cond.any)
    if isinstance(cond, Not):
        return [cond.not_]
    if isinstance(cond, AnySection):
        return [cond.any_section]
    if isinstance(cond, EverySection):
        return [cond.every_section]
    if isinstance(cond, ShareCompare) and isinstance(cond.share, SectionsWhere):
        return [cond.share.sections]
    return []


def _operand_refs(op: DateOperand | NumberOperand) -> Iterator[str]:
    if isinstance(op, str):
        yield op
    elif isinstance(op, DateOf):
        yield op.ref


def fields_in(cond: Condition | None) -> Iterator[str]:
    """Every field reference a condition mentions ("this.field" included), in order."""
    if cond is None:
        return
    if isinstance(cond, Equals | In):
        yield cond.field
    elif isinstance(cond, Filled):
        yield cond.filled
    elif isinstance(cond, Blank):
        yield cond.blank
    elif isinstance(cond, DateCompare | NumberCompare):
        left = cond.date if isinstance(cond, DateCompare) else cond.number
        yield from _operand_refs(left)
        yield from _operand_refs(cond.right)
    for c in children(cond):
        yield from fields_in(c)


def combine(*conds: Condition | None) -> Condition | None:
    """All of the given conditions (ignoring None), or None when there are none."""
    present = [c for c in conds if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return All(all=present)


def describe_date(op: DateOperand, label_of: Callable[[str], str], *, quoted: bool = True) -> str:
    """A date operand in words: "2 years before the last day of "Audit month"". Unquoted, a field is named in
    running text ("the last day of the audit month"), as a locked cell's label says how it is worked out."""
    def name(ref: str) -> str:
        return f'"{label_of(ref)}"' if quoted else "the " + running(label_of(ref))

    if isinstance(op, str):
        return name(op)
    words = name(op.ref) if op.field else \
        f"the first day of {name(op.ref)}" if op.start_of else f"the last day of {name(op.ref)}"
    months, days = parse_offset(op.offset)
    if months:
        amount = _amount(abs(months) // 12, "year") if months % 12 == 0 else _amount(abs(months), "month")
        words = f"{amount} {'before' if months < 0 else 'after'} {words}"
    if days:
        amount = "the day" if abs(days) == 1 else _amount(abs(days), "day")
        words = f"{amount} {'before' if days < 0 else 'after'} {'the date ' if months else ''}{words}"
    return words


def derived_words(op: DateOperand, label_of: Callable[[str], str]) -> str:
    """How a locked date is worked out, for its label: "worked out: the last day of the audit month"."""
    return f"worked out: {describe_date(op, label_of, quoted=False)}"


def _amount(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _words_number(op: NumberOperand, label_of: Callable[[str], str]) -> str:
    if isinstance(op, int):
        return str(op)
    if isinstance(op, str):
        return f'"{label_of(op)}"'
    where = " and ".join(f"{col} {'is this section' if v == THIS else 'is ' + v}" for col, v in op.where.items())
    return f"the number of {op.rows} rows" + (f" whose {where}" if where else "")


def describe(cond: Condition | None, label_of: Callable[[str], str]) -> str:
    """The condition in words, for banners, messages and the data dictionary."""
    if cond is None:
        return "always"
    if isinstance(cond, AnySection):
        return f"for some section, {describe(cond.any_section, label_of)}"
    if isinstance(cond, EverySection):
        return f"for every section, {describe(cond.every_section, label_of)}"
    if isinstance(cond, All):
        return " and ".join(describe(c, label_of) for c in cond.all)
    if isinstance(cond, AnyOf):
        return "(" + " or ".join(describe(c, label_of) for c in cond.any) + ")"
    if isinstance(cond, Not):
        return f"not ({describe(cond.not_, label_of)})"
    if isinstance(cond, ShareCompare):
        return _describe_share(cond, label_of)
    return _describe_answered(cond, label_of)


def _describe_share(cond: ShareCompare, label_of: Callable[[str], str]) -> str:
    """A share in words: 'the share of this section's practice questions that apply answered No is more than 50%'."""
    op = cond.op.replace("_", " ")
    if isinstance(cond.share, AnswersOf):
        whose = "this section's" if cond.share.answers == THIS else f"section {cond.share.answers}'s"
        counted = f"{whose} practice questions that apply answered {' or '.join(cond.share.in_)}"
    else:
        counted = f"the sections that apply for which {describe(cond.share.sections, label_of)}"
    return f"the share of {counted} is {op} {cond.percent}%"


def _describe_answered(cond: Equals | In | Filled | Blank | DateCompare | NumberCompare,
                       label_of: Callable[[str], str]) -> str:
    """A condition on answers in words: '"Seen alone?" is one of No, Partly'."""
    if isinstance(cond, Equals):
        return f'"{label_of(cond.field)}" is {cond.equals}'
    if isinstance(cond, In):
        return f'"{label_of(cond.field)}" is one of {", ".join(cond.in_)}'
    if isinstance(cond, Filled):
        return f'"{label_of(cond.filled)}" is answered'
    if isinstance(cond, Blank):
        return f'"{label_of(cond.blank)}" is blank'
    op = cond.op.replace("_", " ")
    if isinstance(cond, DateCompare):
        return f"{describe_date(cond.date, label_of)} is {op} {describe_date(cond.right, label_of)}"
    return f"{_words_number(cond.number, label_of)} is {op} {_words_number(cond.right, label_of)}"


for _m in (SectionsWhere, ShareCompare, AnySection, EverySection, All, AnyOf, Not):
    _m.model_rebuild()
