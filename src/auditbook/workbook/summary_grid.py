"""Pure: the Summary's grid of columns and where each of its tables' columns lie on it, shared by the sheet's writer
(summary.py) and the Lists cells behind its short lists (shortlists.py).

One sheet has one set of column widths, so the Summary's tables are laid on one grid: each table's columns are
spans of grid columns, each as wide as its values need (an action's text wide, its priority narrow).
"""

from __future__ import annotations

from auditbook.workbook.fit import CHARS_PER_UNIT

#: Grid column widths, about 160 units: A4 landscape at ~84 %. The sections table keeps its columns where they
#: always were (title A:B, applies C, status D, grade E) and the actions table has a grid column for each of up to
#: eight columns (the Deep Dive's: action, section, responsible, timescale, agreed, with whom, on, priority).
WIDTHS = (6, 54, 22, 21, 12, 8, 16, 11, 9)
LAST_COL = len(WIDTHS) - 1
#: A span of grid columns: (first, last).
Span = tuple[int, int]
#: The overall judgement's lines: label, value.
LABEL, VALUE = (0, 2), (3, 8)
#: Sections table.
SECTION, APPLIES, STATUS, GRADE, THEMES = (0, 1), (2, 2), (3, 3), (4, 4), (5, 8)
#: Actions table: the Actions sheet's row number, then the table's columns over the rest of the grid.
NUMBER, ACTION_GRID = 0, (1, LAST_COL)
#: Failing checks: Fix or Check, what is wrong, where to look (cut to two lines).
RESULT, MESSAGE, WHERE = (0, 0), (1, 4), (5, 8)
#: Lines each action and each check shows: enough for the gist, few enough that the Summary prints on few pages.
LINES = 2


def width(span: Span) -> float:
    """The width of a span of grid columns."""
    return sum(WIDTHS[span[0] : span[1] + 1])


def fits(span: Span, lines: int) -> int:
    """Characters that surely fit in `lines` lines of a span (words wrap, so a little under the full)."""
    return int(width(span) * CHARS_PER_UNIT * lines * 0.9)
