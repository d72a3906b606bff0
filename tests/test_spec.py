"""The bundled Deep Dive spec carries the whole guidance: sections, applicability, ESN criteria, grades."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditbook.dates import audit_period
from auditbook.spec import Spec, default_spec_path, parse_spec
from auditbook.spec.conditions import Condition
from auditbook.spec.evaluate import refs_to_values
from auditbook.spec.layout import build_layout

#: The official wording the spec must quote word for word (headings, section guidance, ESN criteria, grade
#: descriptors), kept with the tests so they pass in a fresh clone; it names no person.
GUIDANCE = Path(__file__).parent / "data" / "guidance-excerpts.txt"

ALL_ESN = [f"ESN {n:02d}" for n in range(1, 22)] + ["ESN 88"]


def _norm(text: str) -> str:
    """Compare texts ignoring footnote markers, emphasis asterisks, curly quotes and line breaks."""
    text = re.sub("[\u00b9\u00b2\u00b3\u2070-\u2079]", "", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("*", "")
    return " ".join(text.split())


@pytest.fixture(scope="module")
def guidance() -> str:
    """The guidance excerpts, normalised."""
    return _norm(GUIDANCE.read_text(encoding="utf-8"))


def _cond(cond: Condition | None) -> Any:
    return None if cond is None else cond.model_dump(mode="json", by_alias=True)


def _yes(field: str) -> dict[str, str]:
    return {"field": field, "equals": "Yes"}


def test_bundled_spec_loads(spec: Spec) -> None:
    assert (spec.id, spec.version, spec.title) == ("deep_dive", "2.1.0", "Deep Dive Case File Audit")
    assert spec.classification == "OFFICIAL-SENSITIVE"
    assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256)


def test_every_guidance_section_with_its_applicability(spec: Spec) -> None:
    assert [(s.id, _cond(s.applies_when), _cond(s.required_when)) for s in spec.sections] == [
        ("profile", None, None),
        ("early_help", _yes("profile.had_early_help"), None),
        ("assessment", None, None),
        ("cin", _yes("profile.had_cin"), None),
        ("child_protection", _yes("profile.had_cp"), None),
        ("voice", None, None),
        ("oversight", None, None),
        ("partnership", None, None),
        ("diversity", None, None),
        ("plans", None, None),
        ("recording", None, None),
        ("feedback", None, None),
        ("permanence", None, None),
        ("independence", _yes("profile.independent_living"), None),
        ("actions", None, None),
        ("overall", None, None),
    ]


def test_section_titles_follow_the_guidance_headings(spec: Spec, guidance: str) -> None:
    headings = [
        "1a Early Help and Protection", "1b Assessment", "1c Children in Need", "1d Child Protection",
        "2 Child\u2019s Voice and Understanding", "3 Decision-making and Management oversight",
        "4 Information sharing and Partnership working",
        "5 Understanding and Practice in relation to Diversity and Culture", "6 Plans and Reviews",
        "7 Direct work and Recording", "8 Service user feedback", "9 Permanence and Placement Planning",
        "10 Independence",
    ]
    assert [s.title for s in spec.sections if s.kind == "judged"] == headings
    missing = [h for h in headings if _norm(h).casefold() not in guidance.casefold()]
    assert missing == []
    assert [(s.id, s.kind) for s in spec.sections if s.kind != "judged"] == [
        ("profile", "form"), ("actions", "table"), ("overall", "form")
    ]


def test_applicability_questions_are_yes_no_at_the_top_of_the_case_profile(spec: Spec) -> None:
    profile = {f.id: f for f in spec.section("profile").fields}
    questions = ["had_early_help", "had_cin", "had_cp", "in_care", "privately_fostered", "independent_living"]
    assert [(q, profile[q].type, profile[q].choices, profile[q].applies_when) for q in questions] == [
        (q, "choice", "yes_no", None) for q in questions
    ]
    assert [f.id for f in spec.section("profile").fields][:len(questions)] == questions
    assert spec.choice_lists["yes_no"] == ["Yes", "No"]


def test_section_guidance_is_quoted_from_the_seed(spec: Spec, guidance: str) -> None:
    quoted = ["early_help", "assessment", "cin", "child_protection", "permanence", "independence", "actions",
              "overall"]
    assert [s for s in quoted if _norm(spec.section(s).guidance) not in guidance] == []
    general = ["voice", "oversight", "partnership", "diversity", "plans", "recording", "feedback"]
    assert [s for s in general
            if not _norm(spec.section(s).guidance).startswith("This section must be completed for all cases.")] == []


def test_every_esn_criterion_is_present_and_used(spec: Spec) -> None:
    assert [c.id for c in spec.criteria] == ALL_ESN
    used = {c for s in spec.sections for c in s.criteria}
    assert [c for c in ALL_ESN if c not in used] == []
    assert all(c.summary.strip() for c in spec.criteria)


def test_question_esn_references_are_among_their_sections_criteria(spec: Spec) -> None:
    stray = [
        (s.id, f.id, c) for s in spec.sections for f in spec.fields_of(s) for c in f.criteria if c not in s.criteria
    ]
    assert stray == []


def test_criteria_texts_are_quoted_from_the_seed_under_their_own_number(spec: Spec, guidance: str) -> None:
    found = []
    for c in spec.criteria:
        text = _norm(c.text)
        at = guidance.find(text)
        number = re.compile(r"ESN\)?\s*(\d{2})").search(guidance, at + len(text)) if at >= 0 else None
        found.append((c.id, f"ESN {number.group(1)}" if number else None))
    assert found == [(c, c) for c in ALL_ESN]


def test_grades_are_the_four_ofsted_grades(spec: Spec, guidance: str) -> None:
    grades = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    assert spec.grade_list == "grade"
    assert spec.choice_lists["grade"] == grades
    assert [d.grade for d in spec.grade_descriptors] == grades
    # The other three are quoted from Appendix A; Ofsted's 'good' descriptor is the ESN list itself, so Good
    # points to it in the guidance's own words and summarises nothing of its own.
    assert [d.grade for d in spec.grade_descriptors if _norm(d.text) in guidance] == [
        "Outstanding", "Requires improvement", "Inadequate"
    ]
    good = next(d.text for d in spec.grade_descriptors if d.grade == "Good")
    assert _norm(good).startswith("A local authority is likely to be judged good if")
    assert "ESN 01 to ESN 21 and ESN 88" in _norm(good)
    assert spec.wording.grades_heading == "Grades (Ofsted descriptors, used here for the work seen)"


def test_judged_sections_end_with_the_judgement_block(spec: Spec) -> None:
    assert [(f.id, f.type, f.choices, f.required) for f in spec.judgement_fields] == [
        ("working_well", "long_text", None, True),
        ("to_improve", "long_text", None, True),
        ("grade", "choice", "grade", True),
        ("theme_1", "choice", "theme", False),
        ("theme_2", "choice", "theme", False),
        ("theme_3", "choice", "theme", False),
    ]
    kinds = {t.kind for t in spec.themes}
    assert kinds == {"strength", "concern"}
    labels = {t.label for t in spec.themes}
    assert {"Child not seen alone", "Management oversight not evident", "Drift and delay",
            "Plan unclear about what, who and by when", "Recording not up to date"} <= labels
    strengths = {t.label for t in spec.themes if t.kind == "strength"}
    assert {"Clear, timely plans", "Family feedback sought and used", "Timely access to an advocate",
            "Permanence planned without drift"} <= strengths
    assert [t for t in labels if "SMART" in t] == []


def test_questions_are_answered_yes_partly_no_not_known(spec: Spec) -> None:
    assert spec.choice_lists["answer"] == ["Yes", "Partly", "No", "Not known"]
    judged = [s for s in spec.sections if s.kind == "judged"]
    assert [s.id for s in judged if not any(f.type == "question" for f in s.fields)] == []


def test_overall_judgement_urgent_concern_follow_ups_only_when_yes(spec: Spec) -> None:
    overall = {f.id: f for f in spec.section("overall").fields}
    assert (overall["urgent_concern"].type, overall["urgent_concern"].choices) == ("choice", "yes_no")
    assert [(k, overall[k].type, overall[k].required, _cond(overall[k].applies_when))
            for k in ("urgent_when", "urgent_with_whom")] == [
        ("urgent_when", "date", True, _yes("overall.urgent_concern")),
        ("urgent_with_whom", "choice", True, _yes("overall.urgent_concern")),
    ]
    # Raised with a role from a list, the line manager for the case first (as the guidance says).
    assert spec.choice_lists[overall["urgent_with_whom"].choices or ""][0] == "Line manager for the case"
    assert [k for k in ("overall_grade", "record_reflects_practice", "impact", "feedback_team_manager",
                        "feedback_practitioner") if k not in overall] == []


def test_actions_table_has_at_least_fifteen_rows(spec: Spec) -> None:
    actions = spec.section("actions")
    assert actions.rows >= 15
    assert [(f.id, f.type, f.choices) for f in actions.fields] == [
        ("action", "long_text", None),
        ("section", "choice", "section"),
        ("responsible", "text", None),
        ("timescale", "date", None),
        ("agreed", "choice", "yes_no"),
        ("agreed_with", "choice", "agreed_with"),
        ("agreed_on", "date", None),
        ("priority", "choice", "priority"),
    ]


def test_the_spec_sends_audits_to_roles_not_named_people(spec: Spec) -> None:
    capitalised = set(re.findall(r"[A-Z][\w-]*", spec.send_to))
    assert capitalised <= {"Feed", "The", "Self-Assessment", "Group"}
    assert "collators" in spec.send_to


def _reordered(data: Any) -> Any:
    """The same data with every mapping's keys in reverse order."""
    if isinstance(data, dict):
        return {k: _reordered(data[k]) for k in reversed(list(data))}
    if isinstance(data, list):
        return [_reordered(v) for v in data]
    return data


def test_sha256_is_stable_under_yaml_reformatting(spec: Spec, tmp_path: Path) -> None:
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    text = yaml.safe_dump(_reordered(data), sort_keys=False, default_flow_style=True, width=4096)
    assert text != default_spec_path().read_text(encoding="utf-8")
    again = parse_spec(yaml.safe_load(text), source=tmp_path / "reformatted.yaml")
    assert again.sha256 == spec.sha256
    data["sections"][0]["fields"][0]["label"] = "Case number"
    assert parse_spec(data, source=tmp_path / "changed.yaml").sha256 != spec.sha256


def test_section_9_plans_permanence_for_all_children_and_placements_for_children_in_care(spec: Spec) -> None:
    permanence = spec.section("permanence")
    # It "must be completed for all children who are or have been in care, or care leavers", and "should also
    # include the planning to prevent drift and achieve permanence arrangements for all children": its permanence
    # planning questions apply to every child and are required; its placement questions to children in care.
    assert (permanence.applies_when, _cond(permanence.required_when)) == (None, None)
    assert [f.id for f in permanence.fields if f.applies_when is None and f.required] == [
        "permanence_plan", "family_options_explored", "drift_prevented"]
    assert [(f.id, _cond(f.applies_when)) for f in permanence.fields] == [
        ("permanence_plan", None), ("family_options_explored", None), ("drift_prevented", None),
        ("placement_meets_needs", _yes("profile.in_care")), ("placement_reviewed", _yes("profile.in_care")),
        ("private_fostering_duties", _yes("profile.privately_fostered")),
    ]
    assert [c for f in permanence.fields if _cond(f.applies_when) == _yes("profile.privately_fostered")
            for c in f.criteria] == ["ESN 17"]
    assert [(f.id, f.criteria) for f in permanence.fields if f.id.startswith("placement_")] == [
        ("placement_meets_needs", ["ESN 13"]), ("placement_reviewed", ["ESN 13"])]


def test_due_date_and_audit_period_are_worked_out_from_the_audit_month(spec: Spec) -> None:
    profile = {f.id: f for f in spec.section("profile").fields}
    assert [(k, profile[k].derived.model_dump(exclude_none=True) if profile[k].derived else None)
            for k in ("due_date", "period_from", "period_to")] == [
        ("due_date", {"end_of": "profile.audit_month"}),
        ("period_from", {"end_of": "profile.audit_month", "offset": "-2 years +1 day"}),
        ("period_to", {"end_of": "profile.audit_month"}),
    ]


@pytest.mark.parametrize(("month", "period"), [
    ("2026-11", (date(2024, 12, 1), date(2026, 11, 30))),
    ("2027-02", (date(2025, 3, 1), date(2027, 2, 28))),
    ("2028-02", (date(2026, 3, 1), date(2028, 2, 29))),
])
def test_the_audit_period_is_exactly_two_years(spec: Spec, month: str, period: tuple[date, date]) -> None:
    # Two whole years to the end of the audit month, not two years and a day (30/11/2024 to 30/11/2026): as the
    # spec works it out (validate, and the workbook's formula: test_libreoffice), and as generate and the
    # synthetic returns take it.
    values = refs_to_values(build_layout(spec), {"profile_audit_month": month})
    assert (values["profile.period_from"], values["profile.period_to"]) == period
    assert audit_period(period[1]) == period


#: The Deep Dive's rules and the severity a practice lead gives each (docs/spec.md lists them).
RULES = [
    ("looked_after_in_care", "error"), ("cp_plan_had_cp", "error"), ("s47_or_plan_in_period", "error"),
    ("child_in_need_had_cin", "error"), ("early_help_had_early_help", "error"),
    ("independence_aged_16_plus", "error"), ("care_leaver_aged_16_plus", "error"),
    # A true audit completed early or late, fed back or with an action due on an unexpected day still merges.
    ("completed_near_audit_month", "warning"), ("feedback_after_completion", "warning"),
    ("practitioner_feedback_after_completion", "warning"), ("action_after_completion", "warning"),
    ("action_agreed_at_feedback", "warning"), ("assessment_in_period", "warning"),
    # One action may cover several sections; an overall grade needing improvement needs at least one action.
    ("weak_section_has_action", "warning"), ("weak_overall_has_action", "error"),
    ("overall_not_above_inadequate_section", "warning"), ("outstanding_overall_all_good", "warning"),
    ("outstanding_record_reflects_practice", "warning"), ("inadequate_urgent_answered", "error"),
    ("inadequate_urgent_raised", "warning"), ("urgent_with_line_manager", "warning"),
    ("urgent_raised_during_audit", "warning"),
    # The judgement holds together: an auditor may have good reason, but the grade should say why.
    ("good_grade_mostly_no", "warning"), ("inadequate_grade_all_yes", "warning"), ("evidence_for_shortfall", "warning"),
    ("overall_good_most_sections_weak", "warning"), ("overall_weak_every_section_good", "warning"),
]


def test_the_rules_and_their_severities(spec: Spec) -> None:
    assert [(r.id, r.severity) for r in spec.rules] == RULES


def test_the_spec_docs_list_every_rule_with_its_severity(spec: Spec) -> None:
    page = (Path(__file__).parents[1] / "docs" / "spec.md").read_text(encoding="utf-8")
    missing = [(rid, sev) for rid, sev in RULES if not re.search(rf"`{rid}`[^\n]*\|\s*{sev}\s*\|", page)]
    assert missing == []


#: Questions that do not arise for every child, each with the yes / no question that decides whether it applies
#: (so an auditor is never forced to answer "No", which would count in the master's "answered No" ranking).
GATED = [
    ("early_help", "interface_clear", "early_help.stepped"),
    ("child_protection", "strategy_before_s47", "child_protection.s47_in_period"),
    ("child_protection", "s47_thorough", "child_protection.s47_in_period"),
    ("child_protection", "conference_timely", "child_protection.cp_plan_in_period"),
    ("child_protection", "plan_smart", "child_protection.cp_plan_in_period"),
    ("child_protection", "core_groups", "child_protection.cp_plan_in_period"),
    ("child_protection", "reviews_authoritative", "child_protection.cp_plan_in_period"),
    ("recording", "engagement_attempts", "recording.family_not_engaged"),
]


def test_questions_that_may_not_arise_wait_for_a_yes_no_question_before_them(spec: Spec) -> None:
    got = []
    for section, question, gate in GATED:
        fields = [f.id for f in spec.section(section).fields]
        decider = next(f for f in spec.section(section).fields if f.id == gate.split(".")[1])
        asked = next(f for f in spec.section(section).fields if f.id == question)
        got.append((question, _cond(asked.applies_when), (decider.type, decider.choices),
                    fields.index(decider.id) < fields.index(question), asked.help))
    assert got == [(q, _yes(g), ("choice", "yes_no"), True, None if q != "conference_timely" else
                    "If the plan began before the audit period, answer from the record.") for _, q, g in GATED]
    emergency = next(f for f in spec.section("child_protection").fields if f.id == "emergency_evidenced")
    assert _cond(emergency.applies_when) == {"all": [
        _yes("child_protection.s47_in_period"),
        {"field": "child_protection.strategy_before_s47", "in": ["No", "Partly"]}]}
    labels = {f.id: f.label for f in spec.section("child_protection").fields}
    assert (labels["s47_in_period"], labels["cp_plan_in_period"]) == (
        "Was there a section 47 enquiry in the audit period?",
        "Was the child subject to a child protection plan in the audit period?")
    seen_alone = next(f for f in spec.section("voice").fields if f.id == "seen_alone")
    assert " ".join((seen_alone.help or "").split()) == (
        "If seeing the child alone was not required or not in their best interests (for example a baby), answer "
        "Yes and say why in the evidence.")


def test_the_referral_response_is_judged_in_1b_beside_the_assessment_date(spec: Spec) -> None:
    assessment = spec.section("assessment")
    assert [(f.id, f.type, f.required) for f in assessment.fields[:2]] == [
        ("assessment_date", "date", False), ("referral_response_timely", "question", True)]
    assert [f.id for f in spec.section("early_help").fields if f.id == "referral_response_timely"] == []
    assert assessment.criteria == sorted(assessment.criteria)
    assert "ESN 05" in assessment.criteria and "ESN 05" not in spec.section("early_help").criteria


def _shown_text(spec: Spec) -> list[str]:
    """Every text a person reads from the spec: labels, help, guidance, instructions, rule messages and fixes."""
    texts = [spec.title, spec.send_to, *spec.instructions, *(d.text for d in spec.grade_descriptors)]
    for s in spec.sections:
        texts += [s.title, s.guidance, s.not_applicable_because or ""]
        texts += [t for f in spec.fields_of(s) for t in (f.label, f.help or "", f.not_applicable_because or "")]
    texts += [t for r in spec.rules for t in (r.message, r.fix)]
    return [" ".join(t.split()) for t in texts]


def test_what_people_read_says_child_protection_in_full_and_team_manager_in_lower_case(spec: Spec) -> None:
    shown = _shown_text(spec)
    assert [t for t in shown if re.search(r"\bCP\b", t)] == []
    assert [t for t in shown if "Team Manager" in t] == []


def test_profile_and_overall_wording(spec: Spec) -> None:
    profile = {f.id: f for f in spec.section("profile").fields}
    overall = {f.id: f for f in spec.section("overall").fields}
    actions = {f.id: f for f in spec.section("actions").fields}
    flat = {k: " ".join(v.split()) for k, v in {
        "had_cin": profile["had_cin"].label, "had_cin help": profile["had_cin"].help or "",
        "independent_living": profile["independent_living"].label,
        "date_completed help": profile["date_completed"].help or "",
        "urgent_concern": overall["urgent_concern"].label, "urgent_concern help": overall["urgent_concern"].help or "",
        "agreed": actions["agreed"].label, "send_to": spec.send_to,
    }.items()}
    assert flat == {
        "had_cin": "Support as a child in need (rather than under a child protection plan or in care) at any time "
                   "in the audit period?",
        "had_cin help": "Answer Yes even if the child was also on a child protection plan, in care or a care leaver "
                        "at another time in the period. Decides whether section 1c Children in Need applies.",
        "independent_living": "Aged 16 or over and in supported or independent living at any time in the audit "
                              "period (including in care, care leavers, and young people who have left home or "
                              "been homeless)?",
        "date_completed help": "The day you finished the audit and wrote it up, before feeding back. Not the day you "
                               "send it.",
        "urgent_concern": "Did an urgent or immediate child protection concern arise during the audit?",
        "urgent_concern help": "If Yes, it must be raised directly and immediately with the line manager for the "
                               "case. Then record what the concern was, when and with whom you raised it, and what "
                               "was agreed.",
        "agreed": "Agreed at feedback",
        "send_to": "Feed back the findings and actions to the case's team manager and send them a copy; then send "
                   "the audit to the Self-Assessment Group's collators (your quality assurance team will say who).",
    }
    # The tool adds "(worked out: ...)" to a derived date's label.
    assert [profile[k].label for k in ("due_date", "period_from", "period_to")] == [
        "Due date", "Audit period from", "Audit period to"]
    # The applicability questions decide everything else: answering them comes first.
    assert spec.instructions[:2] == [
        "First answer the applicability questions at the top of the Case profile: they decide which sections and "
        "questions apply.",
        "Audit from the record, not alongside the allocated worker; feedback is given at the end."]
