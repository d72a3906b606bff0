"""How many pages a return prints, and which: a child protection case filled in LibreOffice as the demo fills one, and
exported to PDF there (File > Export as PDF: every sheet, each with its own print setup), read with pdftotext.

Before issue 16 this case printed 39 pages: the Start and criteria sheets, two pages for each section including those
that do not apply, five for the Summary. It must print in at most 20.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, pdf_text, require_libreoffice, require_print_fonts

pytestmark = pytest.mark.libreoffice

#: The most pages a filled child protection case may print (issue 16).
MOST_PAGES = 20
SUMMARY = "Summary"


def sheet_of_each_page(pages: list[str], spec: Spec, layout: Layout) -> list[str]:
    """The sheet each page belongs to: a sheet's first page opens with its title (the line after the page header
    and footer); the pages after it belong to it until the next title."""
    titles = {sl.section.title: sl.sheet for sl in layout.sections}
    titles.update({spec.title: "Start", spec.wording.criteria_heading: spec.wording.criteria_sheet})
    out, sheet = [], "?"
    for page in pages:
        first = next((line.strip() for line in page.split("\n")[2:4] if line.strip()), "")
        if first.startswith(f"{SUMMARY}: "):
            sheet = SUMMARY
        elif first in titles:
            sheet = titles[first]
        out.append(sheet)
    return out


#: A printed case: each page's text, the sheet each page belongs to, and the PDF.
Case = tuple[list[str], list[str], Path]


def page_words(pdf: Path, page: int) -> list[tuple[str, float, float]]:
    """The words pdftotext finds on a page (0-based), with where each starts: (text, x, y) in points from the top
    left, in the order it reads them."""
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext not found (apt-get install poppler-utils)"
    out = subprocess.run([exe, "-bbox", "-f", str(page + 1), "-l", str(page + 1), "-enc", "UTF-8", str(pdf), "-"],
                         capture_output=True, check=True, timeout=120).stdout.decode("utf-8")
    return [(html.unescape(t), float(x0), float(y0)) for x0, y0, t in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>', out)]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory, spec: Spec, layout: Layout) -> Case:
    """A child protection case as the demo fills one (1a Early Help and 10 Independence do not apply, three actions),
    typed into a blank workbook in LibreOffice and exported to PDF there: each page's text and its sheet."""
    require_libreoffice()
    require_print_fonts()
    tmp = tmp_path_factory.mktemp("pages")
    answers = dict(synthetic_answers(layout, seed=11, scenario="child_protection", index=11, actions=3))
    blank = build_workbook(spec, out=tmp / "blank.xlsx")
    fill(blank, tmp / "filled.xlsx", answers, pdf=tmp / "filled.pdf")
    pages = [p for p in pdf_text(tmp / "filled.pdf").split("\f") if p.strip()]
    return pages, sheet_of_each_page(pages, spec, layout), tmp / "filled.pdf"


def test_a_filled_child_protection_case_prints_in_at_most_20_pages(case: Case) -> None:
    pages, sheets, _ = case
    assert len(pages) <= MOST_PAGES, Counter(sheets)
    assert "?" not in sheets  # every page was put down to a sheet
    # The footers count the pages printed, not those left out.
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_the_start_and_criteria_sheets_are_not_printed(case: Case, spec: Spec) -> None:
    pages, sheets, _ = case
    assert "Start" not in sheets and spec.wording.criteria_sheet not in sheets
    assert not any("How to fill it in" in p or "What the colours mean" in p for p in pages)
    assert sheets[0] == SUMMARY  # a printed return opens with its Summary


def test_a_section_that_does_not_apply_prints_on_one_page_saying_so(case: Case,
                                                                   layout: Layout) -> None:
    # LibreOffice cannot leave a sheet out as the answers change (a print area must be a plain range, and a page of
    # formulas showing nothing is not empty): the section prints its title and why it does not apply, on one page.
    pages, sheets, _ = case
    for section in ("early_help", "independence"):
        sl = layout.section(section)
        mine = [p for p, s in zip(pages, sheets, strict=True) if s == sl.sheet]
        assert len(mine) == 1, sl.sheet
        assert f"This section does not apply because {sl.section.not_applicable_because}" in " ".join(mine[0].split())


def test_no_sheet_prints_more_pages_than_it_needs(case: Case, layout: Layout) -> None:
    _, sheets, _ = case
    count = Counter(sheets)
    assert count[SUMMARY] == 2
    assert layout.actions is not None
    assert count[layout.actions.sheet] == 1  # fifteen rows, three used: the empty ones are one line each
    assert max(count.values()) <= 2, count


def test_the_summary_lists_the_actions_first_in_the_actions_sheets_order(case: Case, layout: Layout) -> None:
    pages, sheets, pdf = case
    assert layout.actions is not None
    fields = layout.actions.section.fields
    # Each column's label across its header, left to right (by where its first word is printed).
    heads = [" ".join(f.label.split()[:2]) for f in fields]  # a narrow column's label wraps after these

    def columns(page: int) -> list[str]:
        words = page_words(pdf, page)
        top = next(y for text, _x, y in words if text == "#")  # the header's first line
        band = [(text, x) for text, x, y in words if top - 1 <= y <= top + 40]
        texts = [text for text, _x in band]

        def starts(head: str) -> float:
            n = len(head.split())
            return min(x for i, (_t, x) in enumerate(band) if " ".join(texts[i:i + n]) == head)

        return sorted(heads, key=starts)

    first = sheets.index(SUMMARY)
    assert columns(first) == columns(sheets.index(layout.actions.sheet)) == heads
    # The actions come before the sections and the checks.
    summary = " ".join(" ".join(p.split()) for p, s in zip(pages, sheets, strict=True) if s == SUMMARY)
    assert summary.index("Actions") < summary.index("Section Applies Status") < summary.index("Checks that fail")


def test_empty_action_rows_print_nothing_on_the_summary(case: Case) -> None:
    pages, sheets, _ = case
    first = next(p for p, s in zip(pages, sheets, strict=True) if s == SUMMARY)
    table = first[first.index("Priority"):first.index("Section Applies")]
    # Three actions: rows numbered 1 to 3 (each the row of the Actions sheet it comes from), nothing after them.
    assert re.findall(r"^(\d+) ", table, re.M) == ["1", "2", "3"]
    assert "more action" not in table


def test_the_summary_counts_the_checks_that_pass(case: Case) -> None:
    pages, sheets, _ = case
    summary = " ".join(" ".join(p.split()) for p, s in zip(pages, sheets, strict=True) if s == SUMMARY)
    assert re.search(r"Checks that fail: .* Result What is wrong Where All \d+ checks pass\.", summary)

