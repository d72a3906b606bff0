"""Obviously synthetic, varied, valid answers for any spec: for the demo, the tests and the benchmark.

Nothing here looks like a real person or case: references start SYN-, people are "Example ...".
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from auditbook.dates import audit_period, month_end, parse_month
from auditbook.spec.conditions import evaluate
from auditbook.workbook.layout import Input, Layout

TEAMS = ("Team Alpha", "Team Beta", "Team Gamma")

#: Case profile answers that make each kind of case.
SCENARIOS: dict[str, dict[str, str | int]] = {
    "child_protection": {"profile.had_early_help": "No", "profile.had_cin": "Yes", "profile.had_cp": "Yes",
                         "profile.in_care": "No", "profile.independent_living": "No", "profile.age": 8,
                         "profile.legal_status": "Child protection plan"},
    "in_care_16_plus": {"profile.had_early_help": "No", "profile.had_cin": "No", "profile.had_cp": "No",
                        "profile.in_care": "Yes", "profile.independent_living": "Yes", "profile.age": 17,
                        "profile.legal_status": "Looked after: care order"},
    "early_help": {"profile.had_early_help": "Yes", "profile.had_cin": "No", "profile.had_cp": "No",
                   "profile.in_care": "No", "profile.independent_living": "No", "profile.age": 5,
                   "profile.legal_status": "Early help"},
    "child_in_need": {"profile.had_early_help": "Yes", "profile.had_cin": "Yes", "profile.had_cp": "No",
                      "profile.in_care": "No", "profile.independent_living": "No", "profile.age": 11,
                      "profile.legal_status": "Child in need"},
}

_PHRASES = (
    "Synthetic example text for testing.", "Visits recorded within timescales.", "Plan reviewed at core group.",
    "Views gathered through direct work.", "Supervision notes on file.", "Partner agencies attended meetings.",
)
_WEIGHTS = {"Yes": 6, "Partly": 3, "No": 2, "Not known": 1, "Good": 5, "Requires improvement": 4,
            "Outstanding": 1, "Inadequate": 1}


def _text(rng: random.Random, long: bool) -> str:
    return " ".join(rng.sample(_PHRASES, 3 if long else 1))


def _value(inp: Input, rng: random.Random, period: tuple[date, date]) -> str | int | date:
    if inp.type == "choice":
        return rng.choices(inp.choices, weights=[_WEIGHTS.get(c, 2) for c in inp.choices])[0]
    if inp.type == "date":
        span = (period[1] - period[0]).days
        return period[0] + timedelta(days=rng.randrange(max(span, 1)))
    if inp.type == "integer":
        return rng.randint(inp.min or 0, inp.max if inp.max is not None else 100)
    return _text(rng, inp.type == "long_text")


def synthetic_answers(layout: Layout, *, seed: int, scenario: str | None = None, index: int = 1,
                      month: str = "2026-11", late: bool = False, actions: int | None = None,
                      urgent: bool = False) -> dict[str, str | int | date]:
    """Answers keyed by defined name for one complete, valid audit of the given kind."""
    rng = random.Random(seed)
    kind = scenario or rng.choice(sorted(SCENARIOS))
    due = month_end(*parse_month(month))
    period = audit_period(due)
    fixed: dict[str, str | int | date] = {
        **SCENARIOS.get(kind, {}),
        "profile.case_ref": f"SYN-{index:04d}", "profile.team": TEAMS[index % len(TEAMS)],
        "profile.worker": f"Example Worker {index % 7 + 1}",
        "profile.team_manager": f"Example Manager {TEAMS[index % len(TEAMS)].split()[-1]}",
        "profile.auditor": f"Example Auditor {index % 5 + 1}", "profile.audit_month": month,
        "profile.round": f"{month[:4]} round {(int(month[5:]) - 1) // 4 + 1}", "profile.due_date": due,
        "profile.period_from": period[0], "profile.period_to": period[1],
        "profile.date_completed": due + timedelta(days=3) if late else due - timedelta(days=rng.randrange(0, 20)),
        "overall.urgent_concern": "Yes" if urgent else "No",
    }
    answers: dict[str, str | int | date] = {}
    by_ref: dict[str, str | None] = {}
    for sl in layout.sections:
        if sl.section.kind == "table":
            continue
        if not evaluate(sl.section.applies_when, by_ref):
            continue
        optional = not evaluate(sl.section.required_when, by_ref)
        if optional and rng.random() < 0.5:
            continue
        for inp in sl.inputs:
            if not evaluate(inp.condition, by_ref):
                continue
            if not inp.required and rng.random() < 0.4 and inp.ref not in fixed:
                continue
            value = fixed.get(inp.ref, _value(inp, rng, period))
            answers[inp.name] = value
            by_ref[inp.ref] = value.isoformat() if isinstance(value, date) else str(value)
    _fill_actions(layout, rng, answers, period, rng.randint(0, 4) if actions is None else actions)
    return answers


def _fill_actions(layout: Layout, rng: random.Random, answers: dict[str, str | int | date],
                  period: tuple[date, date], count: int) -> None:
    tables = [sl for sl in layout.sections if sl.section.kind == "table"]
    for sl in tables[:1]:
        for inp in sl.inputs:
            if inp.row_index is None or inp.row_index > count:
                continue
            if inp.type == "date":
                answers[inp.name] = period[1] + timedelta(days=rng.randint(14, 90))
            elif inp.required or rng.random() < 0.7:
                answers[inp.name] = _value(inp, rng, period)
