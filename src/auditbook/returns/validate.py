"""Check a returned workbook against the spec it was made from. Bad cell values are problems, never raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from auditbook.dates import month_end, parse_month
from auditbook.errors import UnreadableFileError
from auditbook.problems import Code, Problem
from auditbook.returns.audit import Audit, Provenance, SectionResult, Value
from auditbook.returns.coerce import Bad, Coerced, as_condition_text, coerce
from auditbook.returns.provenance import SpecRegistry, find_spec, read_provenance
from auditbook.returns.reader import RawWorkbook, parse_ref, read_workbook
from auditbook.returns.report import Report
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, skip_reason
from auditbook.spec.conditions import fields_in
from auditbook.workbook.formulas import Evaluator
from auditbook.workbook.layout import LISTS_SHEET, META_SHEET, Input, Layout, SectionLayout


@dataclass
class _Read:
    """Values read from a workbook, with where each was found."""

    values: dict[str, Coerced] = field(default_factory=dict)
    where: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Inputs already reported (unreadable, bad value): not reported again as missing.
    reported: set[str] = field(default_factory=set)


def validate_file(path: Path, *, registry: SpecRegistry | None = None, limits: Limits = DEFAULT_LIMITS) -> Report:
    """Validate one returned file: every problem as data; a file that cannot be opened is a problem too."""
    reason = skip_reason(path)
    if reason is not None:
        return Report(file=str(path), skipped=reason)
    try:
        # The lists sheet holds only dropdown lists and live flags, which validate works out itself.
        raw = read_workbook(path, limits, skip=frozenset({LISTS_SHEET}), whole=frozenset({META_SHEET}))
    except UnreadableFileError as err:
        return Report(file=str(path), problems=[Problem("error", err.code, str(err))])
    except OSError as err:
        return Report(file=str(path), problems=[Problem("error", Code.UNREADABLE, f"{path.name}: {err.strerror}.")])
    try:
        return validate_raw(raw, registry or SpecRegistry.load())
    except Exception as err:
        return Report(file=str(path), problems=[Problem(
            "error", Code.INTERNAL_ERROR, f"{path.name}: auditbook could not check this workbook "
            f"({type(err).__name__}). Send it to the auditbook maintainers; meanwhile check it by hand.")])


def validate_raw(raw: RawWorkbook, registry: SpecRegistry) -> Report:
    """Validate an already-read workbook."""
    report = Report(file=str(raw.path))
    agreed, problems = read_provenance(raw)
    report.problems += problems
    if problems:
        return report
    spec = find_spec(agreed, registry)
    if isinstance(spec, Problem):
        report.problems.append(spec)
        return report
    layout = registry.layout(spec)
    read = _read_values(raw, layout)
    report.problems += read.problems
    provenance = Provenance(
        file=raw.path.name, sha256=raw.sha256, spec_id=spec.id, spec_version=spec.version,
        spec_sha256=spec.sha256, instance_id=agreed["instance_id"], generated_at=agreed.get("generated_at"),
    )
    audit, problems = _check_and_build(layout, read, provenance)
    report.problems += problems
    report.audit = audit
    return report


def _read_values(raw: RawWorkbook, layout: Layout) -> _Read:
    out = _Read()
    missing_sheets: set[str] = set()
    renamed: dict[str, str] = {}
    for sl in layout.sections:
        sheet = raw.sheets.get(sl.sheet)
        if sl.sheet not in raw.sheet_states:
            renamed_to = _renamed(raw, sl)
            if renamed_to is None:
                missing_sheets.add(sl.sheet)
                out.problems.append(Problem("error", Code.SHEET_MISSING, f'the sheet "{sl.sheet}" has been deleted, '
                                            f"so {sl.section.title} cannot be read. Copy the answers into a fresh "
                                            "workbook.", sheet=sl.sheet))
                continue
            renamed[sl.sheet] = renamed_to
            sheet = raw.sheets.get(renamed_to)
            out.problems.append(Problem("warning", Code.SHEET_RENAMED, f'the sheet "{sl.sheet}" was renamed '
                                        f'"{renamed_to}"; its answers were read through their cell names. Rename '
                                        "it back if you can.", sheet=renamed_to))
        if sheet is not None and not sheet.protected:
            out.problems.append(Problem("warning", Code.SHEET_UNPROTECTED, "the sheet's protection has been removed. "
                                        "Check nothing outside the input cells was changed, then protect it again.",
                                        sheet=sheet.name))
    for inp in layout.inputs:
        if inp.sheet in missing_sheets:
            out.reported.add(inp.name)
            continue
        text = raw.names.get(inp.name)
        if text is None:
            out.reported.add(inp.name)
            out.problems.append(Problem("error", Code.NAME_MISSING, f'the cell name "{inp.name}" for '
                                        f"{_q(inp.label)} is missing, so its answer cannot be found. Copy the answers "
                                        "into a fresh workbook.", sheet=inp.sheet, cell=inp.cell, field=inp.ref))
            continue
        ref = parse_ref(text)
        if ref is None or ref[0] not in raw.sheets:
            out.reported.add(inp.name)
            out.problems.append(Problem("error", Code.NAME_BROKEN, f'the cell name "{inp.name}" for {_q(inp.label)} no '
                                        "longer points at a cell (it was deleted). Copy the answers into a fresh "
                                        "workbook.", sheet=inp.sheet, cell=inp.cell, field=inp.ref))
            continue
        sheet_name, cell = ref
        if (sheet_name, cell) != (renamed.get(inp.sheet, inp.sheet), inp.cell):
            out.problems.append(Problem("warning", Code.NAME_MOVED, f"{_q(inp.label)} was expected at {inp.sheet}!"
                                        f"{inp.cell} but rows or columns were moved; it was read from here. Check "
                                        "it is right.", sheet=sheet_name, cell=cell, field=inp.ref))
        out.where[inp.name] = (sheet_name, cell)
        raw_cell = raw.sheets[sheet_name].cell(cell)
        if raw_cell is not None and raw_cell.formula is not None:
            out.problems.append(Problem("error", Code.FORMULA_IN_INPUT, f"{_q(inp.label)} holds a formula, not an "
                                        "answer. Type the answer itself.", sheet=sheet_name, cell=cell, field=inp.ref))
            out.reported.add(inp.name)
            continue
        value = coerce(inp, raw_cell, date1904=raw.date1904)
        if isinstance(value, Bad):
            out.problems.append(Problem("error", value.code, value.message, sheet=sheet_name, cell=cell,
                                        field=inp.ref))
            out.reported.add(inp.name)
            continue
        if value is not None:
            out.values[inp.name] = value
    return out


def _renamed(raw: RawWorkbook, sl: SectionLayout) -> str | None:
    """The sheet a missing section sheet's names all point to now (Excel renames them with the sheet)."""
    targets = {ref[0] for i in sl.inputs if (text := raw.names.get(i.name)) and (ref := parse_ref(text))}
    if len(targets) == 1:
        target = targets.pop()
        if target in raw.sheets:
            return target
    return None


def _problem(read: _Read, inp: Input, severity: str, code: str, message: str) -> Problem:
    sheet, cell = read.where.get(inp.name, (inp.sheet, inp.cell))
    return Problem("error" if severity == "error" else "warning", code, message, sheet=sheet, cell=cell,
                   field=inp.ref)


def _check_and_build(layout: Layout, read: _Read, provenance: Provenance) -> tuple[Audit, list[Problem]]:
    problems: list[Problem] = []
    ev = Evaluator(layout, {k: as_condition_text(v) for k, v in read.values.items()})
    kept: dict[str, Coerced] = {}
    unsure = _depends_on(layout, {layout.by_name[n].ref for n in read.reported if n in layout.by_name})
    for inp in layout.inputs:
        value = read.values.get(inp.name)
        if inp.row_index is not None:
            continue
        if inp.name in unsure:
            # Whether it applies turns on an answer already reported as unreadable: say nothing more about it.
            if value is not None:
                kept[inp.name] = value
            continue
        if value is not None and not ev.input_applies(inp):
            because = inp.not_applicable_because or "it does not apply"
            problems.append(_problem(read, inp, "warning", Code.ANSWERED_NOT_APPLICABLE,
                                     f"{_q(inp.label)} has an answer but does not apply because {because}; it is "
                                     "not counted. Clear it, or check the Case profile answers."))
            continue
        if value is None and inp.name not in read.reported and ev.input_required(inp):
            problems.append(_problem(read, inp, "error", Code.REQUIRED_MISSING,
                                     f"{_q(inp.label)} is required. Fill it in."))
        if value is not None:
            kept[inp.name] = value
    forms: dict[str, dict[str, Value]] = {}
    sections: list[SectionResult] = []
    tables: dict[str, list[dict[str, Value]]] = {}
    final = Evaluator(layout, {k: as_condition_text(v) for k, v in kept.items()})
    for sl in layout.sections:
        if sl.section.kind == "table":
            tables[sl.section.id] = _table_rows(sl, read, kept, problems)
            continue
        answers: dict[str, Value] = {i.field: kept.get(i.name) for i in sl.inputs}
        if sl.section.kind == "form":
            forms[sl.section.id] = answers
            continue
        problems += _optional_grade(sl, read, kept, final)
        themes = [str(v) for k, v in answers.items() if k.startswith("theme_") and v]
        grade = answers.get("grade")
        sections.append(SectionResult(
            id=sl.section.id, title=sl.section.title, applies=final.flag(sl.applies_flag),
            required=final.flag(sl.required_flag or sl.applies_flag), status=str(final.value(sl.status_name)),
            grade=str(grade) if grade else None, themes=themes, answers=answers,
        ))
    due, late, timing = _timeliness(layout, forms, read)
    problems += timing
    audit = Audit(provenance=provenance, forms=forms, sections=sections, tables=tables, due_date=due, late=late)
    return audit, problems


def _q(label: str) -> str:
    """A label as messages quote it (many end in "?")."""
    return f'"{label}"'


def _depends_on(layout: Layout, refs: set[str]) -> set[str]:
    """Inputs whose section or own condition looks at any of these fields."""
    if not refs:
        return set()
    out: set[str] = set()
    for sl in layout.sections:
        section_refs = set(fields_in(sl.section.applies_when)) | set(fields_in(sl.section.required_when))
        for inp in sl.inputs:
            if (section_refs | set(fields_in(inp.condition))) & refs:
                out.add(inp.name)
    return out


def _optional_grade(sl: SectionLayout, read: _Read, kept: dict[str, Coerced], ev: Evaluator) -> list[Problem]:
    """An optional section that was partly answered still needs its grade."""
    if not ev.flag(sl.applies_flag) or ev.flag(sl.required_flag or sl.applies_flag):
        return []
    grade = next((i for i in sl.inputs if i.field == "grade"), None)
    answered = any(i.name in kept for i in sl.inputs if i is not grade)
    if grade is None or not answered or grade.name in kept or grade.name in read.reported:
        return []
    return [_problem(read, grade, "error", Code.REQUIRED_MISSING,
                     f"{_q(grade.label)} is required once any of this optional section is answered. Give a grade "
                     "or clear the answers.")]


def _table_rows(sl: SectionLayout, read: _Read, kept: dict[str, Coerced],
                problems: list[Problem]) -> list[dict[str, Value]]:
    rows: dict[int, list[Input]] = {}
    for inp in sl.inputs:
        rows.setdefault(inp.row_index or 0, []).append(inp)
    default_responsible = kept.get("profile_team_manager")
    out: list[dict[str, Value]] = []
    for index, inputs in sorted(rows.items()):
        values = {i.field: read.values.get(i.name) for i in inputs}
        if all(v is None for v in values.values()):
            continue
        if values.get("responsible") is None and default_responsible is not None:
            values["responsible"] = default_responsible
        for inp in inputs:
            if inp.required and values.get(inp.field) is None and inp.name not in read.reported:
                problems.append(_problem(read, inp, "error", Code.REQUIRED_MISSING,
                                         f"{_q(inp.label)} is required because this row has other entries. Fill it "
                                         "in, or clear the row."))
        if "responsible" in values and values["responsible"] is None:
            resp = next(i for i in inputs if i.field == "responsible")
            problems.append(_problem(read, resp, "error", Code.REQUIRED_MISSING,
                                     f"{_q(resp.label)} is required: name the person, or fill in the team manager "
                                     "on the Case profile."))
        out.append({"row": index, **values})
    return out


def _timeliness(layout: Layout, forms: dict[str, dict[str, Value]],
                read: _Read) -> tuple[date | None, bool, list[Problem]]:
    # The audit month decides the due date (the end of that month): a typed due date cannot move it.
    profile = forms.get("profile", {})
    month, typed = profile.get("audit_month"), profile.get("due_date")
    due = month_end(*parse_month(month)) if isinstance(month, str) else typed if isinstance(typed, date) else None
    problems: list[Problem] = []
    due_input = layout.by_ref.get("profile.due_date")
    if isinstance(typed, date) and due is not None and typed != due and due_input is not None:
        problems.append(_problem(read, due_input, "warning", Code.DUE_DATE_CHANGED,
                                 f"the due date says {typed:%d/%m/%Y} but audits are due by the end of the audit "
                                 f"month, {due:%d/%m/%Y}; lateness is judged against {due:%d/%m/%Y}."))
    completed = profile.get("date_completed")
    late = due is not None and isinstance(completed, date) and completed > due
    inp = layout.by_ref.get("profile.date_completed")
    if late and inp is not None and isinstance(completed, date) and due is not None:
        problems.append(_problem(read, inp, "warning", Code.LATE,
                                 f"completed {completed:%d/%m/%Y}, after the due date {due:%d/%m/%Y} (the end of "
                                 "the audit month): the return is late."))
    return due, late, problems
