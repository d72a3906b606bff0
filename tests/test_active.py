"""Active content (issue 8): what would reach out or run when the collator opens a return is refused, named;
what Excel and LibreOffice save in an ordinary workbook is not; a big picture is called a picture."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditbook.errors import UnreadableFileError
from auditbook.returns.active import formula_problem
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.safety import Limits, open_checked
from auditbook.returns.validate import validate_file
from tests import hazards as hz
from tests.returns import spec

REGISTRY = SpecRegistry.of(spec())


@pytest.mark.parametrize(("formula", "found"), [
    ("SUM(A1:A3)", None),
    ("IF(status_profile=\"Complete\",1,0)", None),
    ("'Case profile'!$C$9", None),
    ("'It''s [not] a path'!A1", "a reference to another workbook"),
    ('"[1]Sheet1!A1 is only text"', None),
    ("Table1[[#This Row],[Grade]]", None),
    ("[1]Sheet1!$A$1", "a reference to another workbook"),
    ("'C:\\Users\\x\\[Book.xlsx]Sheet1'!A1", "a reference to another workbook"),
    ("[Book.xlsx]Sheet1!A1", "a reference to another workbook"),
    ("SUM('\\\\server\\share\\[b.xlsx]S'!A1)", "a formula naming a network or file path"),
    ("cmd|' /C calc'!A0", "a DDE formula (it runs a program)"),
    ("MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe'!''", "a DDE formula (it runs a program)"),
    ("'a|b'!A1", None),
    ("WEBSERVICE(\"http://example.invalid\")", "a WEBSERVICE formula (it reaches outside the workbook)"),
    ("_xlfn.WEBSERVICE(A1)", "a WEBSERVICE formula (it reaches outside the workbook)"),
    ("filterxml(A1,\"//x\")", "a FILTERXML formula (it reaches outside the workbook)"),
    ("CALL(\"Kernel32\",\"Sleep\",\"JJ\",1)", "a CALL formula (it reaches outside the workbook)"),
    ("REGISTER.ID(\"x\",\"y\")", "a REGISTER.ID formula (it reaches outside the workbook)"),
    ("RTD(\"prog.id\",,\"x\")", "a RTD formula (it reaches outside the workbook)"),
    ("_xlfn.IMAGE(\"https://example.invalid/x.png\")", "a IMAGE formula (it reaches outside the workbook)"),
    ("_xludf.MyFunction(A1)", "a call to a function from an add-in or macro"),
    ("HYPERLINK(\"https://example.invalid\",\"guidance\")", None),
    ("HYPERLINK(\"#'Case profile'!A1\",\"back\")", None),
    ("HYPERLINK(\"\\\\server\\share\\x.xlsx\")", "a HYPERLINK formula to a file or network path"),
    ("HYPERLINK(A1)", "a HYPERLINK formula to a file or network path"),
    ("\"file:///C:/x\"&A1", "a formula naming a network or file path"),
])
def test_formulas_that_reach_out(formula: str, found: str | None) -> None:
    assert formula_problem(formula) == found


@pytest.mark.parametrize(("build", "words"), [
    (hz.with_external_link, "a link to another workbook (xl/externalLinks/externalLink1.xml)"),
    (hz.with_hidden_vba, "a VBA macro project (printerSettings/printerSettings1.bin)"),
    (hz.with_ole_object, "an embedded OLE object (xl/embeddings/oleObject1.bin)"),
    (hz.with_unknown_part, "a part that Excel and LibreOffice do not save in a workbook (xl/tools/run.exe, "
                           "application/x-msdownload)"),
    (hz.with_remote_picture, "a image fetched from outside the file (\\\\server\\share\\logo.png)"),
])
def test_parts_that_reach_out_are_refused_by_type(tmp_path: Path, build: object, words: str) -> None:
    path = build(hz.returned(tmp_path / "r.xlsx"))  # type: ignore[operator]
    report = validate_file(path, registry=REGISTRY)
    assert [p.code for p in report.problems] == ["active-content"]
    assert words in report.problems[0].message
    assert report.problems[0].message.startswith("r.xlsx: active content: the workbook contains ")


@pytest.mark.parametrize("how", ["webservice", "hidden-webservice", "dde", "external-ref", "hyperlink-unc",
                                 "validation-ref"])
def test_formulas_in_any_sheet_part_are_checked(tmp_path: Path, how: str) -> None:
    report = validate_file(hz.with_sheet_xml(hz.returned(tmp_path / "r.xlsx"), how), registry=REGISTRY)
    assert [p.code for p in report.problems] == ["active-content"]
    assert "xl/worksheets/sheet3.xml" in report.problems[0].message


def test_a_defined_name_that_reaches_out_is_refused(tmp_path: Path) -> None:
    path = hz.returned(tmp_path / "r.xlsx")
    book = hz.parts(path)["xl/workbook.xml"].replace(
        b"</definedNames>", b'<definedName name="leak">WEBSERVICE("http://example.invalid")</definedName>'
        b"</definedNames>")
    report = validate_file(hz.rewrite(path, {"xl/workbook.xml": book}), registry=REGISTRY)
    assert [p.code for p in report.problems] == ["active-content"]
    assert "WEBSERVICE formula (it reaches outside the workbook) in the defined name leak" in \
        report.problems[0].message


def test_a_web_hyperlink_and_a_pasted_picture_are_fine(tmp_path: Path) -> None:
    path = hz.with_picture(hz.returned(tmp_path / "r.xlsx"), 12)
    assert validate_file(path, registry=REGISTRY).valid


def test_a_picture_too_big_for_a_return_is_called_a_picture(tmp_path: Path) -> None:
    path = hz.with_picture(hz.returned(tmp_path / "r.xlsx"), 3)
    with pytest.raises(UnreadableFileError) as err:
        open_checked(path, Limits(max_file_bytes=2 * 1024 * 1024)).close()
    assert err.value.code == "file-too-large"
    assert "because it holds a picture of 3.0 MB (xl/media/image1.png). Ask the auditor to delete pasted " \
        "pictures" in str(err.value)
    assert "zip bomb" not in str(err.value) and "malicious" not in str(err.value)
