"""One home for each store fact: store/ours.py decides which files are auditbook's own, ledger.py alone writes the
ledger's meta, and returns.audit.round_of alone works out an audit's round."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from auditbook.collection.collect import collect
from auditbook.store.ours import Own, stale_temporaries, temporary
from tests.returns import valid_return
from tests.test_ledger import REGISTRY, two_returns

SOURCE = Path(__file__).resolve().parent.parent / "src" / "auditbook"


def _modules() -> dict[str, str]:
    return {p.relative_to(SOURCE).as_posix(): p.read_text(encoding="utf-8") for p in SOURCE.rglob("*.py")}


def test_which_files_are_ours_is_decided_in_one_place(tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    master, ledger, packs = folder / "auditbook-master.xlsx", folder / "ledger.sqlite3", folder / "packs"
    own = Own.of(master=master, ledger=ledger, packs=[packs])
    where = str(folder.resolve())
    assert [name for name in ("auditbook-master.xlsx", "ledger.sqlite3", "ledger.sqlite3-journal",
                              "ledger.sqlite3-wal", "SYN-0001.xlsx", f"{temporary('master')}x1.xlsx",
                              f"{temporary('export')}x2.csv", "auditbook-master (copy).xlsx")
            if own.entry(where, name)] == ["auditbook-master.xlsx", "ledger.sqlite3", "ledger.sqlite3-journal",
                                            "ledger.sqlite3-wal", f"{temporary('master')}x1.xlsx",
                                            f"{temporary('export')}x2.csv"]
    packs.mkdir()
    assert (own.target(packs), own.target(folder)) == (True, False)
    (folder / f"{temporary('master')}left.xlsx").write_bytes(b"")
    (folder / f"{temporary('export')}left.csv").write_bytes(b"")
    assert [p.name for p in stale_temporaries(folder, "master", ".xlsx")] == [f"{temporary('master')}left.xlsx"]


def test_a_collect_never_reads_its_own_files_as_returns(tmp_path: Path) -> None:
    folder = two_returns(tmp_path / "returns")
    result = collect(folder, ledger_path=folder / "ledger.sqlite3", packs=folder / "packs", registry=REGISTRY)
    (folder / f"{temporary('master')}killed.xlsx").write_bytes(b"half a master")
    again = collect(folder, ledger_path=folder / "ledger.sqlite3", registry=REGISTRY)
    assert (result.files, again.files, again.read, again.skipped) == (2, 2, 0, 0)
    assert not (folder / f"{temporary('master')}killed.xlsx").exists()  # a killed run's temporary master is gone


def test_only_the_ledger_writes_its_meta() -> None:
    writers = sorted(name for name, text in _modules().items()
                     if name != "store/ledger.py" and ("INTO meta" in text or "_set_meta(" in text))
    assert writers == []


def test_the_round_is_worked_out_in_one_place() -> None:
    # What an audit says of its round is read in round_of and in collate's calendar warning only (the moderation's
    # pairing may look up where the round's input is, to put a problem on its cell).
    readers = sorted(name for name, text in _modules().items() if not name.startswith(("spec/", "workbook/"))
                     for node in ast.walk(ast.parse(text))
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "text"
                     and any(isinstance(a, ast.Attribute) and a.attr == "ROUND" for a in node.args))
    assert readers == ["analysis/collate.py", "returns/audit.py"]  # its calendar warning; round_of


def test_a_master_saved_again_unchanged_is_not_an_edit(tmp_path: Path) -> None:
    """Its time changed, its bytes did not: it is read (hashed), found as written, and left as it is."""
    folder = tmp_path / "returns"
    valid_return(folder / "SYN-0001.xlsx", changes={"profile_case_ref": "SYN-0001"})
    out = tmp_path / "m.xlsx"
    collect(folder, out=out, ledger_path=tmp_path / "l.sqlite3", registry=REGISTRY)
    unchanged = collect(folder, out=out, ledger_path=tmp_path / "l.sqlite3", registry=REGISTRY)
    st = out.stat()
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    touched = collect(folder, out=out, ledger_path=tmp_path / "l.sqlite3", registry=REGISTRY)
    assert (unchanged.evidence, touched.evidence) == (None, None)  # the master was not written again
