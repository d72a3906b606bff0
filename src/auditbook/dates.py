"""Pure: the one home of dates: the accepted range, UK formatting, audit months, due dates and periods."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from auditbook.errors import AuditbookError

#: Years an audit month may name: anything else is a typing slip.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: Dates outside this window are refused by the workbook's data validation and by validate.
MIN_DATE, MAX_DATE = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
#: The months' names, in English whatever the machine's locale.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
#: Day 0 of a spreadsheet's 1900 date system: a date is stored as its number of days since then.
SERIAL_EPOCH = date(1899, 12, 30)
#: How every date is shown, in workbooks, the master and messages.
EXCEL_DATE_FORMAT = "dd/mm/yyyy"
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def uk(d: date) -> str:
    """A date as dd/mm/yyyy."""
    return f"{d:%d/%m/%Y}"


def serial(d: date) -> int:
    """A date as the spreadsheet's day number (1900 date system)."""
    return (d - SERIAL_EPOCH).days


def parse_month(text: str) -> tuple[int, int]:
    """Year and month of a "YYYY-MM" string, or AuditbookError saying how to write it."""
    m = MONTH_PATTERN.match(text.strip())
    if not m or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        raise AuditbookError(f'audit month "{text[:20]}" is not a month: write it as YYYY-MM, for example 2026-11.')
    return int(m.group(1)), int(m.group(2))


#: The forms a spreadsheet makes of a month typed as 2026-11, or a person types: (pattern, what it is).
_MONTH_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"), "ymd", "a date"),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), "dmy", "a date (day first)"),
    (re.compile(r"^(\d{1,2})[/.\-](\d{4})$"), "my", "month/year"),
    (re.compile(r"^(\d{4})/(\d{1,2})$"), "ym", "year/month"),
    (re.compile(r"^([A-Za-z]{3,9})\.?[\s\-/']*(\d{2}|\d{4})$"), "Ny", "a month name"),
)


def read_month(text: str) -> tuple[int, int, str]:
    """Year and month of a month as people and spreadsheets write it, and how it was written.

    "2026-11" is the form asked for (how: ""); also read, and named in `how`: "Nov-26" and "November 2026"
    (what Excel shows for a typed 2026-11), "01/11/2026" (day first, never US order), "2026-11-01", "11/2026".
    Raises AuditbookError saying how to write it.
    """
    cleaned = " ".join(text.split())
    if MONTH_PATTERN.match(cleaned):
        return (*parse_month(cleaned), "")
    for pattern, kind, how in _MONTH_FORMS:
        m = pattern.match(cleaned)
        if not m:
            continue
        if kind == "ymd":
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        elif kind == "dmy":
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        elif kind == "my":
            day, month, year = 1, int(m.group(1)), int(m.group(2))
        elif kind == "ym":
            day, year, month = 1, int(m.group(1)), int(m.group(2))
        else:
            word = m.group(1).lower()
            month = next((i for i, name in enumerate(MONTH_NAMES, start=1) if name.lower().startswith(word)), 0)
            year = int(m.group(2)) + (2000 if len(m.group(2)) == 2 else 0)
            day = 1
        if 1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR and 1 <= day <= calendar.monthrange(year, month)[1]:
            return year, month, how
        break
    raise AuditbookError(f'audit month "{cleaned[:20]}" is not a month: write it as YYYY-MM, for example 2026-11.')


def month_text(text: str) -> str:
    """A month as people and spreadsheets write it (see read_month), as "YYYY-MM"."""
    year, month, _how = read_month(text)
    return f"{year:04d}-{month:02d}"


def month_name(year: int, month: int) -> str:
    """A month as a person says it: November 2026."""
    return f"{MONTH_NAMES[month - 1]} {year}"


def month_end(year: int, month: int) -> date:
    """The last day of the month: audits are due by the end of the month they were requested for."""
    return date(year, month, calendar.monthrange(year, month)[1])


def audit_period(due: date) -> tuple[date, date]:
    """The two years the audit looks back over, ending on the due date: from the day after the same date two years
    before (01/12/2024 to 30/11/2026), as the bundled spec's derived "Audit period from" works it out."""
    return add_months(due, -24) + timedelta(days=1), due


def add_months(d: date, months: int) -> date:
    """The same day `months` later (earlier when negative), kept within the month as a spreadsheet's EDATE does."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def month_start(year: int, month: int) -> date:
    """The first day of the month."""
    return date(year, month, 1)
