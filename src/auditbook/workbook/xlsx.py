"""xlsxwriter plumbing shared by every workbook auditbook writes: options, strictness, small helpers."""

from __future__ import annotations

import re
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import xlsxwriter.workbook
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from auditbook.errors import WorkbookError
from auditbook.workbook.paging import PAGE_BODY_POINTS, manual_breaks, scale
from auditbook.workbook.paging import Sheet as PagedSheet

#: Never turn text into formulas, links or numbers: what an auditor typed stays text. Parts are assembled
#: in memory: no temporary file per sheet.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                    "in_memory": True}

#: Every workbook's default font: a column's width means the same in Excel and in a LibreOffice without Calibri
#: (the width unit is the default font's digit).
ARIAL_10 = {"font_name": "Arial", "font_size": 10}

#: Functions of the 2007 file format that need no "_xlfn." prefix: a formula using only these is stored as
#: written. Anything else goes through xlsxwriter's own preparation.
_CLASSIC_FUNCTIONS = frozenset((
    "AND", "CHAR", "COUNTA", "COUNTIF", "DATE", "DAY", "EDATE", "EOMONTH", "FALSE", "IF", "IFERROR", "INDEX",
    "INT", "ISBLANK", "ISNUMBER", "ISTEXT", "LEFT", "LEN", "LOWER", "MATCH", "MAX", "MID", "MIN", "MONTH",
    "NOT", "OR", "RIGHT", "ROUND", "SUM", "SUMPRODUCT", "TEXT", "TODAY", "TRIM", "TRUE", "UPPER", "VALUE",
    "YEAR",
))
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9._]*)\(")
#: Prepared formulas by (formula, expand future functions): every workbook of a spec repeats the same ones.
_PREPARED: dict[tuple[str, bool], str] = {}
_PREPARED_MAX = 200_000
#: Workbook-level defined names xlsxwriter has already accepted.
_CHECKED_NAMES: set[str] = set()
#: Attribute values and element text as escaped for XML (cell references, styles, the formulas of
#: validations and conditional formats): nearly all repeat from one workbook of a spec to the next.
_ESCAPED: dict[str, str] = {}
_ESCAPED_DATA: dict[str, str] = {}
_ESCAPED_CONTROLS: dict[str, str] = {}
#: Longer text is escaped each time, never remembered (a bound on memory; what an auditor typed is not kept).
_REMEMBER_UP_TO = 1000
#: The zlib level the parts are deflated at: 1 is about three times faster than zlib's default 6, for a file
#: about 15 % larger (about 100 KB for an audit workbook).
DEFLATE_LEVEL = 1


class FastWorksheet(Worksheet):  # type: ignore[misc]
    """A worksheet that prepares each distinct formula once per process.

    xlsxwriter runs about 120 regular expressions over every formula, data validation and conditional
    format to add "_xlfn." prefixes; that was over half the time of writing an audit workbook. Formulas
    made only of classic functions need none, and the rest are prepared once and remembered.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fitting_rows: set[int] = set()
        self._fitting = False
        self.widths: dict[int, float] = {}
        #: Row heights given, the rows repeated on every page, blocks to print on one page, breaks asked for.
        self.heights: dict[int, float] = {}
        self.repeated: tuple[int, int] | None = None
        self.keeps: list[tuple[int, int]] = []
        self.forced: list[int] = []

    def set_row(self, row: int, height: float | None = None, cell_format: Any = None, options: Any = None) -> int:
        """As xlsxwriter's, remembering the height for pagination."""
        if height is not None:
            self.heights[row] = height
        return int(super().set_row(row, height, cell_format, options))

    def repeat_rows(self, first_row: int, last_row: int | None = None) -> None:
        """As xlsxwriter's, remembering which rows print at the top of every page."""
        self.repeated = (first_row, first_row if last_row is None else last_row)
        super().repeat_rows(first_row, last_row)

    def keep_together(self, first_row: int, last_row: int) -> None:
        """Print these rows on one page when they fit on one (a manual break before them where needed)."""
        if last_row > first_row:
            self.keeps.append((first_row, last_row))

    def break_before(self, row: int) -> None:
        """Start a new printed page at this row."""
        self.forced.append(row)

    def paginate(self) -> None:
        """Put in the manual page breaks: those asked for and those that keep blocks together (paging.py)."""
        if not self.keeps and not self.forced:
            return
        last = max([*self.heights, *(b for _a, b in self.keeps), *self.forced])
        default = self.default_row_height * 0.75  # xlsxwriter keeps it in pixels
        heights = [self.heights.get(r, default) for r in range(last + 1)]
        repeated = 0.0 if self.repeated is None else sum(
            self.heights.get(r, default) for r in range(self.repeated[0], self.repeated[1] + 1))
        sheet = PagedSheet(heights, PAGE_BODY_POINTS / scale(self.widths.values()), repeated, self.keeps,
                           self.forced)
        self.set_h_pagebreaks(manual_breaks(sheet))

    def set_widths(self, widths: Sequence[float], first_col: int = 0) -> None:
        """Set the widths of consecutive columns (in character units), remembering them for span()."""
        for col, width in enumerate(widths, start=first_col):
            self.set_column(col, col, width)
            self.widths[col] = width

    def span(self, first_col: int, last_col: int) -> float:
        """The width of columns first_col to last_col together, in character units."""
        return sum(self.widths.get(c, 8.43) for c in range(first_col, last_col + 1))

    def fit_row(self, row: int, height: float) -> None:
        """Give a row a starting height that Excel and LibreOffice still change to fit what is typed in it.

        set_row() alone marks the height custom, and a custom height never grows; here the height is
        written without customHeight, so both programs treat the row as fitted to its content.
        """
        self.set_row(row, height)
        self.fitting_rows.add(row)

    def _write_row(self, row: int, spans: Any, row_info: Any = None, empty_row: bool = False) -> None:
        self._fitting = row in self.fitting_rows
        try:
            super()._write_row(row, spans, row_info, empty_row)
        finally:
            self._fitting = False

    def _xml_start_tag_unencoded(self, tag: str, attributes: Any = ()) -> None:
        super()._xml_start_tag_unencoded(tag, self._row_attributes(tag, attributes))

    def _xml_empty_tag_unencoded(self, tag: str, attributes: Any = ()) -> None:
        super()._xml_empty_tag_unencoded(tag, self._row_attributes(tag, attributes))

    def _row_attributes(self, tag: str, attributes: Any) -> Any:
        if self._fitting and tag == "row":
            return [a for a in attributes if a[0] != "customHeight"]
        return attributes

    # xlsxwriter escapes text only (numbers pass as they are); short text is remembered as escaped, keyed by
    # itself (never by a number: True, 1 and 1.0 are one key).
    def _escape_attributes(self, attribute: object) -> object:
        return _escaped(_ESCAPED, attribute, super()._escape_attributes)

    def _escape_data(self, data: object) -> object:
        return _escaped(_ESCAPED_DATA, data, super()._escape_data)

    def _escape_control_characters(self, data: object) -> object:
        return _escaped(_ESCAPED_CONTROLS, data, Worksheet._escape_control_characters)

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, bool(expand_future_functions or self.use_future_functions))
        done = _PREPARED.get(key)
        if done is None:
            body = formula[1:] if formula.startswith("{") else formula
            body = body[1:] if body.startswith("=") else body
            body = body[:-1] if body.endswith("}") else body
            names = {n.upper() for n in _FUNCTION.findall(_without_strings(body))}
            if "_xlfn." in body or names <= _CLASSIC_FUNCTIONS:
                done = body
            else:
                done = str(super()._prepare_formula(formula, expand_future_functions))
            if len(_PREPARED) < _PREPARED_MAX:
                _PREPARED[key] = done
        return done


class FastWorkbook(Workbook):  # type: ignore[misc]
    """An xlsxwriter workbook whose sheets are FastWorksheets."""

    worksheet_class = FastWorksheet

    def __init__(self, filename: Any, options: dict[str, Any] | None = None) -> None:
        super().__init__(filename, {**WORKBOOK_OPTIONS, **(options or {})})

    def _store_workbook(self) -> None:
        # xlsxwriter makes its own ZipFile, deflating at zlib's default level: while this workbook is stored, the
        # zip file it makes deflates each part at DEFLATE_LEVEL instead. The lock keeps two threads from
        # swapping at once (which could leave the swap in place for good).
        with _SWAP:
            made = xlsxwriter.workbook.ZipFile
            xlsxwriter.workbook.ZipFile = _QuickZipFile
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = made

    def _extract_named_ranges(self, defined_names: Any) -> list[str]:
        # docProps/app.xml may list every defined name as a "part" (hundreds here); nothing reads that list.
        return []

    def define_name(self, name: str, formula: str) -> int:
        """As xlsxwriter's, checking each workbook-level name once per process (every workbook repeats them)."""
        if name in _CHECKED_NAMES:
            self.defined_names.append([name, -1, formula.removeprefix("="), False])
            return 0
        rc = int(super().define_name(name, formula))
        if rc == 0 and "!" not in name and len(_CHECKED_NAMES) < _PREPARED_MAX:
            _CHECKED_NAMES.add(name)
        return rc


def _escaped(cache: dict[str, str], value: object, escape: Callable[[str], str]) -> object:
    """Text as `escape` gives it, remembered when short (numbers pass as they are); the cache starts again once
    it holds more than a long run of workbooks needs."""
    if not isinstance(value, str):
        return value
    done = cache.get(value)
    if done is None:
        done = escape(value)
        if len(value) <= _REMEMBER_UP_TO:
            if len(cache) >= _PREPARED_MAX:
                cache.clear()
            cache[value] = done
    return done


_SWAP = threading.Lock()


class _QuickZipFile(zipfile.ZipFile):
    """A zip file whose parts are deflated at DEFLATE_LEVEL (written from memory, or from files)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", DEFLATE_LEVEL)
        super().__init__(*args, **kwargs)

    def writestr(self, zinfo_or_arcname: str | zipfile.ZipInfo, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        super().writestr(zinfo_or_arcname, data, compress_type, DEFLATE_LEVEL if compresslevel is None else
                         compresslevel)


def _without_strings(formula: str) -> str:
    """The formula with its string literals emptied, so text like "see (a)" is not taken for a function."""
    return re.sub(r'"(?:[^"]|"")*"', '""', formula)


@contextmanager
def strict() -> Iterator[None]:
    """Turn every xlsxwriter warning into a WorkbookError: it warns instead of raising for real mistakes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    refused = list(dict.fromkeys(str(w.message) for w in caught
                                 if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)))
    if refused:
        raise WorkbookError("xlsxwriter refused part of the workbook: " + "; ".join(refused))


def ok(rc: object, what: str) -> None:
    """Raise when an xlsxwriter call returned an error code instead of raising."""
    if isinstance(rc, int) and rc < 0:
        raise WorkbookError(f"xlsxwriter refused {what} (return code {rc}).")


def excel_date(d: date) -> str:
    """A date as a spreadsheet DATE() call."""
    return f"DATE({d.year},{d.month},{d.day})"


def truncate(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis (prompts and messages have hard limits)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_header(text: str) -> str:
    """Text for a page header or footer, where "&" starts a code."""
    return text.replace("&", "&&")
