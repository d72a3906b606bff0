"""A second bundled spec (a supervision audit: other sections, ids, ratings, standards, roles and rules) goes through
generate, a LibreOffice fill, validate, collect and allocate with a correct master; and the Deep Dive spec with
every field and section id renamed gives the same master as the spec itself."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from auditbook.allocation.lists import read_allocation
from auditbook.allocation.prefilled import allocate
from auditbook.collection.collect import collect
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec import Spec, default_spec_path, load_spec, parse_spec, specs_dir
from auditbook.spec.layout import Layout, build_layout
from auditbook.spec.metadata import new_metadata
from auditbook.workbook.checks import build_checks
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.lo.driver import fill, require_libreoffice

NOW = datetime(2026, 12, 7, 9, 30)


@pytest.fixture(scope="module")
def supervision() -> Spec:
    """The bundled supervision audit spec."""
    return load_spec(specs_dir() / "supervision_audit.yaml")


@pytest.fixture(scope="module")
def sup_layout(supervision: Spec) -> Layout:
    """Its layout."""
    return build_layout(supervision)


def tab(path: Path, sheet: str) -> list[dict[str, Any]]:
    """A master tab as one dict per row, keyed by its header."""
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    return [dict(zip(head, r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def strings(path: Path) -> str:
    """Every text a workbook shows (its shared strings and inline formulas' text)."""
    with zipfile.ZipFile(path) as zf:
        return " ".join(zf.read(n).decode("utf-8") for n in zf.namelist()
                        if n == "xl/sharedStrings.xml" or n.startswith("xl/worksheets/sheet"))


def test_the_supervision_spec_is_unlike_the_deep_dive(supervision: Spec, spec: Spec) -> None:
    assert {s.id for s in supervision.sections} & {s.id for s in spec.sections} == set()
    assert (supervision.grade_list, supervision.lists[supervision.grade_list]) == ("rating", ["Strong", "Adequate",
                                                                                              "Weak"])
    assert [c.id for c in supervision.criteria] == [f"SQ-{n}" for n in range(1, 7)]
    assert supervision.criteria_pattern != spec.criteria_pattern
    assert {r.id for r in supervision.rules} & {r.id for r in spec.rules} == set()


def test_its_workbook_reads_as_a_supervision_audit(supervision: Spec, tmp_path: Path) -> None:
    path = build_workbook(supervision, out=tmp_path / "blank.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Start", "Summary", "Record", "A Frequency", "B Reflection", "C Case direction",
                               "D ASYE", "Follow-up", "Verdict", "Standards", "Lists", "Metadata"]
    assert book["A Frequency"]["D8"].value == "Standard"
    assert book["Standards"]["A1"].value == "The supervision standards each part is rated against"
    text = strings(path)
    assert [w for w in ("ESN", "Ofsted", "Deep Dive", "Case profile", "Grades (", "criteria sheet", "this child",
                        "about a child", "Case reference") if w in text] == []
    assert "Waiting for Record" in text  # part D waits for "Newly qualified (ASYE)?"
    assert "Does not apply to this review: leave it blank" in text
    assert book["A Frequency"]["C2"].value.startswith('="Practitioner reference: "&')


def _sup_rules(report: Any) -> list[tuple[str | None, str, str | None, str | None]]:
    return [(p.rule, p.severity, p.sheet, p.cell) for p in report.problems if p.code == "rule"]


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({}, [], id="valid"),
    pytest.param({"record_practitioner_role": "Senior practitioner"},
                 [("newly_qualified_social_worker", "error", "record_practitioner_role")], id="asye-not-social-worker"),
    pytest.param({"record_sessions_held": 2, "frequency_on_schedule": "Met"},
                 [("sessions_as_expected", "warning", "record_sessions_held"),
                  ("frequency_met_with_sessions", "warning", "frequency_on_schedule")], id="met-with-too-few"),
    pytest.param({"record_sessions_held": 2, "frequency_on_schedule": "Partly met"},
                 [("sessions_as_expected", "warning", "record_sessions_held")], id="partly-met-with-too-few"),
    pytest.param({"record_completed_on": date(2027, 2, 1), "follow_up_r01_by_when": date(2027, 3, 1)},
                 [("completed_in_review_month", "warning", "record_completed_on")], id="completed-late"),
    pytest.param({"follow_up_r01_by_when": date(2026, 11, 20)}, [], id="follow-up-due-the-day-of-the-review"),
    pytest.param({"follow_up_r01_by_when": date(2026, 11, 19)},
                 [("follow_up_after_review", "error", "follow_up_r01_by_when")], id="follow-up-due-before-the-review"),
])
def test_the_supervision_rules(supervision: Spec, sup_layout: Layout, tmp_path: Path, changes: dict[str, Any],
                               expected: list[tuple[str, str, str]]) -> None:
    answers = {**synthetic_answers(sup_layout, seed=4, scenario="newly_qualified", actions=1),
               "record_completed_on": date(2026, 11, 20), "frequency_on_schedule": "Partly met", **changes}
    build_workbook(supervision, out=tmp_path / "r.xlsx", prefill=answers)
    report = validate_file(tmp_path / "r.xlsx", registry=SpecRegistry.of(supervision))
    cells = {i.name: (i.sheet, i.cell) for i in sup_layout.inputs}
    assert _sup_rules(report) == [(rule, sev, *cells[name]) for rule, sev, name in expected]
    assert [p.code for p in report.problems if p.severity == "error" and p.code != "rule"] == []


def test_the_supervision_record_keeps_names_out_of_the_reference(supervision: Spec) -> None:
    record = {f.id: f for f in supervision.section("record").fields}
    assert "No names" in (record["reference"].help or "")
    assert record["supervisee"].label == "Practitioner (name, kept for the supervisor's pack)"
    assert record["review_month"].label == "Review month: the month of supervision reviewed (YYYY-MM)"
    assert "review month (the month of supervision it reviews)" in next(
        r.message for r in supervision.rules if r.id == "completed_in_review_month")


@pytest.mark.libreoffice
def test_generate_fill_in_libreoffice_validate_collect_and_allocate(supervision: Spec, sup_layout: Layout,
                                                                     tmp_path: Path) -> None:
    require_libreoffice()
    registry = SpecRegistry.load()
    # allocate: one prefilled workbook per row, through the spec's roles.
    alloc = tmp_path / "allocation.csv"
    with alloc.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Case reference", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month (YYYY-MM)"])
        w.writerow(["SYN-0101", "Team Alpha", "Example Worker 1", "Example Manager Alpha", "Example Auditor 1",
                    "2026-11"])
        w.writerow(["SYN-0102", "Team Beta", "Example Worker 2", "Example Manager Beta", "Example Auditor 2",
                    "2026-11"])
    rows, bad = read_allocation(alloc)
    assert bad == []
    made = allocate(supervision, rows, out=tmp_path / "allocated")
    first = next(p for p in made if "syn-0101" in p.name)
    prefilled = openpyxl.load_workbook(first, data_only=True)["Record"]
    record = {i.field: prefilled[i.cell].value for i in sup_layout.section("record").inputs}
    assert (record["reference"], record["team"], record["supervisee"], record["supervisor"], record["reviewer"],
            record["review_month"], record["due"]) == ("SYN-0101", "Team Alpha", "Example Worker 1",
                                                       "Example Manager Alpha", "Example Auditor 1", "2026-11",
                                                       datetime(2026, 11, 30))
    # LibreOffice fills the allocated workbook; a part rated Weak without a follow-up fails a live check.
    answers = synthetic_answers(sup_layout, seed=8, scenario="newly_qualified", index=101, actions=1)
    locked = {i.name for i in sup_layout.section("record").inputs if i.field in
              ("reference", "team", "supervisee", "supervisor", "reviewer", "review_month")}
    # Part B rated Weak, the one follow-up from part A: B has none.
    weak = {**{k: v for k, v in answers.items() if k not in locked}, "reflection_rating": "Weak",
            "verdict_overall_rating": "Weak", "frequency_rating": "Strong", "direction_rating": "Adequate",
            "asye_rating": "Strong", "follow_up_r01_from_part": "A Frequency and follow-up"}
    folder = tmp_path / "returns"
    folder.mkdir()
    names = [c.name for c in build_checks(sup_layout)]
    shown = fill(first, folder / "SYN-0101 weak.xlsx", weak, read=[*names, "status_asye"])
    report = validate_file(folder / "SYN-0101 weak.xlsx", registry=registry)
    assert [(p.rule, p.sheet) for p in report.problems] == [("weak_part_has_follow_up", "B Reflection")]
    assert {n: shown[n] for n in names if shown[n] != "0"} == {"check_weak_part_has_follow_up": "1"}
    assert shown["status_asye"] == "Complete"
    # ... and once the follow-up is added, the return is valid and collect merges it with two more.
    fixed = {**weak, "follow_up_r02_what": "Plan reflective sessions.", "follow_up_r02_from_part":
             "B Reflection and wellbeing", "follow_up_r02_by_when": date(2027, 1, 15)}
    shown = fill(first, folder / "SYN-0101.xlsx", fixed, read=names)
    (folder / "SYN-0101 weak.xlsx").unlink()
    assert {n for n in names if shown[n] != "0"} == set()
    for index, scenario in ((102, "experienced"), (103, "newly_qualified")):
        build_workbook(supervision, out=folder / f"SYN-0{index}.xlsx", prefill=synthetic_answers(
            sup_layout, seed=index, scenario=scenario, index=index, actions=2))
    result = collect(folder, out=tmp_path / "master.xlsx", registry=registry, now=NOW, allocation=rows)
    assert result.summary_line() == ("3 files: 0 unchanged since last run, 3 read; "
                                     "master holds 3 audits; 0 rejected; 0 duplicate; 0 superseded")
    audits = {r["Case reference"]: r for r in tab(tmp_path / "master.xlsx", "Audits")}
    assert sorted(audits) == ["SYN-0101", "SYN-0102", "SYN-0103"]
    assert audits["SYN-0101"]["Team"] == "Team Alpha"
    assert audits["SYN-0101"]["Overall grade"] == "Weak"
    grades = [(r["Case reference"], r["Section"], r["Grade"]) for r in tab(tmp_path / "master.xlsx", "Findings")
              if r["Case reference"] == "SYN-0101" and r["Section"] != "Overall judgement"]
    assert grades == [("SYN-0101", "A Frequency and follow-up", fixed["frequency_rating"]),
                      ("SYN-0101", "B Reflection and wellbeing", "Weak"),
                      ("SYN-0101", "C Case direction", fixed["direction_rating"]),
                      ("SYN-0101", "D Newly qualified support", fixed["asye_rating"])]
    actions = [r for r in tab(tmp_path / "master.xlsx", "Actions") if r["Case reference"] == "SYN-0101"]
    assert ("B Reflection and wellbeing", "Plan reflective sessions.") in [
        (r["Section"], r["Action"]) for r in actions]
    returns = {r["Case reference"]: r["Status"] for r in tab(tmp_path / "master.xlsx", "Returns")}
    assert returns == {"SYN-0101": "Returned on time", "SYN-0102": "Returned on time",
                       "SYN-0103": "Returned, not allocated"}


# -- renaming every id of the Deep Dive spec changes nothing in the master ------------------------


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """The spec's data with every section and field id prefixed with z, and every reference to them to match."""
    sections = {s["id"] for s in data["sections"]}
    fields = {f["id"] for s in data["sections"] for f in s["fields"]} | {f["id"] for f in data["judgement_fields"]}
    ref = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")

    def z(value: Any) -> Any:
        if isinstance(value, dict):
            return {z(k): z(v) for k, v in value.items()}
        if isinstance(value, list):
            return [z(v) for v in value]
        if isinstance(value, str) and (m := ref.match(value)) and m.group(1) in (sections | {"this"}) \
                and m.group(2) in fields:
            section = m.group(1) if m.group(1) == "this" else "z" + m.group(1)
            return f"{section}.z{m.group(2)}"
        return value

    out = z(data)
    for s in out["sections"]:
        s["id"] = "z" + s["id"]
        for f in s["fields"]:
            f["id"] = "z" + f["id"]
    for f in out["judgement_fields"]:
        f["id"] = "z" + f["id"]
    roles = out["roles"]
    for key in ("section_grade", "working_well", "to_improve", "actions", *(k for k in roles if
                                                                            k.startswith("action_"))):
        roles[key] = "z" + roles[key]
    roles["theme_tags"] = ["z" + t for t in roles["theme_tags"]]
    for rule in out["rules"]:
        if rule.get("each") not in (None, "sections", "questions"):
            rule["each"] = "z" + rule["each"]
    for theme in out["themes"]:
        theme["sections"] = ["z" + s for s in theme.get("sections", [])]
    for share in _shares_of(out["rules"]):
        if share["answers"] != "this":
            share["answers"] = "z" + share["answers"]
    for rows in _rows_of(out["rules"]):
        rows["rows"] = "z" + rows["rows"]
        rows["where"] = {"z" + k: v for k, v in rows.get("where", {}).items()}
    return out


def _shares_of(value: Any) -> list[dict[str, Any]]:
    """Every {answers: SECTION, in: [...]} a share counts."""
    if isinstance(value, dict):
        return ([value] if "answers" in value else []) + [r for v in value.values() for r in _shares_of(v)]
    if isinstance(value, list):
        return [r for v in value for r in _shares_of(v)]
    return []


def _rows_of(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return ([value] if "rows" in value else []) + [r for v in value.values() for r in _rows_of(v)]
    if isinstance(value, list):
        return [r for v in value for r in _rows_of(v)]
    return []


def _master_cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every tab's values; the Answers and Dictionary tabs' Field column (each input's own name) left out."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if ws.title in ("Answers", "Dictionary"):
            field = rows[0].index("Field")
            rows = [r[:field] + r[field + 1:] for r in rows]
        out[ws.title] = rows
    return out


def test_renaming_every_id_of_the_deep_dive_changes_nothing_in_the_master(spec: Spec, layout: Layout,
                                                                         tmp_path: Path) -> None:
    data = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    renamed = parse_spec(_renamed(data), source=Path("renamed.yaml"))
    assert {s.id for s in renamed.sections} & {s.id for s in spec.sections} == set()
    renamed_layout = build_layout(renamed)
    masters = []
    for which, (sp, lay) in {"original": (spec, layout), "renamed": (renamed, renamed_layout)}.items():
        folder = tmp_path / which / "returns"
        folder.mkdir(parents=True)
        for i, scenario in enumerate(sorted(sp.examples), start=1):
            meta = new_metadata(sp, now=NOW, instance_id=f"00000000-0000-4000-8000-00000000000{i}")
            build_workbook(sp, out=folder / f"SYN-{i:04d}.xlsx", meta=meta, prefill=synthetic_answers(
                lay, seed=i, scenario=scenario, index=i, urgent=i == 2))
        result = collect(folder, out=tmp_path / which / "master.xlsx", registry=SpecRegistry.of(sp), now=NOW)
        assert result.summary_line() == ("4 files: 0 unchanged since last run, 4 read; "
                                         "master holds 4 audits; 0 rejected; 0 duplicate; 0 superseded")
        masters.append(_master_cells(tmp_path / which / "master.xlsx"))
    original, again = masters
    assert list(original) == list(again)
    assert {t: rows for t, rows in again.items() if rows != original[t]} == {}
    assert len(original["Audits"]) == 5
