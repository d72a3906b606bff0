"""Synthetic returns read as an auditor's would (they feed the demo, the README's pictures and the benchmark):
the overall grade is a judgement near the typical section grade within the spec's rules, theme tags fit their
section and grade, actions are things to do with a role or the team manager responsible, audits are completed by
their due date unless meant to be late, and rounds are named by the round calendar when one is given."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from auditbook.dates import month_end
from auditbook.settings import example_calendar
from auditbook.spec.layout import Layout
from auditbook.spec.roles import Role
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.synthetic_text import fitting

SEEDS = range(1, 41)


@pytest.fixture(scope="module")
def returns(layout: Layout) -> list[dict[str, object]]:
    kinds = sorted(layout.spec.examples)
    return [synthetic_answers(layout, seed=s, scenario=kinds[s % len(kinds)], index=s, late=s % 10 == 0,
                              urgent=s % 7 == 0) for s in SEEDS]


def _grades(layout: Layout, answers: dict[str, object]) -> list[str]:
    out = []
    for sl in layout.sections:
        grade = layout.section_input(sl, Role.SECTION_GRADE) if sl.section.kind == "judged" else None
        if grade is not None and grade.name in answers:
            out.append(str(answers[grade.name]))
    return out


def test_the_overall_grade_is_a_judgement_not_the_worst_section(layout: Layout,
                                                                 returns: list[dict[str, object]]) -> None:
    order = layout.spec.lists[layout.spec.grade_list]
    overall = layout.role_input(Role.OVERALL_GRADE)
    assert overall is not None
    steps = []
    for answers in returns:
        sections = sorted(order.index(g) for g in _grades(layout, answers))
        judged = order.index(str(answers[overall.name]))
        # Never better than one grade above the worst section, never worse than the worst.
        assert sections[-1] - 1 <= judged <= sections[-1], (answers[overall.name], _grades(layout, answers))
        steps.append(judged - sections[len(sections) // 2])
    # Mostly the typical section grade; not simply the worst one every time.
    assert sum(s == 0 for s in steps) > len(steps) / 2
    assert any(order.index(str(a[overall.name])) < max(order.index(g) for g in _grades(layout, a))
               for a in returns)


def test_theme_tags_fit_their_section_and_grade(layout: Layout, returns: list[dict[str, object]]) -> None:
    spec = layout.spec
    kind = {t.label: t.kind for t in spec.themes}
    tagged = 0
    for answers in returns:
        for sl in layout.sections:
            grade = layout.section_input(sl, Role.SECTION_GRADE) if sl.section.kind == "judged" else None
            if grade is None or grade.name not in answers:
                continue
            wanted = "concern" if answers[grade.name] in spec.grading.needs_action else "strength"
            text = " ".join([sl.section.title, sl.section.guidance or "",
                             *(f.label for f in spec.fields_of(sl.section))])
            for tag in (answers.get(i.name) for i in layout.theme_inputs(sl)):
                if tag is None:
                    continue
                tagged += 1
                assert kind[str(tag)] == wanted, (sl.section.title, answers[grade.name], tag)
                assert str(tag) in fitting([str(tag)], sl.section.title, text), (sl.section.title, tag)
    assert tagged > 20


def test_actions_read_like_actions(layout: Layout, returns: list[dict[str, object]]) -> None:
    assert layout.actions is not None
    text_col = layout.action_column(Role.ACTION_TEXT)
    responsible_col = layout.action_column(Role.ACTION_RESPONSIBLE)
    manager = layout.role_input(Role.TEAM_MANAGER)
    assert manager is not None
    seen = []
    for answers in returns:
        for inp in layout.actions.inputs:
            value = answers.get(inp.name)
            if value is None:
                continue
            if inp.field == text_col:
                words = str(value).split()
                # An instruction: it starts with a verb in the imperative and ends a sentence.
                assert words[0] in {"Complete", "Hold", "Review", "Update", "See", "Record", "Invite", "Explore",
                                    "Rewrite", "Bring", "Ask", "Agree", "Discuss", "Make"}, value
                assert str(value).endswith("."), value
            if inp.field == responsible_col:
                seen.append(value)
                # A role or the team manager: a few words, never a sentence.
                assert value == answers[manager.name] or (str(value)[0].isupper() and len(str(value).split()) <= 4), \
                    value
                assert not str(value).endswith("."), value
    assert any(v == "Practice supervisor" or "Example Manager" in str(v) for v in seen)


def test_audits_are_completed_by_their_due_date_unless_late(layout: Layout,
                                                            returns: list[dict[str, object]]) -> None:
    completed = layout.role_input(Role.COMPLETED)
    assert completed is not None
    due = month_end(2026, 11)
    for seed, answers in zip(SEEDS, returns, strict=True):
        done = answers[completed.name]
        assert isinstance(done, date)
        if seed % 10 == 0:
            assert done == due + timedelta(days=3)
        else:
            assert due - timedelta(days=30) <= done <= due


def test_rounds_are_named_by_the_calendar_when_one_is_given(layout: Layout) -> None:
    round_input = layout.role_input(Role.ROUND)
    assert round_input is not None
    calendar = example_calendar()
    named = {m: synthetic_answers(layout, seed=1, month=m, rounds=calendar)[round_input.name]
             for m in ("2026-07", "2026-11", "2027-02")}
    # As `auditbook settings --example` says: April-July round 1, August-November round 2, December-March round 3.
    assert named == {"2026-07": "2026 round 1", "2026-11": "2026 round 2", "2027-02": "2026 round 3"}
    assert synthetic_answers(layout, seed=1, month="2026-11")[round_input.name] == "2026 round 3"
