"""The figures the Self-Assessment Group acts on (issue 15), from the master and the report as written.

Two rounds of twelve audits with known counts: "Child not seen alone" in 5 of 12 audits of the first round
(recurring there, a first round though it is) and 1 of 12 of the second (better by 33 points, worked out from
the unrounded shares: not 42% - 8% = 34); 1b Assessment Inadequate with its question answered No in 4 of 12
of the second (recurring); one child of the second round the only one of their ethnicity (no bar, no share).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from auditbook.analysis.cohorts import suppress
from auditbook.analysis.themes import analyse
from auditbook.analysis.trends import TOO_FEW, RoundSummary, compare, points
from auditbook.collection.collect import CollectResult, collect
from auditbook.outputs.report import write_report
from auditbook.returns.provenance import SpecRegistry
from auditbook.workbook.writer import build_workbook
from tests.returns import spec
from tests.test_collect import INADEQUATE_ASSESSMENT, NOW, _settle, good_throughout

REGISTRY = SpecRegistry.of(spec())
FIRST, SECOND = "2026 round 1", "2026 round 2"
SEEN_ALONE = "Child not seen alone"
CURRENT = next(f.label for f in spec().section("assessment").fields if f.id == "assessment_current")
ASSESSMENT = spec().section("assessment").title


def _answers(index: int, round_name: str, **changes: Any) -> dict[str, Any]:
    """A return good throughout (`good_throughout`), in one team of two and of one ethnicity, then `changes`."""
    return _settle({**good_throughout(index, seed=300 + index), "profile_round": round_name,
                    "profile_team": "Team Alpha" if index % 2 else "Team Beta",
                    "profile_ethnicity": "White: British", "profile_gender": "Female", **changes})


def _build(folder: Path, round_name: str, first: int, changed: dict[int, dict[str, Any]]) -> None:
    for i in range(first, first + 12):
        build_workbook(spec(), out=folder / round_name / f"SYN-{i:04d}.xlsx",
                       prefill=_answers(i, round_name, **changed.get(i - first, {})))


def _collect(folder: Path, out: Path) -> CollectResult:
    return collect(folder, out=out / "master.xlsx", registry=REGISTRY, now=NOW, ledger_path=out / "ledger.sqlite3",
                   calendar=[FIRST, SECOND])


def _table(path: Path, tab: str) -> list[dict[str, Any]]:
    """A tidy tab's rows by its header (the note printed under the table left out)."""
    ws = openpyxl.load_workbook(path)[tab]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)
            if any(r[1:]) and not str(r[0] or "").startswith(("A row is started", FIRST, SECOND))]


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The first round collected alone (master and report), then the second beside it after the SAG typed an owner
    into the plan's row for the first round's recurring theme."""
    root = tmp_path_factory.mktemp("figures")
    folder, out = root / "returns", root / "out"
    _build(folder, FIRST, 1, {i: {"voice_theme_1": SEEN_ALONE} for i in range(5)})
    first = _collect(folder, out)
    assert first.evidence is not None and not first.rejected, first.summary_line()
    first_master = out / "first.xlsx"
    first_master.write_bytes(first.master.read_bytes())
    first_report = write_report(first.evidence, root / "first.html", generated_at=NOW).read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(first.master)
    ws = wb["SAG action plan"]
    assert ws["B2"].value == SEEN_ALONE
    ws["D2"] = "Example Head of Service"
    wb.save(first.master)
    inadequate = {**INADEQUATE_ASSESSMENT, "assessment_assessment_current": "No"}
    _build(folder, SECOND, 101, {0: {"voice_theme_1": SEEN_ALONE, **inadequate}, 1: inadequate, 2: inadequate,
                                 3: inadequate, 11: {"profile_ethnicity": "White: Irish"}})
    second = _collect(folder, out)
    assert second.evidence is not None and not second.rejected, second.summary_line()
    second_report = write_report(second.evidence, root / "second.html", generated_at=NOW).read_text(encoding="utf-8")
    return {"first": first_master, "first_report": first_report, "second": second.master,
            "second_report": second_report}


def _theme(rows: list[dict[str, Any]], item: str, section: str | None = None) -> dict[str, Any]:
    (row,) = [r for r in rows if r["Item"] == item and r["Scope"] == "All" and (section is None
                                                                                or r["Section"] == section)]
    return row


def test_a_theme_in_5_of_12_audits_of_a_first_round_recurs(rounds: dict[str, Any]) -> None:
    row = _theme(_table(rounds["first"], "Themes"), SEEN_ALONE)
    assert (row["Audits"], row["Out of"], row["Recurring"], row["Persistent"], row["First recurred in"]) == (
        5, 12, "Recurring", None, FIRST)
    assert (row["Previous round"], row["Change (points)"], row["Change"]) == (None, None, None)
    facts = {r[0]: r[1] for r in openpyxl.load_workbook(rounds["first"])["Summary"].iter_rows(values_only=True)}
    (label,) = [k for k in facts if str(k).startswith("Recurring themes this round")]
    assert facts[label] == 1
    assert "recurs in a round when it is in at least 3 audits of that round and in at least 30%" in label
    report = rounds["first_report"]
    concerns = _after(report, "Top concerns")
    assert re.search(rf"<td>{SEEN_ALONE}</td><td class=\"num\">5 of 12</td>.*?Recurring</span>", concerns)
    assert "recurring theme" in report and "0 recurring" not in report


def test_a_concern_that_falls_reads_as_better_by_33_points_not_34(rounds: dict[str, Any]) -> None:
    row = _theme(_table(rounds["second"], "Themes"), SEEN_ALONE)
    assert (row["Audits"], row["Out of"], row["Recurring"]) == (1, 12, None)
    assert row["Previous round"] == pytest.approx(5 / 12, abs=1e-4)
    assert (row["Change (points)"], row["Change"]) == (-33, "\u25bc better by 33 points")
    concerns = _after(rounds["second_report"], "Top concerns")
    line = re.search(rf"<tr><td>{SEEN_ALONE}</td>.*?</tr>", concerns)
    assert line is not None
    assert '<span class="better">\u25bc better by 33 points</span>' in line.group(0)
    assert "34" not in line.group(0)
    assert "42% of 12" in line.group(0)  # the previous round's share with its n


def test_a_rise_in_a_concern_reads_as_worse(rounds: dict[str, Any]) -> None:
    row = _theme(_table(rounds["second"], "Themes"), "Graded Requires improvement or Inadequate", ASSESSMENT)
    assert (row["Audits"], row["Out of"], row["Change (points)"], row["Change"]) == (
        4, 12, 33, "\u25b2 worse by 33 points")
    assert (row["Recurring"], row["Persistent"], row["First recurred in"]) == ("Recurring", None, SECOND)


def test_the_plan_has_a_row_per_recurring_theme_and_keeps_what_the_sag_typed(rounds: dict[str, Any]) -> None:
    first = _table(rounds["first"], "SAG action plan")
    assert [(r["ID"], r["Theme"], r["Figures this round"], r["First recurred in"]) for r in first] == [
        (None, SEEN_ALONE, "5 of 12 audits (42%)", FIRST)]
    second = _table(rounds["second"], "SAG action plan")
    assert [(r["ID"], r["Theme"], r["Owner"], r["Figures this round"], r["First recurred in"]) for r in second] == [
        ("SAG-001", SEEN_ALONE, "Example Head of Service", None, None),  # kept; no longer recurring
        (None, f"{ASSESSMENT} needing action", None, "4 of 12 audits (33%); \u25b2 worse by 33 points since the "
         "previous round", SECOND),
        (None, f"{ASSESSMENT}: {CURRENT}", None, "4 of 12 audits (33%); \u25b2 worse by 33 points since the previous "
         "round", SECOND)]
    ws = openpyxl.load_workbook(rounds["second"])["SAG action plan"]
    # The instructions print: they are inside the print area, under the table, not off to the side.
    area = ws.print_area if isinstance(ws.print_area, str) else ",".join(ws.print_area)
    last_row = int(re.findall(r"\$(\d+)", area)[-1])
    (note_row,) = [r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("A row is")]
    assert note_row <= last_row and "$J$" in area
    assert all(ws.cell(1, c).value for c in range(1, 11))
    report = _after(rounds["second_report"], "SAG action plan")
    assert f"<td>{ASSESSMENT} needing action</td><td>4 of 12 audits (33%)" in html.unescape(report)


def test_a_group_of_one_child_shows_no_bar_and_no_share(rounds: dict[str, Any]) -> None:
    rows = [r for r in openpyxl.load_workbook(rounds["second"])["Cohorts"].iter_rows(min_row=5, values_only=True)
            if r[0] == "Ethnicity" and r[2] is not None]  # not the groups not audited, further down
    assert [(r[1], r[2], r[3:8], r[8]) for r in rows] == [
        ("White: British", "suppressed", (None,) * 5, "Suppressed too, so that a smaller group cannot be worked out "
                                                      "from the total"),
        ("White: Irish", "fewer than 5", (None,) * 5, "Suppressed: fewer than 5 audits")]
    report = rounds["second_report"]
    chart = _after(report, "% good or better by ethnicity").split("</svg>")[0]
    assert "White: Irish" in chart and "fewer than 5" in chart
    assert 'class="bar"' not in chart and "%</text>" not in chart
    assert "Ethnicity: 1 group with fewer than 5 audits, and 1 more so that the total gives none away" in report
    teams = _after(report, "% good or better by team").split("</svg>")[0]
    assert teams.count('class="bar"') == 2 and "(n=6)" in teams  # teams of six are shown


def _after(page: str, heading: str) -> str:
    """The page from a heading on."""
    at = page.find(heading)
    assert at >= 0, heading
    return page[at:]


# -- the rules on their own ----------------------------------------------------------------------------------------


def test_changes_come_from_unrounded_shares_and_know_better_from_worse() -> None:
    assert points(1 / 12, 5 / 12) == -33  # 8% - 42% shown would say -34
    assert points(2 / 3, 1 / 2) == 17
    concern = compare(1 / 12, 12, 5 / 12, 12, min_audits=3, up_is_better=False)
    assert (concern.points, concern.better, concern.words()) == (-33, True, "\u25bc better by 33 points")
    good = compare(1 / 12, 12, 5 / 12, 12, min_audits=3, up_is_better=True)
    assert good.words() == "\u25bc worse by 33 points"
    assert compare(1.0, 3, 0.0, 2, min_audits=3, up_is_better=False).words() == TOO_FEW
    assert compare(0.5, 4, 0.5, 4, min_audits=3, up_is_better=True).words() == "no change"
    assert compare(0.5, 4, None, None, min_audits=3, up_is_better=True).words() == ""


def test_suppression_hides_one_more_group_where_a_total_would_give_one_away() -> None:
    assert suppress([11, 1], 5) == ["secondary", "small"]
    assert suppress([7, 6, 1], 5) == ["", "secondary", "small"]
    assert suppress([7, 2, 1], 5) == ["", "small", "small"]
    assert suppress([7, 6], 5) == ["", ""]
    assert suppress([1], 5) == ["small"]


def test_ranked_by_count_then_share_recurring_needs_min_audits_and_persistent_needs_the_round_before() -> None:
    def summary(name: str, tags: dict[str, int], audits: int) -> RoundSummary:
        return RoundSummary(name, audits=audits, themes=tags, kinds={t: "concern" for t in tags})

    one = summary(FIRST, {"Drift and delay": 4, "Chronology not up to date": 1}, 12)
    two = summary(SECOND, {"Drift and delay": 10, "Chronology not up to date": 3, "Recording not up to date": 1}, 12)
    ranked = analyse(two, [one], [], threshold=0.3, grades=(), needs_action=frozenset(), min_audits=3)
    assert [(r.item, r.count, r.recurring, r.persistent, r.first_seen) for r in ranked.concerns] == [
        ("Drift and delay", 10, True, True, FIRST),
        ("Chronology not up to date", 3, False, False, ""),  # 3 of 12 is 25%: under the threshold
        ("Recording not up to date", 1, False, False, "")]
    # 3 of 3 recurs (at min_audits); 1 of 3 does not, though a third is over the threshold.
    three = analyse(RoundSummary(SECOND, audits=3, themes={"Risk not fully assessed": 3, "Drift and delay": 1},
                                 kinds={"Risk not fully assessed": "concern", "Drift and delay": "concern"}),
                    [], [], threshold=0.3, grades=(), needs_action=frozenset(), min_audits=3)
    assert [(r.item, r.recurring) for r in three.concerns] == [("Risk not fully assessed", True),
                                                               ("Drift and delay", False)]
