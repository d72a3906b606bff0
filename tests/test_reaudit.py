"""Re-audit and each case's history (issue 17): the re-audit list holds exactly the cases whose latest audit has the
lowest grade, overall or in a section; a case audited in two rounds shows both audits on the master's Cases tab; a
re-audit's workbook names the audit it follows up; the round report says how re-audited cases moved, with n.

Everything here is synthetic (SYN-... cases, "Example ..." people).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.allocation.lists import read_allocation, template_csv
from auditbook.allocation.template import write_template
from auditbook.analysis.actions import Action, State
from auditbook.analysis.collate import Merged
from auditbook.analysis.reaudit import (
    BETTER,
    NOT_COMPARED,
    SAME,
    WORSE,
    allocation_rows,
    due_for_reaudit,
    histories,
    reaudited,
)
from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.outputs.reaudit_section import moved_summary, reaudit_section, small_count
from auditbook.outputs.report import render
from auditbook.returns.audit import Audit, Provenance, SectionResult
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.spec.metadata import new_metadata
from auditbook.spec.roles import Role
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

NOW = datetime(2026, 12, 7, 9, 30)
GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate")
#: The made-up spec of the pure tests' audits, and its scale.
SCALES = {"0" * 64: GRADES}
SECTIONS = ("Assessment", "Planning")


def _merged(case: str, round_name: str, overall: str | None, *sections: str | None, follows: str = "",
            spec: str = "0" * 64) -> Merged:
    """A merged audit with these grades (overall, then by section), its instance id made from case and round."""
    prov = Provenance(file=f"{round_name}/{case}.xlsx", sha256="0" * 64, spec_id="s", spec_version="1.0",
                      spec_sha256=spec, instance_id=f"{case}@{round_name}", follows_up=follows or None)
    facts = {Role.CASE_REF: case, Role.ROUND: round_name, Role.TEAM: "Team Alpha",
             Role.WORKER: "Example Worker 1", Role.TEAM_MANAGER: "Example Manager Alpha"}
    if overall:
        facts[Role.OVERALL_GRADE] = overall
    results = [SectionResult(id=title.lower(), title=title, applies=True, required=True, status="complete", grade=g,
                             themes=[]) for title, g in zip(SECTIONS, sections, strict=False)]
    audit = Audit(provenance=prov, facts=facts, sections=results, due_date=None, late=False)
    return Merged(audit=audit, file=prov.file, warnings=())


#: (case, round, overall, section grades): round 2 re-audits some of round 1's cases.
KNOWN = [
    ("SYN-0001", "round 1", "Inadequate", "Inadequate", "Requires improvement"),  # due: overall
    ("SYN-0002", "round 1", "Requires improvement", "Good", "Inadequate"),  # due: a section only
    ("SYN-0003", "round 1", "Good", "Good", "Good"),  # not due
    ("SYN-0004", "round 1", "Inadequate", "Good", "Good"),  # re-audited better: leaves the list
    ("SYN-0004", "round 2", "Good", "Good", "Good"),
    ("SYN-0005", "round 1", "Requires improvement", "Inadequate", "Good"),  # re-audited worse: stays
    ("SYN-0005", "round 2", "Inadequate", "Good", "Good"),
    ("SYN-0006", "round 1", "Inadequate", "Good", "Good"),  # re-audited the same: stays, for a section now
    ("SYN-0006", "round 2", "Inadequate", "Good", "Inadequate"),
    ("SYN-0007", "round 2", "Requires improvement", "Requires improvement", "Requires improvement"),  # not due
    ("SYN-0008", "round 2", "Good", "Good", None),  # a section not graded: not due
]


def _known() -> list[Merged]:
    # Listed newest round first: the order comes from the round calendar, not from the list.
    return [_merged(case, r, overall, *grades) for case, r, overall, *grades in reversed(KNOWN)]


def test_the_reaudit_list_holds_exactly_the_cases_whose_latest_audit_is_inadequate() -> None:
    due = due_for_reaudit(_known(), SCALES, rounds=["round 1", "round 2"])
    assert [(h.case_ref, h.latest.round, h.due_for) for h in due] == [
        ("SYN-0001", "round 1", ("Overall", "Assessment")),
        ("SYN-0002", "round 1", ("Planning",)),
        ("SYN-0005", "round 2", ("Overall",)),
        ("SYN-0006", "round 2", ("Overall", "Planning")),
    ]
    # Worked out another way: the latest row of each case in KNOWN with "Inadequate" anywhere.
    latest = {row[0]: row for row in KNOWN}
    assert {h.case_ref for h in due} == {case for case, row in latest.items() if "Inadequate" in row[2:]}


def test_each_audit_is_judged_on_its_own_specs_scale() -> None:
    scales = {**SCALES, "1" * 64: ("Strong", "Adequate", "Weak")}
    merged = [_merged("SYN-0101", "round 1", "Weak", "Adequate", spec="1" * 64),
              _merged("SYN-0102", "round 1", "Adequate", "Weak", spec="1" * 64),
              _merged("SYN-0103", "round 1", "Good", "Good"),
              _merged("SYN-0104", "round 1", "Inadequate", "Good")]
    assert [(h.case_ref, h.due_for) for h in due_for_reaudit(merged, scales)] == [
        ("SYN-0101", ("Overall",)), ("SYN-0102", ("Assessment",)), ("SYN-0104", ("Overall",))]
    # A spec the registry does not know gives no scale: nothing to judge the grades against.
    assert due_for_reaudit(merged, SCALES) == due_for_reaudit(merged[2:], SCALES)


def test_a_reaudit_with_a_better_grade_says_so_and_the_rows_carry_the_audit_to_follow_up() -> None:
    cases = histories(_known(), SCALES, rounds=["round 1", "round 2"])
    moved = [(r.after.case_ref, r.before.round, r.change) for r in reaudited(cases, "round 2")]
    assert moved == [("SYN-0004", "round 1", BETTER), ("SYN-0005", "round 1", WORSE), ("SYN-0006", "round 1", SAME)]
    assert [(r["case_ref"], r["follows_up"], r["team_manager"]) for r in allocation_rows(cases)] == [
        ("SYN-0001", "SYN-0001@round 1", "Example Manager Alpha"),
        ("SYN-0002", "SYN-0002@round 1", "Example Manager Alpha"),
        ("SYN-0005", "SYN-0005@round 2", "Example Manager Alpha"),
        ("SYN-0006", "SYN-0006@round 2", "Example Manager Alpha"),
    ]


def test_the_latest_audit_lists_the_actions_still_open_from_earlier_audits() -> None:
    def action(id_: str, case: str, round_name: str) -> Action:
        return Action(id_, case, round_name, "Team Alpha", "Example Manager Alpha", "Assessment", "Example action",
                      "Example Worker 1", None, "", "", f"{round_name}/{case}.xlsx")

    acts = [action("A-1", "SYN-0004", "round 1"), action("A-2", "SYN-0004", "round 1"),
            action("A-3", "SYN-0004", "round 2"), action("A-4", "SYN-0001", "round 1")]
    states = {"A-2": State(status="Done")}
    cases = {h.case_ref: h for h in histories(_known(), SCALES, rounds=["round 1", "round 2"], actions=acts,
                                              states=states)}
    # A-2 is done, A-3 belongs to the latest audit itself, A-4 to a case audited once.
    assert [a.id for a in cases["SYN-0004"].outstanding] == ["A-1"]
    assert cases["SYN-0001"].outstanding == ()


def test_small_counts_are_shown_as_fewer_than_the_threshold() -> None:
    assert [small_count(n) for n in (0, 1, 4, 5, 12)] == ["none", "fewer than 5", "fewer than 5", "5", "12"]
    assert small_count(2, small=2) == "2"


@pytest.mark.parametrize(("moved", "said"), [
    ({BETTER: 6, SAME: 7, WORSE: 5}, "Of 18 cases re-audited in R after an earlier audit graded Inadequate (overall or "
     "in a section), the overall grade was better for 6, the same for 7 and worse for 5."),
    # 6 + fewer than 5 + none: the total (8) would give the 2 away, so it is not said.
    ({BETTER: 6, SAME: 2}, "Of the cases re-audited in R after an earlier audit graded Inadequate (overall or in a "
     "section), the overall grade was better for 6, the same for fewer than 5 and worse for none."),
    ({WORSE: 3}, "Of fewer than 5 cases re-audited in R after an earlier audit graded Inadequate (overall or in a "
     "section), the overall grade was better for none, the same for none and worse for fewer than 5."),
    ({BETTER: 5, NOT_COMPARED: 6}, "Of 11 cases re-audited in R after an earlier audit graded Inadequate (overall or "
     "in a section), the overall grade was better for 5, the same for none and worse for none; for 6 the earlier or "
     "the later audit has no overall grade."),
    ({}, "No case audited in R follows an earlier audit graded Inadequate."),
])
def test_the_report_says_better_same_or_worse_in_words(moved: dict[str, int], said: str) -> None:
    assert moved_summary(moved, "Inadequate", "R") == said


def _grades(layout: Layout, answers: dict[str, Any], overall: str, section: str) -> None:
    """Set the overall grade, and every section's grade to `section`."""
    grade = layout.role_input(Role.OVERALL_GRADE)
    assert grade is not None
    answers[grade.name] = overall
    for sl in layout.sections:
        inp = layout.section_input(sl, Role.SECTION_GRADE)
        if inp is not None and inp.name in answers:
            answers[inp.name] = section


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory: pytest.TempPathFactory, spec: Spec, layout: Layout) -> tuple[Path, Path, str]:
    """Round 1: SYN-0001 Inadequate, SYN-0002 Good, SYN-0003 Inadequate; round 2: SYN-0001 re-audited (naming the
    audit it follows up) Requires improvement. Returns (folder, master, the round 1 audit's instance id)."""
    folder = tmp_path_factory.mktemp("reaudit") / "returns"
    round_input = layout.role_input(Role.ROUND)
    assert round_input is not None
    first = new_metadata(spec)
    for index, overall in ((1, "Inadequate"), (2, "Good"), (3, "Inadequate")):
        answers = synthetic_answers(layout, seed=index, index=index, month="2026-07")
        answers[round_input.name] = "2026 round 1"
        _grades(layout, answers, overall, "Good")
        build_workbook(spec, out=folder / "round-1" / f"SYN-{index:04d}.xlsx", prefill=answers,
                       meta=first if index == 1 else None)
    answers = synthetic_answers(layout, seed=11, index=1, month="2026-11")
    answers[round_input.name] = "2026 round 2"
    _grades(layout, answers, "Requires improvement", "Good")
    build_workbook(spec, out=folder / "round-2" / "SYN-0001.xlsx", prefill=answers,
                   meta=new_metadata(spec, follows_up=first.instance_id))
    master = folder.parent / "out" / "master.xlsx"
    result = collect(folder, out=master, registry=SpecRegistry.of(spec), now=NOW)
    assert len(result.merged) == 4, result
    return folder, master, first.instance_id


def test_a_case_audited_in_two_rounds_shows_both_audits_on_the_cases_tab(two_rounds: tuple[Path, Path, str]) -> None:
    _, master, first = two_rounds
    wb = openpyxl.load_workbook(master, read_only=True)
    rows = list(wb["Cases"].iter_rows(values_only=True))
    head = list(rows[0])
    col = {h: head.index(h) for h in ("Case reference", "Round", "Overall grade", "Workbook id",
                                       "Follows up (workbook id)", "Due for re-audit", "Moderation")}
    table = [(r[col["Case reference"]], r[col["Round"]], r[col["Overall grade"]], r[col["Due for re-audit"]])
             for r in rows[1:]]
    assert table == [
        ("SYN-0001", "2026 round 1", "Inadequate", None),
        ("SYN-0001", "2026 round 2", "Requires improvement", "No"),
        ("SYN-0002", "2026 round 1", "Good", "No"),
        ("SYN-0003", "2026 round 1", "Inadequate", "Yes: Overall"),
    ]
    # The re-audit names the audit it follows up, read back from its workbook's metadata.
    assert rows[1][col["Workbook id"]] == first
    assert rows[2][col["Follows up (workbook id)"]] == first
    # Between the overall grade and the workbook id, a column per section with its grade (all set to Good).
    sections = range(col["Overall grade"] + 1, col["Workbook id"])
    assert len(sections) >= 5
    assert {r[i] for r in rows[1:] for i in sections} <= {"Good", None}
    assert all(any(r[i] == "Good" for i in sections) for r in rows[1:])
    wb.close()


def test_the_report_says_how_reaudited_cases_moved_with_n(two_rounds: tuple[Path, Path, str]) -> None:
    folder, master, first = two_rounds
    evidence = gather_folder(folder, out=master, registry=SpecRegistry.load())
    # Read back from the ledger (the files are unchanged since collect), the re-audit still names its audit.
    assert [m.audit.provenance.follows_up for m in evidence.in_round] == [first]
    section = reaudit_section(evidence)
    assert section is not None
    assert section.counts == (("better", "fewer than 5"), ("same", "none"), ("worse", "none"))
    assert section.summary == ("Of fewer than 5 cases re-audited in 2026 round 2 after an earlier audit graded "
                               "Inadequate (overall or in a section), the overall grade was better for fewer than 5, "
                               "the same for none and worse for none.")
    exact = reaudit_section(evidence, small=1)
    assert exact is not None and exact.summary.startswith("Of 1 case re-audited") and "better for 1," in exact.summary
    html = render(evidence, generated_at=NOW)
    assert "<h2>Re-audited cases</h2>" in html
    assert "the overall grade was better for fewer than 5" in html


def test_allocate_template_reaudit_fills_the_list_and_the_workbook_names_the_audit(
        two_rounds: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, _, _ = two_rounds
    listing = tmp_path / "reaudit.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["allocate", "--template", "--reaudit", "--returns", str(folder), "--out",
                                 str(listing)])
    assert result.exit_code == 0, result.output
    with listing.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "Follows up audit"
    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [("SYN-0003", "", "")]  # auditor and month left to fill
    follows = rows[1][-1]
    assert follows
    rows[1][4], rows[1][5] = "Example Auditor 1", "2027-01"
    with listing.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    out = tmp_path / "workbooks"
    result = runner.invoke(app, ["allocate", str(listing), "--out", str(out)])
    assert result.exit_code == 0, result.output
    [made] = sorted(out.glob("*.xlsx"))
    wb = openpyxl.load_workbook(made)
    assert wb.custom_doc_props["AuditbookFollowsUp"].value == follows
    meta = dict(wb["Metadata"].iter_rows(values_only=True))
    assert meta["follows_up"] == follows
    wb.close()


def test_the_xlsx_template_filled_for_reaudit_reads_back_with_the_audit_it_follows_up(tmp_path: Path) -> None:
    rows = [{"case_ref": "SYN-0009", "team": "Team Beta", "worker": "Example Worker 2",
             "team_manager": "Example Manager Beta", "follows_up": "an-instance-id"}]
    path = write_template(tmp_path, "xlsx", rows, name="reaudit-allocation")
    assert path.name == "reaudit-allocation.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Allocation"]
    ws["E2"], ws["F2"] = "Example Auditor 2", "2027-01"  # what the collator fills in
    wb.save(path)
    good, bad = read_allocation(path)
    assert bad == []
    assert [(a.case_ref, a.team, a.auditor, a.month, a.follows_up) for a in good] == [
        ("SYN-0009", "Team Beta", "Example Auditor 2", "2027-01", "an-instance-id")]


def test_reaudit_without_template_is_a_usage_error(tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("Case reference\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["allocate", str(listing), "--reaudit", "--returns", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "--reaudit fills a template" in result.output
    result = CliRunner().invoke(app, ["allocate", "--template", "--reaudit", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2, result.output
    assert "give the returns folder with --returns" in result.output


def test_a_reaudit_list_filled_from_returns_runs_no_formula_when_opened() -> None:
    rows = [{"case_ref": "=HYPERLINK(\"http://example.invalid\")", "team": "+Team", "follows_up": "id"}]
    [_, line] = list(csv.reader(template_csv(rows).splitlines()))
    assert line[:2] == ["'=HYPERLINK(\"http://example.invalid\")", "'+Team"]
