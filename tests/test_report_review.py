"""The round report after the code and product reviews: no free text without --include-text (conflicting edits
included), changes in percentage points that add up, the headline's overall grade explained, plurals."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from auditbook.analysis.trends import TOO_FEW, Change, percent, points
from auditbook.collection.collect import gather_folder
from auditbook.demo import run_demo
from auditbook.outputs.report import Span, _template, change, render
from auditbook.text import plural
from tests.lo.driver import overprinted
from tests.test_register import REGISTRY, _returns, actions_tab, run, type_into
from tests.test_report import REGISTRY as REPORT_REGISTRY
from tests.test_report import chromium, proxy, require
from tests.test_report import two_rounds as report_rounds  # noqa: F401 (a fixture)

NOW = datetime(2026, 12, 7, 9, 30)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-review") / "returns"
    _returns(folder)
    return folder


@pytest.fixture
def folder(tmp_path: Path, built: Path) -> Path:
    dest = tmp_path / "returns"
    shutil.copytree(built, dest)
    return dest


def test_conflicting_notes_are_not_quoted_without_include_text(folder: Path) -> None:
    packs = folder.parent / "packs"
    first = run(folder, packs=packs)
    one = [r["Action ID"] for r in actions_tab(first.master)][1]
    pack = next(p for p in first.packs if one in {r["Action ID"] for r in actions_tab(p)})
    said_by_manager, said_by_collator = "Example Child seen at home with Example Parent", "Closed at the panel"
    type_into(pack, "Actions", {(one, "Notes"): said_by_manager})
    type_into(first.master, "Actions", {(one, "Notes"): said_by_collator})
    evidence = gather_folder(folder, out=first.master, registry=REGISTRY, now=NOW)
    assert evidence.readback.conflicts == 1
    without = render(evidence, generated_at=NOW)
    assert said_by_manager not in without and said_by_collator not in without
    assert f"Changed differently: Notes by the master and {pack.name}. Type the one to keep into the master." in without
    with_text = render(evidence, include_text=True, generated_at=NOW)
    assert said_by_manager in with_text and said_by_collator in with_text


# -- figures that add up, in percentage points, explained -------------------------------------------------


def test_a_change_is_the_difference_of_the_unrounded_shares() -> None:
    # Issue 15: from the unrounded shares, as official statistics work them out (8.3 - 16.7 is -8, though the
    # percentages shown, 17% and 8%, differ by 9); 5 of 12 then 1 of 12 is 33 points, not 42 - 8 = 34.
    assert (percent(1 / 6), percent(1 / 12), points(1 / 12, 1 / 6)) == (17, 8, -8)
    assert points(1 / 12, 5 / 12) == -33
    assert (percent(0.125), percent(0.005), percent(0.0049)) == (13, 1, 0)  # halves up, as 0% shows them
    assert points(0.5, None) is None and points(0.5, 0.5) == 0


def _figures(page: str) -> dict[str, tuple[str, str]]:
    """The headline figures: label -> (value, the line under it), as text."""
    out = {}
    for value, label, extra in re.findall(r'<div class="value">(.*?)</div><div class="label">(.*?)</div>'
                                          r'<div class="change">(.*?)</div>', page):
        out[html.unescape(label)] = (value, html.unescape(re.sub(r"<[^>]+>", "", extra)))
    return out


def test_the_headline_adds_up_and_explains_the_overall_grade(report_rounds: tuple[Path, Path]) -> None:  # noqa: F811
    folder, master = report_rounds
    evidence = gather_folder(folder, out=master, registry=REPORT_REGISTRY, now=NOW)
    figures = _figures(render(evidence, generated_at=NOW))
    value, extra = figures["judged Outstanding or Good overall"]
    now = int(value.rstrip("%"))
    change = re.match(r"n=4; (no change|[\u25b2\u25bc] (better|worse) by (\d+) points?) since 2026 round 2 "
                      r"\((\d+)% of (\d+)\)", extra)
    assert change is not None, extra
    before = int(change.group(4))
    by = 0 if change.group(3) is None else int(change.group(3)) * (1 if change.group(2) == "better" else -1)
    # From the unrounded shares: within a point of the difference of the percentages shown.
    assert abs(by - (now - before)) <= 1
    assert extra.endswith("The auditor's judgement of the whole case, not an average of its sections.")
    # Beside it, the section grades of the round together.
    section_value, section_extra = figures["of section grades Outstanding or Good"]
    assert evidence.current is not None
    counts = Counter[str]()
    for c in evidence.current.sections.values():
        counts.update(c)
    graded = sum(counts.values())
    assert section_value == f"{percent((counts['Outstanding'] + counts['Good']) / graded)}%"
    assert section_extra.startswith(f"{graded} section grades this round; ")
    # One urgent concern in the round: said in the singular.
    assert figures["urgent concern raised"][0] == "1"
    assert "4 audits this round" not in figures and figures["audits this round"][0] == "4"


def _written(cell: str | Span) -> str:
    """A cell as the report's template writes it."""
    return str(_template().environment.get_template("tables.html.j2").module.cell(cell))


def test_changes_read_as_points_and_no_change() -> None:
    # Issue 15: in words that say better or worse (the colour only adds to them), for measures where up is better
    # and where up is worse; nothing to compare says why.
    good = [Change(n, up_is_better=True) for n in (8, 1, 0, -1, -9, None)]
    assert [_written(change(c)) for c in good] == [
        '<span class="better">\u25b2 better by 8 points</span>', '<span class="better">\u25b2 better by 1 point</span>',
        "no change", '<span class="worse">\u25bc worse by 1 point</span>',
        '<span class="worse">\u25bc worse by 9 points</span>', ""]
    assert _written(change(Change(9, up_is_better=False))) == '<span class="worse">\u25b2 worse by 9 points</span>'
    assert _written(change(Change(None, up_is_better=False, why=TOO_FEW))) == "too few to compare"
    assert [plural(n, "urgent concern") for n in (0, 1, 2)] == ["0 urgent concerns", "1 urgent concern",
                                                                 "2 urgent concerns"]


# -- printed from the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's round report: two rounds, a register of some fifty actions (tables that run over pages)."""
    out = tmp_path_factory.mktemp("demo-report")
    run_demo(out)
    return out / "demo-report.html"


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    xml = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True,
                         timeout=120).stdout.decode("utf-8")
    return [[(float(x0), float(y0), float(x1), float(y1), html.unescape(t)) for x0, y0, x1, y1, t in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        for page in xml.split("<page ")[1:]]


def test_printed_tables_keep_their_header_clear_of_the_classification(demo_report: Path, tmp_path: Path) -> None:
    require("pdftotext", "poppler-utils")
    pdf = tmp_path / "report.pdf"
    with proxy() as p:
        done = chromium(tmp_path, p, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", demo_report.as_uri())
    assert done.returncode == 0, done.stderr
    pages = _words(pdf)
    assert len(pages) >= 4
    continued = 0
    for number, words in enumerate(pages, start=1):
        # The classification in the page's top margin, and nothing printed over or under it.
        top = min(words, key=lambda w: w[1])
        assert top[4] == "OFFICIAL-SENSITIVE", (number, top)
        assert all(w[1] >= top[3] for w in words if w is not top), number
        # ... and at its foot, with the page's number.
        assert f"OFFICIAL-SENSITIVE · page {number} of {len(pages)}" in " ".join(w[4] for w in words
                                                                                  if w[1] > 780), number
        text = " ".join(w[4] for w in words)
        # The register's header row at the top of a continuation page, whole (its words in reading order, which
        # pdftotext gives by line: the wording column, when there is one, may wrap its neighbours' cells).
        continued += text.startswith("OFFICIAL-SENSITIVE Action Case Team Section") and all(
            h in text for h in ("Responsible", "Timescale", "Status")) and number > 1
    assert continued >= 2  # the register's header row is repeated on its continuation pages, whole
    assert overprinted(pdf) == []


def test_every_column_of_the_report_is_headed_and_no_label_is_cut(demo_report: Path) -> None:
    page = demo_report.read_text(encoding="utf-8")
    assert re.findall(r"<th[^>]*>\s*</th>", page) == []
    assert "<th>Answers</th>" in page  # the practice questions' "2 No, 1 Partly"
    assert "\u2026" not in page  # labels wrap in the charts instead of being cut
    svg_text = " ".join(re.findall(r"<text [^>]*>([^<]*)</text>", page))
    assert "5 Understanding and Practice in relation to Diversity and Culture" in " ".join(svg_text.split())
    assert page.count("<h3>Share of each grade, by section</h3>") == 1 and "<h3>Grades by section</h3>" not in page
