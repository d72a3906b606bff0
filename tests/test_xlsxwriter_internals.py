"""The parts of xlsxwriter auditbook leans on beyond its public API are still there, shaped as the code expects.

workbook/xlsx.py, workbook/protect.py and collection/sheetxml.py (and collection/sheets.py, through the part
names) use xlsxwriter internals for speed and for what it has no call for. pyproject.toml pins xlsxwriter to
the minor version they were written against; an upgrade past it fails here, naming what changed, before it
can write a wrong workbook.
"""

from __future__ import annotations

import inspect
import io
import re
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from xml.etree import ElementTree

import pytest
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.sharedstrings import SharedStringTable
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.workbook.protect import LockedWorkbook
from auditbook.workbook.xlsx import DEFLATE_LEVEL, FastWorkbook, FastWorksheet

#: The versions the internals below were checked against (pyproject.toml pins the same).
SUPPORTED = ((3, 3, 1), (3, 4, 0))
ADVICE = (f"auditbook uses xlsxwriter internals checked against {'.'.join(map(str, SUPPORTED[0]))} up to (not "
          f"including) {'.'.join(map(str, SUPPORTED[1]))}: install a version in that range (pip install "
          "'xlsxwriter>=3.3.1,<3.4'), or check the internals below against the new version and move the pin.")

#: (class, method, the parameters auditbook calls or overrides it with, the module that relies on it).
METHODS = [
    (Worksheet, "_write_row", ["self", "row", "spans", "row_info", "empty_row"], "workbook/xlsx.py"),
    (Worksheet, "_xml_start_tag_unencoded", ["self", "tag", "attributes"], "workbook/xlsx.py"),
    (Worksheet, "_xml_empty_tag_unencoded", ["self", "tag", "attributes"], "workbook/xlsx.py"),
    (Worksheet, "_prepare_formula", ["self", "formula", "expand_future_functions"], "workbook/xlsx.py"),
    (Worksheet, "_escape_attributes", ["self", "attribute"], "workbook/xlsx.py"),
    (Worksheet, "_escape_data", ["self", "data"], "workbook/xlsx.py"),
    (Worksheet, "_escape_control_characters", ["data"], "workbook/xlsx.py"),
    (Workbook, "_store_workbook", ["self"], "workbook/xlsx.py"),
    (Workbook, "_extract_named_ranges", ["self", "defined_names"], "workbook/xlsx.py"),
    (Workbook, "_write_workbook_pr", ["self"], "workbook/protect.py"),
    (Workbook, "_xml_empty_tag", ["self", "tag", "attributes"], "workbook/protect.py"),
    (Format, "_get_xf_index", ["self"], "collection/sheetxml.py"),
    (SharedStringTable, "_get_shared_string_index", ["self", "string"], "collection/sheetxml.py"),
]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_the_installed_xlsxwriter_is_a_supported_version() -> None:
    assert SUPPORTED[0] <= _version(xlsxwriter.__version__) < SUPPORTED[1], \
        f"xlsxwriter {xlsxwriter.__version__} is installed. {ADVICE}"


@pytest.mark.parametrize(("owner", "name", "params", "user"), METHODS,
                         ids=[f"{o.__name__}.{n}" for o, n, _, _ in METHODS])
def test_each_internal_method_is_there_with_its_parameters(owner: type, name: str, params: list[str],
                                                           user: str) -> None:
    method = getattr(owner, name, None)
    assert callable(method), f"xlsxwriter {xlsxwriter.__version__} has no {owner.__name__}.{name} ({user}). {ADVICE}"
    found = list(inspect.signature(method).parameters)
    assert found == params, (f"xlsxwriter {xlsxwriter.__version__}: {owner.__name__}.{name} takes {found}, not "
                             f"{params} ({user}). {ADVICE}")


def test_internal_attributes_hold_what_the_code_expects() -> None:
    wb = FastWorkbook(io.BytesIO())
    ws = wb.add_worksheet("One")
    # collection/sheetxml.py counts its own shared strings into the table's count and asks it for indexes.
    assert isinstance(wb.str_table.count, int), ADVICE
    assert wb.str_table._get_shared_string_index("text") == 0, ADVICE
    # workbook/xlsx.py's _prepare_formula reads the sheet's use_future_functions; FastWorkbook.define_name
    # appends names in xlsxwriter's own layout: [name, sheet index (-1: workbook), formula, hidden].
    assert isinstance(ws.use_future_functions, bool), ADVICE
    Workbook.define_name(wb, "first_name", "=One!$A$1")
    assert wb.defined_names[-1] == ["first_name", -1, "One!$A$1", False], ADVICE
    # collection/sheetxml.py finds a sheet's part by its index.
    assert ws.index == 0, ADVICE
    wb.close()


def test_part_names_are_as_the_code_finds_them() -> None:
    buf = io.BytesIO()
    wb = FastWorkbook(buf)
    wb.add_worksheet("One")
    two = wb.add_worksheet("Two")
    two.write_row(0, 0, ["a", "b"])
    two.add_table(0, 0, 1, 1, {"columns": [{"header": "a"}, {"header": "b"}]})
    wb.close()
    names = zipfile.ZipFile(buf).namelist()
    assert {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/tables/table1.xml"} <= set(names), \
        f"xlsxwriter {xlsxwriter.__version__} names its parts {sorted(names)}. {ADVICE}"


def test_the_overrides_still_change_what_is_written() -> None:
    # A fitted row is written without customHeight (so it grows as typed in), the workbook part is locked,
    # and docProps/app.xml lists no defined names.
    buf = io.BytesIO()
    wb = LockedWorkbook(buf)
    ws = wb.add_worksheet("One", worksheet_class=FastWorksheet)
    assert isinstance(ws, FastWorksheet)
    ws.fit_row(0, 30)
    ws.set_row(1, 30)
    ws.write_string(0, 0, "grows")
    ws.write_string(1, 0, "fixed")
    wb.define_name("a_name", "=One!$A$1")
    wb.close()
    with zipfile.ZipFile(buf) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
        book = zf.read("xl/workbook.xml").decode()
        app = zf.read("docProps/app.xml").decode()
    rows = re.findall(r"<row [^>]*>", sheet)
    assert ["customHeight" in r for r in rows] == [False, True], (rows, ADVICE)
    assert re.search(r"<workbookPr[^>]*/><workbookProtection lockStructure=\"1\"/>", book), ADVICE
    assert "a_name" not in app, ADVICE


def test_parts_are_deflated_at_the_chosen_level_and_attributes_still_escaped() -> None:
    # FastWorkbook swaps the ZipFile xlsxwriter makes for one deflating at DEFLATE_LEVEL, only while it writes;
    # FastWorksheet remembers escaped attribute values, which must still be escaped.
    made = xlsxwriter.workbook.ZipFile
    buf = io.BytesIO()
    wb = FastWorkbook(buf)
    ws = wb.add_worksheet("One")
    title = 'Fish & "chips" <now>'
    for row in range(2):  # the second time from what was remembered
        ws.data_validation(row, 0, row, 0, {"validate": "any", "input_title": title, "input_message": "m"})
        ws.data_validation(row, 1, row, 1, {"validate": "list", "source": ["A&B", "C<D"]})
    ws.set_header("&LCase _x0041_ & co")
    ws.write_string(0, 0, "text " * 200)
    ws.write_number(0, 2, 1)
    ws.write_boolean(0, 3, True)
    wb.close()
    assert xlsxwriter.workbook.ZipFile is made, ADVICE
    with zipfile.ZipFile(buf) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            packer = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
            assert info.compress_size == len(packer.compress(data) + packer.flush()), (info.filename, ADVICE)
        root = ElementTree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    titles = [e.get("promptTitle") for e in root.iter() if e.tag.endswith("}dataValidation")]
    assert titles == [title, None, title, None], ADVICE
    lists = [e.text for e in root.iter() if e.tag.endswith("}formula1")]
    assert lists == ['"A&B,C<D"', '"A&B,C<D"'], ADVICE
    # A literal _x0041_ is escaped so that Excel does not read it as the character "A".
    assert [e.text for e in root.iter() if e.tag.endswith("}oddHeader")] == ["&LCase _x005F_x0041_ & co"], ADVICE
    cells = {e.get("r"): (e.get("t"), e.findtext("{*}v")) for e in root.iter() if e.tag.endswith("}c")}
    assert (cells["C1"], cells["D1"]) == ((None, "1"), ("b", "1")), ADVICE


def test_workbooks_stored_in_threads_leave_xlsxwriter_as_it_was() -> None:
    made = xlsxwriter.workbook.ZipFile

    def store(n: int) -> None:
        wb = FastWorkbook(io.BytesIO())
        wb.add_worksheet("One").write_string(0, 0, "text " * 2000 + str(n))
        wb.close()

    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(store, range(8)))
        assert xlsxwriter.workbook.ZipFile is made


def test_text_of_a_str_subclass_is_escaped_too() -> None:
    class Title(StrEnum):
        FISH = 'Fish & "chips" <now>'

    buf = io.BytesIO()
    wb = FastWorkbook(buf)
    ws = wb.add_worksheet("One")
    ws.data_validation(0, 0, 0, 0, {"validate": "any", "input_title": Title.FISH, "input_message": "m"})
    wb.close()
    with zipfile.ZipFile(buf) as zf:
        root = ElementTree.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    assert [e.get("promptTitle") for e in root.iter() if e.tag.endswith("}dataValidation")] == [Title.FISH.value]
