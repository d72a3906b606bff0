"""The kept action register and SAG action plan (issue 10): what is typed into the master or a pack survives
every later collect; conflicting edits are shown, not guessed; cohorts and export.

Edits are made with openpyxl, as a collator's Excel save would make them; tests/test_evidence_lo.py makes
them through LibreOffice.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.analysis.cohorts import AGE_BANDS, SMALL, age_band
from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.errors import CollectError
from auditbook.outputs.export import export, names
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec import load_spec, specs_dir
from auditbook.spec.layout import build_layout
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.returns import answers, make_return, spec, type_value

NOW = datetime(2026, 12, 7, 9, 30)
REGISTRY = SpecRegistry.of(spec())
runner = CliRunner()


def _returns(folder: Path) -> dict[str, dict[str, Any]]:
    """Three returns with two actions each (the third also an urgent concern), in two teams."""
    made = {}
    for i, scenario in ((1, "child_protection"), (2, "in_care_16_plus"), (3, "early_help")):
        a = answers(scenario, seed=40 + i, index=i, actions=2, urgent=i == 3)
        make_return(folder / f"SYN-000{i}.xlsx", a)
        made[f"SYN-000{i}"] = a
    return made


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("register") / "returns"
    return folder, _returns(folder)


@pytest.fixture
def folder(tmp_path: Path, built: tuple[Path, dict[str, dict[str, Any]]]) -> Iterator[Path]:
    dest = tmp_path / "returns"
    shutil.copytree(built[0], dest)
    yield dest


def run(folder: Path, **options: Any) -> Any:
    out = folder.parent / "out"
    return collect(folder, out=out / "master.xlsx", registry=REGISTRY, **{"now": NOW, **options})


def actions_tab(path: Path) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path)["Actions"]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def type_into(path: Path, tab: str, edits: dict[tuple[str, str], object], *, key: str = "Action ID") -> None:
    """Type values into a tab, by (row key, column header), and save, as a person would in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    head = [c.value for c in ws[1]]
    rows = {ws.cell(row=r, column=head.index(key) + 1).value: r for r in range(2, ws.max_row + 1)}
    for (row_key, column), value in edits.items():
        ws.cell(row=rows[row_key], column=head.index(column) + 1).value = value
    wb.save(path)


def test_status_typed_into_the_master_survives_the_next_collects(folder: Path) -> None:
    first = run(folder)
    rows = actions_tab(first.master)
    ids = [r["Action ID"] for r in rows]
    assert len(ids) == 7 and len(set(ids)) == 7  # 3 x 2 actions and one urgent concern
    target, other = ids[1], ids[2]
    type_into(first.master, "Actions", {(target, "Status"): "done", (target, "Notes"): "Checked in supervision",
                                        (target, "Date closed"): "20/12/2026", (other, "Status"): "In progress"})
    # A new return arrives: the master is rebuilt from the ledger, and the edits are in it.
    make_return(folder / "SYN-0004.xlsx", answers("child_protection", seed=44, index=4, actions=1))
    second = run(folder)
    assert second.evidence.readback.taken == 2
    rows = {r["Action ID"]: r for r in actions_tab(second.master)}
    assert len(rows) == 8
    assert (rows[target]["Status"], rows[target]["Notes"], rows[target]["Date closed"]) == (
        "Done", "Checked in supervision", datetime(2026, 12, 20))  # "done" as the list spells it
    assert rows[other]["Status"] == "In progress"
    # Nothing changed since: the master is left as it is, and a forced rebuild (a new threshold) keeps them.
    assert run(folder).evidence is None
    third = run(folder, threshold=0.5)
    rows = {r["Action ID"]: r for r in actions_tab(third.master)}
    assert (rows[target]["Status"], rows[other]["Status"]) == ("Done", "In progress")
    assert third.evidence.readback.taken == 0


def test_action_ids_are_stable_and_a_resent_return_keeps_its_statuses(folder: Path) -> None:
    first = run(folder)
    ids = [r["Action ID"] for r in actions_tab(first.master)]
    assert ids[0].startswith("SYN-0003-URGENT-")
    assert [i.split("-A")[0] for i in ids[1:]] == ["SYN-0001", "SYN-0001", "SYN-0002", "SYN-0002", "SYN-0003",
                                                   "SYN-0003"]
    type_into(first.master, "Actions", {(ids[1], "Status"): "Done"})
    # The same workbook saved again with an answer corrected: read again, the same ids, the status kept.
    type_value(folder / "SYN-0001.xlsx", "profile_worker", "Example Worker 6")
    again = run(folder)
    assert again.read == 1
    assert [r["Action ID"] for r in actions_tab(again.master)] == ids
    assert actions_tab(again.master)[1]["Status"] == "Done"


def test_a_managers_pack_edit_is_read_back_and_a_conflict_is_shown(folder: Path) -> None:
    packs = folder.parent / "packs"
    first = run(folder, packs=packs)
    assert len(first.packs) == 3
    ids = [r["Action ID"] for r in actions_tab(first.master)]
    one, two = ids[1], ids[2]
    pack = next(p for p in first.packs if one in {r["Action ID"] for r in actions_tab(p)})
    # The team manager says In progress for `one` and adds a note to `two`; the collator says Done for `one`.
    type_into(pack, "Actions", {(one, "Status"): "In progress", (two, "Notes"): "Discussed with worker"})
    type_into(first.master, "Actions", {(one, "Status"): "Done"})
    second = run(folder)  # no --packs: the packs folder is remembered
    assert (second.evidence.readback.taken, second.evidence.readback.conflicts) == (1, 1)
    rows = {r["Action ID"]: r for r in actions_tab(second.master)}
    assert rows[one]["Status"] is None  # neither edit is guessed
    assert rows[one]["Conflicting edits"] == (f"Changed differently: Status by the master and {pack.name}. Type the "
                                              "one to keep into the master.\n"
                                              f'Status: the master says "Done"; {pack.name} says "In progress".')
    assert rows[two]["Notes"] == "Discussed with worker"
    assert openpyxl.load_workbook(second.master)["Summary"]["A1"].value.endswith("master collation")
    # The packs written now show the conflict's first line only: who changed what, not what the master says.
    run(folder, packs=packs)
    in_pack = {r["Action ID"]: r for r in actions_tab(pack)}[one]["Conflicting edits"]
    assert in_pack == (f"Changed differently: Status by the master and {pack.name}. Type the one to keep into the "
                       "master.")
    # The collator settles it in the master: taken, the conflict cleared; the pack's old edit is not taken again.
    type_into(second.master, "Actions", {(one, "Status"): "In progress"})
    third = run(folder)
    rows = {r["Action ID"]: r for r in actions_tab(third.master)}
    assert (rows[one]["Status"], rows[one]["Conflicting edits"]) == ("In progress", None)
    # Packs written again carry the kept statuses.
    fourth = run(folder, packs=packs)
    assert {r["Action ID"]: r["Status"] for r in actions_tab(pack)}[one] == "In progress"
    assert fourth.packs


def test_overdue_is_worked_out_from_the_timescale_and_the_status(folder: Path) -> None:
    later = datetime(2027, 1, 20, 9, 30)  # past some actions' timescales
    result = run(folder, now=later)
    rows = actions_tab(result.master)
    late = [r for r in rows if r["Timescale"] is not None and r["Timescale"] < later]
    assert late, "some actions' timescales are in the past"
    # An urgent concern has no timescale: the day it was raised is not a deadline, so it is never overdue.
    assert [r["Timescale"] for r in rows if r["Priority"] == "Urgent"] == [None]
    evidence = result.evidence
    assert {a.id for a in evidence.overdue()} == {r["Action ID"] for r in late}
    type_into(result.master, "Actions", {(late[0]["Action ID"], "Status"): "Done"})
    again = run(folder, now=later)
    assert late[0]["Action ID"] not in {a.id for a in again.evidence.overdue()}


def test_sag_action_plan_is_kept_across_collects_and_rounds(folder: Path) -> None:
    first = run(folder)
    wb = openpyxl.load_workbook(first.master)
    ws = wb["SAG action plan"]
    assert [c.value for c in ws[1]][:8] == ["ID", "Theme", "Action", "Owner", "Due", "Status", "Linked themes",
                                             "Notes"]
    ws["B2"], ws["C2"], ws["D2"], ws["E2"], ws["F2"] = (
        "Child not seen alone", "Practice week on seeing children alone", "Head of Service", datetime(2027, 3, 31),
        "Not started")
    ws["C3"], ws["D3"] = "Audit the chronologies again", "Principal Social Worker"
    wb.save(first.master)
    second = run(folder)
    plan = openpyxl.load_workbook(second.master)["SAG action plan"]
    assert [tuple(r[:6]) for r in plan.iter_rows(min_row=2, max_row=3, values_only=True)] == [
        ("SAG-001", "Child not seen alone", "Practice week on seeing children alone", "Head of Service",
         datetime(2027, 3, 31), "Not started"),
        ("SAG-002", None, "Audit the chronologies again", "Principal Social Worker", None, None)]
    # A later round in the same ledger: the plan is still there, and an edit by ID is taken.
    type_into(second.master, "SAG action plan", {("SAG-002", "Status"): "In progress"}, key="ID")
    for f in folder.glob("*.xlsx"):
        f.unlink()
    make_return(folder / "SYN-0009.xlsx", answers("child_protection", seed=49, index=9, month="2027-03"))
    later = run(folder, round_name="2027 round 1")
    plan = openpyxl.load_workbook(later.master)["SAG action plan"]
    assert [r[:6] for r in plan.iter_rows(min_row=2, max_row=3, values_only=True)][1][5] == "In progress"
    assert [r[0] for r in plan.iter_rows(min_row=2, max_row=3, values_only=True)] == ["SAG-001", "SAG-002"]


def test_a_date_closed_that_is_not_a_date_is_named_and_left_out(folder: Path) -> None:
    first = run(folder)
    target = actions_tab(first.master)[1]["Action ID"]
    type_into(first.master, "Actions", {(target, "Date closed"): "last Tuesday", (target, "Status"): "Done"})
    second = run(folder)
    assert second.evidence.readback.problems == [
        "the master, Actions row 3: 'last Tuesday' is not a date (dd/mm/yyyy); left out. Type it again."]
    summary = [r[0] for r in openpyxl.load_workbook(second.master)["Summary"].iter_rows(values_only=True)]
    assert second.evidence.readback.problems[0] in summary
    assert {r["Action ID"]: r["Status"] for r in actions_tab(second.master)}[target] == "Done"


def test_a_master_that_cannot_be_read_back_is_not_overwritten(folder: Path) -> None:
    first = run(folder)
    first.master.write_bytes(b"PK\x03\x04 this is not a workbook any more")
    before = first.master.read_bytes()
    with pytest.raises(CollectError, match="what was typed into it cannot be read back"):
        run(folder, threshold=0.4)
    assert first.master.read_bytes() == before


# -- cohorts ---------------------------------------------------------------------------------------


def test_age_bands() -> None:
    assert [age_band(a) for a in (0, 1, 4, 5, 9, 10, 15, 16, 17)] == [
        "Under 1", "1 to 4", "1 to 4", "5 to 9", "5 to 9", "10 to 15", "10 to 15", "16 and over", "16 and over"]
    assert age_band(None) == ""
    assert AGE_BANDS[0][0] == "Under 1"


def _cohort_row(r: tuple[Any, ...]) -> bool:
    """A row of the Cohorts tab's table (its audits a count, or suppressed), not of the groups not audited."""
    return isinstance(r[2], int) or r[2] in (f"fewer than {SMALL}", "suppressed")


def test_cohorts_mark_small_groups_and_name_the_groups_not_audited(folder: Path,
                                                                   built: tuple[Path, dict[str, Any]]) -> None:
    result = run(folder)
    ws = openpyxl.load_workbook(result.master)["Cohorts"]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0] and _cohort_row(r)]
    filled = built[1].values()
    legal = {r[1]: r for r in rows if r[0] == "Legal status"}
    assert set(legal) == {a["profile_legal_status"] for a in filled}
    teams = {r[1]: r[2] for r in rows if r[0] == "Team"}
    # Three audits in all: every group is under the small-group size, so each is suppressed, its figures left out.
    assert len(teams) == len({a["profile_team"] for a in filled})
    assert all(r[2] == f"fewer than {SMALL}" and r[3:8] == (None,) * 5 and r[8] == f"Suppressed: fewer than {SMALL} "
               "audits" for r in rows)
    not_audited = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0] in ("Legal status", "Gender")
                   and r[1] and "," in str(r[1])}
    choices = spec().lists["legal_status"]
    assert not_audited["Legal status"].split(", ") == [c for c in choices if c not in legal]


# -- export ----------------------------------------------------------------------------------------


def test_export_csv_writes_every_tidy_table_with_a_classified_readme(folder: Path, tmp_path: Path) -> None:
    run(folder)
    to = tmp_path / "export"
    result = runner.invoke(app, ["export", str(folder), "--out", str(folder.parent / "out" / "master.xlsx"),
                                 "--to", str(to), "--for-excel"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in to.iterdir()) == sorted([*names("csv", for_excel=True), "README.txt"])
    readme = (to / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("OFFICIAL-SENSITIVE")
    assert "free text" in readme
    assert "Files (UTF-8 with a byte order mark, one header row, dates as YYYY-MM-DD):" in readme
    with (to / "answers.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["Case reference", "Round", "Team", "Section", "Field", "Question", "Answer", "Applies"]
    assert {r["Case reference"] for r in rows} == {"SYN-0001", "SYN-0002", "SYN-0003"}
    age = {r["Case reference"]: r["Answer"] for r in rows if r["Field"] == "profile_age"}
    with (to / "audits.csv").open(encoding="utf-8-sig", newline="") as fh:
        audits = list(csv.DictReader(fh))
    assert {a["Case reference"]: a["Age"] for a in audits} == age
    assert all(len(a["Due date"]) == 10 and a["Due date"][4] == "-" for a in audits)  # ISO dates
    with (to / "actions.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 7


def test_export_xlsx_has_excel_tables_and_is_marked(folder: Path, tmp_path: Path) -> None:
    run(folder)
    evidence = gather_folder(folder, out=folder.parent / "out" / "master.xlsx", registry=REGISTRY, now=NOW)
    written = export(evidence, tmp_path / "x", fmt="xlsx")
    book = written[0]
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["About", "Audits", "Answers", "Findings", "Actions", "Rejected", "Dictionary"]
    assert wb["About"]["A1"].value == "OFFICIAL-SENSITIVE"
    about = [r[0] for r in wb["About"].iter_rows(values_only=True) if r[0]]
    assert "One sheet and Excel Table per table (one header row, dates as dates):" in about
    readme = (tmp_path / "x" / "README.txt").read_text(encoding="utf-8")
    assert "byte order mark" not in readme and "  auditbook-export.xlsx" in readme
    assert wb.properties.category == "OFFICIAL-SENSITIVE"
    for name in wb.sheetnames[1:]:
        assert list(wb[name].tables) == [name]
        assert "OFFICIAL-SENSITIVE" in wb[name].oddHeader.center.text
    with pytest.raises(CollectError, match="unknown export format"):
        export(evidence, tmp_path / "y", fmt="parquet")


def test_report_and_export_need_a_collected_folder(tmp_path: Path) -> None:
    (tmp_path / "returns").mkdir()
    result = runner.invoke(app, ["report", str(tmp_path / "returns"), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "run `auditbook collect" in result.output


def test_ledger_tables_do_not_disturb_the_files_table(folder: Path) -> None:
    """The register's tables live beside the ledger's own: an older ledger gains them on the next run."""
    import sqlite3

    result = run(folder)
    ledger = result.ledger
    tables = {r[0] for r in sqlite3.connect(ledger).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"files", "meta", "rounds", "action_register", "action_seen", "sag_plan"} <= tables


def test_collect_says_how_many_edits_it_took(folder: Path) -> None:
    first = run(folder)
    target = actions_tab(first.master)[1]["Action ID"]
    type_into(first.master, "Actions", {(target, "Status"): "In progress", (target, "Date closed"): "soon"})
    result = runner.invoke(app, ["collect", str(folder), "--out", str(first.master)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert ("Action register: 1 edit taken from the master and packs, 0 conflicting (see Conflicting edits on "
            "the Actions tab)") in lines
    assert "    the master, Actions row 3: 'soon' is not a date (dd/mm/yyyy); left out. Type it again." in lines


def test_a_spec_without_the_childs_profile_roles_has_no_such_columns_or_cohorts(tmp_path: Path) -> None:
    """The supervision audit names no age, gender, ethnicity or legal status: no such column, cohort or gap."""
    supervision = load_spec(specs_dir() / "supervision_audit.yaml")
    lay = build_layout(supervision)
    folder = tmp_path / "returns"
    for index, scenario in ((201, "experienced"), (202, "newly_qualified")):
        build_workbook(supervision, out=folder / f"SYN-0{index}.xlsx",
                       prefill=synthetic_answers(lay, seed=index, scenario=scenario, index=index, actions=1))
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=SpecRegistry.of(supervision), now=NOW)
    assert result.summary_line() == ("2 files: 0 unchanged since last run, 2 read; "
                                     "master holds 2 audits; 0 rejected; 0 duplicate; 0 superseded")
    wb = openpyxl.load_workbook(result.master)
    header = [c.value for c in wb["Audits"][1]]
    assert [h for h in ("Age", "Age band", "Gender", "Ethnicity", "Legal status") if h in header] == []
    assert {"Case reference", "Team", "Overall grade"} <= set(header)
    cohorts = {r[0] for r in wb["Cohorts"].iter_rows(min_row=5, values_only=True) if r[0] and _cohort_row(r)}
    assert cohorts == {"Team"}
    summary = [r[:2] for r in wb["Summary"].iter_rows(values_only=True)]
    assert ("(none)", "every group the spec names had at least one audit") in summary
    grades = [c.value for c in wb["Grades"][4]]
    assert grades[2:5] == ["Strong", "Adequate", "Weak"]  # its own rating scale
