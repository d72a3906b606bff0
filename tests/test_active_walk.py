"""check_tree judges a part in one walk and reports, of several problems, the one it always reported first."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

import pytest

from auditbook.errors import UnreadableFileError
from auditbook.returns.active import check_tree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
CELL = '<c r="A{n}"><f>{formula}</f></c>'
CF = '<conditionalFormatting><cfRule type="expression"><formula>{formula}</formula></cfRule></conditionalFormatting>'
X14_CF = f'<x14:cfRule xmlns:x14="{X14}"><x14:formula>{{formula}}</x14:formula></x14:cfRule>'


def refusal(body: str) -> str | None:
    root = fromstring(f'<worksheet xmlns="{MAIN}">{body}</worksheet>')
    try:
        check_tree("x.xlsx", "sheet1.xml", root)
    except UnreadableFileError as err:
        return str(err).split("contains ", 1)[1].split(". The collator")[0]
    return None


@pytest.mark.parametrize(("body", "reported"), [
    ("<sheetData>" + CELL.format(n=1, formula="SUM(A2)") + "</sheetData>", None),
    ("<sheetData>" + CELL.format(n=1, formula='WEBSERVICE("x")') + "</sheetData>"
     + CF.format(formula="[1]Sheet1!A1"), "a reference to another workbook in sheet1.xml"),  # <formula> before <f>
    (X14_CF.format(formula='CALL("x")') + CF.format(formula='RTD("x")'), "a RTD formula (it reaches outside the "
     "workbook) in sheet1.xml"),  # the main namespace before Excel 2010's
    ("<sheetData>" + CELL.format(n=1, formula='RTD("a")') + CELL.format(n=2, formula='CALL("b")') + "</sheetData>",
     "a RTD formula (it reaches outside the workbook) in sheet1.xml"),  # then the first in the part
    ('<controls><control r:id="x" xmlns:r="r"/></controls><oleObjects/>' + "<sheetData>"
     + CELL.format(n=1, formula="[2]A!A1") + "</sheetData>", "a reference to another workbook in sheet1.xml"),
    ('<controls/><oleObjects/>', "an embedded OLE object in sheet1.xml"),  # the objects in their order
    ('<cacheSource type="external"/>', "a pivot table fed from an external source in sheet1.xml"),
    ('<cacheSource type="worksheet"/>', None),
])
def test_the_problem_reported_first(body: str, reported: str | None) -> None:
    assert refusal(body) == reported
