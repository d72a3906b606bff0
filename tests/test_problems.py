"""The one catalogue of problems: every code the code reports is in it and every entry is used; its words render;
`auditbook describe --problems` prints it and docs/problems.md is made from it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.problems import CATALOGUE, RESERVED_NAMES, Code, Key, KeyProblem, Problem, catalogue_markdown, words

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "auditbook"
DOC = ROOT / "docs" / "problems.md"


def _code_of(node: ast.AST) -> str | None:
    """X for an expression `Code.X`."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code":
        return node.attr
    return None


def _used() -> tuple[set[str], set[tuple[str, str]]]:
    """Every Code member named in src/ (the catalogue aside), and every (code, case) a call names with case="..."."""
    codes: set[str] = set()
    cases: set[tuple[str, str]] = set()
    for path in SOURCE.rglob("*.py"):
        if path == SOURCE / "problems.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (name := _code_of(node)) is not None:
                codes.add(name)
            if not isinstance(node, ast.Call):
                continue
            named = [n for a in [*node.args, *(k.value for k in node.keywords)] if (n := _code_of(a)) is not None]
            for keyword in (k for k in node.keywords if k.arg == "case"):
                said = {c.value for c in ast.walk(keyword.value) if isinstance(c, ast.Constant)
                        and isinstance(c.value, str)}
                cases |= {(name, case) for name in named for case in said}
    return codes, cases


def test_every_code_used_in_src_is_in_the_catalogue_and_every_entry_is_used() -> None:
    codes, _ = _used()
    assert set(CATALOGUE) == set(Code)
    assert sorted(codes - set(Code.__members__)) == []
    unused = sorted(code.name for code, entry in CATALOGUE.items() if code.name not in codes and not entry.reserved)
    assert unused == []
    assert sorted(code.name for code, entry in CATALOGUE.items() if entry.reserved and code.name in codes) == []


def test_every_case_named_in_src_is_in_the_catalogue_and_every_case_is_used() -> None:
    _, cases = _used()
    listed = {(code.name, case) for code, entry in CATALOGUE.items() for case in entry.cases}
    assert sorted(cases - listed) == []
    assert sorted(listed - cases) == []


def test_every_entry_has_a_topic_a_title_and_words_that_render() -> None:
    for code, entry in CATALOGUE.items():
        assert entry.topic and entry.title.endswith("."), code
        for said in [entry.words, *entry.cases.values()]:
            assert not said.names() & RESERVED_NAMES, code
            message, _ = said.render({name: "X" for name in said.names()})  # every brace a value or doubled
            assert message, code
            # A fix is a sentence of its own (a capital or a command, and a full stop), or the spec rule's own fix.
            fix = said.fix
            sentence = bool(fix) and (fix[0].isupper() or fix[0] == "`") and fix.endswith(".")
            assert not fix or fix.startswith("{fix}") or sentence, (code, fix)


def test_the_words_fill_the_values_in() -> None:
    assert words(Code.NOT_IN_LIST, label="Section grade", value='"Goodish"', choices="Good, Inadequate") == (
        'Section grade: "Goodish" is not one of Good, Inadequate. Choose one from the dropdown.')
    assert words(Code.BAD_DATE, case="us-order", label="Completed", value='"12/31/2026"', day_first="31/12/2026") == (
        'Completed: "12/31/2026" looks like a US date (month first). Write it day first: 31/12/2026.')
    problem = Problem.of(Code.REQUIRED_MISSING, case="row", sheet="Actions", cell="C7", field="actions.action",
                         label="Action")
    assert (problem.severity, problem.render()) == (
        "error", 'Actions!C7: "Action" is required because this row has other entries. Fill it in, or clear the row.')
    rule = Problem.of(Code.RULE, case="others", sheet="1b", cell="D9", rule="r1", severity="warning",
                      message="Graded Good with no Yes.", fix="Check the grade.", others="1b!D4, 1b!D5")
    assert (rule.severity, rule.rule, rule.message) == (
        "warning", "r1", "Graded Good with no Yes. Check the grade. See also 1b!D4, 1b!D5.")
    assert Problem.of(Code.FILE_EMPTY, file="r.xlsx").message == (
        "r.xlsx: the file is empty (0 bytes). Ask the auditor to send it again.")


def test_a_key_problem_says_where_what_and_how_to_fix() -> None:
    key = Key.of("sections").item(1, "cp").key("applies_when")
    problem = KeyProblem.of(Code.SPEC_UNKNOWN_FIELD, key, ref="profile.nope", suggestion="").placed(12, 5)
    assert (key.path, problem.what, problem.fix) == (
        ("sections", 1, "applies_when"), 'unknown field "profile.nope".',
        'Use "section.field" with ids from this spec.')
    assert problem.render() == ('line 12, column 5: sections[1] (cp).applies_when: unknown field "profile.nope". Use '
                                '"section.field" with ids from this spec.')
    assert Key.of("rounds", "calendar", 2, "months").text == "rounds.calendar[2].months"


def test_docs_problems_md_is_made_from_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/problems.md is not current: run `auditbook describe --problems --markdown > docs/problems.md`")


def test_describe_problems_prints_the_catalogue() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["describe", "--problems"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "not-in-list (error): An answer that is not one of the dropdown's choices." in lines
    assert "    {label}: {value} is not one of {choices}. Choose one from the dropdown." in lines
    assert "    (us-order) {label}: {value} looks like a US date (month first). Write it day first: {day_first}." \
        in lines
    assert all(f"{code} ({entry.severity}): {entry.title}" in lines for code, entry in CATALOGUE.items())
    as_json = runner.invoke(app, ["describe", "--problems", "--json"])
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["schema_version"] == 1
    data = document["problems"]
    assert [d["code"] for d in data] == [str(c) for c in CATALOGUE]
    assert next(d for d in data if d["code"] == "settings-not-a-month") == {
        "code": "settings-not-a-month", "topic": "The local settings (auditbook.toml)", "severity": "error",
        "title": "A round's month that is not a month.", "message": '"{value}" is not a month.',
        "fix": "Write its name (February) or its number (2).", "cases": []}
    markdown = runner.invoke(app, ["describe", "--problems", "--markdown"])
    assert (markdown.exit_code, markdown.stdout) == (0, catalogue_markdown())
    assert runner.invoke(app, ["describe", "--markdown"]).exit_code == 2
