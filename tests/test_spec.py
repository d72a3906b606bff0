"""The bundled Deep Dive spec carries the whole guidance: sections, applicability, ESN criteria, grades."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditbook.spec import Spec, default_spec_path, parse_spec
from auditbook.spec.conditions import Condition

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
    assert (spec.id, spec.version, spec.title) == ("deep_dive", "2.0.0", "Deep Dive Case File Audit")
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
        "2 Child's Voice and Understanding", "3 Decision-making and Management oversight",
        "4 Information sharing and Partnership working",
        "5 Understanding and Practice in relation to Diversity and Culture", "6 Plans and Reviews",
        "7 Direct work and Recording", "8 Service user feedback", "9 Permanence and Placement Planning",
        "10 Independence",
    ]
    assert [s.title for s in spec.sections if s.kind == "judged"] == headings
    missing = [h for h in headings if h.casefold() not in guidance.casefold()]
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
    # Good is summarised from the ESN criteria; the other three are quoted from Appendix A.
    assert [d.grade for d in spec.grade_descriptors if _norm(d.text) in guidance] == [
        "Outstanding", "Requires improvement", "Inadequate"
    ]


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
    assert {"Child not seen alone", "Management oversight not evident", "Drift and delay", "Plan not SMART",
            "Recording not up to date"} <= labels


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
        ("priority", "choice", "priority"),
    ]


def test_the_spec_sends_audits_to_roles_not_named_people(spec: Spec) -> None:
    capitalised = set(re.findall(r"[A-Z][\w'-]*", spec.send_to))
    assert capitalised <= {"The", "Team", "Manager", "Quality", "Assurance", "Self-Assessment", "Group"}
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
    assert (permanence.applies_when, permanence.required_when) == (None, None)
    assert [(f.id, _cond(f.applies_when)) for f in permanence.fields] == [
        ("permanence_plan", None), ("family_options_explored", None), ("drift_prevented", None),
        ("placement_meets_needs", _yes("profile.in_care")), ("placement_reviewed", _yes("profile.in_care")),
        ("private_fostering_duties", _yes("profile.privately_fostered")),
    ]
    assert [c for f in permanence.fields if _cond(f.applies_when) == _yes("profile.privately_fostered")
            for c in f.criteria] == ["ESN 17"]


def test_due_date_and_audit_period_are_worked_out_from_the_audit_month(spec: Spec) -> None:
    profile = {f.id: f for f in spec.section("profile").fields}
    assert [(k, profile[k].derived.model_dump(exclude_none=True) if profile[k].derived else None)
            for k in ("due_date", "period_from", "period_to")] == [
        ("due_date", {"end_of": "profile.audit_month"}),
        ("period_from", {"end_of": "profile.audit_month", "offset": "-2 years"}),
        ("period_to", {"end_of": "profile.audit_month"}),
    ]


#: The Deep Dive's rules and the severity a practice lead gives each (the README lists them).
RULES = [
    ("looked_after_in_care", "error"), ("cp_plan_had_cp", "error"), ("child_in_need_had_cin", "error"),
    ("early_help_had_early_help", "error"), ("independence_aged_16_plus", "error"),
    ("care_leaver_aged_16_plus", "error"), ("completed_near_audit_month", "error"),
    ("feedback_after_completion", "error"), ("practitioner_feedback_after_completion", "warning"),
    ("action_after_completion", "error"), ("weak_section_has_action", "error"), ("weak_overall_has_action", "error"),
    ("overall_not_above_inadequate_section", "warning"), ("outstanding_overall_all_good", "warning"),
    ("outstanding_record_reflects_practice", "warning"), ("inadequate_urgent_answered", "error"),
    ("urgent_with_line_manager", "warning"), ("urgent_raised_during_audit", "warning"),
]


def test_the_rules_and_their_severities(spec: Spec) -> None:
    assert [(r.id, r.severity) for r in spec.rules] == RULES


def test_the_readme_lists_every_rule_with_its_severity(spec: Spec) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [(rid, sev) for rid, sev in RULES if not re.search(rf"`{rid}`[^\n]*\|\s*{sev}\s*\|", readme)]
    assert missing == []
