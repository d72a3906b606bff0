"""The return holds together as a judgement (issue 16): grades that fit their answers, evidence under a shortfall,
each section's own themes, permanence planning for every child, the urgent concern in full, messages that start
from the cause, and a feedback note per auditor.

The language first (a share of answers or of sections, in three states, the same in Python and as a formula; rules
on each practice question; lint), then returns filled in LibreOffice, whose live checks agree with validate and
whose messages land on the right cells.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.errors import SpecError
from auditbook.returns.feedback import feedback_notes
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec, default_spec_path, load_spec, parse_spec, specs_dir
from auditbook.spec.conditions import ShareCompare
from auditbook.spec.evaluate import Evaluator, audit_facts
from auditbook.spec.layout import Layout, build_layout
from auditbook.spec.logic import Facts, truth
from auditbook.spec.rules import firings
from auditbook.workbook.checks import build_checks
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, require_libreoffice
from tests.returns import Answers, answers, make_return, where

runner = CliRunner()

#: The share of section s's practice questions answered No, compared with 50%.
MOST_NO: dict[str, Any] = {"share": {"answers": "s", "in": ["No"]}, "more_than": 50}


def _share(data: dict[str, Any]) -> ShareCompare:
    return ShareCompare.model_validate(data)


def _facts(answered: dict[str, str | None], *, applies: set[str] | None = None) -> Facts:
    refs = tuple(f"s.q{i}" for i in range(1, 5))
    values = {f"s.q{i}": answered.get(f"q{i}") for i in range(1, 5)}
    applicable = frozenset({"s", *refs} if applies is None else applies)
    return Facts(values, sections=("s",), questions={"s": refs}, applicable=applicable)


@pytest.mark.parametrize(("answered", "applies", "expected"), [
    pytest.param({"q1": "No", "q2": "No", "q3": "No", "q4": "Yes"}, None, True, id="3-of-4"),
    pytest.param({"q1": "No", "q2": "No", "q3": "Yes", "q4": "Yes"}, None, False, id="half-is-not-most"),
    pytest.param({"q1": "No", "q2": "No", "q3": "No"}, None, True, id="most-whatever-the-blank-is"),
    pytest.param({"q1": "No", "q2": "Yes"}, None, None, id="not-yet-known"),
    pytest.param({"q1": "Yes", "q2": "Yes", "q3": " yes "}, None, False, id="none-can-make-most"),
    # q3 and q4 do not apply: 2 of the 2 that do are No.
    pytest.param({"q1": "No", "q2": "No"}, {"s", "s.q1", "s.q2"}, True, id="only-those-that-apply"),
    pytest.param({"q1": "No"}, {"s"}, None, id="none-apply"),
])
def test_a_share_of_answers_has_three_states(answered: dict[str, str | None], applies: set[str] | None,
                                              expected: bool | None) -> None:
    assert truth(_share(MOST_NO), _facts(answered, applies=applies)) is expected


def test_a_share_of_sections_counts_the_sections_that_apply() -> None:
    cond = _share({"share": {"sections": {"field": "this.grade", "in": ["Weak"]}}, "at_most": 50})
    grades = {"a.grade": "Weak", "b.grade": "Weak", "c.grade": "Strong", "d.grade": None}
    facts = Facts(grades, sections=("a", "b", "c", "d"), applicable=frozenset({"a", "b", "c", "d"}))
    # 2 of 3 graded, one blank: 50% to 75%, never at most 50% for sure, nor over it for sure.
    assert truth(cond, facts) is None
    assert truth(cond, Facts(grades, sections=("a", "b", "c", "d"), applicable=frozenset({"a", "b", "c"}))) is False
    assert truth(cond, Facts({**grades, "d.grade": "Strong"}, sections=("a", "b", "c", "d"))) is True


def test_a_rule_on_each_question_names_the_question_and_its_evidence(layout: Layout, spec: Spec) -> None:
    filled = {**answers("child_protection", seed=2, actions=1), "voice_seen": "No", "voice_advocate_offered": "Partly"}
    filled.pop("voice_seen_evidence", None)
    filled.pop("voice_advocate_offered_evidence", None)
    facts = audit_facts(layout, filled, Evaluator(layout, {k: str(v) for k, v in filled.items()}))
    rule = next(r for r in spec.rules if r.id == "evidence_for_shortfall")
    assert [list(f.cells()) for f in firings(rule, facts)] == [
        ["voice.seen_evidence", "voice.seen"], ["voice.advocate_offered_evidence", "voice.advocate_offered"]]


# -- the language: a second spec says the same, spec check says what is wrong -----------------------------------


def _spec_data(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


#: A supervision audit's judgement check in its own words (Met / Partly met / Not met, Strong / Adequate / Weak).
STRONG_MOSTLY_NOT_MET = {
    "id": "strong_part_mostly_not_met", "severity": "warning", "each": "sections",
    "when": {"field": "this.rating", "equals": "Strong"},
    "require": {"share": {"answers": "this", "in": ["Not met"]}, "at_most": 50},
    "message": "The part is rated Strong, but most of its questions are answered Not met.",
    "fix": "Check the rating against the answers.", "cells": ["this.rating"]}


@pytest.fixture(scope="module")
def supervision() -> Spec:
    """The supervision audit with a judgement check of its own."""
    data = _spec_data(specs_dir() / "supervision_audit.yaml")
    data["version"] = "1.9.0"
    data["rules"].append(STRONG_MOSTLY_NOT_MET)
    return parse_spec(data, source=Path("supervision-shares.yaml"))


def _lint(rule: dict[str, Any]) -> str:
    data = _spec_data(default_spec_path())
    data["rules"] = [rule]
    with pytest.raises(SpecError) as err:
        parse_spec(data, source=Path("x.yaml"))
    return str(err.value).splitlines()[1].strip()


@pytest.mark.parametrize(("require", "said"), [
    pytest.param({"share": {"answers": "asessment", "in": ["No"]}, "more_than": 50},
                 'rules[0] (r).require: no judged section "asessment". Did you mean "assessment"?', id="section"),
    pytest.param({"share": {"answers": "assessment", "in": ["Nope"]}, "more_than": 50},
                 'rules[0] (r).require: "Nope" is not a choice of the answers of assessment. Did you mean "No"?',
                 id="answer"),
    pytest.param({"share": {"answers": "this", "in": ["No"]}, "more_than": 50},
                 'rules[0] (r).require: "this" is only for a rule with each: or inside any_section / every_section.',
                 id="this-outside-each"),
    pytest.param({"share": {"sections": {"field": "this.grde", "equals": "Good"}}, "more_than": 50},
                 'rules[0] (r).require: "this.grde": no field "grde" in every one of them. Did you mean "grade"?',
                 id="sections-field"),
])
def test_spec_check_says_what_is_wrong_with_a_share(require: dict[str, Any], said: str) -> None:
    rule = {"id": "r", "severity": "warning", "require": require, "message": "m", "fix": "Fix it.",
            "cells": ["overall.overall_grade"]}
    assert _lint(rule).startswith(said)


def test_a_share_is_for_rules_only() -> None:
    data = _spec_data(default_spec_path())
    data["sections"][1]["applies_when"] = {"share": {"answers": "assessment", "in": ["No"]}, "more_than": 50}
    with pytest.raises(SpecError, match="a share is for rules, not for when an input applies"):
        parse_spec(data, source=Path("x.yaml"))


def test_spec_check_names_a_theme_of_no_section_and_a_section_with_no_theme() -> None:
    data = _spec_data(default_spec_path())
    data["themes"] = [{**t, "sections": [s for s in t["sections"] if s != "diversity"]} for t in data["themes"]
                      if t["sections"] != ["diversity"]]
    data["themes"][0]["sections"] = ["asessment"]
    with pytest.raises(SpecError) as err:
        parse_spec(data, source=Path("x.yaml"))
    lines = [line.strip() for line in str(err.value).splitlines()[1:]]
    assert lines[0].startswith('themes[0] (Assessment out of date).sections: no judged section "asessment". Did you '
                               'mean "assessment"?')
    assert any(line.startswith("sections[8] (diversity): section diversity has theme tags, but no theme belongs to "
                               "it.") for line in lines)


def test_the_second_spec_says_the_same(supervision: Spec, tmp_path: Path) -> None:
    lay = build_layout(supervision)
    filled = dict(synthetic_answers(lay, seed=4, scenario="newly_qualified", actions=1))
    for ref in supervision.questions["reflection"]:
        filled[lay.by_ref[ref].name] = "Not met"
        filled[lay.by_ref[ref + "_evidence"].name] = "Synthetic example."
    filled[lay.by_ref["reflection.rating"].name] = "Strong"
    report = validate_file(build_workbook(supervision, out=tmp_path / "r.xlsx", prefill=filled),
                           registry=SpecRegistry.of(supervision))
    assert [(p.rule, p.cell) for p in report.problems if p.rule == "strong_part_mostly_not_met"] == [
        ("strong_part_mostly_not_met", lay.by_ref["reflection.rating"].cell)]


# -- returns filled in LibreOffice --------------------------------------------------------------------------------


def _validate(path: Path) -> Report:
    return validate_file(path, registry=SpecRegistry.of(load_spec(default_spec_path())))


def _live(shown: dict[str, str], checks: list[Any]) -> dict[str, int]:
    return {c.rule.id: int(shown[c.name]) for c in checks if int(shown[c.name])}


def _by_validate(report: Report) -> dict[str, int]:
    return dict(Counter(p.rule for p in report.problems if p.rule))


def _judgement_slips(base: Answers) -> dict[str, Any]:
    """The issue's slips on one child protection return (a child not in care): 1b answered No throughout and
    graded Outstanding, tagged with a section 10 theme; a No with nothing under it; section 9 left blank; an urgent
    concern without what it was or what was agreed."""
    filled: dict[str, Any] = {k: v for k, v in base.items() if not k.startswith("permanence_")}
    for name in [n for n in filled if n.startswith("assessment_") and n.endswith("_evidence")]:
        del filled[name]
    for ref in answers_of("assessment"):
        filled[ref] = "No"
        filled[ref + "_evidence"] = "Synthetic example: not on the file."
    filled.update({"assessment_grade": "Outstanding", "assessment_theme_1": "Pathway plan not in place",
                   "voice_seen": "No", "voice_seen_evidence": None, "overall_urgent_concern": "Yes",
                   "overall_urgent_when": base["profile_date_completed"],
                   "overall_urgent_with_whom": "Line manager for the case",
                   "overall_urgent_with_name": "Example Manager Beta", "overall_urgent_what": None,
                   "overall_urgent_agreed": None})
    return filled


def answers_of(section: str) -> list[str]:
    """The defined names of a section's practice questions."""
    lay = build_layout(load_spec(default_spec_path()))
    return [lay.by_ref[r].name for r in lay.spec.questions[section]]


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory, spec: Spec) -> Path:
    return build_workbook(spec, out=tmp_path_factory.mktemp("blank") / "blank.xlsx")


@pytest.fixture(scope="module")
def slips(tmp_path_factory: pytest.TempPathFactory, blank: Path, layout: Layout) -> tuple[Path, Report, dict[str, Any],
                                                                                         dict[str, int]]:
    """The slips filled in LibreOffice: the saved return, validate's report, what was filled, the live checks."""
    require_libreoffice()
    base = answers("child_protection", seed=11, index=11, actions=2)
    assert base["profile_in_care"] == "No"
    filled = _judgement_slips(base)
    saved = tmp_path_factory.mktemp("slips") / "SYN-0011.xlsx"
    checks = build_checks(layout)
    shown = fill(blank, saved, filled, read=[c.name for c in checks])
    return saved, _validate(saved), filled, _live(shown, checks)


@pytest.fixture(scope="module")
def wrong_gate(tmp_path_factory: pytest.TempPathFactory, blank: Path, layout: Layout) -> tuple[Path, Report,
                                                                                               dict[str, int]]:
    """An 8-year-old on a child protection plan with a wrong Yes to section 10's question, filled in LibreOffice."""
    require_libreoffice()
    filled = {**answers("child_protection", seed=12, index=12, actions=2), "profile_independent_living": "Yes"}
    assert filled["profile_age"] == 8
    saved = tmp_path_factory.mktemp("gate") / "SYN-0012.xlsx"
    checks = build_checks(layout)
    shown = fill(blank, saved, filled, read=[c.name for c in checks])
    return saved, _validate(saved), _live(shown, checks)


@pytest.mark.libreoffice
def test_each_slip_is_said_on_its_own_cell(slips: tuple[Path, Report, dict[str, Any], dict[str, int]],
                                           layout: Layout) -> None:
    _, report, _, live = slips
    said = [(p.severity, p.rule or str(p.code), (p.sheet, p.cell)) for p in report.problems]
    permanence = [("error", "required-missing", where(n)) for n in (
        "permanence_permanence_plan", "permanence_family_options_explored", "permanence_drift_prevented",
        "permanence_working_well", "permanence_to_improve", "permanence_grade")]
    assert said == [
        *permanence,  # section 9 blank for a child not in care
        # the urgent concern without what it was or what was agreed, under the answer that makes them required
        ("error", "answer-decides", where("overall_urgent_concern")),
        ("error", "required-missing", where("overall_urgent_what")),
        ("error", "required-missing", where("overall_urgent_agreed")),
        ("error", "theme-of-other-section", where("assessment_theme_1")),  # a section 10 tag on 1b
        ("warning", "good_grade_mostly_no", where("assessment_grade")),  # all No, graded Outstanding
        ("warning", "evidence_for_shortfall", where("voice_seen_evidence")),  # a No without evidence
    ]
    theme = next(p for p in report.problems if p.code == "theme-of-other-section")
    assert theme.message == ('Theme 1: "Pathway plan not in place" is a theme of 10 Independence, not of 1b '
                             "Assessment. Choose one of this section's themes from the dropdown, or tag 10 "
                             "Independence with it instead.")
    # LibreOffice's live checks count what validate reports.
    assert live == _by_validate(report) == {"good_grade_mostly_no": 1, "evidence_for_shortfall": 1}


@pytest.mark.libreoffice
def test_the_wrong_gate_is_said_first(wrong_gate: tuple[Path, Report, dict[str, int]]) -> None:
    saved, report, live = wrong_gate
    first = report.problems[0]
    assert (first.code, (first.sheet, first.cell)) == ("answer-decides", where("profile_independent_living"))
    assert first.message.startswith('Because "Aged 16 or over and in supported or independent living at …" is Yes, '
                                    "9 answers on 10 Independence are required: ")
    under = [p for p in report.problems if p.under]
    assert [(p.code, p.sheet, p.under) for p in under] == [("required-missing", "10 Independence", first.where)] * 9
    # What is said about the answer itself follows what it decides; the heading is not counted.
    assert report.problems[10].rule == "independence_aged_16_plus"
    assert (len(report.errors), len(report.problems)) == (10, 11)
    assert live == _by_validate(report) == {"independence_aged_16_plus": 1}
    result = runner.invoke(app, ["validate", str(saved)])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{saved} (case SYN-0012): 10 errors"
    assert lines[1].startswith(f"  error {first.where}: Because \"Aged 16 or over")
    assert lines[1].endswith("(answer-decides)")
    assert lines[2].startswith("    error 10 Independence!C9: ") and lines[2].endswith("(required-missing)")


@pytest.mark.libreoffice
def test_a_feedback_note_per_auditor(slips: tuple[Path, Report, dict[str, Any], dict[str, int]],
                                     wrong_gate: tuple[Path, Report, dict[str, int]], tmp_path: Path) -> None:
    (one, _, filled, _), (two, _, _) = slips, wrong_gate
    folder = tmp_path / "returns"
    folder.mkdir()
    for path in (one, two):
        (folder / path.name).write_bytes(path.read_bytes())
    result = runner.invoke(app, ["validate", str(folder), "--feedback", str(tmp_path / "notes")])
    assert result.exit_code == 1, result.output
    notes = {p.name: p.read_text(encoding="utf-8") for p in sorted((tmp_path / "notes").iterdir())}
    assert sorted(notes) == ["feedback-example-auditor-2.txt", "feedback-example-auditor-3.txt"]
    note = notes["feedback-example-auditor-2.txt"]  # SYN-0011's auditor ("Example Auditor 2")
    lines = note.splitlines()
    assert lines[:8] == ["OFFICIAL-SENSITIVE", "", "Deep Dive Case File Audit: feedback on your returns",
                         "For: Example Auditor 2", lines[4], "", "1 return: 1 to fix before it can be collected.", ""]
    assert lines[8] == "SYN-0011: 9 errors to fix, 2 warnings to look at."
    assert "    - 1b Assessment, cell {}: Theme 1: \"Pathway plan not in place\" is a theme of 10 Independence".format(
        where("assessment_theme_1")[1]) in note
    assert "      - Overall judgement, cell {}: \"What was the concern?\" is required. Fill it in.".format(
        where("overall_urgent_what")[1]) in lines
    # Case references only: none of the free text written about the child is in the note.
    free = [str(v) for k, v in filled.items() if isinstance(v, str) and len(v) > 30 and "theme" not in k]
    assert free and [t for t in free if t in note] == []
    assert "SYN-0012: 10 errors to fix." in notes["feedback-example-auditor-3.txt"]


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", ["most-sections-weak-under-good", "all-yes-under-inadequate", "blanks-keep-unknown"])
def test_live_share_checks_match_validate(case: str, blank: Path, layout: Layout, tmp_path: Path) -> None:
    require_libreoffice()
    filled: dict[str, Any] = dict(answers("child_protection", seed=13, index=13, actions=2))
    graded = [n for n in filled if n.endswith("_grade") and not n.startswith("overall")]
    if case == "most-sections-weak-under-good":
        filled.update({n: "Requires improvement" for n in graded[:7]})
        filled["overall_overall_grade"] = "Good"
        expected = {"overall_good_most_sections_weak": 1}
    elif case == "all-yes-under-inadequate":
        filled.update({n: "Yes" for n in answers_of("voice")})
        filled.update({"voice_grade": "Inadequate", "overall_overall_grade": "Requires improvement",
                       "overall_urgent_concern": "Yes",
                       "overall_urgent_what": "Synthetic example.", "overall_urgent_agreed": "Synthetic example.",
                       "overall_urgent_when": filled["profile_date_completed"],
                       "overall_urgent_with_whom": "Line manager for the case",
                       "overall_urgent_with_name": "Example Manager"})
        expected = {"inadequate_grade_all_yes": 1}
    else:
        # Four of 1b's nine questions No and the rest blank: whether most are No is not yet known.
        names = answers_of("assessment")
        filled.update({n: "No" for n in names[:4]})
        filled.update({n: None for n in names[4:]})
        filled["assessment_grade"] = "Outstanding"
        expected = {}
    checks = build_checks(layout)
    shown = fill(blank, tmp_path / "saved.xlsx", filled, read=[c.name for c in checks])
    report = _validate(tmp_path / "saved.xlsx")
    live = _live(shown, checks)
    assert live == _by_validate(report)
    assert {k: v for k, v in live.items() if k in expected or k.startswith(("good_", "inadequate_grade", "overall_"))
            } == expected


@pytest.mark.libreoffice
def test_the_second_spec_shares_live_in_libreoffice(supervision: Spec, tmp_path: Path) -> None:
    require_libreoffice()
    lay = build_layout(supervision)
    filled: dict[str, Any] = dict(synthetic_answers(lay, seed=4, scenario="newly_qualified", actions=1))
    for ref in supervision.questions["reflection"]:
        filled[lay.by_ref[ref].name] = "Not met"
        filled[lay.by_ref[ref + "_evidence"].name] = "Synthetic example."
    filled[lay.by_ref["reflection.rating"].name] = "Strong"
    checks = build_checks(lay)
    blank_sup = build_workbook(supervision, out=tmp_path / "blank.xlsx")
    shown = fill(blank_sup, tmp_path / "saved.xlsx", filled, read=[c.name for c in checks])
    report = validate_file(tmp_path / "saved.xlsx", registry=SpecRegistry.of(supervision))
    assert _live(shown, checks) == _by_validate(report)
    assert _by_validate(report).get("strong_part_mostly_not_met") == 1


def test_notes_name_returns_by_case_reference_only(tmp_path: Path) -> None:
    spec = load_spec(default_spec_path())
    one = answers("child_protection", seed=14, index=14, actions=1)
    two = {**answers("early_help", seed=15, index=15, actions=1), "profile_auditor": str(one["profile_auditor"])}
    draft = {**one, "profile_date_completed": date(2026, 11, 2)}
    reports = [_validate(make_return(tmp_path / name, a)) for name, a in
               (("SYN-0014.xlsx", one), ("SYN-0015.xlsx", two), ("SYN-0014 draft.xlsx", draft))]
    (note,) = feedback_notes(reports, registry=SpecRegistry.of(spec), checked=date(2026, 12, 1))
    returns = [line for line in note.text.splitlines() if line.startswith("SYN-")]
    # Two returns for one case are told apart by their files' names; otherwise the case reference says which.
    assert returns == ["SYN-0014 (SYN-0014.xlsx): valid, nothing to fix.", "SYN-0015: valid, nothing to fix.",
                       "SYN-0014 (SYN-0014 draft.xlsx): valid, nothing to fix."]
    assert note.text.splitlines()[-3:] == ["Thank you: there is nothing to fix.", "", "OFFICIAL-SENSITIVE"]
