"""Collect a returns folder into the master workbook (issue 4): every tab's rows, themes, the ledger, safe writing.

Returns are built once per module by the writer from synthetic answers (about 0.3 s each) and copied into each
test's folder; the expected rows of every tab are worked out from the answers each return was filled with, so a
test names the answers, not the cells. Files that are not returns come from tests/returns.py.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

import auditbook.outputs.master
from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.collection.result import CollectResult, collect_json
from auditbook.errors import CollectError
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec.logic import holds
from auditbook.spec.metadata import Metadata, new_metadata
from auditbook.store.ledger import Ledger
from auditbook.workbook.writer import build_workbook
from tests.returns import (
    Answers,
    answers,
    csv_bytes,
    due_of,
    encrypted_bytes,
    layout,
    legacy_xls_bytes,
    spec,
    where,
)

TABS = ["Urgent concerns", "Summary", "Audits", "Cases", "Grades", "Cohorts", "Trends", "Themes", "Actions",
        "SAG action plan", "Findings", "Answers", "Rejected", "Dictionary", "Lists"]
#: The tabs that are Excel Tables of the same name (the SAG action plan's table is SAGPlan).
TABLES = ["Audits", "Cases", "Themes", "Actions", "Findings", "Answers", "Rejected", "Dictionary"]
NOW = datetime(2026, 12, 7, 9, 30)
REGISTRY = SpecRegistry.of(spec())
JUDGED = [s for s in spec().sections if s.kind == "judged"]
TITLE = {s.id: s.title for s in JUDGED}
#: The case profile answer that makes each conditional section apply (the others always apply).
GATES = {"early_help": "profile_had_early_help", "cin": "profile_had_cin", "child_protection": "profile_had_cp",
         "independence": "profile_independent_living"}
QUESTIONS = {(s.id, f.id) for s in spec().sections for f in s.fields if f.type == "question"}
GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate")
ROUND = "2026 round 3"
REUSED = "11111111-2222-4333-8444-555555555555"
SYN_TEXT = "Synthetic example text for testing."
HYPERLINK = '=HYPERLINK("http://example.invalid","click")'
DDE = "=cmd|' /C calc'!A0"
runner = CliRunner()


# -- the returns, built once per module ------------------------------------------------------------


def _care() -> Answers:
    return answers("in_care_16_plus", seed=2, index=2, late=True, actions=1)


def _eh() -> Answers:
    return answers("early_help", seed=3, index=3, urgent=True, actions=1)


def _recipes() -> dict[str, Callable[[], tuple[Answers, Metadata | None]]]:
    def care_draft() -> Answers:
        a = _care()
        due = due_of(a)
        assert isinstance(due, date)
        a["profile_date_completed"] = due - timedelta(days=10)
        return a

    def eh_changed() -> Answers:
        a = _eh()
        a["overall_overall_grade"] = GRADES[(GRADES.index(str(a["overall_overall_grade"])) + 1) % 4]
        a["profile_worker"] = "Example Worker 9"
        return a

    def goodish() -> Answers:
        return {**answers("child_protection", seed=4, index=4), "assessment_grade": "Goodish"}

    def formula() -> Answers:
        a = answers("child_protection", seed=20, index=20, urgent=True, actions=2)
        a.pop("actions_r01_responsible", None)  # so the team manager is named as responsible
        return {**a, "profile_team": HYPERLINK, "profile_team_manager": DDE, "profile_worker": "@SUM(1+1)",
                "profile_auditor": "00123", "actions_r01_action": "=1+1", "actions_r02_action": "+44 20 7946 0000",
                "assessment_working_well": HYPERLINK}

    reused = new_metadata(spec(), instance_id=REUSED)
    return {
        "cp": lambda: (answers("child_protection", seed=1, index=1, actions=2), None),
        "care": lambda: (_care(), None),
        "care_draft": lambda: (care_draft(), None),
        "eh": lambda: (_eh(), None),
        "eh_changed": lambda: (eh_changed(), None),
        "goodish": lambda: (goodish(), None),
        "reused_a": lambda: (answers("child_in_need", seed=5, index=5), reused),
        "reused_b": lambda: (answers("child_protection", seed=6, index=6), reused),
        "formula": lambda: (formula(), None),
        **{f"theme{i}": functools.partial(_themed, i) for i in range(1, 5)},
        **{f"theme{i}_next": functools.partial(_themed, i, NEXT_ROUND) for i in range(1, 4)},
    }


class Library:
    """Returns built on first use and kept for the module; tests copy them into their own folders."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.recipes = _recipes()
        self.filled: dict[str, Answers] = {}

    def path(self, key: str) -> Path:
        """The built return (built now if this is the first time it is asked for)."""
        path = self.root / f"{key}.xlsx"
        if key not in self.filled:
            filled, meta = self.recipes[key]()
            build_workbook(spec(), out=path, prefill=filled, meta=meta)
            self.filled[key] = filled
        return path

    def answers(self, key: str) -> Answers:
        """What the return was filled with."""
        self.path(key)
        return self.filled[key]

    def put(self, folder: Path, key: str, rel: str) -> Path:
        """Copy a return into a folder under a relative path."""
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(key), dest)
        return dest


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return Library(tmp_path_factory.mktemp("library"))


def _settle(filled: Answers) -> Answers:
    """Drop answers whose condition no longer holds and fill follow-ups that now apply (as synthetic does)."""
    by_ref: dict[str, object] = {}
    out: Answers = {}
    for sl in layout().sections:
        if sl.section.kind == "table":
            out.update({i.name: filled[i.name] for i in sl.inputs if i.name in filled})
            continue
        answered = any(i.name in filled for i in sl.inputs)
        for inp in sl.inputs:
            if not (holds(sl.section.applies_when, by_ref) and holds(inp.condition, by_ref)):
                continue
            value = filled.get(inp.name)
            if value is None and inp.required and answered:
                value = ("Yes" if "Yes" in inp.choices else inp.choices[0]) if inp.choices else SYN_TEXT
            if value is not None:
                out[inp.name] = value
                by_ref[inp.ref] = value.isoformat() if isinstance(value, date) else str(value)
    return out


#: Theme tags, grades and No answers of the four themed returns (cases SYN-0001..4: teams Beta, Gamma, Alpha, Beta).
#: What an Inadequate assessment calls for under the spec's rules: an action from it, an overall grade below Good.
INADEQUATE_ASSESSMENT: Answers = {
    "assessment_grade": "Inadequate", "overall_overall_grade": "Requires improvement",
    "actions_r01_action": "Update the single assessment.", "actions_r01_section": "1b Assessment",
    "actions_r01_timescale": date(2027, 1, 29)}
THEMED: dict[int, Answers] = {
    1: {"voice_theme_1": "Child not seen alone", **INADEQUATE_ASSESSMENT, "assessment_assessment_current": "No"},
    2: {"voice_theme_1": "Child not seen alone", **INADEQUATE_ASSESSMENT,
        "assessment_assessment_current": "No", "voice_wishes_recorded": "No"},
    3: {**INADEQUATE_ASSESSMENT, "assessment_assessment_current": "No"},
    # Tagged in two sections of one audit: one audit carries it.
    4: {"plans_theme_1": "Drift and delay", "oversight_theme_2": "Drift and delay"},
}


NEXT_ROUND = "2027 round 1"


def good_throughout(index: int, seed: int) -> Answers:
    """A child protection return graded Good throughout, with no theme tags and every practice question Yes."""
    a = answers("child_protection", seed=seed, index=index, actions=0)
    for name in list(a):
        inp = layout().by_name[name]
        if inp.field.startswith("theme_"):
            del a[name]
        elif inp.field == "grade":
            a[name] = "Good"
        elif (inp.section, inp.field) in QUESTIONS and a[name] in ("No", "Partly"):
            a[name] = "Yes"
    return a


def _themed(index: int, round_name: str = ROUND) -> tuple[Answers, None]:
    """A return good throughout (`good_throughout`), then THEMED[index] (in another round when asked)."""
    return _settle({**good_throughout(index, seed=100 + index), **THEMED[index], "profile_round": round_name}), None


# -- the main folder -------------------------------------------------------------------------------

#: The valid returns of the mixed folder, where they are, and the warnings each carries.
MERGED = [("cp", "team-beta/SYN-0001.xlsx", 0), ("care", "team-gamma/SYN-0002.xlsx", 1),
          ("eh", "team-alpha/SYN-0003.xlsx", 0), ("reused_a", "reused/SYN-0005.xlsx", 1),
          ("reused_b", "reused/SYN-0006.xlsx", 1)]


def mixed_folder(folder: Path, library: Library) -> Path:
    """Valid returns of every scenario in team folders, and everything else a shared folder collects."""
    for key, rel, _ in MERGED:
        library.put(folder, key, rel)
    library.put(folder, "cp", "team-beta/sent again/SYN-0001.xlsx")  # the same file copied twice
    library.put(folder, "care_draft", "team-gamma/SYN-0002 first draft.xlsx")  # completed earlier
    library.put(folder, "goodish", "SYN-0004 goodish.xlsx")
    (folder / "SYN-0007.xlsx").write_bytes(csv_bytes())
    (folder / "SYN-0008 protected.xlsx").write_bytes(encrypted_bytes())
    (folder / "SYN-0009.xls").write_bytes(legacy_xls_bytes())
    (folder / "team-beta" / "~$SYN-0001.xlsx").write_bytes(b"\x00" * 165)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return folder


def run(folder: Path, out: Path, **options: Any) -> CollectResult:
    """Collect a folder into out/master.xlsx (ledger beside it) at a fixed time, with the bundled spec only."""
    return collect(folder, out=out / "master.xlsx", registry=REGISTRY,
                   **{"now": NOW, "ledger_path": out / "ledger.sqlite3", **options})


# -- reading the master back -----------------------------------------------------------------------


def load(path: Path) -> Workbook:
    return openpyxl.load_workbook(path)


def header(ws: Worksheet) -> list[Any]:
    """The header row, up to its first empty cell (the Themes tab has a note beyond it)."""
    values = [c.value for c in ws[1]]
    return values[:values.index(None)] if None in values else values


def body(ws: Worksheet, width: int | None = None) -> list[tuple[Any, ...]]:
    """The rows under the header, as values, `width` columns wide (default: the header's)."""
    n = width or len(header(ws))
    return [tuple(r) for r in ws.iter_rows(min_row=2, max_col=n, values_only=True)]


def dt(d: object) -> datetime:
    assert isinstance(d, date)
    return datetime.combine(d, time())


def applies(a: Answers, section: str) -> bool:
    gate = GATES.get(section)
    return gate is None or a.get(gate) == "Yes"


AUDIT_HEADER = [
    "Case reference", "Round", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month", "Due date",
    "Completed", "Age", "Age band", "Gender", "Ethnicity", "Legal status", "Late", "Overall grade",
    *[s.title for s in JUDGED], "Record reflects practice", "Feedback to team manager", "Feedback to practitioner",
    "Urgent concern", "Source file", "Source file missing", "Spec version", "Warnings"]
#: Where the Audits tab puts the allocated worker and the overall grade.
WORKER, OVERALL = AUDIT_HEADER.index("Allocated worker"), AUDIT_HEADER.index("Overall grade")


def band(age: object) -> str:
    assert isinstance(age, int)
    return next(b for b, lo, hi in (("Under 1", 0, 0), ("1 to 4", 1, 4), ("5 to 9", 5, 9), ("10 to 15", 10, 15),
                                    ("16 and over", 16, 99)) if lo <= age <= hi)


def audit_row(rel: str, a: Answers, *, warnings: int = 0, missing: bool = False) -> tuple[Any, ...]:
    """The Audits row a return filled with these answers gives."""
    due, done = due_of(a), a["profile_date_completed"]
    grades = [a.get(f"{s.id}_grade") if applies(a, s.id) else "n/a" for s in JUDGED]
    fed = [a.get(f"overall_feedback_{who}") for who in ("team_manager", "practitioner")]
    return (a["profile_case_ref"], a["profile_round"], a["profile_team"], a["profile_worker"],
            a["profile_team_manager"], a["profile_auditor"], a["profile_audit_month"], dt(due), dt(done),
            a["profile_age"], band(a["profile_age"]), a["profile_gender"], a["profile_ethnicity"],
            a["profile_legal_status"], "Yes" if done > due else "No",  # type: ignore[operator]
            a["overall_overall_grade"], *grades, a.get("overall_record_reflects_practice"),
            *[dt(d) if d else None for d in fed], a["overall_urgent_concern"], rel, "Yes" if missing else None,
            spec().version, warnings)


def finding_rows(a: Answers) -> list[tuple[Any, ...]]:
    """The Findings rows: one per applicable section, then the overall judgement."""
    rows = []
    who = (a["profile_case_ref"], ROUND, a["profile_team"], a["profile_worker"])
    for s in JUDGED:
        if applies(a, s.id):
            themes = [str(a[k]) for i in (1, 2, 3) if (k := f"{s.id}_theme_{i}") in a]
            rows.append((*who, s.title, a.get(f"{s.id}_grade"), "; ".join(themes) or None,
                         a.get(f"{s.id}_working_well"), a.get(f"{s.id}_to_improve"), None))
    rows.append((*who, "Overall judgement", a["overall_overall_grade"], None, None, None, a.get("overall_impact")))
    return rows


def urgent_row(rel: str, a: Answers) -> tuple[Any, ...]:
    """The Actions row of an urgent concern (its Action ID and Overdue columns left out)."""
    when = a["overall_urgent_when"]
    assert isinstance(when, date)
    return (a["profile_case_ref"], ROUND, a["profile_team"], "URGENT concern raised during the audit",
            f"Raised on {when:%d/%m/%Y} with {a['overall_urgent_with_whom']}: check it has been acted on.",
            a["profile_team_manager"], None, "Urgent", None, None, None, None, None, rel)


def action_rows(rel: str, a: Answers) -> list[tuple[Any, ...]]:
    """The Actions rows of a return's actions table (Action ID and Overdue columns left out)."""
    rows = []
    for r in range(1, 16):
        k = f"actions_r{r:02d}_"
        if k + "action" in a:
            rows.append((a["profile_case_ref"], ROUND, a["profile_team"], a.get(k + "section"), a[k + "action"],
                         a.get(k + "responsible") or a["profile_team_manager"], dt(a[k + "timescale"]),
                         a.get(k + "priority"), a.get(k + "agreed"), None, None, None, None, rel))
    return rows


def without_overdue(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Actions rows without their Action ID and Overdue columns."""
    return [r[1:13] + r[14:] for r in rows]


def summary_facts(ws: Worksheet) -> dict[str, Any]:
    return {r[0]: r[1] for r in ws.iter_rows(min_row=4, max_col=2, values_only=True) if r[0]}


def fingerprint(path: Path) -> tuple[str, int]:
    """The file's SHA-256 and modification time: both the same when it was not written again."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def cells(wb: Workbook, *, skip_collected_line: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every value of every tab (the Summary's "Collected <time>" line left out)."""
    out = {}
    for ws in wb:
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        if skip_collected_line and ws.title == "Summary":
            rows = [r for r in rows if not str(r[0] or "").startswith("Collected ")]
        out[ws.title] = rows
    return out


# -- 1. a mixed folder -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, library: Library) -> tuple[Path, CollectResult]:
    folder = mixed_folder(tmp_path_factory.mktemp("mixed") / "returns", library)
    return folder, run(folder, folder.parent / "out")


def test_mixed_folder_outcome(mixed: tuple[Path, CollectResult]) -> None:
    _, result = mixed
    assert result.summary_line() == ("13 files: 0 unchanged since last run, 11 read, 2 skipped; "
                                     "master holds 5 audits; 4 rejected; 1 duplicate; 1 superseded")
    assert (result.files, result.read, result.unchanged) == (13, 11, 0)  # lock and hidden files are not read
    assert [(m["file"], m["case_ref"], m["source_missing"]) for m in result.merged] == [
        (rel, f"SYN-000{rel[-6]}", False) for _, rel, _ in MERGED]
    assert sorted((n.status, n.file) for n in result.not_merged) == [
        ("duplicate", "team-beta/sent again/SYN-0001.xlsx"),
        ("rejected", "SYN-0004 goodish.xlsx"), ("rejected", "SYN-0007.xlsx"),
        ("rejected", "SYN-0008 protected.xlsx"), ("rejected", "SYN-0009.xls"),
        ("skipped", ".DS_Store"), ("skipped", "team-beta/~$SYN-0001.xlsx"),
        ("superseded", "team-gamma/SYN-0002 first draft.xlsx")]


def test_mixed_folder_reused_template_warns_on_both(mixed: tuple[Path, CollectResult]) -> None:
    _, result = mixed
    warnings = {m["case_ref"]: [(w["code"], w["severity"]) for w in m["warnings"]] for m in result.merged}
    assert warnings == {"SYN-0001": [], "SYN-0002": [("late", "warning")], "SYN-0003": [],
                        "SYN-0005": [("template-reused", "warning")], "SYN-0006": [("template-reused", "warning")]}
    messages = {m["case_ref"]: m["warnings"][0]["message"] for m in result.merged if m["warnings"]}
    assert "case SYN-0006" in messages["SYN-0005"]
    assert "case SYN-0005" in messages["SYN-0006"]


def test_every_master_cell_carries_its_reference_and_the_string_count_is_exact(
        mixed: tuple[Path, CollectResult]) -> None:
    # Excel, LibreOffice and openpyxl place a cell without a reference by its order, but some readers
    # (ClosedXML, EPPlus, older calamine) refuse it: every cell says where it is, as Excel writes them.
    with zipfile.ZipFile(mixed[1].master) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        strings = zf.read("xl/sharedStrings.xml").decode()
    cells = [c for xml in sheets for c in re.findall(r"<c\b[^>]*?/?>", xml)]
    assert len(cells) > 1000
    assert [c for c in cells if ' r="' not in c] == []
    declared = int(re.search(r'<sst [^>]*\bcount="(\d+)"', strings).group(1))  # type: ignore[union-attr]
    assert declared == sum(1 for c in cells if ' t="s"' in c)


def test_mixed_folder_master_tabs(mixed: tuple[Path, CollectResult]) -> None:
    _, result = mixed
    wb = load(result.master)
    assert wb.sheetnames == TABS
    assert wb["Lists"].sheet_state == "hidden"
    for name in TABLES:
        ws = wb[name]
        n_rows = len(body(ws))
        last = openpyxl.utils.get_column_letter(len(header(ws)))
        # A real Excel Table, named after the tab, over the header and every row: Power Query reads it by name.
        assert {k: v for k, v in ws.tables.items()} == {name: f"A1:{last}{max(n_rows, 1) + 1}"}, name
        assert ws.freeze_panes == "A2", name
        assert ws.print_title_rows == "$1:$1", name
        assert all(c.font.bold for c in ws[1] if c.value is not None), name
        assert ws.column_dimensions["A"].width >= 9, name
    for ws in wb:
        if ws.sheet_state == "visible":
            assert (ws.page_setup.orientation, ws.page_setup.paperSize) == ("landscape", 9), ws.title
            assert "OFFICIAL-SENSITIVE" in ws.oddHeader.center.text, ws.title
    assert wb["Summary"]["A1"].value == "Deep Dive Case File Audit: master collation"
    # Two on the Summary, one on Grades, and on Trends one small chart per scope (overall and each section graded).
    assert result.evidence is not None
    scopes = {t.scope for t in result.evidence.trends if t.good is not None}
    with zipfile.ZipFile(result.master) as zf:
        assert len([n for n in zf.namelist() if n.startswith("xl/charts/chart")]) == 3 + len(scopes)


def test_summary_tab_has_frozen_panes_and_autofilter(mixed: tuple[Path, CollectResult]) -> None:
    """The issue asks every tab, the Summary included, for frozen panes and an autofilter."""
    ws = load(mixed[1].master)["Summary"]
    assert ws.freeze_panes is not None
    assert ws.auto_filter.ref is not None


def test_mixed_folder_summary(mixed: tuple[Path, CollectResult], library: Library) -> None:
    facts = summary_facts(load(mixed[1].master)["Summary"])
    filled = [library.answers(key) for key, _, _ in MERGED]
    overall = Counter(a["overall_overall_grade"] for a in filled)
    good = (overall["Outstanding"] + overall["Good"]) / len(filled)
    assert {k: facts[k] for k in (
        "This round", "Audits this round", "Overall % Good or better this round", "Previous round",
        "Rounds covered", "Due dates from", "Due dates to", "Audits merged", "Files rejected",
        "Files superseded or duplicate", "Late returns", "Urgent concerns raised",
        "Source files missing (kept from the ledger)", "Team Alpha", "Team Beta", "Team Gamma", *GRADES,
    )} == {
        "This round": ROUND, "Audits this round": 5, "Overall % Good or better this round": pytest.approx(good, 1e-3),
        "Previous round": "(none)",
        "Rounds covered": ROUND, "Due dates from": datetime(2026, 11, 30), "Due dates to": datetime(2026, 11, 30),
        "Audits merged": 5, "Files rejected": 4, "Files superseded or duplicate": 2, "Late returns": 1,
        "Urgent concerns raised": 1, "Source files missing (kept from the ledger)": 0,
        "Team Alpha": 2, "Team Beta": 1, "Team Gamma": 2, **{g: overall.get(g, 0) for g in GRADES},
    }


def test_mixed_folder_audits_tab(mixed: tuple[Path, CollectResult], library: Library) -> None:
    ws = load(mixed[1].master)["Audits"]
    assert header(ws) == AUDIT_HEADER
    assert body(ws) == [audit_row(rel, library.answers(key), warnings=w) for key, rel, w in MERGED]
    # The scenarios really differ in which sections apply.
    first = AUDIT_HEADER.index(JUDGED[0].title)
    assert [r[first:first + len(JUDGED)].count("n/a") for r in body(ws)] == [2, 3, 3, 2, 2]


def test_mixed_folder_findings_tab(mixed: tuple[Path, CollectResult], library: Library) -> None:
    ws = load(mixed[1].master)["Findings"]
    assert header(ws) == ["Case reference", "Round", "Team", "Allocated worker", "Section", "Grade", "Theme tags",
                          "What is working well", "What needs to improve", "Impact"]
    assert body(ws) == [row for key, _, _ in MERGED for row in finding_rows(library.answers(key))]


def test_mixed_folder_grades_tab_counts_this_rounds_grades_by_section(mixed: tuple[Path, CollectResult],
                                                                    library: Library) -> None:
    ws = load(mixed[1].master)["Grades"]
    filled = [library.answers(key) for key, _, _ in MERGED]
    assert [c.value for c in ws[4]] == ["Section", "Audits graded", *GRADES, "% Good or better", "Previous round",
                                        "Change (points)", "Change", "Chart label (n)"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    expected = {"Overall": Counter(a["overall_overall_grade"] for a in filled)}
    for s in JUDGED:
        counted = Counter(a[f"{s.id}_grade"] for a in filled if applies(a, s.id) and a.get(f"{s.id}_grade"))
        if counted:
            expected[s.title] = counted
    assert list(rows) == list(expected)  # the overall judgement, then the sections in the spec's order
    for scope, counts in expected.items():
        n = sum(counts.values())
        good = (counts["Outstanding"] + counts["Good"]) / n
        assert rows[scope][:6] == (scope, n, *[counts.get(g, 0) for g in GRADES]), scope
        assert rows[scope][6] == pytest.approx(good, abs=1e-4), scope
        assert rows[scope][7:] == (None, None, None, f"{scope} (n={n})"), scope  # no earlier round; the chart's label


def test_mixed_folder_answers_tab_has_every_answer(mixed: tuple[Path, CollectResult], library: Library) -> None:
    ws = load(mixed[1].master)["Answers"]
    assert header(ws) == ["Case reference", "Round", "Team", "Section", "Field", "Question", "Answer", "Applies"]
    rows = body(ws)
    by_case: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_case.setdefault(r[0], {})[r[4]] = r[6]
    for key, _, _ in MERGED:
        a = library.answers(key)
        got = by_case[str(a["profile_case_ref"])]
        # An action row with no one named responsible names the team manager (as the workbook says it will).
        defaults = {f"actions_r{r:02d}_responsible": a["profile_team_manager"] for r in range(1, 16)
                    if f"actions_r{r:02d}_action" in a and f"actions_r{r:02d}_responsible" not in a}
        # Derived inputs (the due date and audit period, worked out from the audit month) are answers too.
        derived = {k: v for k, v in got.items() if layout().by_name[k].derived is not None}
        assert derived and all(isinstance(v, datetime) for v in derived.values())
        typed = {k: v for k, v in got.items() if k not in derived}
        assert typed == {k: dt(v) if isinstance(v, date) else v for k, v in {**a, **defaults}.items()
                         if k not in derived}, key
    label = {i.name: i.label for i in layout().inputs}
    title = {s.id: s.title for s in spec().sections}
    assert all(r[5] == label[r[4]] and r[3] == title[layout().by_name[r[4]].section] for r in rows)
    assert {r[7] for r in rows} == {"Yes"}  # synthetic returns answer only what applies


def test_mixed_folder_actions_tab(mixed: tuple[Path, CollectResult], library: Library) -> None:
    ws = load(mixed[1].master)["Actions"]
    assert header(ws) == ["Action ID", "Case reference", "Round", "Team", "Section", "Action", "Responsible",
                          "Timescale", "Priority", "Agreed", "Status", "Notes", "Date closed", "Overdue",
                          "Conflicting edits", "Source file"]
    rows = body(ws)
    expected = [urgent_row("team-alpha/SYN-0003.xlsx", library.answers("eh")),
                *[row for key, rel, _ in MERGED for row in action_rows(rel, library.answers(key))]]
    assert without_overdue(rows) == expected
    ids = [r[0] for r in rows]
    assert len(set(ids)) == len(ids) and ids[0].startswith("SYN-0003-URGENT-")
    assert [ws.cell(row=r, column=14).value for r in range(2, len(rows) + 2)] == [
        f'=IF(AND(H{r}<>"",K{r}<>"Done",K{r}<>"Not needed",M{r}="",H{r}<TODAY()),"Overdue","")'
        for r in range(2, len(rows) + 2)]
    (dv,) = ws.data_validations.dataValidation
    assert (dv.type, dv.formula1, str(dv.sqref)) == (
        "list", '"Not started,In progress,Done,Not needed"', f"K2:K{len(rows) + 1}")


def test_mixed_folder_rejected_tab(mixed: tuple[Path, CollectResult]) -> None:
    ws = load(mixed[1].master)["Rejected"]
    assert header(ws) == ["File", "Status", "Reason", "Severity", "Code", "Sheet", "Cell", "Message"]
    rows = body(ws)
    assert [r[:7] for r in rows] == [
        ("SYN-0004 goodish.xlsx", "rejected", "1 error", "error", "not-in-list", *where("assessment_grade")),
        ("SYN-0007.xlsx", "rejected", "1 error", "error", "not-a-workbook", None, None),
        ("SYN-0008 protected.xlsx", "rejected", "1 error", "error", "encrypted", None, None),
        ("SYN-0009.xls", "rejected", "1 error", "error", "legacy-xls", None, None),
        (".DS_Store", "skipped", "hidden file (.DS_Store): skipped", None, None, None, None),
        ("team-beta/sent again/SYN-0001.xlsx", "duplicate", "an exact copy of team-beta/SYN-0001.xlsx",
         None, None, None, None),
        ("team-beta/~$SYN-0001.xlsx", "skipped", "Excel lock file (someone has SYN-0001.xlsx open): skipped",
         None, None, None, None),
        ("team-gamma/SYN-0002 first draft.xlsx", "superseded",
         f"a later return for case SYN-0002 in round {ROUND} is team-gamma/SYN-0002.xlsx", None, None, None, None),
    ]
    messages = [str(r[7]) for r in rows[:4]]
    for message, words in zip(messages, (('"Goodish"', "Outstanding, Good"), ("CSV",), ("password-protected",),
                                         (".xls", "save it as .xlsx")), strict=True):
        assert all(w in message for w in words), message


def test_mixed_folder_cli_exit_code_and_summary(mixed: tuple[Path, CollectResult], tmp_path: Path) -> None:
    folder, _ = mixed
    result = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "master.xlsx")])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == ("13 files: 0 unchanged since last run, 11 read, 2 skipped; "
                         "master holds 5 audits; 4 rejected; 1 duplicate; 1 superseded")
    assert "rejected SYN-0004 goodish.xlsx: 1 error" in lines
    sheet, cell = where("assessment_grade")
    assert f'    {sheet}!{cell}: Section grade: "Goodish" is not one of' in result.stdout
    assert "superseded team-gamma/SYN-0002 first draft.xlsx: a later return" in result.stdout
    assert "late team-gamma/SYN-0002.xlsx: completed 03/12/2026, due 30/11/2026 (merged)" in lines
    assert (tmp_path / "master.xlsx").exists()


# -- 2. themes -------------------------------------------------------------------------------------


def theme_rows(ws: Worksheet) -> dict[str, list[tuple[Any, ...]]]:
    """The Themes tab's rows by measure (and scope), in the tab's order, without the Detail column."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in body(ws, 15):
        key = r[0] if r[1] == "All" else f"{r[0]} / {r[1]}"
        out.setdefault(key, []).append(r[:14])
    return out


def test_themes_tab_one_round(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "returns"
    for i in THEMED:
        library.put(folder, f"theme{i}", f"SYN-000{i}.xlsx")
    result = run(folder, tmp_path / "out")
    assert result.summary_line() == ("4 files: 0 unchanged since last run, 4 read; "
                                     "master holds 4 audits; 0 rejected; 0 duplicate; 0 superseded")
    ws = load(result.master)["Themes"]
    assert header(ws) == ["Measure", "Scope", "Section", "Item", "Kind", "Audits", "Out of", "Share",
                          "Previous round", "Change (points)", "Change", "Recurring", "Persistent", "First recurred in",
                          "Detail"]
    assert ws["Q1"].value.startswith(f"{ROUND} (no earlier round to compare). A theme (a concern tag, a section "
                                     "needing action, a practice question answered No or Partly) recurs in a round "
                                     "when it is in at least 3 audits of that round and in at least 30%")
    rows = theme_rows(ws)
    concern = "Concern (theme tag)"
    # A first round has recurring themes (issue 15), but only in at least min_audits (3) audits: 2 of 4 is not one.
    # Each share has its count and the audits behind it.
    none = (None,) * 6
    assert rows[concern] == [(concern, "All", None, "Child not seen alone", "concern", 2, 4, 0.5, *none),
                             (concern, "All", None, "Drift and delay", "concern", 1, 4, 0.25, *none)]
    assert "Strength (theme tag)" not in rows
    needing = "Section needing action"
    graded = ["cin", "child_protection", "voice", "oversight", "partnership", "diversity", "plans", "recording",
              "feedback", "permanence"]
    item = "Graded Requires improvement or Inadequate"
    # Out of the returns that graded the section: section 9 is optional for a child not in care.
    out_of = {TITLE[s]: sum(1 for i in THEMED if library.answers(f"theme{i}").get(f"{s}_grade")) for s in graded}
    assert out_of[TITLE["voice"]] == 4
    assert rows[needing] == [(needing, "All", "1b Assessment", item, "section", 3, 4, 0.75, None, None, None,
                              "Recurring", None, ROUND),
                             *[(needing, "All", t, item, "section", 0, out_of[t], 0, *none) for t in sorted(out_of)]]
    voice, assessment = spec().section("voice"), spec().section("assessment")
    label = {f"{s.id}.{f.id}": f.label for s in (voice, assessment) for f in s.fields}
    question = "Question answered No or Partly"
    assert rows[question] == [
        (question, "All", assessment.title, label["assessment.assessment_current"], "question", 3, 4, 0.75, None,
         None, None, "Recurring", None, ROUND),
        (question, "All", voice.title, label["voice.wishes_recorded"], "question", 1, 4, 0.25, *none)]
    assert [r[14] for r in body(ws, 15) if r[0] == question] == ["3 No", "1 No"]
    # Every team has fewer than 5 audits: each is named, its figures suppressed.
    by_team = {k: [(r[3], r[5], r[6]) for r in v] for k, v in rows.items() if k.startswith("Concern by team")}
    assert by_team == {"Concern by team / Team: Team Beta": [("Child not seen alone", None, "fewer than 5"),
                                                             ("Drift and delay", None, "fewer than 5")],
                       "Concern by team / Team: Team Gamma": [("Child not seen alone", None, "fewer than 5")]}
    # Every share shown is a percentage (a suppressed team's is not shown at all).
    assert {ws.cell(row=r, column=8).number_format for r in range(2, ws.max_row + 1)
            if ws.cell(row=r, column=8).value is not None} == {"0%"}


def test_themes_and_trends_across_two_rounds(tmp_path: Path, library: Library) -> None:
    """A second round: change since the previous round in points and words, Recurring for themes in at least 3
    audits and 30% of a round, Persistent for those recurring in the round before too."""
    folder, out = tmp_path / "returns", tmp_path / "out"
    for i in THEMED:
        library.put(folder, f"theme{i}", f"round-3/SYN-000{i}.xlsx")
    for i in (1, 2, 3):
        library.put(folder, f"theme{i}_next", f"next/SYN-000{i}.xlsx")
    result = run(folder, out)
    assert result.summary_line() == ("7 files: 0 unchanged since last run, 7 read; "
                                     "master holds 7 audits; 0 rejected; 0 duplicate; 0 superseded")
    wb = load(result.master)
    rows = theme_rows(wb["Themes"])
    assert wb["Themes"]["Q1"].value.startswith(f"{NEXT_ROUND} compared with {ROUND}.")
    (seen_alone,) = rows["Concern (theme tag)"]  # Drift and delay was not tagged this round
    # In 2 audits: under min_audits (3), so not recurring however high its share.
    assert seen_alone[3:8] + seen_alone[11:] == ("Child not seen alone", "concern", 2, 3, pytest.approx(0.6667, 1e-3),
                                                 None, None, None)
    # 67% now, 50% before: 17 percentage points, and for a concern up is worse.
    assert seen_alone[8:11] == (0.5, 17, "\u25b2 worse by 17 points")
    first = rows["Section needing action"][0]
    assert (first[2], first[5], first[6], first[7], first[8], first[9], first[10], first[11], first[12],
            first[13]) == ("1b Assessment", 3, 3, 1, 0.75, 25, "\u25b2 worse by 25 points", "Recurring", "Persistent",
                           ROUND)
    assert [r[11] for r in rows["Section needing action"][1:]] == [None] * (len(rows["Section needing action"]) - 1)
    # Trends: both rounds, oldest first, with the change in % good or better.
    trends = wb["Trends"]
    table = [r for r in trends.iter_rows(min_row=5, max_col=9, values_only=True) if r[0] in (ROUND, NEXT_ROUND)]
    assessment = [r for r in table if r[1] == "1b Assessment"]
    assert [(r[0], r[2], r[7], r[8]) for r in assessment] == [(ROUND, 4, 0.25, None), (NEXT_ROUND, 3, 0, -25)]
    assert [r[0] for r in table if r[1] == "Overall"] == [ROUND, NEXT_ROUND]
    with zipfile.ZipFile(result.master) as zf:
        charts = [zf.read(n) for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert result.evidence is not None
    assert sum(b"<c:lineChart>" in c for c in charts) == len({t.scope for t in result.evidence.trends if t.graded})
    # Scope by scope, each scope's rounds next to each other, and each chart draws its own scope's rows of the
    # table (no second table of the charts' figures to print under the first one's header).
    scopes = [r[1] for r in table]
    assert scopes == sorted(scopes, key=scopes.index), scopes
    good = openpyxl.utils.get_column_letter(3 + len(GRADES) + 1)
    for chart in (c for c in charts if b"<c:lineChart>" in c):
        title = re.search(rb"<c:ser>.*?<c:tx><c:v>(.*?)</c:v>", chart)
        refs = re.search(rb"<c:val><c:numRef><c:f>Trends!\$" + good.encode() + rb"\$(\d+):\$" + good.encode()
                         + rb"\$(\d+)</c:f>", chart)
        assert title and refs, chart[:300]
        first, last = int(refs.group(1)), int(refs.group(2))
        assert {trends.cell(row=n, column=2).value for n in range(first, last + 1)} == {title.group(1).decode()}
    assert not any("charts' figures" in str(v) for row in trends.iter_rows(values_only=True) for v in row)

    # A higher threshold: 1b Assessment is still over it in both rounds.
    again = run(folder, out, threshold=0.6)
    rows = theme_rows(load(again.master)["Themes"])
    assert rows["Concern (theme tag)"][0][11:] == (None, None, None)
    assert rows["Section needing action"][0][11:13] == ("Recurring", "Persistent")
    # A threshold 1b Assessment's 75% of the first round is under: recurring this round, not persistent.
    again = run(folder, out, threshold=0.8)
    assert theme_rows(load(again.master)["Themes"])["Section needing action"][0][11:] == ("Recurring", None,
                                                                                         NEXT_ROUND)

    # With --round, only that round is merged, but the Trends still have every round the ledger has seen;
    # the round calendar orders them.
    def overall_rounds(ws: Worksheet) -> list[str]:
        return [r[0] for r in ws.iter_rows(min_row=5, max_col=2, values_only=True)
                if r[1] == "Overall" and r[0] in (ROUND, NEXT_ROUND)]

    only = run(folder, out, round_name=NEXT_ROUND)
    wb = load(only.master)
    assert {r[1] for r in body(wb["Audits"])} == {NEXT_ROUND}
    assert overall_rounds(wb["Trends"]) == [ROUND, NEXT_ROUND]
    reordered = run(folder, out, round_name=NEXT_ROUND, calendar=[NEXT_ROUND, ROUND])
    wb = load(reordered.master)
    assert overall_rounds(wb["Trends"]) == [NEXT_ROUND, ROUND]
    assert wb["Themes"]["Q1"].value.startswith(f"{NEXT_ROUND} (no earlier round to compare).")


# -- 3. incremental and idempotent -----------------------------------------------------------------


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files collect validates (by name), recorded."""
    seen: list[str] = []

    def spy(path: Path, **kwargs: Any) -> Any:
        seen.append(path.name)
        return validate_file(path, **kwargs)

    monkeypatch.setattr("auditbook.returns.workers.validate_file", spy)
    return seen


def test_rerun_touch_change_delete(tmp_path: Path, library: Library, validated: list[str]) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    placed = {key: library.put(folder, key, f"SYN-000{n}.xlsx")
              for key, n in (("cp", 1), ("care", 2), ("eh", 3), ("goodish", 4), ("reused_a", 5))}
    first = run(folder, out)
    assert first.summary_line() == ("5 files: 0 unchanged since last run, 5 read; "
                                    "master holds 4 audits; 1 rejected; 0 duplicate; 0 superseded")
    assert first.read == 5
    master = first.master
    before = fingerprint(master)
    table = cells(load(master))

    # Unchanged folder: nothing read, the master left exactly as it was.
    validated.clear()
    second = run(folder, out, now=NOW + timedelta(days=1))
    assert (second.read, second.unchanged, second.files, validated) == (0, 5, 5, [])
    assert second.summary_line() == ("5 files: 5 unchanged since last run, 0 read; "
                                     "master holds 4 audits; 1 rejected; 0 duplicate; 0 superseded")
    assert fingerprint(master) == before
    assert [(n.file, n.status) for n in second.not_merged] == [(n.file, n.status) for n in first.not_merged]
    assert second.merged == first.merged

    # Touched, same content: not validated again, and the master says the same.
    st = placed["cp"].stat()
    os.utime(placed["cp"], ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    touched = run(folder, out)
    assert (touched.read, touched.unchanged, validated) == (0, 5, [])
    assert cells(load(master)) == table
    assert run(folder, out).read == 0  # the new time was remembered

    # Changed content: that file alone is read again, and the master shows the change.
    changed = library.answers("eh_changed")
    shutil.copyfile(library.path("eh_changed"), placed["eh"])
    result = run(folder, out)
    assert (result.read, result.unchanged, validated) == (1, 4, ["SYN-0003.xlsx"])
    rows = {r[0]: r for r in body(load(master)["Audits"])}
    assert rows["SYN-0003"] == audit_row("SYN-0003.xlsx", changed)
    assert (rows["SYN-0003"][WORKER], rows["SYN-0003"][OVERALL]) == ("Example Worker 9",
                                                                    changed["overall_overall_grade"])
    # (The completion dates of returns remembered by the ledger are test_remembered_returns_keep_their_dates'.)
    assert undated(rows["SYN-0001"]) == undated(audit_row("SYN-0001.xlsx", library.answers("cp")))

    # Deleted: a valid return stays in the master, flagged; a rejected file simply goes.
    placed["care"].unlink()
    placed["goodish"].unlink()
    validated.clear()
    gone = run(folder, out)
    assert (gone.read, gone.unchanged, gone.files, validated) == (0, 3, 3, [])
    assert gone.summary_line() == ("3 files: 3 unchanged since last run, 0 read; master holds 4 audits (1 from files "
                                   "no longer in the folder); 0 rejected; 0 duplicate; 0 superseded")
    wb = load(master)
    assert [undated(r) for r in body(wb["Audits"])] == [undated(r) for r in (
        audit_row("SYN-0001.xlsx", library.answers("cp")),
        audit_row("SYN-0002.xlsx", library.answers("care"), warnings=1, missing=True),
        audit_row("SYN-0003.xlsx", changed), audit_row("SYN-0005.xlsx", library.answers("reused_a")))]
    assert body(wb["Rejected"]) == []
    assert summary_facts(wb["Summary"])["Source files missing (kept from the ledger)"] == 1
    assert [(m["case_ref"], m["source_missing"]) for m in gone.merged] == [
        ("SYN-0001", False), ("SYN-0002", True), ("SYN-0003", False), ("SYN-0005", False)]
    # ...and stays so on the next run.
    assert run(folder, out).merged == gone.merged


def test_a_touched_file_never_rewrites_the_master(tmp_path: Path, library: Library) -> None:
    """A new modification time with the same content changes nothing, on this run or any later one (a master
    rewritten for nothing gets a new Collected time, and fails when it is open in Excel)."""
    folder, out = tmp_path / "returns", tmp_path / "out"
    placed = library.put(folder, "cp", "SYN-0001.xlsx")
    library.put(folder, "eh", "SYN-0003.xlsx")
    master = run(folder, out).master
    st = placed.stat()
    os.utime(placed, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    for later in range(1, 4):
        before = fingerprint(master)
        result = run(folder, out, now=NOW + timedelta(hours=later))
        assert (result.read, result.unchanged) == (0, 2)
        assert fingerprint(master) == before, f"run {later} after the touch"


def undated(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """An Audits row without its Completed column."""
    return row[:8] + row[9:]


def test_remembered_returns_keep_their_dates(tmp_path: Path, library: Library) -> None:
    """A return read on an earlier run is merged from the ledger with its dates, as if read now.

    Its completion date decides which of two returns for a case is the later one, and shows in Audits;
    the urgent concern's date shows in Actions.
    """
    folder, out = tmp_path / "returns", tmp_path / "out"
    library.put(folder, "care", "SYN-0002.xlsx")
    library.put(folder, "eh", "SYN-0003.xlsx")
    first = run(folder, out)
    assert first.summary_line() == ("2 files: 0 unchanged since last run, 2 read; "
                                    "master holds 2 audits; 0 rejected; 0 duplicate; 0 superseded")
    # The first draft of SYN-0002 (completed earlier) turns up later in the folder.
    library.put(folder, "care_draft", "SYN-0002 draft.xlsx")
    result = run(folder, out)
    assert result.read == 1
    assert [(n.file, n.status) for n in result.not_merged] == [("SYN-0002 draft.xlsx", "superseded")]
    wb = load(result.master)
    assert body(wb["Audits"]) == [audit_row("SYN-0002.xlsx", library.answers("care"), warnings=1),
                                  audit_row("SYN-0003.xlsx", library.answers("eh"))]
    assert without_overdue(body(wb["Actions"]))[0] == urgent_row("SYN-0003.xlsx", library.answers("eh"))


def test_moving_a_return_into_a_subfolder_keeps_one_audit_from_its_new_place(tmp_path: Path,
                                                                            library: Library) -> None:
    """Filing a collected return into a subfolder moves it; it is neither missing nor a duplicate of itself."""
    folder, out = tmp_path / "returns", tmp_path / "out"
    library.put(folder, "cp", "SYN-0001.xlsx")
    library.put(folder, "eh", "SYN-0003.xlsx")
    assert run(folder, out).summary_line() == ("2 files: 0 unchanged since last run, 2 read; "
                                               "master holds 2 audits; 0 rejected; 0 duplicate; 0 superseded")
    (folder / "filed").mkdir()
    os.replace(folder / "SYN-0001.xlsx", folder / "filed" / "SYN-0001.xlsx")
    result = run(folder, out)
    assert [(m["case_ref"], m["file"], m["source_missing"]) for m in result.merged] == [
        ("SYN-0001", "filed/SYN-0001.xlsx", False), ("SYN-0003", "SYN-0003.xlsx", False)]
    assert [(n.file, n.status) for n in result.not_merged] == []
    assert result.summary_line() == ("2 files: 1 unchanged since last run, 1 read; master holds 2 audits; 0 rejected; "
                                     "0 duplicate; 0 superseded")


# -- 4. auditors' text stays text ------------------------------------------------------------------


def test_formula_looking_text_stays_literal(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "returns"
    library.put(folder, "formula", "SYN-0020.xlsx")
    (folder / "=1+1.xlsx").write_bytes(csv_bytes())
    result = run(folder, tmp_path / "out", packs=tmp_path / "packs")
    assert result.summary_line() == ("2 files: 0 unchanged since last run, 2 read; "
                                     "master holds 1 audit; 1 rejected; 0 duplicate; 0 superseded")
    wb = load(result.master)

    def literal(ws: Worksheet, row: int, col: int, text: str) -> None:
        c = ws.cell(row=row, column=col)
        assert (c.value, c.data_type, c.hyperlink) == (text, "s", None), (ws.title, c.coordinate)

    audits = wb["Audits"]
    for col, text in ((3, HYPERLINK), (4, "@SUM(1+1)"), (5, DDE), (6, "00123")):
        literal(audits, 2, col, text)
    literal(wb["Findings"], 2, 3, HYPERLINK)
    actions = wb["Actions"]
    assert [actions.cell(row=r, column=6).value for r in (3, 4)] == ["=1+1", "+44 20 7946 0000"]
    literal(actions, 3, 6, "=1+1")
    literal(actions, 4, 6, "+44 20 7946 0000")
    literal(actions, 2, 7, DDE)  # the urgent concern: the team manager is responsible
    literal(actions, 3, 7, DDE)  # responsible left blank: the team manager
    literal(actions, 2, 4, HYPERLINK)
    answers = wb["Answers"]
    (typed,) = [r for r in range(2, answers.max_row + 1) if answers.cell(row=r, column=5).value == "actions_r01_action"]
    literal(answers, typed, 7, "=1+1")
    summary = wb["Summary"]
    (team_row,) = [r for r in range(1, summary.max_row + 1) if summary.cell(row=r, column=1).value == HYPERLINK]
    literal(summary, team_row, 1, HYPERLINK)
    rejected = wb["Rejected"]
    literal(rejected, 2, 1, "=1+1.xlsx")
    assert str(rejected.cell(row=2, column=8).value).startswith("=1+1.xlsx: ")
    assert rejected.cell(row=2, column=8).data_type == "s"
    # The only formulas anywhere are the Overdue flags the master writes itself.
    formulas = [(ws.title, c.column_letter) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == [("Actions", "N")] * (actions.max_row - 1)
    # A team manager's pack carries the free text too.
    (pack,) = result.packs
    findings = load(pack)["Findings"]
    head = [c.value for c in findings[1]]  # a pack's Findings has fewer columns than the master's (it prints whole)
    section, working_well = head.index("Section") + 1, head.index("What is working well") + 1
    (row,) = [r for r in range(2, findings.max_row + 1) if findings.cell(row=r, column=section).value ==
              "1b Assessment"]
    literal(findings, row, working_well, HYPERLINK)


# -- 5. safe writing -------------------------------------------------------------------------------


def temp_masters(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(".auditbook-master-"))


def test_failure_mid_write_leaves_the_previous_master(tmp_path: Path, library: Library,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    library.put(folder, "cp", "SYN-0001.xlsx")
    library.put(folder, "eh", "SYN-0003.xlsx")
    master = run(folder, out).master
    before = fingerprint(master)
    library.put(folder, "care", "SYN-0002.xlsx")

    def fail(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(auditbook.outputs.master, "rejected_table", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        run(folder, out)
    assert fingerprint(master) == before
    assert temp_masters(out) == []
    monkeypatch.undo()
    # Nothing of the failed run was remembered: the new file is read again and merged.
    result = run(folder, out)
    assert (result.read, result.summary_line()) == (1, ("3 files: 2 unchanged since last run, 1 read; "
                                                        "master holds 3 audits; 0 rejected; 0 duplicate; 0 superseded"))
    assert [r[0] for r in body(load(master)["Audits"])] == ["SYN-0001", "SYN-0002", "SYN-0003"]


_COLLECT = """
import sys
from pathlib import Path
from auditbook.collection.collect import collect
folder, master, ledger, threshold = sys.argv[1:5]
print(collect(Path(folder), out=Path(master), ledger_path=Path(ledger), threshold=float(threshold)).summary_line())
"""
#: Collect, stopping for good once the master's zip is half written (flushed to disk) and saying so.
_COLLECT_STALLED = """
import time, zipfile
import auditbook.outputs.sheetxml

class Stalling(zipfile.ZipFile):
    written = 0

    def write(self, *args, **kwargs):
        super().write(*args, **kwargs)
        self.step()

    def writestr(self, *args, **kwargs):
        super().writestr(*args, **kwargs)
        self.step()

    def step(self):
        Stalling.written += 1
        if Stalling.written == 6:
            self.fp.flush()
            print("half-written", flush=True)
            time.sleep(120)

auditbook.outputs.sheetxml.ZipFile = Stalling
""" + _COLLECT


@contextlib.contextmanager
def started(script: str, *args: object) -> Iterator[subprocess.Popen[str]]:
    """A collect in its own process group (its worker processes with it), killed whole on the way out."""
    proc = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


def killed_after(seconds: float, *args: object) -> bool:
    """Run collect, SIGKILL it after `seconds`; False when it finished first."""
    with started(_COLLECT, *args) as proc:
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return True
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        return False


def complete(master: Path, n: int) -> bool:
    """The master opens, with every tab and one Audits row per return."""
    wb = openpyxl.load_workbook(master)
    return wb.sheetnames == TABS and len(body(wb["Audits"])) == n


def clones(base: Path, folder: Path, n: int) -> None:
    """n valid returns for cases SYN-0001..n, each from its own blank workbook: one built return, case and
    instance id rewritten in its XML (much faster than building n)."""
    instance = validate_file(base, registry=REGISTRY).audit.provenance.instance_id  # type: ignore[union-attr]
    with zipfile.ZipFile(base) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    folder.mkdir(parents=True)
    for i in range(1, n + 1):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zo:
            for info, data in members:
                zo.writestr(info, data.replace(instance.encode(), str(uuid.UUID(int=i)).encode())
                            .replace(b"SYN-0001", b"SYN-%04d" % i))
        (folder / f"SYN-{i:04d}.xlsx").write_bytes(buf.getvalue())


#: The longest a whole collect of the kill test may take: seconds here, but the machine may be busy with other work.
RUN_TIMEOUT_S = 900


def timed(*args: object) -> float:
    """Seconds a whole collect takes in its own process."""
    t = monotonic()
    with started(_COLLECT, *args) as proc:
        _, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
        assert proc.returncode == 0, stderr
    return monotonic() - t


def test_killing_collect_never_leaves_a_half_written_master(tmp_path: Path, library: Library) -> None:
    """SIGKILL at points spread over a run (as fractions of how long a whole run takes here), then once with
    the new master's zip half written: the master at the target path is absent or whole, never half written."""
    n, fractions = 40, (0.7, 0.85, 0.95)
    folder, out = tmp_path / "returns", tmp_path / "out"
    clones(library.path("cp"), folder, n)
    assert validate_file(folder / "SYN-0040.xlsx", registry=REGISTRY).audit.case_ref == "SYN-0040"  # type: ignore
    master, ledger = out / "master.xlsx", out / "ledger.sqlite3"
    # First collects (each into a new place), killed: no master, or a whole one.
    cold = timed(folder, master, ledger, 0.3)
    assert complete(master, n)
    for i, fraction in enumerate(fractions):
        other = out / f"first-{i}"
        killed_after(cold * fraction, folder, other / "master.xlsx", other / "ledger.sqlite3", 0.3)
        assert not (other / "master.xlsx").exists() or complete(other / "master.xlsx", n), fraction
    # Rewrites (a new threshold each time: nothing read, the master written again), killed: the previous
    # master or a whole new one.
    rewrite = timed(folder, master, ledger, 0.35)
    for i, fraction in enumerate(fractions):
        killed_after(rewrite * fraction, folder, master, ledger, 0.4 + i / 10)
        assert complete(master, n), fraction
    # Killed with the new master's zip half written (flushed to disk): the previous master is untouched.
    previous = fingerprint(master)
    with started(_COLLECT_STALLED, folder, master, ledger, 0.75) as proc:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], RUN_TIMEOUT_S)
        assert ready and proc.stdout.readline().strip() == "half-written"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert fingerprint(master) == previous
    assert complete(master, n)
    # And the next collect, after all those kills, writes a whole master.
    with started(_COLLECT, folder, master, ledger, 0.8) as proc:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
        assert proc.returncode == 0, stderr
    assert stdout.strip() == (f"{n} files: {n} unchanged since last run, 0 read; "
                              f"master holds {n} audits; 0 rejected; 0 duplicate; 0 superseded")
    assert complete(master, n)


# -- 6, 7. refusing to run -------------------------------------------------------------------------


def test_second_collect_on_a_held_ledger_refuses(tmp_path: Path, library: Library,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    library.put(folder, "cp", "SYN-0001.xlsx")
    ledger_path = out / "ledger.sqlite3"
    monkeypatch.setattr("auditbook.collection.session.Ledger", functools.partial(Ledger, wait_seconds=0.2))
    held = Ledger(ledger_path)
    try:
        with pytest.raises(CollectError, match="another collect is running") as err:
            run(folder, out)
        assert str(ledger_path) in str(err.value)
        result = runner.invoke(app, ["collect", str(folder), "--out", str(out / "master.xlsx"), "--ledger",
                                     str(ledger_path)])
        assert result.exit_code == 2, result.output
        assert f"Error: another collect is running on the ledger {ledger_path}" in result.output
        assert "Traceback" not in result.output
        assert not (out / "master.xlsx").exists()
    finally:
        held.close()
    assert run(folder, out).summary_line() == ("1 file: 0 unchanged since last run, 1 read; "
                                               "master holds 1 audit; 0 rejected; 0 duplicate; 0 superseded")


def test_missing_folder_exits_2_with_a_plain_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["collect", str(tmp_path / "nowhere")])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"Error: the returns folder {tmp_path / 'nowhere'} does not exist or is not a " \
        "folder."


def test_master_open_in_excel_exits_2(tmp_path: Path, library: Library) -> None:
    folder, out = tmp_path / "returns", tmp_path / "out"
    library.put(folder, "cp", "SYN-0001.xlsx")
    out.mkdir()
    (out / "~$master.xlsx").write_bytes(b"\x00" * 165)
    result = runner.invoke(app, ["collect", str(folder), "--out", str(out / "master.xlsx")])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == ("Error: master.xlsx is open in Excel (its lock file ~$master.xlsx is there). "
                                     "Close it and run collect again.")
    assert not (out / "master.xlsx").exists()
    (out / "~$master.xlsx").unlink()
    result = runner.invoke(app, ["collect", str(folder), "--out", str(out / "master.xlsx")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == ("1 file: 0 unchanged since last run, 1 read; "
                                              "master holds 1 audit; 0 rejected; 0 duplicate; 0 superseded")


# -- 8, 9. demo and --json -------------------------------------------------------------------------


def test_demo_makes_the_whole_loop(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--count", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    summary = lines.index("11 files: 0 unchanged since last run, 10 read, 1 skipped; master holds 6 audits; "
                          "2 rejected; 1 duplicate; 1 superseded")
    assert lines[summary - 1] == f"Master: {out / 'demo-master.xlsx'}"
    # It ends by saying what to open next.
    assert lines[summary + 1:] == [
        "", "What to open next:",
        f"  {out / 'deep-dive-blank.xlsx'}: the blank audit workbook an auditor fills in (start on its Start sheet)",
        f"  {out / 'demo-master.xlsx'}: the master workbook for the Self-Assessment Group (its Summary tab first)",
        f"  {out / 'demo-report.html'}: the round report for the Self-Assessment Group (open it in a browser)",
        f"  {out / 'demo-returns'}: the synthetic returns it was made from, some deliberately wrong"]
    blank = validate_file(out / "deep-dive-blank.xlsx", registry=REGISTRY)
    assert blank.audit is not None and blank.audit.case_ref == ""
    assert sorted(p.relative_to(out / "demo-returns").as_posix() for p in (out / "demo-returns").rglob("*")
                  if p.is_file()) == [
        "SYN-0001 first draft.xlsx", "SYN-0900 bad grade.xlsx", "SYN-0901.xlsx", "earlier round/SYN-0101.xlsx",
        "earlier round/SYN-0102.xlsx", "earlier round/SYN-0103.xlsx", "team-alpha/SYN-0003.xlsx",
        "team-beta/SYN-0001 - Copy.xlsx", "team-beta/SYN-0001.xlsx", "team-gamma/SYN-0002.xlsx", "~$SYN-0002.xlsx"]
    wb = load(out / "demo-master.xlsx")
    assert wb.sheetnames == TABS
    # Two rounds, named as the example settings' calendar names them (`auditbook settings --example`: July is in
    # round 1, November in round 2): the earlier one's children first; the Summary is about the later one.
    earlier, later = "2026 round 1", "2026 round 2"
    assert [(r[0], r[1]) for r in body(wb["Audits"])] == [
        *[(f"SYN-010{i}", earlier) for i in (1, 2, 3)], *[(f"SYN-000{i}", later) for i in (1, 2, 3)]]
    facts = summary_facts(wb["Summary"])
    assert (facts["This round"], facts["Audits this round"]) == (later, 3)
    assert f"Overall % Good or better in {earlier}" in facts
    assert [r[0] for r in wb["Trends"].iter_rows(min_row=5, max_col=2, values_only=True) if r[1] == "Overall"
            and r[0] not in ("Round", None)] == [earlier, later]
    assert sorted({(r[0], r[1]) for r in body(wb["Rejected"])}) == [
        ("SYN-0001 first draft.xlsx", "superseded"), ("SYN-0900 bad grade.xlsx", "rejected"),
        ("SYN-0901.xlsx", "rejected"), ("team-beta/SYN-0001 - Copy.xlsx", "duplicate"),
        ("~$SYN-0002.xlsx", "skipped")]
    report = (out / "demo-report.html").read_text(encoding="utf-8")
    assert f"compared with {earlier}" in report
    assert "[default: output]" in runner.invoke(app, ["demo", "--help"]).output


def test_json_output_matches_the_run(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "returns"
    for key, rel in (("cp", "SYN-0001.xlsx"), ("care", "SYN-0002.xlsx"), ("care_draft", "SYN-0002 draft.xlsx"),
                     ("goodish", "SYN-0004.xlsx")):
        library.put(folder, key, rel)
    result = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "out" / "master.xlsx"), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["summary"] == ("4 files: 0 unchanged since last run, 4 read; "
                               "master holds 2 audits; 1 rejected; 0 duplicate; 1 superseded")
    assert (data["master"], data["files"], data["read"], data["unchanged"]) == (
        str(tmp_path / "out" / "master.xlsx"), 4, 4, 0)
    assert [(m["file"], m["case_ref"], m["round"], m["source_missing"], [w["code"] for w in m["warnings"]])
            for m in data["merged"]] == [("SYN-0001.xlsx", "SYN-0001", ROUND, False, []),
                                         ("SYN-0002.xlsx", "SYN-0002", ROUND, False, ["late"])]
    assert [(n["file"], n["status"], [(p["code"], p["sheet"], p["cell"]) for p in n["problems"]])
            for n in data["not_merged"]] == [
        ("SYN-0004.xlsx", "rejected", [("not-in-list", *where("assessment_grade"))]),
        ("SYN-0002 draft.xlsx", "superseded", [])]
    # The same as the library call gives for the same folder.
    direct = collect_json(run(folder, tmp_path / "direct"))
    assert (data["summary"], data["merged"], data["not_merged"]) == (
        direct["summary"], direct["merged"], direct["not_merged"])
