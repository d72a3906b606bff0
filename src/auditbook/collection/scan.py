"""Walk the returns folder and compare it with the ledger: what to read afresh, what is remembered."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from auditbook.collection.collate import Source
from auditbook.collection.ledger import Entry, Ledger
from auditbook.collection.workers import Progress, validate_all
from auditbook.problems import Code, Problem
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.reader import file_sha256
from auditbook.returns.report import Report


def _walk(folder: Path, own: set[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (Path(dirpath) / d).resolve() not in own)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".auditbook-") or path.resolve() in own:
                continue
            yield path



@dataclass
class Scan:
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



def scan_folder(folder: Path, ledger: Ledger, registry: SpecRegistry, key: str, own: set[Path], workers: int,
          progress: Progress | None) -> Scan:
    known = ledger.entries()
    files = list(_walk(folder, own))
    scan = Scan(files=len(files))
    to_read: list[tuple[Path, str, os.stat_result, str]] = []
    for path in files:
        rel = path.relative_to(folder).as_posix()
        entry = known.get(rel)
        if entry is not None and entry.registry != key:
            entry = None  # read with other specs: validate it again
        try:
            st = path.stat()
            if entry is not None and (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns):
                keep(scan, rel, entry, present=True)
                continue
            sha = file_sha256(path)
        except OSError as err:
            # A broken shortcut, or a file removed or locked while the folder was read: listed, never dropped.
            problem = Problem("error", Code.UNREADABLE, f"{path.name}: cannot be read ({err.strerror or err}). Check "
                              "the file is there and not locked, then collect again.")
            scan.fresh.append(Source(rel, Report(file=rel, problems=[problem]), f"unreadable:{rel}"))
            continue
        if entry is not None and entry.sha256 == sha:
            ledger.touch(rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
            keep(scan, rel, entry, present=True)
            continue
        to_read.append((path, rel, st, sha))
    if progress:
        progress(scan.unchanged, len(files))
    reports = validate_all([p for p, *_ in to_read], registry, workers, progress, scan.unchanged, len(files))
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
            keep(scan, rel, entry, present=False, count=False)
    return scan


def keep(scan: Scan, rel: str, entry: Entry, *, present: bool, count: bool = True) -> None:
    scan.kept.append((rel, entry, present))
    scan.state.append((rel, entry.sha256, present))
    scan.unchanged += count
