"""Pure: the Summary sheet's columns, shared by its sections table and its actions table, and its echoes.

One sheet has one set of column widths, so the two tables are laid on one grid: each table's columns are
spans of grid columns, each as wide as its values need (the action's text wide, its priority narrow).
"""

from __future__ import annotations

from auditbook.workbook.fit import CHARS_PER_UNIT
from auditbook.workbook.kleene import string_literal

#: Grid column widths. Every value on the Summary is a formula and its row has a height fixed for the longest
#: value it can show, so the tables merge grid columns freely. About 160 units: A4 landscape at ~86 %.
WIDTHS = (5, 40, 12, 22, 11, 11, 12, 12, 35)
#: Sections table: (first, last) grid column of each column.
SECTION, APPLIES, STATUS, GRADE, THEMES = (0, 1), (2, 2), (3, 3), (4, 5), (6, 8)
#: Actions table.
NUMBER, ACTION, ACTION_SECTION, PRIORITY, AGREED, TIMESCALE, RESPONSIBLE = (
    (0, 0), (1, 2), (3, 4), (5, 5), (6, 6), (7, 7), (8, 8))
#: The overall judgement's lines: label, value.
LABEL, VALUE = (0, 3), (4, 8)
LAST_COL = len(WIDTHS) - 1


def width(span: tuple[int, int]) -> float:
    """The width of a span of grid columns."""
    return sum(WIDTHS[span[0] : span[1] + 1])


def fits(span: tuple[int, int], lines: int) -> int:
    """Characters that surely fit in `lines` lines of a span (words wrap, so a little under the full)."""
    return int(width(span) * CHARS_PER_UNIT * lines * 0.9)


def clipped(name: str, limit: int, more: str = "") -> str:
    """A formula (no "=") echoing a text input, cut to `limit` characters with an ellipsis and `more` after."""
    cut = f'LEFT({name},{limit - 1 - len(more)})&{string_literal("…" + more)}'
    return f'IF(LEN({name})>{limit},{cut},IF({name}="","",{name}))'


def clip(text: str, limit: int, more: str = "") -> str:
    """What clipped() shows for this text."""
    return text if len(text) <= limit else text[: limit - 1 - len(more)] + "…" + more
