"""Validate returned workbooks (issue 3): a corpus built here, one defect per workbook, each giving exactly its code.

Every return starts as a complete, valid one for a scenario (synthetic answers written by the writer as a
user would type them); a case then changes one answer, or edits the saved file with openpyxl for the
defects only a user's edits can make. Cells come from the layout, so a case names the input, not a guess
at its address.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.returns.audit import Audit
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.spec import load_spec, specs_dir
from auditbook.spec.layout import META_SHEET, build_layout, cell_ref
from tests.returns import (
    CARRIERS,
    SCENARIOS,
    Answer,
    Answers,
    answers,
    break_name,
    carriers,
    copy_of_valid,
    csv_bytes,
    delete_name,
    delete_sheet,
    encrypted_bytes,
    layout,
    legacy_xls_bytes,
    make_return,
    move_name_down,
    set_sheet_state,
    spec,
    spec_variant,
    tamper,
    type_formula,
    type_value,
    unprotect,
    valid_return,
    where,
    write_spec,
    zip_bomb_bytes,
)

Make = Callable[[Path], Path]
Found = tuple[str, str | None, str | None, str]

SHA = spec().sha256
OTHER_SHA = "f" * 64
#: The registry the command line uses (every bundled spec), loaded once as it does.
REGISTRY = SpecRegistry.load()


def check(path: Path) -> Report:
    """Validate one file against the bundled specs."""
    return validate_file(path, registry=REGISTRY)


def found(report: Report) -> list[Found]:
    """The report's problems as (severity, sheet, cell, code) rows, in the order validate gave them."""
    return [(p.severity, p.sheet, p.cell, p.code) for p in report.problems]


def at(severity: str, name: str, code: str) -> Found:
    """The expected problem at the cell the layout put an input in."""
    return (severity, *where(name), code)


def below(name: str) -> tuple[str, str]:
    """The cell one row below an input's cell."""
    inp = layout().by_name[name]
    return inp.sheet, cell_ref(inp.row + 1, inp.col)


#: An action agreed at feedback, with whom and when.
AGREED: dict[str, Answer | None] = {"actions_r01_agreed_with": "Team manager",
                                    "actions_r01_agreed_on": date(2026, 11, 30)}


def filled(changes: dict[str, Answer | None] | None = None, scenario: str = "child_protection",
           **options: Any) -> Make:
    """A valid return for a scenario with some answers changed (None clears one), as a user would fill it."""
    return lambda path: valid_return(path, scenario, changes=changes, **options)


def edited(change: Callable[[Path], object], scenario: str = "child_protection") -> Make:
    """A valid return for a scenario, then edited after saving (openpyxl) as only a user's edits can."""

    def make(path: Path) -> Path:
        copy_of_valid(path, scenario)
        change(path)
        return path

    return make


def raw_bytes(data: Callable[[], bytes]) -> Make:
    """A file that is not a return at all, saved under a workbook's name."""

    def make(path: Path) -> Path:
        path.write_bytes(data())
        return path

    return make


def plain_workbook(path: Path) -> Path:
    """A genuine .xlsx that auditbook did not make."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Case reference"
    wb.save(path)
    return path


CP = answers("child_protection")

DEFECTS: dict[str, tuple[Make, list[Found]]] = {
    # 1. The file itself: refused before anything is read.
    "encrypted": (raw_bytes(encrypted_bytes), [("error", None, None, "encrypted")]),
    "legacy-xls": (raw_bytes(legacy_xls_bytes), [("error", None, None, "legacy-xls")]),
    "csv-renamed-xlsx": (raw_bytes(csv_bytes), [("error", None, None, "not-a-workbook")]),
    "zip-bomb": (raw_bytes(zip_bomb_bytes), [("error", None, None, "zip-bomb")]),
    # 2. Provenance.
    "not-made-by-auditbook": (plain_workbook, [("error", None, None, "not-an-audit-workbook")]),
    "two-carriers-tampered": (
        edited(lambda p: tamper(p, {"metadata sheet": "0" * 64, "named constants": "1" * 64})),
        [("error", META_SHEET, None, "provenance-conflict")],
    ),
    "unknown-spec-hash": (
        edited(lambda p: tamper(p, dict.fromkeys(CARRIERS, OTHER_SHA))),
        [("error", META_SHEET, None, "unknown-spec")],
    ),
    # 3. Structure.
    "formula-in-input": (
        edited(lambda p: type_formula(p, "profile_worker", "=C14")),
        [at("error", "profile_worker", "formula-in-input")],
    ),
    "name-missing": (edited(lambda p: delete_name(p, "profile_worker")),
                     [at("error", "profile_worker", "name-missing")]),
    "name-broken": (edited(lambda p: break_name(p, "profile_worker")),
                    [at("error", "profile_worker", "name-broken")]),
    "sheet-missing": (edited(lambda p: delete_sheet(p, "1b Assessment")),
                      [("error", "1b Assessment", None, "sheet-missing")]),
    "sheet-unprotected": (edited(lambda p: unprotect(p, "1b Assessment")),
                          [("warning", "1b Assessment", None, "sheet-unprotected")]),
    "name-moved": (
        edited(lambda p: move_name_down(p, "profile_independent_living")),
        [("warning", *below("profile_independent_living"), "name-moved")],
    ),
    # 4. Values, re-checked whatever Excel said.
    "cell-error-pasted": (edited(lambda p: type_value(p, "profile_age", "#N/A")),
                          [at("error", "profile_age", "cell-error")]),
    "grade-not-in-list": (filled({"assessment_grade": "Goodish"}), [at("error", "assessment_grade", "not-in-list")]),
    "answer-not-in-list": (filled({"voice_seen": "Sometimes"}), [at("error", "voice_seen", "not-in-list")]),
    "us-order-date": (filled({"overall_feedback_team_manager": "12/31/2026"}),
                      [at("error", "overall_feedback_team_manager", "bad-date")]),
    "no-such-date": (filled({"overall_feedback_team_manager": "30/02/2026"}),
                     [at("error", "overall_feedback_team_manager", "bad-date")]),
    "date-not-a-date": (filled({"overall_feedback_team_manager": "last Tuesday"}),
                        [at("error", "overall_feedback_team_manager", "bad-date")]),
    "date-out-of-range": (filled({"overall_feedback_team_manager": date(1999, 12, 31)}),
                          [at("error", "overall_feedback_team_manager", "date-out-of-range")]),
    "text-date-out-of-range": (filled({"overall_feedback_team_manager": "01/01/2101"}),
                               [at("error", "overall_feedback_team_manager", "date-out-of-range")]),
    "age-out-of-range": (filled({"profile_age": 30}), [at("error", "profile_age", "out-of-range")]),
    "age-not-a-number": (filled({"profile_age": "seven"}), [at("error", "profile_age", "not-a-number")]),
    "age-not-whole": (filled({"profile_age": "7.5"}), [at("error", "profile_age", "not-a-number")]),
    "month-not-a-month": (filled({"profile_audit_month": "Nov 2026"}),
                          [at("error", "profile_audit_month", "bad-month")]),
    "text-too-long": (filled({"profile_story": "x" * 4001}), [at("error", "profile_story", "text-too-long")]),
    "action-timescale-us-order": (
        filled({"actions_r01_action": "Update the chronology.", "actions_r01_timescale": "12/31/2026",
                "actions_r01_agreed": "Yes", **AGREED}, actions=0),
        [at("error", "actions_r01_timescale", "bad-date")],
    ),
    # 5. Completeness and visibility.
    "required-missing": (filled({"profile_story": None}), [at("error", "profile_story", "required-missing")]),
    "section-grade-missing": (filled({"assessment_grade": None}),
                              [at("error", "assessment_grade", "required-missing")]),
    "overall-grade-missing": (filled({"overall_overall_grade": None}),
                              [at("error", "overall_overall_grade", "required-missing")]),
    "follow-up-required-missing": (
        filled({"voice_seen_alone": "No", "voice_seen_alone_why": None}),
        [at("error", "voice_seen_alone_why", "required-missing")],
    ),
    "answered-not-applicable-section": (
        filled({"early_help_grade": "Good"}),
        [at("warning", "early_help_grade", "answered-not-applicable")],
    ),
    "answered-follow-up-condition-false": (
        filled({"child_protection_s47_in_period": "Yes", "child_protection_strategy_before_s47": "Yes",
                "child_protection_emergency_evidenced": "Yes", "child_protection_emergency_evidenced_evidence": None}),
        [at("warning", "child_protection_emergency_evidenced", "answered-not-applicable")],
    ),
    "urgent-concern-without-when-and-whom": (
        filled({"overall_urgent_when": None, "overall_urgent_with_whom": None}, urgent=True),
        # What one answer makes required is said under it, on its cell.
        [at("error", "overall_urgent_concern", "answer-decides"),
         at("error", "overall_urgent_when", "required-missing"),
         at("error", "overall_urgent_with_whom", "required-missing")],
    ),
    "urgent-concern-without-what-or-response": (
        filled({"overall_urgent_what": None, "overall_urgent_agreed": None}, urgent=True),
        [at("error", "overall_urgent_concern", "answer-decides"),
         at("error", "overall_urgent_what", "required-missing"),
         at("error", "overall_urgent_agreed", "required-missing")],
    ),
    "theme-of-another-section": (
        filled({"assessment_theme_1": "Pathway plan not in place"}),
        [at("error", "assessment_theme_1", "theme-of-other-section")],
    ),
    "action-without-timescale": (
        filled({"actions_r01_action": "Update the chronology.", "actions_r01_agreed": "Yes", **AGREED}, actions=0),
        [at("error", "actions_r01_timescale", "required-missing")],
    ),
    "action-without-action": (
        filled({"actions_r01_timescale": date(2027, 1, 31), "actions_r01_agreed": "Yes", **AGREED}, actions=0),
        [at("error", "actions_r01_action", "required-missing")],
    ),
    "deciding-answer-blank": (
        filled({"profile_had_early_help": None, "early_help_help_offered_early": "Yes"}),
        [at("error", "profile_had_early_help", "required-missing"),
         at("warning", "early_help_help_offered_early", "answered-undecided")],
    ),
    "derived-due-date-not-typed": (filled({"profile_audit_month": "2026-10"}),
                                   [at("warning", "profile_date_completed", "late")]),
    # 6. Timeliness.
    "late": (filled(late=True), [at("warning", "profile_date_completed", "late")]),
}

#: Returns that must give no problem at all.
CLEAN: dict[str, Make] = {
    **{f"valid-{s}": filled(scenario=s) for s in SCENARIOS},
    "child-in-need-with-urgent-concern-and-actions": filled(scenario="child_in_need", urgent=True, actions=15),
    "choice-case-and-spaces": filled({"assessment_grade": "  good ", "voice_seen": "YES"}),
    "uk-date-slashes": filled({"overall_feedback_team_manager": "31/12/2026"}),
    "uk-date-dashes": filled({"overall_feedback_team_manager": "31-12-2026"}),
    "iso-date": filled({"overall_feedback_team_manager": "2026-12-31"}),
    "one-carrier-tampered": edited(lambda p: tamper(p, {"metadata sheet": "0" * 64})),
    "resaved-by-openpyxl": edited(lambda p: openpyxl.load_workbook(p).save(p)),
    # LibreOffice saves the very hidden metadata sheet as merely hidden: that alone is not tampering.
    "metadata-sheet-only-hidden": edited(lambda p: set_sheet_state(p, META_SHEET, "hidden")),
    # Two carriers of three still agree.
    "metadata-sheet-deleted": edited(lambda p: delete_sheet(p, META_SHEET)),
    "action-responsible-left-blank": filled(
        {"actions_r01_action": "Update the chronology.", "actions_r01_timescale": date(2027, 1, 31),
         "actions_r01_agreed": "Yes", **AGREED}, actions=0),
}


@pytest.mark.parametrize("case", DEFECTS)
def test_each_defect_gives_exactly_its_code_at_its_cell(tmp_path: Path, case: str) -> None:
    make, expected = DEFECTS[case]
    report = check(make(tmp_path / f"{case}.xlsx"))
    assert found(report) == expected
    assert report.valid is not any(severity == "error" for severity, *_ in expected)
    assert report.skipped is None


@pytest.mark.parametrize("case", CLEAN)
def test_clean_returns_give_no_problems(tmp_path: Path, case: str) -> None:
    report = check(CLEAN[case](tmp_path / f"{case}.xlsx"))
    assert found(report) == []
    assert report.valid
    assert report.audit is not None


def test_file_refusals_have_no_audit_and_say_why(tmp_path: Path) -> None:
    path = tmp_path / "Return 07.xlsx"
    path.write_bytes(encrypted_bytes())
    report = check(path)
    assert (report.valid, report.audit, report.skipped) == (False, None, None)
    assert [p.render() for p in report.problems] == [
        "Return 07.xlsx: this workbook is password-protected. Ask the auditor for an unprotected copy."]


def test_grade_not_in_list_message(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={"assessment_grade": "Goodish"}))
    sheet, cell = where("assessment_grade")
    assert [p.render() for p in report.problems] == [
        f'{sheet}!{cell}: Section grade: "Goodish" is not one of Outstanding, Good, Requires improvement, Inadequate. '
        "Choose one from the dropdown."
    ]
    assert [(p.field, p.message) for p in report.problems] == [
        ("assessment.grade", 'Section grade: "Goodish" is not one of Outstanding, Good, Requires improvement, '
                             "Inadequate. Choose one from the dropdown.")]


def test_a_value_message_names_the_field(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={"profile_age": "twelve"}))
    sheet, cell = where("profile_age")
    assert [p.render() for p in report.problems] == [
        f"{sheet}!{cell}: Child's age at audit: \"twelve\" is not a whole number. Enter digits only, e.g. 7."]


def audit_of(report: Report) -> Audit:
    assert report.audit is not None, report.problems
    return report.audit


def section(audit: Audit, section_id: str) -> dict[str, object]:
    s = next(s for s in audit.sections if s.id == section_id)
    return {"applies": s.applies, "grade": s.grade, "themes": s.themes, **answered(audit, section_id)}


def answered(audit: Audit, section_id: str) -> dict[str, object]:
    """A form or section's counted answers, None for each input without one (as `form` gives what was filled)."""
    return {i.field: audit.answer(section_id, i.field) for i in layout().section(section_id).inputs}


def test_choices_are_stored_in_their_canonical_spelling(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={"assessment_grade": "  good ", "voice_seen": "YES"}))
    audit = audit_of(report)
    assert (section(audit, "assessment")["grade"], section(audit, "voice")["seen"]) == ("Good", "Yes")


@pytest.mark.parametrize("typed", ["31/12/2026", "31-12-2026", "2026-12-31", " 31/12/2026 "])
def test_uk_text_dates_are_read_as_dates(tmp_path: Path, typed: str) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={"overall_feedback_team_manager": typed}))
    assert found(report) == []
    assert audit_of(report).answer("overall", "feedback_team_manager") == date(2026, 12, 31)


def test_answer_in_a_section_that_does_not_apply_is_not_counted(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={
        "early_help_grade": "Good", "early_help_theme_1": "Drift and delay", "early_help_working_well": "Kept"}))
    # Said under the answer that decides it: "Because "Early help provided ..." is No, 3 answers on 1a ..."
    assert [(p.cell, p.code) for p in report.problems] == [(where("profile_had_early_help")[1], "answer-decides")] + [
        (where(n)[1], "answered-not-applicable") for n in ("early_help_working_well", "early_help_grade",
                                                          "early_help_theme_1")]
    got = section(audit_of(report), "early_help")
    assert (got["applies"], got["grade"], got["themes"], got["working_well"]) == (False, None, [], None)


def test_follow_up_answered_when_its_condition_is_false_is_not_counted(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={
        "child_protection_s47_in_period": "Yes", "child_protection_strategy_before_s47": "Yes",
        "child_protection_emergency_evidenced": "Yes"}))
    assert report.valid
    got = section(audit_of(report), "child_protection")
    assert (got["strategy_before_s47"], got["emergency_evidenced"]) == ("Yes", None)


def test_an_unreadable_applicability_answer_gives_one_error_not_a_cascade(tmp_path: Path) -> None:
    # "Maybe" for the s47/CP question: whether 1d applies is unknown, not false, so 1d's answers are neither
    # warned about as not applying nor demanded as missing; only the bad answer is reported.
    report = check(valid_return(tmp_path / "r.xlsx", changes={"profile_had_cp": "Maybe"}))
    assert [(p.cell, p.code) for p in report.problems] == [(where("profile_had_cp")[1], "not-in-list")]


def test_late_return_is_flagged_in_the_audit(tmp_path: Path) -> None:
    late = audit_of(check(valid_return(tmp_path / "late.xlsx", late=True)))
    on_time = audit_of(check(valid_return(tmp_path / "on-time.xlsx")))
    assert [(a.due_date, a.late) for a in (late, on_time)] == [(date(2026, 11, 30), True), (date(2026, 11, 30), False)]


def test_moved_name_is_read_from_where_it_points(tmp_path: Path) -> None:
    path = copy_of_valid(tmp_path / "r.xlsx")
    sheet, cell = move_name_down(path, "profile_independent_living")
    ws = openpyxl.load_workbook(path)[sheet]
    assert (ws[where("profile_independent_living")[1]].value, ws[cell].value) == (None, "No")
    report = check(path)
    assert [p.render() for p in report.problems] == [
        f'{sheet}!{cell}: "Aged 16 or over and in supported or independent living at any time in the audit period '
        '(including in care, care leavers, and young people who have left home or been homeless)?" was expected at '
        f"{sheet}!{where('profile_independent_living')[1]} but rows or columns were moved; it was read from here. "
        "Check it is right."]
    assert audit_of(report).answer("profile", "independent_living") == "No"


def test_action_responsible_defaults_to_the_team_manager(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", actions=0, changes={
        "actions_r01_action": "Update the chronology.", "actions_r01_timescale": date(2027, 1, 31),
        "actions_r02_action": "Hold a review.", "actions_r02_timescale": date(2027, 2, 28),
        "actions_r02_responsible": "Example Practitioner"}))
    audit = audit_of(report)
    assert [(a.row, a.text, a.responsible, a.timescale) for a in audit.actions] == [
        (1, "Update the chronology.", CP["profile_team_manager"], date(2027, 1, 31)),
        (2, "Hold a review.", "Example Practitioner", date(2027, 2, 28)),
    ]


def test_one_tampered_carrier_is_outvoted(tmp_path: Path) -> None:
    path = copy_of_valid(tmp_path / "r.xlsx")
    tamper(path, {"metadata sheet": "0" * 64})
    assert carriers(path, "spec_sha256") == {"document properties": SHA, "metadata sheet": "0" * 64,
                                             "named constants": SHA}
    report = check(path)
    assert found(report) == []
    assert audit_of(report).provenance.spec_sha256 == SHA


def test_older_spec_version_validates_against_its_own_version(tmp_path: Path) -> None:
    old = spec_variant(version="0.9.0", story_label="The story so far")
    assert old.sha256 != SHA
    filled_old = {**answers("early_help"), "profile_story": None}
    path = make_return(tmp_path / "old.xlsx", filled_old, of=old)
    both = SpecRegistry.of(old, spec())
    report = validate_file(path, registry=both)
    # The message uses the old version's label: the old spec's own rules were applied.
    assert [(p.cell, p.code, p.message) for p in report.problems] == [
        (where("profile_story")[1], "required-missing", '"The story so far" is required. Fill it in.')]
    provenance = audit_of(report).provenance
    assert (provenance.spec_id, provenance.spec_version, provenance.spec_sha256) == ("deep_dive", "0.9.0", old.sha256)
    # Kept as a YAML file in a specs folder, as workbook_specs/ holds older versions, it is found the same way.
    write_spec(old, tmp_path / "workbook_specs")
    from_folder = SpecRegistry.load((tmp_path / "workbook_specs",))
    assert found(validate_file(path, registry=from_folder)) == [at("error", "profile_story", "required-missing")]
    # Without it (the default registry: the bundled specs only), the hash is unknown.
    assert found(validate_file(path)) == [("error", META_SHEET, None, "unknown-spec")]


def test_current_return_is_unaffected_by_an_older_version_in_the_registry(tmp_path: Path) -> None:
    old = spec_variant(version="0.9.0", story_label="The story so far")
    report = validate_file(copy_of_valid(tmp_path / "r.xlsx"), registry=SpecRegistry.of(old, spec()))
    assert found(report) == []
    assert audit_of(report).provenance.spec_version == spec().version


@pytest.mark.parametrize(("name", "reason"), [
    ("~$Return 07.xlsx", "Excel lock file (someone has Return 07.xlsx open): skipped"),
    (".~lock.Return 07.xlsx#", "LibreOffice lock file (someone has Return 07.xlsx open): skipped"),
])
def test_lock_files_are_skipped_not_errors(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00lock")
    report = check(path)
    assert (report.skipped, report.valid, report.problems, report.audit) == (reason, False, [], None)


# -- the typed audit ---------------------------------------------------------------------------------

NOT_APPLICABLE = {
    "child_protection": {"early_help", "independence"},
    "in_care_16_plus": {"early_help", "cin", "child_protection"},
    "early_help": {"cin", "child_protection", "independence"},
}


def form(filled: Answers, section_id: str) -> dict[str, object]:
    """A form or section's answers as filled, None for each input left empty."""
    return {i.field: filled.get(i.name) for i in layout().section(section_id).inputs}


def expected_sections(filled: Answers, scenario: str) -> list[tuple[object, ...]]:
    """(id, applies, required, grade, themes, answers) of each judged section, from what was filled."""
    rows: list[tuple[object, ...]] = []
    for sl in layout().sections:
        if sl.section.kind != "judged":
            continue
        sid = sl.section.id
        applies = sid not in NOT_APPLICABLE[scenario]
        # Every section that applies is required (section 9's permanence planning is for every child).
        required = applies
        themes = [filled[n] for n in (f"{sid}_theme_{k}" for k in (1, 2, 3)) if n in filled]
        rows.append((sid, applies, required, filled.get(f"{sid}_grade"), themes, form(filled, sid)))
    return rows


def expected_actions(filled: Answers) -> list[dict[str, object]]:
    """The used action rows as filled, the team manager standing in for a blank responsible person."""
    sl = layout().section("actions")
    rows: list[dict[str, object]] = []
    for r in range(1, sl.section.rows + 1):
        row = {i.field: filled.get(i.name) for i in sl.inputs if i.row_index == r}
        if any(v is not None for v in row.values()):
            row["responsible"] = row["responsible"] or filled["profile_team_manager"]
            row["text"] = row.pop("action")
            rows.append({"row": r, **row})
    return rows


#: The bundled spec's field roles, as its roles: block gives them.
ROLE_FIELDS = {r.value: ref for r, ref in spec().roles.field_roles().items()}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_audit_holds_what_was_filled(tmp_path: Path, scenario: str) -> None:
    filled = answers(scenario, actions=3)
    path = make_return(tmp_path / f"{scenario}.xlsx", filled)
    report = check(path)
    assert found(report) == []
    audit = audit_of(report)
    assert "profile_due_date" not in filled  # worked out from the audit month, not typed
    derived = {"due_date": date(2026, 11, 30), "period_from": date(2024, 12, 1), "period_to": date(2026, 11, 30)}
    assert answered(audit, "profile") == {**form(filled, "profile"), **derived}
    assert answered(audit, "overall") == form(filled, "overall")
    assert [(s.id, s.applies, s.required, s.grade, s.themes, answered(audit, s.id)) for s in audit.sections] == \
        expected_sections(filled, scenario)
    assert [a.model_dump() for a in audit.actions] == expected_actions(filled)
    assert len(audit.actions) == 3
    assert audit.case_ref == filled["profile_case_ref"]
    assert audit.facts == {role: derived.get(ref.split(".")[1], filled.get(f"{ref.replace('.', '_')}"))
                           for role, ref in ROLE_FIELDS.items()}
    assert (audit.due_date, audit.late) == (date(2026, 11, 30), False)
    p = audit.provenance
    assert (p.file, p.sha256, p.spec_id, p.spec_version, p.spec_sha256, p.instance_id) == (
        path.name, hashlib.sha256(path.read_bytes()).hexdigest(), spec().id, spec().version, SHA,
        carriers(path, "instance_id")["document properties"])


def test_section_status_follows_applicability(tmp_path: Path) -> None:
    filled = {**answers("child_protection"), "profile_had_cin": None}
    audit = audit_of(check(make_return(tmp_path / "r.xlsx", filled)))
    status = {s.id: s.status for s in audit.sections}
    assert (status["early_help"], status["cin"], status["assessment"]) == (
        "Not applicable", "Waiting for Case profile", "Complete")


def test_a_return_with_the_audit_month_and_no_typed_due_date_validates(tmp_path: Path) -> None:
    filled = answers("early_help", month="2027-02")
    assert [n for n in filled if n in ("profile_due_date", "profile_period_from", "profile_period_to")] == []
    report = check(make_return(tmp_path / "r.xlsx", filled))
    assert (found(report), report.valid) == ([], True)
    audit = audit_of(report)
    assert (audit.due_date, audit.answer("profile", "period_from"), audit.answer("profile", "period_to")) == (
        date(2027, 2, 28), date(2025, 3, 1), date(2027, 2, 28))


# -- an optional section (a spec's required_when) --------------------------------------------------------------


@pytest.mark.parametrize(("changes", "expected"), [
    ({"permanence_permanence_plan": "Yes", "permanence_grade": "Goodish"}, ("permanence_grade", "not-in-list")),
    ({"permanence_permanence_plan": "Yes"}, ("permanence_grade", "required-missing")),
    ({}, None),
])
def test_an_optional_section_needs_a_grade_once_started(
        tmp_path: Path, changes: dict[str, Answer], expected: tuple[str, str] | None) -> None:
    # In Deep Dive 2.0.0 (kept in workbook_specs/ for the returns made from it), section 9 was optional for a child
    # who was not in care (the child protection example): required only when "In care" is Yes.
    old = load_spec(specs_dir() / "deep_dive-2.0.0.yaml")
    lay = build_layout(old)
    assert old.section("permanence").required_when is not None
    filled = {k: v for k, v in answers("child_protection", lay=lay).items() if not k.startswith("permanence_")}
    report = check(make_return(tmp_path / "r.xlsx", {**filled, **changes}, of=old))
    assert found(report) == ([("error", *where(expected[0], lay), expected[1])] if expected else [])
    if expected is None:
        assert {s.id: s.status for s in audit_of(report).sections}["permanence"] == "Optional"


# -- the command line --------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A folder of returns: valid ones, one with an error, one with a warning, a CSV and a lock file."""
    folder = tmp_path_factory.mktemp("returns")
    files = {
        "valid": copy_of_valid(folder / "valid.xlsx"),
        "valid-early-help": copy_of_valid(folder / "valid-eh.xlsx", "early_help"),
        "goodish": valid_return(folder / "goodish.xlsx", changes={"assessment_grade": "Goodish"}),
        "late": valid_return(folder / "late.xlsx", late=True),
        "csv": folder / "export.xlsx",
        "lock": folder / "~$valid.xlsx",
    }
    files["csv"].write_bytes(csv_bytes())
    files["lock"].write_bytes(b"\x00lock")
    return files


#: The day the command line's validate runs in these tests: after every date the returns hold.
CHECKED_ON = date(2027, 1, 15)


@pytest.fixture(autouse=True)
def checked_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditbook.cli.collecting.today", lambda: CHECKED_ON)


def validate(*args: str | Path) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["validate", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout.splitlines()


def test_cli_valid_files_exit_0(returns: dict[str, Path]) -> None:
    assert validate(returns["valid"], returns["valid-early-help"]) == (0, [
        f"{returns['valid']} (case SYN-0001): valid",
        f"{returns['valid-early-help']} (case SYN-0001): valid",
    ])


def test_cli_warnings_alone_exit_0(returns: dict[str, Path]) -> None:
    sheet, cell = where("profile_date_completed")
    assert validate(returns["late"]) == (0, [
        f"{returns['late']} (case SYN-0001): valid, 1 warning",
        f"  warning {sheet}!{cell}: completed 03/12/2026, after the due date 30/11/2026 (the end of the audit "
        "month): the return is late. (late)",
    ])


def test_cli_warns_of_a_completion_date_still_to_come(returns: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditbook.cli.collecting.today", lambda: date(2026, 11, 26))
    sheet, cell = where("profile_date_completed")
    assert validate(returns["late"]) == (0, [
        f"{returns['late']} (case SYN-0001): valid, 2 warnings",
        f"  warning {sheet}!{cell}: completed 03/12/2026, after the due date 30/11/2026 (the end of the audit "
        "month): the return is late. (late)",
        f"  warning {sheet}!{cell}: completed 03/12/2026, a date still to come when the return "
        "was checked (26/11/2026). Enter the day the audit was finished. (completed-in-future)",
    ])


@pytest.mark.parametrize(("today", "codes"), [
    (None, ["late"]),  # the day is not known: validity and warnings never depend on the clock
    (date(2026, 12, 3), ["late"]),  # checked on the day it was completed
    (date(2026, 12, 2), ["late", "completed-in-future"]),
])
def test_a_completion_date_after_the_day_of_checking_is_a_warning(returns: dict[str, Path], today: date | None,
                                                                  codes: list[str]) -> None:
    report = validate_file(returns["late"], registry=REGISTRY, today=today)
    assert ([p.code for p in report.problems], report.valid) == (codes, True)


def test_cli_any_error_exits_1(returns: dict[str, Path]) -> None:
    sheet, cell = where("assessment_grade")
    assert validate(returns["valid"], returns["goodish"]) == (1, [
        f"{returns['valid']} (case SYN-0001): valid",
        f"{returns['goodish']} (case SYN-0001): 1 error",
        f'  error {sheet}!{cell}: Section grade: "Goodish" is not one of Outstanding, Good, '
        "Requires improvement, Inadequate. Choose one from the dropdown. (not-in-list)",
    ])


def test_cli_unreadable_file_is_an_error_line_not_a_crash(returns: dict[str, Path]) -> None:
    assert validate(returns["csv"]) == (1, [
        f"{returns['csv']}: 1 error",
        "  error not an Excel workbook: it looks like a CSV or plain-text file. Ask the "
        "auditor to send the audit workbook itself, saved as .xlsx (Excel Workbook). (not-a-workbook)",
    ])


def test_cli_lock_file_is_skipped_without_error(returns: dict[str, Path]) -> None:
    assert validate(returns["lock"], returns["valid"]) == (0, [
        f"{returns['lock']}: Excel lock file (someone has valid.xlsx open): skipped",
        f"{returns['valid']} (case SYN-0001): valid",
    ])


def test_cli_without_files_is_a_usage_error() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2, result.output
    assert "Missing argument" in result.output


def test_cli_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere.xlsx")])
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output


def test_cli_json_equals_the_library_call(returns: dict[str, Path]) -> None:
    files = [returns[k] for k in ("valid", "goodish", "late", "csv", "lock")]
    result = runner.invoke(app, ["validate", "--json", *map(str, files)])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["schema_version", "reports"] and document["schema_version"] == 1
    printed = document["reports"]
    registry = SpecRegistry.load()
    library = json.loads(json.dumps([validate_file(f, registry=registry).as_dict() for f in files]))
    assert printed == library
    assert [(r["file"], r["valid"], [p["code"] for p in r["problems"]]) for r in printed] == [
        (str(files[0]), True, []),
        (str(files[1]), False, ["not-in-list"]),
        (str(files[2]), True, ["late"]),
        (str(files[3]), False, ["not-a-workbook"]),
        (str(files[4]), False, []),
    ]
    assert set(printed[1]["problems"][0]) == {"severity", "code", "sheet", "cell", "field", "message"}
    assert [a["value"] for a in printed[0]["audit"]["answers"] if (a["section"], a["field"]) == ("profile", "case_ref")
            ] == ["SYN-0001"]
