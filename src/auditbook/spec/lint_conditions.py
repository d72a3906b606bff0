"""Lint conditions and rules: unknown fields (with a did-you-mean), type mismatches, rules that can never fire."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from auditbook.spec.conditions import (
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
    children,
)
from auditbook.spec.logic import Truth, all_of, any_of, negated, normed_choices
from auditbook.spec.logic import choices as choices_of
from auditbook.spec.models import FieldSpec, SectionSpec, Spec, choice_list_of, judged_sections
from auditbook.spec.rules import EACH_SECTION, Rule
from auditbook.text import norm

#: The most combinations of answers tried when looking for a way a rule can fire.
MAX_COMBINATIONS = 50_000


def suggest(word: str, options: Iterable[str]) -> str:
    """' Did you mean "x"?' for the closest option, or ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


@dataclass(frozen=True)
class Known:
    """What a condition may refer to in one spec."""

    spec: Spec
    #: Form and judged sections' fields by "section.field", in order.
    fields: dict[str, FieldSpec]
    #: Every choice list's choices, normalised.
    lists: dict[str, set[str]]

    @classmethod
    def of(cls, spec: Spec) -> Known:
        """The fields, lists and tables of a spec."""
        fields = {f"{s.id}.{f.id}": f for s in spec.sections if s.kind != "table" for f in spec.fields_of(s)}
        return cls(spec, fields, {k: {norm(v) for v in vs} for k, vs in spec.lists.items()})

    def table(self, table_id: str) -> SectionSpec | None:
        """The table section with this id, or None."""
        return next((s for s in self.spec.sections if s.id == table_id and s.kind == "table"), None)

    def section_field_ids(self) -> set[str]:
        """Field ids every judged section has (this.FIELD in a rule run on each section)."""
        judged = judged_sections(self.spec)
        ids = [{f.id for f in self.spec.fields_of(s)} for s in judged]
        return set.intersection(*ids) if ids else set()


@dataclass(frozen=True)
class _Where:
    at: str
    this: str | None = None
    #: For applies_when: the position of the input it decides; it may only look at fields before it.
    before: int | None = None
    order: dict[str, int] | None = None


def _resolve(ref: str, where: _Where, known: Known, out: list[str]) -> FieldSpec | None:
    section, _, field_id = ref.partition(".")
    if section == THIS:
        if where.this is None:
            out.append(f'{where.at}: "{ref}" is only for a rule with each: or inside any_section / every_section.')
            return None
        if where.this == EACH_SECTION:
            ids = known.section_field_ids()
            found = {f.id: f for s in judged_sections(known.spec) for f in known.spec.fields_of(s)}
        else:
            table = known.table(where.this)
            found = {f.id: f for f in table.fields} if table is not None else {}
            ids = set(found)
        if field_id not in ids:
            out.append(f'{where.at}: "{ref}": no field "{field_id}" in every one of them.'
                       f'{suggest(field_id, sorted(ids))}')
            return None
        return found[field_id]
    field = known.fields.get(ref)
    if field is None:
        out.append(f'{where.at}: unknown field "{ref}".{suggest(ref, known.fields)} Use "section.field" with ids from '
                   "this spec.")
        return None
    if where.before is not None and where.order is not None and where.order.get(ref, 0) >= where.before:
        out.append(f'{where.at}: condition on "{ref}", which comes at or after this input. A condition may only look '
                   "at earlier fields: move the field up or the condition down.")
        return None
    return field


def _date(op: DateOperand, where: _Where, known: Known, out: list[str]) -> None:
    ref = op if isinstance(op, str) else op.ref
    field = _resolve(ref, where, known, out)
    if field is None:
        return
    of_month = isinstance(op, DateOf) and op.field is None
    allowed = ("date", "month") if of_month else ("date",)
    if field.type not in allowed:
        out.append(f'{where.at}: "{ref}" is a {field.type} field; a date comparison needs a '
                   f'{" or ".join(allowed)} field' + ("" if of_month else " (use start_of / end_of for a month)")
                   + ".")


def _number(op: NumberOperand, where: _Where, known: Known, out: list[str]) -> None:
    if isinstance(op, int):
        return
    if isinstance(op, str):
        field = _resolve(op, where, known, out)
        if field is not None and field.type != "integer":
            out.append(f'{where.at}: "{op}" is a {field.type} field; a number comparison needs an integer field.')
        return
    if where.before is not None:
        out.append(f"{where.at}: counting rows is for rules, not for when an input applies.")
        return
    _rows(op, where, known, out)


def _rows(op: Rows, where: _Where, known: Known, out: list[str]) -> None:
    table = known.table(op.rows)
    if table is None:
        tables = [s.id for s in known.spec.sections if s.kind == "table"]
        out.append(f'{where.at}: rows of "{op.rows}": no table section with that id.{suggest(op.rows, tables)}')
        return
    columns = {f.id: f for f in table.fields}
    for col, value in op.where.items():
        if col not in columns:
            out.append(f'{where.at}: the table {op.rows} has no column "{col}".{suggest(col, columns)}')
        elif value == THIS:
            if where.this != EACH_SECTION:
                out.append(f"{where.at}: where {col}: this needs a rule with each: sections (or any_section).")
            elif choice_list_of(columns[col]) != "section":
                out.append(f'{where.at}: where {col}: this compares with section titles, but "{col}" is not a choice '
                           'from the "section" list.')
        elif (lst := choice_list_of(columns[col])) is not None and norm(value) not in known.lists.get(lst, set()):
            out.append(f'{where.at}: "{value}" is not a choice of {op.rows}.{col}.'
                       f'{suggest(value, known.spec.lists.get(lst, []))}')


def check_condition(cond: Condition | None, where: _Where, known: Known) -> list[str]:
    """Every problem with one condition: references, types, choices."""
    out: list[str] = []
    if cond is None:
        return out
    if isinstance(cond, Equals | In):
        field = _resolve(cond.field, where, known, out)
        lst = choice_list_of(field) if field is not None else None
        if field is not None and lst is None:
            out.append(f'{where.at}: "{cond.field}" is not a choice or question field, so it cannot be compared '
                       "with equals / in.")
        elif field is not None:
            choices = known.spec.lists.get(lst or "", [])
            for value in choices_of(cond):
                if norm(value) not in known.lists.get(lst or "", set()):
                    out.append(f'{where.at}: "{value}" is not a choice of {cond.field}.{suggest(value, choices)} Use '
                               "one of its choices, spelled as in the list.")
    elif isinstance(cond, Filled | Blank):
        _resolve(cond.filled if isinstance(cond, Filled) else cond.blank, where, known, out)
    elif isinstance(cond, DateCompare):
        _date(cond.date, where, known, out)
        _date(cond.right, where, known, out)
    elif isinstance(cond, NumberCompare):
        _number(cond.number, where, known, out)
        _number(cond.right, where, known, out)
    elif isinstance(cond, AnySection | EverySection):
        if where.before is not None:
            out.append(f"{where.at}: any_section / every_section are for rules, not for when an input applies.")
            return out
        inner = _Where(where.at, EACH_SECTION)
        return out + check_condition(children(cond)[0], inner, known)
    for c in children(cond):
        out += check_condition(c, where, known)
    return out


def check_applies(cond: Condition | None, at: str, known: Known, *, before: int, order: dict[str, int]) -> list[str]:
    """Problems with an applies_when / required_when condition (which may only look at earlier fields)."""
    return check_condition(cond, _Where(at, None, before, order), known)


def check_derived(op: DateOf, at: str, known: Known, *, before: int, order: dict[str, int]) -> list[str]:
    """Problems with a derived date: it is worked out from an earlier date or month field."""
    out: list[str] = []
    _date(op, _Where(at, None, before, order), known, out)
    return out


def lint_rules(known: Known) -> list[str]:
    """Every problem with the spec's rules."""
    spec = known.spec
    out: list[str] = []
    seen: set[str] = set()
    tables = [s.id for s in spec.sections if s.kind == "table"]
    for i, rule in enumerate(spec.rules):
        at = f"rules[{i}] ({rule.id})"
        if rule.id in seen:
            out.append(f'{at}: duplicate rule id "{rule.id}". Give each rule its own id.')
        seen.add(rule.id)
        if rule.each is not None and rule.each != EACH_SECTION and rule.each not in tables:
            out.append(f'{at}.each: "{rule.each}" is neither "sections" nor a table section.'
                       f"{suggest(rule.each, [EACH_SECTION, *tables])}")
            continue
        found = check_condition(rule.when, _Where(f"{at}.when", rule.each), known)
        found += check_condition(rule.require, _Where(f"{at}.require", rule.each), known)
        for ref in rule.cells:
            _resolve(ref, _Where(f"{at}.cells", rule.each), known, found)
        out += found
        if not found and can_fire(rule, known) is False:
            out.append(f"{at}: this rule can never fire: no answers make `when` hold and `require` fail. Check its "
                       "conditions.")
    return out


def _any_field(ref: str, known: Known) -> FieldSpec | None:
    section, _, field_id = ref.partition(".")
    if section != THIS:
        return known.fields.get(ref)
    return next((f for s in known.spec.sections for f in known.spec.fields_of(s) if f.id == field_id), None)


def _variables(cond: Condition | None, known: Known, out: dict[object, tuple[object, ...]]) -> None:
    if cond is None:
        return
    if isinstance(cond, Equals | In | Filled | Blank):
        ref = cond.field if isinstance(cond, Equals | In) else cond.filled if isinstance(cond, Filled) else cond.blank
        field = _any_field(ref, known)
        lst = choice_list_of(field) if field is not None else None
        choices = tuple(norm(c) for c in known.spec.lists.get(lst, [])) if lst else ("something",)
        out[ref] = (*choices, None)
    elif isinstance(cond, All | AnyOf | Not):
        for c in children(cond):
            _variables(c, known, out)
    else:
        out[id(cond)] = (True, False, None)


def _value(cond: Condition | None, env: dict[object, object]) -> Truth:
    if cond is None:
        return True
    if isinstance(cond, Equals | In):
        v = env[cond.field]
        return None if v is None else v in normed_choices(cond)
    if isinstance(cond, Filled):
        return env[cond.filled] is not None
    if isinstance(cond, Blank):
        return env[cond.blank] is None
    if isinstance(cond, All | AnyOf):
        parts = [_value(c, env) for c in children(cond)]
        return all_of(parts) if isinstance(cond, All) else any_of(parts)
    if isinstance(cond, Not):
        return negated(_value(cond.not_, env))
    value = env[id(cond)]
    return value if isinstance(value, bool) else None


def can_fire(rule: Rule, known: Known) -> bool | None:
    """Whether some answers make the rule fire; None when there are too many combinations to try.

    Choices are tried value by value; comparisons, counts and quantifiers are taken as free (true, false or
    unknown), so a rule is only said never to fire when its choices alone rule it out.
    """
    domains: dict[object, tuple[object, ...]] = {}
    _variables(rule.when, known, domains)
    _variables(rule.require, known, domains)
    size = 1
    for d in domains.values():
        size *= len(d)
    if size > MAX_COMBINATIONS:
        return None
    keys = list(domains)
    for combo in itertools.product(*(domains[k] for k in keys)):
        env = dict(zip(keys, combo, strict=True))
        if _value(rule.when, env) is True and _value(rule.require, env) is False:
            return True
    return False
