"""Hostile text (markup, quotes, formulas) typed into a return, the spec and the master goes out as text: escaped in
the round report's HTML and its SVG charts, never a formula in the CSV export --for-excel (a data package, the
default, keeps text as typed)."""

from __future__ import annotations

import csv
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.outputs.export import csv_cell, export
from auditbook.outputs.report import render
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec import Spec, default_spec_path, parse_spec
from auditbook.spec.layout import build_layout
from auditbook.text import FORMULA_STARTS
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.test_report_hostile import TAGS as REPORT_TAGS

NOW = datetime(2026, 12, 7, 9, 30)
runner = CliRunner()

THEME = '=1+1 <script>alert("theme")</script>'
HOSTILE = {
    "profile_case_ref": "SYN-0001 \"'><script>alert('case')</script>",
    "profile_team": '=HYPERLINK("http://example.invalid","<b>Team</b>")',
    "profile_round": "@2026 round 3 <img src=x onerror=alert(1)>",
    "actions_r01_action": "-2+3 <script>alert(\"action\")</script> 'quoted' & more",
}
PLAN = {"Theme": "+cmd|' /C calc'!A0", "Action": "<script>alert('plan')</script> \"SAG\"", "Owner": "@Example Owner"}
NOTE = '=1+1 "<i>note</i>"'


def _data() -> dict[str, Any]:
    """The Deep Dive with one more concern theme, whose label is hostile too."""
    data: dict[str, Any] = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    data["version"] = "2.9.0"
    data["themes"].append({"label": THEME, "kind": "concern"})
    return data


def _spec() -> Spec:
    return parse_spec(_data(), source=Path("hostile.yaml"))


class Markup(HTMLParser):
    """Every tag and attribute of a page, its text, and the text inside its SVG charts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.text: list[str] = []
        self.svg_text: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on") or name in ("src", "href")]
        self.depth += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "svg"

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.depth:
            self.svg_text.append(data)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, SpecRegistry]:
    spec = _spec()
    registry = SpecRegistry.of(spec)
    layout = build_layout(spec)
    folder = tmp_path_factory.mktemp("hostile") / "returns"
    folder.mkdir()
    for i in (1, 2):
        answers = synthetic_answers(layout, seed=90 + i, index=i, scenario="child_protection", actions=2)
        if i == 1:
            answers.update(HOSTILE)
            answers["assessment_theme_1"] = THEME
        build_workbook(spec, out=folder / f"SYN-000{i}.xlsx", prefill=answers)
    master = folder.parent / "out" / "master.xlsx"
    first = collect(folder, out=master, registry=registry, now=NOW)
    assert first.summary_line().count("master holds 2 audits; 0 rejected;") == 1, first.summary_line()
    # The collator types a SAG plan row and a note into the master, as text a spreadsheet could take for a formula.
    wb = openpyxl.load_workbook(master)
    plan = wb["SAG action plan"]
    head = [c.value for c in plan[1]]
    for column, value in PLAN.items():
        plan.cell(row=2, column=head.index(column) + 1).value = value
    actions = wb["Actions"]
    head = [c.value for c in actions[1]]
    note = actions.cell(row=2, column=head.index("Notes") + 1)
    note.value = NOTE
    note.data_type = "s"  # typed as text ('=1+1 in Excel), not as a formula
    wb.save(master)
    return folder, master, registry


def test_the_report_and_its_charts_show_hostile_text_as_text(folder: tuple[Path, Path, SpecRegistry]) -> None:
    returns, master, registry = folder
    evidence = gather_folder(returns, out=master, registry=registry, now=NOW)
    assert NOTE in [st.notes for st in evidence.states.values()], evidence.readback
    assert [p.action for p in evidence.plan] == [PLAN["Action"]]
    for include_text in (False, True):
        page = render(evidence, include_text=include_text, generated_at=NOW)
        markup = Markup()
        markup.feed(page)
        # Only the report's own markup: no script, image or frame, no event handler, nothing fetched.
        assert markup.tags <= REPORT_TAGS, markup.tags
        assert markup.handlers == []
        text = "".join(markup.text)
        for value in (HOSTILE["profile_case_ref"], HOSTILE["profile_team"], HOSTILE["profile_round"], THEME,
                      PLAN["Theme"], PLAN["Action"], PLAN["Owner"]):
            assert value in text, value
        assert (HOSTILE["actions_r01_action"] in text) is include_text
        # The charts label the team (a cohort) and the round with the same text, escaped.
        svg = "".join(markup.svg_text)
        assert HOSTILE["profile_team"] in svg


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_the_csv_export_never_starts_a_cell_with_a_formula(folder: tuple[Path, Path, SpecRegistry],
                                                           tmp_path: Path) -> None:
    returns, master, registry = folder
    evidence = gather_folder(returns, out=master, registry=registry, now=NOW)
    written = export(evidence, tmp_path / "safe", generated_at=NOW, for_excel=True)
    cells = [c for p in written if p.suffix == ".csv" for row in _csv(p) for c in row]
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []
    for value in (HOSTILE["profile_team"], HOSTILE["profile_round"], HOSTILE["actions_r01_action"], THEME, NOTE):
        assert "'" + value in cells, value
    assert HOSTILE["profile_case_ref"] in cells  # it starts with S: as typed
    readme = (tmp_path / "safe" / "README.txt").read_text(encoding="utf-8")
    assert "leading '" in readme and "--for-excel" in readme

    raw = export(evidence, tmp_path / "raw", generated_at=NOW)
    raw_cells = {c for p in raw if p.suffix == ".csv" for row in _csv(p) for c in row}
    assert {HOSTILE["profile_team"], HOSTILE["actions_r01_action"], THEME, NOTE} <= raw_cells
    assert "exactly as typed" in (tmp_path / "raw" / "README.txt").read_text(encoding="utf-8")


def test_export_raw_on_the_command_line(folder: tuple[Path, Path, SpecRegistry], tmp_path: Path) -> None:
    returns, master, _ = folder
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "hostile.yaml").write_text(yaml.safe_dump(_data(), sort_keys=False), encoding="utf-8")
    for options, expected in ((["--for-excel"], "'" + HOSTILE["profile_team"]), ([], HOSTILE["profile_team"])):
        out = tmp_path / ("safe" if options else "raw")
        result = runner.invoke(app, ["export", str(returns), "--to", str(out), "--out", str(master),
                                     "--specs", str(specs), *options])
        assert result.exit_code == 0, result.output
        audits = _csv(out / "audits.csv")
        team = audits[0].index("Team" if options else "team")
        assert audits[1:] and {row[team] for row in audits[1:]} >= {expected}


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-1", "@A1", "\tTab", "\rCR"])
def test_csv_cell_keeps_formula_starts_as_text(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert csv_cell(text, raw=True) == text


def test_csv_cell_leaves_numbers_dates_and_ordinary_text_alone() -> None:
    assert [csv_cell(v) for v in (-0.08, -3, "Team Alpha", "", None, datetime(2026, 11, 30).date())] == [
        "-0.08", "-3", "Team Alpha", "", "", "2026-11-30"]
    assert csv_cell("Example\x1b[2J text") == "Example\\x1b[2J text"  # shown, as in the master
