"""Pure: the tidy tables every answer goes out in (master tabs, `auditbook export`): one fact per row.

Column names are the same whatever the spec, so Power Query, R or pandas read them by name; a column
whose role no spec gives is left out. Questions and fields are labelled from the spec, through the
registry's layouts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from auditbook.analysis.actions import Action, State
from auditbook.analysis.cohorts import age_band
from auditbook.analysis.collate import Collation, Merged
from auditbook.returns.audit import APPLIES, NOT_APPLICABLE, NOT_YET_KNOWN
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.conditions import combine, describe
from auditbook.spec.models import Spec
from auditbook.spec.roles import Role
from auditbook.text import norm
from auditbook.workbook.describe import data_dictionary

Value = str | int | float | date | None
#: What a section grade column of the Audits table holds for a section that does not apply to the case.
NOT_GRADED = "n/a"
TEXT, WRAP, DATE, INT, PCT, CHANGE = "text", "wrap", "date", "int", "pct", "change"


@dataclass(frozen=True)
class Column:
    """A column of a table: header, width in characters, and kind (text, wrap, date, int, pct, change)."""

    header: str
    width: float = 16
    kind: str = TEXT


@dataclass(frozen=True)
class Table:
    """A tidy table: its Excel Table / file name, its columns and rows."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Value, ...]]
    #: Columns a reader should see when the table is printed or split (the first n).
    key_columns: int = 1
    #: Runs of columns [lo, hi) whose values repeat together (a return's case, round and team): written once.
    groups: tuple[tuple[int, int], ...] = ()
    #: The run of columns [lo, hi) holding section grades, NOT_GRADED where a section does not apply (Audits).
    graded: tuple[int, int] = (0, 0)


def projected(table: Table, widths: Mapping[str, float]) -> Table:
    """Some of a table's columns, by header, in the table's order, each at the width given (a pack's narrower tabs,
    which print on one page's width)."""
    headers = [c.header for c in table.columns]
    at = [i for i, h in enumerate(headers) if h in widths]
    columns = tuple(Column(table.columns[i].header, widths[headers[i]], table.columns[i].kind) for i in at)
    return Table(table.name, columns, [tuple(r[i] for i in at) for r in table.rows],
                 key_columns=sum(1 for i in at if i < table.key_columns))


def _has(specs: Sequence[Spec], role: Role) -> bool:
    return any(s.roles.field(role) for s in specs)


def section_columns(merged: Sequence[Merged], taken: Sequence[str]) -> list[tuple[str, str]]:
    """One column per judged section title the merged audits have, in the order first met: (key, header).

    A section whose id changed between spec versions but whose title did not shares its column (the key is the
    title, case- and space-insensitively). Excel refuses a Table whose headers match, ignoring case: a title that
    matches a column in `taken` ("Team", "Late") is headed "<title> (grade)".
    """
    used = {norm(h) for h in taken}
    out: dict[str, str] = {}
    for m in merged:
        for s in m.audit.sections:
            key = norm(s.title)
            if key in out:
                continue
            header, n = s.title, 1
            while norm(header) in used:
                header, n = f"{s.title} (grade{'' if n == 1 else f' {n}'})", n + 1
            used.add(norm(header))
            out[key] = header
    return list(out.items())


#: Profile roles shown on the Audits table, in order, with their column header and width.
#: Text that can be longer than its column wraps (WRAP), so a printed tab loses none of it.
PROFILE_COLUMNS: tuple[tuple[Role, str, float, str], ...] = (
    (Role.TEAM, "Team", 16, WRAP), (Role.WORKER, "Allocated worker", 20, WRAP),
    (Role.TEAM_MANAGER, "Team manager", 20, WRAP), (Role.AUDITOR, "Auditor", 18, WRAP),
    (Role.AUDIT_MONTH, "Audit month", 11, TEXT), (Role.DUE_DATE, "Due date", 11, DATE),
    (Role.COMPLETED, "Completed", 11, DATE), (Role.AGE, "Age", 6, INT), (Role.GENDER, "Gender", 12, WRAP),
    (Role.ETHNICITY, "Ethnicity", 20, WRAP), (Role.LEGAL_STATUS, "Legal status", 18, WRAP),
    (Role.OVERALL_GRADE, "Overall grade", 18, WRAP),
)
JUDGEMENT_COLUMNS: tuple[tuple[Role, str, float, str], ...] = (
    (Role.RECORD_REFLECTS_PRACTICE, "Record reflects practice", 12, WRAP),
    (Role.FEEDBACK_TEAM_MANAGER, "Feedback to team manager", 12, DATE),
    (Role.FEEDBACK_PRACTITIONER, "Feedback to practitioner", 12, DATE),
)


def audits_table(c: Collation) -> Table:
    """One row per merged audit: who, when, the child's profile, every grade, where it came from."""
    specs = c.specs
    profile = [p for p in PROFILE_COLUMNS if _has(specs, p[0])]
    judgement = [p for p in JUDGEMENT_COLUMNS if _has(specs, p[0])]
    before = [Column("Case reference", 16, WRAP), Column("Round", 14, WRAP)]
    for role, h, w, k in profile:
        if role is not Role.OVERALL_GRADE:
            before.append(Column(h, w, k))
        if role is Role.AGE:
            before.append(Column("Age band", 11))
    overall = _has(specs, Role.OVERALL_GRADE)
    before += [Column("Late", 6), *([Column("Overall grade", 18, WRAP)] if overall else [])]
    after = [*[Column(h, w, k) for _, h, w, k in judgement], Column("Urgent concern", 9),
             Column("Source file", 30, WRAP), Column("Source file missing", 9), Column("Spec version", 9),
             Column("Warnings", 9, INT)]
    sections = section_columns(c.merged, [col.header for col in before + after])
    cols = [*before, *[Column(header, 14, WRAP) for _, header in sections], *after]
    rows: list[tuple[Value, ...]] = []
    keys: dict[str, str] = {}  # each title's column key, worked out once
    for m in c.merged:
        a = m.audit
        grades = {keys.get(s.title) or keys.setdefault(s.title, norm(s.title)):
                  (s.grade or "") if s.applies else NOT_GRADED for s in a.sections}
        facts: list[Value] = []
        for role, _, _, _ in profile:
            if role is Role.OVERALL_GRADE:
                continue
            value = a.due_date if role is Role.DUE_DATE else a.fact(role)
            facts.append(value)
            if role is Role.AGE:
                facts.append(age_band(value))
        rows.append((a.case_ref, m.round, *facts, "Yes" if a.late else "No",
                     *([a.text(Role.OVERALL_GRADE)] if overall else []),
                     *[grades.get(key, "") for key, _ in sections], *[a.fact(r) for r, _, _, _ in judgement],
                     "Yes" if a.urgent else "No", m.file, "Yes" if m.source_missing else "",
                     a.provenance.spec_version, len(m.warnings)))
    return Table("Audits", tuple(cols), rows, key_columns=2, graded=(len(before), len(before) + len(sections)))


#: The Answers tab is for filtering and Power Query, not for printing (the Summary says so): only the question and the
#: answer wrap, so its rows stay small (a wrapped cell carries a style of its own: 180,000 rows of them add up).
ANSWER_COLUMNS = (Column("Case reference", 16), Column("Round", 14), Column("Team", 16), Column("Section", 30),
                  Column("Field", 34), Column("Question", 50, WRAP), Column("Answer", 50, WRAP),
                  Column("Applies", 8))
#: One return's Answers rows: (case, round, team), then per answer (section, field, question), answer, applies.
AnswerGroup = tuple[tuple[str, str, str], list[tuple[tuple[str, str, str], Value, str]]]
_NAME, _VALUE, _APPLIES = itemgetter(2), itemgetter(4), itemgetter(5)


class AnswerRows:
    """Each merged audit's Answers rows: its own cells, and per answer its section (named by its title in the spec),
    name and question, the answer and whether it applied.

    "Applies" is what validate decided: every answer it counted applies; one it set aside (the question did not
    apply, or an answer deciding it was blank) is listed with "No" or "Not yet known".
    """

    def __init__(self, registry: SpecRegistry) -> None:
        self._registry = registry
        self._titles: dict[str, dict[str, str]] = {}
        # Each input's (section title, name, question), made once per spec and kind of audit (in which an input's name
        # gives its section and question) and shared by every return's row of it: ~190 rows a return.
        self._abouts: dict[tuple[str, str], dict[str, tuple[str, str, str]]] = {}

    def labels(self, merged: Sequence[Merged]) -> list[str]:
        """Whether an answer applied, and the section titles, names, questions and choices of every input of the
        specs (of the kinds) these audits were made from, in an order that depends on those alone."""
        out: list[str] = [APPLIES, NOT_APPLICABLE, NOT_YET_KNOWN]
        for sha, kind in sorted({(m.audit.provenance.spec_sha256, m.audit.provenance.kind) for m in merged}):
            spec = self._registry.by_sha.get(sha)
            try:
                layout = None if spec is None else self._registry.layout_of(spec, kind)
            except ValueError:
                layout = None
            if spec is None or layout is None:
                continue
            title = {s.id: s.title for s in spec.sections}
            for i in layout.inputs:
                out += (title.get(i.section, ""), i.name, i.label, *i.choices)
        return out

    @staticmethod
    def who(m: Merged) -> tuple[str, str, str]:
        """The return's own cells of each of its rows: case, round, team."""
        return m.audit.case_ref, m.round, m.audit.text(Role.TEAM)

    def items(self, m: Merged) -> list[tuple[tuple[str, str, str], Value, str]] | None:
        """Per answer: (section, field, question), the answer, whether it applied (None: its spec is not known)."""
        a = m.audit
        sha = a.provenance.spec_sha256
        title = self._titles.get(sha)
        if title is None:
            spec = self._registry.by_sha.get(sha)
            if spec is None:
                return None
            title = self._titles[sha] = {s.id: s.title for s in spec.sections}
        about = self._abouts.setdefault((sha, a.provenance.kind), {})
        answers = a.answers
        # Without a step of Python per answer, but for an input not met before (by index: section, field, name,
        # label, value, applies).
        try:
            found = list(map(about.__getitem__, map(_NAME, answers)))
        except KeyError:
            for x in answers:
                about.setdefault(x[2], (title[x[0]], x[2], x[3]))
            found = list(map(about.__getitem__, map(_NAME, answers)))
        return list(zip(found, map(_VALUE, answers), map(_APPLIES, answers), strict=True))


def answer_groups(c: Collation, registry: SpecRegistry) -> Iterator[AnswerGroup]:
    """The Answers rows grouped by return (see AnswerRows); an audit whose spec is not known has none."""
    made = AnswerRows(registry)
    for m in c.merged:
        items = made.items(m)
        if items is not None:
            yield made.who(m), items


def answers_table(c: Collation, registry: SpecRegistry) -> Table:
    """One row per return and answered input: the question as the spec words it, the answer, whether it applied."""
    rows: list[tuple[Value, ...]] = [(*who, *about, value, applies) for who, answers in answer_groups(c, registry)
                                     for about, value, applies in answers]
    return Table("Answers", ANSWER_COLUMNS, rows, key_columns=2)


def findings_table(c: Collation, *, include_text: bool = True) -> Table:
    """One row per case and applicable section: grade, theme tags, what is working well, what needs to improve."""
    cols = (Column("Case reference", 16, WRAP), Column("Round", 14, WRAP), Column("Team", 16, WRAP),
            Column("Allocated worker", 18, WRAP), Column("Section", 28, WRAP), Column("Grade", 16, WRAP),
            Column("Theme tags", 28, WRAP),
            Column("What is working well", 55, WRAP), Column("What needs to improve", 55, WRAP),
            Column("Impact", 40, WRAP))
    rows: list[tuple[Value, ...]] = []
    judged_whole = _has(c.specs, Role.OVERALL_GRADE) or _has(c.specs, Role.IMPACT)
    for m in c.merged:
        a = m.audit
        who = (a.case_ref, m.round, a.text(Role.TEAM), a.text(Role.WORKER))
        for s in a.sections:
            if s.applies:
                rows.append((*who, s.title, s.grade or "", "; ".join(s.themes),
                             (s.working_well or "") if include_text else "", (s.to_improve or "") if include_text
                             else "", ""))
        if judged_whole:
            rows.append((*who, "Overall judgement", a.text(Role.OVERALL_GRADE), "", "", "",
                         a.text(Role.IMPACT) if include_text else ""))
    return Table("Findings", cols, rows, key_columns=2, groups=((0, 4), *((c, c + 1) for c in range(4, 10))))


ACTION_COLUMNS = (
    Column("Action ID", 22, WRAP), Column("Case reference", 14, WRAP), Column("Round", 12, WRAP),
    Column("Team", 14, WRAP), Column("Section", 22, WRAP), Column("Action", 45, WRAP), Column("Responsible", 16, WRAP),
    Column("Timescale", 11, DATE), Column("Priority", 9, WRAP), Column("Agreed", 8, WRAP), Column("Status", 12, WRAP),
    Column("Notes", 30, WRAP),
    Column("Date closed", 11, DATE), Column("Overdue", 9), Column("Conflicting edits", 30, WRAP),
    Column("Source file", 24, WRAP))


def actions_table(actions: Sequence[Action], states: Mapping[str, State], today: date) -> Table:
    """The action register: each action with the status, notes and date closed kept for it."""
    rows: list[tuple[Value, ...]] = []
    for act in actions:
        st = states.get(act.id, State())
        rows.append((act.id, act.case_ref, act.round, act.team, act.section, act.text, act.responsible,
                     act.timescale, act.priority, act.agreed, st.status, st.notes, st.closed,
                     "Overdue" if act.overdue(st, today) else "", st.conflict, act.file))
    return Table("Actions", ACTION_COLUMNS, rows, key_columns=2)


def rejected_table(c: Collation) -> Table:
    """Every file not merged, one row per problem."""
    cols = (Column("File", 36, WRAP), Column("Status", 11, WRAP), Column("Reason", 34, WRAP), Column("Severity", 9),
            Column("Code", 18, WRAP), Column("Sheet", 18, WRAP), Column("Cell", 7), Column("Message", 70, WRAP))
    rows: list[tuple[Value, ...]] = []
    for n in sorted(c.not_merged, key=lambda n: (n.status != "rejected", n.file)):
        if not n.problems:
            rows.append((n.file, n.status, n.reason, "", "", "", "", ""))
        for p in n.problems:
            rows.append((n.file, n.status, n.reason, p.severity, p.code, p.sheet, p.cell, p.message))
    return Table("Rejected", cols, rows)


def _labeller(labels: dict[str, str]) -> Callable[[str], str]:
    return lambda ref: labels.get(ref, ref)


def dictionary_table(specs: Sequence[Spec], registry: SpecRegistry) -> Table:
    """The data dictionary of the specs: every input's name, section, label, type, choices, when it applies."""
    cols = (Column("Spec", 12, WRAP), Column("Version", 8), Column("Field", 28, WRAP), Column("Section", 26, WRAP),
            Column("Label", 50, WRAP), Column("Type", 10), Column("Choices", 30, WRAP), Column("Required", 9),
            Column("Applies when", 40, WRAP), Column("Sheet", 16, WRAP), Column("Cell", 7))
    rows: list[tuple[Value, ...]] = []
    for spec in specs:
        layout = registry.layout(spec)
        labels = {i.ref: i.label for i in layout.inputs if i.row_index is None}
        titles = {s.id: s.title for s in spec.sections}
        for i in data_dictionary(spec, layout)["inputs"]:
            inp = layout.by_name[i["name"]]
            sl = layout.section(inp.section)
            cond = describe(combine(sl.section.applies_when, inp.condition), _labeller(labels))
            rows.append((spec.id, spec.version, i["name"], titles.get(i["section"], i["section"]), i["label"],
                         i["type"], ", ".join(i["choices"] or ()), "Yes" if i["required"] else "No", cond,
                         i["sheet"], i["cell"]))
    return Table("Dictionary", cols, rows, key_columns=3)
