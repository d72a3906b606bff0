"""allocate --moderate (issue 17): a sample of a collected round's audits, stratified by team and grade with every
Inadequate one included, the same for the same seed; its moderation workbooks, and the rows that track them on the
Returns tab."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from auditbook.allocation.lists import MODERATION_KIND, read_allocation
from auditbook.allocation.moderate import Candidate, sample, sample_size
from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec.moderation import MODERATION
from tests import returns
from tests.moderation import audit_round, moderation_return, moderator_answers

G, RI, INAD = "Good", "Requires improvement", "Inadequate"
GRADES = [G, G, RI, RI, INAD, RI, G, INAD, G, RI]
TEAMS = ["Team Alpha", "Team Alpha", "Team Alpha", "Team Beta", "Team Beta", "Team Beta", "Team Beta",
         "Team Alpha", "Team Beta", "Team Alpha"]
NOW = datetime(2026, 12, 5, 9, 0)
REGISTRY = SpecRegistry.of(returns.spec())


def invoke(*args: object) -> Result:
    """Run the auditbook CLI in-process."""
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Ten audits of one round, collected (the folder, and where the ledger is)."""
    folder = tmp_path_factory.mktemp("returns")
    audit_round(folder, GRADES, teams=TEAMS)
    out = tmp_path_factory.mktemp("collected")
    collect(folder, out=out / "master.xlsx", ledger_path=out / "ledger.sqlite3", registry=REGISTRY, now=NOW)
    return folder, out / "ledger.sqlite3"


def moderate(folder: Path, ledger: Path, out: Path, *more: object) -> Result:
    return invoke("allocate", "--moderate", "30%", "--returns", folder, "--ledger", ledger, "--out", out, *more)


def cases(listing: Path) -> list[str]:
    with listing.open(encoding="utf-8", newline="") as f:
        return [row["Case reference"] for row in csv.DictReader(f)]


def test_sample_takes_every_inadequate_and_spreads_the_rest_over_the_strata() -> None:
    audits = {i: validate_stub(i) for i in range(12)}
    grades = [G, G, G, G, RI, RI, RI, RI, G, G, INAD, RI]
    teams = ["A", "A", "B", "B", "A", "A", "B", "B", "A", "B", "A", "B"]
    candidates = [Candidate(audits[i], "R1", teams[i], grades[i]) for i in range(12)]
    chosen = sample(candidates, 5, inadequate=[INAD], seed=3)
    assert len(chosen) == 5
    assert [c.grade for c in chosen].count(INAD) == 1
    # 4 more from 11 in four strata of 3, 2, 3, 3 (team, grade): shares 1.09, 0.73, 1.09, 1.09 give 1 each.
    assert sorted((c.team, c.grade) for c in chosen if c.grade != INAD) == [("A", G), ("A", RI), ("B", G), ("B", RI)]
    assert [c.audit.case_ref for c in chosen] == [c.audit.case_ref for c in sample(candidates, 5, inadequate=[INAD],
                                                                                      seed=3)]
    # More Inadequate audits than the sample asks for: all of them are taken.
    assert len(sample(candidates, 0, inadequate=[INAD, RI], seed=3)) == 6


def validate_stub(i: int) -> object:
    """A stand-in audit: only its case reference and instance id are read by the sampler."""

    class Provenance:
        instance_id = f"id-{i}"

    class Stub:
        case_ref = f"SYN-{i:04d}"
        provenance = Provenance()

    return Stub()


def test_sample_size_reads_a_share_or_a_number() -> None:
    assert [sample_size(t, 10) for t in ("10%", "25 %", "3", "100", "100%")] == [1, 3, 3, 10, 10]
    with pytest.raises(Exception, match="is not a share or a number"):
        sample_size("ten", 10)


def test_allocate_moderate_writes_the_sample_and_tracks_it(collected: tuple[Path, Path], tmp_path: Path) -> None:
    folder, ledger = collected
    result = moderate(folder, ledger, tmp_path / "m1", "--seed", "7", "--moderator", "Example Moderator")
    assert result.exit_code == 0, result.output
    listing = tmp_path / "m1" / "moderation-list.csv"
    chosen = cases(listing)
    # ceil(30% of 10) = 3, and both Inadequate audits (SYN-0005, SYN-0008) are in it.
    assert len(chosen) == 3 and {"SYN-0005", "SYN-0008"} <= set(chosen)
    assert "3 of 10 audits of" in result.stderr
    # The same seed gives the same sample.
    again = moderate(folder, ledger, tmp_path / "m2", "--seed", "7")
    assert again.exit_code == 0, again.output
    assert cases(tmp_path / "m2" / "moderation-list.csv") == chosen
    workbooks = sorted((tmp_path / "m1").glob("moderation_*.xlsx"))
    assert len(workbooks) == 3
    report = validate_file(workbooks[0], registry=REGISTRY)
    assert report.audit is not None and report.audit.provenance.kind == MODERATION
    # The list's rows are allocation rows of kind Moderation; with the audits' rows they track the sample.
    rows, bad = read_allocation(listing)
    assert bad == [] and [r.kind for r in rows] == [MODERATION_KIND] * 3
    assert {r.auditor for r in rows} == {"Example Moderator"}
    # One moderation comes back: its row is returned, the others outstanding.
    audit = next(validate_file(p, registry=REGISTRY).audit for p in sorted(folder.glob("audit-*.xlsx"))
                 if validate_file(p, registry=REGISTRY).audit.case_ref == chosen[0])  # type: ignore[union-attr]
    assert audit is not None
    back = tmp_path / "back"
    shutil.copytree(folder, back)
    moderation_return(back / "moderation.xlsx", audit, moderator_answers(returns.spec(), audit, G))
    out = tmp_path / "out"
    done = collect(back, out=out / "master.xlsx", ledger_path=out / "ledger.sqlite3", registry=REGISTRY, now=NOW,
                   allocation=rows)
    statuses = sorted((r.case_ref, r.status, r.detail.split(":")[0]) for r in done.returns or [])
    assert statuses == sorted([(chosen[0], "Returned on time", "moderation returned"),
                               *((c, "Outstanding", "moderation") for c in chosen[1:])])
    wb = openpyxl.load_workbook(out / "master.xlsx")
    assert [r[6].value for r in wb["Returns"].iter_rows(min_row=2)].count("Outstanding") == 2


def test_allocate_moderate_needs_the_returns_folder(tmp_path: Path) -> None:
    result = invoke("allocate", "--moderate", "10%", "--out", tmp_path)
    assert result.exit_code == 2
    assert "give the returns folder with --returns" in result.output
