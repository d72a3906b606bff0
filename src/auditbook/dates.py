"""Pure: the one home of dates: the accepted range, UK formatting, audit months, due dates and periods."""

from __future__ import annotations

import calendar
import re
from datetime import date

from auditbook.errors import AuditbookError

#: Years an audit month may name: anything else is a typing slip.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: Dates outside this window are refused by the workbook's data validation and by validate.
MIN_DATE, MAX_DATE = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
#: How every date is shown, in workbooks, the master and messages.
EXCEL_DATE_FORMAT = "dd/mm/yyyy"
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def uk(d: date) -> str:
    """A date as dd/mm/yyyy."""
    return f"{d:%d/%m/%Y}"


def parse_month(text: str) -> tuple[int, int]:
    """Year and month of a "YYYY-MM" string, or AuditbookError saying how to write it."""
    m = MONTH_PATTERN.match(text.strip())
    if not m or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        raise AuditbookError(f'audit month "{text[:20]}" is not a month: write it as YYYY-MM, for example 2026-11.')
    return int(m.group(1)), int(m.group(2))


def month_end(year: int, month: int) -> date:
    """The last day of the month: audits are due by the end of the month they were requested for."""
    return date(year, month, calendar.monthrange(year, month)[1])


def audit_period(due: date) -> tuple[date, date]:
    """The two years the audit looks back over, ending on the due date."""
    start_year = due.year - 2
    day = min(due.day, calendar.monthrange(start_year, due.month)[1])
    return date(start_year, due.month, day), due


def add_months(d: date, months: int) -> date:
    """The same day `months` later (earlier when negative), kept within the month as a spreadsheet's EDATE does."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def month_start(year: int, month: int) -> date:
    """The first day of the month."""
    return date(year, month, 1)
