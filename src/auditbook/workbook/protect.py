"""Workbook structure protection, which xlsxwriter has no call for."""

from __future__ import annotations

from typing import Any

from auditbook.workbook.xlsx import ARIAL_10, FastWorkbook


def _password_hash(password: str) -> str:
    """The legacy 16-bit hash Excel stores for sheet and workbook protection passwords (ECMA-376 Part 4)."""
    digest = 0
    for char in reversed(password):
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password) ^ 0xCE4B
    return f"{digest:X}"


class LockedWorkbook(FastWorkbook):
    """A workbook whose structure is protected, so sheets cannot be unhidden, renamed, moved or deleted.

    xlsxwriter has no call for this; the element is written where the schema puts it, straight after
    workbookPr, as the workbook part is assembled (no second pass over the file).
    """

    def __init__(self, filename: Any, *, password: str = "") -> None:
        super().__init__(filename, {"default_format_properties": ARIAL_10})
        self.structure_password = password

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        attributes: list[tuple[str, str | int]] = [("lockStructure", 1)]
        if self.structure_password:
            attributes.append(("workbookPassword", _password_hash(self.structure_password)))
        self._xml_empty_tag("workbookProtection", attributes)
