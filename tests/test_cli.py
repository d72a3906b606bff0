"""The command line as a person meets it: --version, help without type placeholders, what the demo says to open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditbook import __version__
from auditbook.cli import app

WIDE = {"COLUMNS": "200"}
COMMANDS = [[], ["generate"], ["describe"], ["validate"], ["collect"], ["allocate"], ["demo"], ["settings"],
            ["spec"], ["spec", "check"], ["spec", "schema"]]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"auditbook {__version__}\n")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "auditbook")
def test_help_shows_no_type_placeholders(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="auditbook")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert re.findall(r"<[a-z][^>]*>|\{[a-z_]+\}", text) == []
    assert "Usage: auditbook" in text


def test_arguments_and_options_name_what_they_take() -> None:
    text = CliRunner().invoke(app, ["collect", "--help"], prog_name="auditbook", env=WIDE).stdout
    assert "Usage: auditbook collect [OPTIONS] FOLDER" in text
    assert re.search(r"--threshold\s+PERCENT\s+Share of audits", text)
    assert re.search(r"--json\s+Print the outcome as JSON", text)
    assert re.search(r"--settings\s+FILE", text)


@pytest.mark.parametrize("given", ["30", "30%", "0.3"])
def test_threshold_is_taken_as_a_percentage_or_a_share(given: str, tmp_path: Path) -> None:
    # An empty folder: collect runs and merges nothing; what matters is that the threshold is accepted.
    folder = tmp_path / "returns"
    folder.mkdir()
    result = CliRunner().invoke(app, ["collect", str(folder), "--threshold", given])
    assert result.exit_code == 0, result.output


def test_a_threshold_that_is_no_percentage_says_how_to_write_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["collect", str(tmp_path), "--threshold", "lots"], env=WIDE)
    assert result.exit_code == 2
    assert 'Invalid value for \'--threshold\': "lots" is not a percentage. Write 30, 30% or 0.3.' in result.output
