"""Rounds are worked out once per return: however a round is spelt it is one round; export, report and collect
read the folder with the same options (the round calendar included); action ids do not carry a round; a
--round that matches nothing is a mistake said plainly; a round that contradicts the calendar is a warning.

Everything here is synthetic (SYN-... cases, "Example ..." people).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from auditbook.analysis.trends import percent
from auditbook.cli import app
from auditbook.collection.collect import Options, collect, default_paths, gather_folder
from auditbook.local import Round, RoundCalendar
from auditbook.returns.provenance import SpecRegistry
from auditbook.settings import example_settings
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.spec.roles import Role
from auditbook.store.history import History
from auditbook.store.ledger import Ledger
from auditbook.store.location import folder_identity
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook
from tests.test_register import actions_tab, type_into

NOW = datetime(2026, 12, 7, 9, 30)
CALENDAR = RoundCalendar((Round("round 1", (4, 5, 6, 7)), Round("round 2", (8, 9, 10, 11)),
                          Round("round 3", (12, 1, 2, 3))))


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def _returns(spec: Spec, layout: Layout, folder: Path, rounds: Sequence[str | None], month: str = "2026-11",
             actions: int = 0, overall: Sequence[str] = ()) -> None:
    """One return per round given (None: the return names no round), all for the same audit month; the overall
    grades given, in order, where there are any."""
    folder.mkdir(parents=True, exist_ok=True)
    round_input, grade_input = layout.role_input(Role.ROUND), layout.role_input(Role.OVERALL_GRADE)
    assert round_input is not None and grade_input is not None
    for i, name in enumerate(rounds, start=1):
        answers = synthetic_answers(layout, seed=i, index=i, month=month, actions=actions)
        if name is None:
            answers.pop(round_input.name, None)
        else:
            answers[round_input.name] = name
        if i <= len(overall):
            answers[grade_input.name] = overall[i - 1]
        build_workbook(spec, out=folder / f"SYN-{i:04d}.xlsx", prefill=answers)


def _stored_rounds(folder: Path) -> list[str]:
    ledger = Ledger(default_paths(folder, None, None)[1], folder=folder_identity(folder))
    try:
        return sorted(r.round for r in History(ledger).rounds())
    finally:
        ledger.close()


def test_two_spellings_of_a_round_are_one_round(tmp_path: Path, spec: Spec, layout: Layout) -> None:
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, ["2026 round 3", "2026 round 3", "2026  Round 3"])
    result = collect(folder, out=tmp_path / "m.xlsx", registry=SpecRegistry.of(spec), now=NOW)
    e = result.evidence
    assert e is not None and e.current is not None
    # One spelling everywhere (the one most returns use), and every audit counted in the round's figures.
    assert (e.current.round, e.current.audits, len(e.in_round)) == ("2026 round 3", 3, 3)
    assert {m["round"] for m in result.merged} == {"2026 round 3"}
    assert [r.round for r in e.rounds] == ["2026 round 3"]
    assert _stored_rounds(folder) == ["2026 round 3"]


def test_export_reads_the_folder_with_the_settings_round_calendar(tmp_path: Path, spec: Spec, layout: Layout,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """export used to pass no calendar: returns naming no round were stored under their audit month for good."""
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, [None, None], actions=1)
    (tmp_path / "auditbook.toml").write_text(example_settings(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    first = invoke("collect", folder)
    assert first.exit_code == 0, first.output
    master = folder / "auditbook-master.xlsx"
    before = {r["Action ID"]: r for r in actions_tab(master)}
    exported = invoke("export", folder, "--to", tmp_path / "tables")
    assert exported.exit_code == 0, exported.output
    assert _stored_rounds(folder) == ["2026 round 2"]  # not also "2026-11"
    again = invoke("collect", folder)
    assert again.exit_code == 0, again.output
    assert {r["Action ID"]: r["Round"] for r in actions_tab(master)} == {i: "2026 round 2" for i in before}


def test_options_are_shared_by_collect_and_gather_folder(tmp_path: Path, spec: Spec, layout: Layout) -> None:
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, [None])
    opts = Options(out=tmp_path / "m.xlsx", registry=SpecRegistry.of(spec), now=NOW, rounds=CALENDAR)
    assert collect(folder, opts).merged[0]["round"] == "2026 round 2"
    evidence = gather_folder(folder, opts)
    assert evidence.current is not None and evidence.current.round == "2026 round 2"
    # Keywords are the same Options' fields; a name that is not one of them is refused, not ignored.
    with pytest.raises(TypeError):
        gather_folder(folder, opts, calender=["2026 round 2"])
    assert [f.name for f in dataclasses.fields(Options)][:3] == ["out", "ledger_path", "round_name"]


def test_action_ids_do_not_depend_on_the_round_worked_out(tmp_path: Path, spec: Spec, layout: Layout) -> None:
    """A status typed against an action stays when the round calendar arrives (or changes) later."""
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, [None], actions=2)
    registry = SpecRegistry.of(spec)
    master = tmp_path / "m.xlsx"
    collect(folder, out=master, registry=registry, now=NOW)
    ids = [r["Action ID"] for r in actions_tab(master)]
    type_into(master, "Actions", {(ids[0], "Status"): "In progress"})
    later = collect(folder, out=master, registry=registry, now=NOW, rounds=CALENDAR)
    assert later.merged[0]["round"] == "2026 round 2"
    rows = actions_tab(master)
    assert [r["Action ID"] for r in rows] == ids
    assert (rows[0]["Status"], rows[0]["Round"]) == ("In progress", "2026 round 2")


@pytest.mark.parametrize("command", ["report", "export"])
def test_a_round_that_matches_no_audit_is_refused(tmp_path: Path, spec: Spec, layout: Layout,
                                                  command: str) -> None:
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, ["2026 round 2", "2026 round 3"])
    assert invoke("collect", folder).exit_code == 0
    out = ["--out", tmp_path / "r.html"] if command == "report" else ["--to", tmp_path / "tables"]
    result = invoke(command, folder, "--round", "2026 round 9", *out)
    assert result.exit_code == 2, result.output
    assert 'no audits in round "2026 round 9"; rounds seen: 2026 round 2, 2026 round 3.' in " ".join(
        result.stderr.split())
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "tables").exists()
    # Spelt another way, a round that is there is found.
    assert invoke(command, folder, "--round", "2026 ROUND 3", *out).exit_code == 0


def test_collect_refuses_an_unknown_round_but_takes_an_allocated_one(tmp_path: Path, spec: Spec,
                                                                     layout: Layout) -> None:
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, ["2026 round 2"])
    result = invoke("collect", folder, "--round", "2026 round 3")
    assert result.exit_code == 2 and "rounds seen: 2026 round 2." in " ".join(result.stderr.split())
    assert not (folder / "auditbook-master.xlsx").exists()
    # A round nothing has come back for yet is fine when cases are allocated in it (the Returns tab tracks them).
    allocation = tmp_path / "allocation.csv"
    allocation.write_text("Case reference,Team,Auditor,Audit month,Round\nSYN-0042,Team Alpha,Example Auditor,"
                          "2026-12,2026 round 3\n", encoding="utf-8")
    ok = invoke("collect", folder, "--round", "2026 round 3", "--allocation", allocation)
    assert ok.exit_code == 0, ok.output
    assert "1 outstanding" in ok.stdout


def test_a_round_that_contradicts_the_calendar_is_a_warning(tmp_path: Path, spec: Spec, layout: Layout) -> None:
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, ["2026 round 3", "2026 round 2", None])  # November is in round 2
    result = collect(folder, out=tmp_path / "m.xlsx", registry=SpecRegistry.of(spec), now=NOW, rounds=CALENDAR)
    warned = {m["file"]: [w["message"] for w in m["warnings"] if w["code"] == "round-not-in-calendar"]
              for m in result.merged}
    assert warned == {"SYN-0001.xlsx": ['the return names the round "2026 round 3", but the round calendar puts its '
                                        'audit month 2026-11 in "2026 round 2"; it is counted in "2026 round 3". '
                                        "Check the round (or the audit month) with the auditor, or the calendar in "
                                        "auditbook.toml."],
                      "SYN-0002.xlsx": [], "SYN-0003.xlsx": []}
    assert sorted(m["round"] for m in result.merged) == ["2026 round 2", "2026 round 2", "2026 round 3"]


def test_the_ledger_history_is_keyed_by_one_spelling(tmp_path: Path, spec: Spec, layout: Layout) -> None:
    folder = tmp_path / "returns"
    _returns(spec, layout, folder, ["2026 Round 3", "2026 round 3", "2026 Round 3"])
    collect(folder, out=tmp_path / "m.xlsx", registry=SpecRegistry.of(spec), now=NOW)
    with sqlite3.connect(default_paths(folder, None, None)[1]) as db:
        assert [r[0] for r in db.execute("SELECT round_key FROM rounds")] == ["2026 round 3"]
    assert _stored_rounds(folder) == ["2026 Round 3"]


def test_share_by_section_against_the_previous_round_is_worked_out_once(tmp_path: Path, spec: Spec,
                                                                        layout: Layout) -> None:
    """Evidence.by_scope is what the master's Grades tab and the round report show (review D9)."""
    folder = tmp_path / "returns"
    # Overall 1 of 2 good or better (50%), then 2 of 3 (67%): a change of 17 percentage points.
    _returns(spec, layout, folder, ["2026 round 2", "2026 round 2", "2026 round 3", "2026 round 3", "2026 round 3"],
             actions=2, overall=["Good", "Requires improvement", "Good", "Outstanding", "Requires improvement"])
    # Two audits behind the earlier round: compared only when min_audits allows it (the default 3 says "too few").
    result = collect(folder, out=tmp_path / "m.xlsx", registry=SpecRegistry.of(spec), now=NOW, min_audits=2)
    assert not result.rejected, result.summary_line()
    e = result.evidence
    assert e is not None and e.current is not None and e.previous is not None
    good = e.collation.good_or_better
    by_round: dict[str, list[str]] = {}
    for m in e.collation.merged:
        by_round.setdefault(m.round, []).append(m.audit.text(Role.OVERALL_GRADE))
    overall = e.by_scope()[0]
    now, then = by_round["2026 round 3"], by_round["2026 round 2"]
    assert (overall.scope, overall.graded) == ("Overall", 3)
    assert overall.share == sum(g in good for g in now) / 3
    assert overall.before == sum(g in good for g in then) / 2
    assert (overall.share, overall.before, overall.change) == (pytest.approx(2 / 3), 0.5, 17)
    assert overall.change == percent(overall.share) - percent(overall.before)
    # The Grades tab is those figures, row for row.
    ws = openpyxl.load_workbook(tmp_path / "m.xlsx")["Grades"]
    head = [c.value for c in ws[4]]
    rows = [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=5, values_only=True) if r[0]]
    assert [(r["Section"], r["Audits graded"]) for r in rows] == [(s.scope, s.graded) for s in e.by_scope()]
    assert [r["% Good or better"] for r in rows] == [round(s.share, 4) for s in e.by_scope() if s.share is not None]
    assert [r["Change (points)"] for r in rows] == [s.change for s in e.by_scope()]
    assert rows[0]["Change (points)"] == 17
