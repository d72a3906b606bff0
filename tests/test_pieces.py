"""The master's Answers rows kept per return from one collect to the next (store/pieces.py, outputs/sheetxml.KeptRows):
a collect puts in the rows it kept while they would start at the same row, makes the others, and the master reads
the same as one made afresh."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree

from auditbook.outputs import sheetxml
from auditbook.outputs.sheetxml import inline_text
from tests.conformance.checker import check_xlsx
from tests.returns import valid_return
from tests.test_collect import run

CASES = ("SYN-5101", "SYN-5102", "SYN-5103")


def _put(folder: Path, case: str, seed: int) -> Path:
    return valid_return(folder / f"{case}.xlsx", changes={"profile_case_ref": case}, seed=seed)


def _answers(master: Path) -> list[tuple[Any, ...]]:
    ws = openpyxl.load_workbook(master, read_only=True)["Answers"]
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def _made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cases whose Answers rows are made (not put in as kept) from now on."""
    made: list[str] = []
    real = sheetxml.KeptRows.piece

    def piece(self: sheetxml.KeptRows, who: Any, items: Any, first: int) -> Any:
        made.append(who[0])
        return real(self, who, items, first)

    monkeypatch.setattr(sheetxml.KeptRows, "piece", piece)
    return made


def _pieces(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        return int(db.execute("SELECT count(*) FROM pieces").fetchone()[0])


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    returns = tmp_path / "returns"
    returns.mkdir()
    for seed, case in enumerate(CASES[:2], start=1):
        _put(returns, case, seed)
    return returns


def test_a_new_return_adds_its_rows_after_those_kept_which_are_not_made_again(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    first = run(folder, out)
    before = _answers(first.master)
    assert _pieces(out / "ledger.sqlite3") == 2
    _put(folder, CASES[2], 3)
    made = _made(monkeypatch)
    second = run(folder, out)
    assert made == [CASES[2]]  # the two returns already collected: their rows put in as they were kept
    after = _answers(second.master)
    assert after[:len(before)] == before
    assert {r[0] for r in after[len(before):]} == {CASES[2]}
    # The same rows as a master made afresh from the same folder (where they are in case order).
    fresh = run(folder, tmp_path / "fresh")
    assert Counter(after) == Counter(_answers(fresh.master))
    assert _pieces(out / "ledger.sqlite3") == 3
    _assert_in_order(second.master)


def test_a_return_forgotten_moves_the_rows_after_it_which_are_made_again(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _put(folder, CASES[2], 3)
    out = tmp_path / "out"
    run(folder, out)
    (folder / f"{CASES[0]}.xlsx").unlink()  # a return gone from the folder stays in the master until forgotten
    made = _made(monkeypatch)
    assert {r[0] for r in _answers(run(folder, out).master)} == set(CASES)
    assert made == []
    result = run(folder, out, forget=(Path(f"{CASES[0]}.xlsx"),))
    assert made == list(CASES[1:])  # both start higher up now
    assert {r[0] for r in _answers(result.master)} == set(CASES[1:])
    assert Counter(_answers(result.master)) == Counter(_answers(run(folder, tmp_path / "fresh").master))
    assert _pieces(out / "ledger.sqlite3") == 2  # the forgotten return's piece is gone
    _assert_in_order(result.master)


def test_a_piece_altered_in_the_ledger_is_not_put_in(folder: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run(folder, out)
    ledger = out / "ledger.sqlite3"
    with sqlite3.connect(ledger) as db:
        key, data = db.execute("SELECT key, data FROM pieces ORDER BY first LIMIT 1").fetchone()
        # Someone who can write to the ledger swaps in other rows (here: a copy of the other return's, at this place).
        other = db.execute("SELECT data FROM pieces WHERE key <> ?", (key,)).fetchone()[0]
        db.execute("UPDATE pieces SET data = ? WHERE key = ?", (other, key))
        assert other != data
    _put(folder, CASES[2], 3)
    made = _made(monkeypatch)
    after = run(folder, out).master
    # The altered piece does not check out: its rows are made again, after those kept (the one kept, now starting
    # higher up, made again too), in case order with the new return's; the master reads as one made afresh.
    assert made == [CASES[1], CASES[0], CASES[2]]
    assert Counter(_answers(after)) == Counter(_answers(run(folder, tmp_path / "fresh").master))
    assert _pieces(ledger) == 3


def test_the_shared_strings_count_stays_exact_with_rows_put_in(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(folder, out)
    # Text written in its cell that looks like a shared-string cell's markup is not counted as one; a carriage return
    # and spaces at the ends come back as typed.
    typed = ' Noted as <c t="s"> t="s"\r\npasted from Windows '
    valid_return(folder / f"{CASES[2]}.xlsx", seed=3, changes={
        "profile_case_ref": CASES[2], "assessment_assessment_timely_evidence": typed})
    master = run(folder, out).master
    assert typed in {r[6] for r in _answers(master)}
    with zipfile.ZipFile(master) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        strings = etree.fromstring(zf.read("xl/sharedStrings.xml"))
    declared = int(strings.get("count"))
    assert declared == sum(1 for xml in sheets for c in etree.fromstring(xml).iter("{*}c") if c.get("t") == "s")
    assert int(strings.get("uniqueCount")) == len(strings)


def _assert_in_order(master: Path) -> None:
    """The master conforms (its rows and cells in order, each carrying its reference), as Excel asks."""
    assert check_xlsx(master) == []
    with zipfile.ZipFile(master) as zf:
        cells = re.findall(rb"<c\b[^>]*?/?>", b"".join(zf.read(n) for n in zf.namelist() if "worksheets/" in n))
    assert cells and [c for c in cells if b' r="' not in c] == []


@pytest.mark.parametrize(("text", "xml"), [
    ("plain", "<is><t>plain</t></is>"),
    ("_x0041_ stays", "<is><t>_x005F_x0041_ stays</t></is>"),  # not read as the escape of "A"
    ("a < b & c", "<is><t>a &lt; b &amp; c</t></is>"),
    (" spaced ", '<is><t xml:space="preserve"> spaced </t></is>'),
    ("line\r\nbreak", "<is><t>line&#13;\nbreak</t></is>"),  # kept as typed, where a typed one becomes a line feed
])
def test_inline_text_is_escaped_as_excel_escapes_its_shared_strings(text: str, xml: str) -> None:
    assert inline_text(text) == xml



def test_pieces_kept_in_another_shape_are_dropped_and_made_again(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with sqlite3.connect(out / "ledger.sqlite3") as db:  # as a later version might keep them
        db.execute("CREATE TABLE pieces (key TEXT PRIMARY KEY, blob BLOB, mac TEXT)")
    result = run(folder, out)
    assert {r[0] for r in _answers(result.master)} == set(CASES[:2])
    assert _pieces(out / "ledger.sqlite3") == 2
