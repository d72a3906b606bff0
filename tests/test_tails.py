"""A sheet's middle judged before is not parsed again, and that changes nothing anyone can see (tails.py).

Each case compares parse_sheet with parsing the part whole and judging it: the same refusal, or the same
cells and protection for the reader. The hostile cases reuse a remembered middle's exact bytes where a
parser would read them differently: after a head that leaves a comment or an element open, under a
namespace prefix bound otherwise, with a protection of the head's own."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

import pytest

from auditbook.errors import UnreadableFileError
from auditbook.returns import tails
from auditbook.returns.active import check_tree
from auditbook.returns.reader import read_workbook
from auditbook.returns.safety import parse_part
from auditbook.spec.layout import LISTS_SHEET, META_SHEET
from tests.hazards import parts, rewrite
from tests.returns import answers, make_return

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
M = f"{{{MAIN}}}"
ROOT = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}" xmlns:q="urn:example:other"{{extra}}>'
CELLS = '<sheetData><row r="1"><c r="A1" t="str"><v>{value}</v></c></row></sheetData>'
MIDDLE = ('<sheetProtection sheet="1"/><conditionalFormatting sqref="A1"><cfRule type="expression" priority="1">'
          "<formula>LEN(A1)=0</formula></cfRule></conditionalFormatting>"
          '<q:f>WEBSERVICE("https://example.org")</q:f>')
END = "<headerFooter><oddFooter>&amp;LCase reference: SYN-{value}</oddFooter></headerFooter></worksheet>"


def sheet(value: str, *, extra: str = "", cells: str = CELLS, middle: str = MIDDLE, end: str = END) -> bytes:
    return (ROOT.format(extra=extra) + cells.format(value=value) + middle + end.format(value=value)).encode()


@pytest.fixture(autouse=True)
def afresh() -> Iterator[None]:
    tails.forget()
    yield
    tails.forget()


def seen(root: Element) -> tuple[bytes | None, dict[str, str] | None, list[bytes]]:
    """What the reader takes from a sheet: its cells, its (first) protection, its merged cells and conditional
    formats."""
    cells, protection = root.find(f"{M}sheetData"), root.find(f"{M}sheetProtection")
    shown = [tostring(el) for el in root if el.tag in (f"{M}mergeCells", f"{M}conditionalFormatting")]
    return (tostring(cells) if cells is not None else None, dict(protection.attrib) if protection is not None
            else None, shown)


def outcome(read: object) -> object:
    try:
        return seen(read())  # type: ignore[operator]
    except UnreadableFileError as err:
        return str(err)


def whole(data: bytes) -> object:
    def read() -> Element:
        root = parse_part(data, "xl/worksheets/sheet1.xml")
        check_tree("x.xlsx", "xl/worksheets/sheet1.xml", root)
        return root
    return outcome(read)


def fast(data: bytes) -> object:
    judge = functools.partial(check_tree, "x.xlsx", "xl/worksheets/sheet1.xml")
    return outcome(lambda: tails.parse_sheet(data, "xl/worksheets/sheet1.xml", judge))


def learn() -> None:
    """Meet the template's middle twice (it is remembered the second time)."""
    for value in ("1", "2"):
        assert fast(sheet(value)) == whole(sheet(value))
    assert tails._judged


def test_a_middle_met_twice_is_remembered_and_not_parsed_again() -> None:
    learn()
    data = sheet("3")
    judge = functools.partial(check_tree, "x.xlsx", "xl/worksheets/sheet1.xml")
    root = tails.parse_sheet(data, "xl/worksheets/sheet1.xml", judge)
    assert root.find("{urn:example:other}f") is None  # the middle was not parsed again...
    part = parse_part(data, "s")
    assert seen(root) == whole(data) == (tostring(part.find(f"{M}sheetData")), {"sheet": "1"},
                                         [tostring(part.find(f"{M}conditionalFormatting"))])
    assert [el.tag for el in root] == [f"{M}sheetData", f"{M}sheetProtection", f"{M}conditionalFormatting",
                                       f"{M}headerFooter"]


ROW = '<row r="1"><c r="A1" t="str"><v>{value}</v></c></row>'


def hidden(opening: str, closing: str) -> bytes:
    """The remembered middle's exact bytes inside a comment, CDATA or instruction the head leaves open."""
    row = ROW.format(value="5") if opening != "<![CDATA[" else ROW.format(value="5").replace("</v>", "")
    data = (ROOT.format(extra="") + "<sheetData>" + row + opening + "</sheetData>" + MIDDLE + "<headerFooter"
            + closing + ("</v></c></row>" if opening == "<![CDATA[" else "") + "</sheetData>" + END.format(value="5"))
    return data.encode()


@pytest.mark.parametrize(("data", "reused"), [
    # Each part holds the remembered middle's exact bytes (reused: True) where a parser may read them otherwise,
    # or nearly those bytes: the outcome must be that of parsing the part whole.
    (hidden("<!-- ", " -->"), True),  # the middle is a comment: no protection, no WEBSERVICE
    (hidden("<![CDATA[", "]]>"), True),  # the middle is a cell's text
    (hidden("<?pi ", " ?>"), True),  # the middle is an instruction's
    (sheet("6", cells=f'<wrap xmlns:q="{MAIN}">' + CELLS, end=END.replace("</worksheet>", "</wrap></worksheet>")),
     True),  # q bound to SpreadsheetML around the middle: a WEBSERVICE formula
    (sheet("7", cells='<sheetProtection sheet="0"/>' + CELLS), True),  # the head's own protection comes first
    (sheet("8", cells=CELLS.replace("<sheetData>", '<sheetData xmlns:q="' + MAIN + '">')), True),
    (sheet("9", end=END.replace("SYN-", 'SYN-<f xmlns="' + MAIN + '">WEBSERVICE("https://example.org")</f>')),
     True),  # active content in the end
    (sheet("10", end=END.replace("</worksheet>", "</worksheet><!-- after -->")), True),
    (sheet("11", end=END.replace("</worksheet>", "</worksheet><extra/>")), True),  # damaged after the root
    (sheet("12", middle=MIDDLE + "<wrap>"), False),  # an element the middle opens is never closed
    (sheet("13", extra=f' xmlns:x="{MAIN}"', middle=MIDDLE.replace("q:f", "x:f")), False),
    (sheet("14", cells=f'<wrap xmlns:q="{MAIN}">' + CELLS, end="</wrap>" + END), False),
    (sheet("15", middle=MIDDLE.replace("<sheetProtection", "<!-- x --><sheetProtection")), False),
    (sheet("16").replace(b'encoding="UTF-8"', b'encoding="UTF-7"'), False),  # refused for its encoding, as ever
    (sheet("17").replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), False),
])
def test_a_remembered_middle_changes_nothing(data: bytes, reused: bool) -> None:
    learn()
    cut = tails._cut(data)
    assert (cut is not None and (cut.start, data[cut.head_end : cut.end_start]) in tails._judged) == reused
    assert fast(data) == whole(data)


@pytest.mark.parametrize("where", ["cells", "end"])
def test_a_part_holding_the_middles_marker_is_parsed_whole(where: str) -> None:
    """The head and end are parsed in one with a secret marker in the middle's place: a part that holds the marker's
    name (or its whole tag) itself is parsed whole, whatever the marker would have been taken for."""
    learn()
    mark = tails._MIDDLE_MARK.decode()
    forged = (sheet("3", cells=CELLS.replace("</sheetData>", f"</sheetData>{mark}")) if where == "cells"
              else sheet("3", end=END.replace("<headerFooter>", f"{mark}<headerFooter>")))
    cut = tails._cut(forged)
    assert cut is not None and tails._pieces(forged, cut, "s", (), lambda root: None) is None
    assert fast(forged) == whole(forged)


def test_the_root_start_tag_is_part_of_the_key() -> None:
    """The same middle under a root that binds q to SpreadsheetML is a WEBSERVICE formula: refused."""
    learn()
    data = sheet("16").replace(b'xmlns:q="urn:example:other"', f'xmlns:q="{MAIN}"'.encode())
    assert "WEBSERVICE" in str(fast(data)) and fast(data) == whole(data)


def test_a_middle_that_leaves_an_element_open_is_never_remembered() -> None:
    """Its end would parse alone after it, though the whole part does not."""
    for value in ("1", "2", "3"):
        data = sheet(value, middle=MIDDLE + "<wrap>", end=END.replace("</worksheet>", "</wrap></worksheet>"))
        assert fast(data) == whole(data)
    assert not tails._judged
    data = sheet("4", middle=MIDDLE + "<wrap>")
    assert "damaged" in str(whole(data)) and fast(data) == whole(data)


def test_a_refused_middle_is_never_remembered() -> None:
    bad = MIDDLE.replace("LEN(A1)=0", 'WEBSERVICE("https://example.org")')
    for value in ("1", "2", "3"):
        assert "WEBSERVICE" in str(fast(sheet(value, middle=bad)))
    assert not tails._judged


def test_returns_read_the_same_with_remembered_middles(tmp_path: Path) -> None:
    """Whole returns: the second reading of each (every middle remembered) equals the first."""
    paths = [tmp_path / f"r{i}.xlsx" for i in range(3)]
    for i, path in enumerate(paths):
        make_return(path, answers("in_care_16_plus", seed=i, actions=2))
    kw = {"skip": frozenset({LISTS_SHEET}), "whole": frozenset({META_SHEET})}
    first = [read_workbook(p, **kw) for p in paths]  # type: ignore[arg-type]
    assert tails._judged
    again = [read_workbook(p, **kw) for p in paths]  # type: ignore[arg-type]
    assert [(r.sheets, r.names, r.sheet_states, r.properties) for r in again] == \
        [(r.sheets, r.names, r.sheet_states, r.properties) for r in first]


@pytest.mark.parametrize(("middle", "words"), [
    ("<sheetData/>", "gives <sheetData> twice"),  # the reader refuses a second one: so with the middle remembered
    ('<cols><col min="3" max="3" hidden="1"/></cols>', None),  # out of its place, but read: so with it remembered
    ('<extLst><ext uri="x"/></extLst>', None),
])
def test_what_the_reader_reads_of_a_middle_is_kept(tmp_path: Path, middle: str, words: str | None) -> None:
    """A middle holding a child of a kind the reader reads is read the same the third time it is met (remembered)
    as the first (parsed whole)."""
    kw = {"skip": frozenset({LISTS_SHEET}), "whole": frozenset({META_SHEET})}
    seen = []
    for i in range(3):
        path = make_return(tmp_path / f"r{i}.xlsx", answers(seed=i))
        part = "xl/worksheets/sheet3.xml"  # the Case profile
        rewrite(path, {part: parts(path)[part].replace(b"<sheetProtection ", middle.encode() + b"<sheetProtection ")})
        try:
            raw = read_workbook(path, **kw)  # type: ignore[arg-type]
            seen.append(raw.sheets["Case profile"].hidden_cols)
        except UnreadableFileError as err:
            seen.append(str(err).rsplit(": ", 1)[-1])
    assert tails._judged
    assert seen == [seen[0]] * 3
    if words is not None:
        assert words in str(seen[0])
    assert middle.startswith("<sheetData") or seen[0] == (((2, 2),) if "cols" in middle else ())
