"""What a number format shows (returns/numfmt.py), and text read as a person reads it (text.folded, norm)."""

from __future__ import annotations

import unicodedata

import pytest

from auditbook.returns.numfmt import Otherwise, Want, otherwise
from auditbook.text import folded, look_alikes, norm, skeleton

SERIAL = 46343.0  # 17/11/2026

#: (value, format, what the cell is meant to show) -> None when shown as it is, else what is shown instead.
FORMATS: list[tuple[str | float, str, Want, Otherwise | None]] = [
    # Text shows as it is unless a text section shows something else.
    ("Outstanding", "General", "text", None),
    ("Outstanding", "@", "text", None),
    ("Outstanding", "0", "text", None),  # no text section
    ("Outstanding", "[Red]@", "text", None),
    ("Outstanding", "_-@_-", "text", None),  # padding, as accounting formats have
    ("Outstanding", ';;;"Requires improvement"', "text", Otherwise("Requires improvement")),
    ("Outstanding", '@" (agreed)"', "text", Otherwise("Outstanding (agreed)")),
    ("Outstanding", ";;;", "text", Otherwise("")),
    # Whole numbers: placeholders, General or @, a minus sign.
    (16.0, "0", "number", None),
    (16.0, "#,##0", "number", None),
    (16.0, "@", "number", None),
    (-5.0, "0", "number", None),
    (16.0, '0" years"', "number", Otherwise("16 years")),
    (16.0, '"5"', "number", Otherwise("5")),
    (16.0, ";;;", "number", Otherwise("")),
    (0.0, '0;-0;"none"', "number", Otherwise("none")),
    (16.0, 'General" yrs"', "number", Otherwise("16 yrs")),
    (16.0, "dd/mm/yyyy", "number", Otherwise("16/01/1900")),
    (16.0, "0%", "number", Otherwise(None)),
    (1234.0, "0,", "number", Otherwise(None)),  # in thousands
    (16.0, "0.00E+00", "number", Otherwise(None)),
    (16.0, "# ?/?", "number", Otherwise(None)),
    (16.0, '[>10]"big";0', "number", Otherwise(None)),
    (16.0, "[DBNum1]0", "number", Otherwise(None)),
    # Dates: day, month and year, day before month, no words.
    (SERIAL, "dd/mm/yyyy", "date", None),
    (SERIAL, "DD/MM/YYYY", "date", None),  # as LibreOffice writes it
    (SERIAL, "[$-809]dd/mm/yyyy;@", "date", None),  # as Excel writes a UK date chosen from its list
    (SERIAL, "d mmmm yyyy", "date", None),
    (SERIAL, "dd/mm/yyyy hh:mm", "date", None),
    (SERIAL, "mm/dd/yyyy", "date", Otherwise("11/17/2026")),
    (SERIAL, '"01/01/2020"', "date", Otherwise("01/01/2020")),
    (SERIAL, "General", "date", Otherwise("46343")),
    (SERIAL, "#,##0", "date", Otherwise("46,343")),
    (SERIAL, "d-mmm", "date", Otherwise("17-Nov")),
    (SERIAL, "mmm-yy", "date", Otherwise("Nov-26")),
    (SERIAL, "mm-yyyy", "month", None),
    (SERIAL, "yyyy", "month", Otherwise("2026")),
]


@pytest.mark.parametrize(("value", "code", "want", "shown"), FORMATS)
def test_what_a_number_format_shows(value: str | float, code: str, want: Want, shown: Otherwise | None) -> None:
    assert otherwise(value, code, want) == shown


def test_a_1904_workbook_shows_its_dates_from_1904() -> None:
    assert otherwise(SERIAL - 1462, "mm/dd/yyyy", "date", date1904=True) == Otherwise("11/17/2026")


NFD = unicodedata.normalize("NFD", "Équipe Nord")


@pytest.mark.parametrize(("written", "read", "what"), [
    ("SYN-0003", "SYN-0003", []),
    ("SYN\u20110003", "SYN-0003", ["a non-breaking hyphen (U+2011)"]),
    ("SYN\u20130003", "SYN-0003", ["an en dash (U+2013)"]),
    ("SYN-000\u200b3", "SYN-0003", ["a zero width space (U+200B)"]),
    ("\u202eSYN-0003", "SYN-0003", ["a right-to-left override (U+202E)"]),
    ("\uff33\uff39\uff2e-\uff10\uff10\uff10\uff13", "SYN-0003", ["full-width characters"]),
    (NFD, "Équipe Nord", []),  # composing an accent changes nothing a person sees: no warning
])
def test_text_is_read_as_a_person_reads_it(written: str, read: str, what: list[str]) -> None:
    assert (folded(written), look_alikes(written)) == (read, what)
    assert norm(written) == norm(read)


def test_look_alike_sheet_names_have_one_skeleton() -> None:
    assert skeleton("Ov\u0435rall judgement") == skeleton("Overall judgement") == "overall judgement"
    assert skeleton("2 Child\u2019s Voice") == skeleton("2 Child's Voice")
    assert skeleton("Case profile") != skeleton("Case profiles")
