"""Collect a shared returns folder into the master workbook, incrementally, through the ledger."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from auditbook.collection.allocation import Allocated
from auditbook.collection.collate import Collation, Merged, NotMerged, Source, merge
from auditbook.collection.ledger import FORMAT as LEDGER_FORMAT
from auditbook.collection.ledger import Entry, Ledger
from auditbook.collection.master import write_master, write_pack
from auditbook.collection.tracking import OUTSTANDING, OVERDUE, ReturnRow, returns_status
from auditbook.errors import CollectError
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.reader import file_sha256
from auditbook.returns.report import Problem, Report
from auditbook.returns.validate import validate_file
from auditbook.text import norm, slug

MASTER_NAME = "auditbook-master.xlsx"
LEDGER_NAME = ".auditbook-ledger.sqlite3"
#: Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_FROM = 24

Progress = Callable[[int, int], None]


@dataclass
class CollectResult:
    """What a collect did: where it wrote, what it merged and what it could not."""

    master: Path
    ledger: Path
    files: int
    read: int
    unchanged: int
    merged: list[dict[str, Any]]
    not_merged: list[NotMerged]
    #: The full collation, or None when nothing had changed and the master was left as it was.
    collation: Collation | None = None
    returns: list[ReturnRow] | None = None
    packs: list[Path] = field(default_factory=list)

    @property
    def outstanding(self) -> int:
        """Allocated cases not yet returned (overdue or not), when an allocation was given."""
        return sum(1 for r in self.returns or () if r.status in (OUTSTANDING, OVERDUE))

    def count(self, status: str) -> int:
        """How many files were not merged for this reason."""
        return sum(1 for n in self.not_merged if n.status == status)

    @property
    def rejected(self) -> int:
        """Files with errors (or unreadable)."""
        return self.count("rejected")

    def summary_line(self) -> str:
        """`N merged, M rejected, K unchanged, L superseded`."""
        superseded = self.count("superseded") + self.count("duplicate")
        merged = len(self.merged)
        return f"{merged} merged, {self.rejected} rejected, {self.unchanged} unchanged, {superseded} superseded"


def default_paths(folder: Path, out: Path | None, ledger: Path | None) -> tuple[Path, Path]:
    """The master (default: auditbook-master.xlsx in the folder) and the ledger (default: beside the master)."""
    master = out if out is not None else folder / MASTER_NAME
    if master.suffix.lower() != ".xlsx":
        master = master / MASTER_NAME
    return master, ledger if ledger is not None else master.parent / LEDGER_NAME


def _walk(folder: Path, own: set[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (Path(dirpath) / d).resolve() not in own)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".auditbook-") or path.resolve() in own:
                continue
            yield path


def _registry_key(registry: SpecRegistry) -> str:
    return hashlib.sha256(",".join([LEDGER_FORMAT, *sorted(registry.by_sha)]).encode()).hexdigest()[:16]


_worker_registry: SpecRegistry | None = None


def _init_worker(registry: SpecRegistry) -> None:
    global _worker_registry
    _worker_registry = registry


def _validate_in_worker(path: Path) -> Report:
    return validate_file(path, registry=_worker_registry)


def _validate_all(paths: list[Path], registry: SpecRegistry, workers: int, progress: Progress | None,
                  done: int, total: int) -> list[Report]:
    if workers <= 1 or len(paths) < PARALLEL_FROM:
        reports = []
        for p in paths:
            reports.append(validate_file(p, registry=registry))
            done += 1
            if progress:
                progress(done, total)
        return reports
    out: list[Report] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(registry,)) as pool:
        for report in pool.map(_validate_in_worker, paths, chunksize=8):
            out.append(report)
            done += 1
            if progress:
                progress(done, total)
    return out


@dataclass
class _Scan:
    """The folder compared with the ledger."""

    fresh: list[Source] = field(default_factory=list)
    #: Files whose stored report is still good; parsed only if the master has to be written again.
    kept: list[tuple[str, Entry, bool]] = field(default_factory=list)
    #: What the master is made of: each file's path, content hash and presence (not its time).
    state: list[tuple[str, str, bool]] = field(default_factory=list)
    read: int = 0
    unchanged: int = 0
    files: int = 0

    def sources(self) -> list[Source]:
        """Every file to merge: those read now and those remembered."""
        kept = [Source(rel, _renamed(entry.report, rel), entry.sha256, present=present)
                for rel, entry, present in self.kept]
        return self.fresh + kept


def _renamed(report: Report, rel: str) -> Report:
    report.file = rel
    return report


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
        scan = _scan(folder, ledger, registry, key, own, workers or os.cpu_count() or 1, progress)
        today = (now or datetime.now()).date()
        allocated = None if allocation is None else [dataclasses.astuple(a) for a in allocation]
        state = hashlib.sha256(json.dumps([scan.state, key, round_name, threshold, str(master.resolve()),
                                           allocated, today.isoformat() if allocation else None],
                                          default=str).encode()).hexdigest()
        previous = ledger.get_meta("outcome")
        if (packs is None and previous and ledger.get_meta("state") == state and master.exists()
                and file_sha256(master) == ledger.get_meta("master_sha256")):
            # Nothing changed since the master was written: it is already the master this run would write.
            result = _result_from_json(json.loads(previous), master, ledger_file, scan)
        else:
            collation = merge(scan.sources(), registry, threshold=threshold, round_name=round_name)
            in_round = None if allocation is None else [
                a for a in allocation if round_name is None or norm(a.round_key) == norm(round_name)]
            rows = None if in_round is None else returns_status(in_round, collation, today=today)
            write_master(collation, out=master, generated_at=now, returns=rows)
            result = _result(collation, master, ledger_file, scan)
            result.returns = rows
            if packs is not None:
                result.packs = write_packs(collation, packs, allocation or [])
            ledger.set_meta("state", state)
            ledger.set_meta("master_sha256", file_sha256(master))
            ledger.set_meta("outcome", json.dumps(_outcome_json(result)))
        ledger.commit()
    finally:
        ledger.close()
    return result


def _scan(folder: Path, ledger: Ledger, registry: SpecRegistry, key: str, own: set[Path], workers: int,
          progress: Progress | None) -> _Scan:
    known = ledger.entries()
    files = list(_walk(folder, own))
    scan = _Scan(files=len(files))
    to_read: list[tuple[Path, str, os.stat_result, str]] = []
    for path in files:
        rel = path.relative_to(folder).as_posix()
        entry = known.get(rel)
        if entry is not None and entry.registry != key:
            entry = None  # read with other specs: validate it again
        try:
            st = path.stat()
            if entry is not None and (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns):
                _keep(scan, rel, entry, present=True)
                continue
            sha = file_sha256(path)
        except OSError as err:
            # A broken shortcut, or a file removed or locked while the folder was read: listed, never dropped.
            problem = Problem("error", "unreadable", f"{path.name}: cannot be read ({err.strerror or err}). Check "
                              "the file is there and not locked, then collect again.")
            scan.fresh.append(Source(rel, Report(file=rel, problems=[problem]), f"unreadable:{rel}"))
            continue
        if entry is not None and entry.sha256 == sha:
            ledger.touch(rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
            _keep(scan, rel, entry, present=True)
            continue
        to_read.append((path, rel, st, sha))
    if progress:
        progress(scan.unchanged, len(files))
    reports = _validate_all([p for p, *_ in to_read], registry, workers, progress, scan.unchanged, len(files))
    for (_, rel, st, sha), report in zip(to_read, reports, strict=True):
        report.file = rel
        ledger.put(rel, size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=sha, report=report, registry=key)
        scan.fresh.append(Source(rel, report, sha))
        scan.state.append((rel, sha, True))
    scan.read = len(to_read)
    present = {path.relative_to(folder).as_posix() for path in files}
    here = {sha for _, sha, _ in scan.state}
    for rel, entry in known.items():
        if rel not in present and entry.sha256 in here:
            ledger.forget(rel)  # moved or renamed: the same return is in the folder under another name
            continue
        if rel not in present and entry.report.valid:
            # A return that vanished from the folder stays in the master, flagged; it is never dropped.
            ledger.mark_missing(rel)
            _keep(scan, rel, entry, present=False, count=False)
    return scan


def _keep(scan: _Scan, rel: str, entry: Entry, *, present: bool, count: bool = True) -> None:
    scan.kept.append((rel, entry, present))
    scan.state.append((rel, entry.sha256, present))
    scan.unchanged += count


def _result(c: Collation, master: Path, ledger: Path, scan: _Scan) -> CollectResult:
    merged = [{"file": m.file, "case_ref": m.audit.case_ref, "round": m.round, "source_missing": m.source_missing,
               "warnings": [p.as_dict() for p in m.warnings]} for m in c.merged]
    return CollectResult(master=master, ledger=ledger, files=scan.files, read=scan.read, unchanged=scan.unchanged,
                         merged=merged, not_merged=list(c.not_merged), collation=c)


def _outcome_json(result: CollectResult) -> dict[str, Any]:
    returns = None if result.returns is None else [
        {**dataclasses.asdict(r), "due": r.due.isoformat() if r.due else None} for r in result.returns]
    return {"merged": result.merged, "returns": returns,
            "not_merged": [{"file": n.file, "status": n.status, "reason": n.reason,
                            "problems": [p.as_dict() for p in n.problems]} for n in result.not_merged]}


def _result_from_json(data: dict[str, Any], master: Path, ledger: Path, scan: _Scan) -> CollectResult:
    not_merged = [NotMerged(n["file"], n["status"], n["reason"],
                            tuple(Problem.from_dict(p) for p in n["problems"])) for n in data["not_merged"]]
    returns = None if data.get("returns") is None else [
        ReturnRow(**{**r, "due": date.fromisoformat(r["due"]) if r["due"] else None}) for r in data["returns"]]
    return CollectResult(master=master, ledger=ledger, files=scan.files, read=scan.read, unchanged=scan.unchanged,
                         merged=data["merged"], not_merged=not_merged, returns=returns)


def write_packs(collation: Collation, folder: Path, allocation: list[Allocated]) -> list[Path]:
    """One workbook per team manager with only their cases; the manager comes from the return's profile,
    else from the allocation list."""
    by_case = {norm(a.case_ref): a.team_manager for a in allocation}
    groups: dict[str, tuple[str, list[Merged]]] = {}
    for m in collation.merged:
        manager = str(m.audit.profile.get("team_manager") or by_case.get(norm(m.audit.case_ref)) or "")
        manager = " ".join(manager.split()) or "No team manager named"
        groups.setdefault(norm(manager), (manager, []))[1].append(m)
    written: list[Path] = []
    used: set[str] = set()
    for _, (manager, merged) in sorted(groups.items()):
        name, n = f"pack_{slug(manager)}", 1
        while name in used:  # two managers whose names make the same file name each keep their own pack
            n += 1
            name = f"pack_{slug(manager)}-{n}"
        used.add(name)
        written.append(write_pack(manager, merged, out=folder / f"{name}.xlsx"))
    return written


def collect_json(result: CollectResult) -> dict[str, Any]:
    """The outcome of a collect as JSON-ready data (no answers: only references and problems)."""
    return {"master": str(result.master), "ledger": str(result.ledger), "summary": result.summary_line(),
            "files": result.files, "read": result.read, "unchanged": result.unchanged, **_outcome_json(result)}
