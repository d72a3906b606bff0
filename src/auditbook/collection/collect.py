"""Collect a shared returns folder into the master workbook, incrementally, through the ledger."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from auditbook.collection.allocation import Allocated
from auditbook.collection.collate import merge
from auditbook.collection.ledger import FORMAT as LEDGER_FORMAT
from auditbook.collection.ledger import Ledger
from auditbook.collection.master import write_master
from auditbook.collection.packs import write_packs
from auditbook.collection.result import CollectResult, outcome_json, result_from_json, result_of
from auditbook.collection.scan import scan_folder
from auditbook.collection.tracking import returns_status
from auditbook.collection.workers import Progress
from auditbook.errors import CollectError
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.reader import file_sha256
from auditbook.text import norm

MASTER_NAME = "auditbook-master.xlsx"
LEDGER_NAME = ".auditbook-ledger.sqlite3"

def default_paths(folder: Path, out: Path | None, ledger: Path | None) -> tuple[Path, Path]:
    """The master (default: auditbook-master.xlsx in the folder) and the ledger (default: beside the master)."""
    master = out if out is not None else folder / MASTER_NAME
    if master.suffix.lower() != ".xlsx":
        master = master / MASTER_NAME
    return master, ledger if ledger is not None else master.parent / LEDGER_NAME



def _registry_key(registry: SpecRegistry) -> str:
    return hashlib.sha256(",".join([LEDGER_FORMAT, *sorted(registry.by_sha)]).encode()).hexdigest()[:16]



def collect(
    folder: Path,
    *,
    out: Path | None = None,
    ledger_path: Path | None = None,
    round_name: str | None = None,
    threshold: float = 0.3,
    registry: SpecRegistry | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    allocation: list[Allocated] | None = None,
    packs: Path | None = None,
) -> CollectResult:
    """Validate every new or changed return in `folder`, merge the valid ones and write the master.

    With `allocation`, the master gets a Returns tab (status of every allocated case as of `now`);
    with `packs`, one workbook per team manager is written into that folder.
    """
    if not folder.is_dir():
        raise CollectError(f"the returns folder {folder} does not exist or is not a folder.")
    registry = registry or SpecRegistry.load()
    master, ledger_file = default_paths(folder, out, ledger_path)
    own = {master.resolve(), ledger_file.resolve(), Path(str(ledger_file) + "-journal").resolve()}
    if packs is not None:
        own.add(packs.resolve())
    ledger = Ledger(ledger_file)
    try:
        # Holding the ledger lock, no other collect is writing here: a temporary master left by a killed run can go.
        for stale in master.parent.glob(".auditbook-master-*.xlsx"):
            stale.unlink(missing_ok=True)
        key = _registry_key(registry)
        scan = scan_folder(folder, ledger, registry, key, own, workers or os.cpu_count() or 1, progress)
        today = (now or datetime.now()).date()
        allocated = None if allocation is None else [dataclasses.astuple(a) for a in allocation]
        state = hashlib.sha256(json.dumps([scan.state, key, round_name, threshold, str(master.resolve()),
                                           allocated, today.isoformat() if allocation else None],
                                          default=str).encode()).hexdigest()
        previous = ledger.get_meta("outcome")
        if (packs is None and previous and ledger.get_meta("state") == state and master.exists()
                and file_sha256(master) == ledger.get_meta("master_sha256")):
            # Nothing changed since the master was written: it is already the master this run would write.
            result = result_from_json(json.loads(previous), master, ledger_file, scan)
        else:
            collation = merge(scan.sources(), registry, threshold=threshold, round_name=round_name)
            in_round = None if allocation is None else [
                a for a in allocation if round_name is None or norm(a.round_key) == norm(round_name)]
            rows = None if in_round is None else returns_status(in_round, collation, today=today)
            write_master(collation, out=master, generated_at=now, returns=rows)
            result = result_of(collation, master, ledger_file, scan)
            result.returns = rows
            if packs is not None:
                result.packs = write_packs(collation, packs, allocation or [])
            ledger.set_meta("state", state)
            ledger.set_meta("master_sha256", file_sha256(master))
            ledger.set_meta("outcome", json.dumps(outcome_json(result)))
        ledger.commit()
    finally:
        ledger.close()
    return result
