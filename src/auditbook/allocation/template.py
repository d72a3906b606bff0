"""An empty allocation list as a workbook: the columns `allocate` reads, the audit month as text with a dropdown.

Excel turns a month typed as 2026-11 into the date 01/11/2026 (shown as Nov-26) in an ordinary cell; here the
month column is text, so what is typed or picked stays 2026-11. The reader accepts the other forms anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from auditbook.allocation.lists import REQUIRED, template_columns, template_csv
from auditbook.atomic import replacing
from auditbook.dates import month_name, parse_month
from auditbook.errors import AuditbookError
from auditbook.workbook.xlsx import ARIAL_10, FastWorkbook, ok, strict

SHEET = "Allocation"
MONTHS_SHEET = "Months"
#: Rows given formats, dropdowns and prompts (a round rarely allocates more).
ROWS = 500
#: The dropdown offers the months from this many before the current one to this many after.
MONTHS_BACK, MONTHS_AHEAD = 2, 24
_WIDTHS = {"case_ref": 18, "team": 22, "worker": 24, "team_manager": 24, "auditor": 24, "month": 22, "round": 18}


def month_choices(today: date) -> list[str]:
    """The months the dropdown offers, as YYYY-MM."""
    first = today.year * 12 + today.month - 1 - MONTHS_BACK
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, first + MONTHS_BACK + MONTHS_AHEAD + 1)]


def write_template(out: Path, fmt: str, rows: Sequence[Mapping[str, str]] = (), *,
                   name: str = "allocation-template") -> Path:
    """An allocation list in `fmt` (csv or xlsx), empty or filled with `rows` (by column key, e.g. the cases due for
    re-audit): at `out` when it names such a file, else as `name` in that folder."""
    kind = fmt.strip().lower().lstrip(".")
    if kind not in ("csv", "xlsx"):
        raise AuditbookError(f"--format {fmt[:20]} is not a format: give csv or xlsx.")
    target = out if out.suffix.lower() == f".{kind}" else out / f"{name}.{kind}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "xlsx":
            return write_template_xlsx(target, rows=rows)
        target.write_text(template_csv(rows), encoding="utf-8")
    except OSError as err:
        raise AuditbookError(f"{target}: cannot write the template ({err}).") from None
    return target


def write_template_xlsx(out: Path, *, today: date | None = None, classification: str = "OFFICIAL-SENSITIVE",
                        rows: Sequence[Mapping[str, str]] = ()) -> Path:
    """Write the allocation workbook, empty or filled with `rows`, to `out` (atomically) and return the path."""
    months = month_choices(today or date.today())
    example = months[MONTHS_BACK]
    with replacing(out) as tmp, strict():
        wb = FastWorkbook(str(tmp), {"default_format_properties": ARIAL_10})
        head = wb.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "text_wrap": True,
                              "valign": "top", "border": 1})
        text = wb.add_format({"num_format": "@"})
        ws = wb.add_worksheet(SHEET)
        lists = wb.add_worksheet(MONTHS_SHEET)
        for i, value in enumerate(months):
            lists.write_string(i, 0, value)
        lists.hide()
        ok(wb.define_name("allocation_months", f"='{MONTHS_SHEET}'!$A$1:$A${len(months)}"), "the months list")
        columns = template_columns(bool(rows))
        for r, row in enumerate(rows, start=1):
            for col, (key, _label, _aliases) in enumerate(columns):
                ws.write_string(r, col, row.get(key, ""))
        for col, (key, label, _aliases) in enumerate(columns):
            ws.write_string(0, col, label + (" *" if key in REQUIRED and not label.endswith("*") else ""), head)
            ws.set_column(col, col, _WIDTHS.get(key, 20), text)  # every column text: nothing is turned into a date
            if key == "month":
                ok(ws.data_validation(1, col, ROWS, col, {
                    "validate": "list", "source": "=allocation_months", "error_type": "warning",
                    "input_title": "Audit month",
                    "input_message": f"Pick the month from the list, or type it as YYYY-MM (for example "
                                     f"{example}, {month_name(*parse_month(example))}).",
                    "error_title": "Not a month from the list",
                    "error_message": "Write the month as YYYY-MM, for example 2026-11. Keep it anyway?"}),
                   "the month dropdown")
            if key == "round":
                ok(ws.data_validation(1, col, ROWS, col, {
                    "validate": "any", "input_title": "Round (optional)",
                    "input_message": "Leave blank to use the audit month, or the round your settings file gives "
                                     "it."}), "the round prompt")
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_header(f'&C&"Arial,Bold"{classification}')
        ws.activate()
        wb.set_properties({"title": "Deep Dive allocation list", "category": classification})
        wb.close()
    return out
