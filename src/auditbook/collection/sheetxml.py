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

import io
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.workbook.layout import col_letter

Cell = str | int | float | date | None
_EPOCH = date(1899, 12, 30)
#: Points of row height a line of 10-point Arial needs, and the most a row may be.
LINE_POINTS, MAX_ROW_POINTS = 13.0, 409.0
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value it has now (so readers that do not recalculate see it)."""

    formula: str
    value: str


def lines_needed(text: str, width: float) -> int:
    """How many lines wrapped text takes in a column `width` characters wide."""
    chars = max(int(width * 1.1) - 1, 1)  # Arial 10 fits a little more than one character per width unit
    return sum(max(math.ceil(len(part) / chars), 1) for part in text.split("\n"))


def row_height(values: Sequence[object], widths: Sequence[float], wrapped: Sequence[bool]) -> float | None:
    """The height a row of wrapped text needs to print without running over the next row (None: one line)."""
    lines = max((lines_needed(v, widths[i]) for i, v in enumerate(values) if wrapped[i] and isinstance(v, str)),
                default=1)
    return None if lines <= 1 else min(lines * LINE_POINTS + 2, MAX_ROW_POINTS)


@dataclass
class _Pending:
    member: str
    last_row: int
    last_col: int
    chunks: list[str] = field(default_factory=list)


class FastRows:
    """Collects data rows for some sheets of one xlsxwriter workbook and puts them in after it is closed."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._sheets: list[_Pending] = []
        self._strings: dict[str, str] = {}

    def _string(self, text: str) -> str:
        ref = self._strings.get(text)
        if ref is None:
            ref = str(self.wb.str_table._get_shared_string_index(text))
            self._strings[text] = ref
        else:
            self.wb.str_table.count += 1
        return ref

    def add(self, ws: Worksheet, first_row: int, rows: Sequence[Sequence[object]], formats: Sequence[Any],
            date_format: Any, *, widths: Sequence[float], wrapped: Sequence[bool]) -> None:
        """Rows for `ws` from `first_row` down; column i takes formats[i], dates take `date_format`."""
        styles = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in formats]
        date_style = f' s="{date_format._get_xf_index()}"'
        letters = [col_letter(c) for c in range(len(formats))]
        out: list[str] = []
        for r, values in enumerate(rows, start=first_row + 2):  # 1-based, under the header
            height = row_height(values, widths, wrapped)
            out.append(f'<row r="{r}" ht="{height:g}" customHeight="1">' if height else f'<row r="{r}">')
            for c, v in enumerate(values):
                if v is None or v == "":
                    continue
                ref = f"{letters[c]}{r}"
                if isinstance(v, str):
                    out.append(f'<c r="{ref}"{styles[c]} t="s"><v>{self._string(v)}</v></c>')
                elif isinstance(v, bool):
                    out.append(f'<c r="{ref}"{styles[c]} t="s"><v>{self._string("Yes" if v else "No")}</v></c>')
                elif isinstance(v, datetime | date):
                    day = v.date() if isinstance(v, datetime) else v
                    out.append(f'<c r="{ref}"{date_style}><v>{(day - _EPOCH).days}</v></c>')
                elif isinstance(v, int | float):
                    out.append(f'<c r="{ref}"{styles[c]}><v>{v!r}</v></c>')
                elif isinstance(v, Formula):
                    out.append(f'<c r="{ref}"{styles[c]} t="str"><f>{escape(v.formula.lstrip("="))}</f>'
                               f"<v>{escape(v.value)}</v></c>")
                else:
                    raise TypeError(f"cannot write a {type(v).__name__} into a cell")
            out.append("</row>")
        self._sheets.append(_Pending(f"xl/worksheets/sheet{ws.index + 1}.xml", first_row + len(rows),
                                     len(formats) - 1, out))

    def finish(self, written: bytes, out: Path) -> None:
        """Write the closed workbook to `out` with the collected rows in their sheets."""
        pending = {p.member: p for p in self._sheets}
        with zipfile.ZipFile(io.BytesIO(written)) as src, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in src.infolist():
                data = src.read(info)
                p = pending.get(info.filename)
                if p is not None:
                    data = _splice(data, p)
                target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                target.compress_type = zipfile.ZIP_DEFLATED
                target.external_attr = info.external_attr
                dst.writestr(target, data, compresslevel=1 if p is not None else 6)


def _splice(xml: bytes, p: _Pending) -> bytes:
    rows = "".join(p.chunks).encode("utf-8")
    dimension = f'<dimension ref="A1:{col_letter(p.last_col)}{max(p.last_row, 0) + 1}"/>'.encode()
    xml = _DIMENSION.sub(dimension, xml, count=1)
    if b"</sheetData>" in xml:
        return xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)
    return xml.replace(b"<sheetData/>", b"<sheetData>" + rows + b"</sheetData>", 1)
