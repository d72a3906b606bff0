"""Cross-field rules of a spec, each problem a KeyProblem: its key, what is wrong and how to fix it (the catalogue's
words). Lists and grades, criteria, sections and their fields, examples; conditions and rules in lint_conditions,
roles in lint_roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from auditbook.problems import Code, Key, KeyProblem
from auditbook.spec.lint_conditions import Known, check_applies, check_derived, lint_rules
from auditbook.spec.lint_roles import lint_roles
from auditbook.spec.models import (
    DERIVED_LISTS,
    THEME_LIST_PREFIX,
    FieldSpec,
    SectionSpec,
    Spec,
    choice_list_of,
    input_name,
    judged_sections,
)
from auditbook.spec.moderation import moderation_spec
from auditbook.text import norm, suggest

#: Sheets the generator adds itself (and the criteria sheet the spec names); a section may not use their names.
RESERVED_SHEETS = ("Start", "Summary", "Lists", "Metadata")
#: The fixed columns of the master's Audits table, which has one more column per section, headed by its title:
#: a section may not be titled as one of them (the headers of an Excel Table must differ, ignoring case).
MASTER_COLUMNS = (
    "Case reference", "Round", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month", "Due date",
    "Completed", "Age", "Age band", "Gender", "Ethnicity", "Legal status", "Late", "Overall grade",
    "Record reflects practice", "Feedback to team manager", "Feedback to practitioner", "Urgent concern",
    "Source file", "Source file missing", "Spec version", "Warnings")
_MASTER_COLUMN = "a column of the master's Audits table"


def lint(spec: Spec) -> list[KeyProblem]:
    """Every cross-field problem in the spec, or an empty list."""
    known = Known.of(spec)
    found = [*_check_lists(spec), *_check_criteria(spec), *_check_grading(spec, known.lists),
             *_SectionLint(spec, known).run(), *lint_roles(spec), *_check_examples(spec, known), *lint_rules(known)]
    # The moderation spec is made from this one: judged only once this one is sound, or its problems come twice.
    return found or _check_moderation(spec)


def _check_moderation(spec: Spec) -> list[KeyProblem]:
    """The moderation spec this spec makes must itself be a good spec: each of its problems at the moderation key.
    A spec with no judged section has nothing to moderate (generate --moderate says so)."""
    if spec.moderation is None or not judged_sections(spec):
        return []
    try:
        made = moderation_spec(spec)
    except (ValidationError, ValueError) as err:
        return [KeyProblem.of(Code.SPEC_MODERATION, Key.of("moderation"), problem=str(err).splitlines()[0])]
    return [KeyProblem.of(Code.SPEC_MODERATION, Key.of("moderation"), problem=p.message) for p in lint(made)]


# -- choice lists, grades and criteria -----------------------------------------------------------------------------


def _check_lists(spec: Spec) -> list[KeyProblem]:
    out = [KeyProblem.of(Code.SPEC_RESERVED_LIST, Key.of("choice_lists", name), name=name)
           for name in spec.choice_lists if name in DERIVED_LISTS or name.startswith(THEME_LIST_PREFIX)]
    lists = {**spec.choice_lists, "theme": [t.label for t in spec.themes]}
    for name, values in lists.items():
        key = Key.of("themes") if name == "theme" and name not in spec.choice_lists else Key.of("choice_lists", name)
        out += _check_choices(key, values)
    return out + _check_grade_list(spec) + _check_theme_sections(spec)


def _check_theme_sections(spec: Spec) -> list[KeyProblem]:
    """Each theme belongs to judged sections, and a judged section with theme tags has a theme of its own."""
    judged = [s.id for s in judged_sections(spec)]
    out = [KeyProblem.of(Code.SPEC_THEME_SECTION, Key.of("themes").item(i, theme.label).key("sections"),
                         section=sid, suggestion=suggest(sid, judged))
           for i, theme in enumerate(spec.themes) for sid in theme.sections if sid not in judged]
    tagged = any(choice_list_of(f) == "theme" for f in spec.judgement_fields)
    for si, section in enumerate(spec.sections):
        if section.kind != "judged" or not spec.themes:
            continue
        if (tagged or any(choice_list_of(f) == "theme" for f in section.fields)) and \
                not any(t.belongs_to(section.id) for t in spec.themes):
            out.append(KeyProblem.of(Code.SPEC_SECTION_WITHOUT_THEMES, Key.of("sections").item(si, section.id),
                                     section=section.id))
    return out


def _check_choices(key: Key, values: list[str]) -> list[KeyProblem]:
    """An empty list, a blank choice, a choice twice (ignoring case and spaces)."""
    out = [] if values else [KeyProblem.of(Code.SPEC_EMPTY_LIST, key)]
    seen: set[str] = set()
    for v in values:
        if not v.strip():
            out.append(KeyProblem.of(Code.SPEC_BLANK_CHOICE, key))
        elif norm(v) in seen:
            out.append(KeyProblem.of(Code.SPEC_DUPLICATE_CHOICE, key, choice=v))
        seen.add(norm(v))
    return out


def _check_grade_list(spec: Spec) -> list[KeyProblem]:
    if spec.grade_list not in spec.choice_lists:
        return [KeyProblem.of(Code.SPEC_UNKNOWN_GRADE_LIST, Key.of("grade_list"), name=spec.grade_list,
                              lists=", ".join(spec.choice_lists))]
    grades = {norm(g) for g in spec.choice_lists[spec.grade_list]}
    return [KeyProblem.of(Code.SPEC_NOT_A_GRADE, Key.of("grade_descriptors", i), grade=d.grade,
                          grade_list=spec.grade_list)
            for i, d in enumerate(spec.grade_descriptors) if norm(d.grade) not in grades]


def _check_criteria(spec: Spec) -> list[KeyProblem]:
    ids = [c.id for c in spec.criteria]
    twice = [KeyProblem.of(Code.SPEC_DUPLICATE_CRITERION, Key.of("criteria"), id=c)
             for c in sorted({c for c in ids if ids.count(c) > 1})]
    try:
        pattern = re.compile(spec.criteria_pattern)
    except re.error as err:
        return [KeyProblem.of(Code.SPEC_BAD_CRITERIA_PATTERN, Key.of("criteria_pattern"), error=err), *twice]
    return [KeyProblem.of(Code.SPEC_CRITERION_ID, Key.of("criteria", i), id=c.id, pattern=spec.criteria_pattern)
            for i, c in enumerate(spec.criteria) if not pattern.fullmatch(c.id)] + twice


def _check_grading(spec: Spec, lists: dict[str, set[str]]) -> list[KeyProblem]:
    grades = lists.get(spec.grade_list, set())
    out = [KeyProblem.of(Code.SPEC_NOT_A_GRADE, Key.of("grading", key), grade=g, grade_list=spec.grade_list)
           for key, values in (("good_or_better", spec.grading.good_or_better),
                               ("needs_action", spec.grading.needs_action))
           for g in values if norm(g) not in grades]
    # The lists practice questions answer from: each shortfall answer must be one of their choices.
    used = list(dict.fromkeys(choice_list_of(f) or "" for s in spec.sections for f in spec.fields_of(s)
                              if f.type == "question"))
    answers = {a for name in used for a in lists.get(name, set())}
    choices = ", ".join(dict.fromkeys(c for name in used for c in spec.lists.get(name, [])))
    out += [KeyProblem.of(Code.SPEC_SHORTFALL_NOT_AN_ANSWER, Key.of("grading", "shortfall"), answer=a, choices=choices)
            for a in spec.grading.shortfall if used and norm(a) not in answers]
    return out


# -- sections and their fields ---------------------------------------------------------------------------------------


@dataclass
class _SectionLint:
    """The sections in order, with what earlier ones took (ids, titles, sheets, cell names) to find clashes."""

    spec: Spec
    known: Known
    #: Each field's position ("section.field" by its first appearance): a condition may look only at earlier ones.
    order: dict[str, int] = field(default_factory=dict)
    section_ids: set[str] = field(default_factory=set)
    titles: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    #: The position of the next input.
    position: int = 0

    def __post_init__(self) -> None:
        # Every field's position first, so a condition on a later field is told apart from an unknown one.
        self.order = {ref: i for i, ref in enumerate(fields_in_order(self.spec))}
        self.titles = {norm(c): _MASTER_COLUMN for c in MASTER_COLUMNS}
        reserved = (*RESERVED_SHEETS, self.spec.wording.criteria_sheet)
        self.sheets = {norm(s): "a sheet the generator adds" for s in reserved}

    def run(self) -> list[KeyProblem]:
        """Every problem of every section and field, in order."""
        out: list[KeyProblem] = []
        for si, section in enumerate(self.spec.sections):
            key = Key.of("sections").item(si, section.id)
            out += self._section(section, key)
            out += check_applies(section.applies_when, key.key("applies_when"), self.known, before=self.position,
                                 order=self.order)
            out += check_applies(section.required_when, key.key("required_when"), self.known, before=self.position,
                                 order=self.order)
            seen: set[str] = set()
            for fi, f in enumerate(self.spec.fields_of(section)):
                fkey = key.key("fields").item(fi, f.id)
                out += self._duplicate(section, f, fkey) if f.id in seen else self._field(section, f, fkey)
                seen.add(f.id)
                self.position += 1
        return out

    def _section(self, section: SectionSpec, key: Key) -> list[KeyProblem]:
        """The section itself: its id, title and sheet against the others', its condition's words, a table's rows."""
        out: list[KeyProblem] = []
        if section.id in self.section_ids:
            out.append(KeyProblem.of(Code.SPEC_DUPLICATE_SECTION, key, id=section.id))
        self.section_ids.add(section.id)
        taken = self.titles.get(norm(section.title))
        # An info section may share a master column's name: it has no column of its own there.
        if taken is not None and (section.kind == "judged" or taken != _MASTER_COLUMN):
            out.append(KeyProblem.of(Code.SPEC_TITLE_TAKEN, key.key("title"), title=section.title, taken=taken))
        self.titles.setdefault(norm(section.title), f"the title of section {section.id}")
        if norm(section.sheet) in self.sheets:
            out.append(KeyProblem.of(Code.SPEC_SHEET_TAKEN, key.key("sheet"), sheet=section.sheet,
                                     taken=self.sheets[norm(section.sheet)]))
        self.sheets[norm(section.sheet)] = f"section {section.id}"
        if section.applies_when is not None and not section.not_applicable_because:
            out.append(KeyProblem.of(Code.SPEC_NO_REASON, key, case="section"))
        if section.kind == "table":
            out += _check_table(section, key)
        return out + _unknown_criteria(self.spec, section.criteria, key.key("criteria"))

    def _duplicate(self, section: SectionSpec, f: FieldSpec, key: Key) -> list[KeyProblem]:
        return [KeyProblem.of(Code.SPEC_DUPLICATE_FIELD, key, case="judged" if section.kind == "judged" else None,
                              id=f.id, section=section.id)]

    def _field(self, section: SectionSpec, f: FieldSpec, key: Key) -> list[KeyProblem]:
        """One field: its cell name, its list and default, its criteria, its condition and how it is derived."""
        out: list[KeyProblem] = []
        ref, name = f"{section.id}.{f.id}", input_name(section.id, f.id)
        if self.names.get(name, ref) != ref:
            out.append(KeyProblem.of(Code.SPEC_NAME_CLASH, key, name=name, other=self.names[name]))
        self.names[name] = ref
        out += _check_field_list(self.spec, self.known, f, key)
        out += _unknown_criteria(self.spec, f.criteria, key.key("criteria"))
        if f.applies_when is not None and not f.not_applicable_because:
            out.append(KeyProblem.of(Code.SPEC_NO_REASON, key))
        out += check_applies(f.applies_when, key.key("applies_when"), self.known, before=self.position,
                             order=self.order)
        if f.derived is not None:
            out += self._derived(f, key.key("derived"), section.kind)
        return out

    def _derived(self, f: FieldSpec, key: Key, kind: str) -> list[KeyProblem]:
        if f.type != "date" or kind == "table":
            return [KeyProblem.of(Code.SPEC_DERIVED_NOT_A_DATE, key)]
        if f.applies_when is not None:
            return [KeyProblem.of(Code.SPEC_DERIVED_CONDITION, key)]
        return check_derived(f.derived, key, self.known, before=self.position, order=self.order) \
            if f.derived is not None else []


def fields_in_order(spec: Spec) -> dict[str, FieldSpec]:
    """Every field of the spec by "section.field", in order (the first, when an id is used twice)."""
    out: dict[str, FieldSpec] = {}
    for section in spec.sections:
        for f in spec.fields_of(section):
            out.setdefault(f"{section.id}.{f.id}", f)
    return out


def _check_table(section: SectionSpec, key: Key) -> list[KeyProblem]:
    out = [KeyProblem.of(Code.SPEC_TABLE_ROWS, key)] if section.rows < 1 else []
    if section.applies_when or any(f.applies_when for f in section.fields):
        out.append(KeyProblem.of(Code.SPEC_TABLE_CONDITION, key))
    return out


def _check_field_list(spec: Spec, known: Known, f: FieldSpec, key: Key) -> list[KeyProblem]:
    """A choice field's list is there; only choice and question fields have one; a default is one of its choices."""
    lst = choice_list_of(f)
    out: list[KeyProblem] = []
    if f.type == "choice" and f.choices is None:
        out.append(KeyProblem.of(Code.SPEC_NO_CHOICES, key))
    elif lst is not None and lst not in spec.lists:
        named = [n for n in spec.lists if not n.startswith(THEME_LIST_PREFIX)]  # each section's themes: "theme"
        out.append(KeyProblem.of(Code.SPEC_UNKNOWN_LIST, key.key("choices"), name=lst,
                                 suggestion=suggest(lst, named), lists=", ".join(named)))
    elif f.choices is not None and lst is None:
        out.append(KeyProblem.of(Code.SPEC_CHOICES_NOT_TAKEN, key.key("choices")))
    if f.default is not None and lst and norm(f.default) not in known.lists.get(lst, set()):
        out.append(KeyProblem.of(Code.SPEC_DEFAULT_NOT_A_CHOICE, key.key("default"), value=f.default, name=lst))
    return out


def _unknown_criteria(spec: Spec, ids: list[str], key: Key) -> list[KeyProblem]:
    criteria = [c.id for c in spec.criteria]
    return [KeyProblem.of(Code.SPEC_UNKNOWN_CRITERION, key, id=c, suggestion=suggest(c, criteria))
            for c in ids if c not in criteria]


def _check_examples(spec: Spec, known: Known) -> list[KeyProblem]:
    fields = fields_in_order(spec)
    out: list[KeyProblem] = []
    for name, values in spec.examples.items():
        key = Key.of("examples", name)
        for ref, value in values.items():
            f = fields.get(ref)
            lst = choice_list_of(f) if f is not None else None
            if f is None:
                out.append(KeyProblem.of(Code.SPEC_UNKNOWN_FIELD, key, ref=ref, suggestion=suggest(ref, fields)))
            elif lst is not None and norm(str(value)) not in known.lists.get(lst, set()):
                out.append(KeyProblem.of(Code.SPEC_NOT_A_CHOICE, key, value=value, ref=ref,
                                         suggestion=suggest(str(value), spec.lists.get(lst, []))))
            elif f.type == "integer" and not isinstance(value, int):
                out.append(KeyProblem.of(Code.SPEC_EXAMPLE_NOT_A_NUMBER, key, ref=ref))
    return out
