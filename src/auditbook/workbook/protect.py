"""Workbook structure protection, which xlsxwriter has no call for."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from auditbook.errors import WorkbookError


def _password_hash(password: str) -> str:
    """The legacy 16-bit hash Excel stores for sheet and workbook protection passwords (ECMA-376 Part 4)."""
    digest = 0
    for char in reversed(password):
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password) ^ 0xCE4B
    return f"{digest:X}"


def lock_structure(path: Path, *, password: str = "") -> None:
    """Protect the workbook's structure, so sheets cannot be unhidden, renamed, moved or deleted.

    xlsxwriter has no call for this, so the element is added to xl/workbook.xml afterwards.
    """
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    attrs = ' lockStructure="1"' + (f' workbookPassword="{_password_hash(password)}"' if password else "")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "xl/workbook.xml":
                data, n = re.subn(rb"(<workbookPr\b[^>]*/>)", rb"\1<workbookProtection" + attrs.encode() + b"/>",
                                  data, count=1)
                if n != 1:
                    raise WorkbookError("could not protect the workbook structure: xl/workbook.xml has no workbookPr.")
            zf.writestr(info, data)
