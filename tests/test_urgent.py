"""Urgent concerns are never lost (issue 15): a return's urgent concern is taken out before and apart from validation,
so a rejected, late, superseded or duplicate return still reports it, first, in collect's and validate's output, on
the master's first tab (Urgent concerns), in the round report's first section and in the team manager's pack. Each
is open until someone closes it in the master or a pack, and never overdue by the day it was raised."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from html import unescape
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.collection.collect import collect, gather_folder
from auditbook.outputs.report import render
from auditbook.problems import Problem
from auditbook.returns import validate as validate_module
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.store import reports
from auditbook.store.ledger import Ledger
from tests.returns import answers, make_return, spec

NOW = datetime(2027, 3, 1, 9, 30)  # months after every concern was raised: none of them is overdue for that
REGISTRY = SpecRegistry.of(spec())
runner = CliRunner()
#: What the concern in the rejected return was: free text about a child, never in collect's or validate's output.
WHAT = "Synthetic example: a bruise seen at a visit was not followed up."


def _rejected() -> dict[str, Any]:
    """SYN-0042: an urgent concern raised, and the case story left out, so the return is rejected."""
    a = answers("child_protection", seed=42, index=42, urgent=True, actions=1)
    return {**a, "profile_story": None, "overall_urgent_what": WHAT, "overall_urgent_when": date(2026, 11, 14)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("urgent") / "returns"
    make_return(folder / "SYN-0042.xlsx", _rejected())
    make_return(folder / "SYN-0001.xlsx", answers("child_protection", seed=1, index=1, actions=2))
    make_return(folder / "SYN-0003.xlsx", answers("early_help", seed=3, index=3, urgent=True, actions=1))
    shutil.copy(folder / "SYN-0003.xlsx", folder / "SYN-0003 - Copy.xlsx")
    return folder


@pytest.fixture
def folder(tmp_path: Path, built: Path) -> Path:
    shutil.copytree(built, tmp_path / "returns")
    return tmp_path / "returns"


def tab(path: Path, name: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path)[name]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def type_into(path: Path, name: str, case: str, edits: dict[str, object]) -> None:
    """Type into a row of a tab (found by its case reference) and save, as a person would in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb[name]
    head = [c.value for c in ws[1]]
    (row,) = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=head.index("Case reference") + 1).value
              == case]
    for column, value in edits.items():
        ws.cell(row=row, column=head.index(column) + 1).value = value
    wb.save(path)


def sections(html: str) -> list[tuple[str, str]]:
    """The report's sections in order: (heading, the text of the section), tags left out."""
    parts = re.findall(r"<section><h2>(.*?)</h2>(.*?)</section>", html, flags=re.S)
    return [(unescape(h), unescape(re.sub(r"<[^>]+>", " ", body))) for h, body in parts]


def test_an_urgent_concern_in_a_rejected_return_is_said_first_everywhere(folder: Path, tmp_path: Path) -> None:
    """The issue's done-when, from collect's output, the master and the report as written."""
    master = tmp_path / "out" / "master.xlsx"
    done = runner.invoke(app, ["collect", str(folder), "--out", str(master)])
    assert done.exit_code == 1, done.output  # a return was rejected
    lines = done.stdout.splitlines()
    # First, before the files not merged, oldest raised first: each open concern once (the exact copy of SYN-0003 is
    # not a second one).
    assert lines[0] == ("URGENT: SYN-0042, urgent concern raised 14/11/2026 with Line manager for the case, return "
                        'rejected: 1 error: Case profile!B31: "The case story" is required. Fill it in.')
    assert lines[1] == ("URGENT: SYN-0003, urgent concern raised 18/11/2026 with Line manager for the case, return "
                        "merged")
    assert not lines[2].startswith("URGENT")
    assert WHAT not in done.stdout and "Example Manager" not in lines[0]  # the case reference only
    # The master opens on the Urgent concerns tab, which lists both, the rejected return's with why.
    wb = openpyxl.load_workbook(master)
    assert (wb.sheetnames[0], wb.active.title) == ("Urgent concerns", "Urgent concerns")
    rows = {r["Case reference"]: r for r in tab(master, "Urgent concerns")}
    assert list(rows) == ["SYN-0042", "SYN-0003"]
    rejected = rows["SYN-0042"]
    assert (rejected["Raised"], rejected["Raised with"], rejected["What the concern was"], rejected["Status"]) == (
        datetime(2026, 11, 14), "Line manager for the case", WHAT, None)
    assert rejected["Return"].startswith("return rejected: 1 error: ")
    assert rejected["Source file"] == "SYN-0042.xlsx"
    assert rows["SYN-0003"]["Return"] == "return merged"
    assert rejected["Concern ID"].startswith("SYN-0042-URGENT-")
    # The Summary counts them all, not only the merged returns'.
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=4, max_col=2, values_only=True) if r[0]}
    assert (summary["Urgent concerns raised"], summary["Urgent concerns open"]) == (2, 2)
    # The report's first section lists them, the open ones flagged; the concern's words only with free text.
    report = tmp_path / "report.html"
    made = runner.invoke(app, ["report", str(folder), "--master", str(master), "--out", str(report)])
    assert made.exit_code == 0, made.output
    first, text = sections(report.read_text(encoding="utf-8"))[0]
    assert first == "Urgent concerns"
    assert "2 open" in text and "SYN-0042" in text and "14/11/2026" in text and WHAT in text
    assert "return rejected: 1 error" in text
    plain = tmp_path / "plain.html"
    assert runner.invoke(app, ["report", str(folder), "--master", str(master), "--out", str(plain),
                               "--no-text"]).exit_code == 0
    first, text = sections(plain.read_text(encoding="utf-8"))[0]
    assert first == "Urgent concerns" and "SYN-0042" in text and WHAT not in text


def test_an_urgent_concern_outlives_a_fault_in_the_checks(folder: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault in the checks after the concern was taken out makes the file an internal error; its concern is still
    reported, first, by validate and collect."""
    def boom(*_: object, **__: object) -> list[Problem]:
        raise RuntimeError("simulated")

    monkeypatch.setattr(validate_module, "check_rules", boom)
    report = validate_file(folder / "SYN-0042.xlsx", registry=REGISTRY)
    assert [p.code for p in report.problems] == ["internal-error"]
    assert report.urgent is not None and (report.urgent.case_ref, report.urgent.what) == ("SYN-0042", WHAT)
    result = collect(folder, out=tmp_path / "out" / "master.xlsx", registry=REGISTRY, now=NOW)
    # Every file's checks fault here: each is rejected, and each concern still said.
    assert [line.split(",")[0] for line in result.urgent_lines()] == ["URGENT: SYN-0042", "URGENT: SYN-0003"]
    assert all("return rejected" in line for line in result.urgent_lines())


def test_validate_says_the_urgent_concern_first(folder: Path) -> None:
    done = runner.invoke(app, ["validate", str(folder / "SYN-0001.xlsx"), str(folder / "SYN-0042.xlsx")])
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("URGENT: SYN-0042, urgent concern raised 14/11/2026 with Line manager for the case, "
                               "return rejected: 1 error: ")
    assert lines[1].endswith("SYN-0001.xlsx (case SYN-0001): valid")
    assert WHAT not in done.stdout
    # The report as data carries it too, whatever the verdict.
    report = validate_file(folder / "SYN-0042.xlsx", registry=REGISTRY)
    assert not report.valid and report.urgent is not None
    assert (report.urgent.case_ref, report.urgent.raised, report.urgent.what) == ("SYN-0042", date(2026, 11, 14), WHAT)
    assert validate_file(folder / "SYN-0001.xlsx", registry=REGISTRY).urgent is None


def test_a_concern_is_closed_in_the_master_and_never_overdue(folder: Path, tmp_path: Path) -> None:
    master = tmp_path / "out" / "master.xlsx"
    first = collect(folder, out=master, registry=REGISTRY, now=NOW)
    assert first.evidence is not None
    # Months after they were raised, neither concern is overdue, on the register nor in the Actions tab.
    assert [a for a in first.evidence.overdue() if a.urgent] == []
    urgent_rows = [r for r in tab(master, "Actions") if r["Priority"] == "Urgent"]
    assert [(r["Case reference"], r["Timescale"]) for r in urgent_rows] == [("SYN-0003", None)]
    type_into(master, "Urgent concerns", "SYN-0042", {"Status": "closed", "Notes": "Strategy discussion held."})
    second = collect(folder, out=master, registry=REGISTRY, now=NOW)
    assert second.evidence is not None and second.evidence.readback.taken == 1
    rows = {r["Case reference"]: r for r in tab(master, "Urgent concerns")}
    assert (rows["SYN-0042"]["Status"], rows["SYN-0042"]["Notes"]) == ("Closed", "Strategy discussion held.")
    assert rows["SYN-0003"]["Status"] is None
    assert [line.split(" (")[0].split(",")[0] for line in second.urgent_lines()] == [
        "URGENT: SYN-0003", "1 urgent concern closed"]
    # A collect that changes nothing still says them.
    third = collect(folder, out=master, registry=REGISTRY, now=NOW)
    assert third.evidence is None and third.urgent_lines() == second.urgent_lines()


def test_a_ledger_stored_by_the_previous_format_is_read_afresh(folder: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports stored before the format kept a return's urgent concern are read again, so none is missed."""
    master, ledger_path = tmp_path / "out" / "master.xlsx", tmp_path / "ledger.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(reports, "FORMAT", str(int(reports.FORMAT) - 1))
        collect(folder, out=master, ledger_path=ledger_path, registry=REGISTRY, now=NOW)
    ledger = Ledger(ledger_path, folder=str(folder.resolve()))
    for entry in ledger.entries().values():  # as the previous format stored them: no urgent concern beside
        old = json.loads(entry.report_json)
        del old["urgent"]
        text = json.dumps(old)
        ledger.db.execute("UPDATE files SET report = ?, mac = ? WHERE path = ?", (
            text, ledger.sign("file", entry.path, entry.sha256, text, entry.registry), entry.path))
    ledger.commit()
    ledger.close()
    again = collect(folder, out=master, ledger_path=ledger_path, registry=REGISTRY, now=NOW)
    assert again.read == again.files == 4
    assert [line.split(",")[0] for line in again.urgent_lines()] == ["URGENT: SYN-0042", "URGENT: SYN-0003"]


def test_a_managers_pack_lists_their_urgent_concerns_and_takes_their_status(folder: Path, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    master = tmp_path / "out" / "master.xlsx"
    result = collect(folder, out=master, registry=REGISTRY, now=NOW, packs=packs)
    manager = str(_rejected()["profile_team_manager"])
    (pack,) = [p for p in result.packs if "SYN-0042" in {r["Case reference"] for r in _rows(p, "Urgent concerns")}]
    wb = openpyxl.load_workbook(pack)
    assert wb.sheetnames[:2] == ["How to use this pack", "Urgent concerns"]
    guide = [r[0] for r in wb["How to use this pack"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert guide[0] == "Urgent concerns"
    assert wb["How to use this pack"]["A1"].value == f"Audits for {manager}"
    type_into(pack, "Urgent concerns", "SYN-0042", {"Status": "Closed"})
    again = collect(folder, out=master, registry=REGISTRY, now=NOW)
    assert again.evidence is not None and again.evidence.readback.taken == 1
    assert {r["Case reference"]: r["Status"] for r in tab(master, "Urgent concerns")}["SYN-0042"] == "Closed"


def _rows(path: Path, name: str) -> list[dict[str, Any]]:
    return tab(path, name) if name in openpyxl.load_workbook(path, read_only=True).sheetnames else []


def test_a_superseded_return_still_reports_its_concern(folder: Path, tmp_path: Path) -> None:
    """A later return for the case without the concern supersedes the first; the concern stays listed."""
    later = answers("early_help", seed=3, index=3, urgent=False, actions=1)
    completed = later["profile_date_completed"]
    assert isinstance(completed, date)
    later["profile_date_completed"] = completed.replace(day=min(completed.day + 1, 28))
    (folder / "SYN-0003 - Copy.xlsx").unlink()
    make_return(folder / "SYN-0003 v2.xlsx", later)
    result = collect(folder, out=tmp_path / "master.xlsx", registry=REGISTRY, now=NOW)
    assert ("SYN-0003.xlsx", "superseded") in [(n.file, n.status) for n in result.not_merged]
    rows = {r["Case reference"]: r for r in tab(result.master, "Urgent concerns")}
    assert rows["SYN-0003"]["Return"].startswith("return superseded: a later return for case SYN-0003")


def _table_after(html: str, heading: str) -> list[list[str]]:
    """The rows of the first table after a heading, each cell's text."""
    part = html.split(heading, 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [[unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", part, flags=re.S)]


def test_the_report_lists_actions_the_sag_can_follow(folder: Path, tmp_path: Path) -> None:
    """Actions with their wording, oldest overdue first; done, open and overdue by team and by round, each of its n;
    and every case the figures leave out, by reference and reason."""
    master = tmp_path / "master.xlsx"
    first = collect(folder, out=master, registry=REGISTRY, now=NOW)
    assert first.evidence is not None
    actions = [a for a in first.evidence.actions if not a.urgent]
    wb = openpyxl.load_workbook(master)
    ws = wb["Actions"]
    head = [c.value for c in ws[1]]
    done = actions[0]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == done.id)
    ws.cell(row=row, column=head.index("Status") + 1).value = "Done"
    wb.save(master)
    evidence = gather_folder(folder, out=master, registry=REGISTRY, now=NOW)
    html = render(evidence, include_text=True, generated_at=NOW)
    # Every action is past its timescale by NOW: the open ones first, oldest first, each with its wording.
    register = _table_after(html, "<h2>Action register</h2>")
    listed = [r[0] for r in register]
    open_ones = sorted((a for a in actions if a.id != done.id), key=lambda a: a.timescale or date.max)
    assert listed[:len(open_ones)] == [a.id for a in open_ones]
    assert all(a.text in [c for r in register for c in r] for a in actions)
    teams = sorted({a.team for a in actions})
    by_team = _table_after(html, "<h3>Actions by team</h3>")
    expected = []
    for team in teams:
        n = sum(1 for a in actions if a.team == team)
        d = 1 if done.team == team else 0
        left = f"{n - d} of {n} ({round(100 * (n - d) / n)}%)"  # open, and all of them overdue
        expected.append([team, str(n), f"{d} of {n} ({round(100 * d / n)}%)", left, left])
    assert by_team == expected
    (by_round,) = _table_after(html, "<h3>Actions by round</h3>")
    assert by_round[1:3] == [str(len(actions)), f"1 of {len(actions)} ({round(100 / len(actions))}%)"]
    # The rejected return is named with why; its first problem in full only with free text.
    missing = _table_after(html, "<h2>Cases not in these figures</h2>")
    assert [r[:4] for r in missing] == [["SYN-0042", "2026 round 3", "SYN-0042.xlsx", "return rejected: 1 error"]]
    assert missing[0][4] == 'Case profile!B31: "The case story" is required. Fill it in.'
    plain = render(evidence, generated_at=NOW)
    assert _table_after(plain, "<h2>Cases not in these figures</h2>")[0][4] == "Case profile!B31 (required-missing)"
    assert not any(a.text in plain for a in actions)
