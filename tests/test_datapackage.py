"""`auditbook export` as a Frictionless Data Package (issue 19): a demo export passes `frictionless validate`, loads
in pandas with its declared types, keeps values as typed, and the validator catches what the schema promises."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from frictionless import Package
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.demo import DemoResult, run_demo
from auditbook.outputs.datapackage import _unique, snake
from auditbook.outputs.export import export
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec import default_spec_path, load_spec, specs_dir
from auditbook.spec.layout import build_layout
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

runner = CliRunner()
NOW = datetime(2026, 12, 7, 9, 30)
TABLES = ["audits", "answers", "findings", "actions", "rejected", "dictionary"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The demo: a folder of synthetic returns, collected."""
    return run_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def exported(demo: DemoResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exported with the default options: the data package's folder."""
    to = tmp_path_factory.mktemp("export") / "tables"
    out = demo.collected.master
    result = runner.invoke(app, ["export", str(demo.returns), "--out", str(out), "--ledger",
                                 str(out.parent / ".demo-ledger.sqlite3"), "--to", str(to)])
    assert result.exit_code == 0, result.output
    return to


def _descriptor(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    return data


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_frictionless_validate_passes_on_a_demo_export(exported: Path) -> None:
    tool = Path(sys.executable).parent / "frictionless"
    done = subprocess.run([str(tool), "validate", str(exported / "datapackage.json")], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("VALID") == len(TABLES) and "INVALID" not in done.stdout


def test_every_table_is_described_with_types_enums_and_keys(exported: Path) -> None:
    package = _descriptor(exported)
    assert package["profile"] == "tabular-data-package"
    assert package["description"].startswith("OFFICIAL-SENSITIVE")
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == TABLES
    assert sorted(p.name for p in exported.iterdir()) == sorted(
        [*(f"{t}.csv" for t in TABLES), "datapackage.json", "README.txt"])
    keys = {name: r["schema"].get("primaryKey") for name, r in resources.items()}
    assert keys == {"audits": ["case_reference", "round"], "answers": ["case_reference", "round", "field"],
                    "findings": ["case_reference", "round", "section"], "actions": ["action_id"],
                    "rejected": None, "dictionary": ["spec", "version", "field"]}
    assert resources["answers"]["schema"]["foreignKeys"] == [
        {"fields": ["case_reference", "round"], "reference": {"resource": "audits", "fields": ["case_reference",
                                                                                                "round"]}},
        {"fields": ["spec", "spec_version", "field"], "reference": {"resource": "dictionary",
                                                                    "fields": ["spec", "version", "field"]}}]
    audits = {f["name"]: f for f in resources["audits"]["schema"]["fields"]}
    grades = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    assert audits["grade_1b_assessment"]["constraints"]["enum"] == grades
    assert audits["overall_grade"]["constraints"]["enum"] == grades
    assert audits["applies_1b_assessment"] == {
        "name": "applies_1b_assessment", "type": "boolean", "trueValues": ["true"], "falseValues": ["false"],
        "description": "1b Assessment: the section applies to the case."}
    assert (audits["due_date"]["type"], audits["age"]["type"], audits["late"]["type"]) == ("date", "integer",
                                                                                            "boolean")
    assert "Male" in audits["gender"]["constraints"]["enum"]
    for r in resources.values():
        assert r["schema"]["missingValues"] == [""] and r["encoding"] == "utf-8"


def test_headers_are_snake_case_ascii_and_values_have_one_convention(exported: Path) -> None:
    package = _descriptor(exported)
    for r in package["resources"]:
        with (exported / r["path"]).open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == [f["name"] for f in r["schema"]["fields"]]
        assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", h) for h in header), header
        rows = _rows(exported / r["path"])
        for f in r["schema"]["fields"]:
            if f["type"] == "boolean":
                assert {row[f["name"]] for row in rows} <= {"true", "false", ""}, f["name"]
        assert not any(v in ("n/a", "Yes", "No") for row in rows for k, v in row.items()
                       if k.startswith(("grade_", "applies_", "late", "overdue")))
    # No prefix changes a value: the bytes start with the header, not a byte order mark.
    assert (exported / "audits.csv").read_bytes().startswith(b"case_reference,round,")


def test_a_section_that_does_not_apply_is_empty_with_applies_false(demo: DemoResult, exported: Path) -> None:
    audits = {(r["case_reference"], r["round"]): r for r in _rows(exported / "audits.csv")}
    merged = demo.collected.evidence.collation.merged if demo.collected.evidence else []
    assert len(audits) == len(merged) > 0
    seen = {True: 0, False: 0}
    for m in merged:
        row = audits[(m.audit.case_ref, m.round)]
        assert row["late"] == ("true" if m.audit.late else "false")
        for s in m.audit.sections:
            name = snake(s.title)
            assert row[f"applies_{name}"] == ("true" if s.applies else "false")
            assert row[f"grade_{name}"] == ((s.grade or "") if s.applies else "")
            seen[s.applies] += 1
    assert seen[True] and seen[False]  # the demo has both


def test_pandas_loads_the_tables_with_the_declared_types_and_they_join(exported: Path) -> None:
    package = _descriptor(exported)
    frames: dict[str, pd.DataFrame] = {}
    for r in package["resources"]:
        fields = r["schema"]["fields"]
        dtypes = {f["name"]: "boolean" if f["type"] == "boolean" else "Int64" if f["type"] == "integer" else "string"
                  for f in fields}
        dates = [f["name"] for f in fields if f["type"] == "date"]
        frames[r["name"]] = pd.read_csv(exported / r["path"], dtype={k: v for k, v in dtypes.items()
                                                                      if k not in dates},
                                        parse_dates=dates, keep_default_na=False, na_values=[""])
    audits, answers, dictionary = frames["audits"], frames["answers"], frames["dictionary"]
    assert audits["late"].dtype == "boolean" and str(audits["due_date"].dtype).startswith("datetime64")
    assert audits["age"].dtype == "Int64"
    joined = answers.merge(dictionary, left_on=["spec", "spec_version", "field"],
                           right_on=["spec", "version", "field"], how="left", indicator=True)
    assert (joined["_merge"] == "both").all() and len(joined) == len(answers) > 0
    by_audit = answers.merge(audits, on=["case_reference", "round"], how="left", indicator=True)
    assert (by_audit["_merge"] == "both").all()
    assert set(answers["applies"].dropna()) <= {True, False}
    choices = json.loads(dictionary.loc[dictionary["field"] == "profile_gender", "choices"].iloc[0])
    assert "Male" in choices


def test_the_validator_catches_a_value_off_the_list_and_a_broken_key(exported: Path, tmp_path: Path) -> None:
    """The schema is what makes validate mean something: one value outside an enum and one answer naming no
    field of the dictionary are each reported."""
    broken = tmp_path / "broken"
    shutil.copytree(exported, broken)
    audits = (broken / "audits.csv").read_bytes().decode().split("\r\n")
    audits[1] = audits[1].replace(",Good,", ",Goodish,", 1)
    (broken / "audits.csv").write_text("\r\n".join(audits), encoding="utf-8", newline="")
    answers = (broken / "answers.csv").read_bytes().decode().split("\r\n")
    cells = answers[1].split(",")
    cells[4] = "no_such_field"
    answers[1] = ",".join(cells)
    (broken / "answers.csv").write_text("\r\n".join(answers), encoding="utf-8", newline="")
    report = Package(str(broken / "datapackage.json")).validate()
    assert not report.valid
    errors = sorted((task.name, e.type) for task in report.tasks for e in task.errors)
    assert errors == [("answers", "foreign-key"), ("audits", "constraint-error")]


def test_for_excel_keeps_the_masters_headers_and_writes_no_descriptor(demo: DemoResult, tmp_path: Path) -> None:
    out = demo.collected.master
    to = tmp_path / "excel"
    where = ["export", str(demo.returns), "--out", str(out), "--ledger", str(out.parent / ".demo-ledger.sqlite3"),
             "--to", str(to)]
    assert runner.invoke(app, where).exit_code == 0
    assert (to / "datapackage.json").exists()
    result = runner.invoke(app, [*where, "--for-excel"])
    assert result.exit_code == 0, result.output
    # The descriptor of the earlier export would describe CSVs these replaced: it goes.
    assert not (to / "datapackage.json").exists()
    assert (to / "audits.csv").read_bytes().startswith("\ufeffCase reference,Round,".encode())
    # One auditbook did not write is left alone.
    (to / "datapackage.json").write_text('{"name": "team-figures"}', encoding="utf-8")
    assert runner.invoke(app, [*where, "--for-excel"]).exit_code == 0
    assert (to / "datapackage.json").read_text(encoding="utf-8") == '{"name": "team-figures"}'


@pytest.mark.parametrize(("header", "name"), [
    ("2 Child\u2019s Voice and Understanding", "2_childs_voice_and_understanding"),
    ("Feedback to team manager", "feedback_to_team_manager"), ("Caf\u00e9 (grade 2)", "cafe_grade_2"),
    ("Action ID", "action_id"), ("3 Decision-making and Management oversight",
                                 "3_decision_making_and_management_oversight")])
def test_snake(header: str, name: str) -> None:
    assert snake(header) == name


def test_section_names_that_snake_alike_are_made_distinct() -> None:
    names = [snake(t) for t in ("Plans and Reviews", "Plans & Reviews", "Plans and reviews!", "Voice")]
    assert _unique(names) == ["plans_and_reviews", "plans_reviews", "plans_and_reviews_2", "voice"]


def test_a_second_spec_exports_a_valid_package_with_its_own_grades(tmp_path: Path) -> None:
    """The supervision audit (other sections, ratings and roles) mixed with the Deep Dive: one valid package."""
    supervision = load_spec(specs_dir() / "supervision_audit.yaml")
    deep_dive = load_spec(default_spec_path())
    folder = tmp_path / "returns"
    folder.mkdir()
    for index, scenario in ((102, "experienced"), (103, "newly_qualified")):
        build_workbook(supervision, out=folder / f"SYN-0{index}.xlsx", prefill=synthetic_answers(
            build_layout(supervision), seed=index, scenario=scenario, index=index, actions=2))
    build_workbook(deep_dive, out=folder / "SYN-0104.xlsx", prefill=synthetic_answers(
        build_layout(deep_dive), seed=4, index=104))
    registry = SpecRegistry.of(supervision, deep_dive)
    result = collect(folder, out=tmp_path / "master.xlsx", registry=registry, now=NOW)
    assert result.evidence is not None and len(result.evidence.collation.merged) == 3
    written = export(result.evidence, tmp_path / "tables", generated_at=NOW)
    report = Package(str(tmp_path / "tables" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    audits = {f["name"]: f for f in _descriptor(tmp_path / "tables")["resources"][0]["schema"]["fields"]}
    assert audits["overall_grade"]["constraints"]["enum"] == [
        *supervision.lists[supervision.grade_list], *deep_dive.lists[deep_dive.grade_list]]
    dictionary = _rows(tmp_path / "tables" / "dictionary.csv")
    assert {r["spec"] for r in dictionary} == {"supervision_audit", "deep_dive"}
    assert [p.name for p in written][-2:] == ["datapackage.json", "README.txt"]
