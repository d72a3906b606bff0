"""Walk the returns folder and compare it with the ledger: what to read afresh, what is remembered.

Anything may be in a shared folder. Entries are looked at (lstat) before anything is opened: only regular
files are read, and their size is checked before a byte is hashed; pipes, devices and sockets are listed as
skipped; shortcuts that leave the folder are not followed and loops are caught; files and folders that cannot
be read are listed as not read. Every name is recorded whatever its bytes (text.name_key).
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from auditbook.analysis.collate import NotMerged, Source
from auditbook.problems import Code, Problem, words
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, skip_reason, special_kind
from auditbook.returns.workers import Progress, validate_all
from auditbook.store.ledger import Entry, Ledger, file_hash
from auditbook.store.ours import Own, as_own_output, not_a_workbook
from auditbook.store.reports import SpecNotKnown, registry_key, report_from_json
from auditbook.text import name_key

NOT_READ = "not read"
SKIPPED = "skipped"


class Found(NamedTuple):
    """A regular file in the folder: where to open it, and its name as recorded and shown."""

    path: Path
    rel: str
    st: os.stat_result
    #: The entry's own name in its folder (a shortcut's, not its target's), as the file system gives it.
    name: str


#: A folder still to walk: where it is, its name as recorded ("sub/"), and the folders (device, inode) above it.
_Todo = tuple[Path, str, frozenset[tuple[int, int]]]


def walk(folder: Path, own: Own) -> tuple[list[Found], list[NotMerged]]:
    """Every regular file under `folder` (depth first, in name order), and what was skipped or not read."""
    root = folder.resolve()
    top = os.stat(root)
    w = _Walk(root, own, seen={(top.st_dev, top.st_ino)})
    stack: list[_Todo] = [(root, "", frozenset(w.seen))]
    while stack:
        where, prefix, chain = stack.pop()
        try:
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: os.fsencode(e.name))
        except OSError as err:
            w.notes.append(NotMerged(name_key(prefix.rstrip("/")) or ".", NOT_READ, _cannot("folder", err),
                                     (_unreadable("folder", err),)))
            continue
        subfolders = [sub for e in entries if (sub := w.entry(where, prefix, chain, e)) is not None]
        stack.extend(reversed(subfolders))
    return w.found, w.notes


@dataclass
class _Walk:
    """What walking a folder has found so far, and the folders (device, inode) already entered."""

    root: Path
    own: Own
    seen: set[tuple[int, int]]
    found: list[Found] = field(default_factory=list)
    notes: list[NotMerged] = field(default_factory=list)

    def entry(self, where: Path, prefix: str, chain: frozenset[tuple[int, int]], e: os.DirEntry[str]) -> _Todo | None:
        """Look at one entry of a folder: a file is found, a folder returned to walk, anything else noted."""
        if self.own.entry(str(where), e.name):
            return None  # the master's temporary file, the ledger, the packs: collect's own files
        rel = prefix + e.name
        key = name_key(rel)
        looked = self._look(e, key)
        if looked is None:
            return None
        st, target = looked
        if stat.S_ISDIR(st.st_mode):
            return self._folder(e.name, key, rel, st, target, chain)
        if stat.S_ISREG(st.st_mode):
            self.found.append(Found(target, key, st, e.name))
        else:
            self.notes.append(NotMerged(key, SKIPPED, f"{special_kind(st.st_mode)}, not a file: skipped"))
        return None

    def _look(self, e: os.DirEntry[str], key: str) -> tuple[os.stat_result, Path] | None:
        """The entry's status and where it is, a shortcut followed only when it stays inside the folder."""
        try:
            st = e.stat(follow_symlinks=False)
            if not stat.S_ISLNK(st.st_mode):
                return st, Path(e.path)
            real = Path(os.path.realpath(e.path))
            if real != self.root and self.root not in real.parents:
                self.notes.append(NotMerged(key, SKIPPED, "a shortcut (symbolic link) that leads outside the returns "
                                            "folder: not followed. Copy the return itself into the folder if it "
                                            "belongs there."))
                return None
            return os.stat(real), real
        except OSError as err:
            self.notes.append(_not_read(key, "file or shortcut", err))
            return None

    def _folder(self, name: str, key: str, rel: str, st: os.stat_result, target: Path,
                chain: frozenset[tuple[int, int]]) -> _Todo | None:
        """A folder to walk, unless it is ours, hidden, or a way back into one walked already."""
        ident = (st.st_dev, st.st_ino)
        if self.own.target(target):
            return None
        if name.startswith("."):
            self.notes.append(NotMerged(key, SKIPPED, f"hidden folder ({name_key(name)}): skipped"))
        elif ident in chain:
            self.notes.append(NotMerged(key, SKIPPED, "a shortcut that loops back into a folder it is in: not "
                                        "followed"))
        elif ident in self.seen:
            self.notes.append(NotMerged(key, SKIPPED, "a second way into a folder that is collected already: not "
                                        "followed"))
        else:
            self.seen.add(ident)
            return target, rel + "/", chain | {ident}
        return None


def _cannot(what: str, err: OSError) -> str:
    return words(Code.UNREADABLE, case="collect", what=what, reason=err.strerror or type(err).__name__)


def _unreadable(what: str, err: OSError, key: str | None = None) -> Problem:
    return Problem.of(Code.UNREADABLE, case="collect", file=key, what=what, reason=err.strerror or type(err).__name__)


def _not_read(key: str, what: str, err: OSError) -> NotMerged:
    return NotMerged(key, NOT_READ, _cannot(what, err), (_unreadable(what, err, key),))


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

    def sources(self, registry: SpecRegistry) -> list[Source]:
        """Every file to merge: those read now and those remembered (text no workbook can hold kept out), read back
        with the specs they were read with."""
        key = registry_key(registry)
        kept = [Source(rel, _stored(entry, rel, registry, trusted=entry.intact and entry.registry == key), entry.sha256,
                       present=present)
                for rel, entry, present in self.kept]
        return self.fresh + kept


def _stored(entry: Entry, rel: str, registry: SpecRegistry, *, trusted: bool) -> Report:
    bad = _unstorable(entry.report_json)
    if bad is not None:
        # Stored by an older auditbook, say: that return is rejected, the master is written with the others.
        return Report(file=rel, problems=[Problem.of(Code.UNSTORABLE_TEXT, case="stored", file=rel, character=bad)])
    try:
        # A row signed by this collator and stored under the specs given now is read back without checking again
        # what validate checked (the rest, stored by an older auditbook, is checked as it is read).
        report = report_from_json(entry.report_json, registry, trusted=trusted)
    except SpecNotKnown:
        return Report(file=rel, problems=[_damaged(rel, _NOT_KNOWN)])
    except Exception:  # signed by this collator yet unreadable: a fault, reported, never a crash
        return Report(file=rel, problems=[_damaged(rel, "it cannot be read back")])
    report.file = rel
    return report


#: Why a remembered return cannot be read back when its spec is no longer given (taken out of --specs, say).
_NOT_KNOWN = "it was made from a spec that is not known now"


#: In a stored report (JSON, ASCII-escaped): a lone surrogate, or a control character other than tab, LF and CR, when
#: the backslash before it is not itself escaped (see _unstorable). Starting with the backslash keeps the search fast.
_UNSTORABLE_JSON = re.compile(r"\\u(?:d[89a-f][0-9a-f]{2}|000[0-8bcef]|001[0-9a-f]|fff[ef])", re.IGNORECASE)


def _unstorable(text: str) -> str | None:
    """The first escape in stored JSON of a character no workbook can hold, or None."""
    for m in _UNSTORABLE_JSON.finditer(text):
        at = m.start()
        while at > 0 and text[at - 1] == "\\":
            at -= 1
        if (m.start() - at) % 2 == 0:  # an even run of backslashes before it: this one starts an escape
            return m.group()
    return None


def _damaged(rel: str, why: str) -> Problem:
    return Problem.of(Code.LEDGER_DAMAGED, file=rel, why=why, name=rel)


def scan_folder(folder: Path, ledger: Ledger, registry: SpecRegistry, own: Own, workers: int,
                progress: Progress | None, limits: Limits = DEFAULT_LIMITS) -> Scan:
    """Walk the folder, read what is new or changed (in parallel), and remember it in the ledger."""
    key = registry_key(registry)
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
        report, sha = _remember(ledger, found, sha, report, key)
        scan.fresh.append(Source(found.rel, report, sha))
        scan.state.append((found.rel, sha, True))
    scan.read = len(to_read)
    _gone(scan, ledger, known, {f.rel for f in files} | {n.file for n in notes}, registry)
    scan.state += [(n.file, f"{n.status}:{n.reason}", False) for n in scan.notes]
    return scan


def _remember(ledger: Ledger, found: Found, looked: str, report: Report, key: str) -> tuple[Report, str]:
    """Remember what was read from a file under the hash of the very bytes read (and the size and time of the file as
    opened), so that a file replaced between the scan and the read is read again next time. The report to merge (one
    saying so when it cannot be stored) and the hash the master is made of.

    A file that could not be opened when it came to be read (locked, removed) is not remembered: it is read next time.
    One that auditbook failed on (an internal error, a worker that died) is remembered under the hash of the scan, as
    nothing better is known, so it does not stop every later collect again."""
    read = report.read
    if read is None and not any(p.code is Code.INTERNAL_ERROR for p in report.problems):
        return report, looked
    sha, size, mtime_ns = (looked, found.st.st_size, found.st.st_mtime_ns) if read is None else read
    try:
        ledger.put(found.rel, size=size, mtime_ns=mtime_ns, sha256=sha, report=report, registry=key)
    except sqlite3.OperationalError:
        raise  # the ledger's disk full, or its file gone: the run stops (the master is not replaced)
    except Exception as err:  # one file's answers that cannot be stored cost that file only
        return Report(file=found.rel, problems=[Problem.of(Code.INTERNAL_ERROR, case="ledger", file=found.rel,
                                                           why=type(err).__name__)]), sha
    return report, sha


def _gone(scan: Scan, ledger: Ledger, known: dict[str, Entry], present: set[str], registry: SpecRegistry) -> None:
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
            valid = report_from_json(entry.report_json, registry).valid
        except Exception as err:
            why = _NOT_KNOWN if isinstance(err, SpecNotKnown) else "it cannot be read back"
            scan.notes.append(NotMerged(rel, NOT_READ, "ledger entry damaged", (_damaged(rel, why),)))
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
