"""Assemble the Audit from the answers kept after checking: one list of answers, and the views the spec's roles give
of them (facts, sections' grades, themes and findings, actions), built by `audit_of` for validate and the ledger alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel

from auditbook.dates import uk
from auditbook.problems import Code, Problem
from auditbook.returns.audit import APPLIES, ActionItem, Answer, Audit, Provenance, SectionResult, Value
from auditbook.returns.coerce import Coerced
from auditbook.returns.values import ReadValues
from auditbook.spec.due import due_date
from auditbook.spec.evaluate import Evaluator
from auditbook.spec.layout import Input, Layout, SectionLayout
from auditbook.spec.logic import truth
from auditbook.spec.roles import ACTION_ROLES, Role

#: What validate decided of a judged section: whether it applies, whether it is required, its status.
Judged = tuple[bool, bool, str]


def assemble(layout: Layout, read: ReadValues, kept: dict[str, Coerced], provenance: Provenance, final: Evaluator,
             set_aside: dict[str, str] | None = None) -> tuple[Audit, list[Problem]]:
    """The audit these answers make, and the problems only the whole of it shows (table rows, timeliness).

    `final` is validate's Evaluator of the answers kept (the derived dates added to `kept` since change none of
    its flags: they are worked out by the same rule). `set_aside` names the inputs answered but not counted,
    with why ("No": it does not apply; "Not yet known").
    """
    problems: list[Problem] = []
    answers: list[Answer] = []
    aside = set_aside or {}
    for sl in layout.sections:
        if sl.section.kind == "table":
            answers += _table_answers(layout, sl, read, kept, problems)
        else:
            answers += _form_answers(sl, read, kept, aside)
    plan = views(layout)
    due, late, timing = _timeliness(layout, plan.facts(_counted(answers), None), read)
    problems += timing
    urgent_cond = layout.spec.roles.urgent
    urgent = urgent_cond is not None and truth(urgent_cond, final.facts) is True
    judged = [(final.flag(sl.applies_flag), final.flag(sl.required_flag or sl.applies_flag),
               str(final.value(sl.status_name))) for sl in layout.sections if sl.section.kind == "judged"]
    return audit_of(layout, provenance, answers, judged=judged, urgent=urgent, due=due, late=late), problems


def audit_of(layout: Layout, provenance: Provenance, answers: list[Answer], *, judged: list[Judged], urgent: bool,
             due: date | None, late: bool, trusted: bool = False, counted: dict[str, Value] | None = None) -> Audit:
    """The audit of these answers: the facts, sections and actions the roles give are read from them here, once.

    `judged` is what validate decided of each judged section, in the spec's order; `due` is the due date the spec's
    rule gives (it stands for the due date's role). The ledger stores only the answers and these, and builds the
    audit again through here. `trusted`: the answers are as validate kept them (a ledger row whose signature checks
    out, stored in this format), so the models are made without checking their values again (`trusted_model`), and
    `counted` may give the answers counted by name (as `_counted` makes them) when the caller has them.
    """
    plan = views(layout)
    if counted is None:
        counted = _counted(answers)
    sections, actions = plan.sections(counted, judged), plan.actions(counted)
    if not trusted:
        # Sections and actions are made into their models by the Audit's own validation (faster than one by one).
        return Audit.model_validate({
            "provenance": provenance, "answers": answers, "facts": plan.facts(counted, due), "urgent": urgent,
            "sections": sections, "actions": actions, "due_date": due, "late": late})
    return trusted_model(Audit, {
        "provenance": provenance, "answers": answers, "facts": plan.facts(counted, due), "urgent": urgent,
        "sections": trusted_models(SectionResult, sections), "actions": trusted_models(ActionItem, actions),
        "due_date": due, "late": late})


_M = TypeVar("_M", bound=BaseModel)


def trusted_model(model: type[_M], values: dict[str, Any]) -> _M:
    """A model made from values it validated before (every field given, in its order), without checking them again.

    What pydantic's `model_construct` makes, without its look at each field's aliases and defaults: the same
    `__dict__` (so the same ==, repr and dump) and every field set. A third of the time of validating, for the
    ~20,000 sections and actions of 1,000 stored returns read back at each collect. Only for models with no private
    attributes, extra fields or post-init (tests/test_stored_reports.py checks ours against validating).
    """
    return trusted_models(model, (values,))[0]


def trusted_models(model: type[_M], rows: Iterable[dict[str, Any]]) -> list[_M]:
    """`trusted_model` of each of `rows`, made in one loop (a call for each costs as much as making one)."""
    made: list[_M] = []
    add, new = made.append, model.__new__
    for values in rows:
        m = new(model)
        _set(m, "__dict__", values)
        _set(m, "__pydantic_fields_set__", set(values))
        _set(m, "__pydantic_extra__", None)
        _set(m, "__pydantic_private__", None)
        add(m)
    return made


_set = object.__setattr__


def _counted(answers: list[Answer]) -> dict[str, Value]:
    """The answers counted, by input name."""
    # By index (name, value, applies), not attribute: a named tuple's attributes cost more, for every answer of every
    # stored return at each collect.
    return {a[2]: a[4] for a in answers if a[5] == APPLIES}


@dataclass(frozen=True)
class _Section:
    """Where a judged section's role answers are: the names of its grade, findings and theme inputs."""

    id: str
    title: str
    grade: str
    working_well: str
    to_improve: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class Views:
    """What a layout's roles read from an audit's answers, worked out once per layout."""

    #: (role value, input name) of every field role the spec gives an input.
    roles: tuple[tuple[str, str], ...]
    has_due: bool
    judged: tuple[_Section, ...]
    #: Each row of the actions table: its number, its inputs' names, and the input each action role reads (every
    #: role, in ACTION_ROLES' order; "" when the table has no column for it).
    action_rows: tuple[tuple[int, tuple[str, ...], dict[Role, str]], ...]
    #: Every input by name, as an answer of it is placed: (section, field, name, label, row).
    places: dict[str, tuple[str, str, str, str, int | None]]

    def facts(self, counted: dict[str, Value], due: date | None) -> dict[str, Value]:
        """The value of every field role (None when blank), the due date the rule gives standing for its role's."""
        get = counted.get
        facts = {role: get(name) for role, name in self.roles}
        if due is not None and self.has_due:
            facts[_DUE_DATE] = due
        return facts

    def sections(self, counted: dict[str, Value], judged: list[Judged]) -> list[dict[str, Any]]:
        """Each judged section as validate decided it (`judged`, in the spec's order) and as its roles read it (a
        SectionResult's fields)."""
        get = counted.get
        return [{"id": s.id, "title": s.title, "applies": applies, "required": required, "status": status,
                 "grade": None if (grade := get(s.grade)) is None else str(grade),
                 # Every theme answered (a blank one is not counted), as text.
                 "themes": list(map(str, filter(None, map(get, s.themes)))),
                 "working_well": None if (well := get(s.working_well)) is None else str(well),
                 "to_improve": None if (better := get(s.to_improve)) is None else str(better)}
                for s, (applies, required, status) in zip(self.judged, judged, strict=True)]

    def actions(self, counted: dict[str, Value]) -> list[dict[str, Value]]:
        """Each used row of the actions table, read through the action column roles (an ActionItem's fields)."""
        items: list[dict[str, Value]] = []
        answered, get = counted.keys(), counted.get
        for row, names, by_role in self.action_rows:
            if answered.isdisjoint(names):
                continue  # an unused row
            # by_role names an input for every action role, in ACTION_ROLES' order ("" for none: never answered).
            text, section, responsible, timescale, agreed, agreed_with, agreed_on, priority = map(
                get, by_role.values())
            items.append({
                "row": row, "text": None if text is None else str(text),
                "section": None if section is None else str(section),
                "responsible": None if responsible is None else str(responsible),
                "timescale": timescale if isinstance(timescale, date) else None,
                "agreed": None if agreed is None else str(agreed),
                "agreed_with": None if agreed_with is None else str(agreed_with),
                "agreed_on": agreed_on if isinstance(agreed_on, date) else None,
                "priority": None if priority is None else str(priority)})
        return items


#: The due date's role, as the facts are keyed (looked up once: an enum member's value costs a lookup each time).
_DUE_DATE = Role.DUE_DATE.value


def views(layout: Layout) -> Views:
    """The views of a layout's answers (worked out once per layout, kept in its caches)."""
    found = layout.caches.get("views")
    if isinstance(found, Views):
        return found

    def name(inp: Input | None) -> str:
        return "" if inp is None else inp.name

    roles = tuple((role.value, inp.name) for role in layout.spec.roles.field_roles()
                  if (inp := layout.role_input(role)) is not None)
    judged = tuple(_Section(sl.section.id, sl.section.title, name(layout.section_input(sl, Role.SECTION_GRADE)),
                            name(layout.section_input(sl, Role.WORKING_WELL)),
                            name(layout.section_input(sl, Role.TO_IMPROVE)),
                            tuple(i.name for i in layout.theme_inputs(sl)))
                   for sl in layout.sections if sl.section.kind == "judged")
    rows: dict[int, list[Input]] = {}
    for i in layout.actions.inputs if layout.actions is not None else ():
        rows.setdefault(i.row_index or 0, []).append(i)
    columns = {role: layout.action_column(role) for role in ACTION_ROLES}
    action_rows = tuple((row, tuple(i.name for i in inputs),
                         {role: next((i.name for i in inputs if column is not None and i.field == column), "")
                          for role, column in columns.items()})
                        for row, inputs in sorted(rows.items()))
    made = Views(roles, layout.role_input(Role.DUE_DATE) is not None, judged, action_rows,
                 {i.name: (i.section, i.field, i.name, i.label, i.row_index) for i in layout.inputs})
    layout.caches["views"] = made
    return made


def _form_answers(sl: SectionLayout, read: ReadValues, kept: dict[str, Coerced],
                  set_aside: dict[str, str]) -> list[Answer]:
    """A form or judged section's answers: those counted, and those set aside with why."""
    out: list[Answer] = []
    for i in sl.inputs:
        value = kept.get(i.name)
        applies = APPLIES
        if value is None and i.name in set_aside:
            value, applies = read.values.get(i.name), set_aside[i.name]
        if value is not None:
            out.append(Answer(i.section, i.field, i.name, i.label, value, applies))
    return out


def _table_answers(layout: Layout, sl: SectionLayout, read: ReadValues, kept: dict[str, Coerced],
                   problems: list[Problem]) -> list[Answer]:
    is_actions = layout.actions is sl
    responsible = layout.action_column(Role.ACTION_RESPONSIBLE) if is_actions else None
    manager = layout.role_input(Role.TEAM_MANAGER)
    default_responsible = kept.get(manager.name) if manager is not None else None
    out: list[Answer] = []
    for index, inputs in _rows(layout, sl):
        if not any(i.name in read.values for i in inputs):
            continue  # an unused row (read_values keeps no None)
        values = {i.field: read.values.get(i.name) for i in inputs}
        if responsible is not None and values.get(responsible) is None and default_responsible is not None:
            # The line manager for the case is responsible for actions when no one else is named.
            values[responsible] = default_responsible
        for inp in inputs:
            if inp.required and values.get(inp.field) is None and inp.name not in read.reported:
                problems.append(read.problem(inp, Code.REQUIRED_MISSING, case="row"))
        if responsible is not None and values.get(responsible) is None:
            resp = next(i for i in inputs if i.field == responsible)
            problems.append(read.problem(resp, Code.REQUIRED_MISSING, case="responsible"))
        out += [Answer(i.section, i.field, i.name, i.label, v, APPLIES, index) for i in inputs
                if (v := values[i.field]) is not None]
    return out


def _rows(layout: Layout, sl: SectionLayout) -> tuple[tuple[int, tuple[Input, ...]], ...]:
    """A table section's rows in order, each its number and its inputs (worked out once per layout)."""
    tables: dict[str, tuple[tuple[int, tuple[Input, ...]], ...]] = layout.caches.setdefault("table rows", {})
    found = tables.get(sl.section.id)
    if found is None:
        rows: dict[int, list[Input]] = {}
        for inp in sl.inputs:
            rows.setdefault(inp.row_index or 0, []).append(inp)
        found = tables[sl.section.id] = tuple((index, tuple(inputs)) for index, inputs in sorted(rows.items()))
    return found


def _timeliness(layout: Layout, facts: dict[str, Value], read: ReadValues) -> tuple[date | None, bool, list[Problem]]:
    # The spec's rule decides the due date (the Deep Dive's: the end of the audit month), as the workbook's locked
    # formula shows it (validate has worked the derived value out already); a typed due date cannot move it.
    month, typed = facts.get(Role.AUDIT_MONTH.value), facts.get(Role.DUE_DATE.value)
    due_input = layout.role_input(Role.DUE_DATE)
    rule = due_input.derived if due_input is not None else None
    if rule is not None:
        due = typed if isinstance(typed, date) else None
    else:
        due = due_date(layout.spec, month) if isinstance(month, str) else typed if isinstance(typed, date) else None
    month_ref = layout.spec.roles.field(Role.AUDIT_MONTH)
    how = "the end of the audit month" if rule is None or (rule.end_of == month_ref and rule.offset is None) else \
        "as the workbook works it out from the audit month"
    problems: list[Problem] = []
    if rule is None and isinstance(typed, date) and due is not None and typed != due and due_input is not None:
        problems.append(read.problem(due_input, Code.DUE_DATE_CHANGED, typed=uk(typed), due=uk(due)))
    completed = facts.get(Role.COMPLETED.value)
    late = due is not None and isinstance(completed, date) and completed > due
    inp = layout.role_input(Role.COMPLETED)
    if late and inp is not None and isinstance(completed, date) and due is not None:
        problems.append(read.problem(inp, Code.LATE, completed=uk(completed), due=uk(due), how=how))
    return due, late, problems
