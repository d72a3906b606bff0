"""What a person sees on paper, checked in LibreOffice's PDF (pdftotext for the words, pdftoppm for colours): a blank
workbook printed as it is, and a return filled in LibreOffice with answers that contradict each other.

The Start sheet's first instruction, its legend (each colour meaning one thing) and who to ask about a prefilled
detail; plain words for the derived dates; no required star where nothing can be entered; a question in a
section that does not apply giving the section's reason; pages that keep a section's grade and themes with what
needs to improve, a heading with what follows it and no table row alone; and on the Summary, the count of
failing checks, each failing check shaded, where to look named by sheet and cell, the actions table headed
with the spec's own labels.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.spec.models import judged_sections
from auditbook.spec.roles import Role
from auditbook.workbook.checks import build_checks
from auditbook.workbook.formats import INPUT_FILL, LOCKED_FILL, NA_FILL, REQUIRED_FILL, WAITING_FILL
from auditbook.workbook.generate import role_prefill
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, pdf_text, require_libreoffice, require_print_fonts, to_pdf

pytestmark = pytest.mark.libreoffice

#: Excel's Bad and Neutral fills: a failing check that needs fixing, and one to look at.
FIX_FILL, CHECK_FILL = "#FFC7CE", "#FFEB9C"


@dataclass(frozen=True)
class Word:
    """A word pdftotext found, where it is on its page (points from the top left)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Printed:
    """A workbook as LibreOffice printed it: the PDF, each page's text and words."""

    pdf: Path
    pages: list[str]
    words: list[list[Word]]

    def flat(self, page: int) -> str:
        return " ".join(self.pages[page].split())

    def pages_with(self, text: str) -> list[int]:
        return [i for i in range(len(self.pages)) if text in self.flat(i)]

    def colour_at(self, page: int, x: float, y: float) -> str:
        """The colour printed at a point of a page, as #RRGGBB (rendered at 72 dpi: a pixel is a point)."""
        exe = shutil.which("pdftoppm")
        assert exe, "pdftoppm not found (apt-get install poppler-utils)"
        ppm = subprocess.run([exe, "-r", "72", "-f", str(page + 1), "-l", str(page + 1), "-x", str(int(x)),
                              "-y", str(int(y)), "-W", "1", "-H", "1", str(self.pdf)],
                             capture_output=True, check=True, timeout=120).stdout
        header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", ppm)
        assert header, ppm[:20]
        r, g, b = ppm[header.end():header.end() + 3]
        return f"#{r:02X}{g:02X}{b:02X}"

    def behind(self, page: int, text: str) -> str:
        """The colour behind a phrase: between its first two words, where only the cell's fill is printed."""
        first, second = self.line_of(page, text)[:2]
        return self.colour_at(page, (first.x1 + second.x0) / 2, (first.y0 + first.y1) / 2)

    def line_of(self, page: int, text: str) -> list[Word]:
        """The words of a phrase on a page, in order (the first place it is printed)."""
        wanted = text.split()
        words = self.words[page]
        for i in range(len(words) - len(wanted) + 1):
            if [w.text for w in words[i:i + len(wanted)]] == wanted:
                return words[i:i + len(wanted)]
        raise AssertionError(f"{text!r} is not printed on page {page + 1}")


def printed(pdf: Path) -> Printed:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext not found (apt-get install poppler-utils)"
    boxes = subprocess.run([exe, "-bbox", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                           timeout=120).stdout.decode("utf-8")
    words = [[Word(html.unescape(t), float(x0), float(y0), float(x1), float(y1))
              for x0, y0, x1, y1, t in re.findall(
                  r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
             for page in boxes.split("<page ")[1:]]
    return Printed(pdf, pdf_text(pdf).split("\f")[:len(words)], words)


def near(colour: str, wanted: str, tolerance: int = 12) -> bool:
    """Whether two #RRGGBB colours are the same to within antialiasing."""
    return all(abs(int(colour[i:i + 2], 16) - int(wanted[i:i + 2], 16)) <= tolerance for i in (1, 3, 5))


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory, spec: Spec, layout: Layout) -> Printed:
    """A workbook for one allocated case (details filled in and locked), nothing else answered, printed with every
    sheet (the Start and criteria sheets are left out of the workbook's own print: a person prints them on purpose)."""
    require_libreoffice()
    require_print_fonts()
    tmp = tmp_path_factory.mktemp("blank-print")
    prefill = role_prefill(layout, case_ref="SYN-0042", team="Team Alpha", auditor="Example Auditor 1",
                           month="2026-11", worker="Example Worker 2", team_manager="Example Manager Alpha")
    path = build_workbook(spec, out=tmp / "allocated.xlsx", prefill=prefill, lock_prefill=True)
    return printed(to_pdf(path, tmp / "allocated.pdf", every_sheet=True))


#: A child protection audit (1a Early Help does not apply; 9 Permanence, which applies to every child since Deep Dive
#: 2.1.0, answered) that contradicts itself: looked after in its legal status but not in care (a Fix), two actions
#: due before the audit was completed (Checks), and no urgent concern raised.
def contradicting(layout: Layout) -> dict[str, object]:
    answers: dict[str, object] = dict(synthetic_answers(layout, seed=21, scenario="child_protection", index=21,
                                                        actions=2))
    for inp in layout.section("early_help").inputs:
        answers[inp.name] = None
    urgent_when, urgent_whom = layout.role_input(Role.URGENT_WHEN), layout.role_input(Role.URGENT_WITH_WHOM)
    assert urgent_when is not None and urgent_whom is not None
    answers.update({"overall_urgent_concern": "No", urgent_when.name: None, urgent_whom.name: None,
                    "profile_legal_status": "Looked after: care order", "profile_in_care": "No",
                    "profile_date_completed": date(2026, 11, 20), "actions_r01_timescale": date(2026, 11, 1),
                    "actions_r02_timescale": date(2026, 11, 2)})
    return answers


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, spec: Spec, layout: Layout) -> tuple[Printed, Counter[str]]:
    """The contradicting audit typed into a blank workbook in LibreOffice and printed there; with the rule
    problems validate finds in the saved file, counted by severity."""
    require_libreoffice()
    require_print_fonts()
    tmp = tmp_path_factory.mktemp("filled-print")
    blank_path = build_workbook(spec, out=tmp / "blank.xlsx")
    saved = tmp / "filled.xlsx"
    fill(blank_path, saved, contradicting(layout), pdf=tmp / "filled.pdf")
    report = validate_file(saved, registry=SpecRegistry.of(spec))
    assert [p.code for p in report.problems if p.code != "rule"] == [], [p.render() for p in report.problems]
    return printed(tmp / "filled.pdf"), Counter(p.severity for p in report.problems if p.code == "rule")


# -- the Start sheet -------------------------------------------------------------------------------------------


def test_the_first_instruction_is_to_answer_the_applicability_questions(blank: Printed) -> None:
    text = blank.flat(0)
    assert text.index("How to fill it in") < text.index("First answer the applicability questions") < \
        text.index("Audit from the record")


def test_esn_is_spelt_out_on_the_start_and_criteria_sheets(blank: Printed, spec: Spec) -> None:
    assert "ESN: Ofsted's evaluation schedule numbers" in blank.flat(0)
    [criteria] = blank.pages_with(spec.wording.criteria_heading)
    assert "(ESN, evaluation schedule numbers)" in blank.flat(criteria)


def test_each_colour_has_its_own_meaning_in_the_legend(blank: Printed) -> None:
    legend = {
        "An input: type or choose": INPUT_FILL, "Required and still empty.": REQUIRED_FILL,
        "Does not apply to this": NA_FILL, "Waiting for the answer that decides": WAITING_FILL,
        "Filled in for you, or worked out": LOCKED_FILL,
    }
    assert len(set(legend.values())) == len(legend)
    for text, colour in legend.items():
        first = blank.line_of(0, text)[0]
        # The sample cell is in the column to the left of the words.
        shown = blank.colour_at(0, first.x0 - 30, (first.y0 + first.y1) / 2)
        assert near(shown, colour), (text, shown, colour)
    assert "ask whoever sent you this workbook (the team that allocates the audits) to correct" in blank.flat(0)


def test_a_prefilled_detail_is_printed_in_the_locked_colour(blank: Printed) -> None:
    [profile] = [p for p in blank.pages_with("Example Manager Alpha") if "Audit month (YYYY-MM)" in blank.flat(p)
                 and "Summary:" not in blank.flat(p)]
    assert near(blank.behind(profile, "Example Manager Alpha"), LOCKED_FILL)


def test_a_waiting_section_is_printed_in_its_own_colour_without_stars(blank: Printed) -> None:
    [page] = [p for p in blank.pages_with('Answer "Early help provided in the audit period?" on the Case profile')
              if "1a Early Help and Protection" in blank.flat(p)]
    question = blank.line_of(page, "Was help offered when needs or concerns were first identified?")
    assert "Was help offered when needs or concerns were first identified? *" not in blank.flat(page)
    header = blank.line_of(page, "Question (the evidence goes")[0]
    # The column header: the answer cells are under it.
    [answer] = [w for w in blank.words[page] if w.text == "Answer" and abs(w.y0 - header.y0) < 2]
    assert near(blank.colour_at(page, answer.x0 + 5, (question[0].y0 + question[0].y1) / 2), WAITING_FILL)


# -- the Case profile --------------------------------------------------------------------------------------------


def test_derived_dates_are_described_in_plain_words(blank: Printed) -> None:
    [page] = [p for p in blank.pages_with("Due date") if "Audit period from" in blank.flat(p)]
    text = blank.flat(page)
    assert "Due date (worked out: the last day of the audit month)" in text
    assert "Audit period from (worked out: the day after the date 2 years before the last day of the audit month)" \
        in text
    assert "year(s)" not in text and '"Audit month (YYYY-MM)"' not in text


def test_the_audit_period_is_two_years(blank: Printed) -> None:
    [page] = [p for p in blank.pages_with("Due date") if "Audit period from" in blank.flat(p)]
    assert "01/12/2024" in blank.flat(page) and "30/11/2024" not in blank.flat(page)


# -- page breaks -------------------------------------------------------------------------------------------------


def test_a_sections_grade_and_themes_print_with_what_needs_to_improve(blank: Printed, spec: Spec) -> None:
    grades = blank.pages_with("Section grade")
    assert len(grades) == len(judged_sections(spec))
    for page in grades:
        text = blank.flat(page)
        assert all(t in text for t in ("What needs to improve", "Theme 1", "Theme 2", "Theme 3")), (page + 1, text)
    assert all(p in grades for t in ("Theme 1", "Theme 3") for p in blank.pages_with(t))


def test_a_heading_prints_with_what_follows_it(blank: Printed) -> None:
    [page] = blank.pages_with("Grades (Ofsted descriptors")
    assert "is likely to be judged outstanding" in blank.flat(page)
    [page] = blank.pages_with("What the colours mean")
    assert "Filled in for you, or worked out" in blank.flat(page)


def test_no_table_row_is_alone_on_a_page(blank: Printed) -> None:
    actions = [p for p in range(len(blank.pages)) if re.search(r"^# Action \*", blank.pages[p], re.M)]
    numbers = [{int(n) for n in re.findall(r"^\s*(\d{1,2})\s*$", blank.pages[p], re.M)} for p in actions]
    assert sorted(set().union(*numbers)) == list(range(1, 16))
    assert all(len(n) >= 2 for n in numbers), numbers


# -- the Summary of a filled return ------------------------------------------------------------------------------


def _summary(printed_pdf: Printed) -> list[int]:
    first = printed_pdf.pages_with("Summary: ")[0]
    return [p for p in range(first, len(printed_pdf.pages)) if p == first or
            not re.search(r"^(Case profile|1a Early Help)", printed_pdf.pages[p], re.M)][:5]


def test_the_count_of_failing_checks_is_near_the_top(filled: tuple[Printed, Counter[str]]) -> None:
    pdf, fired = filled
    assert fired["error"] >= 1 and fired["warning"] >= 2
    first = pdf.pages_with("Summary: ")[0]
    text = pdf.flat(first)
    count = f"Checks: {fired['error']} to fix, {fired['warning']} to check (listed under the sections below)"
    assert count in text
    assert text.index(count) < text.index("Section Applies Status")


def test_failing_checks_are_shaded_and_say_where(filled: tuple[Printed, Counter[str]], layout: Layout) -> None:
    pdf, _ = filled
    summary = _summary(pdf)
    rows = {"The legal status is looked after or care": FIX_FILL,
            "An action is due before the audit was completed, or before the day it was agreed.": CHECK_FILL}
    for text, colour in rows.items():
        [page] = [p for p in summary if text in pdf.flat(p)]
        assert near(pdf.behind(page, text), colour), text
    # A check that passes is not listed: one line counts them (all but the two above).
    assert not any("The legal status is a child protection" in pdf.flat(p) for p in summary)
    listed = sum(1 for c in build_checks(layout) if c.live)
    assert any(f"{listed - 2} other checks pass." in pdf.flat(p) for p in summary)
    assert layout.actions is not None
    looked = [i.cell for i in layout.actions.inputs if i.field in ("timescale", "agreed_on") and i.row_index in (1, 2)]
    completed = layout.role_input(Role.COMPLETED)
    assert completed is not None
    where = f"Actions {', '.join(looked)}; Case profile {completed.cell}"
    assert any(where in pdf.flat(p) for p in summary), where
    assert not any(re.search(r"row \d+;", pdf.flat(p)) for p in summary)


def test_the_summary_actions_are_headed_with_the_specs_labels(filled: tuple[Printed, Counter[str]],
                                                               layout: Layout) -> None:
    pdf, _ = filled
    assert layout.actions is not None
    [page] = [p for p in _summary(pdf) if pdf.flat(p).startswith("OFFICIAL-SENSITIVE Actions")
              or " Actions # " in pdf.flat(p)]
    text = pdf.flat(page)
    for f in layout.actions.section.fields:
        if f.id in ("action", "section", "responsible", "timescale", "agreed", "priority"):
            assert f.label in text, f.label
    assert "Agreed with practitioner" not in text


def test_the_summary_reads_plainly(filled: tuple[Printed, Counter[str]]) -> None:
    pdf, _ = filled
    text = " ".join(pdf.flat(p) for p in _summary(pdf))
    # A section that does not apply says so once, with no status (an optional section not started says "Optional"
    # once: test_summary, on Deep Dive 2.0.0, where section 9 was optional for this child).
    assert "1a Early Help and Protection No Not applicable" in text and "Optional" not in text
    # No urgent concern: when and with whom it was raised are not shown at all.
    assert "When the concern was raised" not in text and "Raised with whom" not in text


def test_a_question_in_a_section_that_does_not_apply_gives_the_sections_reason(
        filled: tuple[Printed, Counter[str]]) -> None:
    pdf, _ = filled
    [page] = pdf.pages_with("This section does not apply because no early help was provided")
    text = pdf.flat(page)
    assert "(does not apply: no early help was provided in the audit period)" in text
    assert "the case did not step up or down" not in text
    assert "first identified? *" not in text and "What is working well *" not in text
