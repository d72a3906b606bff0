"""Every cell format of the audit workbook, made once per workbook."""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from auditbook.dates import EXCEL_DATE_FORMAT as DATE_FORMAT
from auditbook.workbook.xlsx import ARIAL_10

#: Each state of a cell has its own colour, each named on the Start sheet: an input (pale yellow), required and
#: still empty (amber), does not apply (grey), waiting for the answer that decides it (pale blue), and filled in
#: for you or worked out from other answers, locked (pale green).
INPUT_FILL = "#FFF8DC"
NA_FILL = "#D9D9D9"
REQUIRED_FILL = "#FFC7A0"
WAITING_FILL = "#DDEBF7"
LOCKED_FILL = "#E2EFDA"

#: What each input type adds to the input (or prefilled) cell format.
_BY_TYPE: dict[str, dict[str, Any]] = {
    "text": {"num_format": "@", "text_wrap": True},
    "long_text": {"num_format": "@", "text_wrap": True},
    "month": {"num_format": "@"},
    "date": {"num_format": DATE_FORMAT},
    "integer": {"num_format": "0"},
    "choice": {"text_wrap": True},
}


class Formats:
    """Every cell format the audit workbook uses, made once."""

    def __init__(self, wb: Workbook) -> None:
        base = {**ARIAL_10, "valign": "top"}
        inp = {**base, "locked": False, "bg_color": INPUT_FILL, "border": 1, "border_color": "#A6A6A6"}

        def f(**kw: Any) -> Format:
            return wb.add_format({**base, **kw})

        self.title = f(bold=True, font_size=14)
        self.classification = f(bold=True, font_color="#C00000")
        self.banner = f(bold=True, font_color="#9C0006", text_wrap=True)
        self.text = f(text_wrap=True)
        self.small = f(font_size=9, font_color="#404040", text_wrap=True)
        #: The criteria a section is judged against: ordinary readable type.
        self.criteria = f(text_wrap=True, italic=True)
        #: Criteria references beside a question.
        self.refs = f(font_size=9, font_color="#262626", text_wrap=True)
        #: The help under a label (a run of a rich string: font only).
        self.help_run = wb.add_format({**ARIAL_10, "italic": True, "font_color": "#404040"})
        self.bold = f(bold=True, text_wrap=True)
        self.header = f(bold=True, bg_color="#1F4E79", font_color="#FFFFFF", text_wrap=True, border=1)
        self.cell = f(text_wrap=True, border=1, border_color="#BFBFBF")
        self.cell_date = f(num_format=DATE_FORMAT, border=1, border_color="#BFBFBF", align="left")
        #: A date without a border, and the border a Summary row takes (by a conditional format) once it is in use.
        self.date = f(num_format=DATE_FORMAT, align="left")
        self.used_row = wb.add_format({"border": 1, "border_color": "#BFBFBF"})
        self.bold_date = f(bold=True, num_format=DATE_FORMAT, align="left")
        self.value = f(bottom=1, bottom_color="#BFBFBF")
        self.value_date = f(bottom=1, bottom_color="#BFBFBF", num_format=DATE_FORMAT, align="left")
        locked = {**base, "locked": True, "bg_color": LOCKED_FILL, "border": 1, "border_color": "#A6A6A6"}
        self.inputs = {kind: wb.add_format({**inp, **extra}) for kind, extra in _BY_TYPE.items()}
        self.prefilled = {kind: wb.add_format({**locked, **extra}) for kind, extra in _BY_TYPE.items()}
        self.na = wb.add_format({"bg_color": NA_FILL, "font_color": "#7F7F7F", "pattern": 1})
        self.required = wb.add_format({"bg_color": REQUIRED_FILL, "pattern": 1})
        self.waiting = wb.add_format({"bg_color": WAITING_FILL, "pattern": 1})
        self.sample_input = f(bg_color=INPUT_FILL, border=1)
        self.sample_na = f(bg_color=NA_FILL, border=1, font_color="#7F7F7F")
        self.sample_required = f(bg_color=REQUIRED_FILL, border=1)
        self.sample_waiting = f(bg_color=WAITING_FILL, border=1)
        self.sample_locked = f(bg_color=LOCKED_FILL, border=1)
        #: A Summary check that fails: Fix (an error) in red, Check (a warning) in amber, as Excel's Bad and Neutral.
        self.fix_row = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "pattern": 1})
        self.check_row = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#7F4F00", "pattern": 1})
