"""Check a return against its spec's rules (each firing a problem on the rule's first cell, with its fix) and its
sections' themes (a theme tag from another section is refused on its cell)."""

from __future__ import annotations

from collections.abc import Mapping

from auditbook.problems import Code, Problem
from auditbook.returns.values import ReadValues
from auditbook.spec.evaluate import Evaluator, audit_facts
from auditbook.spec.layout import Input, Layout
from auditbook.spec.models import themes_of
from auditbook.spec.rules import Firing, firings
from auditbook.text import norm


def _cell_input(layout: Layout, firing: Firing, ref: str) -> Input | None:
    section, _, field = ref.partition(".")
    if firing.row is not None and firing.rule.each is not None and section == "this":
        return layout.row_input(firing.rule.each, firing.row, field)
    return layout.by_ref.get(ref)


def check_rules(layout: Layout, answers: Mapping[str, object], ev: Evaluator, read: ReadValues,
                already: list[Problem]) -> list[Problem]:
    """A problem for every theme tag from another section and every rule that fires on these answers (kept form
    answers and table rows, by name).

    A firing whose first cell already has an error (a required answer missing, a bad value) is left out: the
    fix there comes first, and the rule is checked again once it is made.
    """
    facts = audit_facts(layout, answers, ev)
    taken = {(p.sheet, p.cell) for p in already if p.severity == "error"}
    out = foreign_themes(layout, answers, read)
    for rule in layout.spec.rules:
        for firing in firings(rule, facts):
            cells = [i for ref in firing.cells() if (i := _cell_input(layout, firing, ref)) is not None]
            if not cells:
                continue
            sheet, cell = read.place(cells[0])
            if (sheet, cell) in taken:
                continue
            others = ", ".join(f"{s}!{c}" for s, c in map(read.place, cells[1:]))
            out.append(Problem.of(Code.RULE, case="others" if others else None, sheet=sheet, cell=cell,
                                  field=cells[0].ref, rule=rule.id, severity=rule.severity, message=rule.message,
                                  fix=rule.fix, others=others))
    return out


def foreign_themes(layout: Layout, answers: Mapping[str, object], read: ReadValues) -> list[Problem]:
    """An error on each theme tag (of the answers counted) that belongs to another section, saying whose it is."""
    out: list[Problem] = []
    for inp, own, title in _theme_tags(layout):
        value = answers.get(inp.name)
        if value is None or norm(str(value)) in own:
            continue
        out.append(read.problem(inp, Code.THEME_OF_OTHER_SECTION, value=value, section=title,
                                owners=_either(themes_of(layout.spec, str(value)))))
    return out


def _theme_tags(layout: Layout) -> list[tuple[Input, frozenset[str], str]]:
    """Each judged section's theme tag inputs, with the section's own themes (normalised) and its title: worked out
    once per layout, as every return of a spec has the same."""
    return layout.cached("theme tags", lambda: [
        (inp, frozenset(norm(v) for v in own.values), sl.section.title) for sl in layout.sections
        for inp in layout.theme_inputs(sl) if (own := layout.lists.get(inp.list_id or "")) is not None])


def _either(titles: list[str]) -> str:
    """Section titles as one phrase: "10 Independence", "1c Children in Need or 1d Child Protection"."""
    if not titles:
        return "no section"
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} or {titles[-1]}"
