"""One run over a returns folder, shared by collect, export and the round report so they cannot drift apart.

`Options` is everything the three take alike (where the master and ledger are, which round, the local
settings' calendar and threshold, an allocation); `Session` opens the ledger under its lock, reads the folder
(leaving out auditbook's own files: the master, the ledger, the packs the ledger recorded writing), takes back
what was typed into the master and packs, and works out the evidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from auditbook.allocation.lists import Allocated
from auditbook.analysis.actions import actions_of, legacy_ids
from auditbook.analysis.collate import Collation, merge
from auditbook.analysis.evidence import Evidence, gather, round_summaries
from auditbook.analysis.tracking import ReturnRow, returns_status
from auditbook.analysis.trends import ordered
from auditbook.analysis.urgent import urgent_concerns
from auditbook.errors import CollectError
from auditbook.local import RoundCalendar
from auditbook.outputs.packs import PACK_GLOB
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.workers import Progress
from auditbook.store.history import History
from auditbook.store.ledger import MASTER, Ledger, output_sha, pack_source, unsaved
from auditbook.store.location import default_ledger, folder_identity
from auditbook.store.ours import Own
from auditbook.store.readback import read_back
from auditbook.store.register import Register
from auditbook.store.reports import registry_key
from auditbook.store.scan import Scan, scan_folder
from auditbook.text import name_key, norm

MASTER_NAME = "auditbook-master.xlsx"


@dataclass(frozen=True)
class Options:
    """What collect, export and the round report take alike (the command line builds it once for all three)."""

    #: The master workbook (default: FOLDER/auditbook-master.xlsx; a folder puts that name in it).
    out: Path | None = None
    #: The ledger (default: in the collator's own data folder, one per collected folder).
    ledger_path: Path | None = None
    #: Only this round (else the latest merged).
    round_name: str | None = None
    #: The share of audits at or above which a concern counts as high.
    threshold: float = 0.3
    #: The fewest audits a theme recurs in (and behind each share compared); a smaller group is suppressed.
    min_audits: int = 3
    small_group: int = 5
    registry: SpecRegistry | None = None
    workers: int | None = None
    progress: Progress | None = None
    now: datetime | None = None
    #: The allocation list's rows: a Returns tab, and the returns outstanding.
    allocation: list[Allocated] | None = None
    #: Round names in order (else rounds are ordered by their due dates).
    calendar: Sequence[str] = ()
    #: The round calendar: a return that names no round is in the one it gives its audit month.
    rounds: RoundCalendar | None = None


def options(base: Options | None, given: dict[str, Any]) -> Options:
    """The options given as an object, as keywords, or both (keywords win); an unknown keyword is a TypeError."""
    return dataclasses.replace(base or Options(), **given)


def default_paths(folder: Path, out: Path | None, ledger: Path | None) -> tuple[Path, Path]:
    """The master (default: auditbook-master.xlsx in the folder) and the ledger (default: in the collator's own
    data folder, one per collected folder; never on the share unless --ledger puts it there)."""
    master = out if out is not None else folder / MASTER_NAME
    if master.suffix.lower() != ".xlsx":
        master = master / MASTER_NAME
    return master, ledger if ledger is not None else default_ledger(folder)


@contextmanager
def said_plainly(ledger: Path) -> Iterator[None]:
    """An operational failure met during a run (the ledger's disk full, a file or folder that cannot be read or written)
    as one CollectError that says what and where, never a traceback."""
    try:
        yield
    except sqlite3.Error as err:
        raise CollectError(unsaved(ledger, err)) from None
    except OSError as err:
        where = name_key(str(err.filename)) if err.filename else "the returns folder or its outputs"
        raise CollectError(f"{where}: {err.strerror or err} (nothing of this run was kept, and the master is "
                           "unchanged). Check it can be read and written and there is space on its disk, then collect "
                           "again.") from None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (OSError, ValueError):
        return False
    return True


class Session:
    """The ledger held for one run over a folder, and the steps collect, export and the round report share."""

    def __init__(self, folder: Path, opts: Options, *, packs: Path | None = None, existing: bool = False) -> None:
        if not folder.is_dir():
            raise CollectError(f"the returns folder {name_key(str(folder))} does not exist or is not a folder.")
        self.folder, self.opts = folder, opts
        self.registry = opts.registry or SpecRegistry.load()
        self.master, self.ledger_file = default_paths(folder, opts.out, opts.ledger_path)
        if existing and not self.ledger_file.exists():
            raise CollectError(f"no ledger for {name_key(str(folder))} yet: run `auditbook collect` on it first (or "
                               "give --ledger).")
        self.moment = opts.now or datetime.now()
        self.ledger = Ledger(self.ledger_file, folder=folder_identity(folder))
        recorded = self.ledger.packs_dir()
        #: Where packs are written (given now) or were written (as the ledger recorded): never read as returns.
        self.packs = packs or recorded
        self.master_sha: str | None = None
        # The packs themselves, not their folder: a return saved into a packs folder inside the returns folder is
        # still read.
        written = [d / name for d in {p for p in (packs, recorded) if p is not None}
                   for name in self.ledger.written_packs()]
        self.own = Own.of(master=self.master, ledger=self.ledger_file, packs=written)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.ledger.commit()
        finally:
            self.ledger.close()

    def scan(self) -> Scan:
        """Read what is new or changed in the folder (in parallel), remember it, and compare the rest."""
        return scan_folder(self.folder, self.ledger, self.registry, self.own, self.opts.workers or os.cpu_count() or 1,
                           self.opts.progress)

    def state(self, scan: Scan, master: Path) -> str:
        """What the master is made of: when it is the same as when the master was written, nothing need change."""
        o = self.opts
        allocated = None if o.allocation is None else [dataclasses.astuple(a) for a in o.allocation]
        today = self.moment.date().isoformat() if o.allocation else None
        return hashlib.sha256(json.dumps([scan.state, registry_key(self.registry), o.round_name, o.threshold,
                                          o.min_audits, o.small_group, str(master.resolve()), allocated, today,
                                          list(o.calendar), repr(o.rounds)],
                                         default=str).encode()).hexdigest()

    def edited_master(self) -> Path | None:
        """The master, when it was changed since auditbook wrote it (someone typed into it)."""
        written = self.ledger.written_sha(MASTER)
        if written and self.ledger.same_as_written(MASTER, self.master):
            self.master_sha = written  # its size and time are as written: not read (a master is megabytes)
            return None
        self.master_sha = output_sha(self.master)
        sha = self.master_sha
        return self.master if sha is not None and sha != written else None

    def edited_packs(self) -> list[Path]:
        """Packs written before that have been changed since (a team manager typed into them)."""
        if self.packs is None or not self.packs.is_dir():
            return []
        changed = []
        for path in sorted(self.packs.glob(PACK_GLOB)):
            written = self.ledger.written_sha(pack_source(path))
            if written is not None and output_sha(path) != written:
                changed.append(path)
        return changed

    def evidence(self, scan: Scan, *, master: Path | None, packs: list[Path],
                 forgotten: Sequence[str] = ()) -> tuple[Collation, Evidence, list[ReturnRow] | None]:
        """Merge, take back what was typed into the master and packs, keep the rounds' figures, work out the evidence.

        `forgotten` are action ids of returns forgotten this run: their register entries go, unless a return
        still in the collection has the same action.
        """
        o = self.opts
        sources = scan.sources(self.registry)
        collation = merge(sources, self.registry, threshold=o.threshold, round_name=o.round_name, rounds=o.rounds,
                          today=self.moment.date(), min_audits=o.min_audits, small_group=o.small_group)
        collation.not_merged += scan.notes
        history = History(self.ledger)
        self._check_round(collation, history)
        register = Register(self.ledger)
        actions = actions_of(collation.merged)
        ids = {a.id for a in actions}
        register.adopt(ids, lambda: legacy_ids(collation.merged, actions))
        if forgotten:
            register.drop(set(forgotten) - ids)
        readback = read_back(register, master, packs, self.moment)
        for path in packs:  # what it says now has been taken: only a later change is a new edit
            if path.name in readback.packs_read:
                self.ledger.remember_written(pack_source(path), path)
        if master is not None:
            self.ledger.remember_written(MASTER, master)
        if master is not None or readback.packs_read:
            self.ledger.master_stale()
        if master is not None and readback.from_master and _inside(master, self.folder):
            readback.warnings.append(
                f"{readback.from_master} edit(s) to the action register were taken from the master in the returns "
                f"folder ({name_key(str(master))}), which anyone who saves returns there can change. Check them on "
                "its Edits tab (each with who the file says saved it); keep the master in your own folder with --out "
                "to be sure.")
        history.keep(round_summaries(collation, self.registry), self.moment)
        in_round = None if o.allocation is None else [
            a for a in o.allocation if o.round_name is None or norm(a.round_key) == norm(o.round_name)]
        rows = None if in_round is None else returns_status(in_round, collation, today=self.moment.date())
        states, plan, stored = register.states(), register.plan(), history.rounds()
        readback.warnings += history.problems + register.problems
        evidence = gather(collation, self.registry, history=stored, states=states,
                          today=self.moment.date(), round_name=o.round_name, calendar=o.calendar,
                          plan=plan, returns=rows, readback=readback, actions=actions)
        evidence.urgent = urgent_concerns(sources, collation, o.rounds)
        return collation, evidence, rows

    def _check_round(self, collation: Collation, history: History) -> None:
        """A --round that no audit, stored round or allocated case is in is a mistake: say which rounds there are."""
        wanted = self.opts.round_name
        if wanted is None:
            return
        seen = [r.round for r in ordered(history.rounds(), self.opts.calendar)] + collation.rounds_seen
        allocated = [a.round_key for a in self.opts.allocation or ()]
        if any(norm(r) == norm(wanted) for r in [*seen, *allocated]):
            return
        names = list(dict.fromkeys(seen)) or ["none yet"]
        raise CollectError(f'no audits in round "{name_key(wanted)}"; rounds seen: {", ".join(names)}. Give one of '
                           "them with --round (spelt as you like: case and spaces do not matter), or leave --round "
                           "out for the latest.")
