"""Obviously synthetic, varied, valid answers for any spec: for the demo, the tests and the benchmark.

Nothing here looks like a real person or case: references start SYN-, people are "Example ...". The
case profile comes from one of the spec's `examples:`; the people, dates and urgent concern go in through
the spec's roles, so any spec with roles gets sensible returns. They read as an auditor's would: a case's
practice is better or worse throughout, a section's grade follows its answers, an answer that falls short has
its evidence, a section's theme tags are its own and fit its grade, the overall grade is a judgement near the
typical section grade, actions are things to do with someone responsible for them, and an audit is completed
by its due date unless it is meant to be late.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from auditbook.dates import audit_period, month_end, parse_month
from auditbook.local import RoundCalendar
from auditbook.spec.conditions import EVIDENCE_SUFFIX, Condition, Equals, In, Not
from auditbook.spec.evaluate import Evaluator, audit_facts
from auditbook.spec.layout import Input, Layout, SectionLayout
from auditbook.spec.logic import choices, holds
from auditbook.spec.roles import Role
from auditbook.spec.rules import firings
from auditbook.workbook.context import Answer, as_text
from auditbook.workbook.synthetic_text import action_text, fitting, responsible

TEAMS = ("Team Alpha", "Team Beta", "Team Gamma")

_PHRASES = (
    "Synthetic example text for testing.", "Visits recorded within timescales.", "Plan reviewed at core group.",
    "Views gathered through direct work.", "Supervision notes on file.", "Partner agencies attended meetings.",
)
#: What evidence under an answer that falls short says.
_SHORTFALL_PHRASES = (
    "Synthetic example: not evidenced on the file for the audit period.",
    "Synthetic example: recorded once, then not followed up.",
    "Synthetic example: partly recorded; the reasons are not on file.",
)
#: How often each choice is picked, so answers vary the way real audits do.
_WEIGHTS = {"Yes": 6, "Partly": 3, "No": 2, "Not known": 1, "Good": 5, "Requires improvement": 4,
            "Outstanding": 1, "Inadequate": 1}
#: How much more (or less) often a case's practice questions are answered Yes, and less (or more) often No, than
#: usual: practice is better or worse throughout a case, so its sections' grades go together.
_PRACTICE = (0.4,1.0,1.5,2.5)
#: How far a section's grade moves from the best grade short of outstanding as its answers fall short: all of
#: them short is a little past the worst grade, so most such sections get it.
_GRADE_SLOPE = 1.2
#: How the overall judgement sits against the typical section grade: mostly the same, sometimes a grade worse
#: (a serious gap weighs more), now and then a grade better.
_OVERALL_STEPS, _OVERALL_WEIGHTS = (-1, 0, 1), (3, 6, 1)


def _text(rng: random.Random, long: bool) -> str:
    return " ".join(rng.sample(_PHRASES, 3 if long else 1))


def _value(inp: Input, rng: random.Random, period: tuple[date, date],
           weights: dict[str, float] | None = None) -> Answer:
    if inp.type == "choice":
        weighed: dict[str, float] = {**_WEIGHTS, **(weights or {})}
        return rng.choices(inp.choices, weights=[weighed.get(c, 2) for c in inp.choices])[0]
    if inp.type == "date":
        span = (period[1] - period[0]).days
        return period[0] + timedelta(days=rng.randrange(max(span, 1)))
    if inp.type == "integer":
        return rng.randint(inp.min or 0, inp.max if inp.max is not None else 100)
    if inp.type == "month":
        return f"{period[1].year:04d}-{period[1].month:02d}"
    return _text(rng, inp.type == "long_text")


def _theme(layout: Layout, rng: random.Random, answers: dict[str, Answer], sl: SectionLayout) -> str | None:
    """A theme tag fitting the section (its words) and its grade (a concern when it needs action, else a
    strength), not one already given; None when no tag of that kind fits the section."""
    spec = layout.spec
    grade_input = layout.section_input(sl, Role.SECTION_GRADE)
    grade = answers.get(grade_input.name) if grade_input is not None else None
    concern = grade in spec.grading.needs_action if grade is not None else rng.random() < 0.5
    given = {answers.get(i.name) for i in layout.theme_inputs(sl)}
    pool = [t.label for t in spec.themes if (t.kind == "concern") == concern and t.label not in given
            and t.belongs_to(sl.section.id)]
    words = " ".join([sl.section.title, sl.section.guidance or "", *(f.label for f in spec.fields_of(sl.section))])
    best = fitting(pool, sl.section.title, words)
    return rng.choice(best) if best else None


def _making(cond: Condition | None, want: bool, layout: Layout) -> dict[str, Answer]:
    """Answers ("section.field") that make a simple condition (equals / in / not) true or false."""
    if isinstance(cond, Not):
        return _making(cond.not_, not want, layout)
    if not isinstance(cond, Equals | In):
        return {}
    wanted = choices(cond)
    inp = layout.by_ref.get(cond.field)
    if want:
        return {cond.field: wanted[0]}
    others = [c for c in (inp.choices if inp is not None else ()) if c not in wanted]
    return {cond.field: others[0]} if others else {}


def round_name(month: str, rounds: RoundCalendar | None) -> str:
    """The audit month's round: as the round calendar names it, else by thirds of the year ("2026 round 3")."""
    named = rounds.round_of(month) if rounds is not None else None
    return named or f"{month[:4]} round {(int(month[5:]) - 1) // 4 + 1}"


def _role_values(layout: Layout, rng: random.Random, *, index: int, month: str, late: bool,
                 urgent: bool, rounds: RoundCalendar | None) -> dict[str, Answer]:
    due = month_end(*parse_month(month))
    period = audit_period(due)
    team = TEAMS[index % len(TEAMS)]
    # Finished in the last weeks of the audit month, by its end; a late one a few days after.
    completed = due + timedelta(days=3) if late else due - timedelta(days=rng.randrange(0, 20))
    by_role: dict[Role, Answer] = {
        Role.CASE_REF: f"SYN-{index:04d}", Role.TEAM: team, Role.WORKER: f"Example Worker {index % 7 + 1}",
        Role.TEAM_MANAGER: f"Example Manager {team.split()[-1]}", Role.AUDITOR: f"Example Auditor {index % 5 + 1}",
        Role.AUDIT_MONTH: month, Role.ROUND: round_name(month, rounds),
        Role.DUE_DATE: due, Role.PERIOD_FROM: period[0], Role.PERIOD_TO: period[1], Role.COMPLETED: completed,
        # Feedback follows the completed audit; an urgent concern is raised during it.
        Role.FEEDBACK_TEAM_MANAGER: completed + timedelta(days=rng.randrange(0, 6)),
        Role.FEEDBACK_PRACTITIONER: completed + timedelta(days=rng.randrange(0, 10)),
        Role.URGENT_WHEN: completed - timedelta(days=rng.randrange(0, 6)),
        # Raised with the line manager for the case, who is the team manager.
        Role.URGENT_WITH_NAME: f"Example Manager {team.split()[-1]}",
        Role.URGENT_WHAT: "Synthetic example: the record shows an injury to the child that was not followed up "
                          "with a strategy discussion.",
        Role.URGENT_AGREED: "Synthetic example: the team manager agreed a strategy discussion the same day and a "
                            "visit to the child within 24 hours.",
    }
    with_whom = layout.role_input(Role.URGENT_WITH_WHOM)
    if with_whom is not None and with_whom.choices:
        by_role[Role.URGENT_WITH_WHOM] = with_whom.choices[0]  # the spec lists whom to raise it with first
    out = {ref: by_role[role] for role, ref in layout.spec.roles.field_roles().items() if role in by_role}
    out.update(_making(layout.spec.roles.urgent, urgent, layout))
    return out


def synthetic_answers(layout: Layout, *, seed: int, scenario: str | None = None, index: int = 1,
                      month: str = "2026-11", late: bool = False, actions: int | None = None,
                      urgent: bool = False, rounds: RoundCalendar | None = None) -> dict[str, Answer]:
    """Answers keyed by defined name for one complete, valid audit that keeps the spec's rules.

    `scenario` names one of the spec's examples (a consistent case profile); without it one is picked.
    `rounds` names the round as that calendar does (else by thirds of the year).
    """
    rng = random.Random(seed)
    examples = layout.spec.examples
    kind = scenario or (rng.choice(sorted(examples)) if examples else None)
    if kind is not None and kind not in examples:
        raise KeyError(f"the spec has no example {kind!r}; it has {', '.join(sorted(examples)) or 'none'}")
    # Without a number of actions, the audit has one for each section that needs one, and a few more now and then.
    count = rng.randint(0, 4) if actions is None else actions
    for attempt in range(200):
        answers = _attempt(layout, random.Random(f"{seed}/{attempt}"), examples[kind] if kind else {},
                           index=index, month=month, late=late, actions=count, urgent=urgent, rounds=rounds,
                           at_most=actions is not None)
        if not _breaks_rules(layout, answers):
            return answers
    raise RuntimeError(f"no synthetic answers for the spec {layout.spec.id} keep all its rules; check its examples")


def _breaks_rules(layout: Layout, answers: dict[str, Answer]) -> bool:
    ev = Evaluator(layout, {k: as_text(v) for k, v in answers.items()})
    facts = audit_facts(layout, answers, ev)
    return any(firings(rule, facts) for rule in layout.spec.rules)


def _attempt(layout: Layout, rng: random.Random, example: dict[str, str | int], *, index: int, month: str,
             late: bool, actions: int, urgent: bool, rounds: RoundCalendar | None,
             at_most: bool) -> dict[str, Answer]:
    fixed: dict[str, Answer] = {**example, **_role_values(layout, rng, index=index, month=month, late=late,
                                                            urgent=urgent, rounds=rounds)}
    period = audit_period(month_end(*parse_month(month)))
    answers: dict[str, Answer] = {}
    by_ref: dict[str, object] = {}
    practice = rng.choice(_PRACTICE)
    weights = {**_WEIGHTS, "Yes": _WEIGHTS["Yes"] * practice, "No": _WEIGHTS["No"] / practice}
    for sl in layout.sections:
        if sl.section.kind == "table" or not holds(sl.section.applies_when, by_ref):
            continue
        if not holds(sl.section.required_when, by_ref) and rng.random() < 0.5:
            continue
        for inp in sl.inputs:
            if inp.derived is not None or not holds(inp.condition, by_ref):
                continue
            value = _entry(layout, rng, sl, inp, answers, fixed.get(inp.ref), period, weights)
            if value is None:
                continue
            answers[inp.name] = value
            by_ref[inp.ref] = value
    weak = _grade_consistently(layout, rng, answers, actions if at_most else None)
    _fill_actions(layout, rng, answers, period, max(actions, len(weak)), weak)
    return answers


def _entry(layout: Layout, rng: random.Random, sl: SectionLayout, inp: Input, answers: dict[str, Answer],
           fixed: Answer | None, period: tuple[date, date], weights: dict[str, float]) -> Answer | None:
    """One input's answer (None to leave it blank): the example's or a role's when given; a grade that follows the
    section's answers; evidence under every answer that falls short (and under some others); theme tags now and
    then; optional inputs often left blank; anything else as any input."""
    if fixed is not None:
        return fixed
    if inp is layout.section_input(sl, Role.SECTION_GRADE):
        return _fitting_grade(layout, rng, sl, answers)
    short = _evidence_for(layout, inp, answers)
    if short is not None:
        return rng.choice(_SHORTFALL_PHRASES) if short else None if rng.random() < 0.5 else _text(rng, True)
    if inp in layout.theme_inputs(sl):
        # Auditors tag a section sparingly, with a concern when it needs action, else a strength.
        return None if rng.random() < 0.6 else _theme(layout, rng, answers, sl)
    if not inp.required and rng.random() < 0.4:
        return None
    return _value(inp, rng, period, weights)


def _evidence_for(layout: Layout, inp: Input, answers: dict[str, Answer]) -> bool | None:
    """For a practice question's evidence: whether its answer falls short (grading.shortfall); None for any other
    input."""
    if not inp.field.endswith(EVIDENCE_SUFFIX):
        return None
    question = inp.ref.removesuffix(EVIDENCE_SUFFIX)
    if question not in layout.spec.questions.get(inp.section, ()):
        return None
    return answers.get(layout.by_ref[question].name) in layout.spec.grading.shortfall


def _fitting_grade(layout: Layout, rng: random.Random, sl: SectionLayout, answers: dict[str, Answer]) -> Answer:
    """A section's grade as its answers say: the best grade short of outstanding when none falls short, worse the
    further they fall short, now and then a grade either side; outstanding only now and then where none does."""
    spec = layout.spec
    grades = spec.lists.get(spec.grade_list, [])
    good = grades.index(spec.grading.good_or_better[-1]) if spec.grading.good_or_better else 0
    scores = [_shortfall(layout, layout.by_ref[q], answers) for q in spec.questions.get(sl.section.id, ())]
    known = [s for s in scores if s is not None]
    if not grades or not known:
        return grades[good] if grades else ""
    short = sum(known) / len(known)
    target = good + short * (len(grades) - 1 - good) * _GRADE_SLOPE + rng.uniform(-0.45, 0.45)
    index = min(max(int(target + 0.5), 0), len(grades) - 1)
    if index == good and short == 0 and rng.random() < 0.25:
        index = max(good - 1, 0)
    return grades[index]


def _shortfall(layout: Layout, question: Input, answers: dict[str, Answer]) -> float | None:
    """How far a question's answer falls short: 0 for the first of its list (Yes, Met); for the answers that fall
    short (grading.shortfall), the first of them in the list (Partly, Partly met) half way and the last (No, Not
    met) all the way. None when it is blank or says neither (Not known)."""
    answer = answers.get(question.name)
    short = [c for c in question.choices if c in layout.spec.grading.shortfall]
    if answer is None or not question.choices:
        return None
    if answer == question.choices[0]:
        return 0.0
    return (short.index(str(answer)) + 1) / len(short) if answer in short else None


def _grade_consistently(layout: Layout, rng: random.Random, answers: dict[str, Answer],
                        actions: int | None) -> list[str]:
    """Keep no more sections needing an action than there are actions (when their number is given), and grade the
    whole case as an auditor would: near the typical section grade, never more than one grade better than the
    worst section, and not a grade needing action when there are no actions.

    Returns the titles of the sections that need an action.
    """
    grading = layout.spec.grading
    grades = layout.spec.lists.get(layout.spec.grade_list, [])
    weak: list[str] = []
    given: list[int] = []
    for sl in layout.sections:
        inp = layout.section_input(sl, Role.SECTION_GRADE) if sl.section.kind == "judged" else None
        if inp is None or inp.name not in answers:
            continue
        if answers[inp.name] in grading.needs_action:
            if actions is not None and len(weak) >= actions and grading.good_or_better:
                answers[inp.name] = grading.good_or_better[-1]
                _drop_concerns(layout, sl, answers)  # tagged for the grade it had
            else:
                weak.append(sl.section.title)
        if answers[inp.name] in grades:
            given.append(grades.index(str(answers[inp.name])))
    overall = layout.role_input(Role.OVERALL_GRADE)
    if overall is None or overall.name not in answers or not given:
        return weak
    typical = sorted(given)[len(given) // 2]
    step = rng.choices(_OVERALL_STEPS, weights=_OVERALL_WEIGHTS)[0]
    judged = min(max(typical - step, max(given) - 1, 0), max(given), len(grades) - 1)
    if actions == 0 and grades[judged] in grading.needs_action and grading.good_or_better:
        judged = grades.index(grading.good_or_better[-1])
    answers[overall.name] = grades[judged]
    return weak


def _drop_concerns(layout: Layout, sl: SectionLayout, answers: dict[str, Answer]) -> None:
    """Clear a section's concern tags (its grade no longer needs action)."""
    concerns = {t.label for t in layout.spec.themes if t.kind == "concern"}
    for inp in layout.theme_inputs(sl):
        if answers.get(inp.name) in concerns:
            del answers[inp.name]


def _fill_actions(layout: Layout, rng: random.Random, answers: dict[str, Answer],
                  period: tuple[date, date], count: int, weak: list[str]) -> None:
    """Fill the first `count` rows of the actions table, a row for each section that needs an action first."""
    sl = layout.actions
    if sl is None:
        return
    manager = layout.role_input(Role.TEAM_MANAGER)
    boss = answers.get(manager.name) if manager is not None else None
    fed_back = [answers.get(i.name) for i in (layout.role_input(r) for r in (Role.FEEDBACK_TEAM_MANAGER,
                                                                             Role.COMPLETED)) if i is not None]
    agreed = next((d for d in fed_back if isinstance(d, date)), None)
    for inp in sl.inputs:
        if inp.row_index is None or inp.row_index > count:
            continue
        source = weak[inp.row_index - 1] if inp.row_index <= len(weak) else None
        value = _action_value(layout, rng, inp, period, source, str(boss) if boss else None, agreed)
        if value is not None:
            answers[inp.name] = value


def _action_value(layout: Layout, rng: random.Random, inp: Input, period: tuple[date, date], source: str | None,
                  boss: str | None, agreed: date | None) -> Answer | None:
    """An entry of an action's row (None to leave it blank): its timescale after the audit period, the section it
    comes from, agreed (with everyone, on `agreed`: the day of feedback), its text, who is responsible, and
    anything else as any input."""
    if inp.field == layout.action_column(Role.ACTION_AGREED_ON) and agreed is not None:
        return agreed  # at feedback
    if inp.type == "date":
        return period[1] + timedelta(days=rng.randint(14, 90))
    if inp.field == layout.action_column(Role.ACTION_SECTION) and source is not None:
        return source  # an action from each section that needs one
    if inp.field in (layout.action_column(Role.ACTION_AGREED), layout.action_column(Role.ACTION_AGREED_WITH)) \
            and inp.choices:
        return inp.choices[0]  # agreed at feedback, as best practice is: a list puts "Yes" (or everyone) first
    if inp.field == layout.action_column(Role.ACTION_TEXT):
        return action_text(rng, source or "")
    if inp.field == layout.action_column(Role.ACTION_RESPONSIBLE):
        return responsible(rng, boss, required=inp.required)
    if inp.required or rng.random() < 0.7:
        return _value(inp, rng, period)
    return None
