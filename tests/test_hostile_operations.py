"""Operations on a hostile shared folder (issue 20): what is read is what is remembered, collect's own files never
overwrite or swallow a return, pack names stay with their managers, failures are one line and exit 2, interrupts end
collect, and every edit read back is accountable."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import openpyxl
import pytest

from auditbook.collection.collect import collect
from auditbook.collection.result import CollectResult
from auditbook.returns.provenance import SpecRegistry
from auditbook.store import scan as scan_module
from auditbook.store.ledger import Ledger
from tests.returns import spec, valid_return

REGISTRY = SpecRegistry.of(spec())


def run(folder: Path, out: Path, **options: object) -> CollectResult:
    """Collect `folder` with the master and ledger in `out` (never in the returns folder)."""
    return collect(folder, out=out / "master.xlsx", ledger_path=out / "ledger.sqlite3", registry=REGISTRY,
                   workers=1, **options)  # type: ignore[arg-type]


def case_refs(master: Path) -> list[str]:
    """The case references on the master's Audits tab."""
    ws = openpyxl.load_workbook(master, read_only=True)["Audits"]
    return [str(r[0]) for r in ws.iter_rows(min_row=2, values_only=True) if r[0] is not None]


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The bytes of two valid returns of different children (SYN-0201 and SYN-0202)."""
    where = tmp_path_factory.mktemp("two")
    return tuple(valid_return(where / f"{ref}.xlsx", changes={"profile_case_ref": ref}).read_bytes()
                 for ref in ("SYN-0201", "SYN-0202"))  # type: ignore[return-value]


def test_a_file_replaced_while_collect_reads_it_is_read_again_next_time(
        tmp_path: Path, two: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two
    folder, out = tmp_path / "returns", tmp_path / "out"
    folder.mkdir()
    target = folder / "SYN-0201.xlsx"
    target.write_bytes(first)
    original = target.stat()
    real_hash = scan_module.file_hash

    def hash_then_replace(path: Path, limit: int) -> str:
        sha = real_hash(path, limit)
        if path.name == target.name:  # a sync client replaces the file after it was looked at, before it is read
            swap = folder.parent / "swap.xlsx"
            swap.write_bytes(second)
            os.utime(swap, ns=(original.st_atime_ns, original.st_mtime_ns + 5_000_000_000))
            os.replace(swap, target)
        return sha

    monkeypatch.setattr(scan_module, "file_hash", hash_then_replace)
    assert case_refs(run(folder, out).master) == ["SYN-0202"]  # what was read is merged
    monkeypatch.undo()
    ledger = Ledger(out / "ledger.sqlite3")
    try:
        entry = ledger.entries()["SYN-0201.xlsx"]
    finally:
        ledger.close()
    # ... and remembered under the hash of those bytes, with the size and time of the file that was read.
    assert (entry.sha256, entry.size) == (hashlib.sha256(second).hexdigest(), len(second))
    # The original comes back, with its own time (sync clients keep it): it is read again, not taken as remembered.
    target.write_bytes(first)
    os.utime(target, ns=(original.st_atime_ns, original.st_mtime_ns))
    result = run(folder, out)
    assert (result.read, case_refs(result.master)) == (1, ["SYN-0201"])
