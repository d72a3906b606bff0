"""The whole loop on synthetic data, so a newcomer sees it with one command."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

from auditbook.collection.collect import collect
from auditbook.collection.result import CollectResult
from auditbook.dates import month_start, parse_month
from auditbook.local import RoundCalendar
from auditbook.outputs.report import write_report
from auditbook.returns.provenance import SpecRegistry
from auditbook.settings import example_calendar
from auditbook.spec import Spec, default_spec_path, load_spec
from auditbook.spec.conditions import EVIDENCE_SUFFIX
from auditbook.spec.layout import Layout, build_layout
from auditbook.spec.roles import Role
from auditbook.text import slug
from auditbook.workbook.context import Answer
from auditbook.workbook.generate import generate_workbook
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook


class DemoResult(NamedTuple):
    """Where the demo put things and what collect made of them."""

    blank: Path
    returns: Path
    collected: CollectResult
    report: Path

    def next_steps(self) -> list[str]:
        """What to open next, a line each: the demo's closing words."""
        return ["What to open next:",
                f"  {self.blank}: the blank audit workbook an auditor fills in (start on its Start sheet)",
                f"  {self.collected.master}: the master workbook for the Self-Assessment Group (its Summary tab first)",
                f"  {self.report}: the round report for the Self-Assessment Group (open it in a browser)",
                f"  {self.returns}: the synthetic returns it was made from, some deliberately wrong"]


#: The round before the demo's own (its audit month), so Trends and "change since the previous round" show something.
EARLIER_MONTH = "2026-07"


def _earlier_round(spec: Spec, folder: Path, count: int, rounds: RoundCalendar) -> None:
    """Returns of the previous round, for other children (SYN-0101, ...), in their own subfolder."""
    layout = build_layout(spec)
    kinds: list[str | None] = [*sorted(spec.examples)] or [None]
    for i in range(1, count + 1):
        answers = synthetic_answers(layout, seed=500 + i, scenario=kinds[i % len(kinds)], index=100 + i,
                                    month=EARLIER_MONTH, rounds=rounds)
        build_workbook(spec, out=folder / f"SYN-{100 + i:04d}.xlsx", prefill=answers)


def _returns(spec: Spec, folder: Path, count: int, rounds: RoundCalendar) -> None:
    layout = build_layout(spec)
    kinds: list[str | None] = [*sorted(spec.examples)] or [None]
    team_input = layout.role_input(Role.TEAM)
    for i in range(1, count + 1):
        answers = synthetic_answers(layout, seed=i, scenario=kinds[i % len(kinds)], index=i, late=i % 5 == 0,
                                    urgent=i == 3, rounds=rounds)
        # Slips auditors make, which validate warns of and the return is still merged: a "No" with nothing under
        # it, and a section graded as if its answers were better than they are.
        if i % 6 == 4:
            _drop_evidence(layout, answers)
        if i % 6 == 0:
            _generous_grade(layout, answers)
        team = slug(str(answers[team_input.name])) if team_input is not None else "returns"
        build_workbook(spec, out=folder / team / f"SYN-{i:04d}.xlsx", prefill=answers)
    # What a real shared folder also holds, each handled and reported rather than dropped:
    bad = synthetic_answers(layout, seed=900, scenario=kinds[0], index=900, rounds=rounds)
    always = next(sl for sl in layout.sections if sl.section.kind == "judged" and sl.applies_flag is None)
    for role, wrong in ((Role.SECTION_GRADE, "Goodish"),
                        (Role.WORKING_WELL, '=HYPERLINK("http://example.invalid","click")')):
        inp = layout.section_input(always, role)
        if inp is not None:
            bad[inp.name] = wrong
    build_workbook(spec, out=folder / "SYN-0900 bad grade.xlsx", prefill=bad)
    early = synthetic_answers(layout, seed=1, scenario=kinds[1 % len(kinds)], index=1, rounds=rounds)
    completed = layout.role_input(Role.COMPLETED)
    if completed is not None:
        early[completed.name] = month_start(*parse_month("2026-11"))
    build_workbook(spec, out=folder / "SYN-0001 first draft.xlsx", prefill=early)
    first = next(folder.glob("*/SYN-0001.xlsx"))
    shutil.copyfile(first, first.with_name("SYN-0001 - Copy.xlsx"))
    (folder / "SYN-0901.xlsx").write_text("case,grade\nSYN-0901,Good\n", encoding="utf-8")
    (folder / "~$SYN-0002.xlsx").write_bytes(b"\x00" * 165)


def _drop_evidence(layout: Layout, answers: dict[str, Answer]) -> None:
    """Clear the evidence under the first practice question answered as falling short."""
    short = layout.spec.grading.shortfall
    for refs in layout.spec.questions.values():
        for ref in refs:
            if answers.get(layout.by_ref[ref].name) in short:
                answers.pop(layout.by_ref[ref + EVIDENCE_SUFFIX].name, None)
                return


def _generous_grade(layout: Layout, answers: dict[str, Answer]) -> None:
    """The first section every audit has, graded the best grade short of outstanding though all but one of its
    practice questions are answered as falling furthest short (with evidence), and its theme tags cleared."""
    spec = layout.spec
    sl = next((s for s in layout.sections if s.section.kind == "judged" and s.applies_flag is None), None)
    grade = layout.section_input(sl, Role.SECTION_GRADE) if sl is not None else None
    if sl is None or grade is None or not spec.grading.good_or_better:
        return
    for ref in spec.questions.get(sl.section.id, ())[1:]:
        inp = layout.by_ref[ref]
        worst = [c for c in inp.choices if c in spec.grading.shortfall][-1:]
        if inp.applies_flag is None and worst:
            answers[inp.name] = worst[0]
            answers[layout.by_ref[ref + EVIDENCE_SUFFIX].name] = "Synthetic example: not evidenced on the file."
    answers[grade.name] = spec.grading.good_or_better[-1]
    for tag in layout.theme_inputs(sl):
        answers.pop(tag.name, None)


def run_demo(out: Path, *, count: int = 12, rounds: RoundCalendar | None = None) -> DemoResult:
    """Write a blank workbook, a folder of synthetic returns and their master into `out`.

    The rounds are named by `rounds` (by default the example settings' calendar, as `auditbook settings
    --example` shows it).
    """
    rounds = rounds or example_calendar()
    spec = load_spec(default_spec_path())
    out.mkdir(parents=True, exist_ok=True)
    blank = generate_workbook(spec, out=out / "deep-dive-blank.xlsx", prefill={})
    returns = out / "demo-returns"
    shutil.rmtree(returns, ignore_errors=True)
    _returns(spec, returns, count, rounds)
    _earlier_round(spec, returns / "earlier round", count, rounds)
    master = out / "demo-master.xlsx"
    ledger = out / ".demo-ledger.sqlite3"
    ledger.unlink(missing_ok=True)
    registry = SpecRegistry.of(spec)
    result = collect(returns, out=master, ledger_path=ledger, registry=registry, rounds=rounds)
    assert result.evidence is not None  # a new ledger: the master was written, from this evidence
    report = write_report(result.evidence, out / "demo-report.html")
    return DemoResult(blank=blank, returns=returns, collected=result, report=report)
