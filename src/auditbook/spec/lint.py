"""Cross-field rules of a spec, each problem said as where, what and how to fix it."""

from __future__ import annotations

import re

from auditbook.spec.lint_conditions import Known, check_applies, check_derived, lint_rules, suggest
from auditbook.spec.lint_roles import lint_roles
from auditbook.spec.models import DERIVED_LISTS, FieldSpec, Spec, choice_list_of, input_name
from auditbook.text import norm

#: Sheets the generator adds itself (and the criteria sheet the spec names); a section may not use their names.
RESERVED_SHEETS = ("Start", "Summary", "Lists", "Metadata")
#: The fixed columns of the master's Audits table, which has one more column per section, headed by its title:
#: a section may not be titled as one of them (the headers of an Excel Table must differ, ignoring case).
MASTER_COLUMNS = (
    "Case reference", "Round", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month", "Due date",
    "Completed", "Age", "Age band", "Gender", "Ethnicity", "Legal status", "Late", "Overall grade",
    "Record reflects practice", "Feedback to team manager", "Feedback to practitioner", "Urgent concern",
    "Source file", "Source file missing", "Spec version", "Warnings")




def _check_lists(spec: Spec) -> list[str]:
    out: list[str] = []
    for name in DERIVED_LISTS:
        if name in spec.choice_lists:
            out.append(f'choice_lists.{name}: "{name}" is made by the generator; rename your list.')
    lists = {**spec.choice_lists, "theme": [t.label for t in spec.themes]}
    for name, values in lists.items():
        where = "themes" if name == "theme" and name not in spec.choice_lists else f"choice_lists.{name}"
        if not values:
            out.append(f"{where}: the list is empty. Add at least one choice or remove the list.")
        seen: set[str] = set()
        for v in values:
            if not v.strip():
                out.append(f"{where}: a choice is blank. Remove it.")
            elif norm(v) in seen:
                out.append(f'{where}: duplicate choice "{v}". Each choice must differ (ignoring case and spaces).')
            seen.add(norm(v))
    if spec.grade_list not in spec.choice_lists:
        out.append(f'grade_list: no choice list "{spec.grade_list}". Name one of {", ".join(spec.choice_lists)}.')
    else:
        grades = {norm(g) for g in spec.choice_lists[spec.grade_list]}
        for i, d in enumerate(spec.grade_descriptors):
            if norm(d.grade) not in grades:
                out.append(f'grade_descriptors[{i}]: "{d.grade}" is not in list {spec.grade_list}.')
    return out


def lint(spec: Spec) -> list[str]:
    """Every cross-field problem in the spec, or an empty list."""
    out = _check_lists(spec)
    known = Known.of(spec)
    criteria = [c.id for c in spec.criteria]
    out += _check_criteria(spec)
    out += _check_grading(spec, known.lists)
    out += [f'criteria: duplicate id "{c}".' for c in sorted({c for c in criteria if criteria.count(c) > 1})]
    # Every field's position first, so a condition on a later field is told apart from an unknown one.
    order: dict[str, int] = {}
    fields: dict[str, FieldSpec] = {}
    for section in spec.sections:
        for field in spec.fields_of(section):
            ref = f"{section.id}.{field.id}"
            if ref not in order:
                order[ref] = len(order)
                fields[ref] = field
    position = 0
    names: dict[str, str] = {}
    sheets: dict[str, str] = {norm(s): "a sheet the generator adds"
                              for s in (*RESERVED_SHEETS, spec.wording.criteria_sheet)}
    section_ids: set[str] = set()
    titles: dict[str, str] = {norm(c): "a column of the master's Audits table" for c in MASTER_COLUMNS}
    for si, section in enumerate(spec.sections):
        sw = f"sections[{si}] ({section.id})"
        if section.id in section_ids:
            out.append(f'{sw}: duplicate section id "{section.id}". Give each section its own id.')
        section_ids.add(section.id)
        clash = titles.get(norm(section.title))
        if clash is not None and (section.kind == "judged" or not clash.startswith("a column")):
            out.append(f'{sw}.title: "{section.title}" is already {clash} (titles are compared ignoring case). Give '
                       "the section a title of its own.")
        titles.setdefault(norm(section.title), f"the title of section {section.id}")
        if norm(section.sheet) in sheets:
            out.append(f'{sw}.sheet: "{section.sheet}" is already used by {sheets[norm(section.sheet)]}.')
        sheets[norm(section.sheet)] = f"section {section.id}"
        if section.applies_when is not None and not section.not_applicable_because:
            out.append(f"{sw}: applies_when needs not_applicable_because, the words the banner shows.")
        if section.kind == "table" and section.rows < 1:
            out.append(f"{sw}: a table section needs rows: N (how many rows to offer).")
        if section.kind == "table" and (section.applies_when or any(f.applies_when for f in section.fields)):
            out.append(f"{sw}: table sections cannot have conditions.")
        for c in section.criteria:
            if c not in criteria:
                out.append(f'{sw}.criteria: unknown criterion "{c}".{suggest(c, criteria)} Add it under criteria: or '
                           "fix the id.")
        out += check_applies(section.applies_when, f"{sw}.applies_when", known, before=position, order=order)
        out += check_applies(section.required_when, f"{sw}.required_when", known, before=position, order=order)
        seen: set[str] = set()
        for fi, field in enumerate(spec.fields_of(section)):
            fw = f"{sw}.fields[{fi}] ({field.id})"
            ref = f"{section.id}.{field.id}"
            if field.id in seen:
                also = " (the judgement block adds working_well, to_improve, grade and theme_N to every judged " \
                    "section)" if section.kind == "judged" else ""
                out.append(f'{fw}: duplicate field id "{field.id}" in section {section.id}{also}. '
                           "Give each field its own id.")
                position += 1
                continue
            seen.add(field.id)
            name = input_name(section.id, field.id)
            if name in names and names[name] != ref:
                out.append(f'{fw}: its name "{name}" clashes with {names[name]}. Rename one of them.')
            names[name] = ref
            lst = choice_list_of(field)
            if field.type == "choice" and field.choices is None:
                out.append(f"{fw}: a choice field needs choices: LIST_ID.")
            elif lst is not None and lst not in spec.lists:
                out.append(f'{fw}.choices: unknown list "{lst}".{suggest(lst, spec.lists)} Use one of '
                           f'{", ".join(spec.lists)}.')
            elif field.choices is not None and lst is None:
                out.append(f"{fw}.choices: only choice and question fields take choices.")
            if field.default is not None and lst and norm(field.default) not in known.lists.get(lst, set()):
                out.append(f'{fw}.default: "{field.default}" is not in list {lst}.')
            for c in field.criteria:
                if c not in criteria:
                    out.append(f'{fw}.criteria: unknown criterion "{c}".{suggest(c, criteria)}')
            if field.applies_when is not None and not field.not_applicable_because:
                out.append(f"{fw}: applies_when needs not_applicable_because, the words shown when it does not apply.")
            out += check_applies(field.applies_when, f"{fw}.applies_when", known, before=position, order=order)
            if field.derived is not None:
                out += _check_derived(field, fw, section.kind, known, position, order)
            position += 1
    out += lint_roles(spec)
    out += _check_examples(spec, fields, known.lists)
    out += lint_rules(known)
    return out


def _check_derived(field: FieldSpec, fw: str, kind: str, known: Known, position: int,
                   order: dict[str, int]) -> list[str]:
    if field.type != "date" or kind == "table":
        return [f"{fw}.derived: only a date field of a form or judged section can be derived."]
    if field.applies_when is not None:
        return [f"{fw}.derived: a derived field always applies; remove its applies_when."]
    return check_derived(field.derived, f"{fw}.derived", known, before=position, order=order) \
        if field.derived is not None else []


def _check_criteria(spec: Spec) -> list[str]:
    try:
        pattern = re.compile(spec.criteria_pattern)
    except re.error as err:
        return [f"criteria_pattern: not a valid regular expression ({err}). Write it as, e.g., ^ESN \\d{{2}}$."]
    return [f'criteria[{i}]: id "{c.id}" does not match criteria_pattern {spec.criteria_pattern}. Fix the id or '
            "the pattern." for i, c in enumerate(spec.criteria) if not pattern.fullmatch(c.id)]


def _check_grading(spec: Spec, lists: dict[str, set[str]]) -> list[str]:
    grades = lists.get(spec.grade_list, set())
    out = [f'grading.{key}: "{g}" is not in the grade list {spec.grade_list}.'
           for key, values in (("good_or_better", spec.grading.good_or_better),
                               ("needs_action", spec.grading.needs_action))
           for g in values if norm(g) not in grades]
    # The lists practice questions answer from: each shortfall answer must be one of their choices.
    used = list(dict.fromkeys(choice_list_of(f) or "" for s in spec.sections for f in spec.fields_of(s)
                              if f.type == "question"))
    answers = {a for name in used for a in lists.get(name, set())}
    choices = ", ".join(dict.fromkeys(c for name in used for c in spec.lists.get(name, [])))
    out += [f'grading.shortfall: "{a}" is not an answer a practice question can give ({choices}). Under grading, '
            "list as shortfall the answers that say the practice fell short (the Deep Dive's are No and Partly)."
            for a in spec.grading.shortfall if used and norm(a) not in answers]
    return out


def _check_examples(spec: Spec, fields: dict[str, FieldSpec], lists: dict[str, set[str]]) -> list[str]:
    out: list[str] = []
    for name, values in spec.examples.items():
        for ref, value in values.items():
            field = fields.get(ref)
            lst = choice_list_of(field) if field is not None else None
            if field is None:
                out.append(f'examples.{name}: unknown field "{ref}".{suggest(ref, fields)}')
            elif lst is not None and norm(str(value)) not in lists.get(lst, set()):
                out.append(f'examples.{name}: "{value}" is not a choice of {ref}.')
            elif field.type == "integer" and not isinstance(value, int):
                out.append(f"examples.{name}: {ref} takes a whole number.")
    return out
