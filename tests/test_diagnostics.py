"""Diagnosis (issue 19): --debug (or AUDITBOOK_DEBUG=1) logs each step and the traceback of an internal error on
stderr with no answer text in it; an internal error without --debug is one line and exit 3; --quiet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import auditbook.cli.collecting
import auditbook.returns.validate
from auditbook.cli import app
from auditbook.cli.app import JSON_SCHEMA_VERSION
from auditbook.diagnostics import configure, debug_wanted, file_label, scrub, trace
from auditbook.returns import workers
from auditbook.returns.provenance import SpecRegistry
from tests.returns import SCENARIOS, answers, valid_return

runner = CliRunner()
STORY = "Example child {n} told the auditor about the move to a new school and the dog called Biscuit {n}"
BROKEN = "SYN-0003.xlsx"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three valid returns, each with a story of its own (the answer text that must stay out of the log)."""
    folder = tmp_path_factory.mktemp("diagnostics") / "returns"
    folder.mkdir()
    for n, scenario in enumerate(SCENARIOS, start=1):
        valid_return(folder / f"SYN-000{n}.xlsx", scenario, changes={"profile_story": STORY.format(n=n),
                                                                           "profile_case_ref": f"SYN-000{n}"})
    return folder


def _answer_texts() -> list[str]:
    """Every free-text answer of the three returns (longer than a word, so a log word cannot match by chance)."""
    texts = [STORY.format(n=n) for n in (1, 2, 3)]
    return texts + [v for s in SCENARIOS for v in answers(s).values() if isinstance(v, str) and len(v) > 15]


@pytest.fixture
def reader_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader raises inside on one file, quoting an answer (as an exception about a cell's value might)."""
    real = auditbook.returns.validate.read_workbook

    def read_workbook(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == BROKEN:
            raise RuntimeError(f"cannot read cell C12: {STORY.format(n=3)!r}")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(auditbook.returns.validate, "read_workbook", read_workbook)


def _collect(folder: Path, tmp_path: Path, *before: str) -> Any:
    return runner.invoke(app, [*before, "collect", str(folder), "--out", str(tmp_path / "master.xlsx"), "--ledger",
                               str(tmp_path / "ledger.sqlite3")])


@pytest.mark.usefixtures("reader_raises")
def test_debug_collect_prints_the_traceback_and_no_answer_text(folder: Path, tmp_path: Path) -> None:
    result = _collect(folder, tmp_path, "--debug")
    assert result.exit_code == 1, result.output  # the broken file is not read; the others are merged
    err = result.stderr
    assert "Traceback (most recent call last):" in err
    assert 'in read_workbook\n    raise RuntimeError(f"cannot read cell C12: {STORY.format(n=3)!r}")' in err
    assert f"RuntimeError: cannot read cell C12: <{len(STORY.format(n=3))} characters>" in err
    assert f"internal error in checking {file_label(BROKEN)} (RuntimeError)" in err
    # What each step did, in counts.
    assert "checking 3 files in this process" in err
    assert "scanned the folder: 3 files, 3 read, 0 unchanged, 0 skipped, 0 not read" in err
    assert "merged 2 audits, 1 files not merged" in err, err
    for text in _answer_texts():
        assert text not in err, text
    assert BROKEN not in err  # a file is named by a digest of its name in the log
    # The screen still says which file, as without --debug.
    assert f"    {BROKEN}: auditbook could not check this workbook (RuntimeError). Run the command again with --debug" \
        in result.stdout


@pytest.mark.usefixtures("reader_raises")
def test_auditbook_debug_in_the_environment_does_the_same(folder: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITBOOK_DEBUG", "1")
    result = _collect(folder, tmp_path)
    assert "Traceback (most recent call last):" in result.stderr


@pytest.mark.usefixtures("reader_raises")
def test_without_debug_nothing_is_logged(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITBOOK_DEBUG", raising=False)
    result = _collect(folder, tmp_path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr and "internal error in" not in result.stderr
    assert f"    {BROKEN}: auditbook could not check this workbook (RuntimeError). Run the command again with --debug" \
        in result.stdout


def test_an_internal_error_is_one_line_exit_3_and_its_traceback_under_debug(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError(STORY.format(n=1))

    monkeypatch.setattr(auditbook.cli.collecting, "run_collect", broken)
    monkeypatch.delenv("AUDITBOOK_DEBUG", raising=False)
    plain = _collect(folder, tmp_path)
    assert plain.exit_code == 3, plain.output
    assert plain.stderr.startswith("Error: auditbook stopped on an internal error (KeyError). Run the same command "
                                   "again with --debug")
    assert "Traceback" not in plain.stderr and STORY.format(n=1) not in plain.stderr
    debug = _collect(folder, tmp_path, "--debug")
    assert debug.exit_code == 3, debug.output
    assert "Traceback (most recent call last):" in debug.stderr and "in broken\n" in debug.stderr
    assert f"KeyError: <{len(STORY.format(n=1))} characters>" in debug.stderr
    assert STORY.format(n=1) not in debug.stderr


def test_quiet_prints_nothing_but_the_exit_code_says_how_it_went(folder: Path, tmp_path: Path) -> None:
    result = _collect(folder, tmp_path, "--quiet")
    assert (result.exit_code, result.stdout) == (0, "")
    asked = runner.invoke(app, ["--quiet", "collect", str(folder), "--out", str(tmp_path / "master.xlsx"), "--ledger",
                                str(tmp_path / "ledger.sqlite3"), "--json"])
    assert json.loads(asked.stdout)["summary"].endswith("master holds 3 audits; 0 rejected; 0 duplicate; 0 superseded")
    loud = _collect(folder, tmp_path)
    assert "master holds 3 audits" in loud.stdout  # the console is not left quiet for the next command


def test_scrub_replaces_quoted_text_by_its_length() -> None:
    assert scrub("invalid literal for int() with base 10: 'Example Child'") == (
        "invalid literal for int() with base 10: <13 characters>")
    assert scrub('no sheet named "1b Assessment" in it\x1b[2J') == "no sheet named <13 characters> in it\\x1b[2J"
    assert scrub("x" * 400).endswith("…") and len(scrub("x" * 400)) == 301


def test_trace_keeps_the_chain_and_scrubs_each_exception() -> None:
    child = " ".join(("Example", "Child"))  # so the source line the traceback shows does not hold it
    try:
        try:
            raise ValueError(f"{child!r} is not a date")
        except ValueError as inner:
            raise RuntimeError("while reading 'D14'") from inner
    except RuntimeError as err:
        text = trace(err)
    assert text.count("Traceback (most recent call last):") == 2
    assert "ValueError: <13 characters> is not a date" in text
    assert "The above exception was the direct cause" in text
    assert text.endswith("RuntimeError: while reading <3 characters>\n")
    assert "Example Child" not in text


@pytest.mark.parametrize(("value", "wanted"), [("", False), ("0", False), ("no", False), ("1", True),
                                               ("yes", True), ("TRUE", True)])
def test_auditbook_debug_values(value: str, wanted: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITBOOK_DEBUG", value)
    assert debug_wanted() is wanted
    assert debug_wanted(True) is True


def _json(*args: str, code: int = 0) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    assert next(iter(document)) == "schema_version" and document["schema_version"] == JSON_SCHEMA_VERSION == 1
    return document


def test_every_command_that_reports_prints_one_json_document_with_a_schema_version(folder: Path,
                                                                                     tmp_path: Path) -> None:
    master, ledger = str(tmp_path / "master.xlsx"), str(tmp_path / "ledger.sqlite3")
    collected = _json("collect", str(folder), "--out", master, "--ledger", ledger)
    assert (collected["files"], collected["master"]) == (3, master)
    assert [r["valid"] for r in _json("validate", str(folder))["reports"]] == [True, True, True]
    tables = tmp_path / "tables"
    exported = _json("export", str(folder), "--out", master, "--ledger", ledger, "--to", str(tables))
    assert exported["files"][-2:] == [str(tables / "datapackage.json"), str(tables / "README.txt")]
    report = tmp_path / "r.html"
    assert _json("report", str(folder), "--master", master, "--ledger", ledger, "--out", str(report))["report"] == \
        str(report)
    assert _json("generate", "--out", str(tmp_path / "blank.xlsx"))["workbook"] == str(tmp_path / "blank.xlsx")
    listing = tmp_path / "allocation.csv"
    listing.write_text("Case reference,Team,Auditor,Audit month\nSYN-0201,Team Alpha,Example Auditor,2026-11\n",
                       encoding="utf-8")
    allocated = _json("allocate", str(listing), "--out", str(tmp_path / "allocated"))
    assert (len(allocated["workbooks"]), allocated["bad_rows"]) == (1, [])
    assert _json("describe")["spec"]["id"] == "deep_dive"
    assert _json("describe", "--problems")["problems"][0]["code"]
    checked = _json("spec", "check")
    assert (checked["valid"], checked["id"]) == (True, "deep_dive")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [\n", encoding="utf-8")
    assert _json("spec", "check", str(bad), code=1)["valid"] is False
    toml = tmp_path / "auditbook.toml"
    toml.write_text('[authority]\nname = "Example Borough"\n', encoding="utf-8")
    shown = _json("settings", "--settings", str(toml))
    assert (shown["file"], shown["settings"]["authority"]["name"]) == (str(toml), "Example Borough")


@pytest.mark.usefixtures("reader_raises")
def test_a_worker_process_logs_its_files_internal_error(folder: Path, capfd: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Files checked in worker processes: the traceback of one that raises still reaches stderr, scrubbed."""
    monkeypatch.setattr(workers, "PARALLEL_FROM", 1)
    paths = sorted(folder.glob("*.xlsx"))
    configure(debug=True)
    try:
        reports = workers.validate_all(paths, SpecRegistry.load(), 2, None, 0, len(paths))
    finally:
        configure(debug=False)
    assert [r.valid for r in reports] == [True, True, False]
    err = capfd.readouterr().err
    assert "checking 3 files in 2 worker processes" in err
    assert f"internal error in checking {file_label(BROKEN)} (RuntimeError)" in err
    assert f"RuntimeError: cannot read cell C12: <{len(STORY.format(n=3))} characters>" in err
    assert STORY.format(n=3) not in err
