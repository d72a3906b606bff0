"""Applicability conditions: their models, the fields they look at, their value for answers, their words."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from auditbook.text import norm

FieldRef = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Equals(_Model):
    """True when the field's value equals the given choice."""

    field: FieldRef
    equals: str


class In(_Model):
    """True when the field's value is one of the given choices."""

    field: FieldRef
    in_: list[str] = Field(alias="in", min_length=1)


class All(_Model):
    """True when every sub-condition is true."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_Model):
    """True when at least one sub-condition is true."""

    any: list[Condition] = Field(min_length=1)


class Not(_Model):
    """True when the sub-condition is false."""

    not_: Condition = Field(alias="not")


Condition = Union[Equals, In, All, AnyOf, Not]  # noqa: UP007 - recursive alias needs Union



def fields_in(cond: Condition | None) -> Iterator[str]:
    """Every field reference a condition mentions."""
    if cond is None:
        return
    if isinstance(cond, Equals | In):
        yield cond.field
    elif isinstance(cond, All):
        for c in cond.all:
            yield from fields_in(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from fields_in(c)
    else:
        yield from fields_in(cond.not_)


def evaluate(cond: Condition | None, values: Mapping[str, str | None]) -> bool:
    """Whether the condition holds for these field values (keyed "section.field"); None always holds."""
    if cond is None:
        return True
    if isinstance(cond, Equals):
        return norm(values.get(cond.field)) == norm(cond.equals)
    if isinstance(cond, In):
        return norm(values.get(cond.field)) in {norm(v) for v in cond.in_}
    if isinstance(cond, All):
        return all(evaluate(c, values) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(evaluate(c, values) for c in cond.any)
    return not evaluate(cond.not_, values)


def combine(*conds: Condition | None) -> Condition | None:
    """All of the given conditions (ignoring None), or None when there are none."""
    present = [c for c in conds if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return All(all=present)


def describe(cond: Condition | None, label_of: Callable[[str], str]) -> str:
    """The condition in words, for banners and messages."""
    if cond is None:
        return "always"
    if isinstance(cond, Equals):
        return f'"{label_of(cond.field)}" is {cond.equals}'
    if isinstance(cond, In):
        return f'"{label_of(cond.field)}" is one of {", ".join(cond.in_)}'
    if isinstance(cond, All):
        return " and ".join(describe(c, label_of) for c in cond.all)
    if isinstance(cond, AnyOf):
        return "(" + " or ".join(describe(c, label_of) for c in cond.any) + ")"
    return f"not ({describe(cond.not_, label_of)})"

for _m in (All, AnyOf, Not):
    _m.model_rebuild()
