"""AuditbookError and its few subclasses: fatal problems, never bad cell values."""

from auditbook.problems import Code


class AuditbookError(Exception):
    """A problem that stops a command; the message says where, what and how to fix it."""


class SpecError(AuditbookError):
    """The spec file is missing, unreadable or invalid."""


class WorkbookError(AuditbookError):
    """A workbook could not be written, or xlsxwriter warned about something it was asked to do."""


class UnreadableFileError(AuditbookError):
    """A returned file cannot be opened as an audit workbook at all."""

    def __init__(self, message: str, *, code: Code) -> None:
        super().__init__(message)
        self.code = code


class CollectError(AuditbookError):
    """Collection cannot go ahead (folder missing, master not writable, another collect running)."""
