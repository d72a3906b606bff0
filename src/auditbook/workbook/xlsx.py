"""xlsxwriter plumbing shared by every workbook auditbook writes: options, strictness, small helpers."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from auditbook.errors import WorkbookError

#: Never turn text into formulas, links or numbers: what an auditor typed stays text.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


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
