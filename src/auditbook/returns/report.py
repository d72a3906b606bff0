"""Report: what validating one file found, as data (its problems and, when it could be read, the audit)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditbook.fingerprint import Fingerprint
from auditbook.problems import Problem
from auditbook.returns.audit import Audit
from auditbook.returns.safety import Outline
from auditbook.returns.urgent import UrgentConcern


@dataclass
class Report:
    """The result of validating one file: its problems and, when it could be read, the audit."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    audit: Audit | None = None
    skipped: str | None = None
    #: What the file says it is (its custom properties and sheet names), when it could be read that far: how it was
    #: read, used to tell auditbook's own outputs, not part of what validating found (so not stored, not compared).
    outline: Outline | None = field(default=None, compare=False)
    #: The urgent concern the file records, taken out before validation (whatever validation then decides).
    urgent: UrgentConcern | None = None
    #: The bytes the report was made from, fingerprinted in the one open of the file (None when it was not opened).
    read: Fingerprint | None = field(default=None, compare=False)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity error (the headings over the problems one answer causes are not counted)."""
        return [p for p in self.problems if p.severity == "error" and not p.heading]

    @property
    def warnings(self) -> list[Problem]:
        """Problems of severity warning (headings not counted)."""
        return [p for p in self.problems if p.severity == "warning" and not p.heading]

    @property
    def valid(self) -> bool:
        """No errors, and the file was an audit workbook that could be read."""
        return self.audit is not None and not self.errors and self.skipped is None

    def as_dict(self) -> dict[str, object]:
        """The JSON form: file, valid, audit, problems, urgent."""
        return {
            "file": self.file,
            "valid": self.valid,
            "skipped": self.skipped,
            "audit": None if self.audit is None else self.audit.model_dump(mode="json"),
            "problems": [p.as_dict() for p in self.problems],
            "urgent": None if self.urgent is None else self.urgent.model_dump(mode="json"),
        }
