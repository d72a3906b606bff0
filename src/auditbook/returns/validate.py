"""Check a returned workbook against the spec it was made from. Bad cell values are problems, never raised."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from auditbook.dates import uk
from auditbook.diagnostics import file_label, internal
from auditbook.errors import UnreadableFileError
from auditbook.memory import paused_gc
from auditbook.problems import Code, Problem
from auditbook.returns.assemble import assemble
from auditbook.returns.audit import Audit, Provenance
from auditbook.returns.causes import group_by_cause
from auditbook.returns.coerce import Coerced, as_condition_text
from auditbook.returns.provenance import SpecRegistry, find_spec, read_provenance
from auditbook.returns.reader import RawWorkbook, read_workbook
from auditbook.returns.report import Report
from auditbook.returns.rules import check_rules
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, OversizeError, skip_reason
from auditbook.returns.urgent import urgent_concern
from auditbook.returns.values import ReadValues, quoted, read_values
from auditbook.spec.conditions import fields_in
from auditbook.spec.evaluate import Evaluator, waiting_words
from auditbook.spec.layout import LISTS_SHEET, META_SHEET, Input, Layout, SectionLayout
from auditbook.spec.moderation import AUDIT
from auditbook.spec.roles import Role
from auditbook.text import name_key

log = logging.getLogger(__name__)

def validate_file(path: Path, *, registry: SpecRegistry | None = None, limits: Limits = DEFAULT_LIMITS,
                  today: date | None = None) -> Report:
    """Validate one returned file: every problem as data; a file that cannot be opened is a problem too.

    With `today` (the day it is checked), a date completed after it is a warning: never an error, so the same
    return is valid whatever the day. Nothing about one file can raise out of here: an unforeseen fault is that
    file's internal-error.
    """
    with paused_gc():
        return _validate_file(path, registry, limits, today)


def _validate_file(path: Path, registry: SpecRegistry | None, limits: Limits, today: date | None) -> Report:
    name = name_key(path.name)
    try:
        reason = skip_reason(path)
        if reason is not None:
            return Report(file=str(path), skipped=reason)
        # The lists sheet holds only dropdown lists and live flags, which validate works out itself.
        raw = read_workbook(path, limits, skip=frozenset({LISTS_SHEET}), whole=frozenset({META_SHEET}))
    except UnreadableFileError as err:
        outline = err.outline if isinstance(err, OversizeError) else None
        return Report(file=str(path), problems=[Problem("error", err.code, str(err))], outline=outline, read=err.read)
    except OSError as err:
        return Report(file=str(path), problems=[Problem.of(Code.UNREADABLE, file=name,
                                                           reason=err.strerror or type(err).__name__)])
    except Exception as err:
        return internal_error(path, err)
    report = Report(file=str(path), outline=raw.outline, read=raw.read)
    try:
        return validate_raw(raw, registry or SpecRegistry.load(), today=today, into=report)
    except Exception as err:
        failed = internal_error(path, err)
        # An urgent concern taken out before the fault is still reported: it is never lost with the checks.
        failed.urgent = report.urgent
        return failed


def internal_error(path: Path, err: BaseException | str) -> Report:
    """The report of a file auditbook could not check for a reason of its own (named by class, never a traceback)."""
    why = err if isinstance(err, str) else type(err).__name__
    if not isinstance(err, str):
        internal(log, f"checking {file_label(path.name)}", err)
    return Report(file=str(path), problems=[Problem.of(Code.INTERNAL_ERROR, file=name_key(path.name), why=why)])


def validate_raw(raw: RawWorkbook, registry: SpecRegistry, *, today: date | None = None,
                 into: Report | None = None) -> Report:
    """Validate an already-read workbook (`today` as validate_file), filling `into` if given (validate_file keeps
    it, so that what was found before an unforeseen fault, the urgent concern, outlives it)."""
    report = into if into is not None else Report(file=str(raw.path), outline=raw.outline, read=raw.read)
    agreed, problems = read_provenance(raw)
    report.problems += problems
    if problems:
        return report
    spec = find_spec(agreed, registry)
    if isinstance(spec, Problem):
        report.problems.append(spec)
        return report
    kind = agreed.get("kind") or AUDIT
    try:
        layout = registry.layout_of(spec, kind)
    except ValueError as err:
        report.problems.append(Problem.of(Code.UNKNOWN_SPEC, sheet=META_SHEET, spec=f"{spec.id} ({err})"[:80],
                                          version=spec.version, sha=spec.sha256[:12]))
        return report
    read = read_values(raw, layout)
    report.problems += read.problems
    # Taken out first, apart from the checks: a return rejected, late or superseded still reports its concern.
    report.urgent = urgent_concern(layout, read, agreed["instance_id"])
    provenance = Provenance(
        file=name_key(raw.path.name), sha256=raw.sha256, spec_id=spec.id, spec_version=spec.version,
        spec_sha256=spec.sha256, instance_id=agreed["instance_id"], generated_at=agreed.get("generated_at"),
        follows_up=agreed.get("follows_up", "")[:64] or None,  # from an untrusted file: an id, never more
        **({} if kind == AUDIT else {"kind": kind, "audit_instance_id": agreed.get("audit_instance_id")}),
    )
    ev = Evaluator(layout, {k: as_condition_text(v) for k, v in read.values.items()})
    audit, problems = _check_and_build(layout, read, provenance, ev)
    report.problems += problems
    if today is not None:
        report.problems += completed_in_future(layout, audit, read, today)
    # What one answer causes is said under it: the report starts from the cause.
    report.problems = group_by_cause(layout, read, report.problems, ev=ev)
    report.audit = audit
    return report


def _check_and_build(layout: Layout, read: ReadValues, provenance: Provenance, ev: Evaluator
                     ) -> tuple[Audit, list[Problem]]:
    """The audit of the answers that count and the problems met deciding which do (`ev`: of all answers read)."""
    kept, set_aside, problems = _kept_answers(layout, read, ev)
    kept_text = {k: as_condition_text(v) for k, v in kept.items()}
    # Nothing set aside: the answers kept differ from those read only in the tables' rows, which decide no flag but
    # the tables' own counts and statuses.
    final = Evaluator(layout, kept_text) if set_aside else ev.with_rows(kept_text)
    for ref, inp in layout.by_ref.items():
        derived = final.by_ref.get(ref) if inp.derived is not None else None
        if isinstance(derived, date):
            kept[inp.name] = derived  # worked out from the answers, as the workbook's formula does
    for sl in layout.sections:
        if sl.section.kind == "judged":
            problems += _optional_grade(layout, sl, read, kept, final)
    audit, more = assemble(layout, read, kept, provenance, final, set_aside)
    problems += more
    rows = {i.name: read.values.get(i.name) for sl in layout.sections if sl.section.kind == "table" for i in sl.inputs}
    problems += check_rules(layout, {**rows, **kept}, final, read, [*read.problems, *problems])
    return audit, problems


def _kept_answers(layout: Layout, read: ReadValues, ev: Evaluator
                  ) -> tuple[dict[str, Coerced], dict[str, str], list[Problem]]:
    """The form answers that count; those answered but not counted, with why (what the master's Answers tab says
    under "Applies"); and the problems met deciding (answers set aside, required answers missing)."""
    problems: list[Problem] = []
    kept: dict[str, Coerced] = {}
    set_aside: dict[str, str] = {}
    unsure = _depends_on(layout, {layout.by_name[n].ref for n in read.reported if n in layout.by_name})
    for inp in layout.by_ref.values():  # the form inputs: table rows are checked as the audit is assembled
        value = read.values.get(inp.name)
        # Whether an input applies may turn on an answer already reported as unreadable: then nothing more is said
        # about it. Derived inputs are worked out from the answers, not answered.
        if inp.derived is not None and inp.name not in unsure:
            continue
        if value is None:
            if inp.name not in unsure and inp.name not in read.reported and ev.input_required(inp):
                problems.append(read.problem(inp, Code.REQUIRED_MISSING))
            continue
        aside = None if inp.name in unsure else _set_aside(layout, read, ev, inp)
        if aside is None:
            kept[inp.name] = value
        else:
            problems.append(aside[0])
            set_aside[inp.name] = aside[1]
    return kept, set_aside, problems


def _set_aside(layout: Layout, read: ReadValues, ev: Evaluator, inp: Input) -> tuple[Problem, str] | None:
    """Why an answered input is not counted (the warning, and what "Applies" says), or None when it counts."""
    if ev.input_waiting(inp):
        return read.problem(inp, Code.ANSWERED_UNDECIDED, **_waiting_for(layout, inp, ev)), "Not yet known"
    if not ev.input_applies(inp):
        because = inp.not_applicable_because or "it does not apply"
        return read.problem(inp, Code.ANSWERED_NOT_APPLICABLE, because=because), "No"
    return None


def completed_in_future(layout: Layout, audit: Audit, read: ReadValues, today: date) -> list[Problem]:
    """A warning when the audit says it was completed after `today`, the day it is checked."""
    completed = audit.completed
    inp = layout.role_input(Role.COMPLETED)
    if inp is None or completed is None or completed <= today:
        return []
    return [read.problem(inp, Code.COMPLETED_IN_FUTURE, completed=uk(completed), today=uk(today))]


def _waiting_for(layout: Layout, inp: Input, ev: Evaluator) -> dict[str, str]:
    """What an answered input waits for: the blank answers that decide whether it applies, and where they are."""
    sl = layout.section(inp.section)
    conds = [sl.section.applies_when] if sl.waiting_flag and ev.value(sl.waiting_flag) else [inp.condition]
    blank = [r for c in conds for r in fields_in(c) if r in layout.by_ref and not ev.by_ref.get(r)]
    labels = " and ".join(quoted(layout.by_ref[r].label) for r in dict.fromkeys(blank)) or "the answers it depends on"
    return {"blank": labels, "place": waiting_words(layout, blank)}


def _depends_on(layout: Layout, refs: set[str]) -> set[str]:
    """Inputs whose section or own condition looks at any of these fields."""
    if not refs:
        return set()
    return {name for name, looks_at in _looks_at(layout) if not looks_at.isdisjoint(refs)}


def _looks_at(layout: Layout) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each input's name with the fields its section's conditions and its own look at (worked out once per layout)."""
    def make() -> tuple[tuple[str, frozenset[str]], ...]:
        looks: list[tuple[str, frozenset[str]]] = []
        for sl in layout.sections:
            section_refs = {*fields_in(sl.section.applies_when), *fields_in(sl.section.required_when)}
            looks += [(inp.name, frozenset(section_refs | set(fields_in(inp.condition)))) for inp in sl.inputs]
        return tuple(looks)

    return layout.cached("looks at", make)


def _optional_grade(layout: Layout, sl: SectionLayout, read: ReadValues, kept: dict[str, Coerced],
                    ev: Evaluator) -> list[Problem]:
    """An optional section that was partly answered still needs its grade."""
    if not ev.flag(sl.applies_flag) or ev.flag(sl.required_flag or sl.applies_flag):
        return []
    grade = layout.section_input(sl, Role.SECTION_GRADE)
    answered = any(i.name in kept for i in sl.inputs if i is not grade)
    if grade is None or not answered or grade.name in kept or grade.name in read.reported:
        return []
    return [read.problem(grade, Code.REQUIRED_MISSING, case="optional-grade")]
