"""The allocation list as a workbook: `allocate --template --format xlsx`, edited in LibreOffice, allocates
cleanly; the reader takes the forms a spreadsheet makes of a month and says which it read; a settings file's
round calendar gives rows without a round their round.

Everything here is synthetic: case references start SYN-, people are "Example ...".
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from auditbook.allocation.lists import read_allocation
from auditbook.allocation.template import MONTHS_BACK, month_choices, write_template_xlsx
from auditbook.cli import app
from auditbook.settings import example_settings
from auditbook.spec.layout import Layout
from auditbook.spec.roles import Role
from tests.lo.driver import fill, require_libreoffice

HEADER = ["Case reference", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month (YYYY-MM)",
          "Round (optional)"]


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def listing(path: Path, months: list[str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i, month in enumerate(months, start=1):
            w.writerow([f"SYN-04{i:02d}", "Team Alpha", f"Example Worker {i}", "Example Manager Alpha",
                        "Example Auditor 1", month, ""])
    return path


def test_the_xlsx_template_has_the_columns_a_text_month_column_and_a_dropdown_of_months(tmp_path: Path) -> None:
    result = invoke("allocate", "--template", "--format", "xlsx", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    path = tmp_path / "allocation-template.xlsx"
    assert result.stdout.strip() == str(path)
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    assert ws.title == "Allocation"
    assert [c.value.removesuffix(" *") for c in ws[1]] == HEADER
    month_col = ws.column_dimensions["F"]
    assert ws["F2"].number_format == "@" or month_col.number_format == "@"
    (dv,) = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert (str(dv.sqref), dv.formula1, dv.errorStyle) == ("F2:F501", "allocation_months", "warning")
    months = book["Months"]
    assert months.sheet_state == "hidden"
    today = date.today()
    assert [r[0] for r in months.iter_rows(values_only=True)] == month_choices(today)
    assert month_choices(today)[MONTHS_BACK] == f"{today:%Y-%m}"
    # The CSV template stays.
    assert invoke("allocate", "--template", "--out", tmp_path).exit_code == 0
    assert (tmp_path / "allocation-template.csv").read_text(encoding="utf-8").strip() == ",".join(HEADER)


@pytest.mark.parametrize(("written", "month", "note"), [
    ("2026-11", "2026-11", ""),
    ("Nov-26", "2026-11", 'audit month "Nov-26" read as November 2026 (2026-11)'),
    ("November 2026", "2026-11", 'audit month "November 2026" read as November 2026 (2026-11)'),
    ("01/11/2026", "2026-11", 'audit month "01/11/2026" read as November 2026 (2026-11)'),
    ("11/2026", "2026-11", 'audit month "11/2026" read as November 2026 (2026-11)'),
    ("2026-11-01", "2026-11", 'audit month "2026-11-01" read as November 2026 (2026-11)'),
    ("Sept-27", "2027-09", 'audit month "Sept-27" read as September 2027 (2027-09)'),
])
def test_the_reader_takes_the_forms_excel_makes_of_a_month_and_says_which(tmp_path: Path, written: str, month: str,
                                                                          note: str) -> None:
    good, bad = read_allocation(listing(tmp_path / "a.csv", [written]))
    assert bad == []
    assert [(a.month, a.note) for a in good] == [(month, note)]


@pytest.mark.parametrize("written", ["11/30/2026", "Novembr 2026", "2026-13", "Nov", "13/2026"])
def test_a_month_in_no_form_it_could_be_is_a_bad_row(tmp_path: Path, written: str) -> None:
    good, bad = read_allocation(listing(tmp_path / "a.csv", [written]))
    assert good == []
    assert [b.row for b in bad] == [2]
    assert "write it as YYYY-MM" in bad[0].message


def test_an_xlsx_with_real_dates_in_the_month_column_is_read(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER)
    ws.append(["SYN-0501", "Team Beta", "", "", "Example Auditor 2", datetime(2026, 11, 1), ""])
    ws["F2"].number_format = "mmm-yy"  # what Excel makes of a typed 2026-11
    book.save(tmp_path / "list.xlsx")
    good, bad = read_allocation(tmp_path / "list.xlsx")
    assert bad == []
    assert [(a.month, a.note) for a in good] == [
        ("2026-11", 'audit month "01/11/2026" read as November 2026 (2026-11)')]


def test_the_round_calendar_gives_a_row_without_a_round_its_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  layout: Layout) -> None:
    (tmp_path / "auditbook.toml").write_text(example_settings(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    listing(tmp_path / "a.csv", ["2027-02", "2026-11"])
    result = invoke("allocate", "a.csv", "--out", "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").glob("*.xlsx")) == [
        "2026-round-2_team-alpha_syn-0402.xlsx", "2026-round-3_team-alpha_syn-0401.xlsx"]
    assert "row 2: round 2026 round 3 from the round calendar" in result.stderr
    round_input = layout.role_input(Role.ROUND)
    assert round_input is not None
    book = openpyxl.load_workbook(tmp_path / "out" / "2026-round-3_team-alpha_syn-0401.xlsx")
    assert book[round_input.sheet][round_input.cell].value == "2026 round 3"
    start = [str(c.value) for c in book["Start"]["B"] if c.value]
    assert start[0].startswith("Example Borough Council")


@pytest.mark.libreoffice
def test_an_allocation_workbook_edited_in_libreoffice_allocates_cleanly(tmp_path: Path) -> None:
    require_libreoffice()
    template = write_template_xlsx(tmp_path / "template.xlsx", today=date(2026, 10, 5))
    rows = {
        2: ("SYN-0601", "Team Alpha", "Example Worker 1", "Example Manager Alpha", "Example Auditor 1",
            {"typed": "2026-11"}),  # typed into the text column: stays 2026-11
        3: ("SYN-0602", "Team Beta", "Example Worker 2", "Example Manager Beta", "Example Auditor 2",
            "2026-12"),  # picked from the dropdown
        4: ("SYN-0603", "Team Beta", "", "", "Example Auditor 2", "Nov-26"),  # pasted as Excel shows it
        5: ("SYN-0604", "Team Gamma", "", "", "Example Auditor 3", {"date": "2027-01-01"}),  # a date pasted in
    }
    values: dict[str, object] = {}
    for row, cells in rows.items():
        for col, value in zip("ABCDEF", cells, strict=True):
            if value:
                values[f"Allocation!{col}{row}"] = value
    edited = tmp_path / "edited-in-libreoffice.xlsx"
    fill(template, edited, values)
    result = invoke("allocate", edited, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").glob("*.xlsx")) == [
        "2026-11_team-alpha_syn-0601.xlsx", "2026-11_team-beta_syn-0603.xlsx", "2026-12_team-beta_syn-0602.xlsx",
        "2027-01_team-gamma_syn-0604.xlsx"]
    notes = result.stderr.splitlines()
    assert 'row 4: audit month "Nov-26" read as November 2026 (2026-11)' in notes
    assert any(n.startswith("row 5: audit month ") and n.endswith("read as January 2027 (2027-01)") for n in notes)
    assert not any(n.startswith(("row 2:", "row 3:")) for n in notes)
