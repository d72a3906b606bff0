"""Open a returned workbook (after the safety checks) and read raw cells, names, sheets and properties.

This is a small direct reader of the workbook XML rather than openpyxl: a collection of a thousand
returns must read in seconds, and only a few hundred known cells of each are wanted. Every part is parsed
whole by a conforming XML parser (comments, processing instructions, CDATA, character references and
namespace prefixes are what the parser makes of them; a sheet's tail already parsed whole and judged in
another part is not parsed again: tails.py says why that is the same), elements are matched by their
SpreadsheetML namespace, and a cell's place is worked out as Excel does (from its reference, else from its
row and the cell before it). openpyxl stays the reference reader in the tests, which check that both agree.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.etree.ElementTree import Element

from auditbook.errors import UnreadableFileError
from auditbook.fingerprint import Fingerprint
from auditbook.problems import Code
from auditbook.returns.active import check_tree, element_text, formula_parts, formula_problem, needs_look, refuse
from auditbook.returns.repeats import NAMES, ROWS, STRINGS, Repeats
from auditbook.returns.safety import (
    DEFAULT_LIMITS,
    Limits,
    Outline,
    OwnedZip,
    custom_properties,
    open_checked,
    parse_part,
    read_member,
)
from auditbook.returns.tails import parse_sheet
from auditbook.text import name_key

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL = re.compile(r"^([A-Za-z]{1,3})(\d+)$")
_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?\d+)$")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_ROW, _C, _V, _F, _IS, _T, _R = (f"{MAIN}{t}" for t in ("row", "c", "v", "f", "is", "t", "r"))
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Undo the _xHHHH_ escapes Excel and xlsxwriter write for control characters (and _x005F_ for "_")."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _text(el: Element) -> str:
    """All text of an <si> or <is> element: its plain text, then its rich-text runs; phonetic runs skipped."""
    plain = el.find(_T)
    parts = [plain.text or ""] if plain is not None else []
    for run in el:
        if run.tag == _R and (t := run.find(_T)) is not None:
            parts.append(t.text or "")
    return _unescape("".join(parts))


@functools.lru_cache(maxsize=8192)
def split_cell(ref: str) -> tuple[int, int]:
    """0-based (row, col) of an A1 reference (lower case allowed, as Excel and openpyxl read it), or ValueError."""
    m = _CELL.match(ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    if not (1 <= row <= _MAX_ROW and 1 <= col <= _MAX_COL):
        raise ValueError(ref)
    return row - 1, col - 1


@functools.lru_cache(maxsize=8192)
def parse_ref(text: str) -> tuple[str, str] | None:
    """(sheet, cell) of a defined name's single-cell reference such as 'Case profile'!$C$9, else None."""
    m = _REF.match(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return sheet, m.group(3).replace("$", "")


class RawCell(NamedTuple):
    """A cell as stored: its cached value, the formula if any, and the stored type (a tuple: made by the hundred)."""

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
    #: The bytes it was read from (their SHA-256, the file's size and time), in the one open of the file.
    read: Fingerprint | None = None

    @property
    def outline(self) -> Outline:
        """What the workbook says it is: its custom properties and its sheets' names."""
        return Outline(self.properties, frozenset(self.sheet_states))


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

    def __init__(self, zf: zipfile.ZipFile, limits: Limits, label: str) -> None:
        self.zf = zf
        self.limits = limits
        self.label = label
        self.names = {n.lower(): n for n in zf.namelist()}

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.names

    def read(self, name: str) -> bytes:
        actual = self.names.get(name.lower())
        if actual is None:
            raise UnreadableFileError.of(Code.CORRUPT, case="part-missing", part=name)
        return read_member(self.zf, actual, self.limits, file_name=self.label)

    def parse(self, name: str, repeats: Repeats | None = None) -> Element:
        """A part parsed whole, unchecked: it holds no formula, or the caller checks its formulas one by one.

        With `repeats`, its pieces met before are not parsed again (repeats.py)."""
        data = self.read(name)
        return parse_part(data, name) if repeats is None else repeats.parse(data, name)

    def sheet(self, name: str) -> Element:
        """A worksheet parsed and checked as parse() does, without parsing again a tail judged before (tails.py)."""
        return parse_sheet(self.read(name), name, functools.partial(check_tree, self.label, name))

    def look(self, name: str) -> None:
        """Check a part that is not otherwise read for active content (parsed only when its bytes could hold it)."""
        data = self.read(name)
        if needs_look(data):
            check_tree(self.label, name, parse_part(data, name))


def _shared_strings(parts: _Parts, target: str | None) -> _Strings:
    if target is None or target not in parts:
        return _Strings([])
    # Shared strings are text, not formulas: nothing in them runs.
    root = parts.parse(target, STRINGS)
    return _Strings(root.findall(f"{MAIN}si"))


def _is_true(value: str | None) -> bool:
    return (value or "").strip() in ("1", "true")


def _read_sheet(parts: _Parts, member: str, name: str, state: str, strings: _Strings,
                wanted: set[tuple[int, int]] | None) -> RawSheet:
    root = parts.sheet(member)
    protection = root.find(f"{MAIN}sheetProtection")
    sheet = RawSheet(name=name, state=state, protected=protection is not None and _is_true(protection.get("sheet")))
    data_el = root.find(f"{MAIN}sheetData")
    if data_el is not None:
        _read_rows(data_el, _Cells(sheet.cells, strings, member, wanted))
    return sheet


class _Cells(NamedTuple):
    """Where one sheet's cells go, and which are wanted (None: all)."""

    cells: dict[tuple[int, int], RawCell]
    strings: _Strings
    member: str
    wanted: set[tuple[int, int]] | None


def _read_rows(data_el: Element, into: _Cells) -> None:
    """Place each row's cells as Excel does (a row or cell without a reference follows the one before).

    A remembered row (repeats.py) is placed once and noted: then only its cells on wanted rows are looked at."""
    wanted_rows = {row for row, _ in into.wanted} if into.wanted is not None else None
    notes = ROWS.notes
    row_no = 0
    for row in data_el:
        if row.tag != _ROW:
            continue
        r = row.get("r")
        row_no = _row_number(r) if r is not None else row_no + 1
        if not row_no:
            raise _bad("row number", str(r), into.member)
        placed = notes.get(row, False)
        if placed is None:
            placed = notes[row] = _place(row)
        if isinstance(placed, _Placed):
            _read_placed(placed, row_no, into, wanted_rows)
        else:  # not remembered, or a reference Excel never writes (read here, which refuses it)
            _read_row(row, row_no, into)


_OWN_ROW = -1  # a cell without a reference, placed on the row it is in


class _Placed(NamedTuple):
    """A remembered row's cells, placed: the rows their references name, and each cell's place, reference and
    element (a cell without a reference is on _OWN_ROW, the row's own)."""

    named: frozenset[int]
    cells: tuple[tuple[tuple[int, int], str, Element], ...]


def _place(row: Element) -> _Placed | bool:
    """A row's cells placed as _read_row places them, or False if a reference is not one Excel writes."""
    named: set[int] = set()
    cells: list[tuple[tuple[int, int], str, Element]] = []
    col_no = 0
    for c in row:
        if c.tag != _C:
            continue
        ref = c.get("r") or ""
        if ref:
            try:
                at = split_cell(ref)
            except ValueError:
                return False
            col_no = at[1] + 1
        else:
            col_no += 1
            at = (_OWN_ROW, col_no - 1)
        named.add(at[0])
        cells.append((at, ref, c))
    return _Placed(frozenset(named), tuple(cells))


def _read_placed(placed: _Placed, row_no: int, into: _Cells, wanted_rows: set[int] | None) -> None:
    """A remembered row's cells that are wanted; a row with no cell on a wanted row is passed over."""
    own = row_no - 1
    if wanted_rows is not None and not (placed.named & wanted_rows) and (
            _OWN_ROW not in placed.named or own not in wanted_rows):
        return
    cells, wanted = into.cells, into.wanted
    for at, ref, c in placed.cells:
        if at[0] == _OWN_ROW:
            at = (own, at[1])
        if wanted is not None and at not in wanted:
            continue
        cell = _cell(c, into.strings, into.member, ref or f"row {row_no}")
        if cell is None:
            cells.pop(at, None)  # a later copy of a cell replaces an earlier one, even when empty
        else:
            cells[at] = cell


def _read_row(row: Element, row_no: int, into: _Cells) -> None:
    # This loop places each of a row's cells: lookups only.
    cells, wanted = into.cells, into.wanted
    col_no = 0
    for c in row:
        if c.tag != _C:
            continue
        ref = c.get("r")
        if ref:
            try:
                at = split_cell(ref)
            except ValueError:
                raise _bad("cell reference", ref, into.member) from None
            col_no = at[1] + 1
        else:  # no reference: the next cell along the row, as Excel and openpyxl place it
            col_no += 1
            at = (row_no - 1, col_no - 1)
        if wanted is not None and at not in wanted:
            continue
        cell = _cell(c, into.strings, into.member, ref or f"row {row_no}")
        if cell is None:
            cells.pop(at, None)  # a later copy of a cell replaces an earlier one, even when empty
        else:
            cells[at] = cell


def _bad(what: str, text: str, member: str) -> UnreadableFileError:
    return UnreadableFileError.of(Code.CORRUPT, case="value", what=what, text=text, part=member)


@functools.lru_cache(maxsize=4096)
def _row_number(r: str) -> int:
    """A row's number from its r attribute as Excel and openpyxl read it, or 0 when it is not one."""
    if r.isdigit() and 1 <= int(r) <= _MAX_ROW:
        return int(r)
    try:
        number = float(r)
        if number.is_integer() and 1 <= number <= _MAX_ROW:
            return int(number)
    except ValueError:
        pass
    return 0


def _cell(c: Element, strings: _Strings, member: str, ref: str) -> RawCell | None:
    kind = c.get("t", "n")
    f = v = is_ = None
    for child in c:  # the first of each, as find() would give, without its path machinery
        tag = child.tag
        if tag == _V and v is None:
            v = child
        elif tag == _F and f is None:
            f = child
        elif tag == _IS and is_ is None:
            is_ = child
    formula = element_text(f) if f is not None else None
    value: str | float | bool | None = None
    if kind == "inlineStr":
        value = _text(is_) if is_ is not None else None
    elif v is not None:
        text = element_text(v)
        if text:
            value = _convert(kind, text, strings, member, ref)
    if value is None and formula is None:
        return None
    return RawCell(value, formula, kind)


def _convert(kind: str, text: str, strings: _Strings, member: str, ref: str) -> str | float | bool | None:
    try:
        if kind == "s":
            return strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind in ("str", "e", "d"):
            return text
        return float(text)
    except (ValueError, IndexError, OverflowError):
        raise UnreadableFileError.of(Code.CORRUPT, case="cell", cell=ref, part=member) from None


def _properties(parts: _Parts) -> dict[str, str]:
    member = "docProps/custom.xml"
    return custom_properties(parts.parse(member)) if member in parts else {}


def _rels(parts: _Parts) -> dict[str, str]:
    member = "xl/_rels/workbook.xml.rels"
    if member not in parts:
        raise UnreadableFileError.of(Code.CORRUPT, case="no-parts-list", part=member)
    root = parts.parse(member)
    out: dict[str, str] = {}
    for rel in root.iterfind("{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"):
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        out[rel.get("Id", "")] = resolved
    return out


def read_workbook(path: Path, limits: Limits = DEFAULT_LIMITS, *, skip: frozenset[str] = frozenset(),
                  whole: frozenset[str] = frozenset()) -> RawWorkbook:
    """Read a returned workbook's sheets, names and properties, or raise UnreadableFileError.

    Only the cells that defined names point at are read, except on the `whole` sheets (read entirely);
    names pointing into the `skip` sheets are not followed. Every part that could carry a formula is
    checked for active content, read or not.
    """
    label = name_key(path.name)
    zf = open_checked(path, limits)
    try:
        raw = _read(_Parts(zf, limits, label), path, skip, whole)
        raw.sha256, raw.read = _sha256(zf), zf.fingerprint
        return raw
    except UnreadableFileError as err:
        message = str(err) if str(err).startswith(f"{label}: ") else f"{label}: {err}"
        raise UnreadableFileError(message, code=err.code, read=zf.fingerprint) from None
    finally:
        zf.close()


def _sha256(zf: OwnedZip) -> str:
    """SHA-256 of the very bytes the zip was read from."""
    fp = zf.owned
    fp.seek(0)
    h = hashlib.sha256()
    for chunk in iter(lambda: fp.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


class _Name(NamedTuple):
    """A defined name as the reader takes it: its name ("" for a sheet's own), its text, and the cell it names."""

    name: str
    text: str
    place: tuple[str, tuple[int, int]] | None


def _defined_name(dn: Element, label: str) -> _Name:
    """A defined name, or the refusal of a workbook whose name reaches out."""
    text = element_text(dn)
    found = formula_problem(text)
    if found:
        raise refuse(label, f"{found} in the defined name {dn.get('name', '')}")
    name = dn.get("name", "") if dn.get("localSheetId") is None else ""
    ref = parse_ref(text)
    try:
        place = None if ref is None else (ref[0], split_cell(ref[1]))
    except ValueError:
        place = None  # a name past the sheet's edge points at no cell: validate reports it
    return _Name(name, text, place)


def _defined_names(root: Element, label: str) -> dict[str, _Name]:
    """The workbook's names (the last of each), each checked as it is read; a remembered one noted once (repeats.py)."""
    notes = NAMES.notes
    names: dict[str, _Name] = {}
    for dn in root.iterfind(f"{MAIN}definedNames/{MAIN}definedName"):
        note = notes.get(dn)
        if not isinstance(note, _Name):
            note = _defined_name(dn, label)
            if dn in notes:
                notes[dn] = note
        if note.name:
            names[note.name] = note
    return names


def _wanted_cells(names: dict[str, _Name], skip: frozenset[str]) -> dict[str, set[tuple[int, int]]]:
    wanted: dict[str, set[tuple[int, int]]] = {}
    for name in names.values():
        if name.place is not None and name.place[0] not in skip:
            wanted.setdefault(name.place[0], set()).add(name.place[1])
    return wanted


def _read(parts: _Parts, path: Path, skip: frozenset[str], whole: frozenset[str]) -> RawWorkbook:
    rels = _rels(parts)
    root = parts.parse("xl/workbook.xml", NAMES)
    pr = root.find(f"{MAIN}workbookPr")
    date1904 = pr is not None and _is_true(pr.get("date1904"))
    names = _defined_names(root, parts.label)
    wanted = _wanted_cells(names, skip)
    strings_target = next((t for t in rels.values() if t.lower().endswith("sharedstrings.xml")), None)
    strings = _shared_strings(parts, strings_target)
    states: dict[str, str] = {}
    sheets: dict[str, RawSheet] = {}
    for s in root.iterfind(f"{MAIN}sheets/{MAIN}sheet"):
        name, state = s.get("name", ""), s.get("state", "visible")
        states[name] = state
        member = rels.get(s.get(f"{{{_REL_NS}}}id", ""), "")
        if member not in parts:
            raise UnreadableFileError.of(Code.CORRUPT, case="sheet-missing", name=name)
        if name not in wanted and name not in whole:
            parts.look(member)
            continue
        cells = None if name in whole else wanted[name]
        sheets[name] = _read_sheet(parts, member, name, state, strings, cells)
    for other in formula_parts(parts.names.values(), rels.values()):
        parts.look(other)
    return RawWorkbook(
        path=path, sha256="", sheet_states=states, sheets=sheets, names={k: n.text for k, n in names.items()},
        properties=_properties(parts), date1904=date1904,
    )
