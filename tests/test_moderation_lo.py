"""The real client for moderation (issue 17): LibreOffice fills a moderation workbook made by generate --moderate
(the audit's answers locked, the moderator's inputs open), and collect pairs what it saves with its audit."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from auditbook.allocation.moderate import moderation_from_return
from auditbook.collection.collect import collect
from auditbook.returns.audit import APPLIES
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec.moderation import MODERATION
from auditbook.spec.roles import Role
from tests import returns
from tests.lo.driver import fill, require_libreoffice
from tests.moderation import MODERATOR, moderator_answers

pytestmark = pytest.mark.libreoffice

REGISTRY = SpecRegistry.of(returns.spec())


def test_libreoffice_fills_a_moderation_workbook_and_it_merges(tmp_path: Path) -> None:
    require_libreoffice()
    folder = tmp_path / "returns"
    folder.mkdir()
    audit_path = returns.valid_return(folder / "SYN-0001.xlsx")
    audit = validate_file(audit_path, registry=REGISTRY).audit
    assert audit is not None
    blank = moderation_from_return(audit_path, out=tmp_path / "made", registry=REGISTRY)
    theirs = audit.text(Role.OVERALL_GRADE)
    ours = "Inadequate" if theirs != "Inadequate" else "Good"
    answers = moderator_answers(returns.spec(), audit, ours)
    saved = folder / "moderation of SYN-0001.xlsx"
    shown = fill(blank, saved, answers, read=["status_moderation"])
    assert shown == {"status_moderation": "Complete"}

    report = validate_file(saved, registry=REGISTRY)
    assert [p.render() for p in report.problems] == []
    assert report.audit is not None and report.audit.provenance.kind == MODERATION
    # The audit's answers came through LibreOffice as they were locked in.
    before = {a.name: a.value for a in audit.answers if a.applies == APPLIES}
    after = {a.name: a.value for a in report.audit.answers if a.name in before}
    assert after == before
    assert report.audit.answer("moderation", "moderator") == MODERATOR

    result = collect(folder, out=tmp_path / "master.xlsx", ledger_path=tmp_path / "ledger.sqlite3",
                     registry=REGISTRY)
    assert result.evidence is not None
    c = result.evidence.collation
    assert [m.file for m in c.merged] == ["SYN-0001.xlsx"] and c.not_merged == []
    [pair] = c.moderations
    assert pair.file == "moderation of SYN-0001.xlsx"
    assert pair.overall is not None and (pair.overall.auditor, pair.overall.moderator) == (theirs, ours)
    wb = openpyxl.load_workbook(tmp_path / "master.xlsx")
    rows = [[c.value for c in r] for r in wb["Moderation"].iter_rows()]
    assert rows[5][:3] == ["Overall grade", 1, 0]
    # The original grade is in the master beside the moderated one.
    audits = [[c.value for c in r] for r in wb["Audits"].iter_rows()]
    assert audits[1][audits[0].index("Overall grade")] == ours
    graded = [[c.value for c in r] for r in wb["Moderated grades"].iter_rows()]
    overall = next(r for r in graded if r[graded[0].index("Grade")] == "Overall grade")
    assert (overall[graded[0].index("Auditor's grade")], overall[graded[0].index("Moderator's grade")]) == (
        theirs, ours)
