"""The real client: LibreOffice opens a generated workbook, fills it by defined name, recalculates and saves it.

What it saves must keep its values where `describe` says, keep protection and names, show the right
statuses in the Summary formulas, and validate cleanly (or with exactly the expected warning).
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from auditbook.collection.collect import collect
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.reader import parse_ref
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.workbook.describe import data_dictionary
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, require_libreoffice

pytestmark = pytest.mark.libreoffice

STATUS_NAMES = ["status_profile", "status_early_help", "status_assessment", "status_child_protection",
                "status_voice", "status_permanence", "status_independence", "status_actions", "status_overall"]


@pytest.fixture(scope="module")
def filled_by_libreoffice(tmp_path_factory: pytest.TempPathFactory, spec: Spec,
                          layout: Layout) -> tuple[Path, dict[str, object], dict[str, str]]:
    """A blank workbook filled in LibreOffice with a complete child protection audit plus one answer in 1a."""
    require_libreoffice()
    tmp = tmp_path_factory.mktemp("lo")
    blank = build_workbook(spec, out=tmp / "blank.xlsx")
    answers: dict[str, object] = dict(synthetic_answers(layout, seed=7, scenario="child_protection", index=7,
                                                        actions=2))
    # 1a Early Help does not apply (no early help in the period): LibreOffice still lets a script set it.
    answers["early_help_help_offered_early"] = "Yes"
    shown = fill(blank, tmp / "saved.xlsx", answers, read=STATUS_NAMES)
    return tmp / "saved.xlsx", answers, shown


def test_values_sit_where_describe_says(filled_by_libreoffice: tuple[Path, dict[str, object], dict[str, str]],
                                        spec: Spec) -> None:
    saved, answers, _ = filled_by_libreoffice
    wb = openpyxl.load_workbook(saved)
    where = {i["name"]: (i["sheet"], i["cell"]) for i in data_dictionary(spec)["inputs"]}
    got = {}
    for name in answers:
        sheet, cell = where[name]
        value = wb[sheet][cell].value
        got[name] = value.date() if isinstance(value, datetime) else value
    assert got == answers


def test_protection_and_names_survive(filled_by_libreoffice: tuple[Path, dict[str, object], dict[str, str]],
                                      spec: Spec) -> None:
    saved, _, _ = filled_by_libreoffice
    wb = openpyxl.load_workbook(saved)
    dd = data_dictionary(spec)
    sheets = {s["sheet"] for s in dd["sections"]}
    assert {s: wb[s].protection.sheet for s in sheets} == dict.fromkeys(sheets, True)
    # LibreOffice may drop the quotes around a sheet name that needs none, so compare what names point at.
    names = {n: parse_ref(wb.defined_names[n].attr_text) for n in wb.defined_names}
    expected = {i["name"]: (i["sheet"], i["cell"]) for i in dd["inputs"]}
    assert {n: names.get(n) for n in expected} == expected
    # LibreOffice turns the very hidden metadata sheet into a hidden one; that is not tampering.
    assert wb["Metadata"].sheet_state in ("hidden", "veryHidden")


def test_statuses_are_computed_inside_libreoffice(
        filled_by_libreoffice: tuple[Path, dict[str, object], dict[str, str]]) -> None:
    _, _, shown = filled_by_libreoffice
    assert shown == {
        "status_profile": "Complete",
        "status_early_help": "Not applicable",
        "status_assessment": "Complete",
        "status_child_protection": "Complete",
        "status_voice": "Complete",
        "status_permanence": shown["status_permanence"],  # optional for this child: Optional or Complete
        "status_independence": "Not applicable",
        "status_actions": "2 actions",
        "status_overall": "Complete",
    }
    assert shown["status_permanence"] in ("Optional", "Complete")


def test_summary_sheet_shows_the_recalculated_statuses(
        filled_by_libreoffice: tuple[Path, dict[str, object], dict[str, str]]) -> None:
    saved, answers, _ = filled_by_libreoffice
    ws = openpyxl.load_workbook(saved, data_only=True)["Summary"]
    # Section (A:B merged), Applies (C), Status (D), Grade (E:F merged).
    rows = {ws.cell(r, 1).value: (ws.cell(r, 3).value, ws.cell(r, 4).value, ws.cell(r, 5).value)
            for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert rows["1a Early Help and Protection"] == ("No", "Not applicable", "n/a")
    assert rows["1b Assessment"] == ("Yes", "Complete", answers["assessment_grade"])
    assert rows["1d Child Protection"] == ("Yes", "Complete", answers["child_protection_grade"])
    assert rows["10 Independence"] == ("No", "Not applicable", "n/a")
    assert (ws["A3"].value, ws["C3"].value) == ("Case reference", answers["profile_case_ref"])


def test_libreoffice_save_validates_with_only_the_not_applicable_warning(
        filled_by_libreoffice: tuple[Path, dict[str, object], dict[str, str]], spec: Spec) -> None:
    saved, answers, _ = filled_by_libreoffice
    report = validate_file(saved, registry=SpecRegistry.of(spec))
    assert [(p.severity, p.code, p.sheet, p.cell) for p in report.problems] == [
        ("warning", "answered-not-applicable", "1a Early Help", "C9")]
    assert report.valid
    assert report.audit is not None
    assert report.audit.case_ref == answers["profile_case_ref"]
    early = next(s for s in report.audit.sections if s.id == "early_help")
    assert (early.applies, report.audit.answer("early_help", "help_offered_early")) == (False, None)
    assert report.audit.answer("profile", "date_completed") == answers["profile_date_completed"]
    assert len(report.audit.actions) == 2


def test_libreoffice_save_of_a_clean_audit_has_no_problems(tmp_path: Path, spec: Spec, layout: Layout) -> None:
    require_libreoffice()
    blank = build_workbook(spec, out=tmp_path / "blank.xlsx")
    answers = synthetic_answers(layout, seed=11, scenario="in_care_16_plus", index=11)
    fill(blank, tmp_path / "saved.xlsx", dict(answers))
    report = validate_file(tmp_path / "saved.xlsx", registry=SpecRegistry.of(spec))
    assert [p.render() for p in report.problems] == []
    assert report.audit is not None
    assert {s.id: s.applies for s in report.audit.sections}["independence"] is True
    assert report.audit.answer("profile", "due_date") == date(2026, 11, 30)


def test_a_libreoffice_saved_return_is_merged_by_collect(
        filled_by_libreoffice: tuple[Path, dict[str, object], dict[str, str]], spec: Spec, layout: Layout,
        tmp_path: Path) -> None:
    saved, answers, _ = filled_by_libreoffice
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copyfile(saved, folder / "saved by LibreOffice.xlsx")
    build_workbook(spec, out=folder / "made by script.xlsx",
                   prefill=synthetic_answers(layout, seed=12, scenario="early_help", index=12))
    result = collect(folder, out=tmp_path / "master.xlsx", registry=SpecRegistry.of(spec))
    assert result.summary_line() == ("2 files: 0 unchanged since last run, 2 read; "
                                     "master holds 2 audits; 0 rejected; 0 duplicate; 0 superseded")
    audits = openpyxl.load_workbook(tmp_path / "master.xlsx")["Audits"]
    assert sorted(row[0] for row in audits.iter_rows(min_row=2, max_col=1, values_only=True)) == sorted(
        [answers["profile_case_ref"], "SYN-0012"])
