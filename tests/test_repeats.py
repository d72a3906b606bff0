"""Pieces of a part met before are not parsed again, and that changes nothing anyone can see (repeats.py).

Each case compares Repeats.parse with parsing the part whole and judging it: the same refusal, or the same
elements. The hostile cases put a remembered row's exact bytes where a parser reads them otherwise: inside a
comment, CDATA, an instruction or an attribute opened before it, under another default namespace, inside a
row left open, with a prefix bound outside it; and a part may not forge the marker that stands for them."""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

import openpyxl
import pytest

from auditbook.errors import UnreadableFileError
from auditbook.returns import repeats, tails
from auditbook.returns.active import check_tree
from auditbook.returns.reader import read_workbook
from auditbook.returns.repeats import NAMES, ROWS, STRINGS
from auditbook.returns.safety import parse_part
from auditbook.spec.layout import LISTS_SHEET, META_SHEET
from tests.returns import answers, make_return

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PART = "xl/worksheets/sheet1.xml"
LABEL = '<row r="{n}"><c r="A{n}" t="s"><v>7</v></c><c r="B{n}" t="str"><f>LEN(A1)</f><v>label</v></c></row>'
ANSWER = '<row r="9"><c r="C9" t="str"><v>{value}</v></c></row>'


def sheet(value: str, *, before: str = "", after: str = "", data: str = "<sheetData>", root: str = "") -> bytes:
    rows = "".join(LABEL.format(n=n) for n in range(1, 5))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"{root}>{data}{before}{rows}'
            f"{ANSWER.format(value=value)}{after}</sheetData></worksheet>").encode()


@pytest.fixture(autouse=True)
def afresh() -> Iterator[None]:
    tails.forget()
    yield
    tails.forget()


JUDGE = functools.partial(check_tree, "x.xlsx", PART)


def outcome(read: object) -> object:
    try:
        root: Element = read()  # type: ignore[operator]
        return tostring(root)
    except UnreadableFileError as err:
        return str(err)


def whole(data: bytes) -> object:
    def read() -> Element:
        root = parse_part(data, PART)
        JUDGE(root)
        return root
    return outcome(read)


def fast(data: bytes) -> object:
    return outcome(lambda: ROWS.parse(data, PART, JUDGE))


def learn() -> None:
    """Meet the label rows twice: they are remembered the second time."""
    for value in ("1", "2"):
        assert fast(sheet(value)) == whole(sheet(value))
    assert len(ROWS.known) == 4


def test_rows_met_twice_are_remembered_and_replaced_by_one_marker() -> None:
    learn()
    known = ROWS.skeleton(sheet("3"), PART, JUDGE)
    assert known is not None
    parent = known.root.find(f"{{{MAIN}}}sheetData")
    assert parent is not None
    assert [el.tag == ROWS.mark_tag for el in parent] == [True, False]  # the four label rows, then the answer
    assert fast(sheet("3")) == whole(sheet("3"))


HOSTILE = {
    "rows inside a comment": sheet("3", before="<!--", after="-->"),
    "rows inside CDATA": sheet("3", before="<![CDATA[", after="]]>"),
    "rows inside an instruction": sheet("3", before="<?pi ", after="?>"),
    "rows inside an attribute": sheet("3", before='<row r="1" spans="', after='"/>'),
    "rows inside a row left open": sheet("3", before='<row r="8"><is>', after="</is></row>"),
    "rows under another default namespace": sheet("3", data='<sheetData xmlns="urn:example:other">'),
    "rows under a prefixed sheetData": sheet("3", data=f'<x:sheetData xmlns:x="{MAIN}" xmlns="urn:example:o">',
                                             after="</x:sheetData><sheetData>"),
    "a second sheetData": sheet("3", data='<sheetData/><sheetData>'),
    "active content beside them": sheet("3", after='<row r="10"><c r="A10"><f>WEBSERVICE("x")</f></c></row>'),
    "damage after them": sheet("3", after="<row"),
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_remembered_rows_change_nothing(data: bytes) -> None:
    learn()
    assert fast(data) == whole(data)


def test_a_part_holding_the_marker_is_parsed_whole() -> None:
    learn()
    forged = sheet("3", before=ROWS.mark.decode())
    assert ROWS.skeleton(forged, PART, JUDGE) is None
    assert fast(forged) == whole(forged)


@pytest.mark.parametrize("row", [
    '<row r="5"><c r="A5"><f>WEBSERVICE("https://example.org")</f></c></row>',  # active content
    '<row r="5"><c r="A5">',  # leaves an element open
    '<row r="5" x14ac:dyDescent="0.25"><c r="A5"/></row>',  # a prefix bound outside it, on the root
    '<row r="5"/></sheetData ><sheetData>',  # closes its parent (not where the rows are cut)
])
def test_a_piece_that_does_not_stand_alone_safely_is_never_remembered(row: str) -> None:
    root = ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    for value in ("1", "2", "3"):
        data = sheet(value, after=row, root=root)
        assert fast(data) == whole(data)
    assert not [p for p in ROWS.known if p.startswith(b'r="5"')]


def test_returns_read_the_same_with_remembered_pieces(tmp_path: Path) -> None:
    paths = [make_return(tmp_path / f"r{i}.xlsx", answers(seed=i)) for i in range(4)]
    kwargs = {"skip": frozenset({LISTS_SHEET}), "whole": frozenset({META_SHEET})}
    read = []
    for path in paths:
        repeats.forget()
        tails.forget()
        read.append(read_workbook(path, **kwargs))  # type: ignore[arg-type]
    for path in paths:  # now with the pieces of the returns before remembered
        read.append(read_workbook(path, **kwargs))  # type: ignore[arg-type]
    assert ROWS.known and STRINGS.known and NAMES.known
    for alone, after in zip(read[:4], read[4:], strict=True):
        assert (after.sheets, after.names, after.properties) == (alone.sheets, alone.names, alone.properties)


def test_a_remembered_cell_takes_its_text_from_each_files_own_table(tmp_path: Path) -> None:
    # A remembered row's cells are read once (reader._Placed.read), but a shared text's index is looked up in each
    # file's own table: the same sheets with the table reversed read the reversed texts, as openpyxl reads them.
    path = make_return(tmp_path / "a.xlsx", answers(seed=1))
    kwargs = {"skip": frozenset({LISTS_SHEET}), "whole": frozenset({META_SHEET})}
    for _ in range(3):
        read_workbook(path, **kwargs)  # type: ignore[arg-type]
    swapped = tmp_path / "b.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(swapped, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/sharedStrings.xml":
                end = data.rindex(b"</sst>")
                head, *items = data[:end].split(b"<si>")
                data = head + b"".join(b"<si>" + item for item in reversed(items)) + data[end:]
            out.writestr(info, data)
    raw = read_workbook(swapped, **kwargs)  # type: ignore[arg-type]
    book = openpyxl.load_workbook(swapped)
    shared = [(name, place, cell.value) for name, sheet in raw.sheets.items() for place, cell in sheet.cells.items()
              if cell.kind == "s"]
    assert len(shared) > 50
    for name, (row, col), value in shared:
        assert value == book[name].cell(row + 1, col + 1).value
