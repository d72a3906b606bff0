"""Reading edits back from the master and the packs (review findings): pack edits taken by report or export
reach the next master; a copied SAG plan row or a repeated Action ID keeps both; a pack changes only its own
actions, an unreadable pack is that pack's problem, text is checked and capped; the packs folder is never read
as returns; --forget takes the file's actions out of the register; edits taken from a master in the returns
folder are warned about.

Edits are made with openpyxl, as an Excel save makes them. Everything is synthetic.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from auditbook.analysis.plan import PLAN_STATUSES
from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.store.readback import MAX_TEXT
from tests.test_register import NOW, REGISTRY, _returns, actions_tab, built, folder, run, type_into

__all__ = ["built", "folder"]  # the fixtures test_register makes
runner = CliRunner()


def _plan(path: Path) -> list[tuple[object, ...]]:
    ws = openpyxl.load_workbook(path)["SAG action plan"]
    # The rows of the plan's table, not the instructions printed under it.
    return [tuple(r[:6]) for r in ws.iter_rows(min_row=2, values_only=True) if any(r[:6])
            and not str(r[0]).startswith("A row is started")]


def _edit_plan(path: Path, rows: list[tuple[object, ...]]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["SAG action plan"]
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j).value = value
    wb.save(path)


def test_pack_edits_taken_by_the_report_reach_the_next_master(folder: Path) -> None:
    first = run(folder, packs=folder.parent / "packs")
    pack = first.packs[0]
    target = actions_tab(pack)[0]["Action ID"]
    type_into(pack, "Actions", {(target, "Status"): "Done"})
    evidence = gather_folder(folder, out=first.master, registry=REGISTRY, now=NOW)  # what `auditbook report` does
    assert evidence.states[target].status == "Done"
    again = run(folder)
    assert again.evidence is not None, "the master was left as it was, without the pack's edit"
    assert {r["Action ID"]: r["Status"] for r in actions_tab(again.master)}[target] == "Done"
    assert run(folder).evidence is None  # and then nothing is left to do


def test_a_copied_sag_plan_row_keeps_the_original(folder: Path) -> None:
    first = run(folder)
    _edit_plan(first.master, [(None, "Child not seen alone", "Audit seen-alone recording", "Head of Service")])
    second = run(folder)
    assert _plan(second.master) == [("SAG-001", "Child not seen alone", "Audit seen-alone recording",
                                     "Head of Service", None, None)]
    # The collator copies the row down (Excel copies its ID too) and changes the copy.
    _edit_plan(second.master, [("SAG-001", "Child not seen alone", "Audit seen-alone recording", "Head of Service"),
                               ("SAG-001", "Drift in plans", "Review plans at six weeks", "Principal Social Worker")])
    third = run(folder)
    assert _plan(third.master) == [
        ("SAG-001", "Child not seen alone", "Audit seen-alone recording", "Head of Service", None, None),
        ("SAG-002", "Drift in plans", "Review plans at six weeks", "Principal Social Worker", None, None)]


def test_a_repeated_action_id_with_different_edits_is_a_conflict(folder: Path) -> None:
    first = run(folder)
    rows = actions_tab(first.master)
    target = rows[1]["Action ID"]
    wb = openpyxl.load_workbook(first.master)
    ws = wb["Actions"]
    head = [c.value for c in ws[1]]
    copy = ws.max_row + 1
    for j, value in enumerate(ws[3], start=1):  # row 3 holds `target`: copied below the table
        ws.cell(row=copy, column=j).value = value.value
    ws.cell(row=3, column=head.index("Status") + 1).value = "Done"
    ws.cell(row=copy, column=head.index("Status") + 1).value = "Not needed"
    wb.save(first.master)
    second = run(folder)
    assert second.evidence.readback.conflicts == 1
    kept = {r["Action ID"]: r for r in actions_tab(second.master)}
    assert kept[target]["Status"] is None
    assert kept[target]["Conflicting edits"] == (
        f"Changed differently: Status by the master (Actions row 3) and the master (Actions row {copy}). "
        "Type the one to keep into the master.\n"
        f'Status: the master (Actions row 3) says "Done"; the master (Actions row {copy}) says "Not needed".')
    assert len(kept) == len(rows)


def test_a_pack_changes_only_its_own_actions(folder: Path) -> None:
    first = run(folder, packs=folder.parent / "packs")
    pack = first.packs[0]
    own = {r["Action ID"] for r in actions_tab(pack)}
    other = next(r["Action ID"] for r in actions_tab(first.master) if r["Action ID"] not in own)
    wb = openpyxl.load_workbook(pack)
    ws = wb["Actions"]
    head = [c.value for c in ws[1]]
    ws.cell(row=2, column=head.index("Action ID") + 1).value = other  # the row now claims someone else's action
    ws.cell(row=2, column=head.index("Status") + 1).value = "Done"
    wb.save(pack)
    second = run(folder)
    assert second.evidence.readback.taken == 0
    assert {r["Action ID"]: r["Status"] for r in actions_tab(second.master)}[other] is None
    assert second.evidence.readback.problems == [
        f"{pack.name}, Actions row 2: action ID {other} is not one of this pack's actions; what was typed against "
        "it is not taken. A team manager changes only their own actions: ask the collator to change others in the "
        "master."]


def test_an_unreadable_pack_is_that_packs_problem(folder: Path) -> None:
    first = run(folder, packs=folder.parent / "packs")
    broken, good = first.packs[0], first.packs[1]
    target = actions_tab(good)[0]["Action ID"]
    type_into(good, "Actions", {(target, "Status"): "In progress"})
    saved = broken.read_bytes()
    broken.write_bytes(b"PK\x03\x04 not a workbook any more")
    second = run(folder)
    assert {r["Action ID"]: r["Status"] for r in actions_tab(second.master)}[target] == "In progress"
    assert [p.split(":")[0] for p in second.evidence.readback.problems] == [broken.name]
    assert "it is read again on the next collect" in second.evidence.readback.problems[0]
    # Saved again by its team manager, with an edit: read on the next collect.
    broken.write_bytes(saved)
    mine = actions_tab(broken)[0]["Action ID"]
    type_into(broken, "Actions", {(mine, "Notes"): "Booked for supervision"})
    third = run(folder)
    assert {r["Action ID"]: r["Notes"] for r in actions_tab(third.master)}[mine] == "Booked for supervision"


def test_text_typed_back_is_checked_and_capped(folder: Path) -> None:
    first = run(folder)
    one, two = (r["Action ID"] for r in actions_tab(first.master)[1:3])
    type_into(first.master, "Actions", {(one, "Notes"): "_xFFFF_ see file", (two, "Notes"): "x" * (MAX_TEXT + 500)})
    second = run(folder)
    notes = {r["Action ID"]: r["Notes"] for r in actions_tab(second.master)}  # openpyxl reads the new master
    assert notes[one] == "\\uffff see file"
    assert notes[two] == "x" * MAX_TEXT
    assert [p.split(": ", 1)[1][:40] for p in second.evidence.readback.problems] == [
        "holds a character no workbook can store;", f"{MAX_TEXT + 500:,} characters, cut to the first {MAX_TEXT:,}"]
    assert run(folder, threshold=0.4).evidence is not None  # and the next collect reads it without a fault


def test_one_sag_status_list(folder: Path) -> None:
    first = run(folder)
    _edit_plan(first.master, [(None, "Drift in plans", "Review plans", "Head of Service", None, "withdrawn")])
    second = run(folder)
    assert _plan(second.master)[0][5] == "Withdrawn"
    ws = openpyxl.load_workbook(second.master)["SAG action plan"]
    assert [dv.formula1 for dv in ws.data_validations.dataValidation if "F" in str(dv.sqref)] == [
        '"' + ",".join(PLAN_STATUSES) + '"']


def test_the_packs_folder_is_never_read_as_returns(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    _returns(folder)
    packs = folder / "packs"  # inside the returns folder
    args = ["collect", str(folder), "--packs", str(packs)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(list(packs.glob("pack_*.xlsx"))) == 3
    plain = runner.invoke(app, ["collect", str(folder), "--threshold", "40"])  # no --packs: the ledger remembers
    assert plain.exit_code == 0, plain.output
    assert "pack_" not in plain.stdout


def test_forget_removes_the_files_actions_from_the_register(folder: Path) -> None:
    first = run(folder)
    rows = actions_tab(first.master)
    gone = [r["Action ID"] for r in rows if r["Case reference"] == "SYN-0001"]
    stays = next(r["Action ID"] for r in rows if r["Case reference"] == "SYN-0002")
    type_into(first.master, "Actions", {(gone[0], "Notes"): "Example note", (stays, "Notes"): "Kept"})
    run(folder)
    (folder / "SYN-0001.xlsx").unlink()
    forgot = run(folder, forget=(Path("SYN-0001.xlsx"),))
    assert forgot.forgotten == ["SYN-0001.xlsx"]
    db = sqlite3.connect(forgot.ledger)
    kept = {r[0] for r in db.execute("SELECT action_id FROM action_register")}
    seen = {r[0] for r in db.execute("SELECT action_id FROM action_seen")}
    db.close()
    assert not set(gone) & (kept | seen)
    assert stays in kept
    assert {r["Action ID"]: r["Notes"] for r in actions_tab(forgot.master)}[stays] == "Kept"


def test_edits_from_a_master_in_the_returns_folder_are_warned_about(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    _returns(folder)
    first = collect(folder, registry=REGISTRY, now=NOW)
    assert first.master.parent == folder
    target = actions_tab(first.master)[1]["Action ID"]
    type_into(first.master, "Actions", {(target, "Status"): "Done"})
    result = runner.invoke(app, ["collect", str(folder)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert ("Warning: 1 edit(s) to the action register were taken from the master in the returns folder "
            f"({first.master}), which anyone who saves returns there can change.") in text
    # A master kept elsewhere: no warning.
    elsewhere = tmp_path / "mine" / "master.xlsx"
    runner.invoke(app, ["collect", str(folder), "--out", str(elsewhere)])
    type_into(elsewhere, "Actions", {(target, "Notes"): "Checked"})
    quiet = runner.invoke(app, ["collect", str(folder), "--out", str(elsewhere)])
    assert quiet.exit_code == 0 and "returns folder" not in quiet.stdout


def test_a_pack_says_how_to_use_it_and_prompts_for_the_status(folder: Path) -> None:
    first = run(folder, packs=folder.parent / "packs")
    books = [openpyxl.load_workbook(p) for p in first.packs]
    # A pack with urgent concerns lists them after the guide (tests/test_urgent.py); this one has none.
    assert [b.sheetnames[1] for b in books].count("Urgent concerns") == 1
    wb = next(b for b in books if "Urgent concerns" not in b.sheetnames)
    assert wb.sheetnames == ["How to use this pack", "Findings", "Actions"]
    assert wb.active.title == "How to use this pack"
    guide = {r[0]: r[1] for r in wb["How to use this pack"].iter_rows(min_row=4, values_only=True) if r[0]}
    assert list(guide) == ["What this is", "Findings", "Actions: what to type", "Where to save it",
                           "What happens next"]
    assert "Status (pick from the list: Not started, In progress, Done, Not needed)" in guide["Actions: what to type"]
    assert f"up to {MAX_TEXT:,} characters" in guide["Actions: what to type"]
    assert "as an Excel workbook (.xlsx)" in guide["Where to save it"]
    (status,) = [dv for dv in wb["Actions"].data_validations.dataValidation if dv.promptTitle == "Status"]
    assert status.showInputMessage and status.prompt.startswith("Pick from the list: Not started, In progress")
