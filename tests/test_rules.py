"""The spec's rules: each contradiction the issue found is reported by validate on its cells, the same checks are
live on the workbook's Summary (LibreOffice computes them as validate does), and a blank answer fires nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec
from auditbook.spec.evaluate import Evaluator, audit_facts
from auditbook.spec.layout import Layout
from auditbook.spec.logic import Facts, truth
from auditbook.spec.rules import firings
from auditbook.workbook.checks import build_checks
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, require_libreoffice
from tests.returns import Answer, Answers, answers, make_return, spec, where

Fired = tuple[str, str | None, str, str | None]

#: One audit with every contradiction of the issue: looked after but not in care, Outstanding over sections graded
#: Inadequate and Requires improvement with the record not reflecting practice, feedback before the audit, an
#: action due in 2020, Inadequate with no action from the section, and the concern raised with someone else.
CONTRADICTIONS: Answers = {
    "profile_legal_status": "Looked after: care order", "overall_overall_grade": "Outstanding",
    "assessment_grade": "Inadequate", "voice_grade": "Requires improvement",
    "overall_record_reflects_practice": "No", "overall_feedback_team_manager": date(2026, 10, 1),
    "profile_date_completed": date(2026, 11, 20), "actions_r01_action": "Update the assessment.",
    "actions_r01_timescale": date(2020, 1, 1), "actions_r01_section": "1b Assessment", "actions_r01_agreed": "Yes",
    "actions_r01_agreed_with": "Team manager", "actions_r01_agreed_on": date(2026, 11, 24),
    "overall_urgent_concern": "Yes", "overall_urgent_when": date(2026, 11, 2),
    "overall_urgent_with_whom": "Service manager", "overall_urgent_with_name": "Example Manager Beta",
    "overall_urgent_what": "Synthetic example: an injury not followed up.",
    "overall_urgent_agreed": "Synthetic example: a strategy discussion the same day.",
}


#: An audit completed on 20/11/2026 and fed back after it, with one action agreed at feedback and due later.
ACTION: dict[str, Answer | None] = {
    "profile_date_completed": date(2026, 11, 20), "overall_feedback_team_manager": date(2026, 11, 24),
    "overall_feedback_practitioner": date(2026, 11, 25), "actions_r01_action": "Update the chronology.",
    "actions_r01_timescale": date(2026, 12, 18), "actions_r01_agreed": "Yes",
    "actions_r01_agreed_with": "Team manager and practitioner", "actions_r01_agreed_on": date(2026, 11, 24)}


def contradictory() -> Answers:
    """A child protection audit with CONTRADICTIONS."""
    return {**answers("child_protection", seed=1, actions=0), **CONTRADICTIONS}


def check(path: Path) -> Report:
    """Validate against the bundled spec."""
    return validate_file(path, registry=SpecRegistry.of(spec()))


def fired(report: Report) -> list[Fired]:
    """The rules a report says failed: (severity, rule, sheet, cell)."""
    return [(p.severity, p.rule, p.sheet, p.cell) for p in report.problems if p.code == "rule"]


def on(severity: str, rule: str, name: str) -> Fired:
    """A rule expected to fail at an input's cell."""
    return (severity, rule, *where(name))


def test_every_contradiction_of_the_issue_is_reported_on_its_cells(tmp_path: Path) -> None:
    report = check(make_return(tmp_path / "r.xlsx", contradictory()))
    assert fired(report) == [
        on("error", "looked_after_in_care", "profile_in_care"),
        on("warning", "feedback_after_completion", "overall_feedback_team_manager"),
        on("warning", "practitioner_feedback_after_completion", "overall_feedback_practitioner"),
        on("warning", "action_after_completion", "actions_r01_timescale"),
        on("warning", "weak_section_has_action", "voice_grade"),
        on("warning", "overall_not_above_inadequate_section", "overall_overall_grade"),
        on("warning", "outstanding_overall_all_good", "overall_overall_grade"),
        on("warning", "outstanding_record_reflects_practice", "overall_overall_grade"),
        on("warning", "urgent_with_line_manager", "overall_urgent_with_whom"),
    ]
    assert [p.code for p in report.problems if p.code != "rule"] == []
    first = report.problems[0]
    assert first.message == (
        'The legal status is looked after or care leaver, but "In care, or a care leaver" is not Yes. Answer Yes to '
        '"In care, or a care leaver, in the audit period?", or correct the legal status. See also Case profile!'
        f'{where("profile_legal_status")[1]}.')
    assert first.as_dict()["rule"] == "looked_after_in_care"


@pytest.mark.parametrize(("scenario", "changes", "expected"), [
    pytest.param("in_care_16_plus", {"profile_age": 15},
                 [on("error", "independence_aged_16_plus", "profile_independent_living")], id="age-vs-section-10"),
    pytest.param("child_protection", {"profile_date_completed": date(2026, 9, 30)},
                 [on("warning", "completed_near_audit_month", "profile_date_completed")], id="completed-too-early"),
    pytest.param("child_protection", {"profile_legal_status": "Child in need", "profile_had_cin": "No"},
                 [on("error", "child_in_need_had_cin", "profile_had_cin")], id="cin-status"),
    pytest.param("child_protection", {"overall_overall_grade": "Inadequate", "assessment_grade": "Inadequate",
                                      "voice_grade": "Inadequate"},
                 [on("warning", "weak_section_has_action", "assessment_grade"),
                  on("warning", "weak_section_has_action", "voice_grade"),
                  on("error", "weak_overall_has_action", "overall_overall_grade"),
                  on("warning", "inadequate_urgent_raised", "overall_urgent_concern")],
                 id="inadequate-without-actions"),
    pytest.param("child_protection", {"child_protection_s47_in_period": "No",
                                      "child_protection_cp_plan_in_period": "No"},
                 [on("error", "s47_or_plan_in_period", "child_protection_s47_in_period")], id="1d-neither"),
    pytest.param("child_protection", {"assessment_assessment_date": date(2024, 11, 30)},
                 [on("warning", "assessment_in_period", "assessment_assessment_date")], id="assessment-too-old"),
    pytest.param("child_protection", {"assessment_assessment_date": date(2024, 12, 1)}, [],
                 id="assessment-on-the-first-day-of-the-period"),
    pytest.param("child_protection", {**ACTION, "actions_r01_agreed": "No"},
                 [on("warning", "action_agreed_at_feedback", "actions_r01_agreed")], id="action-not-agreed"),
    pytest.param("child_protection", {**ACTION, "actions_r01_agreed": None},
                 [on("warning", "action_agreed_at_feedback", "actions_r01_agreed")], id="action-agreed-blank"),
    pytest.param("child_protection", {**ACTION, "actions_r01_timescale": date(2026, 11, 20),
                                      "actions_r01_agreed_on": date(2026, 11, 20)}, [],
                 id="action-due-the-day-the-audit-was-completed"),
    pytest.param("child_protection", {**ACTION, "actions_r01_agreed_with": None, "actions_r01_agreed_on": None},
                 [on("warning", "action_agreed_at_feedback", "actions_r01_agreed")],
                 id="action-agreed-not-whom-or-when"),
    pytest.param("child_protection", {**ACTION, "actions_r01_timescale": date(2026, 11, 10),
                                      "actions_r01_agreed_on": date(2026, 11, 3)}, [],
                 id="action-agreed-during-the-audit-due-before-it-was-completed"),
    pytest.param("child_protection", {**ACTION, "actions_r01_timescale": date(2026, 11, 10)},
                 [on("warning", "action_after_completion", "actions_r01_timescale")],
                 id="action-agreed-at-feedback-due-before-it"),
    pytest.param("child_protection", {**ACTION, "actions_r01_timescale": date(2026, 11, 10),
                                      "actions_r01_agreed_on": None},
                 [on("warning", "action_after_completion", "actions_r01_timescale"),
                  on("warning", "action_agreed_at_feedback", "actions_r01_agreed")],
                 id="action-due-before-completion-agreed-on-not-given"),
    pytest.param("child_protection", {"overall_urgent_concern": "Yes", "overall_urgent_when": date(2026, 12, 25),
                                      "overall_urgent_with_whom": "Line manager for the case"},
                 [on("warning", "urgent_raised_during_audit", "overall_urgent_when")], id="urgent-after-the-audit"),
])
def test_each_rule_fires_on_its_own_cell(tmp_path: Path, scenario: str, changes: dict[str, Answer | None],
                                         expected: list[Fired]) -> None:
    filled = {**answers(scenario, seed=3, actions=0), **changes}
    assert fired(check(make_return(tmp_path / "r.xlsx", filled))) == expected


def test_a_rule_about_a_blank_answer_does_not_fire(tmp_path: Path) -> None:
    filled = {**contradictory(), "profile_in_care": None, "overall_feedback_team_manager": None,
              "overall_feedback_practitioner": None, "overall_urgent_with_whom": None}
    report = check(make_return(tmp_path / "r.xlsx", filled))
    gone = {"looked_after_in_care", "feedback_after_completion", "practitioner_feedback_after_completion",
            "urgent_with_line_manager"}
    assert [rule for _, rule, _, _ in fired(report) if rule in gone] == []
    assert sorted(p.code for p in report.problems if p.code != "rule") == ["required-missing"] * 3


def test_an_inadequate_grade_needs_the_urgent_question_answered(layout: Layout) -> None:
    filled = {**answers("child_protection", seed=3, actions=1), "overall_overall_grade": "Inadequate",
              "overall_urgent_concern": None}
    ev = Evaluator(layout, {k: str(v) for k, v in filled.items()})
    facts = audit_facts(layout, filled, ev)
    rule = next(r for r in spec().rules if r.id == "inadequate_urgent_answered")
    assert len(firings(rule, facts)) == 1
    # validate reports the blank required answer once, as required-missing, not again as the rule.


def test_three_states(layout: Layout) -> None:
    cond = layout.spec.section("early_help").applies_when
    assert [truth(cond, Facts({"profile.had_early_help": v})) for v in (None, "Yes", " no ")] == [None, True, False]


def test_valid_synthetic_returns_keep_every_rule(layout: Layout) -> None:
    for seed in range(12):
        for scenario in sorted(spec().examples):
            filled = answers(scenario, seed=seed)
            ev = Evaluator(layout, {k: str(v) for k, v in filled.items()})
            facts = audit_facts(layout, filled, ev)
            assert [r.id for r in spec().rules if firings(r, facts)] == [], (scenario, seed)


def test_an_evaluator_carried_over_to_the_form_answers_gives_every_flag_a_fresh_one_does(layout: Layout) -> None:
    # validate carries its first Evaluator's flags over to the answers kept when none was set aside: those answers
    # differ only in the tables' rows, so every flag must come out as an Evaluator made afresh works it out.
    for seed in range(6):
        for scenario in sorted(spec().examples):
            filled = {k: str(v) for k, v in answers(scenario, seed=seed, actions=2).items()}
            form = {k: v for k, v in filled.items() if layout.by_name[k].row_index is None}
            first = Evaluator(layout, filled)
            before = {f.name: first.value(f.name) for f in layout.flags[::2]}  # some worked out before, some not
            carried, fresh = first.with_rows(form), Evaluator(layout, form)
            assert {f.name: carried.value(f.name) for f in layout.flags} == {
                f.name: fresh.value(f.name) for f in layout.flags}, (scenario, seed)
            assert [first.value(n) for n in before] == list(before.values())
            assert any(first.value(sl.status_name) != fresh.value(sl.status_name) for sl in layout.sections)


def test_the_summary_lists_the_failing_checks_first_and_counts_the_rest(spec: Spec, layout: Layout,
                                                                        tmp_path: Path) -> None:
    path = build_workbook(spec, out=tmp_path / "r.xlsx", prefill=contradictory())
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    # The failing checks on the Summary's grid: Fix or Check (A), what is wrong (B:E), where (F:I), after the heading.
    top = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("Checks that fail"))
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 6).value) for r in range(top + 2, ws.max_row + 1)]
    failing = {r.id: r for r in spec.rules if firings(r, audit_facts(layout, contradictory(), Evaluator(
        layout, {k: str(v) for k, v in contradictory().items()})))}
    assert len(failing) == 9
    by_message = {row[1]: row for row in rows if row[0]}
    # Eight listed, errors first, each worded as what is wrong; then a line for the one more.
    assert len(by_message) == 8
    assert rows[0][:2] == ("Fix", failing["looked_after_in_care"].message)
    assert all(row[0] in ("Fix", "Check", "Check (2)") for row in rows[:8])
    assert rows[8][:2] == (None, "And 1 more check fails: validate lists every one.")
    assert [r.message for r in spec.rules if r.id not in failing and r.message in by_message] == []
    # Where names each sheet once, then its cells, with no separator left over; a check run on each section or
    # row names the cells of the ones that fail.
    in_care, legal = where("profile_in_care"), where("profile_legal_status")
    assert by_message[failing["looked_after_in_care"].message][2] == f"Case profile {in_care[1]}, {legal[1]}"
    weak = failing["weak_section_has_action"].message
    assert by_message[weak] == ("Check", weak, "{} {}".format(*where("voice_grade")))
    late = failing["action_after_completion"].message
    assert by_message[late] == ("Check", late, "Actions {}, {}; Case profile {}".format(
        where("actions_r01_timescale")[1], where("actions_r01_agreed_on")[1], where("profile_date_completed")[1]))
    assert all(c.live for c in build_checks(layout))


def summary_lines(spec: Spec, path: Path, prefill: Answers) -> list[tuple[object, object]]:
    """The Summary's first two columns, row by row, as the workbook was written with these answers."""
    ws = openpyxl.load_workbook(build_workbook(spec, out=path, prefill=prefill), data_only=True)["Summary"]
    return [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(1, ws.max_row + 1)]


def test_the_summary_says_how_many_checks_pass(spec: Spec, layout: Layout, tmp_path: Path) -> None:
    listed = len([c for c in build_checks(layout) if c.live])
    clean = answers("child_protection", seed=3, actions=2)
    assert (None, f"All {listed} checks pass.") in summary_lines(spec, tmp_path / "clean.xlsx", clean)
    one = {**clean, "profile_in_care": "No", "profile_legal_status": "Looked after: care order"}
    lines = summary_lines(spec, tmp_path / "one.xlsx", one)
    fix = lines.index(("Fix", 'The legal status is looked after or care leaver, but "In care, or a care leaver" is '
                              "not Yes."))
    assert lines[fix + 1] == (None, f"{listed - 1} other checks pass.")


# -- LibreOffice computes the checks as validate does ------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", ["contradictions", "clean", "blank"])
def test_live_checks_in_libreoffice_match_validate(spec: Spec, layout: Layout, tmp_path: Path, case: str) -> None:
    require_libreoffice()
    filled: dict[str, object] = {"contradictions": contradictory(), "blank": {},
                                 "clean": answers("in_care_16_plus", seed=5, actions=2)}[case]  # type: ignore[dict-item]
    blank = build_workbook(spec, out=tmp_path / "blank.xlsx")
    checks = build_checks(layout)
    shown = fill(blank, tmp_path / "saved.xlsx", filled, read=[c.name for c in checks])
    live = {c.rule.id: int(shown[c.name]) for c in checks}
    report = validate_file(tmp_path / "saved.xlsx", registry=SpecRegistry.of(spec))
    by_validate = Counter(p.rule for p in report.problems if p.rule)
    assert {k: v for k, v in live.items() if v} == dict(by_validate)
    if case == "contradictions":
        assert sum(live.values()) == 9
    saved = openpyxl.load_workbook(tmp_path / "saved.xlsx", data_only=True)
    if case == "blank":
        ws = saved["Summary"]  # Section (A:B), Applies (C), Status (D)
        summary = {ws.cell(r, 1).value: ws.cell(r, 4).value for r in range(1, ws.max_row + 1)}
        assert summary["1a Early Help and Protection"] == "Waiting for Case profile"
        assert summary["10 Independence"] == "Waiting for Case profile"
        assert saved["Case profile"][where("profile_due_date")[1]].value in (None, "")
    else:
        due = saved["Case profile"][where("profile_due_date")[1]].value
        assert due.date() == date(2026, 11, 30)
