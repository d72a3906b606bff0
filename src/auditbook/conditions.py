"""Applicability conditions: evaluate them in Python and compile them to spreadsheet formulas."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from auditbook.spec import All, AnyOf, Condition, Equals, In


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


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def evaluate(cond: Condition | None, values: Mapping[str, str | None]) -> bool:
    """Whether the condition holds for these field values (keyed "section.field"); None always holds."""
    if cond is None:
        return True
    if isinstance(cond, Equals):
        return _norm(values.get(cond.field)) == _norm(cond.equals)
    if isinstance(cond, In):
        return _norm(values.get(cond.field)) in {_norm(v) for v in cond.in_}
    if isinstance(cond, All):
        return all(evaluate(c, values) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(evaluate(c, values) for c in cond.any)
    return not evaluate(cond.not_, values)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def to_formula(cond: Condition | None, name_of: Callable[[str], str]) -> str:
    """The condition as a spreadsheet expression (no leading '='), referring to inputs by defined name.

    Comparison with "=" is case-insensitive in both Excel and LibreOffice, as evaluate() is.
    """
    if cond is None:
        return "TRUE()"
    if isinstance(cond, Equals):
        return f"TRIM({name_of(cond.field)})={_quote(cond.equals)}"
    if isinstance(cond, In):
        ref = f"TRIM({name_of(cond.field)})"
        return "OR(" + ",".join(f"{ref}={_quote(v)}" for v in cond.in_) + ")"
    if isinstance(cond, All):
        return "AND(" + ",".join(to_formula(c, name_of) for c in cond.all) + ")"
    if isinstance(cond, AnyOf):
        return "OR(" + ",".join(to_formula(c, name_of) for c in cond.any) + ")"
    return f"NOT({to_formula(cond.not_, name_of)})"


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
