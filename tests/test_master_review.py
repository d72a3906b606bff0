"""The master after the code and product reviews: what validate decided is what the master says, section columns
that cannot clash, changes in percentage points, and the fast row writer's edge cases."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
import yaml

from auditbook.analysis.collate import Collation
from auditbook.analysis.themes import analyse
from auditbook.analysis.trends import ANSWERED, RoundSummary
from auditbook.collection.collect import collect
from auditbook.errors import SpecError
from auditbook.outputs.report import render
from auditbook.outputs.sheets import FAST_OPTIONS, Sheets
from auditbook.outputs.sheetxml import CELL_CHARS
from auditbook.outputs.tidy import WRAP, Column, Table, audits_table
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec, default_spec_path, load_spec, parse_spec, specs_dir
from auditbook.spec.layout import build_layout
from auditbook.spec.lint import MASTER_COLUMNS
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from auditbook.workbook.xlsx import WORKBOOK_OPTIONS, strict
from tests.returns import spec, valid_return
from tests.test_second_spec import _renamed

NOW = datetime(2026, 12, 7, 9, 30)
REGISTRY = SpecRegistry.of(spec())


def rows_of(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


# -- "Applies" is what validate decided ------------------------------------------------------------------


def test_validate_keeps_the_answers_it_did_not_count_and_why(tmp_path: Path) -> None:
    blank = validate_file(valid_return(tmp_path / "undecided.xlsx", changes={
        "profile_had_early_help": None, "early_help_help_offered_early": "Yes"}), registry=REGISTRY)
    assert blank.audit is not None
    assert [(x.section, x.field, x.value, x.applies) for x in blank.audit.set_aside] == [
        ("early_help", "help_offered_early", "Yes", "Not yet known")]
    follow_up = validate_file(valid_return(tmp_path / "follow-up.xlsx", changes={
        "child_protection_s47_in_period": "Yes", "child_protection_strategy_before_s47": "Yes",
        "child_protection_emergency_evidenced": "Yes",
        "child_protection_emergency_evidenced_evidence": "Synthetic example: strategy meeting minutes on file."}),
        registry=REGISTRY)
    assert follow_up.valid and follow_up.audit is not None
    assert [(x.field, x.applies) for x in follow_up.audit.set_aside] == [
        ("emergency_evidenced", "No"), ("emergency_evidenced_evidence", "No")]


def test_the_answers_tab_lists_answers_not_counted_as_not_applying(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    # A child protection audit with 1a (early help) graded although no early help was given, and a follow-up
    # answered whose condition is false: both are warnings, the return is merged, neither answer is counted.
    valid_return(folder / "SYN-0001.xlsx", changes={
        "profile_case_ref": "SYN-0001", "early_help_grade": "Inadequate", "child_protection_s47_in_period": "Yes",
        "child_protection_strategy_before_s47": "Yes", "child_protection_emergency_evidenced": "No"})
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=REGISTRY, now=NOW)
    assert result.rejected == 0 and len(result.evidence.collation.merged) == 1  # type: ignore[union-attr]
    answers = {r[4]: (r[6], r[7]) for r in rows_of(result.master, "Answers")[1:]}
    assert answers["early_help_grade"] == ("Inadequate", "No")
    assert answers["child_protection_emergency_evidenced"] == ("No", "No")
    assert answers["child_protection_strategy_before_s47"] == ("Yes", "Yes")
    assert answers["profile_case_ref"] == ("SYN-0001", "Yes")
    # Not counted: 1a has no grade on the Audits tab, and the Grades tab has no 1a row.
    audits = rows_of(result.master, "Audits")
    head = audits[0]
    assert audits[1][head.index("1a Early Help and Protection")] == "n/a"
    assert not [r for r in rows_of(result.master, "Grades") if r[0] == "1a Early Help and Protection"]
    questions = [r for r in rows_of(result.master, "Themes") if r[3] and "emergency" in str(r[3]).lower()]
    assert questions == []


# -- the fast row writer -----------------------------------------------------------------------------


def _tidy_workbook(path: Path, table: Table) -> None:
    buffer = io.BytesIO()
    with strict():
        wb = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, **FAST_OPTIONS})
        s = Sheets(wb, "OFFICIAL-SENSITIVE")
        s.tidy(table)
        wb.close()
        s.fast.finish(buffer.getvalue(), path)


def test_fast_rows_tell_true_from_one(tmp_path: Path) -> None:
    """Python holds True == 1 == 1.0: cached cells must still keep each value's own type."""
    table = Table("T", (Column("Value"), Column("Pair")),
                  [(True, "x"), (1, "x"), (1.0, "x"), (False, "x"), (0, "x")], groups=((0, 2),))
    _tidy_workbook(tmp_path / "a.xlsx", table)
    got = [r for r in rows_of(tmp_path / "a.xlsx", "T")[1:]]
    assert got == [("Yes", "x"), (1, "x"), (1, "x"), ("No", "x"), (0, "x")]
    assert [type(r[0]) for r in got] == [str, int, float, str, int]
    single = Table("T", (Column("Value"),), [(True,), (1,), (False,), (0,)])
    _tidy_workbook(tmp_path / "b.xlsx", single)
    assert rows_of(tmp_path / "b.xlsx", "T")[1:] == [("Yes",), (1,), ("No",), (0,)]


def test_fast_rows_cut_text_to_what_a_cell_holds(tmp_path: Path) -> None:
    long = "Example evidence. " * 2500  # 45,000 characters: more than a cell can hold
    table = Table("T", (Column("Text", 50, WRAP),), [(long,), ("short",)])
    _tidy_workbook(tmp_path / "a.xlsx", table)
    got = rows_of(tmp_path / "a.xlsx", "T")
    assert len(got[1][0]) == CELL_CHARS and got[1][0].endswith("…") and long.startswith(got[1][0][:-1])
    assert got[2] == ("short",)


# -- section columns of the Audits table -----------------------------------------------------------------


def _deep_dive_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    return data


def _returns_of(folder: Path, *specs: Spec) -> None:
    for i, sp in enumerate(specs, start=1):
        build_workbook(sp, out=folder / f"SYN-{i:04d}.xlsx",
                       prefill=synthetic_answers(build_layout(sp), seed=i, index=i, scenario="child_protection"))


def test_returns_of_two_spec_versions_share_a_column_per_section_title(tmp_path: Path) -> None:
    """Version 2.1.0 renamed every section's id and kept its title: the master still has one column per section."""
    original = spec()
    data = _renamed(_deep_dive_data())
    data["version"] = "2.8.0"
    renamed = parse_spec(data, source=Path("renamed.yaml"))
    folder = tmp_path / "returns"
    folder.mkdir()
    _returns_of(folder, original, renamed)
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=SpecRegistry.of(original, renamed),
                     now=NOW)
    assert result.summary_line().count("master holds 2 audits; 0 rejected;") == 1
    audits = rows_of(result.master, "Audits")
    head = audits[0]
    titles = [s.title for s in original.sections if s.kind == "judged"]
    assert [h for h in head if h in titles] == titles  # one column each, in the spec's order
    assert len(head) == len({str(h).casefold() for h in head})
    for row in audits[1:]:
        by = dict(zip(head, row, strict=True))
        assert by["1b Assessment"] in ("Outstanding", "Good", "Requires improvement", "Inadequate")
    assert {r[head.index("Spec version")] for r in audits[1:]} == {"2.1.0", "2.8.0"}


def test_a_section_titled_like_a_fixed_column_gets_a_column_of_its_own(tmp_path: Path) -> None:
    """A spec loaded without its lint (spec check refuses it) still cannot stop collect writing the master."""
    data = _deep_dive_data()
    data["version"] = "2.2.0"
    section = next(s for s in data["sections"] if s["id"] == "assessment")
    section["title"] = "team"
    clash = Spec.model_validate(data)
    folder = tmp_path / "returns"
    folder.mkdir()
    _returns_of(folder, clash)
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=SpecRegistry.of(clash), now=NOW)
    assert result.summary_line().count("master holds 1 audit; 0 rejected;") == 1
    head = rows_of(result.master, "Audits")[0]
    assert "Team" in head and "team (grade)" in head
    assert openpyxl.load_workbook(result.master)["Audits"].tables["Audits"].ref.startswith("A1:")


def test_spec_lint_knows_every_fixed_column_of_the_audits_table() -> None:
    fixed = audits_table(Collation(specs=(spec(),))).columns  # no audit merged: the fixed columns only
    assert [c.header for c in fixed] == list(MASTER_COLUMNS)


# -- the answers that count as falling short come from the spec ------------------------------------------


def test_the_supervision_audits_not_met_and_partly_met_are_ranked(tmp_path: Path) -> None:
    supervision = load_spec(specs_dir() / "supervision_audit.yaml")
    assert supervision.grading.shortfall == ["Not met", "Partly met"]
    lay = build_layout(supervision)
    folder = tmp_path / "returns"
    for index, said in ((201, "Not met"), (202, "Partly met"), (203, "Not met"), (204, "Met")):
        answers = synthetic_answers(lay, seed=index, scenario="experienced", index=index)
        answers["frequency_agreement_in_place"] = said
        build_workbook(supervision, out=folder / f"SYN-0{index}.xlsx", prefill=answers)
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=SpecRegistry.of(supervision), now=NOW)
    assert result.summary_line().count("master holds 4 audits; 0 rejected;") == 1, result.summary_line()
    themes = rows_of(result.master, "Themes")
    label = next(f.label for f in supervision.section("frequency").fields if f.id == "agreement_in_place")
    row = next(r for r in themes if r[3] == label)
    assert row[0] == "Question answered Not met or Partly met"
    assert (row[5], row[6], row[14]) == (3, 4, "2 Not met, 1 Partly met")  # Detail, after the change and flags
    assert not [r for r in themes if "No or Partly" in str(r[0])]
    assert result.evidence is not None
    page = render(result.evidence, generated_at=NOW)
    assert "<h3>Practice questions most often answered Not met or Partly met</h3>" in page
    assert "2 Not met, 1 Partly met" in page


def test_the_deep_dive_still_ranks_no_and_partly(tmp_path: Path) -> None:
    assert spec().grading.shortfall == ["No", "Partly"]
    folder = tmp_path / "returns"
    valid_return(folder / "SYN-0001.xlsx", changes={"assessment_assessment_timely": "Partly"})
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=REGISTRY, now=NOW)
    rows = [r for r in rows_of(result.master, "Themes")[1:] if r[0] == "Question answered No or Partly"]
    assert ("1b Assessment", 1, 1, "1 Partly") in [(r[2], r[5], r[6], r[14]) for r in rows
                                                    if "timely" in str(r[3]).lower()]


def test_spec_check_wants_shortfall_answers_a_question_can_give() -> None:
    data = yaml.safe_load((specs_dir() / "supervision_audit.yaml").read_text(encoding="utf-8"))
    del data["grading"]["shortfall"]  # the default, No and Partly, is not an answer of the Met list
    with pytest.raises(SpecError) as err:
        parse_spec(data, source=Path("supervision.yaml"))
    assert ('grading.shortfall: "No" is not an answer a practice question can give (Met, Partly met, Not met). Under '
            "grading, list as shortfall the answers that say the practice fell short (the Deep Dive's are No and "
            "Partly).") in str(err.value)


def test_practice_questions_rank_section_by_section_in_the_specs_order() -> None:
    # A round read back from the ledger holds its sections and questions in the stored (alphabetical) order,
    # where "10 Independence" sorts before "1a Early Help"; the Themes tab and the report follow the spec.
    current = RoundSummary("2026 round 2", audits=2, questions={
        "10 Independence\tIs there a pathway plan?": {ANSWERED: 2, "No": 2},
        "1a Early Help\tWas the plan reviewed?": {ANSWERED: 2, "No": 1},
        "2 Child's Voice\tWas the child seen alone?": {ANSWERED: 2, "Partly": 2}})
    ranked = analyse(current, [], [], threshold=0.3, grades=("Good", "Inadequate"), needs_action=frozenset(
        {"Inadequate"}), shortfall_words=("No", "Partly"),
        section_order=["1a Early Help", "2 Child's Voice", "10 Independence"])
    assert [q.section for q in ranked.questions] == ["1a Early Help", "2 Child's Voice", "10 Independence"]
    assert [q.detail for q in ranked.questions] == ["1 No", "2 Partly", "2 No"]
