"""Issue 5: `auditbook allocate` (one prefilled, locked workbook per allocated case), the Returns tab and
manager packs in `auditbook collect`.

Every name here is synthetic: case references start SYN-, people are "Example ...".
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from auditbook.allocation.lists import read_allocation
from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec import Spec
from auditbook.spec.layout import Layout
from auditbook.workbook.describe import data_dictionary
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

HEADER = ["Case reference", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month (YYYY-MM)",
          "Round (optional)"]
Row = tuple[str, str, str, str, str, str, str]

#: Twelve cases over three teams, in no particular order; rounds are optional (the month stands in).
TWELVE: list[Row] = [
    ("SYN-0107", "Team Alpha", "Example Worker 7", "Example Manager Alpha", "Example Auditor 1", "2028-02",
     "2028 round 1"),
    ("SYN-0101", "Team Alpha", "Example Worker 1", "Example Manager Alpha", "Example Auditor 1", "2026-11",
     "2026 round 3"),
    ("SYN-0112", "Team Gamma", "Example Worker 12", "Example Manager Gamma", "Example Auditor 3", "2027-04", ""),
    ("SYN-0102", "Team Beta", "Example Worker 2", "Example Manager Beta", "Example Auditor 2", "2026-11",
     "2026 round 3"),
    ("SYN-0104", "Team Alpha", "Example Worker 4", "Example Manager Alpha", "Example Auditor 1", "2026-12", ""),
    ("SYN-0109", "Team Gamma", "Example Worker 9", "Example Manager Gamma", "Example Auditor 3", "2028-02",
     "2028 round 1"),
    ("SYN-0103", "Team Gamma", "Example Worker 3", "Example Manager Gamma", "Example Auditor 3", "2026-11",
     "2026 round 3"),
    ("SYN-0105", "Team Beta", "Example Worker 5", "Example Manager Beta", "Example Auditor 2", "2026-12", ""),
    ("SYN-0111", "Team Beta", "Example Worker 11", "Example Manager Beta", "Example Auditor 2", "2026-11",
     "2026 round 3"),
    ("SYN-0106", "Team Gamma", "Example Worker 6", "Example Manager Gamma", "Example Auditor 3", "2027-01", ""),
    ("SYN-0110", "Team Alpha", "Example Worker 10", "Example Manager Alpha", "Example Auditor 1", "2027-02", ""),
    ("SYN-0108", "Team Beta", "Example Worker 8", "Example Manager Beta", "Example Auditor 2", "2028-02",
     "2028 round 1"),
]

#: Sorted by round (the round named, else the month), then team, then case reference.
TWELVE_NAMES = [
    "2026-12_team-alpha_syn-0104.xlsx",
    "2026-12_team-beta_syn-0105.xlsx",
    "2026-round-3_team-alpha_syn-0101.xlsx",
    "2026-round-3_team-beta_syn-0102.xlsx",
    "2026-round-3_team-beta_syn-0111.xlsx",
    "2026-round-3_team-gamma_syn-0103.xlsx",
    "2027-01_team-gamma_syn-0106.xlsx",
    "2027-02_team-alpha_syn-0110.xlsx",
    "2027-04_team-gamma_syn-0112.xlsx",
    "2028-round-1_team-alpha_syn-0107.xlsx",
    "2028-round-1_team-beta_syn-0108.xlsx",
    "2028-round-1_team-gamma_syn-0109.xlsx",
]

#: Audit month -> (due date: the month end, audit period from: the day after the same day two years before).
DUE: dict[str, tuple[date, date]] = {
    "2026-10": (date(2026, 10, 31), date(2024, 11, 1)),
    "2026-11": (date(2026, 11, 30), date(2024, 12, 1)),
    "2026-12": (date(2026, 12, 31), date(2025, 1, 1)),
    "2027-01": (date(2027, 1, 31), date(2025, 2, 1)),
    "2027-02": (date(2027, 2, 28), date(2025, 3, 1)),
    "2027-04": (date(2027, 4, 30), date(2025, 5, 1)),
    "2028-02": (date(2028, 2, 29), date(2026, 3, 1)),
}

#: The case profile inputs allocate fills from a row (round only when the row names one).
PREFILLED = ("profile_case_ref", "profile_team", "profile_worker", "profile_team_manager", "profile_auditor",
             "profile_audit_month", "profile_round", "profile_due_date", "profile_period_from", "profile_period_to")


# -- helpers -------------------------------------------------------------------------------------


def invoke(*args: object) -> Result:
    """Run the auditbook CLI in-process."""
    return CliRunner().invoke(app, [str(a) for a in args])


def write_csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER, *,
              delimiter: str = ",") -> Path:
    """An allocation list as a spreadsheet program saves it (UTF-8 with a BOM)."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def contents(folder: Path) -> list[str]:
    """Everything under a folder (hidden staging folders included), relative; [] when it does not exist."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def refused(result: Result) -> None:
    """The command refused with exit 1 and a message, rather than crashing with a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)


def expected_profile(row: Row) -> dict[str, Any]:
    """What allocate should prefill for one row of the list."""
    case, team, worker, manager, auditor, month, round_name = row
    due, period_from = DUE[month]
    return {"profile_case_ref": case, "profile_team": team, "profile_worker": worker,
            "profile_team_manager": manager, "profile_auditor": auditor, "profile_audit_month": month,
            "profile_round": round_name or None, "profile_due_date": due, "profile_period_from": period_from,
            "profile_period_to": due}


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    return None if value == "" else value


def profile_values(path: Path, where: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The prefilled case profile cells of a workbook (and the derived due date and period), as openpyxl reads them."""
    wb = openpyxl.load_workbook(path, data_only=True)  # the due date and period are formulas: their values
    return {name: _plain(wb[where[name][0]][where[name][1]].value) for name in PREFILLED}


def tab(path: Path, sheet: str) -> list[dict[str, Any]]:
    """A master or pack tab as one dict per row, keyed by its header (dates as dates, blanks as "")."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [{h: "" if v is None else _plain(v) for h, v in zip(header, r, strict=True)} for r in rows[1:]
            if any(v is not None for v in r)]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def where(spec: Spec) -> dict[str, tuple[str, str]]:
    """Where each input lives, from `auditbook describe`'s data dictionary: name -> (sheet, cell)."""
    return {i["name"]: (i["sheet"], i["cell"]) for i in data_dictionary(spec)["inputs"]}


@pytest.fixture(scope="module")
def twelve(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """`auditbook allocate` run once on the twelve-case list: the result and the out folder."""
    base = tmp_path_factory.mktemp("twelve")
    listing = write_csv(base / "allocation.csv", TWELVE)
    out = base / "out"
    return invoke("allocate", listing, "--out", out), out


@pytest.fixture(scope="module")
def twelve_profiles(twelve: tuple[Result, Path], where: dict[str, tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """The prefilled case profile of each of the twelve workbooks, by file name (read once)."""
    _, out = twelve
    return {p.name: profile_values(p, where) for p in sorted(out.glob("*.xlsx"))}


# -- 1. allocate ---------------------------------------------------------------------------------


def test_twelve_cases_give_twelve_workbooks_named_by_round_team_and_case(twelve: tuple[Result, Path]) -> None:
    result, out = twelve
    assert result.exit_code == 0, result.output
    assert contents(out) == TWELVE_NAMES
    assert sorted(Path(line).name for line in result.stdout.splitlines()) == TWELVE_NAMES


def test_prefilled_cells_match_the_list(twelve_profiles: dict[str, dict[str, Any]]) -> None:
    by_case = {row[0]: row for row in TWELVE}
    assert sorted(twelve_profiles) == TWELVE_NAMES
    for name, got in twelve_profiles.items():
        case = name.removesuffix(".xlsx").rsplit("_", 1)[1].upper()
        assert got == expected_profile(by_case[case]), name


def test_due_date_is_the_month_end_and_the_period_two_years_to_it(
    twelve_profiles: dict[str, dict[str, Any]]
) -> None:
    got = {(v["profile_audit_month"], v["profile_due_date"], v["profile_period_from"], v["profile_period_to"])
           for v in twelve_profiles.values()}
    assert sorted(got) == [
        ("2026-11", date(2026, 11, 30), date(2024, 12, 1), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 31), date(2025, 1, 1), date(2026, 12, 31)),
        ("2027-01", date(2027, 1, 31), date(2025, 2, 1), date(2027, 1, 31)),
        ("2027-02", date(2027, 2, 28), date(2025, 3, 1), date(2027, 2, 28)),
        ("2027-04", date(2027, 4, 30), date(2025, 5, 1), date(2027, 4, 30)),
        ("2028-02", date(2028, 2, 29), date(2026, 3, 1), date(2028, 2, 29)),
    ]


def test_prefilled_cells_are_locked_and_every_other_input_is_not(
    twelve: tuple[Result, Path], where: dict[str, tuple[str, str]]
) -> None:
    _, out = twelve
    for name, has_round in (("2026-round-3_team-beta_syn-0102.xlsx", True), ("2026-12_team-alpha_syn-0104.xlsx",
                                                                            False)):
        wb = openpyxl.load_workbook(out / name)
        locked = sorted(n for n, (sheet, cell) in where.items() if wb[sheet][cell].protection.locked)
        assert locked == sorted(n for n in PREFILLED if has_round or n != "profile_round"), name
        unprotected = sorted(s for s in {sheet for sheet, _ in where.values()} if not wb[s].protection.sheet)
        assert unprotected == [], name


@pytest.mark.parametrize("form", ["csv", "csv-semicolons", "xlsx"])
def test_headers_match_whatever_their_case_spacing_or_alias(
    form: str, tmp_path: Path, where: dict[str, tuple[str, str]]
) -> None:
    header = ["  CASE   REF ", "team", "Social Worker", "line manager", "AUDITOR", "Month", "Audit Round"]
    rows: list[list[Any]] = [
        ["SYN-0201", "Team Alpha", "Example Worker 1", "Example Manager Alpha", "Example Auditor 1", "2028-02",
         "2028 round 1"],
        ["SYN-0202", "Team Beta", "Example Worker 2", "Example Manager Beta", "Example Auditor 2", "2026-11", ""],
    ]
    if form == "xlsx":
        listing = tmp_path / "allocation.xlsx"
        wb = openpyxl.Workbook()
        wb.active.append(header)
        rows[1][5] = datetime(2026, 11, 1)  # Excel turns a typed 2026-11 into a date
        for row in rows:
            wb.active.append(row)
        wb.save(listing)
    else:
        listing = write_csv(tmp_path / "allocation.csv", rows, header, delimiter=";" if "semicolons" in form else ",")
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out)
    assert result.exit_code == 0, result.output
    assert contents(out) == ["2026-11_team-beta_syn-0202.xlsx", "2028-round-1_team-alpha_syn-0201.xlsx"]
    got = profile_values(out / "2028-round-1_team-alpha_syn-0201.xlsx", where)
    assert got == expected_profile(("SYN-0201", "Team Alpha", "Example Worker 1", "Example Manager Alpha",
                                    "Example Auditor 1", "2028-02", "2028 round 1"))
    got = profile_values(out / "2026-11_team-beta_syn-0202.xlsx", where)
    assert got == expected_profile(("SYN-0202", "Team Beta", "Example Worker 2", "Example Manager Beta",
                                    "Example Auditor 2", "2026-11", ""))


# -- 2. bad allocations --------------------------------------------------------------------------

GOOD_A = ("SYN-0001", "Team Alpha", "Example Worker 1", "Example Manager Alpha", "Example Auditor 1", "2026-11",
          "2026 round 3")
GOOD_B = ("SYN-0003", "Team Beta", "Example Worker 3", "Example Manager Beta", "Example Auditor 2", "2026-11",
          "2026 round 3")


def _bad(**changes: str) -> tuple[str, ...]:
    fields = dict(zip(("case", "team", "worker", "manager", "auditor", "month", "round"), (
        "SYN-0002", "Team Gamma", "Example Worker 2", "Example Manager Gamma", "Example Auditor 3", "2026-11",
        "2026 round 3"), strict=True))
    return tuple({**fields, **changes}.values())


MONTH_HINT = ("is not a month: write it as YYYY-MM, for example 2026-11 (Nov-26, November 2026 and 01/11/2026 "
              "are read too)")

#: One defect each, always in spreadsheet row 3 (the header is row 1, the first good case row 2).
BAD_ROWS = {
    "missing case reference": (_bad(case=""), "Case reference is missing"),
    "case reference only spaces": (_bad(case="   "), "Case reference is missing"),
    "month misspelt": (_bad(month="Novembr 2026"), f'audit month "Novembr 2026" {MONTH_HINT}'),
    "month 13": (_bad(month="2026-13"), f'audit month "2026-13" {MONTH_HINT}'),
    "month as a US date": (_bad(month="11/30/2026"), f'audit month "11/30/2026" {MONTH_HINT}'),
    "missing month": (_bad(month=""), "Audit month (YYYY-MM) is missing"),
    "duplicate case in the round": (_bad(case="SYN-0001"),
                                    "case SYN-0001 is already allocated in row 2 for the same round"),
    "duplicate case, other capitals": (_bad(case="syn-0001"),
                                       "case syn-0001 is already allocated in row 2 for the same round"),
    "missing auditor": (_bad(auditor=""), "Auditor is missing"),
    "missing team": (_bad(team=""), "Team is missing"),
}


@pytest.mark.parametrize("defect", list(BAD_ROWS))
def test_a_bad_row_refuses_the_whole_list_and_writes_nothing(defect: str, tmp_path: Path) -> None:
    bad, message = BAD_ROWS[defect]
    listing = write_csv(tmp_path / "allocation.csv", [GOOD_A, bad, GOOD_B])
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out)
    refused(result)
    assert result.stderr.splitlines() == [
        f"Error: {listing}: 1 row cannot be used:",
        f"  row 3: {message}",
        "Nothing was written. Fix those rows, or use --partial to write the good rows only.",
    ]
    assert contents(out) == []


def test_every_bad_row_is_named_by_its_spreadsheet_row(tmp_path: Path) -> None:
    listing = write_csv(tmp_path / "allocation.csv", [
        GOOD_A,                                   # row 2
        ("",) * 7,                                # row 3: blank rows are skipped, but still count
        _bad(case=""),                            # row 4
        GOOD_B,                                   # row 5
        _bad(case="SYN-0006", team="", month="2026/13"),  # row 6: two problems at once
        _bad(case="SYN-0003"),                    # row 7: duplicates row 5
    ])
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out)
    refused(result)
    assert result.stderr.splitlines() == [
        f"Error: {listing}: 3 rows cannot be used:",
        "  row 4: Case reference is missing",
        f'  row 6: Team is missing; audit month "2026/13" {MONTH_HINT}',
        "  row 7: case SYN-0003 is already allocated in row 5 for the same round",
        "Nothing was written. Fix those rows, or use --partial to write the good rows only.",
    ]
    assert contents(out) == []


def test_partial_writes_the_good_rows_and_lists_the_bad(tmp_path: Path) -> None:
    listing = write_csv(tmp_path / "allocation.csv", [GOOD_A, _bad(month="Nov 20026"), GOOD_B, _bad(auditor="")])
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out, "--partial")
    refused(result)
    assert contents(out) == ["2026-round-3_team-alpha_syn-0001.xlsx", "2026-round-3_team-beta_syn-0003.xlsx"]
    assert [Path(line).name for line in result.stdout.splitlines()] == [
        "2026-round-3_team-alpha_syn-0001.xlsx", "2026-round-3_team-beta_syn-0003.xlsx"]
    assert result.stderr.splitlines() == [
        f"{listing}: 2 rows cannot be used:",
        f'  row 3: audit month "Nov 20026" {MONTH_HINT}',
        "  row 5: Auditor is missing",
    ]


@pytest.mark.parametrize("column", ["Case reference", "Team", "Auditor", "Audit month (YYYY-MM)"])
def test_a_missing_header_column_is_named(column: str, tmp_path: Path) -> None:
    keep = [i for i, h in enumerate(HEADER) if h != column]
    listing = write_csv(tmp_path / "allocation.csv", [[GOOD_A[i] for i in keep]], [HEADER[i] for i in keep])
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out)
    refused(result)
    assert result.stderr.splitlines() == [
        f"Error: {listing}: row 1 (the header) has no column for {column}. Start from `auditbook allocate "
        "--template`."]
    assert contents(out) == []


def test_existing_workbooks_are_not_overwritten(tmp_path: Path) -> None:
    listing = write_csv(tmp_path / "allocation.csv", [GOOD_A, GOOD_B])
    out = tmp_path / "out"
    out.mkdir()
    started = out / "2026-round-3_team-beta_syn-0003.xlsx"
    started.write_bytes(b"an auditor's work in progress")
    result = invoke("allocate", listing, "--out", out)
    refused(result)
    assert "2026-round-3_team-beta_syn-0003.xlsx already exist" in result.stderr
    assert contents(out) == ["2026-round-3_team-beta_syn-0003.xlsx"]
    assert started.read_bytes() == b"an auditor's work in progress"


def test_case_references_that_make_the_same_file_name_are_refused(tmp_path: Path) -> None:
    """SYN-0001 and "SYN 0001" are different cases to the list but one file name on disk."""
    listing = write_csv(tmp_path / "allocation.csv", [GOOD_A, _bad(case="SYN 0001", team="Team Alpha")])
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out)
    refused(result)
    assert "row 3" in result.stderr
    assert contents(out) == []


def test_a_case_reference_too_long_for_a_workbook_is_a_bad_row(tmp_path: Path) -> None:
    """generate caps case references (they go into every page footer): allocate must say which row, and
    --partial must still write the other rows."""
    listing = write_csv(tmp_path / "allocation.csv", [GOOD_A, _bad(case="SYN-" + "9" * 80), GOOD_B])
    out = tmp_path / "out"
    result = invoke("allocate", listing, "--out", out, "--partial")
    refused(result)
    assert "row 3" in result.stderr, result.stderr
    assert contents(out) == ["2026-round-3_team-alpha_syn-0001.xlsx", "2026-round-3_team-beta_syn-0003.xlsx"]


def test_error_names_the_allocation_file_exactly(tmp_path: Path) -> None:
    listing = write_csv(tmp_path / "allocation [v2].csv", [GOOD_A, _bad(auditor="")])
    result = invoke("allocate", listing, "--out", tmp_path / "out")
    refused(result)
    assert result.stderr.splitlines()[0] == f"Error: {listing}: 1 row cannot be used:"


def test_template_has_the_headers_and_is_accepted_once_filled(tmp_path: Path,
                                                              where: dict[str, tuple[str, str]]) -> None:
    result = invoke("allocate", "--template", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    template = tmp_path / "allocation-template.csv"
    assert result.stdout.splitlines() == [str(template)]
    with template.open(encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == [HEADER]
    with template.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(GOOD_A)
    out = tmp_path / "out"
    result = invoke("allocate", template, "--out", out)
    assert result.exit_code == 0, result.output
    assert contents(out) == ["2026-round-3_team-alpha_syn-0001.xlsx"]
    assert profile_values(out / "2026-round-3_team-alpha_syn-0001.xlsx", where) == expected_profile(GOOD_A)


# -- 3. returns ----------------------------------------------------------------------------------

TODAY = datetime(2026, 12, 15)
ROUND = "2026 round 3"

#: The allocation for the returns tests; what came back for each case is in RETURNED.
ALLOCATED: list[Row] = [
    ("SYN-0001", "Team Beta", "Example Worker 1", "Example Manager Beta", "Example Auditor 1", "2026-11", ROUND),
    ("SYN-0002", "Team Gamma", "Example Worker 2", "Example Manager Gamma", "Example Auditor 2", "2026-11", ROUND),
    ("SYN-0003", "Team Alpha", "Example Worker 3", "Example Manager Alpha", "Example Auditor 3", "2026-11", ROUND),
    ("SYN-0004", "Team Beta", "Example Worker 4", "Example Manager Beta", "Example Auditor 1", "2026-11", ROUND),
    ("SYN-0005", "Team Gamma", "Example Worker 5", "Example Manager Gamma", "Example Auditor 2", "2026-11", ROUND),
    ("SYN-0006", "Team Alpha", "Example Worker 6", "Example Manager Alpha", "Example Auditor 3", "2026-11", ROUND),
    ("SYN-0007", "Team Beta", "Example Worker 7", "Example Manager Beta", "Example Auditor 1", "2026-12", ROUND),
    ("SYN-0008", "Team Gamma", "Example Worker 8", "Example Manager Gamma", "Example Auditor 2", "2026-10", ROUND),
]
NOT_ALLOCATED: Row = ("SYN-0009", "Team Alpha", "Example Worker 9", "Example Manager Alpha", "Example Auditor 3",
                      "2026-11", ROUND)
#: case -> (scenario, how it came back); SYN-0006..8 did not come back.
RETURNED = {
    "SYN-0001": ("child_protection", "on time"),
    "SYN-0002": ("in_care_16_plus", "on time"),
    "SYN-0003": ("early_help", "late"),
    "SYN-0004": ("child_in_need", "late"),
    "SYN-0005": ("child_protection", "rejected"),
    "SYN-0009": ("early_help", "on time"),
}
ACTIONS_PER_RETURN = 2


@pytest.fixture(scope="module")
def built_returns(layout: Layout, spec: Spec,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The returns folder (built once; copy it) and the answers each return was filled with."""
    folder = tmp_path_factory.mktemp("returns") / "returns"
    rows = {r[0]: r for r in [*ALLOCATED, NOT_ALLOCATED]}
    answers: dict[str, dict[str, Any]] = {}
    for i, (case, (scenario, how)) in enumerate(RETURNED.items(), start=1):
        _, team, worker, manager, auditor, month, round_name = rows[case]
        filled: dict[str, Any] = synthetic_answers(layout, seed=100 + i, scenario=scenario, index=int(case[4:]),
                                                   month=month, late=how == "late", actions=ACTIONS_PER_RETURN)
        filled.update(profile_case_ref=case, profile_team=team, profile_worker=worker, profile_team_manager=manager,
                      profile_auditor=auditor, profile_round=round_name)
        if how == "rejected":
            filled["assessment_grade"] = "Goodish"
        build_workbook(spec, out=folder / f"return_{case}.xlsx", prefill=filled)
        answers[case] = filled
    return folder, answers


@pytest.fixture
def returns_folder(built_returns: tuple[Path, dict[str, dict[str, Any]]], tmp_path: Path) -> Path:
    """A fresh copy of the returns folder."""
    return Path(shutil.copytree(built_returns[0], tmp_path / "returns"))


def expected_returns(answers: dict[str, dict[str, Any]], *, with_round: bool) -> list[tuple[Any, ...]]:
    """The Returns tab for TODAY, without the rejected return's Detail: (case, team, auditor, manager, round,
    due, status, detail, file)."""
    status = {"SYN-0001": "Returned on time", "SYN-0002": "Returned on time", "SYN-0003": "Returned late",
              "SYN-0004": "Returned late", "SYN-0005": "Returned but rejected", "SYN-0006": "Outstanding (overdue)",
              "SYN-0007": "Outstanding", "SYN-0008": "Outstanding (overdue)"}
    out: list[tuple[Any, ...]] = []
    for case, team, _, manager, auditor, month, round_name in [*ALLOCATED, NOT_ALLOCATED]:
        completed = answers[case]["profile_date_completed"] if case in answers else None
        detail = f"completed {completed:%d/%m/%Y}" if completed and case != "SYN-0005" else ""
        if case == "SYN-0009":
            detail, st = "no row of the allocation list matches this case and round", "Returned, not allocated"
        else:
            st = status[case]
            round_name = round_name if with_round else month
        out.append((case, team, auditor, manager, round_name, DUE[month][0], st, detail,
                    f"return_{case}.xlsx" if case in answers else ""))
    return out


def _returns_rows(master: Path) -> list[tuple[Any, ...]]:
    cols = ("Case reference", "Team", "Auditor", "Team manager", "Round", "Due date", "Status", "Detail", "File")
    return [tuple(r[c] for c in cols) for r in tab(master, "Returns")]


def _allocation_csv(path: Path, *, with_round: bool) -> Path:
    if with_round:
        return write_csv(path, ALLOCATED)
    return write_csv(path, [r[:6] for r in ALLOCATED], HEADER[:6])


@pytest.mark.parametrize("with_round", [True, False], ids=["rounds named", "no round column"])
def test_returns_tab_gives_every_allocated_case_its_status(
    with_round: bool, returns_folder: Path, built_returns: tuple[Path, dict[str, dict[str, Any]]],
    spec: Spec, tmp_path: Path, where: dict[str, tuple[str, str]]
) -> None:
    listing = _allocation_csv(tmp_path / "allocation.csv", with_round=with_round)
    rows, bad = read_allocation(listing)
    assert bad == []
    master = tmp_path / "master.xlsx"
    result = collect(returns_folder, out=master, ledger_path=tmp_path / "ledger.sqlite3",
                     registry=SpecRegistry.of(spec), now=TODAY, allocation=rows)
    got = _returns_rows(master)
    assert [r if r[0] != "SYN-0005" else (*r[:7], "", r[8]) for r in got] == expected_returns(
        built_returns[1], with_round=with_round)
    rejected = next(r for r in got if r[0] == "SYN-0005")
    sheet, cell = where["assessment_grade"]
    assert f'{sheet}!{cell}: Section grade: "Goodish"' in rejected[7], rejected
    assert result.outstanding == 3


def test_summary_tab_counts_the_statuses(returns_folder: Path, spec: Spec, tmp_path: Path) -> None:
    rows, _ = read_allocation(_allocation_csv(tmp_path / "allocation.csv", with_round=True))
    master = tmp_path / "master.xlsx"
    collect(returns_folder, out=master, ledger_path=tmp_path / "ledger.sqlite3", registry=SpecRegistry.of(spec),
            now=TODAY, allocation=rows)
    ws = openpyxl.load_workbook(master)["Summary"]
    counts = {str(a): b for a, b in ws.iter_rows(min_col=1, max_col=2, values_only=True)
              if str(a).startswith("Allocated: ")}
    assert counts == {
        "Allocated: returned on time": 2,
        "Allocated: returned late": 2,
        "Allocated: returned but rejected": 1,
        "Allocated: outstanding": 1,
        "Allocated: outstanding (overdue)": 2,
        "Allocated: returned, not allocated": 1,
        "Allocated: rejected, not allocated": 0,
    }


def test_cli_names_how_many_are_outstanding_and_again_when_nothing_changed(returns_folder: Path,
                                                                           tmp_path: Path) -> None:
    listing = _allocation_csv(tmp_path / "allocation.csv", with_round=True)
    master = tmp_path / "master.xlsx"
    first = invoke("collect", returns_folder, "--out", master, "--allocation", listing)
    assert first.exit_code == 1, first.output  # one return is rejected
    assert first.stdout.splitlines()[-1] == ("6 files: 0 unchanged since last run, 6 read; "
                                             "master holds 5 audits; 1 rejected; 0 duplicate; 0 superseded; "
                                             "3 outstanding")
    tab_before = _returns_rows(master)
    again = invoke("collect", returns_folder, "--out", master, "--allocation", listing)
    assert again.exit_code == 1, again.output
    assert again.stdout.splitlines()[-1] == ("6 files: 6 unchanged since last run, 0 read; "
                                             "master holds 5 audits; 1 rejected; 0 duplicate; 0 superseded; "
                                             "3 outstanding")
    assert _returns_rows(master) == tab_before


def test_nothing_changed_keeps_the_statuses_and_a_later_day_updates_them(returns_folder: Path, spec: Spec,
                                                                         tmp_path: Path) -> None:
    rows, _ = read_allocation(_allocation_csv(tmp_path / "allocation.csv", with_round=True))
    options: dict[str, Any] = {"out": tmp_path / "master.xlsx", "ledger_path": tmp_path / "ledger.sqlite3",
                               "registry": SpecRegistry.of(spec), "allocation": rows}
    first = collect(returns_folder, now=TODAY, **options)
    again = collect(returns_folder, now=TODAY, **options)
    assert again.collation is None  # the no-change shortcut: the master was left as it was
    assert (again.outstanding, again.returns) == (first.outstanding, first.returns)
    later = collect(returns_folder, now=datetime(2027, 1, 5), **options)
    assert [(r.case_ref, r.status) for r in later.returns or () if r.status.startswith("Outstanding")] == [
        ("SYN-0006", "Outstanding (overdue)"), ("SYN-0007", "Outstanding (overdue)"),
        ("SYN-0008", "Outstanding (overdue)")]
    assert [r["Status"] for r in tab(tmp_path / "master.xlsx", "Returns") if r["Case reference"] == "SYN-0007"] == [
        "Outstanding (overdue)"]


# -- 4. manager packs ----------------------------------------------------------------------------

PACKS = {
    "pack_example-manager-alpha.xlsx": ["SYN-0003", "SYN-0009"],
    "pack_example-manager-beta.xlsx": ["SYN-0001", "SYN-0004"],
    "pack_example-manager-gamma.xlsx": ["SYN-0002"],  # SYN-0005 was rejected: nothing to send
}


def test_each_manager_pack_holds_exactly_that_managers_cases_and_actions(
    returns_folder: Path, built_returns: tuple[Path, dict[str, dict[str, Any]]], tmp_path: Path
) -> None:
    answers = built_returns[1]
    listing = _allocation_csv(tmp_path / "allocation.csv", with_round=True)
    packs = tmp_path / "packs"
    result = invoke("collect", returns_folder, "--out", tmp_path / "master.xlsx", "--allocation", listing,
                    "--packs", packs)
    assert result.exit_code == 1, result.output
    assert contents(packs) == sorted(PACKS)
    every_case = {r[0] for r in [*ALLOCATED, NOT_ALLOCATED]}
    for name, cases in PACKS.items():
        path = packs / name
        findings = tab(path, "Findings")
        assert sorted({r["Case reference"] for r in findings}) == cases, name
        overall = [(r["Case reference"], r["Grade"]) for r in findings if r["Section"] == "Overall judgement"]
        assert overall == [(c, answers[c]["overall_overall_grade"]) for c in cases], name
        actions = tab(path, "Actions")
        assert "Status" in actions[0], name
        got = sorted((r["Case reference"], r["Action"]) for r in actions)
        assert got == sorted((c, answers[c][f"actions_r0{i}_action"]) for c in cases
                             for i in range(1, ACTIONS_PER_RETURN + 1)), name
        others = every_case - set(cases)
        wb = openpyxl.load_workbook(path)
        leaks = sorted({(ws.title, o) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                        for v in row if isinstance(v, str) for o in others if o in v})
        assert leaks == [], name


def test_a_failure_in_one_worker_leaves_no_workbook_behind(spec: Spec, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from auditbook.allocation import prefilled as allocate_module
    from auditbook.errors import WorkbookError

    real = allocate_module.build_workbook

    def failing(spec: Spec, *, out: Path, **kw: Any) -> Path:
        if out.name.endswith("syn-0113.xlsx"):
            raise WorkbookError("the disk is full (simulated)")
        return real(spec, out=out, **kw)

    monkeypatch.setattr(allocate_module, "build_workbook", failing)  # inherited by the forked workers
    rows = [(f"SYN-01{i:02d}", "Team Alpha", "Example Worker", "Example Manager Alpha", "Example Auditor",
             "2026-11", "") for i in range(1, 21)]
    listing, _ = read_allocation(write_csv(tmp_path / "allocation.csv", rows))
    out = tmp_path / "out"
    with pytest.raises(WorkbookError, match="simulated"):
        allocate_module.allocate(spec, listing, out=out, workers=2)
    assert contents(out) == []
