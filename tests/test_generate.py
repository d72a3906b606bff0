"""`auditbook generate` and `describe`: the workbook's structure, its names, locks, metadata and the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest
import yaml
from openpyxl.utils.cell import absolute_coordinate, coordinate_to_tuple, range_boundaries
from openpyxl.workbook.workbook import Workbook as OpenpyxlWorkbook
from openpyxl.worksheet.worksheet import Worksheet as OpenpyxlWorksheet
from typer.testing import CliRunner
from xlsxwriter.worksheet import Worksheet

from auditbook.cli import app
from auditbook.errors import AuditbookError, WorkbookError
from auditbook.spec import Spec, default_spec_path, load_spec, parse_spec, specs_dir
from auditbook.spec.layout import VALUE_COL, Layout, build_layout
from auditbook.spec.metadata import PROPERTY_NAMES, meta_name, new_metadata
from auditbook.workbook import protect, summary, writer, xlsx
from auditbook.workbook.kleene import string_literal
from auditbook.workbook.writer import build_workbook

GOLDEN = Path(__file__).parent / "golden" / "deep_dive_fingerprint.json"
UPDATE_GOLDEN = os.environ.get("AUDITBOOK_UPDATE_GOLDEN") == "1"
FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FIXED_INSTANCE = "00000000-0000-4000-8000-000000000000"

SHEETS = [
    ("Start", "visible"), ("Summary", "visible"), ("Case profile", "visible"), ("1a Early Help", "visible"),
    ("1b Assessment", "visible"), ("1c Children in Need", "visible"), ("1d Child Protection", "visible"),
    ("2 Child\u2019s Voice", "visible"), ("3 Management oversight", "visible"), ("4 Partnership", "visible"),
    ("5 Diversity and Culture", "visible"), ("6 Plans and Reviews", "visible"),
    ("7 Direct work and Recording", "visible"), ("8 Service user feedback", "visible"),
    ("9 Permanence", "visible"), ("10 Independence", "visible"), ("Actions", "visible"),
    ("Overall judgement", "visible"), ("ESN criteria", "visible"), ("Lists", "hidden"),
    ("Metadata", "veryHidden"),
]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blank_path(spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blank workbook with fixed metadata, so its structure is the same every run."""
    meta = new_metadata(spec, now=FIXED_NOW, instance_id=FIXED_INSTANCE)
    return build_workbook(spec, out=tmp_path_factory.mktemp("blank") / "blank.xlsx", meta=meta)


@pytest.fixture(scope="module")
def book(blank_path: Path) -> OpenpyxlWorkbook:
    """The blank workbook as openpyxl reads it."""
    return openpyxl.load_workbook(blank_path)


@pytest.fixture(scope="module")
def dictionary() -> dict[str, Any]:
    """`auditbook describe --json` of the bundled spec."""
    result = CliRunner().invoke(app, ["describe", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _generate(*args: str) -> Any:
    return CliRunner().invoke(app, ["generate", *args])


# -- reading a workbook back ---------------------------------------------------------------------


def _by_position(coords: list[str]) -> list[str]:
    return sorted(coords, key=coordinate_to_tuple)


def _unlocked(ws: OpenpyxlWorksheet) -> list[str]:
    return _by_position([c.coordinate for row in ws.iter_rows() for c in row if not c.protection.locked])


def _cells_of(sqref: Any) -> list[str]:
    out = []
    for rng in str(sqref).split():
        min_col, min_row, max_col, max_row = range_boundaries(rng)
        out += [f"{openpyxl.utils.get_column_letter(c)}{r}" for r in range(min_row, max_row + 1)
                for c in range(min_col, max_col + 1)]
    return out


def _validations(ws: OpenpyxlWorksheet) -> dict[str, list[Any]]:
    """Every data validation on the sheet, by the cells it covers."""
    out: dict[str, list[Any]] = {}
    for dv in ws.data_validations.dataValidation:
        for cell in _cells_of(dv.sqref):
            out.setdefault(cell, []).append(dv)
    return out


def _conditional_formats(ws: OpenpyxlWorksheet) -> list[list[Any]]:
    rules = [
        (rule.priority, [str(cf.sqref), rule.type, list(rule.formula), bool(rule.stopIfTrue)])
        for cf in ws.conditional_formatting for rule in cf.rules
    ]
    return [r for _, r in sorted(rules, key=lambda r: r[0])]


def _name_constant(book: OpenpyxlWorkbook, name: str) -> str:
    text = book.defined_names[name].attr_text
    assert text.startswith('"') and text.endswith('"'), text
    return str(text[1:-1].replace('""', '"'))


def _destination(book: OpenpyxlWorkbook, name: str) -> tuple[str, str]:
    """The sheet and absolute reference a defined name points at (openpyxl leaves '' doubled in sheet names)."""
    dn = book.defined_names[name]
    m = re.fullmatch(r"'((?:[^']|'')+)'!(\$[A-Z]+\$\d+(?::\$[A-Z]+\$\d+)?)", dn.attr_text)
    assert m is not None and dn.localSheetId is None, f"{name} = {dn.attr_text}"
    return m.group(1).replace("''", "'"), m.group(2)


def _value_of(book: OpenpyxlWorkbook, name: str) -> Any:
    sheet, ref = _destination(book, name)
    return book[sheet][ref.replace("$", "")].value


def _range_values(book: OpenpyxlWorkbook, name: str) -> list[Any]:
    sheet, ref = _destination(book, name)
    return [c.value for row in book[sheet][ref.replace("$", "")] for c in row]


def fingerprint(path: Path) -> dict[str, Any]:
    """What the workbook is made of, without its text: sheets, locks, validations, names, formats, printing."""
    book = openpyxl.load_workbook(path)
    sheets = []
    for ws in book.worksheets:
        setup = ws.page_setup
        sheets.append({
            "name": ws.title,
            "state": ws.sheet_state,
            "protection": {
                "protected": bool(ws.protection.sheet),
                "password": bool(ws.protection.password),
                # openpyxl reads formatRows=False as "allowed while protected".
                "may_format_rows": not ws.protection.formatRows,
                "may_format_columns": not ws.protection.formatColumns,
            },
            "print": {
                "landscape": setup.orientation == "landscape",
                "paper_size": setup.paperSize,
                "fit_to_page": bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
                # OOXML: an absent fitToWidth means 1 page wide.
                "fit_to_width": 1 if setup.fitToWidth is None else setup.fitToWidth,
                "fit_to_height": setup.fitToHeight,
                "title_rows": ws.print_title_rows,
                "header": [ws.oddHeader.left.text, ws.oddHeader.center.text, ws.oddHeader.right.text],
                "footer": [ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text],
            },
            "unlocked": _unlocked(ws),
            "validations": [[str(dv.sqref), dv.type, dv.formula1] for dv in ws.data_validations.dataValidation],
            "conditional_formats": _conditional_formats(ws),
        })
    return {
        "sheets": sheets,
        "defined_names": {name: dn.attr_text for name, dn in sorted(book.defined_names.items())},
        "sheet_scoped_names": {ws.title: sorted(ws.defined_names) for ws in book.worksheets if ws.defined_names},
        "custom_properties": [p.name for p in book.custom_doc_props.props],
    }


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _dumps(value: Any, level: int = 0) -> str:
    """JSON with each short entry on one line, so the golden file reads and diffs line by line."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or (len(flat) <= 110 and _depth(value) <= 2):
        return flat
    pad, end = "  " * (level + 1), "  " * level
    if isinstance(value, dict):
        body = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(body) + f"\n{end}}}"
    return "[\n" + ",\n".join(f"{pad}{_dumps(v, level + 1)}" for v in value) + f"\n{end}]"


# -- the golden fingerprint ----------------------------------------------------------------------


def test_fingerprint_matches_golden(blank_path: Path) -> None:
    against_golden(json.loads(json.dumps(fingerprint(blank_path))), GOLDEN, update=UPDATE_GOLDEN)


def against_golden(actual: dict[str, Any], golden_file: Path, *, update: bool) -> None:
    """Compare a fingerprint with the golden file; with `update`, rewrite the file and fail, so a run that
    rewrote it never passes as if the workbook matched."""
    if update:
        golden_file.parent.mkdir(exist_ok=True)
        golden_file.write_text(_dumps(actual) + "\n", encoding="utf-8")
        pytest.fail(f"{golden_file.name} rewritten from this workbook (AUDITBOOK_UPDATE_GOLDEN=1): review the diff, "
                    "then run the tests again without it.", pytrace=False)
    assert golden_file.is_file(), f"{golden_file} is missing: run the tests once with AUDITBOOK_UPDATE_GOLDEN=1."
    golden = json.loads(golden_file.read_text(encoding="utf-8"))
    hint = "the workbook changed: if that is intended, rerun with AUDITBOOK_UPDATE_GOLDEN=1 and review the diff"
    assert [s["name"] for s in actual["sheets"]] == [s["name"] for s in golden["sheets"]], hint
    for mine, theirs in zip(actual["sheets"], golden["sheets"], strict=True):
        for key in theirs:
            assert mine[key] == theirs[key], f"{mine['name']}: {key}: {hint}"
    for key in ("defined_names", "sheet_scoped_names", "custom_properties"):
        assert actual[key] == golden[key], f"{key}: {hint}"
    assert actual == golden, hint


def test_rewriting_the_golden_file_never_passes(tmp_path: Path) -> None:
    actual = {"sheets": [{"name": "Start"}], "defined_names": {}}
    with pytest.raises(pytest.fail.Exception, match="rewritten"):
        against_golden(actual, tmp_path / "golden.json", update=True)
    assert json.loads((tmp_path / "golden.json").read_text(encoding="utf-8")) == actual
    with pytest.raises(AssertionError):
        against_golden({**actual, "defined_names": {"x": "1"}}, tmp_path / "golden.json", update=False)


def test_golden_dump_is_stable() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert GOLDEN.read_text(encoding="utf-8") == _dumps(golden) + "\n"


# -- sheets, protection, printing ----------------------------------------------------------------


def test_sheets_in_order_with_their_visibility(book: OpenpyxlWorkbook) -> None:
    assert [(ws.title, ws.sheet_state) for ws in book.worksheets] == SHEETS
    assert book.active.title == "Start"


def test_every_sheet_is_protected_without_password_and_rows_can_be_resized(book: OpenpyxlWorkbook) -> None:
    assert [
        (ws.title, bool(ws.protection.sheet), ws.protection.password, ws.protection.formatRows)
        for ws in book.worksheets
    ] == [(name, True, None, False) for name, _ in SHEETS]


def test_password_protects_every_sheet(spec: Spec, tmp_out: Path) -> None:
    result = _generate("--out", str(tmp_out / "locked.xlsx"), "--password", "s3cret")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_out / "locked.xlsx")
    assert [ws.title for ws in book.worksheets if not ws.protection.password] == []


def test_every_sheet_prints_landscape_one_page_wide_with_sensitive_footer(book: OpenpyxlWorkbook) -> None:
    assert {
        (ws.page_setup.orientation, ws.sheet_properties.pageSetUpPr.fitToPage, ws.page_setup.fitToWidth or 1,
         ws.page_setup.fitToHeight, ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text)
        for ws in book.worksheets
    } == {("landscape", True, 1, 0, "Case reference: see Case profile", "Page &P of &N", "OFFICIAL-SENSITIVE")}


def test_a_classification_with_an_ampersand_prints_as_written(spec: Spec, tmp_out: Path) -> None:
    # "&" starts a code in a page header or footer: written as "&&", it prints as one "&".
    marked = spec.model_copy(update={"classification": "OFFICIAL & SENSITIVE"})
    path = build_workbook(marked, out=tmp_out / "amp.xlsx")
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<oddHeader>&amp;C&amp;\"Arial,Bold\"OFFICIAL &amp;&amp; SENSITIVE</oddHeader>" in sheet
    assert "&amp;ROFFICIAL &amp;&amp; SENSITIVE</oddFooter>" in sheet


def test_section_sheets_repeat_their_header_row(book: OpenpyxlWorkbook, dictionary: dict[str, Any]) -> None:
    sheets = [s["sheet"] for s in dictionary["sections"]]
    assert {book[s].print_title_rows for s in sheets} == {"$8:$8"}


# -- inputs: names, locks, validations, formats --------------------------------------------------


def test_every_input_has_a_workbook_scoped_name_at_its_cell(
    book: OpenpyxlWorkbook, dictionary: dict[str, Any]
) -> None:
    inputs = dictionary["inputs"]
    assert len({i["name"] for i in inputs}) == len(inputs)
    missing = [i["name"] for i in inputs if i["name"] not in book.defined_names]
    assert missing == []
    wrong = [
        (i["name"], _destination(book, i["name"])) for i in inputs
        if _destination(book, i["name"]) != (i["sheet"], absolute_coordinate(i["cell"]))
    ]
    assert wrong == []
    assert [ws.title for ws in book.worksheets if ws.defined_names and set(ws.defined_names) - {"Print_Titles"}] == []


def test_every_input_is_unlocked(book: OpenpyxlWorkbook, dictionary: dict[str, Any]) -> None:
    locked = [i["name"] for i in dictionary["inputs"] if book[i["sheet"]][i["cell"]].protection.locked]
    assert locked == [i["name"] for i in dictionary["inputs"] if i["derived"]]


def test_derived_values_are_locked_formulas_without_validation(book: OpenpyxlWorkbook,
                                                               dictionary: dict[str, Any]) -> None:
    derived = {i["name"]: i["derived"] for i in dictionary["inputs"] if i["derived"]}
    assert derived == {"profile_due_date": {"end_of": "profile.audit_month"},
                       "profile_period_from": {"end_of": "profile.audit_month", "offset": "-2 years +1 day"},
                       "profile_period_to": {"end_of": "profile.audit_month"}}
    for name in derived:
        cell = book[_destination(book, name)[0]][_destination(book, name)[1].replace("$", "")]
        assert (str(cell.value).startswith("=IFERROR("), cell.protection.locked, cell.number_format) == (
            True, True, "dd/mm/yyyy"), name
        assert "profile_audit_month" in cell.value
    assert "EDATE(" in _value_of(book, "profile_period_from")


def test_only_inputs_are_unlocked(book: OpenpyxlWorkbook, dictionary: dict[str, Any]) -> None:
    allowed: dict[str, set[str]] = {}
    for i in dictionary["inputs"]:
        allowed.setdefault(i["sheet"], set()).add(i["cell"])
    # A long text input is merged across the answer and evidence columns; the merged cell is part of it.
    for ws in book.worksheets:
        for rng in ws.merged_cells.ranges:
            if rng.coord.split(":")[0] in allowed.get(ws.title, set()):
                allowed[ws.title].update(_cells_of(rng.coord))
    stray = [(ws.title, c) for ws in book.worksheets for c in _unlocked(ws) if c not in allowed.get(ws.title, set())]
    assert stray == []


def test_every_input_has_one_validation_and_choices_use_a_named_list(
    book: OpenpyxlWorkbook, dictionary: dict[str, Any]
) -> None:
    by_sheet = {ws.title: _validations(ws) for ws in book.worksheets}
    problems = []
    for i in dictionary["inputs"]:
        dvs = by_sheet[i["sheet"]].get(i["cell"], [])
        if i["derived"]:  # a locked formula takes no entries
            if dvs:
                problems.append((i["name"], "a derived value with a validation"))
            continue
        if len(dvs) != 1:
            problems.append((i["name"], f"{len(dvs)} validations"))
            continue
        dv = dvs[0]
        if dv.showErrorMessage is not True or dv.errorStyle not in (None, "stop"):
            problems.append((i["name"], "does not refuse bad entries"))
        if i["type"] != "choice":
            if dv.type != "custom":
                problems.append((i["name"], f"{dv.type} validation on a {i['type']}"))
            continue
        names = re.findall(r"\blist_\w+", dv.formula1 or "")
        lists = [n for n in names if n != "list_not_applicable"]
        if dv.type != "list" or len(lists) != 1:
            problems.append((i["name"], f"{dv.type} validation with source {dv.formula1}"))
        elif _range_values(book, lists[0]) != i["choices"]:
            problems.append((i["name"], f"{lists[0]} holds other choices"))
        elif ("list_not_applicable" in names) != (i["applies_when"] is not None):
            problems.append((i["name"], "not-applicable list used out of place"))
    assert problems == []


def test_list_ranges_live_on_the_lists_sheet(book: OpenpyxlWorkbook, spec: Spec) -> None:
    lists = {name: _range_values(book, f"list_{name}") for name in spec.lists}
    assert lists == spec.lists
    assert _range_values(book, "list_not_applicable") == ["(does not apply)"]
    assert {_destination(book, name)[0] for name in book.defined_names if name.startswith("list_")} == {"Lists"}


def test_conditional_inputs_are_greyed_refused_and_required_ones_highlighted(
    book: OpenpyxlWorkbook, dictionary: dict[str, Any]
) -> None:
    problems = []
    for i in dictionary["inputs"]:
        if i["derived"]:
            continue
        ws = book[i["sheet"]]
        rules = [r for r in _conditional_formats(ws) if i["cell"] in _cells_of(r[0])]
        waiting = [r for r in rules if r[3] and r[2][0].startswith("waiting_")]
        grey = [r for r in rules if r[3] and r not in waiting]
        required = [r for r in rules if not r[3]]
        [dv] = _validations(ws)[i["cell"]]
        if i["applies_when"] is None:
            if grey or waiting:
                problems.append((i["name"], "greyed though it always applies"))
        else:
            # Grey while it does not apply, pale blue (its own rule, first) while that waits for an answer.
            flags = [re.fullmatch(r"AND\(NOT\((applies_\w+)\),NOT\((waiting_\w+)\)\)", r[2][0]) for r in grey]
            if len(flags) != 1 or flags[0] is None or flags[0].group(1) not in book.defined_names:
                problems.append((i["name"], f"no grey-out on an applies_ flag: {grey}"))
            elif [r[2][0] for r in waiting] != [flags[0].group(2)] or flags[0].group(2) not in book.defined_names:
                problems.append((i["name"], f"waiting {waiting} is not on {flags[0].group(2)}"))
            elif flags[0].group(1) not in (dv.formula1 or ""):
                problems.append((i["name"], f"validation {dv.formula1} ignores {flags[0].group(1)}"))
        if (len(required) == 1) != i["required"]:
            problems.append((i["name"], f"required={i['required']} but highlight rules {required}"))
    assert problems == []


def test_non_applicable_section_is_greyed_on_its_section_flag(book: OpenpyxlWorkbook, layout: Layout) -> None:
    ws = book["1a Early Help"]
    grey = [r for r in _conditional_formats(ws) if r[3]]
    # The question about a step up or down greys on its own flag (which holds only where the section applies).
    own = {i.cell for i in layout.section("early_help").inputs if i.name.startswith("early_help_interface_clear")}
    assert sorted(own) == ["B15", "C14"]  # the answer, and the evidence in the box under it
    # A rule may cover several cells (one rule for inputs that share it): each of its cells is own or not. Waiting
    # for the answer that decides it has a colour of its own, so grey is only for "does not apply".
    assert grey and {r[2][0] for r in grey if not own & set(_cells_of(r[0]))} == {
        "waiting_early_help", "AND(NOT(applies_early_help),NOT(waiting_early_help))"}
    assert {r[2][0] for r in grey if own & set(_cells_of(r[0]))} == {
        "waiting_early_help_interface_clear",
        "AND(NOT(applies_early_help_interface_clear),NOT(waiting_early_help_interface_clear))"}
    assert all(own >= set(_cells_of(r[0])) for r in grey if own & set(_cells_of(r[0])))
    assert ws["A3"].value.startswith('=IF(waiting_early_help,"Answer ""Early help provided in the audit period?"" '
                                     'on the Case profile first: it decides whether this section applies.",'
                                     'IF(applies_early_help,"","This section does not apply because no early help')
    assert book.defined_names["applies_early_help"].attr_text.startswith("'Lists'!")
    kleene = 'IF(LEN(profile_had_early_help)=0,0.5,(TRIM(profile_had_early_help)="Yes")*1)'
    assert _value_of(book, "applies_early_help") == f"=({kleene})=1"
    assert _value_of(book, "waiting_early_help") == f"=({kleene})=0.5"


def test_formulas_fit_excel_limits(book: OpenpyxlWorkbook) -> None:
    # Excel refuses validation formulas over 255 characters and cell formulas over 8192.
    long_dv = [(ws.title, str(dv.sqref)) for ws in book.worksheets for dv in ws.data_validations.dataValidation
               if len(dv.formula1 or "") > 255]
    long_cell = [(ws.title, c.coordinate) for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith("=") and len(c.value) > 8192]
    assert (long_dv, long_cell) == ([], [])


# -- metadata ------------------------------------------------------------------------------------


def _carriers(book: OpenpyxlWorkbook) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    props = {p.name: p.value for p in book.custom_doc_props.props}
    by_property = {key: str(props.get(prop)) for key, prop in PROPERTY_NAMES.items()}
    rows = list(book["Metadata"].iter_rows(values_only=True))
    assert rows[0] == ("key", "value")
    sheet = {str(k): str(v) for k, v in rows[1:]}
    names = {key: _name_constant(book, meta_name(key)) for key in PROPERTY_NAMES}
    assert {type(p).__name__ for p in book.custom_doc_props.props} == {"StringProperty"}
    return by_property, sheet, names


def test_metadata_agrees_across_the_three_carriers(book: OpenpyxlWorkbook, spec: Spec) -> None:
    by_property, sheet, names = _carriers(book)
    expected = {
        "spec_id": "deep_dive", "spec_version": "2.1.0", "spec_sha256": spec.sha256,
        "instance_id": FIXED_INSTANCE, "generated_at": "2026-01-02T03:04:05+00:00",
    }
    assert (by_property, sheet, names) == (expected, expected, expected)


def test_each_generated_workbook_gets_its_own_instance_id(spec: Spec, tmp_out: Path) -> None:
    ids = []
    for name in ("a.xlsx", "b.xlsx"):
        assert _generate("--out", str(tmp_out / name)).exit_code == 0
        by_property, sheet, names = _carriers(openpyxl.load_workbook(tmp_out / name))
        assert by_property == sheet == names
        assert (by_property["spec_id"], by_property["spec_sha256"]) == (spec.id, spec.sha256)
        assert uuid.UUID(by_property["instance_id"]).version == 4
        assert datetime.fromisoformat(by_property["generated_at"]).tzinfo is not None
        ids.append(by_property["instance_id"])
    assert ids[0] != ids[1]


# -- the CLI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "due", "period_from"),
    [
        ("2028-02", datetime(2028, 2, 29), datetime(2026, 3, 1)),
        ("2026-11", datetime(2026, 11, 30), datetime(2024, 12, 1)),
    ],
)
def test_generate_prefills_the_case_profile(tmp_out: Path, month: str, due: datetime, period_from: datetime) -> None:
    result = _generate("--out", str(tmp_out), "--case-ref", "AB/123", "--team", "Team A (North)",
                       "--month", month, "--auditor", "Quality lead")
    assert result.exit_code == 0, result.output
    path = tmp_out / f"deep-dive_{month}_team-a-north_ab-123.xlsx"
    assert result.stdout == f"{path}\n"
    assert [p.name for p in tmp_out.iterdir()] == [path.name]
    book = openpyxl.load_workbook(path, data_only=True)  # the due date and period are formulas: their values
    names = ["profile_case_ref", "profile_team", "profile_auditor", "profile_audit_month", "profile_due_date",
             "profile_period_from", "profile_period_to"]
    assert [_value_of(book, n) for n in names] == [
        "AB/123", "Team A (North)", "Quality lead", month, due, period_from, due
    ]
    sheet, ref = _destination(book, "profile_due_date")
    assert book[sheet][ref.replace("$", "")].number_format == "dd/mm/yyyy"
    assert {book[ws].oddFooter.left.text for ws in book.sheetnames} == {"Case reference: AB/123"}


def test_due_date_is_the_end_of_a_leap_february(tmp_out: Path) -> None:
    result = _generate("--out", str(tmp_out / "leap.xlsx"), "--month", "2028-02")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_out / "leap.xlsx", data_only=True)
    assert _value_of(book, "profile_due_date").strftime("%d/%m/%Y") == "29/02/2028"


def test_generate_out_file_writes_exactly_there(tmp_out: Path) -> None:
    target = tmp_out / "sub folder" / "My audit.xlsx"
    result = _generate("--out", str(target), "--case-ref", "AB/123")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{target}\n"
    assert [p.name for p in target.parent.iterdir()] == ["My audit.xlsx"]
    assert _value_of(openpyxl.load_workbook(target), "profile_case_ref") == "AB/123"


def test_generate_defaults_to_bundled_spec_and_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _generate()
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{Path('output') / 'deep-dive_blank.xlsx'}\n"
    assert (tmp_path / "output" / "deep-dive_blank.xlsx").is_file()


def test_generate_prints_paths_verbatim(tmp_out: Path) -> None:
    target = tmp_out / "[draft]" / "audit.xlsx"
    result = _generate("--out", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{target}\n"


def test_generate_with_missing_spec_exits_2_naming_the_file(tmp_out: Path) -> None:
    missing = tmp_out / "nope.yaml"
    result = _generate("--spec", str(missing), "--out", str(tmp_out))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {missing}: cannot read the spec (No such file or directory). Check the path.\n"
    assert list(tmp_out.iterdir()) == []


def test_generate_with_invalid_spec_exits_2_with_the_lint_message(tmp_out: Path) -> None:
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    data["sections"][2]["id"] = "early_help"
    bad = tmp_out / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = _generate("--spec", str(bad), "--out", str(tmp_out))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {bad}: the spec is not valid")
    found = re.search(r'  line (\d+), column (\d+): sections\[2\] \(early_help\): duplicate section id "early_help". '
                      r"Give each section its own id.\n", result.stderr)
    assert found, result.stderr
    # The position is the third section's, where the second "early_help" is.
    line = bad.read_text(encoding="utf-8").splitlines()[int(found.group(1)) - 1]
    assert line[int(found.group(2)) - 1:].startswith("- id: early_help") or line.strip() == "- id: early_help", line
    assert [p.name for p in tmp_out.iterdir()] == ["bad.yaml"]


@pytest.mark.parametrize("written", ["11/2026", "Nov-26", "November 2026", "01/11/2026"])
def test_generate_reads_a_month_as_allocate_does(tmp_out: Path, written: str) -> None:
    result = _generate("--out", str(tmp_out / "audit.xlsx"), "--month", written)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_out / "audit.xlsx", data_only=True)
    assert (_value_of(book, "profile_audit_month"), _value_of(book, "profile_due_date")) == (
        "2026-11", datetime(2026, 11, 30))


@pytest.mark.parametrize("month", ["2026-13", "Smarch 2026", "2026-1"])
def test_generate_with_bad_month_exits_1_saying_yyyy_mm(tmp_out: Path, month: str) -> None:
    result = _generate("--out", str(tmp_out), "--month", month)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f'Error: audit month "{month}" is not a month: write it as YYYY-MM, for example 2026-11.\n'
    )
    assert list(tmp_out.iterdir()) == []


def test_python_m_auditbook_help() -> None:
    result = subprocess.run([sys.executable, "-m", "auditbook", "--help"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert [c for c in ("generate", "describe", "spec") if c not in result.stdout] == []


# -- describe ------------------------------------------------------------------------------------


def test_describe_json_shape(dictionary: dict[str, Any], layout: Any) -> None:
    assert {"inputs", "sections"} <= set(dictionary)
    keys = {"name", "sheet", "cell", "section", "field", "label", "type", "choices", "required", "applies_when"}
    assert [i["name"] for i in dictionary["inputs"] if not keys <= set(i)] == []
    assert [i["name"] for i in dictionary["inputs"]] == [i.name for i in layout.inputs]
    assert [s for s in dictionary["sections"] if not {"id", "title", "applies_when"} <= set(s)] == []


def _condition_shapes(cond: Any) -> set[str]:
    if cond is None:
        return {"null"}
    assert isinstance(cond, dict) and len(cond) in (1, 2), cond
    if "field" in cond:
        assert set(cond) in ({"field", "equals"}, {"field", "in"}), cond
        return {"equals" if "equals" in cond else "in"}
    [(key, sub)] = cond.items()
    if key == "not":
        return {"not"} | _condition_shapes(sub)
    assert key in ("all", "any") and isinstance(sub, list), cond
    return {key}.union(*(_condition_shapes(c) for c in sub))


def test_describe_conditions_are_structured(dictionary: dict[str, Any]) -> None:
    shapes = set().union(*(_condition_shapes(i["applies_when"]) for i in dictionary["inputs"]))
    assert shapes == {"null", "equals", "in", "any", "all"}
    kinds = ("equals", "in", "filled", "date", "number", "share", "any_section", "every_section", "all", "any")
    rule_keys = {next(iter(k for k in kinds if k in r["require"])) for r in dictionary["rules"]}
    assert rule_keys == {"equals", "in", "filled", "date", "number", "share", "every_section", "all", "any"}


def test_describe_sections(dictionary: dict[str, Any]) -> None:
    assert [(s["id"], s["sheet"], s["applies_when"]) for s in dictionary["sections"]] == [
        ("profile", "Case profile", None),
        ("early_help", "1a Early Help", {"field": "profile.had_early_help", "equals": "Yes"}),
        ("assessment", "1b Assessment", None),
        ("cin", "1c Children in Need", {"field": "profile.had_cin", "equals": "Yes"}),
        ("child_protection", "1d Child Protection", {"field": "profile.had_cp", "equals": "Yes"}),
        ("voice", "2 Child\u2019s Voice", None),
        ("oversight", "3 Management oversight", None),
        ("partnership", "4 Partnership", None),
        ("diversity", "5 Diversity and Culture", None),
        ("plans", "6 Plans and Reviews", None),
        ("recording", "7 Direct work and Recording", None),
        ("feedback", "8 Service user feedback", None),
        ("permanence", "9 Permanence", None),
        ("independence", "10 Independence", {"field": "profile.independent_living", "equals": "Yes"}),
        ("actions", "Actions", None),
        ("overall", "Overall judgement", None),
    ]


def test_describe_known_inputs(dictionary: dict[str, Any], spec: Spec) -> None:
    by_name = {i["name"]: i for i in dictionary["inputs"]}
    picked = ["profile_case_ref", "profile_due_date", "voice_seen", "voice_seen_evidence", "voice_seen_alone_why",
              "early_help_help_offered_early", "child_protection_emergency_evidenced",
              "feedback_feedback_influenced_practice", "permanence_permanence_plan", "overall_urgent_when",
              "actions_r01_section"]
    assert [
        (n, by_name[n]["sheet"], by_name[n]["cell"], by_name[n]["type"], by_name[n]["required"],
         by_name[n]["applies_when"])
        for n in picked
    ] == [
        ("profile_case_ref", "Case profile", "C15", "text", True, None),
        ("profile_due_date", "Case profile", "C26", "date", False, None),
        ("voice_seen", "2 Child\u2019s Voice", "C9", "choice", True, None),
        ("voice_seen_evidence", "2 Child\u2019s Voice", "B10", "long_text", False, None),
        ("voice_seen_alone_why", "2 Child\u2019s Voice", "B14", "long_text", True,
         {"any": [{"field": "voice.seen_alone", "equals": "No"}, {"field": "voice.seen_alone", "equals": "Partly"}]}),
        ("early_help_help_offered_early", "1a Early Help", "C9", "choice", True,
         {"field": "profile.had_early_help", "equals": "Yes"}),
        ("child_protection_emergency_evidenced", "1d Child Protection", "C12", "choice", True,
         {"all": [{"field": "profile.had_cp", "equals": "Yes"},
                  {"all": [{"field": "child_protection.s47_in_period", "equals": "Yes"},
                           {"field": "child_protection.strategy_before_s47", "in": ["No", "Partly"]}]}]}),
        ("feedback_feedback_influenced_practice", "8 Service user feedback", "C11", "choice", True,
         {"field": "feedback.family_feedback_sought", "in": ["Yes", "Partly"]}),
        ("permanence_permanence_plan", "9 Permanence", "C9", "choice", True, None),
        ("overall_urgent_when", "Overall judgement", "C19", "date", True,
         {"field": "overall.urgent_concern", "equals": "Yes"}),
        ("actions_r01_section", "Actions", "C9", "choice", False, None),
    ]
    assert by_name["voice_seen"]["choices"] == ["Yes", "Partly", "No", "Not known"]
    assert by_name["actions_r01_section"]["choices"] == [s.title for s in spec.sections if s.kind == "judged"]
    assert by_name["profile_case_ref"]["choices"] in (None, [])
    # A section's theme tags offer its own themes only.
    assert by_name["assessment_theme_1"]["choices"] == [t.label for t in spec.themes if t.belongs_to("assessment")]
    assert "Pathway plan not in place" not in by_name["assessment_theme_1"]["choices"]


def test_describe_table_without_json() -> None:
    result = CliRunner().invoke(app, ["describe"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "voice_seen_alone_why" in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


# -- xlsxwriter warnings and atomic writes -------------------------------------------------------


def test_xlsxwriter_warnings_become_errors() -> None:
    with pytest.raises(WorkbookError, match=r"^xlsxwriter refused part of the workbook: x; y$"), xlsx.strict():
        warnings.warn("x", stacklevel=1)
        warnings.warn("y", stacklevel=1)
    with xlsx.strict():
        pass


def test_xlsxwriter_return_codes_become_errors() -> None:
    with pytest.raises(WorkbookError, match=r"^xlsxwriter refused thing \(return code -1\)\.$"):
        xlsx.ok(-1, "thing")
    for rc in (0, 1, None, "ok"):
        xlsx.ok(rc, "thing")


def test_a_warning_mid_build_fails_the_build_and_leaves_nothing(
    spec: Spec, tmp_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Worksheet.data_validation

    def warn_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not getattr(warn_once, "done", False):
            warn_once.done = True  # type: ignore[attr-defined]
            warnings.warn("Data validation 'source' too long", stacklevel=1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Worksheet, "data_validation", warn_once)
    with pytest.raises(WorkbookError, match="Data validation 'source' too long"):
        build_workbook(spec, out=tmp_out / "audit.xlsx")
    assert list(tmp_out.iterdir()) == []


def test_a_case_ref_too_long_for_the_footer_is_refused_before_xlsxwriter_warns(tmp_out: Path) -> None:
    # xlsxwriter would only warn (and drop the footer) when a footer is over Excel's 255 characters.
    result = _generate("--out", str(tmp_out / "audit.xlsx"), "--case-ref", "X" * 300)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: the case reference is 300 characters long; the most is 60")
    assert list(tmp_out.iterdir()) == []


def test_unrelated_deprecation_warnings_do_not_fail_the_build() -> None:
    refused: WorkbookError | None = None
    try:
        with xlsx.strict():
            warnings.warn("old api", DeprecationWarning, stacklevel=1)
    except WorkbookError as err:
        refused = err
    assert refused is None


def test_overlong_text_is_refused_not_cut_short(tmp_out: Path) -> None:
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    data["sections"][1]["guidance"] = "x" * 40000
    with pytest.raises(AuditbookError, match=r"32767|too long|characters"):
        build_workbook(parse_spec(data, source=Path("long.yaml")), out=tmp_out / "long.xlsx")


@pytest.mark.parametrize(("module", "function"), [(writer, "_write_sheets"), (summary, "write")])
def test_failed_write_leaves_no_file_and_keeps_the_old_one(
    spec: Spec, tmp_out: Path, monkeypatch: pytest.MonkeyPatch, module: ModuleType, function: str
) -> None:
    target = tmp_out / "audit.xlsx"
    target.write_bytes(b"the previous workbook")

    def boom(*args: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(module, function, boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_workbook(spec, out=target)
    assert [p.name for p in tmp_out.iterdir()] == ["audit.xlsx"]
    assert target.read_bytes() == b"the previous workbook"


def test_successful_write_replaces_the_old_file(spec: Spec, tmp_out: Path) -> None:
    target = tmp_out / "audit.xlsx"
    target.write_bytes(b"the previous workbook")
    assert build_workbook(spec, out=target) == target
    assert [p.name for p in tmp_out.iterdir()] == ["audit.xlsx"]
    assert openpyxl.load_workbook(target).sheetnames[0] == "Start"


def test_workbook_structure_is_locked_with_the_optional_password(spec: Spec, tmp_out: Path) -> None:
    plain = openpyxl.load_workbook(build_workbook(spec, out=tmp_out / "plain.xlsx"))
    locked = openpyxl.load_workbook(build_workbook(spec, out=tmp_out / "locked.xlsx", password="example-only"))
    assert (plain.security.lockStructure, plain.security.workbookPassword) == (True, None)
    assert (locked.security.lockStructure, locked.security.workbookPassword) == (
        True, protect._password_hash("example-only"))
    assert locked["Case profile"].protection.password == protect._password_hash("example-only")


def test_a_question_that_does_not_apply_says_why_in_its_label(spec: Spec, layout: Layout, tmp_out: Path) -> None:
    inp = layout.by_name["voice_seen_alone_why"]
    shown = {}
    for answer in ("Yes", "No"):
        path = build_workbook(spec, out=tmp_out / f"{answer}.xlsx", prefill={"voice_seen_alone": answer})
        ws = openpyxl.load_workbook(path, data_only=True)[inp.sheet]
        shown[answer] = ws.cell(inp.label_at + 1, 2).value
    formula = openpyxl.load_workbook(path)[inp.sheet].cell(inp.label_at + 1, 2).value
    assert formula.startswith(f"=IF({inp.waiting_flag},")
    assert shown == {"Yes": f"{inp.label} (does not apply: {inp.not_applicable_because})",
                     "No": f"{inp.label} *"}


def test_a_question_whose_deciding_answer_is_blank_says_what_it_waits_for(
        spec: Spec, layout: Layout, tmp_out: Path) -> None:
    voice = layout.by_name["voice_seen_alone_why"]
    emergency = layout.by_name["child_protection_emergency_evidenced"]
    path = build_workbook(spec, out=tmp_out / "blank.xlsx", prefill={"profile_had_cp": "Yes"})
    book = openpyxl.load_workbook(path, data_only=True)
    assert book[voice.sheet].cell(voice.label_at + 1, 2).value == (
        'Why was the child not seen alone? (Answer "Was the child seen alone where statutory guidance requires it and '
        'it was in their best interests?" above first: it decides whether it applies.)')
    assert book[emergency.sheet].cell(emergency.label_at + 1, 2).value == (
        f'{emergency.label} (Answer "Was there a section 47 enquiry in the audit period?" and "Was a strategy '
        'meeting held before the section 47 enquiry?" above first: they decide whether it applies.)')
    ws = book["Summary"]  # Section (A:B), Applies (C), Status (D)
    summary = {ws.cell(r, 1).value: (ws.cell(r, 3).value, ws.cell(r, 4).value) for r in range(1, ws.max_row + 1)}
    assert summary["1a Early Help and Protection"] == ("Waiting", "Waiting for Case profile")
    assert summary["1d Child Protection"] == ("Yes", "Not started")
    assert book["1a Early Help"]["A3"].value == (
        'Answer "Early help provided in the audit period?" on the Case profile first: it decides whether this section '
        "applies.")


def test_long_texts_in_formulas_are_split_into_pieces_excel_accepts() -> None:
    text = "x" * 600
    assert string_literal(text) == '"' + "x" * 250 + '"&"' + "x" * 250 + '"&"' + "x" * 100 + '"'
    assert string_literal('say "hi"') == '"say ""hi"""'


def test_questions_of_an_optional_part_show_no_required_star(tmp_out: Path) -> None:
    # In Deep Dive 2.0.0 (kept for the returns made from it), section 9 was required only for children in care or
    # care leavers: for others no question showed a star.
    spec = load_spec(specs_dir() / "deep_dive-2.0.0.yaml")
    sl = build_layout(spec).section("permanence")
    shown: dict[str, list[str]] = {}
    banner = {}
    for in_care in ("No", "Yes"):
        path = build_workbook(spec, out=tmp_out / f"{in_care}.xlsx", prefill={"profile_in_care": in_care})
        ws = openpyxl.load_workbook(path, data_only=True)[sl.sheet]
        # Each label's first line (its help follows on the lines under it).
        shown[in_care] = [str(ws.cell(i.label_at + 1, 2).value).split("\n")[0] for i in sl.inputs
                          if i.required and i.col == VALUE_COL]
        banner[in_care] = ws["A3"].value
    assert [t for t in shown["No"] if t.endswith("*")] == []
    # (a question waiting for, or turned off by, its own deciding answer says so instead)
    assert [t for t in shown["Yes"] if not t.endswith("*") and not t.endswith("it applies.)")] == []
    assert banner == {"No": 'Optional for this child: required only when "In care, or a care leaver, in the audit '
                            'period?" is Yes. Complete it where it helps.', "Yes": None}
