"""Issue 19: every kind of workbook auditbook writes is one Excel will not repair, as far as can be proved here.

Each is checked against the ISO/IEC 29500-4 (ECMA-376 Part 4) Transitional schemas and ECMA-376 Part 2's
package schemas, with markup compatibility applied as Excel applies it, and against Excel's limits (see
tests/conformance/checker.py). Seeded faults show the checker catches what it claims to.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tests.conformance.checker import check_xlsx
from tests.conformance.excel import name_problem, nesting
from tests.conformance.outputs import KINDS, Outputs
from tests.conformance.package import ZIP64_EXTRA, zip_members
from tests.conformance.schemas import FOLDER
from tests.hazards import parts, rewrite


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """One workbook of every kind, written when first asked for (the whole set takes a few seconds)."""
    return Outputs(tmp_path_factory.mktemp("conformance"))


# -- Zip64 ---------------------------------------------------------------------------------------------------


def test_master_packs_and_export_carry_no_zip64_field(outputs: Outputs) -> None:
    made = outputs.collected
    for path in (made.master, *made.packs, made.export):
        members = zip_members(path.read_bytes())
        assert len(members) > 10, path
        assert [m.name for m in members if ZIP64_EXTRA in (*m.local_extra, *m.central_extra)] == [], path


def test_the_zip_reader_sees_a_zip64_field_in_a_local_header(tmp_path: Path) -> None:
    # What FastRows.finish wrote before issue 19: force_zip64 puts the field in the local header only.
    path = tmp_path / "forced.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("plain.xml", b"<a/>")
        with zf.open("forced.xml", "w", force_zip64=True) as fh:
            fh.write(b"<b/>")
    assert [(m.name, m.local_extra, m.central_extra) for m in zip_members(path.read_bytes())] == [
        ("plain.xml", (), ()), ("forced.xml", (ZIP64_EXTRA,), ())]


# -- every kind of output ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_workbook_conforms(kind: str, outputs: Outputs) -> None:
    assert check_xlsx(KINDS[kind](outputs)) == []


# -- seeded faults -------------------------------------------------------------------------------------------

Parts = dict[str, bytes | None]
SHEET, BOOK, TYPES = "xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def _text(p: Parts, part: str) -> str:
    data = p[part]
    assert data is not None, part
    return data.decode("utf-8")


def _replace(p: Parts, part: str, old: str, new: str) -> None:
    """Replace text in a part, which must hold it once (so every fault is really seeded, and only once)."""
    text = _text(p, part)
    assert text.count(old) == 1, (part, old)
    p[part] = text.replace(old, new).encode("utf-8")


def table_header_differs(p: Parts, path: Path) -> list[str]:
    table = _text(p, "xl/tables/table1.xml")
    found = re.search(r'displayName="([^"]+)".*?<tableColumn id="1" name="([^"]+)"', table)
    assert found is not None
    display, header = found.groups()
    _replace(p, "xl/tables/table1.xml", f'name="{header}"', 'name="Not the header"')
    sheet = next(ws.title for ws in openpyxl.load_workbook(path).worksheets if display in ws.tables)
    return [f"xl/tables/table1.xml: the Table's column 'Not the header' has the header cell A1 of {sheet!r} "
            f"showing {header!r}"]


def row_out_of_order(p: Parts, path: Path) -> list[str]:
    part = next(n for n, d in p.items() if n.startswith("xl/worksheets/") and d and b'<row r="2"' in d
                and b'<row r="3"' in d)
    text = _text(p, part)
    second = re.search(r'<row r="2".*?</row>', text)
    third = re.search(r'<row r="3".*?</row>', text)
    assert second and third
    _replace(p, part, second.group() + third.group(), third.group() + second.group())
    return [f"{part}: row 2 comes after row 3"]


def long_list_validation(p: Parts, path: Path) -> list[str]:
    items = ",".join(f"2026-{m:02d} audit month" for m in range(1, 13)) * 2  # 431 characters
    _replace(p, SHEET, "<formula1>allocation_months</formula1>", f'<formula1>"{items}"</formula1>')
    return [f"{SHEET} validation of F2:F501: a list validation of {len(items)} characters (Excel takes 255)"]


def schema_violation(p: Parts, path: Path) -> list[str]:
    _replace(p, SHEET, '<pageMargins left="0.7"', '<pageMargins left="wide"')
    return [f"{SHEET} line 2: Element 'pageMargins', attribute 'left': 'wide' is not a valid value of the atomic "
            "type 'xs:double'."]


def element_out_of_place(p: Parts, path: Path) -> list[str]:
    views = re.search(r"<sheetViews>.*?</sheetViews>", _text(p, SHEET))
    assert views
    _replace(p, SHEET, views.group(), "")
    _replace(p, SHEET, "</sheetData>", "</sheetData>" + views.group())
    return [f"{SHEET} line 2: Element 'sheetViews': This element is not expected. Expected is one of ( "
            "sheetCalcPr, sheetProtection, protectedRanges, scenarios, autoFilter, sortState, dataConsolidate, "
            "customSheetViews, mergeCells, phoneticPr )."]


def cells_out_of_order(p: Parts, path: Path) -> list[str]:
    text = _text(p, SHEET)
    a1, b1 = re.search(r'<c r="A1".*?</c>', text), re.search(r'<c r="B1".*?</c>', text)
    assert a1 and b1
    _replace(p, SHEET, a1.group() + b1.group(), b1.group() + a1.group())
    return [f"{SHEET}: cell A1 comes after a cell to its right"]


def long_formula(p: Parts, path: Path) -> list[str]:
    formula = 'LEN("' + "x" * 8200 + '")'
    _replace(p, SHEET, "</c></row>", f"</c><c r=\"H1\"><f>{formula}</f></c></row>")
    return [f"{SHEET} H1: a formula of {len(formula)} characters (Excel takes 8192)"]


def deep_formula(p: Parts, path: Path) -> list[str]:
    formula = "ABS(" * 65 + "1" + ")" * 65
    _replace(p, SHEET, "</c></row>", f"</c><c r=\"H1\"><f>{formula}</f></c></row>")
    return [f"{SHEET} H1: functions nested 65 levels deep (Excel takes 64)"]


def long_error_message(p: Parts, path: Path) -> list[str]:
    message = "Write the month as YYYY-MM, for example 2026-11. " * 5
    _replace(p, SHEET, 'error="Write the month as YYYY-MM, for example 2026-11. Keep it anyway?"', f'error="{message}"')
    return [f"{SHEET} validation of F2:F501: error of {len(message)} characters (Excel takes 224: MS-OI29500 2.1.613)"]


def long_validation_formula(p: Parts, path: Path) -> list[str]:
    formula = "IF(" + "+".join(["LEN(A1)"] * 40) + ">0,allocation_months,allocation_months)"
    _replace(p, SHEET, "<formula1>allocation_months</formula1>", f"<formula1>{formula}</formula1>")
    return [f"{SHEET} validation of F2:F501: a validation formula of {len(formula)} characters (Excel takes 255)"]


def long_header(p: Parts, path: Path) -> list[str]:
    header = "&amp;C" + "OFFICIAL-SENSITIVE " * 14
    _replace(p, SHEET, "<oddHeader>", f"<oddHeader>{header}")
    text = re.search(r"<oddHeader>(.*?)</oddHeader>", _text(p, SHEET))
    assert text
    length = len(text.group(1).replace("&amp;", "&"))
    return [f"{SHEET}: oddHeader of {length} characters (Excel takes 255: MS-OI29500 2.1.633)"]


def name_is_a_cell(p: Parts, path: Path) -> list[str]:
    _replace(p, BOOK, 'name="allocation_months"', 'name="AB12"')
    return [f"{BOOK}: the defined name 'AB12' is a cell reference"]


def long_sheet_name(p: Parts, path: Path) -> list[str]:
    name = "Allocation of cases to auditors 1"
    _replace(p, BOOK, 'name="Allocation"', f'name="{name}"')
    return [f"{BOOK}: sheet name {name!r} has 33 characters (1 to 31)"]


def no_content_type(p: Parts, path: Path) -> list[str]:
    p["xl/media/logo.png"] = b"\x89PNG\r\n\x1a\n"
    return [f"xl/media/logo.png: no content type in {TYPES}"]


def untyped_xml(p: Parts, path: Path) -> list[str]:
    override = re.search(r'<Override PartName="/xl/sharedStrings.xml"[^>]*/>', _text(p, TYPES))
    assert override
    _replace(p, TYPES, override.group(), "")
    return ["xl/sharedStrings.xml: content type application/xml, which no schema here covers (add its schema, or "
            "its rules)"]


def part_name_twice(p: Parts, path: Path) -> list[str]:
    p["xl/SharedStrings.xml"] = p["xl/sharedStrings.xml"]
    return ["xl/SharedStrings.xml: a second part of that name"]


def missing_part(p: Parts, path: Path) -> list[str]:
    p["xl/theme/theme1.xml"] = None
    return ["xl/_rels/workbook.xml.rels: rId3 points to theme/theme1.xml, which is not in the package"]


def undeclared_ignorable(p: Parts, path: Path) -> list[str]:
    _replace(p, SHEET, "<worksheet ", f'<worksheet xmlns:mc="{MC}" mc:Ignorable="x14ac" ')
    return [f"{SHEET} line 2: Ignorable names the prefix 'x14ac', which is not bound to a namespace it may name"]


def core_property_untyped(p: Parts, path: Path) -> list[str]:
    _replace(p, "docProps/core.xml", '<dcterms:created xsi:type="dcterms:W3CDTF">', "<dcterms:created>")
    return ['docProps/core.xml: dcterms:created wants xsi:type="dcterms:W3CDTF" [M4.5]']


#: One fault each: the workbook it is seeded in, how, and exactly what the checker must say.
FAULTS: dict[str, tuple[str, Callable[[Parts, Path], list[str]]]] = {
    "a Table header differs from its cell": ("export", table_header_differs),
    "a row out of order": ("export", row_out_of_order),
    "an over-long list validation": ("allocation template", long_list_validation),
    "a value of the wrong type": ("allocation template", schema_violation),
    "an element out of its place": ("allocation template", element_out_of_place),
    "cells out of order": ("allocation template", cells_out_of_order),
    "a formula over 8,192 characters": ("allocation template", long_formula),
    "functions nested 65 deep": ("allocation template", deep_formula),
    "a validation's error message over 224 characters": ("allocation template", long_error_message),
    "a validation formula over 255 characters": ("allocation template", long_validation_formula),
    "a page header over 255 characters": ("allocation template", long_header),
    "a defined name that is a cell": ("allocation template", name_is_a_cell),
    "a sheet name over 31 characters": ("allocation template", long_sheet_name),
    "a part without a content type": ("allocation template", no_content_type),
    "shared strings typed as plain XML": ("allocation template", untyped_xml),
    "a relationship to a missing part": ("allocation template", missing_part),
    "two parts whose names differ only in case": ("allocation template", part_name_twice),
    "mc:Ignorable naming no namespace": ("allocation template", undeclared_ignorable),
    "a core property without its type": ("allocation template", core_property_untyped),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_the_checker_catches_a_seeded_fault(fault: str, outputs: Outputs, tmp_path: Path) -> None:
    kind, seed = FAULTS[fault]
    path = Path(shutil.copy(KINDS[kind](outputs), tmp_path / "faulty.xlsx"))
    faulty: Parts = dict(parts(path))
    expected = seed(faulty, path)
    rewrite(path, faulty)
    assert check_xlsx(path) == expected


def test_a_zip64_field_is_a_fault(outputs: Outputs, tmp_path: Path) -> None:
    source, path = KINDS["allocation template"](outputs), tmp_path / "zip64.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            with dst.open(info.filename, "w", force_zip64=info.filename == SHEET) as fh:
                fh.write(src.read(info))
    assert check_xlsx(path) == [f"{SHEET}: its local file header has a Zip64 extra field (0x0001)"]


def test_markup_for_later_versions_of_excel_is_handled_as_excel_does(outputs: Outputs, tmp_path: Path) -> None:
    """What Excel 2010 and later write: attributes in an ignorable namespace, and an mc:AlternateContent whose
    mc:Choice needs a namespace these schemas do not cover, with an mc:Fallback. Both are dropped or chosen as
    Excel 2007 would; an invalid Fallback is still caught, and markup Excel must understand but cannot is not."""
    path = Path(shutil.copy(KINDS["allocation template"](outputs), tmp_path / "later.xlsx"))
    later: Parts = parts(path)
    margins = re.search(r"<pageMargins [^>]*/>", later[SHEET].decode())
    assert margins
    _replace(later, SHEET, "<worksheet ", f'<worksheet xmlns:mc="{MC}" xmlns:x14ac="{X14AC}" mc:Ignorable="x14ac" ')
    _replace(later, SHEET, '<row r="1" ', '<row r="1" x14ac:dyDescent="0.25" ')
    _replace(later, SHEET, margins.group(), '<mc:AlternateContent><mc:Choice Requires="x14ac"><x14ac:margins/>'
             f"</mc:Choice><mc:Fallback>{margins.group()}</mc:Fallback></mc:AlternateContent>")
    rewrite(path, later)
    assert check_xlsx(path) == []

    _replace(later, SHEET, '<mc:Fallback><pageMargins left="0.7"', '<mc:Fallback><pageMargins left="wide"')
    rewrite(path, later)
    assert check_xlsx(path) == [f"{SHEET} line 2: Element 'pageMargins', attribute 'left': 'wide' is not a valid "
                                "value of the atomic type 'xs:double'."]

    _replace(later, SHEET, 'mc:Ignorable="x14ac" ', 'mc:Ignorable="x14ac" mc:MustUnderstand="x14ac" ')
    rewrite(path, later)
    assert check_xlsx(path)[0] == (f"{SHEET} line 2: MustUnderstand names {X14AC}, which is not understood (Excel "
                                   "refuses a file with markup it must understand and does not)")


# -- the rules on their own ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("formula", "depth"), [
    ("A1+1", 0), ("SUM(A1:A3)", 1), ("IF(A1,IF(B1,1,2),3)", 2), ("(1+2)*(3)", 0), ("IF((A1),1,2)", 1),
    ('IF("((",SUM((1)),0)', 2), ("'Sheet (2)'!A1+MAX(1)", 1), ('IF("""(""",1)', 1), ("_xlfn.IFS(1,2)", 1),
    ("Audits[[#Headers],[Age (years)]]", 0), ("ABS(" * 64 + "1" + ")" * 64, 64),
])
def test_nesting_counts_function_calls_only(formula: str, depth: int) -> None:
    assert nesting(formula) == depth


@pytest.mark.parametrize(("name", "why"), [
    ("list_yes_no", None), ("_private", None), ("\\odd", None), ("Café.names", None), ("XFE1", None),
    ("_xlnm.Print_Titles", None), ("_xlnm._FilterDatabase", None), ("Cx", None),
    ("A1", "is a cell reference"), ("xfd1048576", "is a cell reference"), ("R1C1", "is a cell reference"),
    ("r", "is a cell reference"), ("RC", "is a cell reference"), ("C12", "is a cell reference"),
    ("1st", "does not start with a letter, underscore or backslash"),
    ("two words", "holds a character other than letters, digits, underscores, full stops and backslashes"),
    ("x" * 256, "has 256 characters (1 to 255)"), ("_xlnm.Mine", "is not a name Excel defines itself"),
])
def test_defined_name_rules(name: str, why: str | None) -> None:
    assert name_problem(name) == why


def test_the_vendored_schemas_are_as_published() -> None:
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    listed = dict(line.split()[::-1] for line in readme.split("## SHA-256")[1].splitlines() if ".xsd" in line)
    vendored = sorted(p.relative_to(FOLDER / "ecma-376").as_posix() for p in (FOLDER / "ecma-376").rglob("*.xsd"))
    assert sorted(listed) == vendored
    assert {name: hashlib.sha256((FOLDER / "ecma-376" / name).read_bytes()).hexdigest() for name in vendored} == listed


def test_zip_reader_agrees_with_zipfile(outputs: Outputs) -> None:
    path = KINDS["master"](outputs)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        assert [m.name for m in zip_members(path.read_bytes())] == zf.namelist()
