"""A workbook's number formats, read from its styles part: the format each cell format gives a cell, and the formats
its conditional formats may give one. shown.py says whether a format shows a value as it is.

Every return of a template carries the same styles part byte for byte, so a part read once is not parsed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from auditbook.errors import UnreadableFileError
from auditbook.problems import Code
from auditbook.returns.safety import parse_part

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
GENERAL = "General"
#: The built-in formats, as Excel shows them in the UK (14 and 22 are the system's short date, day first there).
BUILT_IN = {
    0: GENERAL, 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?",
    13: "# ??/??", 14: "dd/mm/yyyy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "dd/mm/yyyy h:mm", 37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss",
    46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}
#: What a built-in format auditbook does not know is called (currency and accounting formats, Asian dates).
UNKNOWN = "[built-in {}]"


@dataclass(frozen=True)
class Styles:
    """The number format of each cell format (by index), and of each conditional format's style that has one."""

    formats: tuple[str, ...] = (GENERAL,)
    conditional: dict[int, str] = field(default_factory=dict)


_read: dict[bytes, Styles] = {}
_MAX_KEPT = 64


def read_styles(data: bytes, member: str) -> Styles:
    """The number formats of a styles part, or the refusal of one that gives a format two ways."""
    styles = _read.get(data)
    if styles is None:
        styles = _styles(parse_part(data, member), member)
        if len(_read) >= _MAX_KEPT:
            _read.pop(next(iter(_read)))
        _read[data] = styles
    return styles


def _styles(root: Element, member: str) -> Styles:
    if root.tag != f"{_MAIN}styleSheet":
        raise UnreadableFileError.of(Code.CORRUPT, case="not-a-part", part=member, kind="styleSheet")
    codes: dict[int, str] = {}
    for fmt in _children(root, "numFmts", "numFmt", member):
        number, code = _number(fmt.get("numFmtId")), fmt.get("formatCode", "")
        if number is None or codes.setdefault(number, code) != code:
            raise _twice(member, f"number format {fmt.get('numFmtId', '')[:10]}")
    formats = tuple(_code(xf, codes) for xf in _children(root, "cellXfs", "xf", member))
    conditional = {}
    for index, dxf in enumerate(_children(root, "dxfs", "dxf", member)):
        found = dxf.find(f"{_MAIN}numFmt")
        if found is not None:
            conditional[index] = found.get("formatCode") or _code(found, codes)
    return Styles(formats or (GENERAL,), conditional)


def _children(root: Element, group: str, tag: str, member: str) -> list[Element]:
    """The items of a group a styles part has one of (two are refused: programs read one or the other)."""
    groups = root.findall(f"{_MAIN}{group}")
    if len(groups) > 1:
        raise _twice(member, f"<{group}>")
    return groups[0].findall(f"{_MAIN}{tag}") if groups else []


def _code(el: Element, codes: dict[int, str]) -> str:
    number = _number(el.get("numFmtId", "0"))
    if number is None:
        return UNKNOWN.format("?")
    return codes.get(number) or BUILT_IN.get(number) or UNKNOWN.format(number)


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() else None


def _twice(member: str, what: str) -> UnreadableFileError:
    return UnreadableFileError.of(Code.CORRUPT, case="twice", part=member, what=what)
