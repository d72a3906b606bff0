"""What a person sees in an input's cell when it is not the value read: a number format, a conditional format or a
merged cell over it that shows something else (`;;;"Requires improvement"` over "Outstanding").

The value read is the one in the cell, as every program stores it; what the workbook shows is what anyone reading
it on screen or on paper takes for the answer. So such a cell is a warning on that cell, saying both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from auditbook.dates import SERIAL_EPOCH
from auditbook.problems import Code, Problem
from auditbook.returns.coerce import EPOCH_1904, as_text, parse_text_date, quote, serial_to_date
from auditbook.returns.numfmt import Want, otherwise, plain
from auditbook.returns.reader import ICONS_ONLY, RawCell, RawSheet, RawWorkbook
from auditbook.spec.layout import cell_ref

#: Makes the problem on the cell of the input being read (ReadValues.problem, for one input).
Say = Callable[..., Problem]


def want(input_type: str) -> Want:
    """What an input's cell is meant to show."""
    if input_type in ("date", "month"):
        return "date" if input_type == "date" else "month"
    return "number" if input_type == "integer" else "text"


def shows_as_read(raw: RawWorkbook, sheet: RawSheet, place: tuple[int, int], cell: RawCell, wanted: Want) -> bool:
    """Whether a cell read shows its value as it is, whatever the value (the usual case: nothing over it, and a format
    that shows any such value as it is; TRUE, FALSE and errors show as they are whatever the format)."""
    value = _dated(cell, raw.date1904)
    if value is None or isinstance(value, bool) or cell.kind == "e":
        return True
    if sheet.conditional or (sheet.merges and sheet.merged_under(place) is not None):
        return False
    return plain(raw.number_format(cell), isinstance(value, str), wanted)


def seen_otherwise(raw: RawWorkbook, sheet: RawSheet, place: tuple[int, int], cell: RawCell, wanted: Want,
                   say: Say) -> Iterator[Problem]:
    """How a cell read shows otherwise than its value, each a shown-otherwise warning: under a merge, through its
    number format, or through a conditional format's."""
    value = _dated(cell, raw.date1904)
    if value is None or isinstance(value, bool) or shows_as_read(raw, sheet, place, cell, wanted):
        return
    code = raw.number_format(cell)
    area = sheet.merged_under(place) if sheet.merges else None
    read = shown_value(raw, cell, wanted)
    if area is not None:
        anchor = sheet.fetch(area[:2])
        yield say(Code.SHOWN_OTHERWISE, case="merged", value=read, area=f"{cell_ref(*area[:2])}:{cell_ref(*area[2:])}",
                  anchor=cell_ref(*area[:2]), shown=_as_shown(raw, anchor))
        return  # what the cell's own format would show is under the merge
    found = otherwise(value, code, wanted, date1904=raw.date1904)
    if found is not None:
        yield say(Code.SHOWN_OTHERWISE, case=None if found.shown is not None else "unsaid", value=read,
                  format=_code(code), shown=_words(found.shown))
    for code in sheet.conditional_formats(place):
        found = otherwise(value, code, wanted, date1904=raw.date1904)
        if found is not None and code == ICONS_ONLY:
            yield say(Code.SHOWN_OTHERWISE, case="icons", value=read)
        elif found is not None:
            yield say(Code.SHOWN_OTHERWISE, case="conditional", value=read, format=_code(code),
                      shown="otherwise" if found.shown is None else f"as {_words(found.shown)}")


def _dated(cell: RawCell, date1904: bool) -> str | float | bool | None:
    """A cell's value as its format takes it: a date stored as ISO text (t="d") is a date, shown as a number is."""
    if cell.kind == "d" and isinstance(cell.value, str):
        day = parse_text_date(cell.value.partition("T")[0])
        if isinstance(day, date):
            return float((day - (EPOCH_1904 if date1904 else SERIAL_EPOCH)).days)
    return cell.value


def shown_value(raw: RawWorkbook, cell: RawCell, wanted: Want) -> str:
    """A value read, as messages quote it (a date as a date)."""
    if wanted in ("date", "month") and isinstance(cell.value, float) and cell.kind == "n":
        day = serial_to_date(cell.value, date1904=raw.date1904)
        if day is not None:
            return f"{day:%d/%m/%Y}"
    return quote(as_text(cell))


def _as_shown(raw: RawWorkbook, cell: RawCell | None) -> str:
    """What a cell shows, in a message's words ("nothing" for an empty one)."""
    if cell is None or cell.value is None:
        return "nothing"
    found = otherwise(cell.value, raw.number_format(cell), "text", date1904=raw.date1904) if not isinstance(
        cell.value, bool) else None
    return _words(found.shown) if found is not None and found.shown is not None else quote(as_text(cell))


def _code(code: str) -> str:
    """A number format as messages quote it (formats are the workbook's, not personal data: shown whole, but short)."""
    return f'"{code}"' if len(code) <= 60 else f'"{code[:57]}..."'


def _words(shown: str | None) -> str:
    return "nothing" if not shown else quote(shown)
