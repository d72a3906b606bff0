"""Pure: where a sheet's printed pages would break, and where to break them by hand so what belongs together
prints together: a section's grade and themes with what needs to improve, a heading with what follows it, a
question with its evidence box, and never one table row alone on a page.

Neither Excel nor LibreOffice can keep rows together, so the writer works out where each program breaks
the pages of the workbook as written (rows at their starting heights, every sheet fitted to the width of
an A4 landscape page) and puts a manual break before a block the automatic breaks would split, when the
block fits on a page of its own. The figures were measured in LibreOffice 7 (its breaks for every sheet
of the blank workbook: tests/test_print_review.py checks the printed result). Entries typed later grow
their rows, and the program then breaks the pages between the manual breaks as it would anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

#: The height rows can fill on a printed page, in points at 100 %: A4 landscape less the margins, page
#: header and footer the workbook sets (0.55 inch top and bottom, the header and footer 0.25 inch from the edge;
#: measured: LibreOffice fits 48 rows of 12.75 points on a form sheet printed at 85.7 %, not 49: 524.5 to 535).
PAGE_BODY_POINTS = 525.0
#: The printable width of the page, in millimetres (A4 landscape less half-inch side margins).
PAGE_WIDTH_MM = 297.0 - 2 * 12.7
#: A column `w` characters wide is this many millimetres wide in print (Arial 10's digit, plus padding).
MM_PER_CHAR, MM_PER_COLUMN = 1.958, 1.4
#: The height of a row given none: one line of Arial 10, as Excel sizes it (17 pixels; LibreOffice's is 12.8).
#: The audit workbook sets it as every sheet's default (xlsxwriter's own default is 15 points).
DEFAULT_ROW_POINTS = 12.75


def scale(widths: Iterable[float]) -> float:
    """How much a sheet of these column widths (in characters) is shrunk to fit the page width (at most 1)."""
    total = sum(w * MM_PER_CHAR + MM_PER_COLUMN for w in widths)
    return min(1.0, PAGE_WIDTH_MM / total) if total else 1.0


class Sheet(NamedTuple):
    """What pagination needs of a sheet: its rows' heights, the rows repeated at the top of every page after the
    first, the blocks to keep on one page (first and last row), and breaks the sheet asks for itself."""

    heights: Sequence[float]
    capacity: float
    repeated: float = 0.0
    keep: Sequence[tuple[int, int]] = ()
    forced: Sequence[int] = ()


def manual_breaks(sheet: Sheet) -> list[int]:
    """The rows to start a page at by hand: the forced ones, and the first row of each block an automatic break
    would split, when the block fits on a page of its own (the largest such block round the break)."""
    heights, n = sheet.heights, len(sheet.heights)
    forced = set(sheet.forced)
    out: set[int] = set(forced)
    start, used, first_page = 0, 0.0, True
    r = 0
    while r < n:
        if r in forced and r != start:
            start, used, first_page = r, 0.0, False
        room = sheet.capacity - (0.0 if first_page else sheet.repeated)
        if used + heights[r] > room + 0.01 and r > start:
            fresh = sheet.capacity - sheet.repeated
            # A block starting where the page ends starts the next page by hand as well: a program that fits a
            # little more on the page than worked out here would otherwise split it.
            moved = [a for a, b in sheet.keep if start < a <= r <= b and sum(heights[a:b + 1]) <= fresh]
            cut = min(moved) if moved else r
            if moved:
                out.add(cut)
            start, used, first_page = cut, sum(heights[cut:r]), False
            continue
        used += heights[r]
        r += 1
    return sorted(out)
