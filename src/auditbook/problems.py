"""The one catalogue of problem codes, and Problem: one thing wrong with a returned workbook, as data.

Every code a user can see is listed here with its usual severity and what it means, as pyxform's
ErrorCode and frictionless's error classes do; messages say where, what and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from auditbook.text import shown

Severity = Literal["error", "warning"]


class Code(StrEnum):
    """Every problem code auditbook reports (the value is what JSON, the ledger and the master show)."""

    # The file itself: refused before any cell is read.
    FILE_EMPTY = "file-empty"
    FILE_TOO_LARGE = "file-too-large"
    UNREADABLE = "unreadable"
    ENCRYPTED = "encrypted"
    LEGACY_XLS = "legacy-xls"
    NOT_A_WORKBOOK = "not-a-workbook"
    CORRUPT = "corrupt"
    ZIP_BOMB = "zip-bomb"
    UNSAFE_PATH = "unsafe-path"
    MACROS = "macros"
    ACTIVE_CONTENT = "active-content"
    INTERNAL_ERROR = "internal-error"
    # Where it came from.
    NOT_AN_AUDIT_WORKBOOK = "not-an-audit-workbook"
    PROVENANCE_CONFLICT = "provenance-conflict"
    UNKNOWN_SPEC = "unknown-spec"
    # Its structure.
    SHEET_MISSING = "sheet-missing"
    SHEET_RENAMED = "sheet-renamed"
    SHEET_UNPROTECTED = "sheet-unprotected"
    NAME_MISSING = "name-missing"
    NAME_BROKEN = "name-broken"
    NAME_MOVED = "name-moved"
    FORMULA_IN_INPUT = "formula-in-input"
    # One cell's value.
    CELL_ERROR = "cell-error"
    BAD_DATE = "bad-date"
    DATE_OUT_OF_RANGE = "date-out-of-range"
    BAD_MONTH = "bad-month"
    NOT_A_NUMBER = "not-a-number"
    OUT_OF_RANGE = "out-of-range"
    NOT_IN_LIST = "not-in-list"
    TEXT_TOO_LONG = "text-too-long"
    UNSTORABLE_TEXT = "unstorable-text"
    # Completeness, applicability and time.
    REQUIRED_MISSING = "required-missing"
    ANSWERED_NOT_APPLICABLE = "answered-not-applicable"
    DUE_DATE_CHANGED = "due-date-changed"
    LATE = "late"
    COMPLETED_IN_FUTURE = "completed-in-future"
    # The spec's rules across fields.
    RULE = "rule"
    ANSWERED_UNDECIDED = "answered-undecided"
    # The collection.
    TEMPLATE_REUSED = "template-reused"
    ROUND_NOT_IN_CALENDAR = "round-not-in-calendar"
    LEDGER_DAMAGED = "ledger-damaged"


#: Each code's usual severity and what it means (for `auditbook describe --problems` and the README).
CATALOGUE: dict[Code, tuple[Severity, str]] = {
    Code.FILE_EMPTY: ("error", "The file has no bytes."),
    Code.FILE_TOO_LARGE: ("error", "The file is over the size limit for a returned workbook."),
    Code.UNREADABLE: ("error", "The file could not be opened (locked, syncing, permissions)."),
    Code.ENCRYPTED: ("error", "The workbook is password-protected as a file."),
    Code.LEGACY_XLS: ("error", "An Excel 97-2003 .xls file, not .xlsx."),
    Code.NOT_A_WORKBOOK: ("error", "Not an Excel workbook (CSV, PDF, Word, .ods, ...)."),
    Code.CORRUPT: ("error", "The workbook is damaged, or has XML no office program writes."),
    Code.ZIP_BOMB: ("error", "The workbook's contents are implausibly large."),
    Code.UNSAFE_PATH: ("error", "An internal part has a name that could escape a folder."),
    Code.MACROS: ("error", "The workbook carries macros."),
    Code.ACTIVE_CONTENT: ("error", "The workbook links out or runs something when opened (external links, DDE, "
                          "web or system calls in formulas, OLE or ActiveX objects, a VBA project, unknown parts)."),
    Code.INTERNAL_ERROR: ("error", "auditbook could not check the file: a fault to report to its maintainers."),
    Code.NOT_AN_AUDIT_WORKBOOK: ("error", "The workbook carries no auditbook template metadata."),
    Code.PROVENANCE_CONFLICT: ("error", "The template metadata's copies disagree: the workbook was altered."),
    Code.UNKNOWN_SPEC: ("error", "Made from a spec version auditbook does not know."),
    Code.SHEET_MISSING: ("error", "A section's sheet was deleted."),
    Code.SHEET_RENAMED: ("warning", "A section's sheet was renamed; read through its cell names."),
    Code.SHEET_UNPROTECTED: ("warning", "A sheet's protection was removed."),
    Code.NAME_MISSING: ("error", "An input's defined name is missing."),
    Code.NAME_BROKEN: ("error", "An input's defined name no longer points at a cell."),
    Code.NAME_MOVED: ("warning", "An input was moved; read from where its name points."),
    Code.FORMULA_IN_INPUT: ("error", "An input holds a formula instead of an answer."),
    Code.CELL_ERROR: ("error", "An input shows a spreadsheet error such as #VALUE!."),
    Code.BAD_DATE: ("error", "Not a date, or a US-order date."),
    Code.DATE_OUT_OF_RANGE: ("error", "A date outside the accepted years."),
    Code.BAD_MONTH: ("error", "Not a month written YYYY-MM."),
    Code.NOT_A_NUMBER: ("error", "Not a whole number."),
    Code.OUT_OF_RANGE: ("error", "A number outside the input's range."),
    Code.NOT_IN_LIST: ("error", "An answer that is not one of the dropdown's choices."),
    Code.TEXT_TOO_LONG: ("error", "Text longer than the input allows."),
    Code.UNSTORABLE_TEXT: ("error", "Text holding a character no workbook can store (a control character or a "
                           "broken _xD800_ escape)."),
    Code.REQUIRED_MISSING: ("error", "A required input is empty."),
    Code.ANSWERED_NOT_APPLICABLE: ("warning", "An input that does not apply has an answer; it is not counted."),
    Code.DUE_DATE_CHANGED: ("warning", "A due date typed over the one the audit month decides."),
    Code.LATE: ("warning", "Completed after the due date."),
    Code.COMPLETED_IN_FUTURE: ("warning", "Completed after the day the return was checked: a typing slip, or a date "
                                          "filled in ahead."),
    Code.RULE: ("error", "Answers that contradict each other: a rule of the spec fails (its id is given; its "
                         "severity is the rule's)."),
    Code.ANSWERED_UNDECIDED: ("warning", "An answer where whether the input applies waits for a blank answer; it "
                                         "is not counted until that is given."),
    Code.TEMPLATE_REUSED: ("warning", "One blank workbook was used for several cases."),
    Code.ROUND_NOT_IN_CALENDAR: ("warning", "The round a return names is not the one the round calendar gives its "
                                 "audit month; it is counted in the round it names."),
    Code.LEDGER_DAMAGED: ("error", "What the ledger stored for a file was altered or cannot be read back, and the "
                          "file is not there to read again."),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a returned workbook: where, what, and how to fix it."""

    severity: Severity
    code: Code
    message: str
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    #: The id of the spec's rule that reported it (code "rule"), else None.
    rule: str | None = None

    def __post_init__(self) -> None:
        # Sheet names and messages can quote what a return holds: never let it act on a screen or break a file.
        for name in ("message", "sheet", "cell", "field"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, shown(value))

    @property
    def where(self) -> str:
        """Sheet!Cell, the sheet alone, or the empty string."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def render(self) -> str:
        """The problem as one line a person reads."""
        return f"{self.where}: {self.message}" if self.where else self.message

    @classmethod
    def from_dict(cls, d: dict[str, str | None]) -> Problem:
        """A problem from its JSON form."""
        severity: Severity = "warning" if d["severity"] == "warning" else "error"
        return cls(severity, Code(str(d["code"])), str(d["message"]), d["sheet"], d["cell"], d["field"], d.get("rule"))

    def as_dict(self) -> dict[str, str | None]:
        """The JSON form."""
        out = {"severity": self.severity, "code": str(self.code), "sheet": self.sheet, "cell": self.cell,
               "field": self.field, "message": self.message}
        if self.rule is not None:
            out["rule"] = self.rule
        return out
