"""`auditbook spec check` and load_spec on small broken specs: one defect each, the exact message for it."""

from __future__ import annotations

import copy
import json
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



DEFECTS = [
    pytest.param(
        lambda d: _cp(d)["applies_when"].update(field="profile.nope"),
        'sections[1] (cp).applies_when: unknown field "profile.nope". Use "section.field" with ids from this spec.',
        id="unknown-field-in-condition",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"][0].update(
            applies_when={"field": "cp.why", "equals": "Yes"}, not_applicable_because="it does not apply"
        ),
        'sections[1] (cp).fields[0] (seen).applies_when: condition on "cp.why", which comes at or after this '
        "input. A condition may only look at earlier fields: move the field up or the condition down.",
        id="condition-on-later-field",
    ),
    pytest.param(
        lambda d: _cp(d).update(applies_when={"field": "cp.seen", "equals": "Yes"}),
        'sections[1] (cp).applies_when: condition on "cp.seen", which comes at or after this '
        "input. A condition may only look at earlier fields: move the field up or the condition down.",
        id="section-condition-on-its-own-field",
    ),
    pytest.param(
        lambda d: d["sections"].append({
            "id": "cp", "title": "1d Child Protection (again)", "sheet": "1d CP again", "kind": "form",
            "fields": [{"id": "note", "label": "Note"}],
        }),
        'sections[2] (cp): duplicate section id "cp". Give each section its own id.',
        id="duplicate-section-id",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"].append({"id": "seen", "label": "Seen again?", "type": "question"}),
        'sections[1] (cp).fields[2] (seen): duplicate field id "seen" in section cp (the judgement block adds '
        "working_well, to_improve, grade and theme_N to every judged section). Give each field its own id.",
        id="duplicate-field-id",
    ),
    pytest.param(
        lambda d: d["choice_lists"]["answer"].append(" not  KNOWN "),
        'choice_lists.answer: duplicate choice " not  KNOWN ". Each choice must differ (ignoring case and spaces).',
        id="duplicate-choice",
    ),
    pytest.param(
        lambda d: d["choice_lists"].update(priority=[]),
        "choice_lists.priority: the list is empty. Add at least one choice or remove the list.",
        id="empty-list",
    ),
    pytest.param(
        lambda d: d["sections"][0]["fields"].append(
            {"id": "colour", "label": "Colour", "type": "choice", "choices": "colours"}
        ),
        'sections[0] (profile).fields[2] (colour).choices: unknown list "colours". '
        "Use one of grade, answer, yes_no, theme, section.",
        id="unknown-list",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"][0].update(colour="red"),
        "sections.1.fields.0.colour: Extra inputs are not permitted",
        id="unknown-key",
    ),
    pytest.param(
        lambda d: _cp(d)["applies_when"].update(equals="Y"),
        'sections[1] (cp).applies_when: "Y" is not a choice of profile.had_cp. Use one of its choices, spelled '
        "as in the list.",
        id="condition-value-not-a-choice",
    ),
    pytest.param(
        lambda d: _cp(d)["fields"][1]["applies_when"].update({"in": ["No", "Maybe"]}),
        'sections[1] (cp).fields[1] (why).applies_when: "Maybe" is not a choice of cp.seen. '
        "Use one of its choices, spelled as in the list.",
        id="condition-in-value-not-a-choice",
    ),
    pytest.param(
        lambda d: _cp(d).pop("not_applicable_because"),
        "sections[1] (cp): applies_when needs not_applicable_because, the words the banner shows.",
        id="applies-when-without-because",
    ),
]


def test_minimal_spec_is_valid(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path / "mini.yaml", MINIMAL))
    assert [(s.id, len(spec.fields_of(s))) for s in spec.sections] == [("profile", 2), ("cp", 3)]


@pytest.mark.parametrize(("defect", "message"), DEFECTS)
def test_load_spec_says_where_and_how_to_fix(tmp_path: Path, defect: Callable[[Data], object], message: str) -> None:
    path = _write(tmp_path / "broken.yaml", _broken(defect))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).splitlines() == [f"{path}: the spec is not valid (1 problem(s)):", f"  {message}"]


@pytest.mark.parametrize(("defect", "message"), DEFECTS)
def test_spec_check_prints_the_problem_and_exits_1(
    tmp_path: Path, defect: Callable[[Data], object], message: str
) -> None:
    path = _write(tmp_path / "broken.yaml", _broken(defect))
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == f"Error: {path}: the spec is not valid (1 problem(s)):\n  {message}\n"


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
    assert lines[0] == f"{path}: the spec is not valid (2 problem(s)):"


def test_spec_check_prints_pydantic_patterns_verbatim(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.yaml", {**MINIMAL, "id": "Bad-Id"})
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert "id: String should match pattern '^[a-z][a-z0-9_]*$'" in result.stderr


def test_spec_check_passes_the_bundled_spec(spec: Any) -> None:
    result = CliRunner().invoke(app, ["spec", "check"])
    assert result.exit_code == 0, result.output
    n = sum(len(spec.fields_of(s)) for s in spec.sections)
    assert result.stdout == f"{default_spec_path()}: OK (deep_dive 1.0.0, 16 sections, {n} fields)\n"


def test_spec_check_passes_a_minimal_spec(tmp_path: Path) -> None:
    path = _write(tmp_path / "mini.yaml", MINIMAL)
    result = CliRunner().invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"{path}: OK (mini 1.0, 2 sections, 5 fields)", "34 role(s) not given, which switches off:"]
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
