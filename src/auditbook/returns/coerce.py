"""Pure: turn a raw cell into the value its input expects, or say what is wrong with it."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from auditbook.dates import MAX_DATE, MAX_YEAR, MIN_DATE, MIN_YEAR, SERIAL_EPOCH
from auditbook.problems import Code
from auditbook.returns.reader import RawCell
from auditbook.spec.layout import NOT_APPLICABLE_CHOICE, Input
from auditbook.text import folded, norm, shown, unstorable

#: Day 0 of a workbook that counts its dates from 1904 (workbookPr date1904).
EPOCH_1904 = date(1904, 1, 1)
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Bad:
    """Why a cell's value cannot be taken: a catalogue code (and case) and the values its words name."""

    code: Code
    values: Mapping[str, object] = field(default_factory=dict)
    case: str | None = None


def _bad(code: Code, case: str | None = None, **values: object) -> Bad:
    return Bad(code, values, case)


Coerced = str | int | date | None


def quote(text: str) -> str:
    """An entry as messages quote it: a short one in quotes, a long one only by its length (a mistyped cell can
    hold anything, a name included)."""
    if len(text) > 24:
        return f"the entry ({len(text)} characters)"
    return '"' + text.replace("\n", " ") + '"'


def serial_to_date(serial: float, *, date1904: bool = False) -> date | None:
    """A spreadsheet date serial as a date, or None when it is no date at all (negative, or past year 9999)."""
    try:
        return (EPOCH_1904 if date1904 else SERIAL_EPOCH) + timedelta(days=int(serial))
    except (OverflowError, ValueError):
        return None


def parse_text_date(text: str) -> date | Bad:
    """A date typed as text: UK day-first (31/12/2026, 31-12-2026) or ISO (2026-12-31); never US order."""
    t = text.strip()
    m = _ISO_DATE.match(t)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _UK_DATE.match(t)
        if m:
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if month > 12 and day <= 12:
                return _bad(Code.BAD_DATE, case="us-order", value=quote(t), day_first=f"{month:02d}/{day:02d}/{year}")
            return date(year, month, day)
    except ValueError:
        return _bad(Code.BAD_DATE, case="not-real", value=quote(t))
    return _bad(Code.BAD_DATE, value=quote(t))


def as_text(cell: RawCell) -> str:
    """A cell's value as text, as a person typed it: a whole number without its ".0", TRUE or FALSE."""
    v = cell.value
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return "" if v is None else v


def _date(inp: Input, cell: RawCell, date1904: bool) -> date | Bad:
    v = cell.value
    if isinstance(v, float) and cell.kind == "n":
        serial = serial_to_date(v, date1904=date1904) if v >= 1 else None
        if serial is None:
            return _bad(Code.BAD_DATE, value=f"{v:g}")
        d = serial
    elif isinstance(v, str):
        parsed = parse_text_date(v)
        if isinstance(parsed, Bad):
            return parsed
        d = parsed
    else:
        return _bad(Code.BAD_DATE, value=quote(as_text(cell)))
    if not MIN_DATE <= d <= MAX_DATE:
        return _bad(Code.DATE_OUT_OF_RANGE, value=f"{d:%d/%m/%Y}", first=f"{MIN_DATE:%Y}", last=f"{MAX_DATE:%Y}")
    return d


def _integer(inp: Input, cell: RawCell) -> int | Bad:
    v = cell.value
    number: float | None = None
    if isinstance(v, float) and not isinstance(v, bool):
        number = v
    elif isinstance(v, str) and re.fullmatch(r"\s*-?\d+(\.0*)?\s*", v):
        number = float(v)
    if number is None or not number.is_integer():
        return _bad(Code.NOT_A_NUMBER, value=quote(as_text(cell)))
    n = int(number)
    if (inp.min is not None and n < inp.min) or (inp.max is not None and n > inp.max):
        return _bad(Code.OUT_OF_RANGE, value=n, min=inp.min, max=inp.max)
    return n


@functools.lru_cache(maxsize=256)
def _canonical(choices: tuple[str, ...]) -> dict[str, str | None]:
    table: dict[str, str | None] = {norm(c): c for c in choices}
    table[norm(NOT_APPLICABLE_CHOICE)] = None
    return table


def _choice(inp: Input, cell: RawCell) -> str | Bad | None:
    text = as_text(cell)
    table = _canonical(inp.choices)
    key = norm(text)
    if key in table:
        return table[key]
    listed = ", ".join(inp.choices) if len(inp.choices) <= 8 else ", ".join(inp.choices[:8]) + ", ..."
    return _bad(Code.NOT_IN_LIST, value=quote(text), choices=listed)


def _month(inp: Input, cell: RawCell, date1904: bool) -> str | Bad:
    v = cell.value
    d = serial_to_date(v, date1904=date1904) if isinstance(v, float) and cell.kind == "n" and v >= 1 else None
    if d is not None and MIN_YEAR <= d.year <= MAX_YEAR:
        return f"{d.year:04d}-{d.month:02d}"
    m = _MONTH.match(as_text(cell).strip())
    if m and 1 <= int(m.group(2)) <= 12 and MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return _bad(Code.BAD_MONTH, value=quote(as_text(cell)))


def coerce(inp: Input, cell: RawCell | None, *, date1904: bool = False, fold: bool = False) -> Coerced | Bad:
    """The input's value from its cell: None when empty, a Bad when it cannot be taken (its values say what is
    wrong with the value; the caller names the field). With `fold`, text is read as a person reads it
    (text.folded: a case reference or team written with look-alike characters is the one meant)."""
    if cell is None or cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()):
        return None
    if cell.kind == "e":
        return _bad(Code.CELL_ERROR, error=cell.value)
    if inp.type == "date":
        return _date(inp, cell, date1904)
    if inp.type == "integer":
        return _integer(inp, cell)
    if inp.type == "choice":
        return _choice(inp, cell)
    if inp.type == "month":
        return _month(inp, cell, date1904)
    return _free_text(inp, cell, fold)


def _free_text(inp: Input, cell: RawCell, fold: bool) -> str | Bad | None:
    text = as_text(cell)
    bad = unstorable(text)
    if bad is not None:
        return _bad(Code.UNSTORABLE_TEXT, character=bad)
    if fold:
        text = folded(text)
        if not text.strip():
            return None  # nothing but characters nobody sees
    # Bidirectional overrides could make a case reference or name read differently on screen: shown escaped.
    text = shown(text, keep_lines=True)
    if len(text) > inp.max_length:
        return _bad(Code.TEXT_TOO_LONG, length=len(text), most=inp.max_length)
    return text


def as_condition_text(value: Coerced) -> str | None:
    """A value as the text conditions compare against."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    return str(value)
