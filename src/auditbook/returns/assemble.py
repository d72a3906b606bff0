"""Assemble the Audit from the answers kept after checking: facts, sections and actions through the spec's roles."""

from __future__ import annotations

from datetime import date

from auditbook.dates import uk
from auditbook.problems import Code, Problem
from auditbook.returns.audit import ActionItem, Audit, Provenance, SectionResult, SetAside, Value
from auditbook.returns.coerce import Coerced
from auditbook.returns.values import ReadValues
from auditbook.spec.due import due_date
from auditbook.spec.evaluate import Evaluator
from auditbook.spec.layout import Input, Layout, SectionLayout
from auditbook.spec.logic import Facts, truth
from auditbook.spec.roles import Role


def assemble(layout: Layout, read: ReadValues, kept: dict[str, Coerced], provenance: Provenance, final: Evaluator,
             set_aside: dict[str, str] | None = None) -> tuple[Audit, list[Problem]]:
    """The audit these answers make, and the problems only the whole of it shows (table rows, timeliness).

    `final` is validate's Evaluator of the answers kept (the derived dates added to `kept` since change none of
    its flags: they are worked out by the same rule). `set_aside` names the inputs answered but not counted,
    with why ("No": it does not apply; "Not yet known").
    """
    problems: list[Problem] = []
    forms: dict[str, dict[str, Value]] = {}
    sections: list[SectionResult] = []
    tables: dict[str, list[dict[str, Value]]] = {}
    for sl in layout.sections:
        if sl.section.kind == "table":
            tables[sl.section.id] = _table_rows(layout, sl, read, kept, problems)
            continue
        answers: dict[str, Value] = {i.field: kept.get(i.name) for i in sl.inputs}
        if sl.section.kind == "form":
            forms[sl.section.id] = answers
            continue
        sections.append(_section(layout, sl, answers, kept, final))
    facts: dict[str, Value] = {}
    for role in layout.spec.roles.field_roles():
        inp = layout.role_input(role)
        if inp is not None:
            facts[role.value] = kept.get(inp.name)
    due, late, timing = _timeliness(layout, facts, read)
    problems += timing
    if due is not None and layout.role_input(Role.DUE_DATE) is not None:
        facts[Role.DUE_DATE.value] = due
    urgent_cond = layout.spec.roles.urgent
    urgent = urgent_cond is not None and truth(urgent_cond, Facts(final.by_ref)) is True
    aside = [SetAside(section=layout.by_name[name].section, field=layout.by_name[name].field,
                      value=read.values.get(name), applies=why) for name, why in (set_aside or {}).items()]
    audit = Audit(provenance=provenance, facts=facts, urgent=urgent, forms=forms, sections=sections, tables=tables,
                  actions=_actions(layout, tables), set_aside=aside, due_date=due, late=late)
    return audit, problems


def _text(value: Value) -> str | None:
    return None if value is None else str(value)


def _section(layout: Layout, sl: SectionLayout, answers: dict[str, Value], kept: dict[str, Coerced],
             final: Evaluator) -> SectionResult:
    def role_value(role: Role) -> str | None:
        inp = layout.section_input(sl, role)
        return None if inp is None else _text(kept.get(inp.name))

    themes = [str(kept[i.name]) for i in layout.theme_inputs(sl) if kept.get(i.name)]
    return SectionResult(
        id=sl.section.id, title=sl.section.title, applies=final.flag(sl.applies_flag),
        required=final.flag(sl.required_flag or sl.applies_flag), status=str(final.value(sl.status_name)),
        grade=role_value(Role.SECTION_GRADE), themes=themes, answers=answers,
        working_well=role_value(Role.WORKING_WELL), to_improve=role_value(Role.TO_IMPROVE),
    )


def _table_rows(layout: Layout, sl: SectionLayout, read: ReadValues, kept: dict[str, Coerced],
                problems: list[Problem]) -> list[dict[str, Value]]:
    rows: dict[int, list[Input]] = {}
    for inp in sl.inputs:
        rows.setdefault(inp.row_index or 0, []).append(inp)
    is_actions = layout.actions is sl
    responsible = layout.action_column(Role.ACTION_RESPONSIBLE) if is_actions else None
    manager = layout.role_input(Role.TEAM_MANAGER)
    default_responsible = kept.get(manager.name) if manager is not None else None
    out: list[dict[str, Value]] = []
    for index, inputs in sorted(rows.items()):
        values = {i.field: read.values.get(i.name) for i in inputs}
        if all(v is None for v in values.values()):
            continue
        if responsible is not None and values.get(responsible) is None and default_responsible is not None:
            # The line manager for the case is responsible for actions when no one else is named.
            values[responsible] = default_responsible
        for inp in inputs:
            if inp.required and values.get(inp.field) is None and inp.name not in read.reported:
                problems.append(read.problem(inp, Code.REQUIRED_MISSING, case="row"))
        if responsible is not None and values.get(responsible) is None:
            resp = next(i for i in inputs if i.field == responsible)
            problems.append(read.problem(resp, Code.REQUIRED_MISSING, case="responsible"))
        out.append({"row": index, **values})
    return out


def _actions(layout: Layout, tables: dict[str, list[dict[str, Value]]]) -> list[ActionItem]:
    if layout.actions is None:
        return []

    def get(row: dict[str, Value], role: Role) -> Value:
        column = layout.action_column(role)
        return row.get(column) if column is not None else None

    items = []
    for row in tables.get(layout.actions.section.id, []):
        timescale, agreed_on = get(row, Role.ACTION_TIMESCALE), get(row, Role.ACTION_AGREED_ON)
        items.append(ActionItem(
            row=row["row"] if isinstance(row["row"], int) else 0, text=_text(get(row, Role.ACTION_TEXT)),
            section=_text(get(row, Role.ACTION_SECTION)), responsible=_text(get(row, Role.ACTION_RESPONSIBLE)),
            timescale=timescale if isinstance(timescale, date) else None, agreed=_text(get(row, Role.ACTION_AGREED)),
            agreed_with=_text(get(row, Role.ACTION_AGREED_WITH)),
            agreed_on=agreed_on if isinstance(agreed_on, date) else None,
            priority=_text(get(row, Role.ACTION_PRIORITY)),
        ))
    return items


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
