"""The master printed as a person sees it: LibreOffice exports it to PDF, pdftotext reads back every word with where
it sits on the page. Header rows and notes print whole (never cut to one line or squeezed into column A), every
list of groups not audited prints whole, section titles print whole, and nothing prints over anything else (a
chart never runs under the header rows repeated at the top of a page)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from auditbook.analysis.trends import OVERALL
from auditbook.collection.collect import collect
from auditbook.outputs.summary_tab import PRINTING
from auditbook.outputs.svg import GRADE_COLOURS
from auditbook.returns.provenance import SpecRegistry
from tests.lo.driver import overprinted, require_libreoffice, require_print_fonts, to_pdf
from tests.returns import answers, make_return, spec

pytestmark = pytest.mark.libreoffice
NOW = datetime(2026, 12, 7, 9, 30)
EARLIER = "2026-07"


@dataclass(frozen=True)
class Word:
    """A word of a printed page and its box (points from the top left)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass
class Printed:
    """The master's PDF: its pages' words by tab, and what collect knew."""

    pdf: Path
    tabs: dict[str, list[list[Word]]]
    not_audited: dict[str, list[str]]
    sections: list[str]
    scopes: list[str]
    previous: str


def _pages(pdf: Path) -> list[list[Word]]:
    exe = shutil.which("pdftotext")
    if exe is None:
        raise RuntimeError("pdftotext not found (apt-get install poppler-utils)")
    xml = subprocess.run([exe, "-bbox", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                         timeout=240).stdout.decode("utf-8")
    return [[Word(float(x0), float(y0), float(x1), float(y1), text) for x0, y0, x1, y1, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        for page in xml.split("<page ")[1:]]


def _tab(words: list[Word]) -> str:
    """The tab a page is of: the footer's first words, left of "Page n of m" on the page's last line."""
    page = max((w for w in words if w.text == "Page"), key=lambda w: w.y0, default=None)
    if page is None:
        return ""
    return " ".join(w.text for w in sorted(words, key=lambda w: w.x0) if abs(w.y0 - page.y0) < 2 and w.x0 < page.x0
                    and w.x1 < page.x0 - 20)


def printed(words: list[Word], phrase: str, *, row: float | None = None) -> Word | None:
    """Where `phrase` prints whole, its words in reading order in one cell (wrapped lines start where its first line
    did), as the first word; None when it does not. With `row`, only where the phrase starts on that line."""
    want = [html_unescape(t) for t in phrase.split()]
    for start in words:
        if start.text != want[0] or (row is not None and abs(start.y0 - row) > 2):
            continue
        prev, ok = start, True
        for token in want[1:]:
            nxt = next((w for w in words if w.text == token and (
                (abs(w.y0 - prev.y0) < 1.5 and 0 <= w.x0 - prev.x1 < 12)
                or (2 < w.y0 - prev.y0 < 20 and abs(w.x0 - start.x0) < 4))), None)
            if nxt is None:
                ok = False
                break
            prev = nxt
        if ok:
            return start
    return None


def html_unescape(token: str) -> str:
    return token.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')


def on(p: Printed, tab: str, phrase: str, *, header_of: str | None = None) -> bool:
    """Whether a phrase prints whole on some page of a tab (with `header_of`, in the header row that starts so)."""
    for words in p.tabs[tab]:
        row = None
        if header_of is not None:
            first = printed(words, header_of)
            if first is None:
                continue
            row = first.y0
        if printed(words, phrase, row=row) is not None:
            return True
    return False


@pytest.fixture(scope="module")
def master_pdf(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    require_libreoffice()
    require_print_fonts()
    tmp = tmp_path_factory.mktemp("master-print")
    folder = tmp / "returns"
    scenarios = ("child_protection", "in_care_16_plus", "early_help", "child_in_need")
    for i, scenario in enumerate(scenarios, start=1):
        make_return(folder / "now" / f"SYN-000{i}.xlsx", answers(scenario, seed=30 + i, index=i, actions=1))
        make_return(folder / "before" / f"SYN-010{i}.xlsx",
                    answers(scenario, seed=40 + i, index=100 + i, actions=1, month=EARLIER))
    result = collect(folder, out=tmp / "master.xlsx", registry=SpecRegistry.of(spec()), now=NOW)
    assert result.summary_line().count("master holds 8 audits; 0 rejected;") == 1, result.summary_line()
    e = result.evidence
    assert e is not None and e.current is not None and e.previous is not None
    pdf = to_pdf(result.master, tmp / "master.pdf")
    tabs: dict[str, list[list[Word]]] = {}
    for words in _pages(pdf):
        tabs.setdefault(_tab(words), []).append(words)
    return Printed(pdf, tabs, e.not_audited, list(e.current.sections), list(e.scopes), e.previous.round)


def test_nothing_prints_over_anything_else(master_pdf: Printed) -> None:
    """Rows too short for their text, and charts under repeated header rows, print words over words. The Answers tab
    is for filtering and Power Query (the Summary says not to print it): its long field names are cut at their
    column's edge instead of making 180,000 rows taller."""
    tabs = [_tab(words) for words in _pages(master_pdf.pdf)]
    assert [(tabs[page - 1], a, b) for page, a, b in overprinted(master_pdf.pdf) if tabs[page - 1] != "Answers"] == []


def test_the_summary_prints_its_headers_notes_and_lists_whole(master_pdf: Printed) -> None:
    p = master_pdf
    assert {"Summary", "Grades", "Cohorts", "Trends", "Themes"} <= set(p.tabs)
    assert on(p, "Summary", PRINTING)
    assert on(p, "Summary", "Change since the previous round (percentage points)")
    for grade in ("Outstanding", "Good", "Requires improvement", "Inadequate"):
        assert on(p, "Summary", grade, header_of="Section grades this round"), grade
    assert on(p, "Summary", "Groups of children not audited this round")
    assert p.not_audited
    for groups in p.not_audited.values():
        assert on(p, "Summary", ", ".join(groups)), groups
    for title in p.sections:
        assert on(p, "Summary", title), title


def test_the_grades_cohorts_and_trends_tabs_print_whole(master_pdf: Printed) -> None:
    p = master_pdf
    assert on(p, "Grades", f"Compared with {p.previous}: the change is in percentage points.")
    for header in ("Audits graded", "Requires improvement", "% Good or better", "Previous round", "Change (points)"):
        assert on(p, "Grades", header, header_of="Section"), header
    for title in p.sections:
        assert on(p, "Grades", title), title
    # (pdftotext's words keep their quotes as &quot;: the note is matched either side of them)
    assert on(p, "Cohorts", "A team or group of children with fewer than 5 audits shows")
    assert on(p, "Cohorts", "and no figures, as official statistics do, so that no child can be recognised;")
    for header in ("Group of children", "Requires improvement", "% Good or better"):
        assert on(p, "Cohorts", header, header_of="Group of"), header
    assert on(p, "Cohorts", "Groups of children not audited this round")
    for dimension, groups in p.not_audited.items():
        assert on(p, "Cohorts", dimension) and on(p, "Cohorts", ", ".join(groups)), groups
    assert on(p, "Trends", "Every round the ledger has seen (2), oldest first, scope by scope. Shares are of the "
                           "audits graded in that round; changes are in percentage points.")
    assert on(p, "Trends", "Change from previous round (points)", header_of="Round")
    # One small chart per scope, each titled with it (charts print their text as text).
    assert OVERALL in p.scopes
    for scope in p.scopes:
        assert on(p, "Trends", scope), scope


def _colour_rows(pdf: Path, page: int, colour: str, tmp: Path) -> list[float]:
    """The heights (points from the top) at which a page, rendered, has pixels of exactly this colour."""
    dpi = 40
    out = tmp / f"page-{page}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), str(pdf), str(out)], check=True)
    data = next(tmp.glob(f"page-{page}*.ppm")).read_bytes()
    magic, width, _, _, pixels = data.split(maxsplit=4)
    assert magic == b"P6"
    w, rgb = int(width), bytes.fromhex(colour.lstrip("#"))
    rows = {i // 3 // w for i in range(0, len(pixels) - 2, 3) if pixels[i:i + 3] == rgb}
    return sorted(r * 72 / dpi for r in rows)


def test_the_grades_chart_prints_on_a_page_of_its_own(master_pdf: Printed, tmp_path: Path) -> None:
    """Under the header row repeated at the top of its page, never through it (nor on the table's page)."""
    pages = master_pdf.tabs["Grades"]
    numbers = [n for n, words in enumerate(_pages(master_pdf.pdf), start=1) if _tab(words) == "Grades"]
    assert len(numbers) == len(pages) == 2
    good = GRADE_COLOURS[1]  # the "Good" bars
    assert _colour_rows(master_pdf.pdf, numbers[0], good, tmp_path) == []
    drawn = _colour_rows(master_pdf.pdf, numbers[1], good, tmp_path)
    header = [w for w in pages[1] if w.y0 < 80]  # the classification, then the header row repeated
    assert drawn and printed(pages[1], "Section") is not None
    assert min(drawn) > max(w.y1 for w in header)


def test_every_printed_page_says_its_tab_round_n_and_classification(master_pdf: Printed) -> None:
    """Issue 15: the page header of every printed page of every tab names the tab (with its round where its figures
    are the round's), what n its figures count, and the classification."""
    rounds = {"Summary", "Grades", "Cohorts", "Themes"}
    assert rounds | {"Trends", "Audits", "Actions", "SAG action plan", "Findings", "Answers"} <= set(master_pdf.tabs)
    for tab, pages in master_pdf.tabs.items():
        # LibreOffice sometimes ends a tab fitted to one page's width with a wholly empty page (no header, footer or
        # cell: its pagination rounding, not a page of ours, which always has a header and footer): not judged here.
        for number, words in enumerate((p for p in pages if p), start=1):
            top = min(w.y0 for w in words)
            header = " ".join(html.unescape(w.text) for w in sorted(words, key=lambda w: (round(w.y0), w.x0))
                              if w.y0 < top + 12)
            assert "OFFICIAL-SENSITIVE" in header, (tab, number, header)
            if tab in rounds:
                assert f"{tab}: " in header and "n = 4 audits" in header, (tab, number, header)
            elif tab == "Trends":
                assert "Trends across rounds" in header and "2 rounds" in header, (number, header)
            elif tab != "Answers":
                assert header.count(tab) == 1 and re.search(r"\b\d+ rows?\b", header), (tab, number, header)
