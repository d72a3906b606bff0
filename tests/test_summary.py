"""The Summary sheet as written: its grid, its short lists (the used actions and the failing checks, first) and the
print setup that keeps a printed return short; LibreOffice computing the short lists as the workbook was written."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from auditbook.spec import Spec, load_spec, specs_dir
from auditbook.spec.layout import Layout
from auditbook.workbook.summary import allot, more_actions, more_line, passing_line
from auditbook.workbook.summary_grid import WIDTHS
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, require_libreoffice

#: Two actions, in rows 2 and 5 of the Actions sheet: the Summary lists them first, numbered by their rows.
SPREAD = {
    "actions_r02_action": "Update the chronology.", "actions_r02_timescale": date(2027, 1, 15),
    "actions_r05_action": "See the child alone.", "actions_r05_timescale": date(2027, 2, 1),
}


def summary_actions(path: Path) -> list[tuple[object, object]]:
    """The Summary's action rows as saved: (the Actions sheet's row number, the action), under the # header."""
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "#")
    return [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(top + 1, top + 4)]


def test_columns_are_allotted_the_grid_in_order() -> None:
    # Eight columns on eight grid columns: one each. Four: each as near its share of the width as the grid allows.
    assert allot([1.0] * 8, (1, 8)) == [(c, c) for c in range(1, 9)]
    # The supervision audit's follow-up table: text, a part, an owner, a date, on grid widths 54, 22, 21, 12, 8, 16,
    # 11, 9: the boundaries fall at 76, 109 and 133 of 153.
    assert WIDTHS[1:] == (54, 22, 21, 12, 8, 16, 11, 9)
    assert allot([54, 22, 20, 11], (1, 8)) == [(1, 2), (3, 4), (5, 6), (7, 8)]


def test_counts_read_as_english() -> None:
    assert [passing_line(22, n) for n in (0, 1, 21, 22)] == [
        "All 22 checks pass.", "21 other checks pass.", "1 other check passes.", ""]
    assert passing_line(1, 0) == "The check passes."
    assert [more_line(n) for n in (1, 2)] == ["And 1 more check fails: validate lists every one.",
                                              "And 2 more checks fail: validate lists every one."]
    assert more_actions(1, "Actions") == "And 1 more action on the Actions sheet."


def test_the_used_action_rows_are_listed_first(spec: Spec, layout: Layout, tmp_out: Path) -> None:
    answers = {**synthetic_answers(layout, seed=4, scenario="child_protection", actions=0), **SPREAD}
    path = build_workbook(spec, out=tmp_out / "spread.xlsx", prefill=answers)
    assert summary_actions(path) == [(2, "Update the chronology."), (5, "See the child alone."), (None, None)]


def test_an_optional_section_not_started_says_optional_once(tmp_out: Path) -> None:
    # In Deep Dive 2.0.0 (kept for the returns made from it), section 9 was optional for a child not in care: the
    # Summary's Applies says "Optional" and its status how far it got, not "Optional" again.
    spec = load_spec(specs_dir() / "deep_dive-2.0.0.yaml")
    path = build_workbook(spec, out=tmp_out / "optional.xlsx", prefill={"profile_in_care": "No"})
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    rows = {ws.cell(r, 1).value: (ws.cell(r, 3).value, ws.cell(r, 4).value) for r in range(1, ws.max_row + 1)}
    assert rows["9 Permanence and Placement Planning"] == ("Optional", "Not started")


def _print_areas(path: Path) -> dict[str, str]:
    """Each sheet's print area as the workbook holds it, by sheet name."""
    with zipfile.ZipFile(path) as zf:
        book = zf.read("xl/workbook.xml").decode("utf-8")
    names = re.findall(r'<sheet name="([^"]+)"', book)
    return {names[int(i)]: area for i, area in
            re.findall(r'<definedName name="_xlnm.Print_Area" localSheetId="(\d+)">([^<]*)</definedName>', book)}


def test_the_print_setup_leaves_out_what_a_reader_does_not_need(spec: Spec, layout: Layout, tmp_out: Path) -> None:
    path = build_workbook(spec, out=tmp_out / "blank.xlsx")
    areas = _print_areas(path)
    # The Start and criteria sheets: one cell outside anything written, so nothing prints.
    book = openpyxl.load_workbook(path)
    for sheet in ("Start", spec.wording.criteria_sheet):
        cell = areas[sheet].split("!")[1].replace("$", "")
        written = book[sheet].max_column  # before openpyxl makes the cell by looking at it
        assert written < book[sheet][cell].column and not book[sheet][cell].has_style, sheet
    # For Excel: a section that may not apply prints its sheet only while it applies or waits; the Actions sheet
    # prints down to its last used row.
    early_help = layout.section("early_help")
    assert areas[early_help.sheet].startswith(f"IF(OR({early_help.applies_flag},{early_help.waiting_flag}),")
    assert layout.actions is not None
    assert areas[layout.actions.sheet].startswith("OFFSET(") and "MAX(summary_action_rows)" in areas["Actions"]
    # Every other sheet prints whole.
    assert set(areas) == {"Start", spec.wording.criteria_sheet, layout.actions.sheet,
                          *(sl.sheet for sl in layout.sections if sl.applies_flag)}


@pytest.mark.libreoffice
def test_libreoffice_lists_the_used_actions_first(spec: Spec, layout: Layout, tmp_path: Path) -> None:
    require_libreoffice()
    blank = build_workbook(spec, out=tmp_path / "blank.xlsx")
    fill(blank, tmp_path / "saved.xlsx", SPREAD)
    assert summary_actions(tmp_path / "saved.xlsx") == [
        (2, "Update the chronology."), (5, "See the child alone."), (None, None)]
