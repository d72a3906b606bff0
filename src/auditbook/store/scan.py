"""Walk the returns folder and compare it with the ledger: what to read afresh, what is remembered.

Anything may be in a shared folder. Entries are looked at (lstat) before anything is opened: only regular
files are read, and their size is checked before a byte is hashed; pipes, devices and sockets are listed as
skipped; shortcuts that leave the folder are not followed and loops are caught; files and folders that cannot
be read are listed as not read. Every name is recorded whatever its bytes (text.name_key).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from auditbook.analysis.collate import NotMerged, Source
from auditbook.problems import Code, Problem, words
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, open_regular, skip_reason, special_kind
from auditbook.returns.workers import Progress, validate_all
from auditbook.store.ledger import Entry, Ledger
from auditbook.store.ours import as_own_output, not_a_workbook
from auditbook.text import name_key

NOT_READ = "not read"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Found:
    """A regular file in the folder: where to open it, and its name as recorded and shown."""

    path: Path
    rel: str
    st: os.stat_result
    #: The entry's own name in its folder (a shortcut's, not its target's), as the file system gives it.
    name: str


def _own(path: Path) -> str:
    return os.path.normcase(str(path.resolve()))


def walk(folder: Path, own: set[Path]) -> tuple[list[Found], list[NotMerged]]:
    """Every regular file under `folder` (depth first, in name order), and what was skipped or not read."""
    root = folder.resolve()
    own_paths = {_own(p) for p in own}
    found: list[Found] = []
    notes: list[NotMerged] = []
    top = os.stat(root)
    seen = {(top.st_dev, top.st_ino)}
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [(root, "", frozenset(seen))]
    while stack:
        where, prefix, chain = stack.pop()
        try:
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: os.fsencode(e.name))
        except OSError as err:
            notes.append(NotMerged(name_key(prefix.rstrip("/")) or ".", NOT_READ, _cannot("folder", err),
                                   (_unreadable("folder", err),)))
            continue
        subfolders: list[tuple[Path, str, frozenset[tuple[int, int]]]] = []
        for e in entries:
            rel = prefix + e.name
            key = name_key(rel)
            if e.name.startswith(".auditbook-") or os.path.normcase(os.path.join(where, e.name)) in own_paths:
                continue  # the master's temporary file, the ledger, the packs: collect's own files
            try:
                st = e.stat(follow_symlinks=False)
                target = Path(e.path)
                if stat.S_ISLNK(st.st_mode):
                    real = Path(os.path.realpath(e.path))
                    if real != root and root not in real.parents:
                        notes.append(NotMerged(key, SKIPPED, "a shortcut (symbolic link) that leads outside the "
                                               "returns folder: not followed. Copy the return itself into the "
                                               "folder if it belongs there."))
                        continue
                    st, target = os.stat(real), real
            except OSError as err:
                notes.append(_not_read(key, "file or shortcut", err))
                continue
            if stat.S_ISDIR(st.st_mode):
                ident = (st.st_dev, st.st_ino)
                if _own(target) in own_paths:
                    continue
                if e.name.startswith("."):
                    notes.append(NotMerged(key, SKIPPED, f"hidden folder ({name_key(e.name)}): skipped"))
                elif ident in chain:
                    notes.append(NotMerged(key, SKIPPED, "a shortcut that loops back into a folder it is in: "
                                           "not followed"))
                elif ident in seen:
                    notes.append(NotMerged(key, SKIPPED, "a second way into a folder that is collected already: "
                                           "not followed"))
                else:
                    seen.add(ident)
                    subfolders.append((target, rel + "/", chain | {ident}))
            elif stat.S_ISREG(st.st_mode):
                found.append(Found(target, key, st, e.name))
            else:
                notes.append(NotMerged(key, SKIPPED, f"{special_kind(st.st_mode)}, not a file: skipped"))
        stack.extend(reversed(subfolders))
    return found, notes


def _cannot(what: str, err: OSError) -> str:
    return words(Code.UNREADABLE, case="collect", what=what, reason=err.strerror or type(err).__name__)


def _unreadable(what: str, err: OSError, key: str | None = None) -> Problem:
    return Problem.of(Code.UNREADABLE, case="collect", file=key, what=what, reason=err.strerror or type(err).__name__)


def _not_read(key: str, what: str, err: OSError) -> NotMerged:
    return NotMerged(key, NOT_READ, _cannot(what, err), (_unreadable(what, err, key),))


def file_hash(path: Path, limit: int) -> str:
    """SHA-256 of a regular file's bytes, refusing pipes and devices (even one swapped in after it was listed)."""
    f, st = open_regular(path)
    with f:
        if st.st_size > limit:
            return f"large:{st.st_size}:{st.st_mtime_ns}"  # refused unread by validate; never hashed
        h = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
        return h.hexdigest()


@dataclass
class Scan:
    """The folder compared with the ledger."""

    fresh: list[Source] = field(default_factory=list)
    #: Files whose stored report is still good; parsed only if the master has to be written again.
    kept: list[tuple[str, Entry, bool]] = field(default_factory=list)
    #: What the master is made of: each file's path, content hash and presence (not its time).
    state: list[tuple[str, str, bool]] = field(default_factory=list)
    #: Entries that are not files to read: skipped (pipes, shortcuts out, loops) or not read (unreadable).
    notes: list[NotMerged] = field(default_factory=list)
    #: Every entry of the folder (regular files, and the special ones listed in notes) is one of read (validated
    #: now), unchanged (taken from the ledger), skipped (unread: lock files, not workbooks, pipes, shortcuts out)
    #: or not read (could not be opened).
    read: int = 0
    unchanged: int = 0
    files: int = 0
    skipped: int = 0
    not_read: int = 0

    def sources(self) -> list[Source]:
        """Every file to merge: those read now and those remembered (text no workbook can hold kept out)."""
        kept = [Source(rel, _stored(entry, rel), entry.sha256, present=present) for rel, entry, present in self.kept]
        return self.fresh + kept


def _stored(entry: Entry, rel: str) -> Report:
    bad = _UNSTORABLE_JSON.search(entry.report_json)
    if bad is not None:
        # Stored by an older auditbook, say: that return is rejected, the master is written with the others.
        return Report(file=rel, problems=[Problem.of(Code.UNSTORABLE_TEXT, case="stored", file=rel,
                                                     character=bad.group())])
    try:
        report = entry.report
    except Exception:  # signed by this collator yet unreadable: a fault, reported, never a crash
        return Report(file=rel, problems=[_damaged(rel, "it cannot be read back")])
    report.file = rel
    return report


#: In a stored report (JSON, ASCII-escaped): a lone surrogate, or a control character other than tab, LF and CR.
_UNSTORABLE_JSON = re.compile(r"(?<!\\)(?:\\\\)*\\u(?:d[89a-f][0-9a-f]{2}|000[0-8bcef]|001[0-9a-f]|fff[ef])",
                              re.IGNORECASE)


def _damaged(rel: str, why: str) -> Problem:
    return Problem.of(Code.LEDGER_DAMAGED, file=rel, why=why, name=rel)


def scan_folder(folder: Path, ledger: Ledger, registry: SpecRegistry, key: str, own: set[Path], workers: int,
                progress: Progress | None, limits: Limits = DEFAULT_LIMITS) -> Scan:
    """Walk the folder, read what is new or changed (in parallel), and remember it in the ledger."""
    known = ledger.entries()
    files, notes = walk(folder, own)
    scan = Scan(files=len(files) + len(notes), notes=notes, skipped=sum(n.status == SKIPPED for n in notes),
                not_read=sum(n.status == NOT_READ for n in notes))
    to_read: list[tuple[Found, str]] = []
    for found in files:
        rel, st = found.rel, found.st
        reason = skip_reason(Path(found.name)) or not_a_workbook(found.name)
        if reason is not None:
            scan.fresh.append(Source(rel, Report(file=rel, skipped=reason), f"skipped:{rel}"))
            scan.state.append((rel, "skipped", True))
            scan.skipped += 1
            continue
        entry = known.get(rel)
        if entry is not None and (not entry.intact or entry.registry != key):
            entry = None  # altered, or read with other specs: validate it again
        if entry is not None and (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns):
            keep(scan, rel, entry, present=True)
            continue
        try:
            sha = file_hash(found.path, limits.max_file_bytes)
        except OSError as err:
            # Locked, permissions, removed or swapped while the folder was read: listed, never dropped.
            scan.notes.append(_not_read(rel, "file", err))
            scan.not_read += 1
            continue
        if entry is not None and entry.sha256 == sha:
            ledger.touch(rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
            keep(scan, rel, entry, present=True)
            continue
        to_read.append((found, sha))
    if progress:
        progress(scan.unchanged, len(files))
    reports = validate_all([f.path for f, _ in to_read], registry, workers, progress, scan.unchanged, len(files))
    for (found, sha), report in zip(to_read, reports, strict=True):
        report.file = found.rel
        report = as_own_output(report, found.path)  # a master, pack or export left in the folder
        try:
            ledger.put(found.rel, size=found.st.st_size, mtime_ns=found.st.st_mtime_ns, sha256=sha, report=report,
                       registry=key)
        except Exception as err:  # one file's answers that cannot be stored cost that file only
            report = Report(file=found.rel, problems=[Problem.of(Code.INTERNAL_ERROR, case="ledger", file=found.rel,
                                                                 why=type(err).__name__)])
        scan.fresh.append(Source(found.rel, report, sha))
        scan.state.append((found.rel, sha, True))
    scan.read = len(to_read)
    _gone(scan, ledger, known, {f.rel for f in files} | {n.file for n in notes})
    scan.state += [(n.file, f"{n.status}:{n.reason}", False) for n in scan.notes]
    return scan


def _gone(scan: Scan, ledger: Ledger, known: dict[str, Entry], present: set[str]) -> None:
    """Remembered files no longer in the folder: moved, kept in the master flagged, or damaged."""
    here = {sha for _, sha, _ in scan.state}
    for rel, entry in known.items():
        if rel in present:
            continue
        if not entry.intact:
            problem = _damaged(rel, "what was stored for it was altered, and the file is no longer in the folder")
            scan.notes.append(NotMerged(rel, NOT_READ, "ledger entry damaged", (problem,)))
            continue
        if entry.sha256 in here:
            ledger.forget(rel)  # moved or renamed: the same return is in the folder under another name
            continue
        try:
            valid = entry.report.valid
        except Exception:
            scan.notes.append(NotMerged(rel, NOT_READ, "ledger entry damaged",
                                        (_damaged(rel, "it cannot be read back"),)))
            continue
        if valid:
            # A return that vanished from the folder stays in the master, flagged; it is never dropped.
            ledger.mark_missing(rel)
            keep(scan, rel, entry, present=False, count=False)


def keep(scan: Scan, rel: str, entry: Entry, *, present: bool, count: bool = True) -> None:
    """Merge a remembered file from its stored report."""
    scan.kept.append((rel, entry, present))
    scan.state.append((rel, entry.sha256, present))
    scan.unchanged += count
