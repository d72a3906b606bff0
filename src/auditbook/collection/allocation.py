"""The allocation list: which cases each auditor audits, for which month. Read from CSV or xlsx."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from auditbook.dates import month_end, parse_month
from auditbook.errors import AuditbookError
from auditbook.returns.safety import open_checked
from auditbook.text import norm, slug
from auditbook.workbook.generate import MAX_CASE_REF

#: Column key, the header a template gets, and other headers people write for it.
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("case_ref", "Case reference", ("case ref", "case", "case number", "case id")),
    ("team", "Team", ()),
    ("worker", "Allocated worker", ("worker", "social worker")),
    ("team_manager", "Team manager", ("manager", "line manager")),
    ("auditor", "Auditor", ()),
    ("month", "Audit month (YYYY-MM)", ("audit month", "month")),
    ("round", "Round (optional)", ("round", "audit round")),
)
REQUIRED = ("case_ref", "team", "auditor", "month")


class AllocationError(AuditbookError):
    """The allocation list cannot be used; the message lists every bad row."""


@dataclass(frozen=True)
class Allocated:
    """One allocated case."""

    row: int
    case_ref: str
    team: str
    worker: str
    team_manager: str
    auditor: str
    month: str
    round: str

    @property
    def due(self) -> date:
        """The end of the audit month: when the audit is due."""
        return month_end(*parse_month(self.month))

    @property
    def round_key(self) -> str:
        """The round the return will carry: the round named, else the month."""
        return self.round or self.month


@dataclass(frozen=True)
class RowProblem:
    """A bad row of the allocation list."""

    row: int
    message: str


def _cells_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    if raw.startswith(b"\xff\xfe"):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel's "CSV (Comma delimited)" on a UK machine saves Windows-1252, not UTF-8.
            text = raw.decode("cp1252", errors="replace")
    dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t") if text.strip() else csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def _cells_xlsx(path: Path) -> list[list[str]]:
    import openpyxl  # only when an allocation list is a workbook: it is slow to import

    open_checked(path).close()  # the same refusals as for returns: encrypted, .xls, zip bombs
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in row])
        return rows
    finally:
        wb.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(header: list[str], source: str) -> dict[str, int]:
    wanted = {norm(h): key for key, label, aliases in COLUMNS for h in (key.replace("_", " "), label, *aliases)}
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        key = wanted.get(norm(h))
        if key and key not in found:
            found[key] = i
    missing = [label for key, label, _ in COLUMNS if key in REQUIRED and key not in found]
    if missing:
        raise AllocationError(f"{source}: row 1 (the header) has no column for {', '.join(missing)}. Start from "
                              "`auditbook allocate --template`.")
    return found


def read_allocation(path: Path) -> tuple[list[Allocated], list[RowProblem]]:
    """Every good row and every bad row (by its row number in the file) of an allocation list."""
    try:
        cells = _cells_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _cells_csv(path)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise AllocationError(f"{path}: cannot read the allocation list ({err}). Save it as CSV (UTF-8) or "
                              ".xlsx.") from None
    if not cells:
        raise AllocationError(f"{path}: the allocation list is empty. Start from `auditbook allocate --template`.")
    cols = _header_map(cells[0], str(path))
    if not any(any(c for c in row) for row in cells[1:]):
        raise AllocationError(f"{path}: the allocation list has no cases: add one row per case under the header.")
    good: list[Allocated] = []
    bad: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(cells[1:], start=2):
        values = {key: (row[i] if i < len(row) else "").strip() for key, i in cols.items()}
        if not any(values.values()):
            continue
        problems = _row_problems(values)
        # Keyed as the file name will be, so two rows can never write the same workbook.
        key = (slug(values.get("case_ref", "")), slug(values.get("round") or values.get("month", "")))
        if not problems and key in seen:
            problems.append(f"case {values['case_ref']} is already allocated in row {seen[key]} for the same round")
        if problems:
            bad.append(RowProblem(number, "; ".join(problems)))
            continue
        seen[key] = number
        good.append(Allocated(number, values["case_ref"], values["team"], values.get("worker", ""),
                              values.get("team_manager", ""), values["auditor"], _month(values["month"]),
                              values.get("round", "")))
    return good, bad


def _month(text: str) -> str:
    year, month = parse_month(text)
    return f"{year:04d}-{month:02d}"


def _row_problems(values: dict[str, str]) -> list[str]:
    labels = {key: label for key, label, _ in COLUMNS}
    out = [f"{labels[k]} is missing" for k in REQUIRED if not values.get(k)]
    if len(values.get("case_ref", "")) > MAX_CASE_REF:
        out.append(f"the case reference is longer than {MAX_CASE_REF} characters: use the case number only")
    month = values.get("month", "")
    if month:
        try:
            parse_month(month)
        except AuditbookError:
            out.append(f'audit month "{month[:20]}" is not a month: write it as YYYY-MM, for example 2026-11')
    return out


def template_csv() -> str:
    """An empty allocation list with the expected headers."""
    buf = io.StringIO()
    csv.writer(buf).writerow([label for _, label, _ in COLUMNS])
    return buf.getvalue()
