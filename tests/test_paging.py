"""Pagination, worked out as the writer does before LibreOffice prints (test_print_review.py checks the printed
result): blocks kept together by a manual break only where an automatic break would split them."""

from __future__ import annotations

import pytest

from auditbook.workbook.paging import Sheet, manual_breaks, scale


def test_rows_that_fit_need_no_break() -> None:
    assert manual_breaks(Sheet([10.0] * 9, capacity=100.0, keep=[(3, 5)])) == []


def test_a_block_the_page_end_would_split_starts_the_next_page() -> None:
    # Ten rows of 10 points a page: rows 0-9, then 10-19. A block of rows 8-11 moves to the next page whole.
    sheet = Sheet([10.0] * 20, capacity=100.0, keep=[(8, 11)])
    assert manual_breaks(sheet) == [8]


def test_repeated_rows_take_room_on_every_page_after_the_first() -> None:
    # 15 points of header on the next pages: 8 rows fit there (10-17), so a third page would start at 18 and split
    # the block 17-18: the block starts the page.
    sheet = Sheet([10.0] * 20, capacity=100.0, repeated=15.0, keep=[(17, 18)])
    assert manual_breaks(sheet) == [17]


def test_a_block_starting_where_the_page_ends_starts_the_next_page_by_hand() -> None:
    # Rows 0-9 fill the page exactly, so the automatic break falls before the block 10-11 anyway; the break is put in
    # by hand all the same, or a program fitting a little more on the page (rows 10 and 11 of 12 points, here 105)
    # would split the block.
    assert manual_breaks(Sheet([10.0] * 10 + [12.0] * 4, capacity=100.0, keep=[(10, 11)])) == [10]


def test_a_block_taller_than_a_page_is_left_to_break() -> None:
    assert manual_breaks(Sheet([30.0] * 10, capacity=100.0, keep=[(2, 6)])) == []


def test_forced_breaks_are_kept_and_count() -> None:
    sheet = Sheet([10.0] * 20, capacity=100.0, keep=[(12, 13)], forced=[5])
    # A page starts at 5 (asked for), so the next automatic break is at 15: the block 12-13 is whole.
    assert manual_breaks(sheet) == [5]


def test_the_largest_block_round_a_break_moves() -> None:
    # A label and its box (8-9) inside the judgement block (6-11): the judgement block moves whole.
    assert manual_breaks(Sheet([10.0] * 14, capacity=100.0, keep=[(8, 9), (6, 11)])) == [6]


@pytest.mark.parametrize(("widths", "expected"), [((4, 118, 26, 11), 0.857), ((28, 110), 0.995), ((10,), 1.0)])
def test_a_wide_sheet_is_shrunk_to_the_page_width(widths: tuple[float, ...], expected: float) -> None:
    # As LibreOffice fits the form sheets (0.857) and the Start sheet (0.995) of the workbook.
    assert scale(widths) == pytest.approx(expected, abs=0.002)
