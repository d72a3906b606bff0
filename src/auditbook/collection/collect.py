"""Collect a shared returns folder into the master workbook, incrementally, through the ledger."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from auditbook.collection.allocation import Allocated
from auditbook.collection.collate import Collation, Source, merge
from auditbook.collection.evidence import Evidence, gather, round_summaries
from auditbook.collection.history import History
from auditbook.collection.ledger import FORMAT as LEDGER_FORMAT
from auditbook.collection.ledger import Ledger
from auditbook.collection.ledger_location import default_ledger, folder_identity, network_fs
from auditbook.collection.master import check_not_open, write_master
from auditbook.collection.packs import PACK_GLOB, write_packs
from auditbook.collection.register import MASTER, Register
from auditbook.collection.result import CollectResult, outcome_json, result_from_json, result_of
from auditbook.collection.scan import Scan, file_hash, scan_folder
from auditbook.collection.tracking import ReturnRow, returns_status
from auditbook.collection.workers import Progress
from auditbook.errors import CollectError
from auditbook.local import RoundCalendar
from auditbook.returns.provenance import SpecRegistry
from auditbook.spec.roles import Role
from auditbook.text import name_key, norm

MASTER_NAME = "auditbook-master.xlsx"


def default_paths(folder: Path, out: Path | None, ledger: Path | None) -> tuple[Path, Path]:
    """The master (default: auditbook-master.xlsx in the folder) and the ledger (default: in the collator's own
    data folder, one per collected folder; never on the share unless --ledger puts it there)."""
    master = out if out is not None else folder / MASTER_NAME
    if master.suffix.lower() != ".xlsx":
        master = master / MASTER_NAME
    return master, ledger if ledger is not None else default_ledger(folder)


def forget_key(folder: Path, file: Path) -> str:
    """The ledger's name for a file of the folder, given relative to the folder or as a path inside it."""
    if file.is_absolute() or file.exists():
        try:
            return name_key(file.resolve().relative_to(folder.resolve()).as_posix())
        except ValueError:
            raise CollectError(f"{name_key(str(file))} is not inside the returns folder {name_key(str(folder))}. "
                               "Give the file's path inside the folder.") from None
    return name_key(file.as_posix())


def _warnings(ledger_file: Path) -> list[str]:
    kind = network_fs(ledger_file)
    if kind is None:
        return []
    return [f"the ledger {name_key(str(ledger_file))} is on a network share ({kind}); SQLite advises against a "
            "database on a network drive, where locking can fail. Leave out --ledger to keep it on this computer."]


def _registry_key(registry: SpecRegistry) -> str:
    return hashlib.sha256(",".join([LEDGER_FORMAT, *sorted(registry.by_sha)]).encode()).hexdigest()[:16]


def _packs_to_read(ledger: Ledger, packs: Path | None) -> list[Path]:
    """Packs written before that have been changed since (a team manager typed into them)."""
    folder = packs or (Path(p) if (p := ledger.get_meta("packs_dir")) else None)
    if folder is None or not folder.is_dir():
        return []
    changed = []
    for path in sorted(folder.glob(PACK_GLOB)):
        written = ledger.get_meta(f"pack_sha256:{path.name}")
        if written is not None and _master_sha(path) != written:
            changed.append(path)
    return changed


def _evidence(scan: Scan, ledger: Ledger, registry: SpecRegistry, master: Path | None, packs: list[Path],
              moment: datetime, *, round_name: str | None, threshold: float, allocation: list[Allocated] | None,
              calendar: Sequence[str], rounds: RoundCalendar | None = None,
              ) -> tuple[Collation, Evidence, list[ReturnRow] | None]:
    """Merge, take back what was typed into the master and packs, keep the rounds' figures, work out the evidence."""
    collation = merge(with_rounds(scan.sources(), rounds), registry, threshold=threshold, round_name=round_name)
    collation.not_merged += scan.notes
    register = Register(ledger.db)
    readback = register.read_back(master, packs, moment)
    for path in packs:  # what it says now has been taken: only a later change is a new edit
        ledger.set_meta(f"pack_sha256:{path.name}", _master_sha(path) or "")
    history = History(ledger.db)
    history.keep(round_summaries(collation, registry), moment)
    in_round = None if allocation is None else [
        a for a in allocation if round_name is None or norm(a.round_key) == norm(round_name)]
    rows = None if in_round is None else returns_status(in_round, collation, today=moment.date())
    evidence = gather(collation, registry, history=history.rounds(), states=register.states(), today=moment.date(),
                      round_name=round_name, calendar=calendar, plan=register.plan(), returns=rows,
                      readback=readback)
    return collation, evidence, rows


def gather_folder(
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
    calendar: Sequence[str] = (),
    rounds: RoundCalendar | None = None,
) -> Evidence:
    """What collect would show, without writing the master (for export and the round report).

    New or changed returns are validated and remembered, and edits typed into the master or packs are
    taken into the ledger, exactly as collect does; the master itself is left as it is.
    """
    if not folder.is_dir():
        raise CollectError(f"the returns folder {name_key(str(folder))} does not exist or is not a folder.")
    registry = registry or SpecRegistry.load()
    master, ledger_file = default_paths(folder, out, ledger_path)
    if not ledger_file.exists():
        raise CollectError(f"no ledger for {name_key(str(folder))} yet: run `auditbook collect` on it first (or give "
                           "--ledger).")
    own = {master, ledger_file, *(Path(f"{ledger_file}{x}") for x in ("-journal", "-wal", "-shm"))}
    ledger = Ledger(ledger_file, folder=folder_identity(folder))
    try:
        key = _registry_key(registry)
        scan = scan_folder(folder, ledger, registry, key, own, workers or os.cpu_count() or 1, progress)
        master_sha = _master_sha(master)
        edited = master if master_sha is not None and master_sha != ledger.get_meta("master_sha256") else None
        if edited is not None:
            # Its edits are taken now: the master no longer counts as edited, but it must be written again
            # (the next collect sees a state it did not write and rewrites it).
            ledger.set_meta("master_sha256", master_sha or "")
            ledger.set_meta("state", "")
        _, evidence, _ = _evidence(scan, ledger, registry, edited, _packs_to_read(ledger, None), now or datetime.now(),
                                   round_name=round_name, threshold=threshold, allocation=allocation,
                                   calendar=calendar, rounds=rounds)
        ledger.commit()
    finally:
        ledger.close()
    return evidence


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
    forget: tuple[Path, ...] = (),
    calendar: Sequence[str] = (),
    rounds: RoundCalendar | None = None,
) -> CollectResult:
    """Validate every new or changed return in `folder`, merge the valid ones and write the master.

    With `allocation`, the master gets a Returns tab (status of every allocated case as of `now`);
    with `packs`, one workbook per team manager is written into that folder; with `forget`, those files'
    stored answers are removed from the ledger first (they must no longer be in the folder). Statuses
    typed into the master or a pack since they were written are read back first and kept in the ledger.
    `calendar` names the rounds in order (else rounds are ordered by their due dates); with `rounds`, a return
    that names no round is in the one that round calendar gives its audit month.
    """
    if not folder.is_dir():
        raise CollectError(f"the returns folder {name_key(str(folder))} does not exist or is not a folder.")
    registry = registry or SpecRegistry.load()
    master, ledger_file = default_paths(folder, out, ledger_path)
    if master.is_dir():
        raise CollectError(f"the master {name_key(str(master))} is a folder. Give --out a file name ending .xlsx, "
                           "or a folder to put auditbook-master.xlsx in.")
    forget_keys = [forget_key(folder, f) for f in forget]
    for f, k in zip(forget, forget_keys, strict=True):
        if (folder / f).exists() or (f.is_absolute() and f.exists()):
            raise CollectError(f"{k} is still in the returns folder, so it would be read again. Move or delete it "
                               "first, then forget it.")
    own = {master, ledger_file, *(Path(f"{ledger_file}{x}") for x in ("-journal", "-wal", "-shm"))}
    if packs is not None:
        own.add(packs)
    ledger = Ledger(ledger_file, folder=folder_identity(folder))
    try:
        forgotten = [k for k in forget_keys if ledger.forget(k)]
        # Holding the ledger lock, no other collect is writing here: a temporary master left by a killed run can go.
        for stale in master.parent.glob(".auditbook-master-*.xlsx"):
            with contextlib.suppress(OSError):
                stale.unlink(missing_ok=True)
        key = _registry_key(registry)
        scan = scan_folder(folder, ledger, registry, key, own, workers or os.cpu_count() or 1, progress)
        moment = now or datetime.now()
        today = moment.date()
        allocated = None if allocation is None else [dataclasses.astuple(a) for a in allocation]
        edited_packs = _packs_to_read(ledger, packs)
        state = hashlib.sha256(json.dumps([scan.state, key, round_name, threshold, str(master.resolve()),
                                           allocated, today.isoformat() if allocation else None, list(calendar),
                                           repr(rounds)],
                                          default=str).encode()).hexdigest()
        previous = ledger.get_meta("outcome")
        master_sha = _master_sha(master)
        if (packs is None and not edited_packs and previous and ledger.get_meta("state") == state
                and master_sha is not None and master_sha == ledger.get_meta("master_sha256")):
            # Nothing changed since the master was written: it is already the master this run would write.
            result = result_from_json(json.loads(previous), master, ledger_file, scan)
        else:
            check_not_open(master)
            edited_master = master if master_sha is not None and master_sha != ledger.get_meta("master_sha256") \
                else None
            collation, evidence, rows = _evidence(scan, ledger, registry, edited_master, edited_packs, moment,
                                                  round_name=round_name, threshold=threshold, allocation=allocation,
                                                  calendar=calendar, rounds=rounds)
            register = Register(ledger.db)
            _write(lambda: write_master(evidence, out=master, generated_at=now), master)
            register.wrote(MASTER, [a.id for a in evidence.actions], dict(evidence.states))
            result = result_of(collation, master, ledger_file, scan)
            result.returns = rows
            result.evidence = evidence
            if packs is not None:
                result.packs, failed = write_packs(evidence, packs, allocation or [], register)
                result.warnings += failed
                ledger.set_meta("packs_dir", str(packs.resolve()))
                for path in result.packs:
                    ledger.set_meta(f"pack_sha256:{path.name}", _master_sha(path) or "")
            ledger.set_meta("state", state)
            ledger.set_meta("master_sha256", _master_sha(master) or "")
            ledger.set_meta("outcome", json.dumps(outcome_json(result)))
        ledger.commit()
    finally:
        ledger.close()
    result.forgotten = forgotten
    result.warnings = _warnings(ledger_file) + result.warnings
    return result


def _master_sha(master: Path) -> str | None:
    """The SHA-256 of the master (or a pack), or None when it is missing or not a regular file (never blocks on a
    pipe)."""
    try:
        return file_hash(master, limit=1 << 62)
    except OSError:
        return None


def _write(write: Callable[[], Path], master: Path) -> None:
    """Write the master; a full disk or a locked file is one plain message, the previous master left as it was."""
    try:
        write()
    except CollectError:
        raise
    except OSError as err:
        raise CollectError(f"could not write the master {name_key(str(master))} ({err.strerror or err}). The previous "
                           "master is unchanged. Free some disk space or close the file, then collect again.") \
            from None


def with_rounds(sources: list[Source], rounds: RoundCalendar | None) -> list[Source]:
    """The sources, each audit that names no round given the one the calendar gives its audit month."""
    if rounds is None or not rounds.rounds:
        return list(sources)
    out = []
    for src in sources:
        audit = src.report.audit
        month = audit.text(Role.AUDIT_MONTH) if audit is not None else ""
        derived = rounds.round_of(month) if audit is not None and not audit.text(Role.ROUND) and month else None
        if audit is not None and derived:
            report = dataclasses.replace(src.report, audit=audit.model_copy(
                update={"facts": {**audit.facts, Role.ROUND.value: derived}}))
            src = dataclasses.replace(src, report=report)
        out.append(src)
    return out
