"""Validate files, in worker processes when there are enough of them to be worth starting.

One file never costs the others: whatever goes wrong while one file is checked (an exception, or a worker
process that dies) becomes that file's internal-error report, and the rest are checked as usual. Workers
watch the process that started them and stop when it is gone, so killing collect leaves none behind.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait as wait_handles
from pathlib import Path

from auditbook.diagnostics import follow
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.report import Report
from auditbook.returns.validate import internal_error, validate_file

#: Below this many files to read, starting worker processes costs more than it saves.
PARALLEL_FROM = 24
#: Files handed to each worker ahead of time (keeps them busy; few files in hand when a worker dies).
AHEAD = 4

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)

_worker_registry: SpecRegistry | None = None


def _watch_parent(parent: int) -> None:
    """Stop this worker as soon as the process that started it is gone (killed, crashed)."""
    handle = multiprocessing.parent_process()
    while True:
        if sys.platform == "win32":  # pragma: no cover - the parent's handle signals when it ends
            if handle is not None and handle.sentinel is not None:
                if wait_handles([handle.sentinel], timeout=0.5):
                    os._exit(1)
                continue
        elif os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


def _init_worker(registry: SpecRegistry, parent: int, debug: bool) -> None:
    global _worker_registry
    _worker_registry = registry
    follow(debug=debug)
    # An interrupt is the collect process's to handle: a Ctrl+C sent to the whole group must not kill workers
    # mid-file (the pool then waits for them for ever); the collect process stops them (_stop).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()


def check_one(path: Path, registry: SpecRegistry | None) -> Report:
    """One file's report; nothing about the file can raise out of here."""
    try:
        return validate_file(path, registry=registry)
    except Exception as err:  # validate_file catches its own; this is the last line of defence
        return internal_error(path, err)


def _validate_in_worker(path: Path) -> Report:
    return check_one(path, _worker_registry)


def validate_all(paths: list[Path], registry: SpecRegistry, workers: int, progress: Progress | None,
                 done: int, total: int) -> list[Report]:
    """A report for each path, in order."""
    reports: dict[int, Report] = {}

    def finished(i: int, report: Report) -> None:
        nonlocal done
        reports[i] = report
        done += 1
        if progress:
            progress(done, total)

    alone = workers <= 1 or len(paths) < PARALLEL_FROM
    log.debug("checking %d files %s", len(paths), "in this process" if alone else f"in {workers} worker processes")
    if alone:
        for i, p in enumerate(paths):
            finished(i, check_one(p, registry))
    else:
        _in_pool(paths, list(range(len(paths))), registry, workers, finished)
    return [reports[i] for i in range(len(paths))]


def _pool(registry: SpecRegistry, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                               initargs=(registry, os.getpid(), log.isEnabledFor(logging.DEBUG)))


def _in_pool(paths: list[Path], todo: list[int], registry: SpecRegistry, workers: int,
             finished: Callable[[int, Report], None]) -> None:
    """Run `todo` in a pool, a few files ahead per worker; when a worker dies, the files it may have held are
    each checked again alone, and the one that kills its own worker is reported as such."""
    queue = list(reversed(todo))
    while queue:
        suspects: list[int] = []
        pool = _pool(registry, workers)
        try:
            running: dict[Future[Report], int] = {}
            while queue or running:
                while queue and len(running) < workers * AHEAD:
                    i = queue.pop()
                    running[pool.submit(_validate_in_worker, paths[i])] = i
                ready, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in ready:
                    i = running.pop(future)
                    try:
                        finished(i, future.result())
                    except BrokenProcessPool:
                        suspects.append(i)
                    except Exception as err:  # e.g. a report that could not be sent back
                        finished(i, internal_error(paths[i], err))
                if suspects:
                    suspects += running.values()
                    break
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True, cancel_futures=True)
        for i in sorted(suspects):
            finished(i, _alone(paths[i], registry))


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now (collect was interrupted or failed), never waiting on what they were doing; further
    interrupts are held off meanwhile, so that none leaves a worker behind."""
    held = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if held else None
    try:
        processes = list(getattr(pool, "_processes", None) or {})
        results = getattr(pool, "_result_queue", None)  # shutdown() forgets it
        for pid in processes:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM)
        # A worker killed half way through sending a report back leaves the pool's manager thread waiting for the rest
        # of it for ever: this process holds the pipe's sending end too, so no end of file comes, and Python's exit
        # waits for that thread (collect then ignored Ctrl+C, now and then). This process never sends on that pipe:
        # with its end closed, the read fails once the killed workers' ends are gone, and the pool stops.
        writer = getattr(results, "_writer", None)
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.close()
        pool.shutdown(wait=False, cancel_futures=True)
    finally:
        if held:
            signal.signal(signal.SIGINT, previous)


def _alone(path: Path, registry: SpecRegistry) -> Report:
    """Check one file in a worker of its own: if that worker dies too, the file is what killed it."""
    pool = _pool(registry, 1)
    try:
        return pool.submit(_validate_in_worker, path).result()
    except BrokenProcessPool:
        return internal_error(path, "checking it stopped the worker process, e.g. it ran out of memory")
    except BaseException:
        _stop(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
