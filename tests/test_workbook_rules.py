"""Inputs that share a rule share one data validation or conditional format over all their cells. Its formula
is written for the first cell and read by Excel and LibreOffice relative to it (LibreOffice: relative to the
top-left of all the cells), so for every cell it must say what the input's own rule says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from auditbook.spec import Spec
from auditbook.spec.layout import SUMMARY_SHEET, Layout
from auditbook.workbook.inputs import input_rules, relative_form
from auditbook.workbook.writer import build_workbook


def _cells(sqref: Any) -> list[tuple[int, int]]:
    out = []
    for rng in str(sqref).split():
        first, _, last = rng.partition(":")
        (c0, r0), (c1, r1) = coordinate_from_string(first), coordinate_from_string(last or first)
        out += [(r - 1, c - 1) for r in range(r0, r1 + 1)
                for c in range(column_index_from_string(c0), column_index_from_string(c1) + 1)]
    return out


@pytest.fixture(scope="module")
def blank(spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workbook(spec, out=tmp_path_factory.mktemp("rules") / "blank.xlsx")


@pytest.fixture(scope="module")
def own_rules(layout: Layout) -> dict[tuple[str, int, int], dict[str, tuple[str, str]]]:
    """Each input's own rules, as the writer works them out: (sheet, row, col) -> kind -> (formula, relative form)."""
    out: dict[tuple[str, int, int], dict[str, tuple[str, str]]] = {}
    for inp in layout.inputs:
        if inp.derived is not None:
            continue  # a locked formula cell, under no rule
        for kind, _key, options in input_rules(layout, inp, locked=False):
            formula = str(options.get("value") or options.get("source") or options.get("criteria"))
            out.setdefault((inp.sheet, inp.row, inp.col), {})[kind] = (
                formula, relative_form(formula, inp.row, inp.col))
    return out


def test_each_shared_rule_starts_at_the_top_left_of_its_cells(blank: Path) -> None:
    book = openpyxl.load_workbook(blank)
    wrong = []
    for ws in book.worksheets:
        rules = [dv.sqref for dv in ws.data_validations.dataValidation]
        rules += [cf.sqref for cf in ws.conditional_formatting]
        for sqref in rules:
            cells = _cells(sqref)
            if cells[0] != (min(r for r, _ in cells), min(c for _, c in cells)):
                wrong.append((ws.title, str(sqref)))
    assert wrong == []


def test_every_cell_of_a_shared_rule_gets_its_own_rule(blank: Path, layout: Layout,
                                                       own_rules: dict[tuple[str, int, int],
                                                                       dict[str, tuple[str, str]]]) -> None:
    book = openpyxl.load_workbook(blank)
    seen: dict[tuple[str, int, int], list[str]] = {}
    wrong = []
    for ws in book.worksheets:
        shared: list[tuple[Any, str, str]] = [
            (dv.sqref, "validation", "=" + str(dv.formula1)) for dv in ws.data_validations.dataValidation]
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                if ws.title == SUMMARY_SHEET:
                    continue  # the Summary's checks, shaded when they fail: no input's rule
                kind = "waiting" if rule.formula[0].startswith("waiting_") else \
                    "not applicable" if rule.stopIfTrue else "required"
                shared.append((cf.sqref, kind, "=" + rule.formula[0]))
        for sqref, kind, formula in shared:
            (r0, c0), *_ = cells = _cells(sqref)
            for r, c in cells:
                seen.setdefault((ws.title, r, c), []).append(kind)
                own = own_rules.get((ws.title, r, c), {}).get(kind)
                if own is None or relative_form(formula, r0, c0) != own[1]:
                    wrong.append((ws.title, r, c, kind, formula, own))
    assert wrong == []
    # Every input is under every rule it has, once.
    assert {k: sorted(v) for k, v in seen.items()} == {k: sorted(v) for k, v in own_rules.items()}
    assert len([i for i in layout.inputs if i.derived is None]) == len(own_rules)


def test_shared_rules_are_few(blank: Path, own_rules: dict[tuple[str, int, int], dict[str, tuple[str, str]]]) -> None:
    book = openpyxl.load_workbook(blank)
    validations = sum(len(ws.data_validations.dataValidation) for ws in book.worksheets)
    formats = sum(len(cf.rules) for ws in book.worksheets for cf in ws.conditional_formatting
                  if ws.title != SUMMARY_SHEET)
    one_each = {kind: sum(kind in rules for rules in own_rules.values())
                for kind in ("validation", "waiting", "not applicable", "required")}
    assert validations < one_each["validation"] * 0.6
    assert formats < (one_each["waiting"] + one_each["not applicable"] + one_each["required"]) / 2
