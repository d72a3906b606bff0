"""The round report after the code and product reviews: no free text without --include-text (conflicting edits
included), changes in percentage points that add up, the headline's overall grade explained, plurals."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from auditbook.collection.collect import gather_folder
from auditbook.collection.report import render
from tests.test_register import REGISTRY, _returns, actions_tab, run, type_into

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
