"""Lint conditions and rules: unknown fields (with a did-you-mean), type mismatches, rules that can never fire."""

from __future__ import annotations

import itertools
from typing import NamedTuple

from auditbook.problems import Code, Key, KeyProblem
from auditbook.spec.conditions import (
    ANSWER,
    EVIDENCE,
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
    children,
)
from auditbook.spec.logic import Truth, all_of, any_of, negated, normed_choices
from auditbook.spec.logic import choices as choices_of
from auditbook.spec.models import FieldSpec, SectionSpec, Spec, choice_list_of, judged_sections
from auditbook.spec.rules import EACH_QUESTION, EACH_SECTION, Rule
from auditbook.text import norm, suggest

#: The most combinations of answers tried when looking for a way a rule can fire.
MAX_COMBINATIONS = 50_000


class Known(NamedTuple):
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

    def question_fields(self) -> dict[str, FieldSpec]:
        """What this.answer and this.evidence are in a rule run on each practice question: the first question's
        answer (its list), and a long text."""
        first = next((f for s in judged_sections(self.spec) for f in self.spec.fields_of(s) if f.type == "question"),
                     None)
        if first is None:
            return {}
        return {ANSWER: first.model_copy(update={"id": ANSWER}),
                EVIDENCE: FieldSpec(id=EVIDENCE, label="Evidence", type="long_text", required=False)}

    def answer_lists(self, section: str | None) -> list[str]:
        """The choice lists a section's practice questions answer from (every judged section's for None)."""
        questions = [self.fields[r] for s, refs in self.spec.questions.items() if section in (None, s) for r in refs]
        return list(dict.fromkeys(choice_list_of(f) or "" for f in questions))


class _Where(NamedTuple):
    key: Key
    this: str | None = None
    #: For applies_when: the position of the input it decides; it may only look at fields before it.
    before: int | None = None
    order: dict[str, int] | None = None

    def problem(self, code: Code, case: str | None = None, **values: object) -> KeyProblem:
        """A problem at this key."""
        return KeyProblem.of(code, self.key, case=case, **values)


def _resolve(ref: str, where: _Where, known: Known, out: list[KeyProblem]) -> FieldSpec | None:
    section, _, field_id = ref.partition(".")
    if section == THIS:
        return _resolve_this(ref, field_id, where, known, out)
    found = known.fields.get(ref)
    if found is None:
        out.append(where.problem(Code.SPEC_UNKNOWN_FIELD, ref=ref, suggestion=suggest(ref, known.fields)))
        return None
    if where.before is not None and where.order is not None and where.order.get(ref, 0) >= where.before:
        out.append(where.problem(Code.SPEC_LATER_FIELD, ref=ref))
        return None
    return found


def _resolve_this(ref: str, field_id: str, where: _Where, known: Known, out: list[KeyProblem]) -> FieldSpec | None:
    """The field "this.FIELD" means in every judged section or row a rule runs on."""
    if where.this is None:
        out.append(where.problem(Code.SPEC_THIS_OUTSIDE_EACH, ref=ref))
        return None
    if where.this in (EACH_SECTION, EACH_QUESTION):
        ids = known.section_field_ids()
        found = {f.id: f for s in judged_sections(known.spec) for f in known.spec.fields_of(s)}
        if where.this == EACH_QUESTION:
            found.update(known.question_fields())
            ids |= set(known.question_fields())
    else:
        table = known.table(where.this)
        found = {f.id: f for f in table.fields} if table is not None else {}
        ids = set(found)
    if field_id not in ids:
        out.append(where.problem(Code.SPEC_THIS_FIELD_MISSING, ref=ref, field_id=field_id,
                                 suggestion=suggest(field_id, sorted(ids))))
        return None
    return found[field_id]


def _date(op: DateOperand, where: _Where, known: Known, out: list[KeyProblem]) -> None:
    ref = op if isinstance(op, str) else op.ref
    found = _resolve(ref, where, known, out)
    if found is None:
        return
    of_month = isinstance(op, DateOf) and op.field is None
    if found.type not in (("date", "month") if of_month else ("date",)):
        out.append(where.problem(Code.SPEC_NOT_A_DATE_FIELD, case="month" if of_month else None, ref=ref,
                                 type=found.type))


def _number(op: NumberOperand, where: _Where, known: Known, out: list[KeyProblem]) -> None:
    if isinstance(op, int):
        return
    if isinstance(op, str):
        found = _resolve(op, where, known, out)
        if found is not None and found.type != "integer":
            out.append(where.problem(Code.SPEC_NOT_AN_INTEGER_FIELD, ref=op, type=found.type))
        return
    if where.before is not None:
        out.append(where.problem(Code.SPEC_ONLY_IN_RULES))
        return
    _rows(op, where, known, out)


def _rows(op: Rows, where: _Where, known: Known, out: list[KeyProblem]) -> None:
    table = known.table(op.rows)
    if table is None:
        tables = [s.id for s in known.spec.sections if s.kind == "table"]
        out.append(where.problem(Code.SPEC_UNKNOWN_TABLE, table=op.rows, suggestion=suggest(op.rows, tables)))
        return
    columns = {f.id: f for f in table.fields}
    for col, value in op.where.items():
        if col not in columns:
            out.append(where.problem(Code.SPEC_UNKNOWN_COLUMN, table=op.rows, column=col,
                                     suggestion=suggest(col, columns)))
        elif value == THIS:
            if where.this not in (EACH_SECTION, EACH_QUESTION):
                out.append(where.problem(Code.SPEC_THIS_NEEDS_SECTIONS, column=col))
            elif choice_list_of(columns[col]) != "section":
                out.append(where.problem(Code.SPEC_THIS_NOT_A_SECTION_COLUMN, column=col))
        elif (lst := choice_list_of(columns[col])) is not None and norm(value) not in known.lists.get(lst, set()):
            out.append(where.problem(Code.SPEC_NOT_A_CHOICE, value=value, ref=f"{op.rows}.{col}",
                                     suggestion=suggest(value, known.spec.lists.get(lst, []))))


def _choices(cond: Equals | In, where: _Where, known: Known, out: list[KeyProblem]) -> None:
    """An equals / in condition names a choice field, and only its choices."""
    found = _resolve(cond.field, where, known, out)
    if found is None:
        return
    lst = choice_list_of(found)
    if lst is None:
        out.append(where.problem(Code.SPEC_NOT_COMPARABLE, ref=cond.field))
        return
    choices = known.spec.lists.get(lst, [])
    out += [where.problem(Code.SPEC_NOT_A_CHOICE, value=value, ref=cond.field, suggestion=suggest(value, choices))
            for value in choices_of(cond) if norm(value) not in known.lists.get(lst, set())]


def _check_answer(cond: Condition, where: _Where, known: Known, out: list[KeyProblem]) -> None:
    """A condition on answers: the fields it names, their types, and the choices it compares with."""
    if isinstance(cond, Equals | In):
        _choices(cond, where, known, out)
    elif isinstance(cond, Filled | Blank):
        _resolve(cond.filled if isinstance(cond, Filled) else cond.blank, where, known, out)
    elif isinstance(cond, DateCompare):
        _date(cond.date, where, known, out)
        _date(cond.right, where, known, out)
    elif isinstance(cond, NumberCompare):
        _number(cond.number, where, known, out)
        _number(cond.right, where, known, out)


def _share(cond: ShareCompare, where: _Where, known: Known) -> list[KeyProblem]:
    """A share: only in rules; what it counts names a judged section (or this, on each section or question) and
    that section's answers, or is a condition on each section."""
    if where.before is not None:
        return [where.problem(Code.SPEC_ONLY_IN_RULES, case="share")]
    if not isinstance(cond.share, AnswersOf):
        return check_condition(cond.share.sections, _Where(where.key, EACH_SECTION), known)
    section = cond.share.answers
    if section == THIS and where.this not in (EACH_SECTION, EACH_QUESTION):
        return [where.problem(Code.SPEC_THIS_OUTSIDE_EACH, ref=THIS)]
    if section != THIS and section not in known.spec.questions:
        return [where.problem(Code.SPEC_NOT_A_JUDGED_SECTION, section=section,
                              suggestion=suggest(section, known.spec.questions))]
    lists = known.answer_lists(None if section == THIS else section)
    choices = [c for name in lists for c in known.spec.lists.get(name, [])]
    allowed = {a for name in lists for a in known.lists.get(name, set())}
    return [where.problem(Code.SPEC_NOT_A_CHOICE, value=value, ref=f"the answers of {section}",
                          suggestion=suggest(value, choices))
            for value in cond.share.in_ if norm(value) not in allowed]


def check_condition(cond: Condition | None, where: _Where, known: Known) -> list[KeyProblem]:
    """Every problem with one condition: references, types, choices."""
    if cond is None:
        return []
    if isinstance(cond, AnySection | EverySection):
        if where.before is not None:
            return [where.problem(Code.SPEC_ONLY_IN_RULES, case="quantifier")]
        return check_condition(children(cond)[0], _Where(where.key, EACH_SECTION), known)
    if isinstance(cond, ShareCompare):
        return _share(cond, where, known)
    out: list[KeyProblem] = []
    _check_answer(cond, where, known, out)
    for c in children(cond):
        out += check_condition(c, where, known)
    return out


def check_applies(cond: Condition | None, key: Key, known: Known, *, before: int,
                  order: dict[str, int]) -> list[KeyProblem]:
    """Problems with an applies_when / required_when condition (which may only look at earlier fields)."""
    return check_condition(cond, _Where(key, None, before, order), known)


def check_derived(op: DateOf, key: Key, known: Known, *, before: int, order: dict[str, int]) -> list[KeyProblem]:
    """Problems with a derived date: it is worked out from an earlier date or month field."""
    out: list[KeyProblem] = []
    _date(op, _Where(key, None, before, order), known, out)
    return out


def lint_rules(known: Known) -> list[KeyProblem]:
    """Every problem with the spec's rules."""
    out: list[KeyProblem] = []
    seen: set[str] = set()
    for i, rule in enumerate(known.spec.rules):
        key = Key.of("rules").item(i, rule.id)
        if rule.id in seen:
            out.append(KeyProblem.of(Code.SPEC_DUPLICATE_RULE, key, id=rule.id))
        seen.add(rule.id)
        out += _check_rule(rule, key, known)
    return out


def _check_rule(rule: Rule, key: Key, known: Known) -> list[KeyProblem]:
    """One rule: what it runs on, its conditions and cells, and whether any answers can make it fire."""
    tables = [s.id for s in known.spec.sections if s.kind == "table"]
    if rule.each is not None and rule.each not in (EACH_SECTION, EACH_QUESTION) and rule.each not in tables:
        return [KeyProblem.of(Code.SPEC_UNKNOWN_EACH, key.key("each"), each=rule.each,
                              suggestion=suggest(rule.each, [EACH_SECTION, EACH_QUESTION, *tables]))]
    found = check_condition(rule.when, _Where(key.key("when"), rule.each), known)
    found += check_condition(rule.require, _Where(key.key("require"), rule.each), known)
    for ref in rule.cells:
        _resolve(ref, _Where(key.key("cells"), rule.each), known, found)
    if not found and can_fire(rule, known) is False:
        found.append(KeyProblem.of(Code.SPEC_RULE_NEVER_FIRES, key))
    return found


def _any_field(ref: str, known: Known) -> FieldSpec | None:
    section, _, field_id = ref.partition(".")
    if section != THIS:
        return known.fields.get(ref)
    found = next((f for s in known.spec.sections for f in known.spec.fields_of(s) if f.id == field_id), None)
    return found or known.question_fields().get(field_id)


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
