"""The round report after the code and product reviews: no free text without --include-text (conflicting edits
included), changes in percentage points that add up, the headline's overall grade explained, plurals."""

from __future__ import annotations

import html
import re
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from auditbook.collection.collect import gather_folder
from auditbook.collection.report import _change, render
from auditbook.collection.trends import percent, points
from auditbook.text import plural
from tests.test_register import REGISTRY, _returns, actions_tab, run, type_into
from tests.test_report import REGISTRY as REPORT_REGISTRY
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


def test_a_change_is_the_difference_of_the_percentages_shown() -> None:
    assert (percent(1 / 6), percent(1 / 12), points(1 / 12, 1 / 6)) == (17, 8, -9)  # not -8 (8.3 - 16.7)
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
    change = re.match(r"(no change|([+-]\d+) points?) since 2026 round 2 \((\d+)%\)", extra)
    assert change is not None, extra
    before = int(change.group(3))
    assert (int(change.group(2)) if change.group(2) else 0) == now - before
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


def test_changes_read_as_points_and_no_change() -> None:
    assert [_change(c) for c in (8, 1, 0, -1, -9, None)] == [
        '<span class="up">+8 points</span>', '<span class="up">+1 point</span>', "no change",
        '<span class="down">-1 point</span>', '<span class="down">-9 points</span>', ""]
    assert [plural(n, "urgent concern") for n in (0, 1, 2)] == ["0 urgent concerns", "1 urgent concern",
                                                                 "2 urgent concerns"]
