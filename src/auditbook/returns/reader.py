"""Open a returned workbook (after the safety checks) and read raw cells, names, sheets and properties.

This is a small direct reader of the workbook XML rather than openpyxl: a collection of a thousand
returns must read in seconds, and only a few hundred known cells of each are wanted. openpyxl stays
the reference reader in the tests, which check that both agree.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, fromstring

from auditbook.errors import UnreadableFileError
from auditbook.problems import Code
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, open_checked, parse_xml, read_member

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?\d+)$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: Element, name: str) -> Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Undo the _xHHHH_ escapes Excel and xlsxwriter write for control characters (and _x005F_ for "_")."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _text(el: Element) -> str:
    """All text of an <si> or <is> element, skipping phonetic runs."""
    parts: list[str] = []
    for c in el:
        tag = _local(c.tag)
        if tag == "t":
            parts.append(c.text or "")
        elif tag == "r":
            t = _child(c, "t")
            parts.append((t.text or "") if t is not None else "")
    return _unescape("".join(parts))


@functools.lru_cache(maxsize=8192)
def split_cell(ref: str) -> tuple[int, int]:
    """0-based (row, col) of an A1 reference (dollars allowed)."""
    m = _CELL.match(ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


@functools.lru_cache(maxsize=8192)
def parse_ref(text: str) -> tuple[str, str] | None:
    """(sheet, cell) of a defined name's single-cell reference such as 'Case profile'!$C$9, else None."""
    m = _REF.match(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return sheet, m.group(3).replace("$", "")


@dataclass(frozen=True)
class RawCell:
    """A cell as stored: its cached value, the formula if any, and the stored type."""

    value: str | float | bool | None
    formula: str | None = None
    kind: str = "n"


@dataclass
class RawSheet:
    """One worksheet's state, protection and non-empty cells."""

    name: str
    state: str
    protected: bool
    cells: dict[tuple[int, int], RawCell] = field(default_factory=dict)

    def cell(self, ref: str) -> RawCell | None:
        """The cell at an A1 reference, or None when empty."""
        return self.cells.get(split_cell(ref))


@dataclass
class RawWorkbook:
    """Everything validate needs from a returned file, read once.

    Only the sheets that defined names point into (and the metadata sheet) are loaded, and of those
    only the cells the names point at: `sheet_states` lists every sheet the workbook has.
    """

    path: Path
    sha256: str
    sheet_states: dict[str, str]
    sheets: dict[str, RawSheet]
    names: dict[str, str]
    properties: dict[str, str]
    date1904: bool = False
    structure_locked: bool = False


class _Strings:
    """The shared strings, each turned into text only when a wanted cell uses it (most are labels)."""

    def __init__(self, items: list[Element]) -> None:
        self.items = items
        self.cache: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        if index not in self.cache:
            if not 0 <= index < len(self.items):
                raise IndexError(index)
            self.cache[index] = _text(self.items[index])
        return self.cache[index]


class _Parts:
    """The zip's parts by name, looked up as the safety checks did: without regard to case."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        self.zf = zf
        self.limits = limits
        self.names = {n.lower(): n for n in zf.namelist()}

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.names

    def read(self, name: str) -> bytes:
        actual = self.names.get(name.lower())
        if actual is None:
            raise UnreadableFileError(f"the workbook part {name} is missing", code=Code.CORRUPT)
        return read_member(self.zf, actual, self.limits)


def _shared_strings(parts: _Parts, target: str | None) -> _Strings:
    if target is None or target not in parts:
        return _Strings([])
    root = _parse(parts.read(target), target)
    return _Strings(_children(root, "si"))


_PROTECTION = re.compile(rb"<(?:\w+:)?sheetProtection\b[^>]*?\ssheet=\"(1|true)\"")


def _plain(data: bytes) -> bool:
    """UTF-8 XML without a DTD, so it can declare no entity: what defusedxml's forbid_dtd guarantees.

    Anything else (UTF-16 with or without a byte-order mark, a DTD anywhere) goes to defusedxml.
    """
    head = data[:200]
    return (head.lstrip().startswith((b"<", b"\xef\xbb\xbf<")) and b"\x00" not in head
            and b"<!DOCTYPE" not in data and b"<!ENTITY" not in data)


def _parse(data: bytes, member: str) -> Element:
    """Parse a part: the C parser for plain XML (defusedxml's pure-Python one is ~4x slower), else defusedxml."""
    if _plain(data):
        try:
            return fromstring(data)
        except ParseError:
            pass  # let defusedxml give the error message
    return parse_xml(data, member)


def _sheet_data(data: bytes, member: str) -> tuple[Element | None, bool]:
    """The <sheetData> element and whether the sheet is protected.

    Only the <sheetData> slice is parsed when the bytes are plain; namespace prefixes or anything
    unusual fall back to parsing the whole part.
    """
    start, end = data.find(b"<sheetData"), data.rfind(b"</sheetData>")
    # Comments could hide a decoy <sheetData> from the slice: then the part is parsed whole.
    if _plain(data) and b"<!--" not in data and start != -1 and end > start:
        try:
            return fromstring(data[start : end + len(b"</sheetData>")]), bool(_PROTECTION.search(data))
        except ParseError:
            pass
    root = _parse(data, member)
    protection = _child(root, "sheetProtection")
    protected = protection is not None and protection.get("sheet", "0") in ("1", "true")
    return _child(root, "sheetData"), protected


def _read_sheet(parts: _Parts, member: str, name: str, state: str, strings: _Strings,
                wanted: set[str] | None) -> RawSheet:
    data_el, protected = _sheet_data(parts.read(member), member)
    sheet = RawSheet(name=name, state=state, protected=protected)
    if data_el is None:
        return sheet
    # Cells are <c> in the sheetData's own namespace: iterating by tag runs in C, and most cells are labels.
    ns = data_el.tag[: data_el.tag.index("}") + 1] if data_el.tag.startswith("{") else ""
    for c in data_el.iter(f"{ns}c"):
        ref = c.get("r")
        if ref is None or (wanted is not None and ref not in wanted):
            continue
        v, f, is_ = c.find(f"{ns}v"), c.find(f"{ns}f"), c.find(f"{ns}is")
        kind = c.get("t", "n")
        value: str | float | bool | None = None
        if kind == "inlineStr":
            value = _text(is_) if is_ is not None else ""
        elif v is not None and v.text is not None:
            value = _convert(kind, v.text, strings, member, ref)
        formula = (f.text or "") if f is not None else None
        if value is None and formula is None:
            continue
        sheet.cells[split_cell(ref)] = RawCell(value, formula, kind)
    return sheet


def _convert(kind: str, text: str, strings: _Strings, member: str, ref: str) -> str | float | bool | None:
    try:
        if kind == "s":
            return strings[int(text)]
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind in ("str", "e", "d"):
            return text
        return float(text)
    except (ValueError, IndexError):
        raise UnreadableFileError(f"cell {ref} in {member} holds a value that cannot be read", code=Code.CORRUPT) \
            from None


def _properties(parts: _Parts) -> dict[str, str]:
    member = "docProps/custom.xml"
    if member not in parts:
        return {}
    root = _parse(parts.read(member), member)
    out: dict[str, str] = {}
    for prop in _children(root, "property"):
        name = prop.get("name")
        if name and len(prop):
            out[name] = prop[0].text or ""
    return out


def _rels(parts: _Parts) -> dict[str, str]:
    member = "xl/_rels/workbook.xml.rels"
    if member not in parts:
        raise UnreadableFileError("the workbook's part list is missing", code=Code.CORRUPT)
    root = _parse(parts.read(member), member)
    out: dict[str, str] = {}
    for rel in _children(root, "Relationship"):
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        out[rel.get("Id", "")] = resolved
    return out


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS, *, skip: frozenset[str] = frozenset(),
                  whole: frozenset[str] = frozenset()) -> RawWorkbook:
    """Read a returned workbook's sheets, names and properties, or raise UnreadableFileError.

    Only the cells that defined names point at are read, except on the `whole` sheets (read entirely);
    names pointing into the `skip` sheets are not followed.
    """
    zf = open_checked(path, limits)
    try:
        return _read(_Parts(zf, limits), path, skip, whole)
    except UnreadableFileError as err:
        raise UnreadableFileError(f"{path.name}: {err}", code=err.code) from None
    finally:
        zf.close()


def _wanted_cells(names: dict[str, str], skip: frozenset[str]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for text in names.values():
        ref = parse_ref(text)
        if ref is not None and ref[0] not in skip:
            wanted.setdefault(ref[0], set()).add(ref[1])
    return wanted


def _read(parts: _Parts, path: Path, skip: frozenset[str], whole: frozenset[str]) -> RawWorkbook:
    rels = _rels(parts)
    root = _parse(parts.read("xl/workbook.xml"), "xl/workbook.xml")
    pr = _child(root, "workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0") in ("1", "true")
    wp = _child(root, "workbookProtection")
    locked = wp is not None and wp.get("lockStructure", "0") in ("1", "true")
    names: dict[str, str] = {}
    dn_el = _child(root, "definedNames")
    for dn in _children(dn_el, "definedName") if dn_el is not None else []:
        if dn.get("localSheetId") is None and dn.get("name"):
            names[dn.get("name", "")] = dn.text or ""
    wanted = _wanted_cells(names, skip)
    strings_target = next((t for t in rels.values() if t.lower().endswith("sharedstrings.xml")), None)
    strings = _shared_strings(parts, strings_target)
    states: dict[str, str] = {}
    sheets: dict[str, RawSheet] = {}
    sheets_el = _child(root, "sheets")
    for s in _children(sheets_el, "sheet") if sheets_el is not None else []:
        name, state = s.get("name", ""), s.get("state", "visible")
        states[name] = state
        if name not in wanted and name not in whole:
            continue
        member = rels.get(s.get(f"{{{_REL_NS}}}id", ""), "")
        if member not in parts:
            raise UnreadableFileError(f'sheet "{name}" is listed but its part is missing', code=Code.CORRUPT)
        cells = None if name in whole else wanted[name]
        sheets[name] = _read_sheet(parts, member, name, state, strings, cells)
    return RawWorkbook(
        path=path, sha256=file_sha256(path), sheet_states=states, sheets=sheets, names=names,
        properties=_properties(parts), date1904=date1904, structure_locked=locked,
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
