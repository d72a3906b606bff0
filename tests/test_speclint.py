"""`auditbook spec check` and load_spec on small broken specs: one defect each, the exact message for it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.errors import SpecError
from auditbook.spec import default_spec_path, load_spec

Data = dict[str, Any]

#: The smallest spec the linter accepts: a profile with one applicability question and one judged section
#: that applies only when it is Yes, with a question-level condition on an earlier question.
MINIMAL: Data = {
    "id": "mini",
    "version": "1.0",
    "title": "Mini audit",
    "send_to": "The team manager",
    "choice_lists": {
        "grade": ["Outstanding", "Good", "Requires improvement", "Inadequate"],
        "answer": ["Yes", "Partly", "No", "Not known"],
        "yes_no": ["Yes", "No"],
    },
    "grade_descriptors": [{"grade": "Good", "text": "Meets the criteria."}],
    "criteria": [{"id": "ESN 01", "summary": "Child seen", "text": "Children are seen."}],
    "themes": [{"label": "Drift and delay", "kind": "concern"}],
    "judgement_fields": [{"id": "grade", "label": "Section grade", "type": "choice", "choices": "grade"}],
    "sections": [
        {
            "id": "profile", "title": "Case profile", "sheet": "Case profile", "kind": "form",
            "fields": [
                {"id": "case_ref", "label": "Case reference"},
                {"id": "had_cp", "label": "Child protection in the period?", "type": "choice", "choices": "yes_no"},
            ],
        },
        {
            "id": "cp", "title": "1d Child Protection", "sheet": "1d CP", "criteria": ["ESN 01"],
            "applies_when": {"field": "profile.had_cp", "equals": "Yes"},
            "not_applicable_because": "there was no child protection",
            "fields": [
                {"id": "seen", "label": "Seen alone?", "type": "question", "criteria": ["ESN 01"]},
                {"id": "why", "label": "Why not?", "type": "long_text",
                 "applies_when": {"field": "cp.seen", "in": ["No", "Partly"]},
                 "not_applicable_because": "the child was seen alone"},
            ],
        },
    ],
}


def _write(path: Path, data: Data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _broken(defect: Callable[[Data], object]) -> Data:
    data = copy.deepcopy(MINIMAL)
    defect(data)
    return data


def _cp(d: Data) -> Data:
    section: Data = d["sections"][1]
    return section



RULE: Data = {"id": "seen_when_cp", "severity": "error", "when": {"field": "profile.had_cp", "equals": "Yes"},
              "require": {"filled": "cp.seen"}, "message": "Seen is blank.", "fix": "Answer it.",
              "cells": ["cp.seen"]}


def _rule(**changes: Any) -> Callable[[Data], object]:
    """A defect: the spec gets one rule, RULE with these changes."""
    return lambda d: d.update(rules=[{**RULE, **changes}])


#: Each defect, the message it gives, and what the line and column the message names start with.
DEFECTS = [
    pytest.param(
        lambda d: _cp(d)["applies_when"].update(field="profile.nope"),
        'sections[1] (cp).applies_when: unknown field "profile.nope". Did you mean "profile.had_cp"? Use '
        '"section.field" with ids from this spec.', "applies_when:",
        id="unknown-field-in-condition",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"][0].update(
            applies_when={"field": "cp.why", "equals": "Yes"}, not_applicable_because="it does not apply"
        ),
        'sections[1] (cp).fields[0] (seen).applies_when: condition on "cp.why", which comes at or after this '
        "input. A condition may only look at earlier fields: move the field up or the condition down.",
        "applies_when:", id="condition-on-later-field",
    ),
    pytest.param(
        lambda d: _cp(d).update(applies_when={"field": "cp.seen", "equals": "Yes"}),
        'sections[1] (cp).applies_when: condition on "cp.seen", which comes at or after this '
        "input. A condition may only look at earlier fields: move the field up or the condition down.",
        "applies_when:", id="section-condition-on-its-own-field",
    ),
    pytest.param(
        lambda d: d["sections"].append({
            "id": "cp", "title": "1d Child Protection (again)", "sheet": "1d CP again", "kind": "form",
            "fields": [{"id": "note", "label": "Note"}],
        }),
        'sections[2] (cp): duplicate section id "cp". Give each section its own id.', "id: cp",
        id="duplicate-section-id",
    ),
    pytest.param(
        lambda d: _cp(d).update(title="TEAM "),
        'sections[1] (cp).title: "TEAM " is already a column of the master\'s Audits table (titles are compared '
        "ignoring case). Give the section a title of its own.", "title: 'TEAM '", id="section-title-is-a-master-column",
    ),
    pytest.param(
        lambda d: d["sections"].append({
            "id": "cp2", "title": "1d child protection", "sheet": "1d CP again", "criteria": ["ESN 01"],
            "fields": [{"id": "seen", "label": "Seen?", "type": "question"}],
        }),
        'sections[2] (cp2).title: "1d child protection" is already the title of section cp (titles are compared '
        "ignoring case). Give the section a title of its own.", "title: 1d child", id="duplicate-section-title",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"].append({"id": "seen", "label": "Seen again?", "type": "question"}),
        'sections[1] (cp).fields[2] (seen): duplicate field id "seen" in section cp (the judgement block adds '
        "working_well, to_improve, grade and theme_N to every judged section). Give each field its own id.",
        "id: seen", id="duplicate-field-id",
    ),
    pytest.param(
        lambda d: d["choice_lists"]["answer"].append(" not  KNOWN "),
        'choice_lists.answer: duplicate choice " not  KNOWN ". Each choice must differ (ignoring case and spaces).',
        "answer:", id="duplicate-choice",
    ),
    pytest.param(
        lambda d: d["choice_lists"].update(priority=[]),
        "choice_lists.priority: the list is empty. Add at least one choice or remove the list.", "priority: []",
        id="empty-list",
    ),
    pytest.param(
        lambda d: d["sections"][0]["fields"].append(
            {"id": "colour", "label": "Colour", "type": "choice", "choices": "colours"}
        ),
        'sections[0] (profile).fields[2] (colour).choices: unknown list "colours". '
        "Use one of grade, answer, yes_no, theme, section.", "choices: colours",
        id="unknown-list",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"][0].update(colour="red"),
        'sections.1.fields.0.colour: unknown key "colour". Allowed here: applies_when, choices, criteria, default, '
        "derived, help, id, label, max, max_length, min, not_applicable_because, required, type.", "colour: red",
        id="unknown-key",
    ),
    pytest.param(
        lambda d: _cp(d).pop("title"),
        "sections.1.title: this key is required but not given. Add it; `auditbook spec schema` says what it "
        "takes.", "id: cp",
        id="missing-key",
    ),
    pytest.param(
        lambda d: _cp(d).update(not_aplicable_because=_cp(d).pop("not_applicable_because")),
        'sections.1.not_aplicable_because: unknown key "not_aplicable_because". Did you mean '
        '"not_applicable_because"? Allowed here: applies_when, criteria, fields, guidance, id, kind, '
        "not_applicable_because, required_when, rows, sheet, title.", "not_aplicable_because:",
        id="misspelt-key",
    ),
    pytest.param(
        lambda d: _cp(d)["applies_when"].update(equals="Y"),
        'sections[1] (cp).applies_when: "Y" is not a choice of profile.had_cp. Use one of its choices, spelled '
        "as in the list.", "applies_when:",
        id="condition-value-not-a-choice",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"][1]["applies_when"].update({"in": ["No", "Maybe"]}),
        'sections[1] (cp).fields[1] (why).applies_when: "Maybe" is not a choice of cp.seen. '
        "Use one of its choices, spelled as in the list.", "applies_when:",
        id="condition-in-value-not-a-choice",
    ),
    pytest.param(
        lambda d: _cp(d).pop("not_applicable_because"),
        "sections[1] (cp): applies_when needs not_applicable_because, the words the banner shows.", "id: cp",
        id="applies-when-without-because",
    ),
    pytest.param(
        _rule(cells=["cp.sene"]),
        'rules[0] (seen_when_cp).cells: unknown field "cp.sene". Did you mean "cp.seen"? Use "section.field" with '
        "ids from this spec.", "cells:", id="rule-unknown-cell",
    ),
    pytest.param(
        _rule(when={"field": "profile.had_cp", "equal": "Yes"}),
        'rules.0.when: not a condition. Did you mean "equals"? Write {field: F, equals: X}, {field: F, in: [...]}, '
        "{filled: F}, {blank: F}, {date: F, on_or_after: G}, {number: F, at_least: N}, {share: {answers: S, in: "
        "[...]}, more_than: P}, {any_section: ...}, {every_section: ...}, {all: [...]}, {any: [...]} or {not: ...}.",
        "when:", id="rule-misspelt-condition",
    ),
    pytest.param(
        _rule(require={"number": "profile.case_ref", "at_least": 1}),
        'rules[0] (seen_when_cp).require: "profile.case_ref" is a text field; a number comparison needs an integer '
        "field.", "require:", id="rule-type-mismatch",
    ),
    pytest.param(
        _rule(require={"field": "cp.seen", "equals": "Yse"}),
        'rules[0] (seen_when_cp).require: "Yse" is not a choice of cp.seen. Did you mean "Yes"? Use one of its '
        "choices, spelled as in the list.", "require:", id="rule-value-not-a-choice",
    ),
    pytest.param(
        _rule(require={"filled": "this.seen"}),
        'rules[0] (seen_when_cp).require: "this.seen" is only for a rule with each: or inside any_section / '
        "every_section.", "require:", id="rule-this-outside-each",
    ),
    pytest.param(
        _rule(each="action"),
        'rules[0] (seen_when_cp).each: "action" is not "sections", "questions" or a table section. Did you mean '
        '"sections"?', "each: action",
        id="rule-unknown-each",
    ),
    pytest.param(
        _rule(require={"field": "profile.had_cp", "in": ["Yes", "No"]}),
        "rules[0] (seen_when_cp): this rule can never fire: no answers make `when` hold and `require` fail. Check "
        "its conditions.", "id: seen_when_cp", id="rule-never-fires",
    ),
    pytest.param(
        lambda d: d.update(rules=[copy.deepcopy(RULE), copy.deepcopy(RULE)]),
        'rules[1] (seen_when_cp): duplicate rule id "seen_when_cp". Give each rule its own id.', "id: seen_when_cp",
        id="rule-duplicate-id",
    ),
]


def test_minimal_spec_is_valid(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path / "mini.yaml", MINIMAL))
    assert [(s.id, len(spec.fields_of(s))) for s in spec.sections] == [("profile", 2), ("cp", 3)]


def _at(path: Path, line: str) -> str:
    """What the file has from the line and column a problem line names ("  line L, column C: ...")."""
    found = re.match(r"  line (\d+), column (\d+): ", line)
    assert found, line
    return path.read_text(encoding="utf-8").splitlines()[int(found.group(1)) - 1][int(found.group(2)) - 1:]


@pytest.mark.parametrize(("defect", "message", "at"), DEFECTS)
def test_load_spec_says_where_and_how_to_fix(tmp_path: Path, defect: Callable[[Data], object], message: str,
                                             at: str) -> None:
    path = _write(tmp_path / "broken.yaml", _broken(defect))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    head, line = str(err.value).splitlines()
    assert (head, line.split(": ", 1)[1]) == (f"{path}: the spec is not valid (1 problem):", message)
    assert _at(path, line).startswith(at)


@pytest.mark.parametrize(("defect", "message", "at"), DEFECTS)
def test_spec_check_prints_the_problem_and_exits_1(
    tmp_path: Path, defect: Callable[[Data], object], message: str, at: str
) -> None:
    path = _write(tmp_path / "broken.yaml", _broken(defect))
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    head, line = result.stderr.splitlines()
    assert (head, line.split(": ", 1)[1]) == (f"Error: {path}: the spec is not valid (1 problem):", message)
    assert _at(path, line).startswith(at)


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: mini\nsections:\n  - id: a\n   title: b\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == f"{path}: not valid YAML at line 4, column 4. Fix the indentation or quoting there."


def test_a_spec_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SpecError, match="a spec must be a YAML mapping"):
        load_spec(path)


def test_missing_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value) == f"{path}: cannot read the spec (No such file or directory). Check the path."


def test_problem_count_counts_every_lint_problem(tmp_path: Path) -> None:
    def two_defects(d: Data) -> None:
        d["choice_lists"]["priority"] = []
        _cp(d)["applies_when"]["field"] = "profile.nope"

    path = _write(tmp_path / "broken.yaml", _broken(two_defects))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    assert lines[0] == f"{path}: the spec is not valid (2 problems):"


def test_the_problems_are_data_with_their_code_key_place_and_fix(tmp_path: Path) -> None:
    def two_defects(d: Data) -> None:
        d["choice_lists"]["priority"] = []
        _cp(d)["applies_when"]["field"] = "profile.nope"

    path = _write(tmp_path / "broken.yaml", _broken(two_defects))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert [(p.code, p.key.path, p.key.text, p.line, p.column, p.fix) for p in err.value.problems] == [
        ("spec-empty-list", ("choice_lists", "priority"), "choice_lists.priority", 19, 3,
         "Add at least one choice or remove the list."),
        ("spec-unknown-field", ("sections", 1, "applies_when"), "sections[1] (cp).applies_when", 52, 3,
         'Use "section.field" with ids from this spec.'),
    ]
    assert _at(path, f"  line {err.value.problems[1].line}, column {err.value.problems[1].column}: ").startswith(
        "applies_when:")


def test_an_unknown_key_is_a_problem_with_its_code(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.yaml", _broken(lambda d: _cp(d)["fields"][0].update(colour="red")))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert [(p.code, p.key.text, p.what) for p in err.value.problems] == [
        ("spec-unknown-key", "sections.1.fields.0.colour", 'unknown key "colour".')]


def test_a_date_with_two_sources_is_refused_with_its_code(tmp_path: Path) -> None:
    derived = {"field": "profile.due", "end_of": "profile.month"}
    path = _write(tmp_path / "broken.yaml", _broken(
        lambda d: d["sections"][0]["fields"].append({"id": "due", "label": "Due", "type": "date", "derived": derived})))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert [(p.code, p.message) for p in err.value.problems] == [
        ("spec-one-of", "a date takes exactly one of field, start_of, end_of (it has field, end_of). Keep exactly one "
                        "of them.")]


def test_spec_check_prints_pydantic_patterns_verbatim(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.yaml", {**MINIMAL, "id": "Bad-Id"})
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert "id: String should match pattern '^[a-z][a-z0-9_]*$'" in result.stderr


def test_spec_check_passes_the_bundled_spec(spec: Any) -> None:
    result = CliRunner().invoke(app, ["spec", "check"])
    assert result.exit_code == 0, result.output
    n = sum(len(spec.fields_of(s)) for s in spec.sections)
    assert result.stdout == f"{default_spec_path()}: OK (deep_dive 2.1.0, 16 sections, {n} fields)\n"


def test_spec_check_passes_a_minimal_spec(tmp_path: Path) -> None:
    path = _write(tmp_path / "mini.yaml", MINIMAL)
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"{path}: OK (mini 1.0, 2 sections, 5 fields)", "39 roles not given, which switches off:"]
    assert "  case_ref: switches off the case reference in file names, page footers, messages and the master; " \
           "duplicate and superseded returns are found by case and round" in lines


def test_spec_check_of_the_bundled_spec_lists_no_missing_role() -> None:
    result = CliRunner().invoke(app, ["spec", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1, result.stdout


def test_spec_schema_is_json_schema_of_the_spec() -> None:
    result = CliRunner().invoke(app, ["spec", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert "sections" in schema["properties"]
    assert {"id", "version", "sections", "choice_lists"} <= set(schema["required"])
    assert schema["additionalProperties"] is False


def test_the_json_schema_describes_every_key() -> None:
    schema = json.loads(CliRunner().invoke(app, ["spec", "schema"]).stdout)
    models = {"Spec": schema, **schema["$defs"]}
    undescribed = sorted((name, key) for name, model in models.items()
                         for key, prop in model.get("properties", {}).items() if not prop.get("description"))
    assert undescribed == []
    assert {"Rule", "DateCompare", "NumberCompare", "Rows", "DateOf", "Wording"} <= set(models)
    assert "two years before" in models["DateOf"]["properties"]["offset"]["description"]
