"""The master's and packs' sheet plumbing: formats, A4 landscape printing, tidy tables as Excel Tables.

Every tab prints on A4 landscape with its header rows repeated: a tab up to PAGE_WIDTH characters wide
is fitted to one page's width; a wider one is printed across pages at 80 %, its key columns (case
reference, round) repeated on each. Rows of wrapped text are made as tall as their text, so nothing
prints over the next row.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.atomic import replacing
from auditbook.dates import EXCEL_DATE_FORMAT
from auditbook.outputs.sheetxml import FastRows, KeptRows, cell_text, row_height
from auditbook.outputs.tidy import CHANGE, DATE, INT, PCT, TEXT, WRAP, Column, Table
from auditbook.spec.layout import cell_ref
from auditbook.store.ours import OUTPUT_PROPERTY, temporary
from auditbook.text import plural, shown
from auditbook.workbook.xlsx import ARIAL_10, WORKBOOK_OPTIONS, escape_header, strict

#: Every cell's look unless it has its own: what `Sheets.text` is, so plain text cells need no style.
BASE_FORMAT = {**ARIAL_10, "valign": "top"}
#: The options of every workbook the collection writes (master, packs, export): plain cells need no format.
FAST_OPTIONS = {**WORKBOOK_OPTIONS, "default_format_properties": BASE_FORMAT}
#: Width (in characters) that still prints legibly on one A4 landscape page.
PAGE_WIDTH = 175
A4 = 9
#: Every tab's printed margins, in inches.
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}
#: The longest page header Excel takes.
HEADER_MOST = 255
Cell = str | int | float | date | None


@contextmanager
def output_workbook(out: Path, *, kind: str, title: str, classification: str, shared: bool = True
                    ) -> Iterator[Sheets]:
    """One of auditbook's own workbooks (a master, a pack, an export), written whole to `out` or not at all:
    marked with its classification and its kind (so a copy left among the returns is known for what it is).
    `shared`: a master or export also says not to share it further."""
    with replacing(out, prefix=temporary(kind)) as tmp, strict():
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, FAST_OPTIONS)
        properties = {"title": title, "category": classification, "keywords": classification}
        if shared:
            properties["comments"] = f"{classification}: do not share further."
        wb.set_properties(properties)
        wb.set_custom_property("Classification", classification)
        wb.set_custom_property(OUTPUT_PROPERTY, kind)
        s = Sheets(wb, classification)
        yield s
        wb.close()
        s.fast.finish(buffer.getvalue(), tmp)


class Sheets:
    """Formats and sheet set-up shared by the master and the packs."""

    def __init__(self, wb: Workbook, classification: str) -> None:
        self.wb = wb
        self.classification = classification
        self.fast = FastRows(wb)
        base = BASE_FORMAT
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.date = wb.add_format({**base, "num_format": EXCEL_DATE_FORMAT})
        self.int = wb.add_format({**base, "num_format": "0"})
        self.pct = wb.add_format({**base, "num_format": "0%"})
        # Changes are percentage points (whole numbers, the difference of the whole percentages shown).
        self.change = wb.add_format({**base, "num_format": '+0;-0;"no change"'})
        self.head = wb.add_format({**base, "bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF",
                                   "text_wrap": True, "border": 1})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.bold = wb.add_format({**base, "bold": True})
        self.note = wb.add_format({**base, "italic": True, "text_wrap": True})
        self.red = wb.add_format({**base, "bold": True, "font_color": "#C00000"})
        self.flag = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.good = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.amber = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.by_kind = {DATE: self.date, WRAP: self.wrap, INT: self.int, PCT: self.pct, CHANGE: self.change}

    def sheet(self, name: str, widths: Sequence[float] = (), key_columns: int = 1) -> Worksheet:
        """A new tab set up to print on A4 landscape with the classification in its header and footer."""
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(A4)
        ws.set_margins(**MARGINS)
        label = escape_header(self.classification)
        self.print_heading(ws, name)
        ws.set_footer(f"&L{escape_header(name)}&CPage &P of &N&R{label}")
        if sum(widths) > PAGE_WIDTH:
            ws.set_print_scale(80)
            ws.print_across()
            ws.repeat_columns(0, max(key_columns - 1, 0))
        else:
            ws.fit_to_pages(1, 0)
        return ws

    def print_heading(self, ws: Worksheet, title: str, n: str = "", note: str = "") -> None:
        """The page header of every printed page of a tab: its title left, the classification in the middle (with a
        line of instructions under it, if any: the one line as wide as the page), n (what its figures count) right."""
        # A round's name comes from the returns: its control characters shown, its "&" not a header code.
        title, n, note = (escape_header(shown(t)) for t in (title, n, note))
        label = f'&"Arial,Bold"{escape_header(self.classification)}'
        left, right = f'&L&"Arial,Bold"{title}', f"&R{n}" if n else ""
        # Excel takes at most 255 characters: a long classification leaves out the note, then the title and n.
        for header in (f'{left}&C{label}\n&"Arial,Regular"&9{note}{right}' if note else "",
                       f"{left}&C{label}{right}", f"&C{label}"):
            if header and len(header.encode("utf-16-le")) // 2 <= HEADER_MOST:
                break
        ws.set_header(header)
        if "\n" in header:
            # Room for the second line of the header above the rows.
            ws.set_margins(**{**MARGINS, "top": MARGINS["top"] + 0.25})

    def write(self, ws: Worksheet, row: int, col: int, value: Cell, fmt: Any = None) -> None:
        """One cell; text always as text (an auditor's "=HYPERLINK(...)" stays those characters)."""
        if value is None or value == "":
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            ws.write_string(row, col, "Yes" if value else "No", fmt)
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), self.date)
        elif isinstance(value, int | float):
            ws.write_number(row, col, value, fmt)
        else:
            ws.write_string(row, col, cell_text(value), fmt)

    def kept_rows(self, name: str, columns: Sequence[Column], sizes: Sequence[int], shared: Mapping[str, int],
                  key_columns: int = 1) -> tuple[Worksheet, KeptRows, int]:
        """A tidy table whose rows KeptRows makes (rows kept from one master to the next), as an Excel Table `name`:
        its tab, the rows' maker, and the Table's number to give FastRows.add_segments with the rows."""
        ws, formats = self._table_sheet(Table(name, tuple(columns), [], key_columns=key_columns), None)
        rows = KeptRows(formats, self.date, [c.width for c in columns], [c.kind == WRAP for c in columns], sizes,
                        shared)
        return ws, rows, self.fast.tables

    def _table_sheet(self, table: Table, sheet: str | None) -> tuple[Worksheet, list[Any]]:
        cols = table.columns
        widths = [c.width for c in cols]
        ws = self.sheet(sheet or table.name, widths, table.key_columns)
        formats = [self.by_kind.get(c.kind, self.text) for c in cols]
        for i, (c, fmt) in enumerate(zip(cols, formats, strict=True)):
            ws.set_column(i, i, c.width, fmt)
        # xlsxwriter checks a table's every cell as it adds it (seconds for the Answers tab): the table is
        # added over its header and one row, and FastRows sets its range when it puts the rows in.
        # Its title and description are the Table's alt text, read out by screen readers in Excel.
        ws.add_table(0, 0, 1, len(cols) - 1, {
            "name": table.name, "style": "Table Style Light 9", "title": table.name,
            "description": f"{table.name}: one row each, with the columns {', '.join(c.header for c in cols)}.",
            "columns": [{"header": c.header, "header_format": self.head} for c in cols]})
        self.fast.tables += 1
        ws.set_row(0, row_height([c.header for c in cols], widths, [True] * len(cols)))
        ws.freeze_panes(1, 0)
        ws.repeat_rows(0)
        # Plain text cells take the workbook's default format (the same as `text`): no style to write.
        return ws, [None if c.kind == TEXT else f for c, f in zip(cols, formats, strict=True)]

    def tidy(self, table: Table, *, sheet: str | None = None, rows: Sequence[Sequence[object]] | None = None,
             extra_rows: int = 0) -> Worksheet:
        """A tidy table on its own tab as an Excel Table named after it, rows written by FastRows.

        `rows` replaces the table's rows (e.g. with formulas); `extra_rows` leaves empty table rows to type in.
        """
        ws, cell_formats = self._table_sheet(table, sheet)
        data = list(rows if rows is not None else table.rows)
        self.print_heading(ws, sheet or table.name, plural(len(data), "row"))
        if extra_rows:
            data += [()] * extra_rows
        cols = table.columns
        self.fast.add(ws, 0, data, cell_formats, self.date, widths=[c.width for c in cols],
                      wrapped=[c.kind == WRAP for c in cols], table=self.fast.tables, groups=table.groups)
        return ws

    def block(self, ws: Worksheet, row: int, columns: Sequence[Column], rows: Sequence[Sequence[Cell]],
              col: int = 0) -> int:
        """A small table of figures at `row` (header, then rows); returns the next free row.

        `columns` give the widths the tab's columns have: the header row and rows of wrapped text are made as tall
        as their text, so nothing is cut when printed.
        """
        widths = [c.width for c in columns]
        for i, c in enumerate(columns):
            ws.write_string(row, col + i, c.header, self.head)
        self.fit_row(ws, row, [c.header for c in columns], widths, [True] * len(columns))
        for r, values in enumerate(rows, start=row + 1):
            for i, value in enumerate(values):
                kind = columns[i].kind
                self.write(ws, r, col + i, value, self.by_kind.get(kind, self.text))
            self.fit_row(ws, r, values, widths, [c.kind == WRAP for c in columns])
        return row + len(rows) + 2

    def spread(self, ws: Worksheet, row: int, heads: tuple[str, str], rows: Sequence[tuple[str, str]],
               widths: Sequence[float]) -> int:
        """A two-column list at `row` whose second column takes every other column of the tab (merged), each row as
        tall as its text; returns the next free row."""
        last, wide = len(widths) - 1, sum(widths[1:])
        ws.write_string(row, 0, heads[0], self.head)
        ws.merge_range(row, 1, row, last, heads[1], self.head)
        self.fit_row(ws, row, [heads[0]], widths[:1], [True])
        for r, (first, rest) in enumerate(rows, start=row + 1):
            ws.write_string(r, 0, first, self.wrap)
            ws.merge_range(r, 1, r, last, rest, self.wrap)
            self.fit_row(ws, r, [first, rest], [widths[0], wide], [True, True])
        return row + len(rows) + 2

    @staticmethod
    def fit_row(ws: Worksheet, row: int, values: Sequence[object], widths: Sequence[float],
                wrapped: Sequence[bool]) -> None:
        """Make a row as tall as the wrapped text in it needs (rows of one line keep their height)."""
        height = row_height(values, widths, wrapped)
        if height:
            ws.set_row(row, height)

    def explain(self, ws: Worksheet, row: int, text: str, widths: Sequence[float], fmt: Any = None) -> None:
        """A line of explanation across the columns of `widths` (merged), as tall as its text: never squeezed
        into the first column and cut when printed."""
        if len(widths) > 1:
            ws.merge_range(row, 0, row, len(widths) - 1, text, fmt or self.note)
        else:
            ws.write_string(row, 0, text, fmt or self.note)
        self.fit_row(ws, row, [text], [sum(widths)], [True])

    @staticmethod
    def insert_chart(ws: Worksheet, row: int, col: int, chart: Chart, *, about: str,
                     figures: tuple[int, int, int, int], options: dict[str, Any]) -> None:
        """A chart at (row, col) with its alt text (xlsxwriter's description): what it shows, and the cells (first
        row, first column, last row, last column) that hold its figures, for a screen reader to go to."""
        r0, c0, r1, c1 = figures
        where = f"{ws.name} {cell_ref(r0, c0)}:{cell_ref(r1, c1)}"
        ws.insert_chart(row, col, chart, {**options, "description": f"{about} Its figures are in {where}."})

    def page_break(self, ws: Worksheet, rows: Sequence[int]) -> None:
        """Start a new printed page above each of these rows (a chart anchored there then never runs under the
        header rows printed at the top of every page)."""
        ws.set_h_pagebreaks(sorted(rows))
