"""Untrusted text made safe to show and to store (issue 8): text.shown, text.name_key, text.unstorable."""

from __future__ import annotations

import os

import pytest

from auditbook.problems import Code, Problem
from auditbook.text import name_key, shown, unstorable


@pytest.mark.parametrize(("raw", "expected"), [
    ("plain é ü 中文", "plain é ü 中文"),
    ("\x1b[2J\x1b[Hforged", "\\x1b[2J\\x1b[Hforged"),
    ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
    ("line\nbreak\ttab\r", "line\\x0abreak\\x09tab\\x0d"),
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
    ("c1 \x9b control", "c1 \\u009b control"),
])
def test_shown_escapes_what_acts_on_a_screen(raw: str, expected: str) -> None:
    assert shown(raw) == expected


def test_shown_can_keep_line_breaks_for_multi_line_answers() -> None:
    assert shown("first\nsecond\tthird\u202e", keep_lines=True) == "first\nsecond\tthird\\u202e"


def test_name_key_records_any_name_once() -> None:
    names = [os.fsdecode(b"caf\xe9.xlsx"), "caf\u00e9.xlsx", "caf\\xe9.xlsx", "a\x1bb", "a\\x1bb", "a\\b", "a\\\\b",
             "plain.xlsx", "\u202e.xlsx", "\\u202e.xlsx"]
    keys = [name_key(n) for n in names]
    assert len(set(keys)) == len(names)
    assert keys[:3] == ["caf\\xe9.xlsx", "café.xlsx", "caf\\\\xe9.xlsx"]
    assert all(k.isprintable() for k in keys)
    assert name_key("team-a/SYN-0001.xlsx") == "team-a/SYN-0001.xlsx"


@pytest.mark.parametrize(("text", "bad"), [("fine\ttext\n", None), ("esc\x1b", "\\x1b"), ("\ud800", "\\ud800"),
                                           ("nul\x00", "\\x00"), ("\ufffe", "\\ufffe"), ("bidi\u202e", None)])
def test_unstorable_finds_what_no_workbook_can_hold(text: str, bad: str | None) -> None:
    assert unstorable(text) == bad


def test_problems_never_carry_raw_text() -> None:
    p = Problem("error", Code.CELL_ERROR, "the entry \x1b[31mred\u202e", sheet="Sheet\x00", cell="C9")
    assert (p.message, p.sheet) == ("the entry \\x1b[31mred\\u202e", "Sheet\\x00")
    assert Problem.from_dict(p.as_dict()) == p
