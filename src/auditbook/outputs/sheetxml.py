"""Big tidy tables written straight into their sheet's XML, beside what xlsxwriter writes.

xlsxwriter spends about 10 microseconds a cell; the master's Answers tab alone has ~190 rows a return,
so a thousand returns would take many seconds. xlsxwriter still writes everything else of such a sheet
(columns, header, the Excel Table, panes, validation, print settings); the data rows are made here as
XML text, with xlsxwriter's own shared strings and cell formats, and put into the sheet after it closes.
This leans on two of xlsxwriter's internal calls (`str_table._get_shared_string_index` and
`Format._get_xf_index`), stable since its first versions; tests read every row back with openpyxl and
LibreOffice.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape  # as xml.sax.saxutils.escape with quote=False, without its import of urllib, http and ssl
from pathlib import Path
from typing import Any, NamedTuple
from zipfile import ZIP_DEFLATED, ZipFile

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.dates import serial
from auditbook.outputs.zipraw import Segment, copy_member, member_like, put_chunks, put_segments, segment
from auditbook.spec.layout import col_letter
from auditbook.text import shown
from auditbook.workbook.xlsx import truncate

Cell = str | int | float | date | None
#: Points of row height a line of 10-point Arial needs, and the most a row may be.
LINE_POINTS, MAX_ROW_POINTS = 13.0, 409.0
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
#: The range of an Excel Table and of its filter, as xlsxwriter wrote them (header and one row).
_TABLE_REF = re.compile(rb'(<table [^>]*?ref|<autoFilter ref)="[^"]*"')
#: The deflate level of the sheets whose rows are streamed in (tens of megabytes: level 1 is several times faster).
STREAM_LEVEL = 1


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value it has now (so readers that do not recalculate see it).

    THIS_ROW in its text stands for the number of the row it is written in: rows whose formulas differ only in
    that make one cell's XML, made once."""

    formula: str
    value: str


def line_chars(width: float) -> int:
    """How many characters of wrapped text a line of a column `width` characters wide is counted to hold."""
    return max(int(width) - 1, 1)


def lines_needed(text: str, width: float) -> int:
    """How many lines wrapped text takes in a column `width` characters wide."""
    # A width unit is one digit of Arial 10; text with capitals and wide letters ("Team: Team Gamma") fits about
    # one character per unit, less the cell's margins: counting one per unit, less one, never runs over.
    chars = line_chars(width)
    return sum(max(math.ceil(len(part) / chars), 1) for part in text.split("\n"))


def row_height(values: Sequence[object], widths: Sequence[float], wrapped: Sequence[bool]) -> float | None:
    """The height a row of wrapped text needs to print without running over the next row (None: one line)."""
    lines = max((lines_needed(v, widths[i]) for i, v in enumerate(values) if wrapped[i] and isinstance(v, str)),
                default=1)
    return None if lines <= 1 else min(lines * LINE_POINTS + 2, MAX_ROW_POINTS)


#: The most characters a cell can hold (Excel's limit; xlsxwriter cuts longer text to it too).
CELL_CHARS = 32767


def cell_text(text: str) -> str:
    """Text as a cell holds it: control characters shown escaped, cut (with an ellipsis) to what a cell can hold."""
    return truncate(shown(text, keep_lines=True), CELL_CHARS)


#: Text at least this long is taken to be one row's own (evidence, findings): its XML is made, never cached.
_UNIQUE = 200
#: Where a cached run of cells has its row number: filled in as each row is written (no cell text can hold
#: it: text is shown with control characters escaped).
_ROW = b"\x00"
#: In a Formula's text, the number of the row it is written in (as `_ROW`, which the text keeps: escaping leaves it).
THIS_ROW = _ROW.decode()


def _row_start(lines: int) -> bytes:
    """A row's opening tag, its number left as a placeholder, with the height text of this many lines needs."""
    points = min(lines * LINE_POINTS + 2, MAX_ROW_POINTS)
    height = b"" if lines <= 1 else f' ht="{points:g}" customHeight="1"'.encode()
    return b'<row r="' + _ROW + b'"' + height + b">"


#: A shared-string cell's type and the start of its value: it cannot occur in text written in a cell, whose ">" is
#: escaped, so counting it counts shared-string cells.
_SHARED = ' t="s"><v>'


def cell_xml(ref: str, style: str, date_style: str, v: object, text: Callable[[str], str]) -> str:
    """A cell's XML: `ref` and `style` its attributes (dates take `date_style`); `text` gives a text cell's type and
    what follows it up to its closing tag (a shared string's number, or the text itself)."""
    if isinstance(v, bool):
        v = "Yes" if v else "No"
    if isinstance(v, str):
        # Control characters and bidirectional overrides are shown escaped, never acted on.
        return f"<c{ref}{style}{text(cell_text(v))}</c>"
    if isinstance(v, datetime | date):
        return f"<c{ref}{date_style}><v>{serial(v.date() if isinstance(v, datetime) else v)}</v></c>"
    if isinstance(v, int | float):
        return f"<c{ref}{style}><v>{v!r}</v></c>"
    if isinstance(v, Formula):
        return (f'<c{ref}{style} t="str"><f>{escape(v.formula.lstrip("="), quote=False)}</f>'
                f"<v>{escape(v.value, quote=False)}</v></c>")
    raise TypeError(f"cannot write a {type(v).__name__} into a cell")


_ROW_END = b"</row>"


@dataclass
class _Pending:
    member: str
    last_row: int
    last_col: int
    table: int | None
    #: The rows' XML, made as UTF-8 bytes (never a str to encode again: the Answers tab is tens of megabytes).
    chunks: list[bytes] = field(default_factory=list)
    #: Or the rows already deflated, a segment each (see KeptRows), joined as they are.
    segments: list[Segment] | None = None


class _Columns(NamedTuple):
    """What FastRows.add writes each column's cells with, worked out once a table: the cell reference (its row left as
    a placeholder), style, whether its text wraps, its width and the characters a line of it holds; dates' style."""

    refs: list[str]
    styles: list[str]
    date_style: str
    wraps: list[bool]
    widths: list[float]
    chars: list[int]

    @classmethod
    def of(cls, formats: Sequence[Any], date_format: Any, widths: Sequence[float], wrapped: Sequence[bool]) -> _Columns:
        """The columns of a table whose column i takes formats[i] (dates take `date_format`)."""
        return cls([f' r="{col_letter(c)}{THIS_ROW}"' for c in range(len(formats))],
                   [f' s="{f._get_xf_index()}"' if f is not None else "" for f in formats],
                   f' s="{date_format._get_xf_index()}"', list(wrapped), list(widths), [line_chars(w) for w in widths])


def _fragment(cols: _Columns, lo: int, run: Sequence[object], text: Callable[[str], str]) -> tuple[str, int]:
    """The XML of a run of cells from column `lo` (their row left as a placeholder; `text` writes a text cell's value,
    as cell_xml's), and the lines of text the tallest of them needs."""
    parts: list[str] = []
    need = 1
    for c, v in enumerate(run, lo):
        if v is None or v == "":
            continue
        parts.append(cell_xml(cols.refs[c], cols.styles[c], cols.date_style, v, text))
        if cols.wraps[c] and type(v) is str and (len(v) > cols.chars[c] or "\n" in v):
            need = max(need, lines_needed(v, cols.widths[c]))
    return "".join(parts), need


class FastRows:
    """Collects data rows for some sheets of one xlsxwriter workbook and puts them in after it is closed."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._sheets: list[_Pending] = []
        self._strings: dict[str, str] = {}
        #: Texts already counted in xlsxwriter's count of shared-string cells (it counts one use of each).
        self._counted = 0
        self.tables = 0

    def _string(self, text: str) -> str:
        ref = self._strings.get(text)
        if ref is None:
            ref = str(self.wb.str_table._get_shared_string_index(text))
            self._strings[text] = ref
        return ref

    def _shared_text(self, text: str) -> str:
        """A text cell's type and value: its number among the shared strings."""
        return f"{_SHARED}{self._string(text)}</v>"

    def add(self, ws: Worksheet, first_row: int, rows: Sequence[Sequence[object]], formats: Sequence[Any],
            date_format: Any, *, widths: Sequence[float], wrapped: Sequence[bool], table: int | None = None,
            groups: Sequence[tuple[int, int]] = ()) -> None:
        """Rows for `ws` under its header at `first_row`; column i takes formats[i], dates take `date_format`.

        Every cell carries its reference, as Excel writes them (some readers need it). `table` is the number of
        the Excel Table (in the order added) whose range is set to the rows' extent; `groups` lists runs of
        columns [lo, hi) whose values repeat together (e.g. a return's case and round).
        """
        cols = _Columns.of(formats, date_format, widths, wrapped)
        # Cells (or runs of cells) seen before are not made again, nor their lines counted: most of a table repeats.
        # Each run of columns with its cache of the XML made for the values met in it.
        spans: list[tuple[int, int, bool, dict[object, tuple[bytes, int]]]] = [
            (lo, hi, hi == lo + 1, {}) for lo, hi in list(groups) or [(c, c + 1) for c in range(len(formats))]]
        opening: dict[int, bytes] = {}
        out: list[bytes] = []
        append = out.append
        r = first_row + 1  # 1-based, under the header
        for values in rows:
            r += 1
            lines = 1
            cells: list[bytes] = [b""]  # the row's opening tag goes first, once its height is known
            for lo, hi, single, cache in spans if values else ():
                if single:
                    # Keyed with its type: True, 1 and 1.0 are equal in Python, not the same cell. Long text is one
                    # row's own: not looked up (hashing long text costs as much as its XML), nor kept.
                    v = values[lo]
                    key: object = (v if len(v) < _UNIQUE else None) if type(v) is str else (type(v), v)
                else:
                    key = (*values[lo:hi], *map(type, values[lo:hi]))
                hit = None if key is None else cache.get(key)
                if hit is None:
                    xml, need = _fragment(cols, lo, values[lo:hi], self._shared_text)
                    hit = (xml.encode("utf-8"), need)
                    if key is not None:
                        cache[key] = hit
                cells.append(hit[0])
                if hit[1] > lines:
                    lines = hit[1]
            head = opening.get(lines)
            if head is None:
                head = opening[lines] = _row_start(lines)
            cells[0] = head
            cells.append(_ROW_END)
            append(b"".join(cells).replace(_ROW, b"%d" % r))
        shared = _SHARED.encode()
        self._count_strings(sum(row.count(shared) for row in out))
        self._sheets.append(_Pending(f"xl/worksheets/sheet{ws.index + 1}.xml", first_row + len(rows),
                                     len(formats) - 1, table, out))

    def _count_strings(self, cells: int) -> None:
        """Bring xlsxwriter's count of shared-string cells up to date with the `cells` just made here."""
        self.wb.str_table.count += cells - (len(self._strings) - self._counted)
        self._counted = len(self._strings)

    def seed(self, texts: Iterable[str]) -> dict[str, int]:
        """Make `texts` the first of the workbook's shared strings, before any other is added, and give their numbers
        (texts kept rows hold by number: see KeptRows)."""
        table = self.wb.str_table
        if table.unique_count:
            raise ValueError("shared strings are seeded before any other is added")
        numbers = {t: table._get_shared_string_index(t) for t in dict.fromkeys(texts)}
        table.count -= len(numbers)  # none of them is a cell yet
        return numbers

    def add_segments(self, ws: Worksheet, segments: list[Segment], last_col: int, table: int | None = None) -> None:
        """Rows for `ws` under its header, already deflated, in order, one row after the other (see KeptRows);
        `last_col` is the last column's index, `table` the number of the Excel Table (in the order added) whose range
        is set to the rows' extent."""
        self.wb.str_table.count += sum(s.strings for s in segments)
        self._sheets.append(_Pending(f"xl/worksheets/sheet{ws.index + 1}.xml", sum(s.rows for s in segments),
                                     last_col, table, segments=segments))

    def finish(self, written: bytes, out: Path) -> None:
        """Write the closed workbook to `out` with the collected rows in their sheets.

        The parts left as xlsxwriter wrote them are copied as they are (not inflated and deflated again); the sheets
        with rows are deflated at STREAM_LEVEL in one pass, the Tables' parts (their range set) at level 6.
        """
        pending = {p.member: p for p in self._sheets}
        tables = {f"xl/tables/table{p.table}.xml": p for p in self._sheets if p.table is not None}
        with ZipFile(io.BytesIO(written)) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
            for info in src.infolist():
                p = pending.get(info.filename)
                t = tables.get(info.filename)
                if p is not None:
                    # The rows are never joined into one large string.
                    head, tail = _around_rows(src.read(info), p)
                    if p.segments is not None:
                        put_segments(dst, member_like(info), head, p.segments, tail, STREAM_LEVEL)
                    else:
                        put_chunks(dst, member_like(info), _pieces(head, p.chunks, tail), STREAM_LEVEL)
                elif t is not None:
                    data = _TABLE_REF.sub(f'\\1="A1:{col_letter(t.last_col)}{max(t.last_row, 1) + 1}"'.encode(),
                                          src.read(info))
                    dst.writestr(member_like(info), data, compresslevel=6)
                else:
                    copy_member(written, info, dst)


def _pieces(head: bytes, rows: list[bytes], tail: bytes) -> Iterator[bytes]:
    """A sheet's XML in pieces of some megabytes: few calls to deflate, no copy of the whole."""
    yield head
    for i in range(0, len(rows), 20000):
        yield b"".join(rows[i:i + 20000])
    yield tail


def _around_rows(xml: bytes, p: _Pending) -> tuple[bytes, bytes]:
    """The sheet's XML before and after where the rows go (the dimension set to their extent)."""
    dimension = f'<dimension ref="A1:{col_letter(p.last_col)}{max(p.last_row, 0) + 1}"/>'.encode()
    xml = _DIMENSION.sub(dimension, xml, count=1)
    if b"</sheetData>" in xml:
        # Before any row xlsxwriter wrote under them (a note under a table): Excel wants rows in order.
        after = next((m.start() for m in _ROW_NUMBER.finditer(xml) if int(m.group(1)) > p.last_row + 1), None)
        at = xml.index(b"</sheetData>") if after is None else after
        return xml[:at], xml[at:]
    at = xml.index(b"<sheetData/>")
    return xml[:at] + b"<sheetData>", b"</sheetData>" + xml[at + len(b"<sheetData/>"):]


#: In a cell's text, what Excel would read as an escape (ST_Xstring's _xHHHH_), and the characters XML cannot carry
#: (cell_text has shown them escaped already: kept here so no text can make the XML unreadable).
_XSTRING = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def inline_text(text: str) -> str:
    """A cell's text (as cell_text gives it) as the inline string of its cell (t="inlineStr"): a literal "_xHHHH_" kept
    literal for Excel (its "_" as _x005F_, as Excel escapes shared strings), markup escaped, a carriage return as a
    character reference (which XML readers keep, where they turn a typed one into a line feed), spaces at either end
    kept."""
    text = _CONTROLS.sub(lambda m: f"_x{ord(m.group()):04X}_", _XSTRING.sub(r"_x005F\1", text))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<is><t{space}>{escape(text, quote=False).replace(chr(13), "&#13;")}</t></is>'


class KeptRows:
    """A table's rows as pieces that can be kept from one master to the next (see store/pieces.py).

    A piece holds a return's rows, numbered from the row it starts at, deflated on its own (zipraw.Segment), so a
    later master can put it in as it is while its rows stay where they are. Nothing in it depends on the other tabs:
    text is written in its cell (t="inlineStr") unless it is one of the `shared` strings, which are the first in the
    workbook's shared strings (see FastRows.seed) and keep their numbers while they are the same.

    Rows come in parts as the Answers tab's do: the return's own cells (case, round, team), then per row a run of
    cells (section, field, question), the answer and whether it applied.
    """

    def __init__(self, formats: Sequence[Any], date_format: Any, widths: Sequence[float],
                 wrapped: Sequence[bool], sizes: Sequence[int], shared: Mapping[str, int]) -> None:
        assert len(sizes) == 4 and sizes[2] == sizes[3] == 1, sizes
        self._cols = c = _Columns.of(formats, date_format, widths, wrapped)
        self._starts = [sum(sizes[:k]) for k in range(len(sizes))]
        self._shared = shared
        #: What the rows made here depend on besides their values: pieces kept under another are made again.
        self.signature = hashlib.sha256(repr((c.styles, c.date_style, c.widths, c.wraps, sizes, LINE_POINTS,
                                              sorted(shared.items(), key=lambda kv: kv[1]))).encode()).hexdigest()
        self._seconds: dict[object, tuple[bytes, int, int]] = {}
        self._ends: dict[object, tuple[bytes, int, int]] = {}
        self._opening: dict[int, bytes] = {}

    def _text(self, text: str) -> str:
        """A text cell's type and value: its number when it is one of the seeded shared strings, else the text."""
        index = self._shared.get(text)
        return f' t="inlineStr">{inline_text(text)}' if index is None else f"{_SHARED}{index}</v>"

    def _part(self, k: int, values: Sequence[object]) -> tuple[bytes, int, int]:
        """A run of cells' XML (their row left as a placeholder), the lines of text the tallest of them needs, and how
        many of them are shared strings."""
        cells, need = _fragment(self._cols, self._starts[k], values, self._text)
        return cells.encode("utf-8"), need, cells.count(_SHARED)

    def piece(self, who: Sequence[object], items: Sequence[tuple[Sequence[object], object, object]],
              first: int) -> Segment:
        """One return's rows from row `first` (1-based), deflated: `who` its own cells, `items` per row (the run of
        cells, the answer, whether it applied); the Segment's `strings` counts its shared-string cells.

        A part met before (the same question, the same answer, "Yes") is not made again; long text (evidence,
        findings) is one row's own: made, never kept."""
        xa, la, sa = self._part(0, who)
        rows: list[bytes] = []
        strings = sa * len(items)
        r = first
        for b, c, d in items:
            pb = self._seconds.get(b)
            if pb is None:
                pb = self._seconds[b] = self._part(1, b)
            if type(c) is str:
                key: object = None if len(c) >= _UNIQUE else (c, d) if type(d) is str else (c, type(d), d)
            else:  # keyed with their types: True, 1 and 1.0 are equal in Python, not the same cell
                key = (type(c), c, type(d), d)
            end = None if key is None else self._ends.get(key)
            if end is None:
                pc, pd = self._part(2, (c,)), self._part(3, (d,))
                end = (pc[0] + pd[0] + _ROW_END, max(pc[1], pd[1]), pc[2] + pd[2])
                if key is not None:
                    self._ends[key] = end
            lines = max(la, pb[1], end[1])
            head = self._opening.get(lines)
            if head is None:
                head = self._opening[lines] = _row_start(lines)
            # One copy to join the row and one to number it: a row is a few hundred bytes.
            rows.append(b"".join((head, xa, pb[0], end[0])).replace(_ROW, b"%d" % r))
            strings += pb[2] + end[2]
            r += 1
        # Joined first: one call to deflate (and to the CRC) a piece of some tens of kilobytes, not one a row.
        return segment((b"".join(rows),), rows=len(rows), strings=strings, first=first, level=STREAM_LEVEL)
