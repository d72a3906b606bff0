"""A team manager's pack printed as they would print it (LibreOffice to PDF, pdftotext reading back each word and where
it sits): every Findings row says its case and section, on every page; each action's wording prints on the same page
as its Status and Notes; the urgent concerns print with their status."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from auditbook.collection.collect import collect
from auditbook.returns.provenance import SpecRegistry
from tests.lo.driver import overprinted, require_libreoffice, require_print_fonts, to_pdf
from tests.returns import answers, make_return, spec
from tests.test_master_print import Word, _pages, _tab, printed

pytestmark = pytest.mark.libreoffice
NOW = datetime(2026, 12, 7, 9, 30)
MANAGER = "Example Manager Beta"
NOTE = "Discussed in supervision on Tuesday; plan updated"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One manager's pack of five cases (Findings over several pages), with a status and a note typed in."""
    require_libreoffice()
    require_print_fonts()
    tmp = tmp_path_factory.mktemp("pack-print")
    folder = tmp / "returns"
    scenarios = ("child_protection", "in_care_16_plus", "early_help", "child_in_need", "child_protection")
    for i, scenario in enumerate(scenarios, start=1):
        a = answers(scenario, seed=60 + i, index=i, actions=3, urgent=i == 2)
        make_return(folder / f"SYN-000{i}.xlsx", {**a, "profile_team_manager": MANAGER})
    result = collect(folder, out=tmp / "master.xlsx", registry=SpecRegistry.of(spec()), now=NOW, packs=tmp / "packs")
    (path,) = result.packs
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    head = [c.value for c in ws[1]]
    last = ws.max_row  # the last action: the one most likely to print apart from its Status and Notes
    ws.cell(row=last, column=head.index("Status") + 1).value = "In progress"
    ws.cell(row=last, column=head.index("Notes") + 1).value = NOTE
    wb.save(path)
    return path, to_pdf(path, tmp / "pack.pdf")


def _by_tab(pdf: Path) -> dict[str, list[list[Word]]]:
    tabs: dict[str, list[list[Word]]] = {}
    for words in _pages(pdf):
        tabs.setdefault(_tab(words), []).append(words)
    return tabs


def test_every_findings_row_says_its_case_and_section(pack: tuple[Path, Path]) -> None:
    path, pdf = pack
    ws = openpyxl.load_workbook(path)["Findings"]
    head = [c.value for c in ws[1]]
    case, section = head.index("Case reference"), head.index("Section")
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) > 40
    assert [r for r in rows if not (r[case] and r[section])] == []
    pages = _by_tab(pdf)["Findings"]
    assert len(pages) > 1
    for words in pages:
        # One page wide: every page has the case and section beside what was found (none printed across).
        assert {"Case", "Section", "working", "improve"} <= {w.text for w in words}
        # Below the header row repeated on each page, the first row starts with its case reference.
        header = min((w for w in words if w.text == "Case"), key=lambda w: w.y0)
        first = min((w for w in words if w.y0 > header.y1 + 4 and w.x0 < header.x0 + 5), key=lambda w: w.y0)
        assert first.text.startswith("SYN-"), [w.text for w in words[:20]]


def test_an_actions_wording_status_and_notes_print_on_one_page(pack: tuple[Path, Path]) -> None:
    path, pdf = pack
    ws = openpyxl.load_workbook(path)["Actions"]
    head = [c.value for c in ws[1]]
    wording = str(ws.cell(row=ws.max_row, column=head.index("Action") + 1).value)
    pages = _by_tab(pdf)["Actions"]
    # The tab prints one page wide: every page has the wording's column beside Status and Notes.
    for words in pages:
        assert {"Action", "Status", "Notes"} <= {w.text for w in words}
    (page,) = [words for words in pages if printed(words, " ".join(wording.split()[:4]))]
    start = printed(page, " ".join(wording.split()[:4]))
    assert start is not None
    assert printed(page, "In progress") is not None
    note = printed(page, NOTE)
    assert note is not None and abs(note.y0 - start.y0) < 2  # on the action's own row


def test_the_urgent_concerns_print_and_nothing_prints_over_anything(pack: tuple[Path, Path]) -> None:
    _, pdf = pack
    tabs = _by_tab(pdf)
    assert any(printed(words, "Line manager for the case") for words in tabs["Urgent concerns"])
    assert any(printed(words, "return merged") for words in tabs["Urgent concerns"])
    assert overprinted(pdf) == []
