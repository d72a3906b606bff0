"""Benchmark `auditbook collect` on N synthetic, valid, varied returns, next to a naive pandas loop.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/collect.py --n 1000

Targets on the 2-core development machine: 1,000 returns cold in at most 10 s and at least 3x faster
than the naive loop; a second run with no changes in at most 1 s; peak memory under 400 MB.
The returns are made once and kept in --workdir (default output/bench-returns) for later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from auditbook.spec import default_spec_path, load_spec
from auditbook.spec.layout import build_layout
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

_RUN = """
import json, resource, sys, time
from pathlib import Path
import auditbook.collection.collect as orchestration
from auditbook.collection.collect import collect

# Time the master's writing on its own (write_master as collect calls it).
write_seconds = []
_write = orchestration.write_master

def timed_write(*args, **kwargs):
    t = time.perf_counter()
    try:
        return _write(*args, **kwargs)
    finally:
        write_seconds.append(time.perf_counter() - t)

orchestration.write_master = timed_write
t = time.perf_counter()
r = collect(Path(sys.argv[1]), out=Path(sys.argv[2]), ledger_path=Path(sys.argv[3]))
elapsed = time.perf_counter() - t
me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": elapsed, "summary": r.summary_line(), "read": r.read, "rss_mb": me.ru_maxrss / 1024,
                  "worker_rss_mb": workers.ru_maxrss / 1024, "cpu": me.ru_utime + me.ru_stime,
                  "worker_cpu": workers.ru_utime + workers.ru_stime,
                  "write_seconds": sum(write_seconds) if write_seconds else None,
                  "master_mb": Path(sys.argv[2]).stat().st_size / 1e6}))
"""


def _write(run: dict[str, object]) -> str:
    seconds = run.get("write_seconds")
    return "master not written" if seconds is None else (
        f"master written in {float(str(seconds)):.2f} s, {float(str(run['master_mb'])):.1f} MB")


def _make_one(args: tuple[int, str]) -> None:
    i, folder = args
    spec = load_spec(default_spec_path())
    layout = build_layout(spec)
    kinds = sorted(spec.examples)
    answers = synthetic_answers(layout, seed=i, scenario=kinds[i % len(kinds)], index=i, late=i % 9 == 0,
                                month=f"2026-{(i % 12) + 1:02d}")
    team = f"team-{i % 3}"
    build_workbook(spec, out=Path(folder) / team / f"SYN-{i:05d}.xlsx", prefill=answers)


def make_returns(folder: Path, n: int) -> None:
    """Make the synthetic returns that are not there yet."""
    missing = [i for i in range(1, n + 1) if not any(folder.glob(f"*/SYN-{i:05d}.xlsx"))]
    if not missing:
        return
    print(f"making {len(missing)} synthetic returns in {folder} ...", flush=True)
    t = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        list(pool.map(_make_one, [(i, str(folder)) for i in missing], chunksize=16))
    print(f"  made in {time.perf_counter() - t:.1f} s", flush=True)


def run_collect(folder: Path, master: Path, ledger: Path) -> dict[str, object]:
    """One collect in a fresh process, so memory and start-up are measured as a user meets them."""
    done = subprocess.run([sys.executable, "-c", _RUN, str(folder), str(master), str(ledger)], check=True,
                          capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def naive(folder: Path, sample: int) -> tuple[float, int]:
    """Seconds for pandas.read_excel(sheet_name=None) over `sample` files, and how many it read."""
    import pandas as pd

    files = sorted(folder.rglob("*.xlsx"))[:sample]
    t = time.perf_counter()
    for f in files:
        pd.read_excel(f, sheet_name=None)
    return time.perf_counter() - t, len(files)


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="how many returns (default 1000)")
    ap.add_argument("--workdir", type=Path, default=Path("output/bench-returns"))
    ap.add_argument("--naive-sample", type=int, default=100,
                    help="files the naive loop reads; its time is scaled to N (default 100; 0 skips it)")
    args = ap.parse_args()
    folder = args.workdir
    folder.mkdir(parents=True, exist_ok=True)
    make_returns(folder, args.n)
    count = sum(1 for _ in folder.rglob("*.xlsx"))
    out = folder.parent / "bench-master"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    master, ledger = out / "master.xlsx", out / "ledger.sqlite3"
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; returns: {count}")
    cold = run_collect(folder, master, ledger)
    print(f"cold collect:  {cold['seconds']:.2f} s  ({cold['summary']}); {_write(cold)}; peak RSS main "
          f"{cold['rss_mb']:.0f} MB, largest worker {cold['worker_rss_mb']:.0f} MB")
    # CPU seconds drift far less with the machine's load than the wall time above.
    print(f"  CPU: main {cold['cpu']:.1f} s, workers {cold['worker_cpu']:.1f} s (validating, in all)")
    warm = run_collect(folder, master, ledger)
    print(f"warm collect:  {warm['seconds']:.2f} s  ({warm['summary']}, files read: {warm['read']}; {_write(warm)})")
    _make_one((100001, str(folder)))  # one new return: read it, merge all, write the master again
    try:
        one = run_collect(folder, master, ledger)
        print(f"one new file:  {one['seconds']:.2f} s  ({one['summary']}, files read: {one['read']}; "
              f"{_write(one)})")
    finally:
        for extra in folder.rglob("SYN-100001.xlsx"):
            extra.unlink()
    if args.naive_sample:
        try:
            seconds, read = naive(folder, args.naive_sample)
        except ImportError:
            print("naive loop:    skipped (pip install -e '.[bench]' for pandas)")
            return 0
        scaled = seconds * count / max(read, 1)
        cold_s = float(str(cold["seconds"]))
        print(f"naive pandas:  {seconds:.2f} s for {read} files -> {scaled:.1f} s for {count} "
              f"(collect is {scaled / cold_s:.1f}x faster)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS: {own:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
