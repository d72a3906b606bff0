"""Problem and Report: what validate finds, as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from auditbook.returns.audit import Audit

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a returned workbook: where, what, and how to fix it."""

    severity: Severity
    code: str
    message: str
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None

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
        return cls(severity, str(d["code"]), str(d["message"]), d["sheet"], d["cell"], d["field"])

    def as_dict(self) -> dict[str, str | None]:
        """The JSON form."""
        return {"severity": self.severity, "code": self.code, "sheet": self.sheet, "cell": self.cell,
                "field": self.field, "message": self.message}


@dataclass
class Report:
    """The result of validating one file: its problems and, when it could be read, the audit."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    audit: Audit | None = None
    skipped: str | None = None

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity error."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems of severity warning."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        """No errors, and the file was an audit workbook that could be read."""
        return self.audit is not None and not self.errors and self.skipped is None

    def as_dict(self) -> dict[str, object]:
        """The JSON form: file, valid, audit, problems."""
        return {
            "file": self.file,
            "valid": self.valid,
            "skipped": self.skipped,
            "audit": None if self.audit is None else self.audit.model_dump(mode="json"),
            "problems": [p.as_dict() for p in self.problems],
        }
