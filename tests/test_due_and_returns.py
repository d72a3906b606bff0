"""When an audit is due comes from the spec's own rule, the one the workbook's locked formula shows, in validate,
in the Returns tab and for cases not yet returned (review, should-fix 3). The Returns tab covers the
allocation's rounds only, and says when a return's team, auditor or team manager differ from its
allocation's (product review, should-fix 6).

Everything here is synthetic.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from auditbook.allocation.lists import read_allocation
from auditbook.collection.collect import collect
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec, default_spec_path, load_spec
from auditbook.spec.due import due_date
from auditbook.spec.layout import Layout, build_layout
from auditbook.spec.roles import Role
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

TODAY = datetime(2026, 12, 15, 9, 0)
HEADER = "Case reference,Team,Allocated worker,Team manager,Auditor,Audit month,Round\n"


@pytest.fixture(scope="module")
def month_later(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    """The Deep Dive with audits due a month after the end of the audit month (its own version)."""
    text = default_spec_path().read_text(encoding="utf-8")
    old = "derived: {end_of: profile.audit_month}\n      - id: date_completed"
    assert old in text
    text = text.replace(old, 'derived: {end_of: profile.audit_month, offset: "+1 month"}\n      - id: date_completed')
    path = tmp_path_factory.mktemp("spec") / "deep_dive_month_later.yaml"
    path.write_text(text.replace('version: "2.1.0"', 'version: "2.1.9"'), encoding="utf-8")
    return load_spec(path)


def _return(spec: Spec, path: Path, index: int, **changes: object) -> Path:
    layout = build_layout(spec)
    answers = synthetic_answers(layout, seed=index, index=index, month="2026-11", late=True)
    for role, value in changes.items():
        inp = layout.role_input(Role(role))
        assert inp is not None
        answers[inp.name] = value  # type: ignore[assignment]
    return build_workbook(spec, out=path, prefill=answers)


def test_the_due_date_is_the_specs_rule(month_later: Spec, spec: Spec) -> None:
    assert due_date(spec, "2026-11") == date(2026, 11, 30)
    assert due_date(month_later, "2026-11") == date(2026, 12, 30)  # EDATE of 30 November, as the workbook shows
    assert due_date(spec, "not a month") is None


def test_validate_judges_lateness_by_the_specs_rule(month_later: Spec, tmp_path: Path) -> None:
    report = validate_file(_return(month_later, tmp_path / "r.xlsx", 3), registry=SpecRegistry.of(month_later))
    assert report.audit is not None and report.audit.completed == date(2026, 12, 3)
    assert (report.audit.due_date, report.audit.late) == (date(2026, 12, 30), False)
    assert [p.code for p in report.problems if p.code == "late"] == []


def test_the_returns_tab_takes_the_due_date_from_the_spec(month_later: Spec, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    _return(month_later, folder / "SYN-0001.xlsx", 1)
    listing = tmp_path / "allocation.csv"
    listing.write_text(HEADER + "SYN-0001,Team Alpha,,,Example Auditor,2026-11,\n"
                                "SYN-0042,Team Alpha,,,Example Auditor,2026-11,\n", encoding="utf-8")
    rows, bad = read_allocation(listing)
    assert bad == []
    result = collect(folder, out=tmp_path / "m.xlsx", registry=SpecRegistry.of(month_later), now=TODAY,
                     allocation=rows)
    got = {r.case_ref: (r.due, r.status) for r in result.returns or ()}
    # Completed 03/12/2026 and not yet overdue on 15/12/2026: both due 30/12/2026.
    assert got == {"SYN-0001": (date(2026, 12, 30), "Returned on time"),
                   "SYN-0042": (date(2026, 12, 30), "Outstanding")}


def test_the_returns_tab_keeps_to_the_allocations_rounds_and_flags_differences(spec: Spec, layout: Layout,
                                                                              tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    round_input = layout.role_input(Role.ROUND)
    assert round_input is not None
    for i, (rnd, team) in enumerate((("2026 round 1", "Team Alpha"), ("2026 round 2", "Team Gamma"),
                                     ("2026 round 2", "Team Beta")), start=1):
        answers = synthetic_answers(layout, seed=i, index=i, month="2026-11")
        answers[round_input.name] = rnd
        answers[layout.role_input(Role.TEAM).name] = team  # type: ignore[union-attr]
        build_workbook(spec, out=folder / f"SYN-000{i}.xlsx", prefill=answers)
    listing = tmp_path / "allocation.csv"
    listing.write_text(HEADER + "SYN-0002,Team Alpha,,,Example Auditor,2026-11,2026 round 2\n", encoding="utf-8")
    rows, _ = read_allocation(listing)
    result = collect(folder, out=tmp_path / "m.xlsx", registry=SpecRegistry.of(spec), now=TODAY, allocation=rows)
    got = {r.case_ref: (r.team, r.status, r.detail) for r in result.returns or ()}
    auditor = result.evidence.in_round[0].audit.text(Role.AUDITOR) if result.evidence else ""
    assert set(got) == {"SYN-0002", "SYN-0003"}  # SYN-0001 is of another round: not the allocation's business
    team, status, detail = got["SYN-0002"]
    assert (team, status) == ("Team Alpha", "Returned on time")
    assert "check, the return differs from the allocation: team Team Gamma (allocated: Team Alpha)" in detail
    if auditor != "Example Auditor":
        assert f"auditor {auditor} (allocated: Example Auditor)" in detail
    assert got["SYN-0003"][1] == "Returned, not allocated"
