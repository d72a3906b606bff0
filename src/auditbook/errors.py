"""AuditbookError and its few subclasses: fatal problems, never bad cell values."""

from __future__ import annotations

from auditbook.fingerprint import Fingerprint
from auditbook.problems import Code, KeyProblem, words


class AuditbookError(Exception):
    """A problem that stops a command; the message says where, what and how to fix it."""


class SpecError(AuditbookError):
    """The spec file is missing, unreadable or invalid (then with its problems as data)."""

    def __init__(self, message: str, problems: tuple[KeyProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class WorkbookError(AuditbookError):
    """A workbook could not be written, or xlsxwriter warned about something it was asked to do."""


class UnreadableFileError(AuditbookError):
    """A returned file cannot be opened as an audit workbook at all."""

    def __init__(self, message: str, *, code: Code, read: Fingerprint | None = None) -> None:
        super().__init__(message)
        self.code = code
        #: What was read of the file before it was refused (None when it could not be opened).
        self.read = read

    @classmethod
    def of(cls, code: Code, case: str | None = None, *, file: str | None = None,
           **values: object) -> UnreadableFileError:
        """The refusal a code reports, in the catalogue's words (after the file's name, when given)."""
        text = words(code, case, **values)
        return cls(f"{file}: {text}" if file else text, code=code)


class CollectError(AuditbookError):
    """Collection cannot go ahead (folder missing, master not writable, another collect running)."""
