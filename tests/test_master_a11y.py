"""The master's charts and Excel Tables carry alt text (issue 15), read back from the XML as written."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree

from auditbook.collection.collect import collect
from auditbook.outputs.sheets import output_workbook
from auditbook.outputs.tidy import Column, Table
from auditbook.returns.provenance import SpecRegistry
from tests.returns import answers, make_return, spec

NOW = datetime(2026, 12, 7, 9, 30)
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
X14 = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A master of two rounds (so it has trend charts), four audits in each."""
    tmp = tmp_path_factory.mktemp("master-a11y")
    folder = tmp / "returns"
    for i, scenario in enumerate(("child_protection", "in_care_16_plus", "early_help", "child_in_need"), start=1):
        make_return(folder / "now" / f"SYN-000{i}.xlsx", answers(scenario, seed=20 + i, index=i, actions=1))
        make_return(folder / "before" / f"SYN-010{i}.xlsx",
                    answers(scenario, seed=10 + i, index=100 + i, actions=1, month="2026-07"))
    result = collect(folder, out=tmp / "master.xlsx", registry=SpecRegistry.of(spec()), now=NOW)
    return result.master


def _sheet_names(z: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's part (xl/worksheets/sheetN.xml) -> its tab name."""
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): "xl/" + r.get("Target").removeprefix("/xl/") for r in rels.iter(f"{REL}Relationship")}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {target[s.get(rid)]: s.get("name") for s in book.iter(f"{MAIN}sheet")}


def _charts_alt(z: zipfile.ZipFile) -> dict[str, list[str]]:
    """Each tab's charts' alt text (the descr of each chart's frame in the tab's drawing), in drawing order."""
    names = _sheet_names(z)
    out: dict[str, list[str]] = {}
    for part, name in names.items():
        rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
        if rels not in z.namelist():
            continue
        for r in ElementTree.fromstring(z.read(rels)).iter(f"{REL}Relationship"):
            if r.get("Type", "").endswith("/drawing"):
                drawing = ElementTree.fromstring(z.read("xl/drawings/" + r.get("Target").rsplit("/", 1)[-1]))
                out[name] = [frame.find(f"{XDR}nvGraphicFramePr/{XDR}cNvPr").get("descr", "")
                             for frame in drawing.iter(f"{XDR}graphicFrame")]
    return out


def test_every_chart_of_the_master_has_alt_text_naming_its_figures(master: Path) -> None:
    with zipfile.ZipFile(master) as z:
        alt = _charts_alt(z)
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert sum(len(v) for v in alt.values()) == len(charts) > 4
    assert all(text for texts in alt.values() for text in texts), alt
    grades = "Outstanding, Good, Requires improvement, Inadequate"
    assert alt["Grades"] == [f"Stacked bar chart: the share of each grade ({grades}) by section this round. Its "
                             f"figures are in Grades A4:F{4 + len(alt['Trends'])}."]
    assert alt["Summary"][0].startswith("Column chart: the overall grades this round, audits of each. Its figures "
                                        "are in Summary A")
    assert alt["Summary"][1].startswith("Stacked bar chart: the grades of each section this round.")
    # One small trend chart a scope, each saying which, over its own rows of the table (two rounds each).
    assert alt["Trends"][0] == "Line chart: % good or better by round, Overall. Its figures are in Trends A5:H6."
    assert len(set(alt["Trends"])) == len(alt["Trends"])


def test_every_excel_table_of_the_master_has_alt_text(master: Path) -> None:
    with zipfile.ZipFile(master) as z:
        tables = {}
        for part in sorted(n for n in z.namelist() if re.fullmatch(r"xl/tables/table\d+\.xml", n)):
            root = ElementTree.fromstring(z.read(part))
            alt = root.find(f"{MAIN}extLst/{MAIN}ext/{X14}table")
            assert alt is not None, part
            headers = [c.get("name") for c in root.iter(f"{MAIN}tableColumn")]
            tables[root.get("name")] = (alt.get("altText"), alt.get("altTextSummary"), headers)
    assert {"Audits", "Actions", "Findings", "Answers", "Rejected", "Dictionary", "SAGPlan", "Themes"} <= set(tables)
    for name, (title, summary, headers) in tables.items():
        assert title == name
        assert summary == f"{name}: one row each, with the columns {', '.join(headers)}.", name


@pytest.mark.parametrize(("classification", "expected"), [
    ("OFFICIAL-SENSITIVE",
     '&L&"Arial,Bold"Plan&C&"Arial,Bold"OFFICIAL-SENSITIVE\n&"Arial,Regular"&9Type here.&R2 rows'),
    # Too long for the note beside it (Excel takes 255 characters): the title and n stay.
    ("X" * 200, f'&L&"Arial,Bold"Plan&C&"Arial,Bold"{"X" * 200}&R2 rows'),
    ("X" * 230, f'&C&"Arial,Bold"{"X" * 230}'),
])
def test_a_page_header_fits_excel_s_limit(classification: str, expected: str, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    with output_workbook(out, kind="master", title="T", classification=classification) as s:
        s.print_heading(s.sheet("Plan"), "Plan", "2 rows", note="Type here.")
    with zipfile.ZipFile(out) as z:
        header = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml")).find(f"{MAIN}headerFooter/{MAIN}oddHeader")
    assert header is not None and header.text == expected


def test_a_round_s_name_in_a_page_header_is_text(tmp_path: Path) -> None:
    """A round's name comes from the returns: "&P" stays those characters, a line break is shown, not made."""
    out = tmp_path / "out.xlsx"
    with output_workbook(out, kind="master", title="T", classification="OFFICIAL") as s:
        s.print_heading(s.sheet("Grades"), "Grades: 2026 &P\nround", "n = 4 audits")
    with zipfile.ZipFile(out) as z:
        header = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml")).find(f"{MAIN}headerFooter/{MAIN}oddHeader")
    assert header is not None
    assert header.text == '&L&"Arial,Bold"Grades: 2026 &&P\\x0around&C&"Arial,Bold"OFFICIAL&Rn = 4 audits'


def _rows_in_order(path: Path) -> dict[str, list[int]]:
    """Each sheet part's row numbers as written, for those whose rows are not in ascending order."""
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        rows = {n: [int(r) for r in re.findall(rb'<row r="(\d+)"', z.read(n))] for n in parts}
    return {n: r for n, r in rows.items() if r != sorted(set(r))}


def test_a_note_under_a_tidy_table_keeps_the_rows_in_order(tmp_path: Path) -> None:
    """The table's rows are put in after xlsxwriter closes the sheet: before a note written under them, as Excel
    wants rows in order (it calls a file with rows out of order damaged)."""
    out = tmp_path / "out.xlsx"
    cols = (Column("Case reference", 16), Column("Team", 16))
    with output_workbook(out, kind="master", title="T", classification="OFFICIAL") as s:
        ws = s.tidy(Table("Notes", cols, [("SYN-0001", "Team Alpha"), ("SYN-0002", "Team Beta")]))
        s.explain(ws, 4, "A note under the table.", [c.width for c in cols])
    assert _rows_in_order(out) == {}
    sheet = openpyxl.load_workbook(out)["Notes"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=5, max_col=2)] == [
        ["Case reference", "Team"], ["SYN-0001", "Team Alpha"], ["SYN-0002", "Team Beta"], [None, None],
        ["A note under the table.", None]]


def test_every_sheet_of_the_master_has_its_rows_in_order(master: Path) -> None:
    assert _rows_in_order(master) == {}
