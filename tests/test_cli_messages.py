"""What the command line says (product review): validate names each file by the path given and checks a folder's
workbooks; allocate on a missing list is a plain usage error; generate and allocate warn when a named round
is not the one the round calendar gives the audit month; the settings file's error points at the example.

Everything here is synthetic.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner, Result

from auditbook.cli import app
from auditbook.settings import example_settings
from tests.returns import valid_return

runner = CliRunner()


def invoke(*args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def test_validate_names_files_by_the_path_given(tmp_path: Path) -> None:
    valid_return(tmp_path / "team-a" / "return.xlsx")
    shutil.copy(tmp_path / "team-a" / "return.xlsx", tmp_path / "team-b.xlsx")
    (tmp_path / "team-b").mkdir()
    (tmp_path / "team-b" / "return.xlsx").write_text("case,grade\n", encoding="utf-8")
    result = invoke("validate", tmp_path / "team-a" / "return.xlsx", tmp_path / "team-b" / "return.xlsx")
    assert result.exit_code == 1
    heads = [line for line in result.stdout.splitlines() if not line.startswith("  ")]
    assert heads == [f"{tmp_path / 'team-a' / 'return.xlsx'} (case SYN-0001): valid",
                     f"{tmp_path / 'team-b' / 'return.xlsx'}: 1 error"]


def test_validate_checks_every_workbook_in_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    valid_return(folder / "a.xlsx")
    valid_return(folder / "sub" / "b.xlsx")
    (folder / "notes.txt").write_text("not a return", encoding="utf-8")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "c.xlsx").write_text("x", encoding="utf-8")
    result = invoke("validate", folder)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{folder / 'a.xlsx'} (case SYN-0001): valid",
                                          f"{folder / 'sub' / 'b.xlsx'} (case SYN-0001): valid"]
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = invoke("validate", empty)
    assert nothing.exit_code == 2
    assert " ".join(nothing.stderr.split()) == (f"Error: {empty} holds no workbook (.xlsx). Give the returns "
                                                "themselves, or collect the folder with `auditbook collect`.")


def test_validate_says_a_master_left_among_the_returns_is_auditbook_output(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    valid_return(folder / "a.xlsx")
    collected = invoke("collect", folder)  # the master goes into the folder, as collect does by default
    assert collected.exit_code == 0, collected.output
    master = folder / "auditbook-master.xlsx"
    assert master.is_file()
    result = invoke("validate", folder)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{folder / 'a.xlsx'} (case SYN-0001): valid",
                                          f"{master}: auditbook output (a master workbook), not a return"]


def test_allocate_on_a_missing_list_is_a_plain_usage_error(tmp_path: Path) -> None:
    result = invoke("allocate", tmp_path / "nope.csv", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (f"Error: {tmp_path / 'nope.csv'}: no such file. Give the allocation "
                                               "list's path (CSV or xlsx), or make one with `auditbook allocate "
                                               "--template`.")
    assert invoke("allocate", tmp_path, "--out", tmp_path / "out").exit_code == 2  # a folder
    assert not (tmp_path / "out").exists()


def test_a_round_that_contradicts_the_calendar_is_warned_about(tmp_path: Path, monkeypatch: object) -> None:
    (tmp_path / "auditbook.toml").write_text(example_settings(), encoding="utf-8")
    settings = ["--settings", tmp_path / "auditbook.toml"]
    # November is in round 2 by the example calendar.
    generated = invoke("generate", "--month", "2026-11", "--round", "2026 round 3", "--case-ref", "SYN-0042",
                       "--team", "Team Alpha", "--auditor", "Example Auditor", "--out", tmp_path / "g", *settings)
    assert generated.exit_code == 0, generated.output
    assert " ".join(generated.stderr.split()) == (
        'Warning: round "2026 round 3" is not the one the round calendar gives 2026-11 ("2026 round 2"); the '
        'workbook says "2026 round 3". Check the round, or the calendar in the settings.')
    agreeing = invoke("generate", "--month", "2026-11", "--round", "2026 Round 2", "--out", tmp_path / "h", *settings)
    assert agreeing.exit_code == 0 and agreeing.stderr == ""
    listing = tmp_path / "allocation.csv"
    listing.write_text("Case reference,Team,Auditor,Audit month,Round\n"
                       "SYN-0042,Team Alpha,Example Auditor,2026-11,2026 round 3\n"
                       "SYN-0043,Team Alpha,Example Auditor,2026-11,\n", encoding="utf-8")
    allocated = invoke("allocate", listing, "--out", tmp_path / "a", *settings)
    assert allocated.exit_code == 0, allocated.output
    assert " ".join(allocated.stderr.split()) == (
        'row 2: warning: round "2026 round 3" is not the one the round calendar gives November 2026 ("2026 round '
        '2"); the workbook says "2026 round 3". Check the round, or the calendar in auditbook.toml row 3: round '
        "2026 round 2 from the round calendar")


def test_a_settings_file_that_is_not_toml_points_at_the_example(tmp_path: Path) -> None:
    (tmp_path / "auditbook.toml").write_text("[authority\nname = 1\n", encoding="utf-8")
    result = invoke("settings", "--settings", tmp_path / "auditbook.toml")
    assert result.exit_code == 2
    assert "`auditbook settings --example`" in " ".join(result.stderr.split())
    assert "it is persistent when it recurred in the round before too" in example_settings()
