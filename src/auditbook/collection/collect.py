"""Collect a shared returns folder into the master workbook, incrementally, through the ledger."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from auditbook.analysis.actions import ids_of
from auditbook.analysis.evidence import Evidence
from auditbook.collection.result import CollectResult, outcome_json, result_from_json, result_of, urgent_json
from auditbook.collection.session import (
    MASTER_NAME,
    Options,
    Session,
    default_paths,
    options,
    said_plainly,
)
from auditbook.errors import CollectError
from auditbook.memory import paused_gc
from auditbook.outputs.master import check_not_open, write_master
from auditbook.outputs.packs import write_packs
from auditbook.returns.provenance import SpecRegistry
from auditbook.store.editlog import EditLog
from auditbook.store.ledger import MASTER, Entry, pack_source
from auditbook.store.location import network_fs
from auditbook.store.ours import refuse_to_replace, stale_temporaries, temporary
from auditbook.store.pieces import Pieces
from auditbook.store.register import Register
from auditbook.store.reports import report_from_json
from auditbook.store.scan import Scan
from auditbook.text import name_key

__all__ = ["MASTER_NAME", "Options", "collect", "default_paths", "forget_key", "gather_folder"]

logger = logging.getLogger(__name__)


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


def gather_folder(folder: Path, opts: Options | None = None, /, **given: Any) -> Evidence:
    """What collect would show, without writing the master (for export and the round report).

    Takes the same Options as collect (an Options, or its fields as keywords). New or changed returns are
    validated and remembered, and edits typed into the master or packs are taken into the ledger, exactly as
    collect does; the master itself is left as it is (the next collect writes it again).
    """
    o = options(opts, given)
    with said_plainly(default_paths(folder, o.out, o.ledger_path)[1]), Session(folder, o, existing=True) as session:
        scan = session.scan()
        _log_scan(scan)
        with paused_gc():
            _, evidence, _ = session.evidence(scan, master=session.edited_master(), packs=session.edited_packs())
    return evidence


def collect(folder: Path, opts: Options | None = None, /, *, packs: Path | None = None,
            forget: tuple[Path, ...] = (), **given: Any) -> CollectResult:
    """Validate every new or changed return in `folder`, merge the valid ones and write the master.

    Takes Options (or its fields as keywords). With `allocation`, the master gets a Returns tab (status of every
    allocated case as of `now`); with `packs`, one workbook per team manager is written into that folder; with
    `forget`, those files' stored answers and their actions' register entries are removed from the ledger first
    (they must no longer be in the folder). Statuses typed into the master or a pack since they were written are
    read back first and kept in the ledger. `calendar` names the rounds in order (else rounds are ordered by
    their due dates); with `rounds`, a return that names no round is in the one that round calendar gives its
    audit month.
    """
    o = options(opts, given)
    master, ledger_file = default_paths(folder, o.out, o.ledger_path)
    if master.is_dir():
        raise CollectError(f"the master {name_key(str(master))} is a folder. Give --out a file name ending .xlsx, "
                           "or a folder to put auditbook-master.xlsx in.")
    forget_keys = [forget_key(folder, f) for f in forget]
    for f, k in zip(forget, forget_keys, strict=True):
        if (folder / f).exists() or (f.is_absolute() and f.exists()):
            raise CollectError(f"{k} is still in the returns folder, so it would be read again. Move or delete it "
                               "first, then forget it.")
    with said_plainly(ledger_file), Session(folder, o, packs=packs) as s:
        refuse_to_replace(master, s.ledger.same_as_written(MASTER, master))
        gone = {k: s.ledger.forget(k) for k in forget_keys}
        forgotten = [k for k, entry in gone.items() if entry is not None]
        forgotten_ids = [i for entry in gone.values() if entry is not None for i in _action_ids(entry, s.registry)]
        # Holding the ledger lock, no other collect is writing here: a temporary master left by a killed run can go.
        for stale in stale_temporaries(master.parent, "master", ".xlsx"):
            with contextlib.suppress(OSError):
                stale.unlink(missing_ok=True)
        scan = s.scan()
        _log_scan(scan)
        edited_packs = s.edited_packs()
        state = s.state(scan, master)
        written, previous = s.ledger.last_run()
        edited_master = s.edited_master()
        if (packs is None and not edited_packs and previous and written == state
                and edited_master is None and s.master_sha is not None):
            # Nothing changed since the master was written: it is already the master this run would write.
            logger.debug("nothing changed since the master was written: its outcome is taken from the ledger")
            result = result_from_json(json.loads(previous), master, s.ledger_file, scan)
        else:
            check_not_open(master)
            with staged(master) as draft:
                with paused_gc():
                    result = _rebuild(s, scan, master, packs, draft=draft, edited=(edited_master, edited_packs),
                                      forgotten=forgotten_ids)
                s.ledger.remember_run(state, json.dumps(outcome_json(result)))
                # Renaming keeps the size and time the ledger tells an unedited master by.
                s.ledger.remember_written(MASTER, draft)
                s.ledger.commit(hold=True)  # the ledger safe first; only then is the master replaced
                _replace(s, draft, master)
    result.forgotten = forgotten
    result.warnings = _warnings(s.ledger_file) + result.warnings
    logger.info("collected: %s", result.summary_line())
    return result




@contextlib.contextmanager
def staged(master: Path) -> Iterator[Path]:
    """A temporary path beside the master to write the new one to (removed unless it was moved into place)."""
    draft = master.parent / f"{temporary('master')}{uuid.uuid4().hex}.xlsx"
    try:
        yield draft
    finally:
        with contextlib.suppress(OSError):
            draft.unlink(missing_ok=True)


def _replace(s: Session, draft: Path, master: Path) -> None:
    """Move the new master into place; when that fails, the ledger says the previous one is still there."""
    try:
        os.replace(draft, master)
    except OSError as err:
        if master.exists():
            s.ledger.remember_written(MASTER, master)
        s.ledger.master_stale()  # the next collect writes it again
        s.ledger.commit()
        raise CollectError(f"could not replace the master {name_key(str(master))} ({err.strerror or err}). The "
                           "previous master is unchanged. Close it if it is open, check the folder can be written, "
                           "then collect again.") from None


def _rebuild(s: Session, scan: Scan, master: Path, packs: Path | None, *, draft: Path,
             edited: tuple[Path | None, list[Path]], forgotten: list[str]) -> CollectResult:
    """Take back the edits, work out the evidence, write the master to `draft` (and the packs, when asked for)."""
    collation, evidence, rows = s.evidence(scan, master=edited[0], packs=edited[1], forgotten=forgotten)
    logger.debug("merged %d audits, %d files not merged, %d actions", len(collation.merged), len(collation.not_merged),
              len(evidence.actions))
    register = Register(s.ledger)
    log = EditLog(s.ledger, s.moment)
    edits = log.all()
    # Each return's Answers rows kept from the last master, by its file's content as scanned now.
    pieces = Pieces(s.ledger, s.registry, {path: sha for path, sha, _ in scan.state})
    _write(lambda: write_master(evidence, out=draft, generated_at=s.opts.now, edits=edits, pieces=pieces), master,
           draft)
    pieces.save()
    logger.debug("wrote the master")
    register.wrote(MASTER, [*(a.id for a in evidence.actions), *(u.id for u in evidence.urgent)], dict(evidence.states))
    result = result_of(collation, master, s.ledger_file, scan)
    result.returns = rows
    result.evidence = evidence
    result.urgent = urgent_json(evidence)
    result.warnings += log.problems
    if packs is not None:
        names = s.ledger.pack_names()
        result.packs, failed = write_packs(evidence, packs, s.opts.allocation or [], register, names,
                                           kept=set(s.ledger.written_packs()))
        s.ledger.remember_pack_names(names)
        result.warnings += failed
        logger.debug("wrote %d packs, %d could not be written", len(result.packs), len(failed))
        s.ledger.remember_packs_dir(packs)
        for path in result.packs:
            s.ledger.remember_written(pack_source(path), path)
    return result


def _log_scan(scan: Scan) -> None:
    logger.debug("scanned the folder: %d files, %d read, %d unchanged, %d skipped, %d not read", scan.files, scan.read,
              scan.unchanged, scan.skipped, scan.not_read)


def _action_ids(entry: Entry, registry: SpecRegistry) -> list[str]:
    """The ids of the actions a remembered return held (none when what was stored cannot be read back)."""
    try:
        audit = report_from_json(entry.report_json, registry).audit
    except Exception:  # a damaged entry: its actions cannot be named, so none are dropped
        return []
    return [] if audit is None else ids_of(audit)


def _write(write: Callable[[], Path], master: Path, draft: Path) -> None:
    """Write the master (to `draft`, beside it); a full disk or a locked file is one plain message naming the master,
    the previous master left as it was."""
    try:
        write()
    except CollectError as err:
        if str(draft) not in str(err):
            raise
        raise CollectError(f"could not write the master {name_key(str(master))}: its folder is read-only or the file "
                           "is open in another program. The previous master is unchanged. Close it, or give --out a "
                           "folder you can write to, then collect again.") from None
    except OSError as err:
        raise CollectError(f"could not write the master {name_key(str(master))} ({err.strerror or err}). The previous "
                           "master is unchanged. Free some disk space or close the file, then collect again.") \
            from None
