"""Forged returns (issue 20). Each is a copy of a genuine return graded Requires improvement, altered so that a
reader which reads otherwise than Excel and LibreOffice show would put Outstanding (or another value) into the
master. Each is refused, or read as LibreOffice shows it, or read with a warning on its cell that says what the
workbook shows, in the plain output of validate and collect. Look-alike case references are one child; a return
dated ahead supersedes nothing."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec.roles import Role
from tests import hazards as hz
from tests.lo.driver import fill, require_libreoffice
from tests.returns import spec, valid_return

REGISTRY = SpecRegistry.of(spec())
runner = CliRunner()
Forge = Callable[[Path], Path]
SHEET = "xl/worksheets/sheet18.xml"  # the Overall judgement: the 18th sheet the generator writes

#: Forgeries refused as corrupt, with words of the refusal.
REFUSED: dict[str, tuple[Forge, str]] = {
    "named-twice": (hz.with_sheet_named_twice, 'two sheets are named "Overall judgement"'),
    "part-twice": (hz.with_part_twice, f"holds the part '{SHEET}' twice"),
    "part-case": (functools.partial(hz.with_part_twice, case=True),
                  f"two parts named '{SHEET}' and '{SHEET.upper()}', which are one name whatever their case"),
    "active-copy": (hz.with_active_copy, f"holds the part '{SHEET}' twice"),
    "rels-copy": (hz.with_rels_copy, "holds the part 'xl/_rels/workbook.xml.rels' twice"),
    "two-values": (hz.with_two_values, f"cell C9 in {SHEET} is given two values"),
    "underscore": (functools.partial(hz.with_number, name="profile_age", text="1_6"),
                   'cell C16 in xl/worksheets/sheet3.xml holds "1_6", which is not a number as Excel writes one'),
}
FORMAT = ';;;"Requires improvement"'
#: Forgeries read with a warning on the cell read: (code, sheet, cell, the message's words).
WARNED: dict[str, tuple[Forge, tuple[str, str, str, str]]] = {
    "format": (functools.partial(hz.with_format, code=FORMAT), (
        "shown-otherwise", "Overall judgement", "C9", f'Overall grade: the cell holds "Outstanding", but its number '
        f'format ("{FORMAT}") shows "Requires improvement"; "Outstanding" was read.')),
    "merge": (hz.with_merge_over, (
        "shown-otherwise", "Overall judgement", "C9", 'Overall grade: the cell is merged into B9:C9, which shows '
        '"Requires improvement" from B9; the value here, "Outstanding", was read.')),
    "conditional": (hz.with_conditional_format, (
        "shown-otherwise", "Overall judgement", "C9", 'Overall grade: the cell holds "Outstanding", but a conditional '
        f'format may show it as "Requires improvement" (number format "{FORMAT}"); "Outstanding" was read.')),
    "hidden-name": (hz.with_name_in_hidden_cell, (
        "name-moved", "Overall judgement", f"C{hz.HIDDEN_ROW}", '"Overall grade" was expected at Overall '
        'judgement!C9, which holds "Requires improvement", but its name now points at this hidden cell, holding '
        '"Outstanding"; "Outstanding" was read.')),
}


def test_an_icon_set_that_hides_a_number_is_a_warning_on_its_cell(tmp_path: Path) -> None:
    report = validate_file(hz.with_icons_only(hz.graded(tmp_path / "icons.xlsx")), registry=REGISTRY)
    assert report.valid and report.audit is not None and report.audit.fact(Role.AGE) == 8
    assert [(p.code, p.sheet, p.cell, p.message.split(" Ask ")[0]) for p in report.problems] == [
        ("shown-otherwise", "Case profile", "C16", 'Child\'s age at audit: the cell holds "8", but a conditional '
         'format shows an icon or a bar in its place, not the value; "8" was read.')]


def grade(path: Path) -> tuple[bool, object]:
    report = validate_file(path, registry=REGISTRY)
    return report.valid, report.audit.fact(Role.OVERALL_GRADE) if report.audit else None


def test_the_genuine_return_is_graded_requires_improvement(tmp_path: Path) -> None:
    assert grade(hz.graded(tmp_path / "genuine.xlsx")) == (True, hz.GRADED)


@pytest.mark.parametrize("case", REFUSED)
def test_forgeries_programs_read_differently_are_refused(tmp_path: Path, case: str) -> None:
    forge, words = REFUSED[case]
    report = validate_file(forge(hz.graded(tmp_path / f"{case}.xlsx")), registry=REGISTRY)
    assert [p.code for p in report.problems] == ["corrupt"] and report.audit is None
    assert words in report.problems[0].message


def test_a_decoy_shared_strings_part_is_not_read(tmp_path: Path) -> None:
    # The shared strings are the part the sharedStrings relationship names: Requires improvement, as Excel shows.
    path = hz.with_decoy_strings(hz.graded(tmp_path / "decoy.xlsx"))
    report = validate_file(path, registry=REGISTRY)
    assert report.valid and report.problems == []
    assert report.audit is not None and report.audit.fact(Role.OVERALL_GRADE) == hz.GRADED


def test_a_very_hidden_twin_of_an_input_sheet_is_refused(tmp_path: Path) -> None:
    report = validate_file(hz.with_hidden_twin(hz.graded(tmp_path / "twin.xlsx")), registry=REGISTRY)
    assert [(p.severity, p.code, p.sheet) for p in report.problems] == [
        ("warning", "sheet-look-alike", "Overall judgement"), ("error", "sheet-hidden", "Overall judgement")]
    assert f'the sheet "{hz.LOOK_ALIKE_SHEET}" is named like "Overall judgement" (letters from another alphabet)' in \
        report.problems[0].message
    assert "is very hidden" in report.problems[1].message
    assert not report.valid and report.audit is not None and report.audit.fact(Role.OVERALL_GRADE) is None


@pytest.mark.parametrize(("state", "how"), [("hidden", "is hidden"), ("veryHidden", "is very hidden")])
def test_an_input_sheet_nobody_sees_is_refused(tmp_path: Path, state: str, how: str) -> None:
    # The grade's own sheet, graded Outstanding and then hidden: what is not shown or printed is not counted.
    report = validate_file(hz.with_sheet_state(hz.graded(tmp_path / f"{state}.xlsx"), state), registry=REGISTRY)
    assert [(p.severity, p.code, p.sheet) for p in report.problems] == [("error", "sheet-hidden", "Overall judgement")]
    assert f'the sheet "Overall judgement" holds answers but {how}' in report.problems[0].message
    assert not report.valid and report.audit is not None and report.audit.fact(Role.OVERALL_GRADE) is None


@pytest.mark.parametrize("case", WARNED)
def test_what_a_person_sees_otherwise_is_a_warning_on_its_cell(tmp_path: Path, case: str) -> None:
    forge, (code, sheet, cell, words) = WARNED[case]
    path = forge(hz.graded(tmp_path / f"{case}.xlsx"))
    report = validate_file(path, registry=REGISTRY)
    assert report.valid and report.audit is not None and report.audit.fact(Role.OVERALL_GRADE) == hz.FORGED
    told = [p for p in report.problems if p.code != "rule"]
    assert [(p.severity, p.code, p.sheet, p.cell) for p in told] == [("warning", code, sheet, cell)]
    assert told[0].message.startswith(words), told[0].message
    result = runner.invoke(app, ["validate", str(path)])  # the plain output says it too
    assert result.exit_code == 0, result.output
    # "warning Sheet!C9: <message> <how to fix it> (code)", wherever the terminal wraps it
    said = re.escape(f"warning {sheet}!{cell}: {words}") + rf"(?:(?!warning ).)*\({code}\)"
    assert re.search(said, " ".join(result.stdout.split())), result.stdout


# -- a shared folder holding them all, collected --------------------------------------------------------------------

NBH = "SYN\u20110003"  # a non-breaking hyphen
ZWSP = "SYN-000\u200b3"  # a zero-width space
FULL = "SYN-\uff10\uff10\uff10\uff13"  # full-width digits
TEAM = "Équipe Nord"
#: Each look-alike reference, and how the warning on its cell names what it is written with.
LOOK_ALIKE = {NBH: "a non-breaking hyphen (U+2011)", ZWSP: "a zero width space (U+200B)",
              FULL: "full-width characters"}


@pytest.mark.parametrize("ref", LOOK_ALIKE)
def test_a_look_alike_reference_is_read_as_it_looks_with_a_warning_on_its_cell(tmp_path: Path, ref: str) -> None:
    report = validate_file(valid_return(tmp_path / "ref.xlsx", changes={"profile_case_ref": ref}), registry=REGISTRY)
    assert report.valid and report.audit is not None and report.audit.case_ref == "SYN-0003"
    assert [(p.severity, p.code, p.sheet, p.cell, p.message.split(" Nothing ")[0]) for p in report.problems
            if p.code == "look-alike"] == [("warning", "look-alike", "Case profile", "C15", f'Case reference: "{ref}" '
                                            f'is written with {LOOK_ALIKE[ref]}; read as "SYN-0003".')]


def forged_folder(folder: Path) -> None:
    """A genuine return and each forgery (each of its own case), look-alike references of one child, teams written
    in NFC and NFD, and a copy of a return dated ahead to supersede it."""
    folder.mkdir()
    hz.graded(folder / "SYN-0001 genuine.xlsx", "SYN-0001")
    forgeries = {"decoy": hz.with_decoy_strings, "twin": hz.with_hidden_twin,
                 **{k: f for k, (f, _) in REFUSED.items()}, **{k: f for k, (f, _) in WARNED.items()}}
    for number, (name, forge) in enumerate(forgeries.items(), start=10):
        forge(hz.graded(folder / f"{name}.xlsx", f"SYN-00{number}"))
    for name, ref, day in (("a", "SYN-0003", 10), ("b", NBH, 12), ("c", ZWSP, 14), ("d", FULL, 8)):
        valid_return(folder / f"SYN-0003 {name}.xlsx", changes={"profile_case_ref": ref,
                                                                "profile_date_completed": date(2026, 11, day)})
    for ref, form in (("SYN-0006", "NFC"), ("SYN-0007", "NFD")):
        valid_return(folder / f"{ref}.xlsx", changes={"profile_case_ref": ref, "profile_team":
                                                      unicodedata.normalize(form, TEAM)})
    for name, day in (("genuine", date(2026, 11, 17)), ("copy", date(2099, 12, 31))):
        valid_return(folder / f"SYN-0004 {name}.xlsx", changes={"profile_case_ref": "SYN-0004",
                                                                "profile_date_completed": day})


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict[str, object]]]:
    """collect's plain output over the forged folder, and the master's Audits rows by source file."""
    base = tmp_path_factory.mktemp("forged")
    forged_folder(base / "returns")
    result = runner.invoke(app, ["collect", str(base / "returns"), "--out", str(base / "master.xlsx"),
                                 "--ledger", str(base / "ledger.sqlite3")])
    assert result.exit_code == 1, result.output  # the refused forgeries
    sheet = openpyxl.load_workbook(base / "master.xlsx")["Audits"]
    rows = list(sheet.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    return " ".join(result.stdout.split()), {str(r[head.index("Source file")]): dict(zip(head, r, strict=True))
                                             for r in rows[1:]}


def test_collect_merges_no_forged_value_silently(collected: tuple[str, dict[str, dict[str, object]]]) -> None:
    out, rows = collected
    grades = {file: row["Overall grade"] for file, row in rows.items() if row["Case reference"] not in (
        "SYN-0003", "SYN-0004", "SYN-0006", "SYN-0007")}
    assert grades == {"SYN-0001 genuine.xlsx": hz.GRADED, "decoy.xlsx": hz.GRADED,
                      **{f"{name}.xlsx": hz.FORGED for name in WARNED}}
    for name in ("twin", *REFUSED):
        assert f"rejected {name}.xlsx: 1 error" in out, name
    # Each value read where the workbook shows another is told on the screen, not only in --json and the master.
    for name, (_, (_, sheet, cell, words)) in WARNED.items():
        assert f"warning {name}.xlsx: {sheet}!{cell}: {words}" in out, name


def test_look_alike_references_are_one_child_and_a_team_is_one_team(
        collected: tuple[str, dict[str, dict[str, object]]]) -> None:
    out, rows = collected
    children = [row for row in rows.values() if row["Case reference"] == "SYN-0003"]
    assert [row["Source file"] for row in children] == ["SYN-0003 c.xlsx"]  # the latest completed of the four
    assert "superseded SYN-0003 a.xlsx: a later return for case SYN-0003" in out
    assert "superseded SYN-0003 b.xlsx: a later return for case SYN-0003" in out
    assert "superseded SYN-0003 d.xlsx: a later return for case SYN-0003" in out
    assert ('warning SYN-0003 c.xlsx: Case profile!C15: Case reference: "SYN-000\u200b3" is written with a zero width '
            'space (U+200B); read as "SYN-0003".') in out
    teams = {row["Team"] for row in rows.values() if row["Case reference"] in ("SYN-0006", "SYN-0007")}
    assert teams == {unicodedata.normalize("NFC", TEAM)}


def test_a_return_dated_ahead_supersedes_nothing_and_is_told(
        collected: tuple[str, dict[str, dict[str, object]]]) -> None:
    out, rows = collected
    assert [f for f, row in rows.items() if row["Case reference"] == "SYN-0004"] == ["SYN-0004 genuine.xlsx"]
    assert ("superseded SYN-0004 copy.xlsx: completed 31/12/2099, a date still to come, so it supersedes no return: "
            "SYN-0004 genuine.xlsx is kept for case SYN-0004") in out
    assert "Case profile!C27: completed 31/12/2099, a date still to come when the folder was collected" in out


# -- what LibreOffice shows -----------------------------------------------------------------------------------------

#: The forgeries whose claim is about what is shown: the cell a person looks at, and what validate reads or says.
#: (A conditional format's number format is Excel's: LibreOffice reports a cell's text without it.)
SHOWN: dict[str, tuple[Forge, str]] = {
    "decoy": (hz.with_decoy_strings, "Overall judgement!C9"),
    "format": (WARNED["format"][0], "Overall judgement!C9"),
    "merge": (hz.with_merge_over, "Overall judgement!B9"),
    "hidden-name": (hz.with_name_in_hidden_cell, "Overall judgement!C9"),
    "twin": (hz.with_hidden_twin, f"{hz.LOOK_ALIKE_SHEET}!C9"),
}


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", SHOWN)
def test_libreoffice_shows_requires_improvement_where_a_forged_value_hides(tmp_path: Path, case: str) -> None:
    require_libreoffice()
    forge, cell = SHOWN[case]
    path = forge(hz.graded(tmp_path / f"{case}.xlsx"))
    assert fill(path, tmp_path / "saved.xlsx", {}, read=[cell]) == {cell: hz.GRADED}
    valid, read = grade(path)
    # Read as shown (the decoy), refused (the hidden twin), or read with the warning above on the cell shown otherwise.
    assert (valid, read) == {"decoy": (True, hz.GRADED), "twin": (False, None)}.get(case, (True, hz.FORGED))
