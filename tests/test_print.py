"""Print as a person sees it: a return filled in LibreOffice with long entries, printed to PDF by LibreOffice.

Every character of every entry must be in the PDF, in order (pdftotext, from poppler-utils); the Summary's
actions table must show each action, who is responsible (the team manager when the row names no one) and
the timescale as dd/mm/yyyy.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest

from auditbook.returns.validate import validate_file
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.spec.roles import Role
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, overprinted, pdf_text, require_libreoffice, require_print_fonts, to_pdf

pytestmark = pytest.mark.libreoffice

_WORDS = ("the", "child", "was", "seen", "alone", "at", "home", "and", "school", "plan", "reviewed", "within",
          "timescales", "by", "social", "worker", "manager", "agreed", "next", "steps", "with", "family",
          "partner", "agencies", "shared", "information", "promptly", "chronology", "updated", "recorded")


def entry(tag: str, length: int, seed: int) -> str:
    """Synthetic prose of about `length` characters with a numbered marker every few words, so a missing or
    reordered piece shows."""
    rng = random.Random(seed)
    words: list[str] = []
    n = 0
    while sum(len(w) + 1 for w in words) < length:
        words.append(f"{tag}{n:03d}" if len(words) % 8 == 0 else rng.choice(_WORDS))
        n += len(words) % 8 == 0
    return " ".join(words)[:length].rstrip()


Printed = tuple[dict[str, str], str, dict[str, object], Path]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, spec: Spec,
            layout: Layout) -> tuple[dict[str, str], str, dict[str, object], Path]:
    """A child protection audit with long entries, filled and saved by LibreOffice, then printed to PDF by it."""
    require_libreoffice()
    require_print_fonts()
    tmp = tmp_path_factory.mktemp("print")
    answers: dict[str, object] = dict(synthetic_answers(layout, seed=11, scenario="child_protection", index=11,
                                                        actions=3))
    assessment = layout.section("assessment")
    questions = [i for i in assessment.inputs if i.field.endswith("_evidence")]
    long = {
        layout.by_ref["profile.story"].name: entry("story", 4000, 1),
        questions[0].name: entry("evidenceA", 600, 2),
        questions[1].name: entry("evidenceB", 1500, 3),
        questions[2].name: entry("evidenceC", 3000, 4),
        questions[3].name: entry("evidenceD", 4000, 5),
        layout.section_input(assessment, Role.WORKING_WELL).name: entry("well", 4000, 6),  # type: ignore[union-attr]
        layout.section_input(assessment, Role.TO_IMPROVE).name: entry("improve", 2500, 7),  # type: ignore[union-attr]
        layout.by_ref["overall.impact"].name: entry("impact", 3000, 8),
    }
    actions = layout.actions
    assert actions is not None
    text_col, resp_col = layout.action_column(Role.ACTION_TEXT), layout.action_column(Role.ACTION_RESPONSIBLE)
    row1 = {i.field: i.name for i in actions.inputs if i.row_index == 1}
    row2 = {i.field: i.name for i in actions.inputs if i.row_index == 2}
    long[row1[str(text_col)]] = entry("actionOne", 1000, 9)
    long[row2[str(text_col)]] = entry("actionTwo", 90, 10)
    answers.update(long)
    answers[row1[str(resp_col)]] = "Example Practice Lead"
    answers[row2[str(resp_col)]] = None  # blank: the team manager is responsible
    blank = build_workbook(spec, out=tmp / "blank.xlsx")
    saved = tmp / "filled-in-libreoffice.xlsx"
    fill(blank, saved, answers, pdf=tmp / "printed-in-session.pdf")
    report = validate_file(saved)
    assert report.errors == [], [p.render() for p in report.errors]
    pdf = to_pdf(saved, tmp / "printed.pdf")
    return long, pdf_text(pdf), answers, pdf


def test_every_long_entry_prints_whole(printed: Printed) -> None:
    long, text, _, _ = printed
    page = flat(text)
    missing = {name: len(value) for name, value in long.items() if flat(value) not in page}
    assert missing == {}


def test_entries_are_not_split_over_a_page_break(printed: Printed) -> None:
    long, text, _, _ = printed
    pages = text.split("\f")
    split = [name for name, value in long.items() if not any(flat(value) in flat(p) for p in pages)]
    assert split == []


def test_summary_actions_show_the_gist_the_person_and_uk_dates(
    printed: Printed, layout: Layout
) -> None:
    long, text, answers, _ = printed
    pages = text.split("\f")
    first_page = next(i for i, p in enumerate(pages) if "Summary: " in p)
    end = next(i for i, p in enumerate(pages) if i > first_page and "Case profile" in p.split("\n")[1:3])
    summary = "\f".join(pages[first_page:end])
    actions = layout.actions
    assert actions is not None
    cols: dict[int, dict[str, str]] = {}
    for i in actions.inputs:
        cols.setdefault(i.row_index or 0, {})[i.field] = i.name
    text_col = str(layout.action_column(Role.ACTION_TEXT))
    timescale_col = str(layout.action_column(Role.ACTION_TIMESCALE))
    first = long[cols[1][text_col]]
    assert flat(first[:60]) in flat(summary)
    assert "(in full on the Actions sheet)" in summary
    assert flat(long[cols[2][text_col]]) in flat(summary)
    team_manager = layout.role_input(Role.TEAM_MANAGER)
    assert team_manager is not None
    manager = answers[team_manager.name]
    assert "Example Practice Lead" in flat(summary)
    assert f"{manager} (team manager)" in flat(summary)  # words wrap in the Summary's narrow column
    due = answers[cols[1][timescale_col]]
    assert isinstance(due, date)
    assert f"{due:%d/%m/%Y}" in summary
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "an ISO date is printed somewhere"


def test_nothing_is_printed_over_anything_else(printed: Printed) -> None:
    # Text in a row too short for it is drawn over the rows below: every character is still in the PDF's
    # text, so this looks for words printed on top of each other instead.
    *_, pdf = printed
    assert overprinted(pdf) == []
