"""Odd but plausible returns and folders, found in review: each is reported, never a crash or a silent drop."""

from __future__ import annotations

import os
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from auditbook.allocation.lists import read_allocation
from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.returns import validate as validate_module
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file
from auditbook.spec import default_spec_path, parse_spec
from auditbook.spec.layout import build_layout
from auditbook.spec.roles import Role
from tests.returns import (
    answers,
    copy_of_valid,
    edit,
    make_return,
    spec,
    spec_variant,
    type_value,
    valid_return,
    where,
    write_spec,
)

runner = CliRunner()


def check(path: Path) -> Report:
    return validate_file(path, registry=SpecRegistry.of(spec()))


def codes(report: Report) -> list[tuple[str, str | None, str]]:
    return [(p.severity, p.cell, p.code) for p in report.problems]


def _rewrite(path: Path, change: dict[str, bytes | None], rename: dict[str, str] | None = None) -> None:
    """Replace (or drop, with None) zip members, and rename members, keeping the rest byte for byte."""
    with zipfile.ZipFile(path) as zf:
        parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            new = change.get(name, data) if name in change else data
            if new is not None:
                zf.writestr((rename or {}).get(name, name), new)


def test_a_huge_date_serial_in_a_1904_workbook_is_a_bad_date(tmp_path: Path) -> None:
    path = copy_of_valid(tmp_path / "r.xlsx")
    with edit(path) as wb:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
        sheet, cell = where("profile_date_completed")
        wb[sheet][cell].value = 2958000
        wb[sheet][cell].number_format = "General"
    report = check(path)
    assert ("error", where("profile_date_completed")[1], "bad-date") in codes(report)


def test_audit_month_year_zero_is_a_bad_month_not_a_crash(tmp_path: Path) -> None:
    report = check(valid_return(tmp_path / "r.xlsx", changes={"profile_audit_month": "0000-11"}))
    assert ("error", where("profile_audit_month")[1], "bad-month") in codes(report)


def test_parts_are_found_whatever_their_case(tmp_path: Path) -> None:
    path = copy_of_valid(tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as zf:
        workbook_xml = zf.read("xl/workbook.xml")
    _rewrite(path, {}, rename={"xl/workbook.xml": "xl/Workbook.xml"})
    with zipfile.ZipFile(path) as zf:
        assert zf.read("xl/Workbook.xml") == workbook_xml
    assert check(path).problems == []


def test_utf16_xml_with_a_dtd_goes_through_defusedxml_and_is_refused(tmp_path: Path) -> None:
    path = copy_of_valid(tmp_path / "r.xlsx")
    evil = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&b;</t></si></sst>')
    _rewrite(path, {"xl/sharedStrings.xml": evil.encode("utf-16-le")})  # no byte-order mark
    report = check(path)
    assert [p.code for p in report.problems] == ["corrupt"]
    assert not report.valid


def test_a_renamed_sheet_is_read_through_its_names_with_a_warning(tmp_path: Path) -> None:
    path = copy_of_valid(tmp_path / "r.xlsx")
    with edit(path) as wb:
        wb["1b Assessment"].title = "Assessment (checked)"
        for name in list(wb.defined_names):
            dn = wb.defined_names[name]
            dn.attr_text = dn.attr_text.replace("'1b Assessment'!", "'Assessment (checked)'!")
    report = check(path)
    assert codes(report) == [("warning", None, "sheet-renamed")]
    assert report.valid and report.audit is not None
    assert next(s for s in report.audit.sections if s.id == "assessment").grade is not None


def test_a_due_date_typed_over_its_formula_cannot_move_the_deadline(tmp_path: Path) -> None:
    path = valid_return(tmp_path / "r.xlsx", late=True)  # completed 03/12/2026, three days after the due date
    type_value(path, "profile_due_date", "31/12/2026")  # past the sheet's protection, as pasting would
    report = check(path)
    assert codes(report) == [("warning", where("profile_date_completed")[1], "late")]
    assert report.audit is not None and (report.audit.due_date, report.audit.late) == (date(2026, 11, 30), True)
    assert report.audit.fact(Role.DUE_DATE) == date(2026, 11, 30)


def test_a_typed_due_date_cannot_move_the_deadline_where_a_spec_asks_for_it(tmp_path: Path) -> None:
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    profile = next(s for s in data["sections"] if s["id"] == "profile")
    del next(f for f in profile["fields"] if f["id"] == "due_date")["derived"]  # an input again
    typed = parse_spec(data, source=Path("typed_due_date.yaml"))
    lay = build_layout(typed)
    filled = {**answers(lay=lay, late=True), "profile_due_date": date(2027, 12, 31)}
    report = validate_file(make_return(tmp_path / "r.xlsx", filled, of=typed), registry=SpecRegistry.of(typed))
    assert codes(report) == [("warning", where("profile_due_date", lay)[1], "due-date-changed"),
                             ("warning", where("profile_date_completed", lay)[1], "late")]
    assert report.audit is not None and (report.audit.due_date, report.audit.late) == (date(2026, 11, 30), True)


def test_a_long_wrong_entry_is_not_repeated_in_the_message(tmp_path: Path) -> None:
    typed = "Example Person Who Should Not Appear In Logs"
    report = check(valid_return(tmp_path / "r.xlsx", changes={"profile_gender": typed}))
    assert [(p.code, typed in p.message, "the entry (44 characters)" in p.message) for p in report.problems] == [
        ("not-in-list", False, True)]


def test_an_internal_error_on_one_file_is_a_problem_not_a_crash(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> Report:
        raise RuntimeError("simulated")

    monkeypatch.setattr(validate_module, "validate_raw", boom)
    report = check(valid_return(tmp_path / "r.xlsx"))
    assert [p.code for p in report.problems] == ["internal-error"]
    assert "RuntimeError" in report.problems[0].message


def test_a_broken_shortcut_in_the_folder_is_listed_and_the_master_still_written(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    valid_return(folder / "good.xlsx")
    os.symlink(folder / "nowhere.xlsx", folder / "shortcut.xlsx")
    result = collect(folder, out=tmp_path / "master.xlsx", registry=SpecRegistry.of(spec()))
    assert result.summary_line() == ("2 files: 0 unchanged since last run, 1 read, 1 not read; "
                                     "master holds 1 audit; 0 rejected; 0 duplicate; 0 superseded")
    assert [(n.file, n.status, [p.code for p in n.problems]) for n in result.not_merged] == [
        ("shortcut.xlsx", "not read", ["unreadable"])]
    assert (tmp_path / "master.xlsx").is_file()


def test_managers_whose_names_make_the_same_file_name_keep_separate_packs(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    for i, manager in enumerate(("Example O'Manager", "Example O Manager", "Example  o manager "), start=1):
        valid_return(folder / f"r{i}.xlsx", changes={"profile_case_ref": f"SYN-90{i}", "profile_team_manager": manager})
    result = collect(folder, out=tmp_path / "master.xlsx", registry=SpecRegistry.of(spec()), packs=tmp_path / "packs")
    cases = {}
    for pack in result.packs:
        ws = openpyxl.load_workbook(pack)["Findings"]
        cases[pack.name] = sorted({r[0] for r in ws.iter_rows(min_row=2, max_col=1, values_only=True)})
    assert cases == {"pack_example-o-manager.xlsx": ["SYN-902", "SYN-903"],
                     "pack_example-o-manager-2.xlsx": ["SYN-901"]}


def test_returns_from_a_custom_spec_validate_with_specs(tmp_path: Path) -> None:
    custom = spec_variant(version="1.1.0", story_label="Summary of involvement")
    spec_file = write_spec(custom, tmp_path / "my_specs")
    path = tmp_path / "r.xlsx"
    result = runner.invoke(app, ["generate", "--spec", str(spec_file), "--out", str(path)])
    assert result.exit_code == 0, result.output
    without = runner.invoke(app, ["validate", "--json", str(path)])
    with_specs = runner.invoke(app, ["validate", "--json", "--specs", str(spec_file.parent), str(path)])
    assert "unknown-spec" in without.stdout
    assert "unknown-spec" not in with_specs.stdout and "required-missing" in with_specs.stdout


def test_a_windows_1252_allocation_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "allocation.csv"
    path.write_bytes("Case reference,Team,Auditor,Audit month\nSYN-0001,Team Caf\u00e9,Example Auditor,2026-11\n"
                     .encode("cp1252"))
    rows, bad = read_allocation(path)
    assert bad == []
    assert [(r.case_ref, r.team) for r in rows] == [("SYN-0001", "Team Caf\u00e9")]


def test_the_inline_string_form_is_read(tmp_path: Path) -> None:
    # Some writers store text inline rather than in the shared strings: the reader takes both.
    path = copy_of_valid(tmp_path / "r.xlsx")
    sheet, cell = where("profile_worker")
    part = "xl/worksheets/sheet3.xml"  # Start, Summary, then the Case profile: xlsxwriter numbers them in order
    with zipfile.ZipFile(path) as zf:
        body = zf.read(part)
    start = body.index(f'<c r="{cell}"'.encode())
    end = body.index(b"</c>", start) + 4
    inline = f'<c r="{cell}" t="inlineStr"><is><t>Example Inline Worker</t></is></c>'.encode()
    _rewrite(path, {part: body[:start] + inline + body[end:]})
    assert openpyxl.load_workbook(path)[sheet][cell].value == "Example Inline Worker"
    report = check(path)
    assert report.audit is not None and report.audit.answer("profile", "worker") == "Example Inline Worker"
