"""Generate one prefilled, locked workbook per allocated case, all or nothing, on every core."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from datetime import date
from pathlib import Path

from auditbook.allocation.lists import MODERATION_KIND, Allocated
from auditbook.errors import AuditbookError
from auditbook.local import LocalDetails
from auditbook.spec import Spec
from auditbook.spec.layout import build_layout
from auditbook.spec.metadata import new_metadata
from auditbook.text import slug, word
from auditbook.workbook.generate import role_prefill
from auditbook.workbook.writer import build_workbook

#: Below this many workbooks a second process costs more than it saves.
_PARALLEL_FROM = 6
#: Workbooks each task writes: few enough to spread the work, enough to keep messages between processes rare.
_CHUNK = 8

#: A workbook to write: where, its prefilled answers, and the audit it follows up ("" when none).
Job = tuple[Path, dict[str, str | int | date], str]


def workbook_name(a: Allocated) -> str:
    """A name a person can read and sort: round, team, case reference."""
    return f"{slug(a.round_key)}_{slug(a.team)}_{slug(a.case_ref)}.xlsx"


def allocate(spec: Spec, rows: list[Allocated], *, out: Path,
             progress: Callable[[int, int], None] | None = None, workers: int | None = None,
             local: LocalDetails | None = None) -> list[Path]:
    """Write every row's workbook into `out`; on any failure, none of them is left behind.

    The workbooks are written by `workers` processes (default: one per core); `local` gives the authority's
    details for their Start sheets.
    """
    rows = [a for a in rows if a.kind != MODERATION_KIND]  # tracked only: made from the audit's return
    targets = [out / workbook_name(a) for a in rows]
    if len(set(targets)) != len(targets):
        raise AuditbookError("two rows of the allocation list would write the same workbook name; give each case "
                             "and round its own row.")
    refuse_existing(out, targets, "an auditor")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".auditbook-allocate-", dir=out))
    layout = build_layout(spec)
    try:
        jobs: list[Job] = [
            (staging / target.name, role_prefill(layout, case_ref=a.case_ref, auditor=a.auditor, team=a.team,
                                                 month=a.month, worker=a.worker, team_manager=a.team_manager,
                                                 round_name=a.round), a.follows_up)
            for a, target in zip(rows, targets, strict=True)
        ]
        done = 0
        for written in _write_all(spec, jobs, workers or os.cpu_count() or 1, local or LocalDetails()):
            done += written
            if progress:
                progress(done, len(rows))
        for target in targets:
            (staging / target.name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets


def _write_all(spec: Spec, jobs: list[Job], workers: int, local: LocalDetails) -> Iterator[int]:
    """Write the jobs' workbooks, yielding how many each step wrote; the first failure stops the rest."""
    if workers < 2 or len(jobs) < _PARALLEL_FROM:
        for job in jobs:
            _write_one(spec, job, local)
            yield 1
        return
    chunks = [jobs[i : i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), initializer=_start_worker,
                             initargs=(spec, local)) as pool:
        pending: set[Future[int]] = {pool.submit(_write_chunk, chunk) for chunk in chunks}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    yield future.result()  # raises the worker's error here
        finally:
            for future in pending:
                future.cancel()


#: What every workbook a worker process writes shares: sent once, when the worker starts.
_worker: tuple[Spec, LocalDetails] | None = None


def _start_worker(spec: Spec, local: LocalDetails) -> None:
    global _worker
    _worker = (spec, local)


def _write_chunk(chunk: Sequence[Job]) -> int:
    assert _worker is not None
    spec, local = _worker
    for job in chunk:
        _write_one(spec, job, local)
    return len(chunk)


def _write_one(spec: Spec, job: Job, local: LocalDetails) -> None:
    path, prefill, follows_up = job
    meta = new_metadata(spec, follows_up=follows_up) if follows_up else None
    build_workbook(spec, out=path, prefill=prefill, lock_prefill=True, local=local, meta=meta)


def refuse_existing(out: Path, targets: Sequence[Path], who: str) -> None:
    """Stop before writing anything when a workbook to be written is there already (`who` may have started on it)."""
    existing = [t.name for t in targets if t.exists()]
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise AuditbookError(f"{out}: {shown} already {word(len(existing), 'exists', 'exist')}; {who} may have "
                             "started on them. Choose another --out folder, or move those files away first.")
