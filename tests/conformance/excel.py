"""What Excel asks of a workbook beyond the schemas: its limits and the rules that make it repair a file.

From Microsoft's "Excel specifications and limits", its rules for names and [MS-OI29500] (Office's
implementation notes on ISO/IEC 29500; the section of each is named where it is checked): a formula of at most
8,192 characters and 64 levels of nested functions; a list validation of at most 255 characters; a sheet name of
1 to 31 characters without : \\ / ? * [ ], not starting or ending with an apostrophe, not "History", once in the
workbook whatever its case; defined names and Table names that start with a letter, underscore or backslash, hold
letters, digits, underscores and full stops, are no cell reference, at most 255 characters and unique in their
scope; a Table whose header cells hold its columns' names; rows, and cells in a row, in ascending order within
the sheet's 1,048,576 rows and 16,384 columns; the lengths Excel allows a validation's messages, a page header
or footer and a font's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

from auditbook.spec.layout import col_letter
from tests.conformance.package import RELS, target_part

SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE_DOCUMENT = f"{R}/officeDocument"
FORMULA_CHARS, NESTING, LIST_CHARS, SHEET_NAME_CHARS, NAME_CHARS = 8192, 64, 255, 31, 255
MAX_ROW, MAX_COL = 1_048_576, 16_384
#: The longest text Excel takes in a data validation's attributes (MS-OI29500 2.1.613), and its most ranges.
VALIDATION_TEXT = {"prompt": 255, "error": 224, "promptTitle": 32, "errorTitle": 32}
MAX_SQREF = 32767
#: A validation's formula: Excel's dialog takes 255 characters, and other writers (DevExpress, Syncfusion) refuse
#: longer ones as Excel would not open them.
VALIDATION_FORMULA_CHARS = 255
#: A page header or footer: at most 255 characters (MS-OI29500 2.1.633 and its siblings).
HEADERS_FOOTERS = ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter")
HEADER_CHARS = 255
#: A sheet's id (MS-OI29500 2.1.578) and a font's name (2.1.711).
SHEET_IDS, FONT_NAME_CHARS = range(1, 65535), 31
_CELL = re.compile(r"([A-Z]{1,3})([0-9]+)")
_XSTRING = re.compile(r"_x([0-9A-Fa-f]{4})_")
#: Names Excel defines itself (after _xlnm.).
_BUILT_IN = {"print_area", "print_titles", "_filterdatabase", "criteria", "extract", "consolidate_area",
             "database", "sheet_title", "auto_open", "auto_close", "auto_activate", "auto_deactivate"}
_SHEET_NAME_BAD = set(":\\/?*[]")


def _q(local: str) -> str:
    return f"{{{SML}}}{local}"


def chars(text: str) -> int:
    """Text's length as Excel counts it: in UTF-16 code units (a character beyond the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Sheet:
    """A worksheet of the workbook: its name, part and parsed XML."""

    name: str
    part: str
    root: etree._Element | None
    tables: list[str] = field(default_factory=list)


@dataclass
class Book:
    """The parts of a workbook the rules look at, found through its relationships."""

    part: str
    root: etree._Element
    sheets: list[Sheet]
    strings: list[str]
    styles: etree._Element | None


def _rels(parts: Mapping[str, etree._Element], source: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, target part)."""
    folder, name = source.rpartition("/")[0], source.rpartition("/")[2]
    root = parts.get(f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels")
    if root is None:
        return {}
    return {rel.get("Id", ""): (rel.get("Type", ""), target_part(source, rel.get("Target", "")))
            for rel in root.iter(f"{{{RELS}}}Relationship") if rel.get("TargetMode") != "External"}


def _text(el: etree._Element) -> str:
    """The text of a string item (si, is): its t, or its runs' t joined (phonetic runs are not shown)."""
    direct = el.find(_q("t"))
    if direct is not None:
        return direct.text or ""
    return "".join(run.findtext(_q("t")) or "" for run in el.iterfind(_q("r")))


def read_book(parts: Mapping[str, etree._Element]) -> Book | None:
    """The workbook the package's officeDocument relationship names (None when there is none)."""
    main = next((target for kind, target in _rels(parts, "").values() if kind == _OFFICE_DOCUMENT), None)
    if main is None or main not in parts:
        return None
    rels = _rels(parts, main)
    strings = next((parts[t] for kind, t in rels.values() if kind.endswith("/sharedStrings") and t in parts), None)
    styles = next((parts[t] for kind, t in rels.values() if kind.endswith("/styles") and t in parts), None)
    sheets = []
    for el in parts[main].iter(_q("sheet")):
        target = rels.get(el.get(f"{{{R}}}id", ""), ("", ""))[1]
        sheet = Sheet(el.get("name", ""), target, parts.get(target))
        if sheet.root is not None:
            sheet_rels = _rels(parts, target)
            sheet.tables = [sheet_rels[t.get(f"{{{R}}}id", "")][1] for t in sheet.root.iter(_q("tablePart"))
                            if t.get(f"{{{R}}}id", "") in sheet_rels]
        sheets.append(sheet)
    texts = [] if strings is None else [_text(si) for si in strings.iter(_q("si"))]
    return Book(main, parts[main], sheets, texts, styles)


def excel_problems(parts: Mapping[str, etree._Element]) -> list[str]:
    """Everything in the workbook beyond Excel's limits or its rules (see the module's docstring)."""
    book = read_book(parts)
    if book is None:
        return ["the package names no workbook (no officeDocument relationship to a part it holds)"]
    problems = sheet_name_problems(book)
    problems += defined_name_problems(book)
    for sheet in book.sheets:
        if sheet.root is not None:
            problems += order_problems(sheet)
            problems += sheet_formula_problems(sheet)
    problems += table_problems(book, parts)
    for font in () if book.styles is None else book.styles.iter(_q("name")):
        if not 1 <= chars(font.get("val", "")) <= FONT_NAME_CHARS:
            problems.append(f"styles: the font name {font.get('val')!r} has {chars(font.get('val', ''))} characters "
                            f"(1 to {FONT_NAME_CHARS}: MS-OI29500 2.1.711)")
    return problems


# -- names ---------------------------------------------------------------------------------------------------


def sheet_name_problems(book: Book) -> list[str]:
    """Sheet names Excel would not accept, or accepts only once."""
    problems: list[str] = []
    seen: set[str] = set()
    for sheet in book.sheets:
        name = sheet.name
        if not 1 <= chars(name) <= SHEET_NAME_CHARS:
            problems.append(f"{book.part}: sheet name {name!r} has {chars(name)} characters (1 to 31)")
        if _SHEET_NAME_BAD & set(name) or name.startswith("'") or name.endswith("'"):
            problems.append(f"{book.part}: sheet name {name!r} holds a character Excel does not allow there")
        if name.casefold() == "history":
            problems.append(f"{book.part}: sheet name {name!r} is reserved by Excel")
        if name.casefold() in seen:
            problems.append(f"{book.part}: sheet name {name!r} is used twice (Excel ignores case)")
        seen.add(name.casefold())
    for el in book.root.iter(_q("sheet")):
        if not el.get("sheetId", "").isdigit() or int(el.get("sheetId", "")) not in SHEET_IDS:
            problems.append(f"{book.part}: sheet {el.get('name')!r} has the id {el.get('sheetId')!r} (1 to 65534)")
    return problems


def _cell(ref: str) -> tuple[int, int] | None:
    """(column, row) of an A1 reference, both from 1 (None when it is not one, or lies outside the sheet)."""
    found = _CELL.fullmatch(ref.replace("$", ""))
    if found is None:
        return None
    col = 0
    for letter in found.group(1):
        col = col * 26 + ord(letter) - 64
    row = int(found.group(2))
    return (col, row) if 1 <= col <= MAX_COL and 1 <= row <= MAX_ROW else None


def name_problem(name: str) -> str | None:
    """Why Excel would not take `name` as a defined name or Table name (None when it would)."""
    if name.startswith("_xlnm."):
        return None if name[6:].lower() in _BUILT_IN else "is not a name Excel defines itself"
    if not 1 <= chars(name) <= NAME_CHARS:
        return f"has {chars(name)} characters (1 to 255)"
    if not (name[0].isalpha() or name[0] in "_\\"):
        return "does not start with a letter, underscore or backslash"
    if any(not (c.isalnum() or c in "_.\\") for c in name[1:]):
        return "holds a character other than letters, digits, underscores, full stops and backslashes"
    if _cell(name.upper()) is not None or re.fullmatch(r"[RC]|R[0-9]*C[0-9]*|R[0-9]+|C[0-9]+", name.upper()):
        return "is a cell reference"
    return None


def defined_name_problems(book: Book) -> list[str]:
    """Defined names that break Excel's rules, are used twice in one scope, or hold a formula past its limits."""
    problems: list[str] = []
    seen: set[tuple[str, str | None]] = set()
    for el in book.root.iter(_q("definedName")):
        name, scope = el.get("name", ""), el.get("localSheetId")
        why = name_problem(name)
        if why:
            problems.append(f"{book.part}: the defined name {name!r} {why}")
        if scope is not None and not (scope.isdigit() and int(scope) < len(book.sheets)):
            problems.append(f"{book.part}: the defined name {name!r} belongs to sheet {scope}, which is not there")
        if (name.casefold(), scope) in seen:
            problems.append(f"{book.part}: the defined name {name!r} is defined twice in one scope")
        seen.add((name.casefold(), scope))
        problems += formula_problems(f"{book.part}: the defined name {name!r}", el.text or "")
    return problems


# -- formulas ------------------------------------------------------------------------------------------------


def _after_quoted(formula: str, at: int) -> int:
    """Where the text, quoted sheet name or bracketed reference that starts at `at` ends: a doubled quote is part
    of the text, and brackets nest (Table1[[#Headers],[Case]])."""
    ch = formula[at]
    if ch == "[":
        depth = 0
        for end in range(at, len(formula)):
            depth += (formula[end] == "[") - (formula[end] == "]")
            if depth == 0:
                return end + 1
        return len(formula)
    end = at + 1
    while end < len(formula):
        if formula[end] == ch:
            if not formula.startswith(ch, end + 1):
                return end + 1
            end += 1
        end += 1
    return len(formula)


def nesting(formula: str) -> int:
    """How deep functions nest in `formula`: a function call is one level; a bracket that only groups is none."""
    depth = deepest = at = 0
    calls: list[bool] = []
    while at < len(formula):
        ch = formula[at]
        if ch in "\"'[":
            at = _after_quoted(formula, at)
            continue
        if ch == "(":
            # A function's name ends right before its bracket; a grouping bracket follows an operator or another.
            call = at > 0 and (formula[at - 1].isalnum() or formula[at - 1] in "_.")
            calls.append(call)
            depth += call
            deepest = max(deepest, depth)
        elif ch == ")" and calls:
            depth -= calls.pop()
        at += 1
    return deepest


def formula_problems(where: str, formula: str) -> list[str]:
    """A formula longer than Excel takes (as stored: MS-OI29500 2.1.1085, ST_Formula) or nested deeper."""
    problems = []
    if chars(formula) > FORMULA_CHARS:
        problems.append(f"{where}: a formula of {chars(formula)} characters (Excel takes {FORMULA_CHARS})")
    depth = nesting(formula)
    if depth > NESTING:
        problems.append(f"{where}: functions nested {depth} levels deep (Excel takes {NESTING})")
    return problems


def _list_problem(where: str, validation: etree._Element) -> list[str]:
    """A list validation whose items are written out, longer than Excel's 255 characters."""
    formula = validation.findtext(_q("formula1")) or ""
    if validation.get("type") != "list" or not formula.startswith('"'):
        return []
    items = formula[1:-1].replace('""', '"')
    return [] if chars(items) <= LIST_CHARS else [
        f"{where}: a list validation of {chars(items)} characters (Excel takes {LIST_CHARS})"]


def sheet_formula_problems(sheet: Sheet) -> list[str]:
    """The sheet's cell, validation and conditional-format formulas, and its headers, against Excel's limits."""
    assert sheet.root is not None
    problems: list[str] = []
    for cell in sheet.root.iter(_q("c")):
        for f in cell.iter(_q("f")):
            problems += formula_problems(f"{sheet.part} {cell.get('r')}", f.text or "")
    for validation in sheet.root.iter(_q("dataValidation")):
        problems += validation_problems(f"{sheet.part} validation of {validation.get('sqref')}", validation)
    for rule in sheet.root.iter(_q("cfRule")):
        for f in rule.iter(_q("formula")):
            where = f"{sheet.part} conditional format of {rule.getparent().get('sqref')}"
            problems += formula_problems(where, f.text or "")
    for header in sheet.root.iter(*(_q(name) for name in HEADERS_FOOTERS)):
        if chars(header.text or "") > HEADER_CHARS:
            problems.append(f"{sheet.part}: {etree.QName(header).localname} of {chars(header.text or '')} characters "
                            f"(Excel takes {HEADER_CHARS}: MS-OI29500 2.1.633)")
    return problems


def validation_problems(where: str, validation: etree._Element) -> list[str]:
    """A data validation's list, formulas, messages and ranges against Excel's limits."""
    problems = _list_problem(where, validation) + _lengths(where, validation, VALIDATION_TEXT)
    ranges = len((validation.get("sqref") or "").split())
    if not 1 <= ranges <= MAX_SQREF:
        problems.append(f"{where}: {ranges} ranges (1 to {MAX_SQREF})")
    for f in (*validation.iter(_q("formula1")), *validation.iter(_q("formula2"))):
        text = f.text or ""
        # A list's items written out are measured without their quotes (_list_problem).
        if chars(text) > VALIDATION_FORMULA_CHARS and not text.startswith('"'):
            problems.append(f"{where}: a validation formula of {chars(text)} characters (Excel takes "
                            f"{VALIDATION_FORMULA_CHARS})")
        problems += formula_problems(where, text)
    return problems


def _lengths(where: str, el: etree._Element, limits: Mapping[str, int]) -> list[str]:
    """Attributes of `el` longer than Excel takes them."""
    return [f"{where}: {name} of {chars(el.get(name, ''))} characters (Excel takes {most}: MS-OI29500 2.1.613)"
            for name, most in limits.items() if chars(el.get(name, "")) > most]


# -- rows and cells ------------------------------------------------------------------------------------------


def order_problems(sheet: Sheet) -> list[str]:
    """Rows out of order, and cells out of order or outside their row (Excel repairs the sheet)."""
    assert sheet.root is not None
    problems: list[str] = []
    last_row = 0
    for row in sheet.root.iter(_q("row")):
        r = int(row.get("r") or last_row + 1)
        if r <= last_row:
            problems.append(f"{sheet.part}: row {r} comes after row {last_row}")
        if r > MAX_ROW:
            problems.append(f"{sheet.part}: row {r} is below the last row of a sheet ({MAX_ROW})")
        last_row, last_col = max(last_row, r), 0
        for cell in row.iter(_q("c")):
            ref = cell.get("r")
            place = _cell(ref) if ref else (last_col + 1, r)
            if place is None or place[1] != r:
                problems.append(f"{sheet.part}: cell {ref} is in row {r}")
            elif place[0] <= last_col:
                problems.append(f"{sheet.part}: cell {ref} comes after a cell to its right")
            last_col = max(last_col, place[0] if place else 0)
    return problems


# -- Excel Tables --------------------------------------------------------------------------------------------


def _xstring(text: str) -> str:
    """Text with ST_Xstring's _xHHHH_ escapes read (Part 1, 22.9.2.19)."""
    return _XSTRING.sub(lambda m: chr(int(m.group(1), 16)), text)


def _range(ref: str) -> tuple[int, int, int, int] | None:
    """(first column, first row, last column, last row) of a range like A1:D9."""
    first, _, last = ref.partition(":")
    a, b = _cell(first), _cell(last or first)
    return None if a is None or b is None else (a[0], a[1], b[0], b[1])


def _row_texts(sheet: Sheet, row: int, strings: list[str]) -> dict[int, str]:
    """The text each cell of one row of the sheet shows, by column."""
    assert sheet.root is not None
    texts: dict[int, str] = {}
    for el in sheet.root.iter(_q("row")):
        if el.get("r") == str(row):
            for cell in el.iter(_q("c")):
                place, kind, value = _cell(cell.get("r", "")), cell.get("t"), cell.findtext(_q("v")) or ""
                if place is None:
                    continue
                if kind == "s":
                    value = strings[int(value)] if value.isdigit() and int(value) < len(strings) else ""
                elif kind == "inlineStr":
                    value = "".join(_text(i) for i in cell.iter(_q("is")))
                texts[place[0]] = value
    return texts


def _tables(book: Book, parts: Mapping[str, etree._Element]) -> Iterator[tuple[Sheet, str, etree._Element]]:
    for sheet in book.sheets:
        for part in sheet.tables:
            if part in parts:
                yield sheet, part, parts[part]


def table_problems(book: Book, parts: Mapping[str, etree._Element]) -> list[str]:
    """Excel Tables whose names, columns, ranges or header cells Excel would repair."""
    problems: list[str] = []
    names = {el.get("name", "").casefold() for el in book.root.iter(_q("definedName"))}
    ids: set[str] = set()
    for sheet, part, table in _tables(book, parts):
        name = table.get("displayName", "")
        why = name_problem(name)
        if why:
            problems.append(f"{part}: the Table name {name!r} {why}")
        if name.casefold() in names:
            problems.append(f"{part}: the Table name {name!r} is already the name of a Table or defined name")
        if table.get("id") in ids:
            problems.append(f"{part}: Table id {table.get('id')} is used twice")
        names.add(name.casefold())
        ids.add(table.get("id", ""))
        problems += _table_columns(sheet, part, table, book.strings)
    return problems


def _table_columns(sheet: Sheet, part: str, table: etree._Element, strings: list[str]) -> list[str]:
    """A Table's columns against its range and, when it has a header row, the text of its header cells."""
    area = _range(table.get("ref", ""))
    if area is None:
        return [f"{part}: the Table's range {table.get('ref')!r} is not a range"]
    columns = [_xstring(c.get("name", "")) for c in table.iter(_q("tableColumn"))]
    problems = []
    if len(columns) != area[2] - area[0] + 1:
        problems.append(f"{part}: {len(columns)} columns for a range {area[2] - area[0] + 1} columns wide")
    if len({c.casefold() for c in columns}) != len(columns):
        problems.append(f"{part}: two columns of the Table have the same name")
    if table.get("headerRowCount", "1") != "0":
        shown = _row_texts(sheet, area[1], strings)
        for col, name in enumerate(columns, start=area[0]):
            if _xstring(shown.get(col, "")) != name:
                problems.append(f"{part}: the Table's column {name!r} has the header cell {col_letter(col - 1)}"
                                f"{area[1]} of {sheet.name!r} showing {shown.get(col, '')!r}")
    filtered = table.find(_q("autoFilter"))
    rows = area[3] - int(table.get("totalsRowCount", "0"))
    expected = f"{col_letter(area[0] - 1)}{area[1]}:{col_letter(area[2] - 1)}{rows}"
    if filtered is not None and filtered.get("ref") != expected:
        problems.append(f"{part}: the Table's filter covers {filtered.get('ref')}, not {expected}")
    return problems
