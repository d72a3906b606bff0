"""Validate files, in worker processes when there are enough of them to be worth starting."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import validate_file

#: Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_FROM = 24

Progress = Callable[[int, int], None]

_worker_registry: SpecRegistry | None = None


def _init_worker(registry: SpecRegistry) -> None:
    global _worker_registry
    _worker_registry = registry


def _validate_in_worker(path: Path) -> Report:
    return validate_file(path, registry=_worker_registry)


def validate_all(paths: list[Path], registry: SpecRegistry, workers: int, progress: Progress | None,
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
