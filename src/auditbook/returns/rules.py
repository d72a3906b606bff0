"""Check a return against its spec's rules: each firing is a problem on the rule's first cell, with its fix."""

from __future__ import annotations

from collections.abc import Mapping

from auditbook.problems import Code, Problem
from auditbook.returns.values import ReadValues
from auditbook.spec.evaluate import Evaluator, audit_facts
from auditbook.spec.layout import Input, Layout
from auditbook.spec.rules import Firing, firings


def _cell_input(layout: Layout, firing: Firing, ref: str) -> Input | None:
    section, _, field = ref.partition(".")
    if firing.row is not None and firing.rule.each is not None and section == "this":
        return layout.row_input(firing.rule.each, firing.row, field)
    return layout.by_ref.get(ref)


def check_rules(layout: Layout, answers: Mapping[str, object], ev: Evaluator, read: ReadValues,
                already: list[Problem]) -> list[Problem]:
    """A problem for every rule that fires on these answers (kept form answers and table rows, by name).

    A firing whose first cell already has an error (a required answer missing, a bad value) is left out: the
    fix there comes first, and the rule is checked again once it is made.
    """
    facts = audit_facts(layout, answers, ev)
    taken = {(p.sheet, p.cell) for p in already if p.severity == "error"}
    out: list[Problem] = []
    for rule in layout.spec.rules:
        for firing in firings(rule, facts):
            cells = [i for ref in firing.cells() if (i := _cell_input(layout, firing, ref)) is not None]
            if not cells:
                continue
            first = read.problem(cells[0], rule.severity, Code.RULE, "")
            if (first.sheet, first.cell) in taken:
                continue
            others = [f"{s}!{c}" for i in cells[1:] for s, c in [read.where.get(i.name, (i.sheet, i.cell))]]
            also = f" See also {', '.join(others)}." if others else ""
            out.append(Problem(first.severity, Code.RULE, f"{rule.message} {rule.fix}{also}", sheet=first.sheet,
                               cell=first.cell, field=first.field, rule=rule.id))
    return out
