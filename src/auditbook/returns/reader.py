"""Open a returned workbook (after the safety checks) and read raw cells, names, sheets and properties.

This is a small direct reader of the workbook XML rather than openpyxl: a collection of a thousand
returns must read in seconds, and only a few hundred known cells of each are wanted. Every part is parsed
whole by a conforming XML parser (comments, processing instructions, CDATA, character references and
namespace prefixes are what the parser makes of them; a sheet's tail already parsed whole and judged in
another part is not parsed again: tails.py says why that is the same), elements are matched by their
SpreadsheetML namespace, and a cell's place is worked out as Excel does (from its reference, else from its
row and the cell before it). Parts are found through their relationships, by type (package.py). Where
programs would read the same bytes differently (two values in one cell, one name given twice, a number
`float()` reads and a spreadsheet does not), the file is refused rather than read one way. openpyxl stays
the reference reader in the tests, which check that both agree.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.etree.ElementTree import Element

from auditbook.errors import UnreadableFileError
from auditbook.fingerprint import Fingerprint
from auditbook.problems import Code
from auditbook.returns.active import check_tree, element_text, formula_parts, formula_problem, needs_look, refuse
from auditbook.returns.package import (
    CHARTSHEET,
    CUSTOM_PROPERTIES,
    OFFICE_DOCUMENT,
    SHARED_STRINGS,
    STYLES,
    WORKSHEET,
    Relationship,
    only,
    relationships,
    rels_part,
)
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
from auditbook.returns.styles import GENERAL, Styles, read_styles
from auditbook.returns.tails import parse_sheet
from auditbook.text import name_key

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: Bumped when a return is read otherwise (refused, read differently, warned of): a collect then reads every file
#: again rather than keep what an older reader made of it.
READING = "2"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL = re.compile(r"([A-Za-z]{1,3})([0-9]+)")  # ASCII digits only: int() also reads "\u0669" as 9
_REF = re.compile(r"(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]{1,3}\$?[0-9]+)")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_ROW, _C, _V, _F, _IS, _T, _R = (f"{MAIN}{t}" for t in ("row", "c", "v", "f", "is", "t", "r"))
_DEFINED_NAME = f"{MAIN}definedName"
_KINDS = frozenset({"n", "s", "str", "inlineStr", "b", "e", "d"})
#: A number as XML Schema writes a double (whitespace around it collapsed), which is what Excel and LibreOffice
#: read: float() would also take "1_6" (16, where they show 1), "inf", "nan" and digits of other scripts.
_NUMBER = re.compile(r"[ \t\r\n]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\r\n]*")
_INDEX = re.compile(r"[ \t\r\n]*[0-9]+[ \t\r\n]*")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Undo the _xHHHH_ escapes Excel and xlsxwriter write for control characters (and _x005F_ for "_")."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _text(el: Element) -> str | None:
    """All text of an <si> or <is> element: its plain text or its rich-text runs, phonetic runs skipped; None when it
    has two plain texts, or a plain text and runs (programs differ on what they show then)."""
    plain: list[str] = []
    runs: list[str] = []
    for child in el:
        if child.tag == _T:
            plain.append(child.text or "")
        elif child.tag == _R:
            texts = [t.text or "" for t in child if t.tag == _T]
            if len(texts) > 1:
                return None
            runs += texts
    if len(plain) > 1 or (plain and runs):
        return None
    return _unescape("".join(plain or runs))


@functools.lru_cache(maxsize=8192)
def split_cell(ref: str) -> tuple[int, int]:
    """0-based (row, col) of an A1 reference (lower case allowed, as Excel and openpyxl read it), or ValueError."""
    m = _CELL.fullmatch(ref)
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
    m = _REF.fullmatch(text.strip().lstrip("="))
    if not m:
        return None
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return sheet, m.group(3).replace("$", "")


class RawCell(NamedTuple):
    """A cell as stored: its cached value, the formula if any, the stored type and its format's index (a tuple: made
    by the hundred)."""

    value: str | float | bool | None
    formula: str | None = None
    kind: str = "n"
    style: int = 0


#: A rectangle of cells: first row, first column, last row, last column (0-based, inclusive).
Area = tuple[int, int, int, int]


@dataclass
class RawSheet:
    """One worksheet's state, protection and the non-empty cells read, with what decides how those cells show."""

    name: str
    state: str
    protected: bool
    cells: dict[tuple[int, int], RawCell] = field(default_factory=dict)
    #: Its merged areas (a merged area shows its first cell's content over the others).
    merges: tuple[Area, ...] = ()
    #: The number formats its conditional formats may give cells: each with the areas it covers.
    conditional: tuple[tuple[tuple[Area, ...], str], ...] = ()
    #: The rows read that are hidden (0-based), and the hidden columns' spans.
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: tuple[tuple[int, int], ...] = ()
    #: Reads one more cell from the same parse (a cell no name points at: what a merge or a moved name hides).
    more: Callable[[tuple[int, int]], RawCell | None] | None = field(default=None, repr=False, compare=False)

    def cell(self, ref: str) -> RawCell | None:
        """The cell at an A1 reference, or None when empty."""
        return self.cells.get(split_cell(ref))

    def fetch(self, place: tuple[int, int]) -> RawCell | None:
        """The cell at a place, read now if it was not read with the others (None when empty)."""
        if place in self.cells or self.more is None:
            return self.cells.get(place)
        return self.more(place)

    def hidden(self, place: tuple[int, int]) -> bool:
        """Whether a cell read is in a hidden row or column (Excel neither shows nor prints it)."""
        return place[0] in self.hidden_rows or any(lo <= place[1] <= hi for lo, hi in self.hidden_cols)

    def merged_under(self, place: tuple[int, int]) -> Area | None:
        """The merged area a cell is in but does not start (its content is not shown), else None."""
        row, col = place
        for area in self.merges:
            if area[0] <= row <= area[2] and area[1] <= col <= area[3] and (row, col) != area[:2]:
                return area
        return None

    def conditional_formats(self, place: tuple[int, int]) -> list[str]:
        """The number formats a conditional format may give a cell."""
        row, col = place
        return [code for areas, code in self.conditional
                if any(a[0] <= row <= a[2] and a[1] <= col <= a[3] for a in areas)]


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
    #: The number format of each cell format (a cell's style indexes it).
    formats: tuple[str, ...] = ()
    #: The bytes it was read from (their SHA-256, the file's size and time), in the one open of the file.
    read: Fingerprint | None = None

    @property
    def outline(self) -> Outline:
        """What the workbook says it is: its custom properties and its sheets' names."""
        return Outline(self.properties, frozenset(self.sheet_states))

    def number_format(self, cell: RawCell) -> str:
        """A cell's number format ("General" when its style names none)."""
        return self.formats[cell.style] if cell.style < len(self.formats) else GENERAL


class _Strings:
    """The shared strings, each turned into text only when a wanted cell uses it (most are labels)."""

    def __init__(self, items: list[Element]) -> None:
        self.items = items
        self.cache: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        found = self.cache.get(index)
        if found is not None:
            return found
        if not 0 <= index < len(self.items):
            raise IndexError(index)
        el = self.items[index]
        # A remembered text's element (repeats.py) reads the same in every file: its text is noted with it.
        text = STRINGS.notes.get(el)
        if not isinstance(text, str):
            text = _text(el)
            if text is None:
                raise _Twice(f"shared text {index}, which holds two texts")
            if el in STRINGS.notes:
                STRINGS.notes[el] = text
        self.cache[index] = text
        return text


_NO_STRINGS = _Strings([])  # for cells that show no shared text


class _Twice(ValueError):
    """A cell given two of something (values, formulas, texts): programs differ on which they show."""


class _Parts:
    """The zip's parts by name, looked up as the safety checks did: without regard to case (names are unique so)."""

    def __init__(self, zf: OwnedZip, limits: Limits, label: str) -> None:
        self.zf = zf
        self.limits = limits
        self.label = label
        self.names = {n.lower(): n for n in zf.namelist()}
        #: The package's relationships, as the safety checks read them.
        self.links = zf.links

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.names

    def read(self, name: str) -> bytes:
        actual = self.names.get(name.lower())
        if actual is None:
            raise UnreadableFileError.of(Code.CORRUPT, case="part-missing", part=name)
        return read_member(self.zf, actual, self.limits, file_name=self.label)

    def parse(self, name: str, repeats: Repeats | None = None, *, root: str | None = None) -> Element:
        """A part parsed whole, unchecked: it holds no formula, or the caller checks its formulas one by one.

        With `repeats`, its pieces met before are not parsed again (repeats.py); with `root`, a part whose root
        element is another is refused (a program reading it as what it is named for would not read it)."""
        data = self.read(name)
        tree = parse_part(data, name) if repeats is None else repeats.parse(data, name)
        if root is not None and tree.tag != f"{MAIN}{root}":
            raise UnreadableFileError.of(Code.CORRUPT, case="not-a-part", part=name, kind=root)
        return tree

    def rels(self, part: str, *, required: bool = False) -> Mapping[str, Relationship]:
        """A part's relationships ("" for the package's own), by id: as the safety checks read them."""
        member = rels_part(part)
        if member not in self:
            if required:
                raise UnreadableFileError.of(Code.CORRUPT, case="no-parts-list", part=member)
            return {}
        known = self.links.rels.get(member.lower())
        return known if known is not None else relationships(self.parse(member), part)

    def sheet(self, name: str) -> Element:
        """A worksheet parsed and checked as parse() does, without parsing again a tail judged before (tails.py)."""
        root = parse_sheet(self.read(name), name, functools.partial(check_tree, self.label, name))
        if root.tag != f"{MAIN}worksheet":
            raise UnreadableFileError.of(Code.CORRUPT, case="not-a-part", part=name, kind="worksheet")
        return root

    def look(self, name: str) -> None:
        """Check a part that is not otherwise read for active content (parsed only when its bytes could hold it)."""
        data = self.read(name)
        if needs_look(data):
            check_tree(self.label, name, parse_part(data, name))


def _shared_strings(parts: _Parts, target: str | None) -> _Strings:
    if target is None:
        return _Strings([])
    if target not in parts:
        raise UnreadableFileError.of(Code.CORRUPT, case="part-missing", part=target)
    # Shared strings are text, not formulas: nothing in them runs.
    root = parts.parse(target, STRINGS, root="sst")
    return _Strings(root.findall(f"{MAIN}si"))


def _styles(parts: _Parts, target: str | None) -> Styles:
    if target is None:
        return Styles()
    return read_styles(parts.read(target), target)


def _is_true(value: str | None) -> bool:
    return (value or "").strip() in ("1", "true")


class _Sheet(NamedTuple):
    """A sheet of the workbook: its part, name and state, whether it is a chart sheet (no cells), and the cells
    wanted of it (None: all)."""

    member: str
    name: str
    state: str
    chart: bool = False
    wanted: set[tuple[int, int]] | None = None


def _read_sheet(parts: _Parts, sheet: _Sheet, strings: _Strings, styles: Styles) -> RawSheet:
    """A worksheet's cells wanted and what decides how they show, from the root's children of the kinds tails.READ
    names (and no others: tails keeps those of a middle it does not parse again)."""
    kinds = _kinds(parts.sheet(sheet.member))
    protection = _first(kinds, "sheetProtection")
    out = RawSheet(name=sheet.name, state=sheet.state,
                   protected=protection is not None and _is_true(protection.get("sheet")))
    if len(kinds.get(f"{MAIN}sheetData", ())) > 1:
        raise _given_twice(sheet.member, "<sheetData>")
    data = _first(kinds, "sheetData")
    if data is not None:
        zero = _first(kinds, "sheetFormatPr")
        into = _Cells(out.cells, strings, sheet.member, sheet.wanted, set(), out.hidden_rows,
                      zero is not None and _is_true(zero.get("zeroHeight")))
        _read_rows(data, into)
        out.more = functools.partial(_more, data, into)
    out.merges = _areas(" ".join(m.get("ref", "") for m in _within(kinds, "mergeCells", f"{MAIN}mergeCell")),
                        sheet.member)
    out.hidden_cols = _hidden_cols(_within(kinds, "cols", f"{MAIN}col"))
    out.conditional = _conditional(kinds, styles, sheet.member)
    return out


def _kinds(root: Element) -> dict[str, list[Element]]:
    """The root's children by tag, each kind in order (one walk, where a search per kind walks them all again)."""
    kinds: dict[str, list[Element]] = {}
    for el in root:
        kinds.setdefault(el.tag, []).append(el)
    return kinds


def _first(kinds: dict[str, list[Element]], tag: str) -> Element | None:
    """The first of the root's children of a kind (in the main namespace), as root.find gives it."""
    found = kinds.get(f"{MAIN}{tag}")
    return found[0] if found else None


def _within(kinds: dict[str, list[Element]], tag: str, child: str) -> list[Element]:
    """The children of a kind of each of the root's children of a kind, in order, as root.iterfind("a/b") gives them."""
    return [el for parent in kinds.get(f"{MAIN}{tag}", ()) for el in parent if el.tag == child]


def _one(root: Element, tag: str, member: str) -> Element | None:
    """The one child of a kind a part has at most one of; two are refused (programs read one, or both)."""
    found = root.findall(f"{MAIN}{tag}")
    if len(found) > 1:
        raise _given_twice(member, f"<{tag}>")
    return found[0] if found else None


def _more(data: Element, into: _Cells, place: tuple[int, int]) -> RawCell | None:
    """One more cell of a sheet read before (its sheet data kept for this)."""
    cells: dict[tuple[int, int], RawCell] = {}
    _read_rows(data, into._replace(cells=cells, wanted={place}, seen=set(), hidden=set()))
    return cells.get(place)


def _areas(refs: str, member: str) -> tuple[Area, ...]:
    """The areas of a list of references such as "A1:D1 C9" (merged cells, a conditional format's cells).

    Remembered when short: every return of a template has the same merges and conditional formats on each sheet
    (a long list, which no template has, is not kept)."""
    return _known_areas(refs, member) if len(refs) <= 4096 else _read_areas(refs, member)


def _read_areas(refs: str, member: str) -> tuple[Area, ...]:
    out = []
    for ref in refs.split():
        first, _, last = ref.partition(":")
        try:
            (r0, c0), (r1, c1) = split_cell(first.replace("$", "")), split_cell((last or first).replace("$", ""))
        except ValueError:
            raise _bad("cell range", ref, member) from None
        out.append((min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)))
    return tuple(out)


_known_areas = functools.lru_cache(maxsize=1024)(_read_areas)


def _hidden_cols(cols: list[Element]) -> tuple[tuple[int, int], ...]:
    """The spans of hidden columns (hidden, or no wider than nothing), 0-based."""
    spans = []
    for col in cols:
        width = col.get("width")
        if _is_true(col.get("hidden")) or (width is not None and _zero(width)):
            lo, hi = _row_number(col.get("min", "")), _row_number(col.get("max", ""))
            if lo and hi:
                spans.append((lo - 1, hi - 1))
    return tuple(spans)


def _zero(text: str) -> bool:
    try:
        return float(text) <= 0
    except ValueError:
        return False


_X14 = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}"
#: What a data bar or icon set that hides the value (showValue="0") shows of a number: nothing; of text: the text.
ICONS_ONLY = ";;;@"
_XM = "{http://schemas.microsoft.com/office/excel/2006/main}"
_CF_RULE, _X14_FORMATS, _X14_FORMAT = f"{MAIN}cfRule", f"{_X14}conditionalFormattings", f"{_X14}conditionalFormatting"


def _conditional(kinds: dict[str, list[Element]], styles: Styles, member: str
                 ) -> tuple[tuple[tuple[Area, ...], str], ...]:
    """The number formats conditional formats may give cells (Excel 2007's, and Excel 2010's in extLst)."""
    out: list[tuple[tuple[Area, ...], str]] = []
    for cf in kinds.get(f"{MAIN}conditionalFormatting", ()):
        codes = [code for rule in cf if rule.tag == _CF_RULE and (code := _rule_format(rule, styles))]
        if codes:
            areas = _areas(cf.get("sqref", ""), member)
            out += [(areas, code) for code in codes]
    for cf in (el for ext in _within(kinds, "extLst", f"{MAIN}ext") for cfs in ext if cfs.tag == _X14_FORMATS
               for el in cfs if el.tag == _X14_FORMAT):
        sqref = cf.find(f"{_XM}sqref")
        areas = _areas(sqref.text or "" if sqref is not None else "", member)
        out += [(areas, fmt.get("formatCode", "")) for fmt in cf.iter(f"{MAIN}numFmt")]
    return tuple(out)


def _rule_format(rule: Element, styles: Styles) -> str:
    """The number format a conditional format's rule may give a cell: its style's, or one that shows no number
    (ICONS_ONLY) for a data bar or icon set that hides the value; "" when it gives none."""
    kind = rule.get("type")
    if kind in ("dataBar", "iconSet") and any(_is_false(el.get("showValue")) for el in rule.iter(f"{MAIN}{kind}")):
        return ICONS_ONLY
    dxf = rule.get("dxfId", "") if styles.conditional else ""
    return styles.conditional.get(int(dxf), "") if dxf.isascii() and dxf.isdigit() else ""


def _is_false(value: str | None) -> bool:
    return (value or "").strip() in ("0", "false")


class _Cells(NamedTuple):
    """Where one sheet's cells go, which are wanted (None: all), those met so far, and the hidden rows met."""

    cells: dict[tuple[int, int], RawCell]
    strings: _Strings
    member: str
    wanted: set[tuple[int, int]] | None
    seen: set[tuple[int, int]]
    hidden: set[int]
    #: Rows are hidden unless they say otherwise (sheetFormatPr zeroHeight).
    zero: bool = False


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
    element (a cell without a reference is on _OWN_ROW, the row's own); whether the row is hidden; and what its
    cells read as, once read (by element): the same bytes read the same, whichever file they are met in."""

    named: frozenset[int]
    cells: tuple[tuple[tuple[int, int], str, Element], ...]
    hidden: bool | None
    read: dict[Element, RawCell | _Stored | None]


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
    return _Placed(frozenset(named), tuple(cells), _row_hidden(row), {})


def _row_hidden(row: Element) -> bool | None:
    """Whether a row is hidden (True), shown (False), or as the sheet's rows are unless they say (None)."""
    if _is_true(row.get("hidden")):
        return True
    height = row.get("ht")
    if height is not None and _is_true(row.get("customHeight")):
        return _zero(height)
    return None


def _take(into: _Cells, at: tuple[int, int], c: Element, ref: str, hidden: bool | None,
          read: dict[Element, RawCell | _Stored | None] | None = None) -> None:
    """A wanted cell, placed: read once (a place given two cells is refused), its row noted if hidden. With `read`
    (a remembered row's), what the cell's element read as before is taken again (a shared text's from this file)."""
    if at in into.seen:
        raise _twice(into.member, ref, "twice (two cells at one place)")
    into.seen.add(at)
    if hidden or (hidden is None and into.zero):
        into.hidden.add(at[0])
    if read is None:
        cell = _cell(c, into.strings, into.member, ref)
    else:
        known = read.get(c, _UNREAD)
        if known is _UNREAD:
            known = read[c] = _stored(c, into.member, ref)
        cell = _shared(known, into.strings, into.member, ref) if isinstance(known, _Stored) else known
    if cell is not None:
        into.cells[at] = cell


def _read_placed(placed: _Placed, row_no: int, into: _Cells, wanted_rows: set[int] | None) -> None:
    """A remembered row's cells that are wanted; a row with no cell on a wanted row is passed over."""
    own = row_no - 1
    if wanted_rows is not None and placed.named.isdisjoint(wanted_rows) and (
            _OWN_ROW not in placed.named or own not in wanted_rows):
        return
    wanted = into.wanted
    for at, ref, c in placed.cells:
        if at[0] == _OWN_ROW:
            at = (own, at[1])
        if wanted is not None and at not in wanted:
            continue
        _take(into, at, c, ref or f"row {row_no}", placed.hidden, placed.read)


def _read_row(row: Element, row_no: int, into: _Cells) -> None:
    # This loop places each of a row's cells: lookups only.
    wanted = into.wanted
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
        _take(into, at, c, ref or f"row {row_no}", _row_hidden(row))


def _bad(what: str, text: str, member: str) -> UnreadableFileError:
    return UnreadableFileError.of(Code.CORRUPT, case="value", what=what, text=text[:40], part=member)


def _given_twice(member: str, what: str) -> UnreadableFileError:
    return UnreadableFileError.of(Code.CORRUPT, case="twice", part=member, what=what)


def _twice(member: str, ref: str, what: str) -> UnreadableFileError:
    return UnreadableFileError.of(Code.CORRUPT, case="cell-twice", cell=ref, part=member, what=what)


@functools.lru_cache(maxsize=4096)
def _row_number(r: str) -> int:
    """A row's (or column's) number from its attribute, or 0 when it is not one: ASCII digits only, as Excel
    writes it (LibreOffice reads "1_0", "1e1" and "9.5" as 1, 1 and 9, where int() and float() read 10, 10, 9.5)."""
    if r.isascii() and r.isdigit() and 1 <= int(r) <= _MAX_ROW:
        return int(r)
    return 0


class _Stored(NamedTuple):
    """A cell that shows a shared text, as read from its element: its value (the text's index), formula and format,
    with the index and format as numbers when they are ones the reader takes (-1 when not: _shared refuses them)."""

    value: str
    formula: str | None
    style: str | None
    text_no: int
    style_no: int


#: What a remembered cell read as, not yet read (None is a cell that reads as empty): told apart by identity.
_UNREAD = RawCell(None, "unread")


def _stored(c: Element, member: str, ref: str) -> RawCell | _Stored | None:
    """What a cell's element reads as, whatever file it is in: the cell, or for a shared text what the file's own
    table is needed for. Refused as _cell refuses it, in the same order (_shared does the rest)."""
    if c.get("t") != "s":
        return _cell(c, _NO_STRINGS, member, ref)
    f, v, _ = _parts_of(c, member, ref)
    formula = element_text(f) if f is not None else None
    text = element_text(v) if v is not None else ""
    s = c.get("s")
    if text:
        # Short digits only (int() refuses more than 4,300 digits): anything else takes _shared's slower way.
        fmt = 0 if s is None else int(s) if len(s) <= 18 and s.isascii() and s.isdigit() else -1
        return _Stored(text, formula, s, int(text) if len(text) <= 18 and _INDEX.fullmatch(text) else -1, fmt)
    return None if formula is None else RawCell(None, formula, "s", 0 if s is None else _style(s, member))


def _shared(stored: _Stored, strings: _Strings, member: str, ref: str) -> RawCell:
    """A stored shared-text cell with its text from this file's table (refused as _cell refuses it)."""
    if stored.text_no >= 0 and stored.style_no >= 0:
        try:
            return RawCell(strings[stored.text_no], stored.formula, "s", stored.style_no)
        except (_Twice, IndexError):
            pass  # refused below, as _convert refuses it
    value = _convert("s", stored.value, strings, member, ref)
    return RawCell(value, stored.formula, "s", 0 if stored.style is None else _style(stored.style, member))


def _cell(c: Element, strings: _Strings, member: str, ref: str) -> RawCell | None:
    kind = c.get("t", "n")
    if kind not in _KINDS:
        raise _bad("cell type", kind, member)
    f, v, is_ = _parts_of(c, member, ref)
    formula = element_text(f) if f is not None else None
    value: str | float | bool | None = None
    if kind == "inlineStr":
        value = _text(is_) if is_ is not None else None
        if is_ is not None and value is None:
            raise _twice(member, ref, "an inline text that holds two texts")
    elif v is not None:
        text = element_text(v)
        if text:
            value = _convert(kind, text, strings, member, ref)
    if value is None and formula is None:
        return None
    s = c.get("s")
    return RawCell(value, formula, kind, 0 if s is None else _style(s, member))


def _parts_of(c: Element, member: str, ref: str) -> tuple[Element | None, Element | None, Element | None]:
    """A cell's formula, value and inline text; two of one are refused (Excel reads the first, LibreOffice and
    Gnumeric the last)."""
    f = v = is_ = None
    for child in c:
        tag = child.tag
        if tag == _V:
            if v is not None:
                raise _twice(member, ref, "two values")
            v = child
        elif tag == _F:
            if f is not None:
                raise _twice(member, ref, "two formulas")
            f = child
        elif tag == _IS:
            if is_ is not None:
                raise _twice(member, ref, "two texts")
            is_ = child
    return f, v, is_


@functools.lru_cache(maxsize=1024)
def _style(s: str, member: str) -> int:
    if not (s.isascii() and s.isdigit()):
        raise _bad("cell format", s, member)
    return int(s)


def _convert(kind: str, text: str, strings: _Strings, member: str, ref: str) -> str | float | bool | None:
    try:
        if kind == "s":
            if not _INDEX.fullmatch(text):
                raise ValueError(text)
            return strings[int(text)]
        if kind == "b":
            return {"0": False, "1": True, "false": False, "true": True}[text.strip()]
        if kind in ("str", "e", "d"):
            return text
        number = float(text) if _NUMBER.fullmatch(text) else math.inf
        if not math.isfinite(number):
            raise UnreadableFileError.of(Code.CORRUPT, case="number", cell=ref, part=member, text=text.strip()[:20])
        return number
    except _Twice as twice:
        raise _twice(member, ref, str(twice)) from None
    except (ValueError, IndexError, KeyError):
        raise UnreadableFileError.of(Code.CORRUPT, case="cell", cell=ref, part=member) from None


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
        # open_checked hashed the very bytes it read whole (a file it does not read whole it refuses).
        raw.read = zf.fingerprint
        raw.sha256 = raw.read.sha256 if raw.read is not None else _sha256(zf)
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
    #: How Excel tells names apart: without regard to case.
    key: str


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
    return _Name(name, text, place, name.casefold())


def _defined_names(parent: Element | None, label: str, member: str, skip: frozenset[str]
                   ) -> tuple[dict[str, str], dict[str, set[tuple[int, int]]]]:
    """The workbook's names (the children of its one <definedNames>, `parent`) and their texts, each checked as it is
    read (a remembered one noted once: repeats.py), and the cells they point at by sheet, but for those in the `skip`
    sheets. A name given twice (Excel's names are the same whatever their case) is refused: programs differ on which
    they take."""
    notes = NAMES.notes
    names: dict[str, str] = {}
    keys: set[str] = set()
    wanted: dict[str, set[tuple[int, int]]] = {}
    # The children walked directly (a path search runs two generators per name); _read refuses a second parent.
    for dn in () if parent is None else parent:
        if dn.tag != _DEFINED_NAME:
            continue
        note = notes.get(dn)
        if not isinstance(note, _Name):
            note = _defined_name(dn, label)
            if dn in notes:
                notes[dn] = note
        if note.name:
            if note.key in keys:
                raise _given_twice(member, f"the defined name {note.name[:40]}")
            keys.add(note.key)
            names[note.name] = note.text
            if note.place is not None and note.place[0] not in skip:
                wanted.setdefault(note.place[0], set()).add(note.place[1])
    return names, wanted


def _read(parts: _Parts, path: Path, skip: frozenset[str], whole: frozenset[str]) -> RawWorkbook:
    package = parts.rels("", required=True)
    book = only(package, OFFICE_DOCUMENT, "")
    if book is None or book not in parts:
        raise UnreadableFileError.of(Code.CORRUPT, case="no-workbook")
    rels = parts.rels(book, required=True)
    root = parts.parse(book, NAMES, root="workbook")
    pr = _one(root, "workbookPr", book)
    defined = _one(root, "definedNames", book)
    date1904 = pr is not None and _is_true(pr.get("date1904"))
    names, wanted = _defined_names(defined, parts.label, book, skip)
    strings_part, styles_part = only(rels, SHARED_STRINGS, book), only(rels, STYLES, book)
    strings = _shared_strings(parts, strings_part)
    styles = _styles(parts, styles_part)
    states: dict[str, str] = {}
    sheets: dict[str, RawSheet] = {}
    # The parts read (their formulas judged, or holding none) or looked at already: the rest is looked at below.
    done = {book, *(p for p in (strings_part, styles_part) if p is not None)}
    for sheet in _sheet_list(root, rels, parts, book):
        states[sheet.name] = sheet.state
        done.add(sheet.member)
        if sheet.chart or (sheet.name not in wanted and sheet.name not in whole):
            parts.look(sheet.member)  # a chart sheet, or a sheet no name points into
            continue
        cells = None if sheet.name in whole else wanted[sheet.name]
        sheets[sheet.name] = _read_sheet(parts, sheet._replace(wanted=cells), strings, styles)
    for other in formula_parts(parts.names.values(), done, parts.links.targets):
        parts.look(other)
    custom = only(package, CUSTOM_PROPERTIES, "")
    return RawWorkbook(
        path=path, sha256="", sheet_states=states, sheets=sheets, names=names,
        properties=custom_properties(parts.parse(custom)) if custom is not None and custom in parts else {},
        date1904=date1904, formats=styles.formats,
    )


def _sheet_list(root: Element, rels: Mapping[str, Relationship], parts: _Parts, book: str) -> list[_Sheet]:
    """The workbook's sheets, each through its relationship: a sheet whose
    relationship names no worksheet or chart sheet in the file, and two sheets of one name (Excel's sheet names
    are the same whatever their case), are refused."""
    out: list[_Sheet] = []
    seen: set[str] = set()
    for s in root.iterfind(f"{MAIN}sheets/{MAIN}sheet"):
        name, state = s.get("name", ""), s.get("state", "visible")
        if name.casefold() in seen:
            raise UnreadableFileError.of(Code.CORRUPT, case="sheet-twice", name=name)
        seen.add(name.casefold())
        rel = rels.get(s.get(f"{{{_REL_NS}}}id", ""))
        if rel is None or rel.type not in (WORKSHEET, CHARTSHEET) or rel.target is None or rel.target not in parts:
            raise UnreadableFileError.of(Code.CORRUPT, case="sheet-missing", name=name)
        out.append(_Sheet(rel.target, name, state, chart=rel.type == CHARTSHEET))
    _one(root, "sheets", book)
    return out
