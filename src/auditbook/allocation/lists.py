"""The allocation list: which cases each auditor audits, for which month. Read from CSV or xlsx."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from auditbook.dates import (
    MAX_DATE,
    MIN_DATE,
    SERIAL_EPOCH,
    month_name,
    month_text,
    parse_month,
    read_month,
    serial,
    uk,
)
from auditbook.errors import AuditbookError
from auditbook.local import RoundCalendar
from auditbook.returns.safety import open_checked
from auditbook.text import csv_text, norm, plural, slug
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
#: A re-audit's column: the instance id of the audit it follows up. Only a template filled for re-audit has it.
FOLLOWS_UP: tuple[str, str, tuple[str, ...]] = ("follows_up", "Follows up audit", ("follows up", "re-audit of"))
#: An optional column the template leaves out: "Moderation" on a row that tracks a moderation (allocate --moderate
#: writes such rows, the moderator in the Auditor column); blank or "Audit" on an audit's.
KIND_HEADERS = ("kind", "work")
MODERATION_KIND = "moderation"
#: Spreadsheet day numbers of the years an audit month may name (2000 to 2100).
SERIAL_RANGE = (serial(MIN_DATE), serial(MAX_DATE))


class AllocationError(AuditbookError):
    """The allocation list cannot be used; the message lists every bad row."""


class AllocationFileError(AllocationError):
    """The allocation list cannot be read at all (missing, a folder, locked, not text): a usage error."""


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
    #: The audit month as the list wrote it, when that was not YYYY-MM ("Nov-26", "01/11/2026").
    month_written: str = ""
    #: The round as it was derived from the round calendar, when the list named none.
    round_derived: bool = False
    #: The round the round calendar gives the audit month, when the list named another.
    calendar_round: str = ""
    #: A re-audit: the instance id of the audit it follows up, carried in the workbook's metadata.
    follows_up: str = ""
    #: "moderation" for a moderation of the case's audit (tracked on the Returns tab, written by allocate --moderate);
    #: "" for an audit.
    kind: str = ""

    @property
    def note(self) -> str:
        """What was read in another form than asked for, or derived, as a person would want it said."""
        notes = []
        if self.month_written:
            notes.append(f'audit month "{self.month_written}" read as {month_name(*parse_month(self.month))} '
                         f"({self.month})")
        if self.round_derived:
            notes.append(f"round {self.round} from the round calendar")
        if self.kind == MODERATION_KIND:
            notes.append("a moderation: tracked on the Returns tab; allocate --moderate writes moderation workbooks")
        if self.calendar_round:
            notes.append(f'warning: round "{self.round}" is not the one the round calendar gives '
                         f'{month_name(*parse_month(self.month))} ("{self.calendar_round}"); the workbook says '
                         f'"{self.round}". Check the round, or the calendar in auditbook.toml')
        return "; ".join(notes)

    @property
    def round_key(self) -> str:
        """The round the return will carry: the round named, else the month."""
        return self.round or self.month


class RowProblem(NamedTuple):
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
        # Excel turns a typed 2026-11 into the date 01/11/2026: shown as the person sees it, and read as a month.
        return uk(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(header: list[str], source: str) -> dict[str, int]:
    wanted = {norm(h): key for key, label, aliases in (*COLUMNS, FOLLOWS_UP)
              for h in (key.replace("_", " "), label, *aliases)}
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        key = wanted.get(norm(h.strip().rstrip("*")))  # "Team *": the template marks required columns
        if key and key not in found:
            found[key] = i
        elif norm(h) in KIND_HEADERS and "kind" not in found:
            found["kind"] = i
    missing = [label for key, label, _ in COLUMNS if key in REQUIRED and key not in found]
    if missing:
        raise AllocationError(f"{source}: row 1 (the header) has no column for {', '.join(missing)}. Start from "
                              "`auditbook allocate --template`.")
    return found


def read_allocation(path: Path, *, rounds: RoundCalendar | None = None) -> tuple[list[Allocated], list[RowProblem]]:
    """Every good row and every bad row (by its row number in the file) of an allocation list.

    A row that names no round gets the one the round calendar gives its audit month, if any.
    """
    cells = _cells(path)
    if not cells:
        raise AllocationError(f"{path}: the allocation list is empty. Start from `auditbook allocate --template`.")
    cols = _header_map(cells[0], str(path))
    if not any(any(c for c in row) for row in cells[1:]):
        raise AllocationError(f"{path}: the allocation list has no cases: add one row per case under the header.")
    good: list[Allocated] = []
    bad: list[RowProblem] = []
    #: The row that took each workbook (case and round, as the file name has them).
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in enumerate(cells[1:], start=2):
        values = {key: (row[i] if i < len(row) else "").strip() for key, i in cols.items()}
        if any(values.values()):
            read = _allocated(number, values, rounds, seen)
            if isinstance(read, RowProblem):
                bad.append(read)
            else:
                good.append(read)
    return good, bad


def _cells(path: Path) -> list[list[str]]:
    """The allocation list's cells, row by row, from CSV or xlsx; AllocationFileError when it cannot be read."""
    try:
        if path.is_dir():
            raise IsADirectoryError(path)
        if not path.exists():
            raise FileNotFoundError(path)
        return _cells_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _cells_csv(path)
    except FileNotFoundError:
        raise AllocationFileError(f"{path}: no such file. Give the allocation list's path (CSV or xlsx), or make "
                                  "one with `auditbook allocate --template`.") from None
    except IsADirectoryError:
        raise AllocationFileError(f"{path} is a folder. Give the allocation list itself (CSV or xlsx).") from None
    except PermissionError:
        raise AllocationFileError(f"{path}: cannot be opened (permission denied). Close it if it is open in Excel, "
                                  "or check you can read it.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise AllocationFileError(f"{path}: cannot read the allocation list ({err}). Save it as CSV (UTF-8) or "
                                  ".xlsx.") from None


def _allocated(number: int, values: dict[str, str], rounds: RoundCalendar | None,
               seen: dict[tuple[str, str, str], int]) -> Allocated | RowProblem:
    """One row with something in it: the case it allocates (its round from the calendar when it names none), or
    what is wrong with it. `seen` gains the workbook it takes."""
    written = values.get("month", "")
    if written:
        values["month"] = _serial_month(written)
    problems = _row_problems(values)
    month = month_text(values["month"]) if not problems else ""
    derived = rounds.round_of(month) if rounds is not None and month and not values.get("round") else None
    round_name = values.get("round") or derived or ""
    # Keyed as the file name will be, so two rows can never write the same workbook.
    kind = MODERATION_KIND if norm(values.get("kind", "")) == MODERATION_KIND else ""
    key = (slug(values.get("case_ref", "")), slug(round_name or month or values.get("month", "")), kind)
    if not problems and key in seen:
        problems.append(f"case {values['case_ref']} is already allocated in row {seen[key]} for the same round")
    if problems:
        return RowProblem(number, "; ".join(problems))
    seen[key] = number
    contradicts = rounds.contradicts(round_name, month) if rounds is not None and derived is None else None
    return Allocated(number, values["case_ref"], values["team"], values.get("worker", ""),
                     values.get("team_manager", ""), values["auditor"], month, round_name,
                     month_written=written if written != month else "", round_derived=derived is not None,
                     calendar_round=contradicts or "", kind=kind,
                     follows_up=values.get("follows_up", "")[:64])


def _serial_month(text: str) -> str:
    """A date stored as a spreadsheet day number in a text column (LibreOffice keeps 46327 there) as dd/mm/yyyy."""
    if re.fullmatch(r"\d{5}(\.0+)?", text) and SERIAL_RANGE[0] <= int(float(text)) <= SERIAL_RANGE[1]:
        return uk(SERIAL_EPOCH + timedelta(days=int(float(text))))
    return text


def _row_problems(values: dict[str, str]) -> list[str]:
    labels = {key: label for key, label, _ in COLUMNS}
    out = [f"{labels[k]} is missing" for k in REQUIRED if not values.get(k)]
    if norm(values.get("kind", "")) not in ("", "audit", MODERATION_KIND):
        out.append(f'kind "{values["kind"][:20]}" is neither Audit nor Moderation')
    if len(values.get("case_ref", "")) > MAX_CASE_REF:
        out.append(f"the case reference is longer than {MAX_CASE_REF} characters: use the case number only")
    month = values.get("month", "")
    if month:
        try:
            read_month(month)
        except AuditbookError:
            out.append(f'audit month "{month[:20]}" is not a month: write it as YYYY-MM, for example 2026-11 '
                       "(Nov-26, November 2026 and 01/11/2026 are read too)")
    return out


def bad_rows_message(path: Path, bad: list[RowProblem]) -> str:
    """The allocation list's bad rows, one line each under a line naming the file."""
    return "\n".join([f"{path}: {plural(len(bad), 'row')} cannot be used:",
                      *(f"  row {b.row}: {b.message}" for b in bad)])


def template_columns(filled: bool = False) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The template's columns: with "Follows up audit" when it is filled for re-audit."""
    return (*COLUMNS, FOLLOWS_UP) if filled else COLUMNS


def template_csv(rows: Sequence[Mapping[str, str]] = ()) -> str:
    """An allocation list with the expected headers: empty, or filled with these rows (by column key)."""
    columns = template_columns(bool(rows))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label, _ in columns])
    # Filled from returns (untrusted): nothing in it may run as a formula when the list is opened.
    writer.writerows([[csv_text(row.get(key, "")) for key, _, _ in columns] for row in rows])
    return buf.getvalue()
