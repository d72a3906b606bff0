"""Collect a shared returns folder into the master workbook, incrementally, through the ledger."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from auditbook.collate import Collation, Source, merge
from auditbook.errors import CollectError
from auditbook.ledger import Entry, Ledger
from auditbook.master import write_master
from auditbook.provenance import SpecRegistry
from auditbook.reader import file_sha256
from auditbook.report import Report
from auditbook.validate import validate_file

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
    collation: Collation
    sources: list[Source] = field(default_factory=list)
    read: int = 0
    unchanged: int = 0
    files: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Files with errors (or unreadable)."""
        return self.collation.count("rejected")

    def summary_line(self) -> str:
        """`N merged, M rejected, K unchanged, L superseded`."""
        merged = len(self.collation.merged)
        superseded = self.collation.count("superseded") + self.collation.count("duplicate")
        return f"{merged} merged, {self.rejected} rejected, {self.unchanged} unchanged, {superseded} superseded"


def default_paths(folder: Path, out: Path | None, ledger: Path | None) -> tuple[Path, Path]:
    """The master (default: auditbook-master.xlsx in the folder) and the ledger (default: beside the master)."""
    master = out if out is not None else folder / MASTER_NAME
    if master.suffix.lower() != ".xlsx":
        master = master / MASTER_NAME
    return master, ledger if ledger is not None else master.parent / LEDGER_NAME


def _walk(folder: Path, own: set[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.resolve() in own or name.startswith(".auditbook-"):
                continue
            yield path


def _registry_key(registry: SpecRegistry) -> str:
    return hashlib.sha256(",".join(sorted(registry.by_sha)).encode()).hexdigest()[:16]


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
    extra_tabs: tuple[Callable[..., None], ...] = (),
) -> CollectResult:
    """Validate every new or changed return in `folder`, merge the valid ones and write the master."""
    if not folder.is_dir():
        raise CollectError(f"the returns folder {folder} does not exist or is not a folder.")
    registry = registry or SpecRegistry.load()
    master, ledger_file = default_paths(folder, out, ledger_path)
    own = {master.resolve(), ledger_file.resolve(), Path(str(ledger_file) + "-journal").resolve()}
    ledger = Ledger(ledger_file)
    try:
        result = _collect(folder, ledger, registry, master, ledger_file, own, workers or os.cpu_count() or 1,
                          progress)
        result.collation = merge(result.sources, registry, threshold=threshold, round_name=round_name)
        write_master(result.collation, out=master, generated_at=now, extra=extra_tabs)
        ledger.commit()
    finally:
        ledger.close()
    return result


def _collect(folder: Path, ledger: Ledger, registry: SpecRegistry, master: Path, ledger_file: Path,
             own: set[Path], workers: int, progress: Progress | None) -> CollectResult:
    key = _registry_key(registry)
    known = ledger.entries()
    files = list(_walk(folder, own))
    sources: list[Source] = []
    to_read: list[tuple[Path, str, os.stat_result, str]] = []
    unchanged = 0
    for path in files:
        rel = path.relative_to(folder).as_posix()
        st = path.stat()
        entry = known.get(rel)
        if entry is not None and entry.registry == key and (entry.size, entry.mtime_ns) == (st.st_size,
                                                                                          st.st_mtime_ns):
            sources.append(_source(rel, entry, present=True))
            unchanged += 1
            continue
        sha = file_sha256(path)
        if entry is not None and entry.registry == key and entry.sha256 == sha:
            ledger.touch(rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
            sources.append(_source(rel, entry, present=True))
            unchanged += 1
            continue
        to_read.append((path, rel, st, sha))
    if progress:
        progress(unchanged, len(files))
    reports = _validate_all([p for p, *_ in to_read], registry, workers, progress, unchanged, len(files))
    for (_, rel, st, sha), report in zip(to_read, reports, strict=True):
        report.file = rel
        ledger.put(rel, size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=sha, report=report, registry=key)
        sources.append(Source(rel, report, sha))
    present = {path.relative_to(folder).as_posix() for path in files}
    for rel, entry in known.items():
        if rel in present:
            continue
        if entry.report.valid:
            ledger.mark_missing(rel)
            sources.append(_source(rel, entry, present=False))
    return CollectResult(master=master, ledger=ledger_file, collation=Collation(), sources=sources,
                         read=len(to_read), unchanged=unchanged, files=len(files))


def _source(rel: str, entry: Entry, *, present: bool) -> Source:
    entry.report.file = rel
    return Source(rel, entry.report, entry.sha256, present=present)


def collect_json(result: CollectResult) -> dict[str, object]:
    """The outcome of a collect as JSON-ready data (no answers: only references and problems)."""
    c = result.collation
    return {
        "master": str(result.master), "ledger": str(result.ledger), "summary": result.summary_line(),
        "files": result.files, "read": result.read, "unchanged": result.unchanged,
        "merged": [{"file": m.file, "case_ref": m.audit.case_ref, "round": m.round,
                    "source_missing": m.source_missing, "warnings": [p.as_dict() for p in m.warnings]}
                   for m in c.merged],
        "not_merged": [{"file": n.file, "status": n.status, "reason": n.reason,
                        "problems": [p.as_dict() for p in n.problems]} for n in c.not_merged],
    }
