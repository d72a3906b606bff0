"""needs_look remembers rows met before in parts without a trigger: its answer is still that of searching all.

A part's bytes are cut before each row and only rows not met before are searched: that finds every trigger
only if none can lie across a cut, which is checked here for every trigger, with the answer itself
compared against a plain search of the whole part on parts built to put triggers next to and across cuts.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditbook.returns import active
from auditbook.returns.active import ROW_CUT, across, needs_look


def plain(data: bytes) -> bool:
    """The search needs_look stands for: every trigger over the whole part."""
    low = data.lower()
    return any(t in low for t in active._TRIGGERS) or low.count(b"<?") > 1


def test_no_trigger_can_lie_across_a_cut() -> None:
    assert not [t for t in (*active._TRIGGERS, b"<?") if across(t, ROW_CUT)]


def test_across_finds_needles_over_and_inside_the_cut() -> None:
    assert across(b"ow ", ROW_CUT) and across(b"w x", ROW_CUT) and across(b"x<r", ROW_CUT)
    assert across(b"a<row b", ROW_CUT) and across(b"r<", ROW_CUT)
    assert not across(b"call", ROW_CUT) and not across(b"<x", ROW_CUT)


FRAGMENTS = [b"<row r=\"1\">", b"<c r=\"A1\"><f>SUM(A2)</f><v>1</v></c>", b"</row>", b"<row ", ROW_CUT, b"<",
             b"?", b"r", b"ow", b" ", b"Ca", b"LL", b"rt", b"d", b"&", b"#", b"[", b"<?x?>", b"WebService",
             b"\x00", b"<!-", b"-", b"label text"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=30), min_size=1, max_size=6))
def test_needs_look_answers_as_a_search_of_the_whole_part(parts: list[list[bytes]]) -> None:
    for pieces in parts:  # each part may remember rows for the next
        data = b"".join(pieces)
        assert needs_look(data) == plain(data), data
