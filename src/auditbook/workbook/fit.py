"""Pure: how tall a row must be for text of a known length in a column of a known width.

Used only where the text is fixed when the workbook is written (labels, guidance, banners, the Summary's
echoes of bounded values). Rows that hold what an auditor types are never given a fixed height: they are
given a starting height that Excel and LibreOffice still change to fit the entry (FastWorksheet.fit_row).
"""

from __future__ import annotations

import math
import textwrap
from functools import lru_cache

#: Characters of Arial 10 that fit in one unit of column width (measured in LibreOffice: about 1.14; a
#: little less here, so a row is never too short). Bold text is wider.
CHARS_PER_UNIT = 1.05
BOLD_FACTOR = 0.9
#: Points per line of Arial 10, and the padding a row keeps above and below its text.
LINE_POINTS = 13.0
PADDING_POINTS = 4.0
#: Excel's tallest row.
MAX_ROW_POINTS = 409.0


@lru_cache(maxsize=4096)  # every workbook of a spec measures the same labels and guidance
def text_lines(text: str, width: float, *, bold: bool = False, size: float = 10) -> int:
    """Lines that text wraps to in a column `width` units wide (each line break starts a new line)."""
    per_line = max(1, int(width * CHARS_PER_UNIT * (BOLD_FACTOR if bold else 1.0) * 10 / size))
    return sum(max(1, len(textwrap.wrap(part, per_line, break_long_words=True))) for part in text.split("\n"))


def row_points(lines: int, *, size: float = 10) -> float:
    """The height of a row showing this many lines."""
    return min(MAX_ROW_POINTS, math.ceil(lines * LINE_POINTS * size / 10 + PADDING_POINTS))


def height_for(texts: list[tuple[str, float]], *, bold: bool = False, size: float = 10) -> float:
    """The height of a row whose cells show these (text, column width) pairs."""
    return row_points(max([1, *(text_lines(t, w, bold=bold, size=size) for t, w in texts)]), size=size)


#: A line of Arial 10 in a row the programs fit: 17 pixels, Excel's own height for one line (LibreOffice's is 12.8 for
#: one line and less for each line after it).
SNUG_LINE_POINTS = 12.75


def snug(lines: int) -> float:
    """The height Excel and LibreOffice give a row fitted to this many lines of Arial 10 (no padding): a row they refit
    once something is typed in it starts at the height they would give it, so pages break where a filled one's do."""
    return max(1, lines) * SNUG_LINE_POINTS


def snug_for(texts: list[tuple[str, float]], *, bold: bool = False) -> float:
    """As height_for, without the padding: text_lines already counts fewer characters a line than either program
    fits, so the text is never cut."""
    return snug(max([1, *(text_lines(t, w, bold=bold) for t, w in texts)]))
