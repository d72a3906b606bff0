"""The ledger signs every row it keeps (review, should-fix 1): the action register, what was written into
masters and packs, the SAG plan and the rounds seen, besides files and meta; each signature carries the
ledger's own id, so a row copied from another ledger, or a row put back after --forget, is not believed. An
edited row is reported, never a crash. A version 3 ledger is upgraded in place: its folder binding, its files
(not read again) and its action register (statuses kept under the old action ids too) survive.

Everything here is synthetic.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditbook.analysis.actions import _legacy_id
from auditbook.analysis.collate import Merged
from auditbook.collection.collect import collect
from auditbook.collection.result import CollectResult
from auditbook.errors import CollectError
from auditbook.returns.provenance import SpecRegistry
from auditbook.store.ledger import Ledger, _rows_sha
from auditbook.store.tables import TABLES
from tests.returns import make_return, spec
from tests.test_register import _returns, actions_tab, type_into

NOW = datetime(2026, 12, 7, 9, 30)
REGISTRY = SpecRegistry.of(spec())


def run(folder: Path, ledger: Path, **options: Any) -> CollectResult:
    return collect(folder, out=folder.parent / "m.xlsx", ledger_path=ledger, registry=REGISTRY,
                   **{"now": NOW, **options})


def sql(ledger: Path, statement: str, *args: object) -> list[tuple[object, ...]]:
    db = sqlite3.connect(ledger)
    try:
        rows = db.execute(statement, args).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


@pytest.fixture
def kept(tmp_path: Path) -> tuple[Path, Path, str]:
    """A collected folder whose master has a status typed against one action, taken into the register."""
    folder, ledger = tmp_path / "returns", tmp_path / "ledger.sqlite3"
    _returns(folder)
    run(folder, ledger)
    target = actions_tab(tmp_path / "m.xlsx")[1]["Action ID"]
    type_into(tmp_path / "m.xlsx", "Actions", {(target, "Status"): "In progress"})
    run(folder, ledger)
    assert sql(ledger, "SELECT status FROM action_register WHERE action_id = ?", target) == [("In progress",)]
    return folder, ledger, target


def test_every_table_is_signed(kept: tuple[Path, Path, str]) -> None:
    _, ledger, _ = kept
    for table in ("files", "meta", *(t.name for t in TABLES if t.name != "sag_plan")):
        macs = [r[0] for r in sql(ledger, f"SELECT mac FROM {table}")]
        assert macs and all(len(str(m)) == 64 for m in macs), table
    assert sql(ledger, "SELECT count(*) FROM files WHERE stat_mac = ''") == [(0,)]


def test_an_edited_register_row_is_reported_not_believed(kept: tuple[Path, Path, str]) -> None:
    folder, ledger, target = kept
    sql(ledger, "UPDATE action_register SET status = 'Done', closed = 'not a date' WHERE action_id = ?", target)
    # An earlier round's stored figures, edited (the round collected now is worked out again from its returns).
    sql(ledger, "INSERT INTO rounds SELECT '2026 round 1', '{not json', updated, mac FROM rounds")
    result = run(folder, ledger, threshold=0.4)  # a rebuild
    warnings = result.evidence.readback.warnings
    assert warnings == [
        "the stored figures of round 2026 round 1: changed outside auditbook (in the ledger), so left out.",
        f"the action register's entry for {target}: changed outside auditbook (in the ledger), so left out."]
    assert [r.round for r in result.evidence.rounds] == [result.evidence.current.round]
    assert {r["Action ID"]: r["Status"] for r in actions_tab(folder.parent / "m.xlsx")}[target] is None


def test_a_signature_that_is_not_hex_is_not_a_crash(kept: tuple[Path, Path, str]) -> None:
    folder, ledger, _ = kept
    sql(ledger, "UPDATE meta SET mac = 'é' WHERE key = 'outcome'")
    sql(ledger, "UPDATE action_register SET mac = 'ü'")
    sql(ledger, "UPDATE files SET mac = 7, stat_mac = 'ß'")
    result = run(folder, ledger)
    assert result.read == 3


def test_a_row_copied_from_another_ledger_is_not_believed(tmp_path: Path, kept: tuple[Path, Path, str]) -> None:
    _, ledger, target = kept
    other_folder, other = tmp_path / "other" / "returns", tmp_path / "other.sqlite3"
    _returns(other_folder)  # the same returns collected into a second ledger of the same collator
    run(other_folder, other)
    assert sql(other, "SELECT count(*) FROM action_register") == [(0,)]
    row = sql(ledger, "SELECT * FROM action_register WHERE action_id = ?", target)[0]
    sql(other, f"INSERT INTO action_register VALUES ({', '.join('?' * len(row))})", *row)
    result = run(other_folder, other, threshold=0.4)
    assert result.evidence.states.get(target) is None
    assert any(target in w for w in result.evidence.readback.warnings)


def test_a_forgotten_row_put_back_is_not_believed(kept: tuple[Path, Path, str]) -> None:
    folder, ledger, _ = kept
    (folder / "SYN-0001.xlsx").unlink()
    row = sql(ledger, "SELECT * FROM files WHERE path = 'SYN-0001.xlsx'")[0]
    forgot = run(folder, ledger, forget=(Path("SYN-0001.xlsx"),))
    assert [m["case_ref"] for m in forgot.merged] == ["SYN-0002", "SYN-0003"]
    sql(ledger, f"INSERT INTO files VALUES ({', '.join('?' * len(row))})", *row)
    result = run(folder, ledger)
    assert [m["case_ref"] for m in result.merged] == ["SYN-0002", "SYN-0003"]
    assert [(n.file, n.reason) for n in result.not_merged] == [
        ("SYN-0001.xlsx", "ledger entry damaged")]
    # The file itself put back is read again, and believed.
    make_return(folder / "SYN-0001.xlsx", {})
    assert run(folder, ledger).read == 1


def test_an_edited_size_and_time_do_not_hide_a_changed_file(kept: tuple[Path, Path, str]) -> None:
    folder, ledger, _ = kept
    path = folder / "SYN-0002.xlsx"
    before = path.stat()
    path.write_bytes(path.read_bytes() + b"")  # same bytes: unchanged
    make_return(path, {})  # a different return under the same name
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    st = path.stat()
    sql(ledger, "UPDATE files SET size = ?, mtime_ns = ? WHERE path = 'SYN-0002.xlsx'", st.st_size, st.st_mtime_ns)
    assert run(folder, ledger).read == 1


def test_a_schema_row_from_elsewhere_is_refused_plainly(kept: tuple[Path, Path, str]) -> None:
    folder, ledger, _ = kept
    sql(ledger, "UPDATE meta SET value = '9' WHERE key = 'schema'")
    with pytest.raises(CollectError, match=r"was made by another version of auditbook \(ledger schema 9\)"):
        run(folder, ledger)


def _as_version_3(ledger_path: Path, folder: Path) -> None:
    """Turn a ledger into what auditbook wrote with ledger schema 3: files and meta signed without a ledger id,
    no stat signatures, the other tables unsigned, action ids with the round in them."""
    ledger = Ledger(ledger_path, folder=str(folder.resolve()))
    v3 = ledger._mac
    db = ledger.db
    for path, sha, report, registry in db.execute("SELECT path, sha256, report, registry FROM files").fetchall():
        db.execute("UPDATE files SET mac = ? WHERE path = ?", (v3(None, "file", path, sha, report, registry), path))
    for key, value in db.execute("SELECT key, value FROM meta").fetchall():
        db.execute("UPDATE meta SET mac = ? WHERE key = ?", (v3(None, "meta", key, value), key))
    db.execute("DELETE FROM meta WHERE key = 'ledger_id'")
    db.execute("UPDATE meta SET value = '3', mac = '' WHERE key = 'schema'")
    db.execute("ALTER TABLE files DROP COLUMN stat_mac")
    for table in TABLES:
        db.execute(f"ALTER TABLE {table.name} DROP COLUMN mac")
    ledger.commit()
    ledger.close()


def test_a_version_3_ledger_is_upgraded_in_place(kept: tuple[Path, Path, str], tmp_path: Path) -> None:
    folder, ledger, target = kept
    # Version 3 kept the status under the id auditbook gave then, with the round in it.
    case, row = target.rsplit("-", 2)[0], int(target.rsplit("-", 2)[1][1:])
    (m,) = [m for m in run_and_merged(folder) if m.audit.case_ref == case]
    legacy = _legacy_id(case, m.round, m.audit.provenance.instance_id, row)
    _as_version_3(ledger, folder)
    sql(ledger, "UPDATE action_register SET action_id = ? WHERE action_id = ?", legacy, target)
    result = run(folder, ledger, threshold=0.4)
    assert result.read == 0  # its files were not read again
    assert {r["Action ID"]: r["Status"] for r in actions_tab(folder.parent / "m.xlsx")}[target] == "In progress"
    assert sql(ledger, "SELECT value FROM meta WHERE key = 'schema'") == [("4",)]
    assert sql(ledger, "SELECT action_id FROM action_register") == [(target,)]
    assert result.evidence.readback.warnings == []
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(CollectError, match="belongs to the folder"):  # still bound to its folder
        collect(tmp_path / "elsewhere", ledger_path=ledger, registry=REGISTRY)


def run_and_merged(folder: Path) -> list[Merged]:
    """The audits a fresh collect of the folder merges (ledger of its own)."""
    result = collect(folder, out=folder.parent / "scratch.xlsx", ledger_path=folder.parent / "scratch.sqlite3",
                     registry=REGISTRY, now=NOW)
    assert result.collation is not None
    return list(result.collation.merged)


def test_replacing_rows_leaves_those_as_they_are_and_mends_an_altered_one(tmp_path: Path) -> None:
    path, folder = tmp_path / "ledger.sqlite3", tmp_path / "returns"
    folder.mkdir()
    seen = next(t for t in TABLES if t.name == "action_seen")
    ledger = Ledger(path, folder=str(folder.resolve()))
    ledger.replace_rows(seen, "source = ?", ("master",), [("master", "A1", "Open", "", None),
                                                          ("master", "A2", "Done", "ok", "2026-12-01")])
    ledger.put_row(seen, ("pack:x.xlsx", "A1", "Open", "", None))
    ledger.commit()
    before = dict(sql(path, "SELECT action_id, rowid FROM action_seen WHERE source = 'master'"))
    sql(path, "UPDATE action_seen SET notes = 'typed' WHERE action_id = 'A2'")  # outside auditbook: mac now wrong
    ledger.replace_rows(seen, "source = ?", ("master",), [("master", "A1", "Open", "", None),
                                                          ("master", "A2", "Done", "ok", "2026-12-01"),
                                                          ("master", "A3", "Open", "", None)])
    ledger.commit()
    assert dict(sql(path, "SELECT action_id, rowid FROM action_seen WHERE source = 'master'"))["A1"] == before["A1"]
    good, bad = ledger.rows(seen)
    assert bad == []
    assert sorted(good, key=str) == sorted([("master", "A1", "Open", "", None), ("master", "A2", "Done", "ok",
                                            "2026-12-01"), ("master", "A3", "Open", "", None),
                                            ("pack:x.xlsx", "A1", "Open", "", None)], key=str)
    ledger.replace_rows(seen, "source = ?", ("master",), [("master", "A3", "In progress", "", None)])
    ledger.commit()
    assert sorted(ledger.rows(seen)[0], key=str) == [("master", "A3", "In progress", "", None),
                                                     ("pack:x.xlsx", "A1", "Open", "", None)]
    ledger.close()


def test_rows_left_as_a_replacement_wrote_them_are_vouched_for_whole_and_checked_one_by_one_once_altered(
        tmp_path: Path) -> None:
    path, folder = tmp_path / "ledger.sqlite3", tmp_path / "returns"
    folder.mkdir()
    seen = next(t for t in TABLES if t.name == "action_seen")
    rows: list[tuple[object, ...]] = [("master", "A1", "Open", "", None), ("master", "A2", "Done", "ok", "2026-12-01")]
    ledger = Ledger(path, folder=str(folder.resolve()))
    for _ in range(2):  # the second time, the rows are vouched for as the first left them
        ledger.replace_rows(seen, "source = ?", ("master",), rows)
        ledger.commit()
    assert ledger.rows(seen) == (rows, [])
    # Only a signature changed outside auditbook: the row is signed again, not left altered.
    sql(path, "UPDATE action_seen SET mac = '00' WHERE action_id = 'A2'")
    ledger.replace_rows(seen, "source = ?", ("master",), rows)
    ledger.commit()
    assert ledger.rows(seen) == (rows, [])
    # A row altered and the rows' SHA-256 in meta set to match it, without the key: not vouched for, so the row is
    # checked on its own and signed again as auditbook has it now.
    sql(path, "UPDATE action_seen SET status = 'In progress' WHERE action_id = 'A2'")
    found = sql(path, "SELECT source, action_id, status, notes, closed, mac FROM action_seen ORDER BY action_id")
    assert sql(path, "UPDATE meta SET value = ? WHERE key LIKE 'rows_sha256:%'", _rows_sha(found)) == []
    assert ledger.rows(seen)[1] != []  # caught as it is read
    altered = [rows[0], ("master", "A2", "In progress", "ok", "2026-12-01")]
    ledger.replace_rows(seen, "source = ?", ("master",), altered)
    ledger.commit()
    assert ledger.rows(seen) == (altered, [])
    ledger.close()
